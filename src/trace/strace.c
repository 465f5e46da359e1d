// SPDX-License-Identifier: MIT
#include <errno.h>
#include "trace/reader.h"
bool kms_strace_is_line(const char *line) { (void)line; return false; }
int kms_strace_init(struct kms_trace_reader *r) { (void)r; return -ENOSYS; }
void kms_strace_fini(struct kms_trace_reader *r) { (void)r; }
int kms_strace_read_next(struct kms_trace_reader *r, struct kms_event *ev) { (void)r; (void)ev; return -ENOSYS; }
