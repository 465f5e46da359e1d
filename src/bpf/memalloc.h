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
 *  - free on CPU c (unit_free()): push; above the high watermark free_bulk()
 *    moves objects down to (low + high) / 2 onto free_by_rcu_ttrace and
 *    do_call_rcu_ttrace() hands that whole list to one RCU-tasks-trace grace
 *    period (freed, uncharged, when it ends), unless a grace period of this
 *    cache is still in flight: then the objects stay on free_by_rcu_ttrace,
 *    charged, until a later free_bulk() finds no grace period in flight, or
 *    a refill takes them back (alloc_bulk() reuses them before allocating);
 *  - free_rcu on CPU c (unit_free_rcu(), LPM nodes): onto free_by_rcu; when
 *    no RCU grace period of the cache is in flight, check_free_by_rcu() sends
 *    the list through one RCU and then one tasks-trace grace period (freed
 *    after two); objects freed meanwhile wait, not reusable, for the next
 *    irq_work of that cache (a later free_rcu, refill or free_bulk);
 *  - the tasks-trace and the RCU grace period both last mm_params.rcu_grace_ns;
 *    the model does not take objects back from waiting_for_gp_ttrace;
 *  - destroy: every cached object is freed.
 * Refills run under set_active_memcg(memcg of the saved objcg), which
 * follows reparenting, so objects allocated after an rmdir carry the
 * parent's objcg: each cached object remembers its charge group (a per-CPU
 * LIFO of group indices), and the caller keeps the group of objects in use.
 */
#ifndef KMS_BPF_MEMALLOC_H
#define KMS_BPF_MEMALLOC_H

#include "bpf/bpf.h"

/* A list of cached objects: the charge group of each, LIFO. */
struct mc_list {
	uint16_t *v;
	uint32_t nr, cap;
};

struct bpf_mem_cache {
	struct mc_list free_llist;	/* ready to allocate; .nr is the kernel's free_cnt */
	struct mc_list free_by_rcu_ttrace;	/* free_bulk()'s, reusable, waiting for a GP */
	struct mc_list free_by_rcu;		/* unit_free_rcu()'s, waiting for check_free_by_rcu() */
	uint64_t ttrace_gp_end_ns;	/* call_rcu_ttrace_in_progress until then */
	uint64_t rcu_gp_end_ns;		/* call_rcu_in_progress until then */
	bool ttrace_in_progress, rcu_in_progress;
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
/* bpf_mem_cache_free_rcu(): reusable only after an RCU grace period. */
void bpf_mem_cache_free_rcu(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			    struct bpf_mem_alloc *ma, uint16_t group);
/* Objects cached on all CPUs (charged but not in use). */
uint64_t bpf_mem_alloc_cached(const struct kms_bpf *w, const struct bpf_mem_alloc *ma);

#endif
