// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/task.h"

void task_table_init(struct task_table *tasks)
{
	*tasks = (struct task_table){ 0 };
}

void task_table_destroy(struct task_table *tasks)
{
	struct task *task, *tmp;

	HASH_ITER(hh, tasks->by_pid, task, tmp) {
		HASH_DEL(tasks->by_pid, task);
		free(task);
	}
	tasks->nr_tasks = 0;
	memset(tasks->recent, 0, sizeof(tasks->recent));
}

struct task *task_find_slow(struct task_table *tasks, int32_t pid)
{
	struct task *task = NULL;
	struct task **slot = &tasks->recent[(uint32_t)pid % TASK_RECENT];

	HASH_FIND(hh, tasks->by_pid, &pid, sizeof(pid), task);
	if (task)
		*slot = task;
	return task;
}

int task_create(struct task_table *tasks, int32_t pid, struct user_struct *user,
		struct mem_cgroup *memcg, uint64_t rlimit_memlock, struct task **out)
{
	struct task *task;

	if (task_find(tasks, pid))
		return -EEXIST;
	task = calloc(1, sizeof(*task));
	if (!task)
		return -ENOMEM;
	task->pid = pid;
	task->uid = user->uid;
	task->user = user;
	task->memcg = memcg;
	task->rlimit_memlock = rlimit_memlock;
	task->has_mm = true;
	memcg->nr_tasks++;
	HASH_ADD(hh, tasks->by_pid, pid, sizeof(task->pid), task);
	tasks->nr_tasks++;
	if (out)
		*out = task;
	return 0;
}

int task_fork(struct task_table *tasks, struct task *parent, int32_t child_pid,
	      struct task **out)
{
	struct task *child;
	int err;

	err = task_create(tasks, child_pid, parent->user, parent->memcg,
			  parent->rlimit_memlock, &child);
	if (err)
		return err;
	child->kthread = parent->kthread;
	child->has_mm = parent->has_mm;
	if (out)
		*out = child;
	return 0;
}

void task_move_memcg(struct task *task, struct mem_cgroup *memcg)
{
	task->memcg->nr_tasks--;
	task->memcg = memcg;
	memcg->nr_tasks++;
}

void task_exit(struct task_table *tasks, struct task *task)
{
	task->memcg->nr_tasks--;
	if (tasks->recent[(uint32_t)task->pid % TASK_RECENT] == task)
		tasks->recent[(uint32_t)task->pid % TASK_RECENT] = NULL;
	HASH_DEL(tasks->by_pid, task);
	tasks->nr_tasks--;
	free(task);
}
