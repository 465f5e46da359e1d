// SPDX-License-Identifier: MIT
/*
 * `kmemsim calibrate`: measure what the running kernel charges to a memory
 * cgroup for every map type it supports (several sizes, value sizes and
 * flags; creation, inserts, deletes, close), program loads, BTF loads, pins,
 * a bare fd, and element inserts from softirq context. One CSV row per
 * measurement; every row repeats the kernel release, CPU count and page size
 * so a file of rows stands on its own. scripts/calibrate writes
 * docs/calibration-measured.csv with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "cli.h"
#include "ksession.h"

#define PREFAULT (24u << 20)	/* values, BTF blobs up to 1 MiB, 1M instructions */

struct cal {
	FILE *f;
	struct ksession s;
	const char *only;	/* --only NAME: one object kind */
	int failures;		/* sessions that could not be set up */
};

struct cal_row {
	const char *object;
	uint32_t type_id, key_size, value_size, max_entries, flags;
	const char *op;
	uint64_t count;
	int64_t delta;
	uint64_t memlock;
	bool have_memlock;
	const char *result;	/* "ok", an errno name, or a note */
};

static const char *errname(int err)
{
	const char *n = strerrorname_np(err < 0 ? -err : err);

	return n ? n : "E?";
}

static void emit(struct cal *c, const struct cal_row *r)
{
	fprintf(c->f, "%s,%d,%ld,%s,%u,%u,%u,%u,%u,%s,%" PRIu64 ",%" PRId64 ",",
		c->s.caps.release, c->s.caps.nr_possible_cpus, c->s.caps.page_size, r->object,
		r->type_id, r->key_size, r->value_size, r->max_entries, r->flags, r->op, r->count,
		r->delta);
	if (r->count)
		fprintf(c->f, "%.1f,", (double)r->delta / (double)r->count);
	else
		fputs(",", c->f);
	if (r->have_memlock)
		fprintf(c->f, "%" PRIu64, r->memlock);
	fprintf(c->f, ",%s\n", r->result);
	fflush(c->f);
}

static void emit_fail(struct cal *c, struct cal_row *r, const char *op, int err)
{
	r->op = op;
	r->count = 0;
	r->delta = 0;
	r->have_memlock = false;
	r->result = errname(err);
	emit(c, r);
}

static int open_session(struct cal *c)
{
	int ret = ksession_open(&c->s, true, PREFAULT);

	if (ret) {
		fprintf(stderr, "kmemsim: calibrate: cannot set up a scratch cgroup: %s\n",
			strerror(-ret));
		c->failures++;
	}
	return ret;
}

/* Run @n requests, then one drained reading: the delta of the whole batch. */
static int batch(struct cal *c, struct kms_kactor_req *req, uint32_t n, int32_t *handles,
		 int32_t *fds, unsigned int settle_ms, int64_t *delta, int *first_err)
{
	uint64_t before = c->s.kmem;
	struct kms_kcgroup_counters cnt;
	struct kms_kactor_reply rep;
	int ret;

	*first_err = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (handles && req->op == KMS_KACTOR_CLOSE)
			req->handle = handles[i];
		ret = kms_kactor_call(&c->s.actor, req, &rep);
		if (ret)
			return ret;
		if (rep.ret && !*first_err)
			*first_err = rep.ret;
		if (handles && req->op != KMS_KACTOR_CLOSE)
			handles[i] = rep.handle;
		if (fds)
			fds[i] = rep.fd;
	}
	if (settle_ms) {
		struct timespec ts = { 0, (long)settle_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	ret = ksession_read(&c->s, &cnt);
	if (ret)
		return ret;
	*delta = (int64_t)(cnt.kmem - before);
	return 0;
}

static int one(struct cal *c, struct kms_kactor_req *req, struct kms_kactor_reply *rep,
	       unsigned int settle_ms, int64_t *delta)
{
	return ksession_step(&c->s, req, rep, settle_ms, delta);
}

/* Close the @k objects of @handles in one step and emit the "close" row. */
static void close_row(struct cal *c, struct cal_row *r, int32_t *handles, uint32_t k)
{
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_CLOSE);
	int64_t d = 0;
	int err = 0;
	/* map and program frees go through RCU and a workqueue: 200 ms */
	int ret = batch(c, &req, k, handles, NULL, 200, &d, &err);

	r->op = "close";
	r->count = k;
	r->delta = d;
	r->have_memlock = false;
	r->result = ret ? errname(ret) : err ? errname(err) : "ok";
	emit(c, r);
}

