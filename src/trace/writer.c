// SPDX-License-Identifier: MIT
/*
 * The native writer: the same field table as the parser, so that
 * parse(write(event)) gives the event back. Fields at their default are left
 * out, which is what keeps written traces short.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "trace/fields.h"
#include "core/uapi_names.h"
#include "trace/reader.h"

struct out {
	char *p, *end;
	bool full;
};

static void put_mem(struct out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void put_c(struct out *o, char c)
{
	put_mem(o, &c, 1);
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[24], *q = tmp + sizeof(tmp);

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(o, q, (size_t)(tmp + sizeof(tmp) - q));
}

static void put_i64(struct out *o, int64_t v)
{
	if (v < 0) {
		put_c(o, '-');
		put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(o, (uint64_t)v);
	}
}

static void put_hex(struct out *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[18], *q = tmp + sizeof(tmp);

	do {
		*--q = digits[v & 15];
		v >>= 4;
	} while (v);
	*--q = 'x';
	*--q = '0';
	put_mem(o, q, (size_t)(tmp + sizeof(tmp) - q));
}

/* Bytes in the largest suffix that divides them exactly. */
static void put_size(struct out *o, uint64_t v)
{
	static const char suffix[] = "TGMK";

	for (int i = 0; i < 4; i++) {
		unsigned int shift = 40 - 10 * (unsigned int)i;

		if (v && (v & ((1ull << shift) - 1)) == 0) {
			put_u64(o, v >> shift);
			put_c(o, suffix[i]);
			return;
		}
	}
	put_u64(o, v);
}

static void put_limit(struct out *o, uint64_t v)
{
	if (v == KMS_TRACE_UNLIMITED)
		put_str(o, "max");
	else
		put_size(o, v);
}

static bool needs_quotes(const char *s)
{
	/* a leading '=' would read as the relation "==" */
	if (*s == '\0' || *s == '"' || *s == '#' || *s == '=')
		return true;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '\\' || (unsigned char)*s >= 0x7f)
			return true;
	return false;
}

static void put_quoted(struct out *o, const char *s)
{
	static const char digits[] = "0123456789abcdef";

	if (!needs_quotes(s)) {
		put_str(o, s);
		return;
	}
	put_c(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			put_c(o, '\\');
			put_c(o, (char)c);
		} else if (c == '\n') {
			put_str(o, "\\n");
		} else if (c == '\t') {
			put_str(o, "\\t");
		} else if (c < ' ' || c >= 0x7f) {
			put_str(o, "\\x");
			put_c(o, digits[c >> 4]);
			put_c(o, digits[c & 15]);
		} else {
			put_c(o, (char)c);
		}
	}
	put_c(o, '"');
}

