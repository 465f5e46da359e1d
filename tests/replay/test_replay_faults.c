// SPDX-License-Identifier: MIT
/*
 * No charge leaks on any failure path. Each trace is replayed under each
 * profile once per allocator call N with call N failing (fault injection,
 * as the kernel's fail_page_alloc/failslab would): the operation that made
 * the call must fail with the kernel's errno (-ENOMEM) or absorb the failure,
 * and when it fails every counter — each cgroup's memory.current less stock
 * and memory.stat, each uid's locked_vm, the allocators' live totals, the
 * BPF objects' — must be exactly what it was before the operation. The
 * replay goes on with invariants checked, and a trace that frees everything
 * still ends at zero.
 *
 * The default run tries at most MAX_TRIES values of N per trace and profile,
 * spread over the whole range; KMEMSIM_FAULTS_ALL=1 (the 'slow' suite) tries
 * every one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemsim/bpf.h"
#include "kmemsim/sim.h"
#include "replay_test.h"

#define MAX_TRIES 40
#define MAX_CG 64
#define MAX_UIDS 16

struct snap {
	size_t nr_cg, nr_uids;
	char cg[MAX_CG][128];
	struct kms_cgroup_stats cgs[MAX_CG];
	uint32_t uid[MAX_UIDS];
	struct kms_user_stats us[MAX_UIDS];
	struct kms_kmem_totals kmem[KMS_KMEM_NR_KINDS];
	struct kms_bpf_totals bpf;
};

struct fault_run {
	uint64_t nth;			/* the failing call; 0 = none */
	uint64_t calls;			/* allocator calls so far */
	struct snap before;
	bool hit;			/* the failing call was made */
	int64_t result;			/* of the event that made it */
	const char *op;
	uint32_t line;
	uint64_t absorbed;		/* failures an operation survived */
	bool exact;			/* the failed operation was compared counter by counter */
	const char *what;
};

static void snap_take(const struct kms_replay *r, struct snap *s)
{
	const struct kms_sim *sim = kms_replay_sim(r, 0);

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < kms_replay_nr_cgroups(r, 0) && s->nr_cg < MAX_CG; i++) {
		const char *path = kms_replay_cgroup_path(r, 0, i);

		if (kms_cgroup_read(sim, path, &s->cgs[s->nr_cg]))
			continue;
		snprintf(s->cg[s->nr_cg], sizeof(s->cg[0]), "%s", path);
		s->nr_cg++;
	}
	for (size_t i = 0; i < kms_replay_nr_uids(r, 0) && s->nr_uids < MAX_UIDS; i++) {
		s->uid[s->nr_uids] = kms_replay_uid(r, 0, i);
		if (!kms_user_read(sim, s->uid[s->nr_uids], &s->us[s->nr_uids]))
			s->nr_uids++;
	}
	for (int k = 0; k < KMS_KMEM_NR_KINDS; k++)
		assert_int_equal(kms_kmem_totals_read(sim, k, &s->kmem[k]), 0);
	kms_bpf_totals(kms_replay_bpf(r, 0), &s->bpf);
}

static const struct kms_cgroup_stats *snap_cg(const struct snap *s, const char *path)
{
	static const struct kms_cgroup_stats zero;

	for (size_t i = 0; i < s->nr_cg; i++)
		if (!strcmp(s->cg[i], path))
			return &s->cgs[i];
	return &zero;	/* a cgroup the trace had not made yet held nothing */
}

static const struct kms_user_stats *snap_user(const struct snap *s, uint32_t uid)
{
	static const struct kms_user_stats zero;

	for (size_t i = 0; i < s->nr_uids; i++)
		if (s->uid[i] == uid)
			return &s->us[i];
	return &zero;
}

#define SAME(name, a, b)								\
	do {										\
		if ((a) != (b))								\
			fail_msg("%s: %s failed at line %u (call %" PRIu64 "): %s %"	\
				 PRId64 " before, %" PRId64 " after", f->what, f->op,	\
				 f->line, f->nth, name, (int64_t)(a), (int64_t)(b));	\
	} while (0)

