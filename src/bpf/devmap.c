// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/devmap.c: devmap and devmap_hash. 5.10 charges the netdev
 * pointer array (devmap) or the hlist_head buckets (devmap_hash, 8 bytes
 * each) and turns any memlock failure into -EINVAL. Entries (one
 * bpf_dtab_netdev per update, 5.11+: charged to the map) are modelled; the
 * netdev itself is not.
 */
#include <errno.h>

#include "bpf/bpf.h"

#define DEV_CREATE_FLAG_MASK (KMS_F_NUMA_NODE | KMS_F_RDONLY | KMS_F_WRONLY)

static bool is_hash(const struct bpf_map *m)
{
	return m->type == KMS_MAP_TYPE_DEVMAP_HASH;
}

static int dev_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	uint64_t cost;
	int err;

	/* dev_map_init_map(): value is ifindex (4) or ifindex + prog fd (8) */
	if (m->max_entries == 0 || m->key_size != 4 || (m->value_size != 4 &&
	    m->value_size != 8) || m->map_flags & ~DEV_CREATE_FLAG_MASK)
		return bpf_err(w, -EINVAL, "devmap: key_size 4, value_size 4 or 8");
	if (is_hash(m)) {
		m->n_buckets = roundup_pow_of_two_u32(m->max_entries);
		if (!m->n_buckets)
			return bpf_err(w, -EINVAL, "devmap_hash n_buckets overflow");
		cost = m->n_buckets * 8;	/* sizeof(struct hlist_head) */
	} else {
		cost = (uint64_t)m->max_entries * 8;
	}
	/* 5.10: `err = bpf_map_charge_init(...); if (err) return -EINVAL;` */
	err = bpf_map_charge_init(w, m, ac, cost);
	if (err)
		return bpf_err(w, -EINVAL, "%s (devmap returns EINVAL)", kms_bpf_strerror(w));
	err = bpf_obj_kmalloc(w, &m->obj, ac, w->p->sz.bpf_dtab.bytes,
			      bpf_account(w, GFP_USER | __GFP_ZERO));
	return err ? err : bpf_map_area_alloc(w, &m->obj, ac, cost, false);
}

static int dev_map_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			  uint64_t key, uint32_t flags, uint32_t obj_id)
{
	struct elem_alloc a = { .nr = 1 };
	bool exists = keyset_find(&m->keys, key, NULL);
	int err;

	(void)obj_id;
	if (flags > KMS_EXIST)
		return bpf_err(w, -EINVAL, "update flags 0x%x", flags);
	if (!is_hash(m)) {
		if (key >= m->max_entries)
			return bpf_err(w, -E2BIG, "index %llu >= max_entries",
				       (unsigned long long)key);
		if (flags == KMS_NOEXIST)
			return bpf_err(w, -EEXIST, "devmap: BPF_NOEXIST");
	} else if (!exists && m->count >= m->max_entries) {
		return bpf_err(w, -E2BIG, "devmap_hash full");
	}
	/* __dev_map_alloc_node(): bpf_map_kmalloc_node(sizeof(bpf_dtab_netdev)) */
	err = bpf_map_kmalloc_node(w, m, ac, w->p->sz.bpf_dtab_netdev.bytes, w->p->elem_gfp,
				   &a.c[0]);
	if (err)
		return bpf_err(w, err, "devmap entry allocation failed");
	if (exists)	/* the old entry goes through call_rcu(__dev_map_entry_free) */
		bpf_elem_remove(w, m, ac, key);
	return bpf_elem_insert_or_free(w, m, ac, key, &a);
}

static int dev_map_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			  uint64_t key, bool pop)
{
	(void)pop;
	if (!is_hash(m) && key >= m->max_entries)
		return bpf_err(w, -EINVAL, "index out of range");
	if (!bpf_elem_remove(w, m, ac, key))
		return is_hash(m) ? -ENOENT : 0;
	return 0;
}

/* 6.4+ dev_map_mem_usage(): sizeof(dtab) + pointers or buckets + live entries */
static uint64_t dev_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	uint64_t usage = w->p->sz.bpf_dtab.bytes;

	usage += is_hash(m) ? m->n_buckets * 8 : (uint64_t)m->max_entries * 8;
	return usage + m->count * w->p->sz.bpf_dtab_netdev.bytes;
}

const struct bpf_map_ops dev_map_ops = {
	.map_alloc = dev_map_alloc,
	.map_update = dev_map_update,
	.map_delete = dev_map_delete,
	.map_mem_usage = dev_map_mem_usage,
};
