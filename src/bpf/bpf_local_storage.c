// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/bpf_local_storage.c: sk/inode/task/cgrp storage maps. The map
 * holds buckets only; each owner (key id = the socket, inode, task or
 * cgroup) gets one bpf_local_storage with its first element in any map of
 * that type, and an element per map, both charged to the map that allocates
 * them (5.11+). The model frees the owner's storage with the element that
 * brought it (the kernel keeps it until the owner's last element goes). sk
 * storage is also limited by optmem_max, which the model does not see.
 * 6.4+ task and cgrp storage also prefill two bpf_mem_alloc caches at
 * creation; their elements still come from kmalloc here, not from those
 * caches as in the kernel (not yet modelled: no calibration row covers them).
 */
#include <errno.h>

#include "bpf/bpf.h"
#include "bpf/memalloc.h"

#define BPF_LOCAL_STORAGE_MAX_VALUE_SIZE (65535 - 8 - 256)	/* approx., U16 selem */

static uint64_t nbuckets(const struct kms_bpf *w)
{
	/* bpf_local_storage_map_alloc(): max(roundup_pow_of_two(num_possible_cpus()), 2) */
	uint64_t n = roundup_pow_of_two_u32(nr_cpus(w));

	return n < 2 ? 2 : n;
}

/*
 * smap->elem_size: 5.10..6.3 sizeof(struct bpf_local_storage_elem) +
 * value_size; 6.4+ offsetof(struct bpf_local_storage_elem,
 * sdata.data[value_size]) (kernel/bpf/bpf_local_storage.c
 * bpf_local_storage_map_alloc()).
 */
static uint32_t selem_size(const struct kms_bpf *w, const struct bpf_map *m)
{
	const struct kms_struct_sizes *sz = &w->p->sz;

	if (w->p->local_storage_bpf_ma)
		return sz->selem_data_offset.bytes + m->value_size;
	return sz->bpf_local_storage_elem.bytes + m->value_size;
}

/*
 * 6.4+ bpf_local_storage_map_alloc(..., bpf_ma): task and cgrp storage
 * (bpf_task_storage.c, bpf_cgrp_storage.c pass true; sk and inode storage
 * false) init two bpf_mem_alloc caches, selem_ma of elem_size and
 * storage_ma of sizeof(struct bpf_local_storage). Each prefills 4 objects
 * per possible CPU when its unit (size + 8) is <= 256, else 1, charged
 * GFP_KERNEL | __GFP_ACCOUNT to the creator's objcg (memalloc.c
 * prefill_mem_cache(), alloc_bulk()); the per-CPU struct bpf_mem_cache
 * array is __alloc_percpu_gfp(GFP_KERNEL), not accounted.
 */
static int local_storage_ma_init(struct kms_bpf *w, struct bpf_map *m,
				 const struct alloc_ctx *ac)
{
	int err;

	if (!w->p->local_storage_bpf_ma ||
	    (m->type != KMS_MAP_TYPE_TASK_STORAGE && m->type != KMS_MAP_TYPE_CGRP_STORAGE))
		return 0;
	err = bpf_mem_alloc_init(w, m, ac, selem_size(w, m), false, &m->ma);
	if (!err)	/* the storage cache; pcpu_ma is free in a storage map */
		err = bpf_mem_alloc_init(w, m, ac, w->p->sz.bpf_local_storage.bytes, false,
					 &m->pcpu_ma);
	return err;
}

static int local_storage_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	uint64_t buckets = nbuckets(w) * sz->bpf_local_storage_map_bucket.bytes;
	int err;

	/* bpf_local_storage_map_alloc_check() */
	if (m->map_flags & ~(KMS_F_NO_PREALLOC | KMS_F_CLONE) ||
	    !(m->map_flags & KMS_F_NO_PREALLOC) || m->max_entries || m->key_size != 4)
		return bpf_err(w, -EINVAL, "local storage: BPF_F_NO_PREALLOC, key_size 4, "
			       "max_entries 0");
	if (m->value_size == 0 || m->value_size > BPF_LOCAL_STORAGE_MAX_VALUE_SIZE)
		return bpf_err(w, -E2BIG, "local storage value_size %u", m->value_size);
	/* 5.10: cost = sizeof(*smap->buckets) * nbuckets + sizeof(*smap) */
	err = bpf_map_charge_init(w, m, ac, buckets + sz->bpf_local_storage_map.bytes);
	if (!err)
		err = bpf_obj_kmalloc(w, &m->obj, ac, sz->bpf_local_storage_map.bytes,
				      bpf_account(w, GFP_USER | __GFP_ZERO));
	if (!err)	/* kvcalloc(nbuckets, sizeof(bucket), GFP_USER | __GFP_ACCOUNT) */
		err = bpf_obj_kmalloc(w, &m->obj, ac, buckets, bpf_account(w, GFP_USER));
	if (!err)
		err = local_storage_ma_init(w, m, ac);
	return err;
}

