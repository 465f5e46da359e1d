// SPDX-License-Identifier: MIT
/*
 * The replay engine: one trace, several profiles. Each test is a small
 * native trace and the outcome the kernel's rules give for it, with the
 * arithmetic written out. Invariants are checked after every event.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kmemsim/bpf.h"
#include "kmemsim/replay.h"
#include "kmemsim/sim.h"

static struct kms_replay *replay_text(const char *text, const char *const *profiles, size_t n,
				      const char *const *sets, size_t nr_sets, int want_ret)
{
	struct kms_replay_opts opts = {
		.profiles = profiles, .nr_profiles = n, .sets = sets, .nr_sets = nr_sets,
		.check_invariants = true, .limits = true,
	};
	struct kms_trace_reader *reader;
	struct kms_trace_error terr;
	struct kms_replay *r;
	char err[256];
	int ret;

	assert_int_equal(kms_replay_new(&opts, &r, err, sizeof(err)), 0);
	assert_int_equal(kms_trace_open_mem(text, strlen(text), "test", NULL, &reader, &terr), 0);
	ret = kms_replay_run(r, reader, NULL, NULL, NULL, NULL);
	if (ret != want_ret)
		fail_msg("replay returned %d (%s), wanted %d", ret, kms_replay_error(r), want_ret);
	kms_trace_reader_free(reader);
	return r;
}

static uint64_t locked_vm(struct kms_replay *r, size_t run, uint32_t uid)
{
	struct kms_user_stats us = { 0 };

	kms_user_read(kms_replay_sim(r, run), uid, &us);
	return us.locked_vm;
}

static const char *const p510_511[] = { "linux-5.10", "linux-5.11" };

/*
 * 5.10 kernel/bpf/hashtab.c htab_map_alloc(), key 4, value 8, 100000 entries, 2 CPUs:
 * n_buckets = roundup_pow_of_two(100000) = 131072; elem_size = 48 + 8 + 8 = 64;
 * cost = 131072 * 16 + 64 * 100000 + 64 * 2 = 8497280 bytes -> 2075 pages,
 * above the 64 KiB (16 page) RLIMIT_MEMLOCK: EPERM. 5.11 charges memcg instead.
 */
static const char big_hash[] =
	"trace version=1 kernel=5.10.7 cpus=2\n"
	"cgroup_create path=/app\n"
	"task_new pid=10 uid=0 cgroup=/app memlock_cur=64K memlock_max=64K\n"
	"map_create pid=10 map_type=hash key_size=4 value_size=8 max_entries=100000 ret=-EPERM\n"
	"exit pid=10\n";

static void test_rlimit_epERM_diverges_from_memcg(void **state)
{
	struct kms_replay *r = replay_text(big_hash, p510_511, 2, NULL, 0, 0);
	const struct kms_replay_divergence *d;
	struct kms_replay_summary s;

	(void)state;
	assert_int_equal(kms_replay_nr_divergences(r), 1);
	d = kms_replay_divergence(r, 0);
	assert_string_equal(d->op, "map_create");
	assert_int_equal(d->line, 4);
	assert_int_equal(d->results[0], -EPERM);
	/* 5.11 succeeds; the real kernel refused, so the model's fd is a phantom one. */
	assert_true(d->results[1] >= 0);
	assert_non_null(strstr(d->why, "0 + 2075 pages > RLIMIT_MEMLOCK 16 pages"));
	kms_replay_summary(r, 0, &s);
	assert_int_equal(s.errors[EPERM], 1);
	assert_int_equal(s.mismatches, 0);
	kms_replay_summary(r, 1, &s);
	assert_int_equal(s.failed, 0);
	assert_int_equal(s.mismatches, 1);	/* the 5.10 kernel said EPERM */
	kms_replay_free(r);
}

static void test_limits_needed_from_a_run_without_limits(void **state)
{
	struct kms_replay *r = replay_text(big_hash, p510_511, 2, NULL, 0, 0);
	struct kms_replay_limits lim;

	(void)state;
	/* Without a reopen function the failing run's peak is only a lower bound. */
	kms_replay_limits(r, 0, &lim);
	assert_false(lim.valid);
	kms_replay_free(r);
}

