// SPDX-License-Identifier: MIT
/*
 * The real kernel, where the machine allows it (root, bpf(2), a memory
 * controller); otherwise every case is skipped with the reason. Nothing is
 * left behind: the teardown counts scratch cgroups and bpffs mounts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "kmemsim/kernel.h"
#include "cli/run.h"

#define PREFIX "kms_ktest_"
#define VALIDATE_PREFIX "kms_validate_"

struct live {
	struct kms_kernel_caps caps;
	bool usable;
	char why[512];
	int orphans_before;	/* left by earlier runs, not ours */
};

static int setup(void **state)
{
	static struct live l;

	memset(&l, 0, sizeof(l));
	kms_kernel_probe(&l.caps);
	l.usable = kms_kernel_missing(&l.caps, l.why, sizeof(l.why)) == 0;
	if (l.usable)
		l.orphans_before = kms_kernel_count_orphans(l.caps.memcg_root,
							     VALIDATE_PREFIX);
	*state = &l;
	return 0;
}

static int teardown(void **state)
{
	struct live *l = *state;

	if (!l->usable)
		return 0;
	/*
	 * A test must never leave a cgroup or a mount behind. Runs of other
	 * people may be live at the same time: count only what belongs to a
	 * process that is gone.
	 */
	if (kms_kcgroup_count_leftovers(l->caps.memcg_root, PREFIX) != 0 ||
	    kms_kernel_count_orphans(l->caps.memcg_root, VALIDATE_PREFIX) !=
	    l->orphans_before) {
		fprintf(stderr, "leftover scratch cgroups or bpffs mounts\n");
		return -1;
	}
	return 0;
}

static void need_kernel(struct live *l)
{
	if (!l->usable) {
		print_message("skipped: %s", l->why);
		skip();
	}
}

static uint64_t drained_kmem(struct kms_kcgroup *cg)
{
	struct kms_kcgroup_counters c;

	assert_int_equal(kms_kcgroup_drain(cg, 20), 0);
	assert_int_equal(kms_kcgroup_read(cg, &c), 0);
	return c.kmem;
}

/*
 * A 1024-entry preallocated hash of 8-byte keys and values: the shared
 * 6.18.44 sample (shared/reference/kernel-6.18-maps-v8.csv, row
 * hash,0,8,8,1024) charged 87552 bytes per map, memlock 82960. One map read
 * through the drained page counter is that to within one page.
 */
static void test_hash_create_is_charged_to_the_scratch_cgroup(void **state)
{
	struct live *l = *state;
	struct kms_kcgroup cg;
	struct kms_kactor a;
	struct kms_kactor_req req;
	struct kms_kactor_reply rep;
	uint64_t before, after, memlock = 0;
	int64_t d;

	need_kernel(l);
	assert_int_equal(kms_kcgroup_create(&l->caps, PREFIX, &cg), 0);
	assert_int_equal(kms_kactor_start(&a, 1 << 20), 0);
	assert_int_equal(kms_kcgroup_add_pid(&cg, a.pid), 0);
	before = drained_kmem(&cg);
	memset(&req, 0, sizeof(req));
	req.op = KMS_KACTOR_MAP_CREATE;
	req.handle = req.value_handle = -1;
	req.spec = (struct kms_kbpf_map_spec){ .type = BPF_MAP_TYPE_HASH, .key_size = 8,
		.value_size = 8, .max_entries = 1024, .inner_map_fd = -1, .btf_fd = -1 };
	assert_int_equal(kms_kactor_call(&a, &req, &rep), 0);
	assert_int_equal(rep.ret, 0);
	after = drained_kmem(&cg);
	assert_int_equal(kms_fdinfo_read_memlock(a.pid, rep.fd, &memlock), 0);
	d = (int64_t)(after - before);
	/* a new fd's struct file and dentry are charged too: a few hundred bytes */
	assert_true(d > 87552 - 4096 && d < 87552 + 4096);
	if (l->caps.nr_possible_cpus == 2 && l->caps.page_size == 4096)
		assert_int_equal(memlock, 82960);
	kms_kactor_stop(&a);
	assert_int_equal(kms_kcgroup_remove(&cg), 0);
}

