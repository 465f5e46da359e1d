// SPDX-License-Identifier: MIT
/*
 * The memory cgroup tree: creation, removal with obj_cgroup reparenting,
 * statistics and events. Charging lives in mm/charge.c; this file only
 * keeps the shape of the hierarchy right.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mm/memcontrol.h"

static const char *const stat_names[MEMCG_NR_STAT] = {
	[MEMCG_KMEM] = "kernel",
	[NR_SLAB_UNRECLAIMABLE_B] = "slab_unreclaimable",
	[MEMCG_PERCPU_B] = "percpu",
	[MEMCG_VMALLOC] = "vmalloc",
};

static const char *const event_names[MEMCG_NR_MEMORY_EVENTS] = {
	[MEMCG_LOW] = "low",
	[MEMCG_HIGH] = "high",
	[MEMCG_MAX] = "max",
	[MEMCG_OOM] = "oom",
	[MEMCG_OOM_KILL] = "oom_kill",
};

const char *memcg_stat_name(enum memcg_stat_item idx)
{
	return idx < MEMCG_NR_STAT ? stat_names[idx] : "?";
}

const char *memcg_event_name(enum memcg_memory_event event)
{
	return event < MEMCG_NR_MEMORY_EVENTS ? event_names[event] : "?";
}

static struct obj_cgroup *obj_cgroup_alloc(struct mem_cgroup *memcg)
{
	struct obj_cgroup *objcg = calloc(1, sizeof(*objcg));

	if (!objcg)
		return NULL;
	/* The memcg's own reference, dropped when it goes offline. */
	objcg->refcnt = 1;
	objcg->memcg = memcg;
	objcg->next = memcg->objcg_list;
	memcg->objcg_list = objcg;
	memcg->refcnt++;
	return objcg;
}

static struct mem_cgroup *mem_cgroup_alloc(struct memcg_tree *tree,
					   struct mem_cgroup *parent,
					   const char *path)
{
	struct mem_cgroup *memcg = calloc(1, sizeof(*memcg));

	if (!memcg)
		return NULL;
	memcg->path = strdup(path);
	if (!memcg->path) {
		free(memcg);
		return NULL;
	}
	memcg->id = tree->next_id++;
	memcg->parent = parent;
	memcg->online = true;
	page_counter_init(&memcg->memory, parent ? &parent->memory : NULL);
	page_counter_init(&memcg->kmem, parent ? &parent->kmem : NULL);
	/*
	 * The root memcg has no objcg: charges that would go to it are skipped
	 * (obj_cgroup is NULL for the root, and try_charge() returns early for
	 * mem_cgroup_is_root()).
	 */
	if (parent && !obj_cgroup_alloc(memcg)) {
		free(memcg->path);
		free(memcg);
		return NULL;
	}
	if (parent) {
		memcg->objcg = memcg->objcg_list;
		/* A child pins its parent, as a css pins its parent's css. */
		parent->refcnt++;
		memcg->sibling = parent->children;
		parent->children = memcg;
		parent->nr_online_children++;
	}
	return memcg;
}

int memcg_tree_init(struct memcg_tree *tree, const struct kms_config *cfg)
{
	*tree = (struct memcg_tree){ .cfg = cfg };
	tree->root = mem_cgroup_alloc(tree, NULL, "/");
	if (!tree->root)
		return -ENOMEM;
	HASH_ADD_KEYPTR(hh, tree->by_path, tree->root->path,
			strlen(tree->root->path), tree->root);
	return 0;
}

static void mem_cgroup_free_one(struct mem_cgroup *memcg)
{
	struct obj_cgroup *objcg = memcg->objcg_list;

	while (objcg) {
		struct obj_cgroup *next = objcg->next;

		free(objcg);
		objcg = next;
	}
	free(memcg->path);
	free(memcg);
}

static void mem_cgroup_free_subtree(struct mem_cgroup *memcg)
{
	struct mem_cgroup *child = memcg->children;

	while (child) {
		struct mem_cgroup *next = child->sibling;

		mem_cgroup_free_subtree(child);
		child = next;
	}
	mem_cgroup_free_one(memcg);
}

void memcg_tree_destroy(struct memcg_tree *tree)
{
	HASH_CLEAR(hh, tree->by_path);
	if (tree->root)
		mem_cgroup_free_subtree(tree->root);
	tree->root = NULL;
}

struct mem_cgroup *mem_cgroup_lookup(struct memcg_tree *tree, const char *path)
{
	struct mem_cgroup *memcg = NULL;

	if (!path)
		return NULL;
	HASH_FIND_STR(tree->by_path, path, memcg);
	return memcg;
}

