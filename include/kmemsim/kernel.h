/* SPDX-License-Identifier: MIT */
/*
 * The REAL kernel: the only part of kmemsim that makes bpf(2) calls and
 * touches cgroup files. The model never includes this. Used by
 * `kmemsim validate` and `kmemsim calibrate` to measure what the running
 * kernel charges, step by step, so the model can be checked against it.
 *
 * Every function returns 0 (or a non-negative result) or a negative errno;
 * nothing prints, exits or keeps global state. Whatever a function creates
 * (cgroup, bpffs mount, actor process) is described by a value the caller
 * owns and must release; the CLI keeps a registry of them and releases it
 * on exit and on SIGINT/SIGTERM.
 *
 * Measurement method (docs/calibration.md has the long form):
 * - a controller (the calling process, outside the scratch cgroup) forks an
 *   actor; the actor faults in its stack, heap and fd table first, then the
 *   controller moves it into a freshly created memory cgroup; from then on
 *   the actor only makes the bpf(2) calls it is told to over a pipe;
 * - between steps the controller drains the per-CPU page and object stocks
 *   (cgroup v1: write 0 to memory.force_empty; v2: a memory.high write below
 *   usage, restored to "max"), waits for the remote CPUs' drain work, and
 *   reads the kernel-memory counter (v1 memory.kmem.usage_in_bytes; v2
 *   memory.current, as the actor adds no user pages). After a drain what
 *   is left beyond the real bytes is each CPU's obj stock remainder, moved
 *   to objcg->nr_charged_bytes (< 1 page per CPU per objcg), so a step's
 *   delta is exact to within nr_possible_cpus pages.
 */
#ifndef KMEMSIM_KERNEL_H
#define KMEMSIM_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- what the machine offers ---- */

struct kms_kernel_caps {
	char release[65];	/* uname -r */
	long page_size;
	int nr_possible_cpus;	/* /sys/devices/system/cpu/possible */
	bool root;		/* effective uid 0 */
	int bpf_err;		/* 0: a 1-entry BPF_MAP_TYPE_ARRAY was created; else -errno */
	int memcg_version;	/* 2, 1, or 0 when no memory controller is mounted */
	char memcg_root[256];	/* mount point of the hierarchy with "memory" */
};

/* Fill @caps. Never fails for lack of a feature: that is recorded in @caps. */
int kms_kernel_probe(struct kms_kernel_caps *caps);
/*
 * Write into @buf one line per missing requirement (root, bpf(2), a memory
 * controller), e.g. "bpf(2): BPF_MAP_CREATE of a 1-entry array failed: EPERM".
 * Returns 0 when nothing is missing, -ENOTSUP otherwise.
 */
int kms_kernel_missing(const struct kms_kernel_caps *caps, char *buf, size_t len);

/* ---- a scratch memory cgroup ---- */

struct kms_kcgroup {
	int version;		/* 1 or 2 */
	char path[512];		/* absolute directory */
};

struct kms_kcgroup_counters {
	uint64_t usage;		/* v1 memory.usage_in_bytes, v2 memory.current */
	uint64_t kmem;		/* v1 memory.kmem.usage_in_bytes, v2 memory.current */
	uint64_t max_usage;	/* v1 memory.max_usage_in_bytes, v2 memory.peak */
	uint64_t failcnt;	/* v1 memory.failcnt, v2 memory.events max */
	/* memory.stat, where the kernel reports them (v2); 0 otherwise */
	uint64_t stat_slab, stat_percpu, stat_vmalloc, stat_kernel;
};

/*
 * Create @caps->memcg_root/@prefix<pid>_<n> (the first free n). v2: enables
 * the memory controller in the root's subtree_control if it is not yet.
 */
int kms_kcgroup_create(const struct kms_kernel_caps *caps, const char *prefix,
		       struct kms_kcgroup *out);
int kms_kcgroup_add_pid(const struct kms_kcgroup *cg, pid_t pid);
/* Drain the per-CPU page and object stocks of @cg and wait @wait_ms for remote CPUs. */
int kms_kcgroup_drain(const struct kms_kcgroup *cg, unsigned int wait_ms);
int kms_kcgroup_read(const struct kms_kcgroup *cg, struct kms_kcgroup_counters *out);
/*
 * Move any task left in @cg to the parent, then rmdir, retrying while the
 * kernel still holds it (up to ~1 s). Clears @cg->path on success.
 */
int kms_kcgroup_remove(struct kms_kcgroup *cg);
/* Number of directories under @memcg_root whose name starts with @prefix. */
int kms_kcgroup_count_leftovers(const char *memcg_root, const char *prefix);
/*
 * Scratch cgroups <@prefix><pid>_<n> and bpffs mounts kms_bpffs_<pid>_* whose
 * creating process no longer exists: what a run left behind (as opposed to
 * what a concurrent run still uses).
 */
