/* SPDX-License-Identifier: MIT */
/*
 * Internals of the BPF model (kernel/bpf/): objects, maps, the per-family
 * operations and the helpers every family allocates through. Each family file
 * mirrors the kernel file of the same name.
 */
#ifndef KMS_BPF_BPF_H
#define KMS_BPF_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmemsim/bpf.h"
#include "bpf/keyset.h"
#include "core/sim.h"
#include "mm/alloc.h"
#include "profiles/profile.h"

#define U32_MAX 0xffffffffu

/* A group of identical allocations: one charge record stands for @n objects. */
struct bpf_charge_group {
	struct kmem_charge c;
	uint64_t n;
};

struct bpf_charges {
	struct bpf_charge_group *v;
	uint32_t nr, cap;
};

/* Bytes now and at peak, paid (per allocator kind) and unpaid. */
struct bpf_ledger {
	uint64_t charged[KMS_MEM_NR];
	uint64_t charged_peak[KMS_MEM_NR];
	uint64_t unpaid, unpaid_peak;
};

struct bpf_obj {
	uint32_t id;
	uint64_t owner;			/* alloc_ctx.owner: the allocator ledger's handle */
	enum kms_bpf_obj_kind kind;
	uint32_t refcnt;
	bool freed;
	int32_t creator_pid;
	uint32_t creator_uid;
	char *creator_cgroup;		/* path at creation, owned */
	char name[16];
	struct bpf_ledger led;
	struct bpf_charges allocs;	/* everything allocated outside elements */
	/* rlimit scheme: pages held on @user (map->memory / prog->aux->user) */
	struct user_struct *user;
	uint64_t memlock_pages;
	uint64_t memlock_pages_peak;	/* highest memlock_pages, for reports after the free */
	/* memcg the object's memory belongs to (map memcg, prog loader), ref held */
	struct mem_cgroup *owner_memcg;
};

struct bpf_map;
struct kms_bpf;

/* Per element: up to two allocations (element + per-cpu value, storage + buffer). */
struct elem_alloc {
	struct kmem_charge c[2];
	uint8_t nr;
};

/* Element charge groups: elements whose allocations are identical share one entry. */
struct elem_group {
	struct elem_alloc a;
	uint64_t n;
};

struct bpf_mem_alloc;

struct bpf_map_ops {
	/* map_alloc_check + map_alloc: validate, 5.10 cost, allocations. */
	int (*map_alloc)(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac);
	/* Free element memory (the creation allocations are freed generically). */
	void (*map_free)(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac);
	int (*map_update)(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			  uint64_t key, uint32_t flags, uint32_t obj_id);
	int (*map_delete)(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			  uint64_t key, bool pop);
	/* 6.4+ fdinfo memlock */
	uint64_t (*map_mem_usage)(const struct kms_bpf *w, const struct bpf_map *map);
};

struct bpf_map {
	struct bpf_obj obj;
	const struct bpf_map_ops *ops;
	enum kms_map_type type;
	uint32_t key_size, value_size, max_entries, map_flags;
	uint64_t map_extra;
	uint32_t inner_map_id;
	bool frozen;
	bool bypass_spec_v1;		/* creator was bpf_capable() */
	/* map->memcg (5.11) or map->objcg (6.0+), saved after map_alloc */
	bool saved;
	struct mem_cgroup *memcg;
	struct obj_cgroup *objcg;

	/* family state */
	uint64_t n_buckets;
	uint32_t elem_size;
	uint64_t count;			/* live elements */
	uint32_t aux;			/* ringbuf data pages, bloom bitset bytes, ... */
	struct keyset keys;		/* live keys; keyset value = group index or object id */
	struct elem_group *groups;
	uint32_t nr_groups, cap_groups;
	uint32_t last_group;		/* the group bpf_elem_group() found last */
	struct bpf_mem_alloc *ma, *pcpu_ma;
	/* cgroup storage: live storages (key = cgroup id << 32 | attach type) */
	struct keyset storages;
	uint32_t evict_cursor;		/* LRU eviction position */
	uint64_t seq;			/* lpm: names of intermediate nodes */
};

struct bpf_prog {
	struct bpf_obj obj;
	uint32_t prog_type, expected_attach_type;
	uint32_t len;			/* instructions now */
	uint32_t pages;			/* prog->pages */
	uint32_t *map_ids;
	uint32_t nr_map_ids;
	uint32_t nr_attach;
};

struct bpf_btf {
	struct bpf_obj obj;
	uint32_t size;
};

struct bpf_link {
	struct bpf_obj obj;
	uint32_t prog_id;
};

/* A bpffs file: its inode and dentry, charged to the pinning task's memcg. */
struct bpf_pin {
	char *path;
	uint32_t id;
	struct kmem_charge inode, dentry;
};

