// SPDX-License-Identifier: MIT
/*
 * The scenario library (traces/scenarios/) and the tutorial, run through the
 * built kmemsim: every scenario's expectations hold under every profile they
 * name, a wrong expectation is reported with its line, and every command the
 * tutorial shows exits as the tutorial says.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "run.h"
#include "kms_test_file.h"

static const char *const scenarios[] = {
	"01-root-shares-locked-vm", "02-shared-counter", "03-estimate-vs-reality",
	"04-eperm-vs-enomem", "05-no-limit", "06-orchestrator", "07-interrupt-context",
	"08-cgroup-lifecycle", "09-percpu-stocks", "10-fail-paths",
};

/* Lines of @text that start with @prefix. */
static unsigned int count_lines(const char *text, const char *prefix)
{
	size_t len = strlen(prefix);
	unsigned int n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, len) == 0)
			n++;
	return n;
}

/* Every expect line of every scenario is checked and holds (TAP: 1..N, N times "ok"). */
static void test_scenarios_hold(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		char rel[128], buf[4096], plan[32];
		const char *path;
		struct run_result r;
		unsigned int expects;
		char *text;

		snprintf(rel, sizeof(rel), "traces/scenarios/%s.trace", scenarios[i]);
		path = source_path(rel, buf, sizeof(buf));
		text = kms_test_read_file(path, NULL);
		assert_non_null(text);
		expects = count_lines(text, "expect ");
		free(text);
		assert_true(expects >= 9);

		const char *argv[] = { "check", "--check", "--format", "tap", path, NULL };

		assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
		if (r.status != 0)
			fail_msg("%s: exit %d\n%s%s", scenarios[i], r.status, r.out, r.err);
		snprintf(plan, sizeof(plan), "1..%u\n", expects);
		assert_non_null(strstr(r.out, plan));
		assert_int_equal(count_lines(r.out, "ok "), expects);
		assert_int_equal(count_lines(r.out, "not ok "), 0);
		run_result_free(&r);
	}
}

/* One expectation made wrong (48K -> 52K on line 37 of scenario 1): exit 1, the line named. */
static void test_wrong_expectation_fails(void **state)
{
	char buf[4096];
	char *text = kms_test_read_file(source_path("traces/scenarios/01-root-shares-locked-vm.trace",
						    buf, sizeof(buf)), NULL);
	char *at;
	struct run_result r;
	const char *argv[] = { "check", "-", NULL };
	unsigned int line = 1;

	(void)state;
	assert_non_null(text);
	at = strstr(text, "expect profile=linux-5.10 user=0 locked_vm==48K");
	assert_non_null(at);
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	memcpy(strstr(at, "48K"), "52K", 3);
	assert_int_equal(run_kmemsim(argv, text, &r), 0);
	assert_int_equal(r.status, 1);
	snprintf(buf, sizeof(buf), "FAIL line %u [linux-5.10]", line);
	if (!strstr(r.out, buf))
		fail_msg("no '%s' in:\n%s", buf, r.out);
	assert_non_null(strstr(r.out, "locked_vm is 49152, expected == 53248"));
	run_result_free(&r);
	free(text);
}

/* Split a command line into words; a word may be in single quotes (no spaces inside). */
static size_t split(char *line, const char **argv, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(line, " \t"); tok && n + 1 < max; tok = strtok(NULL, " \t")) {
		size_t len = strlen(tok);

		if (len >= 2 && tok[0] == '\'' && tok[len - 1] == '\'') {
			tok[len - 1] = '\0';
			tok++;
		}
		argv[n++] = tok;
	}
	argv[n] = NULL;
	return n;
}

/*
 * Every line of a ```sh block of docs/tutorial.md that starts with "kmemsim "
 * runs from the source root; it must exit 0, or N when the line ends in
 * "# exit N". Paths in the commands are relative to the source root.
 */
static void test_tutorial_commands(void **state)
{
	char buf[4096], *text, *save = NULL;
	bool in_sh = false;
	unsigned int ran = 0;

	(void)state;
	text = kms_test_read_file(source_path("docs/tutorial.md", buf, sizeof(buf)), NULL);
	assert_non_null(text);
	assert_int_equal(chdir(source_path(".", buf, sizeof(buf))), 0);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *argv[32];
		struct run_result r;
		int want = 0;
		char *hash, cmd[1024];

		if (strncmp(l, "```", 3) == 0) {
			in_sh = !in_sh && strcmp(l, "```sh") == 0;
			continue;
		}
		if (!in_sh || strncmp(l, "kmemsim ", 8) != 0)
			continue;
		snprintf(cmd, sizeof(cmd), "%s", l);
		if ((hash = strstr(l, "# exit "))) {
			want = atoi(hash + 7);
			*hash = '\0';
		}
		split(l + 8, argv, sizeof(argv) / sizeof(argv[0]));
		assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
		if (r.status != want)
			fail_msg("docs/tutorial.md: '%s' exited %d, not %d\n%s", cmd, r.status, want,
				 r.err);
		run_result_free(&r);
		ran++;
	}
	assert_true(ran >= 10);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios_hold),
		cmocka_unit_test(test_wrong_expectation_fails),
		cmocka_unit_test(test_tutorial_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
