// SPDX-License-Identifier: MIT
/*
 * The strace importer, on every real log in traces/shared/, traces/strace/ and traces/real/:
 * event counts against a plain text scan of the log written here (no code of
 * the importer), decoded fields against values read off the logs by hand, and
 * the -f forms (unfinished calls, children speaking before their parent's
 * clone returns) on small logs written in the test.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "trace_test.h"

/* ---- an independent count of what a log holds ---- */

struct counts {
	unsigned int bpf[KMS_NR_BPF_CMDS];
	unsigned int bpf_failed, close, dup, fork, exec, rlimit, exit;
};

struct pending {
	int pid;
	char text[8192];
};

static bool has(const char *s, const char *w)
{
	return strstr(s, w) != NULL;
}

static bool begins(const char *s, const char *w)
{
	return strncmp(s, w, strlen(w)) == 0;
}

/*
 * The number after the last " = " of a finished call, or -1. strace pads
 * short calls to a column: "vfork()         = 24208".
 */
static long result_of(const char *s)
{
	const char *eq = NULL, *p = s;

	while ((p = strstr(p, " = ")) != NULL)
		eq = p++;
	return eq ? strtol(eq + 3, NULL, 0) : -1;
}

static void count_call(struct counts *c, const char *s)
{
	if (begins(s, "bpf(")) {
		const char *b = strstr(s, "BPF_");
		char name[64];
		size_t n = 0;

		assert_non_null(b);
		for (b += 4; (*b >= 'A' && *b <= 'Z') || *b == '_'; b++)
			name[n++] = *b == '_' ? '_' : (char)(*b - 'A' + 'a');
		name[n] = '\0';
		for (int i = 0; i < KMS_NR_BPF_CMDS; i++)
			if (strcmp(kms_bpf_cmd_name((enum kms_bpf_cmd)i), name) == 0)
				c->bpf[i]++;
		if (has(s, ") = -1 E"))
			c->bpf_failed++;
	} else if (begins(s, "close(")) {
		c->close++;
	} else if (begins(s, "dup(") || begins(s, "dup2(") || begins(s, "dup3(") ||
		   (begins(s, "fcntl(") && has(s, "F_DUPFD"))) {
		c->dup++;
	} else if (begins(s, "clone(") || begins(s, "clone3(") || begins(s, "vfork(") ||
		   begins(s, "fork(")) {
		if (result_of(s) > 0)
			c->fork++;
	} else if (begins(s, "execve(")) {
		if (result_of(s) == 0)
			c->exec++;
	} else if ((begins(s, "prlimit64(") && has(s, "RLIMIT_MEMLOCK") &&
		    !has(s, "RLIMIT_MEMLOCK */, NULL") && !has(s, "RLIMIT_MEMLOCK, NULL")) ||
		   (begins(s, "setrlimit(") && has(s, "RLIMIT_MEMLOCK"))) {
		c->rlimit++;
	}
}

static void scan_log(const char *path, struct counts *c)
{
	static struct pending pend[64];
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	memset(c, 0, sizeof(*c));
	memset(pend, 0, sizeof(pend));
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		char *s, full[16384];
		int pid = atoi(line);

		line[strcspn(line, "\n")] = '\0';
		s = strchr(line, ' ');	/* past the pid */
		assert_non_null(s);
		while (*s == ' ')
			s++;
		s = strchr(s, ' ');	/* past the time */
		assert_non_null(s);
		s++;
		if (begins(s, "+++ exited with") || begins(s, "+++ killed by")) {
			c->exit++;
			continue;
		}
		if (has(s, " <unfinished ...>")) {
			size_t i;

			for (i = 0; i < 64 && pend[i].pid && pend[i].pid != pid; i++)
				;
			assert_true(i < 64);
			pend[i].pid = pid;
			snprintf(pend[i].text, sizeof(pend[i].text), "%.*s",
				 (int)(strstr(s, " <unfinished ...>") - s), s);
			continue;
		}
		if (begins(s, "<... ")) {
			size_t i;

			for (i = 0; i < 64 && pend[i].pid != pid; i++)
				;
			assert_true(i < 64);
			snprintf(full, sizeof(full), "%s%s", pend[i].text,
				 strstr(s, " resumed>") + 9);
			pend[i].text[0] = '\0';
			s = full;
		}
		count_call(c, s);
	}
	free(line);
	fclose(f);
}

