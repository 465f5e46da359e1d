/* SPDX-License-Identifier: MIT */
/*
 * Reading a stopped tracee: its memory (process_vm_readv) and what /proc says
 * about it (uid, memory cgroup, CPU, fd targets and fdinfo of BPF objects).
 */
#ifndef KMS_RECORD_TRACEE_H
#define KMS_RECORD_TRACEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Who did something, read when it did it. */
struct rec_ctx {
	double t;		/* seconds since the recording started */
	pid_t pid;		/* process (tgid) */
	pid_t tid;
	uint32_t uid;		/* real uid: the user_struct locked_vm is charged to */
	int cpu;		/* /proc/TID/stat field 39, -1 if unknown */
	char cgroup[256];	/* memory cgroup path (v1 "memory" line, else v2) */
};

enum rec_obj {
	REC_OBJ_NONE,		/* not a BPF object (or closed) */
	REC_OBJ_MAP,
	REC_OBJ_PROG,
	REC_OBJ_LINK,
	REC_OBJ_BTF,
	REC_OBJ_OTHER,		/* another bpf anon inode (iterator, token) */
};

/* A BPF object fd as the kernel describes it in /proc/PID/fdinfo. */
struct rec_obj_info {
	enum rec_obj kind;
	uint32_t id;		/* map_id / prog_id / link_id / btf_id */
	uint32_t map_type, key_size, value_size, max_entries;
	uint64_t memlock;	/* fdinfo "memlock:" (maps and progs) */
	bool has_memlock;
};

int rec_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
/* A NUL-terminated string of at most @size - 1 bytes; -E2BIG if longer. */
int rec_read_str(pid_t pid, uint64_t addr, char *buf, size_t size);

void rec_ctx_read(struct rec_ctx *c, pid_t pid, pid_t tid, double t);
/*
 * The memory limits of cgroup @path (as in struct rec_ctx): memory.max and
 * memory.high on cgroup v2, memory.limit_in_bytes on the v1 hierarchy (no
 * high there). UINT64_MAX for "max"/unlimited. -ENOENT if not found.
 */
int rec_cgroup_limits(const char *path, uint64_t *max, uint64_t *high);
int rec_obj_read(pid_t pid, int fd, struct rec_obj_info *info);

#endif
