/* SPDX-License-Identifier: MIT */
/*
 * Reports over a replay: text for people, JSON (docs/json.md) and CSV for
 * programs, TAP for CI, an SVG timeline for a glance. Output depends only on
 * the trace and the options: no time, addresses or hash order.
 */
#ifndef KMEMSIM_REPORT_H
#define KMEMSIM_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "kmemsim/replay.h"

enum kms_report_format {
	KMS_REPORT_TEXT,
	KMS_REPORT_JSON,
	KMS_REPORT_CSV,
	KMS_REPORT_TAP,
};

struct kms_report_opts {
	enum kms_report_format format;
	bool events;		/* per-event records (JSON, CSV) */
	bool explain;		/* per-event charge path (text) */
	bool quiet;		/* text: only failures and divergences */
	bool compare;		/* text: lead with the divergences */
	const char *trace_path;	/* as the user named it */
	const char *svg_path;	/* also write an SVG timeline there, or NULL */
	const char *const *sets;	/* the --set what-ifs, echoed in the report */
	size_t nr_sets;
};

struct kms_report;

int kms_report_new(const struct kms_report_opts *opts, FILE *out, struct kms_report **rep);
void kms_report_free(struct kms_report *rep);

/* The kms_replay_step_fn to pass to kms_replay_run() (arg = the report). */
int kms_report_step(const struct kms_replay_step *step, struct kms_replay *r, void *arg);
/*
 * Whether kms_report_step() reads the steps (--events, --explain, an SVG).
 * When not, kms_replay_run() can be given no step function at all, and a
 * replay without one does not work out the per-event deltas nobody reads.
 */
bool kms_report_wants_steps(const struct kms_report *rep);

/* Write the report of a finished replay. 0 or -EIO. */
int kms_report_finish(struct kms_report *rep, const struct kms_replay *r);

#endif
