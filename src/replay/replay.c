// SPDX-License-Identifier: MIT
/*
 * The replay engine: applies trace events to one run per profile. Everything
 * the trace says about processes (fds, forks, exits, cgroups, rlimits) is
 * bookkeeping here; every charge decision is the model's (kms_sim, kms_bpf).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay_int.h"

/* An fd the trace shows but the model has no object for (a map of another program). */
#define OBJ_FOREIGN 0x7fffffffu

struct id_map {
	uint32_t kernel_id;
	uint32_t model_id;
	UT_hash_handle hh;
};

static void run_why(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_why(struct run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->why, sizeof(run->why), fmt, ap);
	va_end(ap);
}

/* ---- setup ---- */

/* "cgroup:/a:memory.max=64M" */
static int parse_cgroup_set(const char *set, struct cg_override *o, char *err, size_t len)
{
	const char *path = set + strlen("cgroup:"), *colon = strrchr(path, ':'), *eq;
	uint64_t v;

	if (!colon || colon == path || path[0] != '/') {
		snprintf(err, len, "bad --set '%s': expected cgroup:/PATH:memory.max=SIZE", set);
		return -EINVAL;
	}
	eq = strchr(colon, '=');
	if (!eq) {
		snprintf(err, len, "bad --set '%s': missing '='", set);
		return -EINVAL;
	}
	if (kms_size_parse(eq + 1, &v)) {
		snprintf(err, len, "bad --set '%s': '%s' is not a size (e.g. 64M, 4096, max)", set,
			 eq + 1);
		return -EINVAL;
	}
	o->path = strndup(path, (size_t)(colon - path));
	if (!o->path)
		return -ENOMEM;
	if ((size_t)(eq - colon - 1) == strlen("memory.max") &&
	    strncmp(colon + 1, "memory.max", strlen("memory.max")) == 0) {
		o->has_max = true;
		o->max = v;
	} else if ((size_t)(eq - colon - 1) == strlen("memory.high") &&
		   strncmp(colon + 1, "memory.high", strlen("memory.high")) == 0) {
		o->has_high = true;
		o->high = v;
	} else {
		snprintf(err, len, "bad --set '%s': only memory.max and memory.high can be set", set);
		free(o->path);
		o->path = NULL;
		return -EINVAL;
	}
	return 0;
}

static int run_profile_set(struct run *run, const char *key, const char *value, char *err,
			   size_t len)
{
	int ret = kms_profile_set(run->profile, key, value);

	if (ret)
		snprintf(err, len, "bad --set '%s=%s': %s", key, value,
			 kms_profile_error(run->profile));
	return ret;
}

static const char *cgroup_of_override(const struct run *run, const char *path)
{
	for (size_t i = 0; i < run->nr_overrides; i++)
		if (strcmp(run->overrides[i].path, path) == 0)
			return run->overrides[i].path;
	return NULL;
}

static int ensure_cgroup(struct run *run, const char *path);

static int apply_override(struct run *run, const struct cg_override *o)
{
	int err = ensure_cgroup(run, o->path);

	if (err)
		return err;
	if (o->has_max && (err = kms_cgroup_set_max(run->sim, o->path, o->max)))
		return err;
	if (o->has_high && (err = kms_cgroup_set_high(run->sim, o->path, o->high)))
		return err;
	return 0;
}

/* One "key=value" what-if: a profile knob, or "cgroup:/a:memory.max=64M". */
static int run_apply_set(struct run *run, const char *set, char *err, size_t err_len)
{
	const char *eq = strchr(set, '=');
	char key[64];
	int ret;

	if (strncmp(set, "cgroup:", 7) == 0) {
		struct cg_override *o = realloc(run->overrides, (run->nr_overrides + 1) * sizeof(*o));

		if (!o)
			return -ENOMEM;
		run->overrides = o;
		memset(&o[run->nr_overrides], 0, sizeof(*o));
		if ((ret = parse_cgroup_set(set, &o[run->nr_overrides], err, err_len)))
			return ret;
		run->nr_overrides++;
		return 0;
	}
	/* A bare switch, "--set nobpf", means KEY=on. */
	if (!eq && *set && strlen(set) < sizeof(key))
		return run_profile_set(run, set, "on", err, err_len);
	if (!eq || eq == set || (size_t)(eq - set) >= sizeof(key)) {
		snprintf(err, err_len, "bad --set '%s': expected KEY=VALUE", set);
		return -EINVAL;
	}
	memcpy(key, set, (size_t)(eq - set));
	key[eq - set] = '\0';
	return run_profile_set(run, key, eq + 1, err, err_len);
}

/*
 * A run name is a profile name, optionally followed by its own what-ifs in
 * brackets: "linux-5.11[memcg=off,kmem=off]" (an expect line's set= field).
 * They apply after the --set options, so the run's own win.
 */
