/* SPDX-License-Identifier: MIT */
/* Helpers shared by the trace tests: open a trace held in a string. */
#ifndef KMS_TESTS_TRACE_TEST_H
#define KMS_TESTS_TRACE_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kmemsim/trace.h"

#define HDR "trace version=1 kernel=6.18.44 page_size=4096 cpus=2\n"

/* Open @text (a whole trace); the test fails if it does not open. */
static inline struct kms_trace_reader *open_text(const char *text)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	int ret = kms_trace_open_mem(text, strlen(text), "test.trace", NULL, &r, &err);

	if (ret)
		fail_msg("open failed: %d %u:%u %s", ret, err.line, err.column, err.msg);
	return r;
}

/* Read every event of @text; returns the last read's result (0 = clean end)
 * and the error in *err. */
static inline int read_all(const char *text, struct kms_trace_error *err, unsigned int *nr)
{
	struct kms_trace_reader *r = NULL;
	struct kms_event ev;
	int ret = kms_trace_open_mem(text, strlen(text), "test.trace", NULL, &r, err);

	*nr = 0;
	if (ret)
		return ret;
	while ((ret = kms_trace_read_next(r, &ev)) > 0)
		(*nr)++;
	if (ret < 0) {
		*err = *kms_trace_reader_error(r);
		/* err->file lives as long as the reader: check it before freeing */
		assert_string_equal(err->file, "test.trace");
		err->file = "test.trace";
	}
	kms_trace_reader_free(r);
	return ret;
}

#endif
