// SPDX-License-Identifier: MIT
/*
 * The trace reader: one buffer, lines found with memchr, the format sniffed
 * from the first line that says anything. Memory is the buffer (bounded by
 * the longest allowed line) and what the strace importer keeps per live task,
 * never proportional to the trace's length.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/uapi_names.h"
#include "trace/reader.h"

/* Bytes asked of the file at a time. */
#define READ_CHUNK (256u << 10)

static size_t buffer_size(uint32_t max_line)
{
	return (size_t)max_line + READ_CHUNK + 2;
}

int kms_reader_fail(struct kms_trace_reader *r, const char *at, const char *fmt, ...)
{
	va_list ap;

	r->err.file = r->name;
	r->err.line = r->lineno;
	r->err.column = 0;
	if (at && r->cur && at >= r->cur && at <= r->cur + r->cur_len)
		r->err.column = (uint32_t)(at - r->cur) + 1;
	va_start(ap, fmt);
	vsnprintf(r->err.msg, sizeof(r->err.msg), fmt, ap);
	va_end(ap);
	if (r->bin) {
		kms_binary_locate(r);
		return -EINVAL;
	}
	if (r->cur_unterminated) {
		size_t n = strlen(r->err.msg);

		snprintf(r->err.msg + n, sizeof(r->err.msg) - n,
			 " (the last line has no newline: is the file truncated?)");
	}
	return -EINVAL;
}

int kms_reader_keys_reserve(struct kms_trace_reader *r, size_t n)
{
	uint64_t *k;
	size_t cap;

	if (n <= r->keys_cap)
		return 0;
	cap = r->keys_cap ? r->keys_cap : 64;
	while (cap < n)
		cap *= 2;
	k = realloc(r->keys, cap * sizeof(*k));
	if (!k)
		return -ENOMEM;
	r->keys = k;
	r->keys_cap = cap;
	return 0;
}

/* Move unread bytes to the front and read more; sets r->eof at the end. */
static int refill(struct kms_trace_reader *r)
{
	size_t room, got;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		if (r->nul_at != SIZE_MAX)
			r->nul_at -= r->start;
		r->start = 0;
	}
	room = r->cap - 1 - r->end;
	if (room > READ_CHUNK)
		room = READ_CHUNK;
	if (r->mem) {
		got = r->mem_len - r->mem_pos;
		if (got > room)
			got = room;
		memcpy(r->buf + r->end, r->mem + r->mem_pos, got);
		r->mem_pos += got;
	} else {
		got = fread(r->buf + r->end, 1, room, r->f);
		if (got < room && ferror(r->f)) {
			r->err.file = r->name;
			r->err.line = r->lineno;
			r->err.column = 0;
			snprintf(r->err.msg, sizeof(r->err.msg), "read error: %s",
				 strerror(errno ? errno : EIO));
			return -EIO;
		}
	}
	if (r->nul_at == SIZE_MAX) {
		const char *nul = memchr(r->buf + r->end, '\0', got);

		if (nul)
			r->nul_at = (size_t)(nul - r->buf);
	}
	r->end += got;
	if (got == 0)
		r->eof = true;
	return 0;
}

int kms_reader_next_line(struct kms_trace_reader *r)
{
	char *nl;
	size_t scanned = 0;
	int err;

	if (r->unget) {
		r->unget = false;
		return 1;
	}
	for (;;) {
		nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		if (nl)
			break;
		scanned = r->end - r->start;
		if (scanned > r->max_line || r->eof)
			break;
		err = refill(r);
		if (err)
			return err;
		if (r->eof && r->end == r->start)
			return 0;
	}
	if (!nl && r->end == r->start)
		return 0;
	r->lineno++;
	r->cur = r->buf + r->start;
	r->cur_len = nl ? (size_t)(nl - r->cur) : r->end - r->start;
	/* Without a newline only at the end of the input: a long line merely stopped the scan. */
	r->cur_unterminated = !nl && r->cur_len <= r->max_line;
	if (r->cur_len > r->max_line) {
		r->cur_len = 0;
		r->cur[0] = '\0';
		kms_reader_fail(r, NULL, "line longer than %u bytes", r->max_line);
		r->err.column = r->max_line + 1;	/* the first byte past the limit */
		return -EINVAL;
	}
	r->start += r->cur_len + (nl ? 1 : 0);
	r->cur[r->cur_len] = '\0';
	if (r->cur_len && r->cur[r->cur_len - 1] == '\r')
		r->cur[--r->cur_len] = '\0';
	/* The first NUL read in lies in this line: nothing before it had one. */
	if (r->nul_at < (size_t)(r->cur - r->buf) + r->cur_len)
		return kms_reader_fail(r, r->buf + r->nul_at, "NUL byte in a text trace");
	return 1;
}

