// SPDX-License-Identifier: MIT
/*
 * The native writer: parse(write(x)) == x for every event kind and every
 * bpf(2) command, each with every field it carries set away from its default.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "trace_test.h"

static void assert_str_same(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_keys_same(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb)
{
	assert_int_equal(na, nb);
	for (uint32_t i = 0; i < na; i++)
		assert_int_equal(a[i], b[i]);
}

static void assert_bpf_same(const struct kms_ev_bpf *a, const struct kms_ev_bpf *b)
{
	assert_int_equal(a->cmd, b->cmd);
	assert_int_equal(a->map_type, b->map_type);
	assert_int_equal(a->key_size, b->key_size);
	assert_int_equal(a->value_size, b->value_size);
	assert_int_equal(a->max_entries, b->max_entries);
	assert_int_equal(a->map_flags, b->map_flags);
	assert_int_equal(a->inner_map_fd, b->inner_map_fd);
	assert_int_equal(a->numa_node, b->numa_node);
	assert_int_equal(a->map_ifindex, b->map_ifindex);
	assert_str_same(a->map_name, b->map_name);
	assert_int_equal(a->btf_fd, b->btf_fd);
	assert_int_equal(a->btf_key_type_id, b->btf_key_type_id);
	assert_int_equal(a->btf_value_type_id, b->btf_value_type_id);
	assert_int_equal(a->btf_vmlinux_value_type_id, b->btf_vmlinux_value_type_id);
	assert_int_equal(a->map_extra, b->map_extra);
	assert_int_equal(a->map_fd, b->map_fd);
	assert_int_equal(a->key_kind, b->key_kind);
	assert_int_equal(a->key, b->key);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->count_out, b->count_out);
	assert_int_equal(a->elem_flags, b->elem_flags);
	assert_keys_same(a->keys, a->nr_keys, b->keys, b->nr_keys);
	assert_int_equal(a->prog_type, b->prog_type);
	assert_int_equal(a->insn_cnt, b->insn_cnt);
	assert_int_equal(a->xlated_insn_cnt, b->xlated_insn_cnt);
	assert_int_equal(a->func_info_cnt, b->func_info_cnt);
	assert_int_equal(a->line_info_cnt, b->line_info_cnt);
	assert_int_equal(a->expected_attach_type, b->expected_attach_type);
	assert_int_equal(a->prog_flags, b->prog_flags);
	assert_str_same(a->prog_name, b->prog_name);
	assert_int_equal(a->prog_btf_fd, b->prog_btf_fd);
	assert_int_equal(a->attach_btf_id, b->attach_btf_id);
	assert_int_equal(a->attach_prog_fd, b->attach_prog_fd);
	assert_int_equal(a->btf_size, b->btf_size);
	assert_str_same(a->pathname, b->pathname);
	assert_int_equal(a->bpf_fd, b->bpf_fd);
	assert_int_equal(a->file_flags, b->file_flags);
	assert_int_equal(a->prog_fd, b->prog_fd);
	assert_int_equal(a->target_fd, b->target_fd);
	assert_str_same(a->target, b->target);
	assert_int_equal(a->attach_type, b->attach_type);
	assert_int_equal(a->attach_flags, b->attach_flags);
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->open_flags, b->open_flags);
}

static void assert_event_same(const struct kms_event *a, const struct kms_event *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->time_ns, b->time_ns);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->cpu, b->cpu);
	assert_int_equal(a->ctx, b->ctx);
	assert_str_same(a->cgroup, b->cgroup);
	assert_int_equal(a->has_ret, b->has_ret);
	assert_int_equal(a->ret, b->ret);
	switch (a->kind) {
	case KMS_EV_CGROUP_CREATE:
	case KMS_EV_CGROUP_REMOVE:
	case KMS_EV_CGROUP_SET:
		assert_str_same(a->u.cg.path, b->u.cg.path);
		assert_int_equal(a->u.cg.set_max, b->u.cg.set_max);
		assert_int_equal(a->u.cg.set_high, b->u.cg.set_high);
		assert_int_equal(a->u.cg.max, b->u.cg.max);
		assert_int_equal(a->u.cg.high, b->u.cg.high);
		break;
	case KMS_EV_TASK_NEW:
	case KMS_EV_FORK:
	case KMS_EV_EXEC:
	case KMS_EV_TASK_MOVE:
	case KMS_EV_EXIT:
	case KMS_EV_RLIMIT_MEMLOCK:
	case KMS_EV_LOCKED_VM_OTHER:
		assert_int_equal(a->u.task.child, b->u.task.child);
		assert_int_equal(a->u.task.share_files, b->u.task.share_files);
		assert_int_equal(a->u.task.thread, b->u.task.thread);
		assert_int_equal(a->u.task.status, b->u.task.status);
		assert_str_same(a->u.task.path, b->u.task.path);
		assert_int_equal(a->u.task.target, b->u.task.target);
		assert_int_equal(a->u.task.has_cur, b->u.task.has_cur);
		assert_int_equal(a->u.task.has_max, b->u.task.has_max);
		assert_int_equal(a->u.task.cur, b->u.task.cur);
		assert_int_equal(a->u.task.max, b->u.task.max);
		assert_int_equal(a->u.task.pages, b->u.task.pages);
		break;
	case KMS_EV_CLOSE:
	case KMS_EV_DUP:
		assert_int_equal(a->u.fd.fd, b->u.fd.fd);
		assert_int_equal(a->u.fd.newfd, b->u.fd.newfd);
		assert_int_equal(a->u.fd.cloexec, b->u.fd.cloexec);
		break;
	case KMS_EV_BPF:
		assert_bpf_same(&a->u.bpf, &b->u.bpf);
		break;
	case KMS_EV_PROG_UPDATE:
	case KMS_EV_PROG_DELETE:
		assert_int_equal(a->u.prog.map_fd, b->u.prog.map_fd);
		assert_int_equal(a->u.prog.map_id, b->u.prog.map_id);
		assert_int_equal(a->u.prog.count, b->u.prog.count);
		assert_int_equal(a->u.prog.key_kind, b->u.prog.key_kind);
		assert_keys_same(a->u.prog.keys, a->u.prog.nr_keys, b->u.prog.keys,
				 b->u.prog.nr_keys);
		assert_int_equal(a->u.prog.flags, b->u.prog.flags);
		break;
	case KMS_EV_EXPECT:
		assert_str_same(a->u.expect.profile, b->u.expect.profile);
		assert_str_same(a->u.expect.set, b->u.expect.set);
		assert_int_equal(a->u.expect.what, b->u.expect.what);
		assert_int_equal(a->u.expect.rel, b->u.expect.rel);
		assert_int_equal(a->u.expect.of_seq, b->u.expect.of_seq);
		assert_str_same(a->u.expect.cgroup, b->u.expect.cgroup);
		assert_int_equal(a->u.expect.user, b->u.expect.user);
		assert_str_same(a->u.expect.counter, b->u.expect.counter);
		assert_int_equal(a->u.expect.value, b->u.expect.value);
		assert_int_equal(a->u.expect.value_max, b->u.expect.value_max);
		break;
	default:
		fail_msg("unknown kind %d", a->kind);
	}
}

/* Write @ev, read it back, compare. */
static void roundtrip(const struct kms_event *ev)
{
	char buf[4096];
	struct kms_trace_reader *r;
	struct kms_event back;
	int n = kms_trace_format_event(ev, buf + strlen(HDR), sizeof(buf) - strlen(HDR));

	assert_true(n > 0);
	memcpy(buf, HDR, strlen(HDR));
	buf[strlen(HDR) + (size_t)n] = '\0';
	r = open_text(buf);
	if (kms_trace_read_next(r, &back) != 1) {
		char msg[512];

		kms_trace_error_format(kms_trace_reader_error(r), msg, sizeof(msg));
		fail_msg("%s: %s", buf + strlen(HDR), msg);
	}
	back.line = ev->line;
	assert_event_same(ev, &back);
	assert_int_equal(kms_trace_read_next(r, &back), 0);
	kms_trace_reader_free(r);
}

