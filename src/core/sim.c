// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "core/sim.h"
#include "mm/slab.h"

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
	err = mm_state_init(&sim->mm, &sim->cfg);
	if (err) {
		memcg_tree_destroy(&sim->memcgs);
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
	mm_state_destroy(sim);
	kmem_caches_destroy(sim);
	task_table_destroy(&sim->tasks);
	user_table_destroy(&sim->users);
	memcg_tree_destroy(&sim->memcgs);
	explain_destroy(&sim->explain);
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
	int err;

	if (!memcg)
		return -ENOENT;
	/* Hold it across the removal: the stocks may still name it. */
	mem_cgroup_get(memcg);
	err = mem_cgroup_remove(&sim->memcgs, memcg);
	/* mem_cgroup_css_offline(): memcg_offline_kmem() (reparenting), then drain_all_stock() */
	if (!err)
		drain_all_stock_memcg(sim, memcg);
	mem_cgroup_put(&sim->memcgs, memcg);
	return err;
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
	int64_t max = bytes_to_pages(sim, bytes);

	if (!memcg)
		return -ENOENT;
	/* memory_max_write() / mem_cgroup_resize_max(): drain the stocks before giving up */
	if (!mem_cgroup_is_root(memcg) && memcg->memory.usage > max)
		drain_all_stock_memcg(sim, memcg);
	return mem_cgroup_set_max(memcg, max);
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

/* Page stock pages, obj stock bytes and parked bytes that belong to @memcg's subtree. */
static uint64_t memcg_stock_bytes(const struct kms_sim *sim, const struct mem_cgroup *memcg)
{
	uint64_t bytes = memcg_stock_pages(sim, memcg) << sim->page_shift;

	for (uint32_t cpu = 0; cpu < sim->cfg.nr_cpus; cpu++) {
		const struct obj_stock_pcp *stock = &sim->mm.cpus[cpu].obj;

		if (stock->cached_objcg &&
		    mem_cgroup_is_descendant(stock->cached_objcg->memcg, memcg))
			bytes += stock->nr_bytes;
	}
	return bytes + memcg_parked_bytes(memcg);
}

int kms_cgroup_read(const struct kms_sim *sim, const char *path,
		    struct kms_cgroup_stats *out)
{
	const struct mem_cgroup *memcg = sim_memcg(sim, path);

	if (!memcg)
		return -ENOENT;
	*out = (struct kms_cgroup_stats){
		.current = pages_to_bytes(sim, memcg->memory.usage),
		.stock = memcg_stock_bytes(sim, memcg),
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
	/* A trace cannot give back pages it never took, nor take more than a page count holds. */
	if (pages < -user->locked_vm_other ||
	    (pages > 0 && pages > (INT64_MAX >> sim->page_shift) - user->locked_vm))
		return -EINVAL;
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

uint64_t kms_root_memory_current(const struct kms_sim *sim)
{
	return pages_to_bytes(sim, sim->memcgs.root->memory.usage);
}

struct kms_sim_totals kms_sim_totals(const struct kms_sim *sim)
{
	/* what kms_root_memory_current() and kms_locked_vm_total() return, without two calls */
	return (struct kms_sim_totals){
		.root_memory_current = pages_to_bytes(sim, sim->memcgs.root->memory.usage),
		.locked_vm_total = pages_to_bytes(sim, sim->users.locked_vm_total),
	};
}

int kms_sim_set_mm_params(struct kms_sim *sim, const struct mm_params *params)
{
	int err = mm_params_validate(params);

	if (err)
		return err;
	for (int k = 0; k < KMEM_NR_KINDS; k++)
		if (sim->mm.totals[k].nr_live)
			return -EBUSY;
	if (memcg_stock_pages(sim, NULL) || sim->mm.rcu.len)
		return -EBUSY;
	drain_all_stock(sim);
	sim->mm.params = *params;
	return 0;
}

int kms_sim_drain_stock(struct kms_sim *sim)
{
	if (!sim)
		return -EINVAL;
	drain_all_stock(sim);
	return 0;
}

int kms_sim_fault_fail_nth(struct kms_sim *sim, uint64_t nth)
{
	if (!sim)
		return -EINVAL;
	sim->mm.fault.fail_nth = nth;
	sim->mm.fault.nr_calls = 0;
	return 0;
}

int kms_sim_fault_fail_irq(struct kms_sim *sim, bool on)
{
	if (!sim)
		return -EINVAL;
	sim->mm.fault.fail_irq = on;
	return 0;
}

uint64_t kms_sim_fault_calls(const struct kms_sim *sim)
{
	return sim ? sim->mm.fault.nr_calls : 0;
}

int kms_sim_set_rcu(struct kms_sim *sim, uint64_t grace_ns, bool immediate)
{
	if (!sim)
		return -EINVAL;
	sim->mm.params.rcu_grace_ns = immediate ? 0 : grace_ns;
	sim->mm.params.rcu_immediate = immediate;
	return 0;
}

int kms_sim_rcu_advance(struct kms_sim *sim, uint64_t now_ns)
{
	if (!sim)
		return -EINVAL;
	rcu_advance(sim, now_ns);
	return 0;
}

int kms_sim_rcu_barrier(struct kms_sim *sim)
{
	if (!sim)
		return -EINVAL;
	rcu_barrier(sim);
	return 0;
}

_Static_assert((int)KMS_KMEM_NR_KINDS == KMEM_NR_KINDS, "kms_kmem_kind mirrors kmem_kind");
_Static_assert((int)KMS_KMEM_VMALLOC == (int)KMEM_VMALLOC, "kms_kmem_kind mirrors kmem_kind");

int kms_kmem_totals_read(const struct kms_sim *sim, enum kms_kmem_kind kind,
			 struct kms_kmem_totals *out)
{
	const struct kmem_totals *t;

	if (!sim || !out || (unsigned int)kind >= KMS_KMEM_NR_KINDS)
		return -EINVAL;
	t = &sim->mm.totals[kind];
	*out = (struct kms_kmem_totals){
		.nr_live = (uint64_t)t->nr_live,
		.bytes = (uint64_t)t->bytes,
		.charged_bytes = (uint64_t)t->charged_bytes,
		.unpaid_bytes = (uint64_t)t->unpaid_bytes,
		.nr_allocs = t->nr_allocs,
		.nr_frees = t->nr_frees,
		.nr_failed = t->nr_failed,
	};
	return 0;
}

int kms_sim_set_ledger(struct kms_sim *sim, bool on)
{
	if (!sim)
		return -EINVAL;
	if (on == sim->mm.ledger.enabled)
		return 0;
	if (!on) {
		ledger_destroy(&sim->mm.ledger, &sim->memcgs);
		ledger_init(&sim->mm.ledger);
		sim->mm.ledger.enabled = false;
		return 0;
	}
	/* Charges made while it was off could never be matched by their uncharges. */
	for (int k = 0; k < KMEM_NR_KINDS; k++)
		if (sim->mm.totals[k].nr_live)
			return -EBUSY;
	sim->mm.ledger.enabled = true;
	return 0;
}

int kms_ledger_read(const struct kms_sim *sim, uint64_t owner, struct kms_ledger_row *rows,
		    size_t max, size_t *n)
{
	const struct ledger_owner *o;
	size_t i = 0;

	if (!sim || !n || (max && !rows))
		return -EINVAL;
	*n = 0;
	if (!sim->mm.ledger.enabled)
		return -ENODATA;
	o = ledger_find(&sim->mm.ledger, owner);
	if (!o)
		return -ENOENT;
	for (const struct ledger_entry *e = o->entries; e; e = e->next, i++) {
		const struct mem_cgroup *payer = NULL;

		if (i >= max)
			continue;
		if (e->payer)
			payer = e->payer_is_objcg ? ((const struct obj_cgroup *)e->payer)->memcg
						  : (const struct mem_cgroup *)e->payer;
		rows[i] = (struct kms_ledger_row){
			.owner = owner,
			.cgroup = payer ? payer->path : NULL,
			.kind = (enum kms_kmem_kind)e->kind,
			.nr_live = (uint64_t)e->nr_live,
			.bytes = (uint64_t)e->bytes,
			.charged_bytes = (uint64_t)e->charged_bytes,
			.nr_charges = e->nr_charges,
			.nr_uncharges = e->nr_uncharges,
		};
		for (int c = 0; c < 4; c++)
			rows[i].by_ctx[c] = e->by_ctx[c];
	}
	*n = i;
	return 0;
}