/* ---- the importer's view ---- */

struct import {
	unsigned int kinds[KMS_NR_EVENT_KINDS];
	unsigned int bpf[KMS_NR_BPF_CMDS];
	unsigned int bpf_failed;
	unsigned int events;
};

#define MAX_TASKS 4096

/* Import @path; also check that every event's task was introduced by a
 * task_new or a fork before it, and that seq and time never go back. */
static void import_log(const char *path, struct import *im)
{
	static int32_t known[MAX_TASKS];
	unsigned int nknown = 0;
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;
	uint64_t last_seq = 0, last_t = 0;
	int ret;

	memset(im, 0, sizeof(*im));
	ret = kms_trace_open(path, NULL, &r, &err);
	if (ret)
		fail_msg("%s: %s", path, err.msg);
	assert_int_equal(kms_trace_reader_format(r), KMS_TRACE_STRACE);
	while ((ret = kms_trace_read_next(r, &ev)) == 1) {
		bool found = false;

		im->events++;
		im->kinds[ev.kind]++;
		assert_true(ev.seq > last_seq);
		assert_true(ev.time_ns >= last_t);
		last_seq = ev.seq;
		last_t = ev.time_ns;
		if (ev.kind == KMS_EV_BPF) {
			im->bpf[ev.u.bpf.cmd]++;
			if (ev.has_ret && ev.ret < 0)
				im->bpf_failed++;
		}
		if (ev.kind == KMS_EV_TASK_NEW) {
			assert_true(nknown < MAX_TASKS);
			known[nknown++] = ev.tid;
			continue;
		}
		for (unsigned int i = 0; i < nknown && !found; i++)
			found = known[i] == ev.tid;
		if (!found)
			fail_msg("%s:%u: task %d before its fork", path, ev.line, ev.tid);
		if (ev.kind == KMS_EV_FORK) {
			assert_true(nknown < MAX_TASKS);
			known[nknown++] = ev.u.task.child;
		}
	}
	if (ret < 0) {
		char msg[512];

		kms_trace_error_format(kms_trace_reader_error(r), msg, sizeof(msg));
		fail_msg("%s", msg);
	}
	kms_trace_reader_free(r);
}

static const char *const logs[] = {
	"traces/shared/biolatency.strace",
	"traces/shared/bpftool_hash_pin_default_format.strace",
	"traces/shared/bpftool_map_create.strace",
	"traces/shared/bpftool_update_default_format.strace",
	"traces/shared/bt_read_hist.strace",
	"traces/shared/bt_setuids.strace",
	"traces/shared/bt_softirq_lat.strace",
	"traces/shared/execsnoop.strace",
	"traces/shared/fail_tcpconnect.strace",
	"traces/shared/hardirqs.strace",
	"traces/shared/opensnoop.strace",
	"traces/shared/runqlat.strace",
	"traces/shared/softirqs.strace",
	"traces/shared/xdp_filter.strace",
	"traces/strace/batch_default.strace",
	"traces/strace/batch_verbose.strace",
	"traces/strace/attach_default.strace",
	"traces/strace/attach_verbose.strace",
	/* recorded here by scripts/record-real-traces */
	"traces/real/bashreadline.strace",
	"traces/real/biolatency.strace",
	"traces/real/bpftool_maps.strace",
	"traces/real/bpftool_maps_default.strace",
	"traces/real/bpftool_progs.strace",
	"traces/real/bt_openat_comm.strace",
	"traces/real/bt_read_lat.strace",
	"traces/real/bt_softirq_cpu.strace",
	"traces/real/bt_softirq_vec.strace",
	"traces/real/execsnoop.strace",
	"traces/real/execsnoop_default.strace",
	"traces/real/exitsnoop.strace",
	"traces/real/fail_tcpconnect.strace",
	"traces/real/fail_vfsstat.strace",
	"traces/real/hardirqs.strace",
	"traces/real/opensnoop.strace",
	"traces/real/runqlat.strace",
	"traces/real/sigsnoop.strace",
	"traces/real/softirqs.strace",
	"traces/real/syscount.strace",
};

