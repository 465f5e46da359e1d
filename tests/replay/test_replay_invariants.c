// SPDX-License-Identifier: MIT
/*
 * Every trace we have, under every profile, with the model's invariants
 * checked after every event; where a trace frees every object, everything
 * is back at zero once RCU and the per-CPU stocks are flushed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "kmemsim/sim.h"
#include "replay_test.h"

/* Trace directories below the source root; a missing one is skipped. */
static const char *const trace_dirs[] = {
	"traces/real", "traces/shared", "traces/strace", "traces/scenarios", "tests/replay/traces",
};

static void test_every_trace_keeps_the_invariants(void **state)
{
	size_t replayed = 0, zero_checked = 0;

	(void)state;
	for (size_t d = 0; d < sizeof(trace_dirs) / sizeof(trace_dirs[0]); d++) {
		size_t n;
		char **files = rt_list_traces(trace_dirs[d], &n);

		for (size_t i = 0; i < n; i++) {
			struct kms_replay *r = rt_replay(files[i], NULL, NULL, NULL, NULL, NULL);

			for (size_t run = 0; run < kms_replay_nr_runs(r); run++) {
				if (!rt_all_freed(r, run))
					continue;
				rt_assert_back_to_zero(r, run, files[i]);
				zero_checked++;
			}
			kms_replay_free(r);
			replayed++;
		}
		rt_free_list(files, n);
	}
	printf("# %zu traces replayed, %zu runs ended with every object freed\n", replayed,
	       zero_checked);
	/* The hand-written traces free everything under every profile. */
	assert_true(replayed >= 3);
	assert_true(zero_checked >= 3);
}

/*
 * The hand-written lifecycle trace frees every object it made under every
 * profile (so the zero check above cannot be skipped for it).
 */
static void test_lifecycle_frees_everything(void **state)
{
	char path[4096];
	struct kms_replay *r;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/replay/traces/lifecycle.trace",
		 getenv("KMEMSIM_SOURCE_ROOT"));
	r = rt_replay(path, NULL, NULL, NULL, NULL, NULL);
	for (size_t run = 0; run < kms_replay_nr_runs(r); run++) {
		struct kms_replay_summary s;

		kms_replay_summary(r, run, &s);
		assert_true(rt_all_freed(r, run));
		rt_assert_back_to_zero(r, run, "lifecycle.trace");
		/* 5.10 / 5.11 / 6.18 all let root make these objects: nothing failed. */
		assert_int_equal(s.failed, 0);
	}
	kms_replay_free(r);
}

/*
 * A removed cgroup's programs are detached and their storages freed
 * (cgroup_bpf_release()); the replay once released after the rmdir, when
 * the BPF world could no longer find the cgroup, so nothing was freed.
 */
static void test_cgroup_remove_releases_programs(void **state)
{
	char path[4096];
	const char *profiles[] = { "linux-6.18" };
	struct kms_replay_opts o = { .profiles = profiles, .nr_profiles = 1 };
	struct kms_replay *r;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/replay/traces/cgroup_release.trace",
		 getenv("KMEMSIM_SOURCE_ROOT"));
	r = rt_replay(path, NULL, &o, NULL, NULL, NULL);
	assert_true(kms_replay_all_expectations_hold(r));
	assert_true(rt_all_freed(r, 0));
	kms_replay_free(r);
}

/* A 16-page array map made by pid 1 in /a, with RLIMIT_MEMLOCK @memlock. */
#define ARRAY_IN_A(memlock)									\
	"trace version=1 kernel=6.18.44 page_size=4K cpus=2\n"					\
	"cgroup_create path=/a\n"								\
	"task_new pid=1 uid=0 cgroup=/a memlock_cur=" memlock " memlock_max=" memlock "\n"	\
	"map_create pid=1 map_type=array key_size=4 value_size=4096 max_entries=16 ret=3\n"

