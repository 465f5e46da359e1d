// SPDX-License-Identifier: MIT
/*
 * The same map operations as a trace, through bpf(2) in the running kernel:
 * how long the real kernel takes for what kmemsim replays (docs/performance.md).
 *
 *   kms_bench_real FILE
 *
 * The trace is read first into a compact list of operations (map_create,
 * map_update_elem, map_delete_elem, map_lookup_and_delete_elem, close;
 * prog_update becomes a map_update_elem from user space, since no program runs
 * here), then the list is executed and timed, so parsing is not in the time.
 * Keys are the trace's key ids as bytes (8-byte keys), array indexes (4-byte
 * keys), or nothing (queues). Events that are not map operations (cgroups,
 * tasks) are counted and skipped. Prints one JSON line; without BPF (not root,
 * no bpf(2)) the line says "skipped" and the exit status is 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kmemsim/trace.h"

enum real_op { OP_CREATE, OP_UPDATE, OP_DELETE, OP_POP, OP_CLOSE };

struct real_map {
	int32_t pid, fd;		/* in the trace */
	uint32_t obj_id;
	union bpf_attr create;
	int real_fd;			/* -1: not open */
};

struct op {
	uint8_t op;
	uint8_t flags;
	uint16_t map;
	uint64_t key;
};

struct real {
	struct real_map *maps;
	size_t nr_maps, cap_maps;
	struct op *ops;
	size_t nr_ops, cap_ops;
	uint64_t skipped;
};

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static double cpu_now(void)
{
	struct timespec c;

	/* user and system time of this process: the syscalls' kernel work included */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	return (double)c.tv_sec + (double)c.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec w;

	clock_gettime(CLOCK_MONOTONIC, &w);
	return (double)w.tv_sec + (double)w.tv_nsec / 1e9;
}

/* The map a (pid, fd) names now: the latest one created there. */
static int map_by_fd(const struct real *rl, int32_t pid, int32_t fd)
{
	for (size_t i = rl->nr_maps; i-- > 0;)
		if (rl->maps[i].pid == pid && rl->maps[i].fd == fd)
			return (int)i;
	return -1;
}

static int map_by_id(const struct real *rl, uint32_t id)
{
	for (size_t i = rl->nr_maps; i-- > 0;)
		if (rl->maps[i].obj_id == id)
			return (int)i;
	return -1;
}

