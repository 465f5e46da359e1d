// SPDX-License-Identifier: MIT
/*
 * Expectations in the replay (src/replay/expect.c): which run checks a line
 * (profile, and set= what-ifs as a run "P[K=V,...]"), and which event a bare
 * "expect ret" names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kmemsim/replay.h"
#include "kmemsim/trace.h"

/*
 * uid 1000's 8 MiB hash map under a 256 KiB memory.max (traces/scenarios/05):
 * 5.11 refuses it with ENOMEM at the limit; with memcg=off nothing is charged
 * and it succeeds. Each expect line must be checked in its own run only.
 */
static const char trace[] =
	"trace version=1 page_size=4K cpus=2\n"
	"cgroup_create path=/l\n"
	"cgroup_set path=/l memory.max=256K\n"
	"task_new pid=1 uid=1000 cgroup=/l memlock_cur=64K memlock_max=64K\n"
	"map_create pid=1 map_type=hash key_size=8 value_size=8 max_entries=100000\n"
	"expect profile=linux-5.11 ret==-ENOMEM\n"
	"expect profile=linux-5.11 set=memcg=off ret>=0\n"
	"expect profile=linux-5.11 set=memcg=off cgroup=/l memory.kmem.usage_in_bytes==0\n";

static struct kms_replay *replay(const char *const *profiles, size_t n)
{
	struct kms_replay_opts o = { .profiles = profiles, .nr_profiles = n,
				     .check_invariants = true };
	struct kms_trace_reader *rd;
	struct kms_trace_error terr;
	struct kms_replay *r;
	char err[256];

	assert_int_equal(kms_trace_open_mem(trace, strlen(trace), "t.trace", NULL, &rd, &terr), 0);
	if (kms_replay_new(&o, &r, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(kms_replay_run(r, rd, NULL, NULL, NULL, NULL), 0);
	kms_trace_reader_free(rd);
	return r;
}

static void test_run_names(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(kms_replay_run_name("linux-5.11", NULL, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "linux-5.11");
	assert_true(kms_replay_run_name("linux-5.11", "memcg=off", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "linux-5.11[memcg=off]");
	assert_int_equal(kms_replay_run_name("linux-5.11", "memcg=off", buf, 8), -ENAMETOOLONG);
}

/* Two expectations after one event both name it; the set= lines go to their run only. */
static void test_set_runs(void **state)
{
	const char *const both[] = { "linux-5.11", "linux-5.11[memcg=off]" };
	struct kms_replay *r = replay(both, 2);

	(void)state;
	assert_int_equal(kms_replay_nr_expects(r), 3);
	for (size_t i = 0; i < 3; i++) {
		const struct kms_replay_expect_result *x = kms_replay_expect(r, i);

		if (!x->pass)
			fail_msg("line %u [%s] %s: %s", x->line, x->profile, x->text, x->why);
	}
	assert_string_equal(kms_replay_expect(r, 0)->profile, "linux-5.11");
	assert_int_equal(kms_replay_expect(r, 0)->got, -ENOMEM);
	assert_string_equal(kms_replay_expect(r, 1)->profile, "linux-5.11[memcg=off]");
	assert_true(kms_replay_expect(r, 1)->got >= 0);
	kms_replay_free(r);

	/* only the plain run: the set= lines are not checked at all */
	r = replay(both, 1);
	assert_int_equal(kms_replay_nr_expects(r), 1);
	kms_replay_free(r);
}

static void test_bad_run_names(void **state)
{
	static const char *const bad[] = { "linux-5.11[", "linux-5.11[]", "linux-5.11[nope=1]",
					   "linux-4.19[memcg=off]" };
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kms_replay_opts o = { .profiles = &bad[i], .nr_profiles = 1 };
		struct kms_replay *r = NULL;

		assert_int_equal(kms_replay_new(&o, &r, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_names),
		cmocka_unit_test(test_set_runs),
		cmocka_unit_test(test_bad_run_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
