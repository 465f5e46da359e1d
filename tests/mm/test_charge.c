// SPDX-License-Identifier: MIT
/*
 * mm/charge.c: the per-CPU page stock (batch charges, 1 or 7 slots, drain),
 * which cgroup pays in which context, what a charge at the limit does per
 * gfp and kernel, and fault injection leaving every counter as it was.
 */
#include "mm_test.h"

/* An order-0 accounted page: the simplest charge of exactly one page. */
static int one_page(struct mmt *t, const struct alloc_ctx *ctx, gfp_t gfp, struct kmem_charge *c)
{
	return alloc_pages(t->sim, ctx, 0, gfp, c);
}

static void stock_batch(enum mmt_kernel k, uint64_t batch)
{
	struct kmem_charge c1, c2;
	struct mmt t;

	mmt_init(&t, 4096, 2, k);
	/* first charge: try_charge_memcg() charges a whole batch, keeps batch - 1 */
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c1), 0);
	assert_int_equal(mmt_read(&t, "/a").current, batch * 4096);
	assert_int_equal(mmt_read(&t, "/a").stock, (batch - 1) * 4096);
	/* second charge on the same CPU: consume_stock(), the counter does not move */
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c2), 0);
	assert_int_equal(mmt_read(&t, "/a").current, batch * 4096);
	assert_int_equal(mmt_read(&t, "/a").stock, (batch - 2) * 4096);
	/* another CPU has its own stock: a second batch */
	t.ctx.cpu = 1;
	free_pages(t.sim, &t.ctx, &c2);
	assert_int_equal(mmt_read(&t, "/a").current, batch * 4096);
	assert_int_equal(mmt_used(&t, "/a"), 4096);
	/* drain_all_stock(): memory.current is the exact use again */
	assert_int_equal(kms_sim_drain_stock(t.sim), 0);
	assert_int_equal(mmt_read(&t, "/a").current, 4096);
	assert_int_equal(mmt_read(&t, "/a").peak, batch * 4096);
	free_pages(t.sim, &t.ctx, &c1);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(mmt_read(&t, "/a").current, 0);
	mmt_fini(&t);
}

static void test_first_charge_takes_a_batch(void **state)
{
	(void)state;
	stock_batch(MMT_6_18, 64);
	stock_batch(MMT_5_11, 32);
}

/*
 * Charges for 8 cgroups on one CPU: 6.18 keeps 7 (the 8th evicts slot 0 in
 * the model's round-robin order), 5.11 keeps only the last one.
 */
static void stock_slots(enum mmt_kernel k, unsigned int slots, uint64_t batch)
{
	char path[8][8];
	struct kmem_charge c[8];
	struct mmt t;

	mmt_init(&t, 4096, 2, k);
	for (int i = 0; i < 8; i++) {
		snprintf(path[i], sizeof(path[i]), "/c%d", i);
		assert_int_equal(kms_cgroup_create(t.sim, path[i]), 0);
		struct alloc_ctx ctx = t.ctx;
		struct mem_cgroup *old = set_active_memcg(t.sim, &ctx, mmt_memcg(&t, path[i]));

		assert_int_equal(one_page(&t, &ctx, GFP_KERNEL_ACCOUNT, &c[i]), 0);
		set_active_memcg(t.sim, &ctx, old);
	}
	for (int i = 0; i < 8; i++) {
		/* cgroups still in a slot show a whole batch, evicted ones their one page */
		bool cached = (unsigned int)i >= 8 - slots || (slots == 7 && i != 0);
		uint64_t expect = cached ? batch * 4096 : 4096;

		assert_int_equal(mmt_read(&t, path[i]).current, expect);
	}
	for (int i = 0; i < 8; i++)
		free_pages(t.sim, &t.ctx, &c[i]);
	mmt_fini(&t);
}

static void test_stock_slots(void **state)
{
	(void)state;
	stock_slots(MMT_6_18, 7, 64);
	stock_slots(MMT_5_11, 1, 32);
}

