// SPDX-License-Identifier: MIT
/* kernel/bpf/memalloc.c (6.1 .. 6.18); see memalloc.h for the model. */
#include <errno.h>
#include <stdlib.h>

#include "bpf/memalloc.h"

/* sizeof(struct llist_node) + sizeof(void *): the holder of a per-cpu object */
#define PCPU_HOLDER_SIZE 16
#define MAX_GROUPS 0xffffu

static void book(struct kms_bpf *w, struct bpf_map *map, const struct elem_alloc *a, int64_t n)
{
	for (uint8_t k = 0; k < a->nr; k++)
		bpf_ledger_add(w, &map->obj, &a->c[k], n);
}

static int push(struct bpf_mem_cache *c, uint16_t group)
{
	if (bpf_array_reserve(&c->stack, c->free_cnt, &c->cap, sizeof(*c->stack)))
		return -ENOMEM;
	c->stack[c->free_cnt++] = group;
	return 0;
}

static void free_obj(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		     struct bpf_mem_alloc *ma, uint16_t group, bool rcu)
{
	struct elem_group *g = &ma->groups[group];

	for (uint8_t k = 0; k < g->a.nr; k++) {
		struct kmem_charge c = g->a.c[k];

		c.cpu = ac->cpu;
		bpf_ledger_add(w, &map->obj, &g->a.c[k], -1);
		if (rcu)
			call_rcu_free(w->sim, ac, &c);
		else if (c.kind == KMEM_PERCPU)
			free_percpu(w->sim, ac, &c);
		else
			kfree(w->sim, ac, &c);
	}
	g->n--;
}

/*
 * alloc_bulk() of one object into the cache of @cpu, under
 * set_active_memcg(get_memcg(c)); the allocation itself runs on ac->cpu
 * (prefill fills every CPU's cache from the creating CPU).
 */
static int alloc_one(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		     struct bpf_mem_alloc *ma, gfp_t gfp, uint32_t cpu)
{
	struct mem_cgroup *memcg = ma->objcg ? ma->objcg->memcg : w->sim->memcgs.root;
	struct mem_cgroup *old = set_active_memcg(w->sim, ac, memcg);
	struct elem_alloc a = { .nr = 1 };
	uint32_t group;
	int err;

	gfp = bpf_account(w, gfp | __GFP_NOWARN);
	if (ma->percpu) {
		err = kmalloc(w->sim, ac, PCPU_HOLDER_SIZE, gfp, &a.c[0]);
		if (!err) {
			err = alloc_percpu(w->sim, ac, ma->unit_size, 8, gfp, &a.c[1]);
			if (err)
				kfree(w->sim, ac, &a.c[0]);
			a.nr = 2;
		}
	} else {
		err = kmalloc(w->sim, ac, ma->unit_size, gfp, &a.c[0]);
	}
	set_active_memcg(w->sim, ac, old);
	if (err)
		return err;
	err = elem_group_find(&ma->groups, &ma->nr_groups, &ma->cap_groups, &a, &group);
	if (!err && group >= MAX_GROUPS)
		err = -ENOMEM;
	if (!err)
		err = push(&ma->caches[cpu], (uint16_t)group);
	if (err) {
		for (uint8_t k = a.nr; k-- > 0;)
			(a.c[k].kind == KMEM_PERCPU ? free_percpu : kfree)(w->sim, ac, &a.c[k]);
		return err;
	}
	ma->groups[group].n++;
	book(w, map, &a, 1);
	return 0;
}

/*
 * 6.x init_refill_work(): per-cpu caches low 1 high 3; unit_size <= 256:
 * low 32 high 96; larger: low max(32*256/unit, 1), high max(96*256/unit, 3);
 * batch = max((high - low) / 4 * 3, 1).
 */
static void set_watermarks(struct bpf_mem_alloc *ma)
{
	if (ma->percpu) {
		ma->low_watermark = 1;
		ma->high_watermark = 3;
	} else if (ma->unit_size <= 256) {
		ma->low_watermark = 32;
		ma->high_watermark = 96;
	} else {
		ma->low_watermark = 32 * 256 / ma->unit_size;
		ma->high_watermark = 96 * 256 / ma->unit_size;
		if (ma->low_watermark < 1)
			ma->low_watermark = 1;
		if (ma->high_watermark < 3)
			ma->high_watermark = 3;
	}
	ma->batch = (ma->high_watermark - ma->low_watermark) / 4 * 3;
	if (ma->batch < 1)
		ma->batch = 1;
}

