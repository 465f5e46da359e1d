// SPDX-License-Identifier: MIT
/*
 * The binary form's reader (docs/trace-format.md, "The binary form"): a
 * record is decoded from memory in one pass -- varints, a table lookup a
 * field, no text -- then checked by the same code as a text line
 * (check.c), so both forms accept exactly the same traces. Memory is the
 * reader's buffer (bounded by the largest record allowed), the dictionaries
 * and one record's strings and keys: never the trace's length.
 *
 * Two decoders: kms_binary_read_next() takes the usual record (whole in the
 * buffer, short, numbers in range) by a path with no per-type switch and no
 * error handling, changing the reader's state only once the event is good;
 * everything else, every error included, goes to read_general(), which
 * reads the record again from its start and says exactly what is wrong.
 * What the fast path accepts, the general one accepts with the same event.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/uapi_names.h"
#include "trace/binary.h"
#include "trace/fields.h"
#include "trace/reader.h"

/* The file is read in chunks of this size; the buffer holds the largest record besides. */
#define CHUNK (256u << 10)
#define BUF_SIZE (KMS_BIN_MAX_RECORD + CHUNK + 32)

/* fmap entries that are not a field of kms_fields */
#define F_UNKNOWN 0xffu		/* a name this kmemsim does not know */
#define F_NOT_FOR_OP 0xfeu	/* a known name, not on this op's lines */
#define F_COUNTER 0xfdu		/* an expectation's counter */
#define OP_UNKNOWN 0xffu
_Static_assert(KMS_NR_OPS < OP_UNKNOWN, "ops must fit a byte");

/*
 * How a field of kms_fields is decoded on the fast path (fast_fields()):
 * most fields are a number in a range stored at an offset, so one
 * description of that -- not a switch on the field's type -- decodes them
 * all; keys have their own short path, other types the general get_value().
 */
enum { D_VALUE, D_NUM, D_KEY, D_KEYS };
#define KMS_BIN_MAX_FIELDS 128

struct fdesc {
	uint8_t how;			/* D_* */
	uint8_t zz;			/* 1: a signed number, zigzag-encoded */
	uint8_t wide;			/* stored in 8 bytes, else 4 */
	uint16_t off;
	uint16_t flag;			/* a bool set with the value, or 0; a key's kind, keys' count */
	uint64_t lo, span;		/* the range: value - lo <= span, unsigned */
	uint64_t bit[2];		/* the field's bit of a record's seen[] */
};

struct kms_binary_state {
	/* The input: unread bytes [p, end); base is the file offset of @start. */
	const uint8_t *start, *p, *end;
	uint64_t base;
	bool mem;			/* decoding the caller's memory in place */
	bool ended;			/* the end record was read */

	uint32_t record;		/* the record being decoded, 1-based */
	const uint8_t *at;		/* where the error is, for kms_binary_locate() */
	uint32_t last_line;

	uint32_t nr_ops, nr_fields;
	uint8_t op_map[KMS_BIN_MAX_DICT];		/* dictionary op -> op, OP_UNKNOWN */
	char *op_name[KMS_BIN_MAX_DICT];
	char *field_name[KMS_BIN_MAX_DICT];
	uint8_t (*fmap)[KMS_BIN_MAX_DICT];		/* [op][dictionary field] */
	uint64_t required[KMS_NR_OPS][2];
	/*
	 * Each op's event as kms_event_init() makes it, copied into every event
	 * read: with a size the compiler cannot see, the copy is libc's vector
	 * memcpy() rather than the slow `rep stos` an inlined memset() becomes.
	 */
	struct kms_event *tmpl;
	size_t ev_size;
	unsigned int tid_field;		/* tid's index in kms_fields */
	/* fmap for the fast path: F_UNKNOWN for an id of two bytes or more */
	uint8_t (*fast_fmap)[KMS_BIN_MAX_DICT];
	struct fdesc desc[KMS_BIN_MAX_FIELDS];	/* [kms_fields index] */

	char *strs;			/* one record's strings, NUL-terminated */
	size_t strs_cap, strs_used;
	char *comment;
};

static int fail(struct kms_trace_reader *r, const uint8_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct kms_trace_reader *r, const uint8_t *at, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(r->err.msg)];

	r->bin->at = at;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kms_reader_fail(r, NULL, "%s", msg);
}

void kms_binary_locate(struct kms_trace_reader *r)
{
	struct kms_binary_state *b = r->bin;

	r->err.line = 0;
	r->err.column = 0;
	r->err.binary = true;
	r->err.record = b->record;
	r->err.offset = b->base + (uint64_t)((b->at ? b->at : b->p) - b->start);
}

/* ---- input ---- */

int kms_binary_sniff(struct kms_trace_reader *r)
{
	size_t have;

	if (r->mem)
		return r->mem_len >= KMS_BIN_MAGIC_LEN &&
		       memcmp(r->mem, KMS_BIN_MAGIC, KMS_BIN_MAGIC_LEN) == 0;
	/* Keep what is read in the text reader's buffer: its line reader goes on from it. */
	while ((have = r->end - r->start) < KMS_BIN_MAGIC_LEN) {
		size_t got = fread(r->buf + r->end, 1, KMS_BIN_MAGIC_LEN - have, r->f);

		if (got == 0) {
			if (ferror(r->f)) {
				r->err.file = r->name;
				snprintf(r->err.msg, sizeof(r->err.msg), "read error: %s",
					 strerror(errno ? errno : EIO));
				return -EIO;
			}
			break;
		}
		if (r->nul_at == SIZE_MAX) {
			const char *nul = memchr(r->buf + r->end, '\0', got);

			if (nul)
				r->nul_at = (size_t)(nul - r->buf);
		}
		r->end += got;
		memset(r->buf + r->end, 0, KMS_READER_SLACK);	/* reader.h: zeroed slack */
	}
	return have >= KMS_BIN_MAGIC_LEN &&
	       memcmp(r->buf + r->start, KMS_BIN_MAGIC, KMS_BIN_MAGIC_LEN) == 0;
}