/* Who did it, all away from the defaults. */
static void base(struct kms_event *ev, enum kms_event_kind kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->seq = 42;
	ev->time_ns = 1795751100435038123ull;
	ev->pid = 25753;
	ev->tid = 25754;
	ev->uid = 1000;
	ev->cgroup = "/sys slice/a\"b";
	ev->cpu = 3;
	ev->ctx = KMS_CTX_HARDIRQ;
	ev->has_ret = true;
	ev->ret = -EPERM;
}

static const uint64_t keys[] = { 0xcbf29ce484222325ull, 1, UINT64_MAX };

static void fill_bpf(struct kms_event *ev, enum kms_bpf_cmd cmd)
{
	struct kms_ev_bpf *b = &ev->u.bpf;

	base(ev, KMS_EV_BPF);
	b->cmd = cmd;
	ev->ret = 7;
	switch (cmd) {
	case KMS_BPF_MAP_CREATE:
		b->map_type = KMS_MAP_TYPE_LRU_PERCPU_HASH;
		b->key_size = 4;
		b->value_size = 3 << 20;
		b->max_entries = UINT32_MAX;
		b->map_flags = 1 | 1024 | (1u << 30);	/* a bit no kernel defines */
		b->inner_map_fd = 9;
		b->numa_node = 1;
		b->map_ifindex = 2;
		b->map_name = "with space\tand \\ # \xc3\xa9";
		b->btf_fd = 3;
		b->btf_key_type_id = 16;
		b->btf_value_type_id = 23;
		b->btf_vmlinux_value_type_id = 5;
		b->map_extra = UINT64_MAX;
		break;
	case KMS_BPF_MAP_LOOKUP_ELEM:
	case KMS_BPF_MAP_UPDATE_ELEM:
	case KMS_BPF_MAP_DELETE_ELEM:
	case KMS_BPF_MAP_GET_NEXT_KEY:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		b->map_fd = 5;
		b->key_kind = KMS_KEY_ID;
		b->key = 0x85944171f73967e8ull;
		/* flags: update's, and BPF_F_LOCK of the lookups */
		if (cmd != KMS_BPF_MAP_DELETE_ELEM && cmd != KMS_BPF_MAP_GET_NEXT_KEY)
			b->flags = KMS_BPF_EXIST | KMS_BPF_F_LOCK | 0x100;
		break;
	case KMS_BPF_MAP_LOOKUP_BATCH:
	case KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case KMS_BPF_MAP_UPDATE_BATCH:
	case KMS_BPF_MAP_DELETE_BATCH:
		b->map_fd = 5;
		b->count = 3;
		b->count_out = 2;
		b->elem_flags = KMS_BPF_NOEXIST;
		b->key_kind = KMS_KEY_NEW;
		b->keys = keys;
		b->nr_keys = 3;
		break;
	case KMS_BPF_MAP_FREEZE:
		b->map_fd = 5;
		break;
	case KMS_BPF_PROG_BIND_MAP:
		b->map_fd = 5;
		b->prog_fd = 6;
		break;
	case KMS_BPF_PROG_LOAD:
		b->prog_type = KMS_PROG_TYPE_TRACING;
		b->insn_cnt = 193;
		b->xlated_insn_cnt = 200;
		b->func_info_cnt = 2;
		b->line_info_cnt = 78;
		b->expected_attach_type = KMS_ATTACH_TRACE_RAW_TP;
		b->prog_flags = 8;
		b->prog_name = "block_rq_issue_";
		b->prog_btf_fd = 3;
		b->attach_btf_id = 28915;
		b->attach_prog_fd = 4;
		break;
	case KMS_BPF_BTF_LOAD:
		b->btf_size = 15094;
		break;
	case KMS_BPF_OBJ_PIN:
		b->bpf_fd = 3;
		/* fall through */
	case KMS_BPF_OBJ_GET:
		b->pathname = "/sys/fs/bpf/x";
		b->file_flags = 1;
		break;
	case KMS_BPF_OBJ_GET_INFO_BY_FD:
		b->bpf_fd = 3;
		break;
	case KMS_BPF_LINK_CREATE:
		b->flags = 1;
		/* fall through */
	case KMS_BPF_PROG_ATTACH:
	case KMS_BPF_PROG_DETACH:
		b->prog_fd = 10;
		b->target_fd = 4;
		b->target = "/app";
		b->attach_type = KMS_ATTACH_CGROUP_INET_EGRESS;
		if (cmd != KMS_BPF_LINK_CREATE)
			b->attach_flags = 2;
		break;
	case KMS_BPF_PROG_GET_FD_BY_ID:
	case KMS_BPF_MAP_GET_FD_BY_ID:
	case KMS_BPF_BTF_GET_FD_BY_ID:
	case KMS_BPF_LINK_GET_FD_BY_ID:
		b->id = 5294;
		b->open_flags = 8;
		break;
	case KMS_BPF_PROG_TEST_RUN:
	case KMS_BPF_RAW_TRACEPOINT_OPEN:
		b->prog_fd = 13;
		break;
	default:
		break;	/* commands the model does not look into: the result only */
	}
}

