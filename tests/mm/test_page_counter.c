// SPDX-License-Identifier: MIT
/*
 * page_counter semantics, as mm/page_counter.c defines them: a charge walks
 * from a counter to the root, a refusal anywhere undoes every level already
 * charged and is counted only where it happened.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mm/page_counter.h"

#define DEPTH 8

/* level[0] is the root, level[7] the deepest cgroup. */
static void build_chain(struct page_counter level[DEPTH])
{
	page_counter_init(&level[0], NULL);
	for (int i = 1; i < DEPTH; i++)
		page_counter_init(&level[i], &level[i - 1]);
}

static void test_charge_walks_to_root(void **state)
{
	struct page_counter c[DEPTH];
	struct page_counter *fail = NULL;

	(void)state;
	build_chain(c);
	assert_true(page_counter_try_charge(&c[7], 5, &fail));
	/* Every ancestor of the charged counter sees the 5 pages; none fails. */
	for (int i = 0; i < DEPTH; i++)
		assert_int_equal(page_counter_read(&c[i]), 5);
	assert_null(fail);
}

static void test_refusal_in_the_middle_undoes_lower_levels(void **state)
{
	struct page_counter c[DEPTH];
	struct page_counter *fail = NULL;

	(void)state;
	build_chain(c);
	/* Limits at three levels: 100 at level 2, 40 at level 4, 1000 at level 6. */
	c[2].max = 100;
	c[4].max = 40;
	c[6].max = 1000;

	/* 30 pages fit everywhere: 30 <= 40 <= 100 <= 1000. */
	assert_true(page_counter_try_charge(&c[7], 30, &fail));

	/* 30 more make level 4 hold 60 > 40: refused at level 4, nowhere else. */
	assert_false(page_counter_try_charge(&c[7], 30, &fail));
	assert_ptr_equal(fail, &c[4]);
	assert_int_equal(c[4].failcnt, 1);
	for (int i = 0; i < DEPTH; i++) {
		if (i != 4)
			assert_int_equal(c[i].failcnt, 0);
		/* Levels 7, 6 and 5 were charged before the refusal and undone. */
		assert_int_equal(page_counter_read(&c[i]), 30);
	}

	/* A charge that only level 2 refuses: 30 + 80 = 110 > 100 at level 2. */
	c[4].max = PAGE_COUNTER_MAX;
	assert_false(page_counter_try_charge(&c[7], 80, &fail));
	assert_ptr_equal(fail, &c[2]);
	assert_int_equal(c[2].failcnt, 1);
	assert_int_equal(c[4].failcnt, 1);
	for (int i = 0; i < DEPTH; i++)
		assert_int_equal(page_counter_read(&c[i]), 30);
}

static void test_limit_is_inclusive(void **state)
{
	struct page_counter c[2];
	struct page_counter *fail = NULL;

	(void)state;
	page_counter_init(&c[0], NULL);
	page_counter_init(&c[1], &c[0]);
	c[1].max = 16;
	/* The kernel refuses only when usage would go strictly above max. */
	assert_true(page_counter_try_charge(&c[1], 16, &fail));
	assert_false(page_counter_try_charge(&c[1], 1, &fail));
	assert_int_equal(page_counter_read(&c[1]), 16);
}

static void test_watermark_is_peak_usage(void **state)
{
	struct page_counter c[2];

	(void)state;
	page_counter_init(&c[0], NULL);
	page_counter_init(&c[1], &c[0]);
	assert_true(page_counter_try_charge(&c[1], 10, NULL));
	assert_true(page_counter_try_charge(&c[1], 5, NULL));
	page_counter_uncharge(&c[1], 12);
	/* 10 + 5 = 15 was the highest usage; 15 - 12 = 3 remains. */
	assert_int_equal(c[1].watermark, 15);
	assert_int_equal(c[0].watermark, 15);
	assert_int_equal(page_counter_read(&c[1]), 3);

	/* A refused charge never moves the peak. */
	c[1].max = 4;
	assert_false(page_counter_try_charge(&c[1], 2, NULL));
	assert_int_equal(c[1].watermark, 15);

	page_counter_reset_watermark(&c[1]);
	assert_int_equal(c[1].watermark, 3);
}

static void test_forced_charge_ignores_max(void **state)
{
	struct page_counter c[2];

	(void)state;
	page_counter_init(&c[0], NULL);
	page_counter_init(&c[1], &c[0]);
	c[1].max = 4;
	page_counter_charge(&c[1], 10);
	assert_int_equal(page_counter_read(&c[1]), 10);
	assert_int_equal(c[1].watermark, 10);
	assert_int_equal(c[1].failcnt, 0);
}

static void test_set_max_below_usage_is_ebusy(void **state)
{
	struct page_counter c;

	(void)state;
	page_counter_init(&c, NULL);
	page_counter_charge(&c, 20);
	assert_int_equal(page_counter_set_max(&c, 19), -EBUSY);
	/* The old limit stays in force. */
	assert_int_equal(c.max, PAGE_COUNTER_MAX);
	/* Exactly the usage is allowed. */
	assert_int_equal(page_counter_set_max(&c, 20), 0);
	assert_int_equal(c.max, 20);
}

static void test_underflow_is_clamped_and_counted(void **state)
{
	struct page_counter c[2];

	(void)state;
	page_counter_init(&c[0], NULL);
	page_counter_init(&c[1], &c[0]);
	page_counter_charge(&c[1], 3);
	/* Uncharging 5 of 3 pages: the kernel WARNs and clamps to 0. */
	page_counter_uncharge(&c[1], 5);
	assert_int_equal(page_counter_read(&c[1]), 0);
	assert_int_equal(page_counter_read(&c[0]), 0);
	assert_int_equal(c[1].underflows, 1);
	assert_int_equal(c[1].underflow_pages, 2);
	assert_int_equal(c[0].underflows, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charge_walks_to_root),
		cmocka_unit_test(test_refusal_in_the_middle_undoes_lower_levels),
		cmocka_unit_test(test_limit_is_inclusive),
		cmocka_unit_test(test_watermark_is_peak_usage),
		cmocka_unit_test(test_forced_charge_ignores_max),
		cmocka_unit_test(test_set_max_below_usage_is_ebusy),
		cmocka_unit_test(test_underflow_is_clamped_and_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
