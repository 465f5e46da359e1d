// SPDX-License-Identifier: MIT
/*
 * The ptrace engine of `kmemsim record`.
 *
 * The command is forked with PTRACE_TRACEME and a seccomp filter that returns
 * SECCOMP_RET_TRACE for the syscalls the trace needs (bpf, close, close_range,
 * dup*, fcntl(F_DUPFD*), clone*, fork, vfork, prlimit64, setrlimit,
 * exit_group), so only those stop the tracee. At the seccomp stop the call's
 * arguments are read; the tracee is resumed with PTRACE_SYSCALL to stop once
 * more at syscall exit, where the result is read and the event written.
 * PTRACE_O_TRACEFORK/VFORK/CLONE follow every new task; PTRACE_O_EXITKILL
 * makes the kernel kill the tracees if the recorder dies, so none is ever
 * left stopped or running untraced. Signals are re-injected; job-control
 * stops are resumed (as strace does without PTRACE_SEIZE).
 *
 * Events are ordered as the recorder sees the stops. A new task that stops
 * before its parent's fork event has been handled is held until then, so a
 * child's events never precede its fork event.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uthash.h>

#include "kmemsim/record.h"
#include "record/bpf_call.h"
#include "record/emit.h"
#include "record/sample.h"
#include "record/tracee.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* A BPF object fd in a task's fd table. */
struct rec_fd {
	int fd;
	struct rec_obj_info obj;
};

/* An fd table: shared by tasks created with CLONE_FILES. Only BPF fds are kept. */
struct rec_files {
	unsigned int refs;
	unsigned int nr, cap;
	struct rec_fd *fds;
};

struct rec_task {
	pid_t tid;
	pid_t pid;			/* thread group */
	struct rec_files *files;
	bool known;			/* its fork event (or the first exec) was seen */
	bool held;			/* stopped before its fork event: not resumed yet */
	bool expect_sigstop;		/* the initial SIGSTOP of a new task is not passed on */
	bool in_syscall;		/* resumed with PTRACE_SYSCALL, exit stop pending */
	long nr;			/* the syscall being traced */
	uint64_t args[6];
	uint64_t clone_flags;
	bool rlimit_asked;		/* a new RLIMIT_MEMLOCK was read at entry */
	uint64_t rlimit[2];		/* its cur and max */
	struct rec_ctx ctx;		/* context at the call's entry */
	struct rec_bpf_call *bpf;
	UT_hash_handle hh;
};

/* A memory cgroup path the trace has created. */
struct rec_cgroup {
	UT_hash_handle hh;
	char path[];
};

struct recorder {
	const struct kms_record_opts *opts;
	struct kms_record_result *res;
	struct rec_emit emit;
	struct rec_sampler sampler;
	struct rec_task *tasks;
	struct timespec t0;
	pid_t root;
	bool root_exec_seen;
	unsigned long nr_live;
	unsigned long nr_held;		/* new tasks waiting for their fork event */
	struct rec_cgroup *cgroups;	/* paths the trace has created */
};

/* ---- fd tables ---- */

static struct rec_files *files_new(void)
{
	struct rec_files *f = calloc(1, sizeof(*f));

	if (f)
		f->refs = 1;
	return f;
}

static struct rec_files *files_copy(const struct rec_files *src)
{
	struct rec_files *f = files_new();

	if (!f || !src || !src->nr)
		return f;
	f->fds = malloc(src->nr * sizeof(*f->fds));
	if (!f->fds)
		return f;
	memcpy(f->fds, src->fds, src->nr * sizeof(*f->fds));
	f->nr = f->cap = src->nr;
	return f;
}

static void files_put(struct rec_files *f)
{
	if (f && --f->refs == 0) {
		free(f->fds);
		free(f);
	}
}

static struct rec_fd *files_find(struct rec_files *f, int fd)
{
	for (unsigned int i = 0; f && i < f->nr; i++)
		if (f->fds[i].fd == fd)
			return &f->fds[i];
	return NULL;
}

static void files_del(struct rec_files *f, int fd)
{
	struct rec_fd *e = files_find(f, fd);

	if (e)
		*e = f->fds[--f->nr];
}

