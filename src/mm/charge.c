// SPDX-License-Identifier: MIT
/*
 * The charge half of mm/memcontrol.c (Linux 5.11 and 6.18, differences in
 * struct mm_params): who pays, try_charge_memcg() with the per-CPU page
 * stock, obj_cgroup byte charges with the per-CPU object stock, kmem page
 * charges, and drain_all_stock(). Every CPU number comes from the caller, so
 * the result is the same in every run.
 *
 * What the model cannot do is reclaim: everything it charges is kernel
 * memory, which memcg reclaim does not free. Where the kernel would reclaim,
 * the model frees nothing; where it would OOM-kill, the model raises
 * MEMCG_OOM and fails the charge with -ENOMEM (there is no process to kill).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/sim.h"
#include "core/explain.h"
#include "mm/charge.h"

/* mm/internal.h (5.11, 6.18): MAX_RECLAIM_RETRIES 16 */
#define MAX_RECLAIM_RETRIES 16
/* include/linux/mmzone.h: PAGE_ALLOC_COSTLY_ORDER 3 */
#define PAGE_ALLOC_COSTLY_ORDER 3

static inline uint64_t sim_page_size(const struct kms_sim *sim)
{
	return sim->cfg.page_size;
}

int mm_state_init(struct mm_state *mm, const struct kms_config *cfg)
{
	*mm = (struct mm_state){ 0 };
	mm->rcu.first_due_ns = UINT64_MAX;
	mm_params_init(&mm->params);
	mm->cpus = calloc(cfg->nr_cpus, sizeof(*mm->cpus));
	if (!mm->cpus)
		return -ENOMEM;
	ledger_init(&mm->ledger);
	return 0;
}

void mm_state_destroy(struct kms_sim *sim)
{
	struct mm_state *mm = &sim->mm;

	/*
	 * Stocks and queued frees only hold references into the memcg tree,
	 * which is freed whole after this; nothing needs uncharging.
	 */
	free(mm->cpus);
	mm->cpus = NULL;
	free(mm->rcu.items);
	mm->rcu.items = NULL;
	ledger_destroy(&mm->ledger, NULL);
}

/* ---- who pays ---------------------------------------------------------- */

/*
 * The charge target rule: 5.11 memcg_kmem_bypass() + get_mem_cgroup_from_current(),
 * 6.18 current_obj_cgroup(). An active memcg (set_active_memcg()) is charged
 * from any context; otherwise interrupt context, kernel threads and tasks
 * without an mm are not charged; otherwise the task's memcg.
 */
static struct mem_cgroup *current_memcg(struct kms_sim *sim, const struct alloc_ctx *ctx)
{
	struct mm_cpu *cpu = &sim->mm.cpus[ctx->cpu];
	struct mem_cgroup *active;

	if (ctx->ctx != CTX_TASK) {
		/* before 5.10 (4127c6504f25) in_interrupt() always bypassed */
		if (!sim->mm.params.irq_charge_active_memcg)
			return NULL;
		/* 5.11 active_memcg() / 6.18: this_cpu_read(int_active_memcg) */
		return cpu->int_active_memcg;
	}
	active = ctx->task ? ctx->task->active_memcg : cpu->kthread_active_memcg;
	if (active)
		return active;
	/* "Memcg to charge can't be determined." */
	if (!ctx->task || ctx->task->kthread || !ctx->task->has_mm)
		return NULL;
	return ctx->task->memcg;
}

struct mem_cgroup *set_active_memcg(struct kms_sim *sim, const struct alloc_ctx *ctx,
				    struct mem_cgroup *memcg)
{
	struct mem_cgroup **slot, *old;

	if (!sim || !ctx || ctx->cpu >= sim->cfg.nr_cpus)
		return NULL;
	/* include/linux/sched/mm.h set_active_memcg(): !in_task() -> int_active_memcg */
	if (ctx->ctx != CTX_TASK)
		slot = &sim->mm.cpus[ctx->cpu].int_active_memcg;
	else if (ctx->task)
		slot = &ctx->task->active_memcg;
	else
		slot = &sim->mm.cpus[ctx->cpu].kthread_active_memcg;
	old = *slot;
	*slot = memcg;
	return old;
}

static bool fault_should_fail(struct fault_inject *f, const struct alloc_ctx *ctx)
{
	f->nr_calls++;
	if ((f->fail_nth && f->nr_calls == f->fail_nth) ||
	    (f->fail_irq && ctx->ctx != CTX_TASK)) {
		f->nr_injected++;
		return true;
	}
	return false;
}

