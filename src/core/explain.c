// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim.h"

/* Bounded per operation: a batch of a million updates must not explain a million times. */
#define EXPLAIN_MAX (64 * 1024)

void sim_explain_line(struct kms_sim *sim, const char *fmt, ...)
{
	struct kms_explain *e = &sim->explain;
	va_list ap;
	int n;

	if (e->len >= EXPLAIN_MAX)
		return;
	if (e->cap - e->len < 512) {
		size_t cap = e->cap ? e->cap * 2 : 4096;
		char *p = realloc(e->buf, cap);

		if (!p)
			return;
		e->buf = p;
		e->cap = cap;
	}
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->len, e->cap - e->len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= e->cap - e->len - 1)
		n = (int)(e->cap - e->len - 2);
	e->len += (size_t)n;
	e->buf[e->len++] = '\n';
	e->buf[e->len] = '\0';
	if (e->len >= EXPLAIN_MAX)
		e->len += (size_t)snprintf(e->buf + e->len - 1, e->cap - e->len + 1,
					   "\n(explanation cut)\n") - 1;
}

void explain_destroy(struct kms_explain *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

int kms_sim_set_explain(struct kms_sim *sim, bool on)
{
	sim->explain.on = on;
	sim->explain.len = 0;
	return 0;
}

const char *kms_sim_explain_take(struct kms_sim *sim)
{
	const char *s;

	if (!sim->explain.len)
		return "";
	/* Drop the last newline; the next line starts a fresh buffer. */
	sim->explain.buf[--sim->explain.len] = '\0';
	s = sim->explain.buf;
	sim->explain.len = 0;
	return s;
}
