// SPDX-License-Identifier: MIT
/*
 * kmemsim replay | compare | check: the main job. Parse options, open the
 * trace, replay it under the profiles, write the report.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmemsim/replay.h"
#include "kmemsim/report.h"
#include "cli.h"
#include "trace_src.h"

enum cmd_mode { MODE_REPLAY, MODE_COMPARE, MODE_CHECK };

#define MAX_LIST 64

struct replay_cli {
	enum cmd_mode mode;
	const char *profiles[MAX_LIST];
	size_t nr_profiles;
	const char *sets[MAX_LIST];
	size_t nr_sets;
	struct kms_report_opts ropts;
	const char *output;
	bool check_invariants;
	bool memstats;			/* hidden --memstats: peak heap on stderr */
	bool no_limits;
	struct trace_src src;
	uint64_t progress;
	bool show_progress;
};

static void usage(FILE *f, enum cmd_mode mode)
{
	static const char *const names[] = { "replay", "compare", "check" };

	fprintf(f, "usage: kmemsim %s %s[options] TRACE\n", names[mode],
		mode == MODE_REPLAY ? "--profile P " : mode == MODE_COMPARE ?
		"[--profiles P1,P2,...] " : "");
	fputs("\nTRACE is a native kmemsim trace or a strace log (detected), or - for stdin.\n"
	      "\noptions:\n", f);
	if (mode == MODE_REPLAY)
		fputs("  -p, --profile P        kernel profile (see 'kmemsim profiles')\n", f);
	if (mode == MODE_COMPARE)
		fputs("  -p, --profiles LIST    comma-separated profiles "
		      "(default linux-5.10,linux-5.11)\n", f);
	fputs("  -f, --format FMT       text (default), json, csv", f);
	fputs(mode == MODE_CHECK ? ", tap\n" : "\n", f);
	fputs("      --events           per-event records (json, csv)\n"
	      "      --explain          the charge path of every event (text)\n"
	      "  -s, --set KEY=VALUE    what-if override, repeatable: cpus=64, page_size=64K,\n"
	      "                         batch=32, kmem=off, memcg=off, nobpf, rlimit.memlock=64K,\n"
	      "                         cgroup:/a:memory.max=64M\n"
	      "      --svg FILE         also write an SVG timeline\n"
	      "  -o, --output FILE      write the report to FILE instead of stdout\n"
	      "  -q, --quiet            summary lines only\n"
	      "      --check            check the model's invariants after every event\n"
	      "      --no-limits        skip computing limits_needed\n"
	      "      --strace-cgroup P  strace logs: the cgroup the workload ran in (default /)\n"
	      "      --strace-uid N     strace logs: the uid it ran as (default 0)\n"
	      "  -h, --help             this help\n"
	      "\nexit status: 0 every expectation held, 1 an expectation failed, 2 bad input.\n", f);
}

static int split_list(char *arg, const char **list, size_t *n, const char *what)
{
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		if (*n == MAX_LIST)
			return cli_usage_error("too many %s (at most %d)", what, MAX_LIST);
		list[(*n)++] = tok;
	}
	return 0;
}

static int parse_args(struct replay_cli *c, int argc, char **argv)
{
	enum { OPT_EVENTS = 256, OPT_EXPLAIN, OPT_SVG, OPT_CHECK, OPT_NO_LIMITS, OPT_SCG, OPT_SUID,
	       OPT_MEMSTATS };
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "profiles", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "events", no_argument, NULL, OPT_EVENTS },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "set", required_argument, NULL, 's' },
		{ "svg", required_argument, NULL, OPT_SVG },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "no-limits", no_argument, NULL, OPT_NO_LIMITS },
		{ "strace-cgroup", required_argument, NULL, OPT_SCG },
		{ "strace-uid", required_argument, NULL, OPT_SUID },
		{ "memstats", no_argument, NULL, OPT_MEMSTATS },	/* hidden: for tests */
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:f:s:o:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (c->mode == MODE_CHECK)
				return cli_usage_error("check takes its profiles from the trace");
			if ((ret = split_list(optarg, c->profiles, &c->nr_profiles, "profiles")))
				return ret;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				c->ropts.format = KMS_REPORT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				c->ropts.format = KMS_REPORT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				c->ropts.format = KMS_REPORT_CSV;
			else if (strcmp(optarg, "tap") == 0 && c->mode == MODE_CHECK)
				c->ropts.format = KMS_REPORT_TAP;
			else
				return cli_usage_error("unknown format '%s'", optarg);
			break;
		case OPT_EVENTS: c->ropts.events = true; break;
		case OPT_EXPLAIN: c->ropts.explain = true; break;
		case 's':
			if (c->nr_sets == MAX_LIST)
				return cli_usage_error("too many --set (at most %d)", MAX_LIST);
			c->sets[c->nr_sets++] = optarg;
			break;
		case OPT_SVG: c->ropts.svg_path = optarg; break;
		case 'o': c->output = optarg; break;
		case 'q': c->ropts.quiet = true; break;
		case OPT_CHECK: c->check_invariants = true; break;
		case OPT_NO_LIMITS: c->no_limits = true; break;
		case OPT_MEMSTATS: c->memstats = true; break;
		case OPT_SCG:
			if (optarg[0] != '/')
				return cli_usage_error("--strace-cgroup wants a path like /app, got '%s'",
						       optarg);
			c->src.sopts.cgroup = optarg;
			break;
		case OPT_SUID: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end || v > UINT32_MAX - 1)
				return cli_usage_error("--strace-uid wants a uid, got '%s'", optarg);
			c->src.sopts.uid = (uint32_t)v;
			break;
		}
		case 'h':
			usage(stdout, c->mode);
			return -1;
		case ':':
			return cli_usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(optind == argc ? "no TRACE given" : "more than one TRACE given");
	c->src.path = argv[optind];
	c->ropts.trace_path = argv[optind];
	if (c->mode == MODE_REPLAY && c->nr_profiles != 1)
		return cli_usage_error("replay needs exactly one --profile");
	if (c->mode == MODE_COMPARE && c->nr_profiles == 0) {
		c->profiles[c->nr_profiles++] = "linux-5.10";
		c->profiles[c->nr_profiles++] = "linux-5.11";
	}
	if (c->mode == MODE_COMPARE && c->nr_profiles < 2)
		return cli_usage_error("compare needs at least two profiles");
	if (c->ropts.events && c->ropts.format == KMS_REPORT_TEXT)
		return cli_usage_error("--events goes with --format json or csv");
	return 0;
}

