// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/arena.c (6.9+): the map is a struct bpf_arena from
 * bpf_map_area_alloc() (__GFP_ACCOUNT, the creator pays); the kernel VM area
 * (get_vm_area(), unaccounted), the range tree's first node (from
 * bpf_global_ma, whose caches charge no cgroup) and the pages a program
 * faults in later are not charged to the creator here. Element operations
 * are not supported by the kernel (EOPNOTSUPP).
 */
#include <errno.h>

#include "bpf/bpf.h"

#define BPF_F_SEGV_ON_FAULT (1u << 17)
#define BPF_F_NO_USER_CONV (1u << 18)
#define SZ_4G (UINT64_C(1) << 32)

/* 6.18 arena_map_alloc() */
static int arena_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	uint64_t vm_range = (uint64_t)m->max_entries * page_size(w);

	if (m->key_size || m->value_size || !m->max_entries || !(m->map_flags & KMS_F_MMAPABLE) ||
	    m->map_flags & ~(BPF_F_SEGV_ON_FAULT | KMS_F_MMAPABLE | BPF_F_NO_USER_CONV))
		return bpf_err(w, -EINVAL, "arena: key/value 0, max_entries pages, "
			       "BPF_F_MMAPABLE required");
	if (m->map_extra % page_size(w))
		return bpf_err(w, -EINVAL, "arena: map_extra not page aligned");
	if (vm_range > SZ_4G)
		return bpf_err(w, -E2BIG, "arena: %u pages > 4 GiB", m->max_entries);
	if (m->map_extra >> 32 != (m->map_extra + vm_range - 1) >> 32)
		return bpf_err(w, -ERANGE, "arena: user range crosses a 4 GiB boundary");
	return bpf_map_area_alloc(w, &m->obj, ac, w->p->sz.bpf_arena.bytes, false);
}

/* arena_map_mem_usage(): 0 */
static uint64_t arena_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	(void)w;
	(void)m;
	return 0;
}

const struct bpf_map_ops arena_map_ops = {
	.map_alloc = arena_map_alloc,
	.map_mem_usage = arena_map_mem_usage,
};
