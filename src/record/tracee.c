// SPDX-License-Identifier: MIT
/*
 * Reading a stopped tracee. Memory is read with process_vm_readv(), which the
 * tracer may use on its tracees; facts about the task come from /proc, read at
 * the stop so they are those of the moment of the call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "record/tracee.h"

int rec_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	if (addr == 0)
		return -EFAULT;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int rec_read_str(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	if (size == 0)
		return -EINVAL;
	/* Page by page: the string may end just before an unmapped page. */
	while (got < size - 1) {
		size_t room = 4096 - ((addr + got) & 4095);
		size_t len = room < size - 1 - got ? room : size - 1 - got;
		char *nul;
		int err = rec_read_mem(pid, addr + got, buf + got, len);

		if (err) {
			buf[got] = '\0';
			return err;
		}
		nul = memchr(buf + got, '\0', len);
		if (nul)
			return 0;
		got += len;
	}
	buf[size - 1] = '\0';
	return -E2BIG;
}

/* Read a small /proc file; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (ssize_t)n;
}

static void read_cgroup(pid_t pid, char *out, size_t size)
{
	char path[64], buf[4096], *line, *save = NULL;
	const char *v2 = NULL;

	snprintf(out, size, "?");
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* "ID:controllers:path"; the v1 memory hierarchy wins over v2 */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *ctl;

		if (!c2)
			continue;
		*c2 = '\0';
		ctl = c1 + 1;
		if (strcmp(ctl, "memory") == 0 || strstr(ctl, "memory,") == ctl ||
		    strstr(ctl, ",memory")) {
			snprintf(out, size, "%s", c2 + 1);
			return;
		}
		if (strcmp(line, "0") == 0 && *ctl == '\0')
			v2 = c2 + 1;
	}
	if (v2)
		snprintf(out, size, "%s", v2);
}

static int read_cpu(pid_t pid, pid_t tid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	/* comm may hold spaces and ')': after the last ')' come fields 3, 4, ...
	 * each after one space; stop at the space before field 39 */
	p = strrchr(buf, ')');
	for (int field = 3; p && field <= 39; field++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

static uint32_t read_uid(pid_t tid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return UINT32_MAX;
	p = strstr(buf, "\nUid:");
	return p ? (uint32_t)strtoul(p + 5, NULL, 10) : UINT32_MAX;
}

void rec_ctx_read(struct rec_ctx *c, pid_t pid, pid_t tid, double t)
{
	c->t = t;
	c->pid = pid;
	c->tid = tid;
	c->uid = read_uid(tid);
	c->cpu = read_cpu(pid, tid);
	read_cgroup(pid, c->cgroup, sizeof(c->cgroup));
}

static const struct {
	const char *link;
	enum rec_obj kind;
	const char *id_key;
} obj_kinds[] = {
	{ "anon_inode:bpf-map", REC_OBJ_MAP, "map_id:" },
	{ "anon_inode:bpf-prog", REC_OBJ_PROG, "prog_id:" },
	{ "anon_inode:bpf_link", REC_OBJ_LINK, "link_id:" },
	{ "anon_inode:btf", REC_OBJ_BTF, "btf_id:" },
};

static bool fdinfo_u64(const char *buf, const char *key, uint64_t *out)
{
	const char *p = buf;
	size_t klen = strlen(key);

	while (p) {
		if (strncmp(p, key, klen) == 0) {
			*out = strtoull(p + klen, NULL, 10);
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int rec_obj_read(pid_t pid, int fd, struct rec_obj_info *info)
{
	char path[64], link[128], buf[4096];
	ssize_t n;
	uint64_t v;

	memset(info, 0, sizeof(*info));
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (strncmp(link, "anon_inode:bpf", 14) != 0 && strcmp(link, "anon_inode:btf") != 0)
		return 0;
	info->kind = REC_OBJ_OTHER;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(obj_kinds) / sizeof(obj_kinds[0]); i++) {
		if (strcmp(link, obj_kinds[i].link) != 0)
			continue;
		info->kind = obj_kinds[i].kind;
		if (fdinfo_u64(buf, obj_kinds[i].id_key, &v))
			info->id = (uint32_t)v;
	}
	if (fdinfo_u64(buf, "map_type:", &v))
		info->map_type = (uint32_t)v;
	if (fdinfo_u64(buf, "key_size:", &v))
		info->key_size = (uint32_t)v;
	if (fdinfo_u64(buf, "value_size:", &v))
		info->value_size = (uint32_t)v;
	if (fdinfo_u64(buf, "max_entries:", &v))
		info->max_entries = (uint32_t)v;
	info->has_memlock = fdinfo_u64(buf, "memlock:", &info->memlock);
	return 0;
}

/* A limit file: "max" or bytes; v1's "unlimited" is PAGE_COUNTER_MAX pages,
 * a number near 2^63 (6.18 mm/memcontrol-v1.c mem_cgroup_read_u64()). */
static int read_limit(const char *file, uint64_t *out)
{
	char buf[64];

	if (read_small(file, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	if (strncmp(buf, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	*out = strtoull(buf, NULL, 10);
	if (*out >= (1ULL << 62))
		*out = UINT64_MAX;
	return 0;
}

int rec_cgroup_limits(const char *path, uint64_t *max, uint64_t *high)
{
	/* the usual mount points of the v1 memory hierarchy and of cgroup v2 */
	static const char *const v2_roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char file[4096];

	*max = *high = UINT64_MAX;
	snprintf(file, sizeof(file), "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", path);
	if (read_limit(file, max) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(v2_roots) / sizeof(v2_roots[0]); i++) {
		snprintf(file, sizeof(file), "%s%s/memory.max", v2_roots[i], path);
		if (read_limit(file, max) == 0) {
			snprintf(file, sizeof(file), "%s%s/memory.high", v2_roots[i], path);
			read_limit(file, high);
			return 0;
		}
	}
	return -ENOENT;
}
