// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/syscall.c: map_create(), the allocation helpers every map
 * family uses (bpf_map_area_alloc, bpf_map_kmalloc_node, bpf_map_alloc_percpu),
 * the 5.10 memlock charge, references, pins and the map free.
 *
 * Frees: the kernel frees a map in a work item after the last reference
 * (bpf_map_free_deferred) and elements after RCU grace periods. The model
 * runs the map free at the last put (no delay) and sends element frees that
 * the kernel defers through call_rcu_free(), so they land when the allocator
 * model's RCU clock says.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "bpf/memalloc.h"
#include "core/explain.h"
#include "core/task.h"


/*
 * Which capability a map type needs. The model's rule: uid 0 holds every
 * capability (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN), any other
 * uid none. Unprivileged types per 6.x map_create() (and the 5.10
 * map_alloc_check()s): arrays, hashes, fd arrays, ringbuf, cgroup storage.
 */
static bool map_type_unprivileged(enum kms_map_type t)
{
	switch (t) {
	case KMS_MAP_TYPE_ARRAY: case KMS_MAP_TYPE_PERCPU_ARRAY: case KMS_MAP_TYPE_PROG_ARRAY:
	case KMS_MAP_TYPE_PERF_EVENT_ARRAY: case KMS_MAP_TYPE_CGROUP_ARRAY:
	case KMS_MAP_TYPE_ARRAY_OF_MAPS: case KMS_MAP_TYPE_HASH: case KMS_MAP_TYPE_PERCPU_HASH:
	case KMS_MAP_TYPE_HASH_OF_MAPS: case KMS_MAP_TYPE_RINGBUF: case KMS_MAP_TYPE_USER_RINGBUF:
	case KMS_MAP_TYPE_CGROUP_STORAGE: case KMS_MAP_TYPE_PERCPU_CGROUP_STORAGE:
	case KMS_MAP_TYPE_LRU_HASH: case KMS_MAP_TYPE_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

static const struct bpf_map_ops *const map_ops[KMS_NR_MAP_TYPES] = {
	[KMS_MAP_TYPE_HASH] = &htab_map_ops,
	[KMS_MAP_TYPE_PERCPU_HASH] = &htab_map_ops,
	[KMS_MAP_TYPE_LRU_HASH] = &htab_map_ops,
	[KMS_MAP_TYPE_LRU_PERCPU_HASH] = &htab_map_ops,
	[KMS_MAP_TYPE_HASH_OF_MAPS] = &htab_map_ops,
	[KMS_MAP_TYPE_ARRAY] = &array_map_ops,
	[KMS_MAP_TYPE_PERCPU_ARRAY] = &percpu_array_map_ops,
	[KMS_MAP_TYPE_PROG_ARRAY] = &fd_array_map_ops,
	[KMS_MAP_TYPE_PERF_EVENT_ARRAY] = &fd_array_map_ops,
	[KMS_MAP_TYPE_CGROUP_ARRAY] = &fd_array_map_ops,
	[KMS_MAP_TYPE_ARRAY_OF_MAPS] = &fd_array_map_ops,
	[KMS_MAP_TYPE_LPM_TRIE] = &trie_map_ops,
	[KMS_MAP_TYPE_QUEUE] = &queue_stack_map_ops,
	[KMS_MAP_TYPE_STACK] = &queue_stack_map_ops,
	[KMS_MAP_TYPE_RINGBUF] = &ringbuf_map_ops,
	/* 6.1+ user_ringbuf_map_ops: the same ringbuf_map_alloc() and mem_usage */
	[KMS_MAP_TYPE_USER_RINGBUF] = &ringbuf_map_ops,
	[KMS_MAP_TYPE_STACK_TRACE] = &stack_trace_map_ops,
	[KMS_MAP_TYPE_DEVMAP] = &dev_map_ops,
	[KMS_MAP_TYPE_DEVMAP_HASH] = &dev_map_ops,
	[KMS_MAP_TYPE_CPUMAP] = &cpu_map_ops,
	[KMS_MAP_TYPE_XSKMAP] = &xsk_map_ops,
	[KMS_MAP_TYPE_SOCKMAP] = &sock_map_ops,
	[KMS_MAP_TYPE_SOCKHASH] = &sock_map_ops,
	[KMS_MAP_TYPE_REUSEPORT_SOCKARRAY] = &reuseport_array_ops,
	[KMS_MAP_TYPE_CGROUP_STORAGE] = &cgroup_storage_map_ops,
	[KMS_MAP_TYPE_PERCPU_CGROUP_STORAGE] = &cgroup_storage_map_ops,
	[KMS_MAP_TYPE_SK_STORAGE] = &local_storage_map_ops,
	[KMS_MAP_TYPE_INODE_STORAGE] = &local_storage_map_ops,
	[KMS_MAP_TYPE_TASK_STORAGE] = &local_storage_map_ops,
	[KMS_MAP_TYPE_CGRP_STORAGE] = &local_storage_map_ops,
	[KMS_MAP_TYPE_STRUCT_OPS] = &struct_ops_map_ops,
	[KMS_MAP_TYPE_BLOOM_FILTER] = &bloom_filter_map_ops,
	[KMS_MAP_TYPE_ARENA] = &arena_map_ops,
};

enum kms_map_type kms_bpf_map_type_parse(const char *name)
{
	enum kms_map_type t;
	char lower[40];
	size_t i;

	if (!name)
		return KMS_MAP_TYPE_UNSPEC;
	/* "BPF_MAP_TYPE_LRU_HASH" and "LRU_HASH" read as the format's "lru_hash". */
	if (!strncmp(name, "BPF_MAP_TYPE_", 13))
		name += 13;
	for (i = 0; name[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	if (name[i] || kms_map_type_from_name(lower, &t))
		return KMS_MAP_TYPE_UNSPEC;
	return t;
}

const char *bpf_map_type_str(enum kms_map_type type)
{
	const char *n = kms_map_type_name(type);

	return n ? n : "unknown";
}

int bpf_err(struct kms_bpf *w, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return err;
}

static void fmt_bytes(char *buf, size_t len, uint64_t b)
{
	if (b && !(b & ((1ull << 30) - 1)))
		snprintf(buf, len, "%lluG", (unsigned long long)(b >> 30));
	else if (b && !(b & ((1ull << 20) - 1)))
		snprintf(buf, len, "%lluM", (unsigned long long)(b >> 20));
	else if (b && !(b & 1023))
		snprintf(buf, len, "%lluK", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)b);
}

int bpf_err_enomem(struct kms_bpf *w, struct mem_cgroup *memcg, const char *what)
{
	struct mem_cgroup *m, *at = NULL;
	char max[32];

	/*
	 * Where try_charge failed: the lowest limited level that has refused
	 * charges (failcnt), else the lowest limited level (the allocation
	 * would not fit, but the failed charge is already rolled back).
	 */
	for (m = memcg; m && !mem_cgroup_is_root(m); m = m->parent) {
		if (m->memory.max >= PAGE_COUNTER_MAX)
			continue;
		if (!at)
			at = m;
		if (m->memory.failcnt) {
			at = m;
			break;
		}
	}
	if (!at)
		return bpf_err(w, -ENOMEM, "%s: out of memory%s%s", what,
			       memcg ? " charging " : "", memcg ? memcg->path : "");
	fmt_bytes(max, sizeof(max), (uint64_t)at->memory.max << w->sim->page_shift);
	return bpf_err(w, -ENOMEM, "%s: %s memory.max %s exceeded at %s, failcnt %llu", what,
		       memcg->path, max, at->path, (unsigned long long)at->memory.failcnt);
}

const char *kms_bpf_strerror(const struct kms_bpf *w)
{
	return w->err;
}

uint64_t roundup_pow_of_two_u32(uint64_t x)
{
	uint64_t r = 1;

	if (x > (UINT64_C(1) << 31))
		return 0;
	while (r < x)
		r <<= 1;
	return r;
}

gfp_t bpf_account(const struct kms_bpf *w, gfp_t gfp)
{
	/* 5.10 has no __GFP_ACCOUNT on BPF paths; 6.3+ bpf_memcg_flags() drops it for nobpf */
	if (w->p->scheme != ACCT_MEMCG || !w->sim->cfg.bpf_memcg)
		return gfp & ~__GFP_ACCOUNT;
	return gfp | __GFP_ACCOUNT;
}

/* Room for one more element in the growable array *@pv of @nr used, @cap allocated. */
int bpf_array_reserve(void *pv, uint32_t nr, uint32_t *cap, size_t size)
{
	void **v = pv, *nv;
	uint32_t ncap;

	if (nr < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap < *cap)
		return -ENOMEM;
	nv = realloc(*v, size * ncap);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* ---- the ledger ---- */

static enum kms_mem_kind mem_kind(const struct kmem_charge *c)
{
	switch (c->kind) {
	case KMEM_SLAB: return KMS_MEM_SLAB;
	case KMEM_PERCPU: return KMS_MEM_PERCPU;
	case KMEM_VMALLOC: return KMS_MEM_VMALLOC;
	default: return KMS_MEM_PAGES;
	}
}

static bool charge_paid(const struct kmem_charge *c)
{
	return c->objcg || c->memcg;
}

void bpf_ledger_add(struct kms_bpf *w, struct bpf_obj *o, const struct kmem_charge *c,
		    int64_t n)
{
	struct bpf_ledger *l = &o->led;
	int64_t bytes = (int64_t)kmem_charge_bytes(w->sim, c) * n;
	if (charge_paid(c)) {
		enum kms_mem_kind k = mem_kind(c);

		l->charged[k] += bytes;
		if (l->charged[k] > l->charged_peak[k])
			l->charged_peak[k] = l->charged[k];
	} else {
		l->unpaid += bytes;
		if (l->unpaid > l->unpaid_peak)
			l->unpaid_peak = l->unpaid;
	}
}

/* ---- allocation records ---- */

static int charges_push(struct bpf_charges *cs, const struct kmem_charge *c, uint64_t n)
{
	if (cs->nr && !memcmp(&cs->v[cs->nr - 1].c, c, sizeof(*c))) {
		cs->v[cs->nr - 1].n += n;
		return 0;
	}
	if (bpf_array_reserve(&cs->v, cs->nr, &cs->cap, sizeof(*cs->v)))
		return -ENOMEM;
	cs->v[cs->nr].c = *c;
	cs->v[cs->nr].n = n;
	cs->nr++;
	return 0;
}

static void free_one(struct kms_bpf *w, const struct alloc_ctx *ac, struct kmem_charge *c)
{
	switch (c->kind) {
	case KMEM_SLAB:
	case KMEM_LARGE:
		kfree(w->sim, ac, c);
		break;
	case KMEM_PERCPU:
		free_percpu(w->sim, ac, c);
		break;
	case KMEM_VMALLOC:
		vfree(w->sim, ac, c);
		break;
	case KMEM_PAGES:
		free_pages(w->sim, ac, c);
		break;
	}
}

/* Free one allocation, now or after an RCU grace period, and book it. */
static void release_charge(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
			   const struct kmem_charge *c, bool rcu)
{
	struct kmem_charge copy = *c;

	copy.cpu = (uint16_t)ac->cpu;
	bpf_ledger_add(w, o, c, -1);
	if (rcu)
		call_rcu_free(w->sim, ac, &copy);
	else
		free_one(w, ac, &copy);
}

static void obj_free_allocs(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac)
{
	/* free in reverse order of allocation, as the kernel's error paths do */
	for (uint32_t i = o->allocs.nr; i-- > 0;) {
		struct bpf_charge_group *g = &o->allocs.v[i];

		for (uint64_t k = 0; k < g->n; k++) {
			uint64_t more;

			release_charge(w, o, ac, &g->c, false);
			/* the identical rest of the group, as far as one step can go */
			more = kmem_free_repeat(w->sim, ac, &g->c, g->n - k - 1);
			bpf_ledger_add(w, o, &g->c, -(int64_t)more);
			k += more;
		}
	}
	free(o->allocs.v);
	o->allocs = (struct bpf_charges){ 0 };
}

void bpf_obj_free_alloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
			uint32_t idx)
{
	struct bpf_charge_group *g = &o->allocs.v[idx];

	release_charge(w, o, ac, &g->c, false);
	if (--g->n == 0) {
		memmove(g, g + 1, sizeof(*g) * (o->allocs.nr - idx - 1));
		o->allocs.nr--;
	}
}

static int record(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		  struct kmem_charge *c, uint64_t n)
{
	int err = charges_push(&o->allocs, c, n);

	if (err) {
		free_one(w, ac, c);
		return err;
	}
	bpf_ledger_add(w, o, c, (int64_t)n);
	return 0;
}

typedef int (*alloc_fn)(struct kms_bpf *w, const struct alloc_ctx *ac, uint64_t size,
			gfp_t gfp, struct kmem_charge *out);

static int do_kmalloc(struct kms_bpf *w, const struct alloc_ctx *ac, uint64_t size, gfp_t gfp,
		      struct kmem_charge *out)
{
	return kmalloc(w->sim, ac, size, gfp, out);
}

static int do_vmalloc(struct kms_bpf *w, const struct alloc_ctx *ac, uint64_t size, gfp_t gfp,
		      struct kmem_charge *out)
{
	return vmalloc(w->sim, ac, size, gfp, out);
}

static int do_percpu(struct kms_bpf *w, const struct alloc_ctx *ac, uint64_t size, gfp_t gfp,
		     struct kmem_charge *out)
{
	return alloc_percpu(w->sim, ac, size, 8, gfp, out);
}

/* @size is the order */
static int do_pages(struct kms_bpf *w, const struct alloc_ctx *ac, uint64_t size, gfp_t gfp,
		    struct kmem_charge *out)
{
	return alloc_pages(w->sim, ac, (unsigned int)size, gfp, out);
}

/* @n allocations recorded on @o; stops at the first failure (the caller unwinds). */
static int obj_alloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		     uint64_t size, gfp_t gfp, uint64_t n, alloc_fn fn)
{
	if (size > SIZE_MAX / 2)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		struct kmem_charge c;
		int err = fn(w, ac, size, gfp, &c);

		if (!err)
			err = record(w, o, ac, &c, 1);
		if (err)
			return err;
	}
	return 0;
}

int bpf_obj_kmalloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		    uint64_t size, gfp_t gfp)
{
	return obj_alloc(w, o, ac, size, gfp, 1, do_kmalloc);
}

