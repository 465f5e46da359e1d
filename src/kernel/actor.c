// SPDX-License-Identifier: MIT
/*
 * The actor: a forked process that does the bpf(2) calls inside the scratch
 * cgroup, one request at a time over a pipe, while the controller (outside)
 * reads the counters between requests. Everything the actor will need in
 * user space is faulted in before it is moved, so after the move its only
 * charges are the kernel objects the requests create.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "kernel/kernel_priv.h"

struct actor_obj {
	int fd;				/* -1: free slot */
	struct kms_kbpf_map_spec spec;	/* maps: sizes for keys and values */
	bool is_map;
};

struct actor {
	struct actor_obj obj[KMS_KACTOR_MAX_HANDLES];
	int nr_cpus;
	uint8_t *scratch;		/* prefaulted: values, BTF blobs, instructions */
	size_t scratch_len;
};

static int full_io(int fd, void *buf, size_t len, bool wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = wr ? write(fd, (char *)buf + done, len - done)
			       : read(fd, (char *)buf + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		done += (size_t)r;
	}
	return 0;
}

static int new_handle(struct actor *a, int fd)
{
	for (int h = 0; h < KMS_KACTOR_MAX_HANDLES; h++) {
		if (a->obj[h].fd < 0) {
			a->obj[h] = (struct actor_obj){ .fd = fd };
			return h;
		}
	}
	close(fd);
	return -EMFILE;
}

static struct actor_obj *get(struct actor *a, int32_t h)
{
	if (h < 0 || h >= KMS_KACTOR_MAX_HANDLES || a->obj[h].fd < 0)
		return NULL;
	return &a->obj[h];
}

static int fd_of(struct actor *a, int32_t h)
{
	struct actor_obj *o = get(a, h);

	return o ? o->fd : -1;
}

static void do_elems(struct actor *a, const struct kms_kactor_req *req,
		     struct kms_kactor_reply *rep)
{
	struct actor_obj *o = get(a, req->handle);
	uint8_t key[256];
	size_t vlen;

	if (!o || !o->is_map || o->spec.key_size > sizeof(key)) {
		rep->ret = -EBADF;
		return;
	}
	vlen = kms_kbpf_value_buf_size(&o->spec, a->nr_cpus);
	if (vlen > a->scratch_len) {
		rep->ret = -ENOSPC;
		return;
	}
	memset(a->scratch, 0, vlen);
	if (req->value_handle >= 0) {
		int vfd = fd_of(a, req->value_handle);

		memcpy(a->scratch, &vfd, vlen < 4 ? vlen : 4);
	} else {
		memcpy(a->scratch, &req->value_u32, vlen < 4 ? vlen : 4);
	}
	for (uint64_t i = 0; i < req->count; i++) {
		int ret;

		if (req->op == KMS_KACTOR_PUSH) {
			ret = kms_kbpf_map_push(o->fd, a->scratch);
		} else {
			ret = kms_kbpf_map_key(&o->spec, req->key_id + i, key);
			if (ret == 0)
				ret = req->op == KMS_KACTOR_UPDATE
				      ? kms_kbpf_map_update(o->fd, key, a->scratch, req->flags)
				      : kms_kbpf_map_delete(o->fd, key);
		}
		if (ret < 0) {
			if (!rep->ret)
				rep->ret = ret;
		} else {
			rep->done++;
		}
	}
}

static void do_new_fd(struct actor *a, int fd, struct kms_kactor_reply *rep)
{
	int h;

	if (fd < 0) {
		rep->ret = fd;
		return;
	}
	h = new_handle(a, fd);
	if (h < 0) {
		rep->ret = h;
		return;
	}
	rep->handle = h;
	rep->fd = fd;
}

static void do_create(struct actor *a, const struct kms_kactor_req *req,
		      struct kms_kactor_reply *rep)
{
	struct kms_kbpf_map_spec spec = req->spec;

