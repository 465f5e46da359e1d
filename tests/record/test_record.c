// SPDX-License-Identifier: MIT
/*
 * The recorder against programs whose every bpf(2) call we know: mapper.c of
 * this suite, and shell one-liners for exit statuses and signals. Skipped
 * where the machine does not allow recording (not root, no ptrace, no BPF).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kmemsim/record.h"
#include "kmemsim/trace.h"

/* FNV-1a 64 of a little-endian u32 key, written out from the algorithm's
 * definition (offset basis 14695981039346656037, prime 1099511628211). */
static uint64_t fnv1a_u32(uint32_t key)
{
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < 4; i++) {
		h ^= (key >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

static void skip_unless_recordable(void)
{
	char why[256];

	if (kms_record_probe(why, sizeof(why)) != 0) {
		print_message("skipping: %s\n", why);
		skip();
	}
}

/* Record @argv; returns the trace text (free it), the status in @status. */
static char *record(char *const *argv, unsigned int sample_ms, int *status)
{
	struct kms_record_opts opts = { .argv = argv, .sample_ms = sample_ms };
	struct kms_record_result res;
	char *buf = NULL;
	size_t len = 0;
	int err;

	opts.out = open_memstream(&buf, &len);
	assert_non_null(opts.out);
	err = kms_record_run(&opts, &res);
	fclose(opts.out);
	if (err)
		print_message("record: %s\n", res.error);
	assert_int_equal(err, 0);
	*status = res.wait_status;
	return buf;
}

/* Number of event lines holding every one of the NULL-terminated needles. */
static int count_lines(const char *trace, ...)
{
	const char *line = trace;
	int n = 0;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		const char *needle;
		bool all = line[0] != '#';
		va_list ap;

		va_start(ap, trace);
		while ((needle = va_arg(ap, const char *)))
			all = all && strstr(copy, needle);
		va_end(ap);
		n += all;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* " key=0x<id> " of a u32 key, in @buf (32 bytes). */
static const char *key_field(char *buf, uint32_t key)
{
	snprintf(buf, 32, " key=0x%llx ", (unsigned long long)fnv1a_u32(key));
	return buf;
}

/* " path=<our memory cgroup>" from /proc/self/cgroup (v1 memory line, else v2). */
static void own_memory_cgroup(char *out, size_t size)
{
	char line[4096], v2[4096] = "/";
	FILE *f = fopen("/proc/self/cgroup", "re");

	assert_non_null(f);
	snprintf(out, size, " path=/");
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(strchr(line, ':') + 1, ':') + 1;

		path[strcspn(path, "\n")] = '\0';
		if (strstr(line, ":memory:")) {
			snprintf(out, size, " path=%s", path);
			fclose(f);
			return;
		}
		if (strncmp(line, "0::", 3) == 0)
			snprintf(v2, sizeof(v2), "%s", path);
	}
	fclose(f);
	if (strcmp(v2, "/") != 0)
		snprintf(out, size, " path=%s", v2);
}

/* The official reader must take the recording: returns events per kind. */
static void read_back(const char *trace, unsigned int per_kind[KMS_NR_EVENT_KINDS])
{
	struct kms_trace_reader *r;
	struct kms_trace_error err;
	struct kms_event ev;
	char msg[512];
	int n;

	memset(per_kind, 0, sizeof(unsigned int) * KMS_NR_EVENT_KINDS);
	assert_int_equal(kms_trace_open_mem(trace, strlen(trace), "recording", NULL, &r, &err),
			 0);
	assert_int_equal(kms_trace_reader_format(r), KMS_TRACE_NATIVE);
	while ((n = kms_trace_read_next(r, &ev)) == 1)
		per_kind[ev.kind]++;
	if (n < 0) {
		kms_trace_error_format(kms_trace_reader_error(r), msg, sizeof(msg));
		print_message("%s\n", msg);
	}
	assert_int_equal(n, 0);
	kms_trace_reader_free(r);
}

static void test_key_id_is_fnv1a_64(void **state)
{
	uint32_t k = 1;

	(void)state;
	/* published FNV-1a 64 test vectors */
	assert_true(kms_key_id("", 0) == 0xcbf29ce484222325ULL);
	assert_true(kms_key_id("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(kms_key_id("foobar", 6) == 0x85944171f73967e8ULL);
	assert_true(kms_key_id(&k, sizeof(k)) == fnv1a_u32(1));
}

static void test_mapper_calls_are_recorded(void **state)
{
	const char *mapper = getenv("KMS_TEST_MAPPER");
	char *argv[] = { (char *)mapper, NULL };
	unsigned int kinds[KMS_NR_EVENT_KINDS];
	char kf[32], keys[80], map_id[32], cg[4200];
	const char *comment;
	char *trace;
	int status;

	(void)state;
	skip_unless_recordable();
	assert_non_null(mapper);
	trace = record(argv, 0, &status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		free(trace);
		print_message("skipping: BPF_MAP_CREATE is not permitted here\n");
		skip();
	}
	/* mapper exits with 7 once every call did what it expected */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	read_back(trace, kinds);

	/* one hash map, as created, fd 3 (mapper opens nothing before it) */
	assert_int_equal(count_lines(trace, "map_create seq=", NULL), 1);
	assert_int_equal(count_lines(trace, "map_create seq=", " map_type=hash ", " key_size=4 ",
				     " value_size=8 ", " max_entries=64 ", " map_name=kms_mapper ",
				     " ret=3", NULL), 1);
	comment = strstr(trace, "# fd 3: map id ");
	assert_non_null(comment);
	snprintf(map_id, sizeof(map_id), " map_id=%u ", (unsigned int)atoi(comment + 15));

	/* 10 inserts with BPF_NOEXIST, 1 overwrite, 1 failed insert, 1 from the
	 * thread, 1 from the child: 14 updates, each with its key's id */
	assert_int_equal(count_lines(trace, "map_update_elem seq=", " map_fd=3 ", NULL), 14);
	for (uint32_t k = 1; k <= 10; k++)
		assert_int_equal(count_lines(trace, "map_update_elem seq=", key_field(kf, k),
					     "flags=noexist ret=0", NULL), 1);
	assert_int_equal(count_lines(trace, "map_update_elem seq=", key_field(kf, 3),
				     "flags=exist ret=0", NULL), 1);
	assert_int_equal(count_lines(trace, "map_update_elem seq=", key_field(kf, 5),
				     "flags=noexist ret=-EEXIST", NULL), 1);
	/* deletes of 2, 4, 6 */
	assert_int_equal(count_lines(trace, "map_delete_elem seq=", NULL), 3);
	for (uint32_t k = 2; k <= 6; k += 2)
		assert_int_equal(count_lines(trace, "map_delete_elem seq=", key_field(kf, k),
					     "ret=0", NULL), 1);
	assert_int_equal(count_lines(trace, "map_delete_elem seq=", key_field(kf, 3), NULL), 0);
	/* a lookup of key 1; GET_NEXT_KEY from the start names no key */
	assert_int_equal(count_lines(trace, "map_lookup_elem seq=", key_field(kf, 1), "ret=0",
				     NULL), 1);
	assert_int_equal(count_lines(trace, "map_get_next_key seq=", " map_fd=3 ret=0", NULL),
			 1);
	assert_int_equal(count_lines(trace, "map_get_next_key seq=", " key=", NULL), 0);
	/* batches: keys 20, 21, 22 inserted, 20 deleted; the kernel's counts */
	snprintf(keys, sizeof(keys), " keys=0x%llx,0x%llx,0x%llx ",
		 (unsigned long long)fnv1a_u32(20), (unsigned long long)fnv1a_u32(21),
		 (unsigned long long)fnv1a_u32(22));
	assert_int_equal(count_lines(trace, "map_update_batch seq=", " map_fd=3 ", " count=3 ",
				     " count_out=3", keys, "ret=0", NULL), 1);
	snprintf(keys, sizeof(keys), " keys=0x%llx ", (unsigned long long)fnv1a_u32(20));
	assert_int_equal(count_lines(trace, "map_delete_batch seq=", " map_fd=3 ", " count=1 ",
				     " count_out=1", keys, "ret=0", NULL), 1);
	/* the two socket filters: their lengths (a 2-instruction one is not
	 * rewritten by the verifier: 2 after verification too) and names */
	assert_int_equal(count_lines(trace, "prog_load seq=", " prog_type=socket_filter ",
				     " insn_cnt=2 ", " xlated_insn_cnt=2 ", " prog_name=kms_prog ",
				     " ret=4", NULL), 1);
	assert_int_equal(count_lines(trace, "prog_load seq=", " insn_cnt=13 ",
				     " prog_name=kms_inserter ", " ret=4", NULL), 1);
	assert_int_equal(count_lines(trace, "prog_test_run seq=", " prog_fd=4 ret=0", NULL), 3);

	/* fd lifetime: both progs' closes, the dup and its close; the map fd is
	 * closed by exit */
	assert_int_equal(count_lines(trace, "dup seq=", " fd=3 ret=4", NULL), 1);
	assert_int_equal(count_lines(trace, "close seq=", " fd=4 ret=0", NULL), 3);
	/* F_DUPFD_CLOEXEC and dup3(O_CLOEXEC) (fcntl(F_GETFD) is no event) */
	assert_int_equal(count_lines(trace, "dup seq=", " fd=3 cloexec=1 ret=2", NULL), 1);
	assert_int_equal(count_lines(trace, "dup seq=", " fd=3 newfd=200 cloexec=1 ret=200",
				     NULL), 1);
	assert_int_equal(kinds[KMS_EV_DUP], 3);
	assert_int_equal(count_lines(trace, "close seq=", " fd=200 ret=0", NULL), 1);
	assert_int_equal(kinds[KMS_EV_CLOSE], 3 + 2);
	/* soft RLIMIT_MEMLOCK set to the hard limit */
	assert_int_equal(count_lines(trace, "rlimit_memlock seq=", " ret=0", NULL), 1);
	/* the thread: created with the process's fd table, its insert of key 300
	 * under its own tid, its exit as a thread */
	assert_int_equal(count_lines(trace, "fork seq=", " share_files=1 thread=1", NULL), 1);
	assert_int_equal(count_lines(trace, "map_update_elem seq=", " tid=", key_field(kf, 300),
				     "ret=0", NULL), 1);
	assert_int_equal(count_lines(trace, "exit seq=", " tid=", " thread=1 status=0", NULL), 1);
	/* the child: a fork with a copied fd table, its insert of key 100, its
	 * exec (which closed its copy of the O_CLOEXEC map fd), its exit */
	assert_int_equal(count_lines(trace, "exec seq=", "bin/true", NULL), 1);
	assert_null(strstr(trace, "survived exec"));
	assert_int_equal(count_lines(trace, "fork seq=", " share_files=0", NULL), 1);
	assert_int_equal(kinds[KMS_EV_FORK], 2);
	assert_int_equal(count_lines(trace, "map_update_elem seq=", key_field(kf, 100), "ret=0",
				     NULL), 1);
	assert_int_equal(count_lines(trace, "exit seq=", " status=0", NULL), 2);
	assert_int_equal(count_lines(trace, "exit seq=", " status=7", NULL), 1);
	/* every syscall event names its task: pid, uid, memory cgroup */
	assert_int_equal(count_lines(trace, " pid=", " uid=", " cgroup=/", NULL),
			 count_lines(trace, " seq=", NULL) - (int)kinds[KMS_EV_PROG_UPDATE] -
			 (int)kinds[KMS_EV_CGROUP_CREATE] - (int)kinds[KMS_EV_CGROUP_SET]);
	/* the memory cgroup mapper ran in (ours) is created by the trace, once */
	own_memory_cgroup(cg, sizeof(cg));
	if (strcmp(cg, " path=/") != 0)
		assert_int_equal(count_lines(trace, "cgroup_create seq=", cg, NULL), 1);
	assert_int_equal(count_lines(trace, "task_new seq=", NULL), 1);

	/* The program's 3 inserts are seen only by sampling: when the child
	 * exits, the map holds 11 + 3 elements where the bpf(2) calls explain
	 * 10 inserts + 2 by batch + 1 by the thread + 1 by the child - 3 deletes
	 * = 11. */
	assert_int_equal(kinds[KMS_EV_PROG_UPDATE], 1);
	assert_int_equal(kinds[KMS_EV_PROG_DELETE], 0);
	map_id[strlen(map_id) - 1] = '\0';
	assert_int_equal(count_lines(trace, "prog_update seq=", map_id, " count=3 key=new",
				     NULL), 1);
	/* bpf(2) calls: 1 create + 14 updates + 3 deletes + 1 lookup + 1 next key
	 * + 2 batches + 2 loads + 3 test runs */
	assert_int_equal(kinds[KMS_EV_BPF], 1 + 14 + 3 + 1 + 1 + 2 + 2 + 3);
	free(trace);
}

static void test_exit_status_and_signals_pass_through(void **state)
{
	char *exit5[] = { "sh", "-c", "exit 5", NULL };
	char *killed[] = { "sh", "-c", "kill -TERM $$", NULL };
	/* a signal the shell handles: it must be delivered to it, not eaten */
	char *trapped[] = { "sh", "-c", "trap 'exit 9' USR1; kill -USR1 $$; sleep 5", NULL };
	char *trace;
	int status;

	(void)state;
	skip_unless_recordable();
	trace = record(exit5, 0, &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 5);
	assert_int_equal(count_lines(trace, "exit seq=", " status=5", NULL), 1);
	free(trace);

	trace = record(killed, 0, &status);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	/* a death by a signal is written as the shell's 128 + signal */
	assert_int_equal(count_lines(trace, "exit seq=", " status=143", NULL), 1);
	free(trace);

	trace = record(trapped, 0, &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 9);
	free(trace);
}

static int run_cli(const char *args)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "%s record %s >/dev/null 2>&1", getenv("KMEMSIM"), args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_exit_codes(void **state)
{
	(void)state;
	assert_non_null(getenv("KMEMSIM"));
	/* usage errors: 2, recorder or not */
	assert_int_equal(run_cli(""), 2);
	assert_int_equal(run_cli("--bogus -- true"), 2);
	assert_int_equal(run_cli("-i x -- true"), 2);
	skip_unless_recordable();
	/* the command's status, 128 + signal, 127 when it cannot be found */
	assert_int_equal(run_cli("-o /dev/null -- sh -c 'exit 3'"), 3);
	assert_int_equal(run_cli("-o /dev/null -- sh -c 'kill -KILL $$'"), 128 + SIGKILL);
	assert_int_equal(run_cli("-o /dev/null -- /nonexistent/kms-command"), 127);
}

/* A recording made in a fresh memory cgroup (v1) creates it with its limit. */
static void test_cgroup_and_limit_are_recorded(void **state)
{
	char dir[128], out[] = "/tmp/kms_test_record_XXXXXX", cmd[1024], *trace;
	size_t len;
	FILE *f;
	int fd, st;

	(void)state;
	skip_unless_recordable();
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory/kms_test_record_%d", (int)getpid());
	if (access("/sys/fs/cgroup/memory/cgroup.procs", W_OK) != 0 || mkdir(dir, 0755) != 0)
		skip();
	fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	/* 64 MiB: the kernel keeps whole pages of it */
	snprintf(cmd, sizeof(cmd), "echo 67108864 > %s/memory.limit_in_bytes && "
		 "sh -c 'echo $$ > %s/cgroup.procs && exec %s record -o %s -- true'",
		 dir, dir, getenv("KMEMSIM"), out);
	st = system(cmd);
	f = fopen(out, "re");
	trace = NULL;
	len = 0;
	if (f) {
		trace = calloc(1, 1 << 16);
		len = fread(trace, 1, (1 << 16) - 1, f);
		fclose(f);
	}
	unlink(out);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(st, 0);
	assert_non_null(trace);
	assert_true(len > 0);
	snprintf(cmd, sizeof(cmd), " path=/kms_test_record_%d", (int)getpid());
	assert_int_equal(count_lines(trace, "cgroup_create seq=", cmd, NULL), 1);
	assert_int_equal(count_lines(trace, "cgroup_set seq=", cmd, " memory.max=64M", NULL), 1);
	snprintf(cmd, sizeof(cmd), " cgroup=/kms_test_record_%d ", (int)getpid());
	assert_int_equal(count_lines(trace, "task_new seq=", cmd, NULL), 1);
	free(trace);
}

/* Without root it says so and exits 2 (checked as uid 65534 where setpriv is). */
static void test_refuses_without_root(void **state)
{
	char cmd[1024];
	int st;

	(void)state;
	if (geteuid() != 0 || system("command -v setpriv >/dev/null 2>&1") != 0)
		skip();
	snprintf(cmd, sizeof(cmd), "setpriv --reuid 65534 --regid 65534 --clear-groups "
		 "%s record -- true >/dev/null 2>&1", getenv("KMEMSIM"));
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
	snprintf(cmd, sizeof(cmd), "setpriv --reuid 65534 --regid 65534 --clear-groups "
		 "%s record -- true 2>&1 | grep -q 'needs root'", getenv("KMEMSIM"));
	assert_int_equal(system(cmd), 0);
}

/* A SIGTERM sent to the recorder reaches the command, whose death by it is
 * the recorder's exit status. */
static void test_signal_to_recorder_is_forwarded(void **state)
{
	char cmd[1024];
	int st;

	(void)state;
	skip_unless_recordable();
	snprintf(cmd, sizeof(cmd),
		 "%s record -o /dev/null -- sleep 20 2>/dev/null & p=$!; sleep 0.5; "
		 "kill -TERM $p; wait $p", getenv("KMEMSIM"));
	st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
}

int main(void)
{
	/*
	 * LeakSanitizer cannot run in a process under ptrace (it stops itself
	 * with a fatal error): the programs this test records run without it.
	 * This process read ASAN_OPTIONS at start, so only children see this.
	 */
	{
		const char *a = getenv("ASAN_OPTIONS");
		char buf[512];

		snprintf(buf, sizeof(buf), "%s%sdetect_leaks=0", a ? a : "", a && *a ? ":" : "");
		setenv("ASAN_OPTIONS", buf, 1);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id_is_fnv1a_64),
		cmocka_unit_test(test_mapper_calls_are_recorded),
		cmocka_unit_test(test_exit_status_and_signals_pass_through),
		cmocka_unit_test(test_cli_exit_codes),
		cmocka_unit_test(test_signal_to_recorder_is_forwarded),
		cmocka_unit_test(test_refuses_without_root),
		cmocka_unit_test(test_cgroup_and_limit_are_recorded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
