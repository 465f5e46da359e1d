// SPDX-License-Identifier: MIT
/*
 * Deferred frees: a call_rcu_free() uncharges one grace period later (4 ms
 * by default), in time order, or at rcu_barrier(); rcu=immediate frees at once.
 */
#include "mm_test.h"

#define MS 1000000ull

static void test_free_after_grace_period(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(t.sim->mm.params.rcu_grace_ns, 4 * MS);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 64, GFP_KERNEL_ACCOUNT, &c), 0);
	t.ctx.now_ns = 10 * MS;
	assert_int_equal(call_rcu_free(t.sim, &t.ctx, &c), 0);
	/* 64 + 8 bytes stay charged until 10 ms + 4 ms */
	assert_int_equal(kms_sim_rcu_advance(t.sim, 14 * MS - 1), 0);
	assert_int_equal(rcu_pending(t.sim), 1);
	assert_int_equal(mmt_used(&t, "/a"), 72);
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 72);
	assert_int_equal(kms_sim_rcu_advance(t.sim, 14 * MS), 0);
	assert_int_equal(rcu_pending(t.sim), 0);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 0);
	mmt_fini(&t);
}

static void test_order_barrier_and_immediate(void **state)
{
	struct kmem_charge c[3];
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_sim_set_rcu(t.sim, 1 * MS, false), 0);
	assert_int_equal(vmalloc(t.sim, &t.ctx, 3 * 4096, GFP_KERNEL_ACCOUNT, &c[0]), 0);
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 8, 8, GFP_KERNEL_ACCOUNT, &c[1]), 0);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 20000, GFP_KERNEL_ACCOUNT, &c[2]), 0);
	t.ctx.now_ns = 5 * MS;
	call_rcu_free(t.sim, &t.ctx, &c[0]);
	t.ctx.now_ns = 2 * MS;	/* an earlier timestamp from another CPU's stream */
	call_rcu_free(t.sim, &t.ctx, &c[1]);
	/* due at 3 ms: only the percpu object; the vmalloc area is due at 6 ms */
	rcu_advance(t.sim, 3 * MS);
	assert_int_equal(mmt_read(&t, "/a").stat_percpu, 0);
	assert_int_equal(mmt_read(&t, "/a").stat_vmalloc, 3 * 4096);
	/* rcu_barrier(): everything queued, now */
	rcu_barrier(t.sim);
	assert_int_equal(mmt_read(&t, "/a").stat_vmalloc, 0);
	/* rcu=immediate: no grace period at all */
	assert_int_equal(kms_sim_set_rcu(t.sim, 0, true), 0);
	assert_int_equal(call_rcu_free(t.sim, &t.ctx, &c[2]), 0);
	assert_int_equal(rcu_pending(t.sim), 0);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	mmt_fini(&t);
}

/*
 * Callbacks queued in time order run as a FIFO; one queued with an earlier
 * due time than the last (another CPU's timestamp) still runs first, and once
 * everything ran the queue keeps time order for what comes next.
 */
static void test_due_order_in_and_out_of_order(void **state)
{
	enum { N = 1000 };
	static struct kmem_charge c[N + 1];
	struct kmem_charge a, b;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_sim_set_rcu(t.sim, 1 * MS, false), 0);
	/* 1000 frees 1 us apart, due 1 ms later: an advance runs exactly those due */
	for (int i = 0; i <= N; i++)
		assert_int_equal(kmalloc(t.sim, &t.ctx, 64, GFP_KERNEL_ACCOUNT, &c[i]), 0);
	for (int i = 0; i < N; i++) {
		t.ctx.now_ns = 10 * MS + (uint64_t)i * 1000;
		assert_int_equal(call_rcu_free(t.sim, &t.ctx, &c[i]), 0);
	}
	rcu_advance(t.sim, 11 * MS + 499 * 1000);
	assert_int_equal(rcu_pending(t.sim), N - 500);
	/* due at 10.5 ms, before every queued one: it runs with the next advance */
	t.ctx.now_ns = 9 * MS + 500 * 1000;
	assert_int_equal(call_rcu_free(t.sim, &t.ctx, &c[N]), 0);
	rcu_advance(t.sim, 11 * MS + 499 * 1000);
	assert_int_equal(rcu_pending(t.sim), N - 500);
	rcu_advance(t.sim, 11 * MS + 998 * 1000);
	assert_int_equal(rcu_pending(t.sim), 1);
	rcu_advance(t.sim, 11 * MS + 999 * 1000);
	assert_int_equal(rcu_pending(t.sim), 0);
	/* kmalloc-64 objects charge 64 + 8 bytes each: all gone */
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 0);

	/* empty again: in-order frees run in due order, same due time in queue order */
	assert_int_equal(kmalloc(t.sim, &t.ctx, 512, GFP_KERNEL_ACCOUNT, &a), 0);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 8, GFP_KERNEL_ACCOUNT, &b), 0);
	t.ctx.now_ns = 20 * MS;
	call_rcu_free(t.sim, &t.ctx, &a);
	t.ctx.now_ns = 21 * MS;
	call_rcu_free(t.sim, &t.ctx, &b);
	rcu_advance(t.sim, 21 * MS);
	/* a (kmalloc-512: 520 bytes) ran, b (kmalloc-8: 16 bytes) is due at 22 ms */
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 16);
	rcu_advance(t.sim, 22 * MS);
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 0);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_after_grace_period),
		cmocka_unit_test(test_order_barrier_and_immediate),
		cmocka_unit_test(test_due_order_in_and_out_of_order),
	};

	return cmocka_run_group_tests_name("mm/rcu", tests, NULL, NULL);
}