/* A batch that would cross max is retried with the exact number of pages. */
static void test_batch_retried_exact_below_max(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 10 * 4096), 0);
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c), 0);
	/* 64 > 10: refused once (failcnt 1), then 1 page; nothing stocked */
	assert_int_equal(mmt_read(&t, "/a").current, 4096);
	assert_int_equal(mmt_read(&t, "/a").stock, 0);
	assert_int_equal(mmt_read(&t, "/a").failcnt, 1);
	assert_int_equal(mmt_read(&t, "/a").events_max, 0);
	free_pages(t.sim, &t.ctx, &c);
	mmt_fini(&t);
}

/*
 * At the limit a blocking charge drains the other CPUs' stocks and retries;
 * a non-blocking one fails while the room sits precharged in a stock.
 */
static void test_limit_drains_other_cpus_stock(void **state)
{
	struct alloc_ctx cpu1;
	struct kmem_charge c0, c1;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 64 * 4096), 0);
	/* CPU 0 takes a whole batch: 1 page used, 63 in its stock, /a at max */
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c0), 0);
	assert_int_equal(mmt_read(&t, "/a").current, 64 * 4096);
	cpu1 = t.ctx;
	cpu1.cpu = 1;
	assert_int_equal(one_page(&t, &cpu1, GFP_NOWAIT | __GFP_ACCOUNT, &c1), -ENOMEM);
	assert_int_equal(mmt_read(&t, "/a").stock, 63 * 4096);
	/* GFP_KERNEL: MEMCG_MAX, margin 0, drain_all_stock(/a), retry fits */
	assert_int_equal(one_page(&t, &cpu1, GFP_KERNEL_ACCOUNT, &c1), 0);
	assert_int_equal(mmt_read(&t, "/a").current, 2 * 4096);
	assert_int_equal(mmt_read(&t, "/a").stock, 0);
	assert_int_equal(mmt_read(&t, "/a").events_max, 1);
	assert_int_equal(mmt_read(&t, "/a").events_oom, 0);
	free_pages(t.sim, &t.ctx, &c0);
	free_pages(t.sim, &cpu1, &c1);
	mmt_fini(&t);
}

/* memory.high never fails a charge; every level above it raises MEMCG_HIGH. */
static void test_memory_high(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	mmt_enter(&t, "/a/b");
	assert_int_equal(kms_cgroup_set_high(t.sim, "/a", 2 * 4096), 0);
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c), 0);
	/* the batch (64 pages) puts /a above high: /a/b is under no high */
	assert_int_equal(mmt_read(&t, "/a").current, 64 * 4096);
	assert_int_equal(mmt_read(&t, "/a").events_high, 1);
	assert_int_equal(mmt_read(&t, "/a/b").events_high, 0);
	free_pages(t.sim, &t.ctx, &c);
	mmt_fini(&t);
}

/* A charge refused by a parent's max leaves nothing behind, anywhere. */
static void test_parent_max_refusal_leaves_nothing(void **state)
{
	struct kms_cgroup_stats p, c;
	struct kms_kmem_totals tot;
	struct kmem_charge pg;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	mmt_enter(&t, "/a/b");
	assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 4 * 4096), 0);
	/* order 3 = 8 pages > 4: the batch (64) and the exact retry fail at /a */
	assert_int_equal(alloc_pages(t.sim, &t.ctx, 3, GFP_KERNEL_ACCOUNT | __GFP_NORETRY, &pg),
			 -ENOMEM);
	p = mmt_read(&t, "/a");
	c = mmt_read(&t, "/a/b");
	assert_int_equal(p.current, 0);
	assert_int_equal(c.current, 0);
	assert_int_equal(p.stock + c.stock, 0);
	assert_int_equal(p.kmem + c.kmem + p.stat_kernel, 0);
	/*
	 * failcnt at the refusing level: batch, exact, exact after the drain
	 * (__GFP_NORETRY stops there); the child's counter was undone, not refused.
	 */
	assert_int_equal(p.failcnt, 3);
	assert_int_equal(c.failcnt, 0);
	/* MEMCG_MAX on mem_over_limit (/a) before reclaim and after the drain */
	assert_int_equal(p.events_max, 2);
	assert_int_equal(c.events_max, 0);
	assert_int_equal(kms_kmem_totals_read(t.sim, KMS_KMEM_PAGES, &tot), 0);
	assert_int_equal(tot.nr_live, 0);
	assert_int_equal(tot.nr_failed, 1);
	mmt_fini(&t);
}

