// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/lpm_trie.c: nodes allocated per update (5.11: bpf_map_kmalloc_node,
 * GFP_ATOMIC; 6.13+: bpf_mem_alloc). A key id carries no prefix, so the model
 * assumes distinct full-length prefixes: a leaf per key plus one intermediate
 * node per key after the first (see trie_new_key()).
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

/*
 * One node: a leaf (sizeof(node) + data_size + value_size) or an
 * intermediate node (no value; 6.13+ bpf_mem_alloc has one unit size for
 * both). Its charge group goes to *@g.
 */
static int node_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
		      bool leaf, uint32_t *g)
{
	struct elem_alloc a = { .nr = 1 };
	uint16_t mg;
	int err;

	if (m->ma) {
		err = bpf_mem_cache_alloc(w, m, ac, m->ma, &mg);
		if (err)
			return bpf_err_enomem(w, m->ma->objcg ? m->ma->objcg->memcg : NULL,
					      "lpm node (bpf_mem_alloc)");
		*g = mg;
		return 0;
	}
	/* 5.11 lpm_trie_node_alloc(): bpf_map_kmalloc_node(.., GFP_ATOMIC | __GFP_NOWARN) */
	err = bpf_map_kmalloc_node(w, m, ac, node_size(w, m) - (leaf ? 0 : m->value_size),
				   w->p->elem_gfp, &a.c[0]);
	if (err)
		return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac), "lpm node");
	err = bpf_elem_group(m, &a, g);
	if (err) {
		bpf_elem_alloc_free(w, ac, &a);
		return err;
	}
	m->groups[*g].n++;
	bpf_ledger_add(w, &m->obj, &a.c[0], 1);
	return 0;
}

/*
 * @rcu: a node programs may still see (6.13+ trie_delete_elem() and the
 * replaced leaf in trie_update_elem(): bpf_mem_cache_free_rcu(); before,
 * kfree_rcu()); else one never published (bpf_mem_cache_free(), kfree())
 * or the whole trie at map free.
 */
static void node_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
		      uint32_t g, bool rcu)
{
	if (m->ma && rcu)
		bpf_mem_cache_free_rcu(w, m, ac, m->ma, (uint16_t)g);
	else if (m->ma)
		bpf_mem_cache_free(w, m, ac, m->ma, (uint16_t)g);
	else
		bpf_elem_release(w, m, ac, g, rcu);
}

/*
 * A new key. The model's trie holds distinct full-length prefixes: n leaves
 * need n - 1 intermediate nodes, so every key after the first brings one
 * (the 5.11 and 6.18 reference fills measure two nodes per insert).
 */
static int trie_new_key(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			uint64_t key)
{
	uint32_t leaf, inner = 0;
	bool have_inner = false;
	int err;

	/*
	 * 5.10..6.18 trie_update_elem(): the leaf first, then the intermediate
	 * node; on failure both are freed at once (kfree(), or back to the
	 * bpf_mem_alloc cache), never having been linked.
	 */
	err = node_alloc(w, m, ac, true, &leaf);
	if (err)
		return err;
	if (m->count) {
		err = node_alloc(w, m, ac, false, &inner);
		have_inner = !err;
	}
	if (!err)
		err = keyset_put(&m->keys, key, leaf);
	if (!err && have_inner)
		err = keyset_put(&m->storages, ++m->seq, inner);
	if (err) {
		keyset_del(&m->keys, key, NULL);
		if (have_inner)
			node_free(w, m, ac, inner, false);
		node_free(w, m, ac, leaf, false);
		return err;
	}
	m->count++;
	return 0;
}

/* Delete a key: its leaf and, while others remain, one intermediate node. */
static void trie_del_key(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			 uint64_t key)
{
	uint64_t name;
	uint32_t g;

	if (!keyset_del(&m->keys, key, &g))
		return;
	m->count--;
	node_free(w, m, ac, g, true);
	if (m->count && keyset_evict(&m->storages, &m->evict_cursor, &name, &g))
		node_free(w, m, ac, g, true);
}

static int trie_update_elem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, uint32_t flags, uint32_t obj_id)
{
	bool exists = keyset_find(&m->keys, key, NULL);
	int err;

	(void)obj_id;
	if (!w->p->lpm_mem_alloc) {
		/*
		 * Before the 6.13 LPM series (Hou Tao): BPF_NOEXIST/BPF_EXIST are not
		 * honoured and a full trie refuses even a replacement (-ENOSPC).
		 */
		if (flags > KMS_EXIST)
			return bpf_err(w, -EINVAL, "update flags 0x%x", flags);
		if (m->count >= m->max_entries)
			return bpf_err(w, -ENOSPC, "lpm_trie full (%u entries)", m->max_entries);
	}
	err = bpf_check_update_flags(w, w->p->lpm_mem_alloc ? flags : 0, 0, exists, key);
	if (err)
		return err;
	if (!exists && m->count >= m->max_entries)	/* trie_check_add_elem(): -ENOSPC */
		return bpf_err(w, -ENOSPC, "lpm_trie full (%u entries)", m->max_entries);
	if (exists) {	/* a new leaf replaces the old one, which is freed after RCU */
		uint32_t old, leaf;

		keyset_find(&m->keys, key, &old);
		err = node_alloc(w, m, ac, true, &leaf);
		if (err)
			return err;
		keyset_put(&m->keys, key, leaf);
		node_free(w, m, ac, old, true);
		return 0;
	}
	return trie_new_key(w, m, ac, key);
}

static int trie_delete_elem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, bool pop)
{
	(void)pop;
	if (!keyset_find(&m->keys, key, NULL))
		return -ENOENT;
	trie_del_key(w, m, ac, key);
	return 0;
}

static int free_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;

	(void)key;
	node_free(a[0], a[2], a[1], val, false);
	return 0;
}

/* trie_free(): every node; elements of the keyset too when they came from the cache */
static void trie_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	void *a[3] = { w, (void *)ac, m };

	keyset_each(&m->storages, free_cb, a);
	keyset_destroy(&m->storages);
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
