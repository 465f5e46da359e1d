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

static int push(struct mc_list *l, uint16_t group)
{
	if (bpf_array_reserve(&l->v, l->nr, &l->cap, sizeof(*l->v)))
		return -ENOMEM;
	l->v[l->nr++] = group;
	return 0;
}

/* A grace period started by this cache that has not ended at @now. */
static bool gp_in_flight(bool started, uint64_t end_ns, uint64_t now_ns)
{
	return started && now_ns < end_ns;
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
		err = push(&ma->caches[cpu].free_llist, (uint16_t)group);
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
		n += ma->caches[cpu].free_llist.nr + ma->caches[cpu].free_by_rcu_ttrace.nr +
		     ma->caches[cpu].free_by_rcu.nr;
	return n;
}

void bpf_mem_alloc_destroy(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			   struct bpf_mem_alloc *ma)
{
	if (!ma)
		return;
	for (uint32_t cpu = 0; cpu < nr_cpus(w); cpu++) {
		struct bpf_mem_cache *c = &ma->caches[cpu];
		struct mc_list *lists[] = { &c->free_llist, &c->free_by_rcu_ttrace,
					    &c->free_by_rcu };

		/* free_mem_alloc(): drains every list, whatever grace period is pending */
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			while (lists[i]->nr)
				free_obj(w, map, ac, ma, lists[i]->v[--lists[i]->nr], false);
			free(lists[i]->v);
		}
	}
	if (ma->objcg)
		obj_cgroup_put(&w->sim->memcgs, ma->objcg);
	free(ma->groups);
	free(ma->caches);
	free(ma);
}

/* The grace period lasts what call_rcu_free() waits (none under rcu=immediate). */
static uint64_t grace_ns(const struct kms_bpf *w)
{
	return w->sim->mm.params.rcu_immediate ? 0 : w->sim->mm.params.rcu_grace_ns;
}

/*
 * do_call_rcu_ttrace(): with no tasks-trace grace period of @c in flight,
 * everything on free_by_rcu_ttrace waits for one and is then freed;
 * otherwise it stays there (charged, reusable) for the next call.
 */
static void do_call_rcu_ttrace(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			       struct bpf_mem_alloc *ma, struct bpf_mem_cache *c)
{
	if (gp_in_flight(c->ttrace_in_progress, c->ttrace_gp_end_ns, ac->now_ns))
		return;
	while (c->free_by_rcu_ttrace.nr)
		free_obj(w, map, ac, ma, c->free_by_rcu_ttrace.v[--c->free_by_rcu_ttrace.nr], true);
	c->ttrace_in_progress = true;
	c->ttrace_gp_end_ns = ac->now_ns + grace_ns(w);
}

/*
 * check_free_by_rcu(): with no RCU grace period of @c in flight, free_by_rcu
 * goes through one (__free_by_rcu() moves it to free_by_rcu_ttrace) and then
 * through a tasks-trace one: freed two grace periods from now. Only LPM feeds
 * free_by_rcu, so the tasks-trace grace period is idle when it arrives.
 */
static void check_free_by_rcu(struct kms_bpf *w, struct bpf_map *map,
			      const struct alloc_ctx *ac, struct bpf_mem_alloc *ma,
			      struct bpf_mem_cache *c)
{
	struct alloc_ctx later = *ac;

	if (!c->free_by_rcu.nr ||
	    gp_in_flight(c->rcu_in_progress, c->rcu_gp_end_ns, ac->now_ns))
		return;
	c->rcu_in_progress = true;
	c->rcu_gp_end_ns = ac->now_ns + grace_ns(w);
	later.now_ns = c->rcu_gp_end_ns;
	while (c->free_by_rcu.nr)
		free_obj(w, map, &later, ma, c->free_by_rcu.v[--c->free_by_rcu.nr], true);
}

int bpf_mem_cache_alloc(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			struct bpf_mem_alloc *ma, uint16_t *group)
{
	struct bpf_mem_cache *c = &ma->caches[ac->cpu];

	if (c->free_llist.nr == 0)
		return -ENOMEM;	/* unit_alloc(): empty free list, refill failed or pending */
	*group = c->free_llist.v[--c->free_llist.nr];
	if (c->free_llist.nr < ma->low_watermark) {
		/*
		 * bpf_mem_refill() irq_work -> alloc_bulk(c, c->batch, GFP_NOWAIT):
		 * objects on free_by_rcu_ttrace first (no new charge), then new ones
		 */
		uint32_t i = 0;

		for (; i < ma->batch && c->free_by_rcu_ttrace.nr; i++)
			push(&c->free_llist, c->free_by_rcu_ttrace.v[--c->free_by_rcu_ttrace.nr]);
		for (; i < ma->batch; i++)
			if (alloc_one(w, map, ac, ma, GFP_NOWAIT, ac->cpu))
				break;
		check_free_by_rcu(w, map, ac, ma, c);
	}
	return 0;
}

void bpf_mem_cache_free(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			struct bpf_mem_alloc *ma, uint16_t group)
{
	struct bpf_mem_cache *c = &ma->caches[ac->cpu];
	uint32_t keep = (ma->low_watermark + ma->high_watermark) / 2;

	if (push(&c->free_llist, group)) {
		free_obj(w, map, ac, ma, group, true);	/* no room to cache it: free it */
		return;
	}
	if (c->free_llist.nr <= ma->high_watermark)
		return;
	/* irq_work -> free_bulk(): down to (low + high) / 2, then do_call_rcu_ttrace() */
	while (c->free_llist.nr > keep) {
		uint16_t g = c->free_llist.v[--c->free_llist.nr];

		if (push(&c->free_by_rcu_ttrace, g))
			free_obj(w, map, ac, ma, g, true);
	}
	do_call_rcu_ttrace(w, map, ac, ma, c);
	check_free_by_rcu(w, map, ac, ma, c);
}

void bpf_mem_cache_free_rcu(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			    struct bpf_mem_alloc *ma, uint16_t group)
{
	struct bpf_mem_cache *c = &ma->caches[ac->cpu];

	/* unit_free_rcu(): onto free_by_rcu; irq_work only with no RCU GP in flight */
	if (push(&c->free_by_rcu, group)) {
		free_obj(w, map, ac, ma, group, true);
		return;
	}
	check_free_by_rcu(w, map, ac, ma, c);
}
