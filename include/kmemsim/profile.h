/* SPDX-License-Identifier: MIT */
/*
 * Kernel profiles: which kernel the BPF model behaves as. A profile is data
 * (struct sizes, accounting scheme, supported map types, allocation flags,
 * fdinfo formula), so kernels differ by table, not by code. Built-in profiles
 * are constant; derive your own with kms_profile_copy() + kms_profile_set().
 */
#ifndef KMEMSIM_PROFILE_H
#define KMEMSIM_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "kmemsim/config.h"

struct kms_profile;

/* Built-in profile by name ("linux-5.10", "linux-5.11", "linux-5.11-v7", "linux-6.18"). */
const struct kms_profile *kms_profile_find(const char *name);
/* Built-in profiles in a stable order: index 0 .. kms_profile_count() - 1. */
size_t kms_profile_count(void);
const struct kms_profile *kms_profile_at(size_t idx);

const char *kms_profile_name(const struct kms_profile *p);
/* One line for `kmemsim profiles`. */
const char *kms_profile_description(const struct kms_profile *p);

/* A modifiable copy (name and description are copied too). -ENOMEM. */
int kms_profile_copy(const struct kms_profile *p, struct kms_profile **out);
void kms_profile_free(struct kms_profile *p);

/*
 * Override one knob of a copy. Keys: cpus, page_size, batch (MEMCG_CHARGE_BATCH),
 * stock_slots, memcg=on|off, kmem=on|off, nobpf (or bpf_memcg=on|off),
 * rlimit.memlock=<bytes>[K|M|G]|unlimited, helper=map|task|none,
 * elem_gfp=atomic|nowait|kernel, unprivileged_bpf_disabled=0|1|2. Returns 0, -EINVAL (unknown key or bad value)
 * or -ERANGE (value out of range); the reason is in kms_profile_error().
 */
int kms_profile_set(struct kms_profile *p, const char *key, const char *value);
const char *kms_profile_error(const struct kms_profile *p);

/*
 * A size as --set values write it: "4096", "64K", "8M", "1G", "2T" (binary
 * units, optional B/iB), or "max"/"unlimited" (UINT64_MAX). 0, -EINVAL or -ERANGE.
 */
int kms_size_parse(const char *s, uint64_t *out);

/* Machine knobs this profile implies: create the kms_sim with them. */
void kms_profile_config(const struct kms_profile *p, struct kms_config *cfg);
/* Default soft RLIMIT_MEMLOCK of a new task on this kernel, bytes (UINT64_MAX: unlimited). */
uint64_t kms_profile_rlimit_memlock(const struct kms_profile *p);

#endif
