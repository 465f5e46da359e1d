/* SPDX-License-Identifier: MIT */
/*
 * Kernel-behaviour knobs of the allocator and charge models: what differs
 * between the modelled kernels in mm/memcontrol.c, mm/slub.c, mm/percpu.c and
 * mm/vmalloc.c. A profile table fills one; mm_params_init() gives 6.18.
 * Machine knobs (page size, possible CPUs, nokmem) stay in struct kms_config.
 */
#ifndef KMS_MM_PARAMS_H
#define KMS_MM_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

/* 6.16+ mm/memcontrol.c: NR_MEMCG_STOCK page-stock slots per CPU. */
#define NR_MEMCG_STOCK_MAX 7u

/* Which gfp bit lets a charge go past memory.max instead of failing. */
enum memcg_force_rule {
	/* 5.9 .. 6.2 try_charge(): "if (gfp_mask & __GFP_ATOMIC) goto force" */
	MEMCG_FORCE_GFP_ATOMIC,
	/* 6.3+ try_charge_memcg() nomem: force when __GFP_NOFAIL | __GFP_HIGH */
	MEMCG_FORCE_GFP_HIGH,
};

/* May "current" allocate (and be charged) in NMI context? */
enum memcg_nmi_rule {
	/*
	 * Kernels before 6.16, whose memcg charge path is not NMI-safe: the
	 * model refuses the allocation with -EINVAL (a kernel bug, not an
	 * ENOMEM the caller could handle).
	 */
	MEMCG_NMI_FORBIDDEN,
	/* Allowed, never charged: 6.16+ current_obj_cgroup() with CONFIG_MEMCG_NMI_UNSAFE. */
	MEMCG_NMI_UNCHARGED,
	/*
	 * Allowed and charged like any interrupt context (int_active_memcg):
	 * 6.16+ ("memcg: nmi-safe kmem charging", Shakeel Butt, merged for
	 * 6.16-rc1) on arches with ARCH_HAVE_NMI_SAFE_CMPXCHG or NMI-safe
	 * this_cpu ops (x86-64, arm64), where init/Kconfig leaves
	 * MEMCG_NMI_UNSAFE off. Verified in 6.18 mm/memcontrol.c.
	 */
	MEMCG_NMI_CHARGED,
};

/*
 * Which of the 7 page-stock slots a refill evicts when all are taken.
 * 6.16..6.18 use get_random_u32_below(NR_MEMCG_STOCK); the model must be
 * deterministic and uses a per-CPU round-robin cursor starting at slot 0,
 * which is exactly what upstream switched to in May 2026 ("replace the
 * random pick with a per-cpu round-robin counter", Fixes: f735eebe55f8,
 * drain_idx) because the random pick is not NMI-safe.
 */
enum memcg_stock_evict {
	MEMCG_STOCK_EVICT_ROUND_ROBIN,
};

struct mm_params {
	/* include/linux/memcontrol.h MEMCG_CHARGE_BATCH: 32 (5.10, 5.11), 64 (6.1+). */
	uint32_t memcg_charge_batch;
	/* Page-stock slots per CPU: 1 (<= 6.15), 7 (6.16+ "multi-memcg percpu charge cache"). */
	uint32_t nr_memcg_stock;
	uint8_t stock_evict;		/* enum memcg_stock_evict */
	uint8_t force_rule;		/* enum memcg_force_rule */
	uint8_t nmi_rule;		/* enum memcg_nmi_rule */
	/*
	 * 6.16+: the byte stock lives in its own per-CPU obj_stock_pcp and is
	 * drained on its own; before, drain_local_stock() drained the obj stock
	 * and the page stock of a CPU together.
	 */
	bool separate_obj_stock;
	/*
	 * 5.13+ ("mm: memcontrol: use obj_cgroup APIs to charge kmem pages"):
	 * kmem pages remember an obj_cgroup (reparented on rmdir); 5.11 pages
	 * remember the memcg itself (a dying memcg keeps them).
	 */
	bool kmem_pages_objcg;
	/*
	 * refill_obj_stock() with allow_uncharge (6.18; 5387c90490f7 "improve
	 * refill_obj_stock() performance", believed 5.14): above a page only the
	 * whole pages are uncharged, the objcg stays cached, and the charge path
	 * never uncharges. false = 5.11: the whole obj stock is drained.
	 */
	bool obj_stock_lazy_uncharge;
	/*
	 * 6.18 drain_obj_stock(): whole pages go straight to memcg_uncharge();
	 * 5.11: through __memcg_kmem_uncharge() -> refill_stock() (page stock).
	 */
	bool obj_drain_direct;
	/*
	 * 6.18 refill_stock(): more than a batch is uncharged directly and the
	 * stock is left alone; 5.11 adds it and drains the whole stock.
	 */
	bool refill_large_direct;
	/* 6.x try_charge_memcg() force: raise MEMCG_MAX if not raised yet; 5.11 does not. */
	bool force_raises_max_event;
	/* 5.17+ pcpu_obj_full_size(): + size / PCPU_MIN_ALLOC_SIZE * sizeof(objcg *). */
	bool pcpu_objcg_overhead;
	/* 6.3+ ("fix incorrect size in pcpu_obj_full_size()"): that term only without nokmem. */
	bool pcpu_overhead_needs_kmem;
	/*
	 * 5.10+ (4127c6504f25 "enable kernel memcg accounting from interrupt
	 * contexts"): interrupt context charges int_active_memcg when set.
	 * false: every interrupt-context allocation bypasses memcg.
	 */
	bool irq_charge_active_memcg;
	/* kmalloc_large pages move the memcg's slab_unreclaimable (6.18 lruvec_stat_mod_folio); 5.11 only the node stat. */
	bool kmalloc_large_slab_stat;
	/* memory.stat shows "kernel" (a8c49af3be5f, 5.18) and "vmalloc" (4e5aa1f4c2b4, ~5.17). */
	bool stat_kernel;
	bool stat_vmalloc;
	/* ARCH_KMALLOC_MINALIGN: 8 on x86-64 and 6.5+ arm64; 128 on older arm64. */
	uint32_t kmalloc_min_size;
	/* MAX_PAGE_ORDER (5.11: MAX_ORDER - 1): kmalloc/alloc_pages above it fail. */
	uint32_t max_page_order;
	/* RCU grace period for call_rcu_free(); 0 with rcu_immediate. */
	uint64_t rcu_grace_ns;
	/* rcu=immediate: deferred frees run at once (no grace period at all). */
	bool rcu_immediate;
};

/* Default RCU grace period: 4 ms (a few jiffies at HZ=250/1000, typical idle-ish GP). */
#define MM_RCU_GRACE_NS_DEFAULT 4000000ull

/* 6.18 defaults (x86-64, SLUB). */
void mm_params_init(struct mm_params *p);
/* 5.11 (also 5.10's memcg core; 5.10 BPF does not use it). */
void mm_params_init_5_11(struct mm_params *p);

/* 0, or -EINVAL for values no kernel has (batch 1..127, slots 1..7, ...). */
int mm_params_validate(const struct mm_params *p);

#endif