/* Profiles named by the trace's expectations, in order of first appearance. */
static int collect_expect_profiles(struct replay_cli *c, char **names, size_t *n)
{
	struct kms_trace_reader *reader;
	struct kms_event ev;
	int ret;

	if ((ret = trace_src_open(&c->src, &reader)))
		return ret;
	while ((ret = kms_trace_read_next(reader, &ev)) == 1) {
		char name[256];
		size_t i;

		if (ev.kind != KMS_EV_EXPECT || !ev.u.expect.profile)
			continue;
		/* "expect profile=P set=K=V,..." is checked in a run of its own, "P[K=V,...]" */
		if (kms_replay_run_name(ev.u.expect.profile, ev.u.expect.set, name,
					sizeof(name)) < 0) {
			fprintf(stderr, "kmemsim: %s:%u: profile and set= too long\n", c->src.path,
				ev.line);
			ret = -ENAMETOOLONG;
			break;
		}
		for (i = 0; i < *n; i++)
			if (strcmp(names[i], name) == 0)
				break;
		if (i < *n)
			continue;
		if (*n == MAX_LIST || !(names[*n] = strdup(name))) {
			ret = -ENOMEM;
			break;
		}
		(*n)++;
	}
	if (ret < 0 && ret != -ENAMETOOLONG) {
		char msg[512];

		kms_trace_error_format(kms_trace_reader_error(reader), msg, sizeof(msg));
		fprintf(stderr, "kmemsim: %s\n", msg);
	}
	kms_trace_reader_free(reader);
	return ret < 0 ? ret : 0;
}

struct step_arg {
	struct kms_report *rep;
	bool progress;
	uint64_t events;
};

static int step_cb(const struct kms_replay_step *step, struct kms_replay *r, void *arg)
{
	struct step_arg *a = arg;

	/* A progress line for long replays, only where a person watches stderr. */
	if (a->progress && step->run == 0 && (++a->events & ((1u << 20) - 1)) == 0)
		fprintf(stderr, "\rkmemsim: %llu events...", (unsigned long long)a->events);
	return kms_report_step(step, r, a->rep);
}

