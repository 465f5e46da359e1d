// SPDX-License-Identifier: MIT
/*
 * The limit experiments run on real 5.10.7 and 5.11.14 kernels
 * (/work/shared/reference/kernel-5.1x-limits.csv), replayed: the
 * RLIMIT_MEMLOCK boundary, no bypass for root, one counter per uid checked
 * against each caller's own limit, maps and programs sharing it, mlock() not
 * sharing it; and 5.11's memory.max behaviour (creation ENOMEM, inserts
 * force-charged).
 */
#include "bpf_test.h"

#define K64 (64 * 1024)

static int one_page_maps(struct tw *t, int32_t pid, int max)
{
	int n = 0;

	/* array of 1 x 8 bytes: 320 + 8 -> 1 page */
	while (n < max && tw_map(t, pid, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0) > 0)
		n++;
	return n;
}

/* R1: root, one array of N x 8 bytes, 64 KiB limit: 320 + 8N bytes in pages, EPERM past 16 */
static void test_510_r1_boundary(void **state)
{
	static const struct { uint32_t n; uint64_t memlock; } v[] = {
		{ 1, 4096 }, { 256, 4096 }, { 500, 8192 }, { 1000, 12288 }, { 2000, 16384 },
		{ 4000, 32768 }, { 7000, 57344 }, { 7600, 61440 }, { 7700, 65536 },
		{ 8000, 65536 }, { 8192, 0 }, { 9000, 0 }, { 16384, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct tw t;
		int id;

		tw_setup(&t, "linux-5.10", K64);
		id = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, v[i].n, 0);
		if (v[i].memlock)
			assert_int_equal(tw_memlock(&t, id), v[i].memlock);
		else
			assert_int_equal(id, -EPERM);
		tw_teardown(&t);
	}
}

/* R1b-e, R2: 16 one-page maps, the 17th is EPERM; again right after closing; limit 0: none */
static void test_510_r1_counts(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1);

	(void)state;
	tw_setup(&t, "linux-5.10", K64);
	assert_int_equal(one_page_maps(&t, 1, 256), 16);
	assert_int_equal(tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0), -EPERM);
	for (uint32_t id = 1; id <= 16; id++)
		assert_int_equal(kms_bpf_obj_put(t.w, &c, id), 0);
	assert_int_equal(one_page_maps(&t, 1, 256), 16);	/* R1c: no deferred uncharge */
	assert_int_equal(kms_task_set_rlimit_memlock(t.sim, 2, 0), 0);
	assert_int_equal(tw_map(&t, 2, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0), -EPERM);	/* R1e */
	tw_teardown(&t);
}

/* R3: uid 1000 process A holds 10 pages; B (uid 1000) gets 6, C (uid 1001) and root 16 each */
static void test_510_r3_per_uid(void **state)
{
	struct tw t;

	(void)state;
	tw_setup(&t, "linux-5.10", K64);
	assert_int_equal(kms_task_create(t.sim, 10, 1000, "/a", K64), 0);
	assert_int_equal(kms_task_create(t.sim, 11, 1000, "/a", K64), 0);
	assert_int_equal(kms_task_create(t.sim, 12, 1001, "/a", K64), 0);
	assert_int_equal(one_page_maps(&t, 10, 10), 10);		/* R3a */
	assert_int_equal(one_page_maps(&t, 11, 256), 6);		/* R3b */
	assert_int_equal(one_page_maps(&t, 12, 256), 16);		/* R3c */
	assert_int_equal(one_page_maps(&t, 1, 256), 16);		/* R3d */
	/* R3e: B with a 128 KiB limit sees the uid-wide 16 pages and adds up to 32 */
	assert_int_equal(kms_task_set_rlimit_memlock(t.sim, 11, 2 * K64), 0);
	assert_int_equal(one_page_maps(&t, 11, 256), 16);	/* 10 (A) + 6 + 16 = 32 pages */
	tw_teardown(&t);

	/* R3e as measured: A holds 10, B at 128 KiB creates 22 */
	tw_setup(&t, "linux-5.10", K64);
	assert_int_equal(kms_task_create(t.sim, 10, 1000, "/a", K64), 0);
	assert_int_equal(kms_task_create(t.sim, 11, 1000, "/a", 2 * K64), 0);
	assert_int_equal(one_page_maps(&t, 10, 10), 10);
	assert_int_equal(one_page_maps(&t, 11, 256), 22);
	tw_teardown(&t);
}

