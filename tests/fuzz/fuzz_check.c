// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "kmemsim/profile.h"
#include "kmemsim/replay.h"
#include "kmemsim/trace.h"

#define HDR "trace version=1\n"

/*
 * Replays are skipped for inputs that ask the model for much work: the
 * model simulates every element and per-entry allocation, so a map of 2^24
 * per-CPU entries is seconds, not a bug, and would read as a fuzzer timeout.
 */
#define REPLAY_MAX_EVENTS 4096
#define REPLAY_MAX_ELEMS 65536

/* Format @ev, parse the line back, format again: both texts must agree. */
static void check_roundtrip(const struct kms_event *ev)
{
	static const size_t size = 70000;
	char *a = malloc(size), *b = malloc(size);
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event back;
	int n, m;

	if (!a || !b)
		abort();
	memcpy(a, HDR, strlen(HDR));
	n = kms_trace_format_event(ev, a + strlen(HDR), size - strlen(HDR));
	if (n == -ENOSPC)
		goto out;	/* a key list too long for one line: refused, not wrong */
	if (n < 0) {
		fprintf(stderr, "cannot format an event that was read (line %u)\n", ev->line);
		abort();
	}
	if (kms_trace_open_mem(a, strlen(HDR) + (size_t)n, "rt", NULL, &r, &err) ||
	    kms_trace_read_next(r, &back) != 1) {
		fprintf(stderr, "written line does not parse: %.*s\n%s\n", n, a + strlen(HDR),
			r ? kms_trace_reader_error(r)->msg : err.msg);
		abort();
	}
	m = kms_trace_format_event(&back, b, size);
	if (m != n || memcmp(a + strlen(HDR), b, (size_t)n) != 0) {
		fprintf(stderr, "round trip changed\n%.*s%.*s", n, a + strlen(HDR), m, b);
		abort();
	}
out:
	kms_trace_reader_free(r);
	free(a);
	free(b);
}

/*
 * The binary form too: @ev written as a one-event binary trace reads back
 * as an event whose text is @ev's.
 */
static void check_binary_roundtrip(const struct kms_event *ev)
{
	static const struct kms_trace_header h = { KMS_TRACE_FORMAT_VERSION, "fuzz", 4096, 2 };
	struct kms_trace_reader *r = NULL;
	struct kms_trace_writer *w;
	struct kms_trace_error err;
	struct kms_event back;
	char *bin = NULL, *a = malloc(70000), *b = malloc(70000);
	size_t len = 0;
	FILE *f = open_memstream(&bin, &len);
	int ret, n, m;

	if (!f || !a || !b || kms_trace_writer_open(f, KMS_TRACE_BINARY, &h, NULL, &w))
		abort();
	ret = kms_trace_writer_write(w, ev);
	if (ret == -ENOSPC) {
		kms_trace_writer_free(w);	/* more than a record holds: refused, not wrong */
		goto out;
	}
	if (ret || kms_trace_writer_close(w) || fflush(f)) {
		fprintf(stderr, "cannot write an event that was read (line %u): %d\n", ev->line, ret);
		abort();
	}
	if (kms_trace_open_mem(bin, len, "rt.kmsb", NULL, &r, &err) ||
	    kms_trace_read_next(r, &back) != 1 || kms_trace_read_next(r, &back) != 0) {
		fprintf(stderr, "written binary event does not read back: %s\n",
			r ? kms_trace_reader_error(r)->msg : err.msg);
		abort();
	}
	kms_trace_reader_free(r);
	r = NULL;
	if (kms_trace_open_mem(bin, len, "rt.kmsb", NULL, &r, &err) ||
	    kms_trace_read_next(r, &back) != 1)
		abort();
	n = kms_trace_format_event(ev, a, 70000);
	m = kms_trace_format_event(&back, b, 70000);
	if (back.line != ev->line || back.seq != ev->seq || back.time_ns != ev->time_ns ||
	    n != m || (n > 0 && memcmp(a, b, (size_t)n) != 0)) {
		fprintf(stderr, "binary round trip changed\n%.*s%.*s", n, a, m, b);
		abort();
	}
out:
	kms_trace_reader_free(r);
	fclose(f);
	free(bin);
	free(a);
	free(b);
}

static bool cheap(const struct kms_event *ev)
{
	if (ev->kind == KMS_EV_PROG_UPDATE || ev->kind == KMS_EV_PROG_DELETE)
		return ev->u.prog.count <= REPLAY_MAX_ELEMS;
	if (ev->kind == KMS_EV_BPF)
		return ev->u.bpf.max_entries <= REPLAY_MAX_ELEMS &&
		       ev->u.bpf.count <= REPLAY_MAX_ELEMS;
	return true;
}

bool kms_fuzz_check_read(const uint8_t *data, size_t size)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;
	bool replay = true;
	size_t n = 0;
	int ret;

	ret = kms_trace_open_mem((const char *)data, size, "fuzz", NULL, &r, &err);
	if (ret) {
		if (ret != -EINVAL || !err.msg[0])
			abort();
		return false;
	}
	while ((ret = kms_trace_read_next(r, &ev)) == 1) {
		check_roundtrip(&ev);
		check_binary_roundtrip(&ev);
		replay = replay && cheap(&ev) && ++n <= REPLAY_MAX_EVENTS;
	}
	if (ret < 0 && (ret != -EINVAL || !kms_trace_reader_error(r)->msg[0]))
		abort();
	kms_trace_reader_free(r);
	return replay && ret == 0;
}

void kms_fuzz_check_replay(const uint8_t *data, size_t size)
{
	const char *names[16];
	struct kms_replay_opts o = { .profiles = names, .check_invariants = true };
	struct kms_trace_reader *reader = NULL;
	struct kms_trace_error terr;
	struct kms_replay *r = NULL;
	char err[256];
	int ret;

	for (size_t i = 0; i < kms_profile_count() && i < 16; i++)
		names[o.nr_profiles++] = kms_profile_name(kms_profile_at(i));
	if (kms_trace_open_mem((const char *)data, size, "fuzz", NULL, &reader, &terr))
		return;
	if (kms_replay_new(&o, &r, err, sizeof(err)))
		abort();
	ret = kms_replay_run(r, reader, NULL, NULL, NULL, NULL);
	if (ret == -ECANCELED || (ret && !kms_replay_error(r)[0])) {
		fprintf(stderr, "replay stopped (%d): %s\n", ret, kms_replay_error(r));
		abort();
	}
	kms_replay_free(r);
	kms_trace_reader_free(reader);
}
