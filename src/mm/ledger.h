/* SPDX-License-Identifier: MIT */
/*
 * Who pays for what: every charge and uncharge aggregated per owner handle
 * (a BPF map or program, set by later layers in alloc_ctx.owner), per payer
 * (the obj_cgroup or memcg the charge went to, NULL = unpaid) and per
 * allocator kind. O(1) per event; memory bounded by live owners, because an
 * aggregate whose last live allocation is gone is dropped.
 */
#ifndef KMS_MM_LEDGER_H
#define KMS_MM_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "mm/alloc.h"

struct ledger_entry {
	struct ledger_entry *next;
	/* The objcg (or 5.11 memcg) charged; stable while charges are live. */
	const void *payer;
	bool payer_is_objcg;
	uint8_t kind;			/* enum kmem_kind */
	uint32_t last_cpu;
	int64_t nr_live;
	int64_t bytes;			/* allocator bytes */
	int64_t charged_bytes;		/* bytes charged to the payer */
	uint64_t nr_charges, nr_uncharges;
	uint64_t by_ctx[4];		/* charges per enum exec_ctx */
};

struct ledger_owner {
	uint64_t owner;
	struct ledger_entry *entries;
	int64_t nr_live;
	UT_hash_handle hh;
};

struct ledger {
	bool enabled;
	struct ledger_owner *owners;
	/* Uncharges with no matching live charge (wrong owner at free time). */
	uint64_t nr_orphans;
	/* Allocation failures of the ledger itself (the totals stay exact). */
	uint64_t nr_nomem;
};

struct memcg_tree;

void ledger_init(struct ledger *l);
/* @tree NULL: the memcg tree is being freed whole, drop no references. */
void ledger_destroy(struct ledger *l, struct memcg_tree *tree);

/*
 * An entry holds a reference on its payer (objcg or memcg), so a query can
 * always name who pays, even for an entry whose uncharge came under another
 * owner handle and was counted as an orphan.
 */
void ledger_charge(struct ledger *l, uint64_t owner, const struct kmem_charge *c,
		   enum exec_ctx ctx, uint64_t bytes, uint64_t charged);
void ledger_uncharge(struct ledger *l, struct memcg_tree *tree, uint64_t owner,
		     const struct kmem_charge *c, uint64_t bytes, uint64_t charged);

struct ledger_owner *ledger_find(const struct ledger *l, uint64_t owner);

#endif