static char *source_path(const char *rel)
{
	const char *root = getenv("KMEMSIM_SOURCE_ROOT");
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", rel);
	return buf;
}

static void test_real_logs_counts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		const char *path = source_path(logs[i]);
		struct counts c;
		struct import im;
		unsigned int nbpf = 0;

		scan_log(path, &c);
		import_log(path, &im);
		for (int k = 0; k < KMS_NR_BPF_CMDS; k++) {
			if (c.bpf[k] != im.bpf[k])
				fail_msg("%s: %u %s lines, %u events", logs[i], c.bpf[k],
					 kms_bpf_cmd_name((enum kms_bpf_cmd)k), im.bpf[k]);
			nbpf += c.bpf[k];
		}
		assert_int_equal(im.kinds[KMS_EV_BPF], nbpf);
		assert_int_equal(im.bpf_failed, c.bpf_failed);
		assert_int_equal(im.kinds[KMS_EV_CLOSE], c.close);
		assert_int_equal(im.kinds[KMS_EV_DUP], c.dup);
		if (im.kinds[KMS_EV_FORK] != c.fork)
			fail_msg("%s: %u clone/fork lines, %u fork events", logs[i], c.fork,
				 im.kinds[KMS_EV_FORK]);
		assert_int_equal(im.kinds[KMS_EV_EXEC], c.exec);
		assert_int_equal(im.kinds[KMS_EV_RLIMIT_MEMLOCK], c.rlimit);
		assert_int_equal(im.kinds[KMS_EV_EXIT], c.exit);
		/* one process started everything: timeout, sh or the test program */
		assert_int_equal(im.kinds[KMS_EV_TASK_NEW], 1);
		assert_true(nbpf > 0);
	}
}

/* Fields read off the logs by hand. */
static struct kms_trace_reader *open_log(const char *rel)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;

	if (kms_trace_open(source_path(rel), NULL, &r, &err))
		fail_msg("%s: %s", rel, err.msg);
	return r;
}

/* The n-th (0-based) event of @kind (and bpf @cmd, or -1). */
static void nth(struct kms_trace_reader *r, enum kms_event_kind kind, int cmd, int n,
		struct kms_event *ev)
{
	while (kms_trace_read_next(r, ev) == 1)
		if (ev->kind == kind && (cmd < 0 || (int)ev->u.bpf.cmd == cmd) && n-- == 0)
			return;
	fail_msg("no such event");
}

