/* SPDX-License-Identifier: MIT */
/*
 * Model of the kernel's mm/page_counter.c: a hierarchical counter of pages
 * with a hard limit at every level. Function names mirror the kernel's.
 */
#ifndef KMS_MM_PAGE_COUNTER_H
#define KMS_MM_PAGE_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

/* PAGE_COUNTER_MAX: "no limit". The kernel uses LONG_MAX / PAGE_SIZE. */
#define PAGE_COUNTER_MAX (INT64_MAX / 65536)

struct page_counter {
	int64_t usage;		/* pages */
	int64_t max;		/* hard limit (memory.max, limit_in_bytes) */
	int64_t high;		/* memory.high: never fails a charge */
	int64_t watermark;	/* peak usage (memory.peak, max_usage_in_bytes) */
	uint64_t failcnt;	/* refused try_charges at this level */
	/*
	 * The kernel WARNs once and clamps a negative usage to 0; the model
	 * counts every clamp so a test or invariant can see a miscounted uncharge.
	 */
	uint64_t underflows;
	int64_t underflow_pages;
	struct page_counter *parent;
};

void page_counter_init(struct page_counter *counter, struct page_counter *parent);

static inline int64_t page_counter_read(const struct page_counter *counter)
{
	return counter->usage;
}

/* Charge without checking limits (the kernel's forced charge). */
void page_counter_charge(struct page_counter *counter, int64_t nr_pages);

/*
 * Charge @nr_pages at every level from @counter to the root. If a level would
 * exceed its max, undo exactly the levels already charged, count failcnt at
 * the refusing level, report it in *fail and return false.
 */
bool page_counter_try_charge(struct page_counter *counter, int64_t nr_pages,
			     struct page_counter **fail);

/* Uncharge along the same path; a level that would go negative is clamped. */
void page_counter_uncharge(struct page_counter *counter, int64_t nr_pages);

/* Take back a charge at a single level (no walk): the kernel's page_counter_cancel(). */
void page_counter_cancel(struct page_counter *counter, int64_t nr_pages);

/* 0, or -EBUSY when usage is already above @nr_pages (the limit is unchanged). */
int page_counter_set_max(struct page_counter *counter, int64_t nr_pages);

/* memory.high never refuses a charge: it only flags reclaim/throttling. */
void page_counter_set_high(struct page_counter *counter, int64_t nr_pages);

/* Reset the peak to the current usage (writing to memory.peak / max_usage_in_bytes). */
void page_counter_reset_watermark(struct page_counter *counter);

#endif
