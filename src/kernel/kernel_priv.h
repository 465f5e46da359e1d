/* SPDX-License-Identifier: MIT */
/* Helpers shared by the files of src/kernel/ (the real-kernel layer). */
#ifndef KMS_KERNEL_PRIV_H
#define KMS_KERNEL_PRIV_H

#include <stdbool.h>
#include <stdlib.h>

#include "kmemsim/kernel.h"

/* Read a whole small file into @buf (NUL-terminated); returns bytes or -errno. */
int kms_kernel_read_file(const char *path, char *buf, size_t len);
int kms_kernel_write_file(const char *path, const char *text);
/* @word occurs in @s delimited by @sep (for ' ' also by newlines) or the ends. */
bool kms_kernel_has_word_sep(const char *s, const char *word, char sep);
bool kms_kernel_has_word(const char *s, const char *word);
int kms_kernel_parse_cpulist(const char *s);
int kms_kernel_possible_cpus(void);
/* Bytes of a value buffer for @spec's map (percpu maps: one value per possible CPU). */
size_t kms_kbpf_value_buf_size(const struct kms_kbpf_map_spec *spec, int nr_cpus);
bool kms_kbpf_is_percpu(uint32_t type);

#endif
