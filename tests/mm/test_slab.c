// SPDX-License-Identifier: MIT
/*
 * kmalloc and kmem_cache objects: the SLUB size classes of
 * include/linux/slab.h, obj_full_size() = s->size + sizeof(struct obj_cgroup *)
 * charged through the byte stock, memory.stat slab by the same bytes, and
 * kmalloc_large above KMALLOC_MAX_CACHE_SIZE (two pages).
 */
#include "mm_test.h"
#include "mm/slab.h"

struct size_class {
	size_t request, object;
};

/* __kmalloc_index() with KMALLOC_MIN_SIZE 8: 8, 16, 32, 64, 96, 128, 192, 256 ... 2 pages */
static const struct size_class classes_4k[] = {
	{ 1, 8 }, { 8, 8 }, { 9, 16 }, { 17, 32 }, { 33, 64 }, { 64, 64 },
	{ 65, 96 }, { 96, 96 }, { 97, 128 }, { 129, 192 }, { 192, 192 }, { 193, 256 },
	{ 257, 512 }, { 1000, 1024 }, { 2049, 4096 }, { 4097, 8192 }, { 8192, 8192 },
	/* KMALLOC_MAX_CACHE_SIZE = 4096 << 1: beyond it kmalloc_large, roundup 0 */
	{ 8193, 0 },
};

/* 64 KiB pages: KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1 = 17, caches up to 128 KiB */
static const struct size_class classes_64k[] = {
	{ 65, 96 }, { 129, 192 }, { 8193, 16384 }, { 65537, 131072 }, { 131072, 131072 },
	{ 131073, 0 },
};

static void test_size_classes(void **state)
{
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	for (size_t i = 0; i < sizeof(classes_4k) / sizeof(classes_4k[0]); i++)
		assert_int_equal(kmalloc_size_roundup(t.sim, classes_4k[i].request),
				 classes_4k[i].object);
	assert_int_equal(kmalloc_max_cache_size(t.sim), 8192);
	mmt_fini(&t);

	mmt_init(&t, 65536, 2, MMT_6_18);
	for (size_t i = 0; i < sizeof(classes_64k) / sizeof(classes_64k[0]); i++)
		assert_int_equal(kmalloc_size_roundup(t.sim, classes_64k[i].request),
				 classes_64k[i].object);
	assert_int_equal(kmalloc_max_cache_size(t.sim), 131072);
	mmt_fini(&t);
}

/* One kmalloc(100) in /a: class 128, charge 128 + 8 = 136 bytes. */
static void kmalloc_one(uint32_t page_size, uint32_t nr_cpus, enum mmt_kernel k)
{
	/* MEMCG_CHARGE_BATCH: 64 (6.18), 32 (5.11) */
	const uint64_t batch = k == MMT_6_18 ? 64 : 32;
	struct kmem_charge c;
	struct kms_cgroup_stats st;
	struct mmt t;

	mmt_init(&t, page_size, nr_cpus, k);
	t.ctx.cpu = nr_cpus - 1;
	assert_int_equal(kmalloc(t.sim, &t.ctx, 100, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(c.size, 128);
	assert_int_equal(c.kind, KMEM_SLAB);
	assert_int_equal(c.cpu, nr_cpus - 1);
	assert_non_null(c.objcg);
	st = mmt_read(&t, "/a");
	/* obj_cgroup_charge(136): one page, taken from a fresh batch */
	assert_int_equal(st.current, batch * page_size);
	assert_int_equal(st.kmem, page_size);
	assert_int_equal(st.stat_slab, 136);
	/* stock: batch - 1 pages plus the page's unused page_size - 136 bytes */
	assert_int_equal(st.stock, (batch - 1) * page_size + (page_size - 136));
	assert_int_equal(mmt_used(&t, "/a"), 136);
	mmt_check(&t);

	kfree(t.sim, &t.ctx, &c);
	st = mmt_read(&t, "/a");
	assert_int_equal(st.stat_slab, 0);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	/* the freed bytes sit in the obj stock; draining returns everything */
	assert_int_equal(kms_sim_drain_stock(t.sim), 0);
	st = mmt_read(&t, "/a");
	assert_int_equal(st.current, 0);
	assert_int_equal(st.kmem, 0);
	assert_int_equal(st.stock, 0);
	mmt_fini(&t);
}

static void test_kmalloc_charges_obj_full_size(void **state)
{
	(void)state;
	kmalloc_one(4096, 2, MMT_6_18);
	kmalloc_one(4096, 256, MMT_6_18);
	kmalloc_one(65536, 2, MMT_6_18);
	kmalloc_one(65536, 256, MMT_6_18);
	kmalloc_one(4096, 2, MMT_5_11);
	kmalloc_one(65536, 256, MMT_5_11);
}

/* Objects share the byte stock: N objects charge ceil(N * 136 / page) pages of kmem. */
static void test_objects_share_the_byte_stock(void **state)
{
	struct kmem_charge c[40];
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	for (int i = 0; i < 40; i++)
		assert_int_equal(kmalloc(t.sim, &t.ctx, 128, GFP_KERNEL_ACCOUNT, &c[i]), 0);
	/*
	 * 40 * 136 = 5440 bytes: the first object charges page 1 (3960 left),
	 * objects 2..30 use 29 * 136 = 3944 of it (16 left), object 31 charges
	 * page 2 -> kmem 2 pages.
	 */
	assert_int_equal(mmt_read(&t, "/a").kmem, 2 * 4096);
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 40 * 136);
	assert_int_equal(mmt_used(&t, "/a"), 40 * 136);
	for (int i = 0; i < 40; i++)
		kfree(t.sim, &t.ctx, &c[i]);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	mmt_fini(&t);
}

static void large_one(uint32_t page_size, enum mmt_kernel k)
{
	struct kmem_charge c;
	struct mmt t;
	/* get_order(2 pages + 1) = 2: 4 pages */
	const uint64_t bytes = 4ull * page_size;

	mmt_init(&t, page_size, 2, k);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 2 * page_size + 1, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(c.kind, KMEM_LARGE);
	assert_int_equal(c.size, bytes);
	assert_int_equal(mmt_read(&t, "/a").kmem, bytes);
	assert_int_equal(mmt_read(&t, "/a").stat_kernel, bytes);
	/* 6.18 ___kmalloc_large_node() moves the memcg's slab stat; 5.11 kmalloc_order() does not */
	assert_int_equal(mmt_read(&t, "/a").stat_slab, k == MMT_6_18 ? bytes : 0);
	assert_int_equal(mmt_used(&t, "/a"), bytes);
	kfree(t.sim, &t.ctx, &c);
	assert_int_equal(mmt_used(&t, "/a"), 0);
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 0);
	mmt_fini(&t);
}

