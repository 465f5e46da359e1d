// SPDX-License-Identifier: MIT
/*
 * The native trace parser: what a hand-written line means, the defaults that
 * keep scenario traces short, and an error naming line and column for each
 * malformed form.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "trace_test.h"

static void test_header(void **state)
{
	struct kms_trace_reader *r;
	const struct kms_trace_header *h;

	(void)state;
	r = open_text("# comment first\n\ntrace version=1 kernel=6.18.44-fc page_size=16K cpus=64\n");
	h = kms_trace_reader_header(r);
	assert_int_equal(h->version, 1);
	assert_string_equal(h->kernel, "6.18.44-fc");
	assert_int_equal(h->page_size, 16384);
	assert_int_equal(h->nr_cpus, 64);
	assert_int_equal(kms_trace_reader_format(r), KMS_TRACE_NATIVE);
	kms_trace_reader_free(r);

	/* defaults: 4 KiB pages, 2 CPUs */
	r = open_text("trace version=1\n");
	h = kms_trace_reader_header(r);
	assert_int_equal(h->page_size, 4096);
	assert_int_equal(h->nr_cpus, 2);
	assert_string_equal(h->kernel, "unknown");
	kms_trace_reader_free(r);
}

static void test_map_create_line(void **state)
{
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	r = open_text(HDR "map_create seq=7 t=12.5 pid=100 tid=101 uid=1000 cgroup=/app cpu=1 "
		      "map_type=percpu_hash key_size=4 value_size=1K max_entries=1M "
		      "map_flags=no_prealloc|numa_node numa_node=1 map_name=\"a b\" "
		      "btf_fd=3 btf_key_type_id=5 btf_value_type_id=6 ret=4 # trailing comment\n");
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_BPF);
	assert_int_equal(ev.u.bpf.cmd, KMS_BPF_MAP_CREATE);
	assert_int_equal(ev.line, 2);
	assert_int_equal(ev.seq, 7);
	assert_int_equal(ev.time_ns, 12500000000ull);
	assert_int_equal(ev.pid, 100);
	assert_int_equal(ev.tid, 101);
	assert_int_equal(ev.uid, 1000);
	assert_string_equal(ev.cgroup, "/app");
	assert_int_equal(ev.cpu, 1);
	assert_int_equal(ev.ctx, KMS_CTX_TASK);
	/* BPF_MAP_TYPE_PERCPU_HASH is 5 in uapi bpf.h */
	assert_int_equal(ev.u.bpf.map_type, 5);
	assert_int_equal(ev.u.bpf.key_size, 4);
	assert_int_equal(ev.u.bpf.value_size, 1024);
	assert_int_equal(ev.u.bpf.max_entries, 1048576);
	/* BPF_F_NO_PREALLOC 1 | BPF_F_NUMA_NODE 4 */
	assert_int_equal(ev.u.bpf.map_flags, 5);
	assert_int_equal(ev.u.bpf.numa_node, 1);
	assert_string_equal(ev.u.bpf.map_name, "a b");
	assert_int_equal(ev.u.bpf.btf_fd, 3);
	assert_int_equal(ev.u.bpf.btf_key_type_id, 5);
	assert_int_equal(ev.u.bpf.btf_value_type_id, 6);
	assert_true(ev.has_ret);
	assert_int_equal(ev.ret, 4);
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	kms_trace_reader_free(r);
}

/* seq and t may be left out: they count up from the previous event. */
static void test_defaults(void **state)
{
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	r = open_text(HDR "close fd=3\nclose fd=4 seq=10 t=2\nclose fd=5\ndup fd=5\n");
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.seq, 1);
	assert_int_equal(ev.time_ns, 0);
	/* pid 1, tid = pid, uid and cgroup the task's, CPU 0, task context */
	assert_int_equal(ev.pid, 1);
	assert_int_equal(ev.tid, 1);
	assert_int_equal(ev.uid, KMS_UID_UNSET);
	assert_null(ev.cgroup);
	assert_int_equal(ev.cpu, 0);
	assert_int_equal(ev.ctx, KMS_CTX_TASK);
	assert_false(ev.has_ret);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.seq, 10);
	assert_int_equal(ev.time_ns, 2000000000ull);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.seq, 11);
	assert_int_equal(ev.time_ns, 2000001000ull);	/* + 1 us */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_DUP);
	assert_int_equal(ev.u.fd.newfd, -1);	/* the lowest free fd */
	kms_trace_reader_free(r);
}

