// SPDX-License-Identifier: MIT
/*
 * The cleanup registry is the one piece of process-wide state in the
 * program: a signal handler can only find what to remove through a static
 * pointer. Sessions register on open and unregister on close.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksession.h"

#define MAX_LIVE 4
#define SETTLE_MAX_MS 5000

static struct ksession *live[MAX_LIVE];

static void cleanup_all(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i])
			ksession_close(live[i]);
}

static void on_signal(int sig)
{
	/* The actor would only exit at its next request: kill it so rmdir can succeed. */
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] && live[i]->actor.pid > 0)
			kill(live[i]->actor.pid, SIGKILL);
	cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(cleanup_all);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int ksession_probe(struct ksession *s)
{
	static bool installed;
	char why[1024];

	memset(s, 0, sizeof(*s));
	s->actor.req_fd = s->actor.reply_fd = -1;
	s->drain_wait_ms = 20;
	kms_kernel_probe(&s->caps);
	if (kms_kernel_missing(&s->caps, why, sizeof(why))) {
		fprintf(stderr, "kmemsim: cannot measure on this machine (kernel %s):\n%s",
			s->caps.release, why);
		return -ENOTSUP;
	}
	if (!installed) {
		install_handlers();
		installed = true;
	}
	return 0;
}

static int register_live(struct ksession *s)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live[i] == s)
			return 0;
		if (!live[i]) {
			live[i] = s;
			return 0;
		}
	}
	return -EBUSY;
}

int ksession_open(struct ksession *s, bool with_bpffs, size_t prefault)
{
	struct kms_kcgroup_counters c;
	int ret = register_live(s);

	if (ret)
		return ret;
	ret = kms_kcgroup_create(&s->caps, KSESSION_CGROUP_PREFIX, &s->cg);
	if (ret)
		goto fail;
	if (with_bpffs && (ret = kms_kbpffs_mount(&s->fs)))
		goto fail;
	ret = kms_kactor_start(&s->actor, prefault);
	if (ret)
		goto fail;
	ret = kms_kcgroup_add_pid(&s->cg, s->actor.pid);
	if (ret)
		goto fail;
	ret = ksession_set_cpu(s, 0);
	if (ret)
		goto fail;
	ret = ksession_read(s, &c);
	if (ret)
		goto fail;
	return 0;
fail:
	ksession_close(s);
	return ret;
}

void ksession_close(struct ksession *s)
{
	kms_kactor_stop(&s->actor);
	if (s->cg.path[0]) {
		/* Let RCU and workqueue frees of the closed objects finish before rmdir. */
		sleep_ms(50);
		kms_kcgroup_remove(&s->cg);
	}
	if (s->cg2.path[0])
		kms_kcgroup_remove(&s->cg2);
	kms_kbpffs_unmount(&s->fs);
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] == s)
			live[i] = NULL;
}

int ksession_open_second(struct ksession *s)
{
	return kms_kcgroup_create(&s->caps, KSESSION_CGROUP_PREFIX, &s->cg2);
}

int ksession_set_cpu(struct ksession *s, uint32_t cpu)
{
	struct kms_kactor_req req = ksession_req(KMS_KACTOR_SET_CPU);
	struct kms_kactor_reply rep;
	int ret;

	req.count = cpu;
	ret = kms_kactor_call(&s->actor, &req, &rep);
	if (!ret)
		ret = rep.ret;
	if (!ret)
		s->cpu = cpu;
	return ret;
}

int ksession_read(struct ksession *s, struct kms_kcgroup_counters *c)
{
	int ret = kms_kcgroup_drain(&s->cg, s->drain_wait_ms);

	if (!ret)
		ret = kms_kcgroup_read(&s->cg, c);
	if (!ret) {
		s->kmem = c->kmem;
		s->prev = s->last;
		s->last = *c;
	}
	return ret;
}

void ksession_add_last_delta(const struct ksession *s, struct ksession_delta *d)
{
	d->kmem += (int64_t)(s->last.kmem - s->prev.kmem);
	d->usage += (int64_t)(s->last.usage - s->prev.usage);
	d->slab += (int64_t)(s->last.stat_slab - s->prev.stat_slab);
	d->percpu += (int64_t)(s->last.stat_percpu - s->prev.stat_percpu);
	d->vmalloc += (int64_t)(s->last.stat_vmalloc - s->prev.stat_vmalloc);
}

int ksession_step(struct ksession *s, const struct kms_kactor_req *req,
		  struct kms_kactor_reply *rep, unsigned int settle_ms, int64_t *delta)
{
	struct kms_kcgroup_counters c, before = s->last;
	uint64_t start = s->kmem;
	unsigned int waited = settle_ms;
	int ret = kms_kactor_call(&s->actor, req, rep);

	if (ret)
		return ret;
	if (settle_ms)
		sleep_ms(settle_ms);
	ret = ksession_read(s, &c);
	/*
	 * Frees that go through RCU and workqueues (a map with bpf_mem_alloc
	 * caches waits for RCU-tasks-trace grace periods) can take longer than
	 * any fixed wait: after a settling step, read every 100 ms until the
	 * reading has not moved for @settle_ms (at most SETTLE_MAX_MS).
	 */
	for (unsigned int still = 0; !ret && settle_ms && waited < SETTLE_MAX_MS; ) {
		uint64_t last = c.kmem;

		sleep_ms(100);
		waited += 100;
		ret = ksession_read(s, &c);
		still = c.kmem == last ? still + 100 : 0;
		if (still >= settle_ms)
			break;
	}
	if (ret)
		return ret;
	s->prev = before;	/* the step's delta is from before it to the settled reading */
	*delta = (int64_t)(c.kmem - start);
	return 0;
}

struct kms_kactor_req ksession_req(uint32_t op)
{
	struct kms_kactor_req r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.handle = -1;
	r.spec.inner_map_fd = -1;
	r.spec.btf_fd = -1;
	r.value_handle = -1;
	r.cpu = -1;
	return r;
}
