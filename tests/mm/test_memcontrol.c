// SPDX-License-Identifier: MIT
/*
 * The memory cgroup tree: paths, removal rules, and where charges go when a
 * cgroup that still holds them is removed (obj_cgroup reparenting).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kmemsim/config.h"
#include "mm/memcontrol.h"

struct fixture {
	struct kms_config cfg;
	struct memcg_tree tree;
};

static int setup(void **state)
{
	static struct fixture f;

	kms_config_init(&f.cfg);
	if (memcg_tree_init(&f.tree, &f.cfg))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	memcg_tree_destroy(&f->tree);
	return 0;
}

static struct mem_cgroup *mkdir_ok(struct memcg_tree *tree, const char *path)
{
	struct mem_cgroup *memcg = NULL;

	assert_int_equal(mem_cgroup_create(tree, path, &memcg), 0);
	assert_non_null(memcg);
	assert_string_equal(memcg->path, path);
	return memcg;
}

static void test_paths(void **state)
{
	struct fixture *f = *state;
	struct memcg_tree *t = &f->tree;

	assert_true(mem_cgroup_is_root(mem_cgroup_lookup(t, "/")));
	mkdir_ok(t, "/a");
	mkdir_ok(t, "/a/b");
	assert_int_equal(mem_cgroup_create(t, "/a", NULL), -EEXIST);
	assert_int_equal(mem_cgroup_create(t, "/", NULL), -EEXIST);
	/* mkdir -p is not what cgroupfs does: the parent must exist. */
	assert_int_equal(mem_cgroup_create(t, "/x/y", NULL), -ENOENT);
	assert_int_equal(mem_cgroup_create(t, "a", NULL), -EINVAL);
	assert_int_equal(mem_cgroup_create(t, "/a//c", NULL), -EINVAL);
	assert_int_equal(mem_cgroup_create(t, "/a/", NULL), -EINVAL);
	assert_int_equal(mem_cgroup_create(t, "/a/..", NULL), -EINVAL);
	assert_ptr_equal(mem_cgroup_lookup(t, "/a/b")->parent, mem_cgroup_lookup(t, "/a"));
}

static void test_remove_rules(void **state)
{
	struct fixture *f = *state;
	struct memcg_tree *t = &f->tree;
	struct mem_cgroup *a = mkdir_ok(t, "/a"), *b = mkdir_ok(t, "/a/b");

	assert_int_equal(mem_cgroup_remove(t, t->root), -EINVAL);
	/* A cgroup with an online child cannot go. */
	assert_int_equal(mem_cgroup_remove(t, a), -EBUSY);
	/* Nor one with a task in it. */
	b->nr_tasks = 1;
	assert_int_equal(mem_cgroup_remove(t, b), -EBUSY);
	b->nr_tasks = 0;
	assert_int_equal(mem_cgroup_remove(t, b), 0);
	assert_null(mem_cgroup_lookup(t, "/a/b"));
	assert_int_equal(mem_cgroup_remove(t, a), 0);
	assert_null(mem_cgroup_lookup(t, "/a"));
	/* Nothing held them: both were freed, nothing is dying. */
	assert_int_equal(t->nr_dying, 0);
	/* The path can be used again. */
	mkdir_ok(t, "/a");
}

static void test_rmdir_reparents_objcg(void **state)
{
	struct fixture *f = *state;
	struct memcg_tree *t = &f->tree;
	struct mem_cgroup *a = mkdir_ok(t, "/a"), *b = mkdir_ok(t, "/a/b");
	struct obj_cgroup *objcg;

	/* An object charged in /a/b holds b's objcg: 3 pages charged. */
	objcg = get_obj_cgroup_from_memcg(b);
	assert_non_null(objcg);
	page_counter_charge(&objcg->memcg->memory, 3);
	assert_int_equal(page_counter_read(&a->memory), 3);

	assert_int_equal(mem_cgroup_remove(t, b), 0);
	/* b is dying, kept by nothing but its history; the objcg now names a. */
	assert_ptr_equal(objcg->memcg, a);
	assert_int_equal(page_counter_read(&a->memory), 3);

	/* The uncharge of the object after rmdir lands on the parent. */
	page_counter_uncharge(&objcg->memcg->memory, 3);
	assert_int_equal(page_counter_read(&a->memory), 0);
	assert_int_equal(a->memory.underflows, 0);

	/* New charges by the same objcg also go to a. */
	assert_ptr_equal(get_obj_cgroup_from_memcg(a), a->objcg);
	obj_cgroup_put(t, a->objcg);
	obj_cgroup_put(t, objcg);
	assert_int_equal(t->nr_dying, 0);
}

