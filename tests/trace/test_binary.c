// SPDX-License-Identifier: MIT
/*
 * The binary form of the native format (docs/trace-format.md, "The binary
 * form"): every bundled trace survives text -> binary with every event equal
 * field by field and binary -> text byte for byte; replay and compare reports
 * of a trace and of its binary form are the same bytes; hostile files end in
 * -EINVAL naming the record and byte at fault, truncated ones at every length.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "trace_test.h"
#include "kmemsim/gen.h"
#include "kmemsim/report.h"
#include "trace/binary.h"
#include "trace/fields.h"
#include "kms_test_file.h"

/* ---- helpers ---- */

struct blob {
	char *buf;
	size_t len;
};

static struct kms_trace_reader *open_blob(const char *buf, size_t len, const char *name)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	int ret = kms_trace_open_mem(buf, len, name, NULL, &r, &err);

	if (ret)
		fail_msg("%s: open failed: %d %s", name, ret, err.msg);
	return r;
}

/* Every event of @r through a writer of @form into memory. */
static struct blob rewrite(struct kms_trace_reader *r, enum kms_trace_format form)
{
	struct kms_trace_writer *w;
	struct kms_event ev;
	struct blob b = { 0 };
	FILE *f = open_memstream(&b.buf, &b.len);
	int ret;

	assert_non_null(f);
	assert_int_equal(kms_trace_writer_open(f, form, kms_trace_reader_header(r), NULL, &w), 0);
	while ((ret = kms_trace_read_next(r, &ev)) == 1)
		assert_int_equal(kms_trace_writer_write(w, &ev), 0);
	if (ret)
		fail_msg("read: %s", kms_trace_reader_error(r)->msg);
	assert_int_equal(kms_trace_writer_close(w), 0);
	assert_int_equal(fclose(f), 0);
	return b;
}

static struct blob to_binary(const char *buf, size_t len, const char *name)
{
	struct kms_trace_reader *r = open_blob(buf, len, name);
	struct blob b = rewrite(r, KMS_TRACE_BINARY);

	kms_trace_reader_free(r);
	return b;
}

static bool is_pointer(const struct kms_field *f)
{
	return f->type == FT_STR || f->type == FT_PATH || f->type == FT_KEYS;
}

/*
 * @a and @b are the same event: the strings and key lists they point to are
 * equal, and with those pointers cleared every byte of the two structs is
 * (both start from kms_event_init()'s memset, padding included).
 */
static void assert_event_same(const struct kms_event *a, const struct kms_event *b)
{
	struct kms_event x = *a, y = *b;
	unsigned int op = kms_event_op(a);

	assert_int_equal(op, kms_event_op(b));
	for (unsigned int i = 0; i < kms_nr_fields; i++) {
		const struct kms_field *f = &kms_fields[i];
		const void **px = (const void **)((char *)&x + f->off);
		const void **py = (const void **)((char *)&y + f->off);

		if (!(f->ops >> op & 1) || !is_pointer(f))
			continue;
		if (!*px || !*py) {
			assert_ptr_equal(*px, *py);
		} else if (f->type == FT_KEYS) {
			uint32_t n = *(uint32_t *)((char *)&x + f->off2);

			assert_int_equal(n, *(uint32_t *)((char *)&y + f->off2));
			assert_memory_equal(*px, *py, n * sizeof(uint64_t));
		} else {
			assert_string_equal(*px, *py);
		}
		*px = *py = NULL;
	}
	if (a->kind == KMS_EV_EXPECT) {
		assert_string_equal(a->u.expect.counter, b->u.expect.counter);
		x.u.expect.counter = y.u.expect.counter = NULL;
	}
	assert_memory_equal(&x, &y, sizeof(x));
}

/* Both readers give the same events, the same header, and end together. */
static size_t assert_same_events(struct kms_trace_reader *ra, struct kms_trace_reader *rb)
{
	const struct kms_trace_header *ha = kms_trace_reader_header(ra);
	const struct kms_trace_header *hb = kms_trace_reader_header(rb);
	struct kms_event ea, eb;
	size_t n = 0;
	int a, b;

	assert_int_equal(ha->version, hb->version);
	assert_string_equal(ha->kernel, hb->kernel);
	assert_int_equal(ha->page_size, hb->page_size);
	assert_int_equal(ha->nr_cpus, hb->nr_cpus);
	for (;;) {
		a = kms_trace_read_next(ra, &ea);
		b = kms_trace_read_next(rb, &eb);
		if (a != 1 || b != 1)
			break;
		assert_event_same(&ea, &eb);
		n++;
	}
	if (a < 0)
		fail_msg("text: %s", kms_trace_reader_error(ra)->msg);
	if (b < 0)
		fail_msg("binary: %s", kms_trace_reader_error(rb)->msg);
	assert_int_equal(a, b);
	return n;
}