static void test_default_rendering(void **state)
{
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	r = open_log("traces/shared/bpftool_hash_pin_default_format.strace");
	/* line 8: prlimit64(0, RLIMIT_MEMLOCK, {rlim_cur=0, rlim_max=8192*1024}, NULL) = 0 */
	nth(r, KMS_EV_RLIMIT_MEMLOCK, -1, 0, &ev);
	assert_int_equal(ev.line, 8);
	assert_int_equal(ev.pid, 6869);
	assert_int_equal(ev.u.task.target, 0);
	assert_int_equal(ev.u.task.cur, 0);
	assert_int_equal(ev.u.task.max, 8192 * 1024);
	assert_int_equal(ev.ret, 0);
	/* line 9: BPF_PROG_LOAD socket_filter, insn_cnt=2, = 3 */
	nth(r, KMS_EV_BPF, KMS_BPF_PROG_LOAD, 0, &ev);
	assert_int_equal(ev.u.bpf.prog_type, KMS_PROG_TYPE_SOCKET_FILTER);
	assert_int_equal(ev.u.bpf.insn_cnt, 2);
	assert_int_equal(ev.u.bpf.expected_attach_type, KMS_ATTACH_CGROUP_INET_INGRESS);
	assert_int_equal(ev.ret, 3);
	nth(r, KMS_EV_BPF, KMS_BPF_PROG_LOAD, 1, &ev);	/* the third */
	assert_string_equal(ev.u.bpf.prog_name, "libbpf_nametest");
	/* line 16: map_type=BPF_MAP_TYPE_HASH, key_size=4, value_size=8,
	 * max_entries=1024, map_flags=BPF_F_NO_PREALLOC, map_name="demo" = 3 */
	nth(r, KMS_EV_BPF, KMS_BPF_MAP_CREATE, 0, &ev);
	assert_int_equal(ev.line, 16);
	assert_int_equal(ev.u.bpf.map_type, KMS_MAP_TYPE_HASH);
	assert_int_equal(ev.u.bpf.key_size, 4);
	assert_int_equal(ev.u.bpf.value_size, 8);
	assert_int_equal(ev.u.bpf.max_entries, 1024);
	assert_int_equal(ev.u.bpf.map_flags, 1);	/* BPF_F_NO_PREALLOC */
	assert_string_equal(ev.u.bpf.map_name, "demo");
	assert_int_equal(ev.ret, 3);
	nth(r, KMS_EV_BPF, KMS_BPF_OBJ_PIN, 0, &ev);
	assert_string_equal(ev.u.bpf.pathname, "/sys/fs/bpf/kms_demo");
	assert_int_equal(ev.u.bpf.bpf_fd, 3);
	nth(r, KMS_EV_EXIT, -1, 0, &ev);
	assert_int_equal(ev.u.task.status, 0);
	assert_false(ev.u.task.thread);
	kms_trace_reader_free(r);

	r = open_log("traces/shared/bpftool_update_default_format.strace");
	nth(r, KMS_EV_BPF, KMS_BPF_OBJ_GET, 0, &ev);
	assert_string_equal(ev.u.bpf.pathname, "/sys/fs/bpf/kms_demo");
	assert_int_equal(ev.ret, 3);
	/* flags=BPF_ANY, = 0: strace shows no key; by default an insert */
	nth(r, KMS_EV_BPF, KMS_BPF_MAP_UPDATE_ELEM, 0, &ev);
	assert_int_equal(ev.u.bpf.map_fd, 3);
	assert_int_equal(ev.u.bpf.flags, KMS_BPF_ANY);
	assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_NEW);
	kms_trace_reader_free(r);
}