static void test_values(void **state)
{
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	r = open_text(HDR
		      "cgroup_set path=/a/b memory.max=max\n"
		      "cgroup_set path=/a memory.high=64M memory.max=unlimited\n"
		      "rlimit_memlock cur=64K max=unlimited target=7 ret=-EPERM\n"
		      "map_update_elem map_fd=3 key=0xdeadbeef flags=noexist|lock ret=-1\n"
		      "map_delete_elem map_fd=3 key=existing ret=-ENOENT\n"
		      "prog_update pid=42 ctx=softirq cpu=1 map_id=9 keys=1,0x2,3\n"
		      "locked_vm_other pages=-16\n"
		      "map_update_batch map_fd=3 count=4 count_out=2 keys=5,6,7,8 elem_flags=exist\n");
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_true(ev.u.cg.set_max);
	assert_false(ev.u.cg.set_high);
	assert_int_equal(ev.u.cg.max, KMS_TRACE_UNLIMITED);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.cg.high, 64ull << 20);
	assert_int_equal(ev.u.cg.max, KMS_TRACE_UNLIMITED);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_RLIMIT_MEMLOCK);
	assert_int_equal(ev.u.task.cur, 65536);
	assert_int_equal(ev.u.task.max, KMS_TRACE_UNLIMITED);
	assert_int_equal(ev.u.task.target, 7);
	assert_int_equal(ev.ret, -EPERM);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_ID);
	assert_int_equal(ev.u.bpf.key, 0xdeadbeef);
	assert_int_equal(ev.u.bpf.flags, KMS_BPF_NOEXIST | KMS_BPF_F_LOCK);
	assert_int_equal(ev.ret, -1);	/* -1 is -EPERM, as the kernel returns it */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_EXISTING);
	assert_int_equal(ev.ret, -ENOENT);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_PROG_UPDATE);
	assert_int_equal(ev.ctx, KMS_CTX_SOFTIRQ);
	assert_int_equal(ev.pid, 42);	/* the interrupted task */
	assert_int_equal(ev.u.prog.map_fd, -1);
	assert_int_equal(ev.u.prog.map_id, 9);
	assert_int_equal(ev.u.prog.nr_keys, 3);
	assert_int_equal(ev.u.prog.count, 3);
	assert_int_equal(ev.u.prog.keys[1], 2);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.task.pages, -16);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.cmd, KMS_BPF_MAP_UPDATE_BATCH);
	assert_int_equal(ev.u.bpf.count, 4);
	assert_int_equal(ev.u.bpf.count_out, 2);
	assert_int_equal(ev.u.bpf.nr_keys, 4);
	assert_int_equal(ev.u.bpf.keys[3], 8);
	assert_int_equal(ev.u.bpf.elem_flags, KMS_BPF_EXIST);
	kms_trace_reader_free(r);
}

static void test_expect(void **state)
{
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	r = open_text(HDR
		      "expect profile=linux-5.10 ret==-EPERM\n"
		      "expect profile=linux-5.11 of=3 ret=4\n"
		      "expect profile=linux-5.11 cgroup=/app memory.current<=64M\n"
		      "expect profile=linux-6.18 cgroup=/ memory.stat.percpu>=1\n"
		      "expect profile=linux-5.10 user=0 locked_vm==16K\n"
		      "expect profile=linux-5.11 set=memcg=off,kmem=off ret==3\n");
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.kind, KMS_EV_EXPECT);
	assert_string_equal(ev.u.expect.profile, "linux-5.10");
	assert_null(ev.u.expect.set);	/* no what-if: the plain profile's run */
	assert_int_equal(ev.u.expect.what, KMS_EXPECT_RESULT);
	assert_int_equal(ev.u.expect.rel, KMS_REL_EQ);
	assert_int_equal(ev.u.expect.value, -EPERM);
	assert_int_equal(ev.u.expect.of_seq, 0);	/* the previous event */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.expect.of_seq, 3);
	assert_int_equal(ev.u.expect.value, 4);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.expect.what, KMS_EXPECT_CGROUP);
	assert_string_equal(ev.u.expect.cgroup, "/app");
	assert_string_equal(ev.u.expect.counter, "memory.current");
	assert_int_equal(ev.u.expect.rel, KMS_REL_LE);
	assert_int_equal(ev.u.expect.value, 64 << 20);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_string_equal(ev.u.expect.counter, "memory.stat.percpu");
	assert_int_equal(ev.u.expect.rel, KMS_REL_GE);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.expect.what, KMS_EXPECT_USER);
	assert_int_equal(ev.u.expect.user, 0);
	assert_int_equal(ev.u.expect.value, 16384);
	/* set= is one string of KEY=VALUE pairs: the replay splits it, not the reader */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_string_equal(ev.u.expect.set, "memcg=off,kmem=off");
	assert_int_equal(ev.u.expect.value, 3);
	kms_trace_reader_free(r);
}