/* Call @fn on every bundled trace: native, scenarios, and the strace logs the importer reads. */
static void for_each_bundled(void (*fn)(const char *path, const char *name))
{
	static const char *const dirs[] = { "traces/real", "traces/scenarios", "traces/shared" };
	const char *root = getenv("KMEMSIM_SOURCE_ROOT");
	unsigned int n = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char dir[4096], path[4600];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/%s", root ? root : ".", dirs[i]);
		d = opendir(dir);
		assert_non_null(d);
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);

			if ((l < 6 || strcmp(de->d_name + l - 6, ".trace") != 0) &&
			    (l < 7 || strcmp(de->d_name + l - 7, ".strace") != 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			printf("# %s/%s\n", dirs[i], de->d_name);
			fn(path, de->d_name);
			n++;
		}
		closedir(d);
	}
	/* ls traces/real traces/scenarios traces/shared: 17 + 17 .strace, 10, 17 .strace */
	assert_true(n >= 61);
}

/* ---- round trips of the bundled traces ---- */

static void roundtrip_one(const char *path, const char *name)
{
	size_t len;
	char *text = kms_test_read_file(path, &len);
	struct kms_trace_reader *ra, *rb;
	struct blob bin, ta, tb;

	assert_non_null(text);
	bin = to_binary(text, len, name);
	ra = open_blob(text, len, name);
	rb = open_blob(bin.buf, bin.len, name);
	assert_true(kms_trace_reader_binary(rb));
	assert_false(kms_trace_reader_binary(ra));
	assert_int_equal(kms_trace_reader_format(rb), KMS_TRACE_NATIVE);
	assert_true(assert_same_events(ra, rb) > 0);
	kms_trace_reader_free(ra);
	kms_trace_reader_free(rb);

	/* binary -> text is the text writer's output of the original, byte for byte */
	ra = open_blob(text, len, name);
	rb = open_blob(bin.buf, bin.len, name);
	ta = rewrite(ra, KMS_TRACE_NATIVE);
	tb = rewrite(rb, KMS_TRACE_NATIVE);
	assert_int_equal(ta.len, tb.len);
	assert_memory_equal(ta.buf, tb.buf, ta.len);
	/* and smaller than the text, but for the header's ~1K of dictionaries */
	assert_true(bin.len < len || len < 2048);
	kms_trace_reader_free(ra);
	kms_trace_reader_free(rb);
	free(ta.buf);
	free(tb.buf);
	free(bin.buf);
	free(text);
}

static void test_roundtrip_bundled(void **state)
{
	(void)state;
	for_each_bundled(roundtrip_one);
}

/* ---- reports: the same bytes from a trace and from its binary form ---- */

struct mem_src {
	const char *buf;
	size_t len;
	const char *name;
};

static int reopen_mem(void *arg, struct kms_trace_reader **out)
{
	struct mem_src *m = arg;

	return kms_trace_open_mem(m->buf, m->len, m->name, NULL, out, NULL);
}

static struct blob report(const char *buf, size_t len, const char *name, const char *profiles,
			  enum kms_report_format format)
{
	struct mem_src src = { buf, len, name };
	const char *names[2];
	char list[64];
	struct kms_replay_opts o = { .profiles = names, .limits = true };
	struct kms_report_opts ro = { .format = format, .trace_path = name };
	struct blob b = { 0 };
	char *comma;

	snprintf(list, sizeof(list), "%s", profiles);
	names[o.nr_profiles++] = list;
	if ((comma = strchr(list, ','))) {
		*comma = '\0';
		names[o.nr_profiles++] = comma + 1;
		ro.compare = true;
	}
	b.buf = kms_test_report(open_blob(buf, len, name), &o, &ro, true, reopen_mem, &src, &b.len);
	return b;
}

/* JSON says which format was replayed: an strace log's binary form is native. */
static void drop_format(struct blob *b)
{
	char *p = strstr(b->buf, "\"format\": \"strace\"");

	if (p) {
		memmove(p + strlen("\"format\": \"native\""), p + strlen("\"format\": \"strace\""),
			strlen(p + strlen("\"format\": \"strace\"")) + 1);
		memcpy(p, "\"format\": \"native\"", strlen("\"format\": \"native\""));
		b->len = strlen(b->buf);
	}
}

