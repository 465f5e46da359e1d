// SPDX-License-Identifier: MIT
/*
 * Object lifetime (fds, pins, programs holding maps, process exit), programs
 * (pages per profile, verifier growth), BTF (tracked, never charged), cgroup
 * storage at attach time, and the report iteration.
 */
#include <stdio.h>

#include "bpf_test.h"

static struct kms_bpf_obj_info info_of(struct tw *t, int id)
{
	struct kms_bpf_obj_info info;

	assert_int_equal(kms_bpf_obj_info(t->w, (uint32_t)id, &info), 0);
	return info;
}

/* close frees; a pin keeps the object; unlink of the last pin frees it */
static void test_lifetime_close_pin(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1), other = task_ctx(2);
	int id, got;

	(void)state;
	tw_setup(&t, "linux-5.10", KMS_UNLIMITED);
	id = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 1024, 0);	/* 3 pages */
	assert_int_equal(kms_bpf_obj_pin(t.w, &c, (uint32_t)id, "/sys/fs/bpf/m"), 0);
	assert_int_equal(kms_bpf_obj_pin(t.w, &c, (uint32_t)id, "/sys/fs/bpf/m"), -EEXIST);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)id), 0);	/* close(fd) */
	assert_false(info_of(&t, id).freed);
	assert_int_equal(tw_locked_vm(&t, 0), 3 * PAGE);
	/* another process opens the pin (a new fd) and exits (its fds close) */
	got = kms_bpf_obj_get_pinned(t.w, &other, "/sys/fs/bpf/m");
	assert_int_equal(got, id);
	assert_int_equal(kms_bpf_obj_put(t.w, &other, (uint32_t)id), 0);
	assert_int_equal(kms_bpf_obj_unpin(t.w, &c, "/sys/fs/bpf/m"), 0);
	assert_true(info_of(&t, id).freed);
	assert_int_equal(tw_locked_vm(&t, 0), 0);	/* uncharged at the last reference */
	assert_int_equal(kms_bpf_obj_unpin(t.w, &c, "/sys/fs/bpf/m"), -ENOENT);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)id), -EBADF);
	tw_teardown(&t);
}

/*
 * A pin is a bpffs dentry and inode, both SLAB_ACCOUNT (fs/dcache.c
 * dcache_init(), fs/inode.c inode_init()), charged obj_full_size() to the
 * PINNING task's memcg, not the map's, and freed after RCU at unlink.
 * 6.18: 16 pins of one map by a task in /b:
 *   16 * (inode_cache 624 + 8 + dentry 192 + 8) = 16 * 832 = 13312 bytes
 * (inode_cache 624 and dentry 192 from /proc/slabinfo of 6.18.44; the
 * calibration measured +12288 for these 16 pins and -12288 for the unpins,
 * docs/calibration-measured.csv rows "pin,...,pin,16" and "unpin,16",
 * i.e. 13312 within its page-per-CPU tolerance).
 * 5.10: its rlimit scheme covers BPF objects only; the VFS still charges the
 * memcg: 16 * (608 + 8 + 192 + 8) = 13056 bytes of slab in /b, no locked_vm.
 */
static void test_pin_charges_pinning_task(void **state)
{
	static const struct { const char *profile; uint64_t slab; } v[] = {
		{ "linux-6.18", 16 * (624 + 8 + 192 + 8) },
		{ "linux-5.11", 16 * (608 + 8 + 192 + 8) },
		{ "linux-5.10", 16 * (608 + 8 + 192 + 8) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct kms_bpf_ctx b = task_ctx(2);
		struct kms_bpf_totals before, after;
		uint64_t slab_a, locked;
		char path[32];
		struct tw t;
		int id;

		tw_setup(&t, v[i].profile, KMS_UNLIMITED);
		id = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 4, 1, 0);
		slab_a = tw_slab(&t, "/a");
		locked = tw_locked_vm(&t, 0);
		kms_bpf_totals(t.w, &before);
		for (int k = 0; k < 16; k++) {
			snprintf(path, sizeof(path), "/sys/fs/bpf/p%d", k);
			assert_int_equal(kms_bpf_obj_pin(t.w, &b, (uint32_t)id, path), 0);
		}
		kms_bpf_totals(t.w, &after);
		assert_int_equal(tw_slab(&t, "/b"), v[i].slab);
		assert_int_equal(tw_slab(&t, "/a"), slab_a);
		assert_int_equal(tw_locked_vm(&t, 0), locked);
		assert_int_equal(after.charged - before.charged, v[i].slab);
		for (int k = 0; k < 16; k++) {
			snprintf(path, sizeof(path), "/sys/fs/bpf/p%d", k);
			assert_int_equal(kms_bpf_obj_unpin(t.w, &b, path), 0);
		}
		kms_bpf_totals(t.w, &after);
		assert_int_equal(after.charged, before.charged);
		/* the inode and dentry go after a grace period */
		assert_int_equal(tw_slab(&t, "/b"), v[i].slab);
		kms_sim_rcu_barrier(t.sim);
		assert_int_equal(tw_slab(&t, "/b"), 0);
		tw_teardown(&t);
	}
}

