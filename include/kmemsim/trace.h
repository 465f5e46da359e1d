/* SPDX-License-Identifier: MIT */
/*
 * Traces: the event model, the native text format (docs/trace-format.md) and
 * the strace importer. A reader turns a file into a stream of struct kms_event,
 * one at a time, with memory that does not grow with the trace's length.
 *
 * Every function returns 0 (or 1 for "an event was read") or a negative errno;
 * none prints or exits. Bad input gives -EINVAL and a struct kms_trace_error
 * naming file, line and column.
 */
#ifndef KMEMSIM_TRACE_H
#define KMEMSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Version of the native format this library reads and writes. */
#define KMS_TRACE_FORMAT_VERSION 1

/*
 * Kernel enums, by value, mirroring include/uapi/linux/bpf.h of 6.18.
 * In the text format they are written in lowercase without the prefix:
 * BPF_MAP_TYPE_PERCPU_ARRAY is "percpu_array", BPF_TRACE_RAW_TP is
 * "trace_raw_tp", BPF_MAP_UPDATE_ELEM is "map_update_elem".
 */
enum kms_bpf_cmd {
	KMS_BPF_MAP_CREATE = 0,
	KMS_BPF_MAP_LOOKUP_ELEM = 1,
	KMS_BPF_MAP_UPDATE_ELEM = 2,
	KMS_BPF_MAP_DELETE_ELEM = 3,
	KMS_BPF_MAP_GET_NEXT_KEY = 4,
	KMS_BPF_PROG_LOAD = 5,
	KMS_BPF_OBJ_PIN = 6,
	KMS_BPF_OBJ_GET = 7,
	KMS_BPF_PROG_ATTACH = 8,
	KMS_BPF_PROG_DETACH = 9,
	KMS_BPF_PROG_TEST_RUN = 10,
	KMS_BPF_PROG_RUN = 10,
	KMS_BPF_PROG_GET_NEXT_ID = 11,
	KMS_BPF_MAP_GET_NEXT_ID = 12,
	KMS_BPF_PROG_GET_FD_BY_ID = 13,
	KMS_BPF_MAP_GET_FD_BY_ID = 14,
	KMS_BPF_OBJ_GET_INFO_BY_FD = 15,
	KMS_BPF_PROG_QUERY = 16,
	KMS_BPF_RAW_TRACEPOINT_OPEN = 17,
	KMS_BPF_BTF_LOAD = 18,
	KMS_BPF_BTF_GET_FD_BY_ID = 19,
	KMS_BPF_TASK_FD_QUERY = 20,
	KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM = 21,
	KMS_BPF_MAP_FREEZE = 22,
	KMS_BPF_BTF_GET_NEXT_ID = 23,
	KMS_BPF_MAP_LOOKUP_BATCH = 24,
	KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH = 25,
	KMS_BPF_MAP_UPDATE_BATCH = 26,
	KMS_BPF_MAP_DELETE_BATCH = 27,
	KMS_BPF_LINK_CREATE = 28,
	KMS_BPF_LINK_UPDATE = 29,
	KMS_BPF_LINK_GET_FD_BY_ID = 30,
	KMS_BPF_LINK_GET_NEXT_ID = 31,
	KMS_BPF_ENABLE_STATS = 32,
	KMS_BPF_ITER_CREATE = 33,
	KMS_BPF_LINK_DETACH = 34,
	KMS_BPF_PROG_BIND_MAP = 35,
	KMS_BPF_TOKEN_CREATE = 36,
	KMS_BPF_PROG_STREAM_READ_BY_FD = 37,
	KMS_NR_BPF_CMDS = 38,
};

