// SPDX-License-Identifier: MIT
/*
 * __alloc_percpu_gfp() with __GFP_ACCOUNT (mm/percpu.c pcpu_alloc(), 5.11 and
 * 6.18): the size is aligned to PCPU_MIN_ALLOC_SIZE, the obj_cgroup is
 * charged pcpu_obj_full_size(size) bytes through the obj stock (see
 * kmem_charge_bytes()), and memory.stat "percpu" moves by the same bytes.
 */
#include <errno.h>

#include "core/sim.h"
#include "core/explain.h"
#include "mm/charge.h"

/* mm/percpu-internal.h: PCPU_MIN_ALLOC_SIZE 4 (1 << PCPU_MIN_ALLOC_SHIFT) */
#define PCPU_MIN_ALLOC_SIZE 4u

/* include/linux/percpu.h: PCPU_MIN_UNIT_SIZE = PFN_ALIGN(32 << 10) */
static uint64_t pcpu_min_unit_size(const struct kms_sim *sim)
{
	uint64_t ps = sim->cfg.page_size;

	return ((32u << 10) + ps - 1) / ps * ps;
}

int alloc_percpu(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, size_t align,
		 gfp_t gfp, struct kmem_charge *out)
{
	struct mem_cgroup *memcg;
	int err;

	if (!sim || !out)
		return -EINVAL;
	*out = (struct kmem_charge){
		.kind = KMEM_PERCPU,
		.accounted = !!(gfp & __GFP_ACCOUNT),
	};
	sim_explain(sim, "alloc_percpu(%zu) on %u possible CPUs", size, sim->cfg.nr_cpus);
	err = kmem_alloc_begin(sim, ctx, gfp, &memcg);
	/* pcpu_alloc(): align >= PCPU_MIN_ALLOC_SIZE, size = ALIGN(size, PCPU_MIN_ALLOC_SIZE) */
	if (align < PCPU_MIN_ALLOC_SIZE)
		align = PCPU_MIN_ALLOC_SIZE;
	size = (size + PCPU_MIN_ALLOC_SIZE - 1) & ~(size_t)(PCPU_MIN_ALLOC_SIZE - 1);
	/* "illegal size or alignment": WARN and NULL, which callers turn into -ENOMEM */
	if (!err && (!size || size > pcpu_min_unit_size(sim) || align > sim->cfg.page_size ||
		     (align & (align - 1))))
		err = -ENOMEM;
	if (err) {
		kmem_account_failed(sim, KMEM_PERCPU);
		return err;
	}
	out->size = size;
	out->cpu = ctx->cpu;
	/* pcpu_memcg_pre_alloc_hook() / pcpu_memcg_post_alloc_hook() */
	return kmem_charge_object(sim, ctx, memcg, gfp, MEMCG_PERCPU_B, out);
}

void free_percpu(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c)
{
	if (!sim || !ctx || !c || ctx->cpu >= sim->cfg.nr_cpus)
		return;
	if (!c->live || c->kind != KMEM_PERCPU) {
		sim->mm.nr_bad_frees++;
		return;
	}
	if (c->objcg) {
		uint64_t full = kmem_charge_bytes(sim, c);

		/* pcpu_memcg_free_hook() */
		obj_cgroup_uncharge(sim, ctx->cpu, c->objcg, full);
		mod_memcg_state(c->objcg->memcg, MEMCG_PERCPU_B, -(int64_t)full);
	}
	kmem_account_free(sim, ctx, c);
	if (c->objcg)
		obj_cgroup_put(&sim->memcgs, c->objcg);
	c->objcg = NULL;
	c->live = 0;
}