static void files_add(struct rec_files *f, int fd, const struct rec_obj_info *obj)
{
	struct rec_fd *e;

	if (!f)
		return;
	files_del(f, fd);
	if (f->nr == f->cap) {
		unsigned int cap = f->cap ? 2 * f->cap : 8;
		void *p = realloc(f->fds, cap * sizeof(*f->fds));

		if (!p)
			return;
		f->fds = p;
		f->cap = cap;
	}
	e = &f->fds[f->nr++];
	e->fd = fd;
	e->obj = *obj;
}

/* Unshare a task's fd table (exec, close_range(CLOSE_RANGE_UNSHARE)). */
static void files_unshare(struct rec_task *t)
{
	struct rec_files *f;

	if (!t->files || t->files->refs == 1)
		return;
	f = files_copy(t->files);
	files_put(t->files);
	t->files = f;
}

/* ---- tasks ---- */

static double now(const struct recorder *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - r->t0.tv_sec) + (ts.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static struct rec_task *task_find(struct recorder *r, pid_t tid)
{
	struct rec_task *t;

	HASH_FIND_INT(r->tasks, &tid, t);
	return t;
}

static struct rec_task *task_new(struct recorder *r, pid_t tid)
{
	struct rec_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tid = t->pid = tid;
	HASH_ADD_INT(r->tasks, tid, t);
	r->nr_live++;
	r->res->nr_tasks++;
	return t;
}

static void task_free(struct recorder *r, struct rec_task *t)
{
	if (t->held)
		r->nr_held--;
	HASH_DEL(r->tasks, t);
	files_put(t->files);
	if (t->bpf)
		rec_bpf_call_release(t->bpf);
	free(t->bpf);
	free(t);
	r->nr_live--;
}

static void resume(struct rec_task *t, int sig)
{
	/* ESRCH: the task was killed meanwhile; its death is reported later. */
	ptrace(t->in_syscall ? PTRACE_SYSCALL : PTRACE_CONT, t->tid, 0L, (long)sig);
}

/*
 * The trace creates each memory cgroup (and its ancestors) at its first use,
 * with the limits it has then, so a replay runs the events in the cgroups they
 * ran in. The root exists already.
 */
static bool cgroup_known(struct recorder *r, const char *path)
{
	struct rec_cgroup *cg;

	HASH_FIND_STR(r->cgroups, path, cg);
	return cg != NULL;
}

static void note_cgroup(struct recorder *r, const struct rec_ctx *c)
{
	size_t len = strlen(c->cgroup);

	if (c->cgroup[0] != '/' || cgroup_known(r, c->cgroup))
		return;
	/* each prefix ending before a '/' or at the end, "/" itself excluded */
	for (size_t end = 2; end <= len; end++) {
		struct rec_cgroup *cg;
		uint64_t max, high;

		if (end < len && c->cgroup[end] != '/')
			continue;
		cg = malloc(sizeof(*cg) + end + 1);
		if (!cg)
			return;
		memcpy(cg->path, c->cgroup, end);
		cg->path[end] = '\0';
		if (cgroup_known(r, cg->path)) {
			free(cg);
			continue;
		}
		HASH_ADD_STR(r->cgroups, path, cg);
		if (rec_cgroup_limits(cg->path, &max, &high) < 0)
			max = high = UINT64_MAX;
		rec_emit_cgroup(&r->emit, c, cg->path, max, high);
	}
}

static void ctx_now(struct recorder *r, struct rec_task *t)
{
	rec_ctx_read(&t->ctx, t->pid, t->tid, now(r));
	note_cgroup(r, &t->ctx);
}

/* ---- architecture ---- */

#if defined(__x86_64__)
#define REC_AUDIT_ARCH AUDIT_ARCH_X86_64

static int get_regs(pid_t tid, long *nr, uint64_t args[6], long *ret)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, tid, 0L, &regs) < 0)
		return -errno;
	*nr = (long)regs.orig_rax;
	args[0] = regs.rdi;
	args[1] = regs.rsi;
	args[2] = regs.rdx;
	args[3] = regs.r10;
	args[4] = regs.r8;
	args[5] = regs.r9;
	*ret = (long)regs.rax;
	return 0;
}
#else
/* kms_record_probe() refuses other architectures before this is reached. */
#define REC_AUDIT_ARCH 0