/* Try to make @n bytes from b->p readable (fewer at the file's end): 0 or -EIO. */
static int fill(struct kms_trace_reader *r, size_t n)
{
	struct kms_binary_state *b = r->bin;
	size_t have = (size_t)(b->end - b->p);

	while (have < n && !b->mem && !r->eof) {
		size_t got, room;

		/* move the unread bytes to the front, then read a chunk */
		if (b->p != (const uint8_t *)r->buf) {
			b->base += (uint64_t)(b->p - b->start);
			memmove(r->buf, b->p, have);
			b->start = b->p = (const uint8_t *)r->buf;
			b->end = b->p + have;
		}
		room = r->cap - have < CHUNK ? r->cap - have : CHUNK;
		got = fread(r->buf + have, 1, room, r->f);
		if (got < room && ferror(r->f)) {
			fail(r, b->end, "read error: %s", strerror(errno ? errno : EIO));
			return -EIO;
		}
		if (got == 0)
			r->eof = true;
		b->end += got;
		have += got;
	}
	return 0;
}

/* Make @n bytes readable: 0, or -EINVAL when the file ends first (in @what), -EIO. */
static int need(struct kms_trace_reader *r, size_t n, const char *what)
{
	struct kms_binary_state *b = r->bin;
	int err = fill(r, n);

	if (err)
		return err;
	if ((size_t)(b->end - b->p) < n)
		return fail(r, b->end, "the file ends inside %s (%zu of %zu bytes): "
			    "is it truncated?", what, (size_t)(b->end - b->p), n);
	return 0;
}

/*
 * A number of at most nine bytes wholly in [*pp, end): true, or false for
 * the general way (get_uv()) to decode again and judge.
 */
static inline bool get_uv_fast(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	/* most are one or two bytes */
	if (p < end && p[0] < 0x80) {
		*out = p[0];
		*pp = p + 1;
		return true;
	}
	if (end - p >= 2 && p[1] < 0x80) {
		*out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		*pp = p + 2;
		return true;
	}
	for (unsigned int shift = 0; p < end && shift < 63; shift += 7) {
		v |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*out = v;
			*pp = p;
			return true;
		}
	}
	return false;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static int get_uv_slow(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		       uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	for (unsigned int shift = 0; shift < 70; shift += 7) {
		if (p == end && end == r->bin->end && (r->bin->mem || r->eof))
			return fail(r, p, "the file ends inside a number: is it truncated?");
		if (p == end)
			return fail(r, *pp, "a number runs past the end of its record");
		/* the tenth byte holds the 64th bit only */
		if (shift == 63 && *p > 1)
			return fail(r, *pp, "a number overflows 64 bits");
		v |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*out = v;
			*pp = p;
			return 0;
		}
	}
	return fail(r, *pp, "a number overflows 64 bits");
}

/* An unsigned LEB128 number in [*pp, end): one and two bytes (most numbers) inline. */
static inline int get_uv(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
			 uint64_t *out)
{
	const uint8_t *p = *pp;

	/* a record's last number is often one byte: it ends the record */
	if (p < end && p[0] < 0x80) {
		*out = p[0];
		*pp = p + 1;
		return 0;
	}
	if (end - p >= 2) {
		if (p[1] < 0x80) {
			*out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
			*pp = p + 2;
			return 0;
		}
	}
	return get_uv_slow(r, pp, end, out);
}

static inline int get_sv(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
			 int64_t *out)
{
	uint64_t u;
	int err = get_uv(r, pp, end, &u);

	*out = kms_unzigzag(u);
	return err;
}

/*
 * A string of at most @max bytes, no NUL, copied NUL-terminated to b->strs
 * (room for a record's strings is made when the record is read).
 */
static int get_str(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		   size_t max, const char **out)
{
	struct kms_binary_state *b = r->bin;
	const uint8_t *at = *pp;
	uint64_t len;
	char *s;

	if (get_uv(r, pp, end, &len))
		return -EINVAL;
	if (len > max)
		return fail(r, at, "a string of %llu bytes (at most %zu)",
			    (unsigned long long)len, max);
	if (len > (uint64_t)(end - *pp))
		return fail(r, at, "a string of %llu bytes runs past the end of its record",
			    (unsigned long long)len);
	if (memchr(*pp, '\0', len))
		return fail(r, (const uint8_t *)memchr(*pp, '\0', len), "NUL byte in a string");
	s = b->strs + b->strs_used;
	memcpy(s, *pp, len);
	s[len] = '\0';
	b->strs_used += len + 1;
	*pp += len;
	*out = s;
	return 0;
}

