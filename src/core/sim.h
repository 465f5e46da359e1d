/* SPDX-License-Identifier: MIT */
/*
 * The simulation value behind struct kms_sim. Model layers (mm, acct, bpf)
 * see this definition; the CLI only sees the opaque handle in kmemsim/sim.h.
 */
#ifndef KMS_CORE_SIM_H
#define KMS_CORE_SIM_H

#include "kmemsim/config.h"
#include "kmemsim/sim.h"
#include "acct/locked_vm.h"
#include "core/explain.h"
#include "core/task.h"
#include "mm/charge.h"
#include "mm/memcontrol.h"
#include "mm/params.h"

struct kmem_cache;

struct kms_sim {
	struct kms_config cfg;
	unsigned int page_shift;
	struct memcg_tree memcgs;
	struct task_table tasks;
	struct user_table users;
	/* Allocator models: stocks per CPU, totals, ledger, RCU queue, faults. */
	struct mm_state mm;
	struct kmem_cache *caches;	/* kmem_cache_create()d, freed with the sim */
	struct kms_explain explain;	/* --explain narration of the current operation */
};

/*
 * Install the kernel-behaviour knobs (a profile's mm table). Only before
 * anything is allocated: -EBUSY once an allocation is live or a stock holds
 * charges, -EINVAL for knobs no kernel has.
 */
int kms_sim_set_mm_params(struct kms_sim *sim, const struct mm_params *params);

#endif
