// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/ringbuf.c: the map struct, a page-pointer array and
 * 3 meta pages + data pages (alloc_pages, GFP_KERNEL_ACCOUNT); the vmap that
 * maps the data pages twice is not charged. user_ringbuf (6.1+) allocates
 * through the same ringbuf_map_alloc().
 */
#include <errno.h>

#include "bpf/bpf.h"

#define RINGBUF_NR_META_PAGES 3	/* RINGBUF_PGOFF (1) + RINGBUF_POS_PAGES (2) */

static int ringbuf_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	uint64_t ps = page_size(w), data_pages, nr_pages, array_size;
	gfp_t gfp = bpf_account(w, GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN | __GFP_ZERO);
	int err;

	/* ringbuf_map_alloc(): power-of-2 multiple of PAGE_SIZE, key/value 0 */
	if (m->map_flags & ~(KMS_F_NUMA_NODE) || m->key_size || m->value_size ||
	    !m->max_entries || (m->max_entries & (m->max_entries - 1)) ||
	    m->max_entries % ps)
		return bpf_err(w, -EINVAL, "ringbuf max_entries %u must be a power-of-2 multiple "
			       "of the page size, key/value 0", m->max_entries);
	/* 5.10: cost = sizeof(bpf_ringbuf_map) + sizeof(bpf_ringbuf) + max_entries */
	err = bpf_map_charge_init(w, m, ac, (uint64_t)sz->bpf_ringbuf_map.bytes +
				  sz->bpf_ringbuf.bytes + m->max_entries);
	if (err)
		return err;
	data_pages = m->max_entries / ps;
	nr_pages = RINGBUF_NR_META_PAGES + data_pages;
	m->aux = (uint32_t)data_pages;
	err = bpf_obj_kmalloc(w, &m->obj, ac, sz->bpf_ringbuf_map.bytes,
			      bpf_account(w, GFP_USER | __GFP_ZERO));
	if (err)
		return err;
	/* bpf_ringbuf_area_alloc(): pages array, the data pages mapped twice */
	array_size = (RINGBUF_NR_META_PAGES + 2 * data_pages) * 8;
	if (array_size > ps)
		err = bpf_obj_vmalloc(w, &m->obj, ac, array_size, gfp);
	else
		err = bpf_obj_kmalloc(w, &m->obj, ac, array_size, gfp);
	return err ? err : bpf_obj_alloc_pages(w, &m->obj, ac, 0, gfp, nr_pages);
}

/* 6.4+ ringbuf_map_mem_usage(): struct + nr_pages pages + the pages array */
static uint64_t ringbuf_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	uint64_t data_pages = m->aux;

	return w->p->sz.bpf_ringbuf_map.bytes +
	       (RINGBUF_NR_META_PAGES + data_pages) * page_size(w) +
	       (RINGBUF_NR_META_PAGES + 2 * data_pages) * 8;
}

const struct bpf_map_ops ringbuf_map_ops = {
	.map_alloc = ringbuf_map_alloc,
	.map_mem_usage = ringbuf_map_mem_usage,
};
