/* SPDX-License-Identifier: MIT */
/*
 * A simulated machine: memory cgroups, tasks, per-user locked_vm. A
 * simulation is a value: create as many as you like, each with its own knobs.
 * Every function returns 0 or a negative errno; none prints or exits.
 */
#ifndef KMEMSIM_SIM_H
#define KMEMSIM_SIM_H

#include <stdbool.h>
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

#endif