/* dup'ed / inherited fds each hold a reference */
static void test_lifetime_dup(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1);
	int id;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	id = tw_map(&t, 1, KMS_MAP_TYPE_HASH, 4, 8, 1000, 0);
	assert_int_equal(kms_bpf_obj_get(t.w, (uint32_t)id), 0);	/* fork inherits it */
	assert_int_equal(info_of(&t, id).refcnt, 2);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)id), 0);
	assert_false(info_of(&t, id).freed);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)id), 0);
	assert_true(info_of(&t, id).freed);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(tw_kmem(&t, "/a"), 0);
	tw_teardown(&t);
}

/*
 * Programs: bpf_prog_size(n) = insns offset + 8n, in pages. 5.10: 56 + 8n
 * (1 page up to 505 insns); 6.18: 96 + 8n (measured fdinfo memlock: 2 insns
 * -> 4096, 505 -> 8192, 4096 -> 36864). A program holds its maps.
 */
static void test_prog_pages_and_map_refs(void **state)
{
	static const struct { const char *profile; uint32_t insns; uint64_t memlock; } v[] = {
		{ "linux-5.10", 2, PAGE }, { "linux-5.10", 505, PAGE },
		{ "linux-5.10", 506, 2 * PAGE },
		{ "linux-5.10", 4000, 8 * PAGE },	/* limits csv R4b: prog_memlock 32768 */
		{ "linux-6.18", 2, PAGE }, { "linux-6.18", 505, 2 * PAGE },
		{ "linux-6.18", 4096, 9 * PAGE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct tw t;
		struct kms_bpf_ctx c = task_ctx(1);
		struct kms_prog_attr a = { .prog_type = 1, .insn_cnt = v[i].insns };
		int id;

		tw_setup(&t, v[i].profile, KMS_UNLIMITED);
		id = kms_bpf_prog_load(t.w, &c, &a);
		assert_true(id > 0);
		assert_int_equal(tw_memlock(&t, id), v[i].memlock);
		if (!strcmp(v[i].profile, "linux-5.10"))
			assert_int_equal(tw_locked_vm(&t, 0), v[i].memlock);
		tw_teardown(&t);
	}
	{
		struct tw t;
		struct kms_bpf_ctx c = task_ctx(1);
		uint32_t maps[1];
		struct kms_prog_attr a = { .prog_type = 1, .insn_cnt = 2, .map_ids = maps,
					   .nr_map_ids = 1 };
		int prog;

		tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
		maps[0] = (uint32_t)tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0);
		prog = kms_bpf_prog_load(t.w, &c, &a);
		assert_true(prog > 0);
		assert_int_equal(kms_bpf_obj_put(t.w, &c, maps[0]), 0);
		assert_false(info_of(&t, (int)maps[0]).freed);	/* the prog holds it */
		assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)prog), 0);
		assert_true(info_of(&t, (int)maps[0]).freed);
		/* the loader pays in 6.18 */
		tw_teardown(&t);
	}
}