static int run_apply_name_sets(struct run *run, const char *sets, char *err, size_t err_len)
{
	char *copy = strdup(sets), *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	copy[strlen(copy) - 1] = '\0';	/* the closing ']' */
	for (char *tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		ret = run_apply_set(run, tok, err, err_len);
	free(copy);
	return ret;
}

int run_init(struct kms_replay *r, struct run *run, const char *name, bool unlimited,
	     char *err, size_t err_len)
{
	const char *bracket = strchr(name, '[');
	const struct kms_profile *base;
	struct kms_config cfg;
	char num[32], base_name[64];
	size_t base_len = bracket ? (size_t)(bracket - name) : strlen(name);
	int ret;

	memset(run, 0, sizeof(*run));
	if (bracket && (name[strlen(name) - 1] != ']' || bracket[1] == ']')) {
		snprintf(err, err_len, "profile '%s': expected PROFILE[KEY=VALUE,...]", name);
		return -EINVAL;
	}
	snprintf(base_name, sizeof(base_name), "%.*s", (int)base_len, name);
	base = base_len < sizeof(base_name) ? kms_profile_find(base_name) : NULL;
	if (!base) {
		snprintf(err, err_len, "unknown profile '%s' (see 'kmemsim profiles')", name);
		return -EINVAL;
	}
	run->name = strdup(name);
	if (!run->name || kms_profile_copy(base, &run->profile))
		return -ENOMEM;
	run->unlimited = unlimited;

	/* The recording machine first, then the user's what-ifs. */
	if (r->header.nr_cpus) {
		snprintf(num, sizeof(num), "%" PRIu32, r->header.nr_cpus);
		if ((ret = run_profile_set(run, "cpus", num, err, err_len)))
			return ret;
	}
	if (r->header.page_size) {
		snprintf(num, sizeof(num), "%" PRIu32, r->header.page_size);
		if ((ret = run_profile_set(run, "page_size", num, err, err_len)))
			return ret;
	}
	for (size_t i = 0; i < r->opts.nr_sets; i++)
		if ((ret = run_apply_set(run, r->opts.sets[i], err, err_len)))
			return ret;
	if (bracket && (ret = run_apply_name_sets(run, bracket + 1, err, err_len)))
		return ret;
	if (unlimited && (ret = run_profile_set(run, "rlimit.memlock", "unlimited", err, err_len)))
		return ret;

	kms_profile_config(run->profile, &cfg);
	if ((ret = kms_sim_new(&cfg, &run->sim))) {
		snprintf(err, err_len, "profile '%s': cannot build a simulation: %s", name,
			 strerror(-ret));
		return ret;
	}
	/* Nothing allocated yet, so switching it off cannot fail. */
	if (!r->opts.ledger && !r->opts.check_invariants)
		kms_sim_set_ledger(run->sim, false);
	if ((ret = kms_bpf_new(run->sim, run->profile, &run->bpf))) {
		snprintf(err, err_len, "profile '%s': cannot build the BPF model: %s", name,
			 strerror(-ret));
		return ret;
	}
	if ((ret = name_set_add(&run->cgroups, "/")) < 0)
		return ret;
	if (r->opts.explain)
		kms_sim_set_explain(run->sim, true);
	if (!unlimited)
		for (size_t i = 0; i < run->nr_overrides; i++)
			if ((ret = apply_override(run, &run->overrides[i]))) {
				snprintf(err, err_len, "--set cgroup:%s: %s", run->overrides[i].path,
					 strerror(-ret));
				return ret;
			}
	/* After setup, so call 1 is the trace's first allocation; the limits pass is exact. */
	if (!unlimited && r->opts.fail_nth)
		kms_sim_fault_fail_nth(run->sim, r->opts.fail_nth);
	return 0;
}

static void proc_release(struct run *run, struct proc *p, const struct kms_bpf_ctx *c);

void run_destroy(struct run *run)
{
	struct proc *p, *ptmp;
	struct synth_keys *s, *stmp;
	struct id_map *m, *mtmp;

	HASH_ITER(hh, run->procs, p, ptmp)
		proc_release(run, p, NULL);
	HASH_ITER(hh, run->synth, s, stmp) {
		HASH_DEL(run->synth, s);
		free(s->keys);
		free(s);
	}
	HASH_ITER(hh, run->ids, m, mtmp) {
		HASH_DEL(run->ids, m);
		free(m);
	}
	kms_bpf_free(run->bpf);
	kms_sim_free(run->sim);
	kms_profile_free(run->profile);
	name_set_free(&run->cgroups);
	for (size_t i = 0; i < run->nr_overrides; i++)
		free(run->overrides[i].path);
	free(run->overrides);
	free(run->uids);
	free(run->limit_values);
	free(run->limit_names);
	free(run->explain);
	free(run->name);
	memset(run, 0, sizeof(*run));
}

/* ---- processes and cgroups ---- */

/* mkdir -p: the trace may name a cgroup it never created (strace imports). */
/* rmdir of @path will succeed: online, not the root, no task, no online child. */
static bool cgroup_removable(struct run *run, const char *path)
{
	struct kms_cgroup_stats st;
	size_t len = strlen(path);

	if (!strcmp(path, "/") || kms_cgroup_read(run->sim, path, &st) || st.nr_tasks)
		return false;
	for (size_t i = 0; i < run->cgroups.n; i++) {
		const char *c = run->cgroups.names[i];

		if (!strncmp(c, path, len) && c[len] == '/' && !kms_cgroup_read(run->sim, c, &st))
			return false;
	}
	return true;
}

static int ensure_cgroup(struct run *run, const char *path)
{
	struct kms_cgroup_stats st;
	char *buf;
	int err = 0;

	if (kms_cgroup_read(run->sim, path, &st) == 0)
		return name_set_add(&run->cgroups, path) < 0 ? -ENOMEM : 0;
	buf = strdup(path);
	if (!buf)
		return -ENOMEM;
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			err = kms_cgroup_create(run->sim, buf);
			if (err == -EEXIST)
				err = 0;
			if (!err && name_set_add(&run->cgroups, buf) < 0)
				err = -ENOMEM;
			*p = c;
			if (err || c == '\0')
				break;
		}
	}
	free(buf);
	return err;
}

static void note_uid(struct run *run, uint32_t uid)
{
	for (size_t i = 0; i < run->nr_uids; i++)
		if (run->uids[i] == uid)
			return;
	if (run->nr_uids == run->cap_uids) {
		size_t cap = run->cap_uids ? run->cap_uids * 2 : 4;
		uint32_t *p = realloc(run->uids, cap * sizeof(*p));

		if (!p)
			return;
		run->uids = p;
		run->cap_uids = cap;
	}
	run->uids[run->nr_uids++] = uid;
}

static struct proc *proc_find_slow(struct run *run, int32_t pid)
{
	struct proc *p = NULL;

	HASH_FIND(hh, run->procs, &pid, sizeof(pid), p);
	if (p)
		run->recent[(uint32_t)pid % PROC_RECENT] = p;
	return p;
}

