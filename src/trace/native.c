// SPDX-License-Identifier: MIT
/*
 * The native format's parser (docs/trace-format.md): one line, one event,
 * parsed in place in the reader's buffer. Field names are found through a
 * small hash index built when the reader opens; values are converted by hand
 * (no sscanf/strtok): strings are NUL-terminated where they lie, so an
 * event's strings are borrowed from the buffer until the next read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/fields.h"
#include "core/uapi_names.h"
#include "trace/reader.h"

#define INDEX_SLOTS 512u	/* power of two, > 2 * (fields + ops) */
#define NO_ENTRY 0xffffu
#define MEMO_FIELDS 16u		/* tokens a line's field order is remembered for */

/* Names of fields and ops, hashed: field entries chain fields of one name. */
struct kms_field_index {
	uint16_t field_slot[INDEX_SLOTS];	/* first field with the name */
	uint16_t field_next[256];		/* next field with the same name */
	uint16_t op_slot[INDEX_SLOTS];
	uint64_t required[KMS_NR_OPS][2];	/* FF_REQUIRED fields of each op */
	/* names and their lengths, so a lookup is one memcmp */
	const char *op_name[KMS_NR_OPS];
	uint8_t op_len[KMS_NR_OPS];
	uint8_t field_len[256];
	/*
	 * The fields of the last line of each op, in order: lines of one op
	 * usually name the same fields in the same order (every writer does),
	 * so the k-th token is first compared with the k-th field seen before.
	 * Reader state, not global: it only ever saves a lookup.
	 */
	uint16_t order[KMS_NR_OPS][MEMO_FIELDS];
	uint16_t last_op;			/* the op of the last line, likewise */
};

/*
 * Names are short and differ in length, first or last bytes: hashing those
 * (not every byte) keeps a lookup to a few instructions; collisions probe on.
 */
static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = (uint32_t)len * 0x9e3779b1u;

	if (len) {
		h ^= (unsigned char)s[0] * 0x85ebca6bu;
		h ^= (unsigned char)s[len - 1] * 0xc2b2ae35u;
		h ^= (unsigned char)s[len / 2] * 0x27d4eb2fu;
	}
	return h ^ (h >> 15);
}

static bool name_eq(const char *name, const char *s, size_t len)
{
	return strncmp(name, s, len) == 0 && name[len] == '\0';
}

/* @name is @nlen long. */
static bool name_eq_len(const char *name, size_t nlen, const char *s, size_t len)
{
	return nlen == len && memcmp(name, s, len) == 0;
}

int kms_native_init(struct kms_trace_reader *r)
{
	struct kms_field_index *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	memset(x->field_slot, 0xff, sizeof(x->field_slot));
	memset(x->field_next, 0xff, sizeof(x->field_next));
	memset(x->op_slot, 0xff, sizeof(x->op_slot));
	memset(x->order, 0xff, sizeof(x->order));
	x->last_op = NO_ENTRY;
	memset(x->required, 0, sizeof(x->required));
	for (unsigned int i = 0; i < kms_nr_fields; i++) {
		const struct kms_field *f = &kms_fields[i];
		uint32_t s = name_hash(f->name, strlen(f->name)) & (INDEX_SLOTS - 1);

		x->field_len[i] = (uint8_t)strlen(f->name);

		while (x->field_slot[s] != NO_ENTRY &&
		       strcmp(kms_fields[x->field_slot[s]].name, f->name) != 0)
			s = (s + 1) & (INDEX_SLOTS - 1);
		if (x->field_slot[s] == NO_ENTRY) {
			x->field_slot[s] = (uint16_t)i;
		} else {
			unsigned int j = x->field_slot[s];

			while (x->field_next[j] != NO_ENTRY)
				j = x->field_next[j];
			x->field_next[j] = (uint16_t)i;
		}
		if (f->flags & FF_REQUIRED)
			for (unsigned int op = 0; op < KMS_NR_OPS; op++)
				if (f->ops & (1ull << op))
					x->required[op][i / 64] |= 1ull << (i % 64);
	}
	for (unsigned int op = 0; op < KMS_NR_OPS; op++) {
		const char *n = kms_op_name(op);
		uint32_t s;

		x->op_name[op] = n;
		if (!n)
			continue;
		x->op_len[op] = (uint8_t)strlen(n);
		s = name_hash(n, strlen(n)) & (INDEX_SLOTS - 1);
		while (x->op_slot[s] != NO_ENTRY)
			s = (s + 1) & (INDEX_SLOTS - 1);
		x->op_slot[s] = (uint16_t)op;
	}
	r->fx = x;
	return 0;
}

