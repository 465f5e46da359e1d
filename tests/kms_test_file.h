/* SPDX-License-Identifier: MIT */
/* Test helpers: a whole file, or a replay's report, in memory, for tests that compare bytes. */
#ifndef KMS_TEST_FILE_H
#define KMS_TEST_FILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The bytes of @path, NUL-terminated (the NUL is not counted in *@len, which
 * may be NULL); NULL when the file cannot be read. Free with free().
 */
char *kms_test_read_file(const char *path, size_t *len);

struct kms_trace_reader;
struct kms_replay_opts;
struct kms_report_opts;

/*
 * The report, in memory, of a replay of @reader (freed here) with @opts and
 * @ropts; the steps are fed to the report when @steps is true, else the
 * replay runs without a step function. @reopen (may be NULL) is
 * kms_replay_run()'s. Fails the test on any error. Free with free().
 */
char *kms_test_report(struct kms_trace_reader *reader, const struct kms_replay_opts *opts,
		      const struct kms_report_opts *ropts, bool steps,
		      int (*reopen)(void *arg, struct kms_trace_reader **out), void *reopen_arg,
		      size_t *len);

#endif