static void reports_one(const char *path, const char *name)
{
	static const char *const runs[] = {
		"linux-5.10", "linux-5.11", "linux-6.18", "linux-5.10,linux-5.11",
	};
	size_t len;
	char *text = kms_test_read_file(path, &len);
	struct blob bin;

	assert_non_null(text);
	bin = to_binary(text, len, name);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		for (int fmt = KMS_REPORT_TEXT; fmt <= KMS_REPORT_JSON; fmt++) {
			struct blob a = report(text, len, name, runs[i], fmt);
			struct blob b = report(bin.buf, bin.len, name, runs[i], fmt);

			drop_format(&a);
			assert_true(a.len > 100);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.buf, b.buf, a.len);
			free(a.buf);
			free(b.buf);
		}
	}
	free(bin.buf);
	free(text);
}

static void test_reports_identical(void **state)
{
	(void)state;
	for_each_bundled(reports_one);
}

/* ---- through a FILE, across the reader's chunks; gen writes either form ---- */

static struct blob gen(enum kms_trace_format form, uint64_t events)
{
	struct kms_gen_opts o;
	struct blob b = { 0 };
	FILE *f = open_memstream(&b.buf, &b.len);
	char err[256];

	kms_gen_opts_init(&o);
	o.events = events;
	o.form = form;
	assert_non_null(f);
	assert_int_equal(kms_gen_write(f, &o, NULL, err, sizeof(err)), 0);
	assert_int_equal(fclose(f), 0);
	return b;
}

/* ---- the reader's two decoders agree ---- */

/*
 * @bin with every record's length written in two bytes, 0x80 | len and 0x00
 * (a longer encoding than needed, which the format allows): the reader's fast
 * path takes only a one-byte length, so this file is all read by its general
 * decoder, the original by the fast path wherever it can.
 */
static struct blob long_lengths(const struct blob *bin)
{
	const uint8_t *p = (const uint8_t *)bin->buf, *end = p + bin->len;
	struct blob out = { malloc(2 * bin->len), 0 };
	uint64_t len = 0;
	unsigned int shift;

