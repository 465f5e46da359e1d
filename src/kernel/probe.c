// SPDX-License-Identifier: MIT
/*
 * What the running machine offers: root, a usable bpf(2), a memory cgroup
 * controller (v2 preferred, v1 otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "kernel/kernel_priv.h"

/* Parse a cpulist such as "0-1" or "0,2-5" and return the number of CPUs. */
int kms_kernel_parse_cpulist(const char *s)
{
	int n = 0;

	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -EINVAL;
		}
		n += (int)(b - a + 1);
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return n > 0 ? n : -EINVAL;
}

int kms_kernel_possible_cpus(void)
{
	char buf[256];
	int ret = kms_kernel_read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf));

	return ret < 0 ? ret : kms_kernel_parse_cpulist(buf);
}

int kms_kernel_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < len) {
		ssize_t r = read(fd, buf + got, len - 1 - got);

		if (r < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	return (int)got;
}

int kms_kernel_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = write(fd, text, len);
	if (r < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return r == (ssize_t)len ? 0 : -EIO;
}

/* A cgroup2 mount whose cgroup.controllers lists "memory", else a v1 "memory" mount. */
static void probe_memcg(struct kms_kernel_caps *caps)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], dir[256], type[64], opts[1024];
	char v1[256] = "";

	caps->memcg_version = 0;
	if (!f)
		return;
	while (fscanf(f, "%255s %255s %63s %1023s %*d %*d", dev, dir, type, opts) == 4) {
		if (strcmp(type, "cgroup2") == 0 && caps->memcg_version == 0) {
			char path[300], ctl[512];

			snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
			if (kms_kernel_read_file(path, ctl, sizeof(ctl)) >= 0 &&
			    kms_kernel_has_word(ctl, "memory")) {
				caps->memcg_version = 2;
				snprintf(caps->memcg_root, sizeof(caps->memcg_root), "%s", dir);
			}
		} else if (strcmp(type, "cgroup") == 0 && !v1[0] &&
			   kms_kernel_has_word_sep(opts, "memory", ',')) {
			snprintf(v1, sizeof(v1), "%s", dir);
		}
	}
	fclose(f);
	if (caps->memcg_version == 0 && v1[0]) {
		caps->memcg_version = 1;
		snprintf(caps->memcg_root, sizeof(caps->memcg_root), "%s", v1);
	}
}

bool kms_kernel_has_word_sep(const char *s, const char *word, char sep)
{
	size_t n = strlen(word);

	for (const char *p = s; (p = strstr(p, word)); p += n) {
		bool start = p == s || p[-1] == sep || (sep == ' ' && p[-1] == '\n');
		char e = p[n];
		bool end = e == '\0' || e == sep || (sep == ' ' && e == '\n');

		if (start && end)
			return true;
	}
	return false;
}

bool kms_kernel_has_word(const char *s, const char *word)
{
	return kms_kernel_has_word_sep(s, word, ' ');
}

int kms_kernel_probe(struct kms_kernel_caps *caps)
{
	struct kms_kbpf_map_spec spec = {
		.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
		.inner_map_fd = -1, .btf_fd = -1,
	};
	struct utsname u;
	int fd;

	memset(caps, 0, sizeof(*caps));
	if (uname(&u) == 0)
		snprintf(caps->release, sizeof(caps->release), "%s", u.release);
	caps->page_size = sysconf(_SC_PAGESIZE);
	caps->nr_possible_cpus = kms_kernel_possible_cpus();
	caps->root = geteuid() == 0;
	fd = kms_kbpf_map_create(&spec);
	caps->bpf_err = fd < 0 ? fd : 0;
	if (fd >= 0)
		close(fd);
	probe_memcg(caps);
	return 0;
}

int kms_kernel_missing(const struct kms_kernel_caps *caps, char *buf, size_t len)
{
	size_t off = 0;

#define ADD(...) do { \
		int _n = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__); \
		if (_n > 0) off += (size_t)_n; \
	} while (0)
	if (len)
		buf[0] = '\0';
	if (!caps->root)
		ADD("root: effective uid is %u, not 0 (cgroups and bpf(2) need root)\n",
		    (unsigned int)geteuid());
	if (caps->bpf_err)
		ADD("bpf(2): BPF_MAP_CREATE of a 1-entry array failed: %s\n",
		    strerrorname_np(-caps->bpf_err) ? strerrorname_np(-caps->bpf_err) : "?");
	if (!caps->memcg_version)
		ADD("memory cgroup: no cgroup2 mount lists \"memory\" in cgroup.controllers "
		    "and no cgroup v1 hierarchy is mounted with the memory controller\n");
	if (caps->nr_possible_cpus <= 0)
		ADD("cpus: cannot read /sys/devices/system/cpu/possible\n");
#undef ADD
	return off ? -ENOTSUP : 0;
}