/* GFP_KERNEL at the limit: reclaim finds nothing, 16 retries, then the memcg OOM path. */
static void test_blocking_charge_at_limit_counts_oom(void **state)
{
	struct kmem_charge c1, c2;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 4096), 0);
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c1), 0);
	assert_int_equal(mmt_read(&t, "/a").failcnt, 1);
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c2), -ENOMEM);
	/* failcnt: 1 before + batch + exact + after drain + MAX_RECLAIM_RETRIES (16) */
	assert_int_equal(mmt_read(&t, "/a").failcnt, 1 + 3 + 16);
	/* MEMCG_MAX once per reclaim round: 1 + 1 (after drain) + 16 */
	assert_int_equal(mmt_read(&t, "/a").events_max, 18);
	/* the kernel would OOM-kill; the model counts MEMCG_OOM and fails */
	assert_int_equal(mmt_read(&t, "/a").events_oom, 1);
	assert_int_equal(mmt_read(&t, "/a").current, 4096);
	free_pages(t.sim, &t.ctx, &c1);
	mmt_fini(&t);
}

/*
 * Non-blocking charges at the limit: GFP_NOWAIT fails everywhere; GFP_ATOMIC
 * is forced (5.11 by __GFP_ATOMIC, 6.18 by __GFP_HIGH); plain __GFP_HIGH is
 * forced only from 6.3 on.
 */
static void force_rules(enum mmt_kernel k)
{
	struct kmem_charge c0, c1, c2, c3;
	struct mmt t;

	mmt_init(&t, 4096, 2, k);
	assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 4096), 0);
	assert_int_equal(one_page(&t, &t.ctx, GFP_KERNEL_ACCOUNT, &c0), 0);
	assert_int_equal(one_page(&t, &t.ctx, GFP_NOWAIT | __GFP_ACCOUNT, &c1), -ENOMEM);
	assert_int_equal(mmt_read(&t, "/a").events_max, 0);
	assert_int_equal(one_page(&t, &t.ctx, GFP_ATOMIC | __GFP_ACCOUNT, &c2), 0);
	assert_int_equal(mmt_read(&t, "/a").current, 2 * 4096);
	/* 6.x raises MEMCG_MAX on a forced charge; 5.11 does not */
	assert_int_equal(mmt_read(&t, "/a").events_max, k == MMT_6_18 ? 1 : 0);
	assert_int_equal(one_page(&t, &t.ctx, __GFP_HIGH | __GFP_ACCOUNT, &c3),
			 k == MMT_6_18 ? 0 : -ENOMEM);
	free_pages(t.sim, &t.ctx, &c0);
	free_pages(t.sim, &t.ctx, &c2);
	if (k == MMT_6_18)
		free_pages(t.sim, &t.ctx, &c3);
	mmt_fini(&t);
}

static void test_force_rules(void **state)
{
	(void)state;
	force_rules(MMT_6_18);
	force_rules(MMT_5_11);
}

