// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the trace readers (native parser and strace importer:
 * the input's first line picks one, as kms_trace_open() does). Whatever the
 * input, reading must end in 0 or -EINVAL with a message, never a crash; and
 * every event read must survive write -> parse -> write unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemsim/trace.h"

#define HDR "trace version=1\n"

/* Format @ev, parse the line back, format again: both texts must agree. */
static void check_roundtrip(const struct kms_event *ev)
{
	static const size_t size = 70000;
	char *a = malloc(size), *b = malloc(size);
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event back;
	int n, m;

	if (!a || !b)
		abort();
	memcpy(a, HDR, strlen(HDR));
	n = kms_trace_format_event(ev, a + strlen(HDR), size - strlen(HDR));
	if (n == -ENOSPC)
		goto out;	/* a key list too long for one line: refused, not wrong */
	if (n < 0) {
		fprintf(stderr, "cannot format an event that was read (line %u)\n", ev->line);
		abort();
	}
	if (kms_trace_open_mem(a, strlen(HDR) + (size_t)n, "rt", NULL, &r, &err) ||
	    kms_trace_read_next(r, &back) != 1) {
		fprintf(stderr, "written line does not parse: %.*s\n%s\n", n, a + strlen(HDR),
			r ? kms_trace_reader_error(r)->msg : err.msg);
		abort();
	}
	m = kms_trace_format_event(&back, b, size);
	if (m != n || memcmp(a + strlen(HDR), b, (size_t)n) != 0) {
		fprintf(stderr, "round trip changed\n%.*s%.*s", n, a + strlen(HDR), m, b);
		abort();
	}
out:
	kms_trace_reader_free(r);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;
	int ret;

	ret = kms_trace_open_mem((const char *)data, size, "fuzz", NULL, &r, &err);
	if (ret) {
		if (ret != -EINVAL || !err.msg[0])
			abort();
		return 0;
	}
	while ((ret = kms_trace_read_next(r, &ev)) == 1)
		check_roundtrip(&ev);
	if (ret < 0 && (ret != -EINVAL || !kms_trace_reader_error(r)->msg[0]))
		abort();
	kms_trace_reader_free(r);
	return 0;
}
