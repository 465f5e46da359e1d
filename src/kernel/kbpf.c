// SPDX-License-Identifier: MIT
/* Raw bpf(2) calls on the real kernel: maps, elements, programs, pins. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "kernel/kernel_priv.h"

#define NOPRE BPF_F_NO_PREALLOC
#define MMAP BPF_F_MMAPABLE

/*
 * Numbers are the uapi enum bpf_map_type values (include/uapi/linux/bpf.h);
 * the two newest are spelled out because the build host's headers may be
 * older than the kernel. Sizes are ones each type's map_alloc_check accepts.
 */
static const struct kms_kbpf_map_type map_types[] = {
	{ "hash", 1, 8, 8, 0, 0 },
	{ "array", 2, 4, 8, 0, 0 },
	{ "prog_array", 3, 4, 4, 0, 0 },
	{ "perf_event_array", 4, 4, 4, 0, 0 },
	{ "percpu_hash", 5, 8, 8, 0, 0 },
	{ "percpu_array", 6, 4, 8, 0, 0 },
	{ "stack_trace", 7, 4, 64, 0, 0 },
	{ "cgroup_array", 8, 4, 4, 0, 0 },
	{ "lru_hash", 9, 8, 8, 0, 0 },
	{ "lru_percpu_hash", 10, 8, 8, 0, 0 },
	{ "lpm_trie", 11, 8, 8, NOPRE, 0 },
	{ "array_of_maps", 12, 4, 4, 0, KMS_KBPF_NEEDS_INNER },
	{ "hash_of_maps", 13, 8, 4, 0, KMS_KBPF_NEEDS_INNER },
	{ "devmap", 14, 4, 4, 0, 0 },
	{ "sockmap", 15, 4, 4, 0, 0 },
	{ "cpumap", 16, 4, 4, 0, 0 },
	{ "xskmap", 17, 4, 4, 0, 0 },
	{ "sockhash", 18, 8, 4, 0, 0 },
	{ "cgroup_storage", 19, 8, 8, 0, KMS_KBPF_NEEDS_ZERO_MAX },
	{ "reuseport_sockarray", 20, 4, 8, 0, 0 },
	{ "percpu_cgroup_storage", 21, 8, 8, 0, KMS_KBPF_NEEDS_ZERO_MAX },
	{ "queue", 22, 0, 8, 0, 0 },
	{ "stack", 23, 0, 8, 0, 0 },
	{ "sk_storage", 24, 4, 8, NOPRE, KMS_KBPF_NEEDS_BTF | KMS_KBPF_NEEDS_ZERO_MAX },
	{ "devmap_hash", 25, 4, 4, 0, 0 },
	{ "struct_ops", 26, 4, 0, 0, KMS_KBPF_NEEDS_VMLINUX },
	{ "ringbuf", 27, 0, 0, 0, KMS_KBPF_NEEDS_PAGES },
	{ "inode_storage", 28, 4, 8, NOPRE, KMS_KBPF_NEEDS_BTF | KMS_KBPF_NEEDS_ZERO_MAX },
	{ "task_storage", 29, 4, 8, NOPRE, KMS_KBPF_NEEDS_BTF | KMS_KBPF_NEEDS_ZERO_MAX },
	{ "bloom_filter", 30, 0, 8, 0, 0 },
	{ "user_ringbuf", 31, 0, 0, 0, KMS_KBPF_NEEDS_PAGES },
	{ "cgrp_storage", 32, 4, 8, NOPRE, KMS_KBPF_NEEDS_BTF | KMS_KBPF_NEEDS_ZERO_MAX },
	{ "arena", 33, 0, 0, MMAP, 0 },
};

const struct kms_kbpf_map_type *kms_kbpf_map_types(size_t *n)
{
	*n = sizeof(map_types) / sizeof(map_types[0]);
	return map_types;
}

const struct kms_kbpf_map_type *kms_kbpf_map_type_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(map_types) / sizeof(map_types[0]); i++)
		if (strcmp(map_types[i].name, name) == 0)
			return &map_types[i];
	return NULL;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	long ret = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return ret < 0 ? -errno : ret;
}

int kms_kbpf_map_create(const struct kms_kbpf_map_spec *spec)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = spec->type;
	attr.key_size = spec->key_size;
	attr.value_size = spec->value_size;
	attr.max_entries = spec->max_entries;
	attr.map_flags = spec->flags;
	attr.map_extra = spec->map_extra;
	if (spec->inner_map_fd >= 0)
		attr.inner_map_fd = (uint32_t)spec->inner_map_fd;
	if (spec->btf_fd >= 0) {
		attr.btf_fd = (uint32_t)spec->btf_fd;
		attr.btf_key_type_id = spec->btf_key_type_id;
		attr.btf_value_type_id = spec->btf_value_type_id;
	}
	return (int)sys_bpf(BPF_MAP_CREATE, &attr);
}