enum elem_kind { ELEM_NONE, ELEM_HASH, ELEM_ARRAY, ELEM_PUSH };

struct map_case {
	const struct kms_kbpf_map_type *t;
	uint32_t key_size, value_size, max_entries, flags;
	uint64_t map_extra;
	enum elem_kind elems;
	int value_kind;		/* 0 zeros, 1 inner map fd, 2 prog fd, 3 ifindex 1, 4 qsize */
};

static bool small_map(const struct map_case *m)
{
	uint64_t per = (uint64_t)m->max_entries * (m->key_size + m->value_size + 64);

	return per < (256u << 10);
}

/* Measure one map configuration in its own fresh cgroup. */
static void measure_map(struct cal *c, const struct map_case *m)
{
	struct cal_row r = {
		.object = m->t->name, .type_id = m->t->type, .key_size = m->key_size,
		.value_size = m->value_size, .max_entries = m->max_entries, .flags = m->flags,
	};
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_MAP_CREATE);
	struct kms_kactor_reply rep;
	int32_t handles[16], fds[16], inner = -1, vh = -1;
	uint32_t k = small_map(m) ? 16 : 1;
	int64_t d;
	int err, ret;

	if (open_session(c))
		return;
	req.spec = (struct kms_kbpf_map_spec){
		.type = m->t->type, .key_size = m->key_size, .value_size = m->value_size,
		.max_entries = m->max_entries, .flags = m->flags, .map_extra = m->map_extra,
		.inner_map_fd = -1, .btf_fd = -1,
	};
	/* Setup objects are created before the first reading that counts. */
	if (m->t->needs & KMS_KBPF_NEEDS_BTF) {
		struct kms_kactor_req b = ksession_req(KMS_KACTOR_BTF_LOAD);

		b.count = kms_kbtf_min_size(m->value_size);
		b.value_size = m->value_size;
		if ((ret = one(c, &b, &rep, 0, &d)) || rep.ret) {
			emit_fail(c, &r, "create", ret ? ret : rep.ret);
			goto out;
		}
		req.spec.btf_fd = rep.handle;
		req.spec.btf_key_type_id = KMS_KBTF_INT_ID;
		req.spec.btf_value_type_id = KMS_KBTF_VALUE_ID;
	}
	if ((m->t->needs & KMS_KBPF_NEEDS_INNER) || m->value_kind == 1) {
		struct kms_kactor_req b = ksession_req(KMS_KACTOR_MAP_CREATE);

		b.spec = (struct kms_kbpf_map_spec){ .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
			.value_size = 4, .max_entries = 1, .inner_map_fd = -1, .btf_fd = -1 };
		if ((ret = one(c, &b, &rep, 0, &d)) || rep.ret) {
			emit_fail(c, &r, "create", ret ? ret : rep.ret);
			goto out;
		}
		inner = vh = rep.handle;
		req.spec.inner_map_fd = inner;
	}
	if (m->value_kind == 2) {
		struct kms_kactor_req b = ksession_req(KMS_KACTOR_PROG_LOAD);

		b.count = 2;
		if ((ret = one(c, &b, &rep, 0, &d)) || rep.ret) {
			emit_fail(c, &r, "create", ret ? ret : rep.ret);
			goto out;
		}
		vh = rep.handle;
	}
	ret = batch(c, &req, k, handles, fds, 0, &d, &err);
	if (ret || err) {
		emit_fail(c, &r, "create", ret ? ret : err);
		goto out;
	}
	r.op = "create";
	r.count = k;
	r.delta = d;
	r.have_memlock = kms_fdinfo_read_memlock(c->s.actor.pid, fds[0], &r.memlock) == 0;
	r.result = "ok";
	emit(c, &r);
	if (m->elems != ELEM_NONE) {
		uint64_t n = m->max_entries < 1024 ? m->max_entries : 1024;
		struct kms_kactor_req u = ksession_req(m->elems == ELEM_PUSH ? KMS_KACTOR_PUSH
						       : KMS_KACTOR_UPDATE);

		u.handle = handles[0];
		u.count = n;
		u.key_id = 1;
		u.flags = BPF_ANY;
		u.value_handle = vh;
		u.value_u32 = m->value_kind == 3 ? 1 : m->value_kind == 4 ? 192 : 0;
		ret = one(c, &u, &rep, 0, &d);
		r.op = m->elems == ELEM_PUSH ? "push" : m->elems == ELEM_ARRAY ? "update" : "insert";
		r.count = rep.done;
		r.delta = d;
		r.have_memlock = kms_fdinfo_read_memlock(c->s.actor.pid, fds[0], &r.memlock) == 0;
		r.result = ret ? errname(ret) : rep.ret ? errname(rep.ret) : "ok";
		emit(c, &r);
		if (m->elems == ELEM_HASH && !ret) {
			u.op = KMS_KACTOR_DELETE;
			/* deleted elements go back through RCU and bpf_mem_alloc's free lists */
			ret = one(c, &u, &rep, 100, &d);
			r.op = "delete";
			r.count = rep.done;
			r.delta = d;
			r.have_memlock = kms_fdinfo_read_memlock(c->s.actor.pid, fds[0],
								 &r.memlock) == 0;
			r.result = ret ? errname(ret) : rep.ret ? errname(rep.ret) : "ok";
			emit(c, &r);
		}
	}
	close_row(c, &r, handles, k);
