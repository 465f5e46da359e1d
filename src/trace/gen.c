// SPDX-License-Identifier: MIT
/*
 * Synthetic traces (include/kmemsim/gen.h). Every choice comes from one
 * splitmix64 stream seeded by the options, and the writer prints no time or
 * address, so the same options give the same bytes everywhere.
 *
 * The generator keeps its own view of every map (live keys, fd, owner) so
 * that an overwrite or delete names a key that is live and an insert never
 * pushes a map past max_entries (no LRU eviction, no E2BIG): the trace is one
 * a real program could have produced with every call succeeding.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemsim/gen.h"
#include "kmemsim/trace.h"

enum gen_class { CLASS_HASH, CLASS_ARRAY, CLASS_QUEUE, CLASS_RINGBUF };

struct gen_type {
	enum kms_map_type type;
	uint32_t map_flags;
	enum gen_class cls;
	const char *name;
};

/* The mix of map types, cycled over the maps. BPF_F_NO_PREALLOC is 1 << 0 (uapi bpf.h). */
static const struct gen_type gen_types[] = {
	{ KMS_MAP_TYPE_HASH, 1, CLASS_HASH, "hash_np" },
	{ KMS_MAP_TYPE_HASH, 0, CLASS_HASH, "hash" },
	{ KMS_MAP_TYPE_PERCPU_HASH, 0, CLASS_HASH, "pcpu_hash" },
	{ KMS_MAP_TYPE_LRU_HASH, 0, CLASS_HASH, "lru_hash" },
	{ KMS_MAP_TYPE_ARRAY, 0, CLASS_ARRAY, "array" },
	{ KMS_MAP_TYPE_PERCPU_ARRAY, 0, CLASS_ARRAY, "pcpu_array" },
	{ KMS_MAP_TYPE_RINGBUF, 0, CLASS_RINGBUF, "ringbuf" },
	{ KMS_MAP_TYPE_QUEUE, 0, CLASS_QUEUE, "queue" },
};
#define NR_GEN_TYPES (sizeof(gen_types) / sizeof(gen_types[0]))

/* Class masks for choosing a map an op applies to. */
#define M_HASH (1u << CLASS_HASH)
#define M_ARRAY (1u << CLASS_ARRAY)
#define M_QUEUE (1u << CLASS_QUEUE)

struct gen_map {
	const struct gen_type *t;
	uint32_t owner;			/* index of the creating process */
	int32_t fd;
	uint32_t obj_id;		/* the id its map_create carries */
	uint32_t max_entries;
	uint64_t *keys;			/* live keys (hash); queue: only n counts */
	uint64_t n, cap;
};

struct gen {
	const struct kms_gen_opts *o;
	struct kms_trace_writer *w;
	uint64_t rng;
	uint64_t key_seq;
	uint32_t next_obj_id;
	uint64_t live;
	struct gen_map *maps;
	uint32_t *proc_next_fd;
	char **cgroups;			/* "/" first, then the K created ones */
	uint32_t nr_cgroups;
	uint64_t written;
	struct kms_gen_stats *st;
	uint64_t cg_ops;
};

static const char *const op_names[KMS_GEN_NR_OPS] = {
	"insert", "overwrite", "delete", "prog_update", "close", "cgroup",
};

const char *kms_gen_op_name(enum kms_gen_op op)
{
	return (unsigned int)op < KMS_GEN_NR_OPS ? op_names[op] : NULL;
}

void kms_gen_opts_init(struct kms_gen_opts *o)
{
	/* Update-heavy: most events change elements, a few change the environment. */
	*o = (struct kms_gen_opts){
		.seed = 1,
		.events = 1000000,
		.maps = 16,
		.cgroups = 8,
		.depth = 3,
		.procs = 4,
		.live = 100000,
		.cpus = 2,
		/* maps live long: one close in ~50000 events, so the live set sits at its bound */
		.mix = { [KMS_GEN_INSERT] = 30000, [KMS_GEN_OVERWRITE] = 38000,
			 [KMS_GEN_DELETE] = 15000, [KMS_GEN_PROG_UPDATE] = 15000,
			 [KMS_GEN_CLOSE] = 2, [KMS_GEN_CGROUP] = 200 },
	};
}

