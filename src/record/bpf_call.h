/* SPDX-License-Identifier: MIT */
/*
 * One bpf(2) call as the recorder saw it: union bpf_attr copied from the
 * tracee at syscall entry (and again at exit, for fields the kernel writes
 * back), what the fds it names refer to, key ids, and the result.
 */
#ifndef KMS_RECORD_BPF_CALL_H
#define KMS_RECORD_BPF_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/bpf.h>

#include "record/tracee.h"

/* Batch operations name at most this many key ids (a trace line holds at most
 * 64 KiB; an id takes 19 bytes); the counts are always exact. */
#define REC_BATCH_KEYS_MAX 3000

struct rec_bpf_call {
	int cmd;
	uint32_t size;			/* the size argument */
	bool attr_ok;			/* attr was readable */
	union bpf_attr attr;		/* zero-extended to sizeof(attr) */
	long ret;			/* >= 0 or -errno */

	/* The object the call's main fd refers to (map_fd, prog_fd, bpf_fd). */
	struct rec_obj_info target;
	/* The object a returned fd refers to, read at syscall exit. */
	struct rec_obj_info result;
	/* PROG_LOAD: instructions after verification (bpf_prog_info), 0 unknown. */
	uint32_t xlated_insn_cnt;

	/* Element ops: the key read at entry. */
	bool has_key;
	uint64_t key_id;
	/* Batch ops: key ids of the elements the kernel processed. */
	uint32_t batch_done;		/* attr.batch.count at exit */
	uint64_t *batch_keys;		/* batch_done ids, or NULL if unread */
	uint32_t nr_batch_keys;

	char path[4096];		/* OBJ_PIN / OBJ_GET pathname, "" if unread */
};

/* Which fd of the attribute names the object operated on (-1: none). */
int rec_bpf_target_fd(const struct rec_bpf_call *b);
/* Does a successful call of @cmd return a new fd? */
bool rec_bpf_returns_fd(int cmd);

/* At syscall entry: copy attr; then, once the caller has filled @target from
 * its fd table (the key size comes from there), read the key and pathname. */
void rec_bpf_read_attr(struct rec_bpf_call *b, pid_t pid, int cmd, uint64_t uattr,
		       uint32_t size);
void rec_bpf_read_args(struct rec_bpf_call *b, pid_t pid);
/* At syscall exit: the result, batch counts and key ids. */
void rec_bpf_decode_exit(struct rec_bpf_call *b, pid_t pid, uint64_t uattr, long ret);
void rec_bpf_call_release(struct rec_bpf_call *b);

#endif