/* Every name of the kernel's enums is read; a few spot values from uapi bpf.h. */
static void test_kernel_names(void **state)
{
	enum kms_map_type mt;
	enum kms_prog_type pt;

	(void)state;
	assert_int_equal(kms_map_type_from_name("ringbuf", &mt), 0);
	assert_int_equal(mt, 27);
	assert_int_equal(kms_map_type_from_name("bloom_filter", &mt), 0);
	assert_int_equal(mt, 30);
	assert_int_equal(kms_map_type_from_name("arena", &mt), 0);
	assert_int_equal(mt, 33);
	/* the deprecated alias and the name have one value; the name is printed */
	assert_int_equal(kms_map_type_from_name("cgroup_storage_deprecated", &mt), 0);
	assert_string_equal(kms_map_type_name(mt), "cgroup_storage");
	assert_int_equal(kms_map_type_from_name("hashh", &mt), -EINVAL);
	assert_int_equal(kms_prog_type_from_name("netfilter", &pt), 0);
	assert_int_equal(pt, 32);
	for (int t = 0; t < KMS_NR_MAP_TYPES; t++)
		assert_non_null(kms_map_type_name((enum kms_map_type)t));
	for (int t = 0; t < KMS_NR_PROG_TYPES; t++)
		assert_non_null(kms_prog_type_name((enum kms_prog_type)t));
	for (int t = 0; t < KMS_NR_ATTACH_TYPES; t++)
		assert_non_null(kms_attach_type_name((enum kms_attach_type)t));
	for (int t = 0; t < KMS_NR_BPF_CMDS; t++)
		assert_non_null(kms_bpf_cmd_name((enum kms_bpf_cmd)t));
	assert_string_equal(kms_bpf_cmd_name(KMS_BPF_MAP_LOOKUP_AND_DELETE_BATCH),
			    "map_lookup_and_delete_batch");
	assert_string_equal(kms_attach_type_name(KMS_ATTACH_TRACE_RAW_TP), "trace_raw_tp");
}

/* FNV-1a 64 of known inputs (published test vectors of the FNV authors). */
static void test_key_id(void **state)
{
	(void)state;
	assert_int_equal(kms_key_id("", 0), 0xcbf29ce484222325ull);
	assert_int_equal(kms_key_id("a", 1), 0xaf63dc4c8601ec8cull);
	assert_int_equal(kms_key_id("foobar", 6), 0x85944171f73967e8ull);
}

/*
 * Lines of one op name the same fields in the same order, and the parser
 * remembers that order to read such lines faster (native.c fast_field()).
 * Whichever way a line is read it means the same: each line below, read
 * again after a line naming the same fields (itself, or for an error a good
 * line), gives the same event (the writer prints every field of it), or the
 * same error at the same column.
 */
