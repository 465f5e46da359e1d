// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/lpm_trie.c: nodes allocated per update (5.11: bpf_map_kmalloc_node,
 * GFP_ATOMIC; 6.13+: bpf_mem_alloc). The model allocates one leaf node per new
 * key; intermediate nodes (a key id carries no prefix) are not modelled.
 */
#include <errno.h>

#include "bpf/bpf.h"
#include "bpf/memalloc.h"

#define LPM_KEY_SIZE_MIN 5		/* prefixlen (4) + 1 data byte */
#define LPM_DATA_SIZE_MAX 256
#define LPM_VAL_SIZE_MIN 1

static uint32_t node_size(const struct kms_bpf *w, const struct bpf_map *m)
{
	/* sizeof(struct lpm_trie_node) + data_size + value_size (a leaf) */
	return w->p->sz.lpm_trie_node.bytes + (m->key_size - 4) + m->value_size;
}

static int trie_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	uint64_t kmalloc_max = UINT64_C(1) << (10 + w->sim->page_shift);
	int err;

	if (m->max_entries == 0 || !(m->map_flags & KMS_F_NO_PREALLOC) ||
	    m->map_flags & ~(KMS_F_NO_PREALLOC | KMS_F_NUMA_NODE | KMS_F_RDONLY | KMS_F_WRONLY |
			     KMS_F_RDONLY_PROG | KMS_F_WRONLY_PROG) ||
	    m->key_size < LPM_KEY_SIZE_MIN || m->key_size > 4 + LPM_DATA_SIZE_MAX ||
	    m->value_size < LPM_VAL_SIZE_MIN ||
	    m->value_size > kmalloc_max - LPM_DATA_SIZE_MAX - w->p->sz.lpm_trie_node.bytes)
		return bpf_err(w, -EINVAL, "lpm_trie: BPF_F_NO_PREALLOC, key_size 5..260, "
			       "value_size > 0, max_entries > 0");
	/* 5.10 trie_alloc(): cost = sizeof(*trie) + max_entries * cost_per_node */
	err = bpf_map_charge_init(w, m, ac, w->p->sz.lpm_trie.bytes +
				  (uint64_t)m->max_entries * node_size(w, m));
	if (!err)
		err = bpf_obj_kmalloc(w, &m->obj, ac, w->p->sz.lpm_trie.bytes,
				      bpf_account(w, GFP_USER | __GFP_NOWARN | __GFP_ZERO));
	if (!err && w->p->lpm_mem_alloc)
		err = bpf_mem_alloc_init(w, m, ac, node_size(w, m), false, &m->ma);
	return err;
}

static int trie_new_node(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			 uint64_t key)
{
	struct elem_alloc a = { .nr = 1 };
	int err;

	if (m->ma) {
		uint16_t g;

		err = bpf_mem_cache_alloc(w, m, ac, m->ma, &g);
		if (err)
			return bpf_err_enomem(w, m->ma->objcg ? m->ma->objcg->memcg : NULL,
					      "lpm node (bpf_mem_alloc)");
		err = keyset_put(&m->keys, key, g);
		if (!err)
			m->count++;
		return err;
	}
	err = bpf_map_kmalloc_node(w, m, ac, node_size(w, m), w->p->elem_gfp, &a.c[0]);
	if (err)
		return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac), "lpm node");
	return bpf_elem_insert_or_free(w, m, ac, key, &a);
}

static void trie_free_node(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			   uint64_t key)
{
	uint32_t g;

	if (!keyset_del(&m->keys, key, &g))
		return;
	m->count--;
	if (m->ma)
		bpf_mem_cache_free(w, m, ac, m->ma, (uint16_t)g);
	else
		bpf_elem_release(w, m, ac, g, true);	/* kfree_rcu() */
}

static int trie_update_elem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, uint32_t flags, uint32_t obj_id)
{
	bool exists = keyset_find(&m->keys, key, NULL);
	int err = bpf_check_update_flags(w, flags, 0, exists, key);

	(void)obj_id;
	if (err)
		return err;
	if (!exists && m->count >= m->max_entries)	/* trie_update_elem(): -ENOSPC */
		return bpf_err(w, -ENOSPC, "lpm_trie full (%u entries)", m->max_entries);
	if (exists)	/* the new leaf replaces the old one, freed after RCU */
		trie_free_node(w, m, ac, key);
	return trie_new_node(w, m, ac, key);
}

static int trie_delete_elem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, bool pop)
{
	(void)pop;
	if (!keyset_find(&m->keys, key, NULL))
		return -ENOENT;
	trie_free_node(w, m, ac, key);
	return 0;
}

static int free_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;

	(void)key;
	bpf_mem_cache_free(a[0], a[2], a[1], ((struct bpf_map *)a[2])->ma, (uint16_t)val);
	return 0;
}

static void trie_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	void *a[3] = { w, (void *)ac, m };

	if (!m->ma)
		return;
	keyset_each(&m->keys, free_cb, a);
	keyset_destroy(&m->keys);
	m->count = 0;
	bpf_mem_alloc_destroy(w, m, ac, m->ma);
	m->ma = NULL;
}

/* 6.4+ trie_mem_usage(): (sizeof(node) + data_size + value_size) * n_entries */
static uint64_t trie_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return (uint64_t)node_size(w, m) * m->count;
}

const struct bpf_map_ops trie_map_ops = {
	.map_alloc = trie_alloc,
	.map_free = trie_free,
	.map_update = trie_update_elem,
	.map_delete = trie_delete_elem,
	.map_mem_usage = trie_mem_usage,
};
