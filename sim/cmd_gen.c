// SPDX-License-Identifier: MIT
/*
 * kmemsim gen: write a large deterministic synthetic trace (include/kmemsim/gen.h)
 * for benchmarks and load tests.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmemsim/gen.h"
#include "cli.h"

static void usage(FILE *f, const struct kms_gen_opts *d)
{
	fprintf(f,
		"usage: kmemsim gen [options]\n"
		"\n"
		"Write a synthetic native trace: K cgroups in a hierarchy of depth D, P processes,\n"
		"M maps of mixed types (hash, hash no_prealloc, percpu_hash, lru_hash, array,\n"
		"percpu_array, ringbuf, queue), then events drawn from a weighted mix. The same\n"
		"options and seed give the same bytes.\n"
		"\n"
		"options (default):\n"
		"  -n, --events N      events in the trace, setup included (%" PRIu64 ")\n"
		"  -m, --maps M        maps (%" PRIu32 ")\n"
		"  -k, --cgroups K     cgroups besides the root (%" PRIu32 ")\n"
		"  -d, --depth D       depth of the cgroup hierarchy (%" PRIu32 ")\n"
		"  -P, --procs P       processes (%" PRIu32 ")\n"
		"  -l, --live L        at most L live elements over all maps (%" PRIu64 ")\n"
		"      --cpus C        CPUs of the header; programs run on all of them (%" PRIu32 ")\n"
		"  -s, --seed S        seed of every choice (%" PRIu64 ")\n"
		"      --mix LIST      weights, e.g. insert=30000,overwrite=38000,delete=15000,\n"
		"                      prog_update=15000,close=2,cgroup=200 (the default; ops\n"
		"                      not named keep their default weight)\n"
		"  -o, --output FILE   write to FILE instead of stdout\n"
		"      --binary        write the binary form of the native format (kmemsim\n"
		"                      convert's): the same events, read several times faster\n"
		"  -q, --quiet         no summary on stderr\n"
		"  -h, --help          this help\n"
		"\n"
		"N accepts K and M suffixes (powers of 1000): -n 10M is ten million events.\n",
		d->events, d->maps, d->cgroups, d->depth, d->procs, d->live, d->cpus, d->seed);
}

/* "10M", "1000000", "250K": counts, so the suffixes are powers of 1000. */
static int parse_count(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 0);
	if (errno)
		goto bad;
	if (*end == 'K')
		mult = 1000, end++;
	else if (*end == 'M')
		mult = 1000000, end++;
	else if (*end == 'G')
		mult = 1000000000, end++;
	if (*end || v > max / mult)
		goto bad;
	*out = v * mult;
	return 0;
bad:
	return cli_usage_error("gen: %s wants a number up to %" PRIu64 ", got '%s'", opt, max, s);
}

static int parse_u32(const char *opt, const char *s, uint32_t *out)
{
	uint64_t v;
	int ret = parse_count(opt, s, UINT32_MAX, &v);

	if (!ret)
		*out = (uint32_t)v;
	return ret;
}

static int parse_mix(char *arg, struct kms_gen_opts *o)
{
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		char *eq = strchr(tok, '=');
		int op;

		if (!eq)
			return cli_usage_error("gen: --mix wants NAME=WEIGHT, got '%s'", tok);
		*eq = '\0';
		for (op = 0; op < KMS_GEN_NR_OPS; op++)
			if (strcmp(tok, kms_gen_op_name(op)) == 0)
				break;
		if (op == KMS_GEN_NR_OPS)
			return cli_usage_error("gen: unknown op '%s' in --mix (insert, overwrite, "
					       "delete, prog_update, close, cgroup)", tok);
		if (parse_u32("--mix", eq + 1, &o->mix[op]))
			return KMS_EXIT_USAGE;
	}
	return 0;
}