static const struct {
	const char *line;
	const char *prime;	/* NULL: the line itself */
} twice[] = {
	{ "map_update_elem pid=1000 map_fd=3 key=0x8d89499a3aa0e732 flags=any", NULL },
	{ "map_update_elem pid=1000 map_fd=3 key=0XABCDEFabcdef0123 flags=noexist|lock", NULL },
	{ "map_update_elem pid=1000 map_fd=3 key=0xf flags=2 ret=-EEXIST", NULL },
	/* 20 decimal digits, 18 hex digits with leading zeros: the general path */
	{ "map_update_elem pid=1000 map_fd=3 key=18446744073709551615 flags=exist", NULL },
	{ "map_update_elem pid=1000 map_fd=3 key=0x000000000000000001 flags=exist", NULL },
	{ "map_update_elem pid=1000 map_fd=3 key=new flags=any", NULL },
	{ "map_update_elem pid=1000 map_fd=3 key=1234567890123456 flags=any t=1.5", NULL },
	{ "map_update_elem pid=1000 map_fd=3 key=12345678 flags=any t=12345678.12345678", NULL },
	{ "prog_update pid=1002 cpu=1 ctx=softirq map_id=6 keys=0x870", NULL },
	{ "prog_update pid=1002 cpu=1 ctx=hardirq map_id=6 keys=1,0x2,3 flags=noexist", NULL },
	{ "prog_delete pid=1002 map_fd=4 count=3 key=existing", NULL },
	{ "map_create pid=100 tid=101 uid=1000 cgroup=/app cpu=1 map_type=percpu_hash "
	  "key_size=4 value_size=1K max_entries=1M map_flags=no_prealloc|numa_node "
	  "numa_node=1 map_name=\"a b\" btf_fd=3 btf_key_type_id=5 ret=4", NULL },
	{ "map_create pid=100 map_type=hash key_size=8 value_size=8 max_entries=14285 "
	  "map_flags=0x1 map_name=hash_np obj_id=9 ret=5", NULL },
	{ "prog_load pid=1 prog_type=kprobe insn_cnt=12 expected_attach_type=trace_raw_tp "
	  "ret=7", NULL },
	{ "task_new pid=1000 uid=0 cgroup=/c0/c1 memlock_cur=max memlock_max=64K", NULL },
	{ "cgroup_set path=/a memory.high=64M memory.max=unlimited", NULL },
	{ "fork pid=1 child=2 share_files=1 thread=0", NULL },
	{ "locked_vm_other pid=1 pages=9223372036854775807", NULL },
	{ "locked_vm_other pid=1 pages=-3", NULL },
	{ "exit pid=5 status=-1 thread=1", NULL },
	{ "dup fd=3 newfd=10 cloexec=1", NULL },
	{ "close\tfd=3  pid=7 \t uid=4294967294 # tabs, runs of blanks, a comment", NULL },
	{ "close fd=3 t=9999999999.999999999", NULL },
	{ "close fd=3 t=10000000000.5", NULL },
	{ "close fd=3 t=0.000000001 tid=12", NULL },
	{ "expect profile=linux-5.11 cgroup=/a memory.current<=1M", NULL },
	{ "expect profile=linux-5.11 ret==-EPERM of=3", NULL },
	{ "close fd=3 pid=2147483648", "close fd=3 pid=2147483647" },
	{ "close fd=3 uid=4294967295", "close fd=3 uid=4294967294" },
	{ "close fd=3 cpu=4294967296", "close fd=3 cpu=4294967295" },
	{ "close fd=3 pid=-1", "close fd=3 pid=1" },
	{ "close fd=3 t=18446744073.709551616", "close fd=3 t=1" },
	{ "close fd=3 t=1.", "close fd=3 t=1" },
	{ "close fd=3 t=.5", "close fd=3 t=0.5" },
	{ "close fd=3 t=1.1234567891", "close fd=3 t=1.123456789" },
	{ "close fd=3 t=0x10", "close fd=3 t=16" },
	{ "close fd=3 pid==4", "close fd=3 pid=4" },
	{ "close fd=3 pid=\"4\"", "close fd=3 pid=4" },
	{ "close fd=3 pid=", "close fd=3 pid=4" },
	{ "close fd=3 pid=4x", "close fd=3 pid=4" },
	{ "close fd=3 pid=4 fd=4", "close fd=3 pid=4" },
	{ "map_update_elem map_fd=3 key=0x flags=any", "map_update_elem map_fd=3 key=0x1 flags=any" },
	{ "map_update_elem map_fd=3 key=0x10000000000000000 flags=any",
	  "map_update_elem map_fd=3 key=0x1 flags=any" },
	{ "map_update_elem map_fd=3 key=0x1g flags=any", "map_update_elem map_fd=3 key=1 flags=any" },
	{ "map_update_elem map_fd=3 key=1 flags=sometimes", "map_update_elem map_fd=3 key=1 flags=any" },
	{ "map_update_elem map_fd=3 key=1 flags=any|", "map_update_elem map_fd=3 key=1 flags=any" },
	{ "map_create map_type=hash key_size=4G value_size=8 max_entries=1",
	  "map_create map_type=hash key_size=4 value_size=8 max_entries=1" },
	{ "map_create map_type=hashh key_size=4 value_size=8 max_entries=1",
	  "map_create map_type=hash key_size=4 value_size=8 max_entries=1" },
	{ "prog_update map_id=1 keys=1,,2", "prog_update map_id=1 keys=1" },
	{ "prog_update map_id=1 count=1 ctx=irq", "prog_update map_id=1 count=1 ctx=nmi" },
	{ "task_new pid=1 cgroup=/a/../b", "task_new pid=1 cgroup=/a/b" },
	{ "fork pid=1 child=2 share_files=2", "fork pid=1 child=2 share_files=0" },
};