int kmem_alloc_begin(struct kms_sim *sim, const struct alloc_ctx *ctx, gfp_t gfp,
		     struct mem_cgroup **memcg)
{
	*memcg = NULL;
	if (!ctx || ctx->cpu >= sim->cfg.nr_cpus || ctx->ctx > CTX_NMI)
		return -EINVAL;
	if (ctx->now_ns > sim->mm.now_ns)
		sim->mm.now_ns = ctx->now_ns;
	if (fault_should_fail(&sim->mm.fault, ctx))
		return -ENOMEM;
	if (ctx->ctx == CTX_NMI) {
		if (sim->mm.params.nmi_rule == MEMCG_NMI_FORBIDDEN)
			return -EINVAL;
		/* 6.18 current_obj_cgroup(): CONFIG_MEMCG_NMI_UNSAFE && in_nmi() -> NULL */
		if (sim->mm.params.nmi_rule == MEMCG_NMI_UNCHARGED)
			return 0;
	}
	/* memcg_kmem_online() (nokmem, !CONFIG_MEMCG) and __GFP_ACCOUNT gate every hook */
	if (!(gfp & __GFP_ACCOUNT) || !sim->cfg.memcg || !sim->cfg.kmem) {
		sim_explain(sim, "  not charged: %s", !(gfp & __GFP_ACCOUNT) ? "no __GFP_ACCOUNT" :
			    !sim->cfg.memcg ? "CONFIG_MEMCG off" : "cgroup.memory=nokmem");
		return 0;
	}
	*memcg = current_memcg(sim, ctx);
	if (!*memcg)
		sim_explain(sim, "  not charged: %s", ctx->ctx != CTX_TASK ?
			    "interrupt context without an active memcg" :
			    "kernel thread or task without mm");
	else if (mem_cgroup_is_root(*memcg))
		sim_explain(sim, "  charged to the root cgroup: nobody pays");
	else
		sim_explain(sim, "  pays: %s (%s)", (*memcg)->path,
			    ctx->ctx != CTX_TASK ? "int_active_memcg" :
			    (ctx->task && ctx->task->active_memcg) ? "active memcg" : "current task");
	return 0;
}

/* ---- page counters and stats ------------------------------------------- */

/*
 * memcg_uncharge(). The kernel skips the root (6.18 drain_obj_stock(),
 * obj_cgroup_uncharge_pages()), whose counter it never reports; the model
 * uncharges it too so that the root's counter stays the exact sum below it.
 */
static void memcg_uncharge(struct mem_cgroup *memcg, uint64_t nr_pages)
{
	page_counter_uncharge(&memcg->memory, (int64_t)nr_pages);
}

/* 6.18 account_kmem_nmi_safe() + memcg1_account_kmem(); 5.11 the kmem counter only. */
static void memcg_account_kmem(struct kms_sim *sim, struct mem_cgroup *memcg, int64_t nr_pages)
{
	mod_memcg_state(memcg, MEMCG_KMEM, nr_pages * (int64_t)sim_page_size(sim));
	if (nr_pages > 0)
		page_counter_charge(&memcg->kmem, nr_pages);
	else
		page_counter_uncharge(&memcg->kmem, -nr_pages);
}

/* ---- page stock ------------------------------------------------------- */

static uint32_t nr_stock(const struct kms_sim *sim)
{
	return sim->mm.params.nr_memcg_stock;
}

/* drain_stock(): give one slot's pages back and drop its css reference. */
static void drain_stock(struct kms_sim *sim, struct memcg_stock_pcp *stock, uint32_t i)
{
	struct mem_cgroup *old = stock->cached[i];

	if (!old)
		return;
	if (stock->nr_pages[i]) {
		memcg_uncharge(old, stock->nr_pages[i]);
		stock->nr_pages[i] = 0;
	}
	stock->cached[i] = NULL;
	mem_cgroup_put(&sim->memcgs, old);
}

static void drain_stock_fully(struct kms_sim *sim, struct memcg_stock_pcp *stock)
{
	for (uint32_t i = 0; i < NR_MEMCG_STOCK_MAX; i++)
		drain_stock(sim, stock, i);
}

static int stock_slot(const struct kms_sim *sim, const struct memcg_stock_pcp *stock,
		      const struct mem_cgroup *memcg)
{
	for (uint32_t i = 0; i < nr_stock(sim); i++)
		if (stock->cached[i] == memcg)
			return (int)i;
	return -1;
}

/* consume_stock(): 5.11 and 6.18 alike, per slot. */
static bool consume_stock(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
			  uint64_t nr_pages)
{
	struct memcg_stock_pcp *stock = &sim->mm.cpus[cpu].stock;
	int i;

	if (nr_pages > sim->mm.params.memcg_charge_batch)
		return false;
	i = stock_slot(sim, stock, memcg);
	if (i < 0 || stock->nr_pages[i] < nr_pages)
		return false;
	stock->nr_pages[i] -= (uint32_t)nr_pages;
	return true;
}

/*
 * refill_stock(): 5.11 keeps one memcg per CPU and drains the old one on a
 * switch; 6.16+ keeps NR_MEMCG_STOCK and evicts a random slot when all are
 * taken; the model evicts round-robin (deterministic). More than a batch in
 * a slot drains it.
 */