out:
	ksession_close(&c->s);
}

static const uint32_t sizes_big[] = { 1, 64, 1024, 65536 };
static const uint32_t sizes_mid[] = { 64, 1024, 65536 };
static const uint32_t sizes_small[] = { 1, 64, 1024 };
static const uint32_t values[] = { 8, 256 };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool wanted(const struct cal *c, const char *name)
{
	return !c->only || strcmp(c->only, name) == 0;
}

static void map_sweep(struct cal *c, const char *name, const uint32_t *sizes, size_t nsizes,
		      const uint32_t *flag_set, size_t nflags, enum elem_kind elems,
		      bool vary_value, int value_kind)
{
	const struct kms_kbpf_map_type *t = kms_kbpf_map_type_by_name(name);

	if (!t || !wanted(c, name))
		return;
	for (size_t f = 0; f < nflags; f++)
		for (size_t v = 0; v < (vary_value ? N(values) : 1); v++)
			for (size_t i = 0; i < nsizes; i++) {
				struct map_case m = {
					.t = t, .key_size = t->key_size,
					.value_size = vary_value ? values[v] : t->value_size,
					.max_entries = sizes[i], .flags = t->flags | flag_set[f],
					.elems = elems, .value_kind = value_kind,
				};

				measure_map(c, &m);
			}
}

