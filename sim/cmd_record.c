// SPDX-License-Identifier: MIT
/*
 * kmemsim record [-o FILE] [-i MS] [--no-sample] -- COMMAND [ARGS...]
 *
 * Runs COMMAND under the recorder and exits with its status (128 + signal if a
 * signal killed it), so a recording can stand in for the command in scripts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kmemsim/record.h"
#include "cli.h"

#define DEFAULT_SAMPLE_MS 250

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kmemsim record [-o FILE] [-i MS] [--no-sample] -- COMMAND [ARGS...]\n"
		"\n"
		"Run COMMAND under ptrace and write its bpf(2) calls (decoded attributes,\n"
		"key ids, results), fd lifetime, RLIMIT_MEMLOCK changes and samples of its\n"
		"maps' element counts as a kmemsim trace. Needs root. Exits with COMMAND's\n"
		"status; 2 if it cannot record.\n"
		"\n"
		"  -o, --output FILE       write the trace to FILE (default: stdout)\n"
		"  -i, --sample-ms MS      sample map element counts every MS ms (default %d;\n"
		"                          0 = only when a process exits)\n"
		"      --no-sample         do not sample map element counts\n",
		DEFAULT_SAMPLE_MS);
}

static int parse_ms(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 3600000 || s[0] == '-')
		return -1;
	*out = (unsigned int)v;
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct kms_record_opts opts = { .sample_ms = DEFAULT_SAMPLE_MS };
	struct kms_record_result res;
	const char *output = NULL;
	char why[256];
	int i, err, st;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return KMS_EXIT_OK;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (++i == argc)
				return cli_usage_error("record: %s needs a file name", a);
			output = argv[i];
		} else if (strcmp(a, "-i") == 0 || strcmp(a, "--sample-ms") == 0) {
			if (++i == argc || parse_ms(argv[i], &opts.sample_ms))
				return cli_usage_error("record: %s needs a number of milliseconds "
						       "(0 to 3600000)", a);
		} else if (strcmp(a, "--no-sample") == 0) {
			opts.no_sample = 1;
		} else {
			return cli_usage_error("record: unknown option '%s'", a);
		}
	}
	if (i >= argc)
		return cli_usage_error("record: no command given (kmemsim record -- COMMAND)");
	opts.argv = argv + i;

	err = kms_record_probe(why, sizeof(why));
	if (err) {
		fprintf(stderr, "kmemsim record: cannot record here: %s\n", why);
		return KMS_EXIT_USAGE;
	}
	opts.out = output ? fopen(output, "we") : stdout;
	if (!opts.out) {
		fprintf(stderr, "kmemsim record: cannot open %s: %s\n", output, strerror(errno));
		return KMS_EXIT_USAGE;
	}
	err = kms_record_run(&opts, &res);
	if (output && fclose(opts.out) != 0 && !err) {
		fprintf(stderr, "kmemsim record: cannot write %s: %s\n", output, strerror(errno));
		return KMS_EXIT_USAGE;
	}
	if (err) {
		fprintf(stderr, "kmemsim record: %s\n", res.error);
		/* as env(1): 127 command not found, 126 found but not runnable */
		if (err == -ENOENT)
			return 127;
		return err == -EACCES || err == -ENOEXEC ? 126 : KMS_EXIT_USAGE;
	}
	fprintf(stderr, "kmemsim record: %lu events (%lu bpf calls, %lu map samples) from %lu "
		"tasks%s%s\n", res.nr_events, res.nr_bpf, res.nr_samples, res.nr_tasks,
		output ? " written to " : "", output ? output : "");
	st = res.wait_status;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