	spec.inner_map_fd = req->spec.inner_map_fd >= 0 ? fd_of(a, req->spec.inner_map_fd) : -1;
	spec.btf_fd = req->spec.btf_fd >= 0 ? fd_of(a, req->spec.btf_fd) : -1;
	do_new_fd(a, kms_kbpf_map_create(&spec), rep);
	if (rep->handle >= 0) {
		a->obj[rep->handle].is_map = true;
		a->obj[rep->handle].spec = req->spec;	/* handles, as the controller knows them */
	}
}

static void serve(struct actor *a, const struct kms_kactor_req *req, struct kms_kactor_reply *rep)
{
	struct actor_obj *o;
	int fd;

	*rep = (struct kms_kactor_reply){ .handle = -1, .fd = -1 };
	switch (req->op) {
	case KMS_KACTOR_MAP_CREATE:
		do_create(a, req, rep);
		break;
	case KMS_KACTOR_UPDATE:
	case KMS_KACTOR_DELETE:
	case KMS_KACTOR_PUSH:
		do_elems(a, req, rep);
		break;
	case KMS_KACTOR_PROG_LOAD:
		do_new_fd(a, kms_kbpf_prog_load_filler((uint32_t)req->count, a->scratch,
							a->scratch_len), rep);
		break;
	case KMS_KACTOR_BTF_LOAD: {
		long n = req->count > a->scratch_len ? -ENOSPC
			 : kms_kbtf_build(a->scratch, req->count, req->value_size);

		do_new_fd(a, n < 0 ? (int)n : kms_kbtf_load(a->scratch, (size_t)n), rep);
		break;
	}
	case KMS_KACTOR_PIN:
		fd = fd_of(a, req->handle);
		rep->ret = fd < 0 ? -EBADF : kms_kbpf_obj_pin(fd, req->path);
		break;
	case KMS_KACTOR_UNPIN:
		rep->ret = unlink(req->path) < 0 ? -errno : 0;
		break;
	case KMS_KACTOR_CLOSE:
		o = get(a, req->handle);
		if (!o) {
			rep->ret = -EBADF;
			break;
		}
		close(o->fd);
		o->fd = -1;
		break;
	case KMS_KACTOR_IRQ_ATTACH:
		fd = fd_of(a, req->handle);
		if (fd < 0) {
			rep->ret = -EBADF;
			break;
		}
		fd = kms_kbpf_prog_load_irq_inserter(fd, req->cpu, NULL, 0);
		if (fd >= 0) {
			int link = kms_kbpf_raw_tp_open("softirq_entry", fd);

			close(fd);	/* the raw tracepoint link holds the program */
			fd = link;
		}
		do_new_fd(a, fd, rep);
		break;
	case KMS_KACTOR_COUNT:
		o = get(a, req->handle);
		if (!o || !o->is_map) {
			rep->ret = -EBADF;
			break;
		}
		rep->ret = kms_kbpf_map_count(o->fd, o->spec.key_size);
		if (rep->ret >= 0) {
			rep->done = (uint64_t)rep->ret;
			rep->ret = 0;
		}
		break;
	case KMS_KACTOR_NOP:
		break;
	case KMS_KACTOR_SET_CPU: {
		cpu_set_t set;

		CPU_ZERO(&set);
		if (req->count >= CPU_SETSIZE) {
			rep->ret = -EINVAL;
			break;
		}
		CPU_SET((int)req->count, &set);
		/* sched_setaffinity() migrates before it returns: the next request runs there */
		rep->ret = sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
		break;
	}
	case KMS_KACTOR_OBJ_GET:
		do_new_fd(a, kms_kbpf_obj_get(req->path), rep);
		/* a map got back from its pin: the caller says its sizes (flags 1, spec) */
		if (rep->handle >= 0 && (req->flags & 1)) {
			a->obj[rep->handle].is_map = true;
			a->obj[rep->handle].spec = req->spec;
		}
		break;
	default:
		rep->ret = -EINVAL;
	}
}

static void *prefaulted(size_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	/* written, not just read: a read-faulted page maps the shared zero page */
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 0;
	return p;
}