int bpf_obj_vmalloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		    uint64_t size, gfp_t gfp)
{
	return obj_alloc(w, o, ac, size, gfp, 1, do_vmalloc);
}

int bpf_obj_alloc_percpu(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
			 uint64_t size, gfp_t gfp, uint64_t n)
{
	return obj_alloc(w, o, ac, size, gfp, n, do_percpu);
}

int bpf_obj_alloc_pages(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
			unsigned int order, gfp_t gfp, uint64_t n)
{
	return obj_alloc(w, o, ac, order, gfp, n, do_pages);
}

/*
 * 5.10/5.11/6.x kernel/bpf/syscall.c __bpf_map_area_alloc(): kmalloc up to
 * PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER (32 KiB) with __GFP_NORETRY, falling
 * back to vmalloc (__GFP_RETRY_MAYFAIL); mmapable areas are always vmalloc.
 * Plain __GFP_ACCOUNT (5.11+): the current task pays, whatever the map.
 */
int bpf_map_area_alloc(struct kms_bpf *w, struct bpf_obj *o, const struct alloc_ctx *ac,
		       uint64_t size, bool mmapable)
{
	gfp_t gfp = bpf_account(w, __GFP_NOWARN | __GFP_ZERO);

	if (size >= SIZE_MAX / 2)
		return -ENOMEM;
	sim_explain(w->sim, "bpf_map_area_alloc(%llu%s): %s", (unsigned long long)size,
		    mmapable ? ", mmapable" : "",
		    !mmapable && size <= (uint64_t)page_size(w) << 3 ? "kmalloc (<= 32 KiB)" : "vmalloc");
	if (!mmapable && size <= (uint64_t)page_size(w) << 3) {
		if (!bpf_obj_kmalloc(w, o, ac, size, gfp | GFP_USER | __GFP_NORETRY))
			return 0;
	}
	return bpf_obj_vmalloc(w, o, ac, size, gfp | GFP_KERNEL | __GFP_RETRY_MAYFAIL);
}

struct mem_cgroup *bpf_map_helper_memcg(struct kms_bpf *w, const struct bpf_map *map,
					const struct alloc_ctx *ac, bool *set)
{
	const struct kms_profile *p = w->p;

	*set = false;
	if (p->scheme != ACCT_MEMCG || p->helper == HELPER_NONE)
		return NULL;
	/* series v7: only in_interrupt() callers switch to the map's memcg */
	if (p->helper == HELPER_MAP_IN_INTERRUPT && ac->ctx == CTX_TASK)
		return NULL;
	*set = true;
	if (!map->saved) {
		/* map_alloc runs before bpf_map_save_memcg() */
		return p->unsaved == UNSAVED_ROOT ? w->sim->memcgs.root : NULL;
	}
	if (p->map_objcg)	/* 6.x bpf_map_get_memcg(): NULL objcg -> root */
		return map->objcg ? map->objcg->memcg : w->sim->memcgs.root;
	return map->memcg;	/* 5.11: the saved memcg, possibly dying */
}

