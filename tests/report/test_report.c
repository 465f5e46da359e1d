// SPDX-License-Identifier: MIT
/*
 * The report's use of the per-event steps: kms_report_wants_steps() is false
 * only for options whose report comes out the same when the replay is given
 * no step function at all (and so works out no per-event deltas).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kmemsim/replay.h"
#include "kmemsim/report.h"
#include "kmemsim/trace.h"
#include "kms_test_file.h"

struct blob {
	char *buf;
	size_t len;
};

/* The report of @path under linux-5.10 and linux-5.11, steps fed to it or not. */
static struct blob report(const char *path, const struct kms_report_opts *ro, bool feed)
{
	const char *names[] = { "linux-5.10", "linux-5.11" };
	struct kms_replay_opts o = { .profiles = names, .nr_profiles = 2, .limits = true };
	struct kms_trace_reader *reader;
	struct blob b = { 0 };

	assert_int_equal(kms_trace_reader_open(path, &reader, NULL), 0);
	b.buf = kms_test_report(reader, &o, ro, feed, NULL, NULL, &b.len);
	return b;
}

static bool wants(const struct kms_report_opts *ro)
{
	struct kms_report *rep;
	bool w;

	assert_int_equal(kms_report_new(ro, stdout, &rep), 0);
	w = kms_report_wants_steps(rep);
	kms_report_free(rep);
	return w;
}

static void test_which_reports_read_steps(void **state)
{
	(void)state;
	/* per-event records and the charge path are made of steps */
	assert_true(wants(&(struct kms_report_opts){ .format = KMS_REPORT_JSON, .events = true }));
	assert_true(wants(&(struct kms_report_opts){ .format = KMS_REPORT_CSV, .events = true }));
	assert_true(wants(&(struct kms_report_opts){ .format = KMS_REPORT_TEXT, .explain = true }));
	/* the SVG timeline samples memory.current at every step */
	assert_true(wants(&(struct kms_report_opts){ .format = KMS_REPORT_TEXT,
						     .svg_path = "/dev/null" }));
	/* summaries read the runs at the end, not the steps */
	assert_false(wants(&(struct kms_report_opts){ .format = KMS_REPORT_TEXT }));
	assert_false(wants(&(struct kms_report_opts){ .format = KMS_REPORT_TEXT, .quiet = true }));
	assert_false(wants(&(struct kms_report_opts){ .format = KMS_REPORT_JSON }));
	assert_false(wants(&(struct kms_report_opts){ .format = KMS_REPORT_CSV }));
	assert_false(wants(&(struct kms_report_opts){ .format = KMS_REPORT_TAP }));
	/* --events is for JSON and CSV, --explain for text: elsewhere nothing per event */
	assert_false(wants(&(struct kms_report_opts){ .format = KMS_REPORT_TEXT, .events = true }));
	assert_false(wants(&(struct kms_report_opts){ .format = KMS_REPORT_JSON, .explain = true }));
}

/* Where the report does not want them, leaving the steps out changes no byte of it. */
static void test_report_without_steps_is_the_same(void **state)
{
	static const char *const traces[] = {
		"traces/scenarios/04-eperm-vs-enomem.trace",
		"traces/scenarios/09-percpu-stocks.trace",
	};

	(void)state;
	for (size_t t = 0; t < sizeof(traces) / sizeof(traces[0]); t++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", getenv("KMEMSIM_SOURCE_ROOT"), traces[t]);

		for (int fmt = KMS_REPORT_TEXT; fmt <= KMS_REPORT_TAP; fmt++) {
			for (int flags = 0; flags < 8; flags++) {
				struct kms_report_opts ro = {
					.format = (enum kms_report_format)fmt,
					.events = flags & 1, .explain = flags & 2,
					.quiet = flags & 4, .compare = true, .trace_path = traces[t],
				};
				struct blob a, b;

				if (wants(&ro))
					continue;
				a = report(path, &ro, true);
				b = report(path, &ro, false);
				assert_true(a.len > 0);
				assert_int_equal(a.len, b.len);
				assert_memory_equal(a.buf, b.buf, a.len);
				free(a.buf);
				free(b.buf);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_reports_read_steps),
		cmocka_unit_test(test_report_without_steps_is_the_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
