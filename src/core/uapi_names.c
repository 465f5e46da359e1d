// SPDX-License-Identifier: MIT
/*
 * Names of the kernel's bpf(2) enums, as lowercase strings without their
 * prefix: "hash" for BPF_MAP_TYPE_HASH. Values are the 6.18 uapi values
 * (include/uapi/linux/bpf.h, enum bpf_cmd, bpf_map_type, bpf_prog_type,
 * bpf_attach_type), taken from the BTF of a running 6.18.44 kernel with
 * `bpftool btf dump file /sys/kernel/btf/vmlinux format c` (a one-off
 * conversion; add new kernel values here by hand, in enum order).
 * Where the kernel has two names for one value (BPF_PROG_TEST_RUN and
 * BPF_PROG_RUN, CGROUP_STORAGE and its _DEPRECATED alias), the first listed is
 * the one printed; every name is accepted when reading.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "kmemsim/uapi.h"
#include "core/uapi_names.h"

const struct kms_name_value kms_bpf_cmd_names[] = {
	{ "map_create", 0 },
	{ "map_lookup_elem", 1 },
	{ "map_update_elem", 2 },
	{ "map_delete_elem", 3 },
	{ "map_get_next_key", 4 },
	{ "prog_load", 5 },
	{ "obj_pin", 6 },
	{ "obj_get", 7 },
	{ "prog_attach", 8 },
	{ "prog_detach", 9 },
	{ "prog_test_run", 10 },
	{ "prog_run", 10 },
	{ "prog_get_next_id", 11 },
	{ "map_get_next_id", 12 },
	{ "prog_get_fd_by_id", 13 },
	{ "map_get_fd_by_id", 14 },
	{ "obj_get_info_by_fd", 15 },
	{ "prog_query", 16 },
	{ "raw_tracepoint_open", 17 },
	{ "btf_load", 18 },
	{ "btf_get_fd_by_id", 19 },
	{ "task_fd_query", 20 },
	{ "map_lookup_and_delete_elem", 21 },
	{ "map_freeze", 22 },
	{ "btf_get_next_id", 23 },
	{ "map_lookup_batch", 24 },
	{ "map_lookup_and_delete_batch", 25 },
	{ "map_update_batch", 26 },
	{ "map_delete_batch", 27 },
	{ "link_create", 28 },
	{ "link_update", 29 },
	{ "link_get_fd_by_id", 30 },
	{ "link_get_next_id", 31 },
	{ "enable_stats", 32 },
	{ "iter_create", 33 },
	{ "link_detach", 34 },
	{ "prog_bind_map", 35 },
	{ "token_create", 36 },
	{ "prog_stream_read_by_fd", 37 },
	{ NULL, 0 },
};

const struct kms_name_value kms_map_type_names[] = {
	{ "unspec", 0 },
	{ "hash", 1 },
	{ "array", 2 },
	{ "prog_array", 3 },
	{ "perf_event_array", 4 },
	{ "percpu_hash", 5 },
	{ "percpu_array", 6 },
	{ "stack_trace", 7 },
	{ "cgroup_array", 8 },
	{ "lru_hash", 9 },
	{ "lru_percpu_hash", 10 },
	{ "lpm_trie", 11 },
	{ "array_of_maps", 12 },
	{ "hash_of_maps", 13 },
	{ "devmap", 14 },
	{ "sockmap", 15 },
	{ "cpumap", 16 },
	{ "xskmap", 17 },
	{ "sockhash", 18 },
	{ "cgroup_storage", 19 },
	{ "cgroup_storage_deprecated", 19 },
	{ "reuseport_sockarray", 20 },
	{ "percpu_cgroup_storage", 21 },
	{ "percpu_cgroup_storage_deprecated", 21 },
	{ "queue", 22 },
	{ "stack", 23 },
	{ "sk_storage", 24 },
	{ "devmap_hash", 25 },
	{ "struct_ops", 26 },
	{ "ringbuf", 27 },
	{ "inode_storage", 28 },
	{ "task_storage", 29 },
	{ "bloom_filter", 30 },
	{ "user_ringbuf", 31 },
	{ "cgrp_storage", 32 },
	{ "arena", 33 },
	{ NULL, 0 },
};

const struct kms_name_value kms_prog_type_names[] = {
	{ "unspec", 0 },
	{ "socket_filter", 1 },
	{ "kprobe", 2 },
	{ "sched_cls", 3 },
	{ "sched_act", 4 },
	{ "tracepoint", 5 },
	{ "xdp", 6 },
	{ "perf_event", 7 },
	{ "cgroup_skb", 8 },
	{ "cgroup_sock", 9 },
	{ "lwt_in", 10 },
	{ "lwt_out", 11 },
	{ "lwt_xmit", 12 },
	{ "sock_ops", 13 },
	{ "sk_skb", 14 },
	{ "cgroup_device", 15 },
	{ "sk_msg", 16 },
	{ "raw_tracepoint", 17 },
	{ "cgroup_sock_addr", 18 },
	{ "lwt_seg6local", 19 },
	{ "lirc_mode2", 20 },
	{ "sk_reuseport", 21 },
	{ "flow_dissector", 22 },
	{ "cgroup_sysctl", 23 },
	{ "raw_tracepoint_writable", 24 },
	{ "cgroup_sockopt", 25 },
	{ "tracing", 26 },
	{ "struct_ops", 27 },
	{ "ext", 28 },
	{ "lsm", 29 },
	{ "sk_lookup", 30 },
	{ "syscall", 31 },
	{ "netfilter", 32 },
	{ NULL, 0 },
};

const struct kms_name_value kms_attach_type_names[] = {
	{ "cgroup_inet_ingress", 0 },
	{ "cgroup_inet_egress", 1 },
	{ "cgroup_inet_sock_create", 2 },
	{ "cgroup_sock_ops", 3 },
	{ "sk_skb_stream_parser", 4 },
	{ "sk_skb_stream_verdict", 5 },
	{ "cgroup_device", 6 },
	{ "sk_msg_verdict", 7 },
	{ "cgroup_inet4_bind", 8 },
	{ "cgroup_inet6_bind", 9 },
	{ "cgroup_inet4_connect", 10 },
	{ "cgroup_inet6_connect", 11 },
	{ "cgroup_inet4_post_bind", 12 },
	{ "cgroup_inet6_post_bind", 13 },
	{ "cgroup_udp4_sendmsg", 14 },
	{ "cgroup_udp6_sendmsg", 15 },
	{ "lirc_mode2", 16 },
	{ "flow_dissector", 17 },
	{ "cgroup_sysctl", 18 },
	{ "cgroup_udp4_recvmsg", 19 },
	{ "cgroup_udp6_recvmsg", 20 },
	{ "cgroup_getsockopt", 21 },
	{ "cgroup_setsockopt", 22 },
	{ "trace_raw_tp", 23 },
	{ "trace_fentry", 24 },
	{ "trace_fexit", 25 },
	{ "modify_return", 26 },
	{ "lsm_mac", 27 },
	{ "trace_iter", 28 },
	{ "cgroup_inet4_getpeername", 29 },
	{ "cgroup_inet6_getpeername", 30 },
	{ "cgroup_inet4_getsockname", 31 },
	{ "cgroup_inet6_getsockname", 32 },
	{ "xdp_devmap", 33 },
	{ "cgroup_inet_sock_release", 34 },
	{ "xdp_cpumap", 35 },
	{ "sk_lookup", 36 },
	{ "xdp", 37 },
	{ "sk_skb_verdict", 38 },
	{ "sk_reuseport_select", 39 },
	{ "sk_reuseport_select_or_migrate", 40 },
	{ "perf_event", 41 },
	{ "trace_kprobe_multi", 42 },
	{ "lsm_cgroup", 43 },
	{ "struct_ops", 44 },
	{ "netfilter", 45 },
	{ "tcx_ingress", 46 },
	{ "tcx_egress", 47 },
	{ "trace_uprobe_multi", 48 },
	{ "cgroup_unix_connect", 49 },
	{ "cgroup_unix_sendmsg", 50 },
	{ "cgroup_unix_recvmsg", 51 },
	{ "cgroup_unix_getpeername", 52 },
	{ "cgroup_unix_getsockname", 53 },
	{ "netkit_primary", 54 },
	{ "netkit_peer", 55 },
	{ "trace_kprobe_session", 56 },
	{ "trace_uprobe_session", 57 },
	{ NULL, 0 },
};

/* BPF_F_* map_flags of BPF_MAP_CREATE (an anonymous enum in uapi bpf.h, 6.18). */
const struct kms_name_value kms_map_flag_names[] = {
	{ "no_prealloc", 1 },
	{ "no_common_lru", 2 },
	{ "numa_node", 4 },
	{ "rdonly", 8 },
	{ "wronly", 16 },
	{ "stack_build_id", 32 },
	{ "zero_seed", 64 },
	{ "rdonly_prog", 128 },
	{ "wronly_prog", 256 },
	{ "clone", 512 },
	{ "mmapable", 1024 },
	{ "preserve_elems", 2048 },
	{ "inner_map", 4096 },
	{ "link", 8192 },
	{ "path_fd", 16384 },
	{ "vtype_btf_obj_fd", 32768 },
	{ "token_fd", 65536 },
	{ "segv_on_fault", 131072 },
	{ "no_user_conv", 262144 },
	{ NULL, 0 },
};