/* Softirq: nobody pays unless int_active_memcg is set on that CPU. */
static void softirq(enum mmt_kernel k, bool irq_honours_active)
{
	struct alloc_ctx irq;
	struct kmem_charge c1, c2;
	struct mmt t;

	mmt_init(&t, 4096, 4, k);
	if (!irq_honours_active) {
		/* before 5.10 (4127c6504f25): in_interrupt() always bypassed */
		t.sim->mm.params.irq_charge_active_memcg = false;
	}
	assert_int_equal(kms_cgroup_create(t.sim, "/m"), 0);
	irq = (struct alloc_ctx){ .task = t.task, .ctx = CTX_SOFTIRQ, .cpu = 3 };
	/* interrupted task in /a: its memcg is not charged from softirq */
	assert_int_equal(kmalloc(t.sim, &irq, 64, GFP_ATOMIC | __GFP_ACCOUNT, &c1), 0);
	assert_null(c1.objcg);
	assert_int_equal(mmt_read(&t, "/a").current, 0);
	/* set_active_memcg() in softirq sets this CPU's int_active_memcg ... */
	assert_null(set_active_memcg(t.sim, &irq, mmt_memcg(&t, "/m")));
	assert_null(t.task->active_memcg);
	assert_int_equal(kmalloc(t.sim, &irq, 64, GFP_ATOMIC | __GFP_ACCOUNT, &c2), 0);
	if (irq_honours_active) {
		assert_non_null(c2.objcg);
		/* 64 + 8 bytes, charged to /m from a batch on CPU 3 */
		assert_int_equal(mmt_used(&t, "/m"), 72);
	} else {
		assert_null(c2.objcg);
		assert_int_equal(mmt_read(&t, "/m").current, 0);
	}
	assert_int_equal(mmt_read(&t, "/a").current, 0);
	/* ... and only that CPU's */
	irq.cpu = 2;
	assert_null(set_active_memcg(t.sim, &irq, NULL));
	irq.cpu = 3;
	assert_ptr_equal(set_active_memcg(t.sim, &irq, NULL), mmt_memcg(&t, "/m"));
	kfree(t.sim, &irq, &c1);
	kfree(t.sim, &irq, &c2);
	mmt_fini(&t);
}

static void test_softirq_context(void **state)
{
	(void)state;
	softirq(MMT_6_18, true);
	softirq(MMT_5_11, true);
	softirq(MMT_5_11, false);
}

static void test_kernel_thread_and_no_mm(void **state)
{
	struct alloc_ctx kt;
	struct kmem_charge c1, c2, c3;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	kt = (struct alloc_ctx){ .task = NULL, .ctx = CTX_TASK, .cpu = 1, .owner = 1 };
	/* a kernel thread is never charged ... */
	assert_int_equal(kmalloc(t.sim, &kt, 512, GFP_KERNEL_ACCOUNT, &c1), 0);
	assert_null(c1.objcg);
	/* ... unless it sets an active memcg (the remote-charging API) */
	set_active_memcg(t.sim, &kt, mmt_memcg(&t, "/a"));
	assert_int_equal(kmalloc(t.sim, &kt, 512, GFP_KERNEL_ACCOUNT, &c2), 0);
	set_active_memcg(t.sim, &kt, NULL);
	assert_non_null(c2.objcg);
	assert_int_equal(mmt_used(&t, "/a"), 520);
	/* a task without an mm (exiting, or a kthread-like task) is not charged */
	t.task->has_mm = false;
	assert_int_equal(kmalloc(t.sim, &t.ctx, 512, GFP_KERNEL_ACCOUNT, &c3), 0);
	assert_null(c3.objcg);
	t.task->has_mm = true;
	kfree(t.sim, &kt, &c1);
	kfree(t.sim, &kt, &c2);
	kfree(t.sim, &kt, &c3);
	mmt_fini(&t);
}

