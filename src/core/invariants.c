// SPDX-License-Identifier: MIT
/*
 * kms_sim_check_invariants(): what must hold after every event, whatever the
 * trace. The root's counters give a conservation law: every page charged is
 * either backing a live object's bytes, sitting in a per-CPU stock, or parked
 * in an objcg's nr_charged_bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/sim.h"
#include "mm/ledger.h"

/* Per memcg (by id), over its subtree, dying memcgs included. */
struct memcg_sums {
	int64_t stat[MEMCG_NR_STAT];	/* memory.stat, as memcg_stat_read() gives it */
	/* bytes: live charges paid by it (after reparenting), obj and page stocks, parked */
	int64_t held;
};

struct inv {
	const struct kms_sim *sim;
	char *why;
	size_t len;
	int err;
	/* One pass, children folded into parents: checks stay linear in the cgroups. */
	struct mem_cgroup **order;	/* walk order: parents before children */
	size_t n;
	struct memcg_sums *sums;	/* NULL: out of memory, per-subtree checks skipped */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct inv *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->err && v->why && v->len) {
		va_start(ap, fmt);
		vsnprintf(v->why, v->len, fmt, ap);
		va_end(ap);
	}
	v->err = -EUCLEAN;
	return v->err;
}

static int64_t stat_read(const struct inv *v, const struct mem_cgroup *memcg,
			 enum memcg_stat_item i)
{
	return v->sums ? v->sums[memcg->id].stat[i] : memcg_stat_read(memcg, i);
}

static int check_memcg(struct mem_cgroup *memcg, void *arg)
{
	struct inv *v = arg;
	int64_t children = 0, kmem_stat;
	const char *path = memcg->path;

	if (memcg->memory.underflows || memcg->kmem.underflows)
		return fail(v, "%s: usage went below zero (%" PRIu64 " clamped uncharges)", path,
			    memcg->memory.underflows + memcg->kmem.underflows);
	if (memcg->memory.watermark < memcg->memory.usage)
		return fail(v, "%s: peak %" PRId64 " below usage %" PRId64 " pages", path,
			    memcg->memory.watermark, memcg->memory.usage);
	/* A dying memcg's own counters keep charges that were reparented away. */
	if (!memcg->online)
		return 0;
	for (struct mem_cgroup *c = memcg->children; c; c = c->sibling)
		if (c->online)
			children += c->memory.usage;
	if (memcg->memory.usage < children)
		return fail(v, "%s: usage %" PRId64 " below its online children's %" PRId64, path,
			    memcg->memory.usage, children);
	for (int i = 0; i < MEMCG_NR_STAT; i++)
		if (stat_read(v, memcg, i) < 0)
			return fail(v, "%s: memory.stat %s is negative", path,
				    memcg_stat_name(i));
	kmem_stat = stat_read(v, memcg, MEMCG_KMEM);
	if (kmem_stat != memcg->kmem.usage << v->sim->page_shift)
		return fail(v, "%s: stat kernel %" PRId64 " != kmem counter %" PRId64 " bytes",
			    path, kmem_stat, memcg->kmem.usage << v->sim->page_shift);
	return 0;
}

static void check_stocks(struct inv *v, uint64_t *obj_bytes)
{
	const struct kms_sim *sim = v->sim;
	const struct mm_params *p = &sim->mm.params;

	*obj_bytes = 0;
	for (uint32_t cpu = 0; cpu < sim->cfg.nr_cpus; cpu++) {
		const struct mm_cpu *c = &sim->mm.cpus[cpu];

		for (uint32_t i = 0; i < NR_MEMCG_STOCK_MAX; i++) {
			if (c->stock.nr_pages[i] > p->memcg_charge_batch)
				fail(v, "cpu %u: stock slot %u holds %u pages > batch %u", cpu, i,
				     c->stock.nr_pages[i], p->memcg_charge_batch);
			if (i >= p->nr_memcg_stock && c->stock.cached[i])
				fail(v, "cpu %u: stock slot %u used, kernel has %u", cpu, i,
				     p->nr_memcg_stock);
		}
		if (c->obj.cached_objcg)
			*obj_bytes += c->obj.nr_bytes;
	}
}

