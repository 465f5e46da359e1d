// SPDX-License-Identifier: MIT
/*
 * `kmemsim validate TRACE`: do the trace's bpf(2) operations for real in a
 * scratch memory cgroup, measure what each step charged, do the same step on
 * the model under the current-kernel profile (sim/model_mirror.c: same
 * objects, keys, CPU and waits), and print both side by side with a verdict
 * per step against the tolerance of docs/calibration.md.
 *
 * What is executed: map create (the trace's type, sizes, flags), element
 * updates and deletes (key ids turned into key bytes), batch updates and
 * deletes, program loads (a socket filter of the recorded instruction
 * count), BTF loads (a valid blob of the recorded size), pins and gets in a
 * private bpffs, closes, dups, forks and exits (fd bookkeeping only), and
 * in-kernel updates from softirq context (a raw tracepoint program on
 * softirq_entry inserting into the map). Every process of the trace is
 * played by one actor in one scratch cgroup; the trace's cgroup events are
 * not reproduced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmemsim/kernel.h"
#include "kmemsim/trace.h"
#include "cli.h"
#include "ksession.h"
#include "model_mirror.h"

#define PREFAULT (24u << 20)
#define DEFAULT_PROFILE "linux-6.18"
/* The kernel release the linux-6.18 profile's numbers were checked on (this machine). */
#define CHECKED_ON "6.18.44"

struct vobj {
	int32_t handle;		/* actor slot, -1 once closed */
	int32_t afd;		/* its fd in the actor (for fdinfo) */
	uint32_t refs;		/* trace fds and pins naming it */
	bool is_map;
	struct kms_kbpf_map_spec spec;
	uint64_t next_new;	/* synthetic ids for "some new key" */
	uint64_t *live;		/* ids inserted and not deleted (for "some existing key") */
	size_t nr_live, cap_live;
};

struct vfd {
	int32_t pid, fd;
	size_t obj;
};

struct vpin {
	char path[256];		/* in our bpffs */
	size_t obj;
};

struct vstep {
	uint64_t seq;
	uint32_t line;
	char op[24];
	int64_t real, traced;
	bool has_traced;
	int64_t measured;		/* kernel memory */
	struct ksession_delta all;	/* every counter, for the usage and memory.stat columns */
	uint64_t memlock;
	bool has_memlock;
	int new_fds;		/* struct files created (+) or released (-) by the step */
	bool has_model;
	int64_t modelled;
	const char *note;
};

struct validate {
	struct ksession s;
	struct vobj *objs;
	size_t nr_objs, cap_objs;
	struct vfd *fds;
	size_t nr_fds, cap_fds;
	struct vpin *pins;
	size_t nr_pins, cap_pins;
	int32_t filler_prog;	/* actor handle of a prog for prog_array values, -1 */
	struct mirror *model;	/* the same steps in the model; NULL: not run */
	uint64_t irq_next_key;	/* model keys for the softirq inserts (ktime on the kernel) */
	uint32_t not_done[KMS_NR_BPF_CMDS];	/* bpf commands not executed, per command */
	uint32_t mid[KMS_KACTOR_MAX_HANDLES];	/* model object id of each actor handle */
	int64_t fd_cost;	/* bytes of one bare fd (struct file + dentry), from slabinfo */
	int64_t fd_measured;	/* the same measured: 64 BPF_OBJ_GETs, a cross-check */
	struct vstep *steps;
	size_t nr_steps, cap_steps;
};

#define GROW(arr, nr, cap) do { \
		if ((nr) == (cap)) { \
			size_t _c = (cap) ? 2 * (cap) : 16; \
			void *_p = realloc((arr), _c * sizeof(*(arr))); \
			if (!_p) \
				return -ENOMEM; \
			(arr) = _p; \
			(cap) = _c; \
		} \
	} while (0)

static struct vfd *find_fd(struct validate *v, int32_t pid, int32_t fd)
{
	for (size_t i = 0; i < v->nr_fds; i++)
		if (v->fds[i].pid == pid && v->fds[i].fd == fd)
			return &v->fds[i];
	return NULL;
}

static int add_fd(struct validate *v, int32_t pid, int32_t fd, size_t obj)
{
	struct vfd *old = find_fd(v, pid, fd);

	if (old) {	/* the trace reused an fd we missed a close for */
		old->obj = obj;
		v->objs[obj].refs++;
		return 0;
	}
	GROW(v->fds, v->nr_fds, v->cap_fds);
	v->fds[v->nr_fds++] = (struct vfd){ .pid = pid, .fd = fd, .obj = obj };
	v->objs[obj].refs++;
	return 0;
}

static int new_obj(struct validate *v, const struct kms_kactor_reply *rep, bool is_map,
		   const struct kms_kbpf_map_spec *spec, size_t *out)
{
	GROW(v->objs, v->nr_objs, v->cap_objs);
	v->objs[v->nr_objs] = (struct vobj){ .handle = rep->handle, .afd = rep->fd,
					     .is_map = is_map,
					     .next_new = 1ull << 62 };
	if (spec)
		v->objs[v->nr_objs].spec = *spec;
	*out = v->nr_objs++;
	return 0;
}

static int add_step(struct validate *v, const struct kms_event *ev, const char *op,
		    struct vstep **out)
{
	GROW(v->steps, v->nr_steps, v->cap_steps);
	*out = &v->steps[v->nr_steps++];
	memset(*out, 0, sizeof(**out));
	(*out)->seq = ev->seq;
	(*out)->line = ev->line;
	snprintf((*out)->op, sizeof((*out)->op), "%s", op);
	(*out)->has_traced = ev->has_ret;
	(*out)->traced = ev->ret;
	return 0;
}

