/* SPDX-License-Identifier: MIT */
/* Shared set-up of the bpf tests: a simulation, a world, root in /a, uid 1000 in /b. */
#ifndef KMS_TESTS_BPF_TEST_H
#define KMS_TESTS_BPF_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdint.h>
#include <cmocka.h>

#include "kmemsim/bpf.h"
#include "kmemsim/profile.h"
#include "kmemsim/sim.h"
#include "core/sim.h"

#define PAGE 4096u
#define P 2u	/* possible CPUs of every built-in profile */

struct tw {
	struct kms_sim *sim;
	struct kms_bpf *w;
	struct kms_profile *prof;
};

static inline struct kms_bpf_ctx task_ctx(int32_t pid)
{
	return (struct kms_bpf_ctx){ .pid = pid, .ctx = KMS_CTX_TASK };
}

/* pid 1: uid 0 in /a; pid 2: uid 0 in /b; pid 3: uid 1000 in /b. */
static inline void tw_setup(struct tw *t, const char *profile, uint64_t rlimit)
{
	struct kms_config cfg;
	const struct kms_profile *p = kms_profile_find(profile);

	assert_non_null(p);
	assert_int_equal(kms_profile_copy(p, &t->prof), 0);
	/* uid 1000 exercises the unprivileged paths, which 6.18 refuses by default */
	assert_int_equal(kms_profile_set(t->prof, "unprivileged_bpf_disabled", "0"), 0);
	kms_profile_config(t->prof, &cfg);
	assert_int_equal(kms_sim_new(&cfg, &t->sim), 0);
	assert_int_equal(kms_bpf_new(t->sim, t->prof, &t->w), 0);
	assert_int_equal(kms_cgroup_create(t->sim, "/a"), 0);
	assert_int_equal(kms_cgroup_create(t->sim, "/b"), 0);
	assert_int_equal(kms_task_create(t->sim, 1, 0, "/a", rlimit), 0);
	assert_int_equal(kms_task_create(t->sim, 2, 0, "/b", rlimit), 0);
	assert_int_equal(kms_task_create(t->sim, 3, 1000, "/b", rlimit), 0);
}

/* Every test ends with the model's invariants holding and no orphan uncharge. */
static inline void tw_check(struct tw *t)
{
	char why[256] = "";

	if (kms_sim_check_invariants(t->sim, why, sizeof(why)))
		fail_msg("invariant: %s", why);
	assert_int_equal(t->sim->mm.ledger.nr_orphans, 0);
}

static inline void tw_teardown(struct tw *t)
{
	tw_check(t);
	kms_bpf_free(t->w);
	kms_sim_rcu_barrier(t->sim);
	tw_check(t);
	kms_sim_free(t->sim);
	kms_profile_free(t->prof);
}

static inline int tw_map(struct tw *t, int32_t pid, enum kms_map_type type, uint32_t k,
			 uint32_t v, uint32_t n, uint32_t flags)
{
	struct kms_bpf_ctx c = task_ctx(pid);
	struct kms_map_attr a = { .type = type, .key_size = k, .value_size = v,
				  .max_entries = n, .map_flags = flags };

	return kms_bpf_map_create(t->w, &c, &a);
}

static inline uint64_t tw_memlock(struct tw *t, int id)
{
	struct kms_bpf_obj_info info;

	assert_true(id > 0);
	assert_int_equal(kms_bpf_obj_info(t->w, (uint32_t)id, &info), 0);
	return info.memlock;
}

static inline uint64_t tw_locked_vm(struct tw *t, uint32_t uid)
{
	struct kms_user_stats u = { 0 };

	if (kms_user_read(t->sim, uid, &u))
		return 0;
	return u.locked_vm;
}

static inline uint64_t tw_kmem(struct tw *t, const char *cg)
{
	struct kms_cgroup_stats s;

	assert_int_equal(kms_cgroup_read(t->sim, cg, &s), 0);
	return s.kmem;
}

/* memory.stat slab bytes of @cg: uncharged when a deferred free really runs. */
static inline uint64_t tw_slab(struct tw *t, const char *cg)
{
	struct kms_cgroup_stats s;

	assert_int_equal(kms_cgroup_read(t->sim, cg, &s), 0);
	return s.stat_slab;
}

/* Bytes BPF objects hold charged (kms_bpf_totals()). */
static inline uint64_t tw_bpf_charged(struct tw *t)
{
	struct kms_bpf_totals tot;

	kms_bpf_totals(t->w, &tot);
	return tot.charged;
}

/* One map configuration and the fdinfo memlock the profile must show for it. */
struct mvec {
	const char *profile;
	enum kms_map_type type;
	uint32_t k, v, n, flags;
	uint64_t memlock;
};

/* Create each map (map-in-map with an inner array) by root in /a and compare memlock. */
static inline void tw_check_vectors(const struct mvec *vecs, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		const struct mvec *v = &vecs[i];
		struct kms_bpf_ctx c = task_ctx(1);
		struct kms_map_attr a = { .type = v->type, .key_size = v->k, .value_size = v->v,
					  .max_entries = v->n, .map_flags = v->flags };
		struct tw t;
		int id;

		tw_setup(&t, v->profile, KMS_UNLIMITED);
		if (v->type == KMS_MAP_TYPE_HASH_OF_MAPS || v->type == KMS_MAP_TYPE_ARRAY_OF_MAPS)
			a.inner_map_id = (uint32_t)tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 4, 1, 0);
		id = kms_bpf_map_create(t.w, &c, &a);
		if (id <= 0)
			fail_msg("vec %zu: %d %s", i, id, kms_bpf_strerror(t.w));
		if (tw_memlock(&t, id) != v->memlock)
			fail_msg("vec %zu (%s %s n=%u): memlock %llu, want %llu", i, v->profile,
				 kms_map_type_name(v->type), v->n,
				 (unsigned long long)tw_memlock(&t, id),
				 (unsigned long long)v->memlock);
		tw_teardown(&t);
	}
}

#endif
