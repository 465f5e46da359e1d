// SPDX-License-Identifier: MIT
/*
 * Machine modes that switch accounting off: a kernel built without
 * CONFIG_MEMCG, and cgroup.memory=nokmem. An accounted allocation then
 * charges no cgroup at all, yet the memory is still in use and the model
 * still counts it as unpaid.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/sim.h"
#include "mm/alloc.h"

static void alloc_1m_in_app(bool memcg, bool kmem)
{
	struct kms_cgroup_stats st;
	struct kms_kmem_totals tot;
	struct kms_config cfg;
	struct kmem_charge c;
	struct kms_sim *sim;
	struct alloc_ctx ctx;

	kms_config_init(&cfg);
	cfg.memcg = memcg;
	cfg.kmem = kmem;
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	assert_int_equal(kms_cgroup_create(sim, "/app"), 0);
	/* A 64 KiB limit that a 1 MiB vmalloc would break, were it charged. */
	assert_int_equal(kms_cgroup_set_max(sim, "/app", 64 << 10), 0);
	assert_int_equal(kms_task_create(sim, 1, 1000, "/app", KMS_UNLIMITED), 0);
	ctx = (struct alloc_ctx){ .task = task_find(&sim->tasks, 1), .ctx = CTX_TASK };

	/* 1 MiB of vmalloc = 256 pages of 4 KiB, asked for with __GFP_ACCOUNT. */
	assert_int_equal(vmalloc(sim, &ctx, 1 << 20, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(kms_cgroup_read(sim, "/app", &st), 0);
	assert_int_equal(st.current, 0);
	assert_int_equal(st.failcnt, 0);
	assert_int_equal(kms_kmem_totals_read(sim, KMS_KMEM_VMALLOC, &tot), 0);
	assert_int_equal(tot.bytes, 256 * 4096);
	assert_int_equal(tot.charged_bytes, 0);
	assert_int_equal(tot.unpaid_bytes, 256 * 4096);
	vfree(sim, &ctx, &c);
	kms_sim_free(sim);
}

static void test_memcg_compiled_out_charges_nobody(void **state)
{
	(void)state;
	alloc_1m_in_app(false, true);
}

static void test_nokmem_charges_nobody(void **state)
{
	(void)state;
	alloc_1m_in_app(true, false);
}

static void test_with_accounting_the_limit_refuses(void **state)
{
	struct kms_config cfg;
	struct kmem_charge c;
	struct kms_sim *sim;
	struct alloc_ctx ctx;

	(void)state;
	kms_config_init(&cfg);
	assert_int_equal(kms_sim_new(&cfg, &sim), 0);
	kms_cgroup_create(sim, "/app");
	kms_cgroup_set_max(sim, "/app", 64 << 10);
	kms_task_create(sim, 1, 1000, "/app", KMS_UNLIMITED);
	ctx = (struct alloc_ctx){ .task = task_find(&sim->tasks, 1), .ctx = CTX_TASK };
	/* The control case: 256 pages > 16 pages of memory.max. */
	assert_int_equal(vmalloc(sim, &ctx, 1 << 20, GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL,
				 &c), -ENOMEM);
	kms_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcg_compiled_out_charges_nobody),
		cmocka_unit_test(test_nokmem_charges_nobody),
		cmocka_unit_test(test_with_accounting_the_limit_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
