// SPDX-License-Identifier: MIT
/*
 * Array family under each profile. Expected memlock values are written out
 * from the kernel formulas with named struct sizes and agree with the real
 * measurements in /work/shared/reference (kernel-5.10-maps-v8.csv,
 * kernel-5.11-maps-v8.csv, kernel-6.18-maps-v8.csv: 6.18.44, P=2).
 */
#include "bpf_test.h"

enum { BPF_ARRAY_510 = 320, BPF_ARRAY_618 = 312 };

static const struct mvec vecs[] = {
	/* 5.10 cost = sizeof(bpf_array) + N * round_up(V, 8), charged in pages (csv) */
	{ "linux-5.10", KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0, PAGE },		/* 320 + 8 */
	{ "linux-5.10", KMS_MAP_TYPE_ARRAY, 4, 8, 1024, 0, 3 * PAGE },	/* 320 + 8192 */
	{ "linux-5.10", KMS_MAP_TYPE_ARRAY, 4, 8, 65536, 0, 129 * PAGE },	/* 320 + 524288 */
	{ "linux-5.10", KMS_MAP_TYPE_ARRAY, 4, 8, 7600, 0, 15 * PAGE },	/* limits csv: 61120 */
	{ "linux-5.10", KMS_MAP_TYPE_ARRAY, 4, 8, 7700, 0, 16 * PAGE },	/* 61920 > 15 pages */
	/* percpu: + max_entries * 8 pointers + N * E * P */
	{ "linux-5.10", KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1024, 0, 7 * PAGE },	/* 24896 */
	{ "linux-5.10", KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 65536, 0, 385 * PAGE },
	/* fd arrays: value 4 -> E = 8 */
	{ "linux-5.10", KMS_MAP_TYPE_PROG_ARRAY, 4, 4, 1024, 0, 3 * PAGE },
	{ "linux-5.10", KMS_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 65536, 0, 129 * PAGE },
	/* 5.11 footprint: round_up(N * round_up(k + value_size(map), 8), PAGE) */
	{ "linux-5.11", KMS_MAP_TYPE_ARRAY, 4, 8, 1024, 0, 16384 },		/* 1024 * 16 */
	{ "linux-5.11", KMS_MAP_TYPE_ARRAY, 4, 8, 65536, 0, 1048576 },
	{ "linux-5.11", KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1024, 0, 24576 },	/* 1024 * (4+16 -> 24) */
	{ "linux-5.11", KMS_MAP_TYPE_PROG_ARRAY, 4, 4, 1024, 0, 8192 },	/* 1024 * 8 */
	/* 6.18 array_map_mem_usage(): sizeof(bpf_array) + N * E */
	{ "linux-6.18", KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0, BPF_ARRAY_618 + 8 },	/* csv 320 */
	{ "linux-6.18", KMS_MAP_TYPE_ARRAY, 4, 8, 1048576, 0, BPF_ARRAY_618 + 8388608 },
	{ "linux-6.18", KMS_MAP_TYPE_ARRAY, 4, 8, 64, KMS_F_MMAPABLE, 2 * PAGE },	/* csv 8192 */
	{ "linux-6.18", KMS_MAP_TYPE_ARRAY, 4, 8, 1024, KMS_F_MMAPABLE, 3 * PAGE },	/* csv 12288 */
	{ "linux-6.18", KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, 0, BPF_ARRAY_618 + 8 + 8 * P },	/* 336 */
	{ "linux-6.18", KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1024, 0,
	  BPF_ARRAY_618 + 1024 * 8 + 1024 * 8 * P },	/* csv 24888 */
};

static void test_memlock_vectors(void **state)
{
	(void)state;
	tw_check_vectors(vecs, sizeof(vecs) / sizeof(vecs[0]));
}

/* 5.10: the charge is per uid and fails with EPERM past the soft limit (limits csv: 16 pages) */
static void test_510_rlimit(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1);
	int id;

	(void)state;
	tw_setup(&t, "linux-5.10", 64 * 1024);
	/* 320 + 7700 * 8 = 61920 -> 16 pages: exactly the limit */
	id = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 7700, 0);
	assert_true(id > 0);
	assert_int_equal(tw_locked_vm(&t, 0), 16 * PAGE);
	/* another root process shares uid 0's locked_vm: one more page fails */
	assert_int_equal(tw_map(&t, 2, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0), -EPERM);
	assert_non_null(strstr(kms_bpf_strerror(t.w), "RLIMIT_MEMLOCK 16 pages"));
	/* uid 1000 has its own counter */
	assert_true(tw_map(&t, 3, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0) > 0);
	/* closing the fd uncharges */
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)id), 0);
	assert_int_equal(tw_locked_vm(&t, 0), 0);
	assert_true(tw_map(&t, 2, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0) > 0);
	tw_teardown(&t);
}

