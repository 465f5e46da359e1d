/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer: objects and arrays nest, keys are written in
 * the order the caller gives them (so output is deterministic), strings are
 * escaped per RFC 8259, numbers are integers.
 */
#ifndef KMS_REPORT_JSON_H
#define KMS_REPORT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool pretty;
};

void json_init(struct json_writer *w, FILE *f, bool pretty);

/* @key is NULL inside arrays and at the top level. */
void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);

void json_string(struct json_writer *w, const char *key, const char *value);
void json_int(struct json_writer *w, const char *key, int64_t value);
void json_uint(struct json_writer *w, const char *key, uint64_t value);
void json_bool(struct json_writer *w, const char *key, bool value);
void json_null(struct json_writer *w, const char *key);

/* Close the document with a newline. */
void json_finish(struct json_writer *w);

/* Write @s as a JSON string literal (with quotes) to @f. */
void json_write_escaped(FILE *f, const char *s);

#endif