static void refill_stock(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
			 uint64_t nr_pages)
{
	struct memcg_stock_pcp *stock = &sim->mm.cpus[cpu].stock;
	uint32_t batch = sim->mm.params.memcg_charge_batch;
	int i, empty = -1;

	if (!nr_pages)
		return;
	/* 6.18 refill_stock(): VM_WARN_ON_ONCE(root); model: uncharge at once */
	if (mem_cgroup_is_root(memcg) ||
	    (sim->mm.params.refill_large_direct && nr_pages > batch)) {
		memcg_uncharge(memcg, nr_pages);
		return;
	}
	i = stock_slot(sim, stock, memcg);
	if (i < 0) {
		for (uint32_t j = 0; j < nr_stock(sim); j++) {
			if (!stock->cached[j]) {
				empty = (int)j;
				break;
			}
		}
		i = empty;
		if (i < 0) {
			i = stock->next_evict;
			stock->next_evict = (uint8_t)((stock->next_evict + 1) % nr_stock(sim));
			drain_stock(sim, stock, (uint32_t)i);
		}
		mem_cgroup_get(memcg);
		stock->cached[i] = memcg;
		stock->nr_pages[i] = 0;
	}
	stock->nr_pages[i] += (uint32_t)nr_pages;
	if (stock->nr_pages[i] > batch)
		drain_stock(sim, stock, (uint32_t)i);
}

/*
 * @nr_pages single-page uncharges (vfree: one __memcg_kmem_uncharge_page()
 * per page), each a refill_stock(1); O(nr_pages / batch).
 */
static void refill_stock_each(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
			      uint64_t nr_pages)
{
	struct memcg_stock_pcp *stock = &sim->mm.cpus[cpu].stock;
	uint32_t batch = sim->mm.params.memcg_charge_batch;

	if (mem_cgroup_is_root(memcg)) {
		memcg_uncharge(memcg, nr_pages);
		return;
	}
	while (nr_pages) {
		int i;
		uint64_t take;

		refill_stock(sim, cpu, memcg, 1);
		nr_pages--;
		i = stock_slot(sim, stock, memcg);
		if (i < 0)
			continue;
		/* Refills that keep the slot at or below the batch change nothing else. */
		take = batch - stock->nr_pages[i];
		if (take > nr_pages)
			take = nr_pages;
		stock->nr_pages[i] += (uint32_t)take;
		nr_pages -= take;
	}
}

static bool is_memcg_drain_needed(struct kms_sim *sim, struct memcg_stock_pcp *stock,
				  struct mem_cgroup *root)
{
	for (uint32_t i = 0; i < NR_MEMCG_STOCK_MAX; i++)
		if (stock->cached[i] && stock->nr_pages[i] &&
		    (!root || mem_cgroup_is_descendant(stock->cached[i], root)))
			return true;
	(void)sim;
	return false;
}

static void drain_obj_stock(struct kms_sim *sim, uint32_t cpu);

static bool obj_stock_flush_required(struct obj_stock_pcp *stock, struct mem_cgroup *root)
{
	return stock->cached_objcg &&
	       (!root || mem_cgroup_is_descendant(stock->cached_objcg->memcg, root));
}

/*
 * drain_all_stock(root_memcg): every CPU whose stocks hold charges of
 * @root's subtree. The kernel drains other CPUs from a work item; the model
 * drains them at once, in CPU order.
 */
void drain_all_stock_memcg(struct kms_sim *sim, struct mem_cgroup *root)
{
	for (uint32_t cpu = 0; cpu < sim->cfg.nr_cpus; cpu++) {
		struct mm_cpu *c = &sim->mm.cpus[cpu];
		bool page = is_memcg_drain_needed(sim, &c->stock, root);
		bool obj = obj_stock_flush_required(&c->obj, root);

		if (sim->mm.params.separate_obj_stock) {
			/* 6.18: drain_local_memcg_stock() and drain_local_obj_stock() */
			if (page)
				drain_stock_fully(sim, &c->stock);
			if (obj)
				drain_obj_stock(sim, cpu);
		} else if (page || obj) {
			/* 5.11 drain_local_stock(): obj stock first, then the page stock */
			drain_obj_stock(sim, cpu);
			drain_stock_fully(sim, &c->stock);
		}
	}
}

void drain_all_stock(struct kms_sim *sim)
{
	if (sim)
		drain_all_stock_memcg(sim, NULL);
}

uint64_t memcg_stock_pages(const struct kms_sim *sim, const struct mem_cgroup *memcg)
{
	uint64_t n = 0;

	for (uint32_t cpu = 0; cpu < sim->cfg.nr_cpus; cpu++) {
		const struct memcg_stock_pcp *stock = &sim->mm.cpus[cpu].stock;

		for (uint32_t i = 0; i < NR_MEMCG_STOCK_MAX; i++)
			if (stock->cached[i] && (!memcg ||
			    mem_cgroup_is_descendant(stock->cached[i], memcg)))
				n += stock->nr_pages[i];
	}
	return n;
}

/* ---- try_charge_memcg --------------------------------------------------- */

static unsigned int get_order_pages(uint64_t nr_pages)
{
	unsigned int order = 0;

	while ((1ull << order) < nr_pages)
		order++;
	return order;
}

/* 6.18 mem_cgroup_margin(): room below memory.max at that level. */
static uint64_t mem_cgroup_margin(const struct mem_cgroup *memcg)
{
	int64_t count = memcg->memory.usage, limit = memcg->memory.max;

	return count < limit ? (uint64_t)(limit - count) : 0;
}

static struct mem_cgroup *memcg_from_counter(struct page_counter *counter)
{
	return (struct mem_cgroup *)((char *)counter - offsetof(struct mem_cgroup, memory));
}