enum kms_map_type {
	KMS_MAP_TYPE_UNSPEC = 0,
	KMS_MAP_TYPE_HASH = 1,
	KMS_MAP_TYPE_ARRAY = 2,
	KMS_MAP_TYPE_PROG_ARRAY = 3,
	KMS_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	KMS_MAP_TYPE_PERCPU_HASH = 5,
	KMS_MAP_TYPE_PERCPU_ARRAY = 6,
	KMS_MAP_TYPE_STACK_TRACE = 7,
	KMS_MAP_TYPE_CGROUP_ARRAY = 8,
	KMS_MAP_TYPE_LRU_HASH = 9,
	KMS_MAP_TYPE_LRU_PERCPU_HASH = 10,
	KMS_MAP_TYPE_LPM_TRIE = 11,
	KMS_MAP_TYPE_ARRAY_OF_MAPS = 12,
	KMS_MAP_TYPE_HASH_OF_MAPS = 13,
	KMS_MAP_TYPE_DEVMAP = 14,
	KMS_MAP_TYPE_SOCKMAP = 15,
	KMS_MAP_TYPE_CPUMAP = 16,
	KMS_MAP_TYPE_XSKMAP = 17,
	KMS_MAP_TYPE_SOCKHASH = 18,
	KMS_MAP_TYPE_CGROUP_STORAGE_DEPRECATED = 19,
	KMS_MAP_TYPE_CGROUP_STORAGE = 19,
	KMS_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
	KMS_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED = 21,
	KMS_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
	KMS_MAP_TYPE_QUEUE = 22,
	KMS_MAP_TYPE_STACK = 23,
	KMS_MAP_TYPE_SK_STORAGE = 24,
	KMS_MAP_TYPE_DEVMAP_HASH = 25,
	KMS_MAP_TYPE_STRUCT_OPS = 26,
	KMS_MAP_TYPE_RINGBUF = 27,
	KMS_MAP_TYPE_INODE_STORAGE = 28,
	KMS_MAP_TYPE_TASK_STORAGE = 29,
	KMS_MAP_TYPE_BLOOM_FILTER = 30,
	KMS_MAP_TYPE_USER_RINGBUF = 31,
	KMS_MAP_TYPE_CGRP_STORAGE = 32,
	KMS_MAP_TYPE_ARENA = 33,
	KMS_NR_MAP_TYPES = 34,
};

enum kms_prog_type {
	KMS_PROG_TYPE_UNSPEC = 0,
	KMS_PROG_TYPE_SOCKET_FILTER = 1,
	KMS_PROG_TYPE_KPROBE = 2,
	KMS_PROG_TYPE_SCHED_CLS = 3,
	KMS_PROG_TYPE_SCHED_ACT = 4,
	KMS_PROG_TYPE_TRACEPOINT = 5,
	KMS_PROG_TYPE_XDP = 6,
	KMS_PROG_TYPE_PERF_EVENT = 7,
	KMS_PROG_TYPE_CGROUP_SKB = 8,
	KMS_PROG_TYPE_CGROUP_SOCK = 9,
	KMS_PROG_TYPE_LWT_IN = 10,
	KMS_PROG_TYPE_LWT_OUT = 11,
	KMS_PROG_TYPE_LWT_XMIT = 12,
	KMS_PROG_TYPE_SOCK_OPS = 13,
	KMS_PROG_TYPE_SK_SKB = 14,
	KMS_PROG_TYPE_CGROUP_DEVICE = 15,
	KMS_PROG_TYPE_SK_MSG = 16,
	KMS_PROG_TYPE_RAW_TRACEPOINT = 17,
	KMS_PROG_TYPE_CGROUP_SOCK_ADDR = 18,
	KMS_PROG_TYPE_LWT_SEG6LOCAL = 19,
	KMS_PROG_TYPE_LIRC_MODE2 = 20,
	KMS_PROG_TYPE_SK_REUSEPORT = 21,
	KMS_PROG_TYPE_FLOW_DISSECTOR = 22,
	KMS_PROG_TYPE_CGROUP_SYSCTL = 23,
	KMS_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24,
	KMS_PROG_TYPE_CGROUP_SOCKOPT = 25,
	KMS_PROG_TYPE_TRACING = 26,
	KMS_PROG_TYPE_STRUCT_OPS = 27,
	KMS_PROG_TYPE_EXT = 28,
	KMS_PROG_TYPE_LSM = 29,
	KMS_PROG_TYPE_SK_LOOKUP = 30,
	KMS_PROG_TYPE_SYSCALL = 31,
	KMS_PROG_TYPE_NETFILTER = 32,
	KMS_NR_PROG_TYPES = 33,
};