/* Run one request as a measured step of @st. */
static int run_step(struct validate *v, struct kms_kactor_req *req, struct kms_kactor_reply *rep,
		    unsigned int settle_ms, struct vstep *st)
{
	int ret = ksession_step(&v->s, req, rep, settle_ms, &st->measured);

	if (ret)
		return ret;
	ksession_add_last_delta(&v->s, &st->all);
	st->real = rep->ret ? rep->ret : rep->handle >= 0 ? rep->fd : (int64_t)rep->done;
	if (rep->fd >= 0 && rep->ret == 0)
		st->has_memlock = kms_fdinfo_read_memlock(v->s.actor.pid, rep->fd,
							  &st->memlock) == 0;
	return 0;
}

/* Start a step's model delta: what setup did before it is not the step's. */
static void model_begin(struct validate *v)
{
	if (v->model)
		mirror_delta(v->model, 0);
}

/* End it, after the same @settle_ms the kernel side waited. */
static void model_end(struct validate *v, struct vstep *st, unsigned int settle_ms)
{
	if (!v->model)
		return;
	st->modelled += mirror_delta(v->model, settle_ms);
	st->has_model = true;
}

/* Record the model's id for @handle (0 when the model refused or has no model). */
static void model_bind(struct validate *v, int32_t handle, int id)
{
	if (handle >= 0 && handle < KMS_KACTOR_MAX_HANDLES)
		v->mid[handle] = id > 0 ? (uint32_t)id : 0;
}

static uint32_t mid_of(const struct validate *v, int32_t handle)
{
	return handle >= 0 && handle < KMS_KACTOR_MAX_HANDLES ? v->mid[handle] : 0;
}

/*
 * After a create on both sides: bind the model's object to the actor's
 * handle, or drop it when only the model created it (the kernel refused).
 */
static void model_step_create(struct validate *v, struct vstep *st, int32_t handle, int id)
{
	if (!v->model)
		return;
	if (handle < 0 && id > 0)
		mirror_put(v->model, (uint32_t)id);
	else
		model_bind(v, handle, id);
	model_end(v, st, 0);
}

/* An unmeasured helper request (setup that is not part of the trace). */
static int setup(struct validate *v, struct kms_kactor_req *req, struct kms_kactor_reply *rep)
{
	struct vstep scratch;
	int ret = ksession_step(&v->s, req, rep, 0, &scratch.measured);

	return ret ? ret : rep->ret;
}

static int obj_of(struct validate *v, const struct kms_event *ev, int32_t fd, size_t *obj)
{
	struct vfd *f = find_fd(v, ev->pid, fd);

	if (!f || v->objs[f->obj].handle < 0)
		return -EBADF;
	*obj = f->obj;
	return 0;
}

/* Maps whose elements or storages come from bpf_mem_alloc (6.18). */
static bool uses_bpf_mem_alloc(const struct kms_kbpf_map_spec *s)
{
	switch (s->type) {
	case KMS_MAP_TYPE_HASH: case KMS_MAP_TYPE_PERCPU_HASH: case KMS_MAP_TYPE_HASH_OF_MAPS:
		return s->flags & 1;	/* BPF_F_NO_PREALLOC */
	case KMS_MAP_TYPE_LPM_TRIE: case KMS_MAP_TYPE_TASK_STORAGE: case KMS_MAP_TYPE_CGRP_STORAGE:
		return true;
	default:
		return false;
	}
}

static void release(struct validate *v, size_t obj, struct vstep *st)
{
	struct vobj *o = &v->objs[obj];
	struct kms_kactor_req req;
	struct kms_kactor_reply rep;
	unsigned int settle;

	if (o->refs && --o->refs)
		return;
	if (o->handle < 0)
		return;
	req = ksession_req(KMS_KACTOR_CLOSE);
	req.handle = o->handle;
	/*
	 * Map and program frees run from a workqueue after RCU; a map with
	 * bpf_mem_alloc caches also waits for RCU-tasks-trace grace periods
	 * (kernel/bpf/memalloc.c free_mem_alloc()), which can leave the
	 * counter still for most of a second before the last pages go.
	 */
	settle = o->is_map && uses_bpf_mem_alloc(&o->spec) ? 1500 : 300;
	if (run_step(v, &req, &rep, settle, st) == 0)
		st->new_fds--;
	model_begin(v);
	if (v->model && mid_of(v, o->handle))
		mirror_put(v->model, mid_of(v, o->handle));
	model_end(v, st, settle);
	o->handle = -1;
	free(o->live);
	o->live = NULL;
	o->nr_live = o->cap_live = 0;
}

static int push_live(struct vobj *o, uint64_t id)
{
	GROW(o->live, o->nr_live, o->cap_live);
	o->live[o->nr_live++] = id;
	return 0;
}

static void drop_live(struct vobj *o, uint64_t id)
{
	for (size_t i = 0; i < o->nr_live; i++)
		if (o->live[i] == id) {
			o->live[i] = o->live[--o->nr_live];
			return;
		}
}

/* The key id an update or delete acts on. */
static uint64_t pick_key(struct vobj *o, enum kms_key_kind kind, uint64_t id, bool del)
{
	if (kind == KMS_KEY_ID)
		return id;
	if (kind == KMS_KEY_EXISTING || (kind == KMS_KEY_NONE && del))
		return o->nr_live ? o->live[o->nr_live - 1] : 0;
	return o->next_new++;
}

static int elems(struct validate *v, size_t obj, bool del, const uint64_t *keys, uint32_t nr,
		 uint64_t count, enum kms_key_kind kind, uint64_t key, uint64_t flags,
		 struct vstep *st)
{
	struct vobj *o = &v->objs[obj];
	struct kms_kcgroup_counters c;
	struct kms_kactor_reply rep;
	uint64_t before = v->s.kmem, total = 0;
	int first_err = 0, ret;
	bool push = o->spec.type == KMS_MAP_TYPE_QUEUE || o->spec.type == KMS_MAP_TYPE_STACK ||
		    o->spec.type == KMS_MAP_TYPE_BLOOM_FILTER;

