// SPDX-License-Identifier: MIT
/*
 * kmalloc() and kmem_cache objects (SLUB, mm/slub.c + mm/slab_common.c,
 * include/linux/slab.h; 5.11 and 6.18). An accounted object charges its
 * obj_cgroup obj_full_size() bytes through the per-CPU obj stock and moves
 * the memcg's slab_unreclaimable by the same amount. Requests above
 * KMALLOC_MAX_CACHE_SIZE become page allocations (kmalloc_large).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim.h"
#include "core/explain.h"
#include "mm/charge.h"
#include "mm/slab.h"

/*
 * include/linux/slab.h (SLUB, 5.11 and 6.18): KMALLOC_SHIFT_HIGH =
 * PAGE_SHIFT + 1, so KMALLOC_MAX_CACHE_SIZE is two pages: 8 KiB with 4 KiB
 * pages, 32 KiB with 16 KiB, 128 KiB with 64 KiB pages.
 */
size_t kmalloc_max_cache_size(const struct kms_sim *sim)
{
	return (size_t)sim->cfg.page_size << 1;
}

/*
 * include/linux/slab.h __kmalloc_index(): KMALLOC_MIN_SIZE
 * (ARCH_KMALLOC_MINALIGN) is the smallest class; 96 exists when
 * KMALLOC_MIN_SIZE <= 32, 192 when <= 64; otherwise powers of two.
 */
static size_t kmalloc_slab_size(const struct kms_sim *sim, size_t size)
{
	size_t min = sim->mm.params.kmalloc_min_size, s;

	if (size <= min)
		return min;
	if (min <= 32 && size > 64 && size <= 96)
		return 96;
	if (min <= 64 && size > 128 && size <= 192)
		return 192;
	for (s = min; s < size; s <<= 1)
		;
	return s;
}

size_t kmalloc_size_roundup(const struct kms_sim *sim, size_t size)
{
	if (!sim || size > kmalloc_max_cache_size(sim))
		return 0;
	return size ? kmalloc_slab_size(sim, size) : 0;
}

/* get_order(): smallest order with (PAGE_SIZE << order) >= size. */
unsigned int kms_get_order(const struct kms_sim *sim, uint64_t size)
{
	unsigned int order = 0;

	while (((uint64_t)sim->cfg.page_size << order) < size)
		order++;
	return order;
}

/*
 * One object of @object_size: 6.18 __memcg_slab_post_alloc_hook() /
 * 5.11 memcg_slab_pre_alloc_hook(): obj_cgroup_charge(obj_full_size(s)),
 * then mod_objcg_state(NR_SLAB_UNRECLAIMABLE_B, obj_full_size(s)).
 */
static int slab_alloc(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t object_size,
		      gfp_t gfp, struct kmem_charge *out)
{
	struct mem_cgroup *memcg;
	int err;

	*out = (struct kmem_charge){
		.kind = KMEM_SLAB,
		.size = object_size,
		.accounted = !!(gfp & __GFP_ACCOUNT),
	};
	err = kmem_alloc_begin(sim, ctx, gfp, &memcg);
	if (err) {
		kmem_account_failed(sim, KMEM_SLAB);
		return err;
	}
	out->cpu = ctx->cpu;
	/* kmalloc(0) returns ZERO_SIZE_PTR: no object, no charge */
	return kmem_charge_object(sim, ctx, object_size ? memcg : NULL, gfp,
				  NR_SLAB_UNRECLAIMABLE_B, out);
}

static void slab_free(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c)
{
	if (c->objcg) {
		uint64_t full = kmem_charge_bytes(sim, c);

		/* __memcg_slab_free_hook(): refill_obj_stock(objcg, obj_full_size(s)) */
		obj_cgroup_uncharge(sim, ctx->cpu, c->objcg, full);
		mod_memcg_state(c->objcg->memcg, NR_SLAB_UNRECLAIMABLE_B, -(int64_t)full);
	}
	kmem_account_free(sim, ctx, c);
	if (c->objcg)
		obj_cgroup_put(&sim->memcgs, c->objcg);
	c->objcg = NULL;
	c->live = 0;
}

static bool free_args_ok(struct kms_sim *sim, const struct alloc_ctx *ctx,
			 const struct kmem_charge *c)
{
	if (!sim || !ctx || !c || ctx->cpu >= sim->cfg.nr_cpus)
		return false;
	if (!c->live) {
		sim->mm.nr_bad_frees++;
		return false;
	}
	return true;
}

int kmalloc(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, gfp_t gfp,
	    struct kmem_charge *out)
{
	if (!sim || !out)
		return -EINVAL;
	if (size > kmalloc_max_cache_size(sim))
		return kmalloc_large(sim, ctx, size, gfp, out);
	sim_explain(sim, "kmalloc(%zu) -> kmalloc%s-%zu, %s", size,
		    gfp & __GFP_ACCOUNT ? "-cg" : "", size ? kmalloc_slab_size(sim, size) : 0,
		    gfp & __GFP_ACCOUNT ? "charged object size + 8 (obj_cgroup pointer)"
					: "not accounted");
	return slab_alloc(sim, ctx, size ? kmalloc_slab_size(sim, size) : 0, gfp, out);
}

void kfree(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c)
{
	if (!free_args_ok(sim, ctx, c))
		return;
	if (c->kind == KMEM_LARGE)
		free_pages(sim, ctx, c);
	else if (c->kind == KMEM_SLAB)
		slab_free(sim, ctx, c);
	else
		sim->mm.nr_bad_frees++;
}

struct kmem_cache {
	struct kmem_cache *next;
	size_t object_size;
	size_t size;
	char name[32];
};

struct kmem_cache *kmem_cache_create(struct kms_sim *sim, const char *name, size_t size)
{
	struct kmem_cache *s;

	/* SLUB serves objects up to MAX_PAGE_ORDER slabs; far beyond any BPF object */
	if (!sim || !size || size > ((size_t)sim->cfg.page_size << sim->mm.params.max_page_order))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->object_size = size;
	/*
	 * calculate_sizes() without debug flags: the free pointer lives inside
	 * the object, which is word-aligned: s->size = ALIGN(size, sizeof(void *)).
	 */
	s->size = (size + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
	if (name)
		strncpy(s->name, name, sizeof(s->name) - 1);
	s->next = sim->caches;
	sim->caches = s;
	return s;
}

size_t kmem_cache_size(const struct kmem_cache *s)
{
	return s ? s->size : 0;
}

void kmem_caches_destroy(struct kms_sim *sim)
{
	struct kmem_cache *s = sim->caches;

	while (s) {
		struct kmem_cache *next = s->next;

		free(s);
		s = next;
	}
	sim->caches = NULL;
}

int kmem_cache_alloc(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_cache *s,
		     gfp_t gfp, struct kmem_charge *out)
{
	if (!sim || !s || !out)
		return -EINVAL;
	sim_explain(sim, "kmem_cache_alloc(%s), object %zu bytes", s->name, s->size);
	return slab_alloc(sim, ctx, s->size, gfp, out);
}

void kmem_cache_free(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c)
{
	kfree(sim, ctx, c);
}