static void test_verbose_rendering(void **state)
{
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	r = open_log("traces/shared/biolatency.strace");
	/* 25752 (timeout) clones 25753 (biolatency), no CLONE_FILES */
	nth(r, KMS_EV_FORK, -1, 0, &ev);
	assert_int_equal(ev.pid, 25752);
	assert_int_equal(ev.u.task.child, 25753);
	assert_false(ev.u.task.share_files);
	/* the ninth BTF_LOAD: btf="..."... truncated by -s 128, btf_size=15094 */
	nth(r, KMS_EV_BPF, KMS_BPF_BTF_LOAD, 8, &ev);
	assert_int_equal(ev.u.bpf.btf_size, 15094);
	/* map "start": 0x1 hash, key 8, value 8, 10240 entries, btf 16/23, = 5 */
	nth(r, KMS_EV_BPF, KMS_BPF_MAP_CREATE, 2, &ev);
	assert_string_equal(ev.u.bpf.map_name, "start");
	assert_int_equal(ev.u.bpf.map_type, KMS_MAP_TYPE_HASH);
	assert_int_equal(ev.u.bpf.key_size, 8);
	assert_int_equal(ev.u.bpf.value_size, 8);
	assert_int_equal(ev.u.bpf.max_entries, 10240);
	assert_int_equal(ev.u.bpf.btf_fd, 3);
	assert_int_equal(ev.u.bpf.btf_key_type_id, 16);
	assert_int_equal(ev.u.bpf.btf_value_type_id, 23);
	assert_int_equal(ev.ret, 5);
	/* biolaten.rodata: map_flags=0x480 (BPF_F_RDONLY_PROG|BPF_F_MMAPABLE) */
	nth(r, KMS_EV_BPF, KMS_BPF_MAP_CREATE, 2, &ev);
	assert_string_equal(ev.u.bpf.map_name, "biolaten.rodata");
	assert_int_equal(ev.u.bpf.map_flags, 0x480);
	/* the second load after it, block_rq_issue: tracing, 193 insns,
	 * 2 func_info, 78 line_info, raw_tp */
	nth(r, KMS_EV_BPF, KMS_BPF_PROG_LOAD, 1, &ev);
	assert_int_equal(ev.u.bpf.prog_type, KMS_PROG_TYPE_TRACING);
	assert_int_equal(ev.u.bpf.insn_cnt, 193);
	assert_int_equal(ev.u.bpf.func_info_cnt, 2);
	assert_int_equal(ev.u.bpf.line_info_cnt, 78);
	assert_int_equal(ev.u.bpf.expected_attach_type, KMS_ATTACH_TRACE_RAW_TP);
	assert_int_equal(ev.u.bpf.attach_btf_id, 28915);
	assert_string_equal(ev.u.bpf.prog_name, "block_rq_issue_");
	kms_trace_reader_free(r);

	/* forks: 29188 -> 29189 (clone), 29189 -> 29190 (clone3 CLONE_VM|CLONE_VFORK:
	 * posix_spawn, no CLONE_FILES), 29190 -> 29191 (vfork), then threads:
	 * clone3 with CLONE_VM|...|CLONE_FILES|CLONE_THREAD */
	r = open_log("traces/shared/bt_read_hist.strace");
	nth(r, KMS_EV_FORK, -1, 1, &ev);
	assert_int_equal(ev.u.task.child, 29190);
	assert_false(ev.u.task.share_files);
	assert_false(ev.u.task.thread);
	nth(r, KMS_EV_FORK, -1, 1, &ev);
	assert_int_equal(ev.pid, 29189);
	assert_int_equal(ev.u.task.child, 29192);
	assert_true(ev.u.task.share_files);
	assert_true(ev.u.task.thread);
	/* the thread's own calls are the process's: pid 29189, tid 29192 */
	while (kms_trace_read_next(r, &ev) == 1 && ev.tid != 29192)
		;
	assert_int_equal(ev.pid, 29189);
	kms_trace_reader_free(r);

	/* a refused RLIMIT_MEMLOCK raise: {RLIM64_INFINITY, RLIM64_INFINITY} = -1 EPERM */
	r = open_log("traces/shared/bt_setuids.strace");
	nth(r, KMS_EV_RLIMIT_MEMLOCK, -1, 0, &ev);
	assert_int_equal(ev.u.task.cur, KMS_TRACE_UNLIMITED);
	assert_int_equal(ev.u.task.max, KMS_TRACE_UNLIMITED);
	assert_int_equal(ev.ret, -EPERM);
	kms_trace_reader_free(r);
}

