// SPDX-License-Identifier: MIT
/*
 * The kernel-behaviour knobs: 6.18 and 5.11 presets as read in their
 * mm/memcontrol.c and include/linux/memcontrol.h, validation, and when a
 * simulation accepts new knobs.
 */
#include "mm_test.h"

static void test_presets(void **state)
{
	struct mm_params p;

	(void)state;
	mm_params_init(&p);
	/* 6.18: MEMCG_CHARGE_BATCH 64U, NR_MEMCG_STOCK 7, __GFP_HIGH forces */
	assert_int_equal(p.memcg_charge_batch, 64);
	assert_int_equal(p.nr_memcg_stock, 7);
	assert_int_equal(p.force_rule, MEMCG_FORCE_GFP_HIGH);
	assert_true(p.kmem_pages_objcg);
	assert_true(p.pcpu_objcg_overhead);
	assert_int_equal(p.rcu_grace_ns, 4000000);
	assert_int_equal(mm_params_validate(&p), 0);
	mm_params_init_5_11(&p);
	/* 5.11: MEMCG_CHARGE_BATCH 32U, one cached memcg, __GFP_ATOMIC forces */
	assert_int_equal(p.memcg_charge_batch, 32);
	assert_int_equal(p.nr_memcg_stock, 1);
	assert_int_equal(p.force_rule, MEMCG_FORCE_GFP_ATOMIC);
	assert_false(p.kmem_pages_objcg);
	assert_false(p.pcpu_objcg_overhead);
	assert_int_equal(mm_params_validate(&p), 0);
}

static void test_validate(void **state)
{
	struct mm_params p;

	(void)state;
	mm_params_init(&p);
	p.memcg_charge_batch = 128;	/* BUILD_BUG_ON(MEMCG_CHARGE_BATCH > S8_MAX) */
	assert_int_equal(mm_params_validate(&p), -EINVAL);
	mm_params_init(&p);
	p.nr_memcg_stock = 8;
	assert_int_equal(mm_params_validate(&p), -EINVAL);
	mm_params_init(&p);
	p.kmalloc_min_size = 24;
	assert_int_equal(mm_params_validate(&p), -EINVAL);
}

static void test_set_only_while_idle(void **state)
{
	struct kmem_charge c;
	struct mm_params p;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	mm_params_init_5_11(&p);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 8, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(kms_sim_set_mm_params(t.sim, &p), -EBUSY);
	kfree(t.sim, &t.ctx, &c);
	/* the page stock still holds /a's batch */
	assert_int_equal(kms_sim_set_mm_params(t.sim, &p), -EBUSY);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(kms_sim_set_mm_params(t.sim, &p), 0);
	assert_int_equal(t.sim->mm.params.memcg_charge_batch, 32);
	p.nr_memcg_stock = 0;
	assert_int_equal(kms_sim_set_mm_params(t.sim, &p), -EINVAL);
	mmt_fini(&t);
}

/* 64 KiB pages: one kmalloc-8 object still takes a whole (64 KiB) page of the batch. */
static void test_page_size_from_config(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 65536, 2, MMT_6_18);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 8, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(mmt_read(&t, "/a").kmem, 65536);
	assert_int_equal(mmt_read(&t, "/a").current, 64 * 65536);
	kfree(t.sim, &t.ctx, &c);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_set_only_while_idle),
		cmocka_unit_test(test_page_size_from_config),
	};

	return cmocka_run_group_tests_name("mm/params", tests, NULL, NULL);
}
