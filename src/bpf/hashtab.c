// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/hashtab.c: hash, percpu_hash, lru_hash, lru_percpu_hash and
 * hash_of_maps, preallocated or BPF_F_NO_PREALLOC.
 *
 * Element state: the live keys (keyset) and, for non-preallocated maps,
 * one charge group per distinct charge target (one group unless elements
 * are charged to different cgroups, as under the v7 what-if).
 */
#include <errno.h>

#include "bpf/bpf.h"
#include "bpf/memalloc.h"

#define MAX_BPF_STACK 512
#define HASHTAB_MAP_LOCK_COUNT 8
#define PCPU_MIN_UNIT_SIZE (32 * 1024)
#define ENOTSUPP 524	/* kernel-internal errno the LRU prealloc check returns */

static bool is_lru(const struct bpf_map *m)
{
	return m->type == KMS_MAP_TYPE_LRU_HASH || m->type == KMS_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool is_percpu(const struct bpf_map *m)
{
	return m->type == KMS_MAP_TYPE_PERCPU_HASH || m->type == KMS_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool is_prealloc(const struct bpf_map *m)
{
	return !(m->map_flags & KMS_F_NO_PREALLOC);
}

/*
 * htab_has_extra_elems(): 5.10/5.11 prealloc_init() !percpu && !lru (hash
 * and hash_of_maps); 6.18 also !is_fd_htab() (hash only). Measured on
 * 6.18.44: hash_of_maps 8/4 with 1024 entries allocates 1024 * 64 = 65536
 * bytes of elements (16 pages), not 1026 * 64 (17 pages).
 */
static bool has_extra_elems(const struct kms_bpf *w, const struct bpf_map *m)
{
	if (m->type == KMS_MAP_TYPE_HASH_OF_MAPS && w->p->fd_htab_no_extra_elems)
		return false;
	return !is_percpu(m) && !is_lru(m);
}

static uint64_t num_entries(const struct kms_bpf *w, const struct bpf_map *m)
{
	return m->max_entries + (has_extra_elems(w, m) ? nr_cpus(w) : 0);
}

/* htab_map_alloc_check() (5.10 .. 6.18) */
static int htab_alloc_check(struct kms_bpf *w, struct bpf_map *m)
{
	bool lru = is_lru(m), percpu_lru = m->map_flags & KMS_F_NO_COMMON_LRU;
	/* KMALLOC_MAX_SIZE on x86-64 SLUB: 1 << (MAX_ORDER(11) - 1 + PAGE_SHIFT) = 4 MiB */
	uint64_t kmalloc_max = UINT64_C(1) << (10 + w->sim->page_shift);

	if (lru && !is_prealloc(m))
		return bpf_err(w, -ENOTSUPP, "LRU maps need preallocation (ENOTSUPP)");
	if (!lru && percpu_lru)
		return bpf_err(w, -EINVAL, "BPF_F_NO_COMMON_LRU on a non-LRU map");
	if (m->map_flags & ~(KMS_F_NO_PREALLOC | KMS_F_NO_COMMON_LRU | KMS_F_NUMA_NODE |
			     KMS_F_RDONLY | KMS_F_WRONLY | KMS_F_ZERO_SEED | KMS_F_RDONLY_PROG |
			     KMS_F_WRONLY_PROG))
		return bpf_err(w, -EINVAL, "map_flags 0x%x invalid for hash", m->map_flags);
	if (m->max_entries == 0 || m->key_size == 0 || m->value_size == 0)
		return bpf_err(w, -EINVAL, "zero max_entries, key_size or value_size");
	if (m->type == KMS_MAP_TYPE_HASH_OF_MAPS && m->value_size != 4)
		return bpf_err(w, -EINVAL, "hash_of_maps value_size %u != 4", m->value_size);
	if (m->key_size > MAX_BPF_STACK)
		return bpf_err(w, -E2BIG, "key_size %u > %u", m->key_size, MAX_BPF_STACK);
	if ((uint64_t)m->value_size >= kmalloc_max - MAX_BPF_STACK - w->p->sz.htab_elem.bytes)
		return bpf_err(w, -E2BIG, "value_size %u too large for kmalloc", m->value_size);
	if (is_percpu(m) && round_up_u64(m->value_size, 8) > PCPU_MIN_UNIT_SIZE)
		return bpf_err(w, -E2BIG, "per-cpu value_size %u > PCPU_MIN_UNIT_SIZE",
			       m->value_size);
	return 0;
}

static int htab_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	uint32_t P = nr_cpus(w);
	uint64_t cost, vsize = round_up_u64(m->value_size, 8);
	bool percpu = is_percpu(m), prealloc = is_prealloc(m);
	int err = htab_alloc_check(w, m);

	if (err)
		return err;
	if (m->map_flags & KMS_F_NO_COMMON_LRU) {
		/* each CPU's LRU list gets the same number of elements */
		uint64_t r = round_up_u64(m->max_entries, P);

		m->max_entries = r > U32_MAX ? m->max_entries / P * P : (uint32_t)r;
		if (m->max_entries < P)
			return bpf_err(w, -E2BIG, "max_entries below the number of CPUs");
	}
	m->elem_size = sz->htab_elem.bytes + (uint32_t)round_up_u64(m->key_size, 8) +
		       (percpu ? 8 : (uint32_t)vsize);
	m->n_buckets = roundup_pow_of_two_u32(m->max_entries);
	if (m->n_buckets == 0 || m->n_buckets > U32_MAX / sz->bucket.bytes)
		return bpf_err(w, -E2BIG, "n_buckets overflow for max_entries %u", m->max_entries);

	/*
	 * 5.10 htab_map_alloc(): cost = n_buckets * sizeof(struct bucket) +
	 * elem_size * max_entries + (percpu ? round_up(value_size, 8) * P *
	 * max_entries : elem_size * P), with or without BPF_F_NO_PREALLOC.
	 */
	cost = m->n_buckets * sz->bucket.bytes + (uint64_t)m->elem_size * m->max_entries;
	if (percpu)
		cost += vsize * P * m->max_entries;
	else
		cost += (uint64_t)m->elem_size * P;
	err = bpf_map_charge_init(w, m, ac, cost);
	if (err)
		return err;

	/* struct bpf_htab: kzalloc(GFP_USER | __GFP_ACCOUNT) (5.11), bpf_map_area_alloc (6.x) */
	err = bpf_obj_kmalloc(w, &m->obj, ac, sz->bpf_htab.bytes,
			      bpf_account(w, GFP_USER | __GFP_ZERO));
	if (!err)
		err = bpf_map_area_alloc(w, &m->obj, ac, m->n_buckets * sz->bucket.bytes, false);
	if (!err && w->p->htab_map_locked)	/* 5.9 .. 6.14: map_locked[] per-cpu ints */
		err = bpf_map_percpu_rec(w, m, ac, 4, GFP_USER, HASHTAB_MAP_LOCK_COUNT);
	if (!err && w->p->fdinfo == FDINFO_MEM_USAGE)	/* 6.4+ bpf_map_init_elem_count() */
		err = bpf_map_percpu_rec(w, m, ac, 8, GFP_KERNEL, 1);
	if (err)
		return err;
	if (prealloc) {
		/* prealloc_init(): one area of elem_size * num_entries */
		err = bpf_map_area_alloc(w, &m->obj, ac, (uint64_t)m->elem_size * num_entries(w, m),
					 false);
		if (!err && percpu)
			err = bpf_map_percpu_rec(w, m, ac, vsize, GFP_USER | __GFP_NOWARN,
						 num_entries(w, m));
		if (!err && has_extra_elems(w, m))	/* alloc_extra_elems() */
			err = bpf_map_percpu_rec(w, m, ac, 8, GFP_USER | __GFP_NOWARN, 1);
		return err;
	}
	if (w->p->hash_mem_alloc) {
		err = bpf_mem_alloc_init(w, m, ac, m->elem_size, false, &m->ma);
		if (!err && percpu)
			err = bpf_mem_alloc_init(w, m, ac, (uint32_t)vsize, true, &m->pcpu_ma);
	}
	return err;
}

static void htab_drop_inner(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key)
{
	uint32_t inner;

	if (m->type == KMS_MAP_TYPE_HASH_OF_MAPS && keyset_del(&m->storages, key, &inner)) {
		struct bpf_obj *o = bpf_obj_find(w, inner);

		if (o && !o->freed)
			bpf_obj_unref(w, ac, o);
	}
}

/* One new element of a non-preallocated map: alloc_htab_elem(). */
static int htab_alloc_elem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			   uint64_t key)
{
	struct elem_alloc a = { 0 };
	int err;

	if (m->ma) {
		uint16_t g = 0, pg = 0;

		err = bpf_mem_cache_alloc(w, m, ac, m->ma, &g);
		if (!err && m->pcpu_ma) {
			err = bpf_mem_cache_alloc(w, m, ac, m->pcpu_ma, &pg);
			if (err)
				bpf_mem_cache_free(w, m, ac, m->ma, g);
		}
		if (err)	/* the cache of this CPU ran dry: its GFP_NOWAIT refill failed */
			return bpf_err_enomem(w, m->ma->objcg ? m->ma->objcg->memcg : NULL,
					      "hash element (bpf_mem_alloc)");
		/* the keyset value holds both caches' charge groups */
		err = keyset_put(&m->keys, key, (uint32_t)g | (uint32_t)pg << 16);
		if (!err)
			m->count++;
		return err;
	}
	/* 5.11 .. 6.0: bpf_map_kmalloc_node(elem_size, GFP_ATOMIC | __GFP_NOWARN) */
	err = bpf_map_kmalloc_node(w, m, ac, m->elem_size, w->p->elem_gfp, &a.c[0]);
	if (err)
		return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac), "hash element");
	a.nr = 1;
	if (is_percpu(m)) {
		err = bpf_map_alloc_percpu(w, m, ac, round_up_u64(m->value_size, 8),
					   w->p->elem_gfp, &a.c[1]);
		if (err) {
			kfree(w->sim, ac, &a.c[0]);
			return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac),
					      "hash per-cpu value");
		}
		a.nr = 2;
	}
	return bpf_elem_insert_or_free(w, m, ac, key, &a);
}