/* @line read alone, then after @prime: the second read as the first. */
static bool same_twice(const char *line, const char *prime)
{
	char text[2048], a[1024], b[1024];
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err, err1;
	struct kms_event ev1, ev2;
	int ret1, ret2;

	snprintf(text, sizeof(text), HDR "%s\n", line);
	if (kms_trace_open_mem(text, strlen(text), "t", NULL, &r, &err))
		return false;
	ret1 = kms_trace_read_next(r, &ev1);
	err1 = *kms_trace_reader_error(r);
	/* an event's strings and keys live in the reader */
	if (ret1 == 1)
		kms_trace_format_event(&ev1, a, sizeof(a));
	kms_trace_reader_free(r);

	snprintf(text, sizeof(text), HDR "%s\n%s\n", prime ? prime : line, line);
	if (kms_trace_open_mem(text, strlen(text), "t", NULL, &r, &err))
		return false;
	if (kms_trace_read_next(r, &ev2) != 1) {
		print_error("'%s': the line before fails\n", line);
		kms_trace_reader_free(r);
		return false;
	}
	ret2 = kms_trace_read_next(r, &ev2);
	err = *kms_trace_reader_error(r);
	if (ret2 == 1) {
		/* seq and t count on when absent */
		ev2.seq = ev1.seq;
		ev2.time_ns = ev1.time_ns;
		kms_trace_format_event(&ev2, b, sizeof(b));
	}
	kms_trace_reader_free(r);
	if (ret1 != ret2) {
		print_error("'%s': %d then %d\n", line, ret1, ret2);
		return false;
	}
	if (ret1 != 1) {
		if (err.line != 3 || err.column != err1.column || strcmp(err.msg, err1.msg)) {
			print_error("'%s': '%s' at %u then '%s' at %u\n", line, err1.msg,
				    err1.column, err.msg, err.column);
			return false;
		}
		return true;
	}
	if (strcmp(a, b)) {
		print_error("'%s': read as\n%sthen as\n%s", line, a, b);
		return false;
	}
	return true;
}

static void test_same_line_twice(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(twice) / sizeof(twice[0]); i++)
		failed += !same_twice(twice[i].line, twice[i].prime);
	assert_int_equal(failed, 0);
}

/*
 * The remembered order may name a field twice (a line gave its fields in
 * another order); a field given twice is still a duplicate, at the second.
 */
static void test_remembered_duplicate(void **state)
{
	/* after these two, close's order is fd, pid, fd */
	static const struct bad b = {
		HDR "close fd=3 pid=2\nclose pid=2 fd=3\nclose fd=3 fd=4\n", 4, 12,
		"duplicate field 'fd'"
	};

	(void)state;
	assert_true(expect_error("test.trace", &b));
}

/*
 * Lines with and without an optional field, one after another, each read
 * with its own fields; values end where the input ends (no newline).
 */
static void test_optional_fields(void **state)
{
	struct kms_trace_reader *r;
	struct kms_event ev;

	(void)state;
	r = open_text(HDR "map_update_elem map_fd=3 key=0x10 flags=any\n"
		      "map_update_elem map_fd=4 flags=exist\n"
		      "map_update_elem map_fd=5 key=0x20 flags=noexist\n"
		      "task_new pid=9 cgroup=/a uid=5\n"
		      "task_new pid=9 cgroup=/b uid=6\n"
		      "map_update_elem map_fd=6 key=0xfedcba9876543210");
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.map_fd, 3);
	assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_ID);
	assert_int_equal(ev.u.bpf.key, 0x10);
	assert_int_equal(ev.u.bpf.flags, 0);		/* BPF_ANY */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.map_fd, 4);
	assert_int_equal(ev.u.bpf.key_kind, KMS_KEY_NONE);	/* no key= */
	assert_int_equal(ev.u.bpf.key, 0);
	assert_int_equal(ev.u.bpf.flags, 2);		/* BPF_EXIST */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.map_fd, 5);
	assert_int_equal(ev.u.bpf.key, 0x20);
	assert_int_equal(ev.u.bpf.flags, 1);		/* BPF_NOEXIST */
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_string_equal(ev.cgroup, "/a");
	assert_int_equal(ev.uid, 5);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_string_equal(ev.cgroup, "/b");
	assert_int_equal(ev.uid, 6);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(ev.u.bpf.map_fd, 6);
	assert_int_equal(ev.u.bpf.key, 0xfedcba9876543210ull);
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	kms_trace_reader_free(r);
}

/*
 * A line whose end the parser finds itself (native.c
 * kms_native_parse_ahead(): a recent op, then tokens of the remembered order
 * after one blank each) is the same line the line reader would have cut:
 * a string at a CR LF end loses the CR, a line with a comment, trailing
 * blanks or a tab is read the general way, line numbers count on, and a NUL
 * byte or an over-long line is still an error at its line and column.
 */