void kms_kbpf_key_from_id(uint64_t id, uint32_t key_size, uint8_t *key)
{
	for (uint32_t i = 0; i < key_size; i++)
		key[i] = (uint8_t)(((id >> (8 * (i % 8))) & 0xff) ^ (i / 8));
}

static bool is_array_like(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_ARRAY: case BPF_MAP_TYPE_PERCPU_ARRAY: case BPF_MAP_TYPE_PROG_ARRAY:
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY: case BPF_MAP_TYPE_CGROUP_ARRAY:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_DEVMAP: case BPF_MAP_TYPE_CPUMAP:
	case BPF_MAP_TYPE_XSKMAP: case BPF_MAP_TYPE_SOCKMAP:
	case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: case BPF_MAP_TYPE_STACK_TRACE:
		return true;
	default:
		return false;
	}
}

bool kms_kbpf_is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

size_t kms_kbpf_value_buf_size(const struct kms_kbpf_map_spec *spec, int nr_cpus)
{
	/* Percpu values cross the syscall as round_up(value_size, 8) per possible CPU. */
	if (kms_kbpf_is_percpu(spec->type))
		return (((size_t)spec->value_size + 7) & ~(size_t)7) * (size_t)nr_cpus;
	return spec->value_size;
}

int kms_kbpf_map_key(const struct kms_kbpf_map_spec *spec, uint64_t key_id, uint8_t *key)
{
	if (spec->key_size == 0)
		return 0;
	if (is_array_like(spec->type)) {
		uint32_t idx;

		if (spec->key_size != 4 || spec->max_entries == 0)
			return -EINVAL;
		idx = (uint32_t)(key_id % spec->max_entries);
		memcpy(key, &idx, 4);
		return 0;
	}
	if (spec->type == BPF_MAP_TYPE_LPM_TRIE) {
		/* struct bpf_lpm_trie_key_u8: u32 prefixlen, then the data bytes */
		uint32_t plen;

		if (spec->key_size < 5)
			return -EINVAL;
		plen = (spec->key_size - 4) * 8;
		memcpy(key, &plen, 4);
		kms_kbpf_key_from_id(key_id, spec->key_size - 4, key + 4);
		return 0;
	}
	kms_kbpf_key_from_id(key_id, spec->key_size, key);
	return 0;
}

int kms_kbpf_map_update(int fd, const void *key, const void *value, uint64_t flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	attr.flags = flags;
	return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

int kms_kbpf_map_push(int fd, const void *value)
{
	return kms_kbpf_map_update(fd, NULL, value, BPF_ANY);
}

int kms_kbpf_map_delete(int fd, const void *key)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)key;
	return (int)sys_bpf(BPF_MAP_DELETE_ELEM, &attr);
}

int kms_kbpf_map_count(int fd, uint32_t key_size)
{
	uint8_t a[256], b[256];
	union bpf_attr attr;
	bool first = true;
	int n = 0;

	if (key_size > sizeof(a))
		return -EINVAL;
	for (;;) {
		long ret;

		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (uint32_t)fd;
		attr.key = first ? 0 : (uint64_t)(uintptr_t)a;
		attr.next_key = (uint64_t)(uintptr_t)b;
		ret = sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr);
		if (ret == -ENOENT)
			return n;
		if (ret < 0)
			return (int)ret;
		memcpy(a, b, key_size);
		first = false;
		if (++n > (1 << 26))
			return -ELOOP;
	}
}

static int prog_load(uint32_t type, const struct bpf_insn *insns, uint32_t cnt,
		     char *log, size_t log_len)
{
	union bpf_attr attr;
	static const char license[] = "GPL";

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = cnt;
	attr.license = (uint64_t)(uintptr_t)license;
	if (log && log_len) {
		log[0] = '\0';
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_len;
		attr.log_level = 1;
	}
	return (int)sys_bpf(BPF_PROG_LOAD, &attr);
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
					       .off = (o), .imm = (i) })