/* Room for one more element in *@pv (@nr used of *@cap, each @size bytes). */
static int reserve(void *pv, size_t nr, size_t *cap, size_t size)
{
	void **p = pv;
	void *n;

	if (nr < *cap)
		return 0;
	n = realloc(*p, (*cap ? *cap * 2 : 64) * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = *cap ? *cap * 2 : 64;
	return 0;
}

static int push_op(struct real *rl, enum real_op op, int map, uint64_t key, uint64_t flags)
{
	if (map < 0 || map > UINT16_MAX) {
		rl->skipped++;
		return 0;
	}
	if (reserve(&rl->ops, rl->nr_ops, &rl->cap_ops, sizeof(*rl->ops)))
		return -ENOMEM;
	rl->ops[rl->nr_ops++] = (struct op){ (uint8_t)op, (uint8_t)flags, (uint16_t)map, key };
	return 0;
}

static int add_create(struct real *rl, const struct kms_event *ev)
{
	const struct kms_ev_bpf *b = &ev->u.bpf;
	struct real_map *m;

	if (!ev->has_ret || ev->ret < 0) {
		rl->skipped++;
		return 0;
	}
	if (reserve(&rl->maps, rl->nr_maps, &rl->cap_maps, sizeof(*rl->maps)))
		return -ENOMEM;
	m = &rl->maps[rl->nr_maps];
	memset(m, 0, sizeof(*m));
	m->pid = ev->pid;
	m->fd = (int32_t)ev->ret;
	m->obj_id = b->obj_id;
	m->real_fd = -1;
	m->create.map_type = (uint32_t)b->map_type;
	m->create.key_size = b->key_size;
	m->create.value_size = b->value_size;
	m->create.max_entries = b->max_entries;
	m->create.map_flags = b->map_flags;
	if (b->map_name)
		snprintf(m->create.map_name, sizeof(m->create.map_name), "%s", b->map_name);
	return push_op(rl, OP_CREATE, (int)rl->nr_maps++, 0, 0);
}

static int add_event(struct real *rl, const struct kms_event *ev)
{
	const struct kms_ev_bpf *b = &ev->u.bpf;

	switch (ev->kind) {
	case KMS_EV_BPF:
		switch (b->cmd) {
		case KMS_BPF_MAP_CREATE:
			return add_create(rl, ev);
		case KMS_BPF_MAP_UPDATE_ELEM:
			return push_op(rl, OP_UPDATE, map_by_fd(rl, ev->pid, b->map_fd), b->key,
				       b->flags);
		case KMS_BPF_MAP_DELETE_ELEM:
			return push_op(rl, OP_DELETE, map_by_fd(rl, ev->pid, b->map_fd), b->key, 0);
		case KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM:
			return push_op(rl, OP_POP, map_by_fd(rl, ev->pid, b->map_fd), b->key, 0);
		default:
			break;
		}
		break;
	case KMS_EV_PROG_UPDATE:
		if (ev->u.prog.nr_keys == 1 && ev->u.prog.map_id)
			return push_op(rl, OP_UPDATE, map_by_id(rl, ev->u.prog.map_id),
				       ev->u.prog.keys[0], ev->u.prog.flags);
		break;
	case KMS_EV_CLOSE: {
		int m = map_by_fd(rl, ev->pid, ev->u.fd.fd);

		if (m >= 0) {
			int err = push_op(rl, OP_CLOSE, m, 0, 0);

			/* a later map on the same fd is another map */
			rl->maps[m].fd = -1;
			return err;
		}
		break;
	}
	default:
		break;
	}
	rl->skipped++;
	return 0;
}

static int run_op(struct real *rl, const struct op *o)
{
	struct real_map *m = &rl->maps[o->map];
	/* per-CPU maps take a value per possible CPU from user space */
	static uint64_t value[1024];
	union bpf_attr a;
	uint64_t key = o->key;
	uint32_t key32 = (uint32_t)o->key;

	switch (o->op) {
	case OP_CREATE:
		a = m->create;
		m->real_fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
		return m->real_fd < 0 ? -errno : 0;
	case OP_CLOSE:
		close(m->real_fd);
		m->real_fd = -1;
		return 0;
	default:
		break;
	}
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)m->real_fd;
	a.key = m->create.key_size == 0 ? 0 : m->create.key_size == 4 ? (uint64_t)(uintptr_t)&key32
									: (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = o->flags;
	if (o->op == OP_UPDATE)
		return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) ? -errno : 0;
	if (o->op == OP_POP)
		return sys_bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM, &a) ? -errno : 0;
	a.value = 0;
	return sys_bpf(BPF_MAP_DELETE_ELEM, &a) ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct real rl = { 0 };
	struct kms_trace_reader *r;
	struct kms_trace_error err;
	struct kms_event ev;
	uint64_t events = 0, failed = 0;
	double c0, w0;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: kms_bench_real FILE\n");
		return 2;
	}
	if (kms_trace_open(argv[1], NULL, &r, &err)) {
		fprintf(stderr, "kms_bench_real: %s:%u: %s\n", argv[1], err.line, err.msg);
		return 2;
	}
	while ((ret = kms_trace_read_next(r, &ev)) == 1) {
		events++;
		if (add_event(&rl, &ev)) {
			fprintf(stderr, "kms_bench_real: out of memory\n");
			return 1;
		}
	}
	kms_trace_reader_free(r);
	if (ret < 0) {
		fprintf(stderr, "kms_bench_real: cannot read %s\n", argv[1]);
		return 2;
	}
	/* A first map tells whether this kernel lets us in at all. */
	{
		union bpf_attr a = { .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
				     .value_size = 8, .max_entries = 1 };
		long fd = sys_bpf(BPF_MAP_CREATE, &a);

		if (fd < 0) {
			printf("{\"bench\": \"real_kernel\", \"trace\": \"%s\", \"skipped\": "
			       "\"bpf(BPF_MAP_CREATE) failed: %s\"}\n", argv[1], strerror(errno));
			return 0;
		}
		close((int)fd);
	}
	c0 = cpu_now();
	w0 = wall_now();
	for (size_t i = 0; i < rl.nr_ops; i++)
		if (run_op(&rl, &rl.ops[i]))
			failed++;
	c0 = cpu_now() - c0;
	w0 = wall_now() - w0;
	for (size_t i = 0; i < rl.nr_maps; i++)
		if (rl.maps[i].real_fd >= 0)
			close(rl.maps[i].real_fd);
	printf("{\"bench\": \"real_kernel\", \"trace\": \"%s\", \"events\": %" PRIu64
	       ", \"syscalls\": %zu, \"failed\": %" PRIu64 ", \"skipped_events\": %" PRIu64
	       ", \"cpu_seconds\": %.3f, \"wall_seconds\": %.3f, \"syscalls_per_s\": %.0f}\n",
	       argv[1], events, rl.nr_ops, failed, rl.skipped, c0, w0, (double)rl.nr_ops / c0);
	free(rl.ops);
	free(rl.maps);
	return 0;
}
