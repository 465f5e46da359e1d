// SPDX-License-Identifier: MIT
/*
 * A small BPF program for the recorder test: it makes known bpf(2) calls with
 * the raw syscall and exits with status 7. What it does is listed in
 * test_record.c, which checks the recording against it. Exit 77: BPF is not
 * available here (the test skips).
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static long update(int fd, uint32_t key, uint64_t value, uint64_t flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&value;
	a.flags = flags;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static long delete(int fd, uint32_t key)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)&key;
	return sys_bpf(BPF_MAP_DELETE_ELEM, &a);
}

/* Batch update of keys 20, 21, 22 and batch delete of key 20: 0, or -1. */
static int batches(int fd)
{
	uint32_t keys[3] = { 20, 21, 22 };
	uint64_t values[3] = { 1, 2, 3 };
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (uint32_t)fd;
	a.batch.keys = (uint64_t)(uintptr_t)keys;
	a.batch.values = (uint64_t)(uintptr_t)values;
	a.batch.count = 3;
	if (sys_bpf(BPF_MAP_UPDATE_BATCH, &a) || a.batch.count != 3)
		return -1;
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (uint32_t)fd;
	a.batch.keys = (uint64_t)(uintptr_t)keys;
	a.batch.count = 1;
	return sys_bpf(BPF_MAP_DELETE_BATCH, &a) || a.batch.count != 1 ? -1 : 0;
}

static int load_socket_filter(const struct bpf_insn *insns, uint32_t n, const char *name)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = n;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.license = (uint64_t)(uintptr_t)"GPL";
	strncpy(a.prog_name, name, sizeof(a.prog_name) - 1);
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

/* A 2-instruction socket filter "r0 = 0; exit", loaded and closed. */
static int prog(void)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = load_socket_filter(insns, 2, "kms_prog");

	return fd < 0 ? -1 : close(fd);
}

/*
 * Three elements inserted by a BPF program inside the kernel, where a syscall
 * trace cannot see them: a socket filter that inserts key skb->len, run by
 * BPF_PROG_TEST_RUN on packets of 64, 65 and 66 bytes (3 distinct lengths).
 */
static int prog_inserts(int map_fd)
{
	struct bpf_insn insns[] = {
		/* *(u32 *)(fp - 4) = skb->len; *(u64 *)(fp - 16) = 0 */
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_1,
		  .off = 0 },
		{ .code = BPF_STX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_2,
		  .off = -4 },
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -16, .imm = 0 },
		/* bpf_map_update_elem(map, fp - 4, fp - 16, BPF_ANY) */
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_3, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_3, .imm = -16 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_update_elem },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned char pkt[66] = { 0 };
	union bpf_attr a;
	int fd = load_socket_filter(insns, sizeof(insns) / sizeof(insns[0]), "kms_inserter");

	if (fd < 0)
		return -1;
	for (uint32_t len = 64; len <= 66; len++) {
		memset(&a, 0, sizeof(a));
		a.test.prog_fd = (uint32_t)fd;
		a.test.data_in = (uint64_t)(uintptr_t)pkt;
		a.test.data_size_in = len;
		if (sys_bpf(BPF_PROG_TEST_RUN, &a))
			return -1;
	}
	return close(fd);
}

/* A thread of the process inserts key 300. */
static void *thread_main(void *arg)
{
	return (void *)(intptr_t)update(*(int *)arg, 300, 3, BPF_ANY);
}

int main(void)
{
	union bpf_attr a;
	struct rlimit rl;
	uint32_t key = 1, next;
	uint64_t value;
	int fd, dupfd, status;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 64;
	strcpy(a.map_name, "kms_mapper");
	fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0) {
		fprintf(stderr, "mapper: BPF_MAP_CREATE: %s\n", strerror(errno));
		return 77;
	}
	for (uint32_t k = 1; k <= 10; k++)		/* 10 inserts */
		if (update(fd, k, k * 100, BPF_NOEXIST))
			return 1;
	if (update(fd, 3, 333, BPF_EXIST))		/* an overwrite */
		return 1;
	if (update(fd, 5, 555, BPF_NOEXIST) == 0 || errno != EEXIST)	/* fails */
		return 1;
	for (uint32_t k = 2; k <= 6; k += 2)		/* 3 deletes: 2, 4, 6 */
		if (delete(fd, k))
			return 1;
	memset(&a, 0, sizeof(a));			/* a lookup of key 1 */
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&value;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) || value != 100)
		return 1;
	memset(&a, 0, sizeof(a));			/* the first key: key NULL */
	a.map_fd = (uint32_t)fd;
	a.next_key = (uint64_t)(uintptr_t)&next;
	if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a))
		return 1;
	if (batches(fd) || prog() || prog_inserts(fd))
		return 1;
	dupfd = dup(fd);				/* a dup, closed again */
	close(dupfd);
	/* fcntl(F_DUPFD_CLOEXEC) to fd 210 or above (the lowest free one: fds
	 * inherited from the caller may be anywhere), dup3() onto fd 200 */
	dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 210);
	if (dupfd < 210 || dup3(fd, 200, O_CLOEXEC) != 200)
		return 1;
	if (fcntl(fd, F_GETFD) < 0 || close(dupfd) || close(200))
		return 1;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {	/* soft limit := hard limit */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	{
		pthread_t th;				/* a thread inserts key 300 */
		void *ret;

		if (pthread_create(&th, NULL, thread_main, &fd) || pthread_join(th, &ret) ||
		    ret != NULL)
			return 1;
	}
	pid = fork();			/* a child inserts key 100 and execs true(1) */
	if (pid == 0) {
		if (update(fd, 100, 1, BPF_ANY))
			_exit(1);
		execl("/bin/true", "true", (char *)NULL);
		_exit(1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || status != 0)
		return 1;
	return 7;					/* the map fd is closed by exit */
}
