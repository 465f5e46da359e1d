// SPDX-License-Identifier: MIT
/*
 * The native format's parser (docs/trace-format.md): one line, one event,
 * parsed in place in the reader's buffer. Field names are found through a
 * small hash index built when the reader opens; values are converted by hand
 * (no sscanf/strtok): strings are NUL-terminated where they lie, so an
 * event's strings are borrowed from the buffer until the next read.
 *
 * Two paths read a token. The fast one (fast_field()) takes a field the op's
 * earlier lines named, in their order, checks its name with two masked word
 * compares and converts a usual value as it scans it (numbers a word at a
 * time); on anything else it writes nothing and the general one (next_tok(),
 * lookup_field(), set_field()) reads the token from the same place, so every
 * error keeps its message and column.
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
#define RECENT_OPS 4u		/* ops whose names are compared before a lookup */
#define ELEM_FLAG_NAMES 8u	/* at least kms_elem_flag_names[]' entries */

/* Up to 16 bytes of a name and the mask of those bytes, as two words. */
struct word16 {
	uint64_t w[2], m[2];
};

/* What fast_field() needs of a field, in one place. */
struct fast_step {
	struct word16 name;	/* "NAME=" */
	uint8_t vofs;		/* where the value starts: the name's length + 1 */
	uint8_t type;		/* enum kms_field_type */
	uint16_t off, off2;	/* as in struct kms_field */
	bool fast;		/* fast_field() takes it: a name of at most 15 bytes */
	/* name and vofs are set only for those; type and offsets for every field */
};

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
	 * The fields lines of each op named, in order: lines of one op name
	 * the same fields in the same order (every writer does), some of them
	 * optional, so a token is first compared with the field after the
	 * previous token's in this list, then the ones after that. Reader
	 * state, not global: it only ever saves a lookup.
	 */
	uint16_t order[KMS_NR_OPS][MEMO_FIELDS + 1];	/* fast fields, NO_ENTRY after */
	uint16_t recent_op[RECENT_OPS];		/* the ops of the last lines, newest first */
	/*
	 * "NAME=" of each field and the name of each op as 16 bytes and a mask
	 * (names of up to 15 and 16 bytes): a remembered name is checked with
	 * two 8-byte compares, not a byte loop. The reader keeps zeroed slack
	 * after its data (KMS_READER_SLACK), so the loads stay in the buffer.
	 */
	struct fast_step step[128];
	struct word16 op_word[KMS_NR_OPS];
	struct kms_event *tmpl;			/* kms_event_templates() */
	size_t ev_size;				/* sizeof(struct kms_event) */
	/* the fields of the event's seq, time_ns and tid */
	uint64_t seq_bits[2], time_bits[2], tid_bits[2];
	/* the names of execution contexts and of single element flags, as words */
	struct word16 ctx_word[4], flag_word[ELEM_FLAG_NAMES];
	uint8_t ctx_len[4], flag_len[ELEM_FLAG_NAMES];
	uint64_t flag_value[ELEM_FLAG_NAMES];
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

/* @s, @len bytes (at most 16), as a word16; false if longer. */
static bool word16_init(struct word16 *w, const char *s, size_t len)
{
	unsigned char b[16] = { 0 }, m[16] = { 0 };

	if (len > sizeof(b))
		return false;
	memcpy(b, s, len);
	memset(m, 0xff, len);
	memcpy(w->w, b, sizeof(b));
	memcpy(w->m, m, sizeof(m));
	return true;
}

/*
 * The bytes at @p start with @w's. @p lies in a line of the reader's buffer,
 * at most at its NUL: the 16 bytes loaded are in the buffer or its slack.
 * Bytes past a mismatch do not matter, so past the line's end neither.
 */
static bool word16_eq(const struct word16 *w, const char *p)
{
	uint64_t a, b;

	memcpy(&a, p, sizeof(a));
	memcpy(&b, p + 8, sizeof(b));
	return !(((a & w->m[0]) ^ w->w[0]) | ((b & w->m[1]) ^ w->w[1]));
}