/* The process @pid, or NULL; the recently found ones without a hash lookup. */
static inline struct proc *proc_find(struct run *run, int32_t pid)
{
	struct proc *p = run->recent[(uint32_t)pid % PROC_RECENT];

	return p && p->pid == pid ? p : proc_find_slow(run, pid);
}

static struct proc *proc_add(struct run *run, int32_t pid, struct fd_table *files)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	p->files = files;
	HASH_ADD(hh, run->procs, pid, sizeof(p->pid), p);
	return p;
}

static uint64_t default_rlimit(const struct run *run)
{
	return run->unlimited ? KMS_UNLIMITED : kms_profile_rlimit_memlock(run->profile);
}

/*
 * The task behind an event, created on first sight with the event's uid and
 * cgroup; a later event naming another uid or cgroup for it means a setuid or
 * a migration happened in between.
 */
static struct proc *proc_get(struct run *run, const struct kms_event *ev, int *errp)
{
	struct proc *p = proc_find(run, ev->pid);
	struct kms_task_info ti;
	const char *cg = ev->cgroup ? ev->cgroup : "/";
	uint32_t uid = ev->uid == KMS_UID_UNSET ? 0 : ev->uid;
	int err;

	*errp = 0;
	if (ev->pid <= 0)
		return NULL;
	if (!p) {
		struct fd_table *t;

		if ((err = ensure_cgroup(run, cg)) ||
		    (err = kms_task_create(run->sim, ev->pid, uid, cg, default_rlimit(run)))) {
			*errp = err;
			return NULL;
		}
		note_uid(run, uid);
		t = fd_table_new();
		if (!t || !(p = proc_add(run, ev->pid, t))) {
			*errp = -ENOMEM;
			return NULL;
		}
		return p;
	}
	/* Most events name neither: then there is nothing to compare. */
	if ((ev->uid != KMS_UID_UNSET || ev->cgroup) && kms_task_read(run->sim, ev->pid, &ti) == 0) {
		if (ev->uid != KMS_UID_UNSET && ev->uid != ti.uid) {
			kms_task_set_uid(run->sim, ev->pid, ev->uid);
			note_uid(run, ev->uid);
		}
		if (ev->cgroup && strcmp(ev->cgroup, ti.cgroup) != 0 &&
		    !(err = ensure_cgroup(run, ev->cgroup)))
			kms_task_move(run->sim, ev->pid, ev->cgroup);
	}
	return p;
}

static void bpf_ctx_of(const struct kms_event *ev, struct kms_bpf_ctx *c)
{
	*c = (struct kms_bpf_ctx){
		.pid = ev->pid,
		.cpu = ev->cpu,
		.ctx = (enum kms_exec_ctx)ev->ctx,
		.now_ns = ev->time_ns,
		.interrupted_pid = ev->ctx == KMS_CTX_TASK ? 0 : ev->pid,
	};
}

/* Drop the reference an fd held; @c is the closing task (close, exit, exec, dup2). */
static void obj_put(struct run *run, uint32_t slot, const struct kms_bpf_ctx *c)
{
	uint32_t obj = FD_OBJ(slot);

	if (obj && obj != OBJ_FOREIGN)
		kms_bpf_obj_put(run->bpf, c, obj);
}

struct close_arg {
	struct run *run;
	struct fd_table *t;
	const struct kms_bpf_ctx *c;
	bool cloexec_only;
};

static int close_one(int64_t fd, uint32_t slot, void *arg)
{
	struct close_arg *a = arg;

	if (a->cloexec_only && !(slot & FD_CLOEXEC_BIT))
		return 0;
	fd_remove(a->t, fd);
	obj_put(a->run, slot, a->c);
	return 0;
}

static void close_all(struct run *run, struct fd_table *t, const struct kms_bpf_ctx *c,
		      bool cloexec_only)
{
	struct close_arg a = { run, t, c, cloexec_only };

	fd_table_for_each(t, close_one, &a);
}

/* @c NULL: the simulation is being torn down, objects go with the BPF world. */
static void proc_release(struct run *run, struct proc *p, const struct kms_bpf_ctx *c)
{
	/* The last user of an fd table closes every fd in it (exit_files()). */
	if (p->files->refcnt == 1 && c)
		close_all(run, p->files, c, false);
	fd_table_put(p->files);
	if (run->recent[(uint32_t)p->pid % PROC_RECENT] == p)
		run->recent[(uint32_t)p->pid % PROC_RECENT] = NULL;
	HASH_DEL(run->procs, p);
	free(p);
}

struct copy_arg {
	struct run *run;
	struct fd_table *dst;
	int err;
};

static int copy_one(int64_t fd, uint32_t slot, void *arg)
{
	struct copy_arg *a = arg;
	uint32_t obj = FD_OBJ(slot);

	if (fd >= FD_PHANTOM_BASE) {
		/* Phantom fds keep their number in the child: same index, same object. */
		while (a->dst->nr_phantom < (uint32_t)(fd - FD_PHANTOM_BASE))
			if (fd_install_phantom(a->dst, 0) < 0)
				return a->err = -ENOMEM;
		if (fd_install_phantom(a->dst, slot) < 0)
			return a->err = -ENOMEM;
	} else if ((a->err = fd_install(a->dst, fd, slot))) {
		return a->err;
	}
	if (obj != OBJ_FOREIGN)
		kms_bpf_obj_get(a->run->bpf, obj);
	return 0;
}

/* ---- bpf(2) ---- */

static uint32_t fd_obj(struct proc *p, int64_t fd)
{
	return p ? FD_OBJ(fd_lookup(p->files, fd)) : 0;
}

/* The model id the recording kernel's @kernel_id stands for, or NULL. */
static struct id_map *id_find(struct run *run, uint32_t kernel_id)
{
	struct id_map **slot = &run->ids_recent[kernel_id % ID_RECENT], *m = NULL;

