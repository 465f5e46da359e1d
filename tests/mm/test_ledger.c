// SPDX-License-Identifier: MIT
/*
 * The ledger: who pays for which owner's memory, unpaid memory, rows that
 * follow reparenting, and exact totals with the ledger switched off.
 */
#include "mm_test.h"

static void test_who_pays_for_an_owner(void **state)
{
	struct kms_ledger_row rows[4];
	struct kmem_charge c[4];
	struct alloc_ctx other;
	size_t n;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	t.ctx.owner = 7;
	assert_int_equal(kmalloc(t.sim, &t.ctx, 100, GFP_KERNEL_ACCOUNT, &c[0]), 0);
	assert_int_equal(kmalloc(t.sim, &t.ctx, 120, GFP_KERNEL_ACCOUNT, &c[1]), 0);
	assert_int_equal(vmalloc(t.sim, &t.ctx, 5000, GFP_KERNEL_ACCOUNT, &c[2]), 0);
	/* an unaccounted allocation of the same owner: used, paid by nobody */
	assert_int_equal(kmalloc(t.sim, &t.ctx, 40, GFP_KERNEL, &c[3]), 0);
	assert_int_equal(kms_ledger_read(t.sim, 7, rows, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].cgroup, "/a");
	assert_int_equal(rows[0].kind, KMS_KMEM_SLAB);
	assert_int_equal(rows[0].nr_live, 2);
	/* two kmalloc-128 objects: 2 * 128 used, 2 * (128 + 8) charged */
	assert_int_equal(rows[0].bytes, 256);
	assert_int_equal(rows[0].charged_bytes, 272);
	assert_int_equal(rows[0].by_ctx[CTX_TASK], 2);
	assert_int_equal(rows[1].kind, KMS_KMEM_VMALLOC);
	assert_int_equal(rows[1].charged_bytes, 2 * 4096);
	assert_null(rows[2].cgroup);
	assert_int_equal(rows[2].bytes, 64);
	assert_int_equal(rows[2].charged_bytes, 0);
	/* nothing is recorded for another owner */
	assert_int_equal(kms_ledger_read(t.sim, 8, rows, 4, &n), -ENOENT);
	/* a free under a wrong owner handle is an orphan the invariants catch */
	other = t.ctx;
	other.owner = 8;
	kfree(t.sim, &other, &c[3]);
	assert_int_equal(kms_sim_check_invariants(t.sim, NULL, 0), -EUCLEAN);
	t.sim->mm.ledger.nr_orphans = 0;
	/* freeing everything drops the owner: memory stays bounded */
	kfree(t.sim, &t.ctx, &c[0]);
	kfree(t.sim, &t.ctx, &c[1]);
	vfree(t.sim, &t.ctx, &c[2]);
	/* the orphaned free still left the unpaid row behind; remove by hand */
	assert_int_equal(kms_ledger_read(t.sim, 7, rows, 4, &n), 0);
	assert_int_equal(n, 1);
	kms_sim_set_ledger(t.sim, false);
	kms_sim_set_ledger(t.sim, true);
	assert_int_equal(kms_ledger_read(t.sim, 7, rows, 4, &n), -ENOENT);
	mmt_fini(&t);
}

static void test_rows_follow_reparenting(void **state)
{
	struct kms_ledger_row row;
	struct kmem_charge c;
	size_t n;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	mmt_enter(&t, "/a/b");
	assert_int_equal(kmalloc(t.sim, &t.ctx, 64, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(kms_ledger_read(t.sim, 1, &row, 1, &n), 0);
	assert_string_equal(row.cgroup, "/a/b");
	assert_int_equal(kms_task_move(t.sim, 100, "/a"), 0);
	assert_int_equal(kms_cgroup_remove(t.sim, "/a/b"), 0);
	/* the objcg was reparented: /a pays now */
	assert_int_equal(kms_ledger_read(t.sim, 1, &row, 1, &n), 0);
	assert_string_equal(row.cgroup, "/a");
	kfree(t.sim, &t.ctx, &c);
	mmt_fini(&t);
}

static void test_ledger_off_totals_exact(void **state)
{
	struct kms_kmem_totals tot;
	struct kms_ledger_row row;
	struct kmem_charge c;
	size_t n;
	struct mmt t;

	(void)state;
	mmt_init(&t, 4096, 2, MMT_6_18);
	assert_int_equal(kms_sim_set_ledger(t.sim, false), 0);
	assert_int_equal(alloc_percpu(t.sim, &t.ctx, 16, 8, GFP_KERNEL_ACCOUNT, &c), 0);
	assert_int_equal(kms_ledger_read(t.sim, 1, &row, 1, &n), -ENODATA);
	assert_int_equal(kms_kmem_totals_read(t.sim, KMS_KMEM_PERCPU, &tot), 0);
	/* 16 * 2 CPUs + 16 / 4 * 8 */
	assert_int_equal(tot.charged_bytes, 64);
	assert_int_equal(tot.bytes, 32);
	/* switching it on with live allocations could never balance */
	assert_int_equal(kms_sim_set_ledger(t.sim, true), -EBUSY);
	free_percpu(t.sim, &t.ctx, &c);
	assert_int_equal(kms_sim_set_ledger(t.sim, true), 0);
	mmt_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_who_pays_for_an_owner),
		cmocka_unit_test(test_rows_follow_reparenting),
		cmocka_unit_test(test_ledger_off_totals_exact),
	};

	return cmocka_run_group_tests_name("mm/ledger", tests, NULL, NULL);
}
