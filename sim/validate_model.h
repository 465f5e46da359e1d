/* SPDX-License-Identifier: MIT */
/*
 * The model side of `kmemsim validate`: every step the actor does on the real
 * kernel is done on the BPF model too, on the same objects and keys, so the
 * two deltas are of exactly the same operations. One task (pid 100) in one
 * cgroup (/a) plays every process of the trace, as the actor does.
 */
#ifndef KMS_SIM_VALIDATE_MODEL_H
#define KMS_SIM_VALIDATE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kmemsim/kernel.h"

struct vmodel;

/* -EINVAL (with @why) for an unknown profile. */
int vmodel_new(const char *profile, struct vmodel **out, char *why, size_t len);
void vmodel_free(struct vmodel *m);

/* Bytes the model's BPF objects have charged since the last call, after @settle_ms. */
int64_t vmodel_delta(struct vmodel *m, unsigned int settle_ms);
/* The CPU (per-CPU caches) and the execution context of the next calls. */
void vmodel_set_cpu(struct vmodel *m, uint32_t cpu);
void vmodel_set_softirq(struct vmodel *m, int on);

/* Each returns an object id (> 0), 0, or -errno as the modelled kernel would. */
int vmodel_map_create(struct vmodel *m, const struct kms_kbpf_map_spec *spec, uint32_t inner_id);
int vmodel_prog_load(struct vmodel *m, uint32_t insn_cnt);
int vmodel_btf_load(struct vmodel *m, uint32_t size);
/* @obj_id: the value is that object (map-in-map, prog_array); 0 for plain values. */
int vmodel_update(struct vmodel *m, uint32_t id, uint64_t key, uint64_t flags, uint32_t obj_id);
int vmodel_delete(struct vmodel *m, uint32_t id, uint64_t key);
int vmodel_put(struct vmodel *m, uint32_t id);
int vmodel_pin(struct vmodel *m, uint32_t id, const char *path);
int vmodel_get_pinned(struct vmodel *m, const char *path);
/* Why the last failing call failed. */
const char *vmodel_error(const struct vmodel *m);

#endif