/*
 * BPF_F_* of BPF_PROG_LOAD prog_flags, uapi bpf.h #defines (not in BTF; read
 * from include/uapi/linux/bpf.h): STRICT_ALIGNMENT 1 << 0 ... TEST_REG_INVARIANTS
 * 1 << 7 (6.8+), TOKEN_FD 1 << 16 (6.9+).
 */
const struct kms_name_value kms_prog_flag_names[] = {
	{ "strict_alignment", 1 << 0 },
	{ "any_alignment", 1 << 1 },
	{ "test_rnd_hi32", 1 << 2 },
	{ "test_state_freq", 1 << 3 },
	{ "sleepable", 1 << 4 },
	{ "xdp_has_frags", 1 << 5 },
	{ "xdp_dev_bound_only", 1 << 6 },
	{ "test_reg_invariants", 1 << 7 },
	{ "token_fd", 1 << 16 },
	{ NULL, 0 },
};

/*
 * BPF_F_* attach flags of BPF_PROG_ATTACH/DETACH and LINK_CREATE (uapi bpf.h
 * #defines): ALLOW_OVERRIDE 1 << 0 ... ID 1 << 5 (6.6+), PREORDER 1 << 6
 * (6.15+), LINK = 1 << 13.
 */
const struct kms_name_value kms_attach_flag_names[] = {
	{ "allow_override", 1 << 0 },
	{ "allow_multi", 1 << 1 },
	{ "replace", 1 << 2 },
	{ "before", 1 << 3 },
	{ "after", 1 << 4 },
	{ "id", 1 << 5 },
	{ "preorder", 1 << 6 },
	{ "link", 1 << 13 },
	{ NULL, 0 },
};

