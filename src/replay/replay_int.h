/* SPDX-License-Identifier: MIT */
/* The replay engine's state: runs, processes, expectations (src/replay only). */
#ifndef KMS_REPLAY_INT_H
#define KMS_REPLAY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "kmemsim/bpf.h"
#include "kmemsim/profile.h"
#include "kmemsim/replay.h"
#include "kmemsim/sim.h"
#include "kmemsim/trace.h"
#include "replay/fdtable.h"

/* Set in an fd slot: the fd is close-on-exec (every fd bpf(2) returns is). */
#define FD_CLOEXEC_BIT 0x80000000u
#define FD_OBJ(v) ((v) & ~FD_CLOEXEC_BIT)

/* Results of recent events, for "expect ret" lines that name an earlier seq. */
#define RESULT_RING 1024

/* Divergences kept in full; later ones are only counted. */
#define MAX_DIVERGENCES 1000

#define PROC_RECENT 64u

struct proc {
	int32_t pid;
	struct fd_table *files;
	UT_hash_handle hh;
};

/* Keys the replay made up for a map when the trace gave none (strace imports). */
struct synth_keys {
	uint32_t map_id;
	uint64_t *keys;
	uint32_t n, cap;
	UT_hash_handle hh;
};

/* A map looked up lately, with or without made-up keys (s NULL: none yet). */
struct synth_slot {
	uint32_t map_id;
	struct synth_keys *s;
};

#define ID_RECENT 64u
/* Names of bpf(2) commands below this are looked up once per replay. */
#define CMD_NAMES 64u

struct name_set {
	char **names;
	size_t n, cap;
	struct name_entry *index;
};

struct cg_override {
	char *path;
	bool has_max, has_high;
	uint64_t max, high;
};

struct run {
	char *name;			/* the profile's name as the user gave it */
	struct kms_profile *profile;
	struct kms_sim *sim;
	struct kms_bpf *bpf;
	struct proc *procs;
	/* processes found lately, by pid % PROC_RECENT: few processes do most of a trace */
	struct proc *recent[PROC_RECENT];
	struct synth_keys *synth;
	/* maps looked up lately, by model id % ID_RECENT: most events name few maps */
	struct synth_slot synth_recent[ID_RECENT];
	uint64_t synth_next;
	/* Recorded kernel map ids -> model ids (for MAP_GET_FD_BY_ID and prog events). */
	struct id_map *ids;
	/* ids found lately, by kernel id % ID_RECENT: prog events name few maps, often */
	struct id_map *ids_recent[ID_RECENT];
	struct kms_replay_summary summary;
	/* cgroups and uids in first-use order, for reports */
	struct name_set cgroups;
	uint32_t *uids;
	size_t nr_uids, cap_uids;
	/* results by seq, for expectations */
	uint64_t ring_seq[RESULT_RING];
	int64_t ring_res[RESULT_RING];
	/* seq of the last event that is not an expectation: what a bare "expect ret" names */
	uint64_t last_seq;
	/* what-if cgroup limits from --set, ignoring the trace's own for those cgroups */
	struct cg_override *overrides;
	size_t nr_overrides;
	/* limits pass: no limits at all */
	bool unlimited;
	/* limits_needed */
	struct kms_replay_limits limits;
	uint64_t *limit_values;
	const char **limit_names;
	char why[256];
	char *explain;
	size_t explain_len, explain_cap;
};

struct expect_rec {
	struct kms_replay_expect_result r;
	char *text;
	char *why;
	char *profile;
};

struct kms_replay {
	struct kms_replay_opts opts;
	struct run *runs;
	size_t nr_runs;
	struct kms_trace_header header;
	char *header_kernel;
	bool native;			/* native trace: ids in events are model ids */
	/* The recording kernel charged RLIMIT_MEMLOCK (< 5.11, or not known). */
	bool recorded_rlimit_era;
	struct kms_replay_divergence *divs;
	size_t nr_divs;
	uint64_t divs_total;
	struct expect_rec *expects;
	size_t nr_expects, cap_expects;
	const char *cmd_names[CMD_NAMES];	/* filled on first use */
	/* a step function reads this pass's steps: work out their deltas (else left 0) */
	bool step_deltas;
	char error[512];
};

/* replay.c */
int run_apply(struct kms_replay *r, struct run *run, const struct kms_event *ev,
	      struct kms_replay_step *step);
int run_init(struct kms_replay *r, struct run *run, const char *name, bool unlimited,
	     char *err, size_t err_len);
void run_destroy(struct run *run);

/* names.c */
int name_set_add(struct name_set *set, const char *name);
void name_set_free(struct name_set *set);

/* expect.c */
int expect_check(struct kms_replay *r, struct run *run, const struct kms_event *ev,
		 struct kms_replay_step *step);

#endif