int kms_native_init(struct kms_trace_reader *r)
{
	struct kms_field_index *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->tmpl = kms_event_templates();
	if (!x->tmpl) {
		free(x);
		return -ENOMEM;
	}
	x->ev_size = sizeof(struct kms_event);
	memset(x->field_slot, 0xff, sizeof(x->field_slot));
	memset(x->field_next, 0xff, sizeof(x->field_next));
	memset(x->op_slot, 0xff, sizeof(x->op_slot));
	memset(x->order, 0xff, sizeof(x->order));
	memset(x->recent_op, 0xff, sizeof(x->recent_op));
	memset(x->required, 0, sizeof(x->required));
	memset(x->seq_bits, 0, sizeof(x->seq_bits));
	memset(x->time_bits, 0, sizeof(x->time_bits));
	memset(x->tid_bits, 0, sizeof(x->tid_bits));
	for (unsigned int i = 0; i < kms_nr_fields; i++) {
		const struct kms_field *f = &kms_fields[i];
		size_t n = strlen(f->name);
		uint32_t s = name_hash(f->name, n) & (INDEX_SLOTS - 1);
		char eq[17];

		x->field_len[i] = (uint8_t)n;
		x->step[i].type = f->type;
		x->step[i].off = f->off;
		x->step[i].off2 = f->off2;
		x->step[i].fast = false;
		if (n < 16) {
			memcpy(eq, f->name, n);
			eq[n] = '=';
			x->step[i].fast = word16_init(&x->step[i].name, eq, n + 1);
			x->step[i].vofs = (uint8_t)(n + 1);
		}

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
		if (f->type == FT_SEQ)
			x->seq_bits[i / 64] |= 1ull << (i % 64);
		else if (f->type == FT_TIME)
			x->time_bits[i / 64] |= 1ull << (i % 64);
		else if (f->off == offsetof(struct kms_event, tid))
			x->tid_bits[i / 64] |= 1ull << (i % 64);
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
		word16_init(&x->op_word[op], n, x->op_len[op] < 16 ? x->op_len[op] : 16);
		s = name_hash(n, strlen(n)) & (INDEX_SLOTS - 1);
		while (x->op_slot[s] != NO_ENTRY)
			s = (s + 1) & (INDEX_SLOTS - 1);
		x->op_slot[s] = (uint16_t)op;
	}
	for (unsigned int c = 0; c < 4; c++) {
		const char *n = kms_exec_ctx_name((enum kms_exec_ctx)c);

		x->ctx_len[c] = (uint8_t)strlen(n);
		word16_init(&x->ctx_word[c], n, x->ctx_len[c]);
	}
	memset(x->flag_len, 0, sizeof(x->flag_len));
	for (unsigned int i = 0; kms_elem_flag_names[i].name && i < ELEM_FLAG_NAMES; i++) {
		const char *n = kms_elem_flag_names[i].name;

		x->flag_len[i] = (uint8_t)strlen(n);
		word16_init(&x->flag_word[i], n, x->flag_len[i]);
		x->flag_value[i] = kms_elem_flag_names[i].value;
	}
	r->fx = x;
	return 0;
}

