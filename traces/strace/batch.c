#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>

static long bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof(*a)); }

int main(void)
{
	union bpf_attr a;
	uint32_t keys[4] = {1, 2, 3, 4}, outk[4];
	uint64_t vals[4] = {10, 20, 30, 40}, outv[4];
	uint32_t k = 1, batch = 0;
	uint64_t v = 5;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH; a.key_size = 4; a.value_size = 8; a.max_entries = 4;
	strcpy(a.map_name, "kms_batch");
	fd = bpf(BPF_MAP_CREATE, &a);
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = fd; a.batch.keys = (uintptr_t)keys; a.batch.values = (uintptr_t)vals; a.batch.count = 4;
	bpf(BPF_MAP_UPDATE_BATCH, &a);
	memset(&a, 0, sizeof(a));
	a.map_fd = fd; a.key = (uintptr_t)&k; a.value = (uintptr_t)&v; a.flags = BPF_NOEXIST;
	bpf(BPF_MAP_UPDATE_ELEM, &a);            /* EEXIST */
	k = 9; a.flags = BPF_ANY;
	bpf(BPF_MAP_UPDATE_ELEM, &a);            /* E2BIG: full */
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = fd; a.batch.out_batch = (uintptr_t)&batch; a.batch.keys = (uintptr_t)outk; a.batch.values = (uintptr_t)outv; a.batch.count = 4;
	bpf(BPF_MAP_LOOKUP_BATCH, &a);
	memset(&a, 0, sizeof(a));
	k = 2;
	a.map_fd = fd; a.key = (uintptr_t)&k; a.value = (uintptr_t)&v;
	bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM, &a);
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = fd; a.batch.keys = (uintptr_t)keys; a.batch.count = 2;
	bpf(BPF_MAP_DELETE_BATCH, &a);           /* key 2 already gone: ENOENT after 1 */
	memset(&a, 0, sizeof(a));
	a.map_fd = fd; a.key = (uintptr_t)&k;
	bpf(BPF_MAP_DELETE_ELEM, &a);            /* ENOENT */
	int fd2 = dup(fd);
	int fd3 = fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 10);
	dup2(fd, 20);
	close(fd2); close(fd3); close(20);
	close(fd);
	return 0;
}