	if (*slot && (*slot)->kernel_id == kernel_id)
		return *slot;
	HASH_FIND(hh, run->ids, &kernel_id, sizeof(kernel_id), m);
	if (m)
		*slot = m;
	return m;
}

/* Remember that the recording kernel called the model's object @id @kernel_id. */
static void note_kernel_id(struct run *run, uint32_t kernel_id, uint32_t id)
{
	struct id_map *m;

	if (!kernel_id)
		return;
	m = id_find(run, kernel_id);
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return;
		m->kernel_id = kernel_id;
		HASH_ADD(hh, run->ids, kernel_id, sizeof(m->kernel_id), m);
	}
	m->model_id = id;
}

/* Install a new object's fd where the real kernel put it, or a phantom one. */
static int64_t install_new_fd(struct run *run, struct proc *p, const struct kms_event *ev,
			      uint32_t id)
{
	int64_t fd;
	int err;

	if (ev->kind == KMS_EV_BPF)
		note_kernel_id(run, ev->u.bpf.obj_id, id);
	if (ev->has_ret && ev->ret >= 0 && ev->ret < FD_DIRECT_MAX) {
		fd = ev->ret;
		struct kms_bpf_ctx c;

		bpf_ctx_of(ev, &c);
		/* The kernel never returns an fd that is open: close a stale model one. */
		obj_put(run, fd_remove(p->files, fd), &c);
		err = fd_install(p->files, fd, id | FD_CLOEXEC_BIT);
		return err ? err : fd;
	}
	return fd_install_phantom(p->files, id | FD_CLOEXEC_BIT);
}

/* The range of made-up key ids: only keys in it can be on a synth_keys list. */
#define SYNTH_KEY_BASE 0xffe0000000000000ull
#define SYNTH_KEY_MASK 0xfff0000000000000ull

static struct synth_keys *synth_of_slow(struct run *run, uint32_t map_id, bool create)
{
	struct synth_slot *slot = &run->synth_recent[map_id % ID_RECENT];
	struct synth_keys *s = NULL;

	HASH_FIND(hh, run->synth, &map_id, sizeof(map_id), s);
	if (!s && create) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->map_id = map_id;
		HASH_ADD(hh, run->synth, map_id, sizeof(s->map_id), s);
	}
	*slot = (struct synth_slot){ map_id, s };
	return s;
}

/* The made-up keys of map @map_id (created if @create), NULL if none. */
static inline struct synth_keys *synth_of(struct run *run, uint32_t map_id, bool create)
{
	struct synth_slot *slot = &run->synth_recent[map_id % ID_RECENT];

	if (slot->map_id == map_id && (slot->s || !create))
		return slot->s;
	return synth_of_slow(run, map_id, create);
}

/*
 * Keys the trace does not name (strace shows only a pointer): a new key is a
 * fresh id the replay makes up, an existing one is the most recent made-up
 * key still in the map. docs/trace-format.md, "Keys", states the rule.
 */
static uint64_t synth_key(struct run *run, uint32_t map_id, enum kms_key_kind kind,
			  bool *is_new)
{
	struct synth_keys *s = synth_of(run, map_id, false);

	*is_new = false;
	if (kind == KMS_KEY_EXISTING) {
		if (s && s->n)
			return s->keys[s->n - 1];
		/* Nothing made up is live: a key that is certainly absent. */
		return 0xfff0000000000000ull | map_id;
	}
	*is_new = true;
	/* Made-up ids live in their own range, apart from FNV-1a ids of real keys. */
	return SYNTH_KEY_BASE | ++run->synth_next;
}

static void synth_push(struct run *run, uint32_t map_id, uint64_t key)
{
	struct synth_keys *s = synth_of(run, map_id, true);

	if (!s)
		return;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;
		uint64_t *k = realloc(s->keys, cap * sizeof(*k));

		if (!k)
			return;
		s->keys = k;
		s->cap = cap;
	}
	s->keys[s->n++] = key;
}

static void synth_drop(struct run *run, uint32_t map_id, uint64_t key)
{
	struct synth_keys *s = synth_of(run, map_id, false);

	if (!s || !s->n)
		return;
	for (uint32_t i = s->n; i-- > 0;)
		if (s->keys[i] == key) {
			s->keys[i] = s->keys[--s->n];
			return;
		}
}

/* One element update by key kind; returns 0 or -errno. */
static inline int elem_update(struct run *run, const struct kms_bpf_ctx *c, uint32_t map,
			      enum kms_key_kind kind, uint64_t key, uint64_t flags)
{
	bool is_new = false;
	int ret;

	if (kind == KMS_KEY_NONE)
		kind = flags == KMS_BPF_EXIST ? KMS_KEY_EXISTING : KMS_KEY_NEW;
	if (kind != KMS_KEY_ID)
		key = synth_key(run, map, kind, &is_new);
	ret = kms_bpf_map_update(run->bpf, c, map, key, (uint32_t)flags);
	if (!ret && is_new)
		synth_push(run, map, key);
	return ret;
}

/*
 * Delete one element. When the kernel says the delete worked but the model
 * has no such key, a BPF program inserted it where no trace could see: one
 * of the elements the replay made up for program activity goes instead, and
 * if there is none the kernel's answer is taken as it is (*modelled false).
 */