/* traces/strace/batch.c, run under strace: what each call returned. */
static void test_batch_and_dup(void **state)
{
	static const char *const files[] = { "traces/strace/batch_default.strace",
					     "traces/strace/batch_verbose.strace" };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct kms_trace_reader *r = open_log(files[i]);
		struct kms_event ev;

		nth(r, KMS_EV_BPF, KMS_BPF_MAP_UPDATE_BATCH, 0, &ev);
		assert_int_equal(ev.u.bpf.count, 4);
		assert_int_equal(ev.u.bpf.count_out, 4);
		assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_NEW);
		/* BPF_NOEXIST on key 1, present: -EEXIST, so the key existed */
		nth(r, KMS_EV_BPF, KMS_BPF_MAP_UPDATE_ELEM, 0, &ev);
		assert_int_equal(ev.u.bpf.flags, KMS_BPF_NOEXIST);
		assert_int_equal(ev.ret, -EEXIST);
		assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_EXISTING);
		/* key 9 into a full map of 4: -E2BIG, a new key */
		assert_int_equal(kms_trace_read_next(r, &ev), 1);
		assert_int_equal(ev.ret, -E2BIG);
		assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_NEW);
		/* deleting keys 1 and 2 when 2 is gone: 1 done, -ENOENT */
		nth(r, KMS_EV_BPF, KMS_BPF_MAP_DELETE_BATCH, 0, &ev);
		assert_int_equal(ev.u.bpf.count, 2);
		assert_int_equal(ev.u.bpf.count_out, 1);
		assert_int_equal(ev.ret, -ENOENT);
		nth(r, KMS_EV_BPF, KMS_BPF_MAP_DELETE_ELEM, 0, &ev);
		assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_NEW);	/* not in the map */
		/* dup(3) = 4; fcntl(3, F_DUPFD_CLOEXEC, 10) = 11; dup2(3, 20) = 20 */
		nth(r, KMS_EV_DUP, -1, 0, &ev);
		assert_int_equal(ev.u.fd.fd, 3);
		assert_int_equal(ev.u.fd.newfd, -1);
		assert_int_equal(ev.ret, 4);
		nth(r, KMS_EV_DUP, -1, 0, &ev);
		assert_true(ev.u.fd.cloexec);
		assert_int_equal(ev.ret, 11);
		nth(r, KMS_EV_DUP, -1, 0, &ev);
		assert_int_equal(ev.u.fd.newfd, 20);
		assert_false(ev.u.fd.cloexec);
		kms_trace_reader_free(r);
	}
}

/* traces/strace/attach.c: a cgroup_skb program attached to cgroup v2 mounted at
 * /tmp/kms-cg2, directory app; the detach of an ALLOW_MULTI attach without the
 * program's fd fails with -EINVAL. */
static void test_attach(void **state)
{
	struct kms_strace_options o;
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;

	(void)state;
	kms_strace_options_init(&o);
	o.cgroup_root = "/tmp/kms-cg2/";
	assert_int_equal(kms_trace_open(source_path("traces/strace/attach_verbose.strace"), &o,
					&r, &err), 0);
	nth(r, KMS_EV_BPF, KMS_BPF_PROG_LOAD, 0, &ev);
	assert_int_equal(ev.u.bpf.prog_type, KMS_PROG_TYPE_CGROUP_SKB);
	assert_string_equal(ev.u.bpf.prog_name, "kms_egress");
	nth(r, KMS_EV_BPF, KMS_BPF_PROG_ATTACH, 0, &ev);
	assert_int_equal(ev.u.bpf.prog_fd, 3);
	assert_int_equal(ev.u.bpf.target_fd, 4);
	assert_string_equal(ev.u.bpf.target, "/app");
	assert_int_equal(ev.u.bpf.attach_type, KMS_ATTACH_CGROUP_INET_EGRESS);
	assert_int_equal(ev.u.bpf.attach_flags, 2);	/* BPF_F_ALLOW_MULTI */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.cmd, KMS_BPF_PROG_DETACH);
	assert_int_equal(ev.ret, -EINVAL);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.cmd, KMS_BPF_LINK_CREATE);
	assert_string_equal(ev.u.bpf.target, "/app");
	assert_int_equal(ev.ret, 5);
	kms_trace_reader_free(r);

	/* the default rendering: attach_flags=BPF_F_ALLOW_MULTI, no fd paths */
	r = open_log("traces/strace/attach_default.strace");
	nth(r, KMS_EV_BPF, KMS_BPF_PROG_ATTACH, 0, &ev);
	assert_int_equal(ev.u.bpf.attach_flags, 2);
	assert_null(ev.u.bpf.target);
	kms_trace_reader_free(r);
}