void kms_native_fini(struct kms_trace_reader *r)
{
	if (r->fx)
		free(r->fx->tmpl);
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
	['\n'] = C_STOP,	/* a line read ahead ends there (kms_native_parse_ahead()) */
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
 * One of the ops of the last lines (x->recent_op) when this line starts with
 * its name and a blank or the line's end; -1 otherwise. A hit moves to the
 * front: traces interleave a few ops.
 */
static inline int recent_op(struct kms_field_index *x, char **pp)
{
	const char *p = *pp;

	for (unsigned int i = 0; i < RECENT_OPS && x->recent_op[i] != NO_ENTRY; i++) {
		unsigned int op = x->recent_op[i];
		size_t len = x->op_len[op], j = 16;

		if (!word16_eq(&x->op_word[op], p))
			continue;
		/* past 16 bytes: the first 16 matched, so none was the line's NUL */
		while (j < len && p[j] == x->op_name[op][j])
			j++;
		if (j < len || (p[len] != ' ' && p[len] != '\t' && p[len] != '\0'))
			continue;
		for (; i > 0; i--)
			x->recent_op[i] = x->recent_op[i - 1];
		x->recent_op[0] = (uint16_t)op;
		*pp += len;
		return (int)op;
	}
	return -1;
}

/* @op, just looked up, becomes the most recent op. */
static void recent_op_add(struct kms_field_index *x, unsigned int op)
{
	memmove(&x->recent_op[1], &x->recent_op[0],
		(RECENT_OPS - 1) * sizeof(x->recent_op[0]));
	x->recent_op[0] = (uint16_t)op;
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

/* Whether @c ends a value: a blank or the line's end (one table lookup). */
static bool is_stop(char c)
{
	return char_class[(unsigned char)c] & C_STOP;
}

/*
 * Numbers a word at a time: the 8 bytes at @p as a little-endian word (byte
 * i of the text in bits 8i..8i+7 on any host), so the masks below find the
 * first byte of a kind with one count of trailing zeros, no branch a byte.
 */
static uint64_t load_le64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Bit 7 of each byte of @w that is not in [lo, hi] (hi < 0x80); exact, no carry between bytes. */
static uint64_t bytes_outside(uint64_t w, unsigned int lo, unsigned int hi)
{
	uint64_t low7 = w & ~HIGHS;

	return ((~(low7 + (0x80 - lo) * ONES) | (low7 + (0x7f - hi) * ONES)) | w) & HIGHS;
}

/* Leading bytes of @w before the first byte marked in @mask (bit 7s); 8 if none. */
static unsigned int bytes_before(uint64_t mask)
{
	return mask ? (unsigned int)__builtin_ctzll(mask) / 8 : 8;
}

/*
 * @w - '0' in each byte: the digits' values, and where a byte is no digit,
 * bit 7 set in the first such byte of @mask (the bytes after it may be
 * garbage: a borrow or carry only runs toward them).
 */
static uint64_t dec_values(uint64_t w, uint64_t *mask)
{
	uint64_t x = w - '0' * ONES;

	*mask = ((x + 0x76 * ONES) | x) & HIGHS;	/* x > 9 */
	return x;
}

/* The value of the first @n (1 to 8) digit values of @x. */
static uint64_t dec8(uint64_t x, unsigned int n)
{
	x <<= 64 - 8 * n;				/* leading zeros */
	x = (x * 10 + (x >> 8)) & 0x00ff00ff00ff00ffull;	/* pairs of digits */
	x = (x * 100 + (x >> 16)) & 0x0000ffff0000ffffull;	/* fours */
	return (x * 10000 + (x >> 32)) & 0xffffffffull;
}

/*
 * Decimal digits at @s, up to 16: how many, their value in *@out. The caller
 * checks the byte after them. Reads 16 bytes at most, 8 past a non-digit.
 */
static inline unsigned int scan_dec(const char *s, uint64_t *out)
{
	static const uint32_t pow10[9] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	};
	uint64_t m, x = dec_values(load_le64(s), &m), x2;
	unsigned int n = bytes_before(m), n2;

	if (n < 8) {
		*out = n ? dec8(x, n) : 0;
		return n;
	}
	x2 = dec_values(load_le64(s + 8), &m);
	n2 = bytes_before(m);
	*out = dec8(x, 8) * pow10[n2] + (n2 ? dec8(x2, n2) : 0);
	return 8 + n2;
}

/* The value of the @n (1 to 8) hex digits starting @w, @letters marking a-f and A-F. */
static uint64_t hex8(uint64_t w, uint64_t letters, unsigned int n)
{
	w = (w & 0x0f0f0f0f0f0f0f0full) + (letters >> 7) * 9;	/* nibble values */
	w <<= 64 - 8 * n;
	/* the first digit is the low byte and the most significant nibble */
	w = __builtin_bswap64(w);
	w = (w | w >> 4) & 0x00ff00ff00ff00ffull;
	w = (w | w >> 8) & 0x0000ffff0000ffffull;
	return (w | w >> 16) & 0xffffffffull;
}

/* Hex digits at @s, up to 16, as scan_dec(). */
static unsigned int scan_hex(const char *s, uint64_t *out)
{
	uint64_t w = load_le64(s), letters, w2, l2;
	unsigned int n, n2;

	letters = ~bytes_outside(w | 0x2020202020202020ull, 'a', 'f') & HIGHS;
	n = bytes_before(bytes_outside(w, '0', '9') & ~letters);
	if (n < 8) {
		*out = n ? hex8(w, letters, n) : 0;
		return n;
	}
	w2 = load_le64(s + 8);
	l2 = ~bytes_outside(w2 | 0x2020202020202020ull, 'a', 'f') & HIGHS;
	n2 = bytes_before(bytes_outside(w2, '0', '9') & ~l2);
	*out = n2 ? hex8(w, letters, 8) << (4 * n2) | hex8(w2, l2, n2) : hex8(w, letters, 8);
	return 8 + n2;
}

/*
 * At @s a decimal number of 1 to 16 digits, or 0x and 1 to 16 hex digits,
 * then a blank or the line's end: numbers kms_parse_u64() takes without a
 * range check, converted as they are scanned. False for anything else, which
 * the general path parses (and reports) instead.
 */
static inline bool scan_u64(char *s, char **end, uint64_t *out)
{
	unsigned int n = scan_dec(s, out);

	if (n == 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n = scan_hex(s, out);
	}
	if (n == 0 || !is_stop(s[n]))
		return false;
	*end = s + n;
	return true;
}

/*
 * At @s seconds of 1 to 10 digits with an optional fraction of 1 to 9 digits,
 * then a blank or the line's end: parse_time()'s values that cannot overflow
 * (9999999999.999999999 s < 2^64 ns). False for anything else.
 */
static inline bool scan_time(char *s, char **end, uint64_t *out)
{
	static const uint32_t scale[10] = {
		1000000000, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1,
	};
	uint64_t sec, frac = 0;
	unsigned int n = scan_dec(s, &sec), m = 0;

	if (n == 0 || n > 10)
		return false;
	s += n;
	if (*s == '.') {
		m = scan_dec(++s, &frac);
		if (m == 0 || m > 9)
			return false;
		s += m;
	}
	if (!is_stop(*s))
		return false;
	*end = s;
	*out = sec * 1000000000ull + frac * scale[m];
	return true;
}

/*
 * The value @s (@len bytes, in the line; a quoted one decoded, and only
 * strings and paths may be quoted or empty) of a field of a type converted by
 * name or checked as a string: set in @ev, true. False, nothing written,
 * where set_field() reports an error (named_value_error()).
 */
static bool fast_named_value(const struct kms_field_index *x, struct kms_event *ev,
			     const struct fast_step *st, char *s, size_t len)
{
	uint64_t u;
	int64_t i;

	switch (st->type) {
	case FT_ELEM_FLAGS:
		/* "any" or one name, as parse_flags() finds them; else parse_flags() */
		if (len == 3 && memcmp(s, "any", 3) == 0) {
			*FIELD(ev, st->off, uint64_t) = 0;
			return true;
		}
		for (unsigned int f = 0; f < ELEM_FLAG_NAMES && x->flag_len[f]; f++) {
			if (len == x->flag_len[f] && word16_eq(&x->flag_word[f], s)) {
				*FIELD(ev, st->off, uint64_t) = x->flag_value[f];
				return true;
			}
		}
		if (parse_flags(kms_elem_flag_names, s, len, &u))
			return false;
		*FIELD(ev, st->off, uint64_t) = u;
		return true;
	case FT_MAP_FLAGS:
		if (parse_flags(kms_map_flag_names, s, len, &u) || u > UINT32_MAX)
			return false;
		*FIELD(ev, st->off, uint32_t) = (uint32_t)u;
		return true;
	case FT_CTX:
		for (unsigned int c = 0; c < 4; c++) {
			if (len == x->ctx_len[c] && word16_eq(&x->ctx_word[c], s)) {
				*FIELD(ev, st->off, enum kms_exec_ctx) = (enum kms_exec_ctx)c;
				return true;
			}
		}
		return false;
	case FT_PATH:
		if (!kms_valid_cgroup_path(s, len))
			return false;
		*FIELD(ev, st->off, const char *) = s;
		return true;
	case FT_STR:
		*FIELD(ev, st->off, const char *) = s;
		return true;
	case FT_LIMIT:
		if ((len == 3 && memcmp(s, "max", 3) == 0) ||
		    (len == 9 && memcmp(s, "unlimited", 9) == 0))
			u = KMS_TRACE_UNLIMITED;
		else if (parse_size(s, len, &u))
			return false;
		*FIELD(ev, st->off, uint64_t) = u;
		*FIELD(ev, st->off2, bool) = true;
		return true;
	case FT_RET:
		if (parse_ret(s, len, &i))
			return false;
		*FIELD(ev, st->off, int64_t) = i;
		*FIELD(ev, st->off2, bool) = true;
		return true;
	case FT_BOOL:
		if (len != 1 || (s[0] != '0' && s[0] != '1'))
			return false;
		*FIELD(ev, st->off, bool) = s[0] == '1';
		return true;
	case FT_KEYKIND:
		if (len == 3 && memcmp(s, "new", 3) == 0)
			*FIELD(ev, st->off, enum kms_key_kind) = KMS_KEY_NEW;
		else if (len == 8 && memcmp(s, "existing", 8) == 0)
			*FIELD(ev, st->off, enum kms_key_kind) = KMS_KEY_EXISTING;
		else
			return false;
		return true;
	case FT_MAP_TYPE:
		if (kms_name_lookup(kms_map_type_names, s, len, &u))
			return false;
		*FIELD(ev, st->off, enum kms_map_type) = (enum kms_map_type)u;
		return true;
	case FT_PROG_TYPE:
		if (kms_name_lookup(kms_prog_type_names, s, len, &u))
			return false;
		*FIELD(ev, st->off, enum kms_prog_type) = (enum kms_prog_type)u;
		return true;
	case FT_ATTACH_TYPE:
		if (kms_name_lookup(kms_attach_type_names, s, len, &u))
			return false;
		*FIELD(ev, st->off, enum kms_attach_type) = (enum kms_attach_type)u;
		return true;
	}
	return false;	/* numbers and keys that scan_u64() did not take */
}

/*
 * Where the strings of a line read ahead end, cut when the line is taken:
 * one a field fast_field() takes, so at most MEMO_FIELDS.
 */
struct cuts {
	char *at[MEMO_FIELDS];
	unsigned int n;
};

/* Types whose values are numbers (or key ids) scan_u64() converts. */
#define INTEGER_TYPES (1u << FT_SEQ | 1u << FT_U64 | 1u << FT_U32 | 1u << FT_SIZE32 | \
		       1u << FT_UID | 1u << FT_I32 | 1u << FT_I64 | 1u << FT_KEY | 1u << FT_KEYS)