struct mem_cgroup *bpf_map_charged_memcg(struct kms_bpf *w, const struct bpf_map *map,
					 const struct alloc_ctx *ac)
{
	bool set;
	struct mem_cgroup *memcg = bpf_map_helper_memcg(w, map, ac, &set);

	if (set && memcg)
		return memcg;
	return ac->task && ac->ctx == CTX_TASK ? ac->task->memcg : NULL;
}

/* set_active_memcg() around one allocation, as the kernel helpers do */
static int helper_alloc(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			uint64_t size, gfp_t gfp, struct kmem_charge *out, alloc_fn fn)
{
	bool set;
	struct mem_cgroup *memcg = bpf_map_helper_memcg(w, map, ac, &set);
	struct mem_cgroup *old = NULL;
	int err;

	if (size > SIZE_MAX / 2)
		return -ENOMEM;
	gfp = bpf_account(w, gfp);
	if (set)
		sim_explain(w->sim, "bpf map helper: set_active_memcg(%s)%s",
			    memcg ? memcg->path : "NULL: current task pays",
			    map->saved ? "" : " (map_alloc: the map's memcg is not saved yet)");
	if (set)
		old = set_active_memcg(w->sim, ac, memcg);
	err = fn(w, ac, size, gfp, out);
	if (set)
		set_active_memcg(w->sim, ac, old);
	return err;
}

int bpf_map_kmalloc_node(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			 uint64_t size, gfp_t gfp, struct kmem_charge *out)
{
	return helper_alloc(w, map, ac, size, gfp, out, do_kmalloc);
}

int bpf_map_alloc_percpu(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			 uint64_t size, gfp_t gfp, struct kmem_charge *out)
{
	return helper_alloc(w, map, ac, size, gfp, out, do_percpu);
}

/*
 * The model's own bound on per-entry allocations in one call (the kernel's
 * is the machine's memory, which the model does not have): 2^32 - 1
 * percpu_array entries would be minutes of simulation for a map no machine
 * holds (6.18 bpf_array_alloc_percpu(): one __alloc_percpu_gfp() per entry).
 */
#define MAX_REC_ALLOCS (UINT64_C(1) << 24)

static int helper_rec(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		      uint64_t size, gfp_t gfp, uint64_t n, alloc_fn fn)
{
	if (n > MAX_REC_ALLOCS)
		return bpf_err(w, -ENOMEM, "%llu allocations of %llu bytes: more than kmemsim "
			       "simulates in one call (%llu); a real machine runs out of memory",
			       (unsigned long long)n, (unsigned long long)size,
			       (unsigned long long)MAX_REC_ALLOCS);
	for (uint64_t i = 0; i < n; i++) {
		struct kmem_charge c;
		uint64_t more;
		int err = helper_alloc(w, map, ac, size, gfp, &c, fn);

		if (!err)
			err = record(w, &map->obj, ac, &c, 1);
		if (err)
			return err;
		/* the identical allocations after it, as far as one step can go */
		more = kmem_alloc_repeat(w->sim, ac, &c, n - i - 1);
		if (more) {
			/* joins the group just recorded: charges_push() allocates nothing */
			if ((err = charges_push(&map->obj.allocs, &c, more)))
				return err;
			bpf_ledger_add(w, &map->obj, &c, (int64_t)more);
			i += more;
		}
	}
	return 0;
}

int bpf_map_kmalloc_rec(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			uint64_t size, gfp_t gfp, uint64_t n)
{
	return helper_rec(w, map, ac, size, gfp, n, do_kmalloc);
}

int bpf_map_percpu_rec(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		       uint64_t size, gfp_t gfp, uint64_t n)
{
	return helper_rec(w, map, ac, size, gfp, n, do_percpu);
}

/*
 * 5.10 kernel/bpf/syscall.c bpf_map_charge_init(): E2BIG when
 * cost >= U32_MAX - PAGE_SIZE, then bpf_charge_memlock() of
 * round_up(cost, PAGE_SIZE) >> PAGE_SHIFT pages on current's user against
 * current's soft RLIMIT_MEMLOCK: EPERM.
 */
int bpf_map_charge_init(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			uint64_t cost)
{
	struct task *t = ac->task;
	uint64_t pages;
	int err;

	if (w->p->scheme != ACCT_RLIMIT)
		return 0;
	if (cost >= (uint64_t)U32_MAX - page_size(w))
		return bpf_err(w, -E2BIG, "cost %llu >= U32_MAX - PAGE_SIZE",
			       (unsigned long long)cost);
	pages = round_up_u64(cost, page_size(w)) / page_size(w);
	if (t->rlimit_memlock == KMS_RLIM_INFINITY)
		sim_explain(w->sim, "5.10 bpf_map_charge_init(): cost %llu bytes -> %llu pages on uid "
			    "%u locked_vm (now %lld); pid %d has RLIMIT_MEMLOCK unlimited",
			    (unsigned long long)cost, (unsigned long long)pages, t->uid,
			    (long long)t->user->locked_vm, t->pid);
	else
		sim_explain(w->sim, "5.10 bpf_map_charge_init(): cost %llu bytes -> %llu pages on uid "
			    "%u locked_vm (now %lld) against pid %d's RLIMIT_MEMLOCK of %llu pages",
			    (unsigned long long)cost, (unsigned long long)pages, t->uid,
			    (long long)t->user->locked_vm, t->pid,
			    (unsigned long long)(t->rlimit_memlock >> w->sim->page_shift));
	err = bpf_charge_memlock(t->user, t->rlimit_memlock, w->sim->page_shift, (uint32_t)pages);
	sim_explain(w->sim, "  -> %s", err ? "EPERM" : "charged");
	if (err) {
		if (t->rlimit_memlock == KMS_RLIM_INFINITY)
			return bpf_err(w, err, "uid %u locked_vm charge of %llu pages refused",
				       t->uid, (unsigned long long)pages);
		return bpf_err(w, err, "uid %u locked_vm %lld + %llu pages > RLIMIT_MEMLOCK %llu pages",
			       t->uid, (long long)t->user->locked_vm, (unsigned long long)pages,
			       (unsigned long long)(t->rlimit_memlock >> w->sim->page_shift));
	}
	map->obj.user = t->user;
	bpf_obj_memlock_add(&map->obj, pages);
	return 0;
}

static void obj_uncharge_memlock(struct bpf_obj *o)
{
	if (o->user && o->memlock_pages)
		bpf_uncharge_memlock(o->user, (uint32_t)o->memlock_pages);
	o->memlock_pages = 0;
}

/* ---- element groups ---- */

static inline bool same_alloc(const struct elem_alloc *g, const struct elem_alloc *a)
{
	bool same = g->nr == a->nr;

	for (uint8_t k = 0; same && k < a->nr; k++)
		same = g->c[k].objcg == a->c[k].objcg && g->c[k].memcg == a->c[k].memcg &&
		       g->c[k].size == a->c[k].size && g->c[k].kind == a->c[k].kind &&
		       g->c[k].accounted == a->c[k].accounted;
	return same;
}

int elem_group_find(struct elem_group **v, uint32_t *nr, uint32_t *cap,
		    const struct elem_alloc *a, uint32_t *idx)
{
	for (uint32_t i = 0; i < *nr; i++) {
		if (same_alloc(&(*v)[i].a, a)) {
			*idx = i;
			return 0;
		}
	}
	if (bpf_array_reserve(v, *nr, cap, sizeof(**v)))
		return -ENOMEM;
	(*v)[*nr] = (struct elem_group){ .a = *a, .n = 0 };
	*idx = (*nr)++;
	return 0;
}

int bpf_elem_group(struct bpf_map *map, const struct elem_alloc *a, uint32_t *idx)
{
	int err;

	/*
	 * Groups are distinct, so the one the last element joined, when it
	 * matches, is the one the scan would find: a map's elements mostly
	 * come in runs with the same charges.
	 */
	if (map->last_group < map->nr_groups && same_alloc(&map->groups[map->last_group].a, a)) {
		*idx = map->last_group;
		return 0;
	}
	err = elem_group_find(&map->groups, &map->nr_groups, &map->cap_groups, a, idx);
	if (!err)
		map->last_group = *idx;
	return err;
}

int bpf_elem_insert(struct kms_bpf *w, struct bpf_map *map, uint64_t key,
		    const struct elem_alloc *a)
{
	uint32_t g;
	int err = bpf_elem_group(map, a, &g);

	if (!err)
		err = keyset_put(&map->keys, key, g);
	if (err)
		return err;
	map->groups[g].n++;
	for (uint8_t k = 0; k < a->nr; k++)
		bpf_ledger_add(w, &map->obj, &a->c[k], 1);
	map->count++;
	return 0;
}

