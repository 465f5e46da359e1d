// SPDX-License-Identifier: MIT
/*
 * The built-in kernel profiles: one constant table per kernel. Struct sizes
 * of linux-6.18 come from the running 6.18.44 kernel's BTF
 * (scripts/btf-struct-sizes); 5.10/5.11 sizes are hand-derived from the
 * source of those releases (x86-64, distro config, no lockdep) and marked
 * "est.". They only move results at page or kmalloc-bucket boundaries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/profile.h"

#define BTF618 "BTF 6.18.44"
#define EST510 "est. 5.10 source"
#define EST511 "est. 5.11 source"
#define SAME618 "est. = 6.18 BTF, layout unchanged"

#define BIT64(n) (UINT64_C(1) << (n))
/* enum bpf_map_type 1 (hash) .. n */
#define MAP_TYPES_UPTO(n) ((BIT64((n) + 1) - 1) & ~UINT64_C(1))

/*
 * 5.10: bpf_map is ____cacheline_aligned, 256 bytes with `struct
 * bpf_map_memory memory` (16). bpf_array = bpf_map + elem_size, index_mask,
 * aux, then value[] at 272 (rounded to 320 by the alignment of the struct).
 * The 5.10 reference CSV (array N=7700 -> 16 pages, N=7600 -> 15) confirms
 * 320: 320 + 7600*8 = 61120 <= 15 pages.
 */
#define SIZES_5_1X(SRC) \
	.bpf_map = { 256, SRC }, \
	.bpf_array = { 320, SRC }, \
	.bpf_array_aux = { 64, SRC }, \
	.bpf_htab = { 704, SRC }, \
	.htab_elem = { 48, SRC }, \
	.bucket = { 16, SRC }, \
	.bpf_prog_insns = { 56, SRC }, \
	.bpf_prog_aux = { 896, SRC }, \
	.bpf_prog_stats = { 16, SRC }, \
	.lpm_trie = { 320, SRC }, \
	.lpm_trie_node = { 40, SRC }, \
	.bpf_queue_stack = { 320, SRC }, \
	.bpf_stack_map = { 320, SRC }, \
	.stack_map_bucket = { 16, SRC }, \
	.bpf_ringbuf = { 12288, SRC }, \
	.bpf_ringbuf_map = { 320, SRC }, \
	.bpf_dtab = { 320, SRC }, \
	.bpf_dtab_netdev = { 64, SRC }, \
	.bpf_cpu_map = { 320, SRC }, \
	.bpf_cpu_map_entry = { 128, SRC }, \
	.ptr_ring = { 192, SAME618 }, \
	.xdp_bulk_queue = { 80, SRC }, \
	.xsk_map = { 320, SRC }, \
	.xsk_map_node = { 32, SRC }, \
	.bpf_stab = { 320, SRC }, \
	.bpf_shtab = { 320, SRC }, \
	.bpf_shtab_elem = { 48, SRC }, \
	.bpf_shtab_bucket = { 16, SRC }, \
	.reuseport_array = { 256, SRC }, \
	.bpf_local_storage_map = { 320, SRC }, \
	.bpf_local_storage_map_bucket = { 16, SRC }, \
	.bpf_local_storage = { 168, SRC }, \
	/* sdata is ____cacheline_aligned: 64 + 8 rounds to 128 (as 6.18 BTF) */ \
	.bpf_local_storage_elem = { 128, SRC }, \
	.selem_data_offset = { 0, "unused before 6.4" }, \
	.bpf_cgroup_storage_map = { 320, SRC }, \
	.bpf_cgroup_storage = { 104, SAME618 }, \
	.bpf_storage_buffer = { 16, SAME618 }, \
	.bpf_struct_ops_map = { 384, SRC }, \
	.bpf_struct_ops_value = { 64, SAME618 }, \
	.bpf_mem_cache = { 0, "absent before 6.1" }, \
	.bpf_bloom_filter = { 0, "absent before 5.16" }, \
	.bpf_arena = { 0, "absent before 6.9" }, \
	/* struct inode 600 + the free pointer outside it (ctor), as 6.18 */ \
	.inode_cache = { 608, SRC }, \
	.dentry = { 192, SRC }