/*
 * The next token of a line, when it names a field of its op's remembered
 * order at or after *@memo (a cursor in x->order[op]), not given before, and
 * has a value of the common shape (see scan_u64(), scan_time(); names and
 * strings are checked with the general path's own functions): the field is
 * set in @ev, marked in @seen, *@pp and *@memo moved past it; true. False for
 * anything else, with nothing written but *@memo (at the named field, if
 * any): next_tok() then parses the token from the same place, errors and
 * all. *@pp is at the token. With @cuts (a line read ahead, not yet
 * NUL-terminated) the ends of strings are noted there, not cut.
 * Inlined into both callers: called, the cursor, position and mask go
 * through memory and a line costs 20% more instructions (callgrind).
 */
static inline __attribute__((always_inline)) bool
fast_field(struct kms_trace_reader *r, char **pp, struct kms_event *ev,
			      uint16_t **memo, uint64_t seen[2], struct cuts *cuts)
{
	const struct kms_field_index *x = r->fx;
	uint16_t *o = *memo;
	const struct fast_step *st = NULL;
	char *p = *pp, *v, *end;
	unsigned int fi;
	uint64_t u;

	/* the list holds fast fields only and ends with NO_ENTRY */
	while ((fi = *o) != NO_ENTRY && !word16_eq(&(st = &x->step[fi])->name, p))
		o++;
	if (fi == NO_ENTRY)
		return false;
	*memo = o;
	if (seen[fi / 64] >> (fi % 64) & 1)
		return false;
	v = p + st->vofs;
	/*
	 * Numbers are not cut: nothing keeps a pointer to them, and the next
	 * token starts past the blank all the same.
	 */
	if (INTEGER_TYPES >> st->type & 1) {
		if (!scan_u64(v, &end, &u))
			return false;
		switch (st->type) {
		case FT_U32:
		case FT_SIZE32:		/* hex digits are no K, M, G or T suffix */
		case FT_UID:
			if (u > UINT32_MAX || (st->type == FT_UID && u == KMS_UID_UNSET))
				return false;
			*FIELD(ev, st->off, uint32_t) = (uint32_t)u;
			break;
		case FT_I32:
			if (u > INT32_MAX)
				return false;
			*FIELD(ev, st->off, int32_t) = (int32_t)u;
			break;
		case FT_I64:
			if (u > INT64_MAX)
				return false;
			*FIELD(ev, st->off, int64_t) = (int64_t)u;
			break;
		case FT_KEY:		/* a key id; new and existing take set_field() */
			*FIELD(ev, st->off, uint64_t) = u;
			*FIELD(ev, st->off2, enum kms_key_kind) = KMS_KEY_ID;
			break;
		case FT_KEYS:		/* one key; lists take parse_keys() */
			if (!r->keys_cap && kms_reader_keys_reserve(r, 1))
				return false;
			r->keys[0] = u;
			*FIELD(ev, st->off, const uint64_t *) = r->keys;
			*FIELD(ev, st->off2, uint32_t) = 1;
			break;
		default:		/* FT_SEQ, FT_U64 */
			*FIELD(ev, st->off, uint64_t) = u;
			break;
		}
	} else if (st->type == FT_TIME) {
		if (!scan_time(v, &end, &u))
			return false;
		*FIELD(ev, st->off, uint64_t) = u;
	} else {
		/* next_tok()'s values: not empty, no quote, not "==" */
		if (*v == '=' || *v == '"' || is_stop(*v))
			return false;
		for (end = v; !is_stop(*end); end++)
			;
		if (!fast_named_value(x, ev, st, v, (size_t)(end - v)))
			return false;
		/*
		 * Strings are borrowed from the line: cut at the blank after them,
		 * or, on a line read ahead, there once the line is taken (the blank
		 * stays for now), or at the newline that ends it.
		 */
		if (cuts && *end != '\n')
			cuts->at[cuts->n++] = end;
		else if (!cuts && *end)
			*end++ = '\0';
	}
	*pp = end;
	*memo = o + 1;
	seen[fi / 64] |= 1ull << (fi % 64);
	return true;
}