	model_begin(v);
	for (uint64_t i = 0; i < count; i++) {
		struct kms_kactor_req req = ksession_req(del ? KMS_KACTOR_DELETE : push
							 ? KMS_KACTOR_PUSH : KMS_KACTOR_UPDATE);
		uint64_t id = pick_key(o, keys ? KMS_KEY_ID : kind, keys ? keys[i % nr] : key,
				       del);

		req.handle = o->handle;
		req.key_id = id;
		req.count = 1;
		req.flags = flags;
		if (o->spec.type == KMS_MAP_TYPE_ARRAY_OF_MAPS ||
		    o->spec.type == KMS_MAP_TYPE_HASH_OF_MAPS)
			req.value_handle = o->spec.inner_map_fd;	/* the template's handle */
		else if (o->spec.type == KMS_MAP_TYPE_PROG_ARRAY)
			req.value_handle = v->filler_prog;
		else if (o->spec.type == KMS_MAP_TYPE_DEVMAP ||
			 o->spec.type == KMS_MAP_TYPE_DEVMAP_HASH)
			req.value_u32 = 1;	/* loopback ifindex */
		ret = kms_kactor_call(&v->s.actor, &req, &rep);
		if (ret)
			return ret;
		if (v->model && mid_of(v, o->handle)) {
			if (del)
				mirror_delete(v->model, mid_of(v, o->handle), id);
			else
				mirror_update(v->model, mid_of(v, o->handle), id, flags,
					      mid_of(v, req.value_handle));
		}
		total += rep.done;
		if (rep.ret && !first_err)
			first_err = rep.ret;
		if (rep.ret == 0) {
			if (del)
				drop_live(o, id);
			else if (push_live(o, id))
				return -ENOMEM;
		}
	}
	if (del) {	/* freed elements pass through RCU and bpf_mem_alloc's free lists */
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
	ret = ksession_read(&v->s, &c);
	if (ret)
		return ret;
	ksession_add_last_delta(&v->s, &st->all);
	st->measured = (int64_t)(c.kmem - before);
	st->real = first_err && total == 0 ? first_err : (int64_t)total;
	st->has_memlock = kms_fdinfo_read_memlock(v->s.actor.pid, o->afd, &st->memlock) == 0;
	model_end(v, st, del ? 50 : 0);
	return 0;
}

/* A map create: storages get a private BTF, map-in-map a template (unmeasured setup). */
static int do_map_create(struct validate *v, const struct kms_event *ev, struct vstep *st)
{
	const struct kms_ev_bpf *b = &ev->u.bpf;
	const struct kms_kbpf_map_type *t = NULL;
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_MAP_CREATE);
	struct kms_kactor_reply rep;
	size_t n, obj;
	const struct kms_kbpf_map_type *all = kms_kbpf_map_types(&n);
	int ret;

	for (size_t i = 0; i < n; i++)
		if (all[i].type == (uint32_t)b->map_type)
			t = &all[i];
	req.spec = (struct kms_kbpf_map_spec){
		.type = (uint32_t)b->map_type, .key_size = b->key_size,
		.value_size = b->value_size, .max_entries = b->max_entries,
		.flags = b->map_flags, .map_extra = b->map_extra,
		.inner_map_fd = -1, .btf_fd = -1,
	};
	if (t && (t->needs & KMS_KBPF_NEEDS_VMLINUX)) {
		st->note = "not executed: needs a vmlinux struct_ops type";
		return 1;
	}
	if (t && (t->needs & KMS_KBPF_NEEDS_BTF)) {
		struct kms_kactor_req bt = ksession_req(KMS_KACTOR_BTF_LOAD);

		bt.count = kms_kbtf_min_size(b->value_size);
		bt.value_size = b->value_size;
		if ((ret = setup(v, &bt, &rep)))
			return ret;
		model_bind(v, rep.handle, v->model ? mirror_btf_load(v->model,
								     (uint32_t)bt.count) : 0);
		req.spec.btf_fd = rep.handle;
		req.spec.btf_key_type_id = KMS_KBTF_INT_ID;
		req.spec.btf_value_type_id = KMS_KBTF_VALUE_ID;
		st->note = "private BTF (int key, char[] value) loaded first, not measured";
	}
	if (t && (t->needs & KMS_KBPF_NEEDS_INNER)) {
		size_t inner;

		if (obj_of(v, ev, b->inner_map_fd, &inner) == 0) {
			req.spec.inner_map_fd = v->objs[inner].handle;
		} else {
			struct kms_kactor_req in = ksession_req(KMS_KACTOR_MAP_CREATE);

			in.spec = (struct kms_kbpf_map_spec){ .type = KMS_MAP_TYPE_ARRAY,
				.key_size = 4, .value_size = 4, .max_entries = 1,
				.inner_map_fd = -1, .btf_fd = -1 };
			if ((ret = setup(v, &in, &rep)))
				return ret;
			model_bind(v, rep.handle, v->model ? mirror_map_create(v->model, &in.spec, 0)
					       : 0);
			req.spec.inner_map_fd = rep.handle;
			st->note = "inner map template (1-entry array) created first, not measured";
		}
	}
	if ((ret = run_step(v, &req, &rep, 0, st)))
		return ret;
	model_begin(v);
	model_step_create(v, st, rep.ret ? -1 : rep.handle,
			  v->model ? mirror_map_create(v->model, &req.spec,
						       mid_of(v, req.spec.inner_map_fd)) : 0);
	if (rep.ret)
		return 0;
	st->new_fds = 1;
	if ((ret = new_obj(v, &rep, true, &req.spec, &obj)))
		return ret;
	return ev->has_ret && ev->ret >= 0 ? add_fd(v, ev->pid, (int32_t)ev->ret, obj) : 0;
}