static int elem_delete(struct run *run, const struct kms_bpf_ctx *c, uint32_t map,
		       enum kms_key_kind kind, uint64_t key, bool pop, const struct kms_event *ev,
		       bool *modelled)
{
	bool is_new;
	int ret;

	if (kind != KMS_KEY_ID)
		key = synth_key(run, map, KMS_KEY_EXISTING, &is_new);
	ret = pop ? kms_bpf_map_lookup_and_delete(run->bpf, c, map, key)
		  : kms_bpf_map_delete(run->bpf, c, map, key);
	if (ret == -ENOENT && ev && ev->has_ret && ev->ret == 0) {
		if (kind == KMS_KEY_ID) {
			key = synth_key(run, map, KMS_KEY_EXISTING, &is_new);
			ret = pop ? kms_bpf_map_lookup_and_delete(run->bpf, c, map, key)
				  : kms_bpf_map_delete(run->bpf, c, map, key);
		}
		if (ret == -ENOENT) {
			if (modelled)
				*modelled = false;
			return 0;
		}
	}
	/* a key that was never made up is on no list (most deletes name their key) */
	if (!ret && (key & SYNTH_KEY_MASK) == SYNTH_KEY_BASE)
		synth_drop(run, map, key);
	return ret;
}

/* A result the model does not decide (lookups, queries): what the kernel said. */
static int64_t recorded(const struct kms_event *ev)
{
	return ev->has_ret ? ev->ret : 0;
}

/*
 * A call the recording kernel refused for a reason the model does not decide
 * (EINVAL for a bad attribute, EBADF for a perf event fd, EACCES from the
 * verifier, ENOTSUPP, ...: libbpf's feature probes make many of these) is
 * not applied: the model would otherwise create objects the kernel never
 * had. Refusals the model does decide -- EPERM (RLIMIT_MEMLOCK, privilege),
 * ENOMEM (memcg) and E2BIG (sizes, a full map) -- are replayed, so another
 * profile can answer differently.
 */
static bool recorded_outside_model(const struct kms_replay *r, const struct kms_event *ev)
{
	if (!ev->has_ret || ev->ret >= 0 || ev->ret == -ENOMEM || ev->ret == -E2BIG)
		return false;
	/* EPERM is a memory decision only where RLIMIT_MEMLOCK charging existed (< 5.11). */
	if (ev->ret == -EPERM)
		return !r->recorded_rlimit_era;
	return true;
}

/* The object behind a command's fd, or why there is none. */
static inline uint32_t cmd_obj(struct run *run, struct proc *p, int32_t fd, bool *modelled)
{
	uint32_t obj = fd_obj(p, fd);

	/* fd 0 in a command strace could not decode (prog_bind_map): not known. */
	if (!obj && fd == 0) {
		*modelled = false;
		return 0;
	}
	if (!obj)
		run_why(run, "fd %d is not a BPF object of pid %d here (its creation failed, or "
			"it was closed)", fd, p ? p->pid : 0);
	return obj;
}