/* The error about the value of @t for field @f, of a type fast_named_value() converts. */
static int named_value_error(struct kms_trace_reader *r, const struct kms_field *f,
			     const struct tok *t)
{
	uint64_t u;

	switch (f->type) {
	case FT_LIMIT:
		return bad_value(r, t, "expected bytes (suffix K, M, G, T) or 'max'",
				 parse_size(t->val, t->vlen, &u));
	case FT_PATH:
		return bad_value(r, t, "expected an absolute cgroup path like /a/b", 0);
	case FT_KEYKIND:
		return bad_value(r, t, "expected 'new' or 'existing'", 0);
	case FT_MAP_TYPE:
		return kms_reader_fail(r, t->val, "unknown map type '%.40s' (the kernel's names: "
				       "hash, array, percpu_hash, lru_hash, ringbuf, ...)", t->val);
	case FT_PROG_TYPE:
		return kms_reader_fail(r, t->val, "unknown program type '%.40s' (the kernel's "
				       "names: kprobe, tracepoint, xdp, ...)", t->val);
	case FT_ATTACH_TYPE:
		return kms_reader_fail(r, t->val, "unknown attach type '%.40s' (the kernel's "
				       "names: cgroup_inet_ingress, trace_raw_tp, ...)", t->val);
	case FT_ELEM_FLAGS:
		return bad_value(r, t, "expected any, noexist, exist, lock or a number", 0);
	case FT_MAP_FLAGS:
		return bad_value(r, t, "expected BPF_F_ flag names (no_prealloc|mmapable) "
				 "or a number", 0);
	case FT_BOOL:
		return bad_value(r, t, "expected 0 or 1", 0);
	case FT_RET:
		return bad_value(r, t, "expected a result: a number >= 0 or -ERRNO like -EPERM", 0);
	case FT_CTX:
		return bad_value(r, t, "expected task, softirq, hardirq or nmi", 0);
	}
	return kms_reader_fail(r, t->val, "internal: field type %u", f->type);
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
	case FT_KEYS:
		return parse_keys(r, t, FIELD(ev, f->off, const uint64_t *),
				  FIELD(ev, f->off2, uint32_t));
	default:
		break;
	}
	/* names and strings: the fast path's converters; the error when they fail */
	if (fast_named_value(r->fx, ev, &r->fx->step[f - kms_fields], t->val, len))
		return 0;
	return named_value_error(r, f, t);
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

