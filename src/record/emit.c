// SPDX-License-Identifier: MIT
/*
 * What the recorder saw, as native trace events (docs/trace-format.md),
 * written by the trace library's writer. Times are seconds since the
 * recording started (the start date is in a header comment). Facts the format
 * has no field for (the kernel's object ids, fdinfo memlock, the prog's
 * verified length when it cannot be a field) go into '#' comment lines after
 * the event, where people and the validation scripts can read them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include <linux/bpf.h>

#include "kmemsim/trace.h"
#include "record/emit.h"

static void put(struct rec_emit *e, struct kms_event *ev)
{
	int err;

	ev->seq = ++e->seq;
	err = kms_trace_write_event(e->f, ev);
	if (err && !e->err)
		e->err = err;
}

static void event_init(struct kms_event *ev, enum kms_event_kind kind, const struct rec_ctx *c)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->time_ns = (uint64_t)(c->t * 1e9 + 0.5);
	ev->pid = c->pid;
	ev->tid = c->tid;
	ev->uid = c->uid;
	ev->cpu = c->cpu < 0 ? 0 : (uint32_t)c->cpu;
	ev->ctx = KMS_CTX_TASK;
	/* "?" when /proc could not say: the task's cgroup, as the format allows */
	ev->cgroup = c->cgroup[0] == '/' ? c->cgroup : NULL;
}

void rec_emit_comment(struct rec_emit *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (kms_trace_write_comment(e->f, buf) && !e->err)
		e->err = -EIO;
}

void rec_emit_header(struct rec_emit *e, const struct rec_header *h)
{
	struct kms_trace_header th = { .version = KMS_TRACE_FORMAT_VERSION,
				       .kernel = h->kernel_release,
				       .page_size = h->page_size,
				       .nr_cpus = h->nr_possible_cpus };
	char cmd[768];
	size_t n = 0;

	rec_emit_comment(e, "recorded by kmemsim record on %s; times are seconds since then",
			 h->started_utc);
	for (char *const *a = h->argv; *a && n < sizeof(cmd); a++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", n ? " " : "", *a);
	rec_emit_comment(e, "command: %s", cmd);
	rec_emit_comment(e, "possible CPUs %s", h->possible_cpus);
	if (h->sample_ms == UINT32_MAX) {
		rec_emit_comment(e, "map element counts were not sampled");
	} else {
		char when[48] = "";

		if (h->sample_ms)
			snprintf(when, sizeof(when), "every %u ms and ", h->sample_ms);
		rec_emit_comment(e, "prog_update/prog_delete: element count changes of the "
				 "command's hash-type maps that its bpf(2) calls do not explain, "
				 "found by sampling the counts by map id %swhen a process exits; "
				 "the CPU, context and interrupted task are not known (pid is the "
				 "map's creator or, once it exited, a live process of the command; "
				 "cpu and ctx are defaults)", when);
	}
	if (kms_trace_write_header(e->f, &th) && !e->err)
		e->err = -EIO;
}

void rec_emit_cgroup(struct rec_emit *e, const struct rec_ctx *c, const char *path,
		     uint64_t max, uint64_t high)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_CGROUP_CREATE, c);
	ev.cgroup = NULL;
	ev.u.cg.path = path;
	put(e, &ev);
	if (max == UINT64_MAX && high == UINT64_MAX)
		return;
	event_init(&ev, KMS_EV_CGROUP_SET, c);
	ev.cgroup = NULL;
	ev.u.cg.path = path;
	ev.u.cg.set_max = max != UINT64_MAX;
	ev.u.cg.max = max;
	ev.u.cg.set_high = high != UINT64_MAX;
	ev.u.cg.high = high;
	put(e, &ev);
}

void rec_emit_task(struct rec_emit *e, const struct rec_ctx *c, uint64_t memlock_cur,
		   uint64_t memlock_max)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_TASK_NEW, c);
	ev.u.task.has_cur = ev.u.task.has_max = true;
	/* RLIM_INFINITY is all ones, as KMS_TRACE_UNLIMITED */
	ev.u.task.cur = memlock_cur;
	ev.u.task.max = memlock_max;
	put(e, &ev);
}

void rec_emit_fork(struct rec_emit *e, const struct rec_ctx *parent, pid_t child_tid,
		   bool thread, bool share_files)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_FORK, parent);
	ev.u.task.child = child_tid;
	ev.u.task.thread = thread;
	ev.u.task.share_files = share_files;
	put(e, &ev);
}

void rec_emit_exec(struct rec_emit *e, const struct rec_ctx *c, const char *path)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_EXEC, c);
	ev.u.task.path = path && *path ? path : NULL;
	put(e, &ev);
}

void rec_emit_exit(struct rec_emit *e, const struct rec_ctx *c, int wait_status, bool thread)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_EXIT, c);
	/* a signal is written as the shell writes it, as the strace importer does */
	ev.u.task.status = WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) :
						      WEXITSTATUS(wait_status);
	ev.u.task.thread = thread;
	put(e, &ev);
}