static int get_regs(pid_t tid, long *nr, uint64_t args[6], long *ret)
{
	(void)tid, (void)nr, (void)args, (void)ret;
	return -ENOSYS;
}
#endif

/* ---- events ---- */

static void emit_ctx_close(struct recorder *r, struct rec_task *t, int fd, long ret)
{
	rec_emit_close(&r->emit, &t->ctx, fd, ret);
	files_del(t->files, fd);
}

/*
 * After dup(), dup2(), dup3(), fcntl(F_DUPFD*) returned @ret: it refers to what
 * @fd does. @target is dup2/dup3's newfd, -1 for "the lowest free fd".
 */
static void on_dup(struct recorder *r, struct rec_task *t, int fd, int target, bool cloexec,
		   long ret)
{
	struct rec_fd *old = files_find(t->files, fd);
	int newfd = (int)ret;

	if (fd == newfd)
		return;
	if (old) {
		struct rec_obj_info obj = old->obj;

		/* dup2/dup3 onto an open fd closes it first; the event says both. */
		rec_emit_dup(&r->emit, &t->ctx, fd, target, cloexec, ret);
		files_add(t->files, newfd, &obj);
	} else if (files_find(t->files, newfd)) {
		/* another file dup'ed over a BPF fd: for the trace, a close */
		emit_ctx_close(r, t, newfd, 0);
	}
}

static void on_close_range(struct recorder *r, struct rec_task *t)
{
	unsigned int first = (unsigned int)t->args[0], last = (unsigned int)t->args[1];
	unsigned int flags = (unsigned int)t->args[2];

	if (flags & CLOSE_RANGE_UNSHARE)
		files_unshare(t);
	if (flags & CLOSE_RANGE_CLOEXEC)
		return;	/* only marked close-on-exec: exec will tell */
	for (unsigned int i = 0; t->files && i < t->files->nr;) {
		unsigned int fd = (unsigned int)t->files->fds[i].fd;

		if (fd >= first && fd <= last)
			emit_ctx_close(r, t, (int)fd, 0);	/* moves the last entry to i */
		else
			i++;
	}
}

/* At entry of setrlimit/prlimit64: the RLIMIT_MEMLOCK values asked for. */
static void rlimit_entry(struct rec_task *t, bool is_prlimit)
{
	uint64_t resource = is_prlimit ? t->args[1] : t->args[0];
	uint64_t new_limit = is_prlimit ? t->args[2] : t->args[1];

	/* struct rlimit64 and x86-64's struct rlimit: two u64, cur then max */
	t->rlimit_asked = resource == RLIMIT_MEMLOCK && new_limit &&
			  rec_read_mem(t->pid, new_limit, t->rlimit, sizeof(t->rlimit)) == 0;
}

static void on_rlimit(struct recorder *r, struct rec_task *t, bool is_prlimit, long ret)
{
	/* prlimit64's pid: 0 is the caller, as the format's target= */
	pid_t target = is_prlimit ? (pid_t)t->args[0] : 0;

	if (t->rlimit_asked)
		rec_emit_rlimit(&r->emit, &t->ctx, target, t->rlimit[0], t->rlimit[1], ret);
	t->rlimit_asked = false;
}

static void bpf_entry(struct recorder *r, struct rec_task *t)
{
	struct rec_bpf_call *b = t->bpf ? t->bpf : calloc(1, sizeof(*b));
	struct rec_fd *target;
	int fd;

	if (!b)
		return;
	t->bpf = b;
	rec_bpf_call_release(b);
	memset(b, 0, sizeof(*b));
	rec_bpf_read_attr(b, t->pid, (int)t->args[0], t->args[1], (uint32_t)t->args[2]);
	fd = rec_bpf_target_fd(b);
	target = fd >= 0 ? files_find(t->files, fd) : NULL;
	if (target)
		b->target = target->obj;
	else if (fd >= 0)
		rec_obj_read(t->pid, fd, &b->target);
	rec_bpf_read_args(b, t->pid);
	r->res->nr_bpf++;
}