static int set_max_line(struct kms_trace_reader *r, uint32_t max_line)
{
	char *b;

	if (buffer_size(max_line) <= r->cap) {
		r->max_line = max_line;
		return 0;
	}
	/* r->cur points into the buffer: keep it valid across realloc. */
	b = realloc(r->buf, buffer_size(max_line));
	if (!b)
		return -ENOMEM;
	if (r->cur)
		r->cur = b + (r->cur - r->buf);
	r->buf = b;
	r->cap = buffer_size(max_line);
	r->max_line = max_line;
	return 0;
}

void kms_strace_options_init(struct kms_strace_options *o)
{
	memset(o, 0, sizeof(*o));
	o->cgroup = "/";
	o->cgroup_root = "/sys/fs/cgroup";
	o->kernel = "unknown";
	o->page_size = 4096;
	o->nr_cpus = 2;
	o->any_update_inserts = true;
}

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Find the first meaningful line and decide what the file is. */
static int sniff(struct kms_trace_reader *r, bool native_only)
{
	const char *p;
	int err;

	err = kms_binary_sniff(r);
	if (err)
		return err < 0 ? err : kms_binary_open(r);
	for (;;) {
		err = kms_reader_next_line(r);
		if (err < 0)
			return err;
		if (err == 0) {
			r->lineno = 0;
			return kms_reader_fail(r, NULL,
					       "empty trace: expected a 'trace version=%d' line",
					       KMS_TRACE_FORMAT_VERSION);
		}
		p = skip_blank(r->cur);
		if (*p != '\0' && *p != '#')
			break;
	}
	if (kms_native_is_header(p)) {
		r->fmt = KMS_TRACE_NATIVE;
		r->max_line = KMS_NATIVE_MAX_LINE;
		if (r->cur_len > r->max_line)
			return kms_reader_fail(r, NULL, "line longer than %u bytes", r->max_line);
		return kms_native_parse_header(r);
	}
	if (!native_only && kms_strace_is_line(r->cur)) {
		r->fmt = KMS_TRACE_STRACE;
		r->hdr.version = KMS_TRACE_FORMAT_VERSION;
		r->hdr.kernel = r->sopts.kernel;
		r->hdr.page_size = r->sopts.page_size;
		r->hdr.nr_cpus = r->sopts.nr_cpus;
		r->unget = true;
		return kms_strace_init(r);
	}
	return kms_reader_fail(r, p, native_only ?
			       "expected a 'trace version=%d ...' header line" :
			       "not a kmemsim trace (no 'trace version=%d' header) nor an strace log",
			       KMS_TRACE_FORMAT_VERSION);
}

static int open_common(struct kms_trace_reader *r, const char *name,
		       const struct kms_strace_options *opts, bool native_only,
		       struct kms_trace_reader **out, struct kms_trace_error *err)
{
	int ret = -ENOMEM;

	r->name = strdup(name ? name : "-");
	if (opts)
		r->sopts = *opts;
	else
		kms_strace_options_init(&r->sopts);
	if (!r->sopts.cgroup)
		r->sopts.cgroup = "/";
	if (!r->sopts.kernel)
		r->sopts.kernel = "unknown";
	if (!r->sopts.cgroup_root)
		r->sopts.cgroup_root = "/sys/fs/cgroup";
	r->err.file = r->name;
	if (!kms_valid_cgroup_path(r->sopts.cgroup, strlen(r->sopts.cgroup))) {
		snprintf(r->err.msg, sizeof(r->err.msg),
			 "the workload's cgroup '%.100s' is not an absolute cgroup path like /a/b",
			 r->sopts.cgroup);
		ret = -EINVAL;
		goto fail;
	}
	/* the first line may be an strace line, up to strace's bound */
	if (!r->name || set_max_line(r, native_only ? KMS_NATIVE_MAX_LINE : KMS_STRACE_MAX_LINE))
		goto fail;
	ret = kms_native_init(r);
	if (!ret)
		ret = sniff(r, native_only);
	if (ret)
		goto fail;
	*out = r;
	return 0;
fail:
	if (err) {
		*err = r->err;
		/* The name dies with the reader: point at the caller's copy. */
		err->file = name ? name : "-";
		if (ret == -ENOMEM && !err->msg[0])
			snprintf(err->msg, sizeof(err->msg), "out of memory");
	}
	kms_trace_reader_free(r);
	*out = NULL;
	return ret;
}

