// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kmemsim/replay.h"
#include "kmemsim/report.h"
#include "kmemsim/trace.h"
#include "kms_test_file.h"

char *kms_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

char *kms_test_report(struct kms_trace_reader *reader, const struct kms_replay_opts *opts,
		      const struct kms_report_opts *ropts, bool steps,
		      int (*reopen)(void *arg, struct kms_trace_reader **out), void *reopen_arg,
		      size_t *len)
{
	struct kms_report *rep;
	struct kms_replay *r;
	char *buf = NULL, err[256];
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	if (kms_replay_new(opts, &r, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(kms_report_new(ropts, f, &rep), 0);
	if (kms_replay_run(r, reader, steps ? kms_report_step : NULL, rep, reopen, reopen_arg))
		fail_msg("%s", kms_replay_error(r));
	assert_int_equal(kms_report_finish(rep, r), 0);
	kms_report_free(rep);
	kms_replay_free(r);
	kms_trace_reader_free(reader);
	assert_int_equal(fclose(f), 0);
	return buf;
}
