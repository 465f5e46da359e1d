// SPDX-License-Identifier: MIT
/*
 * Replay memory follows live objects, not trace length: a trace of insert /
 * delete cycles on one map (64 keys live at most) is generated into a FIFO
 * (no file on disk, nothing held by the test) and replayed at 1M and 2M
 * events; the program's peak heap (hidden --memstats: jemalloc's own peak,
 * or VmHWM) must not grow between them beyond a small margin.
 * Seconds of work: suite 'slow', not run under valgrind.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "run.h"

#define LIVE_KEYS 64

static void write_trace(const char *fifo, unsigned long events)
{
	FILE *f = fopen(fifo, "w");

	if (!f)
		_exit(1);
	fputs("trace version=1 kernel=6.18.44 page_size=4K cpus=2\n"
	      "task_new pid=1 uid=0 memlock_cur=unlimited memlock_max=unlimited\n"
	      "map_create map_type=hash key_size=8 value_size=8 max_entries=1024"
	      " map_flags=no_prealloc ret=3\n", f);
	for (unsigned long i = 0; i < events / 2; i++) {
		/* key i goes in; key i - LIVE_KEYS, inserted LIVE_KEYS cycles ago, goes out */
		fprintf(f, "map_update_elem map_fd=3 key=%lu flags=noexist ret=0\n", i);
		if (i >= LIVE_KEYS)
			fprintf(f, "map_delete_elem map_fd=3 key=%lu ret=0\n", i - LIVE_KEYS);
		else
			fputs("map_get_next_key map_fd=3 ret=0\n", f);
	}
	_exit(fclose(f) ? 1 : 0);
}

/* Peak heap of one replay of @events events, or 0 when the build cannot say. */
static uint64_t replay_peak(unsigned long events)
{
	char dir[] = "/tmp/kmemsim-resources-XXXXXX", fifo[64];
	const char *argv[] = { "replay", "--check", "-p", "linux-6.18", "--memstats", fifo, NULL };
	struct run_result r;
	uint64_t peak = 0;
	const char *m;
	int status;
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/trace", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		write_trace(fifo, events);
	assert_int_equal(run_kmemsim_timeout(argv, NULL, 600, &r), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(fifo);
	rmdir(dir);
	if (r.status)
		fail_msg("replay of %lu events: exit %d\n%s", events, r.status, r.err);
	/* every insert and delete did what the trace says: the live set stays LIVE_KEYS */
	if (!strstr(r.out, "failed 0"))
		fail_msg("replay of %lu events had failures:\n%.2000s", events, r.out);
	m = strstr(r.err, "memstats: ");
	assert_non_null(m);
	if (sscanf(m, "memstats: peak %" SCNu64, &peak) == 1)
		printf("# %lu events: peak %" PRIu64 " bytes (%s", events, peak,
		       strchr(m, '(') + 1);
	run_result_free(&r);
	return peak;
}

static void test_memory_follows_live_objects(void **state)
{
	uint64_t p1, p2, margin;

	(void)state;
	p1 = replay_peak(1000000);
	if (!p1)
		skip();	/* a sanitizer build: no meaningful peak */
	p2 = replay_peak(2000000);
	/* twice the events, the same 64 live elements: at most 5% or 512 KiB more */
	margin = p1 / 20 > 512 * 1024 ? p1 / 20 : 512 * 1024;
	if (p2 > p1 + margin)
		fail_msg("peak grew from %" PRIu64 " to %" PRIu64 " bytes between 1M and 2M events",
			 p1, p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_follows_live_objects),
	};

	return cmocka_run_group_tests_name("cli/resources", tests, NULL, NULL);
}
