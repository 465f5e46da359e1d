// SPDX-License-Identifier: MIT
/* The kmemsim program's contract: --help, --version, usage errors exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kms_build_config.h"
#include "run.h"

static void test_help(void **state)
{
	const char *argv[] = { "--help", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: kmemsim"));
	run_result_free(&r);
}

static void test_version(void **state)
{
	const char *argv[] = { "--version", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "kmemsim " KMS_VERSION "\n");
	run_result_free(&r);
}

static void test_unknown_option_is_usage_error(void **state)
{
	const char *argv[] = { "--frobnicate", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--frobnicate"));
	assert_string_equal(r.out, "");
	run_result_free(&r);
}

static void test_unknown_command_is_usage_error(void **state)
{
	const char *argv[] = { "frobnicate", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "frobnicate"));
	run_result_free(&r);
}

static void test_no_arguments_is_usage_error(void **state)
{
	const char *argv[] = { NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
}

static void test_selfcheck_passes(void **state)
{
	const char *argv[] = { "selfcheck", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "selfcheck passed"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_unknown_option_is_usage_error),
		cmocka_unit_test(test_unknown_command_is_usage_error),
		cmocka_unit_test(test_no_arguments_is_usage_error),
		cmocka_unit_test(test_selfcheck_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