/* One page: 5.10 array cost = sizeof(bpf_array) (320, est.) + 1 * round_up(8, 8) = 328. */
static const char dup_close[] =
	"trace version=1 kernel=6.18.44\n"
	"task_new pid=10 uid=0 memlock_cur=64K\n"
	"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=3\n"
	"dup pid=10 fd=3 ret=4\n"
	"expect profile=linux-5.10 user=0 locked_vm==4K\n"
	"close pid=10 fd=3 ret=0\n"
	"expect profile=linux-5.10 user=0 locked_vm==4K\n"	/* fd 4 still holds the map */
	"close pid=10 fd=4 ret=0\n"
	"expect profile=linux-5.10 user=0 locked_vm==0\n";

static void test_last_fd_frees_the_map(void **state)
{
	static const char *const p[] = { "linux-5.10" };
	struct kms_replay *r = replay_text(dup_close, p, 1, NULL, 0, 0);

	(void)state;
	assert_int_equal(kms_replay_nr_expects(r), 3);
	assert_true(kms_replay_all_expectations_hold(r));
	kms_replay_free(r);
}

static const char fork_exit[] =
	"trace version=1 kernel=6.18.44\n"
	"task_new pid=10 uid=0 memlock_cur=64K\n"
	"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=3\n"
	"fork pid=10 child=11\n"
	"exit pid=10\n"
	/* the child's copy of fd 3 keeps the map (and its page of locked_vm) alive */
	"expect profile=linux-5.10 user=0 locked_vm==4K\n"
	"exit pid=11\n"
	"expect profile=linux-5.10 user=0 locked_vm==0\n";

static void test_forked_fd_keeps_the_map(void **state)
{
	static const char *const p[] = { "linux-5.10" };
	struct kms_replay *r = replay_text(fork_exit, p, 1, NULL, 0, 0);

	(void)state;
	assert_true(kms_replay_all_expectations_hold(r));
	kms_replay_free(r);
}

static const char shared_files[] =
	"trace version=1 kernel=6.18.44\n"
	"task_new pid=10 uid=0 memlock_cur=64K\n"
	"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=3\n"
	"fork pid=10 child=11 share_files=1\n"
	/* CLONE_FILES: one table, so the child's close is the parent's too */
	"close pid=11 fd=3 ret=0\n"
	"expect profile=linux-5.10 user=0 locked_vm==0\n"
	"map_update_elem pid=10 map_fd=3 key=0 ret=-EBADF\n"
	"expect profile=linux-5.10 ret==-EBADF\n";

static void test_clone_files_shares_the_table(void **state)
{
	static const char *const p[] = { "linux-5.10" };
	struct kms_replay *r = replay_text(shared_files, p, 1, NULL, 0, 0);

	(void)state;
	assert_true(kms_replay_all_expectations_hold(r));
	kms_replay_free(r);
}

static const char exec_closes[] =
	"trace version=1 kernel=6.18.44\n"
	"task_new pid=10 uid=0 memlock_cur=64K\n"
	"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=3\n"
	"exec pid=10 path=/bin/true\n"
	/* bpf(2) makes every fd O_CLOEXEC */
	"expect profile=linux-5.10 user=0 locked_vm==0\n";

static void test_exec_closes_bpf_fds(void **state)
{
	static const char *const p[] = { "linux-5.10" };
	struct kms_replay *r = replay_text(exec_closes, p, 1, NULL, 0, 0);

	(void)state;
	assert_true(kms_replay_all_expectations_hold(r));
	kms_replay_free(r);
}

static const char probe_einval[] =
	"trace version=1 kernel=6.18.44\n"
	"task_new pid=10 uid=0 cgroup=/ memlock_cur=64K\n"
	/* A libbpf feature probe the kernel refused: the model must not create it. */
	"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=-EINVAL\n"
	"expect profile=linux-5.10 ret==-EINVAL\n"
	"expect profile=linux-5.10 user=0 locked_vm==0\n";

static void test_refusals_outside_the_model_are_not_applied(void **state)
{
	static const char *const p[] = { "linux-5.10" };
	struct kms_replay *r = replay_text(probe_einval, p, 1, NULL, 0, 0);
	struct kms_replay_summary s;

	(void)state;
	assert_true(kms_replay_all_expectations_hold(r));
	kms_replay_summary(r, 0, &s);
	assert_int_equal(s.failed, 0);	/* not the model's failure */
	kms_replay_free(r);
}