int bpf_check_update_flags(struct kms_bpf *w, uint32_t flags, uint32_t extra, bool exists,
			   uint64_t key)
{
	if ((flags & ~extra) > KMS_EXIST)
		return bpf_err(w, -EINVAL, "update flags 0x%x", flags);
	if (exists && (flags & 3) == KMS_NOEXIST)
		return bpf_err(w, -EEXIST, "key %llu exists (BPF_NOEXIST)",
			       (unsigned long long)key);
	if (!exists && (flags & 3) == KMS_EXIST)
		return bpf_err(w, -ENOENT, "key %llu absent (BPF_EXIST)",
			       (unsigned long long)key);
	return 0;
}

void bpf_elem_alloc_free(struct kms_bpf *w, const struct alloc_ctx *ac, struct elem_alloc *a)
{
	for (uint8_t k = a->nr; k-- > 0;)
		free_one(w, ac, &a->c[k]);
	a->nr = 0;
}

int bpf_elem_insert_or_free(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
			    uint64_t key, struct elem_alloc *a)
{
	int err = bpf_elem_insert(w, map, key, a);

	if (err)
		bpf_elem_alloc_free(w, ac, a);
	return err;
}

bool bpf_elem_remove(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		     uint64_t key)
{
	uint32_t g;

	if (!keyset_del(&map->keys, key, &g))
		return false;
	map->count--;
	bpf_elem_release(w, map, ac, g, true);
	return true;
}

void bpf_elem_release(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac,
		      uint32_t group, bool rcu)
{
	struct elem_group *g = &map->groups[group];

	for (uint8_t k = 0; k < g->a.nr; k++)
		release_charge(w, &map->obj, ac, &g->a.c[k], rcu);
	g->n--;
}

static int release_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;

	(void)key;
	bpf_elem_release(a[0], a[1], a[2], val, false);
	return 0;
}

void bpf_elems_free_all(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac)
{
	void *a[3] = { w, map, (void *)ac };

	if (map->nr_groups)
		keyset_each(&map->keys, release_cb, a);
	keyset_destroy(&map->keys);
	free(map->groups);
	map->groups = NULL;
	map->nr_groups = map->cap_groups = 0;
	map->count = 0;
}

/* ---- objects ---- */


static struct bpf_obj *live_obj(struct kms_bpf *w, uint32_t id)
{
	struct bpf_obj *o = bpf_obj_find(w, id);

	if (!o || o->freed) {
		bpf_err(w, -EBADF, "object %u is not live", id);
		return NULL;
	}
	return o;
}


static int obj_register(struct kms_bpf *w, struct bpf_obj *o)
{
	if (bpf_array_reserve(&w->objs, w->nr_objs, &w->cap_objs, sizeof(*w->objs)))
		return -ENOMEM;
	w->objs[w->nr_objs++] = o;
	o->id = w->nr_objs;
	o->refcnt = 1;
	return (int)o->id;
}

