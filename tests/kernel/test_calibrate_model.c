// SPDX-License-Identifier: MIT
/*
 * `kmemsim calibrate --model`: a measured calibration CSV replayed in the
 * model, every row back with modelled, fds, expected, diff and a verdict.
 * Needs no root: it never touches the kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/run.h"

#define HEADER "kernel,nr_cpus,page_size,object,type_id,key_size,value_size,max_entries," \
	       "flags,op,count,kmem_delta,kmem_per_op,memlock,result\n"
#define ROW(rest) "6.18.44,2,4096," rest "\n"

static const char *write_csv(const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/kms_calmodel_%d.csv", getenv("TMPDIR") ? getenv("TMPDIR")
		 : "/tmp", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* The line of @out that starts with @prefix, or NULL. */
static const char *line_of(const char *out, const char *prefix)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return p;
	return NULL;
}

static void test_rows_come_back_with_a_verdict(void **state)
{
	char path[256];
	const char *argv[] = { "calibrate", "--model", NULL, NULL };
	struct run_result r;
	const char *l;

	(void)state;
	argv[2] = write_csv(HEADER
		/* the fd cost the rows carry: 400 bytes per new fd */
		ROW("fd,2,4,4,1,0,slab_cost,1,400,400.0,,derived")
		/*
		 * 16 hash maps read as free of charge: their 16 fds alone are 6400
		 * bytes, so any model that charges more than 1792 bytes for 16 maps
		 * (112 each; a struct bpf_htab is several hundred) is more than
		 * 2 CPUs x 4096 away.
		 */
		ROW("hash,1,8,8,1,0,create,16,0,0.0,1120,ok")
		ROW("frobnicate,99,4,4,1,0,create,1,4096,4096.0,,ok"),
		path, sizeof(path));
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "modelled,fds,expected,diff,verdict"));
	l = line_of(r.out, "6.18.44,2,4096,hash,1,8,8,1,0,create,16,0,");
	assert_non_null(l);
	/* ...,modelled,16 fds,expected,diff,OFF */
	assert_non_null(strstr(l, ",16,"));
	assert_true(strncmp(strchr(l, '\n') - 4, ",OFF", 4) == 0);
	l = line_of(r.out, "6.18.44,2,4096,frobnicate");
	assert_non_null(l);
	assert_non_null(strstr(l, "n/a: not a map type the model knows"));
	run_result_free(&r);
	unlink(path);
}

static void test_bad_rows_name_their_line(void **state)
{
	char path[256];
	const char *argv[] = { "calibrate", "--model", NULL, NULL };
	struct run_result r;

	(void)state;
	argv[2] = write_csv(HEADER ROW("hash,1,8,8,1,0,create,16,0,0.0,1120,ok")
			    "6.18.44,2,4096,hash,1,8\n", path, sizeof(path));
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, ":3:1: expected 15 columns"));
	run_result_free(&r);
	unlink(path);
}

static void test_missing_file_is_a_usage_error(void **state)
{
	const char *argv[] = { "calibrate", "--model", "/nonexistent/cal.csv", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "/nonexistent/cal.csv"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_come_back_with_a_verdict),
		cmocka_unit_test(test_bad_rows_name_their_line),
		cmocka_unit_test(test_missing_file_is_a_usage_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
