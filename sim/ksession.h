/* SPDX-License-Identifier: MIT */
/*
 * A measurement session on the real kernel for `validate` and `calibrate`:
 * a scratch memory cgroup, a private bpffs mount and an actor process, with
 * the cleanup registry that removes them at exit and on SIGINT/SIGTERM/SIGHUP.
 */
#ifndef KMS_SIM_KSESSION_H
#define KMS_SIM_KSESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "kmemsim/kernel.h"

/* Name prefix of every scratch cgroup the program creates (tests look for leftovers). */
#define KSESSION_CGROUP_PREFIX "kms_validate_"

struct ksession {
	struct kms_kernel_caps caps;
	struct kms_kcgroup cg;
	struct kms_kcgroup cg2;		/* a second scratch cgroup, when a step needs one */
	struct kms_kbpffs fs;
	struct kms_kactor actor;
	unsigned int drain_wait_ms;	/* after each drain, for the remote CPUs' flush work */
	uint32_t cpu;			/* the CPU the actor is pinned to */
	uint64_t kmem;			/* last drained reading */
	struct kms_kcgroup_counters last, prev;	/* the last two drained readings */
};

/* Signed change of the counters between two readings. */
struct ksession_delta {
	int64_t kmem, usage, slab, percpu, vmalloc;
};
/* Add last - prev (the change across the most recent reading) to @d. */
void ksession_add_last_delta(const struct ksession *s, struct ksession_delta *d);

/*
 * Probe the kernel; on anything missing write the reasons to stderr and
 * return -ENOTSUP (the caller exits 2). Installs the cleanup handlers once.
 */
int ksession_probe(struct ksession *s);
/*
 * New cgroup, bpffs (if @with_bpffs), actor moved in and pinned to CPU 0
 * (bpf_mem_alloc caches and stocks are per CPU: a migrating actor would
 * make the numbers depend on the scheduler), first drained reading.
 */
int ksession_open(struct ksession *s, bool with_bpffs, size_t prefault);
/* Stop the actor, wait for deferred frees, remove the cgroup, unmount. Idempotent. */
void ksession_close(struct ksession *s);
/* Create s->cg2 (removed by ksession_close() after the actor is stopped). */
int ksession_open_second(struct ksession *s);
/* Pin the actor to @cpu. */
int ksession_set_cpu(struct ksession *s, uint32_t cpu);
/* Drain and read; sets s->kmem. */
int ksession_read(struct ksession *s, struct kms_kcgroup_counters *c);
/*
 * Run one actor request and return the kmem delta it caused (drained before
 * and after). With @settle_ms, wait that long for deferred frees, then read
 * every 100 ms until the reading has stayed put for @settle_ms (at most 5 s).
 */
int ksession_step(struct ksession *s, const struct kms_kactor_req *req,
		  struct kms_kactor_reply *rep, unsigned int settle_ms, int64_t *delta);
/* A request with every handle field set to "none". */
struct kms_kactor_req ksession_req(uint32_t op);

#endif
