/* SPDX-License-Identifier: MIT */
/* The kmemsim program: one function per subcommand, each in its own file. */
#ifndef KMS_SIM_CLI_H
#define KMS_SIM_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses every subcommand uses. */
enum {
	KMS_EXIT_OK = 0,	/* done; every expectation held */
	KMS_EXIT_FAIL = 1,	/* an expectation or check failed */
	KMS_EXIT_USAGE = 2,	/* bad input or usage */
};

struct kms_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);	/* argv[0] is the command name */
};

int cmd_import(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_selfcheck(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_validate(int argc, char **argv);
/* sim/calibrate_model.c: a measured calibration CSV replayed in the model. */
int calibrate_model(const char *path, const char *profile, FILE *out);
int cmd_record(int argc, char **argv);

/* Print "kmemsim: " and the message to stderr; returns KMS_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * output.c: -o FILE. Regular files go through a temporary renamed over on
 * success (cli_output_close(keep = true)); devices, FIFOs are written directly.
 */
struct cli_output {
	FILE *f;
	char *target;	/* the file written (a symlink resolved) */
	char *tmp;	/* the temporary beside it, NULL when writing directly */
};
FILE *cli_output_open(const char *path, struct cli_output *o);
/* Close; @keep: put the output in place, else drop the temporary. 0 or -errno. */
int cli_output_close(struct cli_output *o, bool keep);

/* memstats.c: the hidden --memstats line (peak heap) for tests. */
void cli_memstats_print(FILE *out);

#endif
