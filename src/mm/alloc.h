/* SPDX-License-Identifier: MIT */
/*
 * CONTRACT between the allocator models (mm/) and their users (bpf/).
 * Implemented by mm/charge.c, mm/slab.c, mm/percpu.c, mm/vmalloc.c,
 * mm/page_alloc.c. Signatures here are the agreement; the implementer may add
 * functions but should not change these without telling the users.
 */
#ifndef KMS_MM_ALLOC_H
#define KMS_MM_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "mm/memcontrol.h"

struct kms_sim;
struct task;

/* gfp flags: only the bits that change accounting decisions are modelled. */
typedef uint32_t gfp_t;
#define __GFP_ACCOUNT		0x001u	/* charge the allocation to a memcg */
#define __GFP_HIGH		0x002u	/* 6.3+: force the memcg charge at the limit */
#define __GFP_ATOMIC		0x004u	/* 5.9..6.2: force the memcg charge at the limit */
#define __GFP_DIRECT_RECLAIM	0x008u	/* may block: reclaim, drain stocks, OOM */
#define __GFP_KSWAPD_RECLAIM	0x010u
#define __GFP_NORETRY		0x020u	/* one reclaim pass, then fail, no OOM */
#define __GFP_RETRY_MAYFAIL	0x040u	/* full retries, then fail, no OOM */
#define __GFP_NOFAIL		0x080u
#define __GFP_ZERO		0x100u	/* no accounting effect; kept for readable call sites */
#define __GFP_NOWARN		0x200u	/* idem */

#define GFP_NOWAIT		(__GFP_KSWAPD_RECLAIM)
#define GFP_ATOMIC		(__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL		(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_USER		GFP_KERNEL
#define GFP_KERNEL_ACCOUNT	(GFP_KERNEL | __GFP_ACCOUNT)

/* Execution context of "current" at the time of an allocation. */
enum exec_ctx {
	CTX_TASK,
	CTX_SOFTIRQ,
	CTX_HARDIRQ,
	CTX_NMI,
};

/*
 * Who allocates, where and when: the model's "current". @task NULL means a
 * kernel thread (never charged unless an active memcg is set).
 */
struct alloc_ctx {
	struct task *task;
	enum exec_ctx ctx;
	uint32_t cpu;
	uint64_t now_ns;
	uint64_t owner;		/* ledger owner handle, 0 = none */
};

/*
 * set_active_memcg() (include/linux/sched/mm.h, 5.10+): in task context it
 * sets current->active_memcg, in interrupt context the per-CPU
 * int_active_memcg of ctx->cpu. Returns the previous value for the restore.
 */
struct mem_cgroup *set_active_memcg(struct kms_sim *sim, const struct alloc_ctx *ctx,
				    struct mem_cgroup *memcg);

/* Which allocator an allocation went through (for the ledger and memory.stat). */
enum kmem_kind {
	KMEM_SLAB,		/* kmalloc / kmem_cache object */
	KMEM_LARGE,		/* kmalloc_large: order-N pages */
	KMEM_PERCPU,
	KMEM_VMALLOC,
	KMEM_PAGES,		/* alloc_pages */
};

/*
 * What one allocation charged, so the free can uncharge exactly that, to
 * where the kernel would: slab/percpu objects (and 5.13+ kmem pages) remember
 * an obj_cgroup, 5.11-era kmem pages the memcg itself. Both NULL: nobody paid
 * (unaccounted, root, bypassed context). 24 bytes: cheap enough to keep one
 * per object where objects differ, or one per group of identical objects.
 * @size is 43 bits (8 TiB) so a 32 GiB vmalloc fits without growing the
 * struct; @cpu holds up to KMS_MAX_CPUS - 1.
 */
