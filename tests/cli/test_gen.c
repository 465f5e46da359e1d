// SPDX-License-Identifier: MIT
/* kmemsim gen: the same options give the same bytes; bad options exit 2 with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "run.h"

static void test_gen_is_deterministic(void **state)
{
	const char *argv[] = { "gen", "-n", "5K", "--seed", "11", "--live", "200", NULL };
	struct run_result a, b;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &a), 0);
	assert_int_equal(run_kmemsim(argv, NULL, &b), 0);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.out_len, b.out_len);
	assert_memory_equal(a.out, b.out, a.out_len);
	assert_non_null(strstr(a.out, "\ntrace version=1 kernel=synthetic page_size=4K cpus=2\n"));
	/* the summary on stderr counts what was asked: -n 5K is 5000 events */
	assert_non_null(strstr(a.err, "gen: 5000 events"));
	run_result_free(&a);
	run_result_free(&b);
}

static void test_gen_bad_options(void **state)
{
	static const char *const bad[][4] = {
		{ "gen", "-n", "5", NULL },		/* smaller than the setup */
		{ "gen", "--mix", "bogus=1", NULL },
		{ "gen", "--maps", "x", NULL },
		{ "gen", "extra", NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_result r;

		assert_int_equal(run_kmemsim((const char *const *)bad[i], NULL, &r), 0);
		assert_int_equal(r.status, 2);
		assert_string_equal(r.out, "");
		assert_non_null(strstr(r.err, "kmemsim: gen"));
		run_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gen_is_deterministic),
		cmocka_unit_test(test_gen_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
