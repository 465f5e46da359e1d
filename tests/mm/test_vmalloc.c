// SPDX-License-Identifier: MIT
/*
 * vmalloc(): PAGE_ALIGN(size) >> PAGE_SHIFT data pages, each charged on its
 * own (so the page stock is used page by page), no guard page, no charge for
 * the page-pointer array; memory.stat vmalloc and kernel by the pages.
 */
#include "mm_test.h"

static void vmalloc_one(uint32_t page_size, uint32_t cpus, size_t size, uint64_t pages)
{
	struct kmem_charge c;
	struct mmt t;

	mmt_init(&t, page_size, cpus, MMT_6_18);
	assert_int_equal(vmalloc(t.sim, &t.ctx, size, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(c.kind, KMEM_VMALLOC);
	assert_int_equal(c.size, pages * page_size);
	assert_int_equal(mmt_used(&t, "/a"), pages * page_size);
	assert_int_equal(mmt_read(&t, "/a").stat_vmalloc, pages * page_size);
	assert_int_equal(mmt_read(&t, "/a").stat_kernel, pages * page_size);
	assert_int_equal(mmt_read(&t, "/a").kmem, pages * page_size);
	vfree(t.sim, &t.ctx, &c);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	assert_int_equal(mmt_read(&t, "/a").stat_vmalloc, 0);
	mmt_fini(&t);
}

static void test_vmalloc_pages(void **state)
{
	(void)state;
	/* 10000 bytes: 3 pages of 4 KiB (the guard page is not charged) */
	vmalloc_one(4096, 2, 10000, 3);
	vmalloc_one(4096, 256, 10000, 3);
	/* ... or 1 page of 64 KiB */
	vmalloc_one(65536, 2, 10000, 1);
	vmalloc_one(65536, 256, 10000, 1);
	/* 5.11 ARRAY k4 v8 N=100000 (semantics.md 6.2): 800,320 B -> 196 pages */
	vmalloc_one(4096, 2, 800320, 196);
}

/* Page-by-page charges: a 70-page area takes ceil(70 / batch) batches. */
static void vmalloc_stock(enum mmt_kernel k, uint64_t batch)
{
	struct kmem_charge c;
	struct mmt t;
	const uint64_t batches = (70 + batch - 1) / batch;

	mmt_init(&t, 4096, 2, k);
	assert_int_equal(vmalloc(t.sim, &t.ctx, 70 * 4096, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(mmt_read(&t, "/a").current, batches * batch * 4096);
	assert_int_equal(mmt_read(&t, "/a").stock, (batches * batch - 70) * 4096);
	/* v1 memory.kmem.usage_in_bytes: exact, no batch */
	assert_int_equal(mmt_read(&t, "/a").kmem, 70 * 4096);
	vfree(t.sim, &t.ctx, &c);
	/* each page goes back to the stock; above a batch the stock is drained */
	assert_int_equal(mmt_used(&t, "/a"), 0);
	assert_true(mmt_read(&t, "/a").stock <= batch * 4096);
	mmt_fini(&t);
}

static void test_vmalloc_uses_the_stock_page_by_page(void **state)
{
	(void)state;
	vmalloc_stock(MMT_6_18, 64);	/* 128 pages charged */
	vmalloc_stock(MMT_5_11, 32);	/* 96 pages charged */
}

/* A vmalloc refused part-way gives back the pages it had; they go through the stock. */
static void test_vmalloc_failure_midway(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 100 * 4096), 0);
	assert_int_equal(vmalloc(t.sim, &t.ctx, 150 * 4096, GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL,
				 &c), -ENOMEM);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	assert_int_equal(mmt_read(&t, "/a").kmem, 0);
	assert_int_equal(mmt_read(&t, "/a").stat_vmalloc, 0);
	assert_int_equal(mmt_read(&t, "/a").events_oom, 0);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(mmt_read(&t, "/a").current, 0);
	/* 32 GiB fits in kmem_charge.size (43 bits): 8 Mi pages, unaccounted here */
	assert_int_equal(vmalloc(t.sim, &t.ctx, 32ull << 30, GFP_KERNEL, &c), 0);
	assert_int_equal(c.size, 32ull << 30);
	vfree(t.sim, &t.ctx, &c);
	assert_int_equal(vmalloc(t.sim, &t.ctx, 0, GFP_KERNEL, &c), -ENOMEM);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmalloc_pages),
		cmocka_unit_test(test_vmalloc_uses_the_stock_page_by_page),
		cmocka_unit_test(test_vmalloc_failure_midway),
	};

	return cmocka_run_group_tests_name("mm/vmalloc", tests, NULL, NULL);
}