/* Everything an operation that failed must have left as it found it. */
static void snap_compare(const struct fault_run *f, const struct snap *after)
{
	const struct snap *b = &f->before;
	char what[200];

	for (size_t i = 0; i < after->nr_cg; i++) {
		const struct kms_cgroup_stats *x = snap_cg(b, after->cg[i]), *y = &after->cgs[i];

		snprintf(what, sizeof(what), "%s memory.current less stock", after->cg[i]);
		SAME(what, x->current - x->stock, y->current - y->stock);
		snprintf(what, sizeof(what), "%s memory.stat slab", after->cg[i]);
		SAME(what, x->stat_slab, y->stat_slab);
		snprintf(what, sizeof(what), "%s memory.stat percpu", after->cg[i]);
		SAME(what, x->stat_percpu, y->stat_percpu);
		snprintf(what, sizeof(what), "%s memory.stat vmalloc", after->cg[i]);
		SAME(what, x->stat_vmalloc, y->stat_vmalloc);
	}
	for (size_t i = 0; i < after->nr_uids; i++) {
		const struct kms_user_stats *x = snap_user(b, after->uid[i]), *y = &after->us[i];

		snprintf(what, sizeof(what), "uid %u locked_vm", after->uid[i]);
		SAME(what, x->locked_vm, y->locked_vm);
		snprintf(what, sizeof(what), "uid %u locked_vm_bpf", after->uid[i]);
		SAME(what, x->locked_vm_bpf, y->locked_vm_bpf);
	}
	for (int k = 0; k < KMS_KMEM_NR_KINDS; k++) {
		snprintf(what, sizeof(what), "allocator %d live", k);
		SAME(what, b->kmem[k].nr_live, after->kmem[k].nr_live);
		snprintf(what, sizeof(what), "allocator %d bytes", k);
		SAME(what, b->kmem[k].bytes, after->kmem[k].bytes);
		snprintf(what, sizeof(what), "allocator %d charged bytes", k);
		SAME(what, b->kmem[k].charged_bytes, after->kmem[k].charged_bytes);
	}
	SAME("BPF charged bytes", b->bpf.charged, after->bpf.charged);
	SAME("BPF unpaid bytes", b->bpf.unpaid, after->bpf.unpaid);
	SAME("live maps", b->bpf.live_maps, after->bpf.live_maps);
	SAME("live programs", b->bpf.live_progs, after->bpf.live_progs);
	SAME("live BTF", b->bpf.live_btfs, after->bpf.live_btfs);
	SAME("live links", b->bpf.live_links, after->bpf.live_links);
}

/*
 * Events that are many operations (a program's element updates, the batch
 * commands): the kernel keeps what was done before the failing one
 * (generic_map_update_batch() stops at the first error, uattr->count says how
 * far it got), so only the failing element is undone, not the event.
 */
static bool is_partial(const char *op)
{
	static const char *const ops[] = {
		"prog_update", "prog_delete", "map_update_batch", "map_delete_batch",
		"map_lookup_and_delete_batch",
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i]))
			return true;
	return false;
}

static int on_step(const struct kms_replay_step *step, struct kms_replay *r, void *arg)
{
	struct fault_run *f = arg;
	uint64_t before = f->calls;

	f->calls += step->alloc_calls;
	if (f->nth && before < f->nth && f->nth <= f->calls) {
		struct snap after;

		f->hit = true;
		f->result = step->result;
		f->op = step->op;
		f->line = step->ev->line;
		if (step->result >= 0) {
			/* The operation absorbed the failure (a GFP_NOWAIT cache refill, ...). */
			f->absorbed++;
		} else {
			/* The kernel's errno for a failed allocation on every path. */
			if (step->result != -ENOMEM)
				fail_msg("%s: %s at line %u with call %" PRIu64 " failing returned %"
					 PRId64 " (%s), not -ENOMEM", f->what, f->op, f->line,
					 f->nth, step->result, step->why);
			if (!is_partial(f->op)) {
				snap_take(r, &after);
				snap_compare(f, &after);
				f->exact = true;
			}
		}
	}
	snap_take(r, &f->before);
	return 0;
}

struct totals {
	uint64_t tried, failed_ops, exact, absorbed;
};

static void fault_one(const char *path, const char *profile, bool all, struct totals *t)
{
	const char *profiles[] = { profile };
	struct kms_replay_opts o = { .profiles = profiles, .nr_profiles = 1 };
	struct fault_run f = { .what = path };
	struct kms_replay *r;
	uint64_t total, step;
	char what[512];

	/* The clean run: how many allocator calls the trace makes under this profile. */
	r = rt_replay(path, NULL, &o, on_step, &f, NULL);
	total = f.calls;
	kms_replay_free(r);
	step = all || total <= MAX_TRIES ? 1 : (total + MAX_TRIES - 1) / MAX_TRIES;
	snprintf(what, sizeof(what), "%s under %s", path, profile);
	for (uint64_t n = 1; n <= total; n += step) {
		bool freed;

		memset(&f, 0, sizeof(f));
		f.what = what;
		f.nth = o.fail_nth = n;
		r = rt_replay(path, NULL, &o, on_step, &f, NULL);
		/* Replays are deterministic: call n is made again. */
		if (!f.hit)
			fail_msg("%s: call %" PRIu64 " of %" PRIu64 " never made", what, n, total);
		t->tried++;
		t->failed_ops += f.result < 0;
		t->exact += f.exact;
		t->absorbed += f.result >= 0;
		freed = rt_all_freed(r, 0);
		if (freed)
			rt_assert_back_to_zero(r, 0, what);
		kms_replay_free(r);
	}
}