struct bpf_attach {
	uint32_t prog_id;
	uint64_t cgroup_id;
	uint32_t attach_type;
	uint32_t link;			/* owning link id, 0 for BPF_PROG_ATTACH */
};

struct kms_bpf {
	struct kms_sim *sim;
	const struct kms_profile *p;
	struct bpf_obj **objs;		/* by id - 1 */
	uint32_t nr_objs, cap_objs;
	struct bpf_pin *pins;
	uint32_t nr_pins, cap_pins;
	struct kmem_cache *inode_cachep, *dentry_cache;
	struct bpf_attach *attach;
	uint32_t nr_attach, cap_attach;
	uint64_t next_owner;
	/* local storage owners (socket, inode, task, cgroup): live elements per owner */
	struct keyset ls_owners;
	/*
	 * Freed objects stay for the report, but only the newest
	 * BPF_FREED_KEPT: a trace that creates and closes maps for hours must
	 * not grow the replay's memory. Older ones are dropped (objs[] NULL).
	 */
	uint32_t *freed_ring;
	uint32_t freed_head, freed_len;
	uint64_t nr_dropped;
	char err[256];
};

#define BPF_FREED_KEPT 1024u

/* ---- syscall.c: the helpers every family uses ---- */

/* Room for one more element in the growable array *@pv of @nr used, @cap allocated. */
int bpf_array_reserve(void *pv, uint32_t nr, uint32_t *cap, size_t size);

int bpf_err(struct kms_bpf *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* -ENOMEM with the memcg level that refused: "/a memory.max 1M exceeded at /a, failcnt 3". */
int bpf_err_enomem(struct kms_bpf *w, struct mem_cgroup *memcg, const char *what);

static inline uint32_t page_size(const struct kms_bpf *w)
{
	return w->sim->cfg.page_size;
}

static inline uint32_t nr_cpus(const struct kms_bpf *w)
{
	return w->sim->cfg.nr_cpus;
}

static inline uint64_t round_up_u64(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

/* roundup_pow_of_two(); 0 when it does not fit in 32 bits (the kernel's overflow check). */
uint64_t roundup_pow_of_two_u32(uint64_t x);

/* gfp for "accounted" allocations on this profile (__GFP_ACCOUNT only with memcg BPF accounting). */
gfp_t bpf_account(const struct kms_bpf *w, gfp_t gfp);

/* 5.10 bpf_map_charge_init(): E2BIG / EPERM; no-op on memcg profiles. */
int bpf_map_charge_init(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			uint64_t cost);

/* Allocations recorded on the object (freed at map free or on a failed create). */
int bpf_map_area_alloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		       uint64_t size, bool mmapable);
int bpf_obj_kmalloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		    uint64_t size, gfp_t gfp);
int bpf_obj_vmalloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		    uint64_t size, gfp_t gfp);
int bpf_obj_alloc_percpu(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
			 uint64_t size, gfp_t gfp, uint64_t n);
int bpf_obj_alloc_pages(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
			unsigned int order, gfp_t gfp, uint64_t n);
/* Free the @idx-th recorded allocation group's first object now. */
void bpf_obj_free_alloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
			uint32_t idx);
/* bpf_map_kmalloc_node() / bpf_map_alloc_percpu(): the map's memcg as the profile says. */
int bpf_map_kmalloc_node(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			 uint64_t size, gfp_t gfp, struct kmem_charge *out);
int bpf_map_alloc_percpu(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			 uint64_t size, gfp_t gfp, struct kmem_charge *out);
/* Same, recorded on the map as creation-time allocations (@n identical ones). */
int bpf_map_kmalloc_rec(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			uint64_t size, gfp_t gfp, uint64_t n);
int bpf_map_percpu_rec(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		       uint64_t size, gfp_t gfp, uint64_t n);
/* The memcg a helper would set active for @map in @ac (NULL: leave current). */
struct mem_cgroup *bpf_map_helper_memcg(struct kms_bpf *w, const struct bpf_map *map,
					const struct alloc_ctx *ac, bool *set);

/* The memcg a helper allocation for @map in @ac charges (for failure reasons). */
struct mem_cgroup *bpf_map_charged_memcg(struct kms_bpf *w, const struct bpf_map *map,
					 const struct alloc_ctx *ac);

/* Ledger: an allocation charged or freed for object @o. */
void bpf_ledger_add(struct kms_bpf *w, struct bpf_obj *o, const struct kmem_charge *c,
		    int64_t n);

/* Elements: charge groups and the per-key table. */
/* The group of @a in the array *@v (appended if new): charge identity ignores the CPU. */
int elem_group_find(struct elem_group **v, uint32_t *nr, uint32_t *cap,
		    const struct elem_alloc *a, uint32_t *idx);