int bpf_mem_alloc_init(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		       uint32_t size, bool percpu, struct bpf_mem_alloc **out)
{
	struct bpf_mem_alloc *ma = calloc(1, sizeof(*ma));
	uint32_t prefill;
	int err = 0;

	if (!ma)
		return -ENOMEM;
	ma->caches = calloc(nr_cpus(w), sizeof(*ma->caches));
	if (!ma->caches) {
		free(ma);
		return -ENOMEM;
	}
	ma->percpu = percpu;
	/* bpf_mem_alloc_init(): percpu objects are the value; others get an llist header */
	ma->unit_size = percpu ? size : size + 8;
	set_watermarks(ma);
	/* memcg_bpf_enabled() ? get_obj_cgroup_from_current() : NULL */
	if (w->p->scheme == ACCT_MEMCG && w->sim->cfg.bpf_memcg && ac->task && ac->task->memcg)
		ma->objcg = get_obj_cgroup_from_memcg(ac->task->memcg);
	*out = ma;
	/* prefill_mem_cache(): 4 per CPU for small non-percpu units, else 1; GFP_KERNEL */
	prefill = (!percpu && ma->unit_size <= 256) ? 4 : 1;
	for (uint32_t cpu = 0; cpu < nr_cpus(w) && !err; cpu++)
		for (uint32_t i = 0; i < prefill && !err; i++)
			err = alloc_one(w, map, ac, ma, GFP_KERNEL, cpu);
	return err;
}

uint64_t bpf_mem_alloc_cached(const struct kms_bpf *w, const struct bpf_mem_alloc *ma)
{
	uint64_t n = 0;

	for (uint32_t cpu = 0; cpu < nr_cpus(w); cpu++)
		n += ma->caches[cpu].free_cnt;
	return n;
}

void bpf_mem_alloc_destroy(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			   struct bpf_mem_alloc *ma)
{
	if (!ma)
		return;
	for (uint32_t cpu = 0; cpu < nr_cpus(w); cpu++) {
		struct bpf_mem_cache *c = &ma->caches[cpu];

		while (c->free_cnt)
			free_obj(w, map, ac, ma, c->stack[--c->free_cnt], false);
		free(c->stack);
	}
	if (ma->objcg)
		obj_cgroup_put(&w->sim->memcgs, ma->objcg);
	free(ma->groups);
	free(ma->caches);
	free(ma);
}

int bpf_mem_cache_alloc(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			struct bpf_mem_alloc *ma, uint16_t *group)
{
	struct bpf_mem_cache *c = &ma->caches[ac->cpu];

	if (c->free_cnt == 0)
		return -ENOMEM;	/* unit_alloc(): empty free list, refill failed or pending */
	*group = c->stack[--c->free_cnt];
	if (c->free_cnt < ma->low_watermark) {
		/* bpf_mem_refill() irq_work -> alloc_bulk(c, c->batch, GFP_NOWAIT) */
		for (uint32_t i = 0; i < ma->batch; i++)
			if (alloc_one(w, map, ac, ma, GFP_NOWAIT, ac->cpu))
				break;
	}
	return 0;
}

void bpf_mem_cache_free(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			struct bpf_mem_alloc *ma, uint16_t group)
{
	struct bpf_mem_cache *c = &ma->caches[ac->cpu];

	if (push(c, group)) {
		free_obj(w, map, ac, ma, group, true);	/* no room to cache it: free it */
		return;
	}
	if (c->free_cnt > ma->high_watermark) {
		/* free_bulk(): down to (low + high) / 2, freed after RCU tasks trace */
		uint32_t keep = (ma->low_watermark + ma->high_watermark) / 2;

		while (c->free_cnt > keep)
			free_obj(w, map, ac, ma, c->stack[--c->free_cnt], true);
	}
}
