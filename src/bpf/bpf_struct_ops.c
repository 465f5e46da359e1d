// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/bpf_struct_ops.c: the map, the user value and the prog/link
 * pointer array; the trampoline image page is not accounted. The kernel
 * struct is named by BTF; the trace gives its value size (attr value_size)
 * and number of members (attr struct_ops_nr_funcs).
 */
#include <errno.h>

#include "bpf/bpf.h"

static uint64_t st_map_size(const struct kms_bpf *w, const struct bpf_map *m)
{
	/* sizeof(*st_map) + vt->size - sizeof(struct bpf_struct_ops_value) */
	return w->p->sz.bpf_struct_ops_map.bytes + m->value_size -
	       w->p->sz.bpf_struct_ops_value.bytes;
}

static int bpf_struct_ops_map_alloc(struct kms_bpf *w, struct bpf_map *m,
				    const struct alloc_ctx *ac)
{
	uint64_t vlen = m->aux;
	int err;

	if (m->key_size != 4 || m->max_entries != 1 ||
	    m->value_size < w->p->sz.bpf_struct_ops_value.bytes)
		return bpf_err(w, -EINVAL, "struct_ops: key_size 4, max_entries 1, a value type");
	/* 5.10: cost = st_map_size + sizeof(vt->size) (a u32: upstream quirk) + vlen * 8 */
	err = bpf_map_charge_init(w, m, ac, st_map_size(w, m) + 4 + vlen * 8);
	if (!err)
		err = bpf_map_area_alloc(w, &m->obj, ac, st_map_size(w, m), false);
	if (!err)	/* st_map->uvalue */
		err = bpf_map_area_alloc(w, &m->obj, ac, m->value_size, false);
	if (!err && vlen)	/* st_map->links / progs */
		err = bpf_map_area_alloc(w, &m->obj, ac, vlen * 8, false);
	return err;
}

/* 6.4+ bpf_struct_ops_map_mem_usage(): st_map + uvalue + links + one image page */
static uint64_t bpf_struct_ops_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return st_map_size(w, m) + m->value_size + (uint64_t)m->aux * 8 + page_size(w);
}

const struct bpf_map_ops struct_ops_map_ops = {
	.map_alloc = bpf_struct_ops_map_alloc,
	.map_mem_usage = bpf_struct_ops_map_mem_usage,
};
