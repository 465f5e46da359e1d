/* SPDX-License-Identifier: MIT */
/* Helpers shared by the trace tests: open a trace held in a string. */
#ifndef KMS_TESTS_TRACE_TEST_H
#define KMS_TESTS_TRACE_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
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

/* A malformed input and where its error must point. */
struct bad {
	const char *text;
	unsigned int line, column;
	const char *msg;	/* a part of the message */
};

/*
 * Open and read @b->text (named @name) to its end: the first error, at open
 * or while reading, must be -EINVAL at @b's line and column with @b's message
 * in it. Prints what differs; returns whether it matched.
 */
static inline bool expect_error(const char *name, const struct bad *b)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;
	int ret;

	memset(&err, 0, sizeof(err));
	ret = kms_trace_open_mem(b->text, strlen(b->text), name, NULL, &r, &err);
	if (!ret) {
		while ((ret = kms_trace_read_next(r, &ev)) == 1)
			;
		err = *kms_trace_reader_error(r);
	}
	if (ret == -EINVAL && err.line == b->line && err.column == b->column &&
	    strstr(err.msg, b->msg) && err.file && strcmp(err.file, name) == 0) {
		kms_trace_reader_free(r);
		return true;
	}
	print_error("'%s': got %d at %u:%u '%s', want %u:%u '%s'\n", b->text, ret, err.line,
		    err.column, err.msg, b->line, b->column, b->msg);
	kms_trace_reader_free(r);
	return false;
}

#endif
