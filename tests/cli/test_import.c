// SPDX-License-Identifier: MIT
/* kmemsim import: strace logs and native traces in, the native format out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "run.h"

static unsigned int count_lines_starting(const char *text, const char *word)
{
	unsigned int n = 0;
	size_t len = strlen(word);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, word, len) == 0;
	return n;
}

static void test_import_strace_log(void **state)
{
	char buf[4096];
	const char *argv[] = { "import", "--cgroup", "/app", "--uid", "1000", "--cpus", "2",
			       "--kernel", "6.18.44-fc-v657",
			       source_path("traces/shared/biolatency.strace", buf, sizeof(buf)),
			       NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	static const char hdr[] = "trace version=1 kernel=6.18.44-fc-v657 page_size=4K cpus=2\n";
	assert_true(strncmp(r.out, hdr, strlen(hdr)) == 0);
	assert_non_null(strstr(r.out, "# imported from the strace log"));
	assert_non_null(strstr(r.out, "uid=1000 in cgroup /app"));
	assert_non_null(strstr(r.out, "\ntask_new seq=1 t=1795751100.375718 pid=25752 uid=1000 "
				      "cgroup=/app\n"));
	/* grep -c BPF_MAP_CREATE traces/shared/biolatency.strace: 9 */
	assert_int_equal(count_lines_starting(r.out, "map_create "), 9);
	run_result_free(&r);
}

static void test_import_native_from_stdin(void **state)
{
	static const char in[] =
		"trace version=1\n"
		"map_create map_type=hash key_size=4 value_size=8 max_entries=16 ret=3\n"
		"close fd=3\n";
	static const char want[] =
		"trace version=1 kernel=unknown page_size=4K cpus=2\n"
		"map_create seq=1 t=0 pid=1 map_type=hash key_size=4 value_size=8 max_entries=16 "
		"ret=3\n"
		"close seq=2 t=0.000001 pid=1 fd=3\n";
	const char *argv[] = { "import", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, in, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, want);
	run_result_free(&r);
}

static void test_import_bad_input(void **state)
{
	const char *argv[] = { "import", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, "trace version=1\nclose fd=x\n", &r), 0);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "kmemsim: -:2:10: expected an integer for fd, got 'x'\n");
	run_result_free(&r);

	assert_int_equal(run_kmemsim(argv, "not a trace\n", &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "-:1:1: not a kmemsim trace"));
	run_result_free(&r);
}

static void test_import_usage(void **state)
{
	const char *none[] = { "import", NULL };
	const char *unknown[] = { "import", "--frob", "x", NULL };
	const char *rel[] = { "import", "--cgroup", "app", "x", NULL };
	const char *dots[] = { "import", "--cgroup", "/a/../b", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(none, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	assert_int_equal(run_kmemsim(unknown, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	assert_int_equal(run_kmemsim(rel, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	assert_int_equal(run_kmemsim(dots, "1 1.0 close(3) = 0\n", &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "not an absolute cgroup path"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_strace_log),
		cmocka_unit_test(test_import_native_from_stdin),
		cmocka_unit_test(test_import_bad_input),
		cmocka_unit_test(test_import_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
