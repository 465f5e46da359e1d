// SPDX-License-Identifier: MIT
/*
 * kmemsim's benchmark driver (docs/performance.md). Each mode prints one JSON
 * object a line on stdout; bench/run collects them into bench/results/.
 *
 *   kms_bench parse FILE                  native parse (text or binary form): MB/s, events/s
 *   kms_bench replay FILE P1[,P2,...] [ledger] [explain]
 *                                         replay (one profile) or compare (more):
 *                                         events/s with parse included and excluded,
 *                                         jemalloc bytes, peak RSS, bytes per live element
 *   kms_bench suite DIR N                 a short self-contained run for
 *                                         `meson test --benchmark`: generates an
 *                                         N-event trace in DIR, then parse, replay, compare
 *
 * Times are CPU time of this process (CLOCK_PROCESS_CPUTIME_ID): the machine is
 * shared, and wall time would measure the neighbours. Wall time is printed too.
 * "Parse excluded" is the replay's time minus a parse-only pass over the same
 * file: the replay cannot run without reading its events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "kms_build_config.h"
#include "kmemsim/bpf.h"
#include "kmemsim/gen.h"
#include "kmemsim/replay.h"
#include "kmemsim/trace.h"

#if KMS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

struct clocks {
	double cpu, wall;
};

static struct clocks now(void)
{
	struct timespec c, w;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	clock_gettime(CLOCK_MONOTONIC, &w);
	return (struct clocks){ (double)c.tv_sec + (double)c.tv_nsec / 1e9,
				(double)w.tv_sec + (double)w.tv_nsec / 1e9 };
}

static struct clocks since(struct clocks t0)
{
	struct clocks t1 = now();

	return (struct clocks){ t1.cpu - t0.cpu, t1.wall - t0.wall };
}

/* Bytes the program has allocated now (jemalloc's stats.allocated), 0 without jemalloc. */
static uint64_t allocated_bytes(void)
{
#if KMS_HAVE_JEMALLOC
	uint64_t epoch = 1;
	size_t v = 0, len = sizeof(v), elen = sizeof(epoch);

	/* statistics are snapshots: advance the epoch to refresh them */
	mallctl("epoch", &epoch, &elen, &epoch, elen);
	if (mallctl("stats.allocated", &v, &len, NULL, 0))
		return 0;
	return v;
#else
	return 0;
#endif
}

static long max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int open_trace(const char *path, struct kms_trace_reader **r)
{
	struct kms_trace_error err;
	int ret = kms_trace_open(path, NULL, r, &err);

	if (ret) {
		char msg[512];

		kms_trace_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "kms_bench: %s\n", msg);
	}
	return ret;
}

/* The trace's form, for the JSON: "binary" or "text" (strace logs are text too). */
static const char *form_name(const struct kms_trace_reader *r)
{
	return kms_trace_reader_binary(r) ? "binary" : "text";
}

/* One parse-only pass: events read, the time it took and the trace's form. */
static int parse_pass(const char *path, uint64_t *events, struct clocks *t, const char **form)
{
	struct kms_trace_reader *r;
	struct kms_event ev;
	struct clocks t0 = now();
	int ret;

	*events = 0;
	if ((ret = open_trace(path, &r)))
		return ret;
	*form = form_name(r);
	while ((ret = kms_trace_read_next(r, &ev)) == 1)
		(*events)++;
	*t = since(t0);
	if (ret < 0) {
		char msg[512];

		kms_trace_error_format(kms_trace_reader_error(r), msg, sizeof(msg));
		fprintf(stderr, "kms_bench: %s\n", msg);
	}
	kms_trace_reader_free(r);
	return ret;
}

static int bench_parse(const char *path)
{
	struct clocks t;
	struct stat st;
	uint64_t events;
	const char *form;

	if (stat(path, &st) || parse_pass(path, &events, &t, &form))
		return 1;
	printf("{\"bench\": \"parse\", \"trace\": \"%s\", \"form\": \"%s\", \"bytes\": %lld, "
	       "\"events\": %" PRIu64
	       ", \"cpu_seconds\": %.3f, \"wall_seconds\": %.3f, \"mb_per_s\": %.0f, "
	       "\"events_per_s\": %.0f, \"max_rss_kib\": %ld}\n",
	       path, form, (long long)st.st_size, events, t.cpu, t.wall,
	       (double)st.st_size / t.cpu / 1e6, (double)events / t.cpu, max_rss_kib());
	return 0;
}

/* Live elements of every live map of run @i (what nr_elems counts: array slots too). */
static uint64_t live_elements(const struct kms_replay *r, size_t i)
{
	const struct kms_bpf *w = kms_replay_bpf(r, i);
	uint64_t n = 0;

	for (uint32_t id = kms_bpf_obj_next(w, 0); id; id = kms_bpf_obj_next(w, id)) {
		struct kms_bpf_obj_info info;

		if (kms_bpf_obj_info(w, id, &info) == 0 && info.kind == KMS_OBJ_MAP && !info.freed)
			n += info.nr_elems;
	}
	return n;
}

