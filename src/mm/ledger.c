// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include "mm/ledger.h"
#include "mm/memcontrol.h"

void ledger_init(struct ledger *l)
{
	*l = (struct ledger){ .enabled = true };
}

static void entry_free(struct ledger_entry *e, struct memcg_tree *tree)
{
	if (tree && e->payer) {
		if (e->payer_is_objcg)
			obj_cgroup_put(tree, (struct obj_cgroup *)e->payer);
		else
			mem_cgroup_put(tree, (struct mem_cgroup *)e->payer);
	}
	free(e);
}

static void ledger_owner_free(struct ledger_owner *o, struct memcg_tree *tree)
{
	struct ledger_entry *e = o->entries;

	while (e) {
		struct ledger_entry *next = e->next;

		entry_free(e, tree);
		e = next;
	}
	free(o);
}

void ledger_destroy(struct ledger *l, struct memcg_tree *tree)
{
	struct ledger_owner *o, *tmp;

	HASH_ITER(hh, l->owners, o, tmp) {
		HASH_DEL(l->owners, o);
		ledger_owner_free(o, tree);
	}
}

struct ledger_owner *ledger_find(const struct ledger *l, uint64_t owner)
{
	struct ledger_owner *o = NULL;

	HASH_FIND(hh, l->owners, &owner, sizeof(owner), o);
	return o;
}

static const void *charge_payer(const struct kmem_charge *c, bool *is_objcg)
{
	*is_objcg = c->objcg != NULL;
	return c->objcg ? (const void *)c->objcg : (const void *)c->memcg;
}

/* An owner has a handful of (payer, kind) pairs: a list walk is O(1) in practice. */
static struct ledger_entry *entry_find(struct ledger_owner *o, const void *payer,
				       uint8_t kind)
{
	for (struct ledger_entry *e = o->entries; e; e = e->next)
		if (e->payer == payer && e->kind == kind)
			return e;
	return NULL;
}

void ledger_charge(struct ledger *l, uint64_t owner, const struct kmem_charge *c,
		   enum exec_ctx ctx, uint64_t bytes, uint64_t charged)
{
	struct ledger_owner *o;
	struct ledger_entry *e, **tail;
	bool is_objcg;
	const void *payer = charge_payer(c, &is_objcg);

	if (!l->enabled)
		return;
	o = ledger_find(l, owner);
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o) {
			l->nr_nomem++;
			return;
		}
		o->owner = owner;
		HASH_ADD(hh, l->owners, owner, sizeof(o->owner), o);
	}
	e = entry_find(o, payer, c->kind);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			l->nr_nomem++;
			return;
		}
		e->payer = payer;
		e->payer_is_objcg = is_objcg;
		if (is_objcg)
			obj_cgroup_get(c->objcg);
		else if (c->memcg)
			mem_cgroup_get(c->memcg);
		e->kind = c->kind;
		/* Append: rows come out in first-charge order, the same every run. */
		for (tail = &o->entries; *tail; tail = &(*tail)->next)
			;
		*tail = e;
	}
	e->nr_live++;
	e->bytes += (int64_t)bytes;
	e->charged_bytes += (int64_t)charged;
	e->nr_charges++;
	e->by_ctx[ctx & 3]++;
	e->last_cpu = c->cpu;
	o->nr_live++;
}

void ledger_uncharge(struct ledger *l, struct memcg_tree *tree, uint64_t owner,
		     const struct kmem_charge *c, uint64_t bytes, uint64_t charged)
{
	struct ledger_owner *o;
	struct ledger_entry *e, **pp;
	bool is_objcg;
	const void *payer = charge_payer(c, &is_objcg);

	if (!l->enabled)
		return;
	o = ledger_find(l, owner);
	e = o ? entry_find(o, payer, c->kind) : NULL;
	if (!e || e->nr_live <= 0) {
		l->nr_orphans++;
		return;
	}
	e->nr_live--;
	e->bytes -= (int64_t)bytes;
	e->charged_bytes -= (int64_t)charged;
	e->nr_uncharges++;
	o->nr_live--;
	if (e->nr_live == 0) {
		for (pp = &o->entries; *pp != e; pp = &(*pp)->next)
			;
		*pp = e->next;
		entry_free(e, tree);
	}
	if (o->nr_live == 0) {
		HASH_DEL(l->owners, o);
		ledger_owner_free(o, tree);
	}
}