/* linux-5.11 and its v7 what-if: everything but the helpers' target */
#define PROFILE_5_11 \
	.version = 5 << 16 | 11 << 8, \
	.cfg = { .page_size = 4096, .nr_cpus = 2, .memcg = true, .kmem = true, \
		 .bpf_memcg = true }, \
	.rlimit_memlock = 64 * 1024, \
	.memcg_charge_batch = 32, .stock_slots = 1, \
	.scheme = ACCT_MEMCG, .unsaved = UNSAVED_CURRENT, \
	.fdinfo = FDINFO_FOOTPRINT, .map_objcg = false, \
	.elem_gfp = GFP_ATOMIC | __GFP_NOWARN, \
	/* the 2022 stack_map_alloc() fix came after 5.11's last stable release */ \
	.stack_trace_cost_fixed = false, \
	.htab_map_locked = true, \
	/* 5.11.14 local_storage.c bpf_cgroup_storage_alloc(): bpf_map_kmalloc_node() */ \
	.cgroup_storage_map_helpers = true, \
	.insn_limit_priv = 1000000, \
	.map_types = MAP_TYPES_UPTO(29),	/* .. TASK_STORAGE */ \
	.map_flags = 0x1fff, \
	.sz = { SIZES_5_1X(EST511) }

static const struct kms_profile builtin[] = {
	{
		.name = "linux-5.10",
		.description = "Linux 5.10: RLIMIT_MEMLOCK scheme, per-uid locked_vm, "
			       "cost per map type charged at creation, EPERM",
		.version = 5 << 16 | 10 << 8,
		.cfg = { .page_size = 4096, .nr_cpus = 2, .memcg = true, .kmem = true,
			 .bpf_memcg = true },
		/* include/uapi/linux/resource.h MLOCK_LIMIT (64 KiB until 5.16) */
		.rlimit_memlock = 64 * 1024,
		.memcg_charge_batch = 32, .stock_slots = 1,
		.percpu_objcg_overhead = false, .objcg_kmem_pages = false,
		.scheme = ACCT_RLIMIT, .helper = HELPER_MAP, .unsaved = UNSAVED_CURRENT,
		.fdinfo = FDINFO_CHARGE, .map_objcg = false,
		.elem_gfp = GFP_ATOMIC | __GFP_NOWARN,
		/*
		 * 5.10.0 .. 5.10.12x (and the 5.10.7 reference measurements) charge
		 * n_buckets elements; later 5.10.y charge max_entries (stable fix).
		 */
		.stack_trace_cost_fixed = false,
		.htab_map_locked = true,
		.insn_limit_priv = 1000000,
		.map_types = MAP_TYPES_UPTO(28),	/* .. INODE_STORAGE */
		.map_flags = 0x1fff,			/* .. BPF_F_INNER_MAP */
		.sz = { SIZES_5_1X(EST510) },
	},
	{
		.name = "linux-5.11",
		.description = "Linux 5.11: memcg scheme as merged (series v9), map memcg saved "
			       "after map_alloc, GFP_ATOMIC elements force-charged",
		.helper = HELPER_MAP,
		PROFILE_5_11,
	},
	{
		.name = "linux-5.11-v7",
		.description = "what-if: the memcg series as posted in v7, helpers charge the "
			       "current task in process context, the map only in interrupts",
		.helper = HELPER_MAP_IN_INTERRUPT,
		PROFILE_5_11,
	},
	{
		.name = "linux-6.18",
		.description = "Linux 6.18: objcg saved after map_alloc (creation helpers unpaid), "
			       "bpf_mem_alloc elements, GFP_NOWAIT, batch 64, map_mem_usage",
		.version = 6 << 16 | 18 << 8,
		.cfg = { .page_size = 4096, .nr_cpus = 2, .memcg = true, .kmem = true,
			 .bpf_memcg = true },
		/* MLOCK_LIMIT is 8 MiB since 5.16 */
		.rlimit_memlock = 8 * 1024 * 1024,
		.memcg_charge_batch = 64, .stock_slots = 7,
		.percpu_objcg_overhead = true, .objcg_kmem_pages = true,
		.scheme = ACCT_MEMCG, .helper = HELPER_MAP, .unsaved = UNSAVED_ROOT,
		.fdinfo = FDINFO_MEM_USAGE, .map_objcg = true,
		.elem_gfp = GFP_NOWAIT | __GFP_NOWARN,
		.hash_mem_alloc = true, .lpm_mem_alloc = true,
		.local_storage_bpf_ma = true,
		.fd_htab_no_extra_elems = true,
		.nmi_noprealloc_ok = true,
		.htab_map_locked = false,
		.stack_trace_cost_fixed = true,
		.cgroup_storage_map_helpers = true,
		.prog_active_percpu = true,
		.unprivileged_bpf_disabled = 2,
		.insn_limit_priv = 1000000,
		.map_types = MAP_TYPES_UPTO(33),	/* .. ARENA */
		.map_flags = 0x7ffff,			/* .. BPF_F_NO_USER_CONV */
		.sz = {
			.bpf_map = { 296, BTF618 },
			.bpf_array = { 312, BTF618 },
			.bpf_array_aux = { 88, BTF618 },
			.bpf_htab = { 832, BTF618 },
			.htab_elem = { 48, BTF618 },
			.bucket = { 16, BTF618 },
			.bpf_prog_insns = { 96, BTF618 },
			.bpf_prog_aux = { 1304, BTF618 },
			.bpf_prog_stats = { 32, BTF618 },
			.lpm_trie = { 400, BTF618 },
			.lpm_trie_node = { 24, BTF618 },
			.bpf_queue_stack = { 312, BTF618 },
			.bpf_stack_map = { 320, BTF618 },
			.stack_map_bucket = { 16, BTF618 },
			.bpf_ringbuf = { 12288, BTF618 },
			.bpf_ringbuf_map = { 304, BTF618 },
			.bpf_dtab = { 344, BTF618 },
			.bpf_dtab_netdev = { 64, BTF618 },
			.bpf_cpu_map = { 304, BTF618 },
			.bpf_cpu_map_entry = { 360, BTF618 },
			.ptr_ring = { 192, BTF618 },
			.xdp_bulk_queue = { 96, BTF618 },
			.xsk_map = { 304, BTF618 },
			.xsk_map_node = { 32, BTF618 },
			.bpf_stab = { 376, BTF618 },
			.bpf_shtab = { 384, BTF618 },
			.bpf_shtab_elem = { 48, BTF618 },
			.bpf_shtab_bucket = { 16, BTF618 },
			.reuseport_array = { 296, BTF618 },
			.bpf_local_storage_map = { 448, BTF618 },
			.bpf_local_storage_map_bucket = { 16, BTF618 },
			.bpf_local_storage = { 176, BTF618 },
			.bpf_local_storage_elem = { 128, BTF618 },
			/* sdata (____cacheline_aligned) at 64, its data[] at 64 + 8 */
			.selem_data_offset = { 72, BTF618 },
			.bpf_cgroup_storage_map = { 328, BTF618 },
			.bpf_cgroup_storage = { 104, BTF618 },
			.bpf_storage_buffer = { 16, BTF618 },
			.bpf_struct_ops_map = { 512, BTF618 },
			.bpf_struct_ops_value = { 64, BTF618 },
			.bpf_mem_cache = { 208, BTF618 },
			.bpf_bloom_filter = { 312, BTF618 },
			.bpf_arena = { 400, BTF618 },
			/*
			 * struct inode is 616 (BTF); inode_cache has a constructor
			 * (init_once), so SLUB keeps its free pointer after the
			 * object (mm/slub.c calculate_sizes()): 624, as
			 * /proc/slabinfo shows. struct dentry 192, no ctor.
			 */
			.inode_cache = { 624, "BTF 6.18.44 + slabinfo" },
			.dentry = { 192, BTF618 },
		},
	},
};