static void test_root_nokmem_and_nmi(void **state)
{
	struct alloc_ctx nmi;
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	/* a task in the root cgroup: root charges are skipped */
	assert_int_equal(kms_task_move(t.sim, 100, "/"), 0);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 64, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_null(c.objcg);
	kfree(t.sim, &t.ctx, &c);
	assert_int_equal(kms_task_move(t.sim, 100, "/a"), 0);
	/* 6.18 x86-64 (NMI-safe cmpxchg): NMI charges int_active_memcg like an irq */
	nmi = (struct alloc_ctx){ .task = t.task, .ctx = CTX_NMI, .cpu = 0 };
	set_active_memcg(t.sim, &nmi, mmt_memcg(&t, "/a"));
	assert_int_equal(kmalloc(t.sim, &nmi, 64, GFP_NOWAIT | __GFP_ACCOUNT, &c), 0);
	assert_non_null(c.objcg);
	kfree(t.sim, &nmi, &c);
	/* CONFIG_MEMCG_NMI_UNSAFE: allowed, never charged */
	t.sim->mm.params.nmi_rule = MEMCG_NMI_UNCHARGED;
	assert_int_equal(kmalloc(t.sim, &nmi, 64, GFP_NOWAIT | __GFP_ACCOUNT, &c), 0);
	assert_null(c.objcg);
	kfree(t.sim, &nmi, &c);
	/* 5.11: slab is not NMI-safe, nobody allocates there */
	t.sim->mm.params.nmi_rule = MEMCG_NMI_FORBIDDEN;
	assert_int_equal(kmalloc(t.sim, &nmi, 64, GFP_NOWAIT | __GFP_ACCOUNT, &c), -EINVAL);
	set_active_memcg(t.sim, &nmi, NULL);
	mmt_fini(&t);

	/* cgroup.memory=nokmem: __GFP_ACCOUNT charges nothing */
	struct kms_config cfg;
	struct kms_sim *sim;

	kms_config_init(&cfg);
	cfg.kmem = false;
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	assert_int_equal(kms_cgroup_create(sim, "/a"), 0);
	assert_int_equal(kms_task_create(sim, 1, 0, "/a", KMS_UNLIMITED), 0);
	struct alloc_ctx ctx = { .task = task_find(&sim->tasks, 1), .ctx = CTX_TASK };

	assert_int_equal(vmalloc(sim, &ctx, 1 << 20, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_null(c.objcg);
	vfree(sim, &ctx, &c);
	kms_sim_free(sim);
}

/* A snapshot of everything a failed allocation must not change. */
struct snap {
	struct kms_cgroup_stats a, root;
	struct kms_kmem_totals tot[KMS_KMEM_NR_KINDS];
	size_t ledger_rows;
};

static void take(struct mmt *t, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->a = mmt_read(t, "/a");
	s->root = mmt_read(t, "/");
	for (int k = 0; k < KMS_KMEM_NR_KINDS; k++) {
		assert_int_equal(kms_kmem_totals_read(t->sim, k, &s->tot[k]), 0);
		/* allocation/failure counts are the only things allowed to move */
		s->tot[k].nr_allocs = s->tot[k].nr_frees = s->tot[k].nr_failed = 0;
	}
	kms_ledger_read(t->sim, t->ctx.owner, NULL, 0, &s->ledger_rows);
}

/* Field by field: a struct's padding bytes are not part of its value. */
static void same_stats(const struct kms_cgroup_stats *x, const struct kms_cgroup_stats *y)
{
	assert_int_equal(x->current, y->current);
	assert_int_equal(x->stock, y->stock);
	assert_int_equal(x->peak, y->peak);
	assert_int_equal(x->max, y->max);
	assert_int_equal(x->high, y->high);
	assert_int_equal(x->kmem, y->kmem);
	assert_int_equal(x->failcnt, y->failcnt);
	assert_int_equal(x->stat_kernel, y->stat_kernel);
	assert_int_equal(x->stat_slab, y->stat_slab);
	assert_int_equal(x->stat_percpu, y->stat_percpu);
	assert_int_equal(x->stat_vmalloc, y->stat_vmalloc);
	assert_int_equal(x->events_low, y->events_low);
	assert_int_equal(x->events_high, y->events_high);
	assert_int_equal(x->events_max, y->events_max);
	assert_int_equal(x->events_oom, y->events_oom);
	assert_int_equal(x->events_oom_kill, y->events_oom_kill);
	assert_int_equal(x->nr_tasks, y->nr_tasks);
	assert_int_equal(x->online, y->online);
}

static void same(struct snap *x, struct snap *y, bool with_peak)
{
	if (!with_peak) {
		/* earlier allocations of the sequence really happened: peaks may rise */
		x->a.peak = y->a.peak;
		x->root.peak = y->root.peak;
	}
	same_stats(&x->a, &y->a);
	same_stats(&x->root, &y->root);
	assert_memory_equal(x->tot, y->tot, sizeof(x->tot));
	assert_int_equal(x->ledger_rows, y->ledger_rows);
}

#define SEQ_LEN 6

/*
 * A multi-allocation object (think: a map with header, buckets, per-CPU
 * counters, ...). On a failure it frees what it has, newest first, like a
 * kernel error path. Returns how many allocations succeeded.
 */
static int build(struct mmt *t, struct kmem_cache *s, struct kmem_charge c[SEQ_LEN])
{
	int n = 0, err = 0;

	err = err ? err : kmalloc(t->sim, &t->ctx, 832, GFP_KERNEL_ACCOUNT, &c[n++]);
	err = err ? err : vmalloc(t->sim, &t->ctx, 2 << 20, GFP_KERNEL_ACCOUNT, &c[n++]);
	err = err ? err : alloc_percpu(t->sim, &t->ctx, 8, 8, GFP_KERNEL_ACCOUNT, &c[n++]);
	err = err ? err : kmalloc(t->sim, &t->ctx, 20000, GFP_KERNEL_ACCOUNT, &c[n++]);
	err = err ? err : alloc_pages(t->sim, &t->ctx, 2, GFP_KERNEL_ACCOUNT, &c[n++]);
	err = err ? err : kmem_cache_alloc(t->sim, &t->ctx, s, GFP_KERNEL_ACCOUNT, &c[n++]);
	if (!err)
		return n;
	for (int i = n - 2; i >= 0; i--) {
		switch (c[i].kind) {
		case KMEM_VMALLOC:
			vfree(t->sim, &t->ctx, &c[i]);
			break;
		case KMEM_PERCPU:
			free_percpu(t->sim, &t->ctx, &c[i]);
			break;
		case KMEM_PAGES:
			free_pages(t->sim, &t->ctx, &c[i]);
			break;
		default:
			kfree(t->sim, &t->ctx, &c[i]);
		}
	}
	return -(n - 1) - 1;
}

/* SQLite-style: fail allocation 1, 2, ... N of the sequence; nothing may leak. */
static void test_fault_injection_every_index(void **state)
{
	struct kmem_charge c[SEQ_LEN];
	struct kmem_cache *s;
	struct snap before, after;
	struct mmt t;

	(void)state;
	for (int k = 0; k < 2; k++) {
		mmt_init(&t, 4096, 2, k ? MMT_5_11 : MMT_6_18);
		s = kmem_cache_create(t.sim, "obj", 200);
		for (uint64_t nth = 1; nth <= SEQ_LEN; nth++) {
			kms_sim_drain_stock(t.sim);
			take(&t, &before);
			assert_int_equal(kms_sim_fault_fail_nth(t.sim, nth), 0);
			/* allocation nth fails: nth - 1 succeeded and were undone */
			assert_int_equal(build(&t, s, c), -(int)nth);
			assert_int_equal(kms_sim_fault_calls(t.sim), nth);
			kms_sim_drain_stock(t.sim);
			take(&t, &after);
			same(&before, &after, false);
			mmt_check(&t);
		}
		/* past the sequence's length it completes */
		assert_int_equal(kms_sim_fault_fail_nth(t.sim, SEQ_LEN + 1), 0);
		assert_int_equal(build(&t, s, c), SEQ_LEN);
		assert_true(mmt_used(&t, "/a") > (2 << 20));
		assert_int_equal(kms_sim_fault_fail_nth(t.sim, 0), 0);
		kfree(t.sim, &t.ctx, &c[0]);
		vfree(t.sim, &t.ctx, &c[1]);
		free_percpu(t.sim, &t.ctx, &c[2]);
		kfree(t.sim, &t.ctx, &c[3]);
		free_pages(t.sim, &t.ctx, &c[4]);
		kmem_cache_free(t.sim, &t.ctx, &c[5]);
		assert_int_equal(mmt_used(&t, "/a"), 0);
		mmt_fini(&t);
	}
}

/* The failing allocation itself changes nothing, stocks and peak included. */
static void test_failed_allocation_changes_nothing(void **state)
{
	struct kmem_charge keep, c;
	struct snap before, after;
	struct alloc_ctx irq;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 100, GFP_KERNEL_ACCOUNT, &keep), 0);
	take(&t, &before);
	kms_sim_fault_fail_nth(t.sim, 1);
	assert_int_equal(vmalloc(t.sim, &t.ctx, 1 << 20, GFP_KERNEL_ACCOUNT, &c), -ENOMEM);
	take(&t, &after);
	same(&before, &after, true);
	/* every allocation in interrupt context fails; task context does not */
	kms_sim_fault_fail_nth(t.sim, 0);
	kms_sim_fault_fail_irq(t.sim, true);
	irq = (struct alloc_ctx){ .task = NULL, .ctx = CTX_HARDIRQ, .cpu = 1 };
	set_active_memcg(t.sim, &irq, mmt_memcg(&t, "/a"));
	assert_int_equal(kmalloc(t.sim, &irq, 64, GFP_ATOMIC | __GFP_ACCOUNT, &c), -ENOMEM);
	take(&t, &after);
	same(&before, &after, true);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 64, GFP_KERNEL_ACCOUNT, &c), 0);
	kfree(t.sim, &t.ctx, &c);
	set_active_memcg(t.sim, &irq, NULL);
	kfree(t.sim, &t.ctx, &keep);
	mmt_fini(&t);
}