static void test_lines_read_ahead(void **state)
{
	static const char crlf[] = HDR "task_new pid=9 cgroup=/a\r\ntask_new pid=9 cgroup=/b\r\n"
		"task_new pid=9 cgroup=/c # a comment\n"
		"task_new pid=9 cgroup=/d  \n"
		"task_new\tpid=9 cgroup=/e\n"
		"task_new pid=9 cgroup=/f\n";
	static const char nul[] = HDR "close fd=3\nclose fd=4\nclose fd=5\0\nclose fd=6\n";
	static const struct bad late = {
		HDR "prog_update map_id=1 count=1\nprog_update map_id=1 count=0\n", 3, 29,
		"prog_update needs count= or keys="
	};
	static const char *const cgroups[] = { "/a", "/b", "/c", "/d", "/e", "/f" };
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;
	char *longline;

	(void)state;
	r = open_text(crlf);
	for (unsigned int i = 0; i < 6; i++) {
		assert_int_equal(kms_trace_read_next(r, &ev), 1);
		assert_int_equal(ev.line, 2 + i);
		assert_string_equal(ev.cgroup, cgroups[i]);
	}
	assert_int_equal(kms_trace_read_next(r, &ev), 0);
	kms_trace_reader_free(r);

	/* the NUL is the 11th byte of line 4 */
	assert_int_equal(kms_trace_open_mem(nul, sizeof(nul) - 1, "n.trace", NULL, &r, &err), 0);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(kms_trace_read_next(r, &ev), -EINVAL);
	err = *kms_trace_reader_error(r);
	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 11);
	assert_non_null(strstr(err.msg, "NUL byte"));
	kms_trace_reader_free(r);

	/* "prog_update map_id=1 count=0" is 28 bytes: the error is past its end */
	assert_true(expect_error("test.trace", &late));

	/* a string of 70000 bytes on a line read after one of the same op */
	longline = malloc(80000);
	assert_non_null(longline);
	snprintf(longline, 80000, HDR "close fd=3 pid=2\nclose fd=4 pid=3 ");
	memset(longline + strlen(longline), 'x', 70000);
	strcpy(longline + strlen(HDR) + 34 + 70000, "\n");
	{
		const struct bad b = { longline, 3, 65537, "line longer than 65536 bytes" };

		assert_true(expect_error("test.trace", &b));
	}
	free(longline);
}

/* Each malformed form, with its line and column worked out by hand. */
static const struct bad bad_lines[] = {
	{ "frob fd=3\n", 2, 1, "unknown event 'frob'" },
	{ "Close fd=3\n", 2, 1, "expected an event name" },
	{ "map_create key_size=abc\n", 2, 21, "expected an integer for key_size, got 'abc'" },
	{ "map_create key_size=-4\n", 2, 21, "expected an integer for key_size" },
	{ "map_create key_size=4294967296\n", 2, 21, "number out of range for key_size" },
	{ "map_create key_size=4G\n", 2, 21, "number out of range" },
	{ "map_create key_size=4 key_size=8\n", 2, 23, "duplicate field 'key_size'" },
	{ "map_create map_type=hashh\n", 2, 21, "unknown map type" },
	{ "prog_load prog_type=kprobes\n", 2, 21, "unknown program type" },
	{ "map_create frob=1\n", 2, 12, "unknown field 'frob'" },
	{ "close fd=3 key_size=4\n", 2, 12, "does not belong on a close line" },
	{ "close\n", 2, 6, "close needs fd=" },
	{ "close fd\n", 2, 9, "expected '=' after 'fd'" },
	{ "close fd=\n", 2, 10, "expected a value for 'fd'" },
	{ "close fd=3 ret=-EWHAT\n", 2, 16, "expected a result" },
	{ "close fd=3 ret=-0\n", 2, 16, "expected a result" },
	{ "map_create map_name=\"abc\n", 2, 21, "unterminated string" },
	{ "map_create map_name=\"a\"b\n", 2, 24, "expected a space after" },
	{ "map_create map_name=\"a\\qb\"\n", 2, 23, "unknown escape" },
	{ "map_create map_name=\"a\\x00\"\n", 2, 23, "NUL byte in a string" },
	{ "map_create key_size=\"4\"\n", 2, 21, "takes no quoted string" },
	{ "cgroup_create path=app\n", 2, 20, "absolute cgroup path" },
	{ "cgroup_create path=/a//b\n", 2, 20, "absolute cgroup path" },
	{ "cgroup_create path=/a/../b\n", 2, 20, "absolute cgroup path" },
	{ "cgroup_create path=/a/\n", 2, 20, "absolute cgroup path" },
	{ "cgroup_set path=/a\n", 2, 19, "needs memory.max= or memory.high=" },
	{ "cgroup_set path=/a memory.max=lots\n", 2, 31, "expected bytes" },
	{ "rlimit_memlock target=0\n", 2, 24, "needs cur= or max=" },
	{ "fork share_files=2 child=3\n", 2, 18, "expected 0 or 1" },
	{ "prog_update count=1\n", 2, 20, "exactly one of map_fd= and map_id=" },
	{ "prog_update map_id=1\n", 2, 21, "needs count= or keys=" },
	{ "prog_update map_id=1 keys=1,2 count=3\n", 2, 38, "count=3 but 2 keys" },
	{ "prog_update map_id=1 keys=1,,2\n", 2, 29, "expected a key id" },
	{ "prog_update map_id=1 keys=1,\n", 2, 29, "expected a key id after ','" },
	{ "prog_update map_id=1 count=1 ctx=irq\n", 2, 34, "expected task, softirq" },
	{ "map_update_elem map_fd=3 flags=sometimes\n", 2, 32, "expected any, noexist" },
	{ "map_update_elem map_fd=3 key=maybe\n", 2, 30, "expected a key id, 'new'" },
	{ "close fd=3 seq=5\nclose fd=3 seq=5\n", 3, 1, "seq 5 does not increase" },
	{ "close fd=3 t=5\nclose fd=3 t=4\n", 3, 1, "time goes backwards" },
	{ "close fd=3 t=1.0123456789\n", 2, 14, "expected seconds" },
	{ "close fd=3 pid=-1\n", 2, 1, "must not be negative" },
	{ "close fd=3 uid=4294967295\n", 2, 16, "number out of range" },
	{ "expect profile=p\n", 2, 17, "expect needs a counter" },
	{ "expect profile=p memory.current<=1M\n", 2, 36, "needs cgroup=" },
	{ "expect profile=p locked_vm<=1M\n", 2, 31, "needs user=" },
	{ "expect profile=p cgroup=/ memory.bogus<=1\n", 2, 27, "unknown field or counter" },
	{ "expect profile=p ret==0 ret==1\n", 2, 25, "a second counter" },
	{ "expect ret==0\n", 2, 14, "expect needs profile=" },
	{ "close fd<=3\n", 2, 7, "expected '=' after 'fd'" },
	{ "close fd=3 =4\n", 2, 12, "expected a field name" },
};