/*
 * The next token of an @op line, the general way: any field, in any order,
 * or an expectation's counter, every error reported: set in @ev and marked in
 * @seen; 0 or -errno. A field fast_field() takes goes into the op's
 * remembered order at the cursor *@memo, which moves past it.
 */
static int general_field(struct kms_trace_reader *r, char **pp, struct kms_event *ev,
			 unsigned int op, uint16_t **memo, uint64_t seen[2])
{
	struct kms_field_index *x = r->fx;
	size_t j = (size_t)(*memo - x->order[op]);
	struct tok t;
	int ret, fi;

	ret = next_tok(r, pp, &t);
	if (ret <= 0)
		return ret;
	fi = lookup_field(x, t.key, t.klen, op);
	if (fi >= 0 && j < MEMO_FIELDS && x->step[fi].fast) {
		/* inserted, not overwritten: lines that differ by an optional field both match */
		if (x->order[op][j] != fi) {
			memmove(&x->order[op][j + 1], &x->order[op][j],
				(MEMO_FIELDS - 1 - j) * sizeof(x->order[op][0]));
			x->order[op][j] = (uint16_t)fi;
		}
		(*memo)++;
	}
	if (fi < 0 && op == KMS_EV_EXPECT)
		return expect_counter(r, ev, &t);
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
	return set_field(r, ev, &kms_fields[fi], &t);
}

