// SPDX-License-Identifier: MIT
/*
 * Native trace parse throughput (issue 9: >= 300 MB/s on the 2-core CI
 * machine). Writes a deterministic update-heavy trace of N events to a file
 * with the library's writer, then reads it back and reports MB/s, events/s and
 * the process's peak RSS, which must not grow with N (the reader streams).
 *
 *   bench_trace_parse FILE N [N2 ...]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "kmemsim/trace.h"

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64*: deterministic on every machine */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int generate(const char *path, uint64_t n)
{
	const struct kms_trace_header h = { 1, "6.18.44", 4096, 2 };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct kms_event ev;
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	kms_trace_write_header(f, &h);
	for (uint64_t i = 1; i <= n; i++) {
		uint64_t r = next_rand(&seed);

		memset(&ev, 0, sizeof(ev));
		ev.seq = i;
		ev.time_ns = 1795751100000000000ull + i * 1234;
		ev.pid = ev.tid = 100 + (int32_t)(i % 7);
		ev.uid = KMS_UID_UNSET;
		ev.has_ret = true;
		switch (r % 20) {
		case 0: case 1: case 2:	/* 15% in-kernel updates from softirq */
			ev.kind = KMS_EV_PROG_UPDATE;
			ev.has_ret = false;
			ev.cpu = 1;
			ev.ctx = KMS_CTX_SOFTIRQ;
			ev.u.prog.map_fd = -1;
			ev.u.prog.map_id = 7;
			ev.u.prog.count = 3;
			ev.u.prog.key_kind = KMS_KEY_NEW;
			break;
		case 3: case 4: case 5: case 6:	/* 20% deletes */
			ev.kind = KMS_EV_BPF;
			ev.u.bpf.cmd = KMS_BPF_MAP_DELETE_ELEM;
			ev.u.bpf.map_fd = 3 + (int32_t)(r % 5);
			ev.u.bpf.key_kind = KMS_KEY_ID;
			ev.u.bpf.key = next_rand(&seed);
			break;
		case 7:	/* 5% creates */
			ev.kind = KMS_EV_BPF;
			ev.u.bpf.cmd = KMS_BPF_MAP_CREATE;
			ev.u.bpf.map_type = KMS_MAP_TYPE_HASH;
			ev.u.bpf.key_size = 4;
			ev.u.bpf.value_size = 8;
			ev.u.bpf.max_entries = 1024;
			ev.u.bpf.map_name = "bench_map";
			ev.ret = 3;
			break;
		default:	/* 60% updates */
			ev.kind = KMS_EV_BPF;
			ev.u.bpf.cmd = KMS_BPF_MAP_UPDATE_ELEM;
			ev.u.bpf.map_fd = 3 + (int32_t)(r % 5);
			ev.u.bpf.key_kind = KMS_KEY_ID;
			ev.u.bpf.key = next_rand(&seed);
			break;
		}
		if (kms_trace_write_event(f, &ev)) {
			fclose(f);
			return -EIO;
		}
	}
	return fclose(f) ? -EIO : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_trace_parse FILE N [N2 ...]\n");
		return 2;
	}
	for (int a = 2; a < argc; a++) {
		uint64_t n = strtoull(argv[a], NULL, 10), events = 0;
		struct kms_trace_reader *r;
		struct kms_trace_error err;
		struct kms_event ev;
		struct rusage ru;
		struct stat st;
		double t0, t1;
		int ret;

		ret = generate(argv[1], n);
		if (ret || stat(argv[1], &st)) {
			fprintf(stderr, "cannot write %s\n", argv[1]);
			return 1;
		}
		t0 = now();
		if (kms_trace_open(argv[1], NULL, &r, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		while ((ret = kms_trace_read_next(r, &ev)) == 1)
			events++;
		t1 = now();
		kms_trace_reader_free(r);
		if (ret || events != n) {
			fprintf(stderr, "read %llu of %llu events (%d)\n", (unsigned long long)events,
				(unsigned long long)n, ret);
			return 1;
		}
		getrusage(RUSAGE_SELF, &ru);
		printf("{\"bench\": \"trace_parse\", \"events\": %llu, \"bytes\": %lld, "
		       "\"seconds\": %.3f, \"mb_per_s\": %.0f, \"events_per_s\": %.0f, "
		       "\"max_rss_kib\": %ld}\n",
		       (unsigned long long)n, (long long)st.st_size, t1 - t0,
		       (double)st.st_size / (t1 - t0) / 1e6, (double)n / (t1 - t0), ru.ru_maxrss);
	}
	remove(argv[1]);
	return 0;
}