/* Memory returned after the map frees: a trace that keeps a map shows it is not zero. */
static void test_zero_check_sees_a_live_map(void **state)
{
	static const char text[] = ARRAY_IN_A("unlimited");
	const char *profiles[] = { "linux-6.18" };
	struct kms_replay_opts o = { .profiles = profiles, .nr_profiles = 1 };
	struct kms_replay *r = rt_replay(NULL, text, &o, NULL, NULL, NULL);
	struct kms_cgroup_stats st;

	(void)state;
	assert_false(rt_all_freed(r, 0));
	assert_int_equal(kms_cgroup_read(kms_replay_sim(r, 0), "/a", &st), 0);
	/* 6.18 array_map_alloc(): 16 values of 4096 bytes, vmalloc'd, charged to /a */
	assert_true(st.current - st.stock >= 16 * 4096);
	kms_replay_free(r);
}

/*
 * close(2) of a map's last fd frees it (bpf_map_release() -> bpf_map_put(),
 * the free itself in a kernel worker): the replay's put carries no task, and
 * once made the model refuse it (-ESRCH), leaking every closed map.
 */
static void test_close_frees_the_map(void **state)
{
	static const char text[] = ARRAY_IN_A("64K") "close pid=1 fd=3\n";
	const char *names[RT_MAX_PROFILES];
	struct kms_replay_opts o = { .profiles = names };
	struct kms_replay *r;

	(void)state;
	o.nr_profiles = rt_all_profiles(names);
	r = rt_replay(NULL, text, &o, NULL, NULL, NULL);
	for (size_t run = 0; run < kms_replay_nr_runs(r); run++) {
		struct kms_user_stats us;

		assert_true(rt_all_freed(r, run));
		/* 5.10: the 17 pages of locked_vm come back at once */
		assert_int_equal(kms_user_read(kms_replay_sim(r, run), 0, &us), 0);
		assert_int_equal(us.locked_vm, 0);
		rt_assert_back_to_zero(r, run, "close");
	}
	kms_replay_free(r);
}

/*
 * The BPF side of the invariants: locked_vm_bpf against the pages live
 * objects hold, an object's charges against the allocator ledger.
 */
static void test_bpf_invariants_report_both_numbers(void **state)
{
	static const char text[] =
		"trace version=1 kernel=5.10.0 page_size=4K cpus=2\n"
		"task_new pid=1 uid=0 memlock_cur=unlimited memlock_max=unlimited\n"
		/* 5.10 array_map_alloc(): cost round_up(4 * 4096 + sizeof(array), 4K): 5 pages */
		"map_create pid=1 map_type=array key_size=4 value_size=4096 max_entries=4 ret=3\n";
	const char *profiles[] = { "linux-5.10" };
	struct kms_replay_opts o = { .profiles = profiles, .nr_profiles = 1 };
	struct kms_replay *r = rt_replay(NULL, text, &o, NULL, NULL, NULL);
	struct kms_bpf *w = (struct kms_bpf *)kms_replay_bpf(r, 0);
	struct bpf_obj *map = w->objs[0];
	char why[256];

	(void)state;
	assert_int_equal(kms_bpf_check_invariants(w, why, sizeof(why)), 0);
	assert_int_equal(map->memlock_pages, 5);
	map->memlock_pages++;
	assert_int_equal(kms_bpf_check_invariants(w, why, sizeof(why)), -EUCLEAN);
	assert_string_equal(why, "uid 0: locked_vm_bpf 5 pages != 6 held by live objects");
	map->memlock_pages--;
	map->led.charged[KMS_MEM_VMALLOC] += 4096;
	assert_int_equal(kms_bpf_check_invariants(w, why, sizeof(why)), -EUCLEAN);
	assert_non_null(strstr(why, "object 1 (): charged"));
	map->led.charged[KMS_MEM_VMALLOC] -= 4096;
	assert_int_equal(kms_bpf_check_invariants(w, why, sizeof(why)), 0);
	kms_replay_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_trace_keeps_the_invariants),
		cmocka_unit_test(test_lifecycle_frees_everything),
		cmocka_unit_test(test_zero_check_sees_a_live_map),
		cmocka_unit_test(test_close_frees_the_map),
		cmocka_unit_test(test_cgroup_remove_releases_programs),
		cmocka_unit_test(test_bpf_invariants_report_both_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