static int64_t apply_bpf(struct kms_replay *r, struct run *run, struct proc *p,
			 const struct kms_event *ev, bool *modelled)
{
	const struct kms_ev_bpf *b = &ev->u.bpf;
	struct kms_bpf_ctx c;
	uint32_t obj;
	int ret;

	bpf_ctx_of(ev, &c);
	*modelled = true;
	if (recorded_outside_model(r, ev)) {
		*modelled = false;
		return ev->ret;
	}
	switch (b->cmd) {
	case KMS_BPF_MAP_CREATE: {
		struct kms_map_attr a = {
			.type = (enum kms_map_type)b->map_type,
			.key_size = b->key_size,
			.value_size = b->value_size,
			.max_entries = b->max_entries,
			.map_flags = b->map_flags,
			.map_extra = b->map_extra,
			.name = b->map_name,
		};

		if (b->inner_map_fd > 0 && (a.inner_map_id = fd_obj(p, b->inner_map_fd)) == 0) {
			run_why(run, "inner_map_fd %d is not a map here", b->inner_map_fd);
			return -EBADF;
		}
		if (a.inner_map_id == OBJ_FOREIGN)
			a.inner_map_id = 0;
		ret = kms_bpf_map_create(run->bpf, &c, &a);
		return ret < 0 ? ret : install_new_fd(run, p, ev, (uint32_t)ret);
	}
	case KMS_BPF_PROG_LOAD: {
		struct kms_prog_attr a = {
			.prog_type = (uint32_t)b->prog_type,
			.expected_attach_type = (uint32_t)b->expected_attach_type,
			.insn_cnt = b->insn_cnt,
			.final_insn_cnt = b->xlated_insn_cnt,
			.func_info_cnt = b->func_info_cnt,
			.line_info_cnt = b->line_info_cnt,
			.sleepable = (b->prog_flags & (1u << 4)) != 0,	/* BPF_F_SLEEPABLE */
			.name = b->prog_name,
		};

		ret = kms_bpf_prog_load(run->bpf, &c, &a);
		return ret < 0 ? ret : install_new_fd(run, p, ev, (uint32_t)ret);
	}
	case KMS_BPF_BTF_LOAD:
		ret = kms_bpf_btf_load(run->bpf, &c, b->btf_size);
		return ret < 0 ? ret : install_new_fd(run, p, ev, (uint32_t)ret);
	case KMS_BPF_OBJ_GET:
		ret = kms_bpf_obj_get_pinned(run->bpf, &c, b->pathname);
		if (ret == -ENOENT && ev->has_ret && ev->ret >= 0) {
			/* Pinned before the trace began: an object of another program. */
			*modelled = false;
			fd_install(p->files, ev->ret, OBJ_FOREIGN | FD_CLOEXEC_BIT);
			return ev->ret;
		}
		return ret < 0 ? ret : install_new_fd(run, p, ev, (uint32_t)ret);
	case KMS_BPF_MAP_GET_FD_BY_ID:
	case KMS_BPF_PROG_GET_FD_BY_ID:
	case KMS_BPF_BTF_GET_FD_BY_ID:
	case KMS_BPF_LINK_GET_FD_BY_ID: {
		struct id_map *m = id_find(run, b->id);
		uint32_t id = 0;

		if (m)
			id = m->model_id;
		else if (r->native)
			id = b->id;	/* native traces name objects by model id */
		if (id && kms_bpf_obj_get(run->bpf, id) == 0)
			return install_new_fd(run, p, ev, id);
		*modelled = false;
		if (ev->has_ret && ev->ret >= 0)
			fd_install(p->files, ev->ret, OBJ_FOREIGN | FD_CLOEXEC_BIT);
		return recorded(ev);
	}
	default:
		break;
	}

	/* Commands on an existing object. */
	switch (b->cmd) {
	case KMS_BPF_MAP_UPDATE_ELEM:
	case KMS_BPF_MAP_DELETE_ELEM:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM:
	case KMS_BPF_MAP_LOOKUP_ELEM:
	case KMS_BPF_MAP_GET_NEXT_KEY:
	case KMS_BPF_MAP_FREEZE:
	case KMS_BPF_MAP_UPDATE_BATCH:
	case KMS_BPF_MAP_DELETE_BATCH:
	case KMS_BPF_MAP_LOOKUP_BATCH:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH:
		obj = cmd_obj(run, p, b->map_fd, modelled);
		break;
	case KMS_BPF_OBJ_PIN:
		obj = cmd_obj(run, p, b->bpf_fd, modelled);
		break;
	case KMS_BPF_PROG_ATTACH:
	case KMS_BPF_PROG_DETACH:
	case KMS_BPF_LINK_CREATE:
	case KMS_BPF_RAW_TRACEPOINT_OPEN:
	case KMS_BPF_PROG_TEST_RUN:
	case KMS_BPF_PROG_BIND_MAP:
		obj = cmd_obj(run, p, b->prog_fd, modelled);
		break;
	default:
		*modelled = false;
		return recorded(ev);
	}
	if (!*modelled)
		return recorded(ev);
	if (!obj)
		return -EBADF;
	if (obj == OBJ_FOREIGN) {
		*modelled = false;
		return recorded(ev);
	}

	switch (b->cmd) {
	case KMS_BPF_MAP_UPDATE_ELEM:
		return elem_update(run, &c, obj, b->key_kind, b->key, b->flags);
	case KMS_BPF_MAP_DELETE_ELEM:
		return elem_delete(run, &c, obj, b->key_kind, b->key, false, ev, modelled);
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		return elem_delete(run, &c, obj, b->key_kind, b->key, true, ev, modelled);
	case KMS_BPF_MAP_FREEZE:
		return kms_bpf_map_freeze(run->bpf, &c, obj);
	case KMS_BPF_MAP_UPDATE_BATCH: {
		uint32_t n = b->nr_keys ? b->nr_keys : b->count;
		uint32_t done = 0;

		for (; done < n; done++) {
			ret = elem_update(run, &c, obj, b->nr_keys ? KMS_KEY_ID : KMS_KEY_NEW,
					  b->nr_keys ? b->keys[done] : 0, b->elem_flags);
			if (ret)
				return ret;
		}
		return 0;
	}
	case KMS_BPF_MAP_DELETE_BATCH:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH: {
		/* The elements the kernel reports done, or the keys the trace names. */
		uint32_t n = b->nr_keys ? b->nr_keys : (ev->has_ret ? b->count_out : b->count);

		for (uint32_t i = 0; i < n; i++) {
			ret = elem_delete(run, &c, obj, b->nr_keys ? KMS_KEY_ID : KMS_KEY_EXISTING,
					  b->nr_keys ? b->keys[i] : 0, false, NULL, NULL);
			if (ret)
				return ret;
		}
		return 0;
	}
	case KMS_BPF_OBJ_PIN:
		return kms_bpf_obj_pin(run->bpf, &c, obj, b->pathname);
	case KMS_BPF_PROG_ATTACH:
		if (!b->target) {
			*modelled = false;
			return recorded(ev);
		}
		return kms_bpf_prog_attach(run->bpf, &c, obj, b->target, (uint32_t)b->attach_type);
	case KMS_BPF_PROG_DETACH:
		if (!b->target) {
			*modelled = false;
			return recorded(ev);
		}
		return kms_bpf_prog_detach(run->bpf, &c, obj, b->target, (uint32_t)b->attach_type);
	case KMS_BPF_LINK_CREATE:
	case KMS_BPF_RAW_TRACEPOINT_OPEN:
		/* A link holds its program; a cgroup link also attaches it (cgroup storages). */
		ret = kms_bpf_link_create(run->bpf, &c, obj,
					  b->cmd == KMS_BPF_LINK_CREATE ? b->target : NULL,
					  (uint32_t)b->attach_type);
		return ret < 0 ? ret : install_new_fd(run, p, ev, (uint32_t)ret);
	case KMS_BPF_PROG_TEST_RUN:
		ret = kms_bpf_prog_test_run(run->bpf, &c, obj);
		/* The model decides only memory: a run that allocated fine returns what the kernel did. */
		return ret ? ret : recorded(ev);
	case KMS_BPF_PROG_BIND_MAP: {
		uint32_t map = cmd_obj(run, p, b->map_fd, modelled);

		if (!*modelled)
			return recorded(ev);
		if (!map)
			return -EBADF;
		if (map == OBJ_FOREIGN) {
			*modelled = false;
			return recorded(ev);
		}
		return kms_bpf_prog_bind_map(run->bpf, &c, obj, map);
	}
	default:
		/* Lookups and get_next_key change no memory: the kernel's answer stands. */
		*modelled = false;
		return recorded(ev);
	}
}

/* ---- in-kernel activity ---- */

