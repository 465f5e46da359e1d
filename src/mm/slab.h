/* SPDX-License-Identifier: MIT */
/* Internal helpers of the slab and page allocator models. */
#ifndef KMS_MM_SLAB_H
#define KMS_MM_SLAB_H

#include <stddef.h>
#include <stdint.h>

#include "mm/alloc.h"

/* KMALLOC_MAX_CACHE_SIZE: two pages. */
size_t kmalloc_max_cache_size(const struct kms_sim *sim);
/* get_order() for @size bytes. */
unsigned int kms_get_order(const struct kms_sim *sim, uint64_t size);
/* kmalloc_large(): order-N pages, kind KMEM_LARGE. */
int kmalloc_large(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, gfp_t gfp,
		  struct kmem_charge *out);
/* The object size of a kmem_cache (s->size). */
size_t kmem_cache_size(const struct kmem_cache *s);
void kmem_caches_destroy(struct kms_sim *sim);

#endif