/* Owners are per storage kind: a socket and a task with the same key id differ. */
static uint64_t ls_owner(const struct bpf_map *m, uint64_t key)
{
	return key ^ ((uint64_t)m->type << 56);
}

static int local_storage_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
				uint64_t key, uint32_t flags, uint32_t obj_id)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	struct elem_alloc a = { 0 };
	bool exists = keyset_find(&m->keys, key, NULL);
	uint64_t owner = ls_owner(m, key);
	uint32_t owner_elems = 0;
	int err;

	(void)obj_id;
	err = bpf_check_update_flags(w, flags, 0, exists, key);
	if (err)
		return err;
	if (exists)
		return 0;	/* value copied in place */
	keyset_find(&w->ls_owners, owner, &owner_elems);
	/* bpf_selem_alloc(): elem + value; bpf_local_storage_alloc() for a new owner */
	err = bpf_map_kmalloc_node(w, m, ac, selem_size(w, m), w->p->elem_gfp | __GFP_ZERO,
				   &a.c[0]);
	if (err)
		return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac), "local storage element");
	a.nr = 1;
	if (!owner_elems) {
		err = bpf_map_kmalloc_node(w, m, ac, sz->bpf_local_storage.bytes,
					   w->p->elem_gfp | __GFP_ZERO, &a.c[1]);
		if (err) {
			bpf_elem_alloc_free(w, ac, &a);
			return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac),
					      "local storage");
		}
		a.nr = 2;
	}
	err = keyset_put(&w->ls_owners, owner, owner_elems + 1);
	if (!err)
		err = bpf_elem_insert_or_free(w, m, ac, key, &a);
	else
		bpf_elem_alloc_free(w, ac, &a);
	if (err && !owner_elems)
		keyset_del(&w->ls_owners, owner, NULL);
	else if (err)
		keyset_put(&w->ls_owners, owner, owner_elems);
	return err;
}

static void owner_put(struct kms_bpf *w, const struct bpf_map *m, uint64_t key)
{
	uint64_t owner = ls_owner(m, key);
	uint32_t n = 0;

	if (keyset_find(&w->ls_owners, owner, &n) && n > 1)
		keyset_put(&w->ls_owners, owner, n - 1);
	else
		keyset_del(&w->ls_owners, owner, NULL);
}

static int local_storage_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
				uint64_t key, bool pop)
{
	(void)pop;
	if (!bpf_elem_remove(w, m, ac, key))
		return -ENOENT;
	owner_put(w, m, key);
	return 0;
}

static int owner_put_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;

	(void)val;
	owner_put(a[0], a[1], key);
	return 0;
}

/* The map goes: its elements leave their owners (freed by the generic path). */
static void local_storage_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	void *a[2] = { w, m };

	keyset_each(&m->keys, owner_put_cb, a);
	bpf_mem_alloc_destroy(w, m, ac, m->pcpu_ma);
	bpf_mem_alloc_destroy(w, m, ac, m->ma);
	m->ma = m->pcpu_ma = NULL;
}

/* 6.4+ bpf_local_storage_map_mem_usage(): sizeof(*smap) + buckets (elements not counted) */
static uint64_t local_storage_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	(void)m;
	return w->p->sz.bpf_local_storage_map.bytes +
	       nbuckets(w) * w->p->sz.bpf_local_storage_map_bucket.bytes;
}

const struct bpf_map_ops local_storage_map_ops = {
	.map_alloc = local_storage_alloc,
	.map_free = local_storage_free,
	.map_update = local_storage_update,
	.map_delete = local_storage_delete,
	.map_mem_usage = local_storage_mem_usage,
};