/* 5.10 verifier growth past the limit: ENOMEM (bpf_prog_realloc), not EPERM */
static void test_prog_growth_enomem(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1);
	struct kms_prog_attr a = { .prog_type = 1, .insn_cnt = 100, .final_insn_cnt = 3000 };

	(void)state;
	tw_setup(&t, "linux-5.10", 4 * PAGE);
	assert_int_equal(kms_bpf_prog_load(t.w, &c, &a), -ENOMEM);
	assert_int_equal(tw_locked_vm(&t, 0), 0);
	a.final_insn_cnt = 0;
	a.insn_cnt = 3000;	/* 56 + 24000 -> 6 pages at load: EPERM */
	assert_int_equal(kms_bpf_prog_load(t.w, &c, &a), -EPERM);
	/* uid 1000: 4096 instructions at most (E2BIG first), then only socket filter / cgroup skb */
	a.insn_cnt = 5000;
	assert_int_equal(kms_bpf_prog_load(t.w, &(struct kms_bpf_ctx){ .pid = 3 }, &a), -E2BIG);
	a.insn_cnt = 10;
	a.prog_type = 2;	/* kprobe */
	assert_int_equal(kms_bpf_prog_load(t.w, &(struct kms_bpf_ctx){ .pid = 3 }, &a), -EPERM);
	a.prog_type = 1;
	tw_teardown(&t);
	/* unprivileged: 4096 instructions at most */
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	a.insn_cnt = 5000;
	assert_int_equal(kms_bpf_prog_load(t.w, &(struct kms_bpf_ctx){ .pid = 3 }, &a), -E2BIG);
	tw_teardown(&t);
}

/*
 * kernel.unprivileged_bpf_disabled gates the bpf(2) system call (__sys_bpf()),
 * not a program's bpf_map_update_elem() helper: a root agent's program that
 * runs in the task context of an unprivileged application still inserts, and
 * the map's objcg (/a) pays, not the application's cgroup (/b).
 */
static void test_prog_helper_not_gated(void **state)
{
	struct tw t;
	struct kms_bpf_ctx app = task_ctx(3), prog = task_ctx(3);
	struct kms_cgroup_stats a, b;
	int map;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	/* 6.18's default: BPF_UNPRIV_DEFAULT_OFF (tw_setup lowers it to 0) */
	assert_int_equal(kms_profile_set(t.prof, "unprivileged_bpf_disabled", "2"), 0);
	map = tw_map(&t, 1, KMS_MAP_TYPE_HASH, 8, 8, 1000, KMS_F_NO_PREALLOC);
	assert_true(map > 0);
	assert_int_equal(kms_bpf_map_update(t.w, &app, (uint32_t)map, 1, 0), -EPERM);
	prog.from_prog = true;
	assert_int_equal(kms_bpf_map_update(t.w, &prog, (uint32_t)map, 1, 0), 0);
	assert_int_equal(kms_cgroup_read(t.sim, "/b", &b), 0);
	assert_int_equal(b.kmem, 0);
	assert_int_equal(kms_cgroup_read(t.sim, "/a", &a), 0);
	assert_true(a.kmem > 0);
	tw_teardown(&t);
}

/* BTF: tracked, never charged */
static void test_btf_unpaid(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1);
	struct kms_bpf_totals tot;
	int id;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	id = kms_bpf_btf_load(t.w, &c, 5000);
	assert_true(id > 0);
	assert_int_equal(info_of(&t, id).charged[KMS_MEM_SLAB], 0);
	assert_true(info_of(&t, id).unpaid >= 5000);
	kms_bpf_totals(t.w, &tot);
	assert_int_equal(tot.btf_bytes, 5000);
	assert_int_equal(tot.live_btfs, 1);
	kms_sim_drain_stock(t.sim);
	assert_int_equal(tw_kmem(&t, "/a"), 0);
	tw_teardown(&t);
}

/*
 * Cgroup storage at attach. 5.10: ceil((104 + 16 + V) / 4096) pages charged to
 * the map creator's uid against the attaching task's limit, failure -> ENOMEM;
 * fdinfo memlock grows. 5.11 and 6.18: the map's cgroup pays (bpf_map_kmalloc_node in
 * bpf_cgroup_storage_alloc, read in 5.11.14); the v7 what-if: the attaching task.
 */
