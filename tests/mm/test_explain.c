// SPDX-License-Identifier: MIT
/*
 * --explain narrates a charge in the words of the kernel's charge path: the
 * kmalloc cache, who pays, the page counter levels walked or the stock used,
 * and where a refusal happened.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/sim.h"
#include "mm/alloc.h"

static struct kms_sim *sim_with_app(uint64_t max)
{
	struct kms_config cfg;
	struct kms_sim *sim;

	kms_config_init(&cfg);
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	assert_int_equal(kms_cgroup_create(sim, "/app"), 0);
	assert_int_equal(kms_cgroup_set_max(sim, "/app", max), 0);
	assert_int_equal(kms_task_create(sim, 7, 0, "/app", KMS_UNLIMITED), 0);
	kms_sim_set_explain(sim, true);
	return sim;
}

static void test_first_kmalloc_takes_a_batch(void **state)
{
	struct kms_sim *sim = sim_with_app(KMS_UNLIMITED);
	struct alloc_ctx ctx = { .task = task_find(&sim->tasks, 7) };
	struct kmem_charge c;
	const char *text;

	(void)state;
	/* kmalloc(72): the 96-byte cache; the first charge of /app takes a whole batch. */
	assert_int_equal(kmalloc(sim, &ctx, 72, GFP_KERNEL_ACCOUNT, &c), 0);
	text = kms_sim_explain_take(sim);
	assert_non_null(strstr(text, "kmalloc(72) -> kmalloc-cg-96"));
	assert_non_null(strstr(text, "pays: /app (current task)"));
	assert_non_null(strstr(text, "page_counter charged (batch)"));
	/* The second object fits in the byte stock left from the first page. */
	assert_int_equal(kmalloc(sim, &ctx, 72, GFP_KERNEL_ACCOUNT, &c), 0);
	text = kms_sim_explain_take(sim);
	assert_non_null(strstr(text, "obj stock of CPU 0 pays 104 bytes for /app"));
	assert_null(strstr(text, "page_counter"));
	kms_sim_free(sim);
}

static void test_refusal_names_the_level(void **state)
{
	/* 64 KiB = 16 pages: a 1 MiB vmalloc (256 pages) is refused at /app. */
	struct kms_sim *sim = sim_with_app(64 << 10);
	struct alloc_ctx ctx = { .task = task_find(&sim->tasks, 7) };
	struct kmem_charge c;
	const char *text;

	(void)state;
	assert_int_equal(vmalloc(sim, &ctx, 1 << 20, GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL, &c),
			 -ENOMEM);
	text = kms_sim_explain_take(sim);
	assert_non_null(strstr(text, "page_counter refused"));
	assert_non_null(strstr(text, "at /app"));
	assert_non_null(strstr(text, "max 16"));
	assert_non_null(strstr(text, "-> ENOMEM"));
	kms_sim_free(sim);
}

static void test_silent_when_off(void **state)
{
	struct kms_sim *sim = sim_with_app(KMS_UNLIMITED);
	struct alloc_ctx ctx = { .task = task_find(&sim->tasks, 7) };
	struct kmem_charge c;

	(void)state;
	kms_sim_set_explain(sim, false);
	assert_int_equal(kmalloc(sim, &ctx, 72, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_string_equal(kms_sim_explain_take(sim), "");
	kms_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_kmalloc_takes_a_batch),
		cmocka_unit_test(test_refusal_names_the_level),
		cmocka_unit_test(test_silent_when_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
