/* SPDX-License-Identifier: MIT */
/*
 * The inside of a kernel profile. Only src/bpf and src/profiles read these
 * fields; everything else goes through include/kmemsim/profile.h.
 */
#ifndef KMS_PROFILES_PROFILE_H
#define KMS_PROFILES_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "kmemsim/config.h"
#include "kmemsim/profile.h"
#include "mm/alloc.h"
#include "mm/params.h"

/* A struct size and where the number comes from. */
struct ksize {
	uint32_t bytes;
	const char *src;	/* "BTF 6.18.44", "est. 5.10 source", ... */
};

/* Struct sizes of one kernel (x86-64). */
struct kms_struct_sizes {
	struct ksize bpf_map;
	struct ksize bpf_array;		/* == offsetof(bpf_array, value) */
	struct ksize bpf_array_aux;
	struct ksize bpf_htab;
	struct ksize htab_elem;
	struct ksize bucket;
	struct ksize bpf_prog_insns;	/* offsetof(struct bpf_prog, insns) */
	struct ksize bpf_prog_aux;
	struct ksize bpf_prog_stats;
	struct ksize lpm_trie;
	struct ksize lpm_trie_node;
	struct ksize bpf_queue_stack;
	struct ksize bpf_stack_map;
	struct ksize stack_map_bucket;
	struct ksize bpf_ringbuf;
	struct ksize bpf_ringbuf_map;
	struct ksize bpf_dtab;
	struct ksize bpf_dtab_netdev;
	struct ksize bpf_cpu_map;
	struct ksize bpf_cpu_map_entry;
	struct ksize ptr_ring;
	struct ksize xdp_bulk_queue;
	struct ksize xsk_map;
	struct ksize xsk_map_node;
	struct ksize bpf_stab;
	struct ksize bpf_shtab;
	struct ksize bpf_shtab_elem;
	struct ksize bpf_shtab_bucket;
	struct ksize reuseport_array;
	struct ksize bpf_local_storage_map;
	struct ksize bpf_local_storage_map_bucket;
	struct ksize bpf_local_storage;
	struct ksize bpf_local_storage_elem;
	struct ksize selem_data_offset;	/* offsetof(bpf_local_storage_elem, sdata.data) */
	struct ksize bpf_cgroup_storage_map;
	struct ksize bpf_cgroup_storage;
	struct ksize bpf_storage_buffer;
	struct ksize bpf_struct_ops_map;
	struct ksize bpf_struct_ops_value;
	struct ksize bpf_mem_cache;
	struct ksize bpf_bloom_filter;
	struct ksize bpf_arena;
	/* bpffs pins: the slab object sizes (s->size) of inode_cache and dentry */
	struct ksize inode_cache;
	struct ksize dentry;
};

enum kms_acct_scheme {
	ACCT_RLIMIT,	/* <= 5.10: cost in pages against user->locked_vm */
	ACCT_MEMCG,	/* 5.11+: __GFP_ACCOUNT allocations */
};

/* Whom the bpf_map_kmalloc_node()-style helpers charge. */
enum kms_helper_target {
	HELPER_MAP,		/* v9 / 5.11+: always set_active_memcg(map's memcg) */
	HELPER_MAP_IN_INTERRUPT,	/* series v7: map's memcg only when in_interrupt() */
	HELPER_NONE,		/* what-if: no active memcg at all */
};

/* What a helper sees while map_alloc runs (map->memcg/objcg not saved yet). */
enum kms_unsaved_memcg {
	UNSAVED_CURRENT,	/* 5.11..5.19: set_active_memcg(NULL) -> current task pays */
	UNSAVED_ROOT,		/* 6.0+: NULL objcg means root_mem_cgroup -> nobody pays */
};

/* What fdinfo "memlock:" of a map prints. */
enum kms_fdinfo_era {
	FDINFO_CHARGE,		/* 5.10: map->memory.pages << PAGE_SHIFT */
	FDINFO_FOOTPRINT,	/* 5.11..6.3: bpf_map_memory_footprint() */
	FDINFO_MEM_USAGE,	/* 6.4+: ops->map_mem_usage() */
};

/* Map types the model knows, numbered as enum bpf_map_type in uapi/linux/bpf.h. */
#define KMS_NR_MAP_TYPES 34

struct kms_profile {
	char name[48];
	char description[160];
	char error[160];		/* last kms_profile_set() failure */
	uint32_t version;		/* KERNEL_VERSION-like: 5 << 16 | 10 << 8 */

