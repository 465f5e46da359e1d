/* SPDX-License-Identifier: MIT */
/*
 * Machine knobs of one simulation. Everything that the kernel would take from
 * its build configuration, boot command line or hardware lives here, in one
 * value, so two simulations with different knobs can live in one process.
 */
#ifndef KMEMSIM_CONFIG_H
#define KMEMSIM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define KMS_MAX_CPUS 8192u

struct kms_config {
	/* PAGE_SIZE: 4096 (x86-64), 16384 or 65536 (arm64, ppc64). */
	uint32_t page_size;
	/* num_possible_cpus(): percpu allocations are sized by it. */
	uint32_t nr_cpus;
	/* CONFIG_MEMCG=y. Off: no memory cgroup counts anything. */
	bool memcg;
	/* Kernel memory accounting; off models cgroup.memory=nokmem. */
	bool kmem;
	/* BPF accounting; off models cgroup.memory=nobpf (6.3+). */
	bool bpf_memcg;
};

/* 4 KiB pages, 2 possible CPUs, memcg and kmem accounting on. */
void kms_config_init(struct kms_config *cfg);

/* 0, or -EINVAL when a knob is outside what a kernel can have. */
int kms_config_validate(const struct kms_config *cfg);

/* log2(page_size): the kernel's PAGE_SHIFT. */
unsigned int kms_config_page_shift(const struct kms_config *cfg);

#endif
