/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the allocator-model tests: a simulation with given page
 * size, possible CPUs and kernel (6.18 or 5.11 mm_params), a cgroup /a with
 * a task (pid 100) in it, and an allocation context for that task on CPU 0.
 */
#ifndef KMS_TESTS_MM_TEST_H
#define KMS_TESTS_MM_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/sim.h"
#include "kmemsim/sim.h"
#include "mm/alloc.h"
#include "mm/charge.h"
#include "mm/params.h"

enum mmt_kernel { MMT_6_18, MMT_5_11 };

struct mmt {
	struct kms_sim *sim;
	struct task *task;		/* pid 100 in /a */
	struct alloc_ctx ctx;		/* that task, task context, CPU 0 */
	uint64_t ps;			/* page size */
};

static inline void mmt_init(struct mmt *t, uint32_t page_size, uint32_t nr_cpus,
			    enum mmt_kernel kernel)
{
	struct kms_config cfg;
	struct mm_params p;

	kms_config_init(&cfg);
	cfg.page_size = page_size;
	cfg.nr_cpus = nr_cpus;
	assert_int_equal(kms_sim_new(&cfg, &t->sim), 0);
	if (kernel == MMT_5_11)
		mm_params_init_5_11(&p);
	else
		mm_params_init(&p);
	assert_int_equal(kms_sim_set_mm_params(t->sim, &p), 0);
	assert_int_equal(kms_cgroup_create(t->sim, "/a"), 0);
	assert_int_equal(kms_task_create(t->sim, 100, 1000, "/a", KMS_UNLIMITED), 0);
	t->task = task_find(&t->sim->tasks, 100);
	assert_non_null(t->task);
	t->ctx = (struct alloc_ctx){ .task = t->task, .ctx = CTX_TASK, .cpu = 0, .owner = 1 };
	t->ps = page_size;
}

static inline void mmt_fini(struct mmt *t)
{
	char why[256];

	/* Every test ends with the model's invariants intact. */
	if (kms_sim_check_invariants(t->sim, why, sizeof(why)))
		fail_msg("invariant: %s", why);
	kms_sim_free(t->sim);
	t->sim = NULL;
}

static inline struct kms_cgroup_stats mmt_read(struct mmt *t, const char *path)
{
	struct kms_cgroup_stats st;

	assert_int_equal(kms_cgroup_read(t->sim, path, &st), 0);
	return st;
}

/* Create cgroup @path and move the fixture's task into it. */
static inline void mmt_enter(struct mmt *t, const char *path)
{
	assert_int_equal(kms_cgroup_create(t->sim, path), 0);
	assert_int_equal(kms_task_move(t->sim, 100, path), 0);
}

static inline struct mem_cgroup *mmt_memcg(struct mmt *t, const char *path)
{
	struct mem_cgroup *memcg = mem_cgroup_lookup(&t->sim->memcgs, path);

	assert_non_null(memcg);
	return memcg;
}

/* memory.current less the stocks: what the live objects of @path use. */
static inline uint64_t mmt_used(struct mmt *t, const char *path)
{
	struct kms_cgroup_stats st = mmt_read(t, path);

	return st.current - st.stock;
}

static inline void mmt_check(struct mmt *t)
{
	char why[256];

	if (kms_sim_check_invariants(t->sim, why, sizeof(why)))
		fail_msg("invariant: %s", why);
}

#endif
