/* SPDX-License-Identifier: MIT */
/*
 * The BPF world of one simulation: maps, programs, BTF objects, pins and
 * cgroup attachments, charged as the bound kernel profile charges them.
 *
 * Objects are named by id (one id space for maps, programs and BTF, from 1,
 * in creation order). References: creating an object returns one reference
 * (the new fd); the replay engine owns fd tables and calls kms_bpf_obj_get()
 * for dup/fork/SCM_RIGHTS and kms_bpf_obj_put() for each close. An object is
 * freed when its last reference (fds, pins, programs using a map, outer maps,
 * attachments) goes away.
 *
 * Every call returns 0 (or an id) or a negative errno exactly as the modelled
 * kernel would; the reason of the last failure is in kms_bpf_strerror().
 * Nothing prints.
 */
#ifndef KMEMSIM_BPF_H
#define KMEMSIM_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmemsim/uapi.h"

struct kms_sim;
struct kms_profile;
struct kms_bpf;

/* map_flags bits (uapi BPF_F_*) that matter to memory */
#define KMS_F_NO_PREALLOC	(1u << 0)
#define KMS_F_NO_COMMON_LRU	(1u << 1)
#define KMS_F_NUMA_NODE		(1u << 2)
#define KMS_F_RDONLY		(1u << 3)
#define KMS_F_WRONLY		(1u << 4)
#define KMS_F_STACK_BUILD_ID	(1u << 5)
#define KMS_F_ZERO_SEED		(1u << 6)
#define KMS_F_RDONLY_PROG	(1u << 7)
#define KMS_F_WRONLY_PROG	(1u << 8)
#define KMS_F_CLONE		(1u << 9)
#define KMS_F_MMAPABLE		(1u << 10)
#define KMS_F_PRESERVE_ELEMS	(1u << 11)
#define KMS_F_INNER_MAP		(1u << 12)

/* update flags */
#define KMS_ANY		0u
#define KMS_NOEXIST	1u
#define KMS_EXIST	2u

/*
 * A map type from a user's spelling: "hash", "lru_percpu_hash" (bpftool's
 * names), "BPF_MAP_TYPE_HASH", any case. KMS_MAP_TYPE_UNSPEC if unknown.
 */
enum kms_map_type kms_bpf_map_type_parse(const char *name);

/*
 * Who makes a call, where and when. In task context @pid is the caller. In
 * interrupt context "current" is the interrupted task: @interrupted_pid
 * (0 = the idle task / a kernel thread).
 */
struct kms_bpf_ctx {
	int32_t pid;
	uint32_t cpu;
	enum kms_exec_ctx ctx;
	uint64_t now_ns;
	int32_t interrupted_pid;
	/*
	 * A BPF program's helper call (bpf_map_update_elem() from a program),
	 * not a bpf(2) command: kernel.unprivileged_bpf_disabled, which gates
	 * only the system call, does not apply, even in task context.
	 */
	bool from_prog;
};

/*
 * A world bound to @sim and @profile (both must outlive it; the profile is
 * not copied). Loads the profile's allocator parameters into @sim, so create
 * it before anything is allocated there (-EBUSY otherwise). Create @sim
 * with kms_profile_config() and tasks with kms_profile_rlimit_memlock().
 */
int kms_bpf_new(struct kms_sim *sim, const struct kms_profile *profile, struct kms_bpf **out);
/* Frees every live object (uncharging it) and the world. */
void kms_bpf_free(struct kms_bpf *w);

/* One line: why the last failing call failed ("" after a success). */
const char *kms_bpf_strerror(const struct kms_bpf *w);

struct kms_map_attr {
	enum kms_map_type type;	/* or KMS_MAP_TYPE_UNSPEC and type_name */
	const char *type_name;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t inner_map_id;	/* map-in-map template (an object id), 0 = none */
	uint64_t map_extra;	/* bloom filter: number of hash functions (low 4 bits) */
	uint32_t btf_vmlinux_value_type_size;	/* struct_ops: size of the kernel struct */
	uint32_t struct_ops_nr_funcs;		/* struct_ops: function pointers in it */
	const char *name;	/* up to 15 chars kept */
};