enum kms_attach_type {
	KMS_ATTACH_CGROUP_INET_INGRESS = 0,
	KMS_ATTACH_CGROUP_INET_EGRESS = 1,
	KMS_ATTACH_CGROUP_INET_SOCK_CREATE = 2,
	KMS_ATTACH_CGROUP_SOCK_OPS = 3,
	KMS_ATTACH_SK_SKB_STREAM_PARSER = 4,
	KMS_ATTACH_SK_SKB_STREAM_VERDICT = 5,
	KMS_ATTACH_CGROUP_DEVICE = 6,
	KMS_ATTACH_SK_MSG_VERDICT = 7,
	KMS_ATTACH_CGROUP_INET4_BIND = 8,
	KMS_ATTACH_CGROUP_INET6_BIND = 9,
	KMS_ATTACH_CGROUP_INET4_CONNECT = 10,
	KMS_ATTACH_CGROUP_INET6_CONNECT = 11,
	KMS_ATTACH_CGROUP_INET4_POST_BIND = 12,
	KMS_ATTACH_CGROUP_INET6_POST_BIND = 13,
	KMS_ATTACH_CGROUP_UDP4_SENDMSG = 14,
	KMS_ATTACH_CGROUP_UDP6_SENDMSG = 15,
	KMS_ATTACH_LIRC_MODE2 = 16,
	KMS_ATTACH_FLOW_DISSECTOR = 17,
	KMS_ATTACH_CGROUP_SYSCTL = 18,
	KMS_ATTACH_CGROUP_UDP4_RECVMSG = 19,
	KMS_ATTACH_CGROUP_UDP6_RECVMSG = 20,
	KMS_ATTACH_CGROUP_GETSOCKOPT = 21,
	KMS_ATTACH_CGROUP_SETSOCKOPT = 22,
	KMS_ATTACH_TRACE_RAW_TP = 23,
	KMS_ATTACH_TRACE_FENTRY = 24,
	KMS_ATTACH_TRACE_FEXIT = 25,
	KMS_ATTACH_MODIFY_RETURN = 26,
	KMS_ATTACH_LSM_MAC = 27,
	KMS_ATTACH_TRACE_ITER = 28,
	KMS_ATTACH_CGROUP_INET4_GETPEERNAME = 29,
	KMS_ATTACH_CGROUP_INET6_GETPEERNAME = 30,
	KMS_ATTACH_CGROUP_INET4_GETSOCKNAME = 31,
	KMS_ATTACH_CGROUP_INET6_GETSOCKNAME = 32,
	KMS_ATTACH_XDP_DEVMAP = 33,
	KMS_ATTACH_CGROUP_INET_SOCK_RELEASE = 34,
	KMS_ATTACH_XDP_CPUMAP = 35,
	KMS_ATTACH_SK_LOOKUP = 36,
	KMS_ATTACH_XDP = 37,
	KMS_ATTACH_SK_SKB_VERDICT = 38,
	KMS_ATTACH_SK_REUSEPORT_SELECT = 39,
	KMS_ATTACH_SK_REUSEPORT_SELECT_OR_MIGRATE = 40,
	KMS_ATTACH_PERF_EVENT = 41,
	KMS_ATTACH_TRACE_KPROBE_MULTI = 42,
	KMS_ATTACH_LSM_CGROUP = 43,
	KMS_ATTACH_STRUCT_OPS = 44,
	KMS_ATTACH_NETFILTER = 45,
	KMS_ATTACH_TCX_INGRESS = 46,
	KMS_ATTACH_TCX_EGRESS = 47,
	KMS_ATTACH_TRACE_UPROBE_MULTI = 48,
	KMS_ATTACH_CGROUP_UNIX_CONNECT = 49,
	KMS_ATTACH_CGROUP_UNIX_SENDMSG = 50,
	KMS_ATTACH_CGROUP_UNIX_RECVMSG = 51,
	KMS_ATTACH_CGROUP_UNIX_GETPEERNAME = 52,
	KMS_ATTACH_CGROUP_UNIX_GETSOCKNAME = 53,
	KMS_ATTACH_NETKIT_PRIMARY = 54,
	KMS_ATTACH_NETKIT_PEER = 55,
	KMS_ATTACH_TRACE_KPROBE_SESSION = 56,
	KMS_ATTACH_TRACE_UPROBE_SESSION = 57,
	KMS_NR_ATTACH_TYPES = 58,
};

/* BPF_MAP_UPDATE_ELEM flags (uapi bpf.h). */
#define KMS_BPF_ANY	0ull
#define KMS_BPF_NOEXIST	1ull
#define KMS_BPF_EXIST	2ull
#define KMS_BPF_F_LOCK	4ull

/* Where the CPU was when the event happened (the kernel's in_task(), ...). */
enum kms_exec_ctx {
	KMS_CTX_TASK = 0,
	KMS_CTX_SOFTIRQ,
	KMS_CTX_HARDIRQ,
	KMS_CTX_NMI,
};

