/* SPDX-License-Identifier: MIT */
/* Test helper: a whole file in memory, for tests that compare or feed bytes. */
#ifndef KMS_TEST_FILE_H
#define KMS_TEST_FILE_H

#include <stddef.h>

/*
 * The bytes of @path, NUL-terminated (the NUL is not counted in *@len, which
 * may be NULL); NULL when the file cannot be read. Free with free().
 */
char *kms_test_read_file(const char *path, size_t *len);

#endif
