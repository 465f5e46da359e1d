// SPDX-License-Identifier: MIT
/*
 * Measure one map configuration (or program size) on the running kernel
 * (root, cgroup v1 memory controller at /sys/fs/cgroup/memory):
 *   measure-map TYPE KEY VALUE ENTRIES FLAGS K
 *   measure-map prog INSNS K      (socket filters of INSNS instructions)
 * A child joins a fresh memory cgroup and creates K identical maps; the
 * parent reads memory.kmem.usage_in_bytes before and after (the child reads
 * nothing, so only its bpf(2) calls are charged) and prints one CSV line:
 *   type,key,value,entries,flags,K,errno,memlock,kmem_per_map
 * (type as enum bpf_map_type, flags in hex)
 * memlock is the first map's fdinfo "memlock:". Everything is removed after.
 * Build: cc -O2 -o measure-map scripts/measure-map.c
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CG "/sys/fs/cgroup/memory/kmemsim-measure"

static long long read_ll(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		return -1;
	close(fd);
	return atoll(buf);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static void drain(void)
{
	write_str(CG "/memory.force_empty", "0");
	usleep(20000);
}

static long long fdinfo_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "memlock:", 8))
			v = atoll(line + 8);
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	int to_child[2], to_parent[2], k, status;
	long long before, after, res[2] = { 0, -1 };
	union bpf_attr attr;
	char c, pid[32];
	pid_t child;

	bool prog = argc == 4 && !strcmp(argv[1], "prog");
	struct bpf_insn *insns = NULL;

	if (argc != 7 && !prog) {
		fprintf(stderr, "usage: %s TYPE KEY VALUE ENTRIES FLAGS K | prog INSNS K\n", argv[0]);
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	if (prog) {
		/* r0 = 0 repeated, then exit */
		unsigned int n = (unsigned)atoi(argv[2]);

		insns = calloc(n ? n : 1, sizeof(*insns));
		for (unsigned int i = 0; i + 1 < n; i++)
			insns[i] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K };
		insns[n - 1] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
		attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		attr.insns = (unsigned long)insns;
		attr.insn_cnt = n;
		attr.license = (unsigned long)"GPL";
		k = atoi(argv[3]);
		goto run;
	}
	attr.map_type = (unsigned)atoi(argv[1]);
	attr.key_size = (unsigned)atoi(argv[2]);
	attr.value_size = (unsigned)atoi(argv[3]);
	attr.max_entries = (unsigned)strtoul(argv[4], NULL, 0);
	attr.map_flags = (unsigned)strtoul(argv[5], NULL, 0);
	k = atoi(argv[6]);
run:
	if (mkdir(CG, 0755) && errno != EEXIST)
		return perror("mkdir " CG), 1;
	if (pipe(to_child) || pipe(to_parent))
		return 1;
	child = fork();
	if (child == 0) {
		int *fds = calloc((size_t)k, sizeof(int));

		snprintf(pid, sizeof(pid), "%d", getpid());
		if (!fds || write_str(CG "/cgroup.procs", pid))
			_exit(1);
		write(to_parent[1], "r", 1);
		read(to_child[0], &c, 1);
		for (int i = 0; i < k; i++) {
			fds[i] = (int)syscall(SYS_bpf, prog ? BPF_PROG_LOAD : BPF_MAP_CREATE, &attr,
					      sizeof(attr));
			if (fds[i] < 0) {
				res[0] = errno;
				break;
			}
		}
		if (!res[0])
			res[1] = fdinfo_memlock(fds[0]);
		write(to_parent[1], res, sizeof(res));
		read(to_child[0], &c, 1);	/* hold the maps until the parent has read */
		_exit(0);
	}
	read(to_parent[0], &c, 1);
	drain();
	before = read_ll(CG "/memory.kmem.usage_in_bytes");
	write(to_child[1], "g", 1);
	read(to_parent[0], res, sizeof(res));
	drain();
	after = read_ll(CG "/memory.kmem.usage_in_bytes");
	write(to_child[1], "x", 1);
	waitpid(child, &status, 0);
	drain();
	rmdir(CG);
	if (prog)
		printf("prog,%s,%d,%lld,%lld,%lld\n", argv[2], k, res[0], res[1],
		       res[0] ? 0 : (after - before) / k);
	else
		printf("%s,%s,%s,%s,0x%x,%d,%lld,%lld,%lld\n", argv[1], argv[2], argv[3], argv[4],
		       attr.map_flags, k, res[0], res[1], res[0] ? 0 : (after - before) / k);
	free(insns);
	return 0;
}