/*
 * After a successful charge: every level above memory.high would be
 * reclaimed on return to user space (reclaim_high(), one MEMCG_HIGH event
 * per level above high). The kernel raises the events later and from the
 * task's own memcg; the model raises them at charge time on the charged path.
 */
static void memcg_high_check(struct mem_cgroup *memcg)
{
	for (; memcg && !mem_cgroup_is_root(memcg); memcg = memcg->parent)
		if (memcg->memory.usage > memcg->memory.high)
			memcg_memory_event(memcg, MEMCG_HIGH);
}

/*
 * 5.11 try_charge() / 6.18 try_charge_memcg(). The root check of the
 * kernel's try_charge() wrapper is the callers' (objcg NULL for the root);
 * an objcg reparented to the root charges the root's counter as 6.18 does.
 */
/* --explain: every level a charge walks, with its usage and limit after the charge. */
static void explain_levels(struct kms_sim *sim, const char *what, struct mem_cgroup *memcg,
			   uint64_t nr_pages)
{
	char line[512];
	size_t n = 0;

	/* the walk formats every level: only when someone reads it (off: one branch) */
	if (!sim->explain.on)
		return;
	for (struct mem_cgroup *m = memcg; m && n < sizeof(line) - 64; m = m->parent) {
		if (m->memory.max >= PAGE_COUNTER_MAX)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s %s %lld/max",
					      n ? "," : "", m->path, (long long)m->memory.usage);
		else
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s %s %lld/%lld",
					      n ? "," : "", m->path, (long long)m->memory.usage,
					      (long long)m->memory.max);
	}
	sim_explain(sim, "  page_counter %s %llu pages:%s", what, (unsigned long long)nr_pages,
		    line);
}

static int try_charge_memcg(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
			    gfp_t gfp, uint64_t nr_pages)
{
	const struct mm_params *p = &sim->mm.params;
	uint64_t batch = nr_pages > p->memcg_charge_batch ? nr_pages : p->memcg_charge_batch;
	int nr_retries = MAX_RECLAIM_RETRIES;
	struct mem_cgroup *mem_over_limit;
	struct page_counter *counter;
	bool drained = false, raised_max_event = false;

retry:
	if (consume_stock(sim, cpu, memcg, nr_pages)) {
		sim_explain(sim, "  page stock of CPU %u pays %llu pages for %s", cpu,
			    (unsigned long long)nr_pages, memcg->path);
		return 0;
	}
	if (page_counter_try_charge(&memcg->memory, (int64_t)batch, &counter)) {
		explain_levels(sim, batch > nr_pages ? "charged (batch)" : "charged", memcg, batch);
		goto done_restock;
	}
	mem_over_limit = memcg_from_counter(counter);
	sim_explain(sim, "  page_counter refused %llu pages at %s: usage %lld + %llu > max %lld, "
		    "failcnt %llu", (unsigned long long)batch, mem_over_limit->path,
		    (long long)mem_over_limit->memory.usage, (unsigned long long)batch,
		    (long long)mem_over_limit->memory.max,
		    (unsigned long long)mem_over_limit->memory.failcnt);
	sim->mm.last_fail = (struct charge_fail){
		.usage = mem_over_limit->memory.usage,
		.max = mem_over_limit->memory.max,
		.nr_pages = nr_pages,
		.failcnt = mem_over_limit->memory.failcnt,
		.seq = ++sim->mm.nr_fail,
	};
	snprintf(sim->mm.last_fail.path, sizeof(sim->mm.last_fail.path), "%s",
		 mem_over_limit->path);

	/* A batch that would cross max is retried with the exact amount. */
	if (batch > nr_pages) {
		batch = nr_pages;
		goto retry;
	}
	/* 5.9..6.2: "if (gfp_mask & __GFP_ATOMIC) goto force;" */
	if (p->force_rule == MEMCG_FORCE_GFP_ATOMIC && (gfp & __GFP_ATOMIC))
		goto force;
	/* gfpflags_allow_blocking(): GFP_NOWAIT/GFP_ATOMIC fail here, no drain */
	if (!(gfp & __GFP_DIRECT_RECLAIM))
		goto nomem;

	memcg_memory_event(mem_over_limit, MEMCG_MAX);
	raised_max_event = true;
	/* try_to_free_mem_cgroup_pages(): kernel memory is not reclaimable */
	if (mem_cgroup_margin(mem_over_limit) >= nr_pages)
		goto retry;
	if (!drained) {
		drain_all_stock_memcg(sim, mem_over_limit);
		drained = true;
		goto retry;
	}
	if (gfp & __GFP_NORETRY)
		goto nomem;
	if (nr_retries--)
		goto retry;
	if (gfp & __GFP_RETRY_MAYFAIL)
		goto nomem;
	/* 5.11: "if (gfp_mask & __GFP_NOFAIL) goto force;" before the OOM killer */
	if (p->force_rule == MEMCG_FORCE_GFP_ATOMIC && (gfp & __GFP_NOFAIL))
		goto force;
	/*
	 * mem_cgroup_oom(): orders above PAGE_ALLOC_COSTLY_ORDER skip it;
	 * otherwise MEMCG_OOM and a kill. The model has nobody to kill: as
	 * when the OOM killer finds no victim, the charge goes to nomem.
	 */
	if (get_order_pages(nr_pages) <= PAGE_ALLOC_COSTLY_ORDER)
		memcg_memory_event(mem_over_limit, MEMCG_OOM);
nomem:
	if (p->force_rule == MEMCG_FORCE_GFP_HIGH) {
		/* 6.3+: "if (!(gfp_mask & (__GFP_NOFAIL | __GFP_HIGH))) return -ENOMEM;" */
		if (!(gfp & (__GFP_NOFAIL | __GFP_HIGH))) {
			sim_explain(sim, "  -> ENOMEM (%s)", gfp & __GFP_DIRECT_RECLAIM ?
				    "reclaim found nothing to free" : "cannot block: GFP_NOWAIT");
			return -ENOMEM;
		}
	} else if (!(gfp & __GFP_NOFAIL)) {
		sim_explain(sim, "  -> ENOMEM (%s)", gfp & __GFP_DIRECT_RECLAIM ?
			    "reclaim found nothing to free" : "cannot block");
		return -ENOMEM;
	}
force:
	sim_explain(sim, "  forced past the limit (%s): %s now %lld pages", gfp & __GFP_ATOMIC ?
		    "GFP_ATOMIC" : gfp & __GFP_HIGH ? "__GFP_HIGH" : "__GFP_NOFAIL", memcg->path,
		    (long long)memcg->memory.usage + (long long)nr_pages);
	/* 6.x: "If the allocation has to be enforced, don't forget to raise a MEMCG_MAX event." */
	if (p->force_raises_max_event && !raised_max_event)
		memcg_memory_event(mem_over_limit, MEMCG_MAX);
	page_counter_charge(&memcg->memory, (int64_t)nr_pages);
	return 0;

done_restock:
	if (batch > nr_pages)
		refill_stock(sim, cpu, memcg, batch - nr_pages);
	memcg_high_check(memcg);
	return 0;
}