static int bench_replay(const char *path, char *profile_list, int nr_flags, char **flags)
{
	const char *profiles[16];
	size_t nr = 0;
	struct kms_replay_opts opts = { .profiles = profiles };
	struct kms_replay *r;
	struct kms_trace_reader *reader;
	struct clocks t, tparse;
	uint64_t events, parsed, base, used, live;
	char err[512], names[256] = "";
	const char *form;
	int ret;

	for (char *tok = strtok(profile_list, ","); tok && nr < 16; tok = strtok(NULL, ","))
		profiles[nr++] = tok;
	opts.nr_profiles = nr;
	/* the costly extras, to show what switching them on costs */
	for (int i = 0; i < nr_flags; i++) {
		if (strcmp(flags[i], "ledger") == 0) {
			opts.ledger = true;
		} else if (strcmp(flags[i], "explain") == 0) {
			opts.explain = true;
		} else {
			fprintf(stderr, "kms_bench: unknown flag '%s' (ledger, explain)\n", flags[i]);
			return 2;
		}
	}
	/* the parse-only pass first: it also warms the page cache for the replay */
	if (parse_pass(path, &parsed, &tparse, &form))
		return 1;
	base = allocated_bytes();
	if (kms_replay_new(&opts, &r, err, sizeof(err))) {
		fprintf(stderr, "kms_bench: %s\n", err);
		return 1;
	}
	if (open_trace(path, &reader)) {
		kms_replay_free(r);
		return 1;
	}
	t = now();
	ret = kms_replay_run(r, reader, NULL, NULL, NULL, NULL);
	t = since(t);
	kms_trace_reader_free(reader);
	if (ret) {
		fprintf(stderr, "kms_bench: %s\n", kms_replay_error(r));
		kms_replay_free(r);
		return 1;
	}
	{
		struct kms_replay_summary sum;

		kms_replay_summary(r, 0, &sum);
		events = sum.events;
	}
	/* memory with every run still alive: the live set at the end of the trace, per run */
	/* a second trace in one process (suite) may start with freed caches counted in @base */
	used = allocated_bytes();
	used = used > base ? used - base : 0;
	live = live_elements(r, 0);
	for (size_t i = 0; i < nr; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s\"%s\"",
			 i ? ", " : "", profiles[i]);
	printf("{\"bench\": \"%s\", \"trace\": \"%s\", \"form\": \"%s\", \"profiles\": [%s], "
	       "\"ledger\": %s, "
	       "\"explain\": %s, \"events\": %" PRIu64
	       ", \"cpu_seconds\": %.3f, \"wall_seconds\": %.3f, \"parse_cpu_seconds\": %.3f, "
	       "\"events_per_s\": %.0f, \"events_per_s_parse_excluded\": %.0f, "
	       "\"allocated_bytes\": %" PRIu64 ", \"live_elements\": %" PRIu64
	       ", \"bytes_per_live_element\": %.1f, \"max_rss_kib\": %ld}\n",
	       nr > 1 ? "compare" : "replay", path, form, names, opts.ledger ? "true" : "false",
	       opts.explain ? "true" : "false", events, t.cpu, t.wall, tparse.cpu,
	       (double)events / t.cpu,
	       t.cpu > tparse.cpu ? (double)events / (t.cpu - tparse.cpu) : 0.0, used, live,
	       live ? (double)used / (double)live / (double)nr : 0.0, max_rss_kib());
	kms_replay_free(r);
	return 0;
}

/* A short run of every measurement, for `meson test --benchmark`: text, then binary. */
static int bench_suite(const char *dir, const char *n)
{
	static const char *const ext[] = { "trace", "kmsb" };
	struct kms_gen_opts o;
	char path[4096], err[256], p1[] = "linux-5.11", p2[] = "linux-5.10,linux-5.11";
	FILE *f;
	int ret = 0;

	kms_gen_opts_init(&o);
	o.events = strtoull(n, NULL, 10);
	for (int i = 0; i < 2 && !ret; i++) {
		o.form = i ? KMS_TRACE_BINARY : KMS_TRACE_NATIVE;
		snprintf(path, sizeof(path), "%s/bench-suite.%s", dir, ext[i]);
		if (!(f = fopen(path, "w"))) {
			fprintf(stderr, "kms_bench: cannot write %s\n", path);
			return 1;
		}
		ret = kms_gen_write(f, &o, NULL, err, sizeof(err));
		if (fclose(f) || ret) {
			fprintf(stderr, "kms_bench: gen: %s\n",
				ret == -EINVAL ? err : strerror(-ret));
			return 1;
		}
		/* strtok() in bench_replay() cuts the lists: a fresh copy each time */
		snprintf(p1, sizeof(p1), "linux-5.11");
		snprintf(p2, sizeof(p2), "linux-5.10,linux-5.11");
		ret = bench_parse(path) || bench_replay(path, p1, 0, NULL) ||
		      bench_replay(path, p2, 0, NULL);
		remove(path);
	}
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "parse") == 0)
		return bench_parse(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "replay") == 0)
		return bench_replay(argv[2], argv[3], argc - 4, argv + 4);
	if (argc == 4 && strcmp(argv[1], "suite") == 0)
		return bench_suite(argv[2], argv[3]);
	fprintf(stderr, "usage: kms_bench parse FILE | replay FILE P1[,P2...] [ledger] [explain] "
		"| suite DIR N\n");
	return 2;
}