/* Whether @seen holds a field of @bits. */
static bool given(const uint64_t seen[2], const uint64_t bits[2])
{
	return (seen[0] & bits[0]) | (seen[1] & bits[1]);
}

/* A line's fields are read (@seen): the checks of the whole event. 1 or -EINVAL. */
static inline int line_done(struct kms_trace_reader *r, struct kms_event *ev, unsigned int op,
		     const uint64_t seen[2], const char *word)
{
	unsigned int flags = (given(seen, r->fx->seq_bits) ? KMS_GIVEN_SEQ : 0) |
			     (given(seen, r->fx->time_bits) ? KMS_GIVEN_TIME : 0) |
			     (given(seen, r->fx->tid_bits) ? KMS_GIVEN_TID : 0);

	return kms_event_finish(r, ev, op, r->fx->required[op], seen, flags, r->cur, word);
}

int kms_native_parse_line(struct kms_trace_reader *r, struct kms_event *ev)
{
	char *p = r->cur, *word;
	uint64_t seen[2] = { 0, 0 };
	unsigned int op;
	int ret, op_i;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	word = p;
	op_i = recent_op(r->fx, &p);
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
		recent_op_add(r->fx, (unsigned int)op_i);
	}
	op = (unsigned int)op_i;

	memcpy(ev, &r->fx->tmpl[op], r->fx->ev_size);	/* see kms_event_templates() */
	ev->line = r->lineno;

	for (uint16_t *memo = r->fx->order[op];;) {
		if (p[0] == ' ' && is_key_char(p[1])) {
			p++;		/* the usual one blank before a name */
		} else {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\0' || *p == '#') {		/* where next_tok() returns 0 */
				ret = 0;
				break;
			}
		}
		if (!fast_field(r, &p, ev, &memo, seen, NULL)) {
			ret = general_field(r, &p, ev, op, &memo, seen);
			if (ret)
				return ret;
		}
	}
	if (ret < 0)
		return ret;
	return line_done(r, ev, op, seen, word);
}

