/* SPDX-License-Identifier: MIT */
/*
 * The charge side of mm/memcontrol.c: which memcg pays (the charge context),
 * try_charge_memcg() with the per-CPU page stock, obj_cgroup byte charges
 * with the per-CPU object stock, and the state a simulation keeps for them.
 * The allocators (slab.c, percpu.c, vmalloc.c, page_alloc.c) call these.
 */
#ifndef KMS_MM_CHARGE_H
#define KMS_MM_CHARGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/alloc.h"
#include "mm/ledger.h"
#include "mm/memcontrol.h"
#include "mm/params.h"

/* 6.18 struct memcg_stock_pcp (5.11: one slot inside the same struct). */
struct memcg_stock_pcp {
	struct mem_cgroup *cached[NR_MEMCG_STOCK_MAX];
	uint32_t nr_pages[NR_MEMCG_STOCK_MAX];
	uint8_t next_evict;		/* round-robin cursor (the kernel: random) */
};

/* 6.18 struct obj_stock_pcp (5.11: cached_objcg/nr_bytes of memcg_stock_pcp). */
struct obj_stock_pcp {
	struct obj_cgroup *cached_objcg;
	uint32_t nr_bytes;
};

struct mm_cpu {
	struct memcg_stock_pcp stock;
	struct obj_stock_pcp obj;
	/* mm/memcontrol.c DEFINE_PER_CPU(struct mem_cgroup *, int_active_memcg) */
	struct mem_cgroup *int_active_memcg;
	/* current->active_memcg of the kernel thread running on this CPU (task NULL) */
	struct mem_cgroup *kthread_active_memcg;
};

/* Exact totals per allocator kind, whether the ledger is on or not. */
struct kmem_totals {
	int64_t nr_live;		/* live allocations */
	int64_t bytes;			/* allocator bytes in use (all, paid or not) */
	int64_t charged_bytes;		/* bytes charged to some memcg */
	int64_t unpaid_bytes;		/* bytes nobody was charged for */
	uint64_t nr_allocs, nr_frees, nr_failed;
};

struct fault_inject {
	uint64_t nr_calls;		/* allocator calls seen (each call counts once) */
	uint64_t fail_nth;		/* fail call number N (1-based); 0 = off */
	bool fail_irq;			/* fail every allocation in interrupt context */
	uint64_t nr_injected;
};

struct rcu_item {
	uint64_t due_ns;
	uint64_t seq;			/* queue order breaks ties: FIFO per due time */
	uint64_t owner;
	uint32_t cpu;			/* the CPU that queued it runs it */
	struct kmem_charge c;
};

/*
 * Deferred frees, run in (due_ns, seq) order. With one grace period for all
 * and time that never goes back, items come due in the order they were
 * queued: a FIFO, items[head .. head + len). An item due before the last one
 * queued (an earlier timestamp, a changed grace period) turns the queue into
 * a binary min-heap on (due_ns, seq) until it runs empty; a sorted array is
 * already a heap, so the switch only moves the items to the array's start.
 */
struct rcu_queue {
	struct rcu_item *items;
	size_t head, len, cap;
	bool heap;			/* items[0 .. len) is a min-heap, head is 0 */
	uint64_t next_seq;
	/*
	 * due_ns of the first item, UINT64_MAX when empty: the check before
	 * every event reads it here, not from an item queued long ago.
	 */
	uint64_t first_due_ns;
};

/* The last refused page_counter charge, for one-line reasons ("... exceeded at /a"). */
struct charge_fail {
	char path[256];
	int64_t usage, max;
	uint64_t nr_pages, failcnt;
	uint64_t seq;			/* mm_state.nr_fail when it happened */
};

struct mm_state {
	struct mm_params params;
	struct charge_fail last_fail;
	uint64_t nr_fail;
	struct mm_cpu *cpus;		/* kms_config.nr_cpus entries */
	struct kmem_totals totals[KMEM_NR_KINDS];
	struct fault_inject fault;
	struct rcu_queue rcu;
	struct ledger ledger;
	uint64_t now_ns;		/* latest time any operation carried */
	uint64_t nr_bad_frees;		/* frees of a charge that is not live */
};

int mm_state_init(struct mm_state *mm, const struct kms_config *cfg);
/* Drops the stocks' references first; call before the memcg tree goes. */
void mm_state_destroy(struct kms_sim *sim);

/*
 * Decide who pays for an allocation with @gfp in @ctx: 0 and *memcg set (NULL
 * = nobody pays), or -EINVAL for an allocation the kernel cannot make there
 * (NMI on kernels that forbid it), or -ENOMEM from fault injection.
 * Counts the allocator call for fault injection.
 */
int kmem_alloc_begin(struct kms_sim *sim, const struct alloc_ctx *ctx, gfp_t gfp,
		     struct mem_cgroup **memcg);

/* obj_cgroup_charge() / obj_cgroup_uncharge(): bytes through the obj stock of @cpu. */
int obj_cgroup_charge(struct kms_sim *sim, uint32_t cpu, struct obj_cgroup *objcg, gfp_t gfp,
		      uint64_t size);
void obj_cgroup_uncharge(struct kms_sim *sim, uint32_t cpu, struct obj_cgroup *objcg,
			 uint64_t size);

/*
 * __memcg_kmem_charge_page(): @nr_pages to @memcg, through its objcg (5.13+)
 * or the memcg itself (5.11). Fills c->objcg / c->memcg with a reference.
 */
int memcg_kmem_charge_pages(struct kms_sim *sim, uint32_t cpu, struct mem_cgroup *memcg,
			    gfp_t gfp, uint64_t nr_pages, struct kmem_charge *c);
void memcg_kmem_uncharge_pages(struct kms_sim *sim, uint32_t cpu, struct kmem_charge *c,
			       uint64_t nr_pages);

/* The memcg whose memory.stat a charge moves (after reparenting), or NULL. */
struct mem_cgroup *kmem_charge_memcg(const struct kmem_charge *c);

/* Record a finished allocation or free in totals and ledger. */
void kmem_account_alloc(struct kms_sim *sim, const struct alloc_ctx *ctx,
			const struct kmem_charge *c);
void kmem_account_free(struct kms_sim *sim, const struct alloc_ctx *ctx,
		       const struct kmem_charge *c);
void kmem_account_failed(struct kms_sim *sim, enum kmem_kind kind);

/* drain_all_stock(root_memcg): stocks whose memcg is in @root's subtree (NULL = all). */
void drain_all_stock_memcg(struct kms_sim *sim, struct mem_cgroup *root);

/* Stock contents, for memory.current "less stock" and invariants. */
uint64_t memcg_stock_pages(const struct kms_sim *sim, const struct mem_cgroup *memcg);

static inline bool mem_cgroup_is_descendant(const struct mem_cgroup *memcg,
					    const struct mem_cgroup *root)
{
	for (; memcg; memcg = memcg->parent)
		if (memcg == root)
			return true;
	return false;
}

/* Charge a slab or percpu object's full size to @memcg (NULL: nobody pays) and count it. */
int kmem_charge_object(struct kms_sim *sim, const struct alloc_ctx *ctx, struct mem_cgroup *memcg,
		       gfp_t gfp, enum memcg_stat_item item, struct kmem_charge *out);

#endif