static void measure_maps(struct cal *c)
{
	static const uint32_t none[] = { 0 };
	static const uint32_t hash_flags[] = { 0, BPF_F_NO_PREALLOC };
	static const uint32_t lru_flags[] = { 0, BPF_F_NO_COMMON_LRU };
	static const uint32_t array_flags[] = { 0, BPF_F_MMAPABLE };
	static const uint32_t rb_sizes[] = { 4096, 65536, 1u << 20 };
	static const uint32_t cpumap_sizes[] = { 1, 2 };
	static const uint32_t zero[] = { 0 };
	static const uint32_t arena_pages[] = { 1, 256 };
	static const char *const create_only[] = {
		"perf_event_array", "cgroup_array", "xskmap", "sockmap", "reuseport_sockarray",
	};
	const struct kms_kbpf_map_type *t;

	map_sweep(c, "hash", sizes_big, N(sizes_big), hash_flags, 2, ELEM_HASH, true, 0);
	map_sweep(c, "percpu_hash", sizes_big, N(sizes_big), hash_flags, 2, ELEM_HASH, true, 0);
	map_sweep(c, "lru_hash", sizes_big, N(sizes_big), lru_flags, 2, ELEM_HASH, true, 0);
	map_sweep(c, "lru_percpu_hash", sizes_big, N(sizes_big), lru_flags, 2, ELEM_HASH, true,
		  0);
	map_sweep(c, "array", sizes_big, N(sizes_big), array_flags, 2, ELEM_ARRAY, true, 0);
	map_sweep(c, "percpu_array", sizes_big, N(sizes_big), none, 1, ELEM_ARRAY, true, 0);
	map_sweep(c, "lpm_trie", sizes_mid, N(sizes_mid), none, 1, ELEM_HASH, true, 0);
	map_sweep(c, "queue", sizes_mid, N(sizes_mid), none, 1, ELEM_PUSH, true, 0);
	map_sweep(c, "stack", sizes_mid, N(sizes_mid), none, 1, ELEM_PUSH, true, 0);
	map_sweep(c, "bloom_filter", sizes_mid, N(sizes_mid), none, 1, ELEM_PUSH, true, 0);
	map_sweep(c, "stack_trace", sizes_small, N(sizes_small), none, 1, ELEM_NONE, false, 0);
	map_sweep(c, "array_of_maps", sizes_small, N(sizes_small), none, 1, ELEM_ARRAY, false, 1);
	map_sweep(c, "hash_of_maps", sizes_small, N(sizes_small), none, 1, ELEM_HASH, false, 1);
	map_sweep(c, "prog_array", sizes_big, N(sizes_big), none, 1, ELEM_ARRAY, false, 2);
	map_sweep(c, "devmap", sizes_big, N(sizes_big), none, 1, ELEM_ARRAY, false, 3);
	map_sweep(c, "devmap_hash", sizes_small, N(sizes_small), none, 1, ELEM_HASH, false, 3);
	map_sweep(c, "cpumap", cpumap_sizes, N(cpumap_sizes), none, 1, ELEM_ARRAY, false, 4);
	map_sweep(c, "sockhash", sizes_mid, N(sizes_mid), none, 1, ELEM_NONE, false, 0);
	for (size_t i = 0; i < N(create_only); i++)
		map_sweep(c, create_only[i], sizes_big, N(sizes_big), none, 1, ELEM_NONE, false,
			  0);
	map_sweep(c, "ringbuf", rb_sizes, N(rb_sizes), none, 1, ELEM_NONE, false, 0);
	map_sweep(c, "user_ringbuf", rb_sizes, N(rb_sizes), none, 1, ELEM_NONE, false, 0);
	map_sweep(c, "cgroup_storage", zero, 1, none, 1, ELEM_NONE, true, 0);
	map_sweep(c, "percpu_cgroup_storage", zero, 1, none, 1, ELEM_NONE, true, 0);
	map_sweep(c, "sk_storage", zero, 1, none, 1, ELEM_NONE, true, 0);
	map_sweep(c, "inode_storage", zero, 1, none, 1, ELEM_NONE, true, 0);
	map_sweep(c, "task_storage", zero, 1, none, 1, ELEM_NONE, true, 0);
	map_sweep(c, "cgrp_storage", zero, 1, none, 1, ELEM_NONE, true, 0);
	map_sweep(c, "arena", arena_pages, N(arena_pages), none, 1, ELEM_NONE, false, 0);
	t = kms_kbpf_map_type_by_name("struct_ops");
	if (t && wanted(c, "struct_ops")) {
		struct cal_row r = { .object = t->name, .type_id = t->type, .op = "create",
				     .result = "not measured: needs a vmlinux struct_ops type" };

		emit(c, &r);
	}
}

