// SPDX-License-Identifier: MIT
/*
 * kmemsim convert: any trace kmemsim reads (native text, binary, an strace
 * log) to the native format's text or binary form ("parse once, replay
 * many": docs/trace-format.md, "The binary form").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmemsim/trace.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kmemsim convert [--to binary|text] [-o OUT] IN\n"
		"\n"
		"Write the trace IN (native text, binary, or an strace log with import's\n"
		"default assumptions; '-' for stdin) in the native format's binary or text\n"
		"form. The binary form holds the same events, source lines included, so\n"
		"replay, compare and check report the same, and it reads several times\n"
		"faster: convert a long recording once to replay it under many profiles.\n"
		"\n"
		"  --to FORM   binary or text (default: binary, text for a binary IN)\n"
		"  -o OUT      write to OUT instead of stdout (replaced only when all went\n"
		"              well); binary is not written to a terminal\n"
		"\n"
		"For an strace log with other assumptions: kmemsim import [options] LOG |\n"
		"kmemsim convert -o OUT -\n");
}

static int print_error(const struct kms_trace_error *e)
{
	char buf[512];

	kms_trace_error_format(e, buf, sizeof(buf));
	fprintf(stderr, "kmemsim: %s\n", buf);
	return KMS_EXIT_USAGE;
}

/* What made the trace, kept as the output's comment: an import's assumptions, gen's options. */
static char *source_comment(struct kms_trace_reader *r, const char *path)
{
	char *c = NULL;

	if (kms_trace_reader_format(r) == KMS_TRACE_STRACE) {
		if (asprintf(&c, "imported from the strace log %s\n%s", path,
			     kms_trace_reader_assumptions(r)) < 0)
			return NULL;
		return c;
	}
	return strdup(kms_trace_reader_comment(r));
}

static int convert(struct kms_trace_reader *r, const char *path, FILE *out,
		   enum kms_trace_format to)
{
	struct kms_trace_writer *w;
	struct kms_event ev;
	char *comment = source_comment(r, path);
	int ret;

	if (!comment)
		return -ENOMEM;
	ret = kms_trace_writer_open(out, to, kms_trace_reader_header(r), comment, &w);
	free(comment);
	if (ret)
		return ret;
	while ((ret = kms_trace_read_next(r, &ev)) > 0) {
		ret = kms_trace_writer_write(w, &ev);
		if (ret) {
			fprintf(stderr, "kmemsim: convert: cannot write the event of line %u: %s\n",
				ev.line, strerror(-ret));
			kms_trace_writer_free(w);
			return -ECANCELED;
		}
	}
	if (ret < 0) {
		print_error(kms_trace_reader_error(r));
		kms_trace_writer_free(w);
		return -ECANCELED;
	}
	return kms_trace_writer_close(w);
}

int cmd_convert(int argc, char **argv)
{
	const char *path = NULL, *out_path = NULL, *to_arg = NULL;
	struct cli_output out = { 0 };
	struct kms_trace_reader *r;
	struct kms_trace_error err;
	enum kms_trace_format to;
	FILE *f = stdout;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return KMS_EXIT_OK;
		} else if ((strcmp(a, "-o") == 0 || strcmp(a, "--to") == 0) && i + 1 == argc) {
			return cli_usage_error("convert: %s needs an argument", a);
		} else if (strcmp(a, "-o") == 0) {
			out_path = argv[++i];
		} else if (strcmp(a, "--to") == 0) {
			to_arg = argv[++i];
			if (strcmp(to_arg, "binary") != 0 && strcmp(to_arg, "text") != 0)
				return cli_usage_error("convert: --to wants binary or text, got '%s'",
						       to_arg);
		} else if (a[0] == '-' && a[1] != '\0') {
			return cli_usage_error("convert: unknown option '%s'", a);
		} else if (path) {
			return cli_usage_error("convert takes one IN");
		} else {
			path = a;
		}
	}
	if (!path)
		return cli_usage_error("convert needs a trace IN");

	ret = kms_trace_open(path, NULL, &r, &err);
	if (ret)
		return print_error(&err);
	if (to_arg)
		to = strcmp(to_arg, "binary") == 0 ? KMS_TRACE_BINARY : KMS_TRACE_NATIVE;
	else
		to = kms_trace_reader_binary(r) ? KMS_TRACE_NATIVE : KMS_TRACE_BINARY;
	if (!out_path && to == KMS_TRACE_BINARY && isatty(STDOUT_FILENO)) {
		kms_trace_reader_free(r);
		return cli_usage_error("convert: not writing a binary trace to a terminal: "
				       "use -o OUT");
	}
	if (out_path && !(f = cli_output_open(out_path, &out))) {
		fprintf(stderr, "kmemsim: cannot write %s: %s\n", out_path, strerror(errno));
		cli_output_close(&out, false);
		kms_trace_reader_free(r);
		return KMS_EXIT_USAGE;
	}
	ret = convert(r, path, f, to);
	kms_trace_reader_free(r);
	if (f != stdout) {
		int cret = cli_output_close(&out, !ret);

		if (!ret)
			ret = cret;
	}
	if (ret && ret != -ECANCELED)
		fprintf(stderr, "kmemsim: convert: %s%s%s\n", out_path ? out_path : "",
			out_path ? ": " : "", strerror(-ret));
	return ret ? KMS_EXIT_USAGE : KMS_EXIT_OK;
}