	assert_non_null(out.buf);
	/* the magic and layout, the header's length and the header as they are */
	memcpy(out.buf, p, KMS_BIN_MAGIC_LEN + 1);
	p += KMS_BIN_MAGIC_LEN + 1;
	for (shift = 0; *p & 0x80; shift += 7)
		len |= (uint64_t)(*p++ & 0x7f) << shift;
	len |= (uint64_t)*p++ << shift;
	p += len;
	out.len = (size_t)(p - (const uint8_t *)bin->buf);
	memcpy(out.buf + KMS_BIN_MAGIC_LEN + 1, bin->buf + KMS_BIN_MAGIC_LEN + 1,
	       out.len - KMS_BIN_MAGIC_LEN - 1);
	while (p < end && *p) {
		if (*p & 0x80) {	/* 128 bytes or more: two bytes already */
			len = (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7;
			assert_false(p[1] & 0x80);
			memcpy(out.buf + out.len, p, 2 + len);
			out.len += 2 + len;
			p += 2 + len;
			continue;
		}
		len = *p++;
		out.buf[out.len++] = (char)(0x80 | len);
		out.buf[out.len++] = 0;
		memcpy(out.buf + out.len, p, len);
		out.len += len;
		p += len;
	}
	/* the end record */
	memcpy(out.buf + out.len, p, (size_t)(end - p));
	out.len += (size_t)(end - p);
	return out;
}

static void decoders_one(const char *path, const char *name)
{
	size_t len;
	char *text = kms_test_read_file(path, &len);
	struct blob bin, slow;
	struct kms_trace_reader *ra, *rb;

	assert_non_null(text);
	bin = to_binary(text, len, name);
	slow = long_lengths(&bin);
	assert_true(slow.len > bin.len);
	ra = open_blob(bin.buf, bin.len, name);
	rb = open_blob(slow.buf, slow.len, name);
	assert_true(assert_same_events(ra, rb) > 0);
	kms_trace_reader_free(ra);
	kms_trace_reader_free(rb);
	free(slow.buf);
	free(bin.buf);
	free(text);
}

/* Every bundled trace and a gen trace: the same events from either decoder. */
static void test_decoders_agree(void **state)
{
	struct blob bin = gen(KMS_TRACE_BINARY, 20000), slow = long_lengths(&bin);
	struct kms_trace_reader *ra = open_blob(bin.buf, bin.len, "gen.kmsb");
	struct kms_trace_reader *rb = open_blob(slow.buf, slow.len, "gen-long.kmsb");

	(void)state;
	assert_int_equal(assert_same_events(ra, rb), 20000);
	kms_trace_reader_free(ra);
	kms_trace_reader_free(rb);
	free(slow.buf);
	free(bin.buf);
	for_each_bundled(decoders_one);
}

static void test_gen_binary_from_a_file(void **state)
{
	/* 100000 events: megabytes of binary, so records straddle the reader's 256K chunks */
	struct blob text = gen(KMS_TRACE_NATIVE, 100000), bin = gen(KMS_TRACE_BINARY, 100000);
	struct kms_trace_reader *ra = open_blob(text.buf, text.len, "gen.trace"), *rb;
	struct kms_trace_error err;
	struct blob back;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_int_equal(fwrite(bin.buf, 1, bin.len, f), bin.len);
	rewind(f);
	assert_int_equal(kms_trace_open_file(f, "gen.kmsb", NULL, &rb, &err), 0);
	assert_true(kms_trace_reader_binary(rb));
	/* gen's comment travels in the header */
	assert_non_null(strstr(kms_trace_reader_comment(rb), "kmemsim gen --seed 1"));
	assert_int_equal(assert_same_events(ra, rb), 100000);
	kms_trace_reader_free(ra);
	kms_trace_reader_free(rb);

	/* and back to text, the comment included: gen's own bytes */
	rb = open_blob(bin.buf, bin.len, "gen.kmsb");
	{
		FILE *t = open_memstream(&back.buf, &back.len);
		struct kms_trace_writer *w;
		struct kms_event ev;

		assert_int_equal(kms_trace_writer_open(t, KMS_TRACE_NATIVE,
						       kms_trace_reader_header(rb),
						       kms_trace_reader_comment(rb), &w), 0);
		while (kms_trace_read_next(rb, &ev) == 1)
			assert_int_equal(kms_trace_writer_write(w, &ev), 0);
		assert_int_equal(kms_trace_writer_close(w), 0);
		fclose(t);
	}
	assert_int_equal(back.len, text.len);
	assert_memory_equal(back.buf, text.buf, text.len);
	/* 100000 events of ~80 text bytes in ~20 binary bytes each: under a third */
	assert_true(bin.len * 3 < text.len);
	kms_trace_reader_free(rb);
	fclose(f);
	free(back.buf);
	free(text.buf);
	free(bin.buf);
}

/* ---- the writer refuses what no reader would take back ---- */

static void test_writer_refuses(void **state)
{
	const struct kms_trace_header h = { 1, "x", 4096, 2 };
	struct kms_trace_writer *w;
	struct kms_event ev;
	struct blob b = { 0 };
	FILE *f = open_memstream(&b.buf, &b.len);
	uint64_t keys[1] = { 1 };

	(void)state;
	assert_int_equal(kms_trace_writer_open(f, KMS_TRACE_STRACE, &h, NULL, &w), -EINVAL);
	assert_null(w);
	assert_int_equal(kms_trace_writer_open(f, KMS_TRACE_BINARY, &h, NULL, &w), 0);
	kms_event_init(&ev, KMS_EV_CLOSE);
	ev.seq = 5;
	assert_int_equal(kms_trace_writer_write(w, &ev), 0);
	/* seq must increase */
	assert_int_equal(kms_trace_writer_write(w, &ev), -EINVAL);
	ev.seq = 6;
	ev.ctx = (enum kms_exec_ctx)7;
	assert_int_equal(kms_trace_writer_write(w, &ev), -EINVAL);
	ev.ctx = KMS_CTX_TASK;
	ev.has_ret = true;
	ev.ret = -4096;
	assert_int_equal(kms_trace_writer_write(w, &ev), -EINVAL);
	/* more keys than a record may hold */
	kms_event_init(&ev, KMS_EV_PROG_UPDATE);
	ev.seq = 7;
	ev.u.prog.map_id = 1;
	ev.u.prog.keys = keys;
	ev.u.prog.nr_keys = KMS_BIN_MAX_KEYS + 1;
	assert_int_equal(kms_trace_writer_write(w, &ev), -ENOSPC);
	assert_int_equal(kms_trace_writer_close(w), 0);
	fclose(f);
	free(b.buf);
}

/* A record near the 1 MiB cap: the writer's buffer grows, the reader reads it whole. */
static void test_large_record(void **state)
{
	const struct kms_trace_header h = { 1, "x", 4096, 2 };
	uint32_t n = 120000;	/* 8-byte ids: 960000 bytes of keys */
	uint64_t *keys = malloc(n * sizeof(*keys));
	struct kms_trace_writer *w;
	struct kms_trace_reader *r;
	struct kms_event ev;
	struct blob b = { 0 };
	FILE *f = open_memstream(&b.buf, &b.len), *file = tmpfile();

	(void)state;
	assert_non_null(keys);
	assert_non_null(file);
	for (uint32_t i = 0; i < n; i++)
		keys[i] = kms_key_id(&i, sizeof(i));
	assert_int_equal(kms_trace_writer_open(f, KMS_TRACE_BINARY, &h, NULL, &w), 0);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		kms_event_init(&ev, KMS_EV_PROG_UPDATE);
		ev.seq = seq;
		ev.u.prog.map_id = 1;
		ev.u.prog.keys = keys;
		ev.u.prog.nr_keys = n;
		assert_int_equal(kms_trace_writer_write(w, &ev), 0);
	}
	assert_int_equal(kms_trace_writer_close(w), 0);
	assert_int_equal(fclose(f), 0);
	/* from a FILE: each record is larger than the reader's chunks */
	assert_int_equal(fwrite(b.buf, 1, b.len, file), b.len);
	rewind(file);
	assert_int_equal(kms_trace_open_file(file, "big.kmsb", NULL, &r, NULL), 0);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(kms_trace_read_next(r, &ev), 1);
		assert_int_equal(ev.seq, seq);
		assert_int_equal(ev.u.prog.nr_keys, n);
		assert_int_equal(ev.u.prog.count, n);
		assert_memory_equal(ev.u.prog.keys, keys, n * sizeof(*keys));
	}
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	kms_trace_reader_free(r);
	fclose(file);
	free(b.buf);
	free(keys);
}