/* ---- small logs for the -f forms ---- */

static struct kms_trace_reader *open_strace(const char *text, const struct kms_strace_options *o)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;

	if (kms_trace_open_mem(text, strlen(text), "s.strace", o, &r, &err))
		fail_msg("%u:%u %s", err.line, err.column, err.msg);
	assert_int_equal(kms_trace_reader_format(r), KMS_TRACE_STRACE);
	return r;
}

static void test_unfinished_and_early_child(void **state)
{
	static const char text[] =
		"100 1.000000 vfork( <unfinished ...>\n"
		"101 1.000010 bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_ARRAY, key_size=4, "
		"value_size=4, max_entries=1 <unfinished ...>\n"
		"100 1.000020 <... vfork resumed>) = 101\n"
		"101 1.000030 <... bpf resumed>, map_name=\"x\"}, 72) = 3\n"
		"101 1.000040 +++ killed by SIGKILL +++\n";
	struct kms_trace_reader *r = open_strace(text, NULL);
	struct kms_event ev;

	(void)state;
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_TASK_NEW);
	assert_int_equal(ev.pid, 100);
	/* 101 speaks before vfork() returns in 100: the fork comes first */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_FORK);
	assert_int_equal(ev.pid, 100);
	assert_int_equal(ev.u.task.child, 101);
	assert_false(ev.u.task.share_files);
	assert_int_equal(ev.line, 2);
	/* the bpf call, joined across its two lines, at the resumption */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_BPF);
	assert_int_equal(ev.line, 4);
	assert_int_equal(ev.time_ns, 1000030000ull);
	assert_int_equal(ev.u.bpf.map_type, KMS_MAP_TYPE_ARRAY);
	assert_int_equal(ev.u.bpf.max_entries, 1);
	assert_string_equal(ev.u.bpf.map_name, "x");
	assert_int_equal(ev.ret, 3);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_EXIT);
	assert_int_equal(ev.u.task.status, 128 + 9);
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	kms_trace_reader_free(r);
}

static void test_prefix_forms_and_options(void **state)
{
	static const char text[] =
		"[pid  7] 12:00:01.500000 setrlimit(RLIMIT_MEMLOCK, {rlim_cur=64*1024, "
		"rlim_max=RLIM64_INFINITY}) = 0\n"
		"[pid  7] 12:00:02.000000 prlimit64(9, RLIMIT_MEMLOCK, {rlim_cur=0, rlim_max=0}, "
		"NULL) = -1 EPERM (Operation not permitted)\n"
		"[pid  7] 12:00:03 bpf(BPF_MAP_UPDATE_ELEM, {map_fd=3, key=0x1, value=0x2, "
		"flags=BPF_ANY}, 32) = 0\n"
		"[pid  7] 12:00:04 --- SIGCHLD {si_signo=SIGCHLD} ---\n"
		"[pid  7] 12:00:05 bpf(BPF_MAP_FREEZE, {map_fd=3} <detached ...>\n"
		"[pid  7] 12:00:06 ioctl(3, TCGETS, {B38400 opost isig icanon echo ...}) = 0\n"
		"[pid  7] 12:00:07 rt_sigreturn({mask=[]}) = 0\n"
		"[pid  7] 12:00:08 weird(unbalanced {( = what\n";
	struct kms_strace_options o;
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	kms_strace_options_init(&o);
	o.cgroup = "/app";
	o.uid = 1000;
	o.cpu = 1;
	o.any_update_inserts = false;
	r = open_strace(text, &o);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_TASK_NEW);
	assert_int_equal(ev.uid, 1000);
	assert_string_equal(ev.cgroup, "/app");
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_RLIMIT_MEMLOCK);
	assert_int_equal(ev.pid, 7);
	assert_int_equal(ev.cpu, 1);
	assert_int_equal(ev.time_ns, (12ull * 3600 + 1) * 1000000000ull + 500000000ull);
	assert_int_equal(ev.u.task.cur, 65536);
	assert_int_equal(ev.u.task.max, KMS_TRACE_UNLIMITED);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.task.target, 9);
	assert_int_equal(ev.ret, -EPERM);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_NONE);	/* --any-unknown */
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	assert_non_null(strstr(kms_trace_reader_assumptions(r), "uid=1000 in cgroup /app"));
	assert_non_null(strstr(kms_trace_reader_notes(r), "1 calls were cut by strace detaching"));
	kms_trace_reader_free(r);
}