static void test_errors(void **state)
{
	char text[512];
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		struct bad b = bad_lines[i];

		/* the table's lines come after a header */
		snprintf(text, sizeof(text), HDR "%s", b.text);
		b.text = text;
		failed += !expect_error("test.trace", &b);
	}
	assert_int_equal(failed, 0);
}

static void test_bad_headers(void **state)
{
	static const struct bad bad[] = {
		{ "", 0, 0, "empty trace" },
		{ "# only a comment\n", 0, 0, "empty trace" },
		{ "hello world\n", 1, 1, "not a kmemsim trace" },
		{ "trace kernel=x\n", 1, 1, "needs version=1" },
		{ "trace version=2\n", 1, 15, "unsupported trace format version '2'" },
		{ "trace version=1 page_size=1000\n", 1, 27, "power of two" },
		{ "trace version=1 cpus=0\n", 1, 22, "CPU count" },
		{ "trace version=1 colour=blue\n", 1, 17, "unknown header field" },
		{ "trace version=1 version=1\n", 1, 17, "duplicate field" },
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		failed += !expect_error("h.trace", &bad[i]);
	assert_int_equal(failed, 0);
}

/* A NUL byte, an over-long line and a cut last line are errors, not guesses. */
static void test_hostile_bytes(void **state)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;
	struct kms_event ev;
	static const char nul[] = HDR "close fd=3\nclose f\0d=4\n";
	size_t big = (64u << 10) + 100;
	char *line;
	unsigned int nr;

	(void)state;
	assert_int_equal(kms_trace_open_mem(nul, sizeof(nul) - 1, "nul", NULL, &r, &err), 0);
	assert_int_equal(kms_trace_read_next(r, &ev), 1);
	assert_int_equal(kms_trace_read_next(r, &ev), -EINVAL);
	err = *kms_trace_reader_error(r);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 8);
	assert_non_null(strstr(err.msg, "NUL byte"));
	kms_trace_reader_free(r);

	/*
	 * A NUL whose line straddles the reader's first 256 KiB read: the NUL
	 * comes in with the first chunk, the line's end with the second, after
	 * the buffer has been shifted. A comment pads the header so that the
	 * 23000 lines of "close fd=3\n" (11 bytes) end at byte 262135; the NUL
	 * line's NUL is byte 262142, its newline byte 262146.
	 */
	{
		size_t hl = strlen(HDR), pad = 262135 - hl - 23000 * 11;
		size_t n = 262135 + sizeof("close f\0d=4\n");
		char *far = malloc(n);

		assert_non_null(far);
		memcpy(far, HDR, hl);
		memset(far + hl, 'x', pad - 1);
		far[hl] = '#';
		far[hl + pad - 1] = '\n';
		for (size_t i = 0; i < 23000; i++)
			memcpy(far + hl + pad + i * 11, "close fd=3\n", 11);
		memcpy(far + 262135, "close f\0d=4\n", sizeof("close f\0d=4\n"));
		assert_int_equal(kms_trace_open_mem(far, n - 1, "far", NULL, &r, &err), 0);
		nr = 0;
		while (kms_trace_read_next(r, &ev) == 1)
			nr++;
		assert_int_equal(nr, 23000);
		err = *kms_trace_reader_error(r);
		assert_int_equal(err.line, 23003);
		assert_int_equal(err.column, 8);
		assert_non_null(strstr(err.msg, "NUL byte"));
		kms_trace_reader_free(r);
		free(far);
	}

	/* one line of 64 KiB + 100 bytes: over the 64 KiB bound */
	line = malloc(strlen(HDR) + big + 2);
	assert_non_null(line);
	strcpy(line, HDR "close fd=3 #");
	memset(line + strlen(line), 'x', big - strlen("close fd=3 #"));
	line[strlen(HDR) + big] = '\n';
	line[strlen(HDR) + big + 1] = '\0';
	assert_int_equal(read_all(line, &err, &nr), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "line longer than 65536 bytes"));
	free(line);

	/* a complete last line without a newline is read */
	assert_int_equal(read_all(HDR "close fd=3\nclose fd=4", &err, &nr), 0);
	assert_int_equal(nr, 2);
	/* a last line cut in a field is an error that says so */
	assert_int_equal(read_all(HDR "close fd=3\nmap_create map_name=\"ab", &err, &nr),
			 -EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "no newline"));
	assert_int_equal(read_all(HDR "close fd=3\nclose f", &err, &nr), -EINVAL);
	assert_int_equal(err.line, 3);
}

