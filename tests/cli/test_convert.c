// SPDX-License-Identifier: MIT
/*
 * kmemsim convert and gen --binary: the binary form written and read back by
 * the commands people run; bad input exits 2 with the record and byte, and
 * leaves no output behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "run.h"

static char dir[] = "/tmp/kms-test-convert-XXXXXX";

static const char *tmp(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Replace every @from in @s by @to (no longer than @from) in place. */
static void replace(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);

	for (char *p = strstr(s, from); p; p = strstr(p + tl, from)) {
		memmove(p + tl, p + fl, strlen(p + fl) + 1);
		memcpy(p, to, tl);
	}
}

static void test_replay_of_the_binary_form(void **state)
{
	char src[4096], bin[4200];
	const char *conv[] = { "convert", source_path("traces/scenarios/04-eperm-vs-enomem.trace",
						      src, sizeof(src)),
			       "-o", tmp("04.kmsb", bin, sizeof(bin)), NULL };
	const char *fmts[] = { "text", "json" };
	struct run_result r, a, b;

	(void)state;
	assert_int_equal(run_kmemsim(conv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	run_result_free(&r);
	for (size_t i = 0; i < 2; i++) {
		const char *ta[] = { "compare", "-f", fmts[i], src, NULL };
		const char *tb[] = { "compare", "-f", fmts[i], bin, NULL };

		assert_int_equal(run_kmemsim(ta, NULL, &a), 0);
		assert_int_equal(run_kmemsim(tb, NULL, &b), 0);
		assert_int_equal(a.status, b.status);
		/* the reports name the file they read: the only difference */
		replace(b.out, bin, src);
		assert_string_equal(a.out, b.out);
		assert_non_null(strstr(a.out, "EPERM"));
		run_result_free(&a);
		run_result_free(&b);
	}
}

static void test_gen_binary_converts_back_to_gen_text(void **state)
{
	char bk[256], magic[8];
	const char *g1[] = { "gen", "-q", "-n", "5000", NULL };
	const char *g2[] = { "gen", "-q", "-n", "5000", "--binary", "-o",
			     tmp("g.kmsb", bk, sizeof(bk)), NULL };
	const char *c[] = { "convert", bk, NULL };
	struct run_result text, r;
	FILE *f;

	(void)state;
	assert_int_equal(run_kmemsim(g1, NULL, &text), 0);
	assert_int_equal(text.status, 0);
	assert_int_equal(run_kmemsim(g2, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	f = fopen(bk, "rb");
	assert_non_null(f);
	assert_int_equal(fread(magic, 1, 8, f), 8);
	fclose(f);
	assert_memory_equal(magic, "\x89KMS\r\n\x1a\n", 8);
	/* a binary IN converts to text by default: gen's own bytes, its comment included */
	assert_int_equal(run_kmemsim(c, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, text.out);
	run_result_free(&r);
	run_result_free(&text);
}

static void test_bad_input_exits_2(void **state)
{
	char bad[256], out[256];
	const char *conv[] = { "convert", tmp("bad.kmsb", bad, sizeof(bad)), "-o",
			       tmp("out.trace", out, sizeof(out)), NULL };
	const char *replay[] = { "replay", "-p", "linux-5.11", bad, NULL };
	const char *to[] = { "convert", "--to", "yaml", bad, NULL };
	const char *none[] = { "convert", NULL };
	const char *missing[] = { "convert", tmp("nope.trace", out, sizeof(out)), NULL };
	struct run_result r;
	FILE *f = fopen(bad, "wb");

	(void)state;
	/* the magic, layout 1, then a header cut short */
	assert_non_null(f);
	fwrite("\x89KMS\r\n\x1a\n\x01\x32\x01", 1, 11, f);
	fclose(f);
	snprintf(out, sizeof(out), "%s/out.trace", dir);
	assert_int_equal(run_kmemsim(conv, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "bad.kmsb: byte 11: the file ends inside the header "
				      "(1 of 50 bytes): is it truncated?"));
	assert_int_equal(access(out, F_OK), -1);	/* nothing written */
	run_result_free(&r);
	assert_int_equal(run_kmemsim(replay, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "bad.kmsb: byte 11: "));
	run_result_free(&r);
	assert_int_equal(run_kmemsim(to, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--to wants binary or text, got 'yaml'"));
	run_result_free(&r);
	assert_int_equal(run_kmemsim(none, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	run_result_free(&r);
	assert_int_equal(run_kmemsim(missing, NULL, &r), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "cannot open"));
	run_result_free(&r);
}

static void test_strace_log_and_stdin(void **state)
{
	char src[4096], bin[256], bin2[256];
	const char *conv[] = { "convert", "-o", tmp("s.kmsb", bin, sizeof(bin)),
			       source_path("traces/shared/biolatency.strace", src, sizeof(src)),
			       NULL };
	const char *text[] = { "convert", "--to", "text", bin, NULL };
	const char *gen[] = { "gen", "-q", "-n", "300", NULL };
	const char *in[] = { "convert", "-o", tmp("in.kmsb", bin2, sizeof(bin2)), "-", NULL };
	const char *back[] = { "convert", bin2, NULL };
	struct run_result r, g;
	unsigned int n = 0;

	(void)state;
	/* an strace log: its import's assumptions travel as the comment */
	assert_int_equal(run_kmemsim(conv, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	assert_int_equal(run_kmemsim(text, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_true(strncmp(r.out, "# imported from the strace log ", 31) == 0);
	assert_non_null(strstr(r.out, "\ntrace version=1 "));
	/* grep -c BPF_MAP_CREATE traces/shared/biolatency.strace: 9 */
	for (const char *p = strstr(r.out, "\nmap_create "); p; p = strstr(p + 1, "\nmap_create "))
		n++;
	assert_int_equal(n, 9);
	run_result_free(&r);

	/* a text trace on stdin; text keeps no comments, so gen's first line is gone */
	assert_int_equal(run_kmemsim(gen, NULL, &g), 0);
	assert_int_equal(run_kmemsim(in, g.out, &r), 0);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	assert_int_equal(run_kmemsim(back, NULL, &r), 0);
	assert_int_equal(r.status, 0);
	assert_true(strncmp(g.out, "# kmemsim gen ", 14) == 0);
	assert_string_equal(r.out, strchr(g.out, '\n') + 1);
	run_result_free(&r);
	run_result_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_of_the_binary_form),
		cmocka_unit_test(test_gen_binary_converts_back_to_gen_text),
		cmocka_unit_test(test_bad_input_exits_2),
		cmocka_unit_test(test_strace_log_and_stdin),
	};

	return cmocka_run_group_tests_name("cli/convert", tests, setup, teardown);
}
