// SPDX-License-Identifier: MIT
/*
 * Hostile input to the kmemsim program, table-driven: each case is a file
 * given to `kmemsim compare` (run with a time limit). Input errors end in
 * exit status 2 and a message naming file:line:column; absurd but
 * well-formed requests reach the model, which answers each profile with the
 * errno the kernel's own rules give. Never a signal, never a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "run.h"

#define TIMEOUT 30	/* seconds; each case takes milliseconds */

#define HDR "trace version=1 kernel=6.18.44 page_size=4K cpus=2\n"
#define ROOT "task_new pid=1 uid=0 memlock_cur=unlimited memlock_max=unlimited\n"

/* What one profile must answer to the event on @line. */
struct want_result {
	const char *profile;
	unsigned int line;
	const char *result;	/* the CSV's result column: "E2BIG", "3", "0" */
};

struct hostile {
	const char *name;
	const char *text;		/* the file's contents (NULL: @special) */
	size_t len;			/* 0: strlen(text) */
	const char *special;		/* "dir", "devnull", "missing", "png", "1MiB", "deep" */
	int status;
	const char *err;		/* in stderr (after the file's path) */
	struct want_result want[4];
};

static char tmpdir[] = "/tmp/kmemsim-hostile-XXXXXX";

static const struct hostile cases[] = {
	/* ---- absurd sizes: the kernel's own refusals, per profile ---- */
	{ "array_4G_entries_1M_values",
	  HDR ROOT "map_create map_type=array key_size=4 value_size=1048576 max_entries=4294967295"
	  " ret=3\n", 0, NULL, 0, NULL, {
		/* 5.10 array_map_alloc(): cost 320 + (2^32 - 1) * 2^20 >= U32_MAX - PAGE_SIZE
		 * in bpf_map_charge_init() */
		{ "linux-5.10", 3, "E2BIG" },
		/* 5.11+: no cost check; bpf_map_area_alloc() of ~2^52 bytes fails */
		{ "linux-5.11", 3, "ENOMEM" },
		{ "linux-6.18", 3, "ENOMEM" } } },
	{ "hash_4G_entries",
	  HDR ROOT "map_create map_type=hash key_size=8 value_size=1048576 max_entries=4294967295"
	  " ret=3\n", 0, NULL, 0, NULL, {
		/* htab_map_alloc(): roundup_pow_of_two(2^32 - 1) overflows: n_buckets 0 */
		{ "linux-5.10", 3, "E2BIG" },
		{ "linux-5.11", 3, "E2BIG" },
		{ "linux-6.18", 3, "E2BIG" } } },
	{ "hash_cost_overflow",
	  HDR ROOT "map_create map_type=hash key_size=8 value_size=65536 max_entries=134217728"
	  " ret=3\n", 0, NULL, 0, NULL, {
		/* 5.10: 2^27 * 16 + (48 + 8 + 65536) * (2^27 + 2) >= U32_MAX - PAGE_SIZE */
		{ "linux-5.10", 3, "E2BIG" },
		/* 5.11+: the 8 TiB element area cannot be allocated */
		{ "linux-5.11", 3, "ENOMEM" },
		{ "linux-6.18", 3, "ENOMEM" } } },
	{ "hash_value_4G",
	  HDR ROOT "map_create map_type=hash key_size=8 value_size=4294967295 max_entries=1 ret=3\n",
	  0, NULL, 0, NULL, {
		/* htab_map_alloc_check(): value_size >= KMALLOC_MAX_SIZE - MAX_BPF_STACK - ... */
		{ "linux-5.10", 3, "E2BIG" },
		{ "linux-6.18", 3, "E2BIG" } } },
	{ "hash_key_4G",
	  HDR ROOT "map_create map_type=hash key_size=4294967295 value_size=8 max_entries=1 ret=3\n",
	  0, NULL, 0, NULL, {
		/* htab_map_alloc_check(): key_size > MAX_BPF_STACK (512) */
		{ "linux-5.10", 3, "E2BIG" },
		{ "linux-6.18", 3, "E2BIG" } } },
	{ "percpu_array_4G_entries",
	  HDR ROOT "map_create map_type=percpu_array key_size=4 value_size=32768"
	  " max_entries=4294967295 ret=3\n", 0, NULL, 0, NULL, {
		/* 5.10: cost + max_entries * 32768 * 2 CPUs >= U32_MAX - PAGE_SIZE */
		{ "linux-5.10", 3, "E2BIG" },
		/* 5.11+: 2^32 per-entry __alloc_percpu_gfp() calls: out of memory (and of
		 * what the model simulates in one call) */
		{ "linux-5.11", 3, "ENOMEM" },
		{ "linux-6.18", 3, "ENOMEM" } } },
	{ "ringbuf_not_a_power_of_two",
	  HDR ROOT "map_create map_type=ringbuf max_entries=12345 ret=3\n", 0, NULL, 0, NULL, {
		/* ringbuf_map_alloc(): !is_power_of_2(max_entries) || !PAGE_ALIGNED */
		{ "linux-5.10", 3, "EINVAL" },
		{ "linux-6.18", 3, "EINVAL" } } },
	{ "locked_vm_other_extremes",
	  HDR ROOT "locked_vm_other pages=-9223372036854775808\n"
	  "locked_vm_other pages=9223372036854775807\n", 0, NULL, 0, NULL, {
		/* pages never taken cannot be given back; 2^63 pages overflow a byte count */
		{ "linux-5.10", 3, "EINVAL" },
		{ "linux-5.10", 4, "EINVAL" },
		{ "linux-6.18", 4, "EINVAL" } } },
	/* ---- fds ---- */
	{ "closed_fd",
	  HDR ROOT "map_create map_type=array key_size=4 value_size=4 max_entries=1 ret=3\n"
	  "close fd=3\nmap_update_elem map_fd=3 key=1\n", 0, NULL, 0, NULL, {
		{ "linux-5.10", 5, "EBADF" },
		{ "linux-6.18", 5, "EBADF" } } },
	{ "negative_fd",
	  HDR ROOT "map_update_elem map_fd=-1 key=1\n", 0, NULL, 0, NULL, {
		{ "linux-5.10", 3, "EBADF" },
		{ "linux-6.18", 3, "EBADF" } } },
	/* A trace that says fd 3 twice: the kernel never returns an open fd, so the
	 * replay closes the stale one; the later update reaches the new map. */
	{ "duplicate_fd",
	  HDR ROOT "map_create map_type=array key_size=4 value_size=4 max_entries=1 ret=3\n"
	  "map_create map_type=hash key_size=4 value_size=4 max_entries=1 ret=3\n"
	  "map_update_elem map_fd=3 key=5 flags=noexist\n"
	  "map_update_elem map_fd=3 key=6 flags=noexist\n", 0, NULL, 0, NULL, {
		{ "linux-6.18", 5, "0" },
		/* a hash of 1 entry is full; an array would have said EEXIST */
		{ "linux-6.18", 6, "E2BIG" } } },
	/* ---- malformed lines: exit 2, file:line:column ---- */
	{ "unknown_map_type",
	  HDR ROOT "map_create map_type=frobnicate key_size=4 value_size=4 max_entries=1\n",
	  0, NULL, 2, ":3:21: unknown map type 'frobnicate'", { { 0 } } },
	{ "unknown_command", HDR ROOT "frobnicate pid=1\n", 0, NULL, 2,
	  ":3:1: unknown event 'frobnicate'", { { 0 } } },
	{ "negative_size",
	  HDR ROOT "map_create map_type=array key_size=-4 value_size=4 max_entries=1\n", 0, NULL, 2,
	  ":3:36: expected an integer for key_size", { { 0 } } },
	{ "huge_number", HDR ROOT "close fd=99999999999999999999\n", 0, NULL, 2,
	  ":3:10: number out of range for fd", { { 0 } } },
	{ "max_entries_2_64",
	  HDR ROOT "map_create map_type=array key_size=4 value_size=4 max_entries=18446744073709551616\n",
	  0, NULL, 2, ":3:", { { 0 } } },
	{ "nul_byte", HDR "cgroup_create path=/a\0b\n", sizeof(HDR "cgroup_create path=/a\0b\n") - 1,
	  NULL, 2, ":2:22: NUL byte in a text trace", { { 0 } } },
	{ "truncated_line", HDR ROOT "map_create map_type=ha", 0, NULL, 2,
	  ":3:21: unknown map type 'ha'", { { 0 } } },
	{ "truncated_header", "trace vers", 0, NULL, 2, ":1:11: expected '=' after 'vers' "
	  "(the last line has no newline: is the file truncated?)", { { 0 } } },
	{ "line_of_1MiB", NULL, 0, "1MiB", 2, ":2:65537: line longer than 65536 bytes",
	  { { 0 } } },
	/* ---- not a trace ---- */
	{ "png", NULL, 0, "png", 2, ":1:1: not a kmemsim trace", { { 0 } } },
	{ "devnull", NULL, 0, "devnull", 2, "/dev/null: empty trace", { { 0 } } },
	{ "directory", NULL, 0, "dir", 2, ": read error: Is a directory", { { 0 } } },
	{ "missing", NULL, 0, "missing", 2, ": cannot open: No such file or directory", { { 0 } } },
	/* ---- deep cgroups: 1000 levels made one by one, then one too deep to exist ---- */
	{ "cgroup_1000_levels", NULL, 0, "deep", 0, NULL, {
		{ "linux-6.18", 1001, "0" },
		/* mkdir with a missing parent: ENOENT */
		{ "linux-6.18", 1002, "ENOENT" } } },
};