/* ---- hostile files ---- */

/* A file built byte by byte, with the offsets where errors must point. */
struct bb {
	uint8_t buf[4096];
	size_t n;
	size_t rec;		/* start of the open record */
	uint32_t records;
};

static void bb_bytes(struct bb *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->buf));
	memcpy(b->buf + b->n, p, n);
	b->n += n;
}

static void bb_uv(struct bb *b, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));

		bb_bytes(b, &c, 1);
		v >>= 7;
	} while (v);
}

static void bb_sv(struct bb *b, int64_t v)
{
	bb_uv(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void bb_str(struct bb *b, const char *s)
{
	bb_uv(b, strlen(s));
	bb_bytes(b, s, strlen(s));
}

/* A record's length is written last, as three bytes (a longer varint than needed is valid). */
static void bb_open(struct bb *b)
{
	b->rec = b->n;
	b->n += 3;
}

static void bb_close(struct bb *b)
{
	size_t len = b->n - b->rec - 3;

	b->buf[b->rec] = (uint8_t)(0x80 | (len & 0x7f));
	b->buf[b->rec + 1] = (uint8_t)(0x80 | ((len >> 7) & 0x7f));
	b->buf[b->rec + 2] = (uint8_t)(len >> 14);
}

/* This test's own numbering, to show that files carry theirs. */
enum { O_CLOSE, O_UPDATE, O_FROB, O_PROG_UPDATE, O_EXPECT, O_CG_CREATE, NR_O };
static const char *const ops[NR_O] = {
	"close", "map_update_elem", "frobnicate", "prog_update", "expect", "cgroup_create",
};
enum { F_FD, F_PID, F_COLOUR, F_MAP_FD, F_KEY, F_KEYS, F_CTX, F_RET, F_PATH, F_MAP_ID,
       F_COUNT, F_COUNTER, F_PROFILE, F_CGROUP, NR_F };
static const char *const fields[NR_F] = {
	"fd", "pid", "colour", "map_fd", "key", "keys", "ctx", "ret", "path", "map_id",
	"count", "=counter", "profile", "cgroup",
};

static void bb_preamble(struct bb *b, uint64_t layout, uint64_t version)
{
	memset(b, 0, sizeof(*b));
	bb_bytes(b, "\x89KMS\r\n\x1a\n", 8);
	bb_uv(b, layout);
	bb_open(b);
	bb_uv(b, version);
	bb_str(b, "6.18.44");
	bb_uv(b, 4096);
	bb_uv(b, 2);
	bb_str(b, "");
	bb_uv(b, NR_O);
	for (int i = 0; i < NR_O; i++)
		bb_str(b, ops[i]);
	bb_uv(b, NR_F);
	for (int i = 0; i < NR_F; i++)
		bb_str(b, fields[i]);
	bb_close(b);
}

/* An event record's head: op, line +1, seq +1, time +1000. */
static void bb_event(struct bb *b, unsigned int op)
{
	bb_open(b);
	b->records++;
	bb_uv(b, op);
	bb_sv(b, 1);
	bb_uv(b, 1);
	bb_uv(b, 1000);
}

/* close pid=1 fd=3 */
static void bb_close_event(struct bb *b)
{
	bb_event(b, O_CLOSE);
	bb_uv(b, F_FD);
	bb_sv(b, 3);
	bb_close(b);
}

static void bb_end(struct bb *b)
{
	bb_uv(b, 0);
	bb_uv(b, b->records);
}

/* Read @b to its end: -EINVAL in record @record at byte @offset with @msg in the message. */
static void expect_bad(const struct bb *b, uint32_t record, size_t offset, const char *msg)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;
	char line[512];
	int ret;

	memset(&err, 0, sizeof(err));
	ret = kms_trace_open_mem((const char *)b->buf, b->n, "t.kmsb", NULL, &r, &err);
	if (!ret) {
		while ((ret = kms_trace_read_next(r, &ev)) == 1)
			;
		err = *kms_trace_reader_error(r);
	}
	kms_trace_error_format(&err, line, sizeof(line));
	printf("# %s\n", line);
	if (ret != -EINVAL || !err.binary || err.record != record || err.offset != offset ||
	    !strstr(err.msg, msg) || err.line || err.column)
		fail_msg("got %d '%s', want record %u byte %zu '%s'", ret, line, record, offset,
			 msg);
	kms_trace_reader_free(r);
}

static void test_hand_built_file_reads(void **state)
{
	struct bb b;
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	bb_preamble(&b, 1, 1);
	bb_close_event(&b);
	/* prog_update pid=7 map_id=9 keys=5,300 ctx=softirq */
	bb_event(&b, O_PROG_UPDATE);
	bb_uv(&b, F_PID);
	bb_sv(&b, 7);
	bb_uv(&b, F_MAP_ID);
	bb_uv(&b, 9);
	bb_uv(&b, F_KEYS);
	bb_uv(&b, 2);
	bb_uv(&b, KMS_BIN_KEYS_VARINT);
	bb_uv(&b, 5);
	bb_uv(&b, 300);
	bb_uv(&b, F_CTX);
	bb_uv(&b, KMS_CTX_SOFTIRQ);
	bb_close(&b);
	bb_end(&b);

	r = open_blob((const char *)b.buf, b.n, "t.kmsb");
	assert_string_equal(kms_trace_reader_header(r)->kernel, "6.18.44");
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_CLOSE);
	assert_int_equal(ev.line, 1);
	assert_int_equal(ev.seq, 1);
	assert_int_equal(ev.time_ns, 1000);
	assert_int_equal(ev.u.fd.fd, 3);
	assert_int_equal(ev.pid, 1);	/* the text's defaults */
	assert_int_equal(ev.tid, 1);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_PROG_UPDATE);
	assert_int_equal(ev.line, 2);
	assert_int_equal(ev.seq, 2);
	assert_int_equal(ev.time_ns, 2000);
	assert_int_equal(ev.pid, 7);
	assert_int_equal(ev.tid, 7);
	assert_int_equal(ev.u.prog.map_id, 9);
	assert_int_equal(ev.u.prog.map_fd, -1);
	assert_int_equal(ev.u.prog.nr_keys, 2);
	assert_int_equal(ev.u.prog.keys[1], 300);
	assert_int_equal(ev.u.prog.count, 2);	/* count = nr_keys, as in text */
	assert_int_equal(ev.ctx, KMS_CTX_SOFTIRQ);
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	kms_trace_reader_free(r);
}

