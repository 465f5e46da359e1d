/* SPDX-License-Identifier: MIT */
/*
 * Sampling the element counts of the traced command's maps by map id, so that
 * elements BPF programs add or delete inside the kernel (invisible to a syscall
 * trace) show up in the recording.
 */
#ifndef KMS_RECORD_SAMPLE_H
#define KMS_RECORD_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "record/emit.h"

struct rec_sampled_map {
	uint32_t id;
	uint32_t key_size;
	uint32_t max_entries;
	uint64_t last;		/* count last written */
	bool written;		/* a count was written */
	bool gone;		/* the map no longer exists */
};

struct rec_sampler {
	struct rec_sampled_map *maps;
	unsigned int nr, cap;
	bool disabled;		/* looking maps up by id is not permitted */
	unsigned long nr_written;
};

/* Remember a map of the command; maps without countable keys are ignored. */
void rec_sampler_add(struct rec_sampler *s, uint32_t id, uint32_t map_type,
		     uint32_t key_size, uint32_t max_entries);
/* Count each live map's elements and write those that changed (all if @all). */
void rec_sampler_run(struct rec_sampler *s, struct rec_emit *e, double t, bool all);
void rec_sampler_free(struct rec_sampler *s);

#endif
