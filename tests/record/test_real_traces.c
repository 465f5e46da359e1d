// SPDX-License-Identifier: MIT
/*
 * The traces kmemsim record wrote of real BPF tools (traces/real/NAME.trace) stay
 * readable by the trace library as the format evolves, and say what their
 * text says: every line that is not a comment or the header is one event,
 * and each bpf command is counted as often as lines start with its name.
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

#include "kmemsim/trace.h"
#include "kms_test_file.h"

/* Lines that are events by the text alone: not blank, not '#', not "trace ". */
static unsigned int text_events(const char *buf, const char *prefix)
{
	unsigned int n = 0;

	for (const char *line = buf; *line;) {
		const char *end = strchr(line, '\n');

		if (*line != '#' && *line != '\n' && strncmp(line, "trace ", 6) != 0 &&
		    (!prefix || strncmp(line, prefix, strlen(prefix)) == 0))
			n++;
		if (!end)
			break;
		line = end + 1;
	}
	return n;
}

static void check_one(const char *path)
{
	unsigned int events = 0, creates = 0, loads = 0;
	struct kms_trace_reader *r;
	struct kms_trace_error err;
	struct kms_event ev;
	char msg[512];
	size_t len;
	char *buf = kms_test_read_file(path, &len);
	int n;

	assert_non_null(buf);
	assert_int_equal(kms_trace_open_mem(buf, len, path, NULL, &r, &err), 0);
	assert_int_equal(kms_trace_reader_format(r), KMS_TRACE_NATIVE);
	while ((n = kms_trace_read_next(r, &ev)) == 1) {
		events++;
		creates += ev.kind == KMS_EV_BPF && ev.u.bpf.cmd == KMS_BPF_MAP_CREATE;
		loads += ev.kind == KMS_EV_BPF && ev.u.bpf.cmd == KMS_BPF_PROG_LOAD;
	}
	if (n < 0) {
		kms_trace_error_format(kms_trace_reader_error(r), msg, sizeof(msg));
		print_message("%s\n", msg);
	}
	assert_int_equal(n, 0);
	assert_int_equal(events, text_events(buf, NULL));
	assert_int_equal(creates, text_events(buf, "map_create "));
	assert_int_equal(loads, text_events(buf, "prog_load "));
	/* every recording names the command's first process */
	assert_int_equal(text_events(buf, "task_new "), 1);
	kms_trace_reader_free(r);
	free(buf);
}

static void test_recorded_real_traces_read_back(void **state)
{
	const char *root = getenv("KMEMSIM_SOURCE_ROOT");
	char dir[4096], path[8192];
	unsigned int nr = 0;
	struct dirent *d;
	DIR *dp;

	(void)state;
	assert_non_null(root);
	snprintf(dir, sizeof(dir), "%s/traces/real", root);
	dp = opendir(dir);
	assert_non_null(dp);
	while ((d = readdir(dp))) {
		size_t l = strlen(d->d_name);

		if (l < 7 || strcmp(d->d_name + l - 6, ".trace") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		check_one(path);
		nr++;
	}
	closedir(dp);
	/* scripts/record-real-traces records 17 tools with kmemsim record */
	assert_true(nr >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_real_traces_read_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