static void bpf_exit(struct recorder *r, struct rec_task *t, long ret)
{
	struct rec_bpf_call *b = t->bpf;

	if (!b)
		return;
	rec_bpf_decode_exit(b, t->pid, t->args[1], ret);
	if (ret >= 0 && rec_bpf_returns_fd(b->cmd)) {
		rec_obj_read(t->pid, (int)ret, &b->result);
		files_add(t->files, (int)ret, &b->result);
		/* Maps the command created: others (bpftool map show opens every
		 * map on the machine by id) are not the command's to sample. */
		if (b->cmd == BPF_MAP_CREATE && b->result.kind == REC_OBJ_MAP)
			rec_sampler_add(&r->sampler, b->result.id, b->result.map_type,
					b->result.key_size, b->result.max_entries, t->pid);
		if (b->cmd == BPF_PROG_LOAD && b->result.kind == REC_OBJ_PROG)
			b->xlated_insn_cnt = rec_prog_xlated_insns(b->result.id);
	}
	rec_emit_bpf(&r->emit, &t->ctx, b);
	rec_sampler_user_op(&r->sampler, b);
	rec_bpf_call_release(b);
}

/* Can this fd syscall change a BPF fd of the task? */
static bool fd_call_matters(struct rec_task *t)
{
	int fd = (int)t->args[0];

	switch (t->nr) {
	case SYS_close:
	case SYS_dup:
	case SYS_fcntl:
		return files_find(t->files, fd) != NULL;
	case SYS_dup2:
	case SYS_dup3:
		return files_find(t->files, fd) || files_find(t->files, (int)t->args[1]);
	case SYS_close_range:
		if (t->args[2] & CLOSE_RANGE_UNSHARE)
			return true;
		for (unsigned int i = 0; t->files && i < t->files->nr; i++)
			if ((unsigned int)t->files->fds[i].fd >= (unsigned int)t->args[0] &&
			    (unsigned int)t->files->fds[i].fd <= (unsigned int)t->args[1])
				return true;
		return false;
	default:
		return true;
	}
}

static void on_syscall_entry(struct recorder *r, struct rec_task *t)
{
	long ret;

	if (get_regs(t->tid, &t->nr, t->args, &ret) < 0)
		return resume(t, 0);
	/* Most closes and dups are of other files: no event, no exit stop. */
	if (t->nr == SYS_exit_group || !fd_call_matters(t))
		return resume(t, 0);	/* a death is reported with its status */
	ctx_now(r, t);
	switch (t->nr) {
	case SYS_bpf:
		bpf_entry(r, t);
		break;
	case SYS_clone:
		t->clone_flags = t->args[0];
		break;
	case SYS_clone3:
		/* struct clone_args starts with the u64 flags */
		if (rec_read_mem(t->pid, t->args[0], &t->clone_flags, sizeof(t->clone_flags)))
			t->clone_flags = 0;
		break;
	case SYS_vfork:
		t->clone_flags = CLONE_VM | CLONE_VFORK;
		break;
	case SYS_fork:
		t->clone_flags = 0;
		break;
	case SYS_prlimit64:
	case SYS_setrlimit:
		rlimit_entry(t, t->nr == SYS_prlimit64);
		break;
	default:
		break;
	}
	t->in_syscall = true;
	resume(t, 0);
}

static void on_syscall_exit(struct recorder *r, struct rec_task *t)
{
	long nr, ret;
	uint64_t args[6];

	t->in_syscall = false;
	if (get_regs(t->tid, &nr, args, &ret) < 0)
		return resume(t, 0);
	switch (t->nr) {
	case SYS_bpf:
		bpf_exit(r, t, ret);
		break;
	case SYS_close:
		/* Linux releases the fd even when close() reports an error. */
		if (ret != -EBADF && files_find(t->files, (int)t->args[0]))
			emit_ctx_close(r, t, (int)t->args[0], ret);
		break;
	case SYS_close_range:
		if (ret == 0)
			on_close_range(r, t);
		break;
	case SYS_dup:
		if (ret >= 0)
			on_dup(r, t, (int)t->args[0], -1, false, ret);
		break;
	case SYS_fcntl:
		if (ret >= 0)
			on_dup(r, t, (int)t->args[0], -1, t->args[1] == F_DUPFD_CLOEXEC, ret);
		break;
	case SYS_dup2:
	case SYS_dup3:
		if (ret >= 0)
			on_dup(r, t, (int)t->args[0], (int)t->args[1],
			       t->nr == SYS_dup3 && (t->args[2] & O_CLOEXEC), ret);
		break;
	case SYS_prlimit64:
	case SYS_setrlimit:
		on_rlimit(r, t, t->nr == SYS_prlimit64, ret);
		break;
	default:
		break;
	}
	resume(t, 0);
}