/* Fault in a stack region deeper than any request needs. */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile uint8_t deep[256 * 1024];

	for (size_t i = 0; i < sizeof(deep); i += 512)
		deep[i] = 1;
}

static void __attribute__((noreturn)) actor_main(int req_fd, int reply_fd, size_t prefault)
{
	struct kms_kactor_req req;
	struct kms_kactor_reply rep;
	struct actor *a;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/*
	 * Straight from mmap, not malloc: an allocator that hands out huge or
	 * purged extents (jemalloc here) let the first touch after the move
	 * fault in a page table charged to the scratch cgroup (+1 page on the
	 * first element op). MAP_POPULATE and no THP keep every page and page
	 * table in place from now on.
	 */
	a = prefaulted(sizeof(*a));
	if (!a)
		_exit(1);
	a->nr_cpus = kms_kernel_possible_cpus();
	a->scratch_len = prefault;
	a->scratch = prefaulted(prefault);
	if (!a->scratch || a->nr_cpus <= 0)
		_exit(1);
	for (int h = 0; h < KMS_KACTOR_MAX_HANDLES; h++)
		a->obj[h].fd = -1;
	touch_stack();
	/* Grow the fd table now: expand_files() charges the fdtable to the memcg. */
	if (dup2(req_fd, KMS_KACTOR_MAX_HANDLES + 64) >= 0)
		close(KMS_KACTOR_MAX_HANDLES + 64);
	rep = (struct kms_kactor_reply){ .handle = -1, .fd = -1 };
	if (full_io(reply_fd, &rep, sizeof(rep), true))	/* ready */
		_exit(1);
	while (full_io(req_fd, &req, sizeof(req), false) == 0) {
		serve(a, &req, &rep);
		if (full_io(reply_fd, &rep, sizeof(rep), true))
			break;
	}
	_exit(0);
}

int kms_kactor_start(struct kms_kactor *a, size_t prefault_bytes)
{
	int to_actor[2], from_actor[2];
	struct kms_kactor_reply ready;
	pid_t pid;
	int ret;

	a->pid = 0;
	a->req_fd = a->reply_fd = -1;
	if (pipe2(to_actor, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(from_actor, O_CLOEXEC) < 0) {
		ret = -errno;
		close(to_actor[0]);
		close(to_actor[1]);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(to_actor[0]);
		close(to_actor[1]);
		close(from_actor[0]);
		close(from_actor[1]);
		return ret;
	}
	if (pid == 0) {
		close(to_actor[1]);
		close(from_actor[0]);
		actor_main(to_actor[0], from_actor[1], prefault_bytes);
	}
	close(to_actor[0]);
	close(from_actor[1]);
	a->pid = pid;
	a->req_fd = to_actor[1];
	a->reply_fd = from_actor[0];
	ret = full_io(a->reply_fd, &ready, sizeof(ready), false);
	if (ret) {
		kms_kactor_stop(a);
		return ret == -EPIPE ? -ECHILD : ret;
	}
	return 0;
}

int kms_kactor_call(struct kms_kactor *a, const struct kms_kactor_req *req,
		    struct kms_kactor_reply *reply)
{
	int ret;

	if (a->pid <= 0)
		return -ESRCH;
	ret = full_io(a->req_fd, (void *)req, sizeof(*req), true);
	if (!ret)
		ret = full_io(a->reply_fd, reply, sizeof(*reply), false);
	return ret;
}

int kms_kactor_stop(struct kms_kactor *a)
{
	int status = 0;

	if (a->req_fd >= 0)
		close(a->req_fd);
	if (a->reply_fd >= 0)
		close(a->reply_fd);
	a->req_fd = a->reply_fd = -1;
	if (a->pid > 0) {
		/* EOF on its request pipe makes the actor exit; its fds close with it. */
		while (waitpid(a->pid, &status, 0) < 0 && errno == EINTR)
			;
		a->pid = 0;
	}
	return 0;
}
