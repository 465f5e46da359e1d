/* SPDX-License-Identifier: MIT */
/*
 * The recorder's output: one function per event kind, all text generation in
 * emit.c. This is a stand-in for the native trace writer (include/kmemsim/
 * trace.h, not merged yet); swapping it means reimplementing these functions
 * on top of that writer, nothing else in src/record/ prints.
 */
#ifndef KMS_RECORD_EMIT_H
#define KMS_RECORD_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "record/bpf_call.h"
#include "record/tracee.h"

struct rec_emit {
	FILE *f;
	unsigned long seq;	/* last event number written */
};

struct rec_header {
	const char *kernel_release;
	unsigned int page_size;
	unsigned int nr_possible_cpus;
	const char *possible_cpus;	/* "0-1" */
	char *const *argv;
	const char *started_utc;	/* "2026-11-27T04:40:00Z" */
};

void rec_emit_header(struct rec_emit *e, const struct rec_header *h);
void rec_emit_comment(struct rec_emit *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The first traced process: who it is and its RLIMIT_MEMLOCK. */
void rec_emit_task(struct rec_emit *e, const struct rec_ctx *c, uint64_t memlock_cur,
		   uint64_t memlock_max);
void rec_emit_fork(struct rec_emit *e, const struct rec_ctx *parent, pid_t child_pid,
		   pid_t child_tid, bool thread, bool share_files);
/* A process is gone (its fds closed): exit code, or the signal that killed it. */
void rec_emit_exit(struct rec_emit *e, const struct rec_ctx *c, int wait_status);
void rec_emit_rlimit(struct rec_emit *e, const struct rec_ctx *c, pid_t target,
		     uint64_t cur, uint64_t max);
void rec_emit_close(struct rec_emit *e, const struct rec_ctx *c, int fd);
void rec_emit_dup(struct rec_emit *e, const struct rec_ctx *c, int fd, int newfd);
void rec_emit_bpf(struct rec_emit *e, const struct rec_ctx *c, const struct rec_bpf_call *b);
/* In-kernel activity seen by sampling: the map's element count at time @t. */
void rec_emit_map_elems(struct rec_emit *e, double t, uint32_t map_id, uint64_t count);

#endif