/*
 * A --set memory.max replaces the trace's own. 5.11 array of 1024 8-byte
 * values: bpf_map_area_alloc(320 + 8192 = 8512) is a kmalloc_large of order 2
 * (16 KiB, 4 pages) charged to /app, above a 8 KiB limit: ENOMEM.
 */
static const char tight[] =
	"trace version=1 kernel=6.18.44\n"
	"cgroup_create path=/app\n"
	"cgroup_set path=/app memory.max=1G\n"
	"task_new pid=10 uid=0 cgroup=/app\n"
	"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1024 ret=3\n"
	"expect profile=linux-5.11 ret==-ENOMEM\n";

static void test_set_cgroup_limit_overrides_the_trace(void **state)
{
	static const char *const p[] = { "linux-5.11" };
	static const char *const sets[] = { "cgroup:/app:memory.max=8K" };
	struct kms_replay *r = replay_text(tight, p, 1, sets, 1, 0);
	struct kms_cgroup_stats st;

	(void)state;
	assert_true(kms_replay_all_expectations_hold(r));
	assert_int_equal(kms_cgroup_read(kms_replay_sim(r, 0), "/app", &st), 0);
	assert_int_equal(st.max, 8192);
	kms_replay_free(r);
}

static void test_expectation_failure_is_reported(void **state)
{
	static const char *const p[] = { "linux-5.10" };
	static const char text[] =
		"trace version=1\n"
		"task_new pid=10 uid=7 memlock_cur=64K\n"
		"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=3\n"
		"expect profile=linux-5.10 user=7 locked_vm==8K\n";
	struct kms_replay *r = replay_text(text, p, 1, NULL, 0, 0);
	const struct kms_replay_expect_result *x;

	(void)state;
	assert_false(kms_replay_all_expectations_hold(r));
	x = kms_replay_expect(r, 0);
	assert_int_equal(x->line, 4);
	assert_int_equal(x->got, 4096);
	assert_int_equal(x->want, 8192);
	assert_non_null(strstr(x->why, "locked_vm is 4096"));
	assert_int_equal(locked_vm(r, 0, 7), 4096);
	kms_replay_free(r);
}

static void test_unknown_profile_and_bad_set_are_usage_errors(void **state)
{
	static const char *const bad[] = { "linux-4.19" };
	static const char *const ok[] = { "linux-6.18" };
	static const char *const sets[] = { "cpus=0" };
	struct kms_replay_opts opts = { .profiles = bad, .nr_profiles = 1 };
	struct kms_replay *r = NULL;
	char err[256];

	(void)state;
	assert_int_equal(kms_replay_new(&opts, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "linux-4.19"));
	opts = (struct kms_replay_opts){ .profiles = ok, .nr_profiles = 1, .sets = sets,
					 .nr_sets = 1 };
	/* kms_profile_set(): a value out of range is -ERANGE */
	assert_int_equal(kms_replay_new(&opts, &r, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "cpus=0"));
}

static void test_malformed_trace_names_the_line(void **state)
{
	static const char *const p[] = { "linux-6.18" };
	static const char text[] =
		"trace version=1\n"
		"map_create pid=10 map_type=hash key_size=4 value_size=8 max_entries=10 ret=3\n"
		"map_update_elem pid=10 map_fd=three key=1 ret=0\n";
	struct kms_replay *r = replay_text(text, p, 1, NULL, 0, -EINVAL);

	(void)state;
	assert_non_null(strstr(kms_replay_error(r), "test:3:"));
	kms_replay_free(r);
}

/* memory.stat slab bytes of /app after every event (by seq), from the step callback. */
static int record_slab(const struct kms_replay_step *step, struct kms_replay *r, void *arg)
{
	uint64_t *slab = arg;
	struct kms_cgroup_stats st;

	if (step->ev->seq < 8 && kms_cgroup_read(kms_replay_sim(r, 0), "/app", &st) == 0)
		slab[step->ev->seq] = st.stat_slab;
	return 0;
}