void rec_emit_rlimit(struct rec_emit *e, const struct rec_ctx *c, pid_t target,
		     uint64_t cur, uint64_t max, long ret)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_RLIMIT_MEMLOCK, c);
	ev.u.task.target = target;
	ev.u.task.has_cur = ev.u.task.has_max = true;
	ev.u.task.cur = cur;
	ev.u.task.max = max;
	ev.has_ret = true;
	ev.ret = ret;
	put(e, &ev);
}

void rec_emit_close(struct rec_emit *e, const struct rec_ctx *c, int fd, long ret)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_CLOSE, c);
	ev.u.fd.fd = fd;
	ev.has_ret = true;
	ev.ret = ret;
	put(e, &ev);
}

void rec_emit_dup(struct rec_emit *e, const struct rec_ctx *c, int fd, int newfd, bool cloexec,
		  long ret)
{
	struct kms_event ev;

	event_init(&ev, KMS_EV_DUP, c);
	ev.u.fd.fd = fd;
	ev.u.fd.newfd = newfd;
	ev.u.fd.cloexec = cloexec;
	ev.has_ret = true;
	ev.ret = ret;
	put(e, &ev);
}

/* A name from union bpf_attr (not necessarily NUL-terminated), NULL if empty. */
static const char *obj_name(char *buf, const char *name)
{
	memcpy(buf, name, BPF_OBJ_NAME_LEN);
	buf[BPF_OBJ_NAME_LEN] = '\0';
	return buf[0] ? buf : NULL;
}

static void fill_map_create(struct kms_ev_bpf *o, const union bpf_attr *a, char *name)
{
	o->map_type = (enum kms_map_type)a->map_type;
	o->key_size = a->key_size;
	o->value_size = a->value_size;
	o->max_entries = a->max_entries;
	o->map_flags = a->map_flags;
	o->inner_map_fd = (int32_t)a->inner_map_fd;
	o->numa_node = a->numa_node;
	o->map_name = obj_name(name, a->map_name);
	o->map_ifindex = a->map_ifindex;
	o->btf_fd = (int32_t)a->btf_fd;
	o->btf_key_type_id = a->btf_key_type_id;
	o->btf_value_type_id = a->btf_value_type_id;
	o->btf_vmlinux_value_type_id = a->btf_vmlinux_value_type_id;
	o->map_extra = a->map_extra;
}

static void fill_prog_load(struct kms_ev_bpf *o, const struct rec_bpf_call *b, char *name)
{
	const union bpf_attr *a = &b->attr;

	o->prog_type = (enum kms_prog_type)a->prog_type;
	o->insn_cnt = a->insn_cnt;
	o->xlated_insn_cnt = b->xlated_insn_cnt;
	o->func_info_cnt = a->func_info_cnt;
	o->line_info_cnt = a->line_info_cnt;
	o->expected_attach_type = (enum kms_attach_type)a->expected_attach_type;
	o->prog_flags = a->prog_flags;
	o->prog_name = obj_name(name, a->prog_name);
	o->prog_btf_fd = (int32_t)a->prog_btf_fd;
	o->attach_btf_id = a->attach_btf_id;
	o->attach_prog_fd = (int32_t)a->attach_prog_fd;
}

static void fill_batch(struct kms_ev_bpf *o, const struct rec_bpf_call *b)
{
	o->map_fd = (int32_t)b->attr.batch.map_fd;
	o->count = b->attr.batch.count;
	o->count_out = b->batch_done;
	o->elem_flags = b->attr.batch.elem_flags;
	o->keys = b->batch_keys;
	o->nr_keys = b->batch_keys ? b->nr_batch_keys : 0;
}

