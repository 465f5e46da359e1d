// SPDX-License-Identifier: MIT
/* kernel/bpf/stackmap.c: BPF_MAP_TYPE_STACK_TRACE, preallocated buckets. */
#include <errno.h>

#include "bpf/bpf.h"

#define STACK_CREATE_FLAG_MASK (KMS_F_NUMA_NODE | KMS_F_RDONLY | KMS_F_WRONLY | \
				KMS_F_STACK_BUILD_ID)
#define PERF_MAX_STACK_DEPTH 127	/* sysctl kernel.perf_event_max_stack default */
#define BUILD_ID_ELEM 32		/* sizeof(struct bpf_stack_build_id) */

static int stack_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	uint32_t unit = m->map_flags & KMS_F_STACK_BUILD_ID ? BUILD_ID_ELEM : 8;
	uint64_t elem = sz->stack_map_bucket.bytes + (uint64_t)m->value_size, cost;
	int err;

	if (m->map_flags & ~STACK_CREATE_FLAG_MASK)
		return bpf_err(w, -EINVAL, "stack_trace map_flags 0x%x", m->map_flags);
	if (m->key_size != 4 || m->value_size < 8 || m->value_size % unit ||
	    m->value_size / unit > PERF_MAX_STACK_DEPTH || m->max_entries == 0)
		return bpf_err(w, -EINVAL, "stack_trace: key_size 4, value_size a multiple of %u "
			       "up to %u frames, max_entries > 0", unit, PERF_MAX_STACK_DEPTH);
	m->n_buckets = roundup_pow_of_two_u32(m->max_entries);
	if (!m->n_buckets)
		return bpf_err(w, -E2BIG, "n_buckets overflow");
	/*
	 * 5.10 stack_map_alloc(): cost = n_buckets * 8 + sizeof(*smap) +
	 * n_buckets * elem_size (5.10.0 .. 5.10.12x) or max_entries * elem_size
	 * (after the 2022 stable fix, upstream b45043192b3e).
	 */
	cost = m->n_buckets * 8 + sz->bpf_stack_map.bytes +
	       (w->p->stack_trace_cost_fixed ? m->max_entries : m->n_buckets) * elem;
	err = bpf_map_charge_init(w, m, ac, cost);
	/*
	 * The smap with its bucket pointers, then prealloc_elems_and_freelist().
	 * Before the fix the smap area was allocated with the whole `cost`,
	 * elements included, so they were allocated twice ("bpf: Fix excessive
	 * memory allocation in stack_map_alloc()"; the 5.11 reference fill
	 * measures it: 65536 entries of 8 bytes charge 897 pages, not 513).
	 */
	if (!err)
		err = bpf_map_area_alloc(w, &m->obj, ac, w->p->stack_trace_cost_fixed ?
					 m->n_buckets * 8 + sz->bpf_stack_map.bytes : cost, false);
	if (!err)
		err = bpf_map_area_alloc(w, &m->obj, ac, elem * m->max_entries, false);
	return err;
}

/* 6.4+ stack_map_mem_usage(): sizeof(smap) + 8 * n_buckets + max_entries * (16 + V) */
static uint64_t stack_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return w->p->sz.bpf_stack_map.bytes + m->n_buckets * 8 +
	       (uint64_t)m->max_entries * (w->p->sz.stack_map_bucket.bytes + m->value_size);
}

static int stack_map_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, bool pop)
{
	(void)w, (void)ac, (void)pop;
	if (key >= m->n_buckets)
		return -ENOENT;
	return keyset_del(&m->keys, key, NULL) ? (m->count--, 0) : -ENOENT;
}

/* bpf_get_stackid() fills a bucket from the freelist: no allocation. */
static int stack_map_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, uint32_t flags, uint32_t obj_id)
{
	(void)ac, (void)flags, (void)obj_id;
	if (key >= m->n_buckets)
		return bpf_err(w, -EINVAL, "stack id %llu >= n_buckets", (unsigned long long)key);
	if (keyset_find(&m->keys, key, NULL))
		return 0;
	if (m->count >= m->max_entries)
		return bpf_err(w, -EEXIST, "no free stack bucket");
	m->count++;
	return keyset_put(&m->keys, key, 0);
}

const struct bpf_map_ops stack_trace_map_ops = {
	.map_alloc = stack_map_alloc,
	.map_update = stack_map_update,
	.map_delete = stack_map_delete,
	.map_mem_usage = stack_map_mem_usage,
};
