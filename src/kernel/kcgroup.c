// SPDX-License-Identifier: MIT
/*
 * A scratch memory cgroup on the real kernel: create, move a task in, drain
 * the per-CPU stocks, read the counters, remove.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/kernel_priv.h"

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int cg_file(const struct kms_kcgroup *cg, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", cg->path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int cg_read_u64(const struct kms_kcgroup *cg, const char *name, uint64_t *v)
{
	char path[600], buf[64];
	int ret = cg_file(cg, name, path, sizeof(path));

	if (ret)
		return ret;
	ret = kms_kernel_read_file(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	if (strncmp(buf, "max", 3) == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	if (sscanf(buf, "%" SCNu64, v) != 1)
		return -EIO;
	return 0;
}

static int cg_write(const struct kms_kcgroup *cg, const char *name, const char *text)
{
	char path[600];
	int ret = cg_file(cg, name, path, sizeof(path));

	return ret ? ret : kms_kernel_write_file(path, text);
}

int kms_kcgroup_create(const struct kms_kernel_caps *caps, const char *prefix,
		       struct kms_kcgroup *out)
{
	memset(out, 0, sizeof(*out));
	if (!caps->memcg_version)
		return -ENOTSUP;
	if (caps->memcg_version == 2) {
		char path[300], ctl[512];

		/* The children of the root only get memory.* if the root delegates it. */
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", caps->memcg_root);
		if (kms_kernel_read_file(path, ctl, sizeof(ctl)) >= 0 &&
		    !kms_kernel_has_word(ctl, "memory")) {
			int ret = kms_kernel_write_file(path, "+memory");

			if (ret)
				return ret;
		}
	}
	for (unsigned int n = 0; n < 1000; n++) {
		int len = snprintf(out->path, sizeof(out->path), "%s/%s%d_%u", caps->memcg_root,
				   prefix, (int)getpid(), n);

		if (len < 0 || (size_t)len >= sizeof(out->path))
			return -ENAMETOOLONG;
		if (mkdir(out->path, 0755) == 0) {
			out->version = caps->memcg_version;
			return 0;
		}
		if (errno != EEXIST) {
			int err = -errno;

			out->path[0] = '\0';
			return err;
		}
	}
	out->path[0] = '\0';
	return -EEXIST;
}

int kms_kcgroup_add_pid(const struct kms_kcgroup *cg, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cg_write(cg, "cgroup.procs", buf);
}

/*
 * Both writes call drain_all_stock() on this memcg before anything else
 * (6.18 mm/memcontrol-v1.c mem_cgroup_force_empty(); mm/memcontrol.c
 * memory_high_write()), which flushes this CPU's page and obj stocks and
 * queues the flush on the others; the reclaim that follows cannot free
 * kernel memory, so only the stocks move.
 */
int kms_kcgroup_drain(const struct kms_kcgroup *cg, unsigned int wait_ms)
{
	int ret;

	if (cg->version == 1) {
		ret = cg_write(cg, "memory.force_empty", "0");
	} else {
		ret = cg_write(cg, "memory.high", "0");
		if (ret == 0 || ret == -EBUSY || ret == -EINTR)
			ret = cg_write(cg, "memory.high", "max");
	}
	/* force_empty reports EBUSY/EINTR after draining when memory stays charged. */
	if (ret == -EBUSY || ret == -EINTR)
		ret = 0;
	sleep_ms(wait_ms);
	return ret;
}

static void parse_stat(const char *text, struct kms_kcgroup_counters *out)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "slab", offsetof(struct kms_kcgroup_counters, stat_slab) },
		{ "percpu", offsetof(struct kms_kcgroup_counters, stat_percpu) },
		{ "vmalloc", offsetof(struct kms_kcgroup_counters, stat_vmalloc) },
		{ "kernel", offsetof(struct kms_kcgroup_counters, stat_kernel) },
	};

	for (const char *line = text; line && *line; ) {
		const char *sp = strchr(line, ' ');
		const char *nl = strchr(line, '\n');

		if (sp && (!nl || sp < nl)) {
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				if ((size_t)(sp - line) == strlen(keys[i].key) &&
				    strncmp(line, keys[i].key, (size_t)(sp - line)) == 0)
					sscanf(sp + 1, "%" SCNu64,
					       (uint64_t *)((char *)out + keys[i].off));
			}
		}
		line = nl ? nl + 1 : NULL;
	}
}

