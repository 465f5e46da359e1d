// SPDX-License-Identifier: MIT
/*
 * kms_bpf_check_invariants(): what the BPF world must agree on with the
 * simulation after every call. In the rlimit scheme (5.10) every page on a
 * user's locked_vm_bpf is held by a live object (map->memory.user,
 * prog->aux->user: kernel/bpf/syscall.c bpf_map_charge_memlock() and
 * __bpf_prog_charge()), so their sum per user must equal the counter; and
 * what an object's report says it is charged must be what the allocator
 * ledger holds under its owner handle, less what waits for an RCU grace
 * period (an element deleted is gone from the object at once, but its memory
 * stays charged until call_rcu() runs the free).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bpf/bpf.h"
#include "core/sim.h"
#include "mm/ledger.h"

__attribute__((format(printf, 3, 4)))
static int broken(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EUCLEAN;
}

static int64_t ledger_charged(const struct kms_sim *sim, uint64_t owner)
{
	const struct ledger_owner *o = ledger_find(&sim->mm.ledger, owner);
	int64_t sum = 0;

	for (const struct ledger_entry *e = o ? o->entries : NULL; e; e = e->next)
		sum += e->charged_bytes;
	return sum;
}

static int check_objects(const struct kms_bpf *w, char *why, size_t len)
{
	const struct kms_sim *sim = w->sim;
	const struct rcu_queue *q = &sim->mm.rcu;
	/* Owner handles are 1..next_owner (syscall.c): RCU-pending bytes per owner. */
	int64_t *pending = calloc(w->next_owner + 1, sizeof(*pending));
	int ret = 0;

	if (!pending)
		return 0;	/* a check that cannot run is not a broken invariant */
	for (size_t i = 0; i < q->len; i++) {
		const struct rcu_item *it = &q->items[q->head + i];

		if (it->owner <= w->next_owner && (it->c.objcg || it->c.memcg))
			pending[it->owner] += (int64_t)kmem_charge_bytes(sim, &it->c);
	}
	for (uint32_t i = 0; i < w->nr_objs && !ret; i++) {
		const struct bpf_obj *o = w->objs[i];
		int64_t charged = 0, ledger;

		if (!o || o->freed)
			continue;
		for (int k = 0; k < KMS_MEM_NR; k++)
			charged += (int64_t)o->led.charged[k];
		ledger = ledger_charged(sim, o->owner) - pending[o->owner];
		if (charged != ledger)
			ret = broken(why, len, "object %u (%s): charged %" PRId64 " bytes != %" PRId64
				     " in the allocator ledger (less RCU-pending frees)", o->id,
				     o->name, charged, ledger);
	}
	free(pending);
	return ret;
}

/* locked_vm_bpf of every user against the pages its live objects hold: one pass over objects. */
static int check_users(const struct kms_bpf *w, char *why, size_t len)
{
	const struct user_table *t = &w->sim->users;
	size_t n = HASH_COUNT(t->by_uid), i = 0;
	const struct user_struct **users = calloc(n + 1, sizeof(*users));
	int64_t *held = calloc(n + 1, sizeof(*held));
	int ret = 0;

	if (!users || !held)
		goto out;	/* a check that cannot run is not a broken invariant */
	for (const struct user_struct *u = t->by_uid; u; u = u->hh.next)
		users[i++] = u;
	for (uint32_t k = 0; k < w->nr_objs; k++) {
		const struct bpf_obj *o = w->objs[k];

		if (!o || o->freed || !o->user)
			continue;
		for (i = 0; i < n && users[i] != o->user; i++)
			;
		held[i] += (int64_t)o->memlock_pages;	/* i == n: a user not in the table */
	}
	if (held[n])
		ret = broken(why, len, "%" PRId64 " locked_vm pages held for a user the table "
			     "does not have", held[n]);
	for (i = 0; i < n && !ret; i++)
		if (held[i] != users[i]->locked_vm_bpf)
			ret = broken(why, len, "uid %u: locked_vm_bpf %" PRId64 " pages != %" PRId64
				     " held by live objects", users[i]->uid,
				     users[i]->locked_vm_bpf, held[i]);
out:
	free(users);
	free(held);
	return ret;
}

int kms_bpf_check_invariants(const struct kms_bpf *w, char *why, size_t len)
{
	const struct kms_sim *sim;
	int ret;

	if (!w)
		return -EINVAL;
	sim = w->sim;
	if (why && len)
		why[0] = '\0';
	ret = check_users(w, why, len);
	if (ret)
		return ret;
	if (sim->mm.ledger.enabled)
		return check_objects(w, why, len);
	return 0;
}
