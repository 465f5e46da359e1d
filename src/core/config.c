// SPDX-License-Identifier: MIT
#include <errno.h>

#include "kmemsim/config.h"

void kms_config_init(struct kms_config *cfg)
{
	cfg->page_size = 4096;
	cfg->nr_cpus = 2;
	cfg->memcg = true;
	cfg->kmem = true;
	cfg->bpf_memcg = true;
}

int kms_config_validate(const struct kms_config *cfg)
{
	/* The page sizes Linux runs BPF on: x86-64/arm64 4K, arm64 16K/64K, ppc64 64K. */
	if (cfg->page_size != 4096 && cfg->page_size != 16384 && cfg->page_size != 65536)
		return -EINVAL;
	if (cfg->nr_cpus == 0 || cfg->nr_cpus > KMS_MAX_CPUS)
		return -EINVAL;
	return 0;
}

unsigned int kms_config_page_shift(const struct kms_config *cfg)
{
	unsigned int shift = 0;

	while ((1u << shift) < cfg->page_size)
		shift++;
	return shift;
}