static int do_load(struct validate *v, const struct kms_event *ev, uint32_t op, uint64_t size,
		   struct vstep *st)
{
	struct kms_kactor_req req = ksession_req(op);
	struct kms_kactor_reply rep;
	size_t obj;
	int ret;

	req.count = size;
	if ((ret = run_step(v, &req, &rep, 0, st)))
		return ret;
	model_begin(v);
	model_step_create(v, st, rep.ret ? -1 : rep.handle, !v->model ? 0
			  : op == KMS_KACTOR_PROG_LOAD ? mirror_prog_load(v->model, (uint32_t)size)
			  : mirror_btf_load(v->model, (uint32_t)size));
	if (rep.ret)
		return 0;
	st->new_fds = 1;
	if ((ret = new_obj(v, &rep, false, NULL, &obj)))
		return ret;
	return ev->has_ret && ev->ret >= 0 ? add_fd(v, ev->pid, (int32_t)ev->ret, obj) : 0;
}

static void pin_path(struct validate *v, const char *trace_path, char *out, size_t len)
{
	char name[120];
	size_t j = 0;

	/* one flat name per trace path: "/sys/fs/bpf/a/b" -> "sys_fs_bpf_a_b" */
	for (const char *p = trace_path ? trace_path : "pin"; *p && j + 1 < sizeof(name); p++)
		if (*p != '/' || j)
			name[j++] = *p == '/' ? '_' : *p;
	name[j] = '\0';
	snprintf(out, len, "%s/%s", v->s.fs.dir, name);
}

static int do_pin(struct validate *v, const struct kms_event *ev, struct vstep *st)
{
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_PIN);
	struct kms_kactor_reply rep;
	size_t obj;
	int ret;

	if (obj_of(v, ev, ev->u.bpf.bpf_fd, &obj)) {
		st->note = "not executed: fd unknown to the replay";
		return 1;
	}
	req.handle = v->objs[obj].handle;
	pin_path(v, ev->u.bpf.pathname, req.path, sizeof(req.path));
	if ((ret = run_step(v, &req, &rep, 0, st)))
		return ret;
	if (rep.ret)
		return 0;
	model_begin(v);
	if (v->model && mid_of(v, req.handle))
		mirror_pin(v->model, mid_of(v, req.handle), req.path);
	model_end(v, st, 0);
	GROW(v->pins, v->nr_pins, v->cap_pins);
	snprintf(v->pins[v->nr_pins].path, sizeof(v->pins[0].path), "%s", req.path);
	v->pins[v->nr_pins++].obj = obj;
	v->objs[obj].refs++;
	return 0;
}

static int do_obj_get(struct validate *v, const struct kms_event *ev, struct vstep *st)
{
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_OBJ_GET);
	struct kms_kactor_reply rep;
	int ret;

	pin_path(v, ev->u.bpf.pathname, req.path, sizeof(req.path));
	for (size_t i = 0; i < v->nr_pins; i++) {
		if (strcmp(v->pins[i].path, req.path) != 0)
			continue;
		if (v->objs[v->pins[i].obj].is_map) {
			req.flags = 1;
			req.spec = v->objs[v->pins[i].obj].spec;
		}
		if ((ret = run_step(v, &req, &rep, 0, st)))
			return ret;
		if (rep.ret)
			return 0;
		model_begin(v);
		model_bind(v, rep.handle, v->model ? mirror_get_pinned(v->model, req.path) : 0);
		model_end(v, st, 0);
		/* a second fd of the same object: our actor keeps it as its own slot */
		st->new_fds = 1;
		{
			size_t obj;
			struct vobj copy = v->objs[v->pins[i].obj];

			if ((ret = new_obj(v, &rep, copy.is_map, &copy.spec, &obj)))
				return ret;
			return ev->has_ret && ev->ret >= 0
			       ? add_fd(v, ev->pid, (int32_t)ev->ret, obj) : 0;
		}
	}
	/* BPF_OBJ_GET of a path nobody pinned fails the same way here: nothing to do */
	st->real = -ENOENT;
	st->note = ev->has_ret && ev->ret == -ENOENT ? "path not pinned: ENOENT, as recorded"
		   : "not executed: the trace pinned this path outside what it recorded";
	return 1;
}

static void close_fd(struct validate *v, int32_t pid, int32_t fd, struct vstep *st)
{
	struct vfd *f = find_fd(v, pid, fd);
	size_t obj;

	if (!f)
		return;
	obj = f->obj;
	*f = v->fds[--v->nr_fds];
	if (v->objs[obj].refs > 1) {
		/* another fd or a pin keeps the object: neither side frees anything */
		model_begin(v);
		model_end(v, st, 0);
	}
	release(v, obj, st);
}

/* close-on-exec and exit: every bpf fd of @pid goes (bpf fds are O_CLOEXEC). */
static void close_all(struct validate *v, int32_t pid, struct vstep *st)
{
	int64_t sum = 0;

	for (size_t i = v->nr_fds; i-- > 0; ) {
		if (v->fds[i].pid != pid)
			continue;
		close_fd(v, pid, v->fds[i].fd, st);
		sum += st->measured;
		st->measured = 0;
	}
	st->measured = sum;
}

/*
 * In-kernel inserts from softirq context: a raw tracepoint program inserts
 * keys bpf_ktime_get_ns() into the map until it holds @want more elements
 * (or 5 s pass). Only 8-byte-key, 8-byte-value hashes can take its keys.
 */