/* What text takes, binary takes: a counter as long as memory.stat.KEY makes it. */
static void test_long_counter(void **state)
{
	char text[512], counter[200];
	struct kms_trace_reader *ra, *rb;
	struct blob bin;

	(void)state;
	snprintf(counter, sizeof(counter), "memory.stat.%0150d", 0);
	memset(counter + 12, 'a', 150);
	snprintf(text, sizeof(text), HDR "expect profile=linux-5.11 cgroup=/ %s<=4K\n", counter);
	bin = to_binary(text, strlen(text), "long.trace");
	ra = open_blob(text, strlen(text), "long.trace");
	rb = open_blob(bin.buf, bin.len, "long.kmsb");
	assert_int_equal(assert_same_events(ra, rb), 1);
	kms_trace_reader_free(ra);
	kms_trace_reader_free(rb);
	free(bin.buf);
}

static void test_truncated_at_every_length(void **state)
{
	struct bb full, cut;
	size_t starts[3];	/* of the records 1, 2 and the end record */

	(void)state;
	bb_preamble(&full, 1, 1);
	starts[0] = full.n;
	bb_close_event(&full);
	starts[1] = full.n;
	bb_close_event(&full);
	starts[2] = full.n;
	bb_end(&full);
	for (size_t len = 0; len < full.n; len++) {
		uint32_t record;

		cut = full;
		cut.n = len;
		if (len < 8) {
			/* too short for the magic: a text trace it is not either */
			struct kms_trace_reader *r = NULL;
			struct kms_trace_error err;

			assert_int_equal(kms_trace_open_mem((const char *)cut.buf, len, "t.kmsb",
							    NULL, &r, &err), -EINVAL);
			assert_null(r);
			continue;
		}
		/* cut in the header: record 0; at or after a record's start: that record */
		for (record = 0; record < 3 && len >= starts[record]; record++)
			;
		expect_bad(&cut, record, len, "truncated");
	}
	/* the whole file reads */
	cut = full;
	{
		struct kms_trace_reader *r = open_blob((const char *)cut.buf, cut.n, "t.kmsb");
		struct kms_event ev;

		assert_int_equal(kms_trace_read_next(r, &ev), 1);
		assert_int_equal(kms_trace_read_next(r, &ev), 1);
		assert_int_equal(kms_trace_read_next(r, &ev), 0);
		kms_trace_reader_free(r);
	}
}