int kms_bpf_new(struct kms_sim *sim, const struct kms_profile *profile, struct kms_bpf **out)
{
	struct mm_params params;
	struct kms_bpf *w;
	int err;

	if (!sim || !profile || !out)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sim = sim;
	w->p = profile;
	kms_profile_mm_params(profile, &params);
	err = kms_sim_set_mm_params(sim, &params);
	/* the two slab caches a bpffs pin allocates from (freed with the simulation) */
	w->inode_cachep = kmem_cache_create(sim, "inode_cache", profile->sz.inode_cache.bytes);
	w->dentry_cache = kmem_cache_create(sim, "dentry", profile->sz.dentry.bytes);
	if (!err && (!w->inode_cachep || !w->dentry_cache))
		err = -ENOMEM;
	if (err) {
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

static struct task *ctx_task(struct kms_bpf *w, const struct kms_bpf_ctx *c)
{
	int32_t pid = c->ctx == KMS_CTX_TASK ? c->pid : c->interrupted_pid;

	return pid ? task_find(&w->sim->tasks, pid) : NULL;
}

#define NEED_TASK	1u	/* the call needs a live task (task context or interrupted one) */
#define BPF_SYSCALL	2u	/* a bpf(2) command: subject to kernel.unprivileged_bpf_disabled */
/*
 * Releases that end in a kernel worker (bpf_map_put() -> bpf_map_free_deferred,
 * cgroup_bpf_release()): no task needed, so a put by a process that is gone
 * or by pid 0 (a kernel thread) still drops the reference.
 */
#define KWORKER		4u

/* Why make_ctx() refuses @c: the same checks in the same order, with the message. */
static __attribute__((noinline, cold)) int make_ctx_err(struct kms_bpf *w,
							const struct kms_bpf_ctx *c,
							const struct task *t, unsigned int flags)
{
	if (c->cpu >= nr_cpus(w))
		return bpf_err(w, -EINVAL, "cpu %u >= %u possible CPUs", c->cpu, nr_cpus(w));
	if (!t)
		return bpf_err(w, -ESRCH, "no task with pid %d",
			       c->ctx == KMS_CTX_TASK ? c->pid : c->interrupted_pid);
	(void)flags;
	return bpf_err(w, -EPERM, "kernel.unprivileged_bpf_disabled=%u: uid %u may not "
		       "call bpf()", w->p->unprivileged_bpf_disabled, t->uid);
}

static inline int make_ctx(struct kms_bpf *w, const struct kms_bpf_ctx *c, struct alloc_ctx *ac,
			   unsigned int flags)
{
	struct task *t = ctx_task(w, c);

	w->err[0] = '\0';
	if (c->cpu >= nr_cpus(w) ||
	    (!t && !(flags & KWORKER) && ((flags & NEED_TASK) || c->ctx == KMS_CTX_TASK)) ||
	    /* __sys_bpf(): sysctl_unprivileged_bpf_disabled && !bpf_capable() -> EPERM */
	    ((flags & BPF_SYSCALL) && c->ctx == KMS_CTX_TASK && t->uid != 0 &&
	     w->p->unprivileged_bpf_disabled))
		return make_ctx_err(w, c, t, flags);
	*ac = (struct alloc_ctx){
		.task = t,
		.ctx = (enum exec_ctx)c->ctx,
		.cpu = c->cpu,
		.now_ns = c->now_ns,
	};
	return 0;
}

static void map_release_memcg(struct kms_bpf *w, struct bpf_map *map)
{
	if (map->objcg)
		obj_cgroup_put(&w->sim->memcgs, map->objcg);
	if (map->memcg)
		mem_cgroup_put(&w->sim->memcgs, map->memcg);
	map->objcg = NULL;
	map->memcg = NULL;
}

/* map->ops->map_free() then the creation allocations; 5.10 uncharges last. */
static void map_free(struct kms_bpf *w, struct bpf_map *map, const struct alloc_ctx *ac)
{
	if (map->ops && map->ops->map_free)
		map->ops->map_free(w, map, ac);
	bpf_elems_free_all(w, map, ac);
	keyset_destroy(&map->storages);
	obj_free_allocs(w, &map->obj, ac);
	obj_uncharge_memlock(&map->obj);
	map_release_memcg(w, map);
}

static void link_free(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_link *link);

/*
 * A freed object is kept for the report among the newest BPF_FREED_KEPT;
 * the oldest kept one is dropped. Nothing points at a freed object (every
 * reference -- fd, pin, program, outer map, link -- was a counted one), and
 * its element and charge arrays went with obj_free(): the struct and its
 * cgroup path are all that is left.
 */
static void obj_keep_freed(struct kms_bpf *w, struct bpf_obj *o)
{
	uint32_t slot;

	if (!w->freed_ring) {
		w->freed_ring = calloc(BPF_FREED_KEPT, sizeof(*w->freed_ring));
		if (!w->freed_ring)
			return;	/* keep everything, as before */
	}
	if (w->freed_len == BPF_FREED_KEPT) {
		uint32_t old = w->freed_ring[w->freed_head];
		struct bpf_obj *victim = w->objs[old - 1];

		free(victim->creator_cgroup);
		free(victim);
		w->objs[old - 1] = NULL;
		w->nr_dropped++;
		w->freed_head = (w->freed_head + 1) % BPF_FREED_KEPT;
		w->freed_len--;
	}
	slot = (w->freed_head + w->freed_len) % BPF_FREED_KEPT;
	w->freed_ring[slot] = o->id;
	w->freed_len++;
}

static void obj_free(struct kms_bpf *w, const struct alloc_ctx *caller, struct bpf_obj *o)
{
	struct alloc_ctx own = *caller, *ac = &own;

	own.owner = o->owner;	/* frees are booked to the object that allocated */
	switch (o->kind) {
	case KMS_OBJ_MAP:
		map_free(w, (struct bpf_map *)o, ac);
		break;
	case KMS_OBJ_PROG:
		bpf_prog_free(w, ac, (struct bpf_prog *)o);
		obj_free_allocs(w, o, ac);
		obj_uncharge_memlock(o);
		break;
	case KMS_OBJ_BTF:
		obj_free_allocs(w, o, ac);
		break;
	case KMS_OBJ_LINK:
		link_free(w, ac, (struct bpf_link *)o);
		break;
	}
	if (o->owner_memcg)
		mem_cgroup_put(&w->sim->memcgs, o->owner_memcg);
	o->owner_memcg = NULL;
	o->freed = true;
	obj_keep_freed(w, o);
}

void bpf_obj_ref(struct bpf_obj *o)
{
	o->refcnt++;
}

void bpf_obj_unref(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_obj *o)
{
	if (o->refcnt && --o->refcnt == 0)
		obj_free(w, ac, o);
}

static void pin_free(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_pin *pin);

void kms_bpf_free(struct kms_bpf *w)
{
	struct alloc_ctx ac = { .ctx = CTX_TASK };

	if (!w)
		return;
	for (uint32_t i = 0; i < w->nr_pins; i++)
		pin_free(w, &ac, &w->pins[i]);
	/* drop pins, attachments and fds: free everything still live, newest first */
	for (uint32_t i = w->nr_objs; i-- > 0;) {
		struct bpf_obj *o = w->objs[i];

		if (o && !o->freed) {
			o->refcnt = 1;
			bpf_obj_unref(w, &ac, o);
		}
	}
	for (uint32_t i = 0; i < w->nr_objs; i++) {
		if (!w->objs[i])
			continue;
		free(w->objs[i]->creator_cgroup);
		free(w->objs[i]);
	}
	free(w->freed_ring);
	for (uint32_t i = 0; i < w->nr_pins; i++)
		free(w->pins[i].path);
	keyset_destroy(&w->ls_owners);
	free(w->objs);
	free(w->pins);
	free(w->attach);
	free(w);
}

/* ---- BPF_MAP_CREATE ---- */

static void obj_init(struct kms_bpf *w, struct bpf_obj *o, enum kms_bpf_obj_kind kind,
		     struct task *t, const char *name)
{
	o->owner = ++w->next_owner;
	o->kind = kind;
	o->creator_pid = t->pid;
	o->creator_uid = t->uid;
	o->creator_cgroup = t->memcg ? strdup(t->memcg->path) : NULL;
	if (name)
		snprintf(o->name, sizeof(o->name), "%s", name);
}

static void map_save_memcg(struct kms_bpf *w, struct bpf_map *map, struct task *t)
{
	map->saved = true;
	if (w->p->scheme != ACCT_MEMCG)
		return;
	if (w->p->map_objcg) {
		/* 6.x: get_obj_cgroup_from_current() if memcg_bpf_enabled(); root -> NULL */
		if (w->sim->cfg.bpf_memcg && t->memcg)
			map->objcg = get_obj_cgroup_from_memcg(t->memcg);
		if (map->objcg)
			map->obj.owner_memcg = map->objcg->memcg;
	} else {
		/* 5.11: get_mem_cgroup_from_mm(current->mm), a css reference */
		map->memcg = t->memcg;
		if (map->memcg)
			mem_cgroup_get(map->memcg);
		map->obj.owner_memcg = map->memcg;
	}
	if (map->obj.owner_memcg)
		mem_cgroup_get(map->obj.owner_memcg);
}

int kms_bpf_map_create(struct kms_bpf *w, const struct kms_bpf_ctx *c,
		       const struct kms_map_attr *attr)
{
	struct alloc_ctx ac;
	enum kms_map_type type;
	struct bpf_map *map;
	int err, id;

	err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL);
	if (err)
		return err;
	if (c->ctx != KMS_CTX_TASK)
		return bpf_err(w, -EINVAL, "BPF_MAP_CREATE outside task context");
	type = attr->type ? attr->type : kms_bpf_map_type_parse(attr->type_name);
	if (type <= KMS_MAP_TYPE_UNSPEC || type >= KMS_NR_MAP_TYPES)
		return bpf_err(w, -EINVAL, "unknown map type %s",
			       attr->type_name ? attr->type_name : "(none)");
	if (!profile_has_map_type(w->p, type))
		return bpf_err(w, -EINVAL, "map type %s does not exist in %s",
			       bpf_map_type_str(type), w->p->name);
	if (attr->map_flags & ~w->p->map_flags)
		return bpf_err(w, -EINVAL, "map_flags 0x%x unknown to %s", attr->map_flags,
			       w->p->name);
	if (!map_ops[type])
		return bpf_err(w, -EOPNOTSUPP, "map type %s is not modelled by kmemsim",
			       bpf_map_type_str(type));
	if (ac.task->uid != 0 && !map_type_unprivileged(type))
		return bpf_err(w, -EPERM, "map type %s needs CAP_BPF/CAP_NET_ADMIN (uid %u)",
			       bpf_map_type_str(type), ac.task->uid);
	/* bpf_map_meta_alloc(): an fd that is not a map is EINVAL, a closed fd EBADF */
	if ((type == KMS_MAP_TYPE_ARRAY_OF_MAPS || type == KMS_MAP_TYPE_HASH_OF_MAPS) &&
	    !bpf_map_find(w, attr->inner_map_id))
		return bpf_err(w, attr->inner_map_id ? -EBADF : -EINVAL,
			       "inner map %u is not a live map", attr->inner_map_id);

	map = calloc(1, sizeof(*map));
	if (!map)
		return bpf_err(w, -ENOMEM, "out of memory");
	obj_init(w, &map->obj, KMS_OBJ_MAP, ac.task, attr->name);
	ac.owner = map->obj.owner;
	map->ops = map_ops[type];
	map->type = type;
	map->key_size = attr->key_size;
	map->value_size = attr->value_size;
	map->max_entries = attr->max_entries;
	map->map_flags = attr->map_flags;
	map->map_extra = attr->map_extra;
	map->inner_map_id = attr->inner_map_id;
	map->bypass_spec_v1 = ac.task->uid == 0;
	map->aux = attr->struct_ops_nr_funcs;
	map->elem_size = attr->btf_vmlinux_value_type_size;
	keyset_init(&map->keys);
	keyset_init(&map->storages);

	err = map->ops->map_alloc(w, map, &ac);
	if (err) {
		if (err == -ENOMEM && !w->err[0])
			bpf_err_enomem(w, ac.task->memcg, bpf_map_type_str(type));
		else if (!w->err[0])
			bpf_err(w, err, "%s map_alloc failed", bpf_map_type_str(type));
		map_free(w, map, &ac);
		free(map->obj.creator_cgroup);
		free(map);
		return err;
	}
	map_save_memcg(w, map, ac.task);
	id = obj_register(w, &map->obj);
	if (id < 0) {
		map_free(w, map, &ac);
		free(map->obj.creator_cgroup);
		free(map);
		return bpf_err(w, id, "out of memory");
	}
	return id;
}

/* ---- element operations ---- */

static inline struct bpf_map *op_map(struct kms_bpf *w, const struct kms_bpf_ctx *c,
				     struct alloc_ctx *ac, uint32_t id, int *err)
{
	struct bpf_map *map;

	/* __sys_bpf() checks unprivileged_bpf_disabled; a program's helper call never enters it */
	*err = make_ctx(w, c, ac, c->from_prog ? 0 : BPF_SYSCALL);
	if (*err)
		return NULL;
	map = bpf_map_find(w, id);
	if (!map)
		*err = bpf_err(w, -EBADF, "map %u is not live", id);
	else
		ac->owner = map->obj.owner;
	return map;
}

/*
 * The index an array-like map sees for a trace's key. A key below 2^32 is an
 * index as a person wrote it, range-checked like the kernel's (E2BIG); a
 * larger one is a key id (FNV-1a of the 4 index bytes, or an id the replay
 * made up) that cannot be turned back into the index, so it is folded into
 * range: such maps allocate nothing per index, and the recorded result says
 * whether the real index fit.
 */
static inline uint64_t map_index_key(const struct bpf_map *map, uint64_t key)
{
	switch (map->type) {
	case KMS_MAP_TYPE_ARRAY:
	case KMS_MAP_TYPE_PERCPU_ARRAY:
	case KMS_MAP_TYPE_PROG_ARRAY:
	case KMS_MAP_TYPE_PERF_EVENT_ARRAY:
	case KMS_MAP_TYPE_CGROUP_ARRAY:
	case KMS_MAP_TYPE_ARRAY_OF_MAPS:
	case KMS_MAP_TYPE_DEVMAP:
	case KMS_MAP_TYPE_SOCKMAP:
	case KMS_MAP_TYPE_CPUMAP:
	case KMS_MAP_TYPE_XSKMAP:
	case KMS_MAP_TYPE_REUSEPORT_SOCKARRAY:
		if (key >> 32 && map->max_entries)
			return key % map->max_entries;
		return key;
	default:
		return key;
	}
}

static inline int map_update(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			     uint64_t key, uint32_t obj_id, uint32_t flags)
{
	struct alloc_ctx ac;
	int err;
	struct bpf_map *map = op_map(w, c, &ac, map_id, &err);

	if (!map)
		return err;
	if (flags > KMS_EXIST && (flags & ~0x7u))
		return bpf_err(w, -EINVAL, "update flags 0x%x", flags);
	if (map->frozen && c->ctx == KMS_CTX_TASK)
		return bpf_err(w, -EPERM, "map %u is frozen", map_id);
	if (!map->ops->map_update)
		return bpf_err(w, -EOPNOTSUPP, "%s: update not modelled",
			       bpf_map_type_str(map->type));
	return map->ops->map_update(w, map, &ac, map_index_key(map, key), flags, obj_id);
}

int kms_bpf_map_update(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
		       uint64_t key, uint32_t flags)
{
	return map_update(w, c, map_id, key, 0, flags);
}

int kms_bpf_map_update_obj(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			   uint64_t key, uint32_t obj_id, uint32_t flags)
{
	return map_update(w, c, map_id, key, obj_id, flags);
}

static inline int map_delete(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			     uint64_t key, bool pop)
{
	struct alloc_ctx ac;
	int err;
	struct bpf_map *map = op_map(w, c, &ac, map_id, &err);

	if (!map)
		return err;
	if (map->frozen && c->ctx == KMS_CTX_TASK)
		return bpf_err(w, -EPERM, "map %u is frozen", map_id);
	if (!map->ops->map_delete)
		return bpf_err(w, -EINVAL, "%s: delete not supported",
			       bpf_map_type_str(map->type));
	key = map_index_key(map, key);
	err = map->ops->map_delete(w, map, &ac, key, pop);
	if (err == -ENOENT && !w->err[0])
		bpf_err(w, err, "key %llu not in map %u", (unsigned long long)key, map_id);
	return err;
}

int kms_bpf_map_delete(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
		       uint64_t key)
{
	return map_delete(w, c, map_id, key, false);
}

int kms_bpf_map_lookup_and_delete(struct kms_bpf *w, const struct kms_bpf_ctx *c,
				  uint32_t map_id, uint64_t key)
{
	return map_delete(w, c, map_id, key, true);
}

int kms_bpf_map_update_batch(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			     const uint64_t *keys, uint32_t n, uint32_t flags, uint32_t *done)
{
	uint32_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = kms_bpf_map_update(w, c, map_id, keys[i], flags);
	if (done)
		*done = err ? i - 1 : i;
	return err;
}

int kms_bpf_map_delete_batch(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id,
			     const uint64_t *keys, uint32_t n, uint32_t *done)
{
	uint32_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = kms_bpf_map_delete(w, c, map_id, keys[i]);
	if (done)
		*done = err ? i - 1 : i;
	return err;
}

int kms_bpf_map_freeze(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t map_id)
{
	struct alloc_ctx ac;
	int err;
	struct bpf_map *map = op_map(w, c, &ac, map_id, &err);

	if (!map)
		return err;
	if (map->frozen)
		return bpf_err(w, -EBUSY, "map %u already frozen", map_id);
	map->frozen = true;
	return 0;
}

/* ---- references and pins ---- */

int kms_bpf_obj_get(struct kms_bpf *w, uint32_t id)
{
	struct bpf_obj *o = live_obj(w, id);

	if (!o)
		return -EBADF;
	bpf_obj_ref(o);
	return 0;
}

int kms_bpf_obj_put(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t id)
{
	struct alloc_ctx ac;
	struct bpf_obj *o;
	int err = make_ctx(w, c, &ac, KWORKER);

	if (err)
		return err;
	o = live_obj(w, id);
	if (!o)
		return -EBADF;
	bpf_obj_unref(w, &ac, o);
	return 0;
}

/*
 * A pin is a bpffs file: 6.18 kernel/bpf/inode.c bpf_obj_do_pin() creates
 * the dentry (start_creating_user_path(), kern_path_create() before 6.18:
 * d_alloc(), dentry cache) and vfs_mkobj() -> bpf_mkmap()/bpf_mkprog() ->
 * bpf_mkobj_ops() -> bpf_get_inode() -> new_inode() the inode
 * (inode_cache: bpffs has no ->alloc_inode). Both caches are SLAB_ACCOUNT
 * (fs/inode.c inode_init(), fs/dcache.c dcache_init(), since 4.6), so both
 * objects are charged obj_full_size() to the pinning task's memcg on every
 * profile with kmem accounting, 5.10 included: its rlimit scheme is for BPF
 * objects only, the VFS still charges the memcg. Short names fit in the
 * dentry (DNAME_INLINE_LEN); longer ones' external name is not modelled.
 * Measured on 6.18.44: 16 pins +12288, 16 unpins -12288 (calibration rows
 * pin/unpin), 16 x (624 + 8 + 192 + 8) = 13312 within a page per CPU.
 */
static int pin_alloc(struct kms_bpf *w, const struct alloc_ctx *task_ac, struct bpf_obj *o,
		     struct bpf_pin *pin)
{
	/* The pinning task pays; the ledger books the pin's memory under the object. */
	struct alloc_ctx pac = *task_ac, *ac = &pac;
	int err;

	pac.owner = o->owner;
	err = kmem_cache_alloc(w->sim, ac, w->dentry_cache, GFP_KERNEL_ACCOUNT, &pin->dentry);

	if (err)
		return bpf_err_enomem(w, ac->task->memcg, "bpffs dentry");
	err = kmem_cache_alloc(w->sim, ac, w->inode_cachep, GFP_KERNEL_ACCOUNT, &pin->inode);
	if (err) {
		kmem_cache_free(w->sim, ac, &pin->dentry);
		return bpf_err_enomem(w, ac->task->memcg, "bpffs inode");
	}
	bpf_ledger_add(w, o, &pin->dentry, 1);
	bpf_ledger_add(w, o, &pin->inode, 1);
	return 0;
}

/*
 * Unlink: the dentry goes through dentry_free() (call_rcu -> __d_free) and
 * the inode through i_callback() -> bpf_free_inode() after a grace period.
 */
static void pin_free(struct kms_bpf *w, const struct alloc_ctx *task_ac, struct bpf_pin *pin)
{
	struct bpf_obj *o = bpf_obj_find(w, pin->id);
	struct alloc_ctx pac = *task_ac, *ac = &pac;

	pac.owner = o->owner;
	release_charge(w, o, ac, &pin->dentry, true);
	release_charge(w, o, ac, &pin->inode, true);
	free(pin->path);
	pin->path = NULL;
}

static struct bpf_pin *pin_find(struct kms_bpf *w, const char *path)
{
	for (uint32_t i = 0; i < w->nr_pins; i++)
		if (!strcmp(w->pins[i].path, path))
			return &w->pins[i];
	return NULL;
}

int kms_bpf_obj_pin(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t id,
		    const char *path)
{
	struct alloc_ctx ac;
	struct bpf_obj *o;
	struct bpf_pin *pin;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL);

	if (err)
		return err;
	if (!path || !*path)
		return bpf_err(w, -EINVAL, "empty pin path");
	o = live_obj(w, id);
	if (!o)
		return -EBADF;
	if (pin_find(w, path))
		return bpf_err(w, -EEXIST, "%s already exists", path);
	if (bpf_array_reserve(&w->pins, w->nr_pins, &w->cap_pins, sizeof(*w->pins)))
		return bpf_err(w, -ENOMEM, "out of memory");
	pin = &w->pins[w->nr_pins];
	*pin = (struct bpf_pin){ .id = id, .path = strdup(path) };
	if (!pin->path)
		return bpf_err(w, -ENOMEM, "out of memory");
	err = pin_alloc(w, &ac, o, pin);
	if (err) {
		free(pin->path);
		return err;
	}
	w->nr_pins++;
	bpf_obj_ref(o);
	return 0;
}

