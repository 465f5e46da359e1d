// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_src.h"

int trace_src_open(struct trace_src *src, struct kms_trace_reader **out)
{
	struct kms_trace_error err = { 0 };
	char msg[512];
	int ret;

	if (src->mem)
		ret = kms_trace_open_mem(src->mem, src->len, "-", &src->sopts, out, &err);
	else
		ret = kms_trace_open(src->path, &src->sopts, out, &err);
	if (ret) {
		if (err.msg[0]) {
			kms_trace_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "kmemsim: %s\n", msg);
		} else {
			fprintf(stderr, "kmemsim: %s: %s\n", src->path, strerror(-ret));
		}
	}
	return ret;
}

int trace_src_slurp_stdin(struct trace_src *src)
{
	size_t cap = 1 << 16;

	if (strcmp(src->path, "-") != 0 || src->mem)
		return 0;
	src->mem = malloc(cap);
	if (!src->mem)
		return -ENOMEM;
	for (;;) {
		size_t n;

		if (src->len == cap) {
			char *p = realloc(src->mem, cap * 2);

			if (!p)
				return -ENOMEM;
			src->mem = p;
			cap *= 2;
		}
		n = fread(src->mem + src->len, 1, cap - src->len, stdin);
		src->len += n;
		if (n == 0)
			break;
	}
	return ferror(stdin) ? -EIO : 0;
}

bool trace_src_reopenable(const struct trace_src *src)
{
	return src->mem || strcmp(src->path, "-") != 0;
}

int trace_src_reopen(void *arg, struct kms_trace_reader **out)
{
	struct trace_src *src = arg;

	if (!trace_src_reopenable(src))
		return -ESPIPE;
	return trace_src_open(src, out);
}

void trace_src_free(struct trace_src *src)
{
	free(src->mem);
	src->mem = NULL;
}