static int64_t apply_prog(struct run *run, struct proc *p, const struct kms_event *ev)
{
	struct kms_bpf_ctx c;
	uint32_t map = 0;
	uint64_t n = ev->u.prog.nr_keys ? ev->u.prog.nr_keys : ev->u.prog.count;
	int ret = 0;

	bpf_ctx_of(ev, &c);
	c.from_prog = true;	/* a helper call, not bpf(2) */
	if (ev->u.prog.map_fd >= 0)
		map = fd_obj(p, ev->u.prog.map_fd);
	if (!map && ev->u.prog.map_id) {
		struct id_map *m = id_find(run, ev->u.prog.map_id);

		map = m ? m->model_id : ev->u.prog.map_id;
	}
	if (!map || map == OBJ_FOREIGN) {
		run_why(run, "the program's map (fd %d, id %u) is not one the model knows",
			ev->u.prog.map_fd, ev->u.prog.map_id);
		return -EBADF;
	}
	for (uint64_t i = 0; i < n; i++) {
		enum kms_key_kind kind = ev->u.prog.nr_keys ? KMS_KEY_ID : ev->u.prog.key_kind;
		uint64_t key = ev->u.prog.nr_keys ? ev->u.prog.keys[i] : 0;

		if (ev->kind == KMS_EV_PROG_UPDATE)
			ret = elem_update(run, &c, map, kind, key, ev->u.prog.flags);
		else
			ret = elem_delete(run, &c, map, kind, key, false, NULL, NULL);
		if (ret)
			return ret;
	}
	return (int64_t)n;
}

/* ---- environment ---- */

static int apply_cgroup_set(struct run *run, const struct kms_event *ev)
{
	const char *path = ev->u.cg.path;
	int err = 0;

	/* A --set limit for this cgroup replaces whatever the trace sets. */
	if (run->unlimited || cgroup_of_override(run, path))
		return 0;
	if (ev->u.cg.set_max)
		err = kms_cgroup_set_max(run->sim, path, ev->u.cg.max);
	if (!err && ev->u.cg.set_high)
		err = kms_cgroup_set_high(run->sim, path, ev->u.cg.high);
	return err;
}

static int64_t apply_fork(struct run *run, struct proc *p, const struct kms_event *ev)
{
	struct copy_arg a = { .run = run };
	struct fd_table *t;
	int err;

	/* A new thread shares everything with its process: nothing to model. */
	if (ev->u.task.thread)
		return recorded(ev);
	if (proc_find(run, ev->u.task.child))
		return -EEXIST;
	err = kms_task_fork(run->sim, ev->pid, ev->u.task.child);
	if (err)
		return err;
	if (ev->u.task.share_files) {
		t = p->files;
		fd_table_get(t);
	} else {
		t = fd_table_new();
		if (!t)
			return -ENOMEM;
		a.dst = t;
		fd_table_for_each(p->files, copy_one, &a);
	}
	if (!proc_add(run, ev->u.task.child, t))
		return -ENOMEM;
	return a.err ? a.err : recorded(ev);
}

static int64_t apply_dup(struct run *run, struct proc *p, const struct kms_event *ev,
			 bool *modelled)
{
	struct kms_bpf_ctx c;
	uint32_t slot = fd_lookup(p->files, ev->u.fd.fd);
	int64_t newfd;
	int err;

	if (!slot) {
		/* Not a BPF fd: the model has nothing to say. */
		*modelled = false;
		return recorded(ev);
	}
	if (ev->has_ret && ev->ret < 0)
		return ev->ret;
	newfd = ev->has_ret ? ev->ret : ev->u.fd.newfd >= 0 ? ev->u.fd.newfd
			    : fd_lowest_free(p->files, 0);
	if (newfd == ev->u.fd.fd)
		return newfd;
	bpf_ctx_of(ev, &c);
	obj_put(run, fd_remove(p->files, newfd), &c);
	slot = FD_OBJ(slot) | (ev->u.fd.cloexec ? FD_CLOEXEC_BIT : 0);
	if ((err = fd_install(p->files, newfd, slot)))
		return err;
	if (FD_OBJ(slot) != OBJ_FOREIGN)
		kms_bpf_obj_get(run->bpf, FD_OBJ(slot));
	return newfd;
}

static const char *op_name(struct kms_replay *r, const struct kms_event *ev)
{
	if (ev->kind != KMS_EV_BPF)
		return kms_event_kind_name(ev->kind);
	if ((uint32_t)ev->u.bpf.cmd >= CMD_NAMES)
		return kms_bpf_cmd_name(ev->u.bpf.cmd);
	if (!r->cmd_names[ev->u.bpf.cmd])
		r->cmd_names[ev->u.bpf.cmd] = kms_bpf_cmd_name(ev->u.bpf.cmd);
	return r->cmd_names[ev->u.bpf.cmd];
}

static void explain_take(struct run *run, struct kms_replay_step *step)
{
	step->explain = kms_sim_explain_take(run->sim);
}

int run_apply(struct kms_replay *r, struct run *run, const struct kms_event *ev,
	      struct kms_replay_step *step)
{
	struct kms_sim_totals before = { 0 }, after;
	uint64_t calls_before = 0;
	struct kms_bpf_ctx c;
	bool modelled = true;
	struct proc *p = NULL;
	int64_t res = 0;
	int err = 0;

	/*
	 * Time passed since the last event: RCU callbacks due by now have run
	 * (deferred element frees, uncharged one grace period after the delete).
	 * They belong to no event, so the deltas below start after them.
	 */
	kms_sim_rcu_advance(run->sim, ev->time_ns);
	/* The deltas only for a step function: nothing else reads them. */
	if (r->step_deltas) {
		before = kms_sim_totals(run->sim);
		calls_before = kms_sim_fault_calls(run->sim);
	}
	run->why[0] = '\0';
	step->ev = ev;
	step->profile = run->name;
	step->op = op_name(r, ev);
	step->applies = true;