	struct kms_config cfg;		/* cpus, page size, memcg/kmem/bpf knobs */
	uint64_t rlimit_memlock;	/* default soft limit of a task, bytes */

	/* Allocator parameters (become struct mm_params once mm/params.h lands). */
	uint32_t memcg_charge_batch;	/* MEMCG_CHARGE_BATCH: 32 (<= 6.0), 64 (6.1+) */
	uint32_t stock_slots;		/* NR_MEMCG_STOCK: 1 (<= 6.15), 7 (6.16+) */
	bool percpu_objcg_overhead;	/* pcpu_obj_full_size() adds size/4*8 (5.17+) */
	bool objcg_kmem_pages;		/* kmem pages charged through objcg (5.13+) */

	enum kms_acct_scheme scheme;
	enum kms_helper_target helper;
	enum kms_unsaved_memcg unsaved;
	enum kms_fdinfo_era fdinfo;
	/* bpf_map_save_memcg(): objcg (reparented on rmdir, 6.0+) or a memcg ref (dying). */
	bool map_objcg;
	/* gfp of element allocations on update (GFP_ATOMIC 5.11..5.19, GFP_NOWAIT 6.0+). */
	gfp_t elem_gfp;
	/*
	 * Non-prealloc hash elements from bpf_mem_alloc (6.1+); LPM nodes too with
	 * the 6.13 LPM series, which also made it honour BPF_NOEXIST/BPF_EXIST
	 * and accept replacements in a full trie.
	 */
	bool hash_mem_alloc;
	bool lpm_mem_alloc;
	/*
	 * 6.4+ (Martin KaFai Lau's local storage series): task and cgrp storage
	 * maps get two bpf_mem_alloc caches (selem and storage) at creation, and
	 * smap->elem_size shrinks from sizeof(selem) + value_size to
	 * offsetof(struct bpf_local_storage_elem, sdata.data[value_size]).
	 */
	bool local_storage_bpf_ma;
	/*
	 * htab_has_extra_elems() also excludes fd htabs (hash_of_maps): 6.18
	 * has is_fd_htab() there; 5.10/5.11 prealloc_init() gives every
	 * non-percpu non-LRU hash num_possible_cpus() extra elements.
	 */
	bool fd_htab_no_extra_elems;
	/* htab->map_locked: HASHTAB_MAP_LOCK_COUNT per-cpu ints allocated (5.9..6.14). */
	bool htab_map_locked;
	/* stack_map_alloc() fix (upstream b45043192b3e, 2022): cost and smap area without the elements. */
	bool stack_trace_cost_fixed;
	/* cgroup storage at attach goes through the map helpers (5.11+: the map's memcg). */
	bool cgroup_storage_map_helpers;
	/*
	 * NMI (perf_event) programs may update non-preallocated hash maps: 6.1+
	 * (bpf_mem_alloc, 34dd3bad1a6f); before, the verifier rejects the program
	 * ("perf_event programs can only use preallocated hash map").
	 */
	bool nmi_noprealloc_ok;
	/* Programs: extra per-cpu `active` int (6.x) besides the stats. */
	bool prog_active_percpu;
	/*
	 * sysctl kernel.unprivileged_bpf_disabled: 0 allows unprivileged bpf(),
	 * 1 and 2 refuse it (EPERM). Default 2 since 5.16 (BPF_UNPRIV_DEFAULT_OFF=y;
	 * this 6.18 machine has 2); 5.10/5.11 default 0.
	 */
	uint8_t unprivileged_bpf_disabled;
	/* Max instructions of a privileged program (BPF_COMPLEXITY_LIMIT_INSNS). */
	uint32_t insn_limit_priv;

	/* Which map types and map_flags this kernel accepts. */
	uint64_t map_types;		/* bit per enum bpf_map_type */
	uint32_t map_flags;		/* every flag bit the kernel knows */

	struct kms_struct_sizes sz;
};

static inline bool profile_has_map_type(const struct kms_profile *p, uint32_t type)
{
	return type < 64 && (p->map_types >> type) & 1;
}

static inline bool profile_memcg(const struct kms_profile *p)
{
	return p->scheme == ACCT_MEMCG && p->cfg.memcg && p->cfg.kmem && p->cfg.bpf_memcg;
}

/* The allocator knobs of this profile (mm_params of that kernel + overrides). */
void kms_profile_mm_params(const struct kms_profile *p, struct mm_params *out);

#endif