/*
 * A deleted element of a BPF_F_NO_PREALLOC hash map is freed by an RCU
 * callback (5.11 kernel/bpf/hashtab.c free_htab_elem() -> call_rcu(...,
 * htab_elem_free_rcu)), so it stays charged for one grace period (the
 * model's 4 ms) and is uncharged once the trace's clock has passed it,
 * not only at the end of the trace. memory.stat slab of the map's cgroup
 * shows it (the root cgroup is never charged, hence /app).
 */
static void test_deleted_element_uncharged_after_grace_period(void **state)
{
	static const char text[] =
		"trace version=1 kernel=5.11.0 cpus=2\n"
		"cgroup_create t=0 path=/app\n"
		"task_new t=0 pid=1 cgroup=/app\n"
		"map_create t=0 map_type=hash key_size=4 value_size=8 max_entries=16 "
		"map_flags=no_prealloc ret=3\n"
		"map_update_elem t=0.001 map_fd=3 key=0x1 flags=any ret=0\n"
		"map_delete_elem t=0.002 map_fd=3 key=0x1 ret=0\n"
		/* 1 ms after the delete: inside the grace period */
		"map_lookup_elem t=0.003 map_fd=3 key=0x2 ret=-ENOENT\n"
		/* 8 ms after it: past */
		"map_lookup_elem t=0.010 map_fd=3 key=0x2 ret=-ENOENT\n";
	static const char *const p511[] = { "linux-5.11" };
	struct kms_replay_opts opts = { .profiles = p511, .nr_profiles = 1 };
	struct kms_trace_reader *reader;
	struct kms_trace_error terr;
	struct kms_replay *r;
	uint64_t slab[8] = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(kms_replay_new(&opts, &r, err, sizeof(err)), 0);
	assert_int_equal(kms_trace_open_mem(text, strlen(text), "test", NULL, &reader, &terr), 0);
	assert_int_equal(kms_replay_run(r, reader, record_slab, slab, NULL, NULL), 0);
	kms_trace_reader_free(reader);
	kms_replay_free(r);
	/* 5.11 kmalloc-cg-64: elem_size 48 + 8 + 8 = 64, charged with its obj_cgroup pointer */
	assert_int_equal(slab[4] - slab[3], 64 + 8);
	assert_int_equal(slab[6], slab[4]);
	assert_int_equal(slab[7], slab[3]);
}

/*
 * Replay memory follows live objects: after 3000 maps created and closed,
 * only the newest 1024 freed ones are kept for the report.
 */
static void test_freed_objects_are_bounded(void **state)
{
	static const char *const p[] = { "linux-6.18" };
	char *text = malloc(3000 * 120 + 128), *t = text;
	struct kms_replay *r;
	uint32_t listed = 0;

	(void)state;
	assert_non_null(text);
	t += sprintf(t, "trace version=1\ntask_new pid=10 uid=0\n");
	for (int i = 0; i < 3000; i++)
		t += sprintf(t, "map_create pid=10 map_type=array key_size=4 value_size=8 "
			     "max_entries=1 ret=3\nclose pid=10 fd=3 ret=0\n");
	r = replay_text(text, p, 1, NULL, 0, 0);
	for (uint32_t id = kms_bpf_obj_next(kms_replay_bpf(r, 0), 0); id;
	     id = kms_bpf_obj_next(kms_replay_bpf(r, 0), id))
		listed++;
	assert_int_equal(listed, 1024);
	assert_int_equal(kms_bpf_nr_dropped(kms_replay_bpf(r, 0)), 3000 - 1024);
	kms_replay_free(r);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rlimit_epERM_diverges_from_memcg),
		cmocka_unit_test(test_limits_needed_from_a_run_without_limits),
		cmocka_unit_test(test_last_fd_frees_the_map),
		cmocka_unit_test(test_forked_fd_keeps_the_map),
		cmocka_unit_test(test_clone_files_shares_the_table),
		cmocka_unit_test(test_exec_closes_bpf_fds),
		cmocka_unit_test(test_refusals_outside_the_model_are_not_applied),
		cmocka_unit_test(test_set_cgroup_limit_overrides_the_trace),
		cmocka_unit_test(test_expectation_failure_is_reported),
		cmocka_unit_test(test_unknown_profile_and_bad_set_are_usage_errors),
		cmocka_unit_test(test_malformed_trace_names_the_line),
		cmocka_unit_test(test_freed_objects_are_bounded),
		cmocka_unit_test(test_deleted_element_uncharged_after_grace_period),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