int kms_kbpf_prog_load_filler(uint32_t insn_cnt, void *buf, size_t buf_len)
{
	struct bpf_insn *insns = buf;
	int ret;

	/* 6.18 include/linux/bpf.h BPF_COMPLEXITY_LIMIT_INSNS: 1M for privileged loads */
	if (insn_cnt == 0 || insn_cnt > 1000000)
		return -EINVAL;
	if (!insns) {
		insns = calloc(insn_cnt, sizeof(*insns));
		if (!insns)
			return -ENOMEM;
	} else if (buf_len < insn_cnt * sizeof(*insns)) {
		return -ENOSPC;
	}
	for (uint32_t i = 0; i + 1 < insn_cnt; i++)
		insns[i] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	insns[insn_cnt - 1] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	ret = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, insns, insn_cnt, NULL, 0);
	if (!buf)
		free(insns);
	return ret;
}

int kms_kbpf_prog_load_irq_inserter(int map_fd, int cpu, char *log, size_t log_len)
{
	const struct bpf_insn body[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns),
		INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, -8, 0),	/* key */
		INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -16, 0),		/* value */
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -16),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_NOEXIST),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem),
	};
	const size_t nbody = sizeof(body) / sizeof(body[0]);
	struct bpf_insn insns[2 + sizeof(body) / sizeof(body[0]) + 2];
	size_t n = 0;

	if (cpu >= 0) {
		/* on any other CPU skip the insert: if (smp_processor_id() != cpu) goto out */
		insns[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_smp_processor_id);
		insns[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, (int16_t)nbody, cpu);
	}
	memcpy(insns + n, body, sizeof(body));
	n += nbody;
	insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);	/* out: */
	insns[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, insns, (uint32_t)n, log, log_len);
}

int kms_kbpf_raw_tp_open(const char *tp_name, int prog_fd)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.name = (uint64_t)(uintptr_t)tp_name;
	attr.raw_tracepoint.prog_fd = (uint32_t)prog_fd;
	return (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &attr);
}

int kms_kbpf_obj_pin(int fd, const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uint64_t)(uintptr_t)path;
	attr.bpf_fd = (uint32_t)fd;
	return (int)sys_bpf(BPF_OBJ_PIN, &attr);
}

int kms_kbpf_obj_get(const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uint64_t)(uintptr_t)path;
	return (int)sys_bpf(BPF_OBJ_GET, &attr);
}

int kms_kbtf_load(const void *blob, size_t size)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.btf = (uint64_t)(uintptr_t)blob;
	attr.btf_size = (uint32_t)size;
	return (int)sys_bpf(BPF_BTF_LOAD, &attr);
}

/* The rest of the first line of @text that is @key then a blank, or NULL. */
static const char *keyed_line(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; ) {
		if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == '\t'))
			return p + n;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

int kms_fdinfo_parse_memlock(const char *text, uint64_t *memlock)
{
	const char *p = keyed_line(text, "memlock:");
	unsigned long long v;
	char *end;

	if (!p)
		return -ENOENT;
	while (*p == ' ' || *p == '\t')
		p++;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (end == p || errno || (*end && *end != '\n'))
		return -EINVAL;
	*memlock = v;
	return 0;
}

int kms_fdinfo_read_memlock(pid_t pid, int fd, uint64_t *memlock)
{
	char path[64], buf[2048];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	ret = kms_kernel_read_file(path, buf, sizeof(buf));
	return ret < 0 ? ret : kms_fdinfo_parse_memlock(buf, memlock);
}

int kms_slabinfo_parse_objsize(const char *text, const char *cache, uint32_t *objsize)
{
	const char *p = keyed_line(text, cache);
	unsigned long active, num, size;

	if (!p)
		return -ENOENT;
	/* <active_objs> <num_objs> <objsize> ... */
	if (sscanf(p, "%lu %lu %lu", &active, &num, &size) != 3 || !size || size > UINT32_MAX)
		return -EINVAL;
	*objsize = (uint32_t)size;
	return 0;
}

int kms_kernel_fd_cost(uint64_t *bytes)
{
	uint32_t filp, dentry;
	char *buf = malloc(1 << 20);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = kms_kernel_read_file("/proc/slabinfo", buf, 1 << 20);
	if (ret >= 0)
		ret = kms_slabinfo_parse_objsize(buf, "filp", &filp);
	if (ret >= 0)
		ret = kms_slabinfo_parse_objsize(buf, "dentry", &dentry);
	free(buf);
	if (ret < 0)
		return ret;
	/* obj_full_size(): each object also pays for its obj_cgroup pointer */
	*bytes = (uint64_t)filp + dentry + 2 * sizeof(void *);
	return 0;
}
