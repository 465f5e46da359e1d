// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "acct/locked_vm.h"

void user_table_init(struct user_table *users)
{
	users->by_uid = NULL;
	users->locked_vm_total = 0;
}

void user_table_destroy(struct user_table *users)
{
	struct user_struct *user, *tmp;

	HASH_ITER(hh, users->by_uid, user, tmp) {
		HASH_DEL(users->by_uid, user);
		free(user);
	}
}

struct user_struct *user_table_find(struct user_table *users, uint32_t uid)
{
	struct user_struct *user = NULL;

	HASH_FIND(hh, users->by_uid, &uid, sizeof(uid), user);
	return user;
}

struct user_struct *user_table_get(struct user_table *users, uint32_t uid)
{
	struct user_struct *user = user_table_find(users, uid);

	if (user)
		return user;
	user = calloc(1, sizeof(*user));
	if (!user)
		return NULL;
	user->uid = uid;
	user->table = users;
	HASH_ADD(hh, users->by_uid, uid, sizeof(user->uid), user);
	return user;
}

static void locked_vm_add(struct user_struct *user, int64_t pages)
{
	user->table->locked_vm_total += pages;
	user->locked_vm += pages;
	if (user->locked_vm > user->locked_vm_peak)
		user->locked_vm_peak = user->locked_vm;
}

static void locked_vm_sub(struct user_struct *user, int64_t pages)
{
	int64_t before = user->locked_vm;

	user->locked_vm -= pages;
	if (user->locked_vm < 0) {
		user->underflows++;
		user->locked_vm = 0;
	}
	user->table->locked_vm_total -= before - user->locked_vm;
}

/* 5.10 kernel/bpf/syscall.c bpf_charge_memlock(): add, compare, undo on failure. */
int bpf_charge_memlock(struct user_struct *user, uint64_t rlim_cur,
		       unsigned int page_shift, uint32_t pages)
{
	uint64_t memlock_limit = rlim_cur >> page_shift;

	if ((uint64_t)(user->locked_vm + pages) > memlock_limit)
		return -EPERM;
	locked_vm_add(user, pages);
	user->locked_vm_bpf += pages;
	return 0;
}

/* 5.10 bpf_uncharge_memlock(). */
void bpf_uncharge_memlock(struct user_struct *user, uint32_t pages)
{
	user->locked_vm_bpf -= pages;
	locked_vm_sub(user, pages);
}

void locked_vm_charge_other(struct user_struct *user, int64_t pages)
{
	locked_vm_add(user, pages);
	user->locked_vm_other += pages;
}

void locked_vm_uncharge_other(struct user_struct *user, int64_t pages)
{
	user->locked_vm_other -= pages;
	locked_vm_sub(user, pages);
}
