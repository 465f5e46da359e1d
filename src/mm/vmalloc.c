// SPDX-License-Identifier: MIT
/*
 * __vmalloc_node() with __GFP_ACCOUNT (mm/vmalloc.c __vmalloc_area_node(),
 * 5.11 and 6.18): every data page is charged on its own (one order-0
 * __memcg_kmem_charge_page() each; the bulk allocator declines accounted
 * requests), the guard page is virtual and never charged, and the
 * page-pointer array is allocated with nested_gfp = (gfp & GFP_RECLAIM_MASK)
 * | __GFP_ZERO, which drops __GFP_ACCOUNT: it is never charged (both trees).
 * 6.18 moves memory.stat "vmalloc" (MEMCG_VMALLOC) by the area's pages.
 */
#include <errno.h>

#include "core/sim.h"
#include "core/explain.h"
#include "mm/charge.h"

/* kmem_charge.size is 43 bits: nothing bigger can be described. */
#define VMALLOC_MAX_BYTES ((1ull << 43) - (1ull << 16))

int vmalloc(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, gfp_t gfp,
	    struct kmem_charge *out)
{
	struct mem_cgroup *memcg;
	uint64_t nr_pages;
	int err;

	if (!sim || !out)
		return -EINVAL;
	*out = (struct kmem_charge){
		.kind = KMEM_VMALLOC,
		.accounted = !!(gfp & __GFP_ACCOUNT),
	};
	sim_explain(sim, "vmalloc(%zu): %zu pages, each charged; guard page and page array free",
		    size, (size + sim->cfg.page_size - 1) / sim->cfg.page_size);
	err = kmem_alloc_begin(sim, ctx, gfp, &memcg);
	/* __vmalloc_node_range(): "if (!size || ...) goto fail" -> NULL */
	if (!err && (!size || size > VMALLOC_MAX_BYTES))
		err = -ENOMEM;
	if (err) {
		kmem_account_failed(sim, KMEM_VMALLOC);
		return err;
	}
	/* nr_small_pages = PAGE_ALIGN(size) >> PAGE_SHIFT */
	nr_pages = (size + sim->cfg.page_size - 1) >> sim->page_shift;
	out->size = nr_pages << sim->page_shift;
	out->cpu = ctx->cpu;
	if (memcg) {
		err = memcg_kmem_charge_pages(sim, ctx->cpu, memcg, gfp, nr_pages, out);
		if (err) {
			kmem_account_failed(sim, KMEM_VMALLOC);
			return err;
		}
		if (kmem_charge_memcg(out))
			mod_memcg_state(kmem_charge_memcg(out), MEMCG_VMALLOC, (int64_t)out->size);
	}
	out->live = 1;
	kmem_account_alloc(sim, ctx, out);
	return 0;
}

void vfree(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c)
{
	struct mem_cgroup *memcg;

	if (!sim || !ctx || !c || ctx->cpu >= sim->cfg.nr_cpus)
		return;
	if (!c->live || c->kind != KMEM_VMALLOC) {
		sim->mm.nr_bad_frees++;
		return;
	}
	memcg = kmem_charge_memcg(c);
	if (memcg)
		mod_memcg_state(memcg, MEMCG_VMALLOC, -(int64_t)c->size);
	kmem_account_free(sim, ctx, c);
	memcg_kmem_uncharge_pages(sim, ctx->cpu, c, c->size >> sim->page_shift);
	c->live = 0;
}