	/* Environment events without a process first. */
	switch (ev->kind) {
	case KMS_EV_CGROUP_CREATE:
		res = kms_cgroup_create(run->sim, ev->u.cg.path);
		if (!res) {
			name_set_add(&run->cgroups, ev->u.cg.path);
			for (size_t i = 0; i < run->nr_overrides && !run->unlimited; i++)
				if (strcmp(run->overrides[i].path, ev->u.cg.path) == 0)
					res = apply_override(run, &run->overrides[i]);
		}
		goto done;
	case KMS_EV_CGROUP_REMOVE: {
		bpf_ctx_of(ev, &c);
		/*
		 * cgroup_bpf_release(): once the rmdir succeeds, programs attached
		 * to it are detached and storages freed. The BPF world finds them
		 * by the online cgroup, so release first when the rmdir will work.
		 */
		if (cgroup_removable(run, ev->u.cg.path))
			kms_bpf_cgroup_release(run->bpf, &c, ev->u.cg.path);
		res = kms_cgroup_remove(run->sim, ev->u.cg.path);
		goto done;
	}
	case KMS_EV_CGROUP_SET:
		res = apply_cgroup_set(run, ev);
		goto done;
	case KMS_EV_EXPECT:
		step->applies = false;
		err = expect_check(r, run, ev, step);
		return err;
	default:
		break;
	}

	/* A BPF program in interrupt context may run on top of no task at all. */
	if (ev->pid > 0 || ev->ctx == KMS_CTX_TASK) {
		p = proc_get(run, ev, &err);
		if (!p) {
			res = err ? err : -ESRCH;
			goto done;
		}
	}

	switch (ev->kind) {
	case KMS_EV_TASK_NEW:
		if (ev->u.task.has_cur && !run->unlimited)
			kms_task_set_rlimit_memlock(run->sim, ev->pid, ev->u.task.cur);
		break;
	case KMS_EV_FORK:
		res = apply_fork(run, p, ev);
		break;
	case KMS_EV_EXEC:
		bpf_ctx_of(ev, &c);
		close_all(run, p->files, &c, true);
		res = recorded(ev);
		break;
	case KMS_EV_TASK_MOVE:
		res = ensure_cgroup(run, ev->u.task.path);
		if (!res)
			res = kms_task_move(run->sim, ev->pid, ev->u.task.path);
		break;
	case KMS_EV_EXIT:
		if (!ev->u.task.thread) {
			bpf_ctx_of(ev, &c);
			proc_release(run, p, &c);
			kms_task_exit(run->sim, ev->pid);
		}
		modelled = false;
		res = recorded(ev);
		break;
	case KMS_EV_RLIMIT_MEMLOCK: {
		int32_t target = ev->u.task.target > 0 ? ev->u.task.target : ev->pid;

		if (ev->has_ret && ev->ret < 0) {
			/* The kernel refused the change (e.g. above the hard limit). */
			modelled = false;
			res = ev->ret;
		} else if (ev->u.task.has_cur && !run->unlimited) {
			res = kms_task_set_rlimit_memlock(run->sim, target, ev->u.task.cur);
		}
		break;
	}
	case KMS_EV_LOCKED_VM_OTHER: {
		struct kms_task_info ti;

		kms_task_read(run->sim, ev->pid, &ti);
		res = kms_user_locked_vm_other(run->sim, ti.uid, ev->u.task.pages);
		break;
	}
	case KMS_EV_CLOSE: {
		uint32_t slot = fd_remove(p->files, ev->u.fd.fd);

		if (!slot) {
			modelled = false;
			res = recorded(ev);
		} else {
			bpf_ctx_of(ev, &c);
			obj_put(run, slot, &c);
		}
		break;
	}
	case KMS_EV_DUP:
		res = apply_dup(run, p, ev, &modelled);
		break;
	case KMS_EV_BPF:
		res = apply_bpf(r, run, p, ev, &modelled);
		break;
	case KMS_EV_PROG_UPDATE:
	case KMS_EV_PROG_DELETE:
		res = apply_prog(run, p, ev);
		break;
	default:
		modelled = false;
		res = recorded(ev);
		break;
	}

done:
	/* A result the model did not decide is the kernel's, without a reason of ours. */
	if (!modelled)
		run->why[0] = '\0';
	else if (res < 0 && !run->why[0]) {
		const char *why = ev->kind == KMS_EV_BPF || ev->kind == KMS_EV_PROG_UPDATE ||
				  ev->kind == KMS_EV_PROG_DELETE ? kms_bpf_strerror(run->bpf) : "";

		if (why && *why)
			run_why(run, "%s", why);
		else
			run_why(run, "%s", strerror((int)-res));
	}
	step->result = res;
	step->why = res < 0 ? run->why : "";
	/*
	 * One delta, the call, the other: stored as a pair (two registers to
	 * memory, read back as one 16-byte load) the values would wait for
	 * the stores to finish instead of being forwarded.
	 */
	if (r->step_deltas) {
		after = kms_sim_totals(run->sim);
		step->charged_delta = (int64_t)after.root_memory_current -
				      (int64_t)before.root_memory_current;
		step->alloc_calls = kms_sim_fault_calls(run->sim) - calls_before;
		step->locked_vm_delta = (int64_t)after.locked_vm_total -
					(int64_t)before.locked_vm_total;
	}
	step->mismatch = modelled && ev->has_ret && ev->ret != res;
	step->applies = modelled;
	if (r->opts.explain)
		explain_take(run, step);

	run->summary.events++;
	if (modelled && res < 0) {
		run->summary.failed++;
		if (-res < (int64_t)(sizeof(run->summary.errors) / sizeof(run->summary.errors[0])))
			run->summary.errors[-res]++;
	}
	if (step->mismatch)
		run->summary.mismatches++;
	run->ring_seq[ev->seq % RESULT_RING] = ev->seq;
	run->ring_res[ev->seq % RESULT_RING] = res;
	run->last_seq = ev->seq;
	if (r->opts.check_invariants) {
		char why[256];

		if (kms_sim_check_invariants(run->sim, why, sizeof(why)) ||
		    kms_bpf_check_invariants(run->bpf, why, sizeof(why))) {
			snprintf(r->error, sizeof(r->error),
				 "line %" PRIu32 " (seq %" PRIu64 ", %s) under %s: %s", ev->line,
				 ev->seq, step->op, run->name, why);
			return -ECANCELED;
		}
	}
	return 0;
}
