// SPDX-License-Identifier: MIT
/*
 * kmemsim import: any trace kmemsim reads (an strace log or a native trace)
 * to the native format on stdout, with what the importer assumed as comments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemsim/trace.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kmemsim import [options] FILE\n"
		"\n"
		"Convert FILE (an strace -f -ttt log, or a native trace; '-' for stdin)\n"
		"to the native trace format on stdout. strace does not record everything\n"
		"the model needs; these options say what to assume instead:\n"
		"  --cgroup PATH     the memory cgroup the workload ran in (default /)\n"
		"  --cgroup-root DIR where cgroup v2 was mounted (default /sys/fs/cgroup):\n"
		"                    attaching to DIR/a/b is attaching to cgroup /a/b\n"
		"  --uid N           the uid it ran as (default 0)\n"
		"  --cpu N           the CPU to charge per-CPU caches on (default 0)\n"
		"  --kernel RELEASE  the recording kernel, for the header (default unknown)\n"
		"  --cpus N          possible CPUs of the recording machine (default 2)\n"
		"  --page-size N     page size of the recording machine (default 4096)\n"
		"  --any-unknown     leave the key of a successful BPF_ANY update unknown\n"
		"                    instead of assuming an insert of a new key\n"
		"  -o FILE           write to FILE instead of stdout\n");
}

static int parse_u32_arg(const char *opt, const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || !*s || v > UINT32_MAX || s[0] == '-') {
		cli_usage_error("%s expects a number, got '%s'", opt, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int print_error(const struct kms_trace_error *e)
{
	char buf[512];

	kms_trace_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "kmemsim: %s\n", buf);
	return KMS_EXIT_USAGE;
}

int cmd_import(int argc, char **argv)
{
	struct kms_strace_options opts;
	struct kms_trace_reader *r;
	struct kms_trace_error err;
	const char *path = NULL, *out_path = NULL;
	struct kms_event ev;
	FILE *out = stdout;
	int ret, status = KMS_EXIT_OK;

	kms_strace_options_init(&opts);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_arg = i + 1 < argc;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return KMS_EXIT_OK;
		} else if (strcmp(a, "--any-unknown") == 0) {
			opts.any_update_inserts = false;
		} else if (a[0] == '-' && a[1] != '\0' && !has_arg) {
			return cli_usage_error("import: %s needs an argument or is unknown", a);
		} else if (strcmp(a, "--cgroup") == 0) {
			opts.cgroup = argv[++i];
			if (opts.cgroup[0] != '/')
				return cli_usage_error("--cgroup expects an absolute path like /app");
		} else if (strcmp(a, "--cgroup-root") == 0) {
			opts.cgroup_root = argv[++i];
		} else if (strcmp(a, "--uid") == 0) {
			if (parse_u32_arg(a, argv[++i], &opts.uid))
				return KMS_EXIT_USAGE;
		} else if (strcmp(a, "--cpu") == 0) {
			if (parse_u32_arg(a, argv[++i], &opts.cpu))
				return KMS_EXIT_USAGE;
		} else if (strcmp(a, "--cpus") == 0) {
			if (parse_u32_arg(a, argv[++i], &opts.nr_cpus) || !opts.nr_cpus)
				return KMS_EXIT_USAGE;
		} else if (strcmp(a, "--page-size") == 0) {
			if (parse_u32_arg(a, argv[++i], &opts.page_size))
				return KMS_EXIT_USAGE;
		} else if (strcmp(a, "--kernel") == 0) {
			opts.kernel = argv[++i];
		} else if (strcmp(a, "-o") == 0) {
			out_path = argv[++i];
		} else if (a[0] == '-' && a[1] != '\0') {
			return cli_usage_error("import: unknown option '%s'", a);
		} else if (path) {
			return cli_usage_error("import takes one FILE");
		} else {
			path = a;
		}
	}
	if (!path)
		return cli_usage_error("import needs a FILE");

	ret = kms_trace_open(path, &opts, &r, &err);
	if (ret)
		return print_error(&err);
	if (out_path) {
		out = fopen(out_path, "w");
		if (!out) {
			fprintf(stderr, "kmemsim: cannot write %s: %s\n", out_path, strerror(errno));
			kms_trace_reader_free(r);
			return KMS_EXIT_USAGE;
		}
	}
	kms_trace_write_header(out, kms_trace_reader_header(r));
	if (kms_trace_reader_format(r) == KMS_TRACE_STRACE) {
		fprintf(out, "# imported from the strace log %s\n", path);
		kms_trace_write_comment(out, kms_trace_reader_assumptions(r));
	}
	while ((ret = kms_trace_read_next(r, &ev)) > 0) {
		if (kms_trace_write_event(out, &ev)) {
			fprintf(stderr, "kmemsim: cannot write event of line %u\n", ev.line);
			status = KMS_EXIT_USAGE;
			break;
		}
	}
	if (ret < 0)
		status = print_error(kms_trace_reader_error(r));
	else
		kms_trace_write_comment(out, kms_trace_reader_notes(r));
	if (out != stdout && fclose(out)) {
		fprintf(stderr, "kmemsim: cannot write %s\n", out_path);
		status = KMS_EXIT_USAGE;
	} else if (out == stdout && fflush(out)) {
		status = KMS_EXIT_USAGE;
	}
	kms_trace_reader_free(r);
	return status;
}
