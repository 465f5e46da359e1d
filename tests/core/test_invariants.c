// SPDX-License-Identifier: MIT
/*
 * kms_sim_check_invariants(): quiet on a consistent simulation, and each
 * class of corruption is reported.
 */
#include "../mm/mm_test.h"

static void test_holds_through_a_workload(void **state)
{
	struct kmem_charge c[16];
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 4, MMT_6_18);
	assert_int_equal(kms_cgroup_create(t.sim, "/a/b"), 0);
	for (int i = 0; i < 16; i++) {
		t.ctx.cpu = i % 4;
		assert_int_equal(kmalloc(t.sim, &t.ctx, 100 * (i + 1), GFP_KERNEL_ACCOUNT, &c[i]), 0);
		mmt_check(&t);
	}
	for (int i = 0; i < 16; i += 2) {
		t.ctx.cpu = (i + 1) % 4;
		kfree(t.sim, &t.ctx, &c[i]);
		mmt_check(&t);
	}
	kms_sim_drain_stock(t.sim);
	mmt_check(&t);
	for (int i = 1; i < 16; i += 2)
		kfree(t.sim, &t.ctx, &c[i]);
	mmt_fini(&t);
}

static void test_reports_corruption(void **state)
{
	char why[256];
	struct kmem_charge c;
	struct mem_cgroup *a;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	a = mmt_memcg(&t, "/a");
	assert_int_equal(alloc_pages(t.sim, &t.ctx, 0, GFP_KERNEL_ACCOUNT, &c), 0);
	/* a charge that bypassed the stats */
	page_counter_charge(&a->kmem, 1);
	assert_int_equal(kms_sim_check_invariants(t.sim, why, sizeof(why)), -EUCLEAN);
	assert_non_null(strstr(why, "stat kernel"));
	page_counter_uncharge(&a->kmem, 1);
	mmt_check(&t);
	/* a page charged to the counter that no object or stock explains */
	page_counter_charge(&a->memory, 1);
	assert_int_equal(kms_sim_check_invariants(t.sim, why, sizeof(why)), -EUCLEAN);
	assert_non_null(strstr(why, "root usage"));
	page_counter_uncharge(&a->memory, 1);
	mmt_check(&t);
	/* an uncharge below zero (the kernel WARNs and clamps) */
	free_pages(t.sim, &t.ctx, &c);
	kms_sim_drain_stock(t.sim);
	page_counter_uncharge(&a->memory, 1);
	assert_int_equal(kms_sim_check_invariants(t.sim, why, sizeof(why)), -EUCLEAN);
	assert_non_null(strstr(why, "below zero"));
	a->memory.underflows = 0;
	t.sim->memcgs.root->memory.underflows = 0;
	mmt_fini(&t);
}

/*
 * A charge booked to the wrong cgroup keeps the root's total right: only
 * the per-cgroup law (usage == live charges of the subtree + stocks +
 * parked) sees it, naming the cgroup and both numbers.
 */
static void test_reports_a_charge_on_the_wrong_cgroup(void **state)
{
	char why[256];
	struct kmem_charge c;
	struct mem_cgroup *a, *b;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_cgroup_create(t.sim, "/b"), 0);
	a = mmt_memcg(&t, "/a");
	b = mmt_memcg(&t, "/b");
	assert_int_equal(alloc_pages(t.sim, &t.ctx, 0, GFP_KERNEL_ACCOUNT, &c), 0);
	kms_sim_drain_stock(t.sim);
	mmt_check(&t);
	/* one page moved from /a's counter to /b's: the root's sum is unchanged */
	page_counter_uncharge(&a->memory, 1);
	page_counter_charge(&b->memory, 1);
	assert_int_equal(kms_sim_check_invariants(t.sim, why, sizeof(why)), -EUCLEAN);
	assert_non_null(strstr(why, "/a: usage 0 != live charges + stocks + parked 4096"));
	page_counter_uncharge(&b->memory, 1);
	page_counter_charge(&a->memory, 1);
	mmt_check(&t);
	free_pages(t.sim, &t.ctx, &c);
	mmt_fini(&t);
}

/* memory.stat by kind is what each allocator charged: a stray stat update is seen. */
static void test_reports_a_stat_kind_off_its_allocator(void **state)
{
	char why[256];
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	mod_memcg_state(mmt_memcg(&t, "/a"), MEMCG_PERCPU_B, 8);
	assert_int_equal(kms_sim_check_invariants(t.sim, why, sizeof(why)), -EUCLEAN);
	assert_string_equal(why, "/: memory.stat percpu 8 != 0 bytes charged by that allocator");
	mod_memcg_state(mmt_memcg(&t, "/a"), MEMCG_PERCPU_B, -8);
	mmt_fini(&t);
}

/* locked_vm is what BPF and the other users hold, never below zero. */
static void test_reports_locked_vm_corruption(void **state)
{
	char why[256];
	struct user_struct *u;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_user_locked_vm_other(t.sim, 1000, 8), 0);
	mmt_check(&t);
	u = user_table_find(&t.sim->users, 1000);
	assert_non_null(u);
	u->locked_vm_bpf += 2;	/* a BPF charge that bypassed locked_vm */
	assert_int_equal(kms_sim_check_invariants(t.sim, why, sizeof(why)), -EUCLEAN);
	assert_non_null(strstr(why, "uid 1000: locked_vm 8 != bpf 2 + other 8 pages"));
	u->locked_vm_bpf -= 2;
	mmt_check(&t);
	/* a trace cannot give back more than the other users took */
	assert_int_equal(kms_user_locked_vm_other(t.sim, 1000, -9), -EINVAL);
	assert_int_equal(kms_user_locked_vm_other(t.sim, 1000, INT64_MIN), -EINVAL);
	assert_int_equal(kms_user_locked_vm_other(t.sim, 1000, INT64_MAX), -EINVAL);
	mmt_check(&t);
	assert_int_equal(kms_user_locked_vm_other(t.sim, 1000, -8), 0);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holds_through_a_workload),
		cmocka_unit_test(test_reports_corruption),
		cmocka_unit_test(test_reports_a_charge_on_the_wrong_cgroup),
		cmocka_unit_test(test_reports_locked_vm_corruption),
		cmocka_unit_test(test_reports_a_stat_kind_off_its_allocator),
	};

	return cmocka_run_group_tests_name("core/invariants", tests, NULL, NULL);
}