/* Everything the repeat helpers must book exactly as the allocator calls would. */
struct repeat_state {
	struct kms_cgroup_stats a, root;
	struct kmem_totals totals[KMEM_NR_KINDS];
	uint64_t calls, refcnt, stock_bytes, parked;
};

static void repeat_state(struct mmt *t, struct repeat_state *r)
{
	struct obj_cgroup *objcg = mmt_memcg(t, "/a")->objcg;

	memset(r, 0, sizeof(*r));	/* padding too: the states are compared bytewise */
	r->a = mmt_read(t, "/a");
	r->root = mmt_read(t, "/");
	memcpy(r->totals, t->sim->mm.totals, sizeof(r->totals));
	r->calls = kms_sim_fault_calls(t->sim);
	r->refcnt = objcg->refcnt;
	r->stock_bytes = t->sim->mm.cpus[0].obj.nr_bytes;
	r->parked = objcg->nr_charged_bytes;
}

/* @n objects of @size: one call each (@bulk false) or a call whenever the repeat cannot go on. */
static int repeat_alloc(struct mmt *t, bool percpu, size_t size, uint64_t n, bool bulk,
			struct kmem_charge *c)
{
	for (uint64_t i = 0; i < n; i++) {
		struct kmem_charge tmp;
		int err = percpu ? alloc_percpu(t->sim, &t->ctx, size, 8, GFP_KERNEL_ACCOUNT, &tmp)
				 : kmalloc(t->sim, &t->ctx, size, GFP_KERNEL_ACCOUNT, &tmp);

		if (err)
			return err;
		*c = tmp;	/* the objects are identical: one stands for all */
		if (bulk)
			i += kmem_alloc_repeat(t->sim, &t->ctx, c, n - i - 1);
	}
	return 0;
}