int cmd_gen(int argc, char **argv)
{
	enum { OPT_MIX = 256, OPT_CPUS, OPT_BINARY };
	static const struct option longopts[] = {
		{ "events", required_argument, NULL, 'n' },
		{ "maps", required_argument, NULL, 'm' },
		{ "cgroups", required_argument, NULL, 'k' },
		{ "depth", required_argument, NULL, 'd' },
		{ "procs", required_argument, NULL, 'P' },
		{ "live", required_argument, NULL, 'l' },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "seed", required_argument, NULL, 's' },
		{ "mix", required_argument, NULL, OPT_MIX },
		{ "output", required_argument, NULL, 'o' },
		{ "binary", no_argument, NULL, OPT_BINARY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kms_gen_opts o, defaults;
	struct kms_gen_stats st;
	const char *out_path = NULL;
	char err[256];
	struct cli_output out = { 0 };
	bool quiet = false;
	FILE *f = stdout;
	int opt, ret = 0;

	kms_gen_opts_init(&o);
	defaults = o;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:m:k:d:P:l:s:o:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n': ret = parse_count("--events", optarg, UINT64_MAX, &o.events); break;
		case 'm': ret = parse_u32("--maps", optarg, &o.maps); break;
		case 'k': ret = parse_u32("--cgroups", optarg, &o.cgroups); break;
		case 'd': ret = parse_u32("--depth", optarg, &o.depth); break;
		case 'P': ret = parse_u32("--procs", optarg, &o.procs); break;
		case 'l': ret = parse_count("--live", optarg, UINT32_MAX, &o.live); break;
		case OPT_CPUS: ret = parse_u32("--cpus", optarg, &o.cpus); break;
		case 's': ret = parse_count("--seed", optarg, UINT64_MAX, &o.seed); break;
		case OPT_MIX: ret = parse_mix(optarg, &o); break;
		case 'o': out_path = optarg; break;
		case OPT_BINARY: o.form = KMS_TRACE_BINARY; break;
		case 'q': quiet = true; break;
		case 'h':
			usage(stdout, &defaults);
			return KMS_EXIT_OK;
		case ':':
			return cli_usage_error("gen: option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("gen: unknown option '%s'", argv[optind - 1]);
		}
		if (ret)
			return KMS_EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("gen: unexpected argument '%s'", argv[optind]);
	if (!out_path && o.form == KMS_TRACE_BINARY && isatty(STDOUT_FILENO))
		return cli_usage_error("gen: not writing a binary trace to a terminal: use -o FILE");
	if (out_path && !(f = cli_output_open(out_path, &out))) {
		/* a regular file is written beside itself: a failed run leaves no half trace */
		fprintf(stderr, "kmemsim: cannot write %s: %s\n", out_path, strerror(errno));
		cli_output_close(&out, false);
		return KMS_EXIT_USAGE;
	}
	ret = kms_gen_write(f, &o, &st, err, sizeof(err));
	if (f != stdout) {
		int cret = cli_output_close(&out, !ret);

		if (!ret)
			ret = cret;
	} else if (fflush(stdout) && !ret) {
		ret = -EIO;
	}
	if (ret) {
		fprintf(stderr, "kmemsim: gen: %s\n", ret == -EINVAL && err[0] ? err : strerror(-ret));
		return KMS_EXIT_USAGE;
	}
	if (!quiet)
		fprintf(stderr, "kmemsim: gen: %" PRIu64 " events (%" PRIu64 " setup, %" PRIu64
			" inserts, %" PRIu64 " overwrites, %" PRIu64 " deletes, %" PRIu64
			" prog_updates, %" PRIu64 " closes, %" PRIu64 " cgroup ops), at most %" PRIu64
			" live elements\n", st.events, st.setup, st.ops[KMS_GEN_INSERT],
			st.ops[KMS_GEN_OVERWRITE], st.ops[KMS_GEN_DELETE],
			st.ops[KMS_GEN_PROG_UPDATE], st.ops[KMS_GEN_CLOSE], st.ops[KMS_GEN_CGROUP],
			st.live_max);
	return KMS_EXIT_OK;
}