/* The kernel accepts the blobs kms_kbtf_build() makes, down to libbpf's 43-byte probes. */
static void test_btf_blobs_load(void **state)
{
	static const struct { size_t size; uint32_t value_size; } cases[] = {
		{ 37, 0 }, { 43, 0 }, { 45, 0 }, { 90, 8 }, { 65536, 0 }, { 65536, 256 },
	};
	static uint8_t blob[65536];

	need_kernel(*state);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd;

		assert_int_equal(kms_kbtf_build(blob, cases[i].size, cases[i].value_size),
				 (long)cases[i].size);
		fd = kms_kbtf_load(blob, cases[i].size);
		if (fd < 0)
			fprintf(stderr, "BTF of %zu bytes: %d\n", cases[i].size, fd);
		assert_true(fd >= 0);
		close(fd);
	}
}

/* What a SIGKILLed run leaves is found by its dead pid, and removed. */
static void test_orphans_are_found_and_removed(void **state)
{
	struct live *l = *state;
	struct kms_kcgroup cg;
	pid_t child;
	int status;

	need_kernel(l);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)	/* "a run that died": creates a cgroup and exits without cleanup */
		_exit(kms_kcgroup_create(&l->caps, PREFIX, &cg) == 0 ? 0 : 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(kms_kernel_count_orphans(l->caps.memcg_root, PREFIX), 1);
	assert_int_equal(kms_kernel_remove_orphans(l->caps.memcg_root, PREFIX), 1);
	assert_int_equal(kms_kernel_count_orphans(l->caps.memcg_root, PREFIX), 0);
	assert_int_equal(kms_kcgroup_count_leftovers(l->caps.memcg_root, PREFIX), 0);
}

static void validate_trace(struct live *l, const char *rel, const char *must_show)
{
	char path[1024];
	const char *argv[] = { "validate", source_path(rel, path, sizeof(path)), NULL };
	struct run_result r;

	need_kernel(l);
	assert_int_equal(run_kmemsim(argv, NULL, &r), 0);
	if (r.status != 0)
		fprintf(stderr, "%s%s", r.out, r.err);
	/* exit 1 would be a step outside the tolerance: the model disagrees with the kernel */
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, must_show));
	assert_non_null(strstr(r.out, "tolerance"));
	/* every step of these traces can be done for real */
	assert_null(strstr(r.out, "not executed"));
	run_result_free(&r);
}

static void test_validate_small_trace(void **state)
{
	validate_trace(*state, "tests/kernel/traces/small.trace", "prog_update");
}

static void test_validate_map_families(void **state)
{
	validate_trace(*state, "tests/kernel/traces/families.trace", "map_update_batch");
}

/* A real libbpf-tools recording (strace), as the traces/ README describes it. */
static void test_validate_recorded_softirqs(void **state)
{
	validate_trace(*state, "traces/shared/softirqs.strace", "btf_load");
}

static void test_validate_refuses_bad_trace_without_touching_the_kernel(void **state)
{
	const char *argv[] = { "validate", "-", NULL };
	struct run_result r;

	(void)state;
	assert_int_equal(run_kmemsim(argv, "trace version=1\nmap_create seq=x\n", &r), 0);
	assert_int_equal(r.status, 2);
	/* the error names the line: file:2:column */
	assert_non_null(strstr(r.err, ":2:"));
	run_result_free(&r);
}

/*
 * Without root (and so without bpf(2) and cgroup writes) validate says what
 * is missing and exits 2 before creating anything. Run as uid 65534 when
 * the test runs as root, as the test's own uid otherwise.
 */
static void test_validate_without_root_exits_2(void **state)
{
	const char *exe = getenv("KMEMSIM");
	char path[1024], err[2048];
	int pfd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	(void)state;
	assert_non_null(exe);
	source_path("tests/kernel/traces/small.trace", path, sizeof(path));
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 2);
		if (geteuid() == 0 && (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
				       setresuid(65534, 65534, 65534)))
			_exit(99);
		execl(exe, exe, "validate", path, (char *)NULL);
		_exit(98);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], err + got, sizeof(err) - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	{
		char want[64];

		snprintf(want, sizeof(want), "root: effective uid is %u",
			 geteuid() == 0 ? 65534u : (unsigned int)geteuid());
		assert_non_null(strstr(err, want));
	}
	assert_non_null(strstr(err, "bpf(2)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_create_is_charged_to_the_scratch_cgroup),
		cmocka_unit_test(test_btf_blobs_load),
		cmocka_unit_test(test_orphans_are_found_and_removed),
		cmocka_unit_test(test_validate_small_trace),
		cmocka_unit_test(test_validate_map_families),
		cmocka_unit_test(test_validate_recorded_softirqs),
		cmocka_unit_test(test_validate_refuses_bad_trace_without_touching_the_kernel),
		cmocka_unit_test(test_validate_without_root_exits_2),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