static void test_every_bpf_command(void **state)
{
	struct kms_event ev;

	(void)state;
	for (int cmd = 0; cmd < KMS_NR_BPF_CMDS; cmd++) {
		fill_bpf(&ev, (enum kms_bpf_cmd)cmd);
		roundtrip(&ev);
		/* and with every optional field at its default */
		base(&ev, KMS_EV_BPF);
		ev.u.bpf.cmd = (enum kms_bpf_cmd)cmd;
		ev.has_ret = false;
		ev.ret = 0;
		ev.uid = KMS_UID_UNSET;
		ev.cgroup = NULL;
		ev.tid = ev.pid;
		roundtrip(&ev);
	}
	/* the key kinds strace imports give */
	fill_bpf(&ev, KMS_BPF_MAP_UPDATE_ELEM);
	ev.u.bpf.key_kind = KMS_KEY_NEW;
	ev.u.bpf.key = 0;
	roundtrip(&ev);
	ev.u.bpf.key_kind = KMS_KEY_EXISTING;
	roundtrip(&ev);
	/* results: fds, named errnos, unnamed ones */
	ev.ret = -E2BIG;
	roundtrip(&ev);
	ev.ret = -4000;
	roundtrip(&ev);
	ev.ret = INT64_MAX;
	roundtrip(&ev);
}

