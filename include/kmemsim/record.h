/* SPDX-License-Identifier: MIT */
/*
 * The recorder: run a command under ptrace and write, in the native trace
 * format, every bpf(2) call it makes (attributes read from its memory, key ids,
 * the kernel's result), the fd lifetime of its BPF objects (close, dup, fork,
 * exec, exit), RLIMIT_MEMLOCK changes and, where the recorder may look maps up
 * by id, samples of its maps' element counts (growth caused by BPF programs).
 *
 * Linux only (ptrace, seccomp, process_vm_readv); x86-64 syscall decoding.
 * Functions return 0 or a negative errno and never print to stdout/stderr or
 * exit; the trace goes to the FILE the caller gives.
 */
#ifndef KMEMSIM_RECORD_H
#define KMEMSIM_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kms_record_opts {
	char *const *argv;		/* the command; argv[0] is looked up in PATH */
	FILE *out;			/* where the trace is written */
	/* Map element counts are sampled every @sample_ms while the command
	 * runs and whenever one of its processes exits; 0 = only at exits. */
	unsigned int sample_ms;
	int no_sample;			/* do not sample map element counts at all */
};

struct kms_record_result {
	int wait_status;		/* the command's status, as from waitpid() */
	unsigned long nr_events;	/* event lines written */
	unsigned long nr_bpf;		/* bpf(2) calls seen */
	unsigned long nr_samples;	/* map element count samples written */
	unsigned long nr_tasks;		/* processes and threads seen */
	char error[256];		/* on failure: what went wrong, for a person */
};

/*
 * Can this process record? 0 if so; otherwise -EPERM (not root or ptrace is
 * denied) or -ENOSYS (architecture, seccomp or ptrace missing), with a
 * sentence saying what is missing in @why.
 */
int kms_record_probe(char *why, size_t why_len);

/*
 * Run opts->argv to completion under the recorder, writing the native trace
 * format (docs/trace-format.md; key ids are kms_key_id() of the key bytes). Returns 0 once the command
 * has exited (its status in res->wait_status, whatever it was), or a negative
 * errno if recording could not start (res->error says why). The command never
 * outlives the recorder (PTRACE_O_EXITKILL) and is never left stopped.
 */
int kms_record_run(const struct kms_record_opts *opts, struct kms_record_result *res);

#endif
