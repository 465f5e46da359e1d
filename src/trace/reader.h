/* SPDX-License-Identifier: MIT */
/*
 * The trace reader's insides, shared by the native parser (native.c), the
 * strace importer (strace.c) and the line reader (reader.c).
 */
#ifndef KMS_TRACE_READER_H
#define KMS_TRACE_READER_H

#include <stdarg.h>

#include "kmemsim/trace.h"

/* Longest line of each format, newline excluded. */
#define KMS_NATIVE_MAX_LINE	(64u << 10)
#define KMS_STRACE_MAX_LINE	(1u << 20)
/*
 * Zero bytes kept after the buffer's data (buf[end] on): a line's parser may
 * load 16 bytes at any position up to the line's terminating NUL, so word-wide
 * compares never read outside the allocation or bytes never written.
 */
#define KMS_READER_SLACK	16u

struct kms_field_index;
struct kms_strace_state;
struct kms_binary_state;

struct kms_trace_reader {
	FILE *f;
	bool own_f;
	const char *mem;		/* kms_trace_open_mem(): the input */
	size_t mem_len, mem_pos;
	char *name;
	enum kms_trace_format fmt;
	struct kms_strace_options sopts;

	/*
	 * One buffer: unread bytes are buf[start, end); buf[end] is writable;
	 * KMS_READER_SLACK zero bytes follow end (the allocation is cap + slack).
	 */
	char *buf;
	size_t cap, start, end;
	/* Offset in buf of the first NUL byte read in and not yet consumed, or
	 * SIZE_MAX: each chunk is searched once as it comes in, not each line. */
	size_t nul_at;
	/* Offset in buf of the last newline read in, or SIZE_MAX (kms_native_parse_ahead()). */
	size_t last_nl;
	uint32_t max_line;
	bool eof;
	bool unget;			/* next_line() returns the current line again */
	char *cur;			/* the current line, NUL-terminated */
	size_t cur_len;
	bool cur_unterminated;		/* the last line, without a newline */
	uint32_t lineno;

	struct kms_trace_header hdr;
	char *kernel;
	struct kms_trace_error err;

	/* native */
	uint64_t last_seq, last_time;
	bool any_event;
	uint64_t *keys;			/* parsed key lists, reused */
	size_t keys_cap;
	struct kms_field_index *fx;

	/* binary (binary_read.c): fmt is KMS_TRACE_NATIVE, the events are native */
	struct kms_binary_state *bin;

	/* strace */
	struct kms_strace_state *st;
	char *assumptions;
	char *notes;
};

/* Next line: 1 and r->cur/cur_len, 0 at the end, -errno (r->err filled). */
int kms_reader_next_line(struct kms_trace_reader *r);
/* Fill r->err about the current line at @at (a pointer into r->cur, or NULL)
 * and return -EINVAL. */
int kms_reader_fail(struct kms_trace_reader *r, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Make room for @n key ids in r->keys. */
int kms_reader_keys_reserve(struct kms_trace_reader *r, size_t n);

/* native.c */
int kms_native_init(struct kms_trace_reader *r);
void kms_native_fini(struct kms_trace_reader *r);
bool kms_native_is_header(const char *line);
int kms_native_parse_header(struct kms_trace_reader *r);
/* Parse r->cur: 1 an event, 0 a blank or comment line, -EINVAL. */
int kms_native_parse_line(struct kms_trace_reader *r, struct kms_event *ev);
/* The next line of the usual shape before its end is looked for: 1, -EINVAL, or 0 (not taken). */
int kms_native_parse_ahead(struct kms_trace_reader *r, struct kms_event *ev);
/* Helpers shared with the strace importer. */
int kms_parse_u64(const char *s, size_t len, uint64_t *out);
int kms_errno_from_name(const char *s, size_t len);
/* Absolute, no empty, "." or ".." component, no trailing '/'. */
bool kms_valid_cgroup_path(const char *s, size_t len);

/* check.c: the end of every native event, text or binary */
#define KMS_GIVEN_SEQ	1u	/* the event said its seq=, t=, tid= */
#define KMS_GIVEN_TIME	2u
#define KMS_GIVEN_TID	4u
/*
 * Fill in what was not given (seq, time, tid), check the event as a whole
 * (@req: the op's required fields, @seen: the fields given, bits of
 * kms_fields) and against the previous one: 1, or -EINVAL from
 * kms_reader_fail() at @line's end or @word.
 */
int kms_event_finish(struct kms_trace_reader *r, struct kms_event *ev, unsigned int op,
		     const uint64_t req[2], const uint64_t seen[2], unsigned int given,
		     const char *line, const char *word);
/*
 * Whether kms_event_finish() would take @ev, seq= and t= given, as it is,
 * changing nothing but tid (when not given) and the reader's last seq and
 * time: its checks for the kinds of event it checks nothing more of, kept
 * here beside it and taken first by kms_event_finish() itself, so both
 * readers run this one copy. false: leave it to kms_event_finish(), which
 * says what is wrong.
 */
static inline bool kms_event_finish_plain(struct kms_trace_reader *r, struct kms_event *ev,
					  const uint64_t req[2], const uint64_t seen[2],
					  bool tid_given)
{
	switch (ev->kind) {
	case KMS_EV_CGROUP_SET:
	case KMS_EV_RLIMIT_MEMLOCK:
	case KMS_EV_PROG_UPDATE:
	case KMS_EV_PROG_DELETE:
	case KMS_EV_EXPECT:
		return false;
	default:
		break;
	}
	if (r->any_event && (ev->seq <= r->last_seq || ev->time_ns < r->last_time))
		return false;
	if ((seen[0] & req[0]) != req[0] || (seen[1] & req[1]) != req[1])
		return false;
	if (ev->pid < 0 || (tid_given && ev->tid < 0))
		return false;
	if (!tid_given)
		ev->tid = ev->pid;
	r->last_seq = ev->seq;
	r->last_time = ev->time_ns;
	r->any_event = true;
	return true;
}

/* An expectation's counter (ret, memory.current, memory.stat.KEY, locked_vm, ...). */
bool kms_expect_counter_valid(const char *s, size_t len, enum kms_expect_what *what);

/* binary_read.c */
/* 1 when the input starts with the binary magic, 0 if not (nothing consumed), -errno. */
int kms_binary_sniff(struct kms_trace_reader *r);
int kms_binary_open(struct kms_trace_reader *r);
void kms_binary_fini(struct kms_trace_reader *r);
int kms_binary_read_next(struct kms_trace_reader *r, struct kms_event *ev);
/* Where a binary reader is: fills r->err's record and offset. */
void kms_binary_locate(struct kms_trace_reader *r);

/* strace.c */
bool kms_strace_is_line(const char *line);
int kms_strace_init(struct kms_trace_reader *r);
void kms_strace_fini(struct kms_trace_reader *r);
int kms_strace_read_next(struct kms_trace_reader *r, struct kms_event *ev);

#endif
