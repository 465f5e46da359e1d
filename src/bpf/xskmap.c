// SPDX-License-Identifier: MIT
/* net/xdp/xskmap.c: one area of struct_size(m, xsk_map, max_entries), a node per socket. */
#include <errno.h>

#include "bpf/bpf.h"

static uint64_t xsk_size(const struct kms_bpf *w, const struct bpf_map *m)
{
	return w->p->sz.xsk_map.bytes + (uint64_t)m->max_entries * 8;
}

static int xsk_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	int err;

	if (m->max_entries == 0 || m->key_size != 4 || m->value_size != 4 ||
	    m->map_flags & ~(KMS_F_NUMA_NODE | KMS_F_RDONLY | KMS_F_WRONLY))
		return bpf_err(w, -EINVAL, "xskmap: key_size 4, value_size 4");
	/* 5.10 xsk_map_alloc(): cost = struct_size(m, xsk_map, max_entries) */
	err = bpf_map_charge_init(w, m, ac, xsk_size(w, m));
	return err ? err : bpf_map_area_alloc(w, &m->obj, ac, xsk_size(w, m), false);
}

/*
 * xsk_map_update_elem(): an AF_XDP socket in slot @key; each (map, socket)
 * pair gets an xsk_map_node, bpf_map_kzalloc(.., GFP_ATOMIC | __GFP_NOWARN)
 * in every memcg kernel (never changed to GFP_NOWAIT).
 */
static int xsk_map_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			  uint64_t key, uint32_t flags, uint32_t obj_id)
{
	struct elem_alloc a = { .nr = 1 };
	bool exists = keyset_find(&m->keys, key, NULL);
	int err = bpf_check_update_flags(w, flags, 0, exists, key);

	(void)obj_id;
	if (err)
		return err;
	if (key >= m->max_entries)
		return bpf_err(w, -E2BIG, "index %llu >= max_entries", (unsigned long long)key);
	err = bpf_map_kmalloc_node(w, m, ac, w->p->sz.xsk_map_node.bytes,
				   GFP_ATOMIC | __GFP_NOWARN | __GFP_ZERO, &a.c[0]);
	if (err)
		return bpf_err_enomem(w, bpf_map_charged_memcg(w, m, ac), "xsk_map_node");
	if (exists)
		bpf_elem_remove(w, m, ac, key);
	return bpf_elem_insert_or_free(w, m, ac, key, &a);
}

static int xsk_map_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			  uint64_t key, bool pop)
{
	(void)pop;
	if (key >= m->max_entries)
		return bpf_err(w, -EINVAL, "index out of range");
	bpf_elem_remove(w, m, ac, key);
	return 0;
}

static uint64_t xsk_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return xsk_size(w, m);
}

const struct bpf_map_ops xsk_map_ops = {
	.map_alloc = xsk_map_alloc,
	.map_update = xsk_map_update,
	.map_delete = xsk_map_delete,
	.map_mem_usage = xsk_map_mem_usage,
};