static char *write_case(const struct hostile *c)
{
	char *path;
	FILE *f;

	if (c->special && !strcmp(c->special, "devnull"))
		return strdup("/dev/null");
	assert_true(asprintf(&path, "%s/%s.trace", tmpdir, c->name) > 0);
	if (c->special && !strcmp(c->special, "dir")) {
		assert_int_equal(mkdir(path, 0700), 0);
		return path;
	}
	if (c->special && !strcmp(c->special, "missing"))
		return path;
	f = fopen(path, "wb");
	assert_non_null(f);
	if (c->text) {
		fwrite(c->text, 1, c->len ? c->len : strlen(c->text), f);
	} else if (!strcmp(c->special, "png")) {
		static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
						     0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 1, 0 };

		fwrite(png, 1, sizeof(png), f);
	} else if (!strcmp(c->special, "1MiB")) {
		fputs("trace version=1\n# ", f);
		for (int i = 0; i < 1 << 20; i++)
			fputc('x', f);
		fputs("\ncgroup_create path=/a\n", f);
	} else if (!strcmp(c->special, "deep")) {
		fputs(HDR, f);
		for (int depth = 1; depth <= 1000; depth++) {
			fputs("cgroup_create path=", f);
			for (int i = 0; i < depth; i++)
				fputs("/a", f);
			fputc('\n', f);
		}
		fputs("cgroup_create path=/b/c\n", f);
	}
	assert_int_equal(fclose(f), 0);
	return path;
}