static void test_cgroup_storage_attach(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1), u = task_ctx(3);
	uint32_t maps[1];
	struct kms_prog_attr a = { .prog_type = 8, .insn_cnt = 2, .map_ids = maps,
				   .nr_map_ids = 1 };
	int prog;

	(void)state;
	tw_setup(&t, "linux-5.10", KMS_UNLIMITED);
	maps[0] = (uint32_t)tw_map(&t, 1, KMS_MAP_TYPE_CGROUP_STORAGE, 16, 8, 0, 0);
	prog = kms_bpf_prog_load(t.w, &c, &a);
	assert_true(prog > 0);
	assert_int_equal(tw_memlock(&t, (int)maps[0]), PAGE);	/* sizeof(map) < 1 page */
	assert_int_equal(kms_bpf_prog_attach(t.w, &c, (uint32_t)prog, "/b", 0), 0);
	assert_int_equal(tw_memlock(&t, (int)maps[0]), 2 * PAGE);
	/* same cgroup and attach type again: reused */
	assert_int_equal(kms_bpf_prog_attach(t.w, &c, (uint32_t)prog, "/b", 1), 0);
	assert_int_equal(tw_memlock(&t, (int)maps[0]), 3 * PAGE);
	/* uid 0 holds 1 (map) + 2 (storages) + 1 (prog) pages; an attacher with a
	 * 4-page limit cannot add one more: ENOMEM */
	assert_int_equal(kms_task_set_rlimit_memlock(t.sim, 3, 4 * PAGE), 0);
	assert_int_equal(kms_bpf_prog_attach(t.w, &u, (uint32_t)prog, "/a", 0), -ENOMEM);
	assert_int_equal(tw_locked_vm(&t, 0), 4 * PAGE);
	/* BPF_PROG_TEST_RUN charges a storage for the run: same limit, same ENOMEM */
	assert_int_equal(kms_bpf_prog_test_run(t.w, &u, (uint32_t)prog), -ENOMEM);
	assert_int_equal(kms_bpf_prog_test_run(t.w, &c, (uint32_t)prog), 0);
	assert_int_equal(tw_locked_vm(&t, 0), 4 * PAGE);
	assert_int_equal(kms_bpf_prog_detach(t.w, &c, (uint32_t)prog, "/b", 0), 0);
	assert_int_equal(tw_locked_vm(&t, 0), 3 * PAGE);
	tw_teardown(&t);

	for (int i = 0; i < 3; i++) {
		static const char *const profs[] = { "linux-5.11-v7", "linux-5.11",
						     "linux-6.18" };
		const char *prof = profs[i];
		struct kms_bpf_obj_info m0, m1;

		tw_setup(&t, prof, KMS_UNLIMITED);
		maps[0] = (uint32_t)tw_map(&t, 1, KMS_MAP_TYPE_CGROUP_STORAGE, 16, 2000, 0, 0);
		prog = kms_bpf_prog_load(t.w, &c, &a);
		m0 = info_of(&t, (int)maps[0]);
		kms_sim_drain_stock(t.sim);
		{
			uint64_t b0 = tw_kmem(&t, "/b");

			struct kms_bpf_ctx b = task_ctx(2);

			assert_int_equal(kms_bpf_prog_attach(t.w, &b, (uint32_t)prog, "/b", 0),
					 0);
			kms_sim_drain_stock(t.sim);
			m1 = info_of(&t, (int)maps[0]);
			if (i == 0) {	/* v7: the attaching task (/b) pays */
				assert_true(tw_kmem(&t, "/b") - b0 >= 2016);
			} else {	/* 5.11, 6.18: the map (/a) pays */
				assert_int_equal(tw_kmem(&t, "/b"), b0);
				assert_true(m1.charged[KMS_MEM_SLAB] - m0.charged[KMS_MEM_SLAB] >=
					    2016);
			}
		}
		tw_teardown(&t);
	}
}