struct kmem_charge {
	struct obj_cgroup *objcg;
	struct mem_cgroup *memcg;
	/*
	 * Bytes the allocator used: slab object size (s->size), percpu size
	 * per CPU after PCPU_MIN_ALLOC_SIZE alignment, pages << PAGE_SHIFT.
	 */
	uint64_t size : 43;
	uint64_t kind : 3;		/* enum kmem_kind */
	uint64_t accounted : 1;		/* __GFP_ACCOUNT was given */
	uint64_t cpu : 14;		/* CPU whose stock was used */
	uint64_t live : 1;		/* set by the allocator, cleared by the free */
};

#define KMEM_NR_KINDS 5

/* Bytes @c charged (or would have charged): obj_full_size(), pcpu_obj_full_size(), pages. */
uint64_t kmem_charge_bytes(const struct kms_sim *sim, const struct kmem_charge *c);

/* kmalloc(): size classes 8..8192 (incl. 96, 192); above that kmalloc_large. */
int kmalloc(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, gfp_t gfp,
	    struct kmem_charge *out);
void kfree(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c);
/* The object size a kmalloc(@size) really gets (0 when it is kmalloc_large). */
size_t kmalloc_size_roundup(const struct kms_sim *sim, size_t size);

/* A kmem_cache of fixed object size (kmem_cache_create + kmem_cache_alloc). */
struct kmem_cache;
struct kmem_cache *kmem_cache_create(struct kms_sim *sim, const char *name, size_t size);
int kmem_cache_alloc(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_cache *s,
		     gfp_t gfp, struct kmem_charge *out);
void kmem_cache_free(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c);

/* __alloc_percpu_gfp(): @size bytes on every possible CPU. */
int alloc_percpu(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, size_t align,
		 gfp_t gfp, struct kmem_charge *out);
void free_percpu(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c);

/* __vmalloc_node(): every page of the area; the guard page is never charged. */
int vmalloc(struct kms_sim *sim, const struct alloc_ctx *ctx, size_t size, gfp_t gfp,
	    struct kmem_charge *out);
void vfree(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c);

/* alloc_pages(): 2^order pages. */
int alloc_pages(struct kms_sim *sim, const struct alloc_ctx *ctx, unsigned int order, gfp_t gfp,
		struct kmem_charge *out);
void free_pages(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c);

/*
 * Preallocated maps make thousands of identical allocations in a row. After
 * one slab or percpu object @c went through its allocator, kmem_alloc_repeat()
 * books up to @n more identical ones exactly as that allocator would (the
 * fault-injection call count, obj stock, memory.stat, objcg references,
 * totals, ledger) in one step, as long as each would be paid from the CPU's
 * obj stock or by nobody; kmem_free_repeat() books up to @n frees of such
 * objects while each would only refill the obj stock. Both return how many
 * they took, fewer than @n (often 0) where the next call would do more than
 * that (charge pages, drain a stock, fail by fault injection, narrate for
 * --explain): the caller makes that one call itself and tries again.
 */
uint64_t kmem_alloc_repeat(struct kms_sim *sim, const struct alloc_ctx *ctx,
			   const struct kmem_charge *c, uint64_t n);
uint64_t kmem_free_repeat(struct kms_sim *sim, const struct alloc_ctx *ctx,
			  const struct kmem_charge *c, uint64_t n);

/*
 * Deferred frees (call_rcu, kfree_rcu, workqueue): the free runs at
 * ctx->now_ns + the grace period, or at rcu_barrier(). The charge is copied.
 */
int call_rcu_free(struct kms_sim *sim, const struct alloc_ctx *ctx, const struct kmem_charge *c);
/* Run every deferred free due at or before @now_ns. */
void rcu_advance(struct kms_sim *sim, uint64_t now_ns);
/* Run every pending deferred free now (rcu_barrier(), end of trace). */
void rcu_barrier(struct kms_sim *sim);

/* drain_all_stock(): give every per-CPU page and object stock back. */
void drain_all_stock(struct kms_sim *sim);

/* Number of deferred frees still waiting for their grace period. */
size_t rcu_pending(const struct kms_sim *sim);

#endif