/* ---- obj_cgroup charges -------------------------------------------------- */

/* 6.18 obj_cgroup_charge_pages(); 5.11 __memcg_kmem_charge() */
static int obj_cgroup_charge_pages(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
				   gfp_t gfp, uint64_t nr_pages)
{
	int ret = try_charge_memcg(sim, cpu, memcg, gfp, nr_pages);

	if (ret)
		return ret;
	memcg_account_kmem(sim, memcg, (int64_t)nr_pages);
	return 0;
}

/* 6.18 obj_cgroup_uncharge_pages(); 5.11 __memcg_kmem_uncharge() */
static void obj_cgroup_uncharge_pages(struct kms_sim *sim, uint32_t cpu,
				      struct mem_cgroup *memcg, uint64_t nr_pages)
{
	memcg_account_kmem(sim, memcg, -(int64_t)nr_pages);
	refill_stock(sim, cpu, memcg, nr_pages);
}

static bool consume_obj_stock(struct kms_sim *sim, uint32_t cpu, struct obj_cgroup *objcg,
			      uint64_t nr_bytes)
{
	struct obj_stock_pcp *stock = &sim->mm.cpus[cpu].obj;

	if (stock->cached_objcg != objcg || stock->nr_bytes < nr_bytes)
		return false;
	stock->nr_bytes -= (uint32_t)nr_bytes;
	return true;
}

/*
 * drain_obj_stock(): whole pages are uncharged, the sub-page rest is parked
 * in objcg->nr_charged_bytes for the next CPU that caches this objcg.
 */
static void drain_obj_stock(struct kms_sim *sim, uint32_t cpu)
{
	struct obj_stock_pcp *stock = &sim->mm.cpus[cpu].obj;
	struct obj_cgroup *old = stock->cached_objcg;
	unsigned int shift = sim->page_shift;

	if (!old)
		return;
	if (stock->nr_bytes) {
		uint64_t nr_pages = stock->nr_bytes >> shift;
		uint32_t nr_bytes = stock->nr_bytes & (sim_page_size(sim) - 1);

		if (nr_pages) {
			struct mem_cgroup *memcg = old->memcg;

			if (sim->mm.params.obj_drain_direct) {
				/* 6.18: MEMCG_KMEM, kmem counter, memcg_uncharge() */
				memcg_account_kmem(sim, memcg, -(int64_t)nr_pages);
				memcg_uncharge(memcg, nr_pages);
			} else {
				/* 5.11: __memcg_kmem_uncharge() -> refill_stock() */
				obj_cgroup_uncharge_pages(sim, cpu, memcg, nr_pages);
			}
		}
		old->nr_charged_bytes += nr_bytes;
		stock->nr_bytes = 0;
	}
	stock->cached_objcg = NULL;
	obj_cgroup_put(&sim->memcgs, old);
}

/*
 * refill_obj_stock(): switch the CPU's cached objcg if needed (taking over
 * its parked bytes), add @nr_bytes, and give whole pages back above a page:
 * 6.18 only the whole pages and only when @allow_uncharge; 5.11 the whole stock.
 */