static int do_irq_updates(struct validate *v, size_t obj, uint64_t want, struct vstep *st)
{
	struct vobj *o = &v->objs[obj];
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_COUNT);
	struct kms_kactor_reply rep;
	struct kms_kcgroup_counters c;
	uint64_t n0, n, before;
	int32_t link;
	int ret;

	if ((o->spec.type != KMS_MAP_TYPE_HASH) || o->spec.key_size != 8 ||
	    o->spec.value_size != 8) {
		st->note = "not executed: softirq inserter needs a hash with 8-byte keys and values";
		return 1;
	}
	req.handle = o->handle;
	if ((ret = setup(v, &req, &rep)))
		return ret;
	n0 = rep.done;
	/*
	 * The program and its link are charged at attach and freed (after RCU)
	 * at detach: one reading before the attach and one well after the
	 * detach leaves only the inserts.
	 */
	before = v->s.kmem;
	req = ksession_req(KMS_KACTOR_IRQ_ATTACH);
	req.handle = o->handle;
	req.cpu = (int32_t)v->s.cpu;	/* the event's CPU, as the model is told */
	if ((ret = kms_kactor_call(&v->s.actor, &req, &rep)) || (ret = rep.ret))
		return ret;
	link = rep.handle;
	req = ksession_req(KMS_KACTOR_COUNT);
	req.handle = o->handle;
	for (int i = 0; i < 100; i++) {
		struct timespec ts = { 0, 50 * 1000000L };

		if ((ret = kms_kactor_call(&v->s.actor, &req, &rep)))
			return ret;
		if (rep.done >= n0 + want || rep.done >= o->spec.max_entries)
			break;
		nanosleep(&ts, NULL);
	}
	req = ksession_req(KMS_KACTOR_CLOSE);
	req.handle = link;
	if ((ret = kms_kactor_call(&v->s.actor, &req, &rep)))
		return ret;
	req = ksession_req(KMS_KACTOR_COUNT);
	req.handle = o->handle;
	if ((ret = kms_kactor_call(&v->s.actor, &req, &rep)))
		return ret;
	n = rep.done;
	{
		struct timespec ts = { 0, 200 * 1000000L };

		nanosleep(&ts, NULL);
	}
	if ((ret = ksession_read(&v->s, &c)))
		return ret;
	ksession_add_last_delta(&v->s, &st->all);
	st->measured = (int64_t)(c.kmem - before);
	st->real = (int64_t)(n - n0);
	st->note = n - n0 == want ? "softirq_entry raw tracepoint inserts"
		   : "softirq_entry raw tracepoint inserts (count differs from the trace)";
	/* the model inserts as many new keys, in softirq context, interrupting nobody */
	model_begin(v);
	if (v->model && mid_of(v, o->handle)) {
		mirror_set_softirq(v->model, 1);
		for (uint64_t i = n0; i < n; i++)
			mirror_update(v->model, mid_of(v, o->handle), v->irq_next_key++,
				      KMS_BPF_NOEXIST, 0);
		mirror_set_softirq(v->model, 0);
	}
	model_end(v, st, 0);
	return 0;
}

/* Maps whose values are fds of other kinds of objects the actor does not make. */
static const char *fd_valued(uint32_t type)
{
	switch (type) {
	case KMS_MAP_TYPE_PERF_EVENT_ARRAY:
		return "not executed: values are perf event fds";
	case KMS_MAP_TYPE_CGROUP_ARRAY:
		return "not executed: values are cgroup fds";
	case KMS_MAP_TYPE_SOCKMAP: case KMS_MAP_TYPE_SOCKHASH:
	case KMS_MAP_TYPE_REUSEPORT_SOCKARRAY:
		return "not executed: values are socket fds";
	case KMS_MAP_TYPE_XSKMAP:
		return "not executed: values are AF_XDP socket fds";
	default:
		return NULL;
	}
}