/* R3f: once A's maps are closed (A exits), B gets 16 again */
static void test_510_r3f_after_exit(void **state)
{
	struct tw t;
	struct kms_bpf_ctx a = task_ctx(10);

	(void)state;
	tw_setup(&t, "linux-5.10", K64);
	assert_int_equal(kms_task_create(t.sim, 10, 1000, "/a", K64), 0);
	assert_int_equal(kms_task_create(t.sim, 11, 1000, "/a", K64), 0);
	assert_int_equal(one_page_maps(&t, 10, 10), 10);
	for (uint32_t id = 1; id <= 10; id++)	/* process exit closes its fds */
		assert_int_equal(kms_bpf_obj_put(t.w, &a, id), 0);
	assert_int_equal(kms_task_exit(t.sim, 10), 0);
	assert_int_equal(one_page_maps(&t, 11, 256), 16);
	tw_teardown(&t);
}

/* R4: a 4000-insn program (56 + 32000 bytes: 8 pages) fits alone, not after 10 map pages */
static void test_510_r4_prog_and_maps(void **state)
{
	struct kms_prog_attr p = { .prog_type = 1, .insn_cnt = 4000 };
	struct kms_bpf_ctx c = task_ctx(1);
	struct tw t;
	int id;

	(void)state;
	tw_setup(&t, "linux-5.10", K64);
	id = kms_bpf_prog_load(t.w, &c, &p);
	assert_int_equal(tw_memlock(&t, id), 32768);			/* R4b */
	tw_teardown(&t);
	tw_setup(&t, "linux-5.10", K64);
	assert_int_equal(one_page_maps(&t, 1, 10), 10);
	assert_int_equal(kms_bpf_prog_load(t.w, &c, &p), -EPERM);	/* R4a */
	tw_teardown(&t);
	/* 5.11: no rlimit at all (R1b 256 maps, R4a the program fits) */
	tw_setup(&t, "linux-5.11", K64);
	assert_int_equal(one_page_maps(&t, 1, 256), 256);
	id = kms_bpf_prog_load(t.w, &c, &p);
	assert_int_equal(tw_memlock(&t, id), 32768);
	tw_teardown(&t);
}

/* R4c: 48 KiB of mlock() (mm->locked_vm, another counter) leaves 16 pages; R5 unlimited */
static void test_510_r4c_r5(void **state)
{
	static const uint32_t entries[] = { 1, 4096, 8191, 8192, 16384 };
	struct tw t;

	(void)state;
	tw_setup(&t, "linux-5.10", K64);
	assert_int_equal(one_page_maps(&t, 1, 256), 16);
	tw_teardown(&t);
	tw_setup(&t, "linux-5.10", KMS_UNLIMITED);
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		assert_true(tw_map(&t, 3, KMS_MAP_TYPE_ARRAY, 4, 8, entries[i], 0) > 0);
	tw_teardown(&t);
}

/*
 * 5.11 CG experiments, memory.max = current + 8 MiB: arrays of 1024 and 262144
 * entries fit, 1048576 (8 MiB + the header) and more fail with ENOMEM; 65536
 * non-prealloc inserts of 4096-byte values are force-charged far past the
 * limit (kmalloc-8k objects, 8200 bytes each: measured +538,447,872 bytes).
 */
static void test_511_memory_max(void **state)
{
	static const struct { uint32_t n; int err; } v[] = {
		{ 1024, 0 }, { 262144, 0 }, { 1048576, -ENOMEM }, { 4194304, -ENOMEM },
	};
	struct kms_bpf_ctx c = task_ctx(1);
	struct kms_cgroup_stats s;
	struct tw t;
	int id;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tw_setup(&t, "linux-5.11", KMS_UNLIMITED);
		assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 8u << 20), 0);
		id = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, v[i].n, 0);
		if (v[i].err)
			assert_int_equal(id, v[i].err);
		else
			assert_true(id > 0);
		tw_teardown(&t);
	}
	tw_setup(&t, "linux-5.11", KMS_UNLIMITED);
	assert_int_equal(kms_cgroup_set_max(t.sim, "/a", 8u << 20), 0);
	id = tw_map(&t, 1, KMS_MAP_TYPE_HASH, 4, 4096, 65536, KMS_F_NO_PREALLOC);
	assert_true(id > 0);
	for (uint64_t k = 0; k < 65536; k++)
		assert_int_equal(kms_bpf_map_update(t.w, &c, (uint32_t)id, k, 0), 0);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(kms_cgroup_read(t.sim, "/a", &s), 0);
	assert_true(s.current >= 65536ull * 8200);
	assert_true(s.current <= 538447872ull + 8192);
	tw_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_510_r1_boundary),
		cmocka_unit_test(test_510_r1_counts),
		cmocka_unit_test(test_510_r3_per_uid),
		cmocka_unit_test(test_510_r3f_after_exit),
		cmocka_unit_test(test_510_r4_prog_and_maps),
		cmocka_unit_test(test_510_r4c_r5),
		cmocka_unit_test(test_511_memory_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