#define NR_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

const struct kms_profile *kms_profile_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < NR_BUILTIN; i++)
		if (strcmp(builtin[i].name, name) == 0)
			return &builtin[i];
	return NULL;
}

size_t kms_profile_count(void)
{
	return NR_BUILTIN;
}

const struct kms_profile *kms_profile_at(size_t idx)
{
	return idx < NR_BUILTIN ? &builtin[idx] : NULL;
}

const char *kms_profile_name(const struct kms_profile *p)
{
	return p->name;
}

const char *kms_profile_description(const struct kms_profile *p)
{
	return p->description;
}

const char *kms_profile_error(const struct kms_profile *p)
{
	return p->error;
}

int kms_profile_copy(const struct kms_profile *p, struct kms_profile **out)
{
	struct kms_profile *copy = malloc(sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	*copy = *p;
	copy->error[0] = '\0';
	*out = copy;
	return 0;
}

void kms_profile_free(struct kms_profile *p)
{
	free(p);
}

void kms_profile_config(const struct kms_profile *p, struct kms_config *cfg)
{
	*cfg = p->cfg;
}

uint64_t kms_profile_rlimit_memlock(const struct kms_profile *p)
{
	return p->rlimit_memlock;
}

void kms_profile_mm_params(const struct kms_profile *p, struct mm_params *out)
{
	if (p->version >= (6 << 16))
		mm_params_init(out);
	else
		mm_params_init_5_11(out);
	out->memcg_charge_batch = p->memcg_charge_batch;
	out->nr_memcg_stock = p->stock_slots;
	out->pcpu_objcg_overhead = p->percpu_objcg_overhead;
	out->kmem_pages_objcg = p->objcg_kmem_pages;
}