/* "/", or "/name(/name)*" with no empty, "." or ".." components. */
static bool cgroup_path_valid(const char *path)
{
	const char *p = path;

	if (p[0] != '/')
		return false;
	if (p[1] == '\0')
		return true;
	while (*p == '/') {
		const char *start = ++p;

		while (*p && *p != '/')
			p++;
		if (p == start)
			return false;
		if ((p - start == 1 && start[0] == '.') ||
		    (p - start == 2 && start[0] == '.' && start[1] == '.'))
			return false;
	}
	return *p == '\0';
}

int mem_cgroup_create(struct memcg_tree *tree, const char *path, struct mem_cgroup **out)
{
	struct mem_cgroup *parent, *memcg;
	const char *slash;
	char *parent_path;
	size_t len;

	if (!path || !cgroup_path_valid(path) || strcmp(path, "/") == 0)
		return strcmp(path ? path : "", "/") == 0 ? -EEXIST : -EINVAL;
	if (mem_cgroup_lookup(tree, path))
		return -EEXIST;

	slash = strrchr(path, '/');
	len = slash == path ? 1 : (size_t)(slash - path);
	parent_path = strndup(path, len);
	if (!parent_path)
		return -ENOMEM;
	parent = mem_cgroup_lookup(tree, parent_path);
	free(parent_path);
	if (!parent)
		return -ENOENT;

	memcg = mem_cgroup_alloc(tree, parent, path);
	if (!memcg)
		return -ENOMEM;
	HASH_ADD_KEYPTR(hh, tree->by_path, memcg->path, strlen(memcg->path), memcg);
	if (out)
		*out = memcg;
	return 0;
}

struct mem_cgroup *mem_cgroup_online_ancestor(struct mem_cgroup *memcg)
{
	while (memcg && !memcg->online)
		memcg = memcg->parent;
	return memcg;
}

/*
 * memcg_reparent_objcgs(): every objcg that pointed at @memcg now points at
 * the parent and moves to the parent's list, carrying its reference.
 */
static void memcg_reparent_objcgs(struct mem_cgroup *memcg, struct mem_cgroup *parent)
{
	struct obj_cgroup *objcg = memcg->objcg_list, *last = NULL;
	uint64_t n = 0;

	if (!objcg)
		return;
	for (; objcg; objcg = objcg->next) {
		objcg->memcg = parent;
		last = objcg;
		n++;
	}
	last->next = parent->objcg_list;
	parent->objcg_list = memcg->objcg_list;
	memcg->objcg_list = NULL;
	memcg->refcnt -= n;
	parent->refcnt += n;
}

static void mem_cgroup_unlink(struct mem_cgroup *memcg)
{
	struct mem_cgroup **pp = &memcg->parent->children;

	while (*pp != memcg)
		pp = &(*pp)->sibling;
	*pp = memcg->sibling;
}

/* Free a dying memcg nobody references any more, then its dying parents. */
static void mem_cgroup_release(struct memcg_tree *tree, struct mem_cgroup *memcg)
{
	while (memcg && !memcg->online && memcg->refcnt == 0 && !memcg->children) {
		struct mem_cgroup *parent = memcg->parent;

		/*
		 * Its statistics are already part of the parent's hierarchical
		 * numbers (rstat flushed them up); keep them there, or uncharges
		 * that land on the parent after reparenting would drive the
		 * parent's hierarchical stat negative.
		 */
		for (int i = 0; i < MEMCG_NR_STAT; i++)
			parent->stat[i] += memcg->stat[i];
		mem_cgroup_unlink(memcg);
		mem_cgroup_free_one(memcg);
		tree->nr_dying--;
		parent->refcnt--;
		memcg = parent;
	}
}

int mem_cgroup_remove(struct memcg_tree *tree, struct mem_cgroup *memcg)
{
	struct obj_cgroup *objcg;

	if (mem_cgroup_is_root(memcg))
		return -EINVAL;
	if (!memcg->online)
		return -ENOENT;
	if (memcg->nr_tasks || memcg->nr_online_children)
		return -EBUSY;

	HASH_DELETE(hh, tree->by_path, memcg);
	memcg->online = false;
	memcg->parent->nr_online_children--;
	tree->nr_dying++;

	/* memcg_offline_kmem(): the memcg's own objcg reference is dropped... */
	objcg = memcg->objcg;
	memcg->objcg = NULL;
	/* ...and all objcgs follow the nearest online ancestor. */
	memcg_reparent_objcgs(memcg, mem_cgroup_online_ancestor(memcg->parent));
	obj_cgroup_put(tree, objcg);

	mem_cgroup_release(tree, memcg);
	return 0;
}

void mem_cgroup_get(struct mem_cgroup *memcg)
{
	memcg->refcnt++;
}

void mem_cgroup_put(struct memcg_tree *tree, struct mem_cgroup *memcg)
{
	if (!memcg || memcg->refcnt == 0)
		return;
	memcg->refcnt--;
	mem_cgroup_release(tree, memcg);
}

