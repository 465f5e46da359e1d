/* SPDX-License-Identifier: MIT */
/*
 * Replay: one trace, one or more kernel profiles, deterministic results.
 *
 * A replay reads events from a trace reader and applies each to one run per
 * profile (a struct kms_sim plus a BPF world plus the processes' fd tables),
 * compares the outcomes between runs (divergences), checks the trace's
 * expectations and keeps the summary a report needs. Memory grows with live
 * objects, not with the length of the trace.
 */
#ifndef KMEMSIM_REPLAY_H
#define KMEMSIM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmemsim/trace.h"

struct kms_sim;
struct kms_bpf;
struct kms_profile;
struct kms_replay;

/*
 * The run name an expectation names: "linux-5.11", or with the expect line's
 * set= what-ifs "linux-5.11[memcg=off,kmem=off]" (a name kms_replay_opts.profiles
 * accepts too). Returns the length written, or -ENAMETOOLONG.
 */
int kms_replay_run_name(const char *profile, const char *set, char *buf, size_t len);

struct kms_replay_opts {
	/*
	 * Profile names ("linux-5.10", ...), each optionally with its own what-ifs:
	 * "linux-5.11[memcg=off]" (applied after @sets).
	 */
	const char *const *profiles;
	size_t nr_profiles;
	/*
	 * What-if overrides, "key=value", applied to every run:
	 * profile knobs (kms_profile_set(): cpus, page_size, batch, kmem, memcg,
	 * nobpf, rlimit.memlock, ...) and cgroup limits
	 * ("cgroup:/a:memory.max=64M", "cgroup:/a:memory.high=32M"), which hold
	 * from the start and override the trace's own limit events for that cgroup.
	 */
	const char *const *sets;
	size_t nr_sets;
	/*
	 * Check the model's invariants after every event (kms_sim_check_invariants()
	 * and kms_bpf_check_invariants()); stop at the first broken one with
	 * -ECANCELED, the event, the invariant and both numbers in kms_replay_error().
	 */
	bool check_invariants;
	/* Build the one-line charge path of every event (--explain). */
	bool explain;
	/*
	 * Keep the allocator ledger of every run (kms_ledger_read() on
	 * kms_replay_sim()): who pays for each live allocation. Reports do not
	 * need it and it costs a lookup per charge, so it is off unless asked
	 * for here or by check_invariants (whose checks include it).
	 */
	bool ledger;
	/* Compute limits_needed (may replay again without limits). */
	bool limits;
	/*
	 * Fault injection, for tests: when not 0, allocator call number
	 * @fail_nth (1-based, counted from the end of each run's setup) fails
	 * in every run, as kms_sim_fault_fail_nth(). A step's alloc_calls says
	 * which event made that call.
	 */
	uint64_t fail_nth;
};

/* What one event did in one run, handed to the event callback. */
struct kms_replay_step {
	const struct kms_event *ev;
	size_t run;			/* index of the run (profile) */
	const char *profile;
	const char *op;			/* "map_create", "cgroup_create", "close", ... */
	bool applies;			/* false: the event is not for the model (expect, comment) */
	int64_t result;			/* >= 0 (fd, id, count) or -errno */
	const char *why;		/* reason of a failure, "" otherwise */
	const char *explain;		/* charge path in words, with opts.explain */
	int64_t charged_delta;		/* bytes charged to memcgs by this event (all cgroups) */
	int64_t locked_vm_delta;	/* bytes of locked_vm taken (all uids) */
	uint64_t alloc_calls;		/* allocator calls the event made (kms_sim_fault_calls()) */
	bool diverged;			/* outcome differs from run 0 */
	bool mismatch;			/* differs from the result the real kernel returned */
};

typedef int (*kms_replay_step_fn)(const struct kms_replay_step *step, struct kms_replay *r,
				  void *arg);

/*
 * Build runs for @opts. The error string names the bad option ("unknown profile
 * 'linux-4.19'", "bad --set 'cpus=0': ..."). -EINVAL / -ENOMEM.
 */
