/* SPDX-License-Identifier: MIT */
/*
 * Model of the memory cgroup tree (mm/memcontrol.c): one mem_cgroup per cgroup
 * directory, each with its page_counter, statistics, events and the
 * obj_cgroups whose charges follow the cgroup through reparenting.
 */
#ifndef KMS_MM_MEMCONTROL_H
#define KMS_MM_MEMCONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "kmemsim/config.h"
#include "mm/page_counter.h"

/*
 * memory.stat items the model moves. The kernel keeps some in pages and some
 * in bytes; the model keeps every item in bytes and names them after the
 * memory.stat key they are reported as.
 */
enum memcg_stat_item {
	MEMCG_KMEM,			/* "kernel": every kmem page charge */
	NR_SLAB_UNRECLAIMABLE_B,	/* "slab_unreclaimable" */
	MEMCG_PERCPU_B,			/* "percpu" */
	MEMCG_VMALLOC,			/* "vmalloc" (5.17+ kernels show it) */
	MEMCG_NR_STAT,
};

/* memory.events (v2); hierarchical like the kernel's default memory.events. */
enum memcg_memory_event {
	MEMCG_LOW,
	MEMCG_HIGH,
	MEMCG_MAX,
	MEMCG_OOM,
	MEMCG_OOM_KILL,
	MEMCG_NR_MEMORY_EVENTS,
};

struct mem_cgroup;

/*
 * An obj_cgroup is what slab and percpu objects (5.9+) and kmem pages (5.13+)
 * remember as their owner. When its memcg goes offline it is pointed at the
 * parent, so later uncharges land there: the kernel's memcg_reparent_objcgs().
 */
struct obj_cgroup {
	struct mem_cgroup *memcg;
	uint64_t refcnt;
	/* Sub-page bytes parked when the objcg left a CPU's obj stock. */
	uint32_t nr_charged_bytes;
	struct obj_cgroup *next;	/* on memcg->objcg_list */
};

struct mem_cgroup {
	uint64_t id;			/* creation order, for stable reports */
	char *path;			/* "/", "/a", "/a/b" */
	struct mem_cgroup *parent;
	struct mem_cgroup *children;	/* online and dying children */
	struct mem_cgroup *sibling;

	struct page_counter memory;	/* memory.current / memory.max */
	struct page_counter kmem;	/* cgroup v1 memory.kmem.usage_in_bytes */

	int64_t stat[MEMCG_NR_STAT];	/* local, bytes */
	uint64_t events[MEMCG_NR_MEMORY_EVENTS];	/* hierarchical */
	uint64_t events_local[MEMCG_NR_MEMORY_EVENTS];

	struct obj_cgroup *objcg;	/* current objcg (NULL once offline) */
	struct obj_cgroup *objcg_list;	/* objcgs pointing here, incl. reparented */

	uint32_t nr_tasks;
	uint32_t nr_online_children;
	uint64_t refcnt;		/* css references (tasks excluded) */
	bool online;			/* false after rmdir: "dying" */

	UT_hash_handle hh;		/* in memcg_tree.by_path while online */
};

struct memcg_tree {
	const struct kms_config *cfg;
	struct mem_cgroup *root;
	struct mem_cgroup *by_path;	/* online cgroups, keyed by path */
	uint64_t next_id;
	uint64_t nr_dying;
};

int memcg_tree_init(struct memcg_tree *tree, const struct kms_config *cfg);
void memcg_tree_destroy(struct memcg_tree *tree);

/* Online cgroup by path, or NULL. */
struct mem_cgroup *mem_cgroup_lookup(struct memcg_tree *tree, const char *path);

/* mkdir: -EEXIST, -ENOENT (no parent), -EINVAL (malformed path), -ENOMEM. */
int mem_cgroup_create(struct memcg_tree *tree, const char *path, struct mem_cgroup **out);

/*
 * rmdir: -EBUSY with tasks or online children, -EINVAL for the root. A memcg
 * that still holds charges stays alive ("dying") and its objcgs are
 * reparented; it is freed when its last reference is put.
 */
int mem_cgroup_remove(struct memcg_tree *tree, struct mem_cgroup *memcg);

static inline bool mem_cgroup_is_root(const struct mem_cgroup *memcg)
{
	return memcg->parent == NULL;
}

/* Nearest online ancestor-or-self: where a dying memcg's charges now belong. */
struct mem_cgroup *mem_cgroup_online_ancestor(struct mem_cgroup *memcg);

void mem_cgroup_get(struct mem_cgroup *memcg);
void mem_cgroup_put(struct memcg_tree *tree, struct mem_cgroup *memcg);

/* Stat and event updates, in bytes for stats. */
static inline void mod_memcg_state(struct mem_cgroup *memcg, enum memcg_stat_item idx,
				   int64_t bytes)
{
	memcg->stat[idx] += bytes;
}
void memcg_memory_event(struct mem_cgroup *memcg, enum memcg_memory_event event);

/* Hierarchical stat (self and all descendants, dying ones included), bytes. */
int64_t memcg_stat_read(const struct mem_cgroup *memcg, enum memcg_stat_item idx);

/* memory.max / memory.high in pages; set_max gives -EBUSY below usage. */
int mem_cgroup_set_max(struct mem_cgroup *memcg, int64_t nr_pages);
void mem_cgroup_set_high(struct mem_cgroup *memcg, int64_t nr_pages);

/* objcg references: get the memcg's current objcg (NULL for root/offline). */
struct obj_cgroup *get_obj_cgroup_from_memcg(struct mem_cgroup *memcg);
void obj_cgroup_get(struct obj_cgroup *objcg);
void obj_cgroup_put(struct memcg_tree *tree, struct obj_cgroup *objcg);

/* Bytes parked in objcg->nr_charged_bytes by objcgs of @memcg's subtree. */
uint64_t memcg_parked_bytes(const struct mem_cgroup *memcg);

/* Visit every memcg, online and dying, parents before children, by id. */
typedef int (*memcg_visit_fn)(struct mem_cgroup *memcg, void *arg);
int memcg_tree_walk(struct memcg_tree *tree, memcg_visit_fn fn, void *arg);

const char *memcg_stat_name(enum memcg_stat_item idx);
const char *memcg_event_name(enum memcg_memory_event event);

#endif