/* BPF_MAP_CREATE: the new map's id (> 0) or -errno. */
int kms_bpf_map_create(struct kms_bpf *w, const struct kms_bpf_ctx *c,
		       const struct kms_map_attr *attr);

/*
 * BPF_MAP_UPDATE_ELEM / bpf_map_update_elem(): @key is a 64-bit identity of
 * the key bytes (the trace's hash of them); queue/stack: a push, @key unused.
 */
int kms_bpf_map_update(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
		       uint64_t key, uint32_t flags);
/* Update whose value is an object: map-in-map (inner map id) and prog_array (prog id). */
int kms_bpf_map_update_obj(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			   uint64_t key, uint32_t obj_id, uint32_t flags);
int kms_bpf_map_delete(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
		       uint64_t key);
/* BPF_MAP_LOOKUP_AND_DELETE_ELEM; queue/stack: pop. */
int kms_bpf_map_lookup_and_delete(struct kms_bpf *w, const struct kms_bpf_ctx *c,
				  uint32_t map_id, uint64_t key);
/* Batch forms: @n keys, stop at the first error; *@done = ops completed (as uattr->count). */
int kms_bpf_map_update_batch(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			     const uint64_t *keys, uint32_t n, uint32_t flags, uint32_t *done);
int kms_bpf_map_delete_batch(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			     const uint64_t *keys, uint32_t n, uint32_t *done);
int kms_bpf_map_freeze(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id);

struct kms_prog_attr {
	uint32_t prog_type;		/* enum bpf_prog_type */
	uint32_t expected_attach_type;
	uint32_t insn_cnt;		/* as loaded */
	uint32_t final_insn_cnt;	/* after verifier rewrites (xlated), 0 = same */
	uint32_t func_info_cnt;
	uint32_t line_info_cnt;
	const uint32_t *map_ids;	/* maps the program uses (each takes a reference) */
	uint32_t nr_map_ids;
	bool sleepable;
	const char *name;
};

/* BPF_PROG_LOAD: the program's id or -errno. */
int kms_bpf_prog_load(struct kms_bpf *w, const struct kms_bpf_ctx *c,
		      const struct kms_prog_attr *attr);
/* BPF_BTF_LOAD of @size bytes: id or -errno. Never charged; tracked for the report. */
int kms_bpf_btf_load(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t size);

/* References: another fd (dup, fork, BPF_*_GET_FD_BY_ID) / one fd closed. */
int kms_bpf_obj_get(struct kms_bpf *w, uint32_t id);
int kms_bpf_obj_put(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t id);
/* bpffs: BPF_OBJ_PIN takes a reference, unlink(2) drops it, BPF_OBJ_GET returns a new one. */
int kms_bpf_obj_pin(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t id,
		    const char *path);
int kms_bpf_obj_unpin(struct kms_bpf *w, const struct kms_bpf_ctx *c, const char *path);
/* BPF_OBJ_GET: the pinned object's id with a new reference, or -ENOENT. */
int kms_bpf_obj_get_pinned(struct kms_bpf *w, const struct kms_bpf_ctx *c, const char *path);

/*
 * BPF_PROG_ATTACH to a cgroup (by path): allocates the program's cgroup
 * storages for (cgroup, attach type) as the profile does. Detach frees them
 * when no attachment uses them any more.
 */
int kms_bpf_prog_attach(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			const char *cgroup, uint32_t attach_type);
int kms_bpf_prog_detach(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			const char *cgroup, uint32_t attach_type);

/*
 * BPF_LINK_CREATE: a link (an object, id returned) holding the program; with
 * @cgroup non-NULL a cgroup attachment (storages as for prog_attach) that
 * ends when the link's last reference goes. @cgroup NULL: any other target
 * (kprobe, tracepoint, ...), which only holds the program.
 */