int kms_bpf_obj_unpin(struct kms_bpf *w, const struct kms_bpf_ctx *c, const char *path)
{
	struct alloc_ctx ac;
	struct bpf_pin *pin;
	uint32_t id;
	int err = make_ctx(w, c, &ac, KWORKER);

	if (err)
		return err;
	pin = path ? pin_find(w, path) : NULL;
	if (!pin)
		return bpf_err(w, -ENOENT, "%s: no such pin", path ? path : "(null)");
	id = pin->id;
	pin_free(w, &ac, pin);
	*pin = w->pins[--w->nr_pins];
	bpf_obj_unref(w, &ac, bpf_obj_find(w, id));
	return 0;
}

int kms_bpf_obj_get_pinned(struct kms_bpf *w, const struct kms_bpf_ctx *c, const char *path)
{
	struct alloc_ctx ac;
	struct bpf_pin *pin;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL);

	if (err)
		return err;
	pin = path ? pin_find(w, path) : NULL;
	if (!pin)
		return bpf_err(w, -ENOENT, "%s: no such pin", path ? path : "(null)");
	bpf_obj_ref(bpf_obj_find(w, pin->id));
	return (int)pin->id;
}

/* ---- programs and BTF ---- */

int kms_bpf_prog_load(struct kms_bpf *w, const struct kms_bpf_ctx *c,
		      const struct kms_prog_attr *attr)
{
	struct alloc_ctx ac;
	struct bpf_prog *prog;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL), id;

	if (err)
		return err;
	for (uint32_t i = 0; i < attr->nr_map_ids; i++)
		if (!bpf_map_find(w, attr->map_ids[i]))
			return bpf_err(w, -EBADF, "map %u used by the program is not live",
				       attr->map_ids[i]);
	prog = calloc(1, sizeof(*prog));
	if (!prog)
		return bpf_err(w, -ENOMEM, "out of memory");
	obj_init(w, &prog->obj, KMS_OBJ_PROG, ac.task, attr->name);
	ac.owner = prog->obj.owner;
	err = bpf_prog_load(w, &ac, ac.task, attr, prog);
	if (err) {
		bpf_prog_free(w, &ac, prog);
		obj_free_allocs(w, &prog->obj, &ac);
		obj_uncharge_memlock(&prog->obj);
		if (prog->obj.owner_memcg)
			mem_cgroup_put(&w->sim->memcgs, prog->obj.owner_memcg);
		free(prog->obj.creator_cgroup);
		free(prog);
		return err;
	}
	id = obj_register(w, &prog->obj);
	if (id < 0) {
		obj_free(w, &ac, &prog->obj);
		free(prog->obj.creator_cgroup);
		free(prog);
		return bpf_err(w, id, "out of memory");
	}
	return id;
}

