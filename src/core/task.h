/* SPDX-License-Identifier: MIT */
/*
 * A process as the accounting code sees it: the memcg it runs in, its uid's
 * user_struct and its soft RLIMIT_MEMLOCK. Threads share all three with their
 * process, so the model keeps one task per process (tgid).
 */
#ifndef KMS_CORE_TASK_H
#define KMS_CORE_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "acct/locked_vm.h"
#include "mm/memcontrol.h"

struct task {
	int32_t pid;
	uint32_t uid;
	uint64_t rlimit_memlock;	/* soft limit, bytes; KMS_RLIM_INFINITY */
	struct mem_cgroup *memcg;
	struct user_struct *user;
	/* Kernel threads (and tasks without an mm) are never charged. */
	bool kthread;
	bool has_mm;
	/* set_active_memcg() from process context: current->active_memcg. */
	struct mem_cgroup *active_memcg;
	UT_hash_handle hh;
};

#define TASK_RECENT 64u

struct task_table {
	struct task *by_pid;
	uint32_t nr_tasks;
	/* tasks found lately, by pid % TASK_RECENT: few tasks do most of a trace */
	struct task *recent[TASK_RECENT];
};

void task_table_init(struct task_table *tasks);
void task_table_destroy(struct task_table *tasks);

struct task *task_find_slow(struct task_table *tasks, int32_t pid);

/* The task with @pid, or NULL; the recently found ones without a hash lookup. */
static inline struct task *task_find(struct task_table *tasks, int32_t pid)
{
	struct task *task = tasks->recent[(uint32_t)pid % TASK_RECENT];

	return task && task->pid == pid ? task : task_find_slow(tasks, pid);
}

/* -EEXIST when @pid is live, -ENOMEM. */
int task_create(struct task_table *tasks, int32_t pid, struct user_struct *user,
		struct mem_cgroup *memcg, uint64_t rlimit_memlock, struct task **out);

/* fork()/clone(): the child inherits cgroup, uid and rlimit. */
int task_fork(struct task_table *tasks, struct task *parent, int32_t child_pid,
	      struct task **out);

/* cgroup v2 migration: charges already made stay where they are. */
void task_move_memcg(struct task *task, struct mem_cgroup *memcg);

void task_exit(struct task_table *tasks, struct task *task);

#endif