static struct kms_trace_reader *reader_alloc(void)
{
	struct kms_trace_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->nul_at = SIZE_MAX;
	return r;
}

int kms_trace_open_file(FILE *f, const char *name, const struct kms_strace_options *opts,
			struct kms_trace_reader **out, struct kms_trace_error *err)
{
	struct kms_trace_reader *r = reader_alloc();

	if (!r)
		return -ENOMEM;
	r->f = f;
	return open_common(r, name, opts, false, out, err);
}

static int open_path(const char *path, const struct kms_strace_options *opts, bool native_only,
		     struct kms_trace_reader **out, struct kms_trace_error *err)
{
	struct kms_trace_reader *r = reader_alloc();
	int e;

	if (!r)
		return -ENOMEM;
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "r");
		if (!r->f) {
			e = errno;
			if (err) {
				memset(err, 0, sizeof(*err));
				err->file = path;
				snprintf(err->msg, sizeof(err->msg), "cannot open: %s",
					 strerror(e));
			}
			free(r);
			*out = NULL;
			return -e;
		}
		r->own_f = true;
	}
	return open_common(r, path, opts, native_only, out, err);
}

int kms_trace_open(const char *path, const struct kms_strace_options *opts,
		   struct kms_trace_reader **out, struct kms_trace_error *err)
{
	return open_path(path, opts, false, out, err);
}

int kms_trace_reader_open(const char *path, struct kms_trace_reader **out,
			  struct kms_trace_error *err)
{
	return open_path(path, NULL, true, out, err);
}

int kms_trace_open_mem(const char *buf, size_t len, const char *name,
		       const struct kms_strace_options *opts,
		       struct kms_trace_reader **out, struct kms_trace_error *err)
{
	struct kms_trace_reader *r = reader_alloc();

	if (!r)
		return -ENOMEM;
	r->mem = buf;
	r->mem_len = len;
	return open_common(r, name, opts, false, out, err);
}

void kms_trace_reader_free(struct kms_trace_reader *r)
{
	if (!r)
		return;
	kms_strace_fini(r);
	kms_native_fini(r);
	kms_binary_fini(r);
	if (r->own_f)
		fclose(r->f);
	free(r->keys);
	free(r->kernel);
	free(r->assumptions);
	free(r->notes);
	free(r->buf);
	free(r->name);
	free(r);
}

int kms_trace_read_next(struct kms_trace_reader *r, struct kms_event *ev)
{
	int ret;

	if (r->bin)
		return kms_binary_read_next(r, ev);
	if (r->fmt == KMS_TRACE_STRACE)
		return kms_strace_read_next(r, ev);
	for (;;) {
		ret = kms_reader_next_line(r);
		if (ret <= 0)
			return ret;
		ret = kms_native_parse_line(r, ev);
		if (ret)
			return ret;
	}
}

const struct kms_trace_header *kms_trace_reader_header(const struct kms_trace_reader *r)
{
	return &r->hdr;
}

enum kms_trace_format kms_trace_reader_format(const struct kms_trace_reader *r)
{
	return r->fmt;
}

const struct kms_trace_error *kms_trace_reader_error(const struct kms_trace_reader *r)
{
	return &r->err;
}

bool kms_trace_reader_binary(const struct kms_trace_reader *r)
{
	return r->bin != NULL;
}

const char *kms_trace_reader_assumptions(const struct kms_trace_reader *r)
{
	return r->assumptions ? r->assumptions : "";
}

const char *kms_trace_reader_notes(const struct kms_trace_reader *r)
{
	return r->notes ? r->notes : "";
}

int kms_trace_error_format(const struct kms_trace_error *e, char *buf, size_t size)
{
	const char *file = e->file ? e->file : "-";

	if (e->binary && e->record)
		return snprintf(buf, size, "%s: record %u, byte %llu: %s", file, e->record,
				(unsigned long long)e->offset, e->msg);
	if (e->binary)
		return snprintf(buf, size, "%s: byte %llu: %s", file,
				(unsigned long long)e->offset, e->msg);

	if (e->line && e->column)
		return snprintf(buf, size, "%s:%u:%u: %s", file, e->line, e->column, e->msg);
	if (e->line)
		return snprintf(buf, size, "%s:%u: %s", file, e->line, e->msg);
	return snprintf(buf, size, "%s: %s", file, e->msg);
}

uint64_t kms_key_id(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a 64 offset basis */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;		/* FNV-1a 64 prime */
	}
	return h;
}

