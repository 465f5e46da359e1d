/* SPDX-License-Identifier: MIT */
/*
 * Synthetic traces for benchmarks and load tests: large, deterministic native
 * traces (the same options and seed give the same bytes on every machine)
 * written through the trace library's writer. See docs/performance.md.
 *
 * The trace sets up K memory cgroups in a hierarchy of depth D, P processes
 * spread over them (RLIMIT_MEMLOCK unlimited, so the rlimit scheme refuses
 * nothing by itself) and M maps of mixed types, each created by one of the
 * processes; then it draws every further event from a weighted mix of element
 * inserts, overwrites and deletes through bpf(2), BPF program updates in
 * softirq context (prog_update ctx=softirq), close-and-recreate of a map, and
 * cgroup operations (task_move, cgroup_set memory.max). The number of live
 * elements over all maps never exceeds a bound.
 */
#ifndef KMEMSIM_GEN_H
#define KMEMSIM_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "kmemsim/trace.h"

/* What the mix weights choose between; the weights need not sum to anything. */
enum kms_gen_op {
	KMS_GEN_INSERT = 0,	/* map_update_elem of a new key (array: any index) */
	KMS_GEN_OVERWRITE,	/* map_update_elem of a live key */
	KMS_GEN_DELETE,		/* map_delete_elem (queue: map_lookup_and_delete_elem) */
	KMS_GEN_PROG_UPDATE,	/* prog_update ctx=softirq of one key */
	KMS_GEN_CLOSE,		/* close of a map's last fd and a map_create in its place */
	KMS_GEN_CGROUP,		/* task_move of a process, or cgroup_set memory.max */
	KMS_GEN_NR_OPS
};

struct kms_gen_opts {
	uint64_t seed;
	uint64_t events;		/* N: events in the trace, setup included */
	uint32_t maps;			/* M >= 1 */
	uint32_t cgroups;		/* K, not counting the root */
	uint32_t depth;			/* D >= 1 when K > 0 */
	uint32_t procs;			/* P >= 1 */
	uint64_t live;			/* bound on live elements over all maps */
	uint32_t cpus;			/* header cpus=, and the CPUs programs run on */
	uint32_t mix[KMS_GEN_NR_OPS];	/* weights */
	/* KMS_TRACE_NATIVE (text, also 0) or KMS_TRACE_BINARY: the same events either way */
	enum kms_trace_format form;
};

/* What was written, per kind; setup events are in creates/cgroup_creates/tasks. */
struct kms_gen_stats {
	uint64_t events;
	uint64_t setup;			/* cgroup_create + task_new + the first map_creates */
	uint64_t ops[KMS_GEN_NR_OPS];	/* each close counts once here (its create too below) */
	uint64_t creates;		/* map_create, first and after a close */
	uint64_t live_max;		/* most live elements at once */
	uint64_t live_end;		/* live elements after the last event */
};

/* The update-heavy default mix and sizes (1M events, 16 maps, ...). */
void kms_gen_opts_init(struct kms_gen_opts *o);

/* The op's name in --mix ("insert", "overwrite", ...), NULL for unknown. */
const char *kms_gen_op_name(enum kms_gen_op op);

/*
 * Write the trace to @f. -EINVAL (with a reason in @err) for options that
 * cannot make a trace (N smaller than the setup, M == 0, all weights 0, ...),
 * -EIO for a write error, -ENOMEM. @st may be NULL.
 */
int kms_gen_write(FILE *f, const struct kms_gen_opts *o, struct kms_gen_stats *st,
		  char *err, size_t err_len);

#endif