void kms_native_fini(struct kms_trace_reader *r)
{
	free(r->fx);
	r->fx = NULL;
}

/* Also the other name of one op: BPF_PROG_RUN is BPF_PROG_TEST_RUN. */
static int lookup_op(const struct kms_field_index *x, const char *s, size_t len)
{
	uint32_t h = name_hash(s, len) & (INDEX_SLOTS - 1);
	uint64_t v;

	for (; x->op_slot[h] != NO_ENTRY; h = (h + 1) & (INDEX_SLOTS - 1)) {
		unsigned int op = x->op_slot[h];

		if (name_eq_len(x->op_name[op], x->op_len[op], s, len))
			return (int)op;
	}
	if (kms_name_lookup(kms_bpf_cmd_names, s, len, &v) == 0)
		return (int)(KMS_OP_BPF_BASE + v);
	return -1;
}

/* The field called @s on lines of @op: its index, -1 unknown, -2 not for @op. */
static int lookup_field(const struct kms_field_index *x, const char *s, size_t len,
			unsigned int op)
{
	uint32_t h = name_hash(s, len) & (INDEX_SLOTS - 1);

	for (; x->field_slot[h] != NO_ENTRY; h = (h + 1) & (INDEX_SLOTS - 1)) {
		unsigned int i = x->field_slot[h];

		if (!name_eq_len(kms_fields[i].name, x->field_len[i], s, len))
			continue;
		for (; i != NO_ENTRY; i = x->field_next[i])
			if (kms_fields[i].ops & (1ull << op))
				return (int)i;
		return -2;
	}
	return -1;
}

/* ---- values ---- */

/* Value of a hex digit; 0 marks every other byte (a digit is stored + 1). */
#define HX(c, v) [c] = (v) + 1
static const uint8_t hex_digit[256] = {
	HX('0', 0), HX('1', 1), HX('2', 2), HX('3', 3), HX('4', 4), HX('5', 5), HX('6', 6),
	HX('7', 7), HX('8', 8), HX('9', 9), HX('a', 10), HX('b', 11), HX('c', 12), HX('d', 13),
	HX('e', 14), HX('f', 15), HX('A', 10), HX('B', 11), HX('C', 12), HX('D', 13),
	HX('E', 14), HX('F', 15),
};