int bpf_elem_group(struct bpf_map *map, const struct elem_alloc *a, uint32_t *idx);
int bpf_elem_insert(struct kms_bpf *w, struct bpf_map *map, uint64_t key,
		    const struct elem_alloc *a);
/* Update flags: EINVAL beyond BPF_EXIST (+ @extra bits), EEXIST for NOEXIST, ENOENT for EXIST. */
int bpf_check_update_flags(struct kms_bpf *w, uint32_t flags, uint32_t extra, bool exists,
			   uint64_t key);
/* Insert, or on failure free @a's allocations. */
int bpf_elem_insert_or_free(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			    uint64_t key, struct elem_alloc *a);
/* Free allocations not yet booked to any element (error paths). */
void bpf_elem_alloc_free(struct kms_bpf *w, const struct alloc_ctx *ac, struct elem_alloc *a);
/* Drop @key and free its allocations after RCU; false if absent. */
bool bpf_elem_remove(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		     uint64_t key);
/* Free the element's allocations (RCU-deferred when @rcu) and drop it from the group. */
void bpf_elem_release(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		      uint32_t group, bool rcu);
void bpf_elems_free_all(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac);

/* Object references held by the model itself (map-in-map, prog_array, progs). */
static inline struct bpf_obj *bpf_obj_find(const struct kms_bpf *w, uint32_t id)
{
	if (id == 0 || id > w->nr_objs)
		return NULL;
	return w->objs[id - 1];
}

static inline struct bpf_map *bpf_map_find(const struct kms_bpf *w, uint32_t id)
{
	struct bpf_obj *o = bpf_obj_find(w, id);

	return o && !o->freed && o->kind == KMS_OBJ_MAP ? (struct bpf_map *)o : NULL;
}
void bpf_obj_ref(struct bpf_obj *o);
void bpf_obj_unref(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_obj *o);

/* Map footprint (5.11..6.3 fdinfo memlock). */
uint64_t bpf_map_memory_footprint(const struct kms_bpf *w, const struct bpf_map *map);

/* ---- the families ---- */
extern const struct bpf_map_ops array_map_ops, percpu_array_map_ops, fd_array_map_ops;
extern const struct bpf_map_ops htab_map_ops;
extern const struct bpf_map_ops trie_map_ops;
extern const struct bpf_map_ops queue_stack_map_ops;
extern const struct bpf_map_ops ringbuf_map_ops;
extern const struct bpf_map_ops stack_trace_map_ops;
extern const struct bpf_map_ops dev_map_ops, cpu_map_ops, xsk_map_ops;
extern const struct bpf_map_ops sock_map_ops, reuseport_array_ops;
extern const struct bpf_map_ops cgroup_storage_map_ops;
extern const struct bpf_map_ops local_storage_map_ops;
extern const struct bpf_map_ops struct_ops_map_ops;
extern const struct bpf_map_ops bloom_filter_map_ops;
extern const struct bpf_map_ops arena_map_ops;

/* local_storage.c: cgroup storages at attach/detach */
int bpf_cgroup_storage_attach(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			      struct task *attacher, uint64_t cgroup_id, uint32_t attach_type);
void bpf_cgroup_storage_detach(struct kms_bpf *w, struct bpf_map *map,
			       const struct alloc_ctx *ac, uint64_t cgroup_id,
			       uint32_t attach_type);

/* core.c / btf.c */
int btf_parse(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_btf *btf, uint32_t size);
int bpf_prog_load(struct kms_bpf *w, const struct alloc_ctx *ac, struct task *t,
		  const struct kms_prog_attr *attr, struct bpf_prog *prog);
void bpf_prog_free(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_prog *prog);

/* The map type's name for messages ("unknown" for a value no kernel has). */
const char *bpf_map_type_str(enum kms_map_type type);

/*
 * The index an array-like map (array, devmap, xskmap, sockmap, ...) sees for
 * a trace's key. A key below 2^32 is the index as a person wrote it and is
 * range-checked like the kernel's (E2BIG); a larger one is a key id (FNV-1a
 * of the 4 index bytes, or an id the replay made up), which cannot be turned
 * back into the index, so it is folded into range: arrays allocate nothing
 * per index, and the recorded result says whether the real index fit.
 */
static inline uint64_t bpf_array_index(const struct bpf_map *m, uint64_t key)
{
	if (key >> 32 && m->max_entries)
		return key % m->max_entries;
	return key;
}

/* 5.10: pages now charged on the creator's locked_vm for @o (and their peak). */
static inline void bpf_obj_memlock_add(struct bpf_obj *o, uint64_t pages)
{
	o->memlock_pages += pages;
	if (o->memlock_pages > o->memlock_pages_peak)
		o->memlock_pages_peak = o->memlock_pages;
}

#endif