int kms_kernel_count_orphans(const char *memcg_root, const char *prefix);
/* Remove them; returns how many were found, -EBUSY if some could not be removed. */
int kms_kernel_remove_orphans(const char *memcg_root, const char *prefix);

/* ---- bpf(2) ---- */

/* A map type the kernel may know, by its uapi number and kmemsim's name. */
struct kms_kbpf_map_type {
	const char *name;	/* "hash", "lru_percpu_hash", ... (bpftool's names) */
	uint32_t type;		/* enum bpf_map_type value */
	uint32_t key_size, value_size;	/* sizes that creation accepts */
	uint32_t flags;		/* flags creation requires (e.g. BPF_F_NO_PREALLOC) */
	uint8_t needs;		/* KMS_KBPF_NEEDS_* */
};
#define KMS_KBPF_NEEDS_INNER	0x1	/* inner_map_fd (map-in-map) */
#define KMS_KBPF_NEEDS_BTF	0x2	/* btf_fd with int key and value types */
#define KMS_KBPF_NEEDS_PAGES	0x4	/* max_entries is a byte size, page multiple, pow2 */
#define KMS_KBPF_NEEDS_ZERO_MAX	0x8	/* max_entries must be 0 */
#define KMS_KBPF_NEEDS_VMLINUX	0x10	/* vmlinux BTF value type: not created here */

/* Map types in uapi order; @n receives the count. */
const struct kms_kbpf_map_type *kms_kbpf_map_types(size_t *n);
const struct kms_kbpf_map_type *kms_kbpf_map_type_by_name(const char *name);

struct kms_kbpf_map_spec {
	uint32_t type, key_size, value_size, max_entries, flags;
	uint64_t map_extra;
	int inner_map_fd;	/* -1 if none */
	int btf_fd;		/* -1 if none */
	uint32_t btf_key_type_id, btf_value_type_id;
};
/* Returns the map fd or -errno. */
int kms_kbpf_map_create(const struct kms_kbpf_map_spec *spec);

/*
 * The key for a 64-bit key id: byte i is byte (i % 8) of @id (little
 * endian) XOR (i / 8), so keys of 8 bytes or more are distinct for distinct
 * ids and shorter keys keep the id's low bytes.
 */
void kms_kbpf_key_from_id(uint64_t id, uint32_t key_size, uint8_t *key);
/*
 * update/delete of the key for @key_id. Array-like maps (array, percpu_array,
 * cgroup/prog/perf arrays, devmap, cpumap, xskmap, sockmap, reuseport) index
 * by @key_id % @max_entries; lpm_trie keys are a full-length prefix.
 */
int kms_kbpf_map_key(const struct kms_kbpf_map_spec *spec, uint64_t key_id, uint8_t *key);
int kms_kbpf_map_update(int fd, const void *key, const void *value, uint64_t flags);
int kms_kbpf_map_delete(int fd, const void *key);
/* Push (queue/stack: key NULL). */
int kms_kbpf_map_push(int fd, const void *value);
/* Number of keys reachable by BPF_MAP_GET_NEXT_KEY (key_size <= 256). */
int kms_kbpf_map_count(int fd, uint32_t key_size);

/*
 * A socket filter of @insn_cnt instructions: r0 = 0 (insn_cnt - 1 times),
 * exit. @buf (8 * @insn_cnt bytes) holds the instructions; NULL allocates.
 */
int kms_kbpf_prog_load_filler(uint32_t insn_cnt, void *buf, size_t buf_len);
/*
 * A raw tracepoint program that inserts one element with key
 * bpf_ktime_get_ns() into the hash @map_fd (key and value 8 bytes) each time
 * it runs on @cpu (any CPU if @cpu < 0); attached with
 * kms_kbpf_raw_tp_open(). Returns the prog fd.
 */
int kms_kbpf_prog_load_irq_inserter(int map_fd, int cpu, char *log, size_t log_len);
int kms_kbpf_raw_tp_open(const char *tp_name, int prog_fd);

/*
 * A valid BTF blob of exactly @size bytes: [1] int "int" (4 bytes) and,
 * when @value_size > 0, [2] int "char" (1 byte) and [3] char[@value_size];
 * the string section is padded with NULs. With @value_size 0, sizes from 37
 * bytes up to the minimum get one anonymous pointer type. Returns the size, or
 * -EINVAL if @size is too small for what was asked or above 16 MiB.
 */
