/* SPDX-License-Identifier: MIT */
/*
 * The RLIMIT_MEMLOCK scheme's counter: user_struct->locked_vm, in pages, one
 * per uid and shared by every process of that uid (Linux <= 5.10 for BPF).
 */
#ifndef KMS_ACCT_LOCKED_VM_H
#define KMS_ACCT_LOCKED_VM_H

#include <stdint.h>

#include <uthash.h>

struct user_table;

/* RLIM_INFINITY as the model stores a limit in bytes. */
#define KMS_RLIM_INFINITY UINT64_MAX

struct user_struct {
	uint32_t uid;
	int64_t locked_vm;	/* pages, every charger of this uid */
	int64_t locked_vm_peak;
	int64_t locked_vm_bpf;	/* pages charged through bpf_charge_memlock() */
	int64_t locked_vm_other;	/* perf, io_uring, xdp umem, ... */
	uint64_t underflows;
	struct user_table *table;
	UT_hash_handle hh;
};

struct user_table {
	struct user_struct *by_uid;
	int64_t locked_vm_total;	/* pages, all uids: for per-event deltas */
};

void user_table_init(struct user_table *users);
void user_table_destroy(struct user_table *users);

/* find_user() / alloc_uid(): NULL only when out of memory. */
struct user_struct *user_table_get(struct user_table *users, uint32_t uid);
struct user_struct *user_table_find(struct user_table *users, uint32_t uid);

/*
 * 5.10 bpf_charge_memlock(): add @pages, and if the uid-wide total is above
 * the calling task's soft RLIMIT_MEMLOCK (@rlim_cur bytes >> PAGE_SHIFT),
 * take them back and fail with -EPERM.
 */
int bpf_charge_memlock(struct user_struct *user, uint64_t rlim_cur,
		       unsigned int page_shift, uint32_t pages);
void bpf_uncharge_memlock(struct user_struct *user, uint32_t pages);

/*
 * Another kernel user of user->locked_vm (perf ring buffers, io_uring, AF_XDP
 * umem) taking or giving back pages. Their own limit checks differ and are
 * not modelled; a trace states what they held.
 */
void locked_vm_charge_other(struct user_struct *user, int64_t pages);
void locked_vm_uncharge_other(struct user_struct *user, int64_t pages);

#endif