static void repeat_free(struct mmt *t, const struct kmem_charge *c, uint64_t n, bool bulk)
{
	for (uint64_t i = 0; i < n; i++) {
		struct kmem_charge copy = *c;

		if (c->kind == KMEM_PERCPU)
			free_percpu(t->sim, &t->ctx, &copy);
		else
			kfree(t->sim, &t->ctx, &copy);
		if (bulk)
			i += kmem_free_repeat(t->sim, &t->ctx, c, n - i - 1);
	}
}

/*
 * A preallocated map's thousands of identical objects, booked in steps by
 * kmem_alloc_repeat()/kmem_free_repeat(), leave every counter, stock and
 * reference exactly where one allocator call per object leaves them, on
 * both kernels, paid or unpaid, and fault injection fails the same call.
 */
static void test_repeat_books_like_single_calls(void **state)
{
	const uint64_t n = 3000;
	struct repeat_state one, bulk;
	struct kmem_charge c1, c2;
	struct mmt t1, t2;

	(void)state;
	for (int k = 0; k < 8; k++) {
		enum mmt_kernel kernel = k & 1 ? MMT_5_11 : MMT_6_18;
		bool percpu = k & 2, root = k & 4;
		size_t size = percpu ? 8 : 40;

		mmt_init(&t1, 4096, 2, kernel);
		mmt_init(&t2, 4096, 2, kernel);
		if (root) {	/* charged to the root cgroup: nobody pays */
			t1.task->active_memcg = t1.sim->memcgs.root;
			t2.task->active_memcg = t2.sim->memcgs.root;
		}
		assert_int_equal(repeat_alloc(&t1, percpu, size, n, false, &c1), 0);
		assert_int_equal(repeat_alloc(&t2, percpu, size, n, true, &c2), 0);
		repeat_state(&t1, &one);
		repeat_state(&t2, &bulk);
		assert_memory_equal(&one, &bulk, sizeof(one));
		assert_int_equal(bulk.calls, n);
		/*
		 * 5.11 pcpu_memcg_pre_alloc_hook(): size * num_possible_cpus() = 16;
		 * 6.18 pcpu_obj_full_size() adds size / PCPU_MIN_ALLOC_SIZE * 8 = 16;
		 * slab obj_full_size(): kmalloc-64 + 8 (the obj_cgroup pointer).
		 */
		if (root)
			assert_int_equal(bulk.a.stat_percpu + bulk.a.stat_slab, 0);
		else if (percpu)
			assert_int_equal(bulk.a.stat_percpu, n * (kernel == MMT_5_11 ? 16 : 32));
		else
			assert_int_equal(bulk.a.stat_slab, n * (64 + 8));

		repeat_free(&t1, &c1, n, false);
		repeat_free(&t2, &c2, n, true);
		repeat_state(&t1, &one);
		repeat_state(&t2, &bulk);
		assert_memory_equal(&one, &bulk, sizeof(one));
		assert_int_equal(bulk.a.stat_percpu + bulk.a.stat_slab, 0);

		/* fault injection fails allocation 1234 of the run either way */
		kms_sim_fault_fail_nth(t1.sim, 1234);
		kms_sim_fault_fail_nth(t2.sim, 1234);
		assert_int_equal(repeat_alloc(&t1, percpu, size, n, false, &c1), -ENOMEM);
		assert_int_equal(repeat_alloc(&t2, percpu, size, n, true, &c2), -ENOMEM);
		repeat_state(&t1, &one);
		repeat_state(&t2, &bulk);
		assert_memory_equal(&one, &bulk, sizeof(one));
		assert_int_equal(bulk.calls, 1234);
		repeat_free(&t1, &c1, 1233, false);
		repeat_free(&t2, &c2, 1233, true);
		t1.task->active_memcg = t2.task->active_memcg = NULL;
		mmt_fini(&t1);
		mmt_fini(&t2);
	}
}

