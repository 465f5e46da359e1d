// SPDX-License-Identifier: MIT
/*
 * kmemsim replay / compare / check, end to end: the built program on
 * bundled traces. JSON is parsed, not string-compared; expected numbers are
 * derived from the kernel's rules in the comments.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "run.h"

static json_t *run_json(const char *const argv[], int want_status)
{
	struct run_result r;
	json_error_t jerr;
	json_t *doc;

	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	if (r.status != want_status)
		fail_msg("exit %d, wanted %d; stderr: %s", r.status, want_status, r.err);
	doc = json_loads(r.out, 0, &jerr);
	if (!doc)
		fail_msg("not JSON: %s (line %d)", jerr.text, jerr.line);
	run_result_free(&r);
	return doc;
}

static const char *str_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/*
 * execsnoop's "execs" hash map: key 4, value 7720, 10240 entries, 2 CPUs.
 * 5.10 htab_map_alloc(): n_buckets = roundup_pow_of_two(10240) = 16384;
 * elem_size = 48 + round_up(4, 8) + round_up(7720, 8) = 7776;
 * cost = 16384 * 16 + 7776 * (10240 + 2) = 262144 + 79641792 = 79903936
 * -> round_up to pages: 19508 pages, against the recorded RLIMIT_MEMLOCK of
 * 8 MiB = 2048 pages: EPERM under 5.10, while 5.11 creates it.
 */
static void test_compare_execsnoop_json(void **state)
{
	char path[4096];
	const char *argv[] = { "compare", "--format", "json",
			       source_path("traces/real/execsnoop.trace", path, sizeof(path)), NULL };
	json_t *doc = run_json(argv, 0), *runs, *divs, *d;
	size_t i;
	bool found = false;

	(void)state;
	runs = json_object_get(doc, "runs");
	assert_int_equal(json_array_size(runs), 2);
	assert_string_equal(str_at(json_array_get(runs, 0), "profile"), "linux-5.10");
	assert_string_equal(str_at(json_array_get(runs, 1), "profile"), "linux-5.11");
	assert_string_equal(str_at(json_object_get(doc, "trace"), "format"), "native");
	divs = json_object_get(doc, "divergences");
	json_array_foreach(divs, i, d) {
		json_t *res = json_object_get(d, "results");

		if (strcmp(str_at(d, "op"), "map_create"))
			continue;
		assert_string_equal(str_at(res, "linux-5.10"), "EPERM");
		assert_string_not_equal(str_at(res, "linux-5.11"), "EPERM");
		assert_non_null(strstr(str_at(d, "why"), "19508 pages > RLIMIT_MEMLOCK 2048 pages"));
		found = true;
	}
	assert_true(found);
	json_decref(doc);
}

static void test_output_is_deterministic(void **state)
{
	char path[4096];
	const char *fmts[] = { "json", "text", "csv" };

	(void)state;
	for (size_t f = 0; f < 3; f++) {
		const char *argv[] = { "compare", "--profiles", "linux-5.10,linux-5.11,linux-6.18",
				       "--format", fmts[f], f == 2 ? "--events" : "--quiet",
				       source_path("traces/real/bt_read_lat.trace", path,
						   sizeof(path)), NULL };
		struct run_result a, b;

		assert_int_equal(run_kmemsim(argv, NULL, &a), 0);
		assert_int_equal(run_kmemsim(argv, NULL, &b), 0);
		assert_int_equal(a.status, 0);
		assert_true(a.out_len > 0);
		assert_int_equal(a.out_len, b.out_len);
		assert_memory_equal(a.out, b.out, a.out_len);
		run_result_free(&a);
		run_result_free(&b);
	}
}

static void test_failed_expectation_exits_1(void **state)
{
	static const char trace[] =
		"trace version=1\n"
		"task_new pid=10 uid=0 memlock_cur=64K\n"
		"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=3\n"
		/* 5.10 array_map_alloc(): 320 + 8 bytes -> 1 page, not 2 */
		"expect profile=linux-5.10 user=0 locked_vm==8K\n";
	const char *argv[] = { "check", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, trace, &r), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "line 4"));
	assert_non_null(strstr(r.out, "locked_vm is 4096"));
	run_result_free(&r);
}

static void test_check_tap(void **state)
{
	static const char trace[] =
		"trace version=1\n"
		"task_new pid=10 uid=0 memlock_cur=64K\n"
		"map_create pid=10 map_type=array key_size=4 value_size=8 max_entries=1 ret=3\n"
		"expect profile=linux-5.10 user=0 locked_vm==4K\n"
		"expect profile=linux-5.11 user=0 locked_vm==0\n";
	const char *argv[] = { "check", "--format", "tap", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, trace, &r), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "1..2\n"));
	assert_non_null(strstr(r.out, "ok 1 - line 4 [linux-5.10]"));
	assert_non_null(strstr(r.out, "ok 2 - line 5 [linux-5.11]"));
	assert_null(strstr(r.out, "not ok"));
	run_result_free(&r);
}

