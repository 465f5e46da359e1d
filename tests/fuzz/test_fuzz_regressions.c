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
#include "kms_test_file.h"

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
		size_t len;
		char *buf;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf = kms_test_read_file(path, &len);
		assert_non_null(buf);
		printf("# %s\n", de->d_name);
		if (kms_fuzz_check_read((const uint8_t *)buf, len))
			kms_fuzz_check_replay((const uint8_t *)buf, len);
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