/* Streaming: many events through the one buffer, across refills; every
 * event's strings are its own line's. */
static void test_streaming(void **state)
{
	const unsigned int n = 50000;
	struct kms_trace_reader *r;
	struct kms_event ev;
	size_t cap = strlen(HDR) + (size_t)n * 64, len;
	char *text = malloc(cap);
	unsigned int i = 0;

	(void)state;
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, HDR);
	for (unsigned int k = 0; k < n; k++)
		len += (size_t)snprintf(text + len, cap - len,
					"map_create map_type=hash map_name=m%u ret=%u\n", k, k + 3);
	r = open_text(text);
	while (kms_trace_read_next(r, &ev) == 1) {
		char want[16];

		snprintf(want, sizeof(want), "m%u", i);
		assert_string_equal(ev.u.bpf.map_name, want);
		assert_int_equal(ev.ret, i + 3);
		assert_int_equal(ev.seq, i + 1);
		assert_int_equal(ev.line, i + 2);
		i++;
	}
	assert_int_equal(i, n);
	kms_trace_reader_free(r);
	free(text);
}

static void test_open_missing_file(void **state)
{
	struct kms_trace_reader *r = NULL;
	struct kms_trace_error err;

	(void)state;
	assert_int_equal(kms_trace_open("/nonexistent/x.trace", NULL, &r, &err), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err.msg, "cannot open"));
}

/* Every example line in docs/trace-format.md is a valid event. */
static void test_doc_examples(void **state)
{
	const char *root = getenv("KMEMSIM_SOURCE_ROOT");
	char path[4096], *line = NULL, *text;
	size_t cap = 0, len, size = 1 << 20;
	unsigned int nr_lines = 0, nr;
	struct kms_trace_error err;
	bool in_code = false;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/trace-format.md", root ? root : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	text = malloc(size);
	assert_non_null(text);
	len = (size_t)snprintf(text, size, HDR);
	while (getline(&line, &cap, f) > 0) {
		size_t w = strspn(line, "abcdefghijklmnopqrstuvwxyz_");

		if (strncmp(line, "```", 3) == 0) {
			in_code = !in_code;
			continue;
		}
		/* event lines, not the grammar's "name = ..." nor the header */
		if (!in_code || w == 0 || line[w] != ' ' || !strchr(line, '=') ||
		    strstr(line, " = ") || strncmp(line, "trace ", 6) == 0)
			continue;
		assert_true(len + strlen(line) < size);
		len += (size_t)snprintf(text + len, size - len, "%s", line);
		nr_lines++;
	}
	free(line);
	fclose(f);
	assert_true(nr_lines >= 60);
	if (read_all(text, &err, &nr))
		fail_msg("docs example line %u: %s", err.line - 1, err.msg);
	assert_int_equal(nr, nr_lines);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_map_create_line),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_kernel_names),
		cmocka_unit_test(test_key_id),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_same_line_twice),
		cmocka_unit_test(test_remembered_duplicate),
		cmocka_unit_test(test_optional_fields),
		cmocka_unit_test(test_lines_read_ahead),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_open_missing_file),
		cmocka_unit_test(test_doc_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
