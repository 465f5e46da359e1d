// SPDX-License-Identifier: MIT
/*
 * alloc_pages(order): 2^order pages charged at once; 5.13+ remember the
 * objcg (reparented on rmdir), 5.11 the memcg itself (a dying memcg keeps
 * them).
 */
#include "mm_test.h"

static void pages_one(uint32_t page_size, uint32_t cpus, enum mmt_kernel k)
{
	const uint64_t batch = k == MMT_6_18 ? 64 : 32;
	struct kmem_charge c;
	struct mmt t;

	mmt_init(&t, page_size, cpus, k);
	t.ctx.cpu = cpus - 1;
	assert_int_equal(alloc_pages(t.sim, &t.ctx, 3, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(c.size, 8ull * page_size);
	/* 8 pages out of one batch; batch - 8 stay in CPU (cpus - 1)'s stock */
	assert_int_equal(mmt_read(&t, "/a").current, batch * page_size);
	assert_int_equal(mmt_read(&t, "/a").stock, (batch - 8) * page_size);
	assert_int_equal(mmt_read(&t, "/a").stat_kernel, 8ull * page_size);
	if (k == MMT_6_18)
		assert_non_null(c.objcg);
	else
		assert_non_null(c.memcg);
	free_pages(t.sim, &t.ctx, &c);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	mmt_fini(&t);
}

static void test_order_n_pages(void **state)
{
	(void)state;
	pages_one(4096, 2, MMT_6_18);
	pages_one(4096, 256, MMT_6_18);
	pages_one(65536, 2, MMT_6_18);
	pages_one(65536, 256, MMT_5_11);
}

static void reparent(enum mmt_kernel k)
{
	struct kmem_charge c;
	struct mmt t;

	mmt_init(&t, 4096, 2, k);
	mmt_enter(&t, "/a/b");
	assert_int_equal(alloc_pages(t.sim, &t.ctx, 1, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(kms_task_move(t.sim, 100, "/a"), 0);
	assert_int_equal(kms_cgroup_remove(t.sim, "/a/b"), 0);
	if (k == MMT_6_18) {
		/* the objcg now points at /a: the memcg that pays is the parent */
		assert_ptr_equal(kmem_charge_memcg(&c), mmt_memcg(&t, "/a"));
	} else {
		/* the page holds the dying /a/b itself */
		assert_false(kmem_charge_memcg(&c)->online);
	}
	assert_int_equal(mmt_used(&t, "/a"), 2 * 4096);
	free_pages(t.sim, &t.ctx, &c);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	/*
	 * 5.11: the freed pages went to this CPU's stock for the dying /a/b,
	 * which pins it (css_get) until a drain; 6.18: nothing pins it.
	 */
	assert_int_equal(t.sim->memcgs.nr_dying, k == MMT_6_18 ? 0 : 1);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(t.sim->memcgs.nr_dying, 0);
	mmt_fini(&t);
}

static void test_uncharge_after_rmdir(void **state)
{
	(void)state;
	reparent(MMT_6_18);
	reparent(MMT_5_11);
}

static void test_order_above_max(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	/* MAX_PAGE_ORDER 10 */
	assert_int_equal(alloc_pages(t.sim, &t.ctx, 11, GFP_KERNEL_ACCOUNT, &c), -ENOMEM);
	assert_int_equal(alloc_pages(t.sim, &t.ctx, 10, GFP_KERNEL_ACCOUNT, &c), 0);
	/* 1024 pages > batch: charged exactly */
	assert_int_equal(mmt_read(&t, "/a").current, 1024 * 4096);
	free_pages(t.sim, &t.ctx, &c);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_n_pages),
		cmocka_unit_test(test_uncharge_after_rmdir),
		cmocka_unit_test(test_order_above_max),
	};

	return cmocka_run_group_tests_name("mm/page_alloc", tests, NULL, NULL);
}
