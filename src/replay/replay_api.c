// SPDX-License-Identifier: MIT
/* The public face of the replay: building runs, driving them, reading results. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay_int.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int kms_replay_run_name(const char *profile, const char *set, char *buf, size_t len)
{
	int n = set && *set ? snprintf(buf, len, "%s[%s]", profile, set) :
			      snprintf(buf, len, "%s", profile);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

int kms_replay_new(const struct kms_replay_opts *opts, struct kms_replay **out,
		   char *err, size_t err_len)
{
	struct kms_replay *r;
	const char **profiles = NULL, **sets = NULL;

	if (!opts->nr_profiles) {
		snprintf(err, err_len, "no profile to replay under");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	profiles = calloc(opts->nr_profiles, sizeof(*profiles));
	sets = calloc(opts->nr_sets + 1, sizeof(*sets));
	if (!r || !profiles || !sets)
		goto nomem;
	r->opts = *opts;
	for (size_t i = 0; i < opts->nr_profiles; i++)
		if (!(profiles[i] = strdup(opts->profiles[i])))
			goto nomem;
	for (size_t i = 0; i < opts->nr_sets; i++)
		if (!(sets[i] = strdup(opts->sets[i])))
			goto nomem;
	r->opts.profiles = profiles;
	r->opts.sets = sets;

	/* Check profiles and --set values now, so a typo is a usage error, not a replay error. */
	for (size_t i = 0; i < opts->nr_profiles; i++) {
		struct run probe;
		int ret = run_init(r, &probe, profiles[i], false, err, err_len);

		run_destroy(&probe);
		if (ret) {
			kms_replay_free(r);
			return ret;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(profiles[j], profiles[i]) == 0) {
				snprintf(err, err_len, "profile '%s' given twice", profiles[i]);
				kms_replay_free(r);
				return -EINVAL;
			}
	}
	*out = r;
	return 0;

nomem:
	if (r) {
		r->opts.profiles = profiles;
		r->opts.sets = sets;
		r->opts.nr_profiles = profiles ? opts->nr_profiles : 0;
		r->opts.nr_sets = sets ? opts->nr_sets : 0;
		kms_replay_free(r);
	} else {
		free(profiles);
		free(sets);
	}
	snprintf(err, err_len, "out of memory");
	return -ENOMEM;
}

static void free_runs(struct kms_replay *r)
{
	for (size_t i = 0; i < r->nr_runs; i++)
		run_destroy(&r->runs[i]);
	free(r->runs);
	r->runs = NULL;
	r->nr_runs = 0;
}

void kms_replay_free(struct kms_replay *r)
{
	if (!r)
		return;
	free_runs(r);
	for (size_t i = 0; i < r->opts.nr_profiles; i++)
		free((char *)r->opts.profiles[i]);
	for (size_t i = 0; i < r->opts.nr_sets; i++)
		free((char *)r->opts.sets[i]);
	free((void *)r->opts.profiles);
	free((void *)r->opts.sets);
	for (size_t i = 0; i < r->nr_divs; i++) {
		free(r->divs[i].results);
		free(r->divs[i].why);
	}
	free(r->divs);
	for (size_t i = 0; i < r->nr_expects; i++) {
		free(r->expects[i].text);
		free(r->expects[i].why);
		free(r->expects[i].profile);
	}
	free(r->expects);
	free(r->header_kernel);
	free(r);
}

const char *kms_replay_error(const struct kms_replay *r)
{
	return r->error;
}