/* @op KMS_KACTOR_PROG_LOAD or BTF_LOAD of @size, K times, then close. */
static void measure_loads(struct cal *c, const char *object, uint32_t op, uint64_t size)
{
	struct cal_row r = { .object = object, .op = "load", .count = 0 };
	struct kms_kactor_req req = ksession_req(op);
	int32_t handles[16], fds[16];
	uint32_t k = size <= 4096 ? 16 : 1;
	int64_t d;
	int err, ret;

	if (!wanted(c, object) || open_session(c))
		return;
	req.count = size;
	r.max_entries = (uint32_t)size;	/* insn count or BTF bytes */
	ret = batch(c, &req, k, handles, fds, 0, &d, &err);
	if (ret || err) {
		emit_fail(c, &r, "load", ret ? ret : err);
		goto out;
	}
	r.count = k;
	r.delta = d;
	r.have_memlock = kms_fdinfo_read_memlock(c->s.actor.pid, fds[0], &r.memlock) == 0;
	r.result = "ok";
	emit(c, &r);
	close_row(c, &r, handles, k);
out:
	ksession_close(&c->s);
}

/* @n requests of @req (one drained step) as one row of @count operations. */
static int batch_row(struct cal *c, struct cal_row *r, struct kms_kactor_req *req, uint32_t n,
		     uint32_t count, int32_t *handles, unsigned int settle_ms,
		     const char *object, const char *op)
{
	int64_t d;
	int err, ret = batch(c, req, n, handles, NULL, settle_ms, &d, &err);

	if (ret)
		return ret;
	r->object = object;
	r->op = op;
	r->count = count;
	r->delta = d;
	r->result = err ? errname(err) : "ok";
	emit(c, r);
	return 0;
}

/* Pin or unpin p0..p15 in the private bpffs, unmeasured; the caller reads once after. */
static int pins(struct cal *c, uint32_t op, int32_t map)
{
	struct kms_kactor_reply rep;
	int ret;

	for (int i = 0; i < 16; i++) {
		struct kms_kactor_req req = ksession_req(op);

		req.handle = map;
		snprintf(req.path, sizeof(req.path), "%s/p%d", c->s.fs.dir, i);
		if ((ret = kms_kactor_call(&c->s.actor, &req, &rep)) || (ret = rep.ret))
			return ret;
	}
	return 0;
}

/*
 * A pinned 1-entry array: 16 pins, 16 BPF_OBJ_GETs (a bare fd each: struct
 * file and dentry), their closes, 16 unpins, and 16 empty steps.
 */
