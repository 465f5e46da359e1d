/* SPDX-License-Identifier: MIT */
/*
 * A simulated machine: memory cgroups, tasks, per-user locked_vm. A
 * simulation is a value: create as many as you like, each with its own knobs.
 * Every function returns 0 or a negative errno; none prints or exits.
 */
#ifndef KMEMSIM_SIM_H
#define KMEMSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmemsim/config.h"

struct kms_sim;

/* "no limit" for memory.max / memory.high and RLIM_INFINITY for rlimits. */
#define KMS_UNLIMITED UINT64_MAX

int kms_sim_new(const struct kms_config *cfg, struct kms_sim **out);
void kms_sim_free(struct kms_sim *sim);
const struct kms_config *kms_sim_config(const struct kms_sim *sim);

/* Cgroups by path ("/", "/a", "/a/b"). */
int kms_cgroup_create(struct kms_sim *sim, const char *path);
int kms_cgroup_remove(struct kms_sim *sim, const char *path);
/* Bytes, rounded down to pages as the kernel's memory.max write does. */
int kms_cgroup_set_max(struct kms_sim *sim, const char *path, uint64_t bytes);
int kms_cgroup_set_high(struct kms_sim *sim, const char *path, uint64_t bytes);

struct kms_cgroup_stats {
	uint64_t current;	/* memory.current, bytes (includes per-CPU stock) */
	/*
	 * Of current, bytes precharged but not used: per-CPU page stocks of
	 * this cgroup and its descendants, their obj stocks' bytes and the
	 * bytes their objcgs parked. current - stock is what objects use.
	 */
	uint64_t stock;
	uint64_t peak;		/* memory.peak */
	uint64_t max;		/* KMS_UNLIMITED for "max" */
	uint64_t high;
	uint64_t kmem;		/* v1 memory.kmem.usage_in_bytes */
	uint64_t failcnt;
	/* memory.stat, hierarchical, bytes */
	uint64_t stat_kernel, stat_slab, stat_percpu, stat_vmalloc;
	/* memory.events, hierarchical */
	uint64_t events_low, events_high, events_max, events_oom, events_oom_kill;
	uint32_t nr_tasks;
	bool online;
};
int kms_cgroup_read(const struct kms_sim *sim, const char *path,
		    struct kms_cgroup_stats *out);

/* Tasks (processes). New tasks start with RLIMIT_MEMLOCK @rlimit_memlock. */
int kms_task_create(struct kms_sim *sim, int32_t pid, uint32_t uid,
		    const char *cgroup, uint64_t rlimit_memlock);
int kms_task_fork(struct kms_sim *sim, int32_t parent_pid, int32_t child_pid);
int kms_task_move(struct kms_sim *sim, int32_t pid, const char *cgroup);
int kms_task_set_rlimit_memlock(struct kms_sim *sim, int32_t pid, uint64_t bytes);
/* setuid(): later charges use the new uid's locked_vm; earlier ones stay where they were. */
int kms_task_set_uid(struct kms_sim *sim, int32_t pid, uint32_t uid);
/* Read a task's state: -ESRCH if @pid is not live. */
struct kms_task_info {
	uint32_t uid;
	uint64_t rlimit_memlock;
	const char *cgroup;	/* valid until the task moves or the cgroup goes */
};
int kms_task_read(const struct kms_sim *sim, int32_t pid, struct kms_task_info *out);
int kms_task_exit(struct kms_sim *sim, int32_t pid);

/* Per-user locked_vm (the rlimit scheme's counter). */
struct kms_user_stats {
	uint64_t locked_vm;	/* bytes */
	uint64_t locked_vm_peak;
	uint64_t locked_vm_bpf;
	uint64_t locked_vm_other;
};
int kms_user_read(const struct kms_sim *sim, uint32_t uid, struct kms_user_stats *out);
/* Another kernel user (perf, io_uring) takes (@pages > 0) or returns pages. */
int kms_user_locked_vm_other(struct kms_sim *sim, uint32_t uid, int64_t pages);
/* locked_vm of every uid together, bytes. */
uint64_t kms_locked_vm_total(const struct kms_sim *sim);
/*
 * memory.current of the root cgroup, bytes: kms_cgroup_read(sim, "/")'s
 * current without the path lookup and hierarchical stat sums, cheap enough
 * to read around every event (the replay's per-event charge delta).
 */
uint64_t kms_root_memory_current(const struct kms_sim *sim);

/*
 * The two running totals a replay step reports the change of, read together
 * and returned by value (in registers: read right after an event, a result
 * stored to memory would first have to reach it).
 */