static void test_every_event_kind(void **state)
{
	struct kms_event ev;

	(void)state;
	for (int k = 0; k < KMS_NR_EVENT_KINDS; k++) {
		if (k == KMS_EV_BPF)
			continue;	/* test_every_bpf_command */
		base(&ev, (enum kms_event_kind)k);
		switch (k) {
		case KMS_EV_CGROUP_CREATE:
		case KMS_EV_CGROUP_REMOVE:
			ev.u.cg.path = "/a/b";
			break;
		case KMS_EV_CGROUP_SET:
			ev.u.cg.path = "/";
			ev.u.cg.set_max = ev.u.cg.set_high = true;
			ev.u.cg.max = KMS_TRACE_UNLIMITED;
			ev.u.cg.high = 12345;	/* not a multiple of 1 KiB */
			roundtrip(&ev);
			ev.u.cg.set_high = false;
			ev.u.cg.high = 0;
			ev.u.cg.max = 64ull << 30;
			break;
		case KMS_EV_TASK_NEW:
			ev.u.task.has_cur = ev.u.task.has_max = true;
			ev.u.task.cur = 8ull << 20;
			ev.u.task.max = KMS_TRACE_UNLIMITED;
			break;
		case KMS_EV_FORK:
			ev.u.task.child = 25755;
			ev.u.task.share_files = true;
			ev.u.task.thread = true;
			roundtrip(&ev);
			ev.u.task.share_files = ev.u.task.thread = false;
			break;
		case KMS_EV_EXEC:
			/* found by the fuzzer: a value starting with '=' read as "==" */
			ev.u.task.path = "=/usr/sbin/bpftool";
			roundtrip(&ev);
			ev.u.task.path = "/usr/sbin/bpftool";
			break;
		case KMS_EV_TASK_MOVE:
			ev.u.task.path = "/b";
			break;
		case KMS_EV_EXIT:
			ev.u.task.status = 124;
			ev.u.task.thread = true;
			break;
		case KMS_EV_RLIMIT_MEMLOCK:
			ev.u.task.target = 25753;
			ev.u.task.has_cur = true;
			ev.u.task.cur = 0;
			roundtrip(&ev);
			ev.u.task.has_max = true;
			ev.u.task.max = KMS_TRACE_UNLIMITED;
			break;
		case KMS_EV_LOCKED_VM_OTHER:
			ev.u.task.pages = -2049;
			break;
		case KMS_EV_CLOSE:
			ev.u.fd.fd = 0;
			break;
		case KMS_EV_DUP:
			ev.u.fd.fd = 2;
			ev.u.fd.newfd = -1;
			roundtrip(&ev);
			ev.u.fd.newfd = 0;
			ev.u.fd.cloexec = true;
			break;
		case KMS_EV_PROG_UPDATE:
		case KMS_EV_PROG_DELETE:
			ev.has_ret = false;
			ev.ret = 0;
			ev.ctx = KMS_CTX_SOFTIRQ;
			ev.u.prog.map_fd = -1;
			ev.u.prog.map_id = 77;
			ev.u.prog.count = 1000000;
			ev.u.prog.key_kind = KMS_KEY_NEW;
			if (k == KMS_EV_PROG_UPDATE)
				ev.u.prog.flags = KMS_BPF_NOEXIST;
			roundtrip(&ev);
			ev.ctx = KMS_CTX_NMI;
			ev.u.prog.map_fd = 0;
			ev.u.prog.map_id = 0;
			ev.u.prog.key_kind = KMS_KEY_NONE;
			ev.u.prog.keys = keys;
			ev.u.prog.nr_keys = 3;
			ev.u.prog.count = 3;
			break;
		case KMS_EV_EXPECT:
			/* expectations carry no who and no result of their own */
			ev.pid = ev.tid = 1;
			ev.uid = KMS_UID_UNSET;
			ev.cgroup = NULL;
			ev.cpu = 0;
			ev.ctx = KMS_CTX_TASK;
			ev.has_ret = false;
			ev.ret = 0;
			ev.u.expect.profile = "linux-5.10";
			ev.u.expect.what = KMS_EXPECT_RESULT;
			ev.u.expect.counter = "ret";
			ev.u.expect.rel = KMS_REL_EQ;
			ev.u.expect.value = -EPERM;
			ev.u.expect.of_seq = 41;
			ev.u.expect.user = KMS_UID_UNSET;
			roundtrip(&ev);
			ev.u.expect.of_seq = 0;
			ev.u.expect.what = KMS_EXPECT_USER;
			ev.u.expect.counter = "locked_vm";
			ev.u.expect.user = 0;
			ev.u.expect.rel = KMS_REL_GE;
			ev.u.expect.value = 65536;
			roundtrip(&ev);
			/* a what-if run's expectation keeps its set= through the writer */
			ev.u.expect.set = "memcg=off,helper=none";
			roundtrip(&ev);
			ev.u.expect.set = NULL;
			ev.u.expect.user = KMS_UID_UNSET;
			ev.u.expect.what = KMS_EXPECT_CGROUP;
			ev.u.expect.cgroup = "/app";
			ev.u.expect.counter = "memory.max";
			ev.u.expect.rel = KMS_REL_LE;
			ev.u.expect.value_max = true;
			ev.u.expect.value = INT64_MAX;
			break;
		}
		roundtrip(&ev);
	}
}