/*
 * A hostile file after the preamble, in a small language (tokens split by spaces):
 *   E<op>   open an event record: op, line +1, seq +1, time +1000 ns
 *   R       open a record with nothing in it yet      .   close the open record
 *   C       a whole valid event: close fd=3            Z   the end record
 *   u<n>    an unsigned number (field ids too)        s<n> a signed one
 *   S<str>  a string                                   x<hex> raw bytes
 *   @       the error must point here (before the next token)
 */
static size_t bb_script(struct bb *b, const char *script)
{
	char copy[512], *save = NULL;
	size_t at = SIZE_MAX;

	snprintf(copy, sizeof(copy), "%s", script);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (*t == '@') {
			at = b->n;
			if (!*++t)
				continue;
		}
		switch (*t) {
		case 'E': bb_event(b, (unsigned int)strtoul(t + 1, NULL, 10)); break;
		case 'R': bb_open(b); b->records++; break;
		case '.': bb_close(b); break;
		case 'C': bb_close_event(b); break;
		case 'Z': bb_end(b); break;
		case 'u': bb_uv(b, strtoull(t + 1, NULL, 10)); break;
		case 's': bb_sv(b, strtoll(t + 1, NULL, 10)); break;
		case 'S': bb_str(b, t + 1); break;
		case 'x':
			for (const char *h = t + 1; h[0] && h[1]; h += 2) {
				char byte[3] = { h[0], h[1], 0 };
				uint8_t c = (uint8_t)strtoul(byte, NULL, 16);

				bb_bytes(b, &c, 1);
			}
			break;
		default:
			fail_msg("bad script token '%s'", t);
		}
	}
	if (at == SIZE_MAX)
		at = b->n;	/* no '@': at the end of the file */
	return at;
}

static const struct hostile {
	const char *script;
	uint32_t record;
	const char *msg;
} hostile[] = {
	/* numbers of more than ten bytes, or whose tenth byte overflows 64 bits */
	{ "R @xffffffffffffffffff7f .", 1, "a number overflows 64 bits" },
	/* a length beyond the file, beyond the cap */
	{ "u100 u0 @", 1, "the file ends inside a record (1 of 100 bytes)" },
	{ "@u1048577", 1, "a record of 1048577 bytes (at most 1048576)" },
	/* ops: past the dictionary, or a name this kmemsim does not know */
	{ "@E6 .", 1, "op 6 is not in the op dictionary (6 ops)" },
	{ "@E2 .", 1, "unknown event 'frobnicate'" },
	/* fields: past the dictionary, unknown, not on this op, twice */
	{ "E0 @u14 .", 1, "field 14 is not in the field dictionary (14 fields)" },
	{ "C E0 u0 s3 @u2 u1 .", 2, "unknown field 'colour'" },
	{ "E0 @u8 S/a .", 1, "field 'path' does not belong on a close record" },
	{ "E0 u0 s3 @u0 s4 .", 1, "duplicate field 'fd'" },
	/* strings: a NUL, a length past the record, not a cgroup path */
	{ "E5 u8 u4 x2f61 @x0062 .", 1, "NUL byte in a string" },
	{ "E5 u8 @u9 x2f61 . Z", 1, "a string of 9 bytes runs past the end of its record" },
	{ "E5 u8 @Sa/b .", 1, "expected an absolute cgroup path like /a/b for path, got 'a/b'" },
	/* values out of their range, as in text */
	{ "E0 u0 @s2147483648 .", 1, "number out of range for fd, got 2147483648" },
	{ "E0 u0 s3 u6 @u4 .", 1, "expected task, softirq, hardirq or nmi" },
	{ "E0 u0 s3 u7 @s-4096 .", 1, "expected a result" },
	{ "E1 u3 s3 u4 @u9 .", 1, "unknown key tag 9 for key" },
	/* key lists: empty, or more than the record can hold (nothing is allocated for it) */
	{ "E3 u9 u1 u5 @u1099511627775 u1 .", 1,
	  "a key count out of range for keys, got 1099511627775" },
	{ "E3 u9 u1 u5 @u0 u0 .", 1, "a key count out of range for keys, got 0" },
	/* the checks of a whole event are the text's, at the record's start */
	{ "@E0 .", 1, "close needs fd=" },
	{ "@E3 u9 u1 u3 s3 u10 u1 .", 1, "prog_update needs exactly one of map_fd= and map_id=" },
	{ "@E3 u9 u1 u10 u3 u5 u1 u0 u5 .", 1, "count=3 but 1 keys" },
	{ "@E4 u12 Slinux-5.11 u11 Smemory.current u1 s4096 .", 1,
	  "expect memory.current needs cgroup=" },
	{ "E4 u12 Slinux-5.11 u11 @Smemory.colour u1 s4096 .", 1,
	  "unknown counter 'memory.colour' for expect" },
	/* a line before the first, or past 2^32 - 1 */
	{ "@R u0 s-5 u1 u1 u0 s3 .", 1, "line 0 -5 is out of range" },
	{ "@R u0 s-9223372036854775808 u1 u1 u0 s3 .", 1,
	  "line 0 -9223372036854775808 is out of range" },
	{ "C @R u0 s4294967295 u1 u1 u0 s3 .", 2, "line 1 +4294967295 is out of range" },
	/* seq must increase, time must not go back: deltas that wrap around say otherwise */
	{ "C @R u0 s1 u18446744073709551615 u1 u0 s3 .", 2, "seq 0 does not increase (previous 1)" },
	{ "C @R u0 s1 u1 u18446744073709551615 u0 s3 .", 2,
	  "time goes backwards (previous event at 1000 ns)" },
	/* the end: a wrong count, bytes after it, none at all */
	{ "C @u0 u5", 2, "the end record counts 5 events, the file has 1" },
	{ "C Z @x78", 2, "bytes after the end record" },
	{ "C", 2, "the file ends without an end record: is it truncated?" },
};