/* Unprivileged creators (uid != 0, no CAP_BPF) get max_entries rounded to a power of two. */
static void test_unprivileged_rounding(void **state)
{
	struct tw t;
	int id;

	(void)state;
	tw_setup(&t, "linux-5.10", KMS_UNLIMITED);
	/* 320 + 100000 * 8 = 800320 -> 196 pages for root */
	id = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 100000, 0);
	assert_int_equal(tw_memlock(&t, id), 196 * PAGE);
	/* 320 + 131072 * 8 = 1048896 -> 257 pages for uid 1000 */
	id = tw_map(&t, 3, KMS_MAP_TYPE_ARRAY, 4, 8, 100000, 0);
	assert_int_equal(tw_memlock(&t, id), 257 * PAGE);
	tw_teardown(&t);
	/* 6.18 map_mem_usage keeps the unrounded N even when the area is rounded */
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	id = tw_map(&t, 3, KMS_MAP_TYPE_ARRAY, 4, 8, 100000, 0);
	assert_int_equal(tw_memlock(&t, id), BPF_ARRAY_618 + 800000);
	tw_teardown(&t);
}

static void test_errnos(void **state)
{
	struct tw t;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 8, 8, 1, 0), -EINVAL);	/* key 4 only */
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 0, 1, 0), -EINVAL);
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 0, 0), -EINVAL);
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, KMS_F_MMAPABLE), -EINVAL);
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_PERF_EVENT_ARRAY, 4, 8, 1, 0), -EINVAL);
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_PERCPU_ARRAY, 4, 40000, 1, 0), -E2BIG);
	/* uid 1000: 2^31 + 1 entries cannot be rounded to a power of two in 32 bits */
	assert_int_equal(tw_map(&t, 3, KMS_MAP_TYPE_ARRAY, 4, 1, 0x80000001u, 0), -E2BIG);
	tw_teardown(&t);
	/* 5.10: cost >= U32_MAX - PAGE_SIZE -> E2BIG before any charge */
	tw_setup(&t, "linux-5.10", KMS_UNLIMITED);
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 600000000, 0), -E2BIG);
	assert_int_equal(tw_locked_vm(&t, 0), 0);
	tw_teardown(&t);
}

/* 6.18 percpu_array: per-cpu values are allocated by helpers during map_alloc -> root, unpaid */
static void test_618_percpu_values_unpaid(void **state)
{
	struct tw t;
	struct kms_bpf_obj_info info;
	int id;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	id = tw_map(&t, 1, KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1000, 0);
	assert_int_equal(kms_bpf_obj_info(t.w, (uint32_t)id, &info), 0);
	/* 312 + 1000 * 8 = 8312 -> kmalloc_large order 2: 16384 (csv/semantics 4.7) */
	assert_int_equal(info.charged[KMS_MEM_PAGES] + info.charged[KMS_MEM_SLAB], 16384);
	assert_int_equal(info.charged[KMS_MEM_PERCPU], 0);
	assert_true(info.unpaid >= 1000 * 8 * P);
	tw_teardown(&t);
	/* 5.11: the same helper calls charge the creator (map->memcg not saved yet) */
	tw_setup(&t, "linux-5.11", KMS_UNLIMITED);
	id = tw_map(&t, 1, KMS_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1000, 0);
	assert_int_equal(kms_bpf_obj_info(t.w, (uint32_t)id, &info), 0);
	assert_int_equal(info.charged[KMS_MEM_PERCPU], 1000 * 8 * P);
	assert_string_equal(info.memcg_path, "/a");
	tw_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memlock_vectors),
		cmocka_unit_test(test_510_rlimit),
		cmocka_unit_test(test_unprivileged_rounding),
		cmocka_unit_test(test_errnos),
		cmocka_unit_test(test_618_percpu_values_unpaid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