static void check_totals(struct inv *v, uint64_t obj_bytes)
{
	const struct kms_sim *sim = v->sim;
	const struct mem_cgroup *root = sim->memcgs.root;
	int64_t charged = 0;
	int64_t parked = (int64_t)memcg_parked_bytes(root);
	int64_t stock = (int64_t)(memcg_stock_pages(sim, NULL) << sim->page_shift);
	int64_t memory = root->memory.usage << sim->page_shift;
	int64_t kmem = root->kmem.usage << sim->page_shift;

	for (int k = 0; k < KMEM_NR_KINDS; k++) {
		const struct kmem_totals *t = &sim->mm.totals[k];

		if (t->nr_live < 0 || t->bytes < 0 || t->charged_bytes < 0 || t->unpaid_bytes < 0)
			fail(v, "kind %d: negative totals", k);
		charged += t->charged_bytes;
	}
	if (memory != charged + (int64_t)obj_bytes + parked + stock)
		fail(v, "root usage %" PRId64 " != live charges %" PRId64 " + obj stock %" PRIu64
		     " + parked %" PRId64 " + page stock %" PRId64 " bytes", memory, charged,
		     obj_bytes, parked, stock);
	/*
	 * memory.stat by kind at the root: each is the bytes charged by that
	 * allocator (slab object sizes, percpu chunks, vmalloc areas); large
	 * kmallocs count as slab where the kernel moves the memcg's stat.
	 */
	{
		const struct kmem_totals *t = sim->mm.totals;
		int64_t slab = t[KMEM_SLAB].charged_bytes +
			       (sim->mm.params.kmalloc_large_slab_stat ?
				t[KMEM_LARGE].charged_bytes : 0);
		const struct { enum memcg_stat_item item; int64_t want; } kinds[] = {
			{ NR_SLAB_UNRECLAIMABLE_B, slab },
			{ MEMCG_PERCPU_B, t[KMEM_PERCPU].charged_bytes },
			{ MEMCG_VMALLOC, t[KMEM_VMALLOC].charged_bytes },
		};

		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			int64_t got = stat_read(v, root, kinds[i].item);

			if (got != kinds[i].want)
				fail(v, "/: memory.stat %s %" PRId64 " != %" PRId64 " bytes charged "
				     "by that allocator", memcg_stat_name(kinds[i].item), got,
				     kinds[i].want);
		}
	}
	if (kmem != charged + (int64_t)obj_bytes + parked)
		fail(v, "root kmem %" PRId64 " != live charges %" PRId64 " + obj stock %" PRIu64
		     " + parked %" PRId64 " bytes", kmem, charged, obj_bytes, parked);
}

static void check_ledger(struct inv *v)
{
	const struct kms_sim *sim = v->sim;
	const struct ledger *l = &sim->mm.ledger;
	int64_t live[KMEM_NR_KINDS] = { 0 }, bytes[KMEM_NR_KINDS] = { 0 };
	int64_t charged[KMEM_NR_KINDS] = { 0 };
	const struct ledger_owner *o;

	if (!l->enabled)
		return;
	if (l->nr_orphans || l->nr_nomem) {
		fail(v, "ledger: %" PRIu64 " uncharges without a charge, %" PRIu64 " lost entries",
		     l->nr_orphans, l->nr_nomem);
		return;
	}
	for (o = l->owners; o; o = o->hh.next)
		for (const struct ledger_entry *e = o->entries; e; e = e->next) {
			live[e->kind] += e->nr_live;
			bytes[e->kind] += e->bytes;
			charged[e->kind] += e->charged_bytes;
		}
	for (int k = 0; k < KMEM_NR_KINDS; k++) {
		const struct kmem_totals *t = &sim->mm.totals[k];

		if (live[k] != t->nr_live || bytes[k] != t->bytes ||
		    charged[k] != t->charged_bytes)
			fail(v, "ledger kind %d: %" PRId64 " live, %" PRId64 " bytes, %" PRId64
			     " charged; totals %" PRId64 ", %" PRId64 ", %" PRId64, k, live[k],
			     bytes[k], charged[k], t->nr_live, t->bytes, t->charged_bytes);
	}
}

static int collect(struct mem_cgroup *memcg, void *arg)
{
	struct inv *v = arg;

	v->order[v->n++] = memcg;
	return 0;
}

static const struct mem_cgroup *payer_memcg(const struct ledger_entry *e)
{
	return e->payer_is_objcg ? ((const struct obj_cgroup *)e->payer)->memcg : e->payer;
}

