// SPDX-License-Identifier: MIT
/*
 * The pure parts of the real-kernel layer: how key ids become key bytes, the
 * BTF blob builder, fdinfo and cpulist parsing, and the "what is missing"
 * message. None of these touch the kernel.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#include "kernel/kernel_priv.h"

static void test_key_bytes_are_the_id_little_endian(void **state)
{
	uint8_t k[12];
	static const uint8_t want8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	kms_kbpf_key_from_id(0x0807060504030201ull, 12, k);
	assert_memory_equal(k, want8, 8);
	/* bytes 8..11 repeat the id's bytes 0..3 XOR 1 (the 8-byte block index) */
	assert_int_equal(k[8], 0x01 ^ 1);
	assert_int_equal(k[11], 0x04 ^ 1);
	/* a 4-byte key keeps the low four bytes */
	kms_kbpf_key_from_id(0x0807060504030201ull, 4, k);
	assert_memory_equal(k, want8, 4);
}

static void test_distinct_ids_give_distinct_8_byte_keys(void **state)
{
	uint8_t a[8], b[8];

	(void)state;
	kms_kbpf_key_from_id(1, 8, a);
	kms_kbpf_key_from_id(1ull << 56, 8, b);
	assert_memory_not_equal(a, b, 8);
}

static void test_array_keys_index_modulo_max_entries(void **state)
{
	struct kms_kbpf_map_spec s = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
				       .value_size = 8, .max_entries = 10 };
	uint8_t k[4];
	uint32_t idx;

	(void)state;
	assert_int_equal(kms_kbpf_map_key(&s, 1234, k), 0);
	memcpy(&idx, k, 4);
	assert_int_equal(idx, 4);	/* 1234 % 10 */
	s.key_size = 8;			/* arrays only take u32 indices */
	assert_int_equal(kms_kbpf_map_key(&s, 1, k), -EINVAL);
}

static void test_lpm_keys_are_full_length_prefixes(void **state)
{
	struct kms_kbpf_map_spec s = { .type = BPF_MAP_TYPE_LPM_TRIE, .key_size = 8 };
	uint8_t k[8];
	uint32_t plen;

	(void)state;
	assert_int_equal(kms_kbpf_map_key(&s, 0xaabbccdd, k), 0);
	memcpy(&plen, k, 4);
	assert_int_equal(plen, 32);	/* (8 - 4 bytes of prefixlen) * 8 bits */
	assert_int_equal(k[4], 0xdd);
}

static void test_percpu_values_are_rounded_per_cpu(void **state)
{
	struct kms_kbpf_map_spec s = { .type = BPF_MAP_TYPE_PERCPU_HASH, .value_size = 12 };

	(void)state;
	/* round_up(12, 8) = 16 bytes for each of 4 possible CPUs */
	assert_int_equal(kms_kbpf_value_buf_size(&s, 4), 64);
	s.type = BPF_MAP_TYPE_HASH;
	assert_int_equal(kms_kbpf_value_buf_size(&s, 4), 12);
}

static void test_btf_blob_has_the_asked_size(void **state)
{
	uint8_t buf[4096];
	struct btf_header h;

	(void)state;
	/* header 24 + int (12 + 4) + strings "\0int\0" (5) */
	assert_int_equal(kms_kbtf_min_size(0), 24 + 16 + 5);
	/* + char (12 + 4) + array (12 + 12), strings "\0int\0char\0" (10) */
	assert_int_equal(kms_kbtf_min_size(8), 24 + 16 + 16 + 24 + 10);
	assert_int_equal(kms_kbtf_build(buf, 89, 8), -EINVAL);
	/* below the int's minimum: header 24 + one pointer type 12 + NUL strings */
	assert_int_equal(kms_kbtf_build(buf, 43, 0), 43);
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.type_len, 12);
	assert_int_equal(h.str_len, 43 - 24 - 12);
	assert_int_equal(kms_kbtf_build(buf, 37, 0), 37);
	assert_int_equal(kms_kbtf_build(buf, 36, 0), -EINVAL);	/* no room for the "" string */
	assert_int_equal(kms_kbtf_build(buf, 4096, 8), 4096);
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.magic, BTF_MAGIC);
	assert_int_equal(h.hdr_len, 24);
	assert_int_equal(h.type_len, 56);
	assert_int_equal(h.str_off, 56);
	assert_int_equal(h.str_len, 4096 - 24 - 56);
	/* the string section starts with "" then "int" at offset 1 and ends with a NUL */
	assert_int_equal(buf[24 + 56], 0);
	assert_memory_equal(buf + 24 + 56 + 1, "int", 4);
	assert_int_equal(buf[4095], 0);
	assert_int_equal(kms_kbtf_build(buf, 16u * 1024 * 1024 + 1, 0), -EINVAL);
}

