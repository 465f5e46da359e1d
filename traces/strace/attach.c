/* Load a cgroup_skb program and attach it to a cgroup v2 directory three
 * ways: PROG_ATTACH (then PROG_DETACH), LINK_CREATE; pin and get it back. */
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a, unsigned int size)
{
	return syscall(__NR_bpf, cmd, a, size);
}

int main(int argc, char **argv)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	int prog, cg, link, pinned;

	if (argc < 3)
		return 2;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_SKB;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = 2;
	a.license = (uintptr_t)"GPL";
	a.expected_attach_type = BPF_CGROUP_INET_EGRESS;
	strcpy(a.prog_name, "kms_egress");
	prog = bpf(BPF_PROG_LOAD, &a, sizeof(a));
	cg = open(argv[1], O_RDONLY | O_DIRECTORY);
	memset(&a, 0, sizeof(a));
	a.target_fd = cg;
	a.attach_bpf_fd = prog;
	a.attach_type = BPF_CGROUP_INET_EGRESS;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	bpf(BPF_PROG_ATTACH, &a, sizeof(a));
	bpf(BPF_PROG_DETACH, &a, sizeof(a));
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = prog;
	a.link_create.target_fd = cg;
	a.link_create.attach_type = BPF_CGROUP_INET_EGRESS;
	link = bpf(BPF_LINK_CREATE, &a, sizeof(a));
	memset(&a, 0, sizeof(a));
	a.pathname = (uintptr_t)argv[2];
	a.bpf_fd = prog;
	bpf(BPF_OBJ_PIN, &a, sizeof(a));
	memset(&a, 0, sizeof(a));
	a.pathname = (uintptr_t)argv[2];
	pinned = bpf(BPF_OBJ_GET, &a, sizeof(a));
	unlink(argv[2]);
	close(pinned);
	close(link);
	close(cg);
	close(prog);
	return 0;
}