int kms_bpf_btf_load(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t size)
{
	struct alloc_ctx ac;
	struct bpf_btf *btf;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL), id;

	if (err)
		return err;
	btf = calloc(1, sizeof(*btf));
	if (!btf)
		return bpf_err(w, -ENOMEM, "out of memory");
	obj_init(w, &btf->obj, KMS_OBJ_BTF, ac.task, NULL);
	ac.owner = btf->obj.owner;
	err = btf_parse(w, &ac, btf, size);
	if (err || (id = obj_register(w, &btf->obj)) < 0) {
		obj_free_allocs(w, &btf->obj, &ac);
		free(btf->obj.creator_cgroup);
		free(btf);
		return err ? err : bpf_err(w, -ENOMEM, "out of memory");
	}
	return id;
}

/* ---- cgroup attach ---- */

static uint64_t cgroup_id(struct kms_bpf *w, const char *path, struct mem_cgroup **out)
{
	struct mem_cgroup *memcg = path ? mem_cgroup_lookup(&w->sim->memcgs, path) : NULL;

	*out = memcg;
	return memcg ? memcg->id + 1 : 0;
}

static bool storage_map(const struct bpf_map *m)
{
	return m->type == KMS_MAP_TYPE_CGROUP_STORAGE || m->type == KMS_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Undo attachment @idx: its cgroup storages and its program reference. */
static void detach_entry(struct kms_bpf *w, const struct alloc_ctx *ac, uint32_t idx)
{
	struct bpf_attach a = w->attach[idx];
	struct bpf_prog *prog = (struct bpf_prog *)bpf_obj_find(w, a.prog_id);

	for (uint32_t k = 0; k < prog->nr_map_ids; k++) {
		struct bpf_map *m = bpf_map_find(w, prog->map_ids[k]);

		if (m && storage_map(m))
			bpf_cgroup_storage_detach(w, m, ac, a.cgroup_id, a.attach_type);
	}
	w->attach[idx] = w->attach[--w->nr_attach];
	bpf_obj_unref(w, ac, &prog->obj);
}

/*
 * kernel/bpf/cgroup.c __cgroup_bpf_attach() -> bpf_cgroup_storages_alloc():
 * the program's cgroup storages for (cgroup, attach type), then the
 * attachment holds the program. @link: the bpf_link owning it, 0 for
 * BPF_PROG_ATTACH (one attachment per prog, cgroup and type).
 */
static int attach_prog(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_prog *prog,
		       const char *cgroup, uint32_t attach_type, uint32_t link)
{
	struct mem_cgroup *memcg;
	uint64_t cg = cgroup_id(w, cgroup, &memcg);
	uint32_t i;
	int err;

	if (!cg)
		return bpf_err(w, -EBADF, "cgroup %s does not exist", cgroup ? cgroup : "(null)");
	for (i = 0; i < w->nr_attach && !link; i++)
		if (w->attach[i].prog_id == prog->obj.id && w->attach[i].cgroup_id == cg &&
		    w->attach[i].attach_type == attach_type && !w->attach[i].link)
			return bpf_err(w, -EEXIST, "prog %u already attached to %s", prog->obj.id,
				       cgroup);
	if (bpf_array_reserve(&w->attach, w->nr_attach, &w->cap_attach, sizeof(*w->attach)))
		return bpf_err(w, -ENOMEM, "out of memory");
	for (i = 0; i < prog->nr_map_ids; i++) {
		struct bpf_map *m = bpf_map_find(w, prog->map_ids[i]);

		if (!m || !storage_map(m))
			continue;
		err = bpf_cgroup_storage_attach(w, m, ac, ac->task, cg, attach_type);
		if (err) {
			while (i-- > 0) {
				m = bpf_map_find(w, prog->map_ids[i]);
				if (m && storage_map(m))
					bpf_cgroup_storage_detach(w, m, ac, cg, attach_type);
			}
			return err;
		}
	}
	w->attach[w->nr_attach++] = (struct bpf_attach){ prog->obj.id, cg, attach_type, link };
	bpf_obj_ref(&prog->obj);
	return 0;
}

static struct bpf_prog *live_prog(struct kms_bpf *w, uint32_t id)
{
	struct bpf_obj *o = live_obj(w, id);

	if (!o || o->kind != KMS_OBJ_PROG) {
		bpf_err(w, -EBADF, "prog %u is not live", id);
		return NULL;
	}
	return (struct bpf_prog *)o;
}

int kms_bpf_prog_attach(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			const char *cgroup, uint32_t attach_type)
{
	struct alloc_ctx ac;
	struct bpf_prog *prog;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL);

	if (err)
		return err;
	prog = live_prog(w, prog_id);
	if (!prog)
		return -EBADF;
	return attach_prog(w, &ac, prog, cgroup, attach_type, 0);
}

int kms_bpf_prog_detach(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			const char *cgroup, uint32_t attach_type)
{
	struct alloc_ctx ac;
	struct mem_cgroup *memcg;
	uint64_t cg;
	int err = make_ctx(w, c, &ac, BPF_SYSCALL);

	if (err)
		return err;
	cg = cgroup_id(w, cgroup, &memcg);
	for (uint32_t i = 0; i < w->nr_attach; i++) {
		struct bpf_attach *a = &w->attach[i];

		if (a->prog_id == prog_id && a->cgroup_id == cg && a->attach_type == attach_type &&
		    !a->link) {
			detach_entry(w, &ac, i);
			return 0;
		}
	}
	return bpf_err(w, -ENOENT, "prog %u not attached to %s", prog_id,
		       cgroup ? cgroup : "(null)");
}

/*
 * BPF_LINK_CREATE: a link object holding the program; with a cgroup it is
 * a cgroup attachment (storages allocated as for BPF_PROG_ATTACH) that the
 * link's release detaches. The bpf_link structs themselves are small
 * GFP_USER allocations, not accounted and not modelled.
 */
int kms_bpf_link_create(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			const char *cgroup, uint32_t attach_type)
{
	struct alloc_ctx ac;
	struct bpf_prog *prog;
	struct bpf_link *link;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL), id;

	if (err)
		return err;
	prog = live_prog(w, prog_id);
	if (!prog)
		return -EBADF;
	link = calloc(1, sizeof(*link));
	if (!link)
		return bpf_err(w, -ENOMEM, "out of memory");
	obj_init(w, &link->obj, KMS_OBJ_LINK, ac.task, NULL);
	link->prog_id = prog_id;
	/* attach under the id the link is about to get, then register it */
	if (cgroup)
		err = attach_prog(w, &ac, prog, cgroup, attach_type, w->nr_objs + 1);
	id = err ? err : obj_register(w, &link->obj);
	if (id < 0) {
		if (!err) {
			if (cgroup)
				detach_entry(w, &ac, w->nr_attach - 1);
			bpf_err(w, id, "out of memory");
		}
		free(link->obj.creator_cgroup);
		free(link);
		return id;
	}
	bpf_obj_ref(&prog->obj);	/* link->prog */
	return id;
}

/* bpf_link_free(): detach, then drop the program. */
static void link_free(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_link *link)
{
	for (uint32_t i = 0; i < w->nr_attach; i++)
		if (w->attach[i].link == link->obj.id) {
			detach_entry(w, ac, i);
			break;
		}
	bpf_obj_unref(w, ac, bpf_obj_find(w, link->prog_id));
}

