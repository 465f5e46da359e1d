// SPDX-License-Identifier: MIT
/* Built-in profiles are found by name and differ by data; overrides are checked. */
#include "bpf_test.h"
#include "profiles/profile.h"

static void test_builtin(void **state)
{
	const char *names[] = { "linux-5.10", "linux-5.11", "linux-5.11-v7", "linux-6.18" };

	(void)state;
	assert_int_equal(kms_profile_count(), 4);
	for (size_t i = 0; i < 4; i++) {
		const struct kms_profile *p = kms_profile_at(i);

		assert_string_equal(kms_profile_name(p), names[i]);
		assert_ptr_equal(kms_profile_find(names[i]), p);
		assert_true(strlen(kms_profile_description(p)) > 20);
	}
	assert_null(kms_profile_at(4));
	assert_null(kms_profile_find("linux-4.19"));
	assert_null(kms_profile_find(NULL));
	/* data, not code: the scheme, the batch, the struct sizes */
	assert_int_equal(kms_profile_find("linux-5.10")->scheme, ACCT_RLIMIT);
	assert_int_equal(kms_profile_find("linux-5.11")->memcg_charge_batch, 32);
	assert_int_equal(kms_profile_find("linux-6.18")->memcg_charge_batch, 64);
	assert_int_equal(kms_profile_find("linux-6.18")->sz.bpf_htab.bytes, 832);
	assert_string_equal(kms_profile_find("linux-6.18")->sz.bpf_htab.src, "BTF 6.18.44");
	assert_int_equal(kms_profile_rlimit_memlock(kms_profile_find("linux-5.10")), 65536);
	assert_int_equal(kms_profile_find("linux-5.11-v7")->helper, HELPER_MAP_IN_INTERRUPT);
}

static void test_set(void **state)
{
	struct kms_profile *p;
	struct kms_config cfg;
	struct mm_params mp;

	(void)state;
	assert_int_equal(kms_profile_copy(kms_profile_find("linux-6.18"), &p), 0);
	assert_int_equal(kms_profile_set(p, "cpus", "64"), 0);
	assert_int_equal(kms_profile_set(p, "page_size", "64K"), 0);
	assert_int_equal(kms_profile_set(p, "batch", "32"), 0);
	assert_int_equal(kms_profile_set(p, "nobpf", "on"), 0);
	assert_int_equal(kms_profile_set(p, "kmem", "off"), 0);
	assert_int_equal(kms_profile_set(p, "rlimit.memlock", "64K"), 0);
	kms_profile_config(p, &cfg);
	assert_int_equal(cfg.nr_cpus, 64);
	assert_int_equal(cfg.page_size, 65536);
	assert_false(cfg.bpf_memcg);
	assert_false(cfg.kmem);
	assert_int_equal(kms_profile_rlimit_memlock(p), 65536);
	kms_profile_mm_params(p, &mp);
	assert_int_equal(mp.memcg_charge_batch, 32);
	assert_int_equal(kms_profile_set(p, "rlimit.memlock", "unlimited"), 0);
	assert_int_equal(kms_profile_rlimit_memlock(p), UINT64_MAX);

	assert_int_equal(kms_profile_set(p, "cpus", "0"), -ERANGE);
	assert_non_null(strstr(kms_profile_error(p), "cpus"));
	assert_int_equal(kms_profile_set(p, "cpus", "lots"), -EINVAL);
	assert_int_equal(kms_profile_set(p, "page_size", "8K"), -ERANGE);
	assert_int_equal(kms_profile_set(p, "memcg", "maybe"), -EINVAL);
	assert_int_equal(kms_profile_set(p, "rlimit.memlock", "99999999999999999999G"),
			 -ERANGE);
	assert_int_equal(kms_profile_set(p, "frobnicate", "1"), -EINVAL);
	assert_non_null(strstr(kms_profile_error(p), "frobnicate"));
	assert_int_equal(kms_profile_set(p, "helper", "bogus"), -EINVAL);
	/* a failed set changes nothing */
	kms_profile_config(p, &cfg);
	assert_int_equal(cfg.nr_cpus, 64);
	kms_profile_free(p);
}

/* kernel.unprivileged_bpf_disabled=2 (6.18 default): uid 1000 gets EPERM from bpf() */
static void test_unprivileged_disabled(void **state)
{
	struct kms_bpf_ctx u = { .pid = 3 }, root = { .pid = 1 };
	struct kms_prog_attr prog = { .prog_type = 1, .insn_cnt = 2 };
	struct tw t;
	int id;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	assert_int_equal(kms_profile_set(t.prof, "unprivileged_bpf_disabled", "2"), 0);
	assert_int_equal(tw_map(&t, 3, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0), -EPERM);
	assert_non_null(strstr(kms_bpf_strerror(t.w), "unprivileged_bpf_disabled=2"));
	assert_int_equal(kms_bpf_prog_load(t.w, &u, &prog), -EPERM);
	id = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	assert_true(id > 0);
	assert_int_equal(kms_bpf_map_update(t.w, &u, (uint32_t)id, 0, 0), -EPERM);
	/* closing an inherited fd is close(2), not bpf(2) */
	assert_int_equal(kms_bpf_obj_get(t.w, (uint32_t)id), 0);
	assert_int_equal(kms_bpf_obj_put(t.w, &u, (uint32_t)id), 0);
	assert_int_equal(kms_bpf_map_update(t.w, &root, (uint32_t)id, 0, 0), 0);
	assert_int_equal(kms_profile_find("linux-6.18")->unprivileged_bpf_disabled, 2);
	assert_int_equal(kms_profile_find("linux-5.10")->unprivileged_bpf_disabled, 0);
	assert_int_equal(kms_profile_set(t.prof, "unprivileged_bpf_disabled", "3"), -ERANGE);
	tw_teardown(&t);
}

/* nobpf (cgroup.memory=nobpf, 6.3+): nothing BPF allocates is charged */
static void test_nobpf_charges_nothing(void **state)
{
	struct tw t;
	struct kms_bpf_obj_info info;
	struct kms_config cfg;
	int id;

	(void)state;
	assert_int_equal(kms_profile_copy(kms_profile_find("linux-6.18"), &t.prof), 0);
	assert_int_equal(kms_profile_set(t.prof, "nobpf", "on"), 0);
	kms_profile_config(t.prof, &cfg);
	assert_int_equal(kms_sim_new(&cfg, &t.sim), 0);
	assert_int_equal(kms_bpf_new(t.sim, t.prof, &t.w), 0);
	assert_int_equal(kms_cgroup_create(t.sim, "/a"), 0);
	assert_int_equal(kms_task_create(t.sim, 1, 0, "/a", KMS_UNLIMITED), 0);
	id = tw_map(&t, 1, KMS_MAP_TYPE_HASH, 4, 8, 1000, 0);
	assert_int_equal(kms_bpf_obj_info(t.w, (uint32_t)id, &info), 0);
	for (int k = 0; k < KMS_MEM_NR; k++)
		assert_int_equal(info.charged[k], 0);
	assert_true(info.unpaid > 1000 * 64);
	assert_null(info.memcg_path);
	tw_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_nobpf_charges_nothing),
		cmocka_unit_test(test_unprivileged_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
