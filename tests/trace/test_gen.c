// SPDX-License-Identifier: MIT
/*
 * kms_gen_write(): synthetic traces are deterministic, read back through the
 * native reader with exactly the events asked for, keep the live set under its
 * bound, and replay without a refused call.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "trace_test.h"
#include "kmemsim/bpf.h"
#include "kmemsim/gen.h"
#include "kmemsim/replay.h"

struct text {
	char *buf;
	size_t len;
};

static int gen_text(const struct kms_gen_opts *o, struct text *t, struct kms_gen_stats *st)
{
	FILE *f = open_memstream(&t->buf, &t->len);
	char err[256];
	int ret;

	assert_non_null(f);
	ret = kms_gen_write(f, o, st, err, sizeof(err));
	assert_int_equal(fclose(f), 0);
	return ret;
}

static void small_opts(struct kms_gen_opts *o, uint64_t seed)
{
	kms_gen_opts_init(o);
	o->seed = seed;
	o->events = 20000;
	o->maps = 16;		/* two of each of the eight map types */
	o->cgroups = 5;
	o->depth = 2;
	o->procs = 3;
	o->live = 500;
	/* closes often enough to be seen in 20000 events */
	o->mix[KMS_GEN_CLOSE] = 50;
}

static void test_same_seed_same_bytes(void **state)
{
	struct kms_gen_opts o;
	struct text a, b, c;

	(void)state;
	small_opts(&o, 42);
	assert_int_equal(gen_text(&o, &a, NULL), 0);
	assert_int_equal(gen_text(&o, &b, NULL), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	o.seed = 43;
	assert_int_equal(gen_text(&o, &c, NULL), 0);
	assert_false(a.len == c.len && memcmp(a.buf, c.buf, a.len) == 0);
	free(a.buf);
	free(b.buf);
	free(c.buf);
}

static void test_reads_back_with_the_counts_asked(void **state)
{
	struct kms_gen_opts o;
	struct kms_gen_stats st;
	struct text t;
	struct kms_trace_reader *r;
	struct kms_event ev;
	uint64_t n = 0, creates = 0, closes = 0, progs = 0, cg_creates = 0, tasks = 0;
	uint64_t cg_ops = 0, updates = 0, deletes = 0, max_depth = 0;
	int ret;

	(void)state;
	small_opts(&o, 7);
	assert_int_equal(gen_text(&o, &t, &st), 0);
	assert_int_equal(st.events, o.events);
	/* setup: 5 cgroups + 3 processes + 16 maps */
	assert_int_equal(st.setup, 5 + 3 + 16);
	r = open_text(t.buf);
	while ((ret = kms_trace_read_next(r, &ev)) == 1) {
		n++;
		switch (ev.kind) {
		case KMS_EV_CGROUP_CREATE: {
			uint64_t d = 0;

			for (const char *p = ev.u.cg.path; *p; p++)
				d += *p == '/';
			max_depth = d > max_depth ? d : max_depth;
			cg_creates++;
			break;
		}
		case KMS_EV_TASK_NEW: tasks++; break;
		case KMS_EV_CLOSE: closes++; break;
		case KMS_EV_PROG_UPDATE:
			assert_int_equal(ev.ctx, KMS_CTX_SOFTIRQ);
			progs++;
			break;
		case KMS_EV_TASK_MOVE:
		case KMS_EV_CGROUP_SET: cg_ops++; break;
		case KMS_EV_BPF:
			if (ev.u.bpf.cmd == KMS_BPF_MAP_CREATE)
				creates++;
			else if (ev.u.bpf.cmd == KMS_BPF_MAP_UPDATE_ELEM)
				updates++;
			else
				deletes++;
			break;
		default:
			fail_msg("unexpected event kind %d", ev.kind);
		}
	}
	assert_int_equal(ret, 0);
	kms_trace_reader_free(r);
	assert_int_equal(n, o.events);
	assert_int_equal(cg_creates, 5);
	assert_int_equal(max_depth, 2);
	assert_int_equal(tasks, 3);
	/* every close is followed by a create in its place */
	assert_int_equal(creates, 16 + closes);
	assert_int_equal(creates, st.creates);
	assert_int_equal(closes, st.ops[KMS_GEN_CLOSE]);
	assert_true(closes > 0);
	assert_int_equal(progs, st.ops[KMS_GEN_PROG_UPDATE]);
	assert_int_equal(cg_ops, st.ops[KMS_GEN_CGROUP]);
	assert_int_equal(updates, st.ops[KMS_GEN_INSERT] + st.ops[KMS_GEN_OVERWRITE]);
	assert_int_equal(deletes, st.ops[KMS_GEN_DELETE]);
	assert_true(st.live_max <= o.live);
	free(t.buf);
}

static void test_cgroup_hierarchy(void **state)
{
	/* level i % D under the latest cgroup of the level above */
	static const char *const want[] = { "/c0", "/c0/c1", "/c0/c1/c2", "/c3", "/c3/c4" };
	struct kms_gen_opts o;
	struct text t;
	struct kms_trace_reader *r;
	struct kms_event ev;
	size_t i = 0;

	(void)state;
	small_opts(&o, 1);
	o.events = 100;
	o.depth = 3;
	assert_int_equal(gen_text(&o, &t, NULL), 0);
	r = open_text(t.buf);
	while (kms_trace_read_next(r, &ev) == 1)
		if (ev.kind == KMS_EV_CGROUP_CREATE)
			assert_string_equal(ev.u.cg.path, want[i++]);
	assert_int_equal(i, 5);
	kms_trace_reader_free(r);
	free(t.buf);
}

static void test_live_bound_turns_inserts_into_overwrites(void **state)
{
	struct kms_gen_opts o;
	struct kms_gen_stats st;
	struct text t;

	(void)state;
	kms_gen_opts_init(&o);
	o.maps = 1;		/* map 0: hash, BPF_F_NO_PREALLOC */
	o.cgroups = 0;
	o.procs = 1;
	o.live = 100;
	o.events = 2 + 300;	/* task_new, map_create, 300 inserts asked */
	memset(o.mix, 0, sizeof(o.mix));
	o.mix[KMS_GEN_INSERT] = 1;
	assert_int_equal(gen_text(&o, &t, &st), 0);
	assert_int_equal(st.ops[KMS_GEN_INSERT], 100);
	assert_int_equal(st.ops[KMS_GEN_OVERWRITE], 200);
	assert_int_equal(st.live_max, 100);
	assert_int_equal(st.live_end, 100);
	free(t.buf);
}

static void test_replays_without_refusals(void **state)
{
	const char *profiles[] = { "linux-5.10", "linux-6.18" };
	struct kms_replay_opts ropts = { .profiles = profiles, .nr_profiles = 2 };
	struct kms_gen_opts o;
	struct kms_gen_stats st;
	struct kms_replay *rp;
	struct text t;
	char err[256];

	(void)state;
	small_opts(&o, 9);
	assert_int_equal(gen_text(&o, &t, &st), 0);
	assert_int_equal(kms_replay_new(&ropts, &rp, err, sizeof(err)), 0);
	struct kms_trace_reader *r = open_text(t.buf);

	assert_int_equal(kms_replay_run(rp, r, NULL, NULL, NULL, NULL), 0);
	for (size_t i = 0; i < 2; i++) {
		struct kms_replay_summary sum;

		kms_replay_summary(rp, i, &sum);
		assert_int_equal(sum.events, o.events);
		/* only deletes that found nothing (empty map, nothing could be inserted) fail */
		assert_int_equal(sum.failed, sum.errors[ENOENT]);
		assert_true(sum.failed <= st.ops[KMS_GEN_DELETE]);
	}
	kms_trace_reader_free(r);
	kms_replay_free(rp);
	free(t.buf);
}

static void test_bad_options(void **state)
{
	struct kms_gen_opts o;
	struct text t;

	(void)state;
	kms_gen_opts_init(&o);
	o.events = 10;		/* setup alone is 8 + 4 + 16 events */
	assert_int_equal(gen_text(&o, &t, NULL), -EINVAL);
	free(t.buf);
	kms_gen_opts_init(&o);
	o.maps = 0;
	assert_int_equal(gen_text(&o, &t, NULL), -EINVAL);
	free(t.buf);
	kms_gen_opts_init(&o);
	memset(o.mix, 0, sizeof(o.mix));
	assert_int_equal(gen_text(&o, &t, NULL), -EINVAL);
	free(t.buf);
	kms_gen_opts_init(&o);
	o.depth = 0;
	assert_int_equal(gen_text(&o, &t, NULL), -EINVAL);
	free(t.buf);
	assert_string_equal(kms_gen_op_name(KMS_GEN_PROG_UPDATE), "prog_update");
	assert_null(kms_gen_op_name(KMS_GEN_NR_OPS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_bytes),
		cmocka_unit_test(test_reads_back_with_the_counts_asked),
		cmocka_unit_test(test_cgroup_hierarchy),
		cmocka_unit_test(test_live_bound_turns_inserts_into_overwrites),
		cmocka_unit_test(test_replays_without_refusals),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