/* Links: a cgroup link owns its attachment (and storages); a bound map is held by the prog. */
static void test_links_and_bind_map(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1);
	uint32_t maps[1];
	struct kms_prog_attr a = { .prog_type = 8, .insn_cnt = 2, .map_ids = maps,
				   .nr_map_ids = 1 };
	struct kms_bpf_totals tot;
	int prog, link, link2, bound;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	maps[0] = (uint32_t)tw_map(&t, 1, KMS_MAP_TYPE_CGROUP_STORAGE, 16, 64, 0, 0);
	prog = kms_bpf_prog_load(t.w, &c, &a);
	link = kms_bpf_link_create(t.w, &c, (uint32_t)prog, "/b", 0);
	assert_true(link > 0);
	assert_int_equal(info_of(&t, (int)maps[0]).nr_elems, 1);	/* one storage */
	link2 = kms_bpf_link_create(t.w, &c, (uint32_t)prog, NULL, 0);	/* e.g. a kprobe */
	assert_true(link2 > 0);
	assert_string_equal(info_of(&t, link).type_name, "link");
	bound = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	assert_int_equal(kms_bpf_prog_bind_map(t.w, &c, (uint32_t)prog, (uint32_t)bound), 0);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)bound), 0);
	assert_false(info_of(&t, bound).freed);
	/* close the prog and map fds: the links keep everything */
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)prog), 0);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, maps[0]), 0);
	assert_false(info_of(&t, prog).freed);
	kms_bpf_totals(t.w, &tot);
	assert_int_equal(tot.live_links, 2);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)link), 0);	/* detaches */
	assert_int_equal(info_of(&t, (int)maps[0]).nr_elems, 0);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)link2), 0);
	assert_true(info_of(&t, prog).freed);
	assert_true(info_of(&t, (int)maps[0]).freed);
	assert_true(info_of(&t, bound).freed);
	assert_int_equal(kms_bpf_link_create(t.w, &c, 999, NULL, 0), -EBADF);
	tw_teardown(&t);

	/* the cgroup goes away: its attachment and storage go, the link stays defunct */
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	maps[0] = (uint32_t)tw_map(&t, 1, KMS_MAP_TYPE_CGROUP_STORAGE, 16, 64, 0, 0);
	prog = kms_bpf_prog_load(t.w, &c, &a);
	link = kms_bpf_link_create(t.w, &c, (uint32_t)prog, "/b", 0);
	assert_int_equal(kms_bpf_prog_attach(t.w, &c, (uint32_t)prog, "/b", 1), 0);
	assert_int_equal(info_of(&t, (int)maps[0]).nr_elems, 2);
	assert_int_equal(kms_bpf_cgroup_release(t.w, &c, "/b"), 0);
	assert_int_equal(info_of(&t, (int)maps[0]).nr_elems, 0);
	assert_int_equal(info_of(&t, prog).refcnt, 2);	/* its fd and the link */
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)link), 0);
	assert_int_equal(info_of(&t, prog).refcnt, 1);
	assert_int_equal(kms_bpf_cgroup_release(t.w, &c, "/nope"), -ENOENT);
	tw_teardown(&t);
}

/* Report iteration: ids in order, freed objects stay listed. */
static void test_iteration(void **state)
{
	struct tw t;
	struct kms_bpf_ctx c = task_ctx(1);
	struct kms_bpf_obj_info info;
	uint32_t id, n = 0;
	int a, b;

	(void)state;
	tw_setup(&t, "linux-6.18", KMS_UNLIMITED);
	a = tw_map(&t, 1, KMS_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	b = tw_map(&t, 3, KMS_MAP_TYPE_HASH, 4, 8, 1, 0);
	assert_int_equal(kms_bpf_obj_put(t.w, &c, (uint32_t)a), 0);
	for (id = kms_bpf_obj_next(t.w, 0); id; id = kms_bpf_obj_next(t.w, id)) {
		assert_int_equal(kms_bpf_obj_info(t.w, id, &info), 0);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(kms_bpf_obj_info(t.w, (uint32_t)b, &info), 0);
	assert_string_equal(info.type_name, "hash");
	assert_int_equal(info.creator_uid, 1000);
	assert_string_equal(info.memcg_path, "/b");
	assert_string_equal(info.creator_cgroup, "/b");
	assert_int_equal(kms_bpf_obj_info(t.w, 99, &info), -ENOENT);
	assert_int_equal(kms_bpf_map_type_parse("BPF_MAP_TYPE_LRU_PERCPU_HASH"),
			 KMS_MAP_TYPE_LRU_PERCPU_HASH);
	assert_int_equal(kms_bpf_map_type_parse("nope"), KMS_MAP_TYPE_UNSPEC);
	tw_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifetime_close_pin),
		cmocka_unit_test(test_lifetime_dup),
		cmocka_unit_test(test_prog_pages_and_map_refs),
		cmocka_unit_test(test_prog_growth_enomem),
		cmocka_unit_test(test_btf_unpaid),
		cmocka_unit_test(test_pin_charges_pinning_task),
		cmocka_unit_test(test_prog_helper_not_gated),
		cmocka_unit_test(test_cgroup_storage_attach),
		cmocka_unit_test(test_iteration),
		cmocka_unit_test(test_links_and_bind_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