static void put_time(struct out *o, uint64_t ns)
{
	uint64_t frac = ns % 1000000000ull;
	char tmp[10];
	int n = 9;

	put_u64(o, ns / 1000000000ull);
	if (!frac)
		return;
	for (int i = 8; i >= 0; i--) {
		tmp[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	while (tmp[n - 1] == '0')
		n--;
	put_c(o, '.');
	put_mem(o, tmp, (size_t)n);
}

static void put_flags(struct out *o, const struct kms_name_value *t, uint64_t v)
{
	bool first = true;

	for (; t->name && v; t++) {
		if ((v & t->value) != t->value || !t->value)
			continue;
		if (!first)
			put_c(o, '|');
		put_str(o, t->name);
		v &= ~t->value;
		first = false;
	}
	if (v || first) {
		if (!first)
			put_c(o, '|');
		put_hex(o, v);
	}
}

static void put_ret(struct out *o, int64_t v)
{
	const char *n = v < 0 && v >= -4095 ? kms_errno_name((int)-v) : NULL;

	if (n) {
		put_str(o, "-");
		put_str(o, n);
	} else {
		put_i64(o, v);
	}
}

static void put_keys(struct out *o, const uint64_t *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			put_c(o, ',');
		put_hex(o, k[i]);
	}
}

#define FIELD(ev, off, type) ((const type *)((const char *)(ev) + (off)))

/* Whether @f is at its default in @ev (and so left out). */
bool kms_field_at_default(const struct kms_event *ev, const struct kms_field *f)
{
	size_t off = f->off;

	if (f->flags & FF_ALWAYS)
		return false;
	if (off == offsetof(struct kms_event, tid))
		return ev->tid == ev->pid;
	if (ev->kind == KMS_EV_DUP && off == offsetof(struct kms_event, u.fd.newfd))
		return ev->u.fd.newfd == -1;
	if (off == offsetof(struct kms_event, u.prog.map_fd) &&
	    (ev->kind == KMS_EV_PROG_UPDATE || ev->kind == KMS_EV_PROG_DELETE))
		return ev->u.prog.map_fd < 0;
	if (off == offsetof(struct kms_event, u.prog.count) &&
	    (ev->kind == KMS_EV_PROG_UPDATE || ev->kind == KMS_EV_PROG_DELETE))
		return ev->u.prog.nr_keys != 0;
	switch (f->type) {
	case FT_LIMIT:
	case FT_RET:
		return !*FIELD(ev, f->off2, bool);
	case FT_KEY:
		return *FIELD(ev, f->off2, enum kms_key_kind) == KMS_KEY_NONE;
	case FT_KEYS:
		return *FIELD(ev, f->off2, uint32_t) == 0;
	case FT_STR:
	case FT_PATH:
		return *FIELD(ev, off, char *) == NULL;
	case FT_UID:
		return *FIELD(ev, off, uint32_t) == KMS_UID_UNSET;
	case FT_SEQ:
	case FT_TIME:
		return false;
	case FT_U64:
	case FT_ELEM_FLAGS:
		return *FIELD(ev, off, uint64_t) == 0;
	case FT_I64:
		return *FIELD(ev, off, int64_t) == 0;
	case FT_BOOL:
		return !*FIELD(ev, off, bool);
	default:	/* 32-bit integers and enums */
		return *FIELD(ev, off, uint32_t) == 0;
	}
}

static void put_value(struct out *o, const struct kms_event *ev, const struct kms_field *f)
{
	const void *v = FIELD(ev, f->off, char);

	switch (f->type) {
	case FT_SEQ:
	case FT_U64:
		put_u64(o, *(const uint64_t *)v);
		break;
	case FT_TIME:
		put_time(o, *(const uint64_t *)v);
		break;
	case FT_I32:
		put_i64(o, *(const int32_t *)v);
		break;
	case FT_U32:
	case FT_UID:
		put_u64(o, *(const uint32_t *)v);
		break;
	case FT_I64:
		put_i64(o, *(const int64_t *)v);
		break;
	case FT_SIZE32:
		if (f->flags & FF_PLAIN)
			put_u64(o, *(const uint32_t *)v);
		else
			put_size(o, *(const uint32_t *)v);
		break;
	case FT_LIMIT:
		put_limit(o, *(const uint64_t *)v);
		break;
	case FT_STR:
	case FT_PATH:
		put_quoted(o, *(const char *const *)v);
		break;
	case FT_KEY:
		switch (*FIELD(ev, f->off2, enum kms_key_kind)) {
		case KMS_KEY_NEW:
			put_str(o, "new");
			break;
		case KMS_KEY_EXISTING:
			put_str(o, "existing");
			break;
		default:
			put_hex(o, *(const uint64_t *)v);
		}
		break;
	case FT_KEYKIND:
		put_str(o, *(const enum kms_key_kind *)v == KMS_KEY_NEW ? "new" : "existing");
		break;
	case FT_KEYS:
		put_keys(o, *(const uint64_t *const *)v, *FIELD(ev, f->off2, uint32_t));
		break;
	case FT_MAP_TYPE:
	case FT_PROG_TYPE:
	case FT_ATTACH_TYPE: {
		const struct kms_name_value *t = f->type == FT_MAP_TYPE ? kms_map_type_names :
			f->type == FT_PROG_TYPE ? kms_prog_type_names : kms_attach_type_names;
		const char *n = kms_name_of(t, *(const uint32_t *)v);

		/* an unknown value cannot be read back: say so loudly */
		put_str(o, n ? n : "UNKNOWN");
		break;
	}
	case FT_ELEM_FLAGS:
		if (*(const uint64_t *)v == 0)
			put_str(o, "any");
		else
			put_flags(o, kms_elem_flag_names, *(const uint64_t *)v);
		break;
	case FT_MAP_FLAGS:
		put_flags(o, kms_map_flag_names, *(const uint32_t *)v);
		break;
	case FT_BOOL:
		put_c(o, *(const bool *)v ? '1' : '0');
		break;
	case FT_RET:
		put_ret(o, *(const int64_t *)v);
		break;
	case FT_CTX:
		put_str(o, kms_exec_ctx_name(*(const enum kms_exec_ctx *)v));
		break;
	}
}

static void put_expect_value(struct out *o, const struct kms_event *ev)
{
	static const char *const rel[] = { "==", "<=", ">=" };

	put_c(o, ' ');
	put_str(o, ev->u.expect.counter ? ev->u.expect.counter : "ret");
	put_str(o, rel[ev->u.expect.rel]);
	if (ev->u.expect.what == KMS_EXPECT_RESULT)
		put_ret(o, ev->u.expect.value);
	else if (ev->u.expect.value_max)
		put_str(o, "max");
	else
		put_size(o, (uint64_t)ev->u.expect.value);
}

int kms_trace_format_event(const struct kms_event *ev, char *buf, size_t size)
{
	/* room for the terminating NUL */
	struct out o = { buf, buf + (size ? size - 1 : 0), false };
	unsigned int op = kms_event_op(ev);
	const char *name = kms_op_name(op);

	/* what the parser would refuse is refused here: -errno is 1..4095 */
	if (!name || (unsigned int)ev->ctx > KMS_CTX_NMI || (ev->has_ret && ev->ret < -4095))
		return -EINVAL;
	put_str(&o, name);
	for (unsigned int i = 0; i < kms_nr_fields; i++) {
		const struct kms_field *f = &kms_fields[i];

		if (!(f->ops & (1ull << op)) || kms_field_at_default(ev, f))
			continue;
		put_c(&o, ' ');
		put_str(&o, f->name);
		put_c(&o, '=');
		put_value(&o, ev, f);
	}
	if (ev->kind == KMS_EV_EXPECT)
		put_expect_value(&o, ev);
	put_c(&o, '\n');
	if (o.full || !size)
		return -ENOSPC;
	*o.p = '\0';
	return (int)(o.p - buf);
}

int kms_trace_write_event(FILE *f, const struct kms_event *ev)
{
	char buf[KMS_NATIVE_MAX_LINE + 2];	/* the longest line, its newline, a NUL */
	int n = kms_trace_format_event(ev, buf, sizeof(buf));

	if (n < 0)
		return n;
	return fwrite(buf, 1, (size_t)n, f) == (size_t)n ? 0 : -EIO;
}

int kms_trace_write_header(FILE *f, const struct kms_trace_header *h)
{
	char buf[512];
	struct out o = { buf, buf + sizeof(buf) - 1, false };

	put_str(&o, "trace version=");
	put_u64(&o, KMS_TRACE_FORMAT_VERSION);
	put_str(&o, " kernel=");
	put_quoted(&o, h->kernel ? h->kernel : "unknown");
	put_str(&o, " page_size=");
	put_size(&o, h->page_size);
	put_str(&o, " cpus=");
	put_u64(&o, h->nr_cpus);
	put_c(&o, '\n');
	if (o.full)
		return -ENOSPC;
	return fwrite(buf, 1, (size_t)(o.p - buf), f) == (size_t)(o.p - buf) ? 0 : -EIO;
}

int kms_trace_write_comment(FILE *f, const char *text)
{
	const char *s = text;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		if (fprintf(f, "# %.*s\n", (int)n, s) < 0)
			return -EIO;
		s += n + (nl ? 1 : 0);
	}
	return 0;
}