static void test_dying_memcg_lives_while_referenced(void **state)
{
	struct fixture *f = *state;
	struct memcg_tree *t = &f->tree;
	struct mem_cgroup *a = mkdir_ok(t, "/a");

	/* A 5.11 map holds a css reference to its creator's memcg. */
	mem_cgroup_get(a);
	assert_int_equal(mem_cgroup_remove(t, a), 0);
	assert_false(a->online);
	assert_int_equal(t->nr_dying, 1);
	/* A dying memcg hands out its nearest online ancestor's objcg. */
	assert_ptr_equal(mem_cgroup_online_ancestor(a), t->root);
	assert_null(get_obj_cgroup_from_memcg(a));
	mem_cgroup_put(t, a);
	assert_int_equal(t->nr_dying, 0);
}

static void test_events_and_stats_are_hierarchical(void **state)
{
	struct fixture *f = *state;
	struct memcg_tree *t = &f->tree;
	struct mem_cgroup *a = mkdir_ok(t, "/a"), *b = mkdir_ok(t, "/a/b");
	struct mem_cgroup *c = mkdir_ok(t, "/a/c");

	memcg_memory_event(b, MEMCG_MAX);
	assert_int_equal(b->events[MEMCG_MAX], 1);
	assert_int_equal(a->events[MEMCG_MAX], 1);
	assert_int_equal(a->events_local[MEMCG_MAX], 0);
	assert_int_equal(c->events[MEMCG_MAX], 0);

	mod_memcg_state(b, NR_SLAB_UNRECLAIMABLE_B, 96 + 8);
	mod_memcg_state(c, NR_SLAB_UNRECLAIMABLE_B, 192 + 8);
	assert_int_equal(memcg_stat_read(a, NR_SLAB_UNRECLAIMABLE_B), 104 + 200);
	assert_int_equal(memcg_stat_read(b, NR_SLAB_UNRECLAIMABLE_B), 104);
}

static void test_set_max_and_root(void **state)
{
	struct fixture *f = *state;
	struct memcg_tree *t = &f->tree;
	struct mem_cgroup *a = mkdir_ok(t, "/a");

	/* The root has no memory.max. */
	assert_int_equal(mem_cgroup_set_max(t->root, 10), -EINVAL);
	page_counter_charge(&a->memory, 8);
	assert_int_equal(mem_cgroup_set_max(a, 7), -EBUSY);
	assert_int_equal(mem_cgroup_set_max(a, 8), 0);
	page_counter_uncharge(&a->memory, 8);
}

struct walk_log {
	char paths[8][16];
	int n;
};

static int log_path(struct mem_cgroup *memcg, void *arg)
{
	struct walk_log *log = arg;

	strncpy(log->paths[log->n++], memcg->path, 15);
	return 0;
}

static void test_walk_is_in_creation_order(void **state)
{
	struct fixture *f = *state;
	struct memcg_tree *t = &f->tree;
	struct walk_log log = { 0 };

	mkdir_ok(t, "/z");
	mkdir_ok(t, "/a");
	mkdir_ok(t, "/z/y");
	assert_int_equal(memcg_tree_walk(t, log_path, &log), 0);
	assert_int_equal(log.n, 4);
	assert_string_equal(log.paths[0], "/");
	assert_string_equal(log.paths[1], "/z");
	assert_string_equal(log.paths[2], "/z/y");
	assert_string_equal(log.paths[3], "/a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmdir_reparents_objcg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dying_memcg_lives_while_referenced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_events_and_stats_are_hierarchical, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_max_and_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_is_in_creation_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