/*
 * BPF_PROG_TEST_RUN: net/bpf/test_run.c bpf_test_run() allocates fresh cgroup
 * storages for the run (bpf_cgroup_storages_alloc(), charged as at attach:
 * 5.10 memlock of the map creator against the caller's limit, ENOMEM) and
 * frees them after it. The model does both at once; the cgroup id 2^32 - 1
 * names no real cgroup.
 */
int kms_bpf_prog_test_run(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id)
{
	const uint64_t run = 0xffffffffu;
	struct alloc_ctx ac;
	struct bpf_prog *prog;
	uint32_t i;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL);

	if (err)
		return err;
	prog = live_prog(w, prog_id);
	if (!prog)
		return -EBADF;
	for (i = 0; i < prog->nr_map_ids && !err; i++) {
		struct bpf_map *m = bpf_map_find(w, prog->map_ids[i]);

		if (m && storage_map(m))
			err = bpf_cgroup_storage_attach(w, m, &ac, ac.task, run, 0);
	}
	while (i-- > 0) {
		struct bpf_map *m = bpf_map_find(w, prog->map_ids[i]);

		if (m && storage_map(m))
			bpf_cgroup_storage_detach(w, m, &ac, run, 0);
	}
	return err;
}

/*
 * kernel/bpf/cgroup.c cgroup_bpf_release(): when a cgroup goes away its
 * programs are detached, their cgroup storages freed, and links to it left
 * defunct (they keep their program until closed). Call before the rmdir.
 */
int kms_bpf_cgroup_release(struct kms_bpf *w, const struct kms_bpf_ctx *c, const char *cgroup)
{
	struct alloc_ctx ac;
	struct mem_cgroup *memcg;
	uint64_t cg;
	int err = make_ctx(w, c, &ac, KWORKER);

	if (err)
		return err;
	cg = cgroup_id(w, cgroup, &memcg);
	if (!cg)
		return bpf_err(w, -ENOENT, "cgroup %s does not exist", cgroup ? cgroup : "(null)");
	for (uint32_t i = w->nr_attach; i-- > 0;) {
		/* a link keeps its own program reference (link->prog) */
		if (w->attach[i].cgroup_id == cg)
			detach_entry(w, &ac, i);
	}
	return 0;
}

/* BPF_PROG_BIND_MAP: the program holds one more map (until it is freed). */
int kms_bpf_prog_bind_map(struct kms_bpf *w, const struct kms_bpf_ctx *c, uint32_t prog_id,
			  uint32_t map_id)
{
	struct alloc_ctx ac;
	struct bpf_prog *prog;
	struct bpf_map *map;
	uint32_t *v;
	int err = make_ctx(w, c, &ac, NEED_TASK | BPF_SYSCALL);

	if (err)
		return err;
	prog = live_prog(w, prog_id);
	map = bpf_map_find(w, map_id);
	if (!prog || !map)
		return bpf_err(w, -EBADF, "prog %u or map %u is not live", prog_id, map_id);
	for (uint32_t i = 0; i < prog->nr_map_ids; i++)
		if (prog->map_ids[i] == map_id)
			return 0;	/* already used: nothing to do */
	v = realloc(prog->map_ids, sizeof(*v) * (prog->nr_map_ids + 1));
	if (!v)
		return bpf_err(w, -ENOMEM, "out of memory");
	prog->map_ids = v;
	prog->map_ids[prog->nr_map_ids++] = map_id;
	bpf_obj_ref(&map->obj);
	return 0;
}

/* ---- fdinfo and reports ---- */

/*
 * 5.11..6.3 kernel/bpf/syscall.c bpf_map_memory_footprint():
 * round_up(max_entries * round_up(key_size + bpf_map_value_size(map), 8), PAGE_SIZE),
 * bpf_map_value_size(): round_up(value_size, 8) * P for per-cpu hash/array and
 * per-cpu cgroup storage, 4 for fd maps (prog/perf_event/cgroup arrays, map-in-map),
 * else value_size.
 */
uint64_t bpf_map_memory_footprint(const struct kms_bpf *w, const struct bpf_map *map)
{
	uint64_t vsize;

	switch (map->type) {
	case KMS_MAP_TYPE_PERCPU_HASH: case KMS_MAP_TYPE_LRU_PERCPU_HASH: case KMS_MAP_TYPE_PERCPU_ARRAY:
	case KMS_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		vsize = round_up_u64(map->value_size, 8) * nr_cpus(w);
		break;
	case KMS_MAP_TYPE_PROG_ARRAY: case KMS_MAP_TYPE_PERF_EVENT_ARRAY: case KMS_MAP_TYPE_CGROUP_ARRAY:
	case KMS_MAP_TYPE_ARRAY_OF_MAPS: case KMS_MAP_TYPE_HASH_OF_MAPS:
		vsize = 4;
		break;
	default:
		vsize = map->value_size;
	}
	return round_up_u64((uint64_t)map->max_entries * round_up_u64(map->key_size + vsize, 8),
			    page_size(w));
}

static uint64_t obj_memlock(const struct kms_bpf *w, const struct bpf_obj *o)
{
	const struct bpf_map *map = (const struct bpf_map *)o;

	if (o->kind == KMS_OBJ_BTF || o->kind == KMS_OBJ_LINK)
		return 0;
	if (o->kind == KMS_OBJ_PROG)	/* every era: prog->pages * PAGE_SIZE */
		return (uint64_t)((const struct bpf_prog *)o)->pages * page_size(w);
	switch (w->p->fdinfo) {
	case FDINFO_CHARGE:
		return o->memlock_pages * page_size(w);
	case FDINFO_FOOTPRINT:
		return bpf_map_memory_footprint(w, map);
	case FDINFO_MEM_USAGE:
		return map->ops->map_mem_usage ? map->ops->map_mem_usage(w, map) : 0;
	}
	return 0;
}

int kms_bpf_obj_info(const struct kms_bpf *w, uint32_t id, struct kms_bpf_obj_info *out)
{
	const struct bpf_obj *o = bpf_obj_find(w, id);

	if (!o)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->id = o->id;
	out->owner = o->owner;
	out->kind = o->kind;
	memcpy(out->name, o->name, sizeof(out->name));
	out->creator_pid = o->creator_pid;
	out->creator_uid = o->creator_uid;
	out->creator_cgroup = o->creator_cgroup;
	out->refcnt = o->refcnt;
	out->freed = o->freed;
	for (int k = 0; k < KMS_MEM_NR; k++) {
		out->charged[k] = o->led.charged[k];
		out->charged_peak[k] = o->led.charged_peak[k];
	}
	out->unpaid = o->led.unpaid;
	out->unpaid_peak = o->led.unpaid_peak;
	out->locked_vm_pages = o->memlock_pages;
	out->locked_vm_pages_peak = o->memlock_pages_peak;
	if (o->owner_memcg)
		out->memcg_path = mem_cgroup_online_ancestor(o->owner_memcg)->path;
	switch (o->kind) {
	case KMS_OBJ_MAP: {
		const struct bpf_map *m = (const struct bpf_map *)o;

		out->type_name = bpf_map_type_str(m->type);
		out->max_entries = m->max_entries;
		out->nr_elems = m->count;
		break;
	}
	case KMS_OBJ_PROG:
		out->type_name = "prog";
		break;
	case KMS_OBJ_BTF:
		out->type_name = "btf";
		break;
	case KMS_OBJ_LINK:
		out->type_name = "link";
		break;
	}
	if (!o->freed)
		out->memlock = obj_memlock(w, o);
	return 0;
}

uint32_t kms_bpf_obj_next(const struct kms_bpf *w, uint32_t id)
{
	/* Dropped (long freed) objects are skipped. */
	while (id < w->nr_objs && !w->objs[id])
		id++;
	return id < w->nr_objs ? id + 1 : 0;
}

uint64_t kms_bpf_nr_dropped(const struct kms_bpf *w)
{
	return w->nr_dropped;
}

void kms_bpf_totals(const struct kms_bpf *w, struct kms_bpf_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < w->nr_objs; i++) {
		const struct bpf_obj *o = w->objs[i];

		if (!o || o->freed)
			continue;
		for (int k = 0; k < KMS_MEM_NR; k++)
			out->charged += o->led.charged[k];
		out->unpaid += o->led.unpaid;
		switch (o->kind) {
		case KMS_OBJ_MAP:
			out->live_maps++;
			break;
		case KMS_OBJ_PROG:
			out->live_progs++;
			break;
		case KMS_OBJ_BTF:
			out->live_btfs++;
			out->btf_bytes += ((const struct bpf_btf *)o)->size;
			break;
		case KMS_OBJ_LINK:
			out->live_links++;
			break;
		}
	}
}