int kms_bpf_link_create(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			const char *cgroup, uint32_t attach_type);
/*
 * The cgroup @cgroup is going away (call before kms_cgroup_remove()): its
 * programs are detached and their cgroup storages freed, as the kernel's
 * cgroup_bpf_release() does; links to it stay, defunct, until closed.
 */
int kms_bpf_cgroup_release(struct kms_bpf *w, const struct kms_bpf_ctx *c, const char *cgroup);
/* BPF_PROG_TEST_RUN: transient cgroup storages (5.10: can fail with ENOMEM on memlock). */
int kms_bpf_prog_test_run(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id);
/* BPF_PROG_BIND_MAP: the program holds @map_id until it is freed. */
int kms_bpf_prog_bind_map(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			  uint32_t map_id);

/* ---- reports ---- */

enum kms_bpf_obj_kind { KMS_OBJ_MAP, KMS_OBJ_PROG, KMS_OBJ_BTF, KMS_OBJ_LINK };

/* Where memory went, as the report splits it. */
enum kms_mem_kind { KMS_MEM_SLAB, KMS_MEM_PERCPU, KMS_MEM_VMALLOC, KMS_MEM_PAGES, KMS_MEM_NR };

struct kms_bpf_obj_info {
	uint32_t id;
	uint64_t owner;			/* the allocator ledger's owner handle (kms_ledger_read) */
	enum kms_bpf_obj_kind kind;
	const char *type_name;		/* map type name, "prog", "btf", "link" */
	char name[16];
	int32_t creator_pid;
	uint32_t creator_uid;
	const char *creator_cgroup;	/* the creator's cgroup at creation ("/" for root) */
	const char *memcg_path;		/* cgroup charged now (follows reparenting), or NULL */
	uint32_t max_entries;
	uint64_t nr_elems;		/* live elements (maps) */
	/* Bytes charged to a memory cgroup, now and at peak, per allocator. */
	uint64_t charged[KMS_MEM_NR];
	uint64_t charged_peak[KMS_MEM_NR];
	/* Bytes allocated that no cgroup pays for (unaccounted, root, nobpf, bypassed). */
	uint64_t unpaid;
	uint64_t unpaid_peak;
	uint64_t locked_vm_pages;	/* rlimit scheme: pages held on the creator's uid */
	uint64_t locked_vm_pages_peak;
	uint64_t memlock;		/* what fdinfo "memlock:" shows on this kernel */
	uint32_t refcnt;
	bool freed;
};

/* Object @id (live or freed). -ENOENT if never created. */
int kms_bpf_obj_info(const struct kms_bpf *w, uint32_t id, struct kms_bpf_obj_info *out);
/*
 * Ids in order: first id after @id (0 to start), 0 at the end. Freed
 * objects are reported until 1024 newer ones were freed; older ones are
 * dropped (kms_bpf_obj_info() -ENOENT) so memory stays bounded by live objects.
 */
uint32_t kms_bpf_obj_next(const struct kms_bpf *w, uint32_t id);
/* How many freed objects were dropped from the report that way. */
uint64_t kms_bpf_nr_dropped(const struct kms_bpf *w);

struct kms_bpf_totals {
	uint64_t charged;		/* bytes charged to some memcg by BPF objects */
	uint64_t unpaid;		/* bytes no cgroup pays for */
	uint64_t btf_bytes;		/* live BTF, never charged */
	uint32_t live_maps, live_progs, live_btfs, live_links;
};
void kms_bpf_totals(const struct kms_bpf *w, struct kms_bpf_totals *out);

/*
 * The BPF world against its simulation: per uid, locked_vm_bpf equals the
 * pages live objects hold; each live object's charged bytes equal the
 * allocator ledger's under its owner handle. 0, or -EUCLEAN with the first
 * violation in @why (both numbers).
 */
int kms_bpf_check_invariants(const struct kms_bpf *w, char *why, size_t len);

#endif