static void refill_obj_stock(struct kms_sim *sim, uint32_t cpu, struct obj_cgroup *objcg,
			     uint64_t nr_bytes, bool allow_uncharge)
{
	struct obj_stock_pcp *stock = &sim->mm.cpus[cpu].obj;
	uint64_t page_size = sim_page_size(sim);

	if (stock->cached_objcg != objcg) {
		drain_obj_stock(sim, cpu);
		obj_cgroup_get(objcg);
		stock->cached_objcg = objcg;
		stock->nr_bytes = objcg->nr_charged_bytes;
		objcg->nr_charged_bytes = 0;
		allow_uncharge = true;	/* "Allow uncharge when objcg changes" */
	}
	stock->nr_bytes += (uint32_t)nr_bytes;

	if (!sim->mm.params.obj_stock_lazy_uncharge) {
		if (stock->nr_bytes > page_size)
			drain_obj_stock(sim, cpu);
		return;
	}
	if (allow_uncharge && stock->nr_bytes > page_size) {
		uint64_t nr_pages = stock->nr_bytes >> sim->page_shift;

		stock->nr_bytes &= (uint32_t)(page_size - 1);
		obj_cgroup_uncharge_pages(sim, cpu, objcg->memcg, nr_pages);
	}
}

int obj_cgroup_charge(struct kms_sim *sim, uint32_t cpu, struct obj_cgroup *objcg, gfp_t gfp,
		      uint64_t size)
{
	uint64_t nr_pages, nr_bytes;
	int ret;

	if (consume_obj_stock(sim, cpu, objcg, size)) {
		sim_explain(sim, "  obj stock of CPU %u pays %llu bytes for %s", cpu,
			    (unsigned long long)size, objcg->memcg->path);
		return 0;
	}
	/*
	 * 5.11 obj_cgroup_charge() / 6.18 obj_cgroup_charge_account(): charge
	 * whole pages, ignoring what the stock holds, and stock the rest of
	 * the last page (6.18 without uncharging: the stock may pass a page).
	 */
	nr_pages = size >> sim->page_shift;
	nr_bytes = size & (sim_page_size(sim) - 1);
	if (nr_bytes)
		nr_pages++;
	ret = obj_cgroup_charge_pages(sim, cpu, objcg->memcg, gfp, nr_pages);
	if (!ret && nr_bytes)
		refill_obj_stock(sim, cpu, objcg, sim_page_size(sim) - nr_bytes, false);
	return ret;
}

void obj_cgroup_uncharge(struct kms_sim *sim, uint32_t cpu, struct obj_cgroup *objcg,
			 uint64_t size)
{
	refill_obj_stock(sim, cpu, objcg, size, true);
}

/* ---- kmem pages ---------------------------------------------------------- */

/*
 * __memcg_kmem_charge_page() for @nr_pages order-0 pages when @each (vmalloc:
 * one charge per page) or one order-N block. 5.13+: through the objcg;
 * 5.11: the memcg itself, root skipped.
 */
static int kmem_charge_pages(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
			     gfp_t gfp, uint64_t nr_pages, bool each, struct kmem_charge *c)
{
	struct obj_cgroup *objcg = NULL;
	struct mem_cgroup *target;
	uint64_t done = 0;
	int ret = 0;

	if (sim->mm.params.kmem_pages_objcg) {
		objcg = get_obj_cgroup_from_memcg(memcg);
		if (!objcg)
			return 0;
		target = objcg->memcg;
	} else {
		if (mem_cgroup_is_root(memcg))
			return 0;
		target = memcg;
	}
	if (!each) {
		ret = obj_cgroup_charge_pages(sim, cpu, target, gfp, nr_pages);
		done = ret ? 0 : nr_pages;
	}
	while (each && done < nr_pages) {
		struct memcg_stock_pcp *stock = &sim->mm.cpus[cpu].stock;
		int i = stock_slot(sim, stock, target);

		/* Each page's charge consumes one stocked page: take them in one go. */
		if (i >= 0 && stock->nr_pages[i]) {
			uint64_t take = stock->nr_pages[i];

			if (take > nr_pages - done)
				take = nr_pages - done;
			stock->nr_pages[i] -= (uint32_t)take;
			memcg_account_kmem(sim, target, (int64_t)take);
			done += take;
			continue;
		}
		ret = obj_cgroup_charge_pages(sim, cpu, target, gfp, 1);
		if (ret)
			break;
		done++;
	}
	if (ret) {
		/* The pages already charged are freed again, each a normal uncharge. */
		memcg_account_kmem(sim, target, -(int64_t)done);
		refill_stock_each(sim, cpu, target, done);
		obj_cgroup_put(&sim->memcgs, objcg);
		return ret;
	}
	if (objcg) {
		c->objcg = objcg;
	} else {
		mem_cgroup_get(memcg);
		c->memcg = memcg;
	}
	return 0;
}

int memcg_kmem_charge_pages(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
			    gfp_t gfp, uint64_t nr_pages, struct kmem_charge *c)
{
	return kmem_charge_pages(sim, cpu, memcg, gfp, nr_pages, c->kind == KMEM_VMALLOC, c);
}

