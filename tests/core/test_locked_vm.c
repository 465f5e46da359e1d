// SPDX-License-Identifier: MIT
/*
 * The rlimit scheme's counter (5.10 kernel/bpf/syscall.c bpf_charge_memlock()):
 * one locked_vm per uid, shared by all of that uid's processes, compared with
 * the soft RLIMIT_MEMLOCK of the task making the charge.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/sim.h"

#define PAGE_SHIFT_4K 12

static struct kms_sim *new_sim(void)
{
	struct kms_config cfg;
	struct kms_sim *sim = NULL;

	kms_config_init(&cfg);
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	return sim;
}

static int charge(struct kms_sim *sim, int32_t pid, uint32_t pages)
{
	struct task *task = task_find(&sim->tasks, pid);

	assert_non_null(task);
	return bpf_charge_memlock(task->user, task->rlimit_memlock, sim->page_shift, pages);
}

static void test_one_uid_shares_locked_vm(void **state)
{
	struct kms_sim *sim = new_sim();
	struct kms_user_stats us;

	(void)state;
	/* Two root processes and one of uid 1000, all with the 5.10 default 64 KiB. */
	assert_int_equal(kms_task_create(sim, 10, 0, "/", 64 << 10), 0);
	assert_int_equal(kms_task_create(sim, 11, 0, "/", 64 << 10), 0);
	assert_int_equal(kms_task_create(sim, 20, 1000, "/", 64 << 10), 0);

	/* 64 KiB >> 12 = 16 pages. pid 10 takes 10 of uid 0's 16 pages. */
	assert_int_equal(charge(sim, 10, 10), 0);
	/* pid 11 alone would fit 7 pages, but uid 0 already holds 10: 17 > 16. */
	assert_int_equal(charge(sim, 11, 7), -EPERM);
	assert_int_equal(charge(sim, 11, 6), 0);
	/* uid 1000 has its own counter: 16 pages fit there. */
	assert_int_equal(charge(sim, 20, 16), 0);

	assert_int_equal(kms_user_read(sim, 0, &us), 0);
	assert_int_equal(us.locked_vm, 16 * 4096);
	assert_int_equal(kms_user_read(sim, 1000, &us), 0);
	assert_int_equal(us.locked_vm, 16 * 4096);
	kms_sim_free(sim);
}

static void test_limit_comes_from_the_calling_task(void **state)
{
	struct kms_sim *sim = new_sim();
	struct kms_user_stats us;

	(void)state;
	/* Same uid, different soft limits: 1 MiB (256 pages) and 64 KiB (16). */
	kms_task_create(sim, 10, 0, "/", 1 << 20);
	kms_task_create(sim, 11, 0, "/", 64 << 10);
	/* The big-limit task pushes the shared counter to 100 pages... */
	assert_int_equal(charge(sim, 10, 100), 0);
	/* ...and the small-limit task of the same uid then fails even for 1 page. */
	assert_int_equal(charge(sim, 11, 1), -EPERM);
	/* RLIM_INFINITY never fails. */
	assert_int_equal(kms_task_set_rlimit_memlock(sim, 11, KMS_UNLIMITED), 0);
	assert_int_equal(charge(sim, 11, 1), 0);
	kms_user_read(sim, 0, &us);
	assert_int_equal(us.locked_vm, 101 * 4096);
	assert_int_equal(us.locked_vm_peak, 101 * 4096);
	kms_sim_free(sim);
}

static void test_failed_charge_leaves_counter_unchanged(void **state)
{
	struct kms_sim *sim = new_sim();
	struct kms_user_stats us;

	(void)state;
	kms_task_create(sim, 10, 0, "/", 64 << 10);
	assert_int_equal(charge(sim, 10, 17), -EPERM);
	kms_user_read(sim, 0, &us);
	assert_int_equal(us.locked_vm, 0);
	assert_int_equal(us.locked_vm_peak, 0);
	kms_sim_free(sim);
}

static void test_other_users_of_locked_vm(void **state)
{
	struct kms_sim *sim = new_sim();
	struct kms_user_stats us;

	(void)state;
	kms_task_create(sim, 10, 0, "/", 64 << 10);
	/* A perf ring buffer of 8 + 1 pages holds uid 0's locked_vm... */
	assert_int_equal(kms_user_locked_vm_other(sim, 0, 9), 0);
	/* ...so BPF gets only 16 - 9 = 7 pages. */
	assert_int_equal(charge(sim, 10, 8), -EPERM);
	assert_int_equal(charge(sim, 10, 7), 0);
	assert_int_equal(kms_user_locked_vm_other(sim, 0, -9), 0);
	kms_user_read(sim, 0, &us);
	assert_int_equal(us.locked_vm, 7 * 4096);
	assert_int_equal(us.locked_vm_bpf, 7 * 4096);
	assert_int_equal(us.locked_vm_other, 0);
	kms_sim_free(sim);
}

static void test_uncharge_underflow_is_clamped(void **state)
{
	struct kms_sim *sim = new_sim();
	struct user_struct *user;

	(void)state;
	kms_task_create(sim, 10, 0, "/", 64 << 10);
	user = task_find(&sim->tasks, 10)->user;
	assert_int_equal(charge(sim, 10, 2), 0);
	bpf_uncharge_memlock(user, 3);
	assert_int_equal(user->locked_vm, 0);
	assert_int_equal(user->underflows, 1);
	kms_sim_free(sim);
}

static void test_page_size_changes_the_page_limit(void **state)
{
	struct kms_config cfg;
	struct kms_sim *sim;

	(void)state;
	kms_config_init(&cfg);
	cfg.page_size = 65536;
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	kms_task_create(sim, 10, 0, "/", 64 << 10);
	/* 64 KiB >> 16 = 1 page of 64 KiB. */
	assert_int_equal(charge(sim, 10, 2), -EPERM);
	assert_int_equal(charge(sim, 10, 1), 0);
	kms_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_uid_shares_locked_vm),
		cmocka_unit_test(test_limit_comes_from_the_calling_task),
		cmocka_unit_test(test_failed_charge_leaves_counter_unchanged),
		cmocka_unit_test(test_other_users_of_locked_vm),
		cmocka_unit_test(test_uncharge_underflow_is_clamped),
		cmocka_unit_test(test_page_size_changes_the_page_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
