/* SPDX-License-Identifier: MIT */
/* Run the built kmemsim program from a test and capture what it says. */
#ifndef KMS_TESTS_CLI_RUN_H
#define KMS_TESTS_CLI_RUN_H

#include <stddef.h>

struct run_result {
	int status;		/* exit status, or 128 + signal */
	char *out;		/* stdout, NUL-terminated */
	size_t out_len;
	char *err;		/* stderr, NUL-terminated */
	size_t err_len;
};

/*
 * Run $KMEMSIM with @argv (NULL-terminated, argv[0] excluded), feeding @stdin_text
 * (or /dev/null when NULL). Returns 0, or -1 when the program could not be run.
 */
int run_kmemsim(const char *const argv[], const char *stdin_text, struct run_result *r);
/* The same, killed by SIGALRM after @seconds (20 times that under valgrind); 0 = no limit. */
int run_kmemsim_timeout(const char *const argv[], const char *stdin_text, unsigned int seconds,
			struct run_result *r);
void run_result_free(struct run_result *r);

/* A path below the source tree ($KMEMSIM_SOURCE_ROOT/@rel), in a static buffer per call site. */
const char *source_path(const char *rel, char *buf, size_t len);

#endif