/* 1: not executed (note set), 0: executed, < 0: the session broke. */
static int apply(struct validate *v, const struct kms_event *ev)
{
	const struct kms_ev_bpf *b = &ev->u.bpf;
	struct vstep *st;
	size_t obj;
	int ret;

	/* the trace's CPU: bpf_mem_alloc caches and the stocks are per CPU */
	if ((ev->kind == KMS_EV_BPF || ev->kind == KMS_EV_PROG_UPDATE ||
	     ev->kind == KMS_EV_PROG_DELETE) && v->s.caps.nr_possible_cpus > 0) {
		uint32_t cpu = ev->cpu % (uint32_t)v->s.caps.nr_possible_cpus;

		if (cpu != v->s.cpu && ksession_set_cpu(&v->s, cpu) < 0)
			ksession_set_cpu(&v->s, 0);	/* offline CPU: stay on 0 */
		if (v->model)
			mirror_set_cpu(v->model, v->s.cpu);
	}
	switch (ev->kind) {
	case KMS_EV_BPF:
		break;
	case KMS_EV_CLOSE:
		if (!find_fd(v, ev->pid, ev->u.fd.fd))
			return 0;
		if ((ret = add_step(v, ev, "close", &st)))
			return ret;
		close_fd(v, ev->pid, ev->u.fd.fd, st);
		return 0;
	case KMS_EV_EXEC:
	case KMS_EV_EXIT:
		if (ev->kind == KMS_EV_EXIT && ev->u.task.thread)
			return 0;
		for (size_t i = 0; i < v->nr_fds; i++) {
			if (v->fds[i].pid != ev->pid)
				continue;
			if ((ret = add_step(v, ev, ev->kind == KMS_EV_EXEC ? "exec" : "exit", &st)))
				return ret;
			close_all(v, ev->pid, st);
			break;
		}
		return 0;
	case KMS_EV_DUP: {
		struct vfd *f = find_fd(v, ev->pid, ev->u.fd.fd);

		if (!f || !ev->has_ret || ev->ret < 0)
			return 0;
		return add_fd(v, ev->pid, (int32_t)ev->ret, f->obj);
	}
	case KMS_EV_FORK:
		/* the child's table starts as a copy: one more reference per fd */
		for (size_t i = 0, n = v->nr_fds; i < n; i++)
			if (v->fds[i].pid == ev->pid &&
			    (ret = add_fd(v, ev->u.task.child, v->fds[i].fd, v->fds[i].obj)))
				return ret;
		return 0;
	case KMS_EV_PROG_UPDATE:
	case KMS_EV_PROG_DELETE:
		if (obj_of(v, ev, ev->u.prog.map_fd, &obj))
			return 0;
		if ((ret = add_step(v, ev, ev->kind == KMS_EV_PROG_UPDATE ? "prog_update"
				    : "prog_delete", &st)))
			return ret;
		if (ev->ctx != KMS_CTX_TASK && ev->kind == KMS_EV_PROG_UPDATE)
			return do_irq_updates(v, obj, ev->u.prog.count, st);
		st->note = "in-kernel op done from user space in the actor";
		return elems(v, obj, ev->kind == KMS_EV_PROG_DELETE, ev->u.prog.keys,
			     ev->u.prog.nr_keys, ev->u.prog.count, ev->u.prog.key_kind, 0,
			     ev->u.prog.flags, st);
	default:
		return 0;
	}
	switch (b->cmd) {
	case KMS_BPF_MAP_CREATE:
		if ((ret = add_step(v, ev, "map_create", &st)))
			return ret;
		return do_map_create(v, ev, st);
	case KMS_BPF_PROG_LOAD:
		if ((ret = add_step(v, ev, "prog_load", &st)))
			return ret;
		if (ev->has_ret && ev->ret < 0) {
			/* the verifier or a permission check refused it; a filler would load */
			st->real = ev->ret;
			st->note = "not executed: the recorded load failed";
			return 1;
		}
		st->note = "socket filter of the same instruction count";
		return do_load(v, ev, KMS_KACTOR_PROG_LOAD, b->insn_cnt, st);
	case KMS_BPF_BTF_LOAD:
		if ((ret = add_step(v, ev, "btf_load", &st)))
			return ret;
		return do_load(v, ev, KMS_KACTOR_BTF_LOAD, b->btf_size, st);
	case KMS_BPF_OBJ_PIN:
		if ((ret = add_step(v, ev, "obj_pin", &st)))
			return ret;
		return do_pin(v, ev, st);
	case KMS_BPF_OBJ_GET:
		if ((ret = add_step(v, ev, "obj_get", &st)))
			return ret;
		return do_obj_get(v, ev, st);
	case KMS_BPF_MAP_UPDATE_ELEM:
	case KMS_BPF_MAP_DELETE_ELEM:
	case KMS_BPF_MAP_UPDATE_BATCH:
	case KMS_BPF_MAP_DELETE_BATCH:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM: {
		bool del = b->cmd != KMS_BPF_MAP_UPDATE_ELEM && b->cmd != KMS_BPF_MAP_UPDATE_BATCH;
		bool batch = b->cmd == KMS_BPF_MAP_UPDATE_BATCH || b->cmd == KMS_BPF_MAP_DELETE_BATCH;

		if (obj_of(v, ev, b->map_fd, &obj))
			return 0;
		if ((ret = add_step(v, ev, kms_bpf_cmd_name(b->cmd), &st)))
			return ret;
		if (fd_valued(v->objs[obj].spec.type)) {
			st->note = fd_valued(v->objs[obj].spec.type);
			return 1;
		}
		/* the trace's failures (-EEXIST, -ENOENT, -E2BIG) are done again as recorded */
		return elems(v, obj, del, b->keys, b->nr_keys,
			     batch ? (b->count_out ? b->count_out : b->count) : 1, b->key_kind,
			     b->key, b->flags, st);
	}
	default:
		/* lookups, links, attaches, info queries...: counted, listed at the end */
		if (b->cmd < KMS_NR_BPF_CMDS)
			v->not_done[b->cmd]++;
		return 0;
	}
}

/* What one more fd costs: BPF_OBJ_GET of a pinned 1-entry array, 64 times. */
static int measure_fd_cost(struct validate *v)
{
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_MAP_CREATE);
	struct kms_kactor_reply rep;
	struct kms_kcgroup_counters c;
	int32_t map, got[64];
	uint64_t before;
	int ret;

	req.spec = (struct kms_kbpf_map_spec){ .type = KMS_MAP_TYPE_ARRAY, .key_size = 4,
		.value_size = 4, .max_entries = 1, .inner_map_fd = -1, .btf_fd = -1 };
	if ((ret = setup(v, &req, &rep)))
		return ret;
	map = rep.handle;
	req = ksession_req(KMS_KACTOR_PIN);
	req.handle = map;
	snprintf(req.path, sizeof(req.path), "%s/kms_fd_probe", v->s.fs.dir);
	if ((ret = setup(v, &req, &rep)))
		return ret;
	before = v->s.kmem;
	req.op = KMS_KACTOR_OBJ_GET;
	for (int i = 0; i < 64; i++) {
		if ((ret = kms_kactor_call(&v->s.actor, &req, &rep)) || (ret = rep.ret))
			return ret;
		got[i] = rep.handle;
	}
	if ((ret = ksession_read(&v->s, &c)))
		return ret;
	/* 64 fds: the page-granular counter resolves the per-fd cost to 64 bytes */
	v->fd_measured = ((int64_t)(c.kmem - before) + 32) / 64;
	req.op = KMS_KACTOR_UNPIN;
	if ((ret = setup(v, &req, &rep)))
		return ret;
	for (int i = 0; i < 64; i++) {
		req = ksession_req(KMS_KACTOR_CLOSE);
		req.handle = got[i];
		if ((ret = kms_kactor_call(&v->s.actor, &req, &rep)))
			return ret;
	}
	req = ksession_req(KMS_KACTOR_CLOSE);
	req.handle = map;
	if ((ret = kms_kactor_call(&v->s.actor, &req, &rep)))
		return ret;
	{
		struct timespec ts = { 0, 200 * 1000000L };

		nanosleep(&ts, NULL);
	}
	return ksession_read(&v->s, &c);
}