static void measure_pins_and_fds(struct cal *c)
{
	struct cal_row r = { .type_id = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4,
			     .max_entries = 1 };
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_MAP_CREATE);
	struct kms_kactor_reply rep;
	int32_t handles[16];
	int64_t d;
	int ret = 0;

	if (!(wanted(c, "pin") || wanted(c, "fd") || wanted(c, "nop")) || open_session(c))
		return;
	req.spec = (struct kms_kbpf_map_spec){ .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
		.value_size = 4, .max_entries = 1, .inner_map_fd = -1, .btf_fd = -1 };
	if ((ret = one(c, &req, &rep, 0, &d)) || (ret = rep.ret))
		goto fail;
	req = ksession_req(KMS_KACTOR_NOP);	/* the reading after the pins */
	if ((ret = pins(c, KMS_KACTOR_PIN, rep.handle)) ||
	    (ret = batch_row(c, &r, &req, 1, 16, NULL, 0, "pin", "pin")))
		goto fail;
	req = ksession_req(KMS_KACTOR_OBJ_GET);
	snprintf(req.path, sizeof(req.path), "%s/p0", c->s.fs.dir);
	if ((ret = batch_row(c, &r, &req, 16, 16, handles, 0, "fd", "obj_get")))
		goto fail;
	req = ksession_req(KMS_KACTOR_CLOSE);
	if ((ret = batch_row(c, &r, &req, 16, 16, handles, 100, "fd", "close")))
		goto fail;
	{
		uint64_t cost;

		/* what the fd rows should show: struct file + dentry, from /proc/slabinfo */
		r.object = "fd";
		r.op = "slab_cost";
		r.count = 1;
		r.delta = kms_kernel_fd_cost(&cost) ? 0 : (int64_t)cost;
		r.result = "derived: filp + dentry objsize + 2 objcg pointers";
		emit(c, &r);
	}
	req = ksession_req(KMS_KACTOR_NOP);
	if ((ret = pins(c, KMS_KACTOR_UNPIN, -1)) ||
	    (ret = batch_row(c, &r, &req, 1, 16, NULL, 100, "pin", "unpin")) ||
	    (ret = batch_row(c, &r, &req, 16, 16, NULL, 0, "nop", "nop")))
		goto fail;
	ksession_close(&c->s);
	return;
fail:
	r.object = "pin";
	emit_fail(c, &r, "pin", ret);
	ksession_close(&c->s);
}

/* Drained kernel memory of @cg. */
static int read_kmem(struct cal *c, const struct kms_kcgroup *cg, uint64_t *kmem)
{
	struct kms_kcgroup_counters cnt;
	int ret = kms_kcgroup_drain(cg, c->s.drain_wait_ms);

	if (!ret)
		ret = kms_kcgroup_read(cg, &cnt);
	*kmem = cnt.kmem;
	return ret;
}

/*
 * Who pays for elements added after creation. The actor creates no-prealloc
 * hashes in cgroup A, fills one from there (the reference per-element
 * charge), then moves to cgroup B and (1) inserts into another from B,
 * (2) attaches a raw tracepoint program on softirq_entry that inserts into a
 * third from softirq context, on whatever task the softirq interrupts. For
 * each, both cgroups are read: the charge lands on the map's cgroup (A) or
 * on the one the updating task is in (B).
 */