static void on_fork(struct recorder *r, struct rec_task *t)
{
	unsigned long msg = 0;
	struct rec_task *c;
	bool thread = t->clone_flags & CLONE_THREAD;
	bool share = t->clone_flags & CLONE_FILES;

	ptrace(PTRACE_GETEVENTMSG, t->tid, 0L, &msg);
	c = task_find(r, (pid_t)msg);
	if (!c)
		c = task_new(r, (pid_t)msg);
	if (c) {
		c->pid = thread ? t->pid : c->tid;
		files_put(c->files);
		if (share) {
			c->files = t->files;
			if (c->files)
				c->files->refs++;
		} else {
			c->files = files_copy(t->files);
		}
		c->known = true;
		ctx_now(r, t);
		c->ctx = t->ctx;	/* until it makes a call of its own */
		c->ctx.pid = c->pid;
		c->ctx.tid = c->tid;
		rec_emit_fork(&r->emit, &t->ctx, c->tid, thread, share);
		if (c->held) {
			c->held = false;
			r->nr_held--;
			resume(c, 0);
		} else {
			c->expect_sigstop = true;
		}
	}
	resume(t, 0);
}

static void on_exec(struct recorder *r, struct rec_task *t)
{
	unsigned long former = 0;
	struct rec_task *old;
	char exe[4096], path[64];
	ssize_t n;

	/* A non-leader thread that execs takes the leader's tid; its own tid
	 * disappears without a death report (ptrace(2), execve under ptrace). */
	ptrace(PTRACE_GETEVENTMSG, t->tid, 0L, &former);
	old = (pid_t)former != t->tid ? task_find(r, (pid_t)former) : NULL;
	if (old)
		task_free(r, old);
	t->in_syscall = false;
	t->known = true;
	files_unshare(t);
	ctx_now(r, t);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->tid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (t->tid == r->root && !r->root_exec_seen) {
		struct rlimit rl = { 0, 0 };

		/* the command's first process: who it is, its RLIMIT_MEMLOCK */
		r->root_exec_seen = true;
		prlimit(t->pid, RLIMIT_MEMLOCK, NULL, &rl);
		rec_emit_task(&r->emit, &t->ctx, rl.rlim_cur, rl.rlim_max);
	}
	rec_emit_exec(&r->emit, &t->ctx, exe);
	/* In the trace exec closes every BPF fd: the kernel makes them
	 * O_CLOEXEC. One that lost the flag (dup(), fcntl(F_SETFD)) survives. */
	for (unsigned int i = 0; t->files && i < t->files->nr;) {
		struct rec_obj_info o;
		int fd = t->files->fds[i].fd;

		if (rec_obj_read(t->pid, fd, &o) == 0 && o.kind != REC_OBJ_NONE)
			rec_emit_comment(&r->emit, "pid %d: fd %d (id %u) survived exec; the "
					 "trace's exec closes it", (int)t->pid, fd, o.id);
		files_del(t->files, fd);	/* moves the last entry to i */
	}
	resume(t, 0);
}

static void on_death(struct recorder *r, struct rec_task *t, int status,
		     int *root_status, bool *root_done)
{
	/* A thread group's leader is reported dead after all its threads: then
	 * the process and its fd table are gone. */
	if (t->known) {
		t->ctx.t = now(r);
		t->ctx.pid = t->pid;
		t->ctx.tid = t->tid;
		rec_emit_exit(&r->emit, &t->ctx, status, t->tid != t->pid);
	}
	if (t->tid == r->root) {
		*root_status = status;
		*root_done = true;
	}
	/* Program activity in maps the process created is written under a
	 * process that is still there: the command's, or any other. */
	if (t->tid == t->pid) {
		struct rec_task *heir = task_find(r, r->root), *o, *tmp;

		if (!heir || heir == t) {
			heir = NULL;
			HASH_ITER(hh, r->tasks, o, tmp)
				if (o != t && o->tid == o->pid && o->known && !heir)
					heir = o;
		}
		if (heir)
			rec_sampler_reassign(&r->sampler, t->pid, heir->pid);
	}
	task_free(r, t);
}