static int strs_reserve(struct kms_binary_state *b, size_t n)
{
	char *s;

	b->strs_used = 0;
	if (n <= b->strs_cap)
		return 0;
	s = realloc(b->strs, n);
	if (!s)
		return -ENOMEM;
	b->strs = s;
	b->strs_cap = n;
	return 0;
}

/* ---- the header ---- */

static int get_u32_in(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		      uint64_t lo, uint64_t hi, const char *what, uint32_t *out)
{
	const uint8_t *at = *pp;
	uint64_t v;

	if (get_uv(r, pp, end, &v))
		return -EINVAL;
	if (v < lo || v > hi)
		return fail(r, at, "%s %llu out of range (%llu to %llu)", what,
			    (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint32_t)v;
	return 0;
}

/* A dictionary: a count, then names. Names are copied: they outlive the header's record. */
static int get_dict(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		    const char *what, char **names, uint32_t *nr)
{
	const char *s;

	if (get_u32_in(r, pp, end, 0, KMS_BIN_MAX_DICT, what, nr))
		return -EINVAL;
	for (uint32_t i = 0; i < *nr; i++) {
		const uint8_t *at = *pp;

		if (get_str(r, pp, end, KMS_BIN_MAX_NAME, &s))
			return -EINVAL;
		for (uint32_t j = 0; j < i; j++)
			if (s[0] && strcmp(names[j], s) == 0)
				return fail(r, at, "'%s' twice in the %s", s, what);
		if (!(names[i] = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

/* Which field of kms_fields each dictionary name is on each op's lines. */
static void map_fields(struct kms_binary_state *b)
{
	for (uint32_t d = 0; d < b->nr_fields; d++) {
		const char *n = b->field_name[d];
		bool known = false;

		for (unsigned int op = 0; op < KMS_NR_OPS; op++)
			b->fmap[op][d] = F_UNKNOWN;
		if (strcmp(n, KMS_BIN_COUNTER) == 0) {
			for (unsigned int op = 0; op < KMS_NR_OPS; op++)
				b->fmap[op][d] = op == KMS_EV_EXPECT ? F_COUNTER : F_NOT_FOR_OP;
			continue;
		}
		for (unsigned int i = 0; i < kms_nr_fields; i++) {
			const struct kms_field *f = &kms_fields[i];

			/* seq and t are in every record's head, not fields */
			if (strcmp(f->name, n) != 0 || f->type == FT_SEQ || f->type == FT_TIME)
				continue;
			known = true;
			for (unsigned int op = 0; op < KMS_NR_OPS; op++)
				if ((f->ops >> op & 1) && b->fmap[op][d] == F_UNKNOWN)
					b->fmap[op][d] = (uint8_t)i;
		}
		for (unsigned int op = 0; known && op < KMS_NR_OPS; op++)
			if (b->fmap[op][d] == F_UNKNOWN)
				b->fmap[op][d] = F_NOT_FOR_OP;
	}
}

_Static_assert(sizeof(enum kms_exec_ctx) == 4 && sizeof(bool) == 1, "fdesc widths");

static void describe_field(struct fdesc *d, unsigned int fi)
{
	static const struct { uint8_t how, zz, wide; int64_t lo; uint64_t span; } t[] = {
		[FT_I32] = { D_NUM, 1, 0, INT32_MIN, UINT32_MAX },
		[FT_I64] = { D_NUM, 1, 1, INT64_MIN, UINT64_MAX },
		/* a result is >= 0 or -errno, errno 1..4095 */
		[FT_RET] = { D_NUM, 1, 1, -4095, (uint64_t)INT64_MAX + 4095 },
		[FT_U64] = { D_NUM, 0, 1, 0, UINT64_MAX },
		[FT_ELEM_FLAGS] = { D_NUM, 0, 1, 0, UINT64_MAX },
		[FT_LIMIT] = { D_NUM, 0, 1, 0, UINT64_MAX },
		[FT_U32] = { D_NUM, 0, 0, 0, UINT32_MAX },
		[FT_SIZE32] = { D_NUM, 0, 0, 0, UINT32_MAX },
		[FT_MAP_FLAGS] = { D_NUM, 0, 0, 0, UINT32_MAX },
		[FT_UID] = { D_NUM, 0, 0, 0, KMS_UID_UNSET - 1 },
		[FT_CTX] = { D_NUM, 0, 0, 0, KMS_CTX_NMI },
		[FT_KEY] = { D_KEY, 0, 0, 0, 0 },
		[FT_KEYS] = { D_KEYS, 0, 0, 0, 0 },
	};
	const struct kms_field *f = &kms_fields[fi];

	memset(d, 0, sizeof(*d));
	d->bit[fi / 64] = 1ull << (fi % 64);
	if (f->type >= sizeof(t) / sizeof(t[0]) || t[f->type].how == D_VALUE)
		return;
	d->how = t[f->type].how;
	d->zz = t[f->type].zz;
	d->wide = t[f->type].wide;
	d->lo = (uint64_t)t[f->type].lo;
	d->span = t[f->type].span;
	d->off = f->off;
	/* the presence flag of a limit or a result; a key's kind */
	if (f->type == FT_LIMIT || f->type == FT_RET || f->type == FT_KEY)
		d->flag = f->off2;
	/* a key list's count */
	if (f->type == FT_KEYS)
		d->flag = f->off2;
}

static int parse_header(struct kms_trace_reader *r)
{
	struct kms_binary_state *b = r->bin;
	const uint8_t *p, *end, *at;
	uint64_t v, len;
	const char *s;
	int err;

	if ((err = need(r, KMS_BIN_MAGIC_LEN + 1, "the magic and version")))
		return err;
	b->p += KMS_BIN_MAGIC_LEN;
	at = b->p;
	if ((err = get_uv(r, &b->p, b->end, &v)))
		return err;
	if (v != KMS_BIN_VERSION)
		return fail(r, at, "binary trace layout version %llu: this kmemsim reads "
			    "version %d", (unsigned long long)v, KMS_BIN_VERSION);
	/* the header's length: a varint of at most 3 bytes (KMS_BIN_MAX_RECORD) */
	at = b->p;
	if ((err = fill(r, 3)) || (err = get_uv(r, &b->p, b->end, &len)))
		return err;
	if (len > KMS_BIN_MAX_RECORD)
		return fail(r, at, "a header of %llu bytes (at most %u)", (unsigned long long)len,
			    KMS_BIN_MAX_RECORD);
	if ((err = need(r, (size_t)len, "the header")) || (err = strs_reserve(b, (size_t)len)))
		return err;
	p = b->p;
	end = p + len;
	at = p;
	if (get_uv(r, &p, end, &v))
		return -EINVAL;
	if (v != KMS_TRACE_FORMAT_VERSION)
		return fail(r, at, "unsupported trace format version '%llu' (this kmemsim reads "
			    "version %d)", (unsigned long long)v, KMS_TRACE_FORMAT_VERSION);
	r->hdr.version = (uint32_t)v;
	if (get_str(r, &p, end, KMS_BIN_MAX_STR, &s))
		return -EINVAL;
	if (!(r->kernel = strdup(s)))
		return -ENOMEM;
	r->hdr.kernel = r->kernel;
	at = p;
	if (get_u32_in(r, &p, end, 4096, 256u << 10, "page_size", &r->hdr.page_size))
		return -EINVAL;
	if (r->hdr.page_size & (r->hdr.page_size - 1))
		return fail(r, at, "page_size %u is not a power of two", r->hdr.page_size);
	if (get_u32_in(r, &p, end, 1, 8192, "cpus", &r->hdr.nr_cpus))
		return -EINVAL;
	if (get_str(r, &p, end, KMS_BIN_MAX_STR, &s))
		return -EINVAL;
	if (!(b->comment = strdup(s)))
		return -ENOMEM;
	if ((err = get_dict(r, &p, end, "op dictionary", b->op_name, &b->nr_ops)) ||
	    (err = get_dict(r, &p, end, "field dictionary", b->field_name, &b->nr_fields)))
		return err;
	if (p != end)
		return fail(r, p, "%zu bytes after the header's dictionaries",
			    (size_t)(end - p));
	b->p = end;

	/* OP_UNKNOWN past the dictionary too: the fast path looks without a bound */
	memset(b->op_map, OP_UNKNOWN, sizeof(b->op_map));
	for (uint32_t d = 0; d < b->nr_ops; d++) {
		for (unsigned int op = 0; op < KMS_NR_OPS; op++) {
			const char *n = kms_op_name(op);

			if (n && strcmp(n, b->op_name[d]) == 0)
				b->op_map[d] = (uint8_t)op;
		}
	}
	b->fmap = malloc(KMS_NR_OPS * sizeof(*b->fmap));
	b->fast_fmap = malloc(KMS_NR_OPS * sizeof(*b->fast_fmap));
	b->tmpl = kms_event_templates();
	if (!b->fmap || !b->fast_fmap || !b->tmpl)
		return -ENOMEM;
	b->ev_size = sizeof(struct kms_event);
	for (unsigned int i = 0; i < kms_nr_fields; i++)
		if (kms_fields[i].off == offsetof(struct kms_event, tid))
			b->tid_field = i;
	map_fields(b);
	for (unsigned int op = 0; op < KMS_NR_OPS; op++)
		for (unsigned int d = 0; d < KMS_BIN_MAX_DICT; d++)
			b->fast_fmap[op][d] = d < b->nr_fields && d < 0x80 ? b->fmap[op][d] :
					      F_UNKNOWN;
	for (unsigned int i = 0; i < kms_nr_fields; i++)
		describe_field(&b->desc[i], i);
	for (unsigned int i = 0; i < kms_nr_fields; i++)
		if (kms_fields[i].flags & FF_REQUIRED)
			for (unsigned int op = 0; op < KMS_NR_OPS; op++)
				if (kms_fields[i].ops >> op & 1)
					b->required[op][i / 64] |= 1ull << (i % 64);
	return 0;
}

int kms_binary_open(struct kms_trace_reader *r)
{
	struct kms_binary_state *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	r->bin = b;
	r->fmt = KMS_TRACE_NATIVE;
	if (r->mem) {
		b->mem = true;
		b->start = b->p = (const uint8_t *)r->mem;
		b->end = b->p + r->mem_len;
	} else {
		/* the text reader's buffer, with the magic already in it, made record-sized */
		if (r->cap < BUF_SIZE) {
			char *buf = realloc(r->buf, BUF_SIZE);

			if (!buf)
				return -ENOMEM;
			r->buf = buf;
			r->cap = BUF_SIZE;
		}
		b->start = b->p = (const uint8_t *)r->buf + r->start;
		b->end = (const uint8_t *)r->buf + r->end;
	}
	return parse_header(r);
}

void kms_binary_fini(struct kms_trace_reader *r)
{
	struct kms_binary_state *b = r->bin;

	if (!b)
		return;
	for (uint32_t i = 0; i < KMS_BIN_MAX_DICT; i++) {
		free(b->op_name[i]);
		free(b->field_name[i]);
	}
	free(b->fmap);
	free(b->fast_fmap);
	free(b->tmpl);
	free(b->strs);
	free(b->comment);
	free(b);
	r->bin = NULL;
}

const char *kms_trace_reader_comment(const struct kms_trace_reader *r)
{
	return r->bin && r->bin->comment ? r->bin->comment : "";
}

/* ---- events ---- */

#define FIELD(ev, off, type) ((type *)((char *)(ev) + (off)))

static int out_of_range(struct kms_trace_reader *r, const uint8_t *at, const struct kms_field *f,
			const char *what, unsigned long long v)
{
	return fail(r, at, "%s for %s, got %llu", what, f->name, v);
}

static inline int get_key(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		   unsigned int how, uint64_t *out)
{
	if (how == KMS_BIN_KEY_VARINT)
		return get_uv(r, pp, end, out);
	if ((size_t)(end - *pp) < 8)
		return fail(r, *pp, "a key id runs past the end of its record");
	*out = get_le64(*pp);
	*pp += 8;
	return 0;
}

/* FT_KEY's tag -> the kind of key */
static const enum kms_key_kind key_kinds[] = {
	[KMS_BIN_KEY_NEW] = KMS_KEY_NEW,
	[KMS_BIN_KEY_EXISTING] = KMS_KEY_EXISTING,
	[KMS_BIN_KEY_VARINT] = KMS_KEY_ID,
	[KMS_BIN_KEY_FIXED] = KMS_KEY_ID,
};

static int get_keys(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		    const struct kms_field *f, const uint64_t **keys, uint32_t *nr)
{
	const uint8_t *at = *pp;
	uint64_t n, how;
	int err;

	if (get_uv(r, pp, end, &n) || get_uv(r, pp, end, &how))
		return -EINVAL;
	if (how > KMS_BIN_KEYS_FIXED)
		return fail(r, at, "unknown key list encoding %llu", (unsigned long long)how);
	/* each id takes a byte at least: a count the record cannot hold is refused unread */
	if (n == 0 || n > KMS_BIN_MAX_KEYS || n > (uint64_t)(end - *pp))
		return out_of_range(r, at, f, "a key count out of range", n);
	if ((err = kms_reader_keys_reserve(r, (size_t)n)))
		return err;
	for (uint64_t i = 0; i < n; i++)
		if (get_key(r, pp, end, how == KMS_BIN_KEYS_FIXED ? KMS_BIN_KEY_FIXED :
			    KMS_BIN_KEY_VARINT, &r->keys[i]))
			return -EINVAL;
	*keys = r->keys;
	*nr = (uint32_t)n;
	return 0;
}

static const struct kms_name_value *enum_names(unsigned int type)
{
	return type == FT_MAP_TYPE ? kms_map_type_names :
	       type == FT_PROG_TYPE ? kms_prog_type_names : kms_attach_type_names;
}

/* One field's value: the text parser's checks (native.c set_field()) on numbers. */
static int get_value(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		     struct kms_event *ev, const struct kms_field *f)
{
	const uint8_t *at = *pp;
	uint64_t u;
	int64_t i;

	switch (f->type) {
	case FT_I32:
		if (get_sv(r, pp, end, &i))
			return -EINVAL;
		if (i < INT32_MIN || i > INT32_MAX)
			return fail(r, at, "number out of range for %s, got %lld", f->name,
				    (long long)i);
		*FIELD(ev, f->off, int32_t) = (int32_t)i;
		return 0;
	case FT_I64:
		if (get_sv(r, pp, end, &i))
			return -EINVAL;
		*FIELD(ev, f->off, int64_t) = i;
		return 0;
	case FT_RET:
		if (get_sv(r, pp, end, &i))
			return -EINVAL;
		/* a result is >= 0 or -errno, errno 1..4095 */
		if (i < -4095)
			return fail(r, at, "expected a result: a number >= 0 or -ERRNO for %s, "
				    "got %lld", f->name, (long long)i);
		*FIELD(ev, f->off, int64_t) = i;
		*FIELD(ev, f->off2, bool) = true;
		return 0;
	case FT_STR:
		return get_str(r, pp, end, KMS_BIN_MAX_STR, FIELD(ev, f->off, const char *));
	case FT_PATH:
		if (get_str(r, pp, end, KMS_BIN_MAX_STR, FIELD(ev, f->off, const char *)))
			return -EINVAL;
		if (!kms_valid_cgroup_path(*FIELD(ev, f->off, const char *),
					   strlen(*FIELD(ev, f->off, const char *))))
			return fail(r, at, "expected an absolute cgroup path like /a/b for %s, "
				    "got '%.40s'", f->name, *FIELD(ev, f->off, const char *));
		return 0;
	case FT_KEY:
		if (get_uv(r, pp, end, &u))
			return -EINVAL;
		if (u == KMS_BIN_KEY_NEW || u == KMS_BIN_KEY_EXISTING) {
			*FIELD(ev, f->off2, enum kms_key_kind) =
				u == KMS_BIN_KEY_NEW ? KMS_KEY_NEW : KMS_KEY_EXISTING;
			return 0;
		}
		if (u > KMS_BIN_KEY_FIXED)
			return fail(r, at, "unknown key tag %llu for %s", (unsigned long long)u,
				    f->name);
		*FIELD(ev, f->off2, enum kms_key_kind) = KMS_KEY_ID;
		return get_key(r, pp, end, (unsigned int)u, FIELD(ev, f->off, uint64_t));
	case FT_KEYS:
		return get_keys(r, pp, end, f, FIELD(ev, f->off, const uint64_t *),
				FIELD(ev, f->off2, uint32_t));
	default:
		break;
	}
	/* the rest are unsigned */
	if (get_uv(r, pp, end, &u))
		return -EINVAL;
	switch (f->type) {
	case FT_U64:
	case FT_ELEM_FLAGS:
		*FIELD(ev, f->off, uint64_t) = u;
		return 0;
	case FT_LIMIT:
		*FIELD(ev, f->off, uint64_t) = u;
		*FIELD(ev, f->off2, bool) = true;
		return 0;
	case FT_UID:
		if (u == KMS_UID_UNSET)
			return out_of_range(r, at, f, "number out of range", u);
		/* fall through */
	case FT_U32:
	case FT_SIZE32:
	case FT_MAP_FLAGS:
		if (u > UINT32_MAX)
			return out_of_range(r, at, f, "number out of range", u);
		*FIELD(ev, f->off, uint32_t) = (uint32_t)u;
		return 0;
	case FT_MAP_TYPE:
	case FT_PROG_TYPE:
	case FT_ATTACH_TYPE:
		if (u > UINT32_MAX || !kms_name_of(enum_names(f->type), u))
			return out_of_range(r, at, f, "no such kernel enum value", u);
		*FIELD(ev, f->off, uint32_t) = (uint32_t)u;
		return 0;
	case FT_KEYKIND:
		if (u > KMS_BIN_KEY_EXISTING)
			return out_of_range(r, at, f, "expected 0 (new) or 1 (existing)", u);
		*FIELD(ev, f->off, enum kms_key_kind) = u ? KMS_KEY_EXISTING : KMS_KEY_NEW;
		return 0;
	case FT_BOOL:
		if (u > 1)
			return out_of_range(r, at, f, "expected 0 or 1", u);
		*FIELD(ev, f->off, bool) = u;
		return 0;
	case FT_CTX:
		if (u > KMS_CTX_NMI)
			return out_of_range(r, at, f, "expected task, softirq, hardirq or nmi (0-3)",
					    u);
		*FIELD(ev, f->off, enum kms_exec_ctx) = (enum kms_exec_ctx)u;
		return 0;
	}
	return fail(r, at, "internal: field type %u", f->type);
}

/* An expectation's counter, relation and value: the text's "counter==value". */
static int get_counter(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		       struct kms_event *ev)
{
	const uint8_t *at = *pp;
	const char *name;
	uint64_t how;
	int64_t v = INT64_MAX;

	if (ev->u.expect.counter)
		return fail(r, at, "a second counter: one expectation per record");
	/* as long as text allows: memory.stat.KEY takes any KEY */
	if (get_str(r, pp, end, KMS_BIN_MAX_STR, &name))
		return -EINVAL;
	if (!kms_expect_counter_valid(name, strlen(name), &ev->u.expect.what))
		return fail(r, at, "unknown counter '%s' for expect", name);
	at = *pp;
	if (get_uv(r, pp, end, &how))
		return -EINVAL;
	if ((how & 3) > KMS_REL_GE || how > 7)
		return fail(r, at, "unknown relation %llu for %s", (unsigned long long)how, name);
	if (!(how & 4) && get_sv(r, pp, end, &v))
		return -EINVAL;
	if (ev->u.expect.what == KMS_EXPECT_RESULT ? (how & 4) || v < -4095 : v < 0)
		return fail(r, at, "value out of range for %s", name);
	ev->u.expect.counter = name;
	ev->u.expect.rel = (enum kms_expect_rel)(how & 3);
	ev->u.expect.value_max = how & 4;
	ev->u.expect.value = v;
	return 0;
}

/* The end record, @rec its first byte: the number of events, then nothing. */
static int read_end(struct kms_trace_reader *r, const uint8_t *rec)
{
	struct kms_binary_state *b = r->bin;
	size_t lenlen = (size_t)(b->p - rec);
	uint64_t n;
	int err;

	/* a varint of at most 10 bytes; fill() may move the bytes, so @rec is found again */
	if ((err = fill(r, 10)))
		return err;
	rec = b->p - lenlen;
	if ((err = get_uv(r, &b->p, b->end, &n)))
		return err;
	if (n != (uint64_t)b->record - 1)
		return fail(r, rec, "the end record counts %llu events, the file has %u",
			    (unsigned long long)n, b->record - 1);
	if ((err = fill(r, 1)))
		return err;
	if (b->p != b->end)
		return fail(r, b->p, "bytes after the end record");
	b->ended = true;
	return 0;
}

/*
 * *@ev = *@tmpl, as 16-byte moves in line: no call, which would make the
 * decoder keep its state across it, and not the `rep movs` gcc makes of a
 * struct assignment this size (see kms_event_templates()).
 */
static inline void copy_event(struct kms_event *ev, const struct kms_event *tmpl)
{
	typedef uint64_t chunk __attribute__((vector_size(16), aligned(8), may_alias));
	const chunk *s = (const chunk *)tmpl;
	chunk *d = (chunk *)ev;

	_Static_assert(sizeof(*ev) % sizeof(chunk) == 0, "an event is whole chunks");
#pragma GCC unroll 32
	for (size_t i = 0; i < sizeof(*ev) / sizeof(chunk); i++)
		d[i] = s[i];
}

/*
 * A record's fields the fast way: true, or false to decode them again the
 * general way (get_field()), which finds the first thing wrong -- so
 * nothing here needs to say what is wrong, or to stop at the first wrong
 * thing: a field twice is found once at the end. What the loop reads is in
 * locals: stores into *ev could alias anything else.
 */
static inline bool fast_fields(struct kms_trace_reader *r, struct kms_event *ev,
			       unsigned int op, const uint8_t *p, const uint8_t *end,
			       uint64_t seen[2])
{
	const uint8_t *fmap = r->bin->fast_fmap[op];
	const struct fdesc *desc = r->bin->desc;
	uint64_t s0 = 0, s1 = 0, twice = 0;
	char *e = (char *)ev;

	while (p < end) {
		unsigned int fi = fmap[*p++];
		const struct fdesc *d;
		uint64_t u;

		if (fi >= F_COUNTER)
			return false;
		d = &desc[fi];
		twice |= (s0 & d->bit[0]) | (s1 & d->bit[1]);
		s0 |= d->bit[0];
		s1 |= d->bit[1];
		if (d->how == D_NUM) {
			uint32_t u32;

			if (!get_uv_fast(&p, end, &u))
				return false;
			u = (u >> d->zz) ^ -(u & d->zz);	/* unzigzag, or not */
			if (u - d->lo > d->span)
				return false;
			if (d->wide) {
				memcpy(e + d->off, &u, 8);
			} else {
				u32 = (uint32_t)u;
				memcpy(e + d->off, &u32, 4);
			}
			if (d->flag)
				e[d->flag] = true;
		} else if (d->how == D_KEY) {
			/* new, existing, or an id as a varint or 8 bytes */
			unsigned int tag = p < end ? *p++ : ~0u;
			enum kms_key_kind kind;

			if (tag == KMS_BIN_KEY_FIXED) {
				if (end - p < 8)
					return false;
				u = get_le64(p);
				p += 8;
				memcpy(e + d->off, &u, 8);
			} else if (tag == KMS_BIN_KEY_VARINT) {
				if (!get_uv_fast(&p, end, &u))
					return false;
				memcpy(e + d->off, &u, 8);
			} else if (tag > KMS_BIN_KEY_FIXED) {
				return false;
			}
			kind = key_kinds[tag];
			memcpy(e + d->flag, &kind, sizeof(kind));
		} else if (d->how == D_KEYS) {
			/* at most 127 ids, as varints or 8 bytes each, in r->keys as it is */
			unsigned int n = p + 2 <= end ? p[0] : 0, fixed = n ? p[1] : 2;
			uint64_t *keys = r->keys;
			uint32_t nr = n;

			p += 2;
			if (n - 1 >= 0x7f || fixed > KMS_BIN_KEYS_FIXED || n > (size_t)(end - p) ||
			    n > r->keys_cap)
				return false;
			for (unsigned int i = 0; i < n; i++) {
				if (fixed) {
					if (end - p < 8)
						return false;
					keys[i] = get_le64(p);
					p += 8;
				} else if (!get_uv_fast(&p, end, &keys[i])) {
					return false;
				}
			}
			memcpy(e + d->off, &keys, sizeof(keys));
			memcpy(e + d->flag, &nr, sizeof(nr));
		} else if (get_value(r, &p, end, ev, &kms_fields[fi])) {
			return false;
		}
	}
	if (twice)
		return false;
	seen[0] = s0;
	seen[1] = s1;
	return true;
}

/* One field, id and value, with every check: the general way. */
static int get_field(struct kms_trace_reader *r, const uint8_t **pp, const uint8_t *end,
		     struct kms_event *ev, unsigned int op, uint64_t seen[2])
{
	struct kms_binary_state *b = r->bin;
	const uint8_t *at = *pp;
	unsigned int fi;
	uint64_t v;

	if (get_uv(r, pp, end, &v))
		return -EINVAL;
	if (v >= b->nr_fields)
		return fail(r, at, "field %llu is not in the field dictionary (%u fields)",
			    (unsigned long long)v, b->nr_fields);
	fi = b->fmap[op][v];
	if (fi >= F_COUNTER) {
		if (fi == F_COUNTER)
			return get_counter(r, pp, end, ev);
		if (fi == F_UNKNOWN)
			return fail(r, at, "unknown field '%s'", b->field_name[v]);
		return fail(r, at, "field '%s' does not belong on a %s record",
			    b->field_name[v], kms_op_name(op));
	}
	if (seen[fi / 64] >> (fi % 64) & 1)
		return fail(r, at, "duplicate field '%s'", b->field_name[v]);
	seen[fi / 64] |= 1ull << (fi % 64);
	return get_value(r, pp, end, ev, &kms_fields[fi]);
}

/* The next record the general way: every check, in the order the format's errors are found. */
static __attribute__((noinline)) int read_general(struct kms_trace_reader *r,
						  struct kms_event *ev)
{
	struct kms_binary_state *b = r->bin;
	uint64_t seen[2] = { 0, 0 };
	const uint8_t *p, *end, *at, *rec;
	unsigned int op, given = KMS_GIVEN_SEQ | KMS_GIVEN_TIME;
	uint64_t len, v;
	size_t lenlen;
	int64_t d;
	int err;

	if (b->ended)
		return 0;
	b->record++;
	/* the length: a varint of at most 3 bytes (KMS_BIN_MAX_RECORD) */
	if ((size_t)(b->end - b->p) < 3 && (err = fill(r, 3)))
		return err;
	if (b->p == b->end)
		return fail(r, b->p, "the file ends without an end record: is it truncated?");
	rec = at = b->p;
	if ((err = get_uv(r, &b->p, b->end, &len)))
		return err;
	if (len == 0)
		return read_end(r, rec);
	if (len > KMS_BIN_MAX_RECORD)
		return fail(r, at, "a record of %llu bytes (at most %u)", (unsigned long long)len,
			    KMS_BIN_MAX_RECORD);
	lenlen = (size_t)(b->p - rec);
	if (((size_t)(b->end - b->p) < len && (err = need(r, (size_t)len, "a record"))) ||
	    (len > b->strs_cap && (err = strs_reserve(b, (size_t)len))))
		return err;
	b->strs_used = 0;
	/* need() may have moved the bytes */
	p = b->p;
	end = p + len;
	rec = at = p - lenlen;

	if (get_uv(r, &p, end, &v))
		return -EINVAL;
	if (v >= b->nr_ops)
		return fail(r, at, "op %llu is not in the op dictionary (%u ops)",
			    (unsigned long long)v, b->nr_ops);
	op = b->op_map[v];
	if (op == OP_UNKNOWN)
		return fail(r, at, "unknown event '%s'", b->op_name[v]);
	memcpy(ev, &b->tmpl[op], b->ev_size);

	/* the head: line, seq and time as differences from the previous event */
	if (get_sv(r, &p, end, &d))
		return -EINVAL;
	if (d < -(int64_t)b->last_line || d > (int64_t)(UINT32_MAX - b->last_line))
		return fail(r, at, "line %lld %+lld is out of range", (long long)b->last_line,
			    (long long)d);
	ev->line = b->last_line = (uint32_t)((int64_t)b->last_line + d);
	if (get_uv(r, &p, end, &v))
		return -EINVAL;
	ev->seq = r->last_seq + v;
	if (get_uv(r, &p, end, &v))
		return -EINVAL;
	ev->time_ns = r->last_time + v;

	while (p < end)
		if (get_field(r, &p, end, ev, op, seen))
			return -EINVAL;
	/* tid= given: its bit, looked for once rather than on every field */
	if (seen[b->tid_field / 64] >> (b->tid_field % 64) & 1)
		given |= KMS_GIVEN_TID;
	b->p = end;
	/* the checks of a whole event (the text's), placed at the record's start */
	b->at = rec;
	return kms_event_finish(r, ev, op, b->required[op], seen, given, "", "");
}

/*
 * The next record, the fast way when it is whole in the buffer, with a
 * one-byte length, op and numbers that fit: nothing in the reader changes
 * until the event is known good, so anything else -- including every
 * error -- is read again by read_general(), which finds the first thing
 * wrong exactly as it always has.
 */
int kms_binary_read_next(struct kms_trace_reader *r, struct kms_event *ev)
{
	struct kms_binary_state *b = r->bin;
	const uint8_t *p = b->p, *end, *rec = p;
	uint64_t seen[2], v;
	unsigned int op, len;
	int64_t d;
	bool tid_given;

	/* a length of 1 to 127 bytes, the record whole in the buffer */
	if (b->ended || p == b->end || (len = p[0]) - 1u >= 0x7fu ||
	    (size_t)(b->end - p - 1) < len || len > b->strs_cap)
		return read_general(r, ev);
	p++;
	end = p + len;
	if (*p >= 0x80 || (op = b->op_map[*p]) == OP_UNKNOWN)
		return read_general(r, ev);
	p++;
	copy_event(ev, &b->tmpl[op]);
	/* the head: line, seq and time as differences from the previous event */
	if (!get_uv_fast(&p, end, &v))
		return read_general(r, ev);
	d = kms_unzigzag(v);
	if (d < -(int64_t)b->last_line || d > (int64_t)(UINT32_MAX - b->last_line))
		return read_general(r, ev);
	ev->line = (uint32_t)((int64_t)b->last_line + d);
	if (!get_uv_fast(&p, end, &v))
		return read_general(r, ev);
	ev->seq = r->last_seq + v;
	if (!get_uv_fast(&p, end, &v))
		return read_general(r, ev);
	ev->time_ns = r->last_time + v;
	b->strs_used = 0;
	if (!fast_fields(r, ev, op, p, end, seen))
		return read_general(r, ev);
	tid_given = seen[b->tid_field / 64] >> (b->tid_field % 64) & 1;
	b->record++;
	b->last_line = ev->line;
	b->p = end;
	b->at = rec;
	if (kms_event_finish_plain(r, ev, b->required[op], seen, tid_given))
		return 1;
	return kms_event_finish(r, ev, op, b->required[op], seen,
				KMS_GIVEN_SEQ | KMS_GIVEN_TIME | (tid_given ? KMS_GIVEN_TID : 0),
				"", "");
}