static uint64_t rnd(struct gen *g)
{
	/* splitmix64: the same stream on every machine */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(struct gen *g, uint64_t n)
{
	return n ? rnd(g) % n : 0;
}

static int emit(struct gen *g, struct kms_event *ev)
{
	/* one event a microsecond: time moves, and nothing depends on the clock */
	ev->seq = ++g->written;
	ev->time_ns = ev->seq * 1000;
	return kms_trace_writer_write(g->w, ev);
}

static void ev_proc(struct gen *g, struct kms_event *ev, uint32_t proc)
{
	(void)g;
	ev->pid = ev->tid = 1000 + (int32_t)proc;
}

static int emit_create(struct gen *g, struct gen_map *m)
{
	struct kms_event ev;
	char name[16];

	kms_event_init_bpf(&ev, KMS_BPF_MAP_CREATE);
	ev_proc(g, &ev, m->owner);
	snprintf(name, sizeof(name), "%s", m->t->name);
	ev.u.bpf.map_type = m->t->type;
	ev.u.bpf.map_flags = m->t->map_flags;
	ev.u.bpf.map_name = name;
	if (m->t->cls == CLASS_RINGBUF) {
		ev.u.bpf.max_entries = 64 * 1024;	/* a power-of-two number of pages */
	} else {
		ev.u.bpf.key_size = m->t->cls == CLASS_QUEUE ? 0 : m->t->cls == CLASS_ARRAY ? 4 : 8;
		ev.u.bpf.value_size = 8;
		ev.u.bpf.max_entries = m->max_entries;
	}
	m->obj_id = ++g->next_obj_id;
	ev.u.bpf.obj_id = m->obj_id;
	ev.has_ret = true;
	ev.ret = m->fd;
	g->st->creates++;
	return emit(g, &ev);
}

/* A key no map holds: the generator's own sequence, scrambled. */
static uint64_t fresh_key(struct gen *g)
{
	uint64_t z = g->o->seed * 0x9e3779b97f4a7c15ull + ++g->key_seq;

	z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
	return z ^ (z >> 33);
}

static bool can_insert(const struct gen *g, const struct gen_map *m)
{
	return m->n < m->max_entries && g->live < g->o->live;
}

static int push_key(struct gen *g, struct gen_map *m, uint64_t key)
{
	if (m->t->cls == CLASS_HASH) {
		if (m->n == m->cap) {
			uint64_t cap = m->cap ? m->cap * 2 : 64;
			uint64_t *k = realloc(m->keys, cap * sizeof(*k));

			if (!k)
				return -ENOMEM;
			m->keys = k;
			m->cap = cap;
		}
		m->keys[m->n] = key;
	}
	m->n++;
	if (++g->live > g->st->live_max)
		g->st->live_max = g->live;
	return 0;
}

static uint64_t pop_key(struct gen *g, struct gen_map *m)
{
	uint64_t key = 0;

	if (m->t->cls == CLASS_HASH) {
		uint64_t i = below(g, m->n);

		key = m->keys[i];
		m->keys[i] = m->keys[m->n - 1];
	}
	m->n--;
	g->live--;
	return key;
}

/* A map of one of the classes in @mask; map 0 (a hash map) when there is none. */
static struct gen_map *pick_map(struct gen *g, unsigned int mask)
{
	uint32_t start = (uint32_t)below(g, g->o->maps);

	for (uint32_t i = 0; i < g->o->maps; i++) {
		struct gen_map *m = &g->maps[(start + i) % g->o->maps];

		if (mask & (1u << m->t->cls))
			return m;
	}
	return &g->maps[0];
}

static int elem_op(struct gen *g, enum kms_gen_op op)
{
	unsigned int mask = op == KMS_GEN_DELETE ? M_HASH | M_QUEUE : M_HASH | M_ARRAY | M_QUEUE;
	struct gen_map *m = pick_map(g, mask);
	struct kms_event ev;
	int err = 0;

	/* Ops a map cannot take as asked become the nearest one it can. */
	if (m->t->cls != CLASS_ARRAY) {
		if (op == KMS_GEN_INSERT && !can_insert(g, m) && m->n)
			op = KMS_GEN_OVERWRITE;
		else if (op == KMS_GEN_OVERWRITE && !m->n && can_insert(g, m))
			op = KMS_GEN_INSERT;
		/* A queue has no overwrite: a push when there is room, else a pop. */
		if (m->t->cls == CLASS_QUEUE && op == KMS_GEN_OVERWRITE)
			op = can_insert(g, m) ? KMS_GEN_INSERT : KMS_GEN_DELETE;
	}
	kms_event_init_bpf(&ev, op == KMS_GEN_DELETE ? KMS_BPF_MAP_DELETE_ELEM
						     : KMS_BPF_MAP_UPDATE_ELEM);
	ev_proc(g, &ev, m->owner);
	ev.u.bpf.map_fd = m->fd;
	ev.u.bpf.key_kind = KMS_KEY_ID;
	switch (m->t->cls) {
	case CLASS_ARRAY:
		ev.u.bpf.key = below(g, m->max_entries);	/* the index */
		break;
	case CLASS_QUEUE:
		/* push and pop name no key */
		ev.u.bpf.key_kind = KMS_KEY_NONE;
		if (op == KMS_GEN_DELETE) {
			ev.u.bpf.cmd = KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM;
			if (m->n)
				pop_key(g, m);
		} else if (can_insert(g, m)) {
			err = push_key(g, m, 0);
		} else {
			/* full: a push would fail, so it pops instead */
			ev.u.bpf.cmd = KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM;
			op = KMS_GEN_DELETE;
			pop_key(g, m);
		}
		break;
	default:
		if (op == KMS_GEN_INSERT && can_insert(g, m)) {
			ev.u.bpf.key = fresh_key(g);
			ev.u.bpf.flags = KMS_BPF_NOEXIST;
			err = push_key(g, m, ev.u.bpf.key);
		} else if (op == KMS_GEN_OVERWRITE && m->n) {
			ev.u.bpf.key = m->keys[below(g, m->n)];
		} else if (op == KMS_GEN_DELETE && m->n) {
			ev.u.bpf.key = pop_key(g, m);
		} else {
			/* nothing live and no room: a delete that misses (-ENOENT) */
			ev.u.bpf.cmd = KMS_BPF_MAP_DELETE_ELEM;
			ev.u.bpf.key = fresh_key(g);
			op = KMS_GEN_DELETE;
		}
		break;
	}
	if (err)
		return err;
	g->st->ops[op]++;
	return emit(g, &ev);
}

/* A BPF program in softirq on some CPU updates one element; pid is the interrupted task. */
static int prog_op(struct gen *g)
{
	struct gen_map *m = pick_map(g, M_HASH | M_ARRAY);
	struct kms_event ev;
	uint64_t key;
	int err = 0;

	if (m->t->cls == CLASS_ARRAY)
		key = below(g, m->max_entries);
	else if (can_insert(g, m) && (!m->n || (rnd(g) & 1)))
		err = push_key(g, m, key = fresh_key(g));
	else if (m->n)
		key = m->keys[below(g, m->n)];
	else
		return elem_op(g, KMS_GEN_DELETE);	/* nothing to update, no room */
	if (err)
		return err;
	kms_event_init(&ev, KMS_EV_PROG_UPDATE);
	ev_proc(g, &ev, (uint32_t)below(g, g->o->procs));
	ev.cpu = (uint32_t)below(g, g->o->cpus);
	ev.ctx = KMS_CTX_SOFTIRQ;
	ev.u.prog.map_id = m->obj_id;
	ev.u.prog.keys = &key;
	ev.u.prog.nr_keys = 1;
	ev.u.prog.count = 1;
	g->st->ops[KMS_GEN_PROG_UPDATE]++;
	return emit(g, &ev);
}

/* close(2) of a map's only fd frees it; the owner creates a fresh one on the same fd. */
static int close_op(struct gen *g)
{
	struct gen_map *m = &g->maps[below(g, g->o->maps)];
	struct kms_event ev;
	int err;

	kms_event_init(&ev, KMS_EV_CLOSE);
	ev_proc(g, &ev, m->owner);
	ev.u.fd.fd = m->fd;
	g->live -= m->n;
	m->n = 0;
	g->st->ops[KMS_GEN_CLOSE]++;
	if ((err = emit(g, &ev)))
		return err;
	return emit_create(g, m);
}

static int cgroup_op(struct gen *g)
{
	struct kms_event ev;

	if (g->cg_ops++ % 2 == 0 || g->nr_cgroups == 1) {
		kms_event_init(&ev, KMS_EV_TASK_MOVE);
		ev_proc(g, &ev, (uint32_t)below(g, g->o->procs));
		ev.u.task.path = g->cgroups[below(g, g->nr_cgroups)];
	} else {
		kms_event_init(&ev, KMS_EV_CGROUP_SET);
		ev.u.cg.path = g->cgroups[1 + below(g, g->nr_cgroups - 1)];
		ev.u.cg.set_max = true;
		/* limits that never refuse: the bench measures the path, not failures */
		ev.u.cg.max = rnd(g) & 1 ? KMS_TRACE_UNLIMITED : 1ull << 40;
	}
	g->st->ops[KMS_GEN_CGROUP]++;
	return emit(g, &ev);
}

/* K cgroups, level i % D under the most recent cgroup of the level above. */
static int setup_cgroups(struct gen *g)
{
	uint32_t k = g->o->cgroups, d = g->o->depth;
	uint32_t *last = calloc(d ? d : 1, sizeof(*last));
	int err = 0;

	g->cgroups = calloc((size_t)k + 1, sizeof(*g->cgroups));
	if (!g->cgroups || !last || !(g->cgroups[0] = strdup("/"))) {
		free(last);
		return -ENOMEM;
	}
	g->nr_cgroups = 1;
	for (uint32_t i = 0; i < k && !err; i++) {
		uint32_t level = i % d;
		const char *parent = level ? g->cgroups[last[level - 1]] : "";
		struct kms_event ev;

		if (asprintf(&g->cgroups[g->nr_cgroups], "%s/c%" PRIu32, parent, i) < 0) {
			g->cgroups[g->nr_cgroups] = NULL;
			err = -ENOMEM;
			break;
		}
		last[level] = g->nr_cgroups++;
		kms_event_init(&ev, KMS_EV_CGROUP_CREATE);
		ev.u.cg.path = g->cgroups[last[level]];
		err = emit(g, &ev);
	}
	free(last);
	return err;
}

static int setup(struct gen *g)
{
	const struct kms_gen_opts *o = g->o;
	uint32_t elem_maps = 0;
	uint64_t per_map;
	int err;

	if ((err = setup_cgroups(g)))
		return err;
	for (uint32_t i = 0; i < o->procs; i++) {
		struct kms_event ev;

		kms_event_init(&ev, KMS_EV_TASK_NEW);
		ev_proc(g, &ev, i);
		/* root, as BPF tools run: since 5.16 kernel.unprivileged_bpf_disabled=2 */
		ev.uid = 0;
		ev.cgroup = g->cgroups[o->cgroups ? 1 + i % o->cgroups : 0];
		ev.u.task.has_cur = ev.u.task.has_max = true;
		ev.u.task.cur = ev.u.task.max = KMS_TRACE_UNLIMITED;
		if ((err = emit(g, &ev)))
			return err;
	}
	for (uint32_t i = 0; i < o->maps; i++)
		elem_maps += gen_types[i % NR_GEN_TYPES].cls != CLASS_RINGBUF;
	/* Room for the whole live bound spread evenly, twice over so maps never fill at once. */
	per_map = elem_maps ? 2 * o->live / elem_maps : 0;
	if (per_map < 16)
		per_map = 16;
	if (per_map > UINT32_MAX / 2)
		per_map = UINT32_MAX / 2;
	for (uint32_t i = 0; i < o->maps; i++) {
		struct gen_map *m = &g->maps[i];

		m->t = &gen_types[i % NR_GEN_TYPES];
		m->owner = i % o->procs;
		m->fd = (int32_t)g->proc_next_fd[m->owner]++;
		m->max_entries = (uint32_t)per_map;
		if ((err = emit_create(g, m)))
			return err;
	}
	return 0;
}

static int check_opts(const struct kms_gen_opts *o, char *err, size_t len)
{
	uint64_t setup = (uint64_t)o->cgroups + o->procs + o->maps, total = 0;

	for (int i = 0; i < KMS_GEN_NR_OPS; i++)
		total += o->mix[i];
	if (!o->maps || !o->procs || !o->cpus) {
		snprintf(err, len, "maps, processes and cpus must be at least 1");
		return -EINVAL;
	}
	if (o->cgroups && !o->depth) {
		snprintf(err, len, "a cgroup hierarchy needs a depth of at least 1");
		return -EINVAL;
	}
	if (o->procs > 1000000 || o->maps > 1000000 || o->cgroups > 1000000 || o->cpus > 8192) {
		snprintf(err, len, "at most 1000000 maps, processes and cgroups, 8192 cpus");
		return -EINVAL;
	}
	if (o->events < setup) {
		snprintf(err, len, "%" PRIu64 " events cannot hold the setup (%" PRIu64
			 " cgroups + processes + maps)", o->events, setup);
		return -EINVAL;
	}
	if (!total || total > UINT32_MAX) {
		snprintf(err, len, "the mix needs a weight above 0 (and a sum below 2^32)");
		return -EINVAL;
	}
	return 0;
}

static int gen_body(struct gen *g)
{
	const struct kms_gen_opts *o = g->o;
	uint64_t total = 0;
	int err = 0;

	for (int i = 0; i < KMS_GEN_NR_OPS; i++)
		total += o->mix[i];
	while (!err && g->written < o->events) {
		uint64_t r = below(g, total);
		enum kms_gen_op op = 0;

		while (r >= o->mix[op])
			r -= o->mix[op++];
		/* A close takes two events (close, map_create): not as the very last one. */
		if (op == KMS_GEN_CLOSE && g->written + 2 > o->events)
			op = KMS_GEN_OVERWRITE;
		switch (op) {
		case KMS_GEN_PROG_UPDATE: err = prog_op(g); break;
		case KMS_GEN_CLOSE: err = close_op(g); break;
		case KMS_GEN_CGROUP: err = cgroup_op(g); break;
		default: err = elem_op(g, op); break;
		}
	}
	return err;
}

int kms_gen_write(FILE *f, const struct kms_gen_opts *o, struct kms_gen_stats *st,
		  char *errbuf, size_t err_len)
{
	const struct kms_trace_header h = { KMS_TRACE_FORMAT_VERSION, "synthetic", 4096, o->cpus };
	struct kms_gen_stats local;
	struct gen g = { .o = o, .rng = o->seed, .st = st ? st : &local };
	char comment[256];
	int err;

	memset(g.st, 0, sizeof(*g.st));
	if (errbuf && err_len)
		errbuf[0] = '\0';
	if ((err = check_opts(o, errbuf ? errbuf : comment, errbuf ? err_len : sizeof(comment))))
		return err;
	g.maps = calloc(o->maps, sizeof(*g.maps));
	g.proc_next_fd = malloc(o->procs * sizeof(*g.proc_next_fd));
	if (!g.maps || !g.proc_next_fd) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < o->procs; i++)
		g.proc_next_fd[i] = 3;	/* after stdin, stdout, stderr */
	snprintf(comment, sizeof(comment),
		 "kmemsim gen --seed %" PRIu64 " --events %" PRIu64 " --maps %" PRIu32
		 " --cgroups %" PRIu32 " --depth %" PRIu32 " --procs %" PRIu32 " --live %" PRIu64
		 " --cpus %" PRIu32 " --mix insert=%" PRIu32 ",overwrite=%" PRIu32
		 ",delete=%" PRIu32 ",prog_update=%" PRIu32 ",close=%" PRIu32 ",cgroup=%" PRIu32,
		 o->seed, o->events, o->maps, o->cgroups, o->depth, o->procs, o->live, o->cpus,
		 o->mix[0], o->mix[1], o->mix[2], o->mix[3], o->mix[4], o->mix[5]);
	if ((err = kms_trace_writer_open(f, o->form ? o->form : KMS_TRACE_NATIVE, &h, comment,
					 &g.w)))
		goto out;
	err = setup(&g);
	g.st->setup = g.written;
	if (!err)
		err = gen_body(&g);
	if (!err)
		err = kms_trace_writer_close(g.w);
	else
		kms_trace_writer_free(g.w);
	g.st->events = g.written;
	g.st->live_end = g.live;
out:
	for (uint32_t i = 0; g.maps && i < o->maps; i++)
		free(g.maps[i].keys);
	free(g.maps);
	free(g.proc_next_fd);
	for (uint32_t i = 0; g.cgroups && i < g.nr_cgroups; i++)
		free(g.cgroups[i]);
	free(g.cgroups);
	return err;
}
