/* SPDX-License-Identifier: MIT */
/*
 * The recorder's output: one function per event kind, each filling a struct
 * kms_event for the native writer (include/kmemsim/trace.h,
 * docs/trace-format.md). All mapping from what the recorder saw to trace
 * fields is in emit.c.
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
	uint64_t seq;		/* last event number written */
	int err;		/* first write error (-EIO, -ENOSPC), 0 if none */
};

struct rec_header {
	const char *kernel_release;
	unsigned int page_size;
	unsigned int nr_possible_cpus;
	const char *possible_cpus;	/* "0-1" */
	char *const *argv;
	const char *started_utc;	/* "2026-11-27T04:40:00Z" */
	unsigned int sample_ms;		/* 0: only at exits; UINT_MAX: never */
};

void rec_emit_header(struct rec_emit *e, const struct rec_header *h);
void rec_emit_comment(struct rec_emit *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A memory cgroup the trace uses, first seen now, and its limits (UINT64_MAX:
 * none). */
void rec_emit_cgroup(struct rec_emit *e, const struct rec_ctx *c, const char *path,
		     uint64_t max, uint64_t high);
/* The first traced process: who it is and its RLIMIT_MEMLOCK (task_new). */
void rec_emit_task(struct rec_emit *e, const struct rec_ctx *c, uint64_t memlock_cur,
		   uint64_t memlock_max);
void rec_emit_fork(struct rec_emit *e, const struct rec_ctx *parent, pid_t child_tid,
		   bool thread, bool share_files);
void rec_emit_exec(struct rec_emit *e, const struct rec_ctx *c, const char *path);
/* A task ended: exit code, or 128 + the signal that killed it. */
void rec_emit_exit(struct rec_emit *e, const struct rec_ctx *c, int wait_status, bool thread);
/* setrlimit/prlimit64(RLIMIT_MEMLOCK): the limits asked for, the result. */
void rec_emit_rlimit(struct rec_emit *e, const struct rec_ctx *c, pid_t target,
		     uint64_t cur, uint64_t max, long ret);
void rec_emit_close(struct rec_emit *e, const struct rec_ctx *c, int fd, long ret);
/* @newfd -1: the lowest free fd (dup, F_DUPFD*); @ret the new fd. */
void rec_emit_dup(struct rec_emit *e, const struct rec_ctx *c, int fd, int newfd, bool cloexec,
		  long ret);
void rec_emit_bpf(struct rec_emit *e, const struct rec_ctx *c, const struct rec_bpf_call *b);
/* In-kernel activity seen by sampling: programs changed the map's element
 * count by @delta since the trace last accounted for it. */
void rec_emit_prog_elems(struct rec_emit *e, double t, pid_t pid, uint32_t map_id,
			 int64_t delta);

#endif
