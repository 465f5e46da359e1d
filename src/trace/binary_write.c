// SPDX-License-Identifier: MIT
/*
 * The trace writer of both forms (include/kmemsim/trace.h): text through
 * writer.c, the binary form encoded here (docs/trace-format.md, "The binary
 * form"). The binary form writes exactly the fields the text writer would
 * (kms_field_at_default()), so the event a reader gets back is the same from
 * either form.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/binary.h"
#include "trace/fields.h"
#include "trace/reader.h"

/*
 * Records are gathered in a buffer and written FLUSH_AT bytes at a time; the
 * buffer grows to BUF_SIZE only when a record does not fit (large key lists).
 */
#define FLUSH_AT (64u << 10)
#define BUF_START (3 * FLUSH_AT)	/* > a header: two 64K strings and the dictionaries */
#define BUF_SIZE (FLUSH_AT + KMS_BIN_MAX_RECORD + 16)

struct kms_trace_writer {
	FILE *f;
	bool binary;
	uint32_t text_line;		/* the line the next event has in the text form */
	bool any_event;
	uint64_t last_seq, last_time;
	uint32_t last_line;
	uint64_t events;
	/* binary: each field's id in the field dictionary, and the counter's */
	uint8_t fid[256];
	uint8_t counter_fid;
	/* fields of each op's records, in table order (the text's order) */
	uint8_t op_fields[KMS_NR_OPS][64];
	uint8_t op_nr_fields[KMS_NR_OPS];
	uint8_t *buf;
	size_t used, cap;
};

struct out {
	uint8_t *p, *end;
	bool full;
};

