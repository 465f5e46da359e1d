// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "core/sim.h"

int kms_sim_new(const struct kms_config *cfg, struct kms_sim **out)
{
	struct kms_sim *sim;
	int err;

	err = kms_config_validate(cfg);
	if (err)
		return err;
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->cfg = *cfg;
	sim->page_shift = kms_config_page_shift(cfg);
	err = memcg_tree_init(&sim->memcgs, &sim->cfg);
	if (err) {
		free(sim);
		return err;
	}
	task_table_init(&sim->tasks);
	user_table_init(&sim->users);
	*out = sim;
	return 0;
}

void kms_sim_free(struct kms_sim *sim)
{
	if (!sim)
		return;
	task_table_destroy(&sim->tasks);
	user_table_destroy(&sim->users);
	memcg_tree_destroy(&sim->memcgs);
	free(sim);
}

const struct kms_config *kms_sim_config(const struct kms_sim *sim)
{
	return &sim->cfg;
}

static struct mem_cgroup *sim_memcg(const struct kms_sim *sim, const char *path)
{
	return mem_cgroup_lookup((struct memcg_tree *)&sim->memcgs, path);
}

int kms_cgroup_create(struct kms_sim *sim, const char *path)
{
	return mem_cgroup_create(&sim->memcgs, path, NULL);
}

int kms_cgroup_remove(struct kms_sim *sim, const char *path)
{
	struct mem_cgroup *memcg = sim_memcg(sim, path);

	if (!memcg)
		return -ENOENT;
	return mem_cgroup_remove(&sim->memcgs, memcg);
}

static int64_t bytes_to_pages(const struct kms_sim *sim, uint64_t bytes)
{
	if (bytes == KMS_UNLIMITED)
		return PAGE_COUNTER_MAX;
	bytes >>= sim->page_shift;
	return bytes > (uint64_t)PAGE_COUNTER_MAX ? PAGE_COUNTER_MAX : (int64_t)bytes;
}

static uint64_t pages_to_bytes(const struct kms_sim *sim, int64_t pages)
{
	if (pages >= PAGE_COUNTER_MAX)
		return KMS_UNLIMITED;
	return pages < 0 ? 0 : (uint64_t)pages << sim->page_shift;
}

int kms_cgroup_set_max(struct kms_sim *sim, const char *path, uint64_t bytes)
{
	struct mem_cgroup *memcg = sim_memcg(sim, path);

	if (!memcg)
		return -ENOENT;
	return mem_cgroup_set_max(memcg, bytes_to_pages(sim, bytes));
}

int kms_cgroup_set_high(struct kms_sim *sim, const char *path, uint64_t bytes)
{
	struct mem_cgroup *memcg = sim_memcg(sim, path);

	if (!memcg)
		return -ENOENT;
	if (mem_cgroup_is_root(memcg))
		return -EINVAL;
	mem_cgroup_set_high(memcg, bytes_to_pages(sim, bytes));
	return 0;
}

static uint64_t stat_bytes(const struct mem_cgroup *memcg, enum memcg_stat_item idx)
{
	int64_t v = memcg_stat_read(memcg, idx);

	return v < 0 ? 0 : (uint64_t)v;
}

int kms_cgroup_read(const struct kms_sim *sim, const char *path,
		    struct kms_cgroup_stats *out)
{
	const struct mem_cgroup *memcg = sim_memcg(sim, path);

	if (!memcg)
		return -ENOENT;
	*out = (struct kms_cgroup_stats){
		.current = pages_to_bytes(sim, memcg->memory.usage),
		.peak = pages_to_bytes(sim, memcg->memory.watermark),
		.max = pages_to_bytes(sim, memcg->memory.max),
		.high = pages_to_bytes(sim, memcg->memory.high),
		.kmem = pages_to_bytes(sim, memcg->kmem.usage),
		.failcnt = memcg->memory.failcnt,
		.stat_kernel = stat_bytes(memcg, MEMCG_KMEM),
		.stat_slab = stat_bytes(memcg, NR_SLAB_UNRECLAIMABLE_B),
		.stat_percpu = stat_bytes(memcg, MEMCG_PERCPU_B),
		.stat_vmalloc = stat_bytes(memcg, MEMCG_VMALLOC),
		.events_low = memcg->events[MEMCG_LOW],
		.events_high = memcg->events[MEMCG_HIGH],
		.events_max = memcg->events[MEMCG_MAX],
		.events_oom = memcg->events[MEMCG_OOM],
		.events_oom_kill = memcg->events[MEMCG_OOM_KILL],
		.nr_tasks = memcg->nr_tasks,
		.online = memcg->online,
	};
	return 0;
}