static void fmt_result(int64_t r, char *buf, size_t len)
{
	if (r < 0)
		snprintf(buf, len, "%s", kms_errno_name((int)-r) ? kms_errno_name((int)-r) : "E?");
	else
		snprintf(buf, len, "%" PRId64, r);
}

static int report(struct validate *v, const char *path, const char *profile, bool have_model,
		  const char *why)
{
	long page = v->s.caps.page_size;
	/*
	 * A drain flushes every CPU's obj stock remainder (< 1 page each) into
	 * objcg->nr_charged_bytes, still charged (6.18 mm/memcontrol.c
	 * drain_obj_stock()): one objcg (the actor's) holds < 1 page per CPU.
	 */
	long tol = page * v->s.caps.nr_possible_cpus;
	int fails = 0, checked = 0, differs = 0;
	/* memory.stat has slab/percpu/vmalloc only on v2 (v1 on 6.18 shows none of them) */
	bool v2 = v->s.caps.memcg_version == 2;

	printf("kmemsim validate %s\n", path);
	printf("kernel %s, %d possible CPUs, %ld-byte pages; cgroup v%d memory controller at %s\n",
	       v->s.caps.release, v->s.caps.nr_possible_cpus, page, v->s.cg.version ? v->s.cg.version
	       : v->s.caps.memcg_version, v->s.caps.memcg_root);
	if (have_model)
		printf("model: profile %s (checked on %s), every step done on the model too\n",
		       profile, CHECKED_ON);
	else
		printf("model: not run: %s\n", why);
	printf("method: one actor process in a fresh memory cgroup does the steps, on the CPU the\n"
	       "  trace names (modulo the CPUs here); before every\n"
	       "  reading the per-CPU page and object stocks are drained (%s) and the\n"
	       "  kernel-memory counter (%s) is read; a bare fd costs %" PRId64 " bytes here\n"
	       "  (struct file + dentry from /proc/slabinfo, each + 8 for its objcg pointer;\n"
	       "  measured: %" PRId64 " +- 64) and is added to the model per new fd\n",
	       v->s.caps.memcg_version == 1 ? "memory.force_empty" : "memory.high below usage",
	       v->s.caps.memcg_version == 1 ? "memory.kmem.usage_in_bytes" : "memory.current",
	       v->fd_cost, v->fd_measured);
	printf("tolerance: |measured - (modelled + fds x fd cost)| < %ld bytes: after a drain the\n"
	       "  objcg keeps < 1 page of pre-charged bytes per CPU (%d CPUs, %ld-byte pages)\n",
	       tol, v->s.caps.nr_possible_cpus, page);
	printf("columns: usage = memory usage delta (user pages too), measured = kernel memory\n"
	       "  delta%s; both after the drain\n",
	       v2 ? ", slab/percpu/vmalloc = memory.stat deltas" : "");
	printf("\n%6s %5s %-18s %7s %7s %10s %10s", "seq", "line", "op", "real", "trace", "usage",
	       "measured");
	if (v2)
		printf(" %9s %9s %9s", "slab", "percpu", "vmalloc");
	printf(" %10s %10s %8s  %s\n", "memlock", "modelled", "diff", "verdict");
	for (size_t i = 0; i < v->nr_steps; i++) {
		const struct vstep *s = &v->steps[i];
		char real[24], traced[24], ml[24] = "-", mod[24] = "-", diff[24] = "-";
		const char *verdict = "n/a";

		bool skipped = s->note && strncmp(s->note, "not executed", 12) == 0;

		/* fd numbers differ between the trace and the actor: say "fd" */
		if (skipped && s->real == 0)
			snprintf(real, sizeof(real), "-");
		else if (s->new_fds > 0 && s->real >= 0)
			snprintf(real, sizeof(real), "fd");
		else
			fmt_result(s->real, real, sizeof(real));
		if (!s->has_traced)
			snprintf(traced, sizeof(traced), "-");
		else if (s->new_fds > 0 && s->traced >= 0)
			snprintf(traced, sizeof(traced), "fd");
		else
			fmt_result(s->traced, traced, sizeof(traced));
		if (s->has_memlock)
			snprintf(ml, sizeof(ml), "%" PRIu64, s->memlock);
		if (skipped) {
			verdict = "skipped";
		} else if (s->has_model) {
			int64_t expect = s->modelled + (int64_t)s->new_fds * v->fd_cost;
			int64_t d = s->measured - expect;

			snprintf(mod, sizeof(mod), "%" PRId64, s->modelled);
			snprintf(diff, sizeof(diff), "%+" PRId64, d);
			checked++;
			if (d > -tol && d < tol) {
				verdict = "ok";
			} else {
				verdict = "FAIL";
				fails++;
			}
		}
		/* a step that succeeded here but failed there (or back) measures something else */
		if (!skipped && s->has_traced && (s->real < 0) != (s->traced < 0))
			differs++;
		printf("%6" PRIu64 " %5u %-18s %7s %7s %10" PRId64 " %10" PRId64, s->seq, s->line,
		       s->op, real, traced, s->all.usage, s->measured);
		if (v2)
			printf(" %9" PRId64 " %9" PRId64 " %9" PRId64, s->all.slab, s->all.percpu,
			       s->all.vmalloc);
		printf(" %10s %10s %8s  %s%s%s%s\n", ml, mod, diff, verdict,
		       !skipped && s->has_traced && (s->real < 0) != (s->traced < 0)
		       ? " (result differs from the trace)" : "",
		       s->note ? ": " : "", s->note ? s->note : "");
	}
	printf("\n%zu steps measured, %d compared with the model, %d outside the tolerance, "
	       "%d with another result than the trace's\n", v->nr_steps, checked, fails, differs);
	{
		const char *sep = "bpf commands not done (nothing to measure, or not "
				  "reproducible here): ";

		for (int cmd = 0; cmd < KMS_NR_BPF_CMDS; cmd++) {
			if (!v->not_done[cmd])
				continue;
			printf("%s%s %u", sep, kms_bpf_cmd_name((enum kms_bpf_cmd)cmd),
			       v->not_done[cmd]);
			sep = ", ";
		}
		if (sep[0] == ',')
			putchar('\n');
	}
	return fails ? KMS_EXIT_FAIL : KMS_EXIT_OK;
}