struct kms_sim_totals {
	uint64_t root_memory_current;	/* kms_root_memory_current() */
	uint64_t locked_vm_total;	/* kms_locked_vm_total() */
};
struct kms_sim_totals kms_sim_totals(const struct kms_sim *sim);

/*
 * drain_all_stock(): give every per-CPU page and byte stock back, as the
 * kernel does at a limit or on memory.max writes; memory.current afterwards
 * is the exact use.
 */
int kms_sim_drain_stock(struct kms_sim *sim);

/* Fault injection: fail allocator call number @nth from now on (1 = the next; 0 = off). */
int kms_sim_fault_fail_nth(struct kms_sim *sim, uint64_t nth);
/* Fail every allocation made in interrupt context (softirq, hardirq, NMI). */
int kms_sim_fault_fail_irq(struct kms_sim *sim, bool on);
/* Allocator calls counted by fault injection since the last kms_sim_fault_fail_nth(). */
uint64_t kms_sim_fault_calls(const struct kms_sim *sim);

/* RCU grace period for deferred frees (default 4 ms); @immediate models rcu=immediate. */
int kms_sim_set_rcu(struct kms_sim *sim, uint64_t grace_ns, bool immediate);
/* Run deferred frees due at or before @now_ns; rcu_barrier() runs them all. */
int kms_sim_rcu_advance(struct kms_sim *sim, uint64_t now_ns);
int kms_sim_rcu_barrier(struct kms_sim *sim);

/* Allocators, in the order of the model's enum kmem_kind. */
enum kms_kmem_kind {
	KMS_KMEM_SLAB,
	KMS_KMEM_LARGE,
	KMS_KMEM_PERCPU,
	KMS_KMEM_VMALLOC,
	KMS_KMEM_PAGES,
	KMS_KMEM_NR_KINDS,
};

/* Exact per-allocator totals (kept with the ledger on or off). */
struct kms_kmem_totals {
	uint64_t nr_live;
	uint64_t bytes;		/* in use, paid or not */
	uint64_t charged_bytes;	/* charged to some cgroup */
	uint64_t unpaid_bytes;	/* in use, charged to nobody */
	uint64_t nr_allocs, nr_frees, nr_failed;
};
int kms_kmem_totals_read(const struct kms_sim *sim, enum kms_kmem_kind kind,
			 struct kms_kmem_totals *out);

/*
 * The ledger: live charges per owner handle, payer and allocator. On by
 * default; switching it off drops it (totals stay exact); switching it on
 * is only allowed while nothing is allocated (-EBUSY).
 */
int kms_sim_set_ledger(struct kms_sim *sim, bool on);

struct kms_ledger_row {
	uint64_t owner;
	/* The cgroup paying now (after reparenting); NULL: nobody paid. */
	const char *cgroup;
	enum kms_kmem_kind kind;
	uint64_t nr_live;
	uint64_t bytes;		/* allocator bytes */
	uint64_t charged_bytes;	/* bytes charged to the cgroup */
	uint64_t nr_charges, nr_uncharges;
	uint64_t by_ctx[4];	/* charges made in task, softirq, hardirq, NMI context */
};
/*
 * Rows of @owner, in first-charge order: up to @max into @rows, *@n set to
 * how many exist. Strings live until the next change to the simulation.
 * -ENOENT when the owner holds nothing, -ENODATA when the ledger is off.
 */
int kms_ledger_read(const struct kms_sim *sim, uint64_t owner, struct kms_ledger_row *rows,
		    size_t max, size_t *n);

/*
 * Check the model's invariants: usage never below zero, a parent at least
 * the sum of its online children, peak >= usage, memory.stat against the
 * kmem counter and (by kind, at the root) against what each allocator
 * charged, the ledger against the totals, the root's counter against live
 * charges plus stock, every online cgroup's usage against the live charges
 * its subtree pays (reparented ones included) plus its stocks and parked
 * bytes, and per uid locked_vm == BPF + other users' pages (>= 0, <= peak).
 * 0, or -EUCLEAN with the first violation in @why (naming both numbers).
 * The BPF side is kms_bpf_check_invariants() (kmemsim/bpf.h).
 */
int kms_sim_check_invariants(const struct kms_sim *sim, char *why, size_t len);

/*
 * --explain: when on, the model narrates each operation's charge path.
 * kms_sim_explain_take() returns what was said since the last take ("" if
 * nothing); the string is valid until the next model call.
 */
int kms_sim_set_explain(struct kms_sim *sim, bool on);
const char *kms_sim_explain_take(struct kms_sim *sim);

#endif