static void on_signal_stop(struct recorder *r, struct rec_task *t, int sig)
{
	siginfo_t si;

	(void)r;
	if (sig == SIGSTOP && t->expect_sigstop) {
		t->expect_sigstop = false;
		return resume(t, 0);
	}
	/* Without PTRACE_SEIZE a group-stop cannot be kept (PTRACE_LISTEN);
	 * it is recognised by PTRACE_GETSIGINFO failing and resumed. */
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0L, &si) < 0)
		return resume(t, 0);
	resume(t, sig);
}

static void handle(struct recorder *r, pid_t tid, int status, int *root_status,
		   bool *root_done)
{
	struct rec_task *t = task_find(r, tid);
	int event = (unsigned int)status >> 16;

	if (!t) {
		t = task_new(r, tid);
		if (!t)
			return;
		/* A new task stopping before its parent's fork event: hold it. */
		if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP && event == 0) {
			t->held = true;
			r->nr_held++;
			return;
		}
	}
	if (WIFEXITED(status) || WIFSIGNALED(status))
		return on_death(r, t, status, root_status, root_done);
	if (!WIFSTOPPED(status))
		return;
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		return on_syscall_entry(r, t);
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		return on_fork(r, t);
	case PTRACE_EVENT_EXEC:
		return on_exec(r, t);
	case PTRACE_EVENT_EXIT:
		/* Still alive with its fds open: who it is for the exit event,
		 * and the last look at its maps. */
		ctx_now(r, t);
		if (t->tid == t->pid && !r->opts->no_sample)
			rec_sampler_run(&r->sampler, &r->emit, t->ctx.t);
		return resume(t, 0);
	case 0:
		break;
	default:
		return resume(t, 0);
	}
	if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
		if (t->in_syscall)
			return on_syscall_exit(r, t);
		return resume(t, 0);
	}
	on_signal_stop(r, t, WSTOPSIG(status));
}

/* ---- the child ---- */

static const int traced_syscalls[] = {
	SYS_bpf, SYS_close, SYS_close_range, SYS_dup, SYS_dup2, SYS_dup3, SYS_clone,
	SYS_clone3, SYS_fork, SYS_vfork, SYS_prlimit64, SYS_setrlimit, SYS_exit_group,
};

#define NR_TRACED (sizeof(traced_syscalls) / sizeof(traced_syscalls[0]))

/*
 * seccomp filter: other architectures' (and x32) syscalls pass untraced;
 * fcntl stops only for F_DUPFD and F_DUPFD_CLOEXEC (the low word of args[1],
 * little-endian), the listed syscalls always stop.
 */
static int install_filter(void)
{
	struct sock_filter f[8 + NR_TRACED + 2];
	unsigned int n = 0;
	const unsigned int allow = 8 + NR_TRACED, trace = allow + 1;
	struct sock_fprog prog;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, REC_AUDIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 0, 7 - n);
	n++;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, args[1]));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD, trace - n - 1, 0);
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD_CLOEXEC,
					    trace - n - 1, allow - n - 1);
	n++;
	for (unsigned int i = 0; i < NR_TRACED; i++, n++)
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    (unsigned int)traced_syscalls[i],
						    trace - n - 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
		return 0;
	/* Without CAP_SYS_ADMIN a filter needs no_new_privs. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* In the child: tell the parent why we could not run the command, and die. */
static void __attribute__((noreturn)) child_fail(int pipe_fd, int stage)
{
	int msg[2] = { stage, errno };

	if (write(pipe_fd, msg, sizeof(msg)) < 0)
		_exit(127);
	_exit(127);
}

enum { STAGE_TRACEME = 1, STAGE_SECCOMP, STAGE_EXEC };

static void __attribute__((noreturn)) child(char *const *argv, const sigset_t *mask,
					   int pipe_fd)
{
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (ptrace(PTRACE_TRACEME, 0L, 0L, 0L) < 0)
		child_fail(pipe_fd, STAGE_TRACEME);
	raise(SIGSTOP);
	if (install_filter() < 0)
		child_fail(pipe_fd, STAGE_SECCOMP);
	execvp(argv[0], argv);
	child_fail(pipe_fd, STAGE_EXEC);
}

