// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/cpumap.c: the entry pointer array. Entries (kthread, ptr_ring,
 * per-cpu bulk queues) are created on update; their memory is not modelled.
 */
#include <errno.h>

#include "bpf/bpf.h"

static int cpu_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	uint64_t cost = (uint64_t)m->max_entries * 8;
	int err;

	if (m->max_entries == 0 || m->key_size != 4 || (m->value_size != 4 &&
	    m->value_size != 8) || m->map_flags & ~KMS_F_NUMA_NODE)
		return bpf_err(w, -EINVAL, "cpumap: key_size 4, value_size 4 or 8");
	if (m->max_entries > KMS_MAX_CPUS)	/* NR_CPUS */
		return bpf_err(w, -E2BIG, "cpumap max_entries %u > NR_CPUS", m->max_entries);
	/* 5.10 cpu_map_alloc(): cost = max_entries * sizeof(struct bpf_cpu_map_entry *) */
	err = bpf_map_charge_init(w, m, ac, cost);
	if (!err)
		err = bpf_obj_kmalloc(w, &m->obj, ac, w->p->sz.bpf_cpu_map.bytes,
				      bpf_account(w, GFP_USER | __GFP_ZERO));
	return err ? err : bpf_map_area_alloc(w, &m->obj, ac, cost, false);
}

/* 6.4+ cpu_map_mem_usage(): sizeof(cmap) + 8 * max_entries */
static uint64_t cpu_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return w->p->sz.bpf_cpu_map.bytes + (uint64_t)m->max_entries * 8;
}

const struct bpf_map_ops cpu_map_ops = {
	.map_alloc = cpu_map_alloc,
	.map_mem_usage = cpu_map_mem_usage,
};
