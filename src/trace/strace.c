// SPDX-License-Identifier: MIT
/*
 * The strace importer: `strace -f -ttt [-yy] [-X verbose] -e trace=bpf,...`
 * output to events. Both of strace's renderings are read: the default
 * (BPF_MAP_TYPE_HASH, 8192*1024) and -X verbose (a number followed by its
 * name in a C comment); -yy fd annotations (3<anon_inode:bpf-map>) are
 * skipped, except a cgroup path an attach targets.
 *
 * What strace does not show is filled in as docs/trace-format.md ("Importing
 * strace logs") documents: the key of an element operation becomes what the
 * kernel's result implies (new or existing), the uid, cgroup and CPU come from
 * struct kms_strace_options.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "core/uapi_names.h"
#include "trace/reader.h"

/* clone(2) flags, include/uapi/linux/sched.h */
#define CLONE_FILES_FLAG	0x00000400u
#define CLONE_THREAD_FLAG	0x00010000u

#define QUEUE_LEN 8	/* a line gives at most three events */

struct st_task {
	int32_t pid;		/* strace's pid: the kernel's tid */
	int32_t tgid;
	bool thread;
	char *pending;		/* text of an <unfinished ...> call */
	size_t pending_len, pending_cap;
	int32_t announced;	/* child already announced for the pending clone */
	UT_hash_handle hh;
};

struct kms_strace_state {
	struct st_task *tasks;
	unsigned int nr_pending_clones;
	struct kms_event q[QUEUE_LEN];
	unsigned int qn, qi;
	char *join;		/* an unfinished call joined with its resumption */
	size_t join_cap;
	char *strs;		/* decoded strings of the current line */
	size_t strs_len, strs_cap;
	uint64_t seq, last_time;
	bool any;
	/* the current line */
	int32_t pid;
	uint64_t time_ns;
	uint32_t nr_truncated, nr_ambiguous_forks, nr_detached;
	bool notes_done;
};

/* ---- small scanners ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *skip_sp(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

static bool starts(const char *p, const char *s)
{
	return strncmp(p, s, strlen(s)) == 0;
}

/* Past a "..." string (with strace's escapes) and a "..." truncation mark. */
static const char *skip_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	if (*p == '"')
		p++;
	if (starts(p, "..."))
		p += 3;
	return p;
}

/*
 * The end of a value that starts at @p: the first ',' ')' '}' or ']' outside
 * brackets, strings, comments and <annotations>.
 */
static const char *value_end(const char *p)
{
	const char *s0 = p;
	int depth = 0, angle = 0;

	while (*p) {
		char c = *p;

		if (c == '"') {
			p = skip_string(p);
			continue;
		}
		if (c == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			p = e ? e + 2 : p + strlen(p);
			continue;
		}
		if (c == '<' && (angle || (p > s0 && is_digit(p[-1])) || p[1] == '/')) {
			angle++;
		} else if (c == '>' && angle) {
			angle--;
		} else if (!angle) {
			if (c == '(' || c == '{' || c == '[') {
				depth++;
			} else if (c == ')' || c == '}' || c == ']') {
				if (depth == 0)
					return p;
				depth--;
			} else if (c == ',' && depth == 0) {
				return p;
			}
		}
		p++;
	}
	return p;
}