/* ---- the loop ---- */

/*
 * A held task whose parent's fork event never came (the parent was killed in
 * between) must not stay stopped: after a second it runs as a task of its own.
 */
static void release_held(struct recorder *r)
{
	struct rec_task *t, *tmp;

	HASH_ITER(hh, r->tasks, t, tmp) {
		if (!t->held)
			continue;
		t->held = false;
		r->nr_held--;
		t->known = true;
		if (!t->files)
			t->files = files_new();
		rec_emit_comment(&r->emit, "task %d appeared without a fork event", (int)t->tid);
		resume(t, 0);
	}
}

static void forward(struct recorder *r, const struct signalfd_siginfo *si)
{
	/* Only signals someone sent with kill(): the terminal's ^C already
	 * reached the command's process group itself. */
	if (si->ssi_code != SI_USER && si->ssi_code != SI_QUEUE)
		return;
	if (task_find(r, r->root))
		kill(r->root, (int)si->ssi_signo);
}

static int loop(struct recorder *r, int sfd, int tfd, int *root_status)
{
	bool root_done = false;

	while (r->nr_live > 0) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = tfd, .events = POLLIN } };
		int status, n;
		pid_t tid;

		while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
			handle(r, tid, status, root_status, &root_done);
		if (tid < 0 && errno == ECHILD)
			break;
		if (r->nr_live == 0)
			break;
		n = poll(p, tfd >= 0 ? 2 : 1, r->nr_held ? 1000 : -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			release_held(r);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo != SIGCHLD)
					forward(r, &si);
		}
		if (tfd >= 0 && (p[1].revents & POLLIN)) {
			uint64_t ticks;

			if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
				rec_sampler_run(&r->sampler, &r->emit, now(r));
		}
	}
	return root_done ? 0 : -ECHILD;
}

static void write_header(struct recorder *r)
{
	char possible[64] = "?", date[32];
	struct rec_header h;
	struct utsname u;
	unsigned int nr = 0;
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;

	uname(&u);
	f = fopen("/sys/devices/system/cpu/possible", "re");
	if (f) {
		if (fgets(possible, sizeof(possible), f))
			possible[strcspn(possible, "\n")] = '\0';
		fclose(f);
	}
	/* "0-1,4-7": count every range */
	for (char *p = possible; *p;) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		nr += (unsigned int)(b - a + 1);
		p = *end == ',' ? end + 1 : end;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	h = (struct rec_header){ .kernel_release = u.release,
				 .page_size = (unsigned int)sysconf(_SC_PAGESIZE),
				 .nr_possible_cpus = nr, .possible_cpus = possible,
				 .argv = r->opts->argv, .started_utc = date,
				 .sample_ms = r->opts->no_sample ? UINT32_MAX : r->opts->sample_ms };
	rec_emit_header(&r->emit, &h);
}

static const char *const stage_what[] = {
	[STAGE_TRACEME] = "ptrace(PTRACE_TRACEME) failed",
	[STAGE_SECCOMP] = "installing the seccomp filter failed",
	[STAGE_EXEC] = "cannot execute",
};

/* Start the child and wait for it to stop itself; 0 or -errno. */
static int start(struct recorder *r, const sigset_t *old, int pipe_w)
{
	int status;
	long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
		    PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
		    PTRACE_O_TRACEEXIT | PTRACE_O_TRACESECCOMP;
	struct rec_task *t;

	r->root = fork();
	if (r->root < 0)
		return -errno;
	if (r->root == 0)
		child(r->opts->argv, old, pipe_w);
	if (waitpid(r->root, &status, __WALL) < 0)
		return -errno;
	if (!WIFSTOPPED(status)) {
		/* PTRACE_TRACEME failed: the child reported and exited */
		return -EPERM;
	}
	if (ptrace(PTRACE_SETOPTIONS, r->root, 0L, opts) < 0) {
		int err = -errno;

		kill(r->root, SIGKILL);
		waitpid(r->root, &status, __WALL);
		return err;
	}
	t = task_new(r, r->root);
	if (!t || !(t->files = files_new())) {
		kill(r->root, SIGKILL);
		waitpid(r->root, &status, __WALL);
		return -ENOMEM;
	}
	t->known = true;
	resume(t, 0);
	return 0;
}