int kms_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0, safe;

	if (len == 0)
		return -EINVAL;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < len; i++) {
			unsigned int d = hex_digit[(unsigned char)s[i]];

			if (!d)
				return -EINVAL;
			if (v >> 60)
				return -ERANGE;
			v = v << 4 | (d - 1);
		}
		*out = v;
		return 0;
	}
	/* 19 decimal digits never overflow 64 bits: check only past them */
	safe = len < 19 ? len : 19;
	for (; i < safe; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > 9)
			return -EINVAL;
		v = v * 10 + d;
	}
	for (; i < len; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int kms_errno_from_name(const char *s, size_t len)
{
	uint64_t v;

	if (kms_name_lookup(kms_errno_names, s, len, &v))
		return -1;
	return (int)v;
}

/* A number with an optional K/M/G/T suffix (powers of 1024). */
static int parse_size(const char *s, size_t len, uint64_t *out)
{
	unsigned int shift = 0;
	uint64_t v;
	int err;

	if (len > 1) {
		switch (s[len - 1]) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		}
		if (shift)
			len--;
	}
	err = kms_parse_u64(s, len, &v);
	if (err)
		return err;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static int parse_i64(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	bool neg = len > 0 && s[0] == '-';
	int err = kms_parse_u64(s + neg, len - neg, &v);

	if (err)
		return err;
	if (v > (uint64_t)INT64_MAX + neg)
		return -ERANGE;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Seconds with up to nine digits of fraction, to nanoseconds. */
static int parse_time(const char *s, size_t len, uint64_t *out)
{
	const char *dot = NULL;
	size_t ilen = 0, flen;
	uint64_t sec, frac = 0;
	int err;

	/* a dozen bytes: a loop, not a call to memchr() */
	while (ilen < len && s[ilen] != '.')
		ilen++;
	if (ilen < len)
		dot = s + ilen;
	flen = dot ? len - ilen - 1 : 0;

	err = kms_parse_u64(s, ilen, &sec);
	if (err)
		return err;
	if (dot) {
		if (flen == 0 || flen > 9)
			return -EINVAL;
		for (size_t i = 0; i < flen; i++) {
			unsigned int d = (unsigned int)(dot[1 + i] - '0');

			if (d > 9)
				return -EINVAL;
			frac = frac * 10 + d;
		}
		for (size_t i = flen; i < 9; i++)
			frac *= 10;
	}
	if (sec > (UINT64_MAX - frac) / 1000000000ull)
		return -ERANGE;
	*out = sec * 1000000000ull + frac;
	return 0;
}

/* "name|name|0x10": names from @t or numbers, OR-ed. */
static int parse_flags(const struct kms_name_value *t, const char *s, size_t len,
		       uint64_t *out)
{
	uint64_t v = 0, x;

	if (len == 3 && memcmp(s, "any", 3) == 0 && t == kms_elem_flag_names) {
		*out = 0;
		return 0;
	}
	while (len) {
		const char *bar = memchr(s, '|', len);
		size_t n = bar ? (size_t)(bar - s) : len;

		if (n == 0)
			return -EINVAL;
		if (s[0] >= '0' && s[0] <= '9') {
			if (kms_parse_u64(s, n, &x))
				return -EINVAL;
		} else if (kms_name_lookup(t, s, n, &x)) {
			return -EINVAL;
		}
		v |= x;
		s += n;
		len -= n;
		if (bar) {
			s++;
			if (--len == 0)
				return -EINVAL;
		}
	}
	*out = v;
	return 0;
}

bool kms_valid_cgroup_path(const char *s, size_t len)
{
	if (len == 0 || s[0] != '/')
		return false;
	if (len == 1)
		return true;
	if (s[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '/')
			continue;
		/* no empty, "." or ".." component */
		if (i + 1 < len && s[i + 1] == '/')
			return false;
		if (i + 1 < len && s[i + 1] == '.' &&
		    (i + 2 == len || s[i + 2] == '/' ||
		     (s[i + 2] == '.' && (i + 3 == len || s[i + 3] == '/'))))
			return false;
	}
	return true;
}

/* ---- tokens ---- */

struct tok {
	char *key;
	size_t klen;
	enum kms_expect_rel rel;
	bool rel_explicit;	/* ==, <= or >= rather than = */
	char *val;
	size_t vlen;
	bool quoted;
};

/* Byte classes of the tokenizer, one table lookup a byte. */
enum { C_KEY = 1, C_STOP = 2 };
#define KEYS_09 ['0'] = C_KEY, ['1'] = C_KEY, ['2'] = C_KEY, ['3'] = C_KEY, ['4'] = C_KEY, \
	['5'] = C_KEY, ['6'] = C_KEY, ['7'] = C_KEY, ['8'] = C_KEY, ['9'] = C_KEY
#define KEYS_AZ(a) [a + 0] = C_KEY, [a + 1] = C_KEY, [a + 2] = C_KEY, [a + 3] = C_KEY, \
	[a + 4] = C_KEY, [a + 5] = C_KEY, [a + 6] = C_KEY, [a + 7] = C_KEY, [a + 8] = C_KEY, \
	[a + 9] = C_KEY, [a + 10] = C_KEY, [a + 11] = C_KEY, [a + 12] = C_KEY, \
	[a + 13] = C_KEY, [a + 14] = C_KEY, [a + 15] = C_KEY, [a + 16] = C_KEY, \
	[a + 17] = C_KEY, [a + 18] = C_KEY, [a + 19] = C_KEY, [a + 20] = C_KEY, \
	[a + 21] = C_KEY, [a + 22] = C_KEY, [a + 23] = C_KEY, [a + 24] = C_KEY, [a + 25] = C_KEY
static const uint8_t char_class[256] = {
	KEYS_09, KEYS_AZ('a'), KEYS_AZ('A'), ['_'] = C_KEY, ['.'] = C_KEY,
	['\0'] = C_STOP, [' '] = C_STOP, ['\t'] = C_STOP,
};

static bool is_key_char(char c)
{
	return char_class[(unsigned char)c] & C_KEY;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a quoted string in place; *pp is at the opening quote. */
static int parse_quoted(struct kms_trace_reader *r, char **pp, struct tok *t)
{
	char *p = *pp + 1, *dst = p;

	t->val = dst;
	for (;;) {
		char c = *p;

		if (c == '\0')
			return kms_reader_fail(r, *pp, "unterminated string (missing '\"')");
		if (c == '"')
			break;
		if (c == '\\') {
			int hi, lo;

			switch (p[1]) {
			case '\\': c = '\\'; break;
			case '"': c = '"'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'x':
				hi = hexval(p[2]);
				lo = hi < 0 ? -1 : hexval(p[3]);
				if (lo < 0)
					return kms_reader_fail(r, p, "expected two hex digits after '\\x'");
				c = (char)(hi << 4 | lo);
				if (c == '\0')
					return kms_reader_fail(r, p, "NUL byte in a string");
				p += 2;
				break;
			default:
				return kms_reader_fail(r, p, "unknown escape '\\%c' in a string",
						       p[1] ? p[1] : '0');
			}
			p++;
		}
		*dst++ = c;
		p++;
	}
	t->vlen = (size_t)(dst - t->val);
	p++;
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return kms_reader_fail(r, p, "expected a space after the closing '\"'");
	if (*p)
		p++;
	*dst = '\0';
	t->quoted = true;
	*pp = p;
	return 1;
}

/* Next "key=value" of a line: 1, 0 at the end (or a trailing comment), -EINVAL. */
static int next_tok(struct kms_trace_reader *r, char **pp, struct tok *t)
{
	char *p = *pp;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	t->key = p;
	while (is_key_char(*p))
		p++;
	t->klen = (size_t)(p - t->key);
	if (t->klen == 0)
		return kms_reader_fail(r, p, "expected a field name, got '%c'", *p);
	t->rel = KMS_REL_EQ;
	t->rel_explicit = false;
	if (p[0] == '=' && p[1] == '=') {
		t->rel_explicit = true;
		p += 2;
	} else if ((p[0] == '<' || p[0] == '>') && p[1] == '=') {
		t->rel = p[0] == '<' ? KMS_REL_LE : KMS_REL_GE;
		t->rel_explicit = true;
		p += 2;
	} else if (p[0] == '=') {
		p++;
	} else {
		return kms_reader_fail(r, p, "expected '=' after '%.*s'", (int)t->klen, t->key);
	}
	t->key[t->klen] = '\0';
	t->quoted = false;
	if (*p == '"') {
		*pp = p;
		return parse_quoted(r, pp, t);
	}
	t->val = p;
	while (!(char_class[(unsigned char)*p] & C_STOP))
		p++;
	t->vlen = (size_t)(p - t->val);
	if (t->vlen == 0)
		return kms_reader_fail(r, p, "expected a value for '%s'", t->key);
	if (*p)
		*p++ = '\0';
	*pp = p;
	return 1;
}

/*
 * The k-th token of an @op line when it is "NAME=value" for the field the
 * k-th token of the previous @op line was: that field's index, the token
 * cut as next_tok() cuts it. -1 for anything else (another name, "==",
 * a quote, an empty value, ...), with nothing written: next_tok() and
 * lookup_field() then take the token from the same place, errors included.
 */
static int expected_field(const struct kms_field_index *x, char **pp, struct tok *t,
			  unsigned int op, unsigned int k)
{
	char *p = *pp, *v;
	unsigned int fi;
	size_t len;

	if (k >= MEMO_FIELDS || (fi = x->order[op][k]) == NO_ENTRY)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	len = x->field_len[fi];
	v = p + len + 1;
	/* a name has no NUL: the compare stops at the line's end, nothing past it is read */
	for (size_t i = 0; i < len; i++)
		if (p[i] != kms_fields[fi].name[i])
			return -1;
	if (p[len] != '=' || *v == '=' || *v == '"' || (char_class[(unsigned char)*v] & C_STOP))
		return -1;
	p[len] = '\0';
	t->key = p;
	t->klen = len;
	t->rel = KMS_REL_EQ;
	t->rel_explicit = false;
	t->quoted = false;
	t->val = v;
	while (!(char_class[(unsigned char)*v] & C_STOP))
		v++;
	t->vlen = (size_t)(v - t->val);
	if (*v)
		*v++ = '\0';
	*pp = v;
	return (int)fi;
}

/* The op of the last line when this line starts with its name and a blank; -1 otherwise. */
static int same_op(const struct kms_field_index *x, char **pp)
{
	const char *name, *p = *pp;
	size_t len, i;

	if (x->last_op == NO_ENTRY)
		return -1;
	name = x->op_name[x->last_op];
	len = x->op_len[x->last_op];
	/* a name has no NUL: the compare stops at the line's end */
	for (i = 0; i < len && p[i] == name[i]; i++)
		;
	if (i < len || (p[len] != ' ' && p[len] != '\t' && p[len] != '\0'))
		return -1;
	*pp += len;
	return x->last_op;
}

#define FIELD(ev, off, type) ((type *)((char *)(ev) + (off)))

static int bad_value(struct kms_trace_reader *r, const struct tok *t, const char *what, int err)
{
	return kms_reader_fail(r, t->val, "%s for %s, got '%.40s'%s",
			       err == -ERANGE ? "number out of range" : what, t->key, t->val,
			       t->vlen > 40 ? "..." : "");
}

static int parse_keys(struct kms_trace_reader *r, const struct tok *t, const uint64_t **keys,
		      uint32_t *nr)
{
	const char *s = t->val;
	size_t len = t->vlen, n = 1;
	int err;

	for (size_t i = 0; i < len; i++)
		n += s[i] == ',';
	err = kms_reader_keys_reserve(r, n);
	if (err)
		return err;
	n = 0;
	while (len) {
		const char *c = memchr(s, ',', len);
		size_t l = c ? (size_t)(c - s) : len;

		err = kms_parse_u64(s, l, &r->keys[n]);
		if (err)
			return kms_reader_fail(r, s, "expected a key id for keys, got '%.*s'",
					       (int)(l > 40 ? 40 : l), s);
		n++;
		s += l;
		len -= l;
		if (c) {
			s++;
			if (--len == 0)
				return kms_reader_fail(r, s, "expected a key id after ','");
		}
	}
	*keys = r->keys;
	*nr = (uint32_t)n;
	return 0;
}

static int parse_ret(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	int e;

	if (len > 1 && s[0] == '-' && s[1] == 'E') {
		e = kms_errno_from_name(s + 1, len - 1);
		if (e < 0)
			return -EINVAL;
		*out = -e;
		return 0;
	}
	if (len > 1 && s[0] == '-') {
		if (kms_parse_u64(s + 1, len - 1, &v) || v == 0 || v > 4095)
			return -EINVAL;
		*out = -(int64_t)v;
		return 0;
	}
	if (kms_parse_u64(s, len, &v) || v > INT64_MAX)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int set_field(struct kms_trace_reader *r, struct kms_event *ev,
		     const struct kms_field *f, const struct tok *t)
{
	const char *s = t->val;
	size_t len = t->vlen;
	uint64_t u;
	int64_t i;
	int err;

	if (t->quoted && f->type != FT_STR && f->type != FT_PATH)
		return kms_reader_fail(r, s - 1, "%s takes no quoted string", t->key);
	switch (f->type) {
	case FT_SEQ:
	case FT_U64:
		err = kms_parse_u64(s, len, &u);
		if (err)
			return bad_value(r, t, "expected an integer", err);
		*FIELD(ev, f->off, uint64_t) = u;
		return 0;
	case FT_TIME:
		err = parse_time(s, len, &u);
		if (err)
			return bad_value(r, t, "expected seconds like 12.000345", err);
		*FIELD(ev, f->off, uint64_t) = u;
		return 0;
	case FT_U32:
	case FT_UID:
		err = kms_parse_u64(s, len, &u);
		if (!err && (u > UINT32_MAX || (f->type == FT_UID && u == KMS_UID_UNSET)))
			err = -ERANGE;
		if (err)
			return bad_value(r, t, "expected an integer", err);
		*FIELD(ev, f->off, uint32_t) = (uint32_t)u;
		return 0;
	case FT_SIZE32:
		err = parse_size(s, len, &u);
		if (!err && u > UINT32_MAX)
			err = -ERANGE;
		if (err)
			return bad_value(r, t, "expected an integer", err);
		*FIELD(ev, f->off, uint32_t) = (uint32_t)u;
		return 0;
	case FT_I32:
		err = parse_i64(s, len, &i);
		if (!err && (i < INT32_MIN || i > INT32_MAX))
			err = -ERANGE;
		if (err)
			return bad_value(r, t, "expected an integer", err);
		*FIELD(ev, f->off, int32_t) = (int32_t)i;
		return 0;
	case FT_I64:
		err = parse_i64(s, len, &i);
		if (err)
			return bad_value(r, t, "expected an integer", err);
		*FIELD(ev, f->off, int64_t) = i;
		return 0;
	case FT_LIMIT:
		if ((len == 3 && memcmp(s, "max", 3) == 0) ||
		    (len == 9 && memcmp(s, "unlimited", 9) == 0)) {
			u = KMS_TRACE_UNLIMITED;
		} else {
			err = parse_size(s, len, &u);
			if (err)
				return bad_value(r, t,
						 "expected bytes (suffix K, M, G, T) or 'max'", err);
		}
		*FIELD(ev, f->off, uint64_t) = u;
		*FIELD(ev, f->off2, bool) = true;
		return 0;
	case FT_PATH:
		if (!kms_valid_cgroup_path(s, len))
			return bad_value(r, t, "expected an absolute cgroup path like /a/b", 0);
		*FIELD(ev, f->off, const char *) = s;
		return 0;
	case FT_STR:
		*FIELD(ev, f->off, const char *) = s;
		return 0;
	case FT_KEY:
		if (len == 3 && memcmp(s, "new", 3) == 0) {
			*FIELD(ev, f->off2, enum kms_key_kind) = KMS_KEY_NEW;
			return 0;
		}
		if (len == 8 && memcmp(s, "existing", 8) == 0) {
			*FIELD(ev, f->off2, enum kms_key_kind) = KMS_KEY_EXISTING;
			return 0;
		}
		err = kms_parse_u64(s, len, &u);
		if (err)
			return bad_value(r, t, "expected a key id, 'new' or 'existing'", err);
		*FIELD(ev, f->off, uint64_t) = u;
		*FIELD(ev, f->off2, enum kms_key_kind) = KMS_KEY_ID;
		return 0;
	case FT_KEYKIND:
		if (len == 3 && memcmp(s, "new", 3) == 0)
			*FIELD(ev, f->off, enum kms_key_kind) = KMS_KEY_NEW;
		else if (len == 8 && memcmp(s, "existing", 8) == 0)
			*FIELD(ev, f->off, enum kms_key_kind) = KMS_KEY_EXISTING;
		else
			return bad_value(r, t, "expected 'new' or 'existing'", 0);
		return 0;
	case FT_KEYS:
		return parse_keys(r, t, FIELD(ev, f->off, const uint64_t *),
				  FIELD(ev, f->off2, uint32_t));
	case FT_MAP_TYPE:
		if (kms_name_lookup(kms_map_type_names, s, len, &u))
			return kms_reader_fail(r, t->val, "unknown map type '%.40s' (the kernel's "
					       "names: hash, array, percpu_hash, lru_hash, "
					       "ringbuf, ...)", t->val);
		*FIELD(ev, f->off, enum kms_map_type) = (enum kms_map_type)u;
		return 0;
	case FT_PROG_TYPE:
		if (kms_name_lookup(kms_prog_type_names, s, len, &u))
			return kms_reader_fail(r, t->val, "unknown program type '%.40s' (the "
					       "kernel's names: kprobe, tracepoint, xdp, ...)",
					       t->val);
		*FIELD(ev, f->off, enum kms_prog_type) = (enum kms_prog_type)u;
		return 0;
	case FT_ATTACH_TYPE:
		if (kms_name_lookup(kms_attach_type_names, s, len, &u))
			return kms_reader_fail(r, t->val, "unknown attach type '%.40s' (the "
					       "kernel's names: cgroup_inet_ingress, "
					       "trace_raw_tp, ...)", t->val);
		*FIELD(ev, f->off, enum kms_attach_type) = (enum kms_attach_type)u;
		return 0;
	case FT_ELEM_FLAGS:
		if (parse_flags(kms_elem_flag_names, s, len, &u))
			return bad_value(r, t, "expected any, noexist, exist, lock or a number", 0);
		*FIELD(ev, f->off, uint64_t) = u;
		return 0;
	case FT_MAP_FLAGS:
		if (parse_flags(kms_map_flag_names, s, len, &u) || u > UINT32_MAX)
			return bad_value(r, t, "expected BPF_F_ flag names (no_prealloc|mmapable) "
					 "or a number", 0);
		*FIELD(ev, f->off, uint32_t) = (uint32_t)u;
		return 0;
	case FT_BOOL:
		if (len != 1 || (s[0] != '0' && s[0] != '1'))
			return bad_value(r, t, "expected 0 or 1", 0);
		*FIELD(ev, f->off, bool) = s[0] == '1';
		return 0;
	case FT_RET:
		if (parse_ret(s, len, &i))
			return bad_value(r, t, "expected a result: a number >= 0 or -ERRNO "
					 "like -EPERM", 0);
		*FIELD(ev, f->off, int64_t) = i;
		*FIELD(ev, f->off2, bool) = true;
		return 0;
	case FT_CTX:
		for (unsigned int c = 0; c < 4; c++) {
			const char *n = kms_exec_ctx_name((enum kms_exec_ctx)c);

			if (name_eq(n, s, len)) {
				*FIELD(ev, f->off, enum kms_exec_ctx) = (enum kms_exec_ctx)c;
				return 0;
			}
		}
		return bad_value(r, t, "expected task, softirq, hardirq or nmi", 0);
	}
	return kms_reader_fail(r, s, "internal: field type %u", f->type);
}

/* ---- expectations ---- */

static int expect_counter(struct kms_trace_reader *r, struct kms_event *ev,
			  const struct tok *t)
{
	uint64_t u;
	int err;

	if (ev->u.expect.counter)
		return kms_reader_fail(r, t->key, "a second counter '%s': one expectation per line",
				       t->key);
	if (!kms_expect_counter_valid(t->key, t->klen, &ev->u.expect.what))
		return kms_reader_fail(r, t->key, "unknown field or counter '%s' for expect "
				       "(counters: ret, memory.current, memory.peak, "
				       "memory.stat.KEY, memory.events.KEY, locked_vm, ...)", t->key);
	ev->u.expect.counter = t->key;
	ev->u.expect.rel = t->rel;
	if (ev->u.expect.what == KMS_EXPECT_RESULT)
		return parse_ret(t->val, t->vlen, &ev->u.expect.value) ?
		       bad_value(r, t, "expected a result: a number >= 0 or -ERRNO", 0) : 0;
	if (t->vlen == 3 && memcmp(t->val, "max", 3) == 0) {
		ev->u.expect.value_max = true;
		ev->u.expect.value = INT64_MAX;
		return 0;
	}
	err = parse_size(t->val, t->vlen, &u);
	if (!err && u > INT64_MAX)
		err = -ERANGE;
	if (err)
		return bad_value(r, t, "expected bytes (suffix K, M, G, T) or 'max'", err);
	ev->u.expect.value = (int64_t)u;
	return 0;
}

/* ---- lines ---- */

int kms_native_parse_line(struct kms_trace_reader *r, struct kms_event *ev)
{
	char *p = r->cur, *word;
	uint64_t seen[2] = { 0, 0 };
	bool seq_given = false, time_given = false, tid_given = false;
	struct tok t;
	unsigned int op;
	int ret, op_i;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	word = p;
	op_i = same_op(r->fx, &p);
	if (op_i < 0) {
		while ((*p >= 'a' && *p <= 'z') || *p == '_' || (*p >= '0' && *p <= '9'))
			p++;
		if (*p != '\0' && *p != ' ' && *p != '\t')
			return kms_reader_fail(r, p, "expected an event name (map_create, close, "
					       "...), got '%.*s'", (int)(p - word + 1), word);
		op_i = lookup_op(r->fx, word, (size_t)(p - word));
		if (op_i < 0)
			return kms_reader_fail(r, word, "unknown event '%.*s'", (int)(p - word),
					       word);
		r->fx->last_op = (uint16_t)op_i;
	}
	op = (unsigned int)op_i;

	if (op >= KMS_OP_BPF_BASE)
		kms_event_init_bpf(ev, (enum kms_bpf_cmd)(op - KMS_OP_BPF_BASE));
	else
		kms_event_init(ev, (enum kms_event_kind)op);
	ev->line = r->lineno;

	for (unsigned int k = 0;; k++) {
		int fi = expected_field(r->fx, &p, &t, op, k);
		const struct kms_field *f;

		if (fi < 0) {
			if ((ret = next_tok(r, &p, &t)) <= 0)
				break;
			fi = lookup_field(r->fx, t.key, t.klen, op);
			if (fi >= 0 && k < MEMO_FIELDS)
				r->fx->order[op][k] = (uint16_t)fi;
		}

		if (fi < 0 && op == KMS_EV_EXPECT) {
			ret = expect_counter(r, ev, &t);
			if (ret)
				return ret;
			continue;
		}
		if (fi == -1)
			return kms_reader_fail(r, t.key, "unknown field '%s'", t.key);
		if (fi == -2)
			return kms_reader_fail(r, t.key, "field '%s' does not belong on a %s line",
					       t.key, kms_op_name(op));
		if (t.rel_explicit)
			return kms_reader_fail(r, t.key, "expected '=' after '%s'", t.key);
		if (seen[(unsigned int)fi / 64] >> ((unsigned int)fi % 64) & 1)
			return kms_reader_fail(r, t.key, "duplicate field '%s'", t.key);
		seen[(unsigned int)fi / 64] |= 1ull << ((unsigned int)fi % 64);
		f = &kms_fields[fi];
		ret = set_field(r, ev, f, &t);
		if (ret)
			return ret;
		if (f->type == FT_SEQ)
			seq_given = true;
		else if (f->type == FT_TIME)
			time_given = true;
		else if (f->off == offsetof(struct kms_event, tid))
			tid_given = true;
	}
	if (ret < 0)
		return ret;

	return kms_event_finish(r, ev, op, r->fx->required[op], seen,
				(seq_given ? KMS_GIVEN_SEQ : 0) | (time_given ? KMS_GIVEN_TIME : 0) |
				(tid_given ? KMS_GIVEN_TID : 0), r->cur, word);
}

/* ---- the header ---- */

bool kms_native_is_header(const char *line)
{
	return strncmp(line, "trace", 5) == 0 && (line[5] == ' ' || line[5] == '\t' ||
						   line[5] == '\0');
}

int kms_native_parse_header(struct kms_trace_reader *r)
{
	char *p = strstr(r->cur, "trace") + 5;
	bool have_version = false, seen_k = false, seen_p = false, seen_c = false;
	struct tok t;
	uint64_t u;
	int ret;

	r->hdr.kernel = "unknown";
	r->hdr.page_size = 4096;
	r->hdr.nr_cpus = 2;
	while ((ret = next_tok(r, &p, &t)) > 0) {
		bool *seen;

		if (name_eq("version", t.key, t.klen))
			seen = &have_version;
		else if (name_eq("kernel", t.key, t.klen))
			seen = &seen_k;
		else if (name_eq("page_size", t.key, t.klen))
			seen = &seen_p;
		else if (name_eq("cpus", t.key, t.klen))
			seen = &seen_c;
		else
			return kms_reader_fail(r, t.key, "unknown header field '%s' (version, kernel, "
					       "page_size, cpus)", t.key);
		if (*seen)
			return kms_reader_fail(r, t.key, "duplicate field '%s'", t.key);
		*seen = true;
		if (seen == &seen_k) {
			free(r->kernel);
			r->kernel = strdup(t.val);
			if (!r->kernel)
				return -ENOMEM;
			r->hdr.kernel = r->kernel;
			continue;
		}
		ret = parse_size(t.val, t.vlen, &u);
		if (seen == &have_version) {
			if (ret || u != KMS_TRACE_FORMAT_VERSION)
				return kms_reader_fail(r, t.val, "unsupported trace format version "
						       "'%s' (this kmemsim reads version %d)",
						       t.val, KMS_TRACE_FORMAT_VERSION);
			r->hdr.version = (uint32_t)u;
		} else if (seen == &seen_p) {
			if (ret || u < 4096 || u > (256u << 10) || (u & (u - 1)))
				return bad_value(r, &t, "expected a power of two from 4096 to 256K",
						 0);
			r->hdr.page_size = (uint32_t)u;
		} else {
			if (ret || u < 1 || u > 8192)
				return bad_value(r, &t, "expected a CPU count from 1 to 8192", 0);
			r->hdr.nr_cpus = (uint32_t)u;
		}
	}
	if (ret < 0)
		return ret;
	if (!have_version)
		return kms_reader_fail(r, r->cur, "the header needs version=%d",
				       KMS_TRACE_FORMAT_VERSION);
	return 0;
}
