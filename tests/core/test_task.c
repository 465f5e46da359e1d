// SPDX-License-Identifier: MIT
/* Tasks: cgroup membership, inheritance on fork, migration, and two sims in one process. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/sim.h"

static void test_fork_inherits_cgroup_uid_and_rlimit(void **state)
{
	struct kms_config cfg;
	struct kms_sim *sim;
	struct task *child;

	(void)state;
	kms_config_init(&cfg);
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	assert_int_equal(kms_cgroup_create(sim, "/svc"), 0);
	assert_int_equal(kms_task_create(sim, 100, 1000, "/svc", 8 << 20), 0);
	assert_int_equal(kms_task_fork(sim, 100, 101), 0);
	child = task_find(&sim->tasks, 101);
	assert_non_null(child);
	assert_int_equal(child->uid, 1000);
	assert_string_equal(child->memcg->path, "/svc");
	assert_int_equal(child->rlimit_memlock, 8 << 20);
	assert_ptr_equal(child->user, task_find(&sim->tasks, 100)->user);
	assert_int_equal(kms_task_fork(sim, 100, 101), -EEXIST);
	assert_int_equal(kms_task_fork(sim, 999, 102), -ESRCH);
	kms_sim_free(sim);
}

static void test_move_and_exit_update_membership(void **state)
{
	struct kms_config cfg;
	struct kms_cgroup_stats st;
	struct kms_sim *sim;

	(void)state;
	kms_config_init(&cfg);
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	kms_cgroup_create(sim, "/a");
	kms_cgroup_create(sim, "/b");
	kms_task_create(sim, 1, 0, "/a", 64 << 10);
	assert_int_equal(kms_cgroup_remove(sim, "/a"), -EBUSY);
	assert_int_equal(kms_task_move(sim, 1, "/b"), 0);
	assert_int_equal(kms_task_move(sim, 1, "/nope"), -ENOENT);
	kms_cgroup_read(sim, "/b", &st);
	assert_int_equal(st.nr_tasks, 1);
	assert_int_equal(kms_cgroup_remove(sim, "/a"), 0);
	assert_int_equal(kms_task_exit(sim, 1), 0);
	assert_int_equal(kms_task_exit(sim, 1), -ESRCH);
	assert_int_equal(kms_cgroup_remove(sim, "/b"), 0);
	kms_sim_free(sim);
}

static void test_two_sims_with_different_knobs(void **state)
{
	struct kms_config c4k, c64k;
	struct kms_sim *a, *b;
	struct kms_cgroup_stats st;

	(void)state;
	kms_config_init(&c4k);
	kms_config_init(&c64k);
	c64k.page_size = 65536;
	c64k.nr_cpus = 256;
	assert_int_equal(kms_sim_new(&c4k, &a), 0);
	assert_int_equal(kms_sim_new(&c64k, &b), 0);
	kms_cgroup_create(a, "/x");
	kms_cgroup_create(b, "/x");
	/* 100000 bytes: 24 pages of 4 KiB (98304) or 1 page of 64 KiB (65536). */
	kms_cgroup_set_max(a, "/x", 100000);
	kms_cgroup_set_max(b, "/x", 100000);
	kms_cgroup_read(a, "/x", &st);
	assert_int_equal(st.max, 24 * 4096);
	kms_cgroup_read(b, "/x", &st);
	assert_int_equal(st.max, 65536);
	assert_int_equal(kms_sim_config(b)->nr_cpus, 256);
	kms_sim_free(a);
	kms_sim_free(b);
}

static void test_invalid_knobs_are_refused(void **state)
{
	struct kms_config cfg;
	struct kms_sim *sim = NULL;

	(void)state;
	kms_config_init(&cfg);
	cfg.page_size = 8192;
	assert_int_equal(kms_sim_new(&cfg, &sim), -EINVAL);
	kms_config_init(&cfg);
	cfg.nr_cpus = 0;
	assert_int_equal(kms_sim_new(&cfg, &sim), -EINVAL);
	assert_null(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_inherits_cgroup_uid_and_rlimit),
		cmocka_unit_test(test_move_and_exit_update_membership),
		cmocka_unit_test(test_two_sims_with_different_knobs),
		cmocka_unit_test(test_invalid_knobs_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