static int open_timer(unsigned int ms)
{
	struct itimerspec its = { 0 };
	int fd;

	if (ms == 0)
		return -1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -1;
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

int kms_record_run(const struct kms_record_opts *opts, struct kms_record_result *res)
{
	struct recorder r = { .opts = opts, .res = res, .emit = { .f = opts->out } };
	sigset_t mask, old;
	int sfd, tfd, pipefd[2], err, root_status = 0, msg[2];

	memset(res, 0, sizeof(*res));
	if (!opts->argv || !opts->argv[0] || !opts->out) {
		snprintf(res->error, sizeof(res->error), "no command to record");
		return -EINVAL;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	/* SIGCHLD and the signals to forward are read from a signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	write_header(&r);
	err = sfd < 0 ? -errno : start(&r, &old, pipefd[1]);
	close(pipefd[1]);
	tfd = err || opts->no_sample ? -1 : open_timer(opts->sample_ms);
	if (!err)
		err = loop(&r, sfd, tfd, &root_status);
	/* Did the child fail before becoming the command? */
	if (read(pipefd[0], msg, sizeof(msg)) == sizeof(msg) && msg[0] > 0 && msg[0] <= 3) {
		snprintf(res->error, sizeof(res->error), "%s%s%s: %s", stage_what[msg[0]],
			 msg[0] == STAGE_EXEC ? " " : "", msg[0] == STAGE_EXEC ? opts->argv[0] : "",
			 strerror(msg[1]));
		err = msg[0] == STAGE_TRACEME ? -EPERM : -msg[1];
	} else if (err) {
		snprintf(res->error, sizeof(res->error), "recording failed: %s", strerror(-err));
	} else if (r.emit.err) {
		err = r.emit.err;
		snprintf(res->error, sizeof(res->error), "writing the trace failed: %s",
			 strerror(-err));
	}
	close(pipefd[0]);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	/* Recording failed with tracees left: untraced, their filter would make
	 * the traced syscalls fail with ENOSYS, so they go the way EXITKILL
	 * would send them. */
	for (struct rec_task *t = r.tasks; t; t = t->hh.next)
		kill(t->tid, SIGKILL);
	while (r.tasks) {
		waitpid(r.tasks->tid, NULL, __WALL);
		task_free(&r, r.tasks);
	}
	for (struct rec_cgroup *cg = r.cgroups, *next; cg; cg = next) {
		next = cg->hh.next;
		HASH_DEL(r.cgroups, cg);
		free(cg);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	res->wait_status = root_status;
	res->nr_events = r.emit.seq;
	res->nr_samples = r.sampler.nr_written;
	rec_sampler_free(&r.sampler);
	fflush(opts->out);
	return err;
}

int kms_record_probe(char *why, size_t why_len)
{
	int status;
	pid_t pid;

#if !defined(__x86_64__)
	snprintf(why, why_len, "kmemsim record decodes x86-64 syscalls only");
	return -ENOSYS;
#endif
	if (geteuid() != 0) {
		snprintf(why, why_len, "kmemsim record needs root: the traced BPF tools and "
			 "the map sampling (BPF_MAP_GET_FD_BY_ID) need CAP_SYS_ADMIN/CAP_BPF");
		return -EPERM;
	}
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		snprintf(why, why_len, "this kernel has no seccomp (CONFIG_SECCOMP)");
		return -ENOSYS;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "fork failed: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		/* what the command's child does, up to its exec; killed there */
		if (ptrace(PTRACE_TRACEME, 0L, 0L, 0L) < 0)
			_exit(1);
		if (install_filter() < 0)
			_exit(2);
		raise(SIGSTOP);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
			snprintf(why, why_len, "installing a seccomp filter failed");
			return -ENOSYS;
		}
		snprintf(why, why_len, "ptrace is not permitted here (PTRACE_TRACEME failed: "
			 "see /proc/sys/kernel/yama/ptrace_scope or the container's seccomp "
			 "profile)");
		return -EPERM;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 0;
}