enum kms_event_kind {
	/* environment */
	KMS_EV_CGROUP_CREATE = 0,	/* cgroup_create path= */
	KMS_EV_CGROUP_REMOVE,		/* cgroup_remove path= */
	KMS_EV_CGROUP_SET,		/* cgroup_set path= memory.max=|memory.high= */
	KMS_EV_TASK_NEW,		/* task_new: a task the trace did not see forked */
	KMS_EV_FORK,			/* fork child= share_files= thread= */
	KMS_EV_EXEC,			/* exec path=: closes close-on-exec fds (all bpf fds) */
	KMS_EV_TASK_MOVE,		/* task_move to=: into another cgroup */
	KMS_EV_EXIT,			/* exit status= thread= */
	KMS_EV_RLIMIT_MEMLOCK,		/* rlimit_memlock cur= max= target= */
	KMS_EV_LOCKED_VM_OTHER,		/* locked_vm_other pages=: perf, io_uring, mlock */
	/* file descriptors */
	KMS_EV_CLOSE,			/* close fd= */
	KMS_EV_DUP,			/* dup fd= newfd= cloexec= (dup, dup2, dup3, F_DUPFD) */
	/* one bpf(2) command: the line's keyword is the command's name */
	KMS_EV_BPF,
	/* in-kernel activity a syscall trace cannot see */
	KMS_EV_PROG_UPDATE,		/* a BPF program updated map elements */
	KMS_EV_PROG_DELETE,		/* a BPF program deleted map elements */
	/* what must hold at this point under a profile */
	KMS_EV_EXPECT,
	KMS_NR_EVENT_KINDS
};

/* "unset" markers: the replay takes the task's current value. */
#define KMS_UID_UNSET UINT32_MAX
/* "max" / "unlimited" / RLIM_INFINITY. Same value as KMS_UNLIMITED in sim.h. */
#define KMS_TRACE_UNLIMITED UINT64_MAX

/*
 * What is known about a map element's key. Recorders hash the key bytes
 * (kms_key_id()); strace shows only a pointer, so the importer states what the
 * kernel's result implies instead (docs/trace-format.md, "Keys").
 */
enum kms_key_kind {
	KMS_KEY_NONE = 0,	/* no key (get_next_key from the start) or unknown */
	KMS_KEY_ID,		/* key: the 64-bit id of the key bytes */
	KMS_KEY_NEW,		/* a key that is not in the map (an insert) */
	KMS_KEY_EXISTING,	/* some key that is in the map (an overwrite or delete) */
};

/*
 * A bpf(2) command: the fields of union bpf_attr the model needs, by the
 * kernel's member names. A field the line does not mention is 0, as in a
 * zeroed bpf_attr. Which command uses which field is in docs/trace-format.md.
 */
struct kms_ev_bpf {
	enum kms_bpf_cmd cmd;
	/* BPF_MAP_CREATE */
	enum kms_map_type map_type;
	uint32_t key_size, value_size, max_entries, map_flags;
	int32_t inner_map_fd;
	uint32_t numa_node, map_ifindex;
	const char *map_name;		/* NULL if absent */
	int32_t btf_fd;
	uint32_t btf_key_type_id, btf_value_type_id, btf_vmlinux_value_type_id;
	uint64_t map_extra;
	/* element and batch commands, MAP_FREEZE, PROG_BIND_MAP */
	int32_t map_fd;
	enum kms_key_kind key_kind;
	uint64_t key;			/* with KMS_KEY_ID */
	uint64_t flags;			/* BPF_ANY/NOEXIST/EXIST/F_LOCK; LINK_CREATE flags */
	/* batch commands */
	uint32_t count;			/* attr.batch.count on entry: elements asked for */
	uint32_t count_out;		/* attr.batch.count on return: elements done */
	uint64_t elem_flags;
	const uint64_t *keys;		/* nr_keys key ids, or NULL */
	uint32_t nr_keys;
	/* BPF_PROG_LOAD */
	enum kms_prog_type prog_type;
	uint32_t insn_cnt;
	uint32_t xlated_insn_cnt;	/* after verification, 0 if unknown */
	uint32_t func_info_cnt, line_info_cnt;
	enum kms_attach_type expected_attach_type;
	uint32_t prog_flags;
	const char *prog_name;
	int32_t prog_btf_fd;
	uint32_t attach_btf_id;
	int32_t attach_prog_fd;
	/* BPF_BTF_LOAD */
	uint32_t btf_size;
	/* OBJ_PIN, OBJ_GET, OBJ_GET_INFO_BY_FD */
	const char *pathname;
	int32_t bpf_fd;
	uint32_t file_flags;
	/* LINK_CREATE, PROG_ATTACH, PROG_DETACH, PROG_BIND_MAP, PROG_TEST_RUN */
	int32_t prog_fd;
	int32_t target_fd;
	const char *target;		/* cgroup path attached to, when known */
	enum kms_attach_type attach_type;
	uint32_t attach_flags;
	/* *_GET_FD_BY_ID */
	uint32_t id;
	uint32_t open_flags;
};