int kms_replay_new(const struct kms_replay_opts *opts, struct kms_replay **out,
		   char *err, size_t err_len);
void kms_replay_free(struct kms_replay *r);

/*
 * Replay every event of @reader. @fn (may be NULL) is called for each event
 * and run, in event order, runs in order; without @fn the steps' deltas
 * (charged_delta, locked_vm_delta, alloc_calls) are not worked out. Returns 0, a negative errno for bad
 * input (the reader's error, or the replay's own in kms_replay_error()), or
 * -ECANCELED when an invariant broke (message in kms_replay_error()).
 * @reopen, when not NULL, reopens the same trace for the extra passes that
 * limits_needed may need; without it limits_needed is the single-pass bound.
 */
typedef int (*kms_replay_reopen_fn)(void *arg, struct kms_trace_reader **out);
int kms_replay_run(struct kms_replay *r, struct kms_trace_reader *reader,
		   kms_replay_step_fn fn, void *arg,
		   kms_replay_reopen_fn reopen, void *reopen_arg);

/* The error of a failed kms_replay_run() ("file:line:column: ..."). */
const char *kms_replay_error(const struct kms_replay *r);

/* ---- results ---- */

size_t kms_replay_nr_runs(const struct kms_replay *r);
const char *kms_replay_profile_name(const struct kms_replay *r, size_t run);
const struct kms_sim *kms_replay_sim(const struct kms_replay *r, size_t run);
const struct kms_bpf *kms_replay_bpf(const struct kms_replay *r, size_t run);
const struct kms_trace_header *kms_replay_header(const struct kms_replay *r);
/* "native" or "strace": what the replayed trace was. */
const char *kms_replay_trace_format(const struct kms_replay *r);

struct kms_replay_summary {
	uint64_t events;		/* events applied */
	uint64_t failed;		/* events whose result was an error */
	uint64_t errors[134];		/* failures per errno (index = errno) */
	uint64_t mismatches;		/* results different from the recorded ones */
	uint64_t expect_pass, expect_fail;
};
void kms_replay_summary(const struct kms_replay *r, size_t run, struct kms_replay_summary *out);

/* A cgroup path or uid the trace used, in first-use order. */
size_t kms_replay_nr_cgroups(const struct kms_replay *r, size_t run);
const char *kms_replay_cgroup_path(const struct kms_replay *r, size_t run, size_t idx);
size_t kms_replay_nr_uids(const struct kms_replay *r, size_t run);
uint32_t kms_replay_uid(const struct kms_replay *r, size_t run, size_t idx);

struct kms_replay_divergence {
	uint64_t seq;
	uint32_t line;
	const char *op;
	int64_t *results;		/* one per run */
	char *why;			/* the failing run's reason */
};
size_t kms_replay_nr_divergences(const struct kms_replay *r);
/* Divergences beyond the kept ones are counted only. */
uint64_t kms_replay_divergences_total(const struct kms_replay *r);
const struct kms_replay_divergence *kms_replay_divergence(const struct kms_replay *r, size_t i);

struct kms_replay_expect_result {
	uint32_t line;
	const char *profile;
	const char *text;		/* the expectation as written back */
	bool pass;
	int64_t got, want;
	const char *why;		/* "memory.current 8192 != 4096" */
};
size_t kms_replay_nr_expects(const struct kms_replay *r);
const struct kms_replay_expect_result *kms_replay_expect(const struct kms_replay *r, size_t i);

/*
 * limits_needed: the smallest RLIMIT_MEMLOCK (bytes) and memory.max per
 * cgroup (bytes) with which no charge of the trace is refused under that run's
 * profile. See docs/json.md for how they are found.
 */
struct kms_replay_limits {
	bool valid;
	uint64_t rlimit_memlock;
	size_t nr_cgroups;
	const char *const *cgroups;
	const uint64_t *memcg_max;
};
void kms_replay_limits(const struct kms_replay *r, size_t run, struct kms_replay_limits *out);

/* Peak locked_vm per uid is in kms_user_read(); this is the exit status a CLI should use. */
bool kms_replay_all_expectations_hold(const struct kms_replay *r);

#endif
