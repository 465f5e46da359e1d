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
#include "core/task.h"
#include "mm/memcontrol.h"

struct kms_sim {
	struct kms_config cfg;
	unsigned int page_shift;
	struct memcg_tree memcgs;
	struct task_table tasks;
	struct user_table users;
};

#endif
