/* SPDX-License-Identifier: MIT */
/*
 * The model side of `kmemsim validate` and `calibrate --model`: every step
 * the actor does on the real kernel is done on the BPF model too, on the same
 * objects and keys, so the two deltas are of exactly the same operations.
 * One task (pid 100) in one cgroup (/a) plays every process, as the actor does.
 */
#ifndef KMS_SIM_MODEL_MIRROR_H
#define KMS_SIM_MODEL_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "kmemsim/kernel.h"

struct mirror;

/* -EINVAL (with @why) for an unknown profile. */
int mirror_new(const char *profile, struct mirror **out, char *why, size_t len);
void mirror_free(struct mirror *m);

/* Bytes the model's BPF objects have charged since the last call, after @settle_ms. */
int64_t mirror_delta(struct mirror *m, unsigned int settle_ms);
/* The CPU (per-CPU caches) and the execution context of the next calls. */
void mirror_set_cpu(struct mirror *m, uint32_t cpu);
void mirror_set_softirq(struct mirror *m, int on);

/* Each returns an object id (> 0), 0, or -errno as the modelled kernel would. */
int mirror_map_create(struct mirror *m, const struct kms_kbpf_map_spec *spec, uint32_t inner_id);
int mirror_prog_load(struct mirror *m, uint32_t insn_cnt);
int mirror_btf_load(struct mirror *m, uint32_t size);
/* @obj_id: the value is that object (map-in-map, prog_array); 0 for plain values. */
int mirror_update(struct mirror *m, uint32_t id, uint64_t key, uint64_t flags, uint32_t obj_id);
int mirror_delete(struct mirror *m, uint32_t id, uint64_t key);
int mirror_put(struct mirror *m, uint32_t id);
int mirror_pin(struct mirror *m, uint32_t id, const char *path);
int mirror_get_pinned(struct mirror *m, const char *path);
int mirror_unpin(struct mirror *m, const char *path);
/* Why the last failing call failed. */
const char *mirror_error(const struct mirror *m);

#endif