static void put_bytes(struct out *o, const void *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static inline void put_uv(struct out *o, uint64_t v)
{
	if ((size_t)(o->end - o->p) < 10) {
		o->full = true;
		return;
	}
	while (v >= 0x80) {
		*o->p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*o->p++ = (uint8_t)v;
}

static void put_sv(struct out *o, int64_t v)
{
	put_uv(o, kms_zigzag(v));
}

/* -ENOSPC for a string no reader takes (longer than a text line may be). */
static int put_str(struct out *o, const char *s)
{
	size_t len = strlen(s);

	if (len > KMS_BIN_MAX_STR)
		return -ENOSPC;
	put_uv(o, len);
	put_bytes(o, s, len);
	return 0;
}

static void put_fixed64(struct out *o, uint64_t v)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(o, b, 8);
}

/* An id as a varint while that is no longer than 8 bytes (ids below 2^56). */
static bool key_varint(uint64_t id)
{
	return id < (1ull << 56);
}

static int put_keys(struct out *o, const uint64_t *keys, uint32_t n)
{
	size_t varint = 0;

	if (n > KMS_BIN_MAX_KEYS)
		return -ENOSPC;
	for (uint32_t i = 0; i < n; i++)
		varint += key_varint(keys[i]) ? 1 + (size_t)(63 - __builtin_clzll(keys[i] | 1)) / 7
					      : 9;
	put_uv(o, n);
	put_uv(o, varint <= 8 * (size_t)n ? KMS_BIN_KEYS_VARINT : KMS_BIN_KEYS_FIXED);
	for (uint32_t i = 0; i < n; i++) {
		if (varint <= 8 * (size_t)n)
			put_uv(o, keys[i]);
		else
			put_fixed64(o, keys[i]);
	}
	return 0;
}

#define FIELD(ev, off, type) ((const type *)((const char *)(ev) + (off)))

static int put_value(struct out *o, const struct kms_event *ev, const struct kms_field *f)
{
	uint64_t id;

	switch (f->type) {
	case FT_I32:
		put_sv(o, *FIELD(ev, f->off, int32_t));
		return 0;
	case FT_I64:
	case FT_RET:
		put_sv(o, *FIELD(ev, f->off, int64_t));
		return 0;
	case FT_U64:
	case FT_ELEM_FLAGS:
	case FT_LIMIT:
		put_uv(o, *FIELD(ev, f->off, uint64_t));
		return 0;
	case FT_STR:
	case FT_PATH:
		return put_str(o, *FIELD(ev, f->off, char *));
	case FT_KEY:
		switch (*FIELD(ev, f->off2, enum kms_key_kind)) {
		case KMS_KEY_NEW:
			put_uv(o, KMS_BIN_KEY_NEW);
			return 0;
		case KMS_KEY_EXISTING:
			put_uv(o, KMS_BIN_KEY_EXISTING);
			return 0;
		default:
			id = *FIELD(ev, f->off, uint64_t);
			put_uv(o, key_varint(id) ? KMS_BIN_KEY_VARINT : KMS_BIN_KEY_FIXED);
			if (key_varint(id))
				put_uv(o, id);
			else
				put_fixed64(o, id);
			return 0;
		}
	case FT_KEYKIND:
		put_uv(o, *FIELD(ev, f->off, enum kms_key_kind) == KMS_KEY_NEW ?
		       KMS_BIN_KEY_NEW : KMS_BIN_KEY_EXISTING);
		return 0;
	case FT_KEYS:
		return put_keys(o, *FIELD(ev, f->off, uint64_t *), *FIELD(ev, f->off2, uint32_t));
	case FT_BOOL:
		put_uv(o, *FIELD(ev, f->off, bool));
		return 0;
	default:	/* 32-bit integers and enums */
		put_uv(o, *FIELD(ev, f->off, uint32_t));
		return 0;
	}
}

/* The expectation's "counter REL value" of the text, as the writer prints it. */
static int put_counter(struct kms_trace_writer *w, struct out *o, const struct kms_event *ev)
{
	int err;

	put_uv(o, w->counter_fid);
	if ((err = put_str(o, ev->u.expect.counter ? ev->u.expect.counter : "ret")))
		return err;
	put_uv(o, (uint64_t)ev->u.expect.rel | (ev->u.expect.value_max ? 4 : 0));
	if (!ev->u.expect.value_max)
		put_sv(o, ev->u.expect.value);
	return 0;
}

static int flush(struct kms_trace_writer *w)
{
	size_t n = w->used;

	w->used = 0;
	return fwrite(w->buf, 1, n, w->f) == n ? 0 : -EIO;
}

/* Frame the record encoded at buf[used + 3, o->p): its length (1-3 bytes) first. */
static int put_record(struct kms_trace_writer *w, const struct out *o)
{
	uint8_t *body = w->buf + w->used + 3;
	size_t len = (size_t)(o->p - body), k = 0;
	uint8_t tmp[3];

	if (o->full || len > KMS_BIN_MAX_RECORD)
		return -ENOSPC;
	for (size_t v = len; k == 0 || v; v >>= 7)
		tmp[k++] = (uint8_t)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
	memmove(w->buf + w->used + k, body, len);
	memcpy(w->buf + w->used, tmp, k);
	w->used += k + len;
	return w->used >= FLUSH_AT ? flush(w) : 0;
}

static int binary_event(struct kms_trace_writer *w, const struct kms_event *ev, unsigned int op,
			uint32_t line)
{
	struct out o = { w->buf + w->used + 3, w->buf + w->cap, false };
	int err;

	put_uv(&o, op);
	put_sv(&o, (int64_t)line - (int64_t)w->last_line);
	put_uv(&o, ev->seq - (w->any_event ? w->last_seq : 0));
	put_uv(&o, ev->time_ns - (w->any_event ? w->last_time : 0));
	for (unsigned int k = 0; k < w->op_nr_fields[op]; k++) {
		const struct kms_field *f = &kms_fields[w->op_fields[op][k]];

		if (kms_field_at_default(ev, f))
			continue;
		put_uv(&o, w->fid[w->op_fields[op][k]]);
		if ((err = put_value(&o, ev, f)))
			return err;
	}
	if (ev->kind == KMS_EV_EXPECT && (err = put_counter(w, &o, ev)))
		return err;
	if (o.full && w->cap < BUF_SIZE) {
		uint8_t *b = realloc(w->buf, BUF_SIZE);

		if (!b)
			return -ENOMEM;
		w->buf = b;
		w->cap = BUF_SIZE;
		return binary_event(w, ev, op, line);
	}
	return put_record(w, &o);
}

int kms_trace_writer_write(struct kms_trace_writer *w, const struct kms_event *ev)
{
	unsigned int op = kms_event_op(ev);
	uint32_t line = ev->line ? ev->line : w->text_line;
	int err;

	if (!w->binary) {
		err = kms_trace_write_event(w->f, ev);
	} else {
		/* what the text writer refuses, and what a delta cannot say */
		if (op >= KMS_NR_OPS || !kms_op_name(op) || (unsigned int)ev->ctx > KMS_CTX_NMI ||
		    (ev->has_ret && ev->ret < -4095) ||
		    (w->any_event && (ev->seq <= w->last_seq || ev->time_ns < w->last_time)))
			return -EINVAL;
		err = binary_event(w, ev, op, line);
	}
	if (err)
		return err;
	w->any_event = true;
	w->last_seq = ev->seq;
	w->last_time = ev->time_ns;
	w->last_line = line;
	w->text_line++;
	w->events++;
	return 0;
}

static int binary_header(struct kms_trace_writer *w, const struct kms_trace_header *h,
			 const char *comment)
{
	struct out o = { w->buf + 3, w->buf + w->cap, false };
	const char *names[KMS_BIN_MAX_DICT];
	unsigned int nr = 0;
	int err;

	put_uv(&o, KMS_TRACE_FORMAT_VERSION);
	if ((err = put_str(&o, h->kernel ? h->kernel : "unknown")))
		return err;
	put_uv(&o, h->page_size);
	put_uv(&o, h->nr_cpus);
	if ((err = put_str(&o, comment ? comment : "")))
		return err;
	/* the op dictionary: every op, by the index the records use ("" for none) */
	put_uv(&o, KMS_NR_OPS);
	for (unsigned int op = 0; op < KMS_NR_OPS; op++)
		put_str(&o, kms_op_name(op) ? kms_op_name(op) : "");
	/* the field dictionary: each name once; seq and t are in every record's head */
	for (unsigned int i = 0; i < kms_nr_fields; i++) {
		const struct kms_field *f = &kms_fields[i];
		unsigned int d;

		if (f->type == FT_SEQ || f->type == FT_TIME)
			continue;
		for (d = 0; d < nr && strcmp(names[d], f->name) != 0; d++)
			;
		if (d == nr)
			names[nr++] = f->name;
		w->fid[i] = (uint8_t)d;
		for (unsigned int op = 0; op < KMS_NR_OPS; op++)
			if (f->ops >> op & 1)
				w->op_fields[op][w->op_nr_fields[op]++] = (uint8_t)i;
	}
	w->counter_fid = (uint8_t)nr;
	names[nr++] = KMS_BIN_COUNTER;
	put_uv(&o, nr);
	for (unsigned int d = 0; d < nr; d++)
		put_str(&o, names[d]);
	/* the header is framed as a record is, after the magic and the version */
	memmove(w->buf + KMS_BIN_MAGIC_LEN + 1 + 3, w->buf + 3, (size_t)(o.p - (w->buf + 3)));
	memcpy(w->buf, KMS_BIN_MAGIC, KMS_BIN_MAGIC_LEN);
	w->buf[KMS_BIN_MAGIC_LEN] = KMS_BIN_VERSION;
	w->used = KMS_BIN_MAGIC_LEN + 1;
	o.p += w->used;
	return put_record(w, &o);
}

int kms_trace_writer_open(FILE *f, enum kms_trace_format form, const struct kms_trace_header *h,
			  const char *comment, struct kms_trace_writer **out)
{
	struct kms_trace_writer *w;
	int err;

	*out = NULL;
	if (form != KMS_TRACE_NATIVE && form != KMS_TRACE_BINARY)
		return -EINVAL;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	w->f = f;
	w->binary = form == KMS_TRACE_BINARY;
	/* the header line, after the comment's lines */
	w->text_line = 2;
	for (const char *c = comment; c && *c; c++)
		w->text_line += *c == '\n' && c[1];
	if (comment && *comment)
		w->text_line++;
	if (!w->binary) {
		err = comment ? kms_trace_write_comment(f, comment) : 0;
		if (!err)
			err = kms_trace_write_header(f, h);
	} else if (!(w->buf = malloc(w->cap = BUF_START))) {
		err = -ENOMEM;
	} else {
		err = binary_header(w, h, comment);
	}
	if (err) {
		kms_trace_writer_free(w);
		return err;
	}
	*out = w;
	return 0;
}

int kms_trace_writer_close(struct kms_trace_writer *w)
{
	int err = 0;

	if (w->binary) {
		struct out o = { w->buf + w->used, w->buf + w->cap, false };

		/* the end record: length 0, then the number of events */
		put_uv(&o, 0);
		put_uv(&o, w->events);
		w->used = (size_t)(o.p - w->buf);
		err = flush(w);
	}
	if (fflush(w->f) && !err)
		err = -EIO;
	kms_trace_writer_free(w);
	return err;
}

void kms_trace_writer_free(struct kms_trace_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}