/* rmdir: objcg charges follow the parent; the removed cgroup's stock is drained. */
static void test_rmdir_drains_and_reparents(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	mmt_enter(&t, "/a/b");
	assert_int_equal(kmalloc(t.sim, &t.ctx, 4000, GFP_KERNEL_ACCOUNT, &c), 0);
	/* kmalloc-4k + 8 = 4104 bytes: 2 pages out of a batch of 64 */
	assert_int_equal(mmt_read(&t, "/a").current, 64 * 4096);
	assert_int_equal(kms_task_move(t.sim, 100, "/a"), 0);
	assert_int_equal(kms_cgroup_remove(t.sim, "/a/b"), 0);
	/* the page stock of /a/b is gone; the byte stock followed the objcg to /a */
	assert_int_equal(mmt_read(&t, "/a").current, 2 * 4096);
	assert_int_equal(mmt_used(&t, "/a"), 4104);
	kfree(t.sim, &t.ctx, &c);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(mmt_read(&t, "/a").current, 0);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_charge_takes_a_batch),
		cmocka_unit_test(test_stock_slots),
		cmocka_unit_test(test_batch_retried_exact_below_max),
		cmocka_unit_test(test_limit_drains_other_cpus_stock),
		cmocka_unit_test(test_memory_high),
		cmocka_unit_test(test_parent_max_refusal_leaves_nothing),
		cmocka_unit_test(test_blocking_charge_at_limit_counts_oom),
		cmocka_unit_test(test_force_rules),
		cmocka_unit_test(test_softirq_context),
		cmocka_unit_test(test_kernel_thread_and_no_mm),
		cmocka_unit_test(test_root_nokmem_and_nmi),
		cmocka_unit_test(test_fault_injection_every_index),
		cmocka_unit_test(test_failed_allocation_changes_nothing),
		cmocka_unit_test(test_repeat_books_like_single_calls),
		cmocka_unit_test(test_rmdir_drains_and_reparents),
	};

	return cmocka_run_group_tests_name("mm/charge", tests, NULL, NULL);
}
