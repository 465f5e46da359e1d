// SPDX-License-Identifier: MIT
/*
 * net/core/sock_map.c (sockmap, sockhash) and
 * kernel/bpf/reuseport_array.c. Sockhash elements are charged to the map
 * on update (5.11+); the sockets and psocks belong to the sockets.
 */
#include <errno.h>

#include "bpf/bpf.h"

#define SOCK_CREATE_FLAG_MASK (KMS_F_NUMA_NODE | KMS_F_RDONLY | KMS_F_WRONLY)

static bool is_hash(const struct bpf_map *m)
{
	return m->type == KMS_MAP_TYPE_SOCKHASH;
}

static int sock_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	uint64_t cost;
	int err;

	if (m->max_entries == 0 || m->key_size == 0 || (m->value_size != 4 &&
	    m->value_size != 8) || m->map_flags & ~SOCK_CREATE_FLAG_MASK ||
	    (!is_hash(m) && m->key_size != 4))
		return bpf_err(w, -EINVAL, "sockmap/sockhash: value_size 4 or 8");
	if (!is_hash(m)) {
		/* 5.10 sock_map_alloc(): cost = max_entries * sizeof(struct sock *) */
		cost = (uint64_t)m->max_entries * 8;
		err = bpf_map_charge_init(w, m, ac, cost);
		if (!err)
			err = bpf_obj_kmalloc(w, &m->obj, ac, sz->bpf_stab.bytes,
					      bpf_account(w, GFP_USER | __GFP_ZERO));
		return err ? err : bpf_map_area_alloc(w, &m->obj, ac, cost, false);
	}
	/* 5.10 sock_hash_alloc(): its own overflow check returns -EINVAL */
	m->n_buckets = roundup_pow_of_two_u32(m->max_entries);
	m->elem_size = sz->bpf_shtab_elem.bytes + (uint32_t)round_up_u64(m->key_size, 8);
	if (!m->n_buckets || m->n_buckets > U32_MAX / sz->bpf_shtab_bucket.bytes)
		return bpf_err(w, -EINVAL, "sockhash buckets overflow");
	cost = m->n_buckets * sz->bpf_shtab_bucket.bytes + (uint64_t)m->elem_size * m->max_entries;
	if (w->p->scheme == ACCT_RLIMIT && cost >= (uint64_t)U32_MAX - page_size(w))
		return bpf_err(w, -EINVAL, "sockhash cost %llu >= U32_MAX - PAGE_SIZE",
			       (unsigned long long)cost);
	err = bpf_map_charge_init(w, m, ac, cost);
	if (!err)
		err = bpf_obj_kmalloc(w, &m->obj, ac, sz->bpf_shtab.bytes,
				      bpf_account(w, GFP_USER | __GFP_ZERO));
	return err ? err : bpf_map_area_alloc(w, &m->obj, ac,
					      m->n_buckets * sz->bpf_shtab_bucket.bytes, false);
}

static int sock_map_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			   uint64_t key, uint32_t flags, uint32_t obj_id)
{
	struct elem_alloc a = { .nr = 1 };
	bool exists = keyset_find(&m->keys, key, NULL);
	int err;

	(void)obj_id;
	err = bpf_check_update_flags(w, flags, 0, exists, key);
	if (err)
		return err;
	if (!is_hash(m)) {
		if (key >= m->max_entries)
			return bpf_err(w, -E2BIG, "index out of range");
		if (!exists) {
			m->count++;
			return keyset_put(&m->keys, key, 0);
		}
		return 0;
	}
	if (!exists && m->count >= m->max_entries)
		return bpf_err(w, -E2BIG, "sockhash full");
	/* sock_hash_alloc_elem(): bpf_map_kmalloc_node(elem_size, GFP_ATOMIC | __GFP_NOWARN) */
	err = bpf_map_kmalloc_node(w, m, ac, m->elem_size, GFP_ATOMIC | __GFP_NOWARN, &a.c[0]);
	if (err)
		return bpf_err(w, err, "sockhash element allocation failed");
	if (exists)
		bpf_elem_remove(w, m, ac, key);
	return bpf_elem_insert_or_free(w, m, ac, key, &a);
}

static int sock_map_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			   uint64_t key, bool pop)
{
	(void)pop;
	if (!is_hash(m)) {
		if (!keyset_del(&m->keys, key, NULL))
			return -ENOENT;
		m->count--;
		return 0;
	}
	return bpf_elem_remove(w, m, ac, key) ? 0 : -ENOENT;
}

/* 6.4+ sock_map_mem_usage() / sock_hash_mem_usage() */
static uint64_t sock_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	const struct kms_struct_sizes *sz = &w->p->sz;

	if (!is_hash(m))
		return sz->bpf_stab.bytes + (uint64_t)m->max_entries * 8;
	return sz->bpf_shtab.bytes + m->n_buckets * sz->bpf_shtab_bucket.bytes +
	       m->count * m->elem_size;
}

const struct bpf_map_ops sock_map_ops = {
	.map_alloc = sock_map_alloc,
	.map_update = sock_map_update,
	.map_delete = sock_map_delete,
	.map_mem_usage = sock_map_mem_usage,
};

static uint64_t reuseport_size(const struct kms_bpf *w, const struct bpf_map *m)
{
	return w->p->sz.reuseport_array.bytes + (uint64_t)m->max_entries * 8;
}

/* kernel/bpf/reuseport_array.c reuseport_array_alloc(): struct_size(array, ptrs, N) */
static int reuseport_array_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	int err;

	if (m->max_entries == 0 || m->key_size != 4 || (m->value_size != 4 &&
	    m->value_size != 8) || m->map_flags & ~KMS_F_NUMA_NODE)
		return bpf_err(w, -EINVAL, "reuseport_sockarray: key_size 4, value_size 4 or 8");
	err = bpf_map_charge_init(w, m, ac, reuseport_size(w, m));
	return err ? err : bpf_map_area_alloc(w, &m->obj, ac, reuseport_size(w, m), false);
}

static uint64_t reuseport_array_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return reuseport_size(w, m);
}

const struct bpf_map_ops reuseport_array_ops = {
	.map_alloc = reuseport_array_alloc,
	.map_update = sock_map_update,
	.map_delete = sock_map_delete,
	.map_mem_usage = reuseport_array_mem_usage,
};
