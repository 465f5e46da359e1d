// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemsim/bpf.h"
#include "kmemsim/profile.h"
#include "kmemsim/sim.h"
#include "kmemsim/trace.h"
#include "replay_test.h"

size_t rt_all_profiles(const char *names[RT_MAX_PROFILES])
{
	size_t n = kms_profile_count();

	assert_true(n > 0 && n <= RT_MAX_PROFILES);
	for (size_t i = 0; i < n; i++)
		names[i] = kms_profile_name(kms_profile_at(i));
	return n;
}

struct kms_replay *rt_replay(const char *path, const char *text,
			     const struct kms_replay_opts *opts, kms_replay_step_fn fn, void *arg,
			     int *ret)
{
	const char *names[RT_MAX_PROFILES];
	struct kms_replay_opts o = { 0 };
	struct kms_trace_reader *reader = NULL;
	struct kms_trace_error terr = { 0 };
	struct kms_replay *r = NULL;
	char err[256];
	int rc;

	if (opts) {
		o = *opts;
	} else {
		o.profiles = names;
		o.nr_profiles = rt_all_profiles(names);
	}
	o.check_invariants = true;
	if (path)
		rc = kms_trace_open(path, NULL, &reader, &terr);
	else
		rc = kms_trace_open_mem(text, strlen(text), "test.trace", NULL, &reader, &terr);
	if (rc)
		fail_msg("%s: cannot open: %u:%u %s", path ? path : "text", terr.line, terr.column,
			 terr.msg);
	if (kms_replay_new(&o, &r, err, sizeof(err)))
		fail_msg("kms_replay_new: %s", err);
	rc = kms_replay_run(r, reader, fn, arg, NULL, NULL);
	kms_trace_reader_free(reader);
	if (ret)
		*ret = rc;
	else if (rc)
		fail_msg("%s: replay stopped (%d): %s", path ? path : "text", rc,
			 kms_replay_error(r));
	return r;
}

bool rt_all_freed(const struct kms_replay *r, size_t run)
{
	struct kms_bpf_totals t;

	kms_bpf_totals(kms_replay_bpf(r, run), &t);
	return !t.live_maps && !t.live_progs && !t.live_btfs && !t.live_links;
}

void rt_assert_back_to_zero(struct kms_replay *r, size_t run, const char *what)
{
	/* The replay is over: the test may run the deferred frees and drain the stocks. */
	struct kms_sim *sim = (struct kms_sim *)kms_replay_sim(r, run);
	const char *profile = kms_replay_profile_name(r, run);
	char why[256];

	assert_int_equal(kms_sim_rcu_barrier(sim), 0);
	assert_int_equal(kms_sim_drain_stock(sim), 0);
	if (kms_sim_check_invariants(sim, why, sizeof(why)))
		fail_msg("%s under %s: after rcu_barrier and drain: %s", what, profile, why);
	for (size_t i = 0; i < kms_replay_nr_cgroups(r, run); i++) {
		const char *path = kms_replay_cgroup_path(r, run, i);
		struct kms_cgroup_stats st;

		/* A removed cgroup with no charges left is freed: nothing to read. */
		if (kms_cgroup_read(sim, path, &st))
			continue;
		/*
		 * After the drain the stock is what objcgs parked: each CPU's drain
		 * leaves under a page (drain_obj_stock()), uncharged only when the
		 * objcg is released. memory.current and kmem hold exactly that.
		 */
		if (st.current != st.stock || st.kmem != st.stock || st.stat_kernel != st.stock ||
		    st.stock >= (uint64_t)kms_sim_config(sim)->nr_cpus * kms_sim_config(sim)->page_size ||
		    st.stat_slab || st.stat_percpu || st.stat_vmalloc)
			fail_msg("%s under %s: %s left memory.current %" PRIu64 " (stock %" PRIu64
				 ") kmem %" PRIu64 " kernel %" PRIu64 " slab %" PRIu64 " percpu %"
				 PRIu64 " vmalloc %" PRIu64, what, profile, path, st.current, st.stock,
				 st.kmem, st.stat_kernel, st.stat_slab, st.stat_percpu,
				 st.stat_vmalloc);
	}
	for (size_t i = 0; i < kms_replay_nr_uids(r, run); i++) {
		struct kms_user_stats us;
		uint32_t uid = kms_replay_uid(r, run, i);

		if (kms_user_read(sim, uid, &us))
			continue;
		if (us.locked_vm_bpf)
			fail_msg("%s under %s: uid %u left locked_vm_bpf %" PRIu64 " bytes", what,
				 profile, uid, us.locked_vm_bpf);
	}
	for (int k = 0; k < KMS_KMEM_NR_KINDS; k++) {
		struct kms_kmem_totals t;

		assert_int_equal(kms_kmem_totals_read(sim, k, &t), 0);
		if (t.nr_live || t.bytes || t.charged_bytes)
			fail_msg("%s under %s: allocator kind %d left %" PRIu64 " live, %" PRIu64
				 " bytes, %" PRIu64 " charged", what, profile, k, t.nr_live,
				 t.bytes, t.charged_bytes);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_trace(const char *name)
{
	size_t n = strlen(name);

	return (n > 6 && !strcmp(name + n - 6, ".trace")) ||
	       (n > 7 && !strcmp(name + n - 7, ".strace"));
}

char **rt_list_traces(const char *dir, size_t *n)
{
	const char *root = getenv("KMEMSIM_SOURCE_ROOT");
	char path[4096];
	char **list = NULL;
	struct dirent *de;
	DIR *d;

	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", root ? root : ".", dir);
	d = opendir(path);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char **l;

		if (!is_trace(de->d_name))
			continue;
		l = realloc(list, (*n + 1) * sizeof(*list));
		assert_non_null(l);
		list = l;
		assert_true(asprintf(&list[*n], "%s/%s", path, de->d_name) > 0);
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(list, *n, sizeof(*list), cmp_str);
	return list;
}

void rt_free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}
