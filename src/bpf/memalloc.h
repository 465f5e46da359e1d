/* SPDX-License-Identifier: MIT */
/*
 * kernel/bpf/memalloc.c (6.1+): per-CPU caches of fixed-size objects that
 * hash maps and (6.13+) LPM tries allocate elements from in any context.
 *
 * Deterministic model of one fixed-size bpf_mem_alloc:
 *  - init: objcg of the creator (get_obj_cgroup_from_current()), prefill of
 *    4 objects per possible CPU (1 for per-cpu or unit_size > 256), GFP_KERNEL;
 *  - alloc on CPU c: pop one cached object of c (none -> -ENOMEM); when the
 *    count drops below the low watermark the refill irq_work runs right away
 *    and allocates `batch` objects with GFP_NOWAIT, stopping at the first
 *    failure (the kernel's irq_work runs on return from the syscall or irq);
 *  - free on CPU c: push; above the high watermark free_bulk() releases
 *    objects down to (low + high) / 2 through call_rcu_free() (the kernel
 *    waits for RCU tasks trace); the model does not keep the ~10% residue
 *    the kernel measured after mass deletes (one batch in flight per cache);
 *  - destroy: every cached object is freed.
 * Refills run under set_active_memcg(memcg of the saved objcg), which
 * follows reparenting, so objects allocated after an rmdir carry the
 * parent's objcg: each cached object remembers its charge group (a per-CPU
 * LIFO of group indices), and the caller keeps the group of objects in use.
 */
#ifndef KMS_BPF_MEMALLOC_H
#define KMS_BPF_MEMALLOC_H

#include "bpf/bpf.h"

struct bpf_mem_cache {
	uint16_t *stack;	/* charge group of each cached object, LIFO */
	uint32_t free_cnt, cap;
};

struct bpf_mem_alloc {
	uint32_t unit_size;	/* size + 8 (llist header); per-cpu: the value size */
	bool percpu;
	uint32_t low_watermark, high_watermark, batch;
	struct bpf_mem_cache *caches;	/* per possible CPU */
	struct obj_cgroup *objcg;	/* NULL: root / nobpf, nobody pays */
	struct elem_group *groups;	/* distinct charges of objects; .n = objects alive */
	uint32_t nr_groups, cap_groups;
};

int bpf_mem_alloc_init(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		       uint32_t size, bool percpu, struct bpf_mem_alloc **out);
/* Frees every cached object; objects in use must have been freed to the cache first. */
void bpf_mem_alloc_destroy(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			   struct bpf_mem_alloc *ma);
/* unit_alloc(): 0 and the object's charge group in *@group, or -ENOMEM. */
int bpf_mem_cache_alloc(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			struct bpf_mem_alloc *ma, uint16_t *group);
void bpf_mem_cache_free(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			struct bpf_mem_alloc *ma, uint16_t group);
/* Objects cached on all CPUs (charged but not in use). */
uint64_t bpf_mem_alloc_cached(const struct kms_bpf *w, const struct bpf_mem_alloc *ma);

#endif
