// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kms_build_config.h"
#include "cli.h"

static const struct kms_command commands[] = {
	{ "compare", "replay a trace under several kernel profiles and show where they differ",
	  cmd_compare },
	{ "replay", "replay a trace under one kernel profile: the full report", cmd_replay },
	{ "check", "check a trace's expectations under every profile they name", cmd_check },
	{ "profiles", "list the built-in kernel profiles", cmd_profiles },
	{ "gen", "write a large deterministic synthetic trace (benchmarks)", cmd_gen },
	{ "import", "convert an strace log to the native trace format", cmd_import },
	{ "convert", "write a trace in the native format's binary (fast to read) or text form",
	  cmd_convert },
	{ "validate", "run a trace on the real kernel and compare with the model", cmd_validate },
	{ "calibrate", "measure real kernel charges of BPF objects (root, memcg)", cmd_calibrate },
	{ "record", "run a command and record its bpf(2) calls as a trace", cmd_record },
	{ "selfcheck", "run a built-in check of the accounting core", cmd_selfcheck },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: kmemsim [--help] [--version] COMMAND [ARGS...]\n"
		"\n"
		"kmemsim replays bpf(2) traces through a model of Linux kernel memory\n"
		"accounting (RLIMIT_MEMLOCK in 5.10, memory cgroups since 5.11).\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'kmemsim COMMAND --help' for a command's options.\n");
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kmemsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'kmemsim --help'.\n", stderr);
	return KMS_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return KMS_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage(stdout);
		return KMS_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kmemsim %s\n", KMS_VERSION);
		return KMS_EXIT_OK;
	}
	if (argv[1][0] == '-')
		return cli_usage_error("unknown option '%s'", argv[1]);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	return cli_usage_error("unknown command '%s'", argv[1]);
}