static void measure_foreign_updates(struct cal *c)
{
	struct cal_row r = { .object = "hash", .type_id = BPF_MAP_TYPE_HASH, .key_size = 8,
			     .value_size = 8, .max_entries = 4096, .flags = BPF_F_NO_PREALLOC };
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_MAP_CREATE);
	struct kms_kactor_reply rep;
	int32_t map[3], link;
	uint64_t a0, b0, a1, b1, n1;
	double per_elem;
	char note[160];
	int64_t d;
	int ret;

	if (!wanted(c, "irq") || open_session(c))
		return;
	req.spec = (struct kms_kbpf_map_spec){ .type = BPF_MAP_TYPE_HASH, .key_size = 8,
		.value_size = 8, .max_entries = 4096, .flags = BPF_F_NO_PREALLOC,
		.inner_map_fd = -1, .btf_fd = -1 };
	for (int i = 0; i < 3; i++) {
		if ((ret = one(c, &req, &rep, 0, &d)) || (ret = rep.ret))
			goto fail;
		map[i] = rep.handle;
	}
	req = ksession_req(KMS_KACTOR_UPDATE);
	req.handle = map[0];
	req.key_id = 1;
	req.count = 1024;
	if ((ret = one(c, &req, &rep, 0, &d)) || (ret = rep.ret))
		goto fail;
	r.op = "insert";
	r.count = rep.done;
	r.delta = d;
	r.result = "ok: process context; the map's cgroup (A)";
	emit(c, &r);
	per_elem = (double)d / (double)rep.done;

	if ((ret = ksession_open_second(&c->s)) ||
	    (ret = kms_kcgroup_add_pid(&c->s.cg2, c->s.actor.pid)) ||
	    (ret = read_kmem(c, &c->s.cg, &a0)) || (ret = read_kmem(c, &c->s.cg2, &b0)))
		goto fail;
	req.handle = map[1];
	if ((ret = kms_kactor_call(&c->s.actor, &req, &rep)) || (ret = rep.ret) ||
	    (ret = read_kmem(c, &c->s.cg, &a1)) || (ret = read_kmem(c, &c->s.cg2, &b1)))
		goto fail;
	r.op = "insert_from_other_cgroup";
	r.count = rep.done;
	r.delta = (int64_t)(a1 - a0);
	snprintf(note, sizeof(note), "ok: updater in cgroup B (+%" PRId64 "); map's cgroup A %s",
		 (int64_t)(b1 - b0), (double)r.delta >= 0.5 * per_elem * (double)r.count
		 ? "pays" : "does NOT pay");
	r.result = note;
	emit(c, &r);

	req = ksession_req(KMS_KACTOR_IRQ_ATTACH);	/* program and link: charged to B */
	req.handle = map[2];
	if ((ret = kms_kactor_call(&c->s.actor, &req, &rep)) || (ret = rep.ret))
		goto fail;
	link = rep.handle;
	req = ksession_req(KMS_KACTOR_COUNT);
	req.handle = map[2];
	if ((ret = kms_kactor_call(&c->s.actor, &req, &rep)) || (ret = rep.ret) ||
	    (ret = read_kmem(c, &c->s.cg, &a0)) || (ret = read_kmem(c, &c->s.cg2, &b0)))
		goto fail;
	n1 = rep.done;
	/* let softirqs happen: timers and RCU on both CPUs, interrupting other tasks */
	{
		struct timespec ts = { 2, 0 };

		nanosleep(&ts, NULL);
	}
	if ((ret = kms_kactor_call(&c->s.actor, &req, &rep)) || (ret = rep.ret) ||
	    (ret = read_kmem(c, &c->s.cg, &a1)) || (ret = read_kmem(c, &c->s.cg2, &b1)))
		goto fail;
	r.op = "irq_insert";
	r.count = rep.done - n1;
	r.delta = (int64_t)(a1 - a0);
	/* half the process-context charge or more can only be the map's memcg */
	snprintf(note, sizeof(note), "ok: softirq_entry raw tracepoint; creator's cgroup B "
		 "(+%" PRId64 "); map's cgroup A %s", (int64_t)(b1 - b0),
		 (double)r.delta >= 0.5 * per_elem * (double)r.count ? "pays" : "does NOT pay");
	r.result = note;
	emit(c, &r);
	req = ksession_req(KMS_KACTOR_CLOSE);
	req.handle = link;
	kms_kactor_call(&c->s.actor, &req, &rep);
	ksession_close(&c->s);
	return;
fail:
	emit_fail(c, &r, "irq_insert", ret);
	ksession_close(&c->s);
}

/*
 * What a delete gives back, and when: 1024 inserts into a non-preallocated
 * map, 1024 deletes, a reading 5 s later, then 1024 inserts of other keys.
 */
