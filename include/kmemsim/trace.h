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

#include "kmemsim/uapi.h"

/* Version of the native format this library reads and writes. */
#define KMS_TRACE_FORMAT_VERSION 1

enum kms_event_kind {
	/* environment */
	KMS_EV_CGROUP_CREATE = 0,	/* cgroup_create path= */
	KMS_EV_CGROUP_REMOVE,		/* cgroup_remove path= */
	KMS_EV_CGROUP_SET,		/* cgroup_set path= memory.max=|memory.high= */
	KMS_EV_TASK_NEW,		/* task_new: a task the trace did not see forked; its
					 * uid and cgroup are the event's, its RLIMIT_MEMLOCK
					 * u.task.cur/max when has_cur/has_max */
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
	/*
	 * The kernel's id of the object a successful call created or opened
	 * (map_create, prog_load, btf_load, obj_get, link_create,
	 * raw_tracepoint_open), 0 if not known: lets later map_id= and id=
	 * fields, which carry kernel ids, name the model's object.
	 */
	uint32_t obj_id;
};

enum kms_expect_what {
	KMS_EXPECT_RESULT = 0,	/* ret: the result of event of= (default: the previous) */
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
			bool thread;		/* FORK: CLONE_THREAD; EXIT: a thread ended */
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
			/* "memcg=off,kmem=off": what-ifs applied to that profile's run, or NULL */
			const char *set;
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

/*
 * An event at every default of the text format: pid = tid = 1, uid unset,
 * cgroup NULL (the task's), CPU 0, task context, no result, seq and time 0,
 * dup's newfd and prog_*'s map_fd -1. Writers build events from here.
 */
void kms_event_init(struct kms_event *ev, enum kms_event_kind kind);
void kms_event_init_bpf(struct kms_event *ev, enum kms_bpf_cmd cmd);

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
	/*
	 * A binary trace has no lines: line and column are 0, and record (1-based
	 * event record, 0 for the magic and header) and offset (of the byte at
	 * fault, from the file's start) say where.
	 */
	bool binary;
	uint32_t record;
	uint64_t offset;
	char msg[256];
};

/*
 * KMS_TRACE_BINARY is the native format in its binary form ("parse once,
 * replay many"): its events are native events, so a reader reports
 * KMS_TRACE_NATIVE for it too and kms_trace_reader_binary() tells them apart.
 */
enum kms_trace_format { KMS_TRACE_NATIVE = 1, KMS_TRACE_STRACE = 2, KMS_TRACE_BINARY = 3 };

/* Facts strace does not record: the importer assumes these (documented). */
struct kms_strace_options {
	const char *cgroup;	/* the cgroup the workload ran in, default "/" */
	/* where cgroup v2 was mounted: an attach to an fd that -yy shows as
	 * ROOT/a/b targets cgroup /a/b. Default "/sys/fs/cgroup". */
	const char *cgroup_root;
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
 * Open a trace, sniffing its format: the binary magic is the binary form,
 * else the first line that is not blank or a '#' comment decides: "trace ..."
 * is native text, a strace line is strace. @path "-"
 * reads stdin. @opts may be NULL for the defaults. -EINVAL with *err filled
 * (err may be NULL) if the file is neither.
 */
int kms_trace_open(const char *path, const struct kms_strace_options *opts,
		   struct kms_trace_reader **out, struct kms_trace_error *err);
/* The same from an open stream; @name is used in messages; @f is not closed. */
int kms_trace_open_file(FILE *f, const char *name, const struct kms_strace_options *opts,
			struct kms_trace_reader **out, struct kms_trace_error *err);
/* Native only (text or binary): anything else is an error. */
int kms_trace_reader_open(const char *path, struct kms_trace_reader **out,
			  struct kms_trace_error *err);
/* A trace of either format held in memory (@len bytes, need not end in NUL);
 * @buf must outlive the reader. */
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
/* Whether the trace is in the binary form. */
bool kms_trace_reader_binary(const struct kms_trace_reader *r);
/* A binary trace's header comment (what made it), "" if none or text. */
const char *kms_trace_reader_comment(const struct kms_trace_reader *r);
/* What the strace importer assumes, one fact a line ("" for native). */
const char *kms_trace_reader_assumptions(const struct kms_trace_reader *r);
/* What it had to guess while reading (cut strings, ambiguous forks): set when
 * the last event was read, "" if nothing. */
const char *kms_trace_reader_notes(const struct kms_trace_reader *r);

/* "file:line:column: message" into @buf ("file: record R, byte B: message" for a
 * binary trace); returns snprintf's value. */
int kms_trace_error_format(const struct kms_trace_error *err, char *buf, size_t size);

/* The native writer: 0, -EIO, or kms_trace_format_event()'s errors. */
int kms_trace_write_header(FILE *f, const struct kms_trace_header *h);
int kms_trace_write_comment(FILE *f, const char *text);	/* each line gets "# " */
int kms_trace_write_event(FILE *f, const struct kms_event *ev);
/* Format one event line (with '\n', NUL-terminated) into @buf; returns its
 * length without the NUL, -ENOSPC, or -EINVAL for an event no reader would
 * take back (an unknown kind or context, a result below -4095). */
int kms_trace_format_event(const struct kms_event *ev, char *buf, size_t size);

/*
 * A trace writer of either form on @f (which it never closes): @form
 * KMS_TRACE_NATIVE writes text -- @comment (NULL for none) as '#' lines, the
 * header line, then one line an event, as kms_trace_write_event();
 * KMS_TRACE_BINARY the binary form, @comment kept in its header. An event
 * whose line is 0 gets the line it has in the text form (comment lines,
 * header, events). 0 or -EINVAL (a bad form or header), -ENOMEM, -EIO.
 */
struct kms_trace_writer;
int kms_trace_writer_open(FILE *f, enum kms_trace_format form, const struct kms_trace_header *h,
			  const char *comment, struct kms_trace_writer **out);
/* 0, -EIO, -EINVAL for an event no reader would take back (as
 * kms_trace_format_event(), and seq not increasing or time going backwards),
 * -ENOSPC for one too large (a string over 64 KiB, a record over 1 MiB). */
int kms_trace_writer_write(struct kms_trace_writer *w, const struct kms_event *ev);
/* End the trace (the binary end record) and flush @f: 0 or -EIO. Frees @w. */
int kms_trace_writer_close(struct kms_trace_writer *w);
/* Free without ending: a binary trace left so reads as truncated. NULL-safe. */
void kms_trace_writer_free(struct kms_trace_writer *w);

/* The key id of key bytes: FNV-1a 64 (offset basis 0xcbf29ce484222325,
 * prime 0x100000001b3) over the @len bytes. */
uint64_t kms_key_id(const void *key, size_t len);

/* An event kind's name ("cgroup_create", "expect"), NULL for unknown. */
const char *kms_event_kind_name(enum kms_event_kind k);

#endif