struct obj_cgroup *get_obj_cgroup_from_memcg(struct mem_cgroup *memcg)
{
	struct obj_cgroup *objcg;

	if (!memcg || mem_cgroup_is_root(memcg))
		return NULL;
	/* A dying memcg's charges belong to its nearest online ancestor. */
	memcg = mem_cgroup_online_ancestor(memcg);
	objcg = memcg->objcg;
	if (objcg)
		objcg->refcnt++;
	return objcg;
}

void obj_cgroup_get(struct obj_cgroup *objcg)
{
	if (objcg)
		objcg->refcnt++;
}

static void obj_cgroup_unlink(struct obj_cgroup *objcg)
{
	struct mem_cgroup *memcg = objcg->memcg;
	struct obj_cgroup **pp = &memcg->objcg_list;

	while (*pp != objcg)
		pp = &(*pp)->next;
	*pp = objcg->next;
}

void obj_cgroup_put(struct memcg_tree *tree, struct obj_cgroup *objcg)
{
	struct mem_cgroup *memcg;

	if (!objcg || --objcg->refcnt)
		return;
	/*
	 * obj_cgroup_release(): the last object is gone, so the bytes parked by
	 * drain_obj_stock() add up to whole pages; uncharge them (the kernel
	 * via obj_cgroup_uncharge_pages() on the releasing CPU's stock, the
	 * model directly), then drop the memcg reference.
	 */
	memcg = objcg->memcg;
	if (objcg->nr_charged_bytes >= tree->cfg->page_size) {
		int64_t nr_pages = objcg->nr_charged_bytes / tree->cfg->page_size;

		mod_memcg_state(memcg, MEMCG_KMEM, -nr_pages * (int64_t)tree->cfg->page_size);
		page_counter_uncharge(&memcg->kmem, nr_pages);
		page_counter_uncharge(&memcg->memory, nr_pages);
	}
	obj_cgroup_unlink(objcg);
	free(objcg);
	mem_cgroup_put(tree, memcg);
}

void memcg_memory_event(struct mem_cgroup *memcg, enum memcg_memory_event event)
{
	memcg->events_local[event]++;
	/* memory.events is hierarchical unless memory_localevents is mounted. */
	for (; memcg && !mem_cgroup_is_root(memcg); memcg = memcg->parent)
		memcg->events[event]++;
}

int64_t memcg_stat_read(const struct mem_cgroup *memcg, enum memcg_stat_item idx)
{
	int64_t sum = memcg->stat[idx];

	for (const struct mem_cgroup *c = memcg->children; c; c = c->sibling)
		sum += memcg_stat_read(c, idx);
	return sum;
}

int mem_cgroup_set_max(struct mem_cgroup *memcg, int64_t nr_pages)
{
	if (mem_cgroup_is_root(memcg))
		return -EINVAL;	/* the root has no memory.max file */
	return page_counter_set_max(&memcg->memory, nr_pages);
}

void mem_cgroup_set_high(struct mem_cgroup *memcg, int64_t nr_pages)
{
	page_counter_set_high(&memcg->memory, nr_pages);
}

static int cmp_memcg_id(const void *a, const void *b)
{
	const struct mem_cgroup *x = *(struct mem_cgroup *const *)a;
	const struct mem_cgroup *y = *(struct mem_cgroup *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int memcg_walk_subtree(struct mem_cgroup *memcg, memcg_visit_fn fn, void *arg)
{
	struct mem_cgroup *stack_kids[16], **kids = stack_kids;
	size_t n = 0, i;
	int err;

	err = fn(memcg, arg);
	if (err)
		return err;
	for (struct mem_cgroup *c = memcg->children; c; c = c->sibling)
		n++;
	if (n > 16) {
		kids = malloc(n * sizeof(*kids));
		if (!kids)
			return -ENOMEM;
	}
	i = 0;
	for (struct mem_cgroup *c = memcg->children; c; c = c->sibling)
		kids[i++] = c;
	/* Creation order, not list order: reports must not depend on history. */
	qsort(kids, n, sizeof(*kids), cmp_memcg_id);
	for (i = 0; i < n && !err; i++)
		err = memcg_walk_subtree(kids[i], fn, arg);
	if (kids != stack_kids)
		free(kids);
	return err;
}

int memcg_tree_walk(struct memcg_tree *tree, memcg_visit_fn fn, void *arg)
{
	return memcg_walk_subtree(tree->root, fn, arg);
}

uint64_t memcg_parked_bytes(const struct mem_cgroup *memcg)
{
	uint64_t sum = 0;

	for (const struct obj_cgroup *o = memcg->objcg_list; o; o = o->next)
		sum += o->nr_charged_bytes;
	for (const struct mem_cgroup *c = memcg->children; c; c = c->sibling)
		sum += memcg_parked_bytes(c);
	return sum;
}