static void test_fdinfo_memlock(void **state)
{
	/* a 6.18 hash map's fdinfo, as /proc/PID/fdinfo/FD shows it */
	static const char text[] =
		"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1043\nmap_type:\t1\n"
		"key_size:\t8\nvalue_size:\t8\nmax_entries:\t1024\nmap_flags:\t0x0\n"
		"map_extra:\t0x0\nmemlock:\t82960\nmap_id:\t42\nfrozen:\t0\n";
	uint64_t v = 0;

	(void)state;
	assert_int_equal(kms_fdinfo_parse_memlock(text, &v), 0);
	assert_int_equal(v, 82960);
	assert_int_equal(kms_fdinfo_parse_memlock("pos:\t0\nflags:\t02\n", &v), -ENOENT);
	assert_int_equal(kms_fdinfo_parse_memlock("memlock:\tabc\n", &v), -EINVAL);
	assert_int_equal(kms_fdinfo_parse_memlock("memlock:\t12x\n", &v), -EINVAL);
}

static void test_slabinfo_objsize(void **state)
{
	/* lines as 6.18 /proc/slabinfo prints them */
	static const char text[] =
		"slabinfo - version: 2.1\n"
		"# name            <active_objs> <num_objs> <objsize> <objperslab> ...\n"
		"filp_cache_x         10     21    512   21    1 : tunables    0    0    0\n"
		"dentry             12345  12390    192   21    1 : tunables    0    0    0\n"
		"filp                2048   2058    192   21    1 : tunables    0    0    0\n";
	uint32_t v = 0;

	(void)state;
	assert_int_equal(kms_slabinfo_parse_objsize(text, "filp", &v), 0);
	assert_int_equal(v, 192);	/* not the "filp_cache_x" line */
	assert_int_equal(kms_slabinfo_parse_objsize(text, "dentry", &v), 0);
	assert_int_equal(v, 192);
	assert_int_equal(kms_slabinfo_parse_objsize(text, "inode_cache", &v), -ENOENT);
	assert_int_equal(kms_slabinfo_parse_objsize("filp  1 2 x\n", "filp", &v), -EINVAL);
}

static void test_cpulist(void **state)
{
	(void)state;
	assert_int_equal(kms_kernel_parse_cpulist("0-1\n"), 2);
	assert_int_equal(kms_kernel_parse_cpulist("0,2-5"), 5);
	assert_int_equal(kms_kernel_parse_cpulist("0"), 1);
	assert_int_equal(kms_kernel_parse_cpulist(""), -EINVAL);
	assert_int_equal(kms_kernel_parse_cpulist("3-1"), -EINVAL);
	assert_int_equal(kms_kernel_parse_cpulist("0-x"), -EINVAL);
}

static void test_missing_names_each_requirement(void **state)
{
	struct kms_kernel_caps caps = { .root = true, .nr_possible_cpus = 2,
					.memcg_version = 1 };
	char buf[512];

	(void)state;
	assert_int_equal(kms_kernel_missing(&caps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	caps.bpf_err = -EPERM;
	caps.memcg_version = 0;
	assert_int_equal(kms_kernel_missing(&caps, buf, sizeof(buf)), -ENOTSUP);
	assert_non_null(strstr(buf, "BPF_MAP_CREATE of a 1-entry array failed: EPERM"));
	assert_non_null(strstr(buf, "memory cgroup"));
	assert_null(strstr(buf, "root"));
}

static void test_words(void **state)
{
	(void)state;
	assert_true(kms_kernel_has_word("cpuset cpu io memory pids\n", "memory"));
	assert_false(kms_kernel_has_word("cpuset memoryx", "memory"));
	assert_true(kms_kernel_has_word_sep("rw,relatime,memory", "memory", ','));
	assert_false(kms_kernel_has_word_sep("rw,nomemory", "memory", ','));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_bytes_are_the_id_little_endian),
		cmocka_unit_test(test_distinct_ids_give_distinct_8_byte_keys),
		cmocka_unit_test(test_array_keys_index_modulo_max_entries),
		cmocka_unit_test(test_lpm_keys_are_full_length_prefixes),
		cmocka_unit_test(test_percpu_values_are_rounded_per_cpu),
		cmocka_unit_test(test_btf_blob_has_the_asked_size),
		cmocka_unit_test(test_fdinfo_memlock),
		cmocka_unit_test(test_slabinfo_objsize),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_missing_names_each_requirement),
		cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