int kms_task_create(struct kms_sim *sim, int32_t pid, uint32_t uid,
		    const char *cgroup, uint64_t rlimit_memlock)
{
	struct mem_cgroup *memcg = sim_memcg(sim, cgroup ? cgroup : "/");
	struct user_struct *user;

	if (!memcg)
		return -ENOENT;
	if (pid <= 0)
		return -EINVAL;
	user = user_table_get(&sim->users, uid);
	if (!user)
		return -ENOMEM;
	return task_create(&sim->tasks, pid, user, memcg, rlimit_memlock, NULL);
}

int kms_task_fork(struct kms_sim *sim, int32_t parent_pid, int32_t child_pid)
{
	struct task *parent = task_find(&sim->tasks, parent_pid);

	if (!parent)
		return -ESRCH;
	if (child_pid <= 0)
		return -EINVAL;
	return task_fork(&sim->tasks, parent, child_pid, NULL);
}

int kms_task_move(struct kms_sim *sim, int32_t pid, const char *cgroup)
{
	struct task *task = task_find(&sim->tasks, pid);
	struct mem_cgroup *memcg = sim_memcg(sim, cgroup);

	if (!task)
		return -ESRCH;
	if (!memcg)
		return -ENOENT;
	task_move_memcg(task, memcg);
	return 0;
}

int kms_task_set_rlimit_memlock(struct kms_sim *sim, int32_t pid, uint64_t bytes)
{
	struct task *task = task_find(&sim->tasks, pid);

	if (!task)
		return -ESRCH;
	task->rlimit_memlock = bytes;
	return 0;
}

int kms_task_set_uid(struct kms_sim *sim, int32_t pid, uint32_t uid)
{
	struct task *task = task_find(&sim->tasks, pid);
	struct user_struct *user;

	if (!task)
		return -ESRCH;
	user = user_table_get(&sim->users, uid);
	if (!user)
		return -ENOMEM;
	task->uid = uid;
	task->user = user;
	return 0;
}

int kms_task_read(const struct kms_sim *sim, int32_t pid, struct kms_task_info *out)
{
	struct task *task = task_find((struct task_table *)&sim->tasks, pid);

	if (!task)
		return -ESRCH;
	*out = (struct kms_task_info){
		.uid = task->uid,
		.rlimit_memlock = task->rlimit_memlock,
		.cgroup = task->memcg->path,
	};
	return 0;
}

int kms_task_exit(struct kms_sim *sim, int32_t pid)
{
	struct task *task = task_find(&sim->tasks, pid);

	if (!task)
		return -ESRCH;
	task_exit(&sim->tasks, task);
	return 0;
}

int kms_user_read(const struct kms_sim *sim, uint32_t uid, struct kms_user_stats *out)
{
	const struct user_struct *user =
		user_table_find((struct user_table *)&sim->users, uid);

	if (!user)
		return -ENOENT;
	*out = (struct kms_user_stats){
		.locked_vm = pages_to_bytes(sim, user->locked_vm),
		.locked_vm_peak = pages_to_bytes(sim, user->locked_vm_peak),
		.locked_vm_bpf = pages_to_bytes(sim, user->locked_vm_bpf),
		.locked_vm_other = pages_to_bytes(sim, user->locked_vm_other),
	};
	return 0;
}

int kms_user_locked_vm_other(struct kms_sim *sim, uint32_t uid, int64_t pages)
{
	struct user_struct *user = user_table_get(&sim->users, uid);

	if (!user)
		return -ENOMEM;
	if (pages >= 0)
		locked_vm_charge_other(user, pages);
	else
		locked_vm_uncharge_other(user, -pages);
	return 0;
}

uint64_t kms_locked_vm_total(const struct kms_sim *sim)
{
	return pages_to_bytes(sim, sim->users.locked_vm_total);
}
