// SPDX-License-Identifier: MIT
/*
 * alloc_pages() with __GFP_ACCOUNT (mm/page_alloc.c -> __memcg_kmem_charge_page())
 * and kmalloc_large(), which is the same with __GFP_COMP: an order-N block
 * charges 2^N pages at once and moves memory.stat "kernel".
 */
#include <errno.h>

#include "core/sim.h"
#include "core/explain.h"
#include "mm/charge.h"
#include "mm/slab.h"

static int pages_alloc(struct kms_sim *sim, const struct alloc_ctx *ctx, unsigned int order,
		       gfp_t gfp, enum kmem_kind kind, struct kmem_charge *out)
{
	struct mem_cgroup *memcg;
	uint64_t nr_pages;
	int err;

	*out = (struct kmem_charge){
		.kind = kind,
		.accounted = !!(gfp & __GFP_ACCOUNT),
	};
	err = kmem_alloc_begin(sim, ctx, gfp, &memcg);
	/* orders above MAX_PAGE_ORDER: the buddy allocator returns NULL */
	if (!err && order > sim->mm.params.max_page_order)
		err = -ENOMEM;
	if (err) {
		kmem_account_failed(sim, kind);
		return err;
	}
	nr_pages = 1ull << order;
	out->size = nr_pages << sim->page_shift;
	out->cpu = ctx->cpu;
	if (memcg) {
		err = memcg_kmem_charge_pages(sim, ctx->cpu, memcg, gfp, nr_pages, out);
		if (err) {
			kmem_account_failed(sim, kind);
			return err;
		}
	}
	/*
	 * 6.18 ___kmalloc_large_node(): lruvec_stat_mod_folio(NR_SLAB_UNRECLAIMABLE_B,
	 * PAGE_SIZE << order) reaches the memcg; 5.11 kmalloc_order() moves
	 * only the node counter.
	 */
	if (kind == KMEM_LARGE && sim->mm.params.kmalloc_large_slab_stat && kmem_charge_memcg(out))
		mod_memcg_state(kmem_charge_memcg(out), NR_SLAB_UNRECLAIMABLE_B,
				(int64_t)out->size);
	out->live = 1;
	kmem_account_alloc(sim, ctx, out);
	return 0;
}

int kmalloc_large(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, gfp_t gfp,
		  struct kmem_charge *out)
{
	sim_explain(sim, "kmalloc(%zu) above the largest kmalloc cache: kmalloc_large, order %u",
		    size, kms_get_order(sim, size));
	return pages_alloc(sim, ctx, kms_get_order(sim, size), gfp, KMEM_LARGE, out);
}

int alloc_pages(struct kms_sim *sim, const struct alloc_ctx *ctx, unsigned int order, gfp_t gfp,
		struct kmem_charge *out)
{
	if (!sim || !out)
		return -EINVAL;
	sim_explain(sim, "alloc_pages(order %u): %u pages", order, 1u << order);
	return pages_alloc(sim, ctx, order, gfp, KMEM_PAGES, out);
}

void free_pages(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c)
{
	struct mem_cgroup *memcg;

	if (!sim || !ctx || !c || ctx->cpu >= sim->cfg.nr_cpus)
		return;
	if (!c->live || (c->kind != KMEM_PAGES && c->kind != KMEM_LARGE)) {
		sim->mm.nr_bad_frees++;
		return;
	}
	memcg = kmem_charge_memcg(c);
	if (c->kind == KMEM_LARGE && sim->mm.params.kmalloc_large_slab_stat && memcg)
		mod_memcg_state(memcg, NR_SLAB_UNRECLAIMABLE_B, -(int64_t)c->size);
	kmem_account_free(sim, ctx, c);
	/* __memcg_kmem_uncharge_page(): 2^order pages back through refill_stock() */
	memcg_kmem_uncharge_pages(sim, ctx->cpu, c, c->size >> sim->page_shift);
	c->live = 0;
}