/* Fill v->sums: each memcg's own numbers, then every child's added to its parent. */
static void sum_memcgs(struct inv *v)
{
	const struct kms_sim *sim = v->sim;
	const struct ledger_owner *o;
	struct memcg_sums *s;

	v->order = calloc(sim->memcgs.next_id + 1, sizeof(*v->order));
	v->sums = calloc(sim->memcgs.next_id + 1, sizeof(*v->sums));
	if (!v->order || !v->sums) {
		free(v->sums);
		v->sums = NULL;
		return;	/* a check that cannot run is not a broken invariant */
	}
	memcg_tree_walk((struct memcg_tree *)&sim->memcgs, collect, v);
	s = v->sums;
	for (size_t i = 0; i < v->n; i++) {
		const struct mem_cgroup *m = v->order[i];

		for (int k = 0; k < MEMCG_NR_STAT; k++)
			s[m->id].stat[k] = m->stat[k];
		for (const struct obj_cgroup *oc = m->objcg_list; oc; oc = oc->next)
			s[m->id].held += oc->nr_charged_bytes;
	}
	for (o = sim->mm.ledger.owners; o; o = o->hh.next)
		for (const struct ledger_entry *e = o->entries; e; e = e->next)
			if (e->charged_bytes && payer_memcg(e))
				s[payer_memcg(e)->id].held += e->charged_bytes;
	for (uint32_t cpu = 0; cpu < sim->cfg.nr_cpus; cpu++) {
		const struct mm_cpu *c = &sim->mm.cpus[cpu];

		if (c->obj.cached_objcg)
			s[c->obj.cached_objcg->memcg->id].held += c->obj.nr_bytes;
		for (uint32_t k = 0; k < NR_MEMCG_STOCK_MAX; k++)
			if (c->stock.cached[k])
				s[c->stock.cached[k]->id].held +=
					(int64_t)c->stock.nr_pages[k] << sim->page_shift;
	}
	for (size_t i = v->n; i-- > 1;) {
		const struct mem_cgroup *m = v->order[i];

		for (int k = 0; k < MEMCG_NR_STAT; k++)
			s[m->parent->id].stat[k] += s[m->id].stat[k];
		s[m->parent->id].held += s[m->id].held;
	}
}

/*
 * The conservation law per online cgroup: its counter holds every live charge
 * whose payer (after reparenting) is in its subtree, plus the page stocks,
 * obj stocks and parked bytes of that subtree. A dying memcg is skipped: its
 * own counter keeps charges whose later uncharges went to the parent.
 */
static void check_cgroup_charges(struct inv *v)
{
	for (size_t i = 0; v->sums && !v->err && i < v->n; i++) {
		const struct mem_cgroup *m = v->order[i];
		int64_t usage = m->memory.usage << v->sim->page_shift;

		if (m->online && usage != v->sums[m->id].held)
			fail(v, "%s: usage %" PRId64 " != live charges + stocks + parked %" PRId64
			     " bytes", m->path, usage, v->sums[m->id].held);
	}
}

/*
 * user_struct->locked_vm: never below zero, the sum of what BPF and the other
 * kernel users hold, at most its peak; the table's total is the sum of users.
 */
static void check_users(struct inv *v)
{
	const struct user_table *t = &v->sim->users;
	int64_t total = 0;

	for (const struct user_struct *u = t->by_uid; u; u = u->hh.next) {
		if (u->underflows || u->locked_vm < 0 || u->locked_vm_bpf < 0)
			fail(v, "uid %u: locked_vm went below zero (%" PRIu64 " clamped)", u->uid,
			     u->underflows);
		else if (u->locked_vm != u->locked_vm_bpf + u->locked_vm_other)
			fail(v, "uid %u: locked_vm %" PRId64 " != bpf %" PRId64 " + other %" PRId64
			     " pages", u->uid, u->locked_vm, u->locked_vm_bpf, u->locked_vm_other);
		else if (u->locked_vm_peak < u->locked_vm)
			fail(v, "uid %u: locked_vm peak %" PRId64 " below locked_vm %" PRId64,
			     u->uid, u->locked_vm_peak, u->locked_vm);
		total += u->locked_vm;
	}
	if (total != t->locked_vm_total)
		fail(v, "locked_vm of all uids %" PRId64 " != running total %" PRId64 " pages",
		     total, t->locked_vm_total);
}

int kms_sim_check_invariants(const struct kms_sim *sim, char *why, size_t len)
{
	struct inv v = { .sim = sim, .why = why, .len = len };
	uint64_t obj_bytes;

	if (!sim)
		return -EINVAL;
	if (why && len)
		why[0] = '\0';
	sum_memcgs(&v);
	memcg_tree_walk((struct memcg_tree *)&sim->memcgs, check_memcg, &v);
	check_stocks(&v, &obj_bytes);
	check_totals(&v, obj_bytes);
	check_ledger(&v);
	if (sim->mm.ledger.enabled)
		check_cgroup_charges(&v);
	check_users(&v);
	if (!v.err && sim->mm.nr_bad_frees)
		fail(&v, "%" PRIu64 " frees of allocations that were not live",
		     sim->mm.nr_bad_frees);
	free(v.order);
	free(v.sums);
	return v.err;
}
