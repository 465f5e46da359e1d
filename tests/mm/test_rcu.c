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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_after_grace_period),
		cmocka_unit_test(test_order_barrier_and_immediate),
	};

	return cmocka_run_group_tests_name("mm/rcu", tests, NULL, NULL);
}