/* The memory of an unlinked element (keyset value @g) back: to its cache or kfree after RCU. */
static void htab_release_elem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			      uint32_t g)
{
	if (m->ma) {
		if (m->pcpu_ma)
			bpf_mem_cache_free(w, m, ac, m->pcpu_ma, (uint16_t)(g >> 16));
		bpf_mem_cache_free(w, m, ac, m->ma, (uint16_t)g);
		return;
	}
	bpf_elem_release(w, m, ac, g, true);	/* htab_elem_free_rcu() */
}

/* Give an element back: to the cache (bpf_mem_alloc) or kfree after RCU. */
static void htab_free_elem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			   uint64_t key)
{
	uint32_t g;

	if (!keyset_del(&m->keys, key, &g))
		return;
	m->count--;
	if (!is_prealloc(m))
		htab_release_elem(w, m, ac, g);
}

static int htab_map_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			   uint64_t key, uint32_t flags, uint32_t obj_id)
{
	bool exists = keyset_find(&m->keys, key, NULL);
	int err;

	err = bpf_check_update_flags(w, flags, 4 /* BPF_F_LOCK */, exists, key);
	if (err)
		return err;
	if (ac->ctx == CTX_NMI && !is_prealloc(m) && !w->p->nmi_noprealloc_ok)
		return bpf_err(w, -EINVAL, "%s: an NMI (perf_event) program cannot use a "
			       "non-preallocated hash map (the verifier rejects it)", w->p->name);
	if (m->type == KMS_MAP_TYPE_HASH_OF_MAPS && !bpf_map_find(w, obj_id))
		return bpf_err(w, -EBADF, "inner map %u is not live", obj_id);

	if (is_prealloc(m)) {
		/* elements come from the freelist / LRU lists; memory never moves */
		if (!exists) {
			if (is_lru(m) && m->count >= m->max_entries) {
				uint64_t victim;
				uint32_t g;

				if (keyset_evict(&m->keys, &m->evict_cursor, &victim, &g)) {
					m->count--;
					htab_drop_inner(w, m, ac, victim);
				}
			} else if (m->count >= m->max_entries) {
				return bpf_err(w, -E2BIG, "map full (%u entries)", m->max_entries);
			}
			err = keyset_put(&m->keys, key, 0);
			if (err)
				return err;
			m->count++;
		}
	} else if (!exists) {
		if (m->count >= m->max_entries)
			return bpf_err(w, -E2BIG, "map full (%u entries)", m->max_entries);
		err = htab_alloc_elem(w, m, ac, key);
		if (err)
			return err;
	} else if (!is_percpu(m)) {
		/*
		 * 5.10..6.18 htab_map_update_elem(): alloc_htab_elem() first (no
		 * max_entries check for a replacement); a failure returns with the
		 * old element still linked; else the new one replaces it and the
		 * old one is freed (after RCU, or back to the bpf_mem_alloc cache).
		 */
		uint32_t old = 0;

		keyset_del(&m->keys, key, &old);
		m->count--;
		err = htab_alloc_elem(w, m, ac, key);
		if (err) {
			/* the slot just emptied takes the old element back */
			if (!keyset_put(&m->keys, key, old))
				m->count++;
			return err;
		}
		htab_release_elem(w, m, ac, old);
	}	/* percpu hash, existing key: values copied in place */

	if (m->type == KMS_MAP_TYPE_HASH_OF_MAPS) {
		htab_drop_inner(w, m, ac, key);
		err = keyset_put(&m->storages, key, obj_id);
		if (err)
			return err;
		bpf_obj_ref(bpf_obj_find(w, obj_id));
	}
	return 0;
}

