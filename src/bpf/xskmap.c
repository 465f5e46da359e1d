// SPDX-License-Identifier: MIT
/* net/xdp/xskmap.c: one area of struct_size(m, xsk_map, max_entries). */
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

static uint64_t xsk_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return xsk_size(w, m);
}

const struct bpf_map_ops xsk_map_ops = {
	.map_alloc = xsk_map_alloc,
	.map_mem_usage = xsk_map_mem_usage,
};