void memcg_kmem_uncharge_pages(struct kms_sim *sim, uint32_t cpu, struct kmem_charge *c,
			       uint64_t nr_pages)
{
	struct mem_cgroup *memcg = kmem_charge_memcg(c);

	if (!memcg)
		return;
	memcg_account_kmem(sim, memcg, -(int64_t)nr_pages);
	if (c->kind == KMEM_VMALLOC)
		refill_stock_each(sim, cpu, memcg, nr_pages);
	else
		refill_stock(sim, cpu, memcg, nr_pages);
	if (c->objcg)
		obj_cgroup_put(&sim->memcgs, c->objcg);
	else
		mem_cgroup_put(&sim->memcgs, c->memcg);
	c->objcg = NULL;
	c->memcg = NULL;
}

struct mem_cgroup *kmem_charge_memcg(const struct kmem_charge *c)
{
	return c->objcg ? c->objcg->memcg : c->memcg;
}

/* ---- totals and ledger --------------------------------------------------- */

/* PCPU_MIN_ALLOC_SIZE (mm/percpu-internal.h): 4 bytes */
#define PCPU_MIN_ALLOC_SIZE 4u

static uint64_t kmem_used_bytes(const struct kms_sim *sim, const struct kmem_charge *c)
{
	if (c->kind == KMEM_PERCPU)
		return (uint64_t)c->size * sim->cfg.nr_cpus;
	return c->size;
}

uint64_t kmem_charge_bytes(const struct kms_sim *sim, const struct kmem_charge *c)
{
	const struct mm_params *p = &sim->mm.params;

	switch (c->kind) {
	case KMEM_SLAB:
		/* mm/memcontrol.c obj_full_size(): s->size + sizeof(struct obj_cgroup *) */
		return c->size ? c->size + sizeof(void *) : 0;
	case KMEM_PERCPU: {
		/*
		 * 5.11 pcpu_memcg_pre_alloc_hook(): size * num_possible_cpus();
		 * 5.17+ pcpu_obj_full_size(): + size / PCPU_MIN_ALLOC_SIZE *
		 * sizeof(objcg *), since 6.3 only without nokmem.
		 */
		uint64_t full = (uint64_t)c->size * sim->cfg.nr_cpus;

		if (p->pcpu_objcg_overhead &&
		    (!p->pcpu_overhead_needs_kmem || (sim->cfg.memcg && sim->cfg.kmem)))
			full += c->size / PCPU_MIN_ALLOC_SIZE * sizeof(void *);
		return full;
	}
	default:
		return c->size;
	}
}

void kmem_account_alloc(struct kms_sim *sim, const struct alloc_ctx *ctx,
			const struct kmem_charge *c)
{
	struct kmem_totals *t = &sim->mm.totals[c->kind];
	bool paid = c->objcg || c->memcg;
	uint64_t used = kmem_used_bytes(sim, c);
	uint64_t charged = paid ? kmem_charge_bytes(sim, c) : 0;

	t->nr_live++;
	t->nr_allocs++;
	t->bytes += (int64_t)used;
	if (paid)
		t->charged_bytes += (int64_t)charged;
	else
		t->unpaid_bytes += (int64_t)used;
	if (sim->mm.ledger.enabled)
		ledger_charge(&sim->mm.ledger, ctx->owner, c, ctx->ctx, used, charged);
}

void kmem_account_free(struct kms_sim *sim, const struct alloc_ctx *ctx,
		       const struct kmem_charge *c)
{
	struct kmem_totals *t = &sim->mm.totals[c->kind];
	bool paid = c->objcg || c->memcg;
	uint64_t used = kmem_used_bytes(sim, c);
	uint64_t charged = paid ? kmem_charge_bytes(sim, c) : 0;

	if (ctx->now_ns > sim->mm.now_ns)
		sim->mm.now_ns = ctx->now_ns;
	t->nr_live--;
	t->nr_frees++;
	t->bytes -= (int64_t)used;
	if (paid)
		t->charged_bytes -= (int64_t)charged;
	else
		t->unpaid_bytes -= (int64_t)used;
	if (sim->mm.ledger.enabled)
		ledger_uncharge(&sim->mm.ledger, &sim->memcgs, ctx->owner, c, used, charged);
}

/* A slab or percpu object like @c may be booked by the repeat helpers below. */
static bool repeatable(const struct kms_sim *sim, const struct alloc_ctx *ctx,
		       const struct kmem_charge *c)
{
	return c->live && !c->memcg && (c->kind == KMEM_SLAB || c->kind == KMEM_PERCPU) &&
	       ctx->cpu < sim->cfg.nr_cpus && !sim->explain.on;
}

/* The memory.stat item kmem_charge_object() moved for @c. */
static enum memcg_stat_item object_stat_item(const struct kmem_charge *c)
{
	return c->kind == KMEM_PERCPU ? MEMCG_PERCPU_B : NR_SLAB_UNRECLAIMABLE_B;
}

