// SPDX-License-Identifier: MIT
/*
 * alloc_percpu(): size aligned to PCPU_MIN_ALLOC_SIZE (4), charged
 * size * num_possible_cpus() (5.11) or pcpu_obj_full_size() =
 * size * P + size / 4 * sizeof(objcg *) (5.17+), memory.stat percpu alike.
 */
#include "mm_test.h"

static void percpu_one(uint32_t page_size, uint32_t cpus, enum mmt_kernel k)
{
	struct kmem_charge c;
	struct mmt t;
	/* size 10 -> ALIGN(10, 4) = 12 */
	const uint64_t full = k == MMT_6_18 ? 12ull * cpus + 12 / 4 * 8 : 12ull * cpus;

	mmt_init(&t, page_size, cpus, k);
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 10, 2, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(c.kind, KMEM_PERCPU);
	assert_int_equal(c.size, 12);
	assert_int_equal(kmem_charge_bytes(t.sim, &c), full);
	assert_int_equal(mmt_used(&t, "/a"), full);
	assert_int_equal(mmt_read(&t, "/a").stat_percpu, full);
	free_percpu(t.sim, &t.ctx, &c);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	assert_int_equal(mmt_read(&t, "/a").stat_percpu, 0);
	mmt_fini(&t);
}

static void test_percpu_charge(void **state)
{
	(void)state;
	percpu_one(4096, 2, MMT_6_18);		/* 12*2 + 24 = 48 */
	percpu_one(4096, 256, MMT_6_18);	/* 12*256 + 24 = 3096 */
	percpu_one(65536, 2, MMT_6_18);
	percpu_one(65536, 256, MMT_6_18);
	percpu_one(4096, 2, MMT_5_11);		/* 12*2 = 24 */
	percpu_one(65536, 256, MMT_5_11);	/* 12*256 = 3072 */
}

/* 4096 bytes on 256 CPUs: 1 MiB + 4096/4*8 = 1056768 bytes = 258 pages, more than a batch. */
static void test_percpu_bigger_than_a_batch(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 256, MMT_6_18);
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 4096, 8, GFP_KERNEL_ACCOUNT, &c), 0);
	/* try_charge_memcg(258): batch = max(64, 258), nothing left for the stocks */
	assert_int_equal(mmt_read(&t, "/a").current, 258 * 4096);
	assert_int_equal(mmt_read(&t, "/a").stock, 0);
	assert_int_equal(mmt_read(&t, "/a").kmem, 258 * 4096);
	free_percpu(t.sim, &t.ctx, &c);
	/* 6.18 refill_stock(): more than a batch is uncharged directly */
	assert_int_equal(mmt_read(&t, "/a").current, 0);
	mmt_fini(&t);
}

static void test_percpu_limits(void **state)
{
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	/* PCPU_MIN_UNIT_SIZE = PFN_ALIGN(32 KiB): 32768 is the largest allowed */
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 32768, 8, GFP_KERNEL, &c), 0);
	free_percpu(t.sim, &t.ctx, &c);
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 32769, 8, GFP_KERNEL, &c), -ENOMEM);
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 0, 8, GFP_KERNEL, &c), -ENOMEM);
	/* align must be a power of two no bigger than a page */
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 8, 24, GFP_KERNEL, &c), -ENOMEM);
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 8, 8192, GFP_KERNEL, &c), -ENOMEM);
	mmt_fini(&t);

	mmt_init(&t, 65536, 2, MMT_6_18);
	/* with 64 KiB pages PFN_ALIGN(32 KiB) is 64 KiB */
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 65536, 8, GFP_KERNEL, &c), 0);
	free_percpu(t.sim, &t.ctx, &c);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percpu_charge),
		cmocka_unit_test(test_percpu_bigger_than_a_batch),
		cmocka_unit_test(test_percpu_limits),
	};

	return cmocka_run_group_tests_name("mm/percpu", tests, NULL, NULL);
}