int kms_kcgroup_read(const struct kms_kcgroup *cg, struct kms_kcgroup_counters *out)
{
	char path[600];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = cg_file(cg, "memory.stat", path, sizeof(path));
	if (ret)
		return ret;
	{
		char *buf = malloc(65536);

		if (!buf)
			return -ENOMEM;
		ret = kms_kernel_read_file(path, buf, 65536);
		if (ret >= 0)
			parse_stat(buf, out);
		free(buf);
		if (ret < 0)
			return ret;
	}
	if (cg->version == 1) {
		if ((ret = cg_read_u64(cg, "memory.usage_in_bytes", &out->usage)) ||
		    (ret = cg_read_u64(cg, "memory.kmem.usage_in_bytes", &out->kmem)) ||
		    (ret = cg_read_u64(cg, "memory.max_usage_in_bytes", &out->max_usage)) ||
		    (ret = cg_read_u64(cg, "memory.failcnt", &out->failcnt)))
			return ret;
		return 0;
	}
	if ((ret = cg_read_u64(cg, "memory.current", &out->usage)))
		return ret;
	/*
	 * v2 has no kernel-memory page counter of its own; memory.stat "kernel"
	 * is an rstat sum flushed lazily (mm/memcontrol.c mem_cgroup_flush_stats()
	 * skips small updates), so it can lag a step. memory.current after a
	 * drain is the exact page counter, and the actor adds no user pages.
	 */
	out->kmem = out->usage;
	if (cg_read_u64(cg, "memory.peak", &out->max_usage))
		out->max_usage = 0;	/* memory.peak is 5.19+ */
	{
		char buf[1024];

		if (cg_file(cg, "memory.events", path, sizeof(path)) == 0 &&
		    kms_kernel_read_file(path, buf, sizeof(buf)) >= 0) {
			const char *p = strstr(buf, "\nmax ");

			if (p)
				sscanf(p + 5, "%" SCNu64, &out->failcnt);
		}
	}
	return 0;
}

/* Move every task of @cg to its parent; returns how many were moved or -errno. */
static int evacuate(const struct kms_kcgroup *cg)
{
	char path[600], parent[600], buf[4096];
	char *slash;
	int moved = 0, ret;

	if ((ret = cg_file(cg, "cgroup.procs", path, sizeof(path))))
		return ret;
	ret = kms_kernel_read_file(path, buf, sizeof(buf));
	if (ret <= 0)
		return ret;
	snprintf(parent, sizeof(parent), "%s", cg->path);
	slash = strrchr(parent, '/');
	if (!slash)
		return -EINVAL;
	snprintf(slash, sizeof(parent) - (size_t)(slash - parent), "/cgroup.procs");
	for (char *tok = strtok(buf, "\n"); tok; tok = strtok(NULL, "\n")) {
		if (kms_kernel_write_file(parent, tok) == 0)
			moved++;
	}
	return moved;
}

int kms_kcgroup_remove(struct kms_kcgroup *cg)
{
	int err = 0;

	if (!cg->path[0])
		return 0;
	/* A dying memcg with charges is fine; a populated one cannot be removed. */
	for (int tries = 0; tries < 100; tries++) {
		evacuate(cg);
		if (rmdir(cg->path) == 0 || errno == ENOENT) {
			cg->path[0] = '\0';
			return 0;
		}
		err = -errno;
		if (err != -EBUSY)
			break;
		sleep_ms(10);
	}
	return err;
}

int kms_kcgroup_count_leftovers(const char *memcg_root, const char *prefix)
{
	DIR *d = opendir(memcg_root);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* The pid in "<prefix><pid>_..." is dead (or the name does not parse: not ours). */
static bool orphan(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long pid;

	if (strncmp(name, prefix, n) != 0)
		return false;
	pid = strtol(name + n, &end, 10);
	if (end == name + n || *end != '_' || pid <= 0)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Count (and with @remove, remove) what dead runs left; returns the count found. */
static int walk_orphans(const char *memcg_root, const char *prefix, bool remove)
{
	char dev[256], dir[256], type[64];
	DIR *d = opendir(memcg_root);
	struct dirent *e;
	FILE *f;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct kms_kcgroup cg = { .version = 1 };

		if (e->d_type != DT_DIR || !orphan(e->d_name, prefix))
			continue;
		n++;
		if (remove) {
			snprintf(cg.path, sizeof(cg.path), "%s/%s", memcg_root, e->d_name);
			kms_kcgroup_remove(&cg);
		}
	}
	closedir(d);
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		const char *base = strrchr(dir, '/');
		struct kms_kbpffs fs;

		if (strcmp(type, "bpf") != 0 || !base || !orphan(base + 1, "kms_bpffs_"))
			continue;
		n++;
		if (remove && strlen(dir) < sizeof(fs.dir)) {
			memcpy(fs.dir, dir, strlen(dir) + 1);
			kms_kbpffs_unmount(&fs);
		}
	}
	fclose(f);
	return n;
}

int kms_kernel_count_orphans(const char *memcg_root, const char *prefix)
{
	return walk_orphans(memcg_root, prefix, false);
}

int kms_kernel_remove_orphans(const char *memcg_root, const char *prefix)
{
	int found = walk_orphans(memcg_root, prefix, true);

	if (found < 0)
		return found;
	return walk_orphans(memcg_root, prefix, false) ? -EBUSY : found;
}