uint64_t kmem_alloc_repeat(struct kms_sim *sim, const struct alloc_ctx *ctx,
			   const struct kmem_charge *c, uint64_t n)
{
	struct fault_inject *f = &sim->mm.fault;
	struct kmem_totals *t = &sim->mm.totals[c->kind];
	uint64_t used = kmem_used_bytes(sim, c), charged = 0;

	if (!n || !repeatable(sim, ctx, c) || (f->fail_irq && ctx->ctx != CTX_TASK))
		return 0;
	/* stop before the call fault injection fails: the caller makes that one itself */
	if (f->fail_nth > f->nr_calls && f->fail_nth - f->nr_calls - 1 < n)
		n = f->fail_nth - f->nr_calls - 1;
	if (c->objcg) {
		struct obj_stock_pcp *stock = &sim->mm.cpus[ctx->cpu].obj;

		/* obj_cgroup_charge(): consume_obj_stock() pays while the stock holds enough */
		charged = kmem_charge_bytes(sim, c);
		if (stock->cached_objcg != c->objcg || !charged)
			return 0;
		if (stock->nr_bytes / charged < n)
			n = stock->nr_bytes / charged;
		if (!n)
			return 0;
		stock->nr_bytes -= (uint32_t)(charged * n);
		mod_memcg_state(c->objcg->memcg, object_stat_item(c), (int64_t)(charged * n));
		c->objcg->refcnt += n;	/* get_obj_cgroup_from_memcg(): one per object */
	}
	if (!n)
		return 0;
	/* kmem_alloc_begin(): the call count (now_ns is already ctx's) */
	f->nr_calls += n;
	/* kmem_account_alloc() */
	t->nr_live += (int64_t)n;
	t->nr_allocs += n;
	t->bytes += (int64_t)(used * n);
	if (c->objcg)
		t->charged_bytes += (int64_t)(charged * n);
	else
		t->unpaid_bytes += (int64_t)(used * n);
	for (uint64_t i = 0; sim->mm.ledger.enabled && i < n; i++)
		ledger_charge(&sim->mm.ledger, ctx->owner, c, ctx->ctx, used, charged);
	return n;
}

uint64_t kmem_free_repeat(struct kms_sim *sim, const struct alloc_ctx *ctx,
			  const struct kmem_charge *c, uint64_t n)
{
	struct kmem_totals *t = &sim->mm.totals[c->kind];
	uint64_t used = kmem_used_bytes(sim, c), charged = 0;

	if (!n || !repeatable(sim, ctx, c))
		return 0;
	if (c->objcg) {
		struct obj_stock_pcp *stock = &sim->mm.cpus[ctx->cpu].obj;
		uint64_t page_size = sim_page_size(sim), room;

		/*
		 * obj_cgroup_uncharge() -> refill_obj_stock(): the bytes go to the
		 * stock; only one that takes it past a page drains or uncharges,
		 * and only the last reference's put releases the objcg.
		 */
		charged = kmem_charge_bytes(sim, c);
		if (stock->cached_objcg != c->objcg || !charged || stock->nr_bytes > page_size)
			return 0;
		room = (page_size - stock->nr_bytes) / charged;
		if (room < n)
			n = room;
		if (c->objcg->refcnt - 1 < n)
			n = c->objcg->refcnt - 1;
		if (!n)
			return 0;
		stock->nr_bytes += (uint32_t)(charged * n);
		mod_memcg_state(c->objcg->memcg, object_stat_item(c), -(int64_t)(charged * n));
		c->objcg->refcnt -= n;	/* obj_cgroup_put() per object */
	}
	/* kmem_account_free() */
	if (ctx->now_ns > sim->mm.now_ns)
		sim->mm.now_ns = ctx->now_ns;
	t->nr_live -= (int64_t)n;
	t->nr_frees += n;
	t->bytes -= (int64_t)(used * n);
	if (c->objcg)
		t->charged_bytes -= (int64_t)(charged * n);
	else
		t->unpaid_bytes -= (int64_t)(used * n);
	for (uint64_t i = 0; sim->mm.ledger.enabled && i < n; i++)
		ledger_uncharge(&sim->mm.ledger, &sim->memcgs, ctx->owner, c, used, charged);
	return n;
}

void kmem_account_failed(struct kms_sim *sim, enum kmem_kind kind)
{
	sim->mm.totals[kind].nr_failed++;
}

/*
 * The byte-charged end of a slab or percpu allocation (6.18
 * memcg_slab_post_alloc_hook(), pcpu_memcg_post_alloc_hook()): the object's
 * full size goes to @memcg's objcg through the obj stock and moves @item of
 * memory.stat; the charge remembers the objcg for the free. @memcg NULL:
 * nobody pays, the object is only counted.
 */
int kmem_charge_object(struct kms_sim *sim, const struct alloc_ctx *ctx, struct mem_cgroup *memcg,
		       gfp_t gfp, enum memcg_stat_item item, struct kmem_charge *out)
{
	struct obj_cgroup *objcg = memcg ? get_obj_cgroup_from_memcg(memcg) : NULL;

	if (objcg) {
		uint64_t full = kmem_charge_bytes(sim, out);
		int err = obj_cgroup_charge(sim, ctx->cpu, objcg, gfp, full);

		if (err) {
			obj_cgroup_put(&sim->memcgs, objcg);
			kmem_account_failed(sim, (enum kmem_kind)out->kind);
			return err;
		}
		mod_memcg_state(objcg->memcg, item, (int64_t)full);
		out->objcg = objcg;
	}
	out->live = 1;
	kmem_account_alloc(sim, ctx, out);
	return 0;
}