static void fill_bpf(struct kms_ev_bpf *o, const struct rec_bpf_call *b, char *name)
{
	const union bpf_attr *a = &b->attr;

	switch (b->cmd) {
	case BPF_MAP_CREATE:
		fill_map_create(o, a, name);
		break;
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		o->map_fd = (int32_t)a->map_fd;
		o->key_kind = b->has_key ? KMS_KEY_ID : KMS_KEY_NONE;
		o->key = b->key_id;
		/* delete and get_next_key have no flags (the attr's slot is next_key) */
		if (b->cmd != BPF_MAP_DELETE_ELEM && b->cmd != BPF_MAP_GET_NEXT_KEY)
			o->flags = a->flags;
		break;
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		fill_batch(o, b);
		break;
	case BPF_MAP_FREEZE:
		o->map_fd = (int32_t)a->map_fd;
		break;
	case BPF_PROG_LOAD:
		fill_prog_load(o, b, name);
		break;
	case BPF_BTF_LOAD:
		o->btf_size = a->btf_size;
		break;
	case BPF_OBJ_PIN:
	case BPF_OBJ_GET:
		o->pathname = b->path[0] ? b->path : NULL;
		o->file_flags = a->file_flags;
		if (b->cmd == BPF_OBJ_PIN)
			o->bpf_fd = (int32_t)a->bpf_fd;
		break;
	case BPF_OBJ_GET_INFO_BY_FD:
		o->bpf_fd = (int32_t)a->info.bpf_fd;
		break;
	case BPF_LINK_CREATE:
		o->prog_fd = (int32_t)a->link_create.prog_fd;
		o->target_fd = (int32_t)a->link_create.target_fd;
		o->attach_type = (enum kms_attach_type)a->link_create.attach_type;
		o->flags = a->link_create.flags;
		break;
	case BPF_PROG_ATTACH:
	case BPF_PROG_DETACH:
		o->prog_fd = (int32_t)a->attach_bpf_fd;
		o->target_fd = (int32_t)a->target_fd;
		o->attach_type = (enum kms_attach_type)a->attach_type;
		o->attach_flags = a->attach_flags;
		break;
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_BTF_GET_FD_BY_ID:
	case BPF_LINK_GET_FD_BY_ID:
		o->id = a->start_id;
		o->open_flags = a->open_flags;
		break;
	case BPF_PROG_BIND_MAP:
		o->prog_fd = (int32_t)a->prog_bind_map.prog_fd;
		o->map_fd = (int32_t)a->prog_bind_map.map_fd;
		break;
	case BPF_PROG_TEST_RUN:
		o->prog_fd = (int32_t)a->test.prog_fd;
		break;
	case BPF_RAW_TRACEPOINT_OPEN:
		o->prog_fd = (int32_t)a->raw_tracepoint.prog_fd;
		break;
	default:
		break;
	}
}

static const char *const obj_names[] = {
	[REC_OBJ_NONE] = "none", [REC_OBJ_MAP] = "map", [REC_OBJ_PROG] = "prog",
	[REC_OBJ_LINK] = "link", [REC_OBJ_BTF] = "btf", [REC_OBJ_OTHER] = "bpf object",
};

void rec_emit_bpf(struct rec_emit *e, const struct rec_ctx *c, const struct rec_bpf_call *b)
{
	char name[BPF_OBJ_NAME_LEN + 1];
	struct kms_event ev;

	event_init(&ev, KMS_EV_BPF, c);
	ev.u.bpf.cmd = (enum kms_bpf_cmd)b->cmd;
	if (b->attr_ok)
		fill_bpf(&ev.u.bpf, b, name);
	ev.has_ret = true;
	ev.ret = b->ret;
	if (b->ret >= 0 && rec_bpf_returns_fd(b->cmd) && b->result.kind != REC_OBJ_NONE &&
	    b->cmd != KMS_BPF_MAP_GET_FD_BY_ID && b->cmd != KMS_BPF_PROG_GET_FD_BY_ID &&
	    b->cmd != KMS_BPF_BTF_GET_FD_BY_ID && b->cmd != KMS_BPF_LINK_GET_FD_BY_ID)
		ev.u.bpf.obj_id = b->result.id;
	if ((unsigned int)b->cmd >= KMS_NR_BPF_CMDS) {
		/* a command newer than the format: say so rather than drop it */
		rec_emit_comment(e, "pid %d: bpf command %d (unknown to this format) returned %ld",
				 (int)c->pid, b->cmd, b->ret);
		return;
	}
	if (!b->attr_ok)
		rec_emit_comment(e, "pid %d: attributes of the next call were unreadable",
				 (int)c->pid);
	put(e, &ev);
	if (b->ret >= 0 && rec_bpf_returns_fd(b->cmd) && b->result.kind != REC_OBJ_NONE) {
		if (b->result.has_memlock)
			rec_emit_comment(e, "fd %ld: %s id %" PRIu32 ", fdinfo memlock %" PRIu64,
					 b->ret, obj_names[b->result.kind], b->result.id,
					 b->result.memlock);
		else
			rec_emit_comment(e, "fd %ld: %s id %" PRIu32, b->ret,
					 obj_names[b->result.kind], b->result.id);
	}
}

void rec_emit_prog_elems(struct rec_emit *e, double t, pid_t pid, uint32_t map_id,
			 int64_t delta)
{
	struct rec_ctx c = { .t = t, .pid = pid, .tid = pid, .uid = UINT32_MAX, .cpu = 0 };
	struct kms_event ev;

	/* Sampling cannot see the CPU, the context or the interrupted task:
	 * the event names the map's creator and leaves cpu and ctx at their
	 * defaults (see the header comment of the trace). */
	event_init(&ev, delta > 0 ? KMS_EV_PROG_UPDATE : KMS_EV_PROG_DELETE, &c);
	ev.uid = KMS_UID_UNSET;
	ev.u.prog.map_fd = -1;
	ev.u.prog.map_id = map_id;
	ev.u.prog.count = (uint64_t)(delta > 0 ? delta : -delta);
	ev.u.prog.key_kind = delta > 0 ? KMS_KEY_NEW : KMS_KEY_EXISTING;
	put(e, &ev);
}