/* The result column of @profile's event on line @line in the CSV events output. */
static const char *csv_result(const char *out, const char *profile, unsigned int line,
			      char *buf, size_t len)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char prof[32], op[64], res[32];
		unsigned long long seq;
		unsigned int l;

		if (sscanf(p, "%31[^,],%llu,%u,%63[^,],%*[^,],%*[^,],%*[^,],%31[^,]", prof, &seq, &l,
			   op, res) == 5 && !strcmp(prof, profile) && l == line) {
			snprintf(buf, len, "%s", res);
			return buf;
		}
	}
	return NULL;
}

static void run_case(const struct hostile *c)
{
	char *path = write_case(c);
	const char *argv[] = { "compare", "--check", "-p", "linux-5.10", "-p", "linux-5.11",
			       "-p", "linux-6.18", "--format", "csv", "--events", path, NULL };
	struct run_result r;

	assert_int_equal(run_kmemsim_timeout(argv, NULL, TIMEOUT, &r), 0);
	if (r.status >= 128)
		fail_msg("%s: killed by signal %d (%s)\n%s", c->name, r.status - 128,
			 r.status == 142 ? "timed out" : "crashed", r.err);
	if (r.status != c->status)
		fail_msg("%s: exit %d, want %d\n%s", c->name, r.status, c->status, r.err);
	if (c->err) {
		/* the message names the file first */
		if (!strstr(r.err, path) || !strstr(r.err, c->err))
			fail_msg("%s: stderr lacks '%s%s':\n%s", c->name, path, c->err, r.err);
	}
	for (size_t i = 0; i < sizeof(c->want) / sizeof(c->want[0]) && c->want[i].profile; i++) {
		char buf[32];
		const char *got = csv_result(r.out, c->want[i].profile, c->want[i].line, buf,
					     sizeof(buf));

		if (!got || strcmp(got, c->want[i].result))
			fail_msg("%s: %s line %u gave %s, want %s", c->name, c->want[i].profile,
				 c->want[i].line, got ? got : "(no event)", c->want[i].result);
	}
	run_result_free(&r);
	if (!(c->special && !strcmp(c->special, "devnull"))) {
		if (c->special && !strcmp(c->special, "dir"))
			rmdir(path);
		else
			unlink(path);
	}
	free(path);
}

