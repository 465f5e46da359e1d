// SPDX-License-Identifier: MIT
#include <inttypes.h>

#include "report/json.h"

void json_init(struct json_writer *w, FILE *f, bool pretty)
{
	*w = (struct json_writer){ .f = f, .pretty = pretty };
}

void json_write_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_indent(struct json_writer *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Comma, newline and indentation, then the key if there is one. */
static void json_member(struct json_writer *w, const char *key)
{
	if (w->depth > 0) {
		if (w->need_comma[w->depth])
			fputc(',', w->f);
		w->need_comma[w->depth] = true;
		json_indent(w);
	}
	if (key) {
		json_write_escaped(w->f, key);
		fputs(w->pretty ? ": " : ":", w->f);
	}
}

static void json_open(struct json_writer *w, const char *key, char c)
{
	json_member(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < JSON_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void json_close(struct json_writer *w, char c)
{
	bool had_members = w->need_comma[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (had_members)
		json_indent(w);
	fputc(c, w->f);
}

void json_object_begin(struct json_writer *w, const char *key)
{
	json_open(w, key, '{');
}

void json_object_end(struct json_writer *w)
{
	json_close(w, '}');
}

void json_array_begin(struct json_writer *w, const char *key)
{
	json_open(w, key, '[');
}

void json_array_end(struct json_writer *w)
{
	json_close(w, ']');
}

void json_string(struct json_writer *w, const char *key, const char *value)
{
	json_member(w, key);
	json_write_escaped(w->f, value);
}

void json_int(struct json_writer *w, const char *key, int64_t value)
{
	json_member(w, key);
	fprintf(w->f, "%" PRId64, value);
}

void json_uint(struct json_writer *w, const char *key, uint64_t value)
{
	json_member(w, key);
	fprintf(w->f, "%" PRIu64, value);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
	json_member(w, key);
	fputs(value ? "true" : "false", w->f);
}

void json_null(struct json_writer *w, const char *key)
{
	json_member(w, key);
	fputs("null", w->f);
}

void json_finish(struct json_writer *w)
{
	fputc('\n', w->f);
}