static void validate_free(struct validate *v)
{
	for (size_t i = 0; i < v->nr_objs; i++)
		free(v->objs[i].live);
	free(v->objs);
	free(v->fds);
	free(v->pins);
	free(v->steps);
}

static int remove_leftovers(struct ksession *s)
{
	int n;

	if (ksession_probe(s))
		return KMS_EXIT_USAGE;
	n = kms_kernel_remove_orphans(s->caps.memcg_root, KSESSION_CGROUP_PREFIX);
	if (n < 0) {
		fprintf(stderr, "kmemsim: validate: cannot remove every leftover: %s\n",
			strerror(-n));
		return KMS_EXIT_FAIL;
	}
	printf("removed %d leftover scratch cgroups and bpffs mounts\n", n);
	return KMS_EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kmemsim validate [--profile NAME] TRACE\n"
		"       kmemsim validate --remove-leftovers\n"
		"\n"
		"Do TRACE's bpf(2) operations for real in a scratch memory cgroup, measure\n"
		"the kernel memory each step charges, replay TRACE in the model under the\n"
		"current-kernel profile (default " DEFAULT_PROFILE ") and print both per step\n"
		"with a verdict. Needs root, bpf(2) and a memory cgroup controller; exits 2\n"
		"saying what is missing. Everything created is removed, also on Ctrl-C;\n"
		"--remove-leftovers removes what a killed run (SIGKILL) left behind.\n");
}

static int validate_main(struct validate *v, int argc, char **argv)
{
	const char *path = NULL, *profile = DEFAULT_PROFILE;
	struct kms_trace_reader *rd = NULL;
	struct kms_trace_error terr;
	struct kms_event ev;
	char why[512] = "";
	int ret, status;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return KMS_EXIT_OK;
		} else if (strcmp(argv[i], "--remove-leftovers") == 0) {
			return remove_leftovers(&v->s);
		} else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
			profile = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("validate: unknown option '%s'", argv[i]);
		} else if (path) {
			return cli_usage_error("validate: one TRACE only");
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return cli_usage_error("validate: TRACE is missing");
	/* Read the whole trace once first: bad input is reported before anything is created. */
	ret = kms_trace_open(path, NULL, &rd, &terr);
	while (ret == 0 && (ret = kms_trace_read_next(rd, &ev)) == 1)
		ret = 0;
	if (ret < 0) {
		kms_trace_error_format(rd ? kms_trace_reader_error(rd) : &terr, why, sizeof(why));
		fprintf(stderr, "kmemsim: %s\n", why);
		kms_trace_reader_free(rd);
		return KMS_EXIT_USAGE;
	}
	kms_trace_reader_free(rd);
	rd = NULL;
	ret = mirror_new(profile, &v->model, why, sizeof(why));
	if (ret == -EINVAL)
		return cli_usage_error("validate: %s", why);
	if (ksession_probe(&v->s)) {
		mirror_free(v->model);
		return KMS_EXIT_USAGE;
	}
	ret = ksession_open(&v->s, true, PREFAULT);
	if (ret) {
		fprintf(stderr, "kmemsim: validate: cannot set up the scratch cgroup: %s\n",
			strerror(-ret));
		mirror_free(v->model);
		return KMS_EXIT_USAGE;
	}
	{
		uint64_t cost;

		ret = kms_kernel_fd_cost(&cost);
		v->fd_cost = ret ? 0 : (int64_t)cost;
	}
	if (ret == 0)
		ret = measure_fd_cost(v);
	if (ret == 0) {
		struct kms_kactor_req req = ksession_req(KMS_KACTOR_PROG_LOAD);
		struct kms_kactor_reply rep;

		req.count = 2;
		ret = setup(v, &req, &rep);
		v->filler_prog = rep.handle;
		model_bind(v, rep.handle, v->model ? mirror_prog_load(v->model, 2) : 0);
	}
	if (ret == 0)
		ret = kms_trace_open(path, NULL, &rd, &terr);
	while (ret == 0 && (ret = kms_trace_read_next(rd, &ev)) == 1) {
		int applied = apply(v, &ev);

		ret = applied < 0 ? applied : 0;
	}
	kms_trace_reader_free(rd);
	ksession_close(&v->s);
	if (ret < 0) {
		fprintf(stderr, "kmemsim: validate: the measurement broke off: %s\n",
			strerror(-ret));
		mirror_free(v->model);
		return KMS_EXIT_USAGE;
	}
	status = report(v, path, profile, v->model != NULL, why);
	mirror_free(v->model);
	return status;
}

int cmd_validate(int argc, char **argv)
{
	/* big (a model id per actor handle): on the heap */
	struct validate *v = calloc(1, sizeof(*v));
	int status;

	if (!v)
		return KMS_EXIT_FAIL;
	v->filler_prog = -1;
	v->irq_next_key = 1ull << 61;
	status = validate_main(v, argc, argv);
	validate_free(v);
	free(v);
	return status;
}