/* BPF_MAP_UPDATE_ELEM flags; "any" is BPF_ANY = 0. */
const struct kms_name_value kms_elem_flag_names[] = {
	{ "noexist", 1 },
	{ "exist", 2 },
	{ "lock", 4 },
	{ "f_lock", 4 },	/* BPF_F_LOCK as strace prints it */
	{ NULL, 0 },
};

/*
 * Errno values of Linux (include/uapi/asm-generic/errno-base.h, errno.h)
 * that bpf(2) and the calls around it return, and the kernel-internal
 * ENOTSUPP (include/linux/errno.h) that bpf(2) leaks to user space.
 */
const struct kms_name_value kms_errno_names[] = {
	{ "EPERM", 1 }, { "ENOENT", 2 }, { "ESRCH", 3 }, { "EINTR", 4 },
	{ "EIO", 5 }, { "ENXIO", 6 }, { "E2BIG", 7 }, { "ENOEXEC", 8 },
	{ "EBADF", 9 }, { "ECHILD", 10 }, { "EAGAIN", 11 }, { "ENOMEM", 12 },
	{ "EACCES", 13 }, { "EFAULT", 14 }, { "EBUSY", 16 }, { "EEXIST", 17 },
	{ "EXDEV", 18 }, { "ENODEV", 19 }, { "ENOTDIR", 20 }, { "EISDIR", 21 },
	{ "EINVAL", 22 }, { "ENFILE", 23 }, { "EMFILE", 24 }, { "ENOTTY", 25 },
	{ "EFBIG", 27 }, { "ENOSPC", 28 }, { "ESPIPE", 29 }, { "EROFS", 30 },
	{ "EMLINK", 31 }, { "EPIPE", 32 }, { "EDOM", 33 }, { "ERANGE", 34 },
	{ "EDEADLK", 35 }, { "ENAMETOOLONG", 36 }, { "ENOSYS", 38 },
	{ "ENOTEMPTY", 39 }, { "ELOOP", 40 }, { "ENOMSG", 42 }, { "ENODATA", 61 },
	{ "EOVERFLOW", 75 }, { "EBADFD", 77 }, { "EOPNOTSUPP", 95 },
	{ "EADDRINUSE", 98 }, { "ENOBUFS", 105 }, { "ETIMEDOUT", 110 },
	{ "EALREADY", 114 }, { "ECANCELED", 125 }, { "ENOTSUPP", 524 },
	{ NULL, 0 },
};