enum kms_expect_what {
	KMS_EXPECT_RESULT = 0,	/* ret: the result of event seq= (default: the previous) */
	KMS_EXPECT_CGROUP,	/* cgroup= counter: memory.current, memory.stat.slab, ... */
	KMS_EXPECT_USER,	/* user= locked_vm */
};

enum kms_expect_rel { KMS_REL_EQ = 0, KMS_REL_LE, KMS_REL_GE };

struct kms_event {
	enum kms_event_kind kind;
	uint32_t line;			/* line in the source file */
	uint64_t seq;			/* strictly increasing */
	uint64_t time_ns;		/* not decreasing */
	int32_t pid;			/* process (tgid); the interrupted one in irq context */
	int32_t tid;			/* thread; = pid unless given */
	uint32_t uid;			/* KMS_UID_UNSET: the task's */
	uint32_t cpu;
	enum kms_exec_ctx ctx;
	const char *cgroup;		/* NULL: the task's */
	bool has_ret;
	int64_t ret;			/* the real result: >= 0, or -errno */
	union {
		/* CGROUP_CREATE, CGROUP_REMOVE, CGROUP_SET */
		struct {
			const char *path;
			bool set_max, set_high;
			uint64_t max, high;	/* bytes, KMS_TRACE_UNLIMITED for "max" */
		} cg;
		/* TASK_NEW, FORK, EXEC, TASK_MOVE, EXIT, RLIMIT_MEMLOCK, LOCKED_VM_OTHER */
		struct {
			int32_t child;		/* FORK */
			bool share_files;	/* FORK: CLONE_FILES */
			bool thread;		/* FORK: CLONE_THREAD; EXIT: only a thread ended */
			int32_t status;		/* EXIT */
			const char *path;	/* EXEC: the program; TASK_MOVE: the cgroup */
			int32_t target;		/* RLIMIT_MEMLOCK: pid whose limit (0: self) */
			bool has_cur, has_max;	/* RLIMIT_MEMLOCK, TASK_NEW */
			uint64_t cur, max;	/* bytes, KMS_TRACE_UNLIMITED */
			int64_t pages;		/* LOCKED_VM_OTHER: + taken, - released */
		} task;
		/* CLOSE, DUP */
		struct {
			int32_t fd;
			int32_t newfd;		/* DUP: -1 for "lowest free" (dup, F_DUPFD) */
			bool cloexec;
		} fd;
		struct kms_ev_bpf bpf;
		/* PROG_UPDATE, PROG_DELETE */
		struct {
			int32_t map_fd;		/* in pid's fd table, or -1 */
			uint32_t map_id;	/* kernel map id, or 0 */
			uint64_t count;		/* elements; = nr_keys when keys are given */
			enum kms_key_kind key_kind;	/* for all count elements */
			const uint64_t *keys;
			uint32_t nr_keys;
			uint64_t flags;		/* BPF_ANY/NOEXIST/EXIST */
		} prog;
		struct {
			const char *profile;
			enum kms_expect_what what;
			enum kms_expect_rel rel;
			uint64_t of_seq;	/* RESULT: event whose result; 0 = previous */
			const char *cgroup;	/* CGROUP */
			uint32_t user;		/* USER */
			const char *counter;	/* "memory.current", "locked_vm", "ret" */
			int64_t value;		/* RESULT: >= 0 or -errno; else bytes/count */
			bool value_max;		/* the value is "max" */
		} expect;
	} u;
};

struct kms_trace_header {
	uint32_t version;
	const char *kernel;	/* uname -r of the recording machine, "unknown" */
	uint32_t page_size;	/* default 4096 */
	uint32_t nr_cpus;	/* possible CPUs, default 2 */
};

struct kms_trace_error {
	const char *file;	/* as given to open; valid while the reader lives */
	uint32_t line;		/* 1-based; 0 when not about a line */
	uint32_t column;	/* 1-based byte column; 0 when not about a column */
	char msg[256];
};

