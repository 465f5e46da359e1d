// SPDX-License-Identifier: MIT
/*
 * Hierarchical page counter, modelled on mm/page_counter.c (Linux 5.10 .. 6.18;
 * the algorithm has not changed in that range, only the protection and
 * failcnt-tracking details that the model does not need).
 */
#include <errno.h>

#include "mm/page_counter.h"

void page_counter_init(struct page_counter *counter, struct page_counter *parent)
{
	*counter = (struct page_counter){
		.max = PAGE_COUNTER_MAX,
		.high = PAGE_COUNTER_MAX,
		.parent = parent,
	};
}

/* page_counter_cancel(): the kernel WARNs and sets usage to 0 rather than wrap. */
void page_counter_cancel(struct page_counter *counter, int64_t nr_pages)
{
	int64_t new = counter->usage - nr_pages;

	if (new < 0) {
		counter->underflows++;
		counter->underflow_pages += -new;
		new = 0;
	}
	counter->usage = new;
}

static void page_counter_update_watermark(struct page_counter *c)
{
	if (c->usage > c->watermark)
		c->watermark = c->usage;
}

void page_counter_charge(struct page_counter *counter, int64_t nr_pages)
{
	for (struct page_counter *c = counter; c; c = c->parent) {
		c->usage += nr_pages;
		page_counter_update_watermark(c);
	}
}

bool page_counter_try_charge(struct page_counter *counter, int64_t nr_pages,
			     struct page_counter **fail)
{
	struct page_counter *c;

	for (c = counter; c; c = c->parent) {
		/*
		 * Like the kernel, add first and test after: the limit is
		 * exceeded only when usage would go strictly above max.
		 */
		c->usage += nr_pages;
		if (c->usage > c->max) {
			c->usage -= nr_pages;
			c->failcnt++;
			if (fail)
				*fail = c;
			goto failed;
		}
		page_counter_update_watermark(c);
	}
	return true;

failed:
	for (struct page_counter *u = counter; u != c; u = u->parent)
		page_counter_cancel(u, nr_pages);
	return false;
}

void page_counter_uncharge(struct page_counter *counter, int64_t nr_pages)
{
	for (struct page_counter *c = counter; c; c = c->parent)
		page_counter_cancel(c, nr_pages);
}

int page_counter_set_max(struct page_counter *counter, int64_t nr_pages)
{
	/*
	 * The kernel retries around a racing charge; a sequential model needs
	 * only the test: a limit below current usage is refused with -EBUSY.
	 */
	if (nr_pages < 0)
		return -EINVAL;
	if (counter->usage > nr_pages)
		return -EBUSY;
	counter->max = nr_pages;
	return 0;
}

void page_counter_set_high(struct page_counter *counter, int64_t nr_pages)
{
	counter->high = nr_pages;
}

void page_counter_reset_watermark(struct page_counter *counter)
{
	counter->watermark = counter->usage;
}