static void test_hostile_inputs(void **state)
{
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Some other program may have replaced the machine's /dev/null (a rename over it). */
		if (cases[i].special && !strcmp(cases[i].special, "devnull") &&
		    (stat("/dev/null", &st) || !S_ISCHR(st.st_mode))) {
			printf("# /dev/null is not a character device here: case skipped\n");
			continue;
		}
		run_case(&cases[i]);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 4096);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, 4095, f) < 4095);
	fclose(f);
	return buf;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* -o never overwrites the input, and a failed run leaves an existing -o file as it was. */
static void test_output_file_is_safe(void **state)
{
	char in[256], out[256], bad[256], *text;
	struct run_result r;

	(void)state;
	snprintf(in, sizeof(in), "%s/in.trace", tmpdir);
	snprintf(out, sizeof(out), "%s/report.txt", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad.trace", tmpdir);
	put(in, HDR ROOT "map_create map_type=array key_size=4 value_size=4 max_entries=1\n");
	put(out, "an earlier report\n");
	put(bad, HDR ROOT "map_create map_type=frobnicate\n");
	{
		const char *argv[] = { "compare", "-o", in, in, NULL };

		assert_int_equal(run_kmemsim_timeout(argv, NULL, TIMEOUT, &r), 0);
		assert_int_equal(r.status, 2);
		assert_non_null(strstr(r.err, "would overwrite an input"));
		run_result_free(&r);
		text = slurp(in);
		assert_non_null(strstr(text, "map_create"));
		free(text);
	}
	{
		const char *argv[] = { "compare", "-o", out, bad, NULL };

		assert_int_equal(run_kmemsim_timeout(argv, NULL, TIMEOUT, &r), 0);
		assert_int_equal(r.status, 2);
		run_result_free(&r);
		text = slurp(out);
		assert_string_equal(text, "an earlier report\n");
		free(text);
	}
	{
		const char *argv[] = { "compare", "-o", out, in, NULL };

		assert_int_equal(run_kmemsim_timeout(argv, NULL, TIMEOUT, &r), 0);
		assert_int_equal(r.status, 0);
		run_result_free(&r);
		text = slurp(out);
		assert_non_null(strstr(text, "== linux-5.11 =="));
		free(text);
	}
	unlink(in);
	unlink(out);
	unlink(bad);
}

/* Drain @fifo in a child until the writer closes it; returns the child's pid. */
static pid_t drain(const char *fifo)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[4096];
		FILE *f = fopen(fifo, "r");

		while (f && fread(buf, 1, sizeof(buf), f) > 0)
			;
		_exit(f ? 0 : 1);
	}
	return pid;
}

/*
 * -o to something that is not a regular file is written, not replaced: a
 * rename over /dev/null once turned the machine's /dev/null into a plain
 * file. A symlink's target is updated and the link stays.
 */
static void test_output_to_fifo_and_symlink(void **state)
{
	char in[256], fifo[256], file[256], link[256], *text;
	struct run_result r;
	struct stat st;
	int status;
	pid_t pid;

	(void)state;
	snprintf(in, sizeof(in), "%s/in2.trace", tmpdir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	snprintf(file, sizeof(file), "%s/target.txt", tmpdir);
	snprintf(link, sizeof(link), "%s/link.txt", tmpdir);
	put(in, HDR ROOT "map_create map_type=array key_size=4 value_size=4 max_entries=1\n");
	put(file, "old\n");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(file, link), 0);
	pid = drain(fifo);
	{
		const char *argv[] = { "compare", "-o", fifo, in, NULL };

		assert_int_equal(run_kmemsim_timeout(argv, NULL, TIMEOUT, &r), 0);
		assert_int_equal(r.status, 0);
		run_result_free(&r);
	}
	/* A writer that never opened the FIFO would leave the reader blocked: end it. */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	{
		const char *argv[] = { "compare", "-o", link, in, NULL };

		assert_int_equal(run_kmemsim_timeout(argv, NULL, TIMEOUT, &r), 0);
		assert_int_equal(r.status, 0);
		run_result_free(&r);
	}
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	text = slurp(file);
	assert_non_null(strstr(text, "== linux-5.11 =="));
	free(text);
	unlink(in);
	unlink(fifo);
	unlink(link);
	unlink(file);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_inputs),
		cmocka_unit_test(test_output_file_is_safe),
		cmocka_unit_test(test_output_to_fifo_and_symlink),
	};

	return cmocka_run_group_tests_name("cli/hostile", tests, setup, teardown);
}