/* A line of a million '{' must not recurse a million times. */
static void test_deep_nesting(void **state)
{
	size_t n = 1000000, len;
	char *text = malloc(n + 64);
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;

	(void)state;
	if (!text) {
		fail_msg("out of memory");
		return;
	}
	len = (size_t)sprintf(text, "1 1.0 bpf(BPF_MAP_CREATE, ");
	memset(text + len, '{', n);
	strcpy(text + len + n, "\n");
	assert_int_equal(kms_trace_open_mem(text, strlen(text), "deep", NULL, &r, &err), 0);
	assert_int_equal(kms_trace_read_next(r, &ev), -EINVAL);
	assert_non_null(strstr(kms_trace_reader_error(r)->msg, "malformed"));
	kms_trace_reader_free(r);
	free(text);
}

static void test_malformed(void **state)
{
	static const struct bad bad[] = {
		{ "1 1.0 bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_HASHX}, 72) = 3\n",
		  1, 37, "unknown name" },
		{ "1 1.0 bpf(0x99 /* BPF_NEW */, {}, 8) = 0\n", 1, 11, "unknown bpf command" },
		{ "1 1.0 bpf(BPF_MAP_CREATE, {map_type=0x63 /* X */}, 72) = 3\n", 1, 37,
		  "unknown enum value" },
		{ "1 1.0 bpf(BPF_MAP_CREATE, {key_size=4\n", 1, 38, "malformed system call" },
		{ "1 1.0 bpf(BPF_MAP_FREEZE, {map_fd=x}, 4) = 0\n", 1, 35, "expected a number" },
		{ "1 1.0 close(3) = 0\n1 1.1 <... bpf resumed>) = 0\n", 2, 7,
		  "not unfinished" },
		{ "1 1.0 close(3) = 0\n1 1.1 +++ gone +++\n", 2, 7, "unknown '+++' line" },
		{ "1 1.0 close(3) = 0\nhello\n", 2, 1, "expected an strace line" },
		{ "1 1.0 close(3) = what\n", 1, 18, "malformed system call" },
		/* found by the fuzzer: strace prints failures as -1 ERRNO only */
		{ "1 1.0 close(3) = -16869\n", 1, 18, "malformed system call" },
		{ "1 1.0 close(99999999999) = 0\n", 1, 13, "out of range" },
		{ "1 1.0 vfork() = 99999999999\n", 1, 17, "pid out of range" },
		{ "1 1.0 fcntl(3) = 0\n", 1, 7, "fcntl() without a command" },
		/* past 2^64 ns */
		{ "1 18446744073.0 close(3) = 0\n", 1, 1, "expected an strace line" },
		{ "1 1.0 close(3) = 0\n1 1.0 CLOSE(3) = 0\n", 2, 7, "expected an strace line" },
	};

	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		failed += !expect_error("s.strace", &bad[i]);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_logs_counts),
		cmocka_unit_test(test_default_rendering),
		cmocka_unit_test(test_verbose_rendering),
		cmocka_unit_test(test_batch_and_dup),
		cmocka_unit_test(test_attach),
		cmocka_unit_test(test_unfinished_and_early_child),
		cmocka_unit_test(test_prefix_forms_and_options),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_deep_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
