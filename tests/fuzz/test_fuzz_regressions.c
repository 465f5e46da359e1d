// SPDX-License-Identifier: MIT
/*
 * Every input the fuzzer once failed on (tests/fuzz/regressions/) and every
 * seed, through the fuzz target's checks in the normal build: read with a
 * message or to the end, events round-trip, and a trace read whole replays
 * under every profile with invariants on. A failing check aborts the test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fuzz_check.h"

static size_t check_dir(const char *rel)
{
	const char *root = getenv("KMEMSIM_SOURCE_ROOT");
	char dir[4096], path[4600];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", root ? root : ".", rel);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		uint8_t *buf;
		long len;
		FILE *f;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		len = ftell(f);
		rewind(f);
		buf = malloc((size_t)len + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		printf("# %s\n", de->d_name);
		if (kms_fuzz_check_read(buf, (size_t)len))
			kms_fuzz_check_replay(buf, (size_t)len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

static void test_regressions(void **state)
{
	(void)state;
	assert_true(check_dir("tests/fuzz/regressions") >= 2);
}

static void test_seeds(void **state)
{
	(void)state;
	assert_true(check_dir("tests/fuzz/seeds") >= 2);
	/* the binary form's (fuzz_binary.c) */
	assert_true(check_dir("tests/fuzz/seeds-binary") >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regressions),
		cmocka_unit_test(test_seeds),
	};

	return cmocka_run_group_tests_name("fuzz/regressions", tests, NULL, NULL);
}