static void measure_delete_lifetime(struct cal *c, const char *name, uint32_t key_size)
{
	const struct kms_kbpf_map_type *t = kms_kbpf_map_type_by_name(name);
	struct cal_row r = { .object = name, .type_id = t->type, .key_size = key_size,
			     .value_size = 8, .max_entries = 65536, .flags = BPF_F_NO_PREALLOC };
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_MAP_CREATE);
	struct kms_kactor_reply rep;
	static const struct { uint32_t op; uint64_t first_key; unsigned int settle_ms;
			      const char *name; } steps[] = {
		{ KMS_KACTOR_UPDATE, 1, 0, "insert" },
		{ KMS_KACTOR_DELETE, 1, 5000, "delete_then_5s" },
		{ KMS_KACTOR_UPDATE, 100000, 0, "reinsert_other_keys" },
	};
	int64_t d;
	int ret;

	if (!wanted(c, "delete_lifetime") || open_session(c))
		return;
	req.spec = (struct kms_kbpf_map_spec){ .type = t->type, .key_size = key_size,
		.value_size = 8, .max_entries = 65536, .flags = BPF_F_NO_PREALLOC,
		.inner_map_fd = -1, .btf_fd = -1 };
	if ((ret = one(c, &req, &rep, 0, &d)) || (ret = rep.ret)) {
		emit_fail(c, &r, "create", ret);
		goto out;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct kms_kactor_req u = ksession_req(steps[i].op);

		u.handle = rep.handle;
		u.key_id = steps[i].first_key;
		u.count = 1024;
		if ((ret = one(c, &u, &rep, steps[i].settle_ms, &d)))
			break;
		r.op = steps[i].name;
		r.count = rep.done;
		r.delta = d;
		r.result = rep.ret ? errname(rep.ret) : "ok";
		emit(c, &r);
		rep.handle = u.handle;
	}
out:
	ksession_close(&c->s);
}

int cmd_calibrate(int argc, char **argv)
{
	static const uint64_t insns[] = { 2, 64, 512, 4096, 32768, 1000000 };
	static const uint64_t btf_sizes[] = { 0, 4096, 65536, 1u << 20 };
	struct cal c = { .f = stdout };
	const char *model = NULL, *profile = "linux-6.18";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: kmemsim calibrate [--only OBJECT] [-o FILE]\n"
			       "       kmemsim calibrate --model MEASURED.csv [--profile P] [-o FILE]\n"
			       "Measure real kernel memory charges of BPF objects in scratch memory\n"
			       "cgroups (needs root, bpf(2) and a memory controller); CSV on stdout.\n"
			       "OBJECT is a map type name, prog, btf, pin, fd, nop, irq or\n"
			       "delete_lifetime. --model replays a measured CSV in the model\n"
			       "(default profile linux-6.18) and adds modelled, expected, diff and a\n"
			       "verdict to every row; it needs no root.\n");
			return KMS_EXIT_OK;
		} else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
			model = argv[++i];
		} else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
			profile = argv[++i];
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			c.only = argv[++i];
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			c.f = fopen(argv[++i], "w");
			if (!c.f) {
				fprintf(stderr, "kmemsim: %s: %s\n", argv[i], strerror(errno));
				return KMS_EXIT_USAGE;
			}
		} else {
			return cli_usage_error("calibrate: unknown argument '%s'", argv[i]);
		}
	}
	if (model) {
		int status = calibrate_model(model, profile, c.f);

		if (c.f != stdout)
			fclose(c.f);
		return status;
	}
	if (ksession_probe(&c.s))
		return KMS_EXIT_USAGE;
	fprintf(c.f, "kernel,nr_cpus,page_size,object,type_id,key_size,value_size,max_entries,"
		"flags,op,count,kmem_delta,kmem_per_op,memlock,result\n");
	measure_maps(&c);
	for (size_t i = 0; i < N(insns); i++)
		measure_loads(&c, "prog", KMS_KACTOR_PROG_LOAD, insns[i]);
	for (size_t i = 0; i < N(btf_sizes); i++)
		measure_loads(&c, "btf", KMS_KACTOR_BTF_LOAD,
			      btf_sizes[i] ? btf_sizes[i] : kms_kbtf_min_size(0));
	measure_pins_and_fds(&c);
	measure_foreign_updates(&c);
	measure_delete_lifetime(&c, "hash", 8);
	measure_delete_lifetime(&c, "percpu_hash", 8);
	measure_delete_lifetime(&c, "lpm_trie", 8);
	if (c.f != stdout)
		fclose(c.f);
	return c.failures ? KMS_EXIT_FAIL : KMS_EXIT_OK;
}
