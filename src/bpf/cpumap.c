// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/cpumap.c: the entry pointer array, and per updated CPU an entry
 * (__cpu_map_entry_alloc()): the struct, its per-CPU bulk queues and its
 * struct ptr_ring through the map helpers (5.11+: charged to the map's
 * memcg); the ring's slot array (kvmalloc_array(qsize) without
 * __GFP_ACCOUNT) and the kthread (created by kthreadd) are charged to no one.
 * A trace's update carries no value, so every update makes an entry (qsize
 * 0, which deletes, is not seen).
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

/*
 * 5.11..6.18 __cpu_map_entry_alloc(), GFP_KERNEL | __GFP_NOWARN: rcpu by
 * bpf_map_kmalloc_node(sizeof(struct bpf_cpu_map_entry)), bulkq by
 * bpf_map_alloc_percpu(sizeof(struct xdp_bulk_queue)), queue by
 * bpf_map_kmalloc_node(sizeof(struct ptr_ring)). The model keeps rcpu and
 * bulkq as the element (m->keys) and the ptr_ring struct in m->storages.
 */
static int cpu_map_entry_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			       struct elem_alloc *a, struct elem_alloc *q)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;
	int err = bpf_map_kmalloc_node(w, m, ac, sz->bpf_cpu_map_entry.bytes, gfp | __GFP_ZERO,
				       &a->c[0]);

	if (err)
		return err;
	a->nr = 1;
	err = bpf_map_alloc_percpu(w, m, ac, sz->xdp_bulk_queue.bytes, gfp, &a->c[1]);
	if (!err) {
		a->nr = 2;
		err = bpf_map_kmalloc_node(w, m, ac, sz->ptr_ring.bytes, gfp, &q->c[0]);
		q->nr = err ? 0 : 1;
	}
	if (err)
		bpf_elem_alloc_free(w, ac, a);
	return err;
}

/* __cpu_map_entry_replace(): the old entry is freed by an RCU work item. */
static void cpu_map_entry_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			       uint64_t key, bool rcu)
{
	uint32_t g;

	if (keyset_del(&m->storages, key, &g))
		bpf_elem_release(w, m, ac, g, rcu);
	if (rcu)
		bpf_elem_remove(w, m, ac, key);
}

static int cpu_map_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			  uint64_t key, uint32_t flags, uint32_t obj_id)
{
	struct elem_alloc a = { 0 }, q = { 0 };
	uint32_t qg;
	int err;

	(void)obj_id;
	/* cpu_map_update_elem() */
	if (flags > KMS_EXIST)
		return bpf_err(w, -EINVAL, "update flags 0x%x", flags);
	if (key >= m->max_entries)
		return bpf_err(w, -E2BIG, "cpumap index %llu >= max_entries",
			       (unsigned long long)key);
	if (flags == KMS_NOEXIST)
		return bpf_err(w, -EEXIST, "cpumap: BPF_NOEXIST");
	if (key >= nr_cpus(w))
		return bpf_err(w, -ENODEV, "cpumap: CPU %llu is not possible",
			       (unsigned long long)key);
	err = cpu_map_entry_alloc(w, m, ac, &a, &q);
	if (err)
		return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac), "cpumap entry");
	cpu_map_entry_free(w, m, ac, key, true);
	err = bpf_elem_group(m, &q, &qg);
	if (!err)
		err = keyset_put(&m->storages, key, qg);
	if (err) {
		bpf_elem_alloc_free(w, ac, &q);
		bpf_elem_alloc_free(w, ac, &a);
		return err;
	}
	m->groups[qg].n++;
	bpf_ledger_add(w, &m->obj, &q.c[0], 1);
	err = bpf_elem_insert_or_free(w, m, ac, key, &a);
	if (err)
		cpu_map_entry_free(w, m, ac, key, false);
	return err;
}

static int cpu_map_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			  uint64_t key, bool pop)
{
	(void)pop;
	if (key >= m->max_entries)
		return bpf_err(w, -EINVAL, "cpumap index out of range");
	cpu_map_entry_free(w, m, ac, key, true);
	return 0;
}

static int ring_free_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;

	(void)key;
	bpf_elem_release(a[0], a[1], a[2], val, false);
	return 0;
}

/* cpu_map_free(): the ptr_ring structs here, the entries by the generic path. */
static void cpu_map_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	void *a[3] = { w, m, (void *)ac };

	keyset_each(&m->storages, ring_free_cb, a);
	keyset_destroy(&m->storages);
}

const struct bpf_map_ops cpu_map_ops = {
	.map_alloc = cpu_map_alloc,
	.map_free = cpu_map_free,
	.map_update = cpu_map_update,
	.map_delete = cpu_map_delete,
	.map_mem_usage = cpu_map_mem_usage,
};
