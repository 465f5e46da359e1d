/* SPDX-License-Identifier: MIT */
/* Name tables of the kernel's bpf(2) enums and errno values (names.c). */
#ifndef KMS_TRACE_NAMES_H
#define KMS_TRACE_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct kms_name_value {
	const char *name;
	uint64_t value;
};

/* Each ends with { NULL, 0 }. */
extern const struct kms_name_value kms_bpf_cmd_names[];
extern const struct kms_name_value kms_map_type_names[];
extern const struct kms_name_value kms_prog_type_names[];
extern const struct kms_name_value kms_attach_type_names[];
extern const struct kms_name_value kms_map_flag_names[];
extern const struct kms_name_value kms_elem_flag_names[];
extern const struct kms_name_value kms_prog_flag_names[];
extern const struct kms_name_value kms_attach_flag_names[];
extern const struct kms_name_value kms_errno_names[];

/* Look @name (@len bytes, not NUL-terminated) up: 0 and *val, or -ENOENT. */
int kms_name_lookup(const struct kms_name_value *t, const char *name, size_t len,
		    uint64_t *val);
/* The first name with @val, or NULL. */
const char *kms_name_of(const struct kms_name_value *t, uint64_t val);

#endif