enum kms_trace_format { KMS_TRACE_NATIVE = 1, KMS_TRACE_STRACE = 2 };

/* Facts strace does not record: the importer assumes these (documented). */
struct kms_strace_options {
	const char *cgroup;	/* the cgroup the workload ran in, default "/" */
	uint32_t uid;		/* default 0 */
	uint32_t cpu;		/* default 0 */
	const char *kernel;	/* header kernel release, default "unknown" */
	uint32_t page_size;	/* default 4096 */
	uint32_t nr_cpus;	/* default 2 */
	/*
	 * A successful BPF_ANY update whose key strace did not show: true
	 * (default) assumes an insert of a new key -- an upper bound on memory;
	 * false leaves the key unknown (KMS_KEY_NONE) for the replay to decide.
	 */
	bool any_update_inserts;
};

struct kms_trace_reader;

void kms_strace_options_init(struct kms_strace_options *opts);

/*
 * Open a trace, sniffing its format from the first line that is not blank or
 * a '#' comment: "trace ..." is native, a strace line is strace. @path "-"
 * reads stdin. @opts may be NULL for the defaults. -EINVAL with *err filled
 * (err may be NULL) if the file is neither.
 */
int kms_trace_open(const char *path, const struct kms_strace_options *opts,
		   struct kms_trace_reader **out, struct kms_trace_error *err);
/* The same from an open stream; @name is used in messages; @f is not closed. */
int kms_trace_open_file(FILE *f, const char *name, const struct kms_strace_options *opts,
			struct kms_trace_reader **out, struct kms_trace_error *err);
/* Native only: anything else is an error. */
int kms_trace_reader_open(const char *path, struct kms_trace_reader **out,
			  struct kms_trace_error *err);
/* Parse a native trace held in memory (@len bytes, need not be NUL-terminated). */
int kms_trace_open_mem(const char *buf, size_t len, const char *name,
		       const struct kms_strace_options *opts,
		       struct kms_trace_reader **out, struct kms_trace_error *err);
void kms_trace_reader_free(struct kms_trace_reader *r);

/*
 * Read the next event into *ev: 1 read, 0 end of trace, -EINVAL bad input
 * (see kms_trace_reader_error()), other -errno on I/O failure. Strings and
 * key arrays in *ev are borrowed from the reader: valid until the next
 * call or kms_trace_reader_free().
 */
int kms_trace_read_next(struct kms_trace_reader *r, struct kms_event *ev);

const struct kms_trace_header *kms_trace_reader_header(const struct kms_trace_reader *r);
enum kms_trace_format kms_trace_reader_format(const struct kms_trace_reader *r);
const struct kms_trace_error *kms_trace_reader_error(const struct kms_trace_reader *r);
/*
 * What the strace importer assumed, as '#' comment lines ("" for native);
 * complete once the trace was read to the end.
 */
const char *kms_trace_reader_assumptions(const struct kms_trace_reader *r);

/* "file:line:column: message" into @buf; returns snprintf's value. */
int kms_trace_error_format(const struct kms_trace_error *err, char *buf, size_t size);

/* The native writer. Each returns 0 or -EIO. */
int kms_trace_write_header(FILE *f, const struct kms_trace_header *h);
int kms_trace_write_comment(FILE *f, const char *text);	/* each line gets "# " */
int kms_trace_write_event(FILE *f, const struct kms_event *ev);
/* Format one event line (with '\n') into @buf; returns its length, or -ENOSPC. */
int kms_trace_format_event(const struct kms_event *ev, char *buf, size_t size);

/* The key id of key bytes: FNV-1a 64 (offset basis 0xcbf29ce484222325,
 * prime 0x100000001b3) over the @len bytes. */
uint64_t kms_key_id(const void *key, size_t len);

/* Names <-> values; NULL / -EINVAL for unknown. */
const char *kms_bpf_cmd_name(enum kms_bpf_cmd cmd);
const char *kms_map_type_name(enum kms_map_type t);
const char *kms_prog_type_name(enum kms_prog_type t);
const char *kms_attach_type_name(enum kms_attach_type t);
const char *kms_event_kind_name(enum kms_event_kind k);
const char *kms_exec_ctx_name(enum kms_exec_ctx c);
int kms_map_type_from_name(const char *name, enum kms_map_type *out);
int kms_prog_type_from_name(const char *name, enum kms_prog_type *out);
/* "EPERM" for 1, NULL if not a known errno. */
const char *kms_errno_name(int err);

#endif
