// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/btf.c btf_parse(): BPF_BTF_LOAD copies the BTF blob and builds
 * its type tables with GFP_KERNEL | __GFP_NOWARN allocations, never
 * accounted in any modelled kernel (still true in 2025-2026 trees), and never
 * charged to RLIMIT_MEMLOCK. The model keeps the blob (kvmalloc: kmalloc,
 * vmalloc if that fails) so reports can show it as memory nobody pays for.
 */
#include <errno.h>

#include "bpf/bpf.h"

#define BTF_MAX_SIZE (16u * 1024 * 1024)

int btf_parse(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_btf *btf, uint32_t size)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;
	int err;

	if (size == 0 || size > BTF_MAX_SIZE)
		return bpf_err(w, -E2BIG, "btf size %u not in 1..16 MiB", size);
	btf->size = size;
	err = bpf_obj_kmalloc(w, &btf->obj, ac, size, gfp);
	if (err == -ENOMEM && size > 8192)
		err = bpf_obj_vmalloc(w, &btf->obj, ac, size, gfp);
	return err ? bpf_err(w, err, "btf allocation failed") : 0;
}
