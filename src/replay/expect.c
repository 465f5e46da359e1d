// SPDX-License-Identifier: MIT
/*
 * Expectations: "expect profile=linux-5.11 cgroup=/app memory.current<=8M"
 * lines checked when the replay reaches them, under the profile they name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay_int.h"

static int cgroup_counter(const struct kms_cgroup_stats *st, const char *name, int64_t *out)
{
	static const struct {
		const char *name;
		size_t off;
	} counters[] = {
#define C(n, f) { n, offsetof(struct kms_cgroup_stats, f) }
		C("memory.current", current),
		C("memory.peak", peak),
		C("memory.max", max),
		C("memory.high", high),
		C("memory.kmem.usage_in_bytes", kmem),
		C("memory.kmem", kmem),
		C("memory.failcnt", failcnt),
		C("memory.stat.kernel", stat_kernel),
		C("memory.stat.slab", stat_slab),
		C("memory.stat.slab_unreclaimable", stat_slab),
		C("memory.stat.percpu", stat_percpu),
		C("memory.stat.vmalloc", stat_vmalloc),
		C("memory.events.low", events_low),
		C("memory.events.high", events_high),
		C("memory.events.max", events_max),
		C("memory.events.oom", events_oom),
		C("memory.events.oom_kill", events_oom_kill),
#undef C
	};

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (strcmp(counters[i].name, name) == 0) {
			uint64_t v;

			memcpy(&v, (const char *)st + counters[i].off, sizeof(v));
			*out = v == KMS_UNLIMITED ? INT64_MAX : (int64_t)v;
			return 0;
		}
	return -EINVAL;
}

static int user_counter(const struct kms_user_stats *us, const char *name, int64_t *out)
{
	if (strcmp(name, "locked_vm") == 0)
		*out = (int64_t)us->locked_vm;
	else if (strcmp(name, "locked_vm_peak") == 0)
		*out = (int64_t)us->locked_vm_peak;
	else
		return -EINVAL;
	return 0;
}

static bool holds(enum kms_expect_rel rel, int64_t got, int64_t want)
{
	switch (rel) {
	case KMS_REL_LE: return got <= want;
	case KMS_REL_GE: return got >= want;
	default: return got == want;
	}
}

static const char *rel_str(enum kms_expect_rel rel)
{
	return rel == KMS_REL_LE ? "<=" : rel == KMS_REL_GE ? ">=" : "==";
}

static void fmt_value(char *buf, size_t len, bool is_result, int64_t v)
{
	const char *name;

	if (is_result && v < 0 && (name = kms_errno_name((int)-v)))
		snprintf(buf, len, "%s", name);
	else if (v == INT64_MAX)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%" PRId64, v);
}

static int expect_record(struct kms_replay *r, const struct kms_event *ev,
			 const char *run_name, bool pass,
			 int64_t got, int64_t want, const char *text, const char *why)
{
	struct expect_rec *e;

	if (r->nr_expects == r->cap_expects) {
		size_t cap = r->cap_expects ? r->cap_expects * 2 : 16;
		struct expect_rec *p = realloc(r->expects, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->expects = p;
		r->cap_expects = cap;
	}
	e = &r->expects[r->nr_expects];
	memset(e, 0, sizeof(*e));
	e->text = strdup(text);
	e->why = strdup(why);
	e->profile = strdup(run_name);
	if (!e->text || !e->why || !e->profile) {
		free(e->text);
		free(e->why);
		free(e->profile);
		return -ENOMEM;
	}
	e->r = (struct kms_replay_expect_result){
		.line = ev->line, .profile = e->profile, .text = e->text, .pass = pass,
		.got = got, .want = want, .why = e->why,
	};
	r->nr_expects++;
	return 0;
}

int expect_check(struct kms_replay *r, struct run *run, const struct kms_event *ev,
		 struct kms_replay_step *step)
{
	const __typeof__(ev->u.expect) *x = &ev->u.expect;
	char text[256], why[256], gotbuf[32], wantbuf[32], name[256];
	int64_t got = 0, want = x->value_max ? INT64_MAX : x->value;
	const char *what;
	bool is_result = x->what == KMS_EXPECT_RESULT;
	bool pass;

	step->result = 0;
	step->why = "";
	/* Expectations name the profile (and what-ifs) they pin; other runs ignore them. */
	if (!x->profile || run->unlimited ||
	    kms_replay_run_name(x->profile, x->set, name, sizeof(name)) < 0 ||
	    strcmp(name, run->name) != 0)
		return 0;

	switch (x->what) {
	case KMS_EXPECT_RESULT: {
		/* Expectation lines have seqs too: the default is the last real event. */
		uint64_t seq = x->of_seq ? x->of_seq : run->last_seq;

		what = "ret";
		if (run->ring_seq[seq % RESULT_RING] != seq) {
			snprintf(why, sizeof(why), "no result kept for seq %" PRIu64, seq);
			run->summary.expect_fail++;
			snprintf(text, sizeof(text), "ret of seq %" PRIu64, seq);
			return expect_record(r, ev, run->name, false, 0, want, text, why);
		}
		got = run->ring_res[seq % RESULT_RING];
		snprintf(text, sizeof(text), "seq %" PRIu64 " ret %s ", seq, rel_str(x->rel));
		break;
	}
	case KMS_EXPECT_CGROUP: {
		struct kms_cgroup_stats st;

		what = x->counter;
		if (kms_cgroup_read(run->sim, x->cgroup, &st)) {
			snprintf(why, sizeof(why), "cgroup %s does not exist", x->cgroup);
			snprintf(text, sizeof(text), "cgroup=%s %s", x->cgroup, x->counter);
			run->summary.expect_fail++;
			return expect_record(r, ev, run->name, false, 0, want, text, why);
		}
		if (cgroup_counter(&st, x->counter, &got)) {
			snprintf(r->error, sizeof(r->error), "line %" PRIu32 ": unknown cgroup counter "
				 "'%s'", ev->line, x->counter);
			return -EINVAL;
		}
		snprintf(text, sizeof(text), "cgroup=%s %s %s ", x->cgroup, x->counter,
			 rel_str(x->rel));
		break;
	}
	case KMS_EXPECT_USER: {
		struct kms_user_stats us = { 0 };

		what = x->counter;
		kms_user_read(run->sim, x->user, &us);
		if (user_counter(&us, x->counter, &got)) {
			snprintf(r->error, sizeof(r->error), "line %" PRIu32 ": unknown user counter "
				 "'%s'", ev->line, x->counter);
			return -EINVAL;
		}
		snprintf(text, sizeof(text), "user=%" PRIu32 " %s %s ", x->user, x->counter,
			 rel_str(x->rel));
		break;
	}
	default:
		return -EINVAL;
	}
	fmt_value(gotbuf, sizeof(gotbuf), is_result, got);
	fmt_value(wantbuf, sizeof(wantbuf), is_result, want);
	strncat(text, wantbuf, sizeof(text) - strlen(text) - 1);
	pass = holds(x->rel, got, want);
	if (pass) {
		why[0] = '\0';
		run->summary.expect_pass++;
	} else {
		snprintf(why, sizeof(why), "%s is %s, expected %s %s", what, gotbuf,
			 rel_str(x->rel), wantbuf);
		run->summary.expect_fail++;
	}
	step->result = pass ? 0 : -1;
	return expect_record(r, ev, run->name, pass, got, want, text, why);
}