/* Refuse to write the report over the trace being read. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int run_replay(struct replay_cli *c)
{
	struct kms_replay_opts opts = {
		.profiles = c->profiles,
		.nr_profiles = c->nr_profiles,
		.sets = c->sets,
		.nr_sets = c->nr_sets,
		.check_invariants = c->check_invariants,
		.explain = c->ropts.explain,
		.limits = !c->no_limits && c->mode != MODE_CHECK,
	};
	struct step_arg sa = { .progress = isatty(2) && !c->ropts.quiet };
	struct kms_trace_reader *reader = NULL;
	struct kms_replay *r = NULL;
	char err[512];
	struct cli_output o = { 0 };
	FILE *out = stdout;
	int ret, status = KMS_EXIT_USAGE;

	if (c->output && (same_file(c->output, c->src.path) ||
			  (c->ropts.svg_path && same_file(c->output, c->ropts.svg_path))))
		return cli_usage_error("-o %s would overwrite an input", c->output);
	if (c->ropts.svg_path && same_file(c->ropts.svg_path, c->src.path))
		return cli_usage_error("--svg %s would overwrite the trace", c->ropts.svg_path);
	c->ropts.compare = c->mode == MODE_COMPARE;
	c->ropts.sets = c->sets;
	c->ropts.nr_sets = c->nr_sets;

	if (kms_replay_new(&opts, &r, err, sizeof(err)))
		return cli_usage_error("%s", err);
	if (c->output && !(out = cli_output_open(c->output, &o))) {
		fprintf(stderr, "kmemsim: cannot write %s: %s\n", c->output, strerror(errno));
		out = stdout;
		goto out;
	}
	if ((ret = kms_report_new(&c->ropts, out, &sa.rep)))
		goto out;
	if (trace_src_open(&c->src, &reader))
		goto out;
	/* Without a reader of the steps the replay skips the per-event deltas. */
	ret = kms_replay_run(r, reader,
			     sa.progress || kms_report_wants_steps(sa.rep) ? step_cb : NULL, &sa,
			     trace_src_reopenable(&c->src) ? trace_src_reopen : NULL, &c->src);
	if (sa.progress && sa.events >= (1u << 20))
		fputs("\r\033[K", stderr);
	if (ret == -ECANCELED) {
		fprintf(stderr, "kmemsim: %s: invariant broken: %s\n", c->src.path,
			kms_replay_error(r));
		status = KMS_EXIT_FAIL;
		goto out;
	}
	if (ret) {
		fprintf(stderr, "kmemsim: %s\n", kms_replay_error(r)[0] ? kms_replay_error(r)
									 : strerror(-ret));
		goto out;
	}
	if ((ret = kms_report_finish(sa.rep, r))) {
		fprintf(stderr, "kmemsim: cannot write the report: %s\n", strerror(-ret));
		goto out;
	}
	status = kms_replay_all_expectations_hold(r) ? KMS_EXIT_OK : KMS_EXIT_FAIL;
	if (status == KMS_EXIT_FAIL && c->ropts.format != KMS_REPORT_TEXT &&
	    c->ropts.format != KMS_REPORT_TAP) {
		/* Text and TAP list failed expectations themselves; say it on stderr otherwise. */
		for (size_t i = 0; i < kms_replay_nr_expects(r); i++) {
			const struct kms_replay_expect_result *x = kms_replay_expect(r, i);

			if (!x->pass)
				fprintf(stderr, "%s:%u: expectation failed [%s] %s: %s\n",
					c->src.path, x->line, x->profile, x->text, x->why);
		}
	}
out:
	if (reader)
		kms_trace_reader_free(reader);
	kms_report_free(sa.rep);
	kms_replay_free(r);
	if (out != stdout) {
		ret = cli_output_close(&o, status != KMS_EXIT_USAGE);
		if (ret && status != KMS_EXIT_USAGE) {
			fprintf(stderr, "kmemsim: cannot write %s: %s\n", c->output, strerror(-ret));
			status = KMS_EXIT_USAGE;
		}
	} else if (fflush(stdout)) {
		status = KMS_EXIT_USAGE;
	}
	cli_output_close(&o, false);	/* a failed open's names */
	return status;
}

static int cmd_main(int argc, char **argv, enum cmd_mode mode)
{
	struct replay_cli c = { .mode = mode };
	char *names[MAX_LIST];
	size_t nr_names = 0;
	int ret;

	kms_strace_options_init(&c.src.sopts);
	ret = parse_args(&c, argc, argv);
	if (ret)
		return ret < 0 ? KMS_EXIT_OK : ret;
	if (mode == MODE_CHECK) {
		if (trace_src_slurp_stdin(&c.src)) {
			fprintf(stderr, "kmemsim: cannot read stdin\n");
			return KMS_EXIT_USAGE;
		}
		if (collect_expect_profiles(&c, names, &nr_names)) {
			trace_src_free(&c.src);
			return KMS_EXIT_USAGE;
		}
		if (!nr_names) {
			fprintf(stderr, "kmemsim: %s has no expectations to check\n", c.src.path);
			trace_src_free(&c.src);
			return KMS_EXIT_USAGE;
		}
		for (size_t i = 0; i < nr_names; i++)
			c.profiles[c.nr_profiles++] = names[i];
	}
	ret = run_replay(&c);
	if (c.memstats)
		cli_memstats_print(stderr);
	for (size_t i = 0; i < nr_names; i++)
		free(names[i]);
	trace_src_free(&c.src);
	return ret;
}

int cmd_replay(int argc, char **argv)
{
	return cmd_main(argc, argv, MODE_REPLAY);
}

int cmd_compare(int argc, char **argv)
{
	return cmd_main(argc, argv, MODE_COMPARE);
}

int cmd_check(int argc, char **argv)
{
	return cmd_main(argc, argv, MODE_CHECK);
}
