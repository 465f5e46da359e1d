/* SPDX-License-Identifier: MIT */
/*
 * The binary form of the native trace format (docs/trace-format.md, "The
 * binary form"): the constants its reader (binary_read.c) and writer
 * (binary_write.c) agree on, and the varint helpers both use.
 */
#ifndef KMS_TRACE_BINARY_H
#define KMS_TRACE_BINARY_H

#include <stdint.h>

/* PNG-style: a byte no text trace starts with, CR LF, ^Z, LF (transfer damage shows). */
#define KMS_BIN_MAGIC "\x89KMS\r\n\x1a\n"
#define KMS_BIN_MAGIC_LEN 8
/* The layout's version; the trace format's version is in the header. */
#define KMS_BIN_VERSION 1

/* Caps on what a file may ask for: memory stays bounded whatever the input. */
#define KMS_BIN_MAX_RECORD	(1u << 20)	/* bytes of one record, its length excluded */
#define KMS_BIN_MAX_STR		(64u << 10)	/* a string: a text line's bound */
#define KMS_BIN_MAX_NAME	64u		/* a dictionary name */
#define KMS_BIN_MAX_DICT	256u		/* names in each dictionary */
#define KMS_BIN_MAX_KEYS	(1u << 17)	/* keys of one event */

/* The name of the expectation's counter in the field dictionary (not a text field). */
#define KMS_BIN_COUNTER "=counter"

/* FT_KEY's tag: what follows it. */
enum {
	KMS_BIN_KEY_NEW = 0,
	KMS_BIN_KEY_EXISTING = 1,
	KMS_BIN_KEY_VARINT = 2,		/* the id as a varint */
	KMS_BIN_KEY_FIXED = 3,		/* the id as 8 bytes, little-endian */
};

/* FT_KEYS: how the ids of the list are stored. */
enum { KMS_BIN_KEYS_VARINT = 0, KMS_BIN_KEYS_FIXED = 1 };

static inline uint64_t kms_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t kms_unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

#endif