static void test_bad_input_exits_2_with_position(void **state)
{
	static const char trace[] =
		"trace version=1\n"
		"map_create pid=10 map_type=hash key_size=4 value_size=8 max_entries=10 ret=3\n"
		"map_update_elem pid=10 map_fd=three key=1 ret=0\n";
	const char *argv[] = { "replay", "-p", "linux-6.18", "-", NULL };
	const char *missing[] = { "replay", "-p", "linux-6.18", "/nonexistent/trace", NULL };
	const char *noprof[] = { "replay", "-", NULL };
	const char *badprof[] = { "compare", "-p", "linux-5.10,linux-4.19", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, trace, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "-:3:"));
	run_result_free(&r);
	assert_int_equal(run_kmemsim(missing, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "/nonexistent/trace"));
	run_result_free(&r);
	assert_int_equal(run_kmemsim(noprof, trace, &r), 0);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	assert_int_equal(run_kmemsim(badprof, trace, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "linux-4.19"));
	run_result_free(&r);
}

static void test_svg_and_output_file(void **state)
{
	char path[4096], dir[] = "/tmp/kmemsim-test-XXXXXX", svg[4200], out[4200];
	const char *argv[] = { "compare", "--svg", svg, "-o", out,
			       source_path("traces/real/execsnoop.trace", path, sizeof(path)), NULL };
	struct run_result r;
	char head[8] = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(svg, sizeof(svg), "%s/t.svg", dir);
	snprintf(out, sizeof(out), "%s/report.txt", dir);
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 0);
	run_result_free(&r);
	f = fopen(svg, "r");
	assert_non_null(f);
	assert_int_equal(fread(head, 1, 4, f), 4);
	fclose(f);
	assert_string_equal(head, "<svg");
	f = fopen(out, "r");
	assert_non_null(f);
	fclose(f);
	unlink(svg);
	unlink(out);
	rmdir(dir);
}

/* Every bundled real trace replays under every built-in profile without an input error. */
static void test_real_traces_replay_under_every_profile(void **state)
{
	static const char *const profiles[] = { "linux-5.10", "linux-5.11", "linux-5.11-v7",
						"linux-6.18" };
	const char *dirs[] = { "traces/real", "traces/shared" };
	size_t nr_traces = 0;

	(void)state;
	for (size_t d = 0; d < 2; d++) {
		char dpath[4096];
		struct dirent *e;
		DIR *dir = opendir(source_path(dirs[d], dpath, sizeof(dpath)));

		assert_non_null(dir);
		while ((e = readdir(dir))) {
			const char *dot = strrchr(e->d_name, '.');
			char file[8192];

			if (!dot || (strcmp(dot, ".trace") && strcmp(dot, ".strace")))
				continue;
			snprintf(file, sizeof(file), "%s/%s", dpath, e->d_name);
			for (size_t p = 0; p < 4; p++) {
				const char *argv[] = { "replay", "--check", "-q", "-p", profiles[p],
						       file, NULL };
				struct run_result r;

				assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
				if (r.status != 0)
					fail_msg("%s under %s: exit %d: %s", e->d_name, profiles[p],
						 r.status, r.err);
				run_result_free(&r);
			}
			nr_traces++;
		}
		closedir(dir);
	}
	/* 20 strace and 17 native recordings in traces/real, 14 in traces/shared */
	assert_true(nr_traces >= 40);
}

/*
 * --explain says the charge path in words. 5.10 htab_map_alloc(), key 4,
 * value 8, 100000 entries, 2 CPUs: 131072 * 16 + 64 * 100000 + 64 * 2 =
 * 8497280 bytes -> 2075 pages; 6.18 charges /app through a kmalloc-cg-1k
 * object (sizeof(bpf_htab) 832, BTF) and vmalloc pages for the buckets.
 */
static void test_explain_names_the_charge_path(void **state)
{
	static const char trace[] =
		"trace version=1 kernel=6.18.44\n"
		"cgroup_create path=/app\n"
		"task_new pid=10 uid=0 cgroup=/app memlock_cur=64K\n"
		"map_create pid=10 map_type=hash key_size=4 value_size=8 max_entries=100000 ret=3\n";
	const char *argv[] = { "compare", "-p", "linux-5.10,linux-6.18", "--explain", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, trace, &r), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "cost 8497280 bytes -> 2075 pages on uid 0"));
	assert_non_null(strstr(r.out, "RLIMIT_MEMLOCK of 16 pages"));
	assert_non_null(strstr(r.out, "kmalloc(832) -> kmalloc-cg-1024"));
	assert_non_null(strstr(r.out, "pays: /app (current task)"));
	assert_non_null(strstr(r.out, "vmalloc(2097152): 512 pages"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_execsnoop_json),
		cmocka_unit_test(test_output_is_deterministic),
		cmocka_unit_test(test_failed_expectation_exits_1),
		cmocka_unit_test(test_check_tap),
		cmocka_unit_test(test_bad_input_exits_2_with_position),
		cmocka_unit_test(test_svg_and_output_file),
		cmocka_unit_test(test_explain_names_the_charge_path),
		cmocka_unit_test(test_real_traces_replay_under_every_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