static int htab_map_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			   uint64_t key, bool pop)
{
	(void)pop;
	if (!keyset_find(&m->keys, key, NULL))
		return -ENOENT;
	htab_free_elem(w, m, ac, key);
	htab_drop_inner(w, m, ac, key);
	return 0;
}

static int drop_inner_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;
	struct bpf_obj *o = bpf_obj_find(a[0], val);

	(void)key;
	if (o && !o->freed)
		bpf_obj_unref(a[0], a[1], o);
	return 0;
}

static int free_elem_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;
	struct bpf_map *m = a[2];

	(void)key;
	if (m->pcpu_ma)
		bpf_mem_cache_free(a[0], m, a[1], m->pcpu_ma, (uint16_t)(val >> 16));
	bpf_mem_cache_free(a[0], m, a[1], m->ma, (uint16_t)val);
	return 0;
}

static void htab_map_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	void *a[3] = { w, (void *)ac, m };

	keyset_each(&m->storages, drop_inner_cb, a);
	keyset_destroy(&m->storages);
	if (m->ma) {
		/* live elements go back to the caches, then the caches are destroyed */
		keyset_each(&m->keys, free_elem_cb, a);
		keyset_destroy(&m->keys);
		m->count = 0;
		bpf_mem_alloc_destroy(w, m, ac, m->pcpu_ma);
		bpf_mem_alloc_destroy(w, m, ac, m->ma);
		m->ma = m->pcpu_ma = NULL;
	}
}

