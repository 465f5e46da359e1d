/* SPDX-License-Identifier: MIT */
/* Where a subcommand's trace comes from: a file (reopenable) or stdin. */
#ifndef KMS_SIM_TRACE_SRC_H
#define KMS_SIM_TRACE_SRC_H

#include <stdbool.h>
#include <stddef.h>

#include "kmemsim/trace.h"

struct trace_src {
	const char *path;		/* "-" for stdin */
	struct kms_strace_options sopts;
	char *mem;			/* stdin slurped, when a command needs two passes */
	size_t len;
};

/* Open (or reopen) the trace; on error print "file:line:col: message" and return -errno. */
int trace_src_open(struct trace_src *src, struct kms_trace_reader **out);
/* Read stdin into memory so the trace can be read more than once. */
int trace_src_slurp_stdin(struct trace_src *src);
/* kms_replay_reopen_fn over a trace_src (NULL-safe for stdin that was not slurped). */
int trace_src_reopen(void *arg, struct kms_trace_reader **out);
bool trace_src_reopenable(const struct trace_src *src);
void trace_src_free(struct trace_src *src);

#endif