static void test_hostile(void **state)
{
	struct bb b;

	(void)state;
	/* a later layout, a later trace format */
	bb_preamble(&b, 2, 1);
	expect_bad(&b, 0, 8, "layout version 2");
	bb_preamble(&b, 1, 2);
	expect_bad(&b, 0, 12, "unsupported trace format version '2'");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		size_t at;

		printf("# %s\n", hostile[i].script);
		bb_preamble(&b, 1, 1);
		at = bb_script(&b, hostile[i].script);
		expect_bad(&b, hostile[i].record, at, hostile[i].msg);
	}
}

/* The magic, layout 1, and the start of a header record: version 1, kernel "k". */
static void bb_header_start(struct bb *b)
{
	memset(b, 0, sizeof(*b));
	bb_bytes(b, "\x89KMS\r\n\x1a\n\x01", 9);
	bb_open(b);
	bb_uv(b, 1);
	bb_str(b, "k");
}

static void test_bad_header(void **state)
{
	static const struct hostile bad[] = {
		{ "@u6000 .", 0, "page_size 6000 is not a power of two" },
		{ "u4096 @u0 .", 0, "cpus 0 out of range (1 to 8192)" },
		{ "u4096 u2 S u2 Sclose @Sclose .", 0, "'close' twice in the op dictionary" },
	};
	struct bb b;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t at;

		bb_header_start(&b);
		at = bb_script(&b, bad[i].script);
		expect_bad(&b, bad[i].record, at, bad[i].msg);
	}

	/* a header longer than the file */
	memset(&b, 0, sizeof(b));
	bb_bytes(&b, "\x89KMS\r\n\x1a\n\x01", 9);
	bb_uv(&b, 50);
	bb_uv(&b, 1);
	expect_bad(&b, 0, b.n, "the file ends inside the header (1 of 50 bytes)");

	/* not our magic: not a binary trace, and no text trace either */
	{
		struct kms_trace_error err;
		struct kms_trace_reader *r;

		assert_int_equal(kms_trace_open_mem("\x89KMX\r\n\x1a\n\x01", 9, "t", NULL, &r,
						    &err), -EINVAL);
		assert_false(err.binary);
		assert_non_null(strstr(err.msg, "not a kmemsim trace"));
	}
}

static void test_error_format(void **state)
{
	struct kms_trace_error e = { .file = "t.kmsb", .binary = true, .record = 17,
				     .offset = 345 };
	char buf[256];

	(void)state;
	snprintf(e.msg, sizeof(e.msg), "duplicate field 'fd'");
	kms_trace_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "t.kmsb: record 17, byte 345: duplicate field 'fd'");
	e.record = 0;
	kms_trace_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "t.kmsb: byte 345: duplicate field 'fd'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_built_file_reads),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_long_counter),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_large_record),
		cmocka_unit_test(test_gen_binary_from_a_file),
		cmocka_unit_test(test_roundtrip_bundled),
		cmocka_unit_test(test_decoders_agree),
		cmocka_unit_test(test_reports_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