/*
 * The next line, read straight from the reader's buffer before
 * kms_reader_next_line() has looked for its end: when it starts with a
 * recent op, every token is one fast_field() takes after one blank, and it
 * ends in a newline, that newline is where fast_field() stopped, so the line
 * costs no memchr() pass. The line is then the reader's current line as
 * kms_reader_next_line() would have made it and the event is finished:
 * 1 or -EINVAL. 0, with nothing consumed (the event and the recent-op list
 * may have changed), for any other line: the general way reads it again
 * from its start, errors and all.
 */
int kms_native_parse_ahead(struct kms_trace_reader *r, struct kms_event *ev)
{
	struct kms_field_index *x = r->fx;
	char *line = r->buf + r->start, *p = line;
	uint64_t seen[2] = { 0, 0 };
	struct cuts cuts;
	unsigned int op;
	size_t len;
	int op_i;

	/* a newline after the line's start, no NUL byte before it */
	if (r->unget || r->last_nl == SIZE_MAX || r->last_nl < r->start ||
	    r->nul_at <= r->last_nl)
		return 0;
	op_i = recent_op(x, &p);
	if (op_i < 0 || *p != ' ')
		return 0;
	op = (unsigned int)op_i;
	memcpy(ev, &x->tmpl[op], x->ev_size);
	cuts.n = 0;
	for (uint16_t *memo = x->order[op];;) {
		if (p[0] == ' ' && is_key_char(p[1]))
			p++;
		else if (p[0] == '\n')
			break;
		else
			return 0;	/* blanks at the end, tabs, a comment, a NUL, ... */
		if (!fast_field(r, &p, ev, &memo, seen, &cuts))
			return 0;
	}
	len = (size_t)(p - line);
	if (len > r->max_line || (len && p[-1] == '\r'))
		return 0;
	for (unsigned int i = 0; i < cuts.n; i++)
		*cuts.at[i] = '\0';
	*p = '\0';
	r->lineno++;
	r->cur = line;
	r->cur_len = len;
	r->cur_unterminated = false;
	r->start += len + 1;
	ev->line = r->lineno;
	return line_done(r, ev, op, seen, line);
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