static void test_kmalloc_large(void **state)
{
	(void)state;
	large_one(4096, MMT_6_18);
	large_one(65536, MMT_6_18);
	large_one(4096, MMT_5_11);
}

static void test_kmem_cache(void **state)
{
	struct kmem_cache *s;
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 256, MMT_6_18);
	s = kmem_cache_create(t.sim, "elem", 52);
	assert_non_null(s);
	/* ALIGN(52, sizeof(void *)) = 56; obj_full_size 56 + 8 = 64 */
	assert_int_equal(kmem_cache_size(s), 56);
	assert_int_equal(kmem_cache_alloc(t.sim, &t.ctx, s, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(mmt_used(&t, "/a"), 64);
	assert_int_equal(mmt_read(&t, "/a").stat_slab, 64);
	kmem_cache_free(t.sim, &t.ctx, &c);
	assert_null(kmem_cache_create(t.sim, "zero", 0));
	mmt_fini(&t);
}

static void test_unaccounted_is_tracked_not_charged(void **state)
{
	struct kms_kmem_totals tot;
	struct kmem_charge c;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 100, GFP_KERNEL, &c), 0);
	assert_null(c.objcg);
	assert_int_equal(mmt_read(&t, "/a").current, 0);
	assert_int_equal(kms_kmem_totals_read(t.sim, KMS_KMEM_SLAB, &tot), 0);
	/* unaccounted: the 128-byte object is used, nobody pays (no objcg pointer either) */
	assert_int_equal(tot.unpaid_bytes, 128);
	assert_int_equal(tot.charged_bytes, 0);
	kfree(t.sim, &t.ctx, &c);
	/* a second free of the same object is refused, not double-counted */
	kfree(t.sim, &t.ctx, &c);
	assert_int_equal(t.sim->mm.nr_bad_frees, 1);
	t.sim->mm.nr_bad_frees = 0;
	assert_int_equal(kms_kmem_totals_read(t.sim, KMS_KMEM_SLAB, &tot), 0);
	assert_int_equal(tot.unpaid_bytes, 0);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_classes),
		cmocka_unit_test(test_kmalloc_charges_obj_full_size),
		cmocka_unit_test(test_objects_share_the_byte_stock),
		cmocka_unit_test(test_kmalloc_large),
		cmocka_unit_test(test_kmem_cache),
		cmocka_unit_test(test_unaccounted_is_tracked_not_charged),
	};

	return cmocka_run_group_tests_name("mm/slab", tests, NULL, NULL);
}