/* A number at @p: decimal, 0x hex or -N, times "*N" factors. */
static bool parse_num(const char *p, int64_t *out)
{
	bool neg = *p == '-';
	uint64_t v, f;
	const char *s = p + neg, *e = s;

	if (s[0] == '0' && s[1] == 'x')
		for (e = s + 2; is_digit(*e) || (*e >= 'a' && *e <= 'f'); e++)
			;
	else
		while (is_digit(*e))
			e++;
	if (e == s || kms_parse_u64(s, (size_t)(e - s), &v))
		return false;
	while (*e == '*') {
		const char *m = ++e;

		while (is_digit(*e))
			e++;
		if (e == m || kms_parse_u64(m, (size_t)(e - m), &f) || (f && v > UINT64_MAX / f))
			return false;
		v *= f;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* ---- the arguments of one call ---- */

#define MAX_ARGS 8
#define MAX_KV 64

struct kv {
	const char *key;
	size_t klen;
	const char *val;	/* up to vend, "a => b" included */
	const char *vend;
};

struct call {
	const char *name;
	size_t nlen;
	const char *args[MAX_ARGS];
	const char *args_end[MAX_ARGS];
	unsigned int nargs;
	bool has_ret;
	int64_t ret;
	const char *ret_text;	/* after "= " */
	struct kv kv[MAX_KV];	/* key=value pairs of struct arguments, flattened */
	unsigned int nkv;
};

/* bpf_attr nests two deep ({link_create={kprobe_multi={...}}}); hostile input more */
#define MAX_NESTING 4

static void collect_kv(struct call *c, const char *p, const char *end, int depth)
{
	/* p is at '{' */
	p++;
	while (p < end && *p && *p != '}') {
		const char *k = skip_sp(p), *e;

		if (starts(k, "..."))
			return;
		e = k;
		while ((*e >= 'a' && *e <= 'z') || is_digit(*e) || *e == '_')
			e++;
		if (*e != '=' || e == k) {
			p = value_end(k);
		} else {
			const char *v = e + 1, *ve = value_end(v);

			if (*v == '{') {
				if (depth < MAX_NESTING)
					collect_kv(c, v, ve, depth + 1);
			} else if (c->nkv < MAX_KV) {
				c->kv[c->nkv].key = k;
				c->kv[c->nkv].klen = (size_t)(e - k);
				c->kv[c->nkv].val = v;
				c->kv[c->nkv].vend = ve;
				c->nkv++;
			}
			p = ve;
		}
		if (*p == ',')
			p++;
		else
			break;
	}
}

/* Split "name(args) = ret ..." into @c; false if it is not that shape. */
static bool split_call(const char *text, struct call *c, const char **bad)
{
	const char *p = text, *e;

	memset(c, 0, sizeof(*c));
	c->name = p;
	while ((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '_')
		p++;
	c->nlen = (size_t)(p - text);
	if (!c->nlen || *p != '(') {
		*bad = p;
		return false;
	}
	p++;
	while (*p != ')') {
		p = skip_sp(p);
		if (*p == ')')
			break;
		e = value_end(p);
		if (!*e) {
			*bad = e;
			return false;
		}
		if (c->nargs < MAX_ARGS) {
			c->args[c->nargs] = p;
			c->args_end[c->nargs] = e;
			c->nargs++;
		}
		if (*p == '{')
			collect_kv(c, p, e, 0);
		p = *e == ',' ? e + 1 : e;
		if (*e == '}' || *e == ']') {
			*bad = e;
			return false;
		}
	}
	p = skip_sp(p + 1);
	if (*p != '=') {
		*bad = p;
		return false;
	}
	p = skip_sp(p + 1);
	c->ret_text = p;
	if (*p == '?') {
		c->has_ret = false;
		return true;
	}
	if (!parse_num(p, &c->ret)) {
		*bad = p;
		return false;
	}
	c->has_ret = true;
	if (c->ret < -1) {
		/* strace prints every failure as -1 and the errno's name */
		*bad = p;
		return false;
	}
	if (c->ret == -1) {
		/* "= -1 EPERM (Operation not permitted)" */
		const char *en = skip_sp(p + 2), *ee = en;
		int err;

		while ((*ee >= 'A' && *ee <= 'Z') || is_digit(*ee))
			ee++;
		err = ee > en ? kms_errno_from_name(en, (size_t)(ee - en)) : -1;
		if (err > 0)
			c->ret = -err;
		else
			c->has_ret = false;	/* ERESTARTSYS & co: no result */
	}
	return true;
}

static bool name_is(const struct call *c, const char *n)
{
	return strlen(n) == c->nlen && memcmp(c->name, n, c->nlen) == 0;
}

static const struct kv *find_kv(const struct call *c, const char *key)
{
	size_t n = strlen(key);

	for (unsigned int i = 0; i < c->nkv; i++)
		if (c->kv[i].klen == n && memcmp(c->kv[i].key, key, n) == 0)
			return &c->kv[i];
	return NULL;
}

/* ---- the importer ---- */

static int fail_at(struct kms_trace_reader *r, const char *at, const char *msg)
{
	if (!(at >= r->cur && at <= r->cur + r->cur_len))
		at = NULL;
	return kms_reader_fail(r, at, "%s", msg);
}

/*
 * The kernel name at @v ("BPF_MAP_TYPE_HASH") in table @t, which holds it in
 * lower case without @prefix ("hash"): past the name, or NULL if unknown.
 */
static const char *upper_name(const char *v, const char *prefix, const struct kms_name_value *t,
			      uint64_t *out)
{
	char low[64];
	size_t n = 0;

	if (!starts(v, prefix))
		return NULL;
	for (v += strlen(prefix); (*v >= 'A' && *v <= 'Z') || is_digit(*v) || *v == '_'; v++) {
		if (n == sizeof(low))
			return NULL;
		low[n++] = (char)(*v >= 'A' && *v <= 'Z' ? *v - 'A' + 'a' : *v);
	}
	return kms_name_lookup(t, low, n, out) ? NULL : v;
}

/* A symbolic or numeric value from one of the name tables: "0x2 /\* BPF_X *\/",
 * "BPF_MAP_TYPE_HASH" or "2". */
static int sym_value(struct kms_trace_reader *r, const struct kv *kv, const char *prefix,
		     const struct kms_name_value *t, uint64_t *out)
{
	int64_t num;

	if (parse_num(kv->val, &num)) {
		if (num < 0 || kms_name_of(t, (uint64_t)num) == NULL)
			return fail_at(r, kv->val, "unknown enum value");
		*out = (uint64_t)num;
		return 0;
	}
	if (!upper_name(kv->val, prefix, t, out))
		return fail_at(r, kv->val, "unknown name");
	return 0;
}

/* "BPF_F_A|BPF_F_B", "0x400 /\* BPF_F_MMAPABLE *\/" or a number. */
static int flag_value(struct kms_trace_reader *r, const struct kv *kv, const char *prefix,
		      const struct kms_name_value *t, uint64_t *out)
{
	const char *v = kv->val, *e;
	uint64_t acc = 0, x;
	int64_t num;

	if (parse_num(v, &num)) {
		*out = (uint64_t)num;
		return 0;
	}
	for (;;) {
		e = upper_name(v, prefix, t, &x);
		if (!e)
			return fail_at(r, v, "unknown flag");
		acc |= x;
		if (*e != '|')
			break;
		v = e + 1;
	}
	*out = acc;
	return 0;
}

/* A flags field @key of table @t ("BPF_F_A|BPF_F_B" or a number); absent is 0. */
static int get_flags(struct kms_trace_reader *r, const struct call *c, const char *key,
		     const struct kms_name_value *t, uint32_t *out)
{
	const struct kv *kv = find_kv(c, key);
	uint64_t v = 0;
	int err;

	if (kv && (err = flag_value(r, kv, "BPF_F_", t, &v)))
		return err;
	if (v > UINT32_MAX)
		return fail_at(r, kv->val, "number out of range");
	*out = (uint32_t)v;
	return 0;
}

/* BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK or their numbers; absent is 0. */
static int elem_flags(struct kms_trace_reader *r, const struct kv *kv, uint64_t *out)
{
	*out = 0;
	if (!kv || starts(kv->val, "BPF_ANY"))	/* 0: not in the OR-able table */
		return 0;
	return flag_value(r, kv, "BPF_", kms_elem_flag_names, out);
}

/* An fd, a count or an id; NULL is 0. */
static int int_value(struct kms_trace_reader *r, const struct kv *kv, int64_t *out)
{
	if (starts(kv->val, "NULL")) {
		*out = 0;
		return 0;
	}
	if (!parse_num(kv->val, out))
		return fail_at(r, kv->val, "expected a number");
	return 0;
}

/* Decode a strace string into r->st->strs; truncated ones end in "...". */
static const char *str_value(struct kms_trace_reader *r, const char *v)
{
	struct kms_strace_state *st = r->st;
	char *dst = st->strs + st->strs_len, *start = dst;
	const char *p = v + 1;

	if (*v != '"')
		return NULL;
	while (*p && *p != '"') {
		char c = *p++;

		if (c == '\\' && *p) {
			char e = *p++;

			if (e >= '0' && e <= '7') {
				int x = e - '0';

				for (int i = 0; i < 2 && *p >= '0' && *p <= '7'; i++)
					x = x * 8 + (*p++ - '0');
				c = (char)x;
			} else if (e == 'x') {
				int x = 0;

				for (int i = 0; i < 2 && ((*p >= '0' && *p <= '9') ||
						       (*p >= 'a' && *p <= 'f')); i++, p++)
					x = x * 16 + (*p <= '9' ? *p - '0' : *p - 'a' + 10);
				c = (char)x;
			} else {
				c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' :
				    e == 'v' ? '\v' : e == 'f' ? '\f' : e;
			}
			if (c == '\0')
				break;	/* the C string ends here */
		}
		*dst++ = c;
	}
	if (*p == '"' && starts(p + 1, "...")) {
		memcpy(dst, "...", 3);
		dst += 3;
		st->nr_truncated++;
	}
	*dst++ = '\0';
	st->strs_len = (size_t)(dst - st->strs);
	return start;
}

static struct kms_event *push(struct kms_trace_reader *r, enum kms_event_kind kind,
			      int32_t tid)
{
	struct kms_strace_state *st = r->st;
	struct kms_event *ev = &st->q[st->qn++];
	struct st_task *t;

	kms_event_init(ev, kind);
	ev->line = r->lineno;
	ev->seq = ++st->seq;
	ev->time_ns = st->time_ns;
	HASH_FIND_INT(st->tasks, &tid, t);
	ev->tid = tid;
	ev->pid = t ? t->tgid : tid;
	ev->cpu = r->sopts.cpu;
	return ev;
}

static struct st_task *task_add(struct kms_trace_reader *r, int32_t pid, int32_t tgid,
				bool thread)
{
	struct st_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pid = pid;
	t->tgid = tgid;
	t->thread = thread;
	HASH_ADD_INT(r->st->tasks, pid, t);
	return t;
}

static void clone_flags(const struct call *c, const char *text, bool *files, bool *thread)
{
	const struct kv *kv = find_kv(c, "flags");
	const char *v = kv ? kv->val : text;
	const char *ve = kv ? kv->vend : text + strlen(text);
	int64_t n = 0;

	*files = *thread = false;
	if (kv && parse_num(v, &n)) {
		*files = n & CLONE_FILES_FLAG;
		*thread = n & CLONE_THREAD_FLAG;
	}
	for (const char *p = v; p < ve; p++) {
		if (starts(p, "CLONE_FILES"))
			*files = true;
		if (starts(p, "CLONE_THREAD"))
			*thread = true;
	}
}

static bool is_clone_call(const char *text)
{
	return starts(text, "clone(") || starts(text, "clone3(") || starts(text, "fork(") ||
	       starts(text, "vfork(");
}

/* Emit the fork of @child by @parent (once). */
static int emit_fork(struct kms_trace_reader *r, struct st_task *parent, int32_t child,
		     bool files, bool thread)
{
	struct kms_event *ev;
	struct st_task *ct;

	HASH_FIND_INT(r->st->tasks, &child, ct);
	if (ct)
		return 0;
	ct = task_add(r, child, thread ? parent->tgid : child, thread);
	if (!ct)
		return -ENOMEM;
	ev = push(r, KMS_EV_FORK, parent->pid);
	ev->u.task.child = child;
	ev->u.task.share_files = files || thread;
	ev->u.task.thread = thread;
	return 0;
}

/* The first line of a pid strace has not shown before. */
static int new_pid(struct kms_trace_reader *r, int32_t pid)
{
	struct kms_strace_state *st = r->st;
	struct st_task *t, *tmp, *parent = NULL;
	struct kms_event *ev;
	bool files, thread;
	struct call c;
	const char *bad;

	/* A child's first line can come before its parent's clone() returns. */
	HASH_ITER(hh, st->tasks, t, tmp) {
		if (t->pending && t->pending_len && is_clone_call(t->pending) && !t->announced) {
			if (parent)
				st->nr_ambiguous_forks++;
			if (!parent || t->pid < parent->pid)
				parent = t;
		}
	}
	if (parent) {
		/* the flags are in the unfinished text: close the call to parse it */
		size_t n = parent->pending_len;
		char *text = malloc(n + 6);

		if (!text)
			return -ENOMEM;
		memcpy(text, parent->pending, n);
		memcpy(text + n, ") = 0", 6);
		if (!split_call(text, &c, &bad))
			memset(&c, 0, sizeof(c));	/* the flags words are still searched */
		clone_flags(&c, text, &files, &thread);
		if (text[0] != 'c')
			files = thread = false;		/* fork, vfork */
		free(text);
		parent->announced = pid;
		return emit_fork(r, parent, pid, files, thread);
	}
	t = task_add(r, pid, pid, false);
	if (!t)
		return -ENOMEM;
	ev = push(r, KMS_EV_TASK_NEW, pid);
	ev->uid = r->sopts.uid;
	ev->cgroup = r->sopts.cgroup;
	return 0;
}

static int key_kind_for(const struct kms_trace_reader *r, enum kms_bpf_cmd cmd,
			uint64_t flags, bool has_ret, int64_t ret)
{
	if (!has_ret)
		return KMS_KEY_NONE;
	switch (cmd) {
	case KMS_BPF_MAP_UPDATE_BATCH:
		/* the elements done were all inserts or all overwrites only when
		 * elem_flags says so; BPF_ANY follows the BPF_ANY rule */
		if ((flags & 3) == KMS_BPF_EXIST)
			return KMS_KEY_EXISTING;
		if ((flags & 3) == KMS_BPF_NOEXIST || r->sopts.any_update_inserts)
			return KMS_KEY_NEW;
		return KMS_KEY_NONE;
	case KMS_BPF_MAP_DELETE_BATCH:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH:
		return KMS_KEY_EXISTING;	/* count_out elements that were there */
	case KMS_BPF_MAP_UPDATE_ELEM:
		/* 6.18 kernel/bpf/hashtab.c check_flags(): NOEXIST on a present key
		 * is -EEXIST, EXIST on an absent one -ENOENT; a full map -E2BIG. */
		if (ret == 0) {
			if ((flags & 3) == KMS_BPF_EXIST)
				return KMS_KEY_EXISTING;
			if ((flags & 3) == KMS_BPF_NOEXIST)
				return KMS_KEY_NEW;
			return r->sopts.any_update_inserts ? KMS_KEY_NEW : KMS_KEY_NONE;
		}
		if (ret == -EEXIST)
			return KMS_KEY_EXISTING;
		if (ret == -ENOENT || ret == -E2BIG)
			return KMS_KEY_NEW;
		return KMS_KEY_NONE;
	case KMS_BPF_MAP_DELETE_ELEM:
	case KMS_BPF_MAP_LOOKUP_ELEM:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		if (ret == 0)
			return KMS_KEY_EXISTING;
		if (ret == -ENOENT)
			return KMS_KEY_NEW;
		return KMS_KEY_NONE;
	default:
		return KMS_KEY_NONE;
	}
}

static int get_i32(struct kms_trace_reader *r, const struct call *c, const char *key,
		   int32_t *out)
{
	const struct kv *kv = find_kv(c, key);
	int64_t v;
	int err;

	if (!kv)
		return 0;
	err = int_value(r, kv, &v);
	if (err)
		return err;
	if (v < INT32_MIN || v > UINT32_MAX)
		return fail_at(r, kv->val, "number out of range");
	*out = (int32_t)v;
	return 0;
}

static int get_u32(struct kms_trace_reader *r, const struct call *c, const char *key,
		   uint32_t *out)
{
	return get_i32(r, c, key, (int32_t *)out);
}

/* A -yy annotation naming a cgroup directory: "5</sys/fs/cgroup/a/b>" -> "/a/b". */
static const char *annotated_cgroup(struct kms_trace_reader *r, const struct kv *kv)
{
	const char *root = r->sopts.cgroup_root, *p, *lt = NULL;
	size_t rl = strlen(root), n;
	char *dst;

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	for (p = kv->val; p < kv->vend; p++)
		if (*p == '<') {
			lt = p + 1;
			break;
		}
	if (!lt || strncmp(lt, root, rl) != 0 || (lt[rl] != '/' && lt[rl] != '>'))
		return NULL;
	lt += rl;
	for (p = lt; p < kv->vend && *p != '>'; p++)
		;
	n = (size_t)(p - lt);
	dst = r->st->strs + r->st->strs_len;
	if (n == 0) {
		dst[0] = '/';
		n = 1;
	} else {
		memcpy(dst, lt, n);
	}
	dst[n] = '\0';
	r->st->strs_len += n + 1;
	return dst;
}

static int bpf_call(struct kms_trace_reader *r, int32_t tid, const struct call *c)
{
	struct kms_ev_bpf *b;
	struct kms_event *ev;
	const char *a0 = c->args[0];
	const struct kv *kv;
	uint64_t u;
	int64_t n;
	int err = 0;

	if (c->nargs < 1)
		return fail_at(r, c->name, "bpf() without arguments");
	/* "BPF_MAP_CREATE" or "0 /\* BPF_MAP_CREATE *\/" or a bare number */
	if (parse_num(a0, &n)) {
		if (n < 0 || n >= KMS_NR_BPF_CMDS)
			return fail_at(r, a0, "unknown bpf command number");
		u = (uint64_t)n;
	} else {
		struct kv k = { NULL, 0, a0, c->args_end[0] };

		err = sym_value(r, &k, "BPF_", kms_bpf_cmd_names, &u);
		if (err)
			return err;
	}
	ev = push(r, KMS_EV_BPF, tid);
	b = &ev->u.bpf;
	b->cmd = (enum kms_bpf_cmd)u;
	ev->has_ret = c->has_ret;
	ev->ret = c->ret;

	switch (b->cmd) {
	case KMS_BPF_MAP_CREATE:
		kv = find_kv(c, "map_type");
		if (kv && (err = sym_value(r, kv, "BPF_MAP_TYPE_", kms_map_type_names, &u)))
			return err;
		b->map_type = kv ? (enum kms_map_type)u : KMS_MAP_TYPE_UNSPEC;
		kv = find_kv(c, "map_flags");
		if (kv && (err = flag_value(r, kv, "BPF_F_", kms_map_flag_names, &u)))
			return err;
		b->map_flags = kv ? (uint32_t)u : 0;
		kv = find_kv(c, "map_name");
		b->map_name = kv ? str_value(r, kv->val) : NULL;
		if ((err = get_u32(r, c, "key_size", &b->key_size)) ||
		    (err = get_u32(r, c, "value_size", &b->value_size)) ||
		    (err = get_u32(r, c, "max_entries", &b->max_entries)) ||
		    (err = get_i32(r, c, "inner_map_fd", &b->inner_map_fd)) ||
		    (err = get_u32(r, c, "numa_node", &b->numa_node)) ||
		    (err = get_u32(r, c, "map_ifindex", &b->map_ifindex)) ||
		    (err = get_i32(r, c, "btf_fd", &b->btf_fd)) ||
		    (err = get_u32(r, c, "btf_key_type_id", &b->btf_key_type_id)) ||
		    (err = get_u32(r, c, "btf_value_type_id", &b->btf_value_type_id)) ||
		    (err = get_u32(r, c, "btf_vmlinux_value_type_id",
				   &b->btf_vmlinux_value_type_id)))
			return err;
		kv = find_kv(c, "map_extra");
		if (kv && (err = int_value(r, kv, &n)))
			return err;
		b->map_extra = kv ? (uint64_t)n : 0;
		break;
	case KMS_BPF_MAP_LOOKUP_ELEM:
	case KMS_BPF_MAP_UPDATE_ELEM:
	case KMS_BPF_MAP_DELETE_ELEM:
	case KMS_BPF_MAP_GET_NEXT_KEY:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		if ((err = get_i32(r, c, "map_fd", &b->map_fd)))
			return err;
		if ((err = elem_flags(r, find_kv(c, "flags"), &b->flags)))
			return err;
		b->key_kind = (enum kms_key_kind)key_kind_for(r, b->cmd, b->flags, c->has_ret,
							      c->ret);
		break;
	case KMS_BPF_MAP_LOOKUP_BATCH:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case KMS_BPF_MAP_UPDATE_BATCH:
	case KMS_BPF_MAP_DELETE_BATCH:
		if ((err = get_i32(r, c, "map_fd", &b->map_fd)) ||
		    (err = get_u32(r, c, "count", &b->count)))
			return err;
		/* the kernel writes the count done back: "{batch={...}} => {batch={count=1}}" */
		if (c->nargs > 1) {
			const char *o = strstr(c->args[1], "} => {");

			o = o && o < c->args_end[1] ? strstr(o, "count=") : NULL;
			/* strace prints "=> " only for a value that changed */
			if (o && o < c->args_end[1] && parse_num(o + 6, &n))
				b->count_out = (uint32_t)n;
			else if (c->has_ret)
				b->count_out = b->count;
		}
		b->key_kind = (enum kms_key_kind)key_kind_for(r, b->cmd, b->elem_flags,
							      c->has_ret, 0);
		if ((err = elem_flags(r, find_kv(c, "elem_flags"), &b->elem_flags)))
			return err;
		break;
	case KMS_BPF_MAP_FREEZE:
		err = get_i32(r, c, "map_fd", &b->map_fd);
		break;
	case KMS_BPF_PROG_LOAD:
		kv = find_kv(c, "prog_type");
		if (kv && (err = sym_value(r, kv, "BPF_PROG_TYPE_", kms_prog_type_names, &u)))
			return err;
		b->prog_type = kv ? (enum kms_prog_type)u : KMS_PROG_TYPE_UNSPEC;
		kv = find_kv(c, "expected_attach_type");
		if (kv && (err = sym_value(r, kv, "BPF_", kms_attach_type_names, &u)))
			return err;
		b->expected_attach_type = kv ? (enum kms_attach_type)u : 0;
		kv = find_kv(c, "prog_name");
		b->prog_name = kv ? str_value(r, kv->val) : NULL;
		err = get_flags(r, c, "prog_flags", kms_prog_flag_names, &b->prog_flags);
		if (!err)
			err = get_u32(r, c, "insn_cnt", &b->insn_cnt);
		if (!err)
			err = get_u32(r, c, "func_info_cnt", &b->func_info_cnt);
		if (!err)
			err = get_u32(r, c, "line_info_cnt", &b->line_info_cnt);
		if (!err)
			err = get_i32(r, c, "prog_btf_fd", &b->prog_btf_fd);
		if (!err)
			err = get_u32(r, c, "attach_btf_id", &b->attach_btf_id);
		if (!err)
			err = get_i32(r, c, "attach_prog_fd", &b->attach_prog_fd);
		break;
	case KMS_BPF_BTF_LOAD:
		err = get_u32(r, c, "btf_size", &b->btf_size);
		break;
	case KMS_BPF_OBJ_PIN:
	case KMS_BPF_OBJ_GET:
		kv = find_kv(c, "pathname");
		b->pathname = kv ? str_value(r, kv->val) : NULL;
		if (b->cmd == KMS_BPF_OBJ_PIN)
			err = get_i32(r, c, "bpf_fd", &b->bpf_fd);
		if (!err)
			err = get_flags(r, c, "file_flags", kms_map_flag_names, &b->file_flags);
		break;
	case KMS_BPF_OBJ_GET_INFO_BY_FD:
		err = get_i32(r, c, "bpf_fd", &b->bpf_fd);
		break;
	case KMS_BPF_LINK_CREATE:
	case KMS_BPF_PROG_ATTACH:
	case KMS_BPF_PROG_DETACH:
		kv = find_kv(c, "attach_type");
		if (kv && (err = sym_value(r, kv, "BPF_", kms_attach_type_names, &u)))
			return err;
		b->attach_type = kv ? (enum kms_attach_type)u : 0;
		err = get_i32(r, c, b->cmd == KMS_BPF_LINK_CREATE ? "prog_fd" : "attach_bpf_fd",
			      &b->prog_fd);
		if (!err)
			err = get_i32(r, c, "target_fd", &b->target_fd);
		kv = find_kv(c, "target_fd");
		if (kv)
			b->target = annotated_cgroup(r, kv);
		if (!err && b->cmd != KMS_BPF_LINK_CREATE)
			err = get_flags(r, c, "attach_flags", kms_attach_flag_names,
					&b->attach_flags);
		if (!err && b->cmd == KMS_BPF_LINK_CREATE) {
			uint32_t f = 0;

			err = get_flags(r, c, "flags", kms_attach_flag_names, &f);
			b->flags = f;
		}
		break;
	case KMS_BPF_PROG_GET_FD_BY_ID:
		err = get_u32(r, c, "prog_id", &b->id);
		break;
	case KMS_BPF_MAP_GET_FD_BY_ID:
		err = get_u32(r, c, "map_id", &b->id);
		break;
	case KMS_BPF_BTF_GET_FD_BY_ID:
		err = get_u32(r, c, "btf_id", &b->id);
		break;
	case KMS_BPF_LINK_GET_FD_BY_ID:
		err = get_u32(r, c, "link_id", &b->id);
		break;
	case KMS_BPF_PROG_BIND_MAP:
		err = get_i32(r, c, "prog_fd", &b->prog_fd);
		if (!err)
			err = get_i32(r, c, "map_fd", &b->map_fd);
		break;
	case KMS_BPF_PROG_TEST_RUN:
	case KMS_BPF_RAW_TRACEPOINT_OPEN:
		err = get_i32(r, c, "prog_fd", &b->prog_fd);
		break;
	default:
		break;
	}
	if (!err && (b->cmd == KMS_BPF_PROG_GET_FD_BY_ID || b->cmd == KMS_BPF_MAP_GET_FD_BY_ID ||
		     b->cmd == KMS_BPF_BTF_GET_FD_BY_ID || b->cmd == KMS_BPF_LINK_GET_FD_BY_ID))
		err = get_flags(r, c, "open_flags", kms_map_flag_names, &b->open_flags);
	return err;
}

/* Argument @i: an fd, a pid or a command, so an int. */
static int arg_int(struct kms_trace_reader *r, const struct call *c, unsigned int i,
		   int64_t *out)
{
	if (i >= c->nargs || !parse_num(c->args[i], out))
		return fail_at(r, i < c->nargs ? c->args[i] : c->name, "expected a number");
	if (*out < INT32_MIN || *out > INT32_MAX)
		return fail_at(r, c->args[i], "number out of range");
	return 0;
}

static bool arg_has(const struct call *c, unsigned int i, const char *word)
{
	size_t n = strlen(word);

	if (i >= c->nargs)
		return false;
	for (const char *p = c->args[i]; p + n <= c->args_end[i]; p++)
		if (memcmp(p, word, n) == 0 && !(p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z')))
			return true;
	return false;
}

static int rlimit_value(struct kms_trace_reader *r, const struct kv *kv, uint64_t *out)
{
	int64_t n;

	if (starts(kv->val, "RLIM64_INFINITY") || starts(kv->val, "RLIM_INFINITY")) {
		*out = KMS_TRACE_UNLIMITED;
		return 0;
	}
	if (!parse_num(kv->val, &n))
		return fail_at(r, kv->val, "expected a limit");
	*out = (uint64_t)n;
	return 0;
}

/* prlimit64(pid, RLIMIT_MEMLOCK, new, old) and setrlimit(RLIMIT_MEMLOCK, new). */
static int rlimit_call(struct kms_trace_reader *r, int32_t tid, const struct call *c, bool pr)
{
	unsigned int res = pr ? 1 : 0, newi = res + 1;
	int64_t target = 0, resnum;
	const struct kv *cur, *max;
	struct kms_event *ev;
	struct call sub;
	int err;

	if (c->nargs <= newi)
		return 0;
	if (!arg_has(c, res, "RLIMIT_MEMLOCK") &&
	    !(parse_num(c->args[res], &resnum) && resnum == 8 /* RLIMIT_MEMLOCK */))
		return 0;
	if (starts(c->args[newi], "NULL") || c->args[newi][0] != '{')
		return 0;	/* a query */
	if (pr && (err = arg_int(r, c, 0, &target)))
		return err;
	/* the new limit's fields: collect them from that argument alone */
	memset(&sub, 0, sizeof(sub));
	collect_kv(&sub, c->args[newi], c->args_end[newi], 0);
	cur = find_kv(&sub, "rlim_cur");
	max = find_kv(&sub, "rlim_max");
	ev = push(r, KMS_EV_RLIMIT_MEMLOCK, tid);
	ev->has_ret = c->has_ret;
	ev->ret = c->ret;
	ev->u.task.target = (int32_t)target;
	if (cur) {
		ev->u.task.has_cur = true;
		if ((err = rlimit_value(r, cur, &ev->u.task.cur)))
			return err;
	}
	if (max) {
		ev->u.task.has_max = true;
		if ((err = rlimit_value(r, max, &ev->u.task.max)))
			return err;
	}
	if (!cur && !max)
		return fail_at(r, c->args[newi], "expected {rlim_cur=..., rlim_max=...}");
	return 0;
}

static bool wanted_call(const char *text)
{
	static const char *const names[] = {
		"bpf", "close", "dup", "dup2", "dup3", "fcntl", "fcntl64", "clone", "clone3",
		"fork", "vfork", "execve", "execveat", "prlimit64", "setrlimit",
	};
	size_t n = strcspn(text, "(");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && memcmp(names[i], text, n) == 0)
			return true;
	return false;
}

static int handle_call(struct kms_trace_reader *r, struct st_task *t, const char *text)
{
	struct kms_event *ev;
	const char *bad = text;
	struct call c;
	int64_t a, b;
	int err;

	/* calls the model does not need are skipped unread: their many
	 * renderings are no reason to refuse a log */
	if (!wanted_call(text))
		return 0;
	if (!split_call(text, &c, &bad))
		return fail_at(r, bad, "malformed system call (expected 'name(args) = result')");
	if (name_is(&c, "bpf"))
		return bpf_call(r, t->pid, &c);
	if (name_is(&c, "close")) {
		if ((err = arg_int(r, &c, 0, &a)))
			return err;
		ev = push(r, KMS_EV_CLOSE, t->pid);
		ev->u.fd.fd = (int32_t)a;
		ev->has_ret = c.has_ret;
		ev->ret = c.ret;
		return 0;
	}
	if (name_is(&c, "dup") || name_is(&c, "dup2") || name_is(&c, "dup3") ||
	    name_is(&c, "fcntl") || name_is(&c, "fcntl64")) {
		bool fcntl = c.name[0] == 'f';
		bool cloexec = false;

		if (fcntl) {
			if (c.nargs < 2)
				return fail_at(r, c.name, "fcntl() without a command");
			if (arg_has(&c, 1, "F_DUPFD_CLOEXEC") ||
			    (parse_num(c.args[1], &b) && b == 1030))
				cloexec = true;
			else if (!arg_has(&c, 1, "F_DUPFD") &&
				 !(parse_num(c.args[1], &b) && b == 0))
				return 0;	/* not a dup */
		}
		if ((err = arg_int(r, &c, 0, &a)))
			return err;
		ev = push(r, KMS_EV_DUP, t->pid);
		ev->u.fd.fd = (int32_t)a;
		ev->u.fd.newfd = -1;
		if (!fcntl && c.nargs >= 2) {
			if ((err = arg_int(r, &c, 1, &b)))
				return err;
			ev->u.fd.newfd = (int32_t)b;
		}
		ev->u.fd.cloexec = cloexec || arg_has(&c, 2, "O_CLOEXEC");
		ev->has_ret = c.has_ret;
		ev->ret = c.ret;
		return 0;
	}
	if (name_is(&c, "clone") || name_is(&c, "clone3") || name_is(&c, "fork") ||
	    name_is(&c, "vfork")) {
		bool files, thread;

		if (!c.has_ret || c.ret <= 0)
			return 0;
		if (c.ret > INT32_MAX)
			return fail_at(r, c.ret_text, "pid out of range");
		clone_flags(&c, text, &files, &thread);
		if (c.name[0] != 'c')
			files = thread = false;
		return emit_fork(r, t, (int32_t)c.ret, files, thread);
	}
	if (name_is(&c, "execve") || name_is(&c, "execveat")) {
		unsigned int pi = c.name[6] == 'a' ? 1 : 0;

		if (!c.has_ret || c.ret != 0)
			return 0;
		ev = push(r, KMS_EV_EXEC, t->pid);
		ev->u.task.path = pi < c.nargs ? str_value(r, c.args[pi]) : NULL;
		return 0;
	}
	if (name_is(&c, "prlimit64"))
		return rlimit_call(r, t->pid, &c, true);
	if (name_is(&c, "setrlimit"))
		return rlimit_call(r, t->pid, &c, false);
	return 0;
}

/* "+++ exited with 0 +++", "+++ killed by SIGKILL +++" */
static int handle_exit(struct kms_trace_reader *r, struct st_task *t, const char *p)
{
	struct kms_event *ev;
	int64_t status = 0;

	if (starts(p, "+++ exited with ")) {
		if (!parse_num(p + 16, &status))
			return fail_at(r, p + 16, "expected an exit status");
	} else if (starts(p, "+++ killed by ")) {
		status = 128 + 9;	/* the shell's convention; the signal is not modelled */
	} else if (starts(p, "+++ superseded by execve")) {
		return 0;
	} else {
		return fail_at(r, p, "unknown '+++' line");
	}
	ev = push(r, KMS_EV_EXIT, t->pid);
	ev->u.task.status = (int32_t)status;
	ev->u.task.thread = t->thread;
	/* forget the task: memory follows live tasks, and a reused pid is new */
	HASH_DEL(r->st->tasks, t);
	free(t->pending);
	free(t);
	return 0;
}

static int pending_set(struct st_task *t, const char *text, size_t n)
{
	if (n + 1 > t->pending_cap) {
		char *p = realloc(t->pending, n + 1);

		if (!p)
			return -ENOMEM;
		t->pending = p;
		t->pending_cap = n + 1;
	}
	memcpy(t->pending, text, n);
	t->pending[n] = '\0';
	t->pending_len = n;
	t->announced = 0;
	return 0;
}

/* The "PID TIME " prefix (pid and time each optional). */
static const char *parse_prefix(const char *p, int64_t *pid,
				bool *has_time, uint64_t *time_ns)
{
	const char *s = p;

	*pid = 0;
	*has_time = false;
	if (starts(p, "[pid ")) {
		p = skip_sp(p + 5);
		if (!parse_num(p, pid))
			return NULL;
		while (is_digit(*p))
			p++;
		if (*p++ != ']')
			return NULL;
		p = skip_sp(p);
	} else if (is_digit(*p)) {
		s = p;
		while (is_digit(*p))
			p++;
		if (*p == ' ') {
			if (!parse_num(s, pid))
				return NULL;
			p = skip_sp(p);
		} else {
			p = s;
		}
	}
	if (is_digit(*p)) {
		/* -ttt: 1795751100.375718; -tt: 12:34:56.789012 */
		const uint64_t max_sec = UINT64_MAX / 1000000000ull - 1;
		uint64_t sec = 0, part, frac = 0;
		unsigned int nd = 0;

		for (;;) {
			s = p;
			while (is_digit(*p))
				p++;
			if (p == s || kms_parse_u64(s, (size_t)(p - s), &part) ||
			    sec > max_sec / 60 || part > max_sec - sec * 60)
				return NULL;
			sec = sec * 60 + part;
			if (*p != ':')
				break;
			p++;
		}
		if (*p == '.') {
			for (p++; is_digit(*p); p++, nd++)
				if (nd < 9)
					frac = frac * 10 + (uint64_t)(*p - '0');
			for (; nd < 9; nd++)
				frac *= 10;
		}
		if (*p != ' ')
			return NULL;
		*has_time = true;
		*time_ns = sec * 1000000000ull + frac;
		p = skip_sp(p);
	}
	return p;
}

static int process_line(struct kms_trace_reader *r)
{
	struct kms_strace_state *st = r->st;
	const char *p, *body;
	int64_t pid;
	bool has_time;
	uint64_t t_ns = 0;
	struct st_task *t;
	size_t need = r->cur_len * 2 + 64;
	int err;

	p = skip_sp(r->cur);
	if (*p == '\0')
		return 0;
	body = parse_prefix(p, &pid, &has_time, &t_ns);
	if (!body || pid < 0 || pid > INT32_MAX)
		return fail_at(r, p, "expected an strace line: [PID] [TIME] call(...) = result");
	if (!has_time)
		t_ns = st->time_ns + 1000;
	st->time_ns = t_ns < st->last_time ? st->last_time : t_ns;
	st->last_time = st->time_ns;
	if (pid == 0)
		pid = 1;	/* strace without -f: one process */
	st->pid = (int32_t)pid;

	/* decoded strings never outgrow the raw text */
	st->strs_len = 0;
	if (st->strs_cap < need + st->join_cap) {
		char *s = realloc(st->strs, need + st->join_cap);

		if (!s)
			return -ENOMEM;
		st->strs = s;
		st->strs_cap = need + st->join_cap;
	}

	if (starts(body, "--- ") || starts(body, "strace: "))
		return 0;	/* a signal, or a message of strace itself */
	HASH_FIND_INT(st->tasks, &st->pid, t);
	if (!t) {
		err = new_pid(r, st->pid);
		if (err)
			return err;
		HASH_FIND_INT(st->tasks, &st->pid, t);
	}
	if (starts(body, "+++ "))
		return handle_exit(r, t, body);
	if (starts(body, "<... ")) {
		const char *rest = strstr(body, " resumed>");
		size_t n;

		if (!rest)
			return fail_at(r, body, "expected '<... NAME resumed>'");
		rest += 9;
		if (!t->pending_len)
			return fail_at(r, body, "a call resumed that was not unfinished");
		n = t->pending_len + strlen(rest);
		if (n + 1 > st->join_cap) {
			char *j = realloc(st->join, n + 1);

			if (!j)
				return -ENOMEM;
			st->join = j;
			st->join_cap = n + 1;
			j = realloc(st->strs, need + st->join_cap);
			if (!j)
				return -ENOMEM;
			st->strs = j;
			st->strs_cap = need + st->join_cap;
		}
		memcpy(st->join, t->pending, t->pending_len);
		strcpy(st->join + t->pending_len, rest);
		t->pending_len = 0;
		if (is_clone_call(st->join) && st->nr_pending_clones)
			st->nr_pending_clones--;
		return handle_call(r, t, st->join);
	}
	{
		const char *e = body;

		while ((*e >= 'a' && *e <= 'z') || is_digit(*e) || *e == '_')
			e++;
		if (e == body || *e != '(')
			return fail_at(r, body, "expected an strace line: [PID] [TIME] "
				       "call(...) = result");
	}
	{
		const char *u = strstr(body, " <unfinished ...>");
		const char *d = strstr(body, " <detached ...>");

		/* strace let go of the task mid-call: the result is not known */
		if (d && d[15] == '\0') {
			st->nr_detached++;
			return 0;
		}

		if (u && u[17] == '\0') {
			err = pending_set(t, body, (size_t)(u - body));
			if (err)
				return err;
			if (is_clone_call(body))
				st->nr_pending_clones++;
			return 0;
		}
	}
	return handle_call(r, t, body);
}

bool kms_strace_is_line(const char *line)
{
	const char *p = line;

	while (*p == ' ')
		p++;
	if (starts(p, "[pid ")) {
		p += 5;
		while (*p == ' ' || is_digit(*p))
			p++;
		if (*p++ != ']')
			return false;
		p = skip_sp(p);
	}
	/* PID, then TIME, each optional */
	for (int i = 0; i < 2 && is_digit(*p); i++) {
		while (is_digit(*p) || *p == '.' || *p == ':')
			p++;
		if (*p != ' ')
			return false;
		p = skip_sp(p);
	}
	if (starts(p, "+++ ") || starts(p, "--- ") || starts(p, "<... "))
		return true;
	if (!(*p >= 'a' && *p <= 'z'))
		return false;
	while ((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '_')
		p++;
	return *p == '(';
}

int kms_strace_init(struct kms_trace_reader *r)
{
	char buf[1024];

	r->st = calloc(1, sizeof(*r->st));
	if (!r->st)
		return -ENOMEM;
	snprintf(buf, sizeof(buf),
		 "imported from strace: facts strace does not record were assumed:\n"
		 "  every task starts with uid=%u in cgroup %s, events on cpu %u, task context\n"
		 "  element keys: strace shows only a pointer; a key is 'new' (not in the map)\n"
		 "  or 'existing' as the kernel's result implies; a successful BPF_ANY\n"
		 "  update is %s\n"
		 "  RLIMIT_MEMLOCK: the replay's default until a prlimit64/setrlimit sets it\n"
		 "  in-kernel map updates by BPF programs are not in an strace log",
		 r->sopts.uid, r->sopts.cgroup, r->sopts.cpu,
		 r->sopts.any_update_inserts ? "assumed an insert of a new key (an upper bound)" :
		 "left unknown");
	r->assumptions = strdup(buf);
	return r->assumptions ? 0 : -ENOMEM;
}

void kms_strace_fini(struct kms_trace_reader *r)
{
	struct kms_strace_state *st = r->st;
	struct st_task *t, *tmp;

	if (!st)
		return;
	HASH_ITER(hh, st->tasks, t, tmp) {
		HASH_DEL(st->tasks, t);
		free(t->pending);
		free(t);
	}
	free(st->join);
	free(st->strs);
	free(st);
	r->st = NULL;
}

/* At the end: what the importer had to guess while reading. */
static int add_notes(struct kms_trace_reader *r)
{
	struct kms_strace_state *st = r->st;
	char buf[512];
	size_t n = 0;

	if (st->notes_done)
		return 0;
	st->notes_done = true;
	if (st->nr_truncated)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "%u strings were cut by strace -s and end in '...'; "
				      "record with a larger -s\n", st->nr_truncated);
	if (st->nr_ambiguous_forks)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "%u new tasks appeared while several clones were "
				      "unfinished; each was given to the lowest pid's\n",
				      st->nr_ambiguous_forks);
	if (st->nr_detached)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "%u calls were cut by strace detaching (<detached ...>) "
				      "and left out\n", st->nr_detached);
	if (n) {
		free(r->notes);
		r->notes = strdup(buf);
		if (!r->notes)
			return -ENOMEM;
	}
	return 0;
}

int kms_strace_read_next(struct kms_trace_reader *r, struct kms_event *ev)
{
	struct kms_strace_state *st = r->st;
	int ret;

	while (st->qi == st->qn) {
		st->qi = st->qn = 0;
		ret = kms_reader_next_line(r);
		if (ret == 0)
			return add_notes(r);
		if (ret < 0)
			return ret;
		ret = process_line(r);
		if (ret < 0) {
			st->qi = st->qn = 0;
			return ret;
		}
	}
	*ev = st->q[st->qi++];
	return 1;
}