/*
 * 6.4+ htab_map_mem_usage() (6.18): sizeof(htab) + buckets + the map_locked
 * ints (still counted after 6.15 dropped them) + elements: prealloc
 * elem_size * num_entries (+ per-cpu values, or the extra_elems pointers);
 * otherwise (elem_size + LLIST_NODE_SZ) per live element (+ holder and
 * per-cpu value for percpu).
 */
static uint64_t htab_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	uint64_t P = nr_cpus(w), vsize = round_up_u64(m->value_size, 8);
	uint64_t usage = w->p->sz.bpf_htab.bytes + m->n_buckets * w->p->sz.bucket.bytes +
			 4 * P * HASHTAB_MAP_LOCK_COUNT;

	if (is_prealloc(m)) {
		uint64_t n = num_entries(w, m);

		usage += (uint64_t)m->elem_size * n;
		if (is_percpu(m))
			usage += vsize * P * n;
		else if (!is_lru(m))
			usage += 8 * P;
	} else {
		usage += (uint64_t)(m->elem_size + 8) * m->count;
		if (is_percpu(m))
			usage += (16 + vsize * P) * m->count;
	}
	return usage;
}

const struct bpf_map_ops htab_map_ops = {
	.map_alloc = htab_map_alloc,
	.map_free = htab_map_free,
	.map_update = htab_map_update,
	.map_delete = htab_map_delete,
	.map_mem_usage = htab_map_mem_usage,
};