int kms_name_lookup(const struct kms_name_value *t, const char *name, size_t len,
		    uint64_t *val)
{
	for (; t->name; t++) {
		if (strncmp(t->name, name, len) == 0 && t->name[len] == '\0') {
			*val = t->value;
			return 0;
		}
	}
	return -ENOENT;
}

const char *kms_name_of(const struct kms_name_value *t, uint64_t val)
{
	for (; t->name; t++)
		if (t->value == val)
			return t->name;
	return NULL;
}

const char *kms_bpf_cmd_name(enum kms_bpf_cmd cmd)
{
	return kms_name_of(kms_bpf_cmd_names, (uint64_t)cmd);
}

const char *kms_map_type_name(enum kms_map_type t)
{
	return kms_name_of(kms_map_type_names, (uint64_t)t);
}

const char *kms_prog_type_name(enum kms_prog_type t)
{
	return kms_name_of(kms_prog_type_names, (uint64_t)t);
}

const char *kms_attach_type_name(enum kms_attach_type t)
{
	return kms_name_of(kms_attach_type_names, (uint64_t)t);
}

const char *kms_exec_ctx_name(enum kms_exec_ctx c)
{
	static const char *const names[] = { "task", "softirq", "hardirq", "nmi" };

	return (unsigned int)c < 4 ? names[c] : NULL;
}

int kms_map_type_from_name(const char *name, enum kms_map_type *out)
{
	uint64_t v;

	if (kms_name_lookup(kms_map_type_names, name, strlen(name), &v))
		return -EINVAL;
	*out = (enum kms_map_type)v;
	return 0;
}

int kms_prog_type_from_name(const char *name, enum kms_prog_type *out)
{
	uint64_t v;

	if (kms_name_lookup(kms_prog_type_names, name, strlen(name), &v))
		return -EINVAL;
	*out = (enum kms_prog_type)v;
	return 0;
}

const char *kms_errno_name(int err)
{
	return err > 0 ? kms_name_of(kms_errno_names, (uint64_t)err) : NULL;
}