/* The writer's output is canonical: writing what was read gives it again. */
static void test_canonical_text(void **state)
{
	static const char text[] = HDR
		"task_new seq=1 t=0 pid=100 uid=1000 cgroup=/app memlock_cur=8M memlock_max=8M\n"
		"map_create seq=2 t=0.000001 pid=100 map_type=hash key_size=4 value_size=8 "
		"max_entries=1024 map_flags=no_prealloc map_name=demo ret=3\n"
		"map_update_elem seq=3 t=0.5 pid=100 map_fd=3 key=new flags=any ret=0\n"
		"expect seq=4 t=0.500001 profile=linux-5.11 cgroup=/app memory.current<=1M\n";
	struct kms_trace_reader *r = open_text(text);
	char out[sizeof(text) + 64];
	size_t len = strlen(HDR);
	struct kms_event ev;
	int n;

	(void)state;
	memcpy(out, HDR, len);
	while (kms_trace_read_next(r, &ev) == 1) {
		n = kms_trace_format_event(&ev, out + len, sizeof(out) - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	out[len] = '\0';
	assert_string_equal(out, text);
	kms_trace_reader_free(r);
}

/* An event fresh from kms_event_init() is written as the defaults, i.e. short. */
static void test_event_init(void **state)
{
	struct kms_event ev;
	char buf[256];

	(void)state;
	kms_event_init(&ev, KMS_EV_DUP);
	ev.u.fd.fd = 3;
	assert_int_equal(kms_trace_format_event(&ev, buf, sizeof(buf)), 25);
	assert_string_equal(buf, "dup seq=0 t=0 pid=1 fd=3\n");
	roundtrip(&ev);
	kms_event_init_bpf(&ev, KMS_BPF_MAP_FREEZE);
	assert_true(kms_trace_format_event(&ev, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "map_freeze seq=0 t=0 pid=1 map_fd=0\n");
	kms_event_init(&ev, KMS_EV_PROG_DELETE);
	ev.u.prog.map_id = 4;
	ev.u.prog.count = 2;
	assert_true(kms_trace_format_event(&ev, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "prog_delete seq=0 t=0 pid=1 map_id=4 count=2\n");
	roundtrip(&ev);
}

static void test_format_bounds(void **state)
{
	struct kms_event ev;
	char small[16];

	(void)state;
	fill_bpf(&ev, KMS_BPF_MAP_CREATE);
	assert_int_equal(kms_trace_format_event(&ev, small, sizeof(small)), -ENOSPC);
	ev.ctx = (enum kms_exec_ctx)9;
	assert_int_equal(kms_trace_format_event(&ev, small, sizeof(small)), -EINVAL);
	/* a result no kernel returns would not read back */
	ev.ctx = KMS_CTX_TASK;
	ev.ret = -4096;
	assert_int_equal(kms_trace_format_event(&ev, small, sizeof(small)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_bpf_command),
		cmocka_unit_test(test_every_event_kind),
		cmocka_unit_test(test_canonical_text),
		cmocka_unit_test(test_event_init),
		cmocka_unit_test(test_format_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
