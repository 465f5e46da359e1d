// SPDX-License-Identifier: MIT
/*
 * Deferred frees in deterministic time: call_rcu()/kfree_rcu() callbacks run
 * one grace period after they were queued (mm_params.rcu_grace_ns, default
 * 4 ms), in (due time, queue order), on the CPU that queued them, in softirq
 * context as RCU callbacks do. rcu_barrier() runs all of them; with
 * rcu=immediate a deferred free is an immediate one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim.h"
#include "mm/charge.h"

/* The free a deferred callback performs, by allocator. */
static void kmem_free(struct kms_sim *sim, const struct alloc_ctx *ctx, struct kmem_charge *c)
{
	switch (c->kind) {
	case KMEM_SLAB:
	case KMEM_LARGE:
		kfree(sim, ctx, c);
		break;
	case KMEM_PERCPU:
		free_percpu(sim, ctx, c);
		break;
	case KMEM_VMALLOC:
		vfree(sim, ctx, c);
		break;
	default:
		free_pages(sim, ctx, c);
		break;
	}
}

static bool item_before(const struct rcu_item *a, const struct rcu_item *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_swap(struct rcu_item *a, struct rcu_item *b)
{
	struct rcu_item t = *a;

	*a = *b;
	*b = t;
}

/* Room for one more item at the end of items[]: slide the FIFO down or grow. */
static int queue_reserve(struct rcu_queue *q)
{
	if (q->head + q->len < q->cap)
		return 0;
	if (q->head && q->head >= q->len) {
		/* at least half the array is consumed: the move is paid for by the pops */
		memmove(q->items, q->items + q->head, q->len * sizeof(*q->items));
		q->head = 0;
		return 0;
	}
	{
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct rcu_item *items = realloc(q->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		q->items = items;
		q->cap = cap;
	}
	return 0;
}

static void heap_sift_up(struct rcu_queue *q, size_t i)
{
	while (i && item_before(&q->items[i], &q->items[(i - 1) / 2])) {
		heap_swap(&q->items[i], &q->items[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static int queue_push(struct rcu_queue *q, const struct rcu_item *item)
{
	if (queue_reserve(q))
		return -ENOMEM;
	if (!q->heap && q->len && item_before(item, &q->items[q->head + q->len - 1])) {
		/* out of order: the sorted FIFO, moved to the start, is a valid heap */
		memmove(q->items, q->items + q->head, q->len * sizeof(*q->items));
		q->head = 0;
		q->heap = true;
	}
	q->items[q->head + q->len] = *item;
	if (q->heap)
		heap_sift_up(q, q->len);
	q->len++;
	q->first_due_ns = q->items[q->head].due_ns;
	return 0;
}

static struct rcu_item heap_pop(struct rcu_queue *q)
{
	struct rcu_item top = q->items[0];
	size_t i = 0;

	q->items[0] = q->items[--q->len];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->len && item_before(&q->items[l], &q->items[m]))
			m = l;
		if (r < q->len && item_before(&q->items[r], &q->items[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(&q->items[i], &q->items[m]);
		i = m;
	}
	return top;
}

static struct rcu_item queue_pop(struct rcu_queue *q)
{
	struct rcu_item top;

	if (q->heap) {
		top = heap_pop(q);
	} else {
		top = q->items[q->head++];
		q->len--;
	}
	if (!q->len) {
		q->head = 0;
		q->heap = false;
	}
	q->first_due_ns = q->len ? q->items[q->head].due_ns : UINT64_MAX;
	return top;
}

static void run_item(struct kms_sim *sim, struct rcu_item *item)
{
	struct alloc_ctx ctx = {
		.task = NULL,
		.ctx = CTX_SOFTIRQ,
		.cpu = item->cpu,
		.now_ns = item->due_ns,
		.owner = item->owner,
	};

	kmem_free(sim, &ctx, &item->c);
}

int call_rcu_free(struct kms_sim *sim, const struct alloc_ctx *ctx, const struct kmem_charge *c)
{
	const struct mm_params *p;
	struct rcu_item item;

	if (!sim || !ctx || !c || ctx->cpu >= sim->cfg.nr_cpus)
		return -EINVAL;
	if (!c->live) {
		sim->mm.nr_bad_frees++;
		return -EINVAL;
	}
	p = &sim->mm.params;
	if (ctx->now_ns > sim->mm.now_ns)
		sim->mm.now_ns = ctx->now_ns;
	item = (struct rcu_item){
		.due_ns = ctx->now_ns + p->rcu_grace_ns,
		.seq = sim->mm.rcu.next_seq++,
		.owner = ctx->owner,
		.cpu = ctx->cpu,
		.c = *c,
	};
	if (p->rcu_immediate) {
		item.due_ns = ctx->now_ns;
		run_item(sim, &item);
		return 0;
	}
	return queue_push(&sim->mm.rcu, &item);
}

/* Run the callbacks due by @now_ns; the first one is. */
static __attribute__((noinline)) void rcu_run_due(struct kms_sim *sim, uint64_t now_ns)
{
	struct rcu_queue *q = &sim->mm.rcu;

	do {
		struct rcu_item item = queue_pop(q);

		run_item(sim, &item);
	} while (q->first_due_ns <= now_ns);
}

void rcu_advance(struct kms_sim *sim, uint64_t now_ns)
{
	struct rcu_queue *q;

	if (!sim)
		return;
	q = &sim->mm.rcu;
	if (now_ns > sim->mm.now_ns)
		sim->mm.now_ns = now_ns;
	/* called before every event: most find nothing due, and cost one compare */
	if (q->first_due_ns <= now_ns)
		rcu_run_due(sim, now_ns);
}

void rcu_barrier(struct kms_sim *sim)
{
	struct rcu_queue *q;

	if (!sim)
		return;
	q = &sim->mm.rcu;
	while (q->len) {
		struct rcu_item item = queue_pop(q);

		/* Callbacks run now, not at their due time, but never before they were queued. */
		if (item.due_ns > sim->mm.now_ns)
			item.due_ns = sim->mm.now_ns;
		run_item(sim, &item);
	}
}

size_t rcu_pending(const struct kms_sim *sim)
{
	return sim ? sim->mm.rcu.len : 0;
}