/* The hand-written traces are small: every call of theirs is tried in every run. */
static const struct {
	const char *dir;
	bool every_call;
} trace_dirs[] = {
	{ "tests/replay/traces", true },
	{ "traces/scenarios", false },
	{ "traces/real", false },
	{ "traces/strace", false },
};

static void test_every_failing_allocation_is_undone(void **state)
{
	const char *env = getenv("KMEMSIM_FAULTS_ALL");
	bool all = env && *env == '1';
	const char *names[RT_MAX_PROFILES];
	size_t nr = rt_all_profiles(names);
	struct totals t = { 0 };

	(void)state;
	for (size_t d = 0; d < sizeof(trace_dirs) / sizeof(trace_dirs[0]); d++) {
		size_t n;
		char **files = rt_list_traces(trace_dirs[d].dir, &n);

		for (size_t i = 0; i < n; i++)
			for (size_t p = 0; p < nr; p++)
				fault_one(files[i], names[p], all || trace_dirs[d].every_call, &t);
		rt_free_list(files, n);
	}
	printf("# %" PRIu64 " injected failures: %" PRIu64 " operations failed with -ENOMEM, %"
	       PRIu64 " of them single operations that left every counter as it was; %" PRIu64
	       " absorbed the failure\n", t.tried, t.failed_ops, t.exact, t.absorbed);
	assert_true(t.exact > 0);
}

/*
 * A limit hit in the middle of a multi-allocation operation: a hash map
 * whose header and buckets fit under memory.max but whose preallocated
 * elements do not (5.11 and 6.18 htab_map_alloc(): the htab, the buckets,
 * then prealloc_init()'s element area). The kernel frees what it had
 * allocated and returns -ENOMEM; every counter is back where it was.
 */
struct limit_run {
	struct fault_run f;
	bool seen;
};

static int on_limit_step(const struct kms_replay_step *step, struct kms_replay *r, void *arg)
{
	struct limit_run *l = arg;
	struct snap after;

	if (step->ev->line == 6) {
		l->seen = true;
		l->f.op = step->op;
		l->f.line = step->ev->line;
		assert_int_equal(step->result, -ENOMEM);
		/* the limit refused a later allocation, not the first */
		assert_true(step->alloc_calls >= 2);
		snap_take(r, &after);
		snap_compare(&l->f, &after);
		/* memory.events max counts the refusal (memcg_memory_event(MEMCG_MAX)) */
		assert_true(after.cgs[1].events_max > l->f.before.cgs[1].events_max);
	}
	snap_take(r, &l->f.before);
	return 0;
}

static void test_limit_hit_in_the_middle_of_map_create(void **state)
{
	static const char text[] =
		"trace version=1 kernel=6.18.44 page_size=4K cpus=2\n"
		"cgroup_create path=/lim\n"
		"cgroup_set path=/lim memory.max=64K\n"
		"task_new pid=1 uid=0 cgroup=/lim memlock_cur=unlimited memlock_max=unlimited\n"
		"map_create pid=1 map_type=array key_size=4 value_size=8 max_entries=4 ret=3\n"
		/* htab ~1 KiB + buckets 1024 * 16 + elements 1024 * (48 + 8 + 64): > 64K */
		"map_create pid=1 map_type=hash key_size=8 value_size=64 max_entries=1024\n";
	static const char *const profiles[] = { "linux-5.11", "linux-6.18" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct kms_replay_opts o = { .profiles = &profiles[i], .nr_profiles = 1 };
		struct limit_run l = { .f = { .what = profiles[i] } };
		struct kms_replay *r = rt_replay(NULL, text, &o, on_limit_step, &l, NULL);

		assert_true(l.seen);
		kms_replay_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_failing_allocation_is_undone),
		cmocka_unit_test(test_limit_hit_in_the_middle_of_map_create),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