static int record_divergence(struct kms_replay *r, const struct kms_replay_step *steps)
{
	struct kms_replay_divergence *d;
	const char *why = "";

	r->divs_total++;
	if (r->nr_divs == MAX_DIVERGENCES)
		return 0;
	d = realloc(r->divs, (r->nr_divs + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	r->divs = d;
	d = &r->divs[r->nr_divs];
	memset(d, 0, sizeof(*d));
	d->seq = steps[0].ev->seq;
	d->line = steps[0].ev->line;
	d->op = steps[0].op;	/* a static name */
	d->results = calloc(r->nr_runs, sizeof(*d->results));
	for (size_t i = 0; i < r->nr_runs; i++)
		if (steps[i].result < 0 && steps[i].why[0]) {
			why = steps[i].why;
			break;
		}
	d->why = strdup(why);
	if (!d->results || !d->why) {
		free(d->results);
		free(d->why);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->nr_runs; i++)
		d->results[i] = steps[i].result;
	r->nr_divs++;
	return 0;
}

/* Replay every event of @reader through the current runs. */
/*
 * A step before its run fills it: every field zero (NULL, false) but the run.
 * Field by field: gcc turns a memset() or a compound literal of the struct
 * into "rep stos", which is slow to start and stalls the stores run_apply()
 * makes into the step right after. A new field needs its line here.
 */
_Static_assert(sizeof(struct kms_replay_step) - offsetof(struct kms_replay_step, mismatch) -
	       sizeof(bool) < _Alignof(struct kms_replay_step),
	       "a field after mismatch: step_reset() must set it");

static void step_reset(struct kms_replay_step *s, size_t run)
{
	s->ev = NULL;
	s->run = run;
	s->profile = NULL;
	s->op = NULL;
	s->applies = false;
	s->result = 0;
	s->why = NULL;
	s->explain = NULL;
	s->charged_delta = 0;
	s->locked_vm_delta = 0;
	s->alloc_calls = 0;
	s->diverged = false;
	s->mismatch = false;
}

static int replay_pass(struct kms_replay *r, struct kms_trace_reader *reader,
		       kms_replay_step_fn fn, void *arg)
{
	struct kms_replay_step *steps = calloc(r->nr_runs, sizeof(*steps));
	struct kms_event ev;
	int ret;

	if (!steps)
		return -ENOMEM;
	r->step_deltas = fn != NULL;
	while ((ret = kms_trace_read_next(reader, &ev)) == 1) {
		bool diverged = false;

		for (size_t i = 0; i < r->nr_runs; i++) {
			step_reset(&steps[i], i);
			ret = run_apply(r, &r->runs[i], &ev, &steps[i]);
			if (ret)
				goto out;
		}
		for (size_t i = 1; i < r->nr_runs; i++)
			if (steps[i].applies && steps[0].applies &&
			    steps[i].result != steps[0].result) {
				steps[i].diverged = diverged = true;
			}
		if (diverged && (ret = record_divergence(r, steps)))
			goto out;
		for (size_t i = 0; fn && i < r->nr_runs; i++)
			if ((ret = fn(&steps[i], r, arg)))
				goto out;
	}
	if (ret < 0) {
		kms_trace_error_format(kms_trace_reader_error(reader), r->error, sizeof(r->error));
		goto out;
	}
	/* End of trace: the grace periods of every deferred free run out (rcu_barrier()). */
	for (size_t i = 0; i < r->nr_runs; i++)
		kms_sim_rcu_barrier(r->runs[i].sim);
	ret = 0;
out:
	free(steps);
	return ret;
}

static int build_runs(struct kms_replay *r, bool unlimited)
{
	r->runs = calloc(r->opts.nr_profiles, sizeof(*r->runs));
	if (!r->runs)
		return -ENOMEM;
	for (size_t i = 0; i < r->opts.nr_profiles; i++) {
		int ret = run_init(r, &r->runs[i], r->opts.profiles[i], unlimited, r->error,
				   sizeof(r->error));

		r->nr_runs = i + 1;
		if (ret)
			return ret;
	}
	return 0;
}

static bool run_had_limit_failures(const struct run *run)
{
	return run->summary.errors[EPERM] || run->summary.errors[ENOMEM] ||
	       run->summary.errors[E2BIG] || run->summary.errors[EINVAL];
}

/*
 * limits_needed: the peaks of a run in which nothing refused a charge. When
 * the real run had a failure, the trace is replayed again with every limit
 * lifted (RLIMIT_MEMLOCK unlimited, no memory.max) and that run's peaks are
 * taken: with limits at those peaks every charge of that run fits.
 */
static int set_limits_from(struct run *dst, const struct run *src, bool exact)
{
	size_t n = src->cgroups.n;
	uint64_t rl = 0;

	dst->limit_values = calloc(n ? n : 1, sizeof(*dst->limit_values));
	dst->limit_names = calloc(n ? n : 1, sizeof(*dst->limit_names));
	if (!dst->limit_values || !dst->limit_names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct kms_cgroup_stats st = { 0 };

		kms_cgroup_read(src->sim, src->cgroups.names[i], &st);
		dst->limit_values[i] = st.peak;
		/* Names must outlive the source run: point into dst's own set where possible. */
		dst->limit_names[i] = src->cgroups.names[i];
	}
	for (size_t i = 0; i < src->nr_uids; i++) {
		struct kms_user_stats us = { 0 };

		kms_user_read(src->sim, src->uids[i], &us);
		if (us.locked_vm_peak > rl)
			rl = us.locked_vm_peak;
	}
	dst->limits = (struct kms_replay_limits){
		.valid = exact,
		.rlimit_memlock = rl,
		.nr_cgroups = n,
		.cgroups = dst->limit_names,
		.memcg_max = dst->limit_values,
	};
	return 0;
}

static int compute_limits(struct kms_replay *r, kms_replay_reopen_fn reopen, void *reopen_arg)
{
	struct kms_replay shadow;
	struct kms_trace_reader *reader = NULL;
	bool need = false;
	int ret;

	for (size_t i = 0; i < r->nr_runs; i++)
		need |= run_had_limit_failures(&r->runs[i]);
	if (!need || !reopen) {
		for (size_t i = 0; i < r->nr_runs; i++)
			if ((ret = set_limits_from(&r->runs[i], &r->runs[i], !need)))
				return ret;
		return 0;
	}
	if ((ret = reopen(reopen_arg, &reader)))
		return ret;
	shadow = *r;
	shadow.runs = NULL;
	shadow.nr_runs = 0;
	shadow.divs = NULL;
	shadow.nr_divs = 0;
	shadow.expects = NULL;
	shadow.nr_expects = shadow.cap_expects = 0;
	ret = build_runs(&shadow, true);
	if (!ret)
		ret = replay_pass(&shadow, reader, NULL, NULL);
	kms_trace_reader_free(reader);
	for (size_t i = 0; !ret && i < r->nr_runs; i++) {
		/* Copy the shadow's cgroup names into the real run so they outlive the shadow. */
		for (size_t c = 0; c < shadow.runs[i].cgroups.n; c++)
			name_set_add(&r->runs[i].cgroups, shadow.runs[i].cgroups.names[c]);
		ret = set_limits_from(&r->runs[i], &shadow.runs[i], true);
		for (size_t c = 0; !ret && c < r->runs[i].limits.nr_cgroups; c++) {
			for (size_t k = 0; k < r->runs[i].cgroups.n; k++)
				if (strcmp(r->runs[i].cgroups.names[k], r->runs[i].limit_names[c]) == 0)
					r->runs[i].limit_names[c] = r->runs[i].cgroups.names[k];
		}
	}
	if (ret && !r->error[0])
		snprintf(r->error, sizeof(r->error), "%s", shadow.error);
	for (size_t i = 0; i < shadow.nr_runs; i++)
		run_destroy(&shadow.runs[i]);
	free(shadow.runs);
	for (size_t i = 0; i < shadow.nr_divs; i++) {
		free(shadow.divs[i].results);
		free(shadow.divs[i].why);
	}
	free(shadow.divs);
	for (size_t i = 0; i < shadow.nr_expects; i++) {
		free(shadow.expects[i].text);
		free(shadow.expects[i].why);
		free(shadow.expects[i].profile);
	}
	free(shadow.expects);
	return ret;
}

int kms_replay_run(struct kms_replay *r, struct kms_trace_reader *reader,
		   kms_replay_step_fn fn, void *arg,
		   kms_replay_reopen_fn reopen, void *reopen_arg)
{
	const struct kms_trace_header *h = kms_trace_reader_header(reader);
	int ret;

	free_runs(r);
	r->error[0] = '\0';
	r->header = *h;
	free(r->header_kernel);
	r->header_kernel = dup_or_null(h->kernel);
	r->header.kernel = r->header_kernel;
	r->native = kms_trace_reader_format(reader) == KMS_TRACE_NATIVE;
	{
		unsigned int major = 0, minor = 0;

		/* "6.18.44-fc-v657": a kernel from 5.11 on never said EPERM for memory. */
		r->recorded_rlimit_era = !h->kernel || sscanf(h->kernel, "%u.%u", &major, &minor) != 2 ||
					 major < 5 || (major == 5 && minor < 11);
	}
	ret = build_runs(r, false);
	if (!ret)
		ret = replay_pass(r, reader, fn, arg);
	if (!ret && r->opts.limits)
		ret = compute_limits(r, reopen, reopen_arg);
	return ret;
}

const char *kms_replay_trace_format(const struct kms_replay *r)
{
	return r->native ? "native" : "strace";
}

size_t kms_replay_nr_runs(const struct kms_replay *r)
{
	return r->nr_runs;
}

const char *kms_replay_profile_name(const struct kms_replay *r, size_t run)
{
	return r->runs[run].name;
}

const struct kms_sim *kms_replay_sim(const struct kms_replay *r, size_t run)
{
	return r->runs[run].sim;
}

const struct kms_bpf *kms_replay_bpf(const struct kms_replay *r, size_t run)
{
	return r->runs[run].bpf;
}

const struct kms_trace_header *kms_replay_header(const struct kms_replay *r)
{
	return &r->header;
}

void kms_replay_summary(const struct kms_replay *r, size_t run, struct kms_replay_summary *out)
{
	*out = r->runs[run].summary;
}

size_t kms_replay_nr_cgroups(const struct kms_replay *r, size_t run)
{
	return r->runs[run].cgroups.n;
}

const char *kms_replay_cgroup_path(const struct kms_replay *r, size_t run, size_t idx)
{
	return r->runs[run].cgroups.names[idx];
}

size_t kms_replay_nr_uids(const struct kms_replay *r, size_t run)
{
	return r->runs[run].nr_uids;
}

uint32_t kms_replay_uid(const struct kms_replay *r, size_t run, size_t idx)
{
	return r->runs[run].uids[idx];
}

size_t kms_replay_nr_divergences(const struct kms_replay *r)
{
	return r->nr_divs;
}

uint64_t kms_replay_divergences_total(const struct kms_replay *r)
{
	return r->divs_total;
}

const struct kms_replay_divergence *kms_replay_divergence(const struct kms_replay *r, size_t i)
{
	return &r->divs[i];
}

size_t kms_replay_nr_expects(const struct kms_replay *r)
{
	return r->nr_expects;
}

const struct kms_replay_expect_result *kms_replay_expect(const struct kms_replay *r, size_t i)
{
	return &r->expects[i].r;
}

void kms_replay_limits(const struct kms_replay *r, size_t run, struct kms_replay_limits *out)
{
	*out = r->runs[run].limits;
}

bool kms_replay_all_expectations_hold(const struct kms_replay *r)
{
	for (size_t i = 0; i < r->nr_expects; i++)
		if (!r->expects[i].r.pass)
			return false;
	return true;
}
