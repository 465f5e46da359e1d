/* SPDX-License-Identifier: MIT */
/*
 * Sampling the element counts of the maps the traced command created, by map
 * id, so that elements its BPF programs add or delete inside the kernel
 * (invisible to a syscall trace) show up in the recording.
 *
 * Between samples the sampler follows the element count the trace's own
 * bpf(2) events imply (inserts of new key ids, successful deletes); a sample
 * that differs from it is written as prog_update (more elements) or
 * prog_delete (fewer), after which the two agree again.
 */
#ifndef KMS_RECORD_SAMPLE_H
#define KMS_RECORD_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "record/emit.h"

struct rec_key;

struct rec_sampled_map {
	uint32_t id;
	uint32_t key_size;
	uint32_t max_entries;
	pid_t creator;
	uint64_t count;		/* what the trace so far implies */
	struct rec_key *keys;	/* key ids user space inserted (uthash) */
	bool gone;		/* the map no longer exists */
};

struct rec_sampler {
	struct rec_sampled_map *maps;
	unsigned int nr, cap;
	bool disabled;		/* looking maps up by id is not permitted */
	unsigned long nr_written;
};

/* Remember a map the command created; maps without countable keys are ignored. */
void rec_sampler_add(struct rec_sampler *s, uint32_t id, uint32_t map_type,
		     uint32_t key_size, uint32_t max_entries, pid_t creator);
/* A successful element operation from user space, as the trace shows it. */
void rec_sampler_user_op(struct rec_sampler *s, const struct rec_bpf_call *b);
/* Process @pid exited: its maps' later changes are written under @heir. */
void rec_sampler_reassign(struct rec_sampler *s, pid_t pid, pid_t heir);
/* Count each live map's elements and write the changes the trace lacks. */
void rec_sampler_run(struct rec_sampler *s, struct rec_emit *e, double t);
void rec_sampler_free(struct rec_sampler *s);

/* Instructions of prog @id after verification (bpf_prog_info.xlated_prog_len
 * / 8), or 0 if the kernel does not say. */
uint32_t rec_prog_xlated_insns(uint32_t id);

#endif