long kms_kbtf_build(void *buf, size_t size, uint32_t value_size);
size_t kms_kbtf_min_size(uint32_t value_size);
/* BTF type ids of the blob: */
#define KMS_KBTF_INT_ID		1
#define KMS_KBTF_VALUE_ID	3
int kms_kbtf_load(const void *blob, size_t size);

/* Pins. */
int kms_kbpf_obj_pin(int fd, const char *path);
int kms_kbpf_obj_get(const char *path);

/* ---- a private bpffs mount ---- */

struct kms_kbpffs {
	char dir[128];		/* mkdtemp'd mount point, "" when not mounted */
};
int kms_kbpffs_mount(struct kms_kbpffs *fs);
/* Unlink every pin in it, unmount, rmdir. */
int kms_kbpffs_unmount(struct kms_kbpffs *fs);

/* ---- fdinfo ---- */

/* Parse the "memlock:" line of an fdinfo text; -ENOENT if there is none. */
int kms_fdinfo_parse_memlock(const char *text, uint64_t *memlock);
int kms_fdinfo_read_memlock(pid_t pid, int fd, uint64_t *memlock);

/* ---- slab sizes ---- */

/* The <objsize> column of @cache's line in a /proc/slabinfo text; -ENOENT if absent. */
int kms_slabinfo_parse_objsize(const char *text, const char *cache, uint32_t *objsize);
/*
 * What one more bpf fd charges: anon_inode_getfd() allocates a struct file
 * (filp cache) and a pseudo dentry (dentry cache), both SLAB_ACCOUNT, each
 * charged obj_full_size() = s->size + sizeof(struct obj_cgroup *) (6.18
 * mm/slab.h). From /proc/slabinfo (root only).
 */
int kms_kernel_fd_cost(uint64_t *bytes);

/* ---- the actor ---- */

enum kms_kactor_op {
	KMS_KACTOR_MAP_CREATE = 1,	/* spec -> handle */
	KMS_KACTOR_UPDATE,		/* handle, key_id, count, flags: count keys key_id.. */
	KMS_KACTOR_DELETE,		/* handle, key_id, count */
	KMS_KACTOR_PUSH,		/* handle, count */
	KMS_KACTOR_PROG_LOAD,		/* count = insn_cnt -> handle */
	KMS_KACTOR_BTF_LOAD,		/* count = size, value_size -> handle */
	KMS_KACTOR_PIN,			/* handle, path */
	KMS_KACTOR_UNPIN,		/* path */
	KMS_KACTOR_CLOSE,		/* handle */
	KMS_KACTOR_IRQ_ATTACH,		/* handle (a hash map), cpu -> handle of the link */
	KMS_KACTOR_COUNT,		/* handle -> number of keys */
	KMS_KACTOR_NOP,			/* an empty step: what a step costs by itself */
	KMS_KACTOR_OBJ_GET,		/* path (flags 1: a map of spec) -> handle (a new fd) */
	KMS_KACTOR_SET_CPU,		/* count = CPU: run only there (per-CPU caches, stocks) */
};

#define KMS_KACTOR_MAX_HANDLES	4096

struct kms_kactor_req {
	uint32_t op;
	int32_t handle;			/* actor-side object slot */
	struct kms_kbpf_map_spec spec;	/* MAP_CREATE; spec.inner_map_fd / btf_fd are handles */
	uint64_t key_id, count, flags;
	uint32_t value_size;		/* BTF_LOAD */
	int32_t value_handle;		/* UPDATE: value = that object's fd (map-in-map, prog_array) */
	uint32_t value_u32;		/* UPDATE: else the value's first 4 bytes (devmap ifindex) */
	int32_t cpu;			/* IRQ_ATTACH: insert only on this CPU; -1 any */
	char path[256];
};

struct kms_kactor_reply {
	int32_t ret;		/* 0 or -errno of the first failure */
	int32_t handle;		/* new object slot, or -1 */
	int32_t fd;		/* that object's fd in the actor */
	uint64_t done;		/* how many of count succeeded */
};

struct kms_kactor {
	pid_t pid;		/* 0 when not running */
	int req_fd, reply_fd;	/* controller ends of the pipes */
};

/*
 * Fork the actor. It faults in @prefault_bytes of heap, its stack and an fd
 * table for KMS_KACTOR_MAX_HANDLES fds, then waits for requests; it does not
 * join any cgroup itself (the controller moves it).
 */
int kms_kactor_start(struct kms_kactor *a, size_t prefault_bytes);
int kms_kactor_call(struct kms_kactor *a, const struct kms_kactor_req *req,
		    struct kms_kactor_reply *reply);
/* Close the pipes (the actor exits and its fds close), reap it. Safe to call twice. */
int kms_kactor_stop(struct kms_kactor *a);

#endif
