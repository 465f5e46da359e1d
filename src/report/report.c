// SPDX-License-Identifier: MIT
/*
 * Reports over a finished replay. Every list comes out in a defined order
 * (creation order of cgroups, uids and objects; event order of divergences)
 * so the same trace and options always give the same bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kms_build_config.h"
#include "kmemsim/bpf.h"
#include "kmemsim/report.h"
#include "kmemsim/sim.h"
#include "report/json.h"
#include "report/svg.h"

struct svg_run {
	int panel;
	int *cg_series;		/* per cgroup index of the run, -1 = not yet */
	size_t nr_cg;
	int *uid_series;
	size_t nr_uid;
};

struct kms_report {
	struct kms_report_opts opts;
	FILE *out;
	/* --events with JSON: one temporary file of event records per run */
	FILE **ev_files;
	bool *ev_first;
	size_t nr_ev_files;
	bool csv_header;
	struct svg_chart *svg;
	struct svg_run *svg_runs;
	size_t nr_svg_runs;
	uint64_t tap_n;
};

int kms_report_new(const struct kms_report_opts *opts, FILE *out, struct kms_report **rep)
{
	struct kms_report *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->opts = *opts;
	p->out = out;
	if (opts->svg_path) {
		p->svg = svg_chart_new("kmemsim: memory charged over the trace", "event sequence number");
		if (!p->svg) {
			free(p);
			return -ENOMEM;
		}
	}
	*rep = p;
	return 0;
}

void kms_report_free(struct kms_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->nr_ev_files; i++)
		if (rep->ev_files[i])
			fclose(rep->ev_files[i]);
	free(rep->ev_files);
	free(rep->ev_first);
	for (size_t i = 0; i < rep->nr_svg_runs; i++) {
		free(rep->svg_runs[i].cg_series);
		free(rep->svg_runs[i].uid_series);
	}
	free(rep->svg_runs);
	svg_chart_free(rep->svg);
	free(rep);
}

/* ---- formatting helpers ---- */

static const char *errno_str(int64_t v, char *buf, size_t len)
{
	const char *name = v < 0 ? kms_errno_name((int)-v) : NULL;

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%" PRId64, v);
	return buf;
}

/* 1536 -> "1.5 KiB"; exact multiples without decimals. */
static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	if (v == KMS_UNLIMITED) {
		snprintf(buf, len, "max");
		return buf;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else if (d == (double)(uint64_t)d)
		snprintf(buf, len, "%" PRIu64 " %s", (uint64_t)d, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}

static const char *ctx_name(enum kms_exec_ctx c)
{
	const char *n = kms_exec_ctx_name(c);

	return n ? n : "?";
}

/* ---- per-event output ---- */

static int ev_files_init(struct kms_report *rep, size_t nr_runs)
{
	if (rep->nr_ev_files)
		return 0;
	rep->ev_files = calloc(nr_runs, sizeof(*rep->ev_files));
	rep->ev_first = calloc(nr_runs, sizeof(*rep->ev_first));
	if (!rep->ev_files || !rep->ev_first)
		return -ENOMEM;
	rep->nr_ev_files = nr_runs;
	for (size_t i = 0; i < nr_runs; i++) {
		rep->ev_files[i] = tmpfile();
		rep->ev_first[i] = true;
		if (!rep->ev_files[i])
			return -errno;
	}
	return 0;
}

static void json_step(FILE *f, const struct kms_replay_step *s, bool first)
{
	const struct kms_event *ev = s->ev;
	char buf[32];

	fprintf(f, "%s\n        {\"seq\": %" PRIu64 ", \"line\": %" PRIu32 ", \"op\": ",
		first ? "" : ",", ev->seq, ev->line);
	json_write_escaped(f, s->op);
	fprintf(f, ", \"pid\": %" PRId32 ", \"cpu\": %" PRIu32 ", \"ctx\": \"%s\", \"result\": ",
		ev->pid, ev->cpu, ctx_name(ev->ctx));
	if (s->result < 0)
		json_write_escaped(f, errno_str(s->result, buf, sizeof(buf)));
	else
		fprintf(f, "%" PRId64, s->result);
	if (ev->has_ret) {
		fputs(", \"recorded\": ", f);
		if (ev->ret < 0)
			json_write_escaped(f, errno_str(ev->ret, buf, sizeof(buf)));
		else
			fprintf(f, "%" PRId64, ev->ret);
	}
	fprintf(f, ", \"charged\": %" PRId64 ", \"locked_vm\": %" PRId64, s->charged_delta,
		s->locked_vm_delta);
	if (s->why && s->why[0]) {
		fputs(", \"why\": ", f);
		json_write_escaped(f, s->why);
	}
	if (s->explain && s->explain[0]) {
		fputs(", \"explain\": ", f);
		json_write_escaped(f, s->explain);
	}
	fputc('}', f);
}

static void csv_field(FILE *f, const char *s)
{
	bool quote = strpbrk(s, ",\"\n") != NULL;

	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_step(struct kms_report *rep, const struct kms_replay_step *s,
		     struct kms_replay *r)
{
	const struct kms_sim *sim = kms_replay_sim(r, s->run);
	const struct kms_event *ev = s->ev;
	char buf[32];

	if (!rep->csv_header) {
		fputs("profile,seq,line,op,pid,cpu,ctx,result,recorded,charged_delta,"
		      "locked_vm_delta,memory_current_root,locked_vm_total,why\n", rep->out);
		rep->csv_header = true;
	}
	csv_field(rep->out, s->profile);
	fprintf(rep->out, ",%" PRIu64 ",%" PRIu32 ",", ev->seq, ev->line);
	csv_field(rep->out, s->op);
	fprintf(rep->out, ",%" PRId32 ",%" PRIu32 ",%s,%s,", ev->pid, ev->cpu, ctx_name(ev->ctx),
		errno_str(s->result, buf, sizeof(buf)));
	if (ev->has_ret)
		fputs(errno_str(ev->ret, buf, sizeof(buf)), rep->out);
	fprintf(rep->out, ",%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",", s->charged_delta,
		s->locked_vm_delta, kms_root_memory_current(sim), kms_locked_vm_total(sim));
	csv_field(rep->out, s->why ? s->why : "");
	fputc('\n', rep->out);
}

static void text_explain(struct kms_report *rep, const struct kms_replay_step *s)
{
	char buf[32];

	if (s->ev->kind == KMS_EV_EXPECT) {
		/* An expectation names one profile; the other runs skip it. */
		if (s->ev->u.expect.profile && strcmp(s->ev->u.expect.profile, s->profile) == 0)
			fprintf(rep->out, "%6" PRIu64 " %-12s %-24s %s\n", s->ev->seq, s->profile,
				"expect", s->result ? "FAIL" : "ok");
		return;
	}
	if (!s->applies)
		return;
	fprintf(rep->out, "%6" PRIu64 " %-12s %-24s %-8s", s->ev->seq, s->profile, s->op,
		errno_str(s->result, buf, sizeof(buf)));
	if (s->charged_delta)
		fprintf(rep->out, " memcg %+" PRId64 " B", s->charged_delta);
	if (s->locked_vm_delta)
		fprintf(rep->out, " locked_vm %+" PRId64 " B", s->locked_vm_delta);
	if (s->why && s->why[0])
		fprintf(rep->out, " (%s)", s->why);
	fputc('\n', rep->out);
	if (s->explain && s->explain[0]) {
		const char *p = s->explain;

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			fprintf(rep->out, "         %.*s\n", (int)n, p);
			p += n + (nl ? 1 : 0);
		}
	}
}

static int svg_step(struct kms_report *rep, const struct kms_replay_step *s,
		    struct kms_replay *r)
{
	size_t nr_runs = kms_replay_nr_runs(r), run = s->run;
	const struct kms_sim *sim = kms_replay_sim(r, run);
	struct svg_run *sr;
	char label[96];

	if (!rep->svg_runs) {
		rep->svg_runs = calloc(nr_runs, sizeof(*rep->svg_runs));
		if (!rep->svg_runs)
			return -ENOMEM;
		rep->nr_svg_runs = nr_runs;
		for (size_t i = 0; i < nr_runs; i++)
			rep->svg_runs[i].panel = svg_panel_add(rep->svg, kms_replay_profile_name(r, i));
	}
	sr = &rep->svg_runs[run];
	for (size_t i = 0; i < kms_replay_nr_cgroups(r, run); i++) {
		const char *path = kms_replay_cgroup_path(r, run, i);
		struct kms_cgroup_stats st;

		/* The root's counter is the sum of its children's: a line of its own only
		 * when nothing else is there to show. */
		if (i == 0 && kms_replay_nr_cgroups(r, run) > 1) {
			if (sr->nr_cg == 0) {
				int *p = realloc(sr->cg_series, sizeof(*p));

				if (!p)
					return -ENOMEM;
				sr->cg_series = p;
				sr->cg_series[0] = -1;
				sr->nr_cg = 1;
			}
			continue;
		}

		if (i >= sr->nr_cg) {
			int *p = realloc(sr->cg_series, (i + 1) * sizeof(*p));

			if (!p)
				return -ENOMEM;
			sr->cg_series = p;
			snprintf(label, sizeof(label), "%s memory.current", path);
			sr->cg_series[i] = svg_series_add(rep->svg, sr->panel, label);
			sr->nr_cg = i + 1;
		}
		if (sr->cg_series[i] < 0 || kms_cgroup_read(sim, path, &st))
			continue;
		svg_point(rep->svg, sr->cg_series[i], s->ev->seq, st.current);
		if (st.max != KMS_UNLIMITED) {
			char h[32];

			snprintf(label, sizeof(label), "%s memory.max %s", path,
				 human(st.max, h, sizeof(h)));
			svg_limit(rep->svg, sr->cg_series[i], s->ev->seq, st.max, label);
		}
	}
	for (size_t i = 0; i < kms_replay_nr_uids(r, run); i++) {
		uint32_t uid = kms_replay_uid(r, run, i);
		struct kms_user_stats us;

		if (i >= sr->nr_uid) {
			int *p = realloc(sr->uid_series, (i + 1) * sizeof(*p));

			if (!p)
				return -ENOMEM;
			sr->uid_series = p;
			snprintf(label, sizeof(label), "uid %" PRIu32 " locked_vm", uid);
			sr->uid_series[i] = svg_series_add(rep->svg, sr->panel, label);
			sr->nr_uid = i + 1;
		}
		if (kms_user_read(sim, uid, &us) == 0)
			svg_point(rep->svg, sr->uid_series[i], s->ev->seq, us.locked_vm);
	}
	if (s->applies && s->result < 0) {
		struct kms_cgroup_stats root;
		char buf[32];

		kms_cgroup_read(sim, "/", &root);
		snprintf(label, sizeof(label), "%s %s%s%.60s", s->op,
			 errno_str(s->result, buf, sizeof(buf)), s->why && s->why[0] ? ": " : "",
			 s->why ? s->why : "");
		svg_marker(rep->svg, sr->panel, s->ev->seq,
			   root.current > kms_locked_vm_total(sim) ? root.current
								   : kms_locked_vm_total(sim),
			   label);
	}
	return 0;
}

bool kms_report_wants_steps(const struct kms_report *rep)
{
	/* the cases of kms_report_step() below that do something */
	return rep->svg || (rep->opts.events && (rep->opts.format == KMS_REPORT_JSON ||
						 rep->opts.format == KMS_REPORT_CSV)) ||
	       (rep->opts.format == KMS_REPORT_TEXT && rep->opts.explain);
}

int kms_report_step(const struct kms_replay_step *s, struct kms_replay *r, void *arg)
{
	struct kms_report *rep = arg;
	int err;

	if (rep->svg && (err = svg_step(rep, s, r)))
		return err;
	if (rep->opts.format == KMS_REPORT_JSON && rep->opts.events) {
		if ((err = ev_files_init(rep, kms_replay_nr_runs(r))))
			return err;
		json_step(rep->ev_files[s->run], s, rep->ev_first[s->run]);
		rep->ev_first[s->run] = false;
	} else if (rep->opts.format == KMS_REPORT_CSV && rep->opts.events) {
		csv_step(rep, s, r);
	} else if (rep->opts.format == KMS_REPORT_TEXT && rep->opts.explain) {
		text_explain(rep, s);
	}
	return 0;
}

/* ---- the summary ---- */

static void errors_line(FILE *f, const struct kms_replay_summary *sum)
{
	char buf[32];
	bool first = true;

	for (size_t e = 1; e < sizeof(sum->errors) / sizeof(sum->errors[0]); e++) {
		if (!sum->errors[e])
			continue;
		fprintf(f, "%s%s %" PRIu64, first ? " (" : ", ",
			errno_str(-(int64_t)e, buf, sizeof(buf)), sum->errors[e]);
		first = false;
	}
	if (!first)
		fputc(')', f);
}

static const char *obj_kind_name(enum kms_bpf_obj_kind k)
{
	return k == KMS_OBJ_MAP ? "map" : k == KMS_OBJ_PROG ? "prog" : k == KMS_OBJ_LINK ? "link"
										   : "btf";
}

static uint64_t sum_mem(const uint64_t v[KMS_MEM_NR])
{
	uint64_t s = 0;

	for (int i = 0; i < KMS_MEM_NR; i++)
		s += v[i];
	return s;
}

static void text_run(struct kms_report *rep, const struct kms_replay *r, size_t run)
{
	const struct kms_sim *sim = kms_replay_sim(r, run);
	const struct kms_bpf *bpf = kms_replay_bpf(r, run);
	struct kms_replay_summary sum;
	struct kms_replay_limits lim;
	struct kms_bpf_totals tot;
	FILE *f = rep->out;
	char a[32], b[32], c[32], d[32], e[32], g[32], h[32];
	uint32_t nr_btf = 0;
	char stock[32];

	kms_replay_summary(r, run, &sum);
	fprintf(f, "\n== %s ==\n", kms_replay_profile_name(r, run));
	fprintf(f, "events %" PRIu64 ", failed %" PRIu64, sum.events, sum.failed);
	errors_line(f, &sum);
	if (sum.mismatches)
		fprintf(f, ", %" PRIu64 " results differ from the recorded kernel's", sum.mismatches);
	fputc('\n', f);
	if (rep->opts.quiet)
		return;

	fprintf(f, "\n%-24s %11s %9s %11s %11s %11s %11s %11s %11s %6s\n", "cgroup", "current",
		"in stock", "peak", "max", "kernel", "slab", "percpu", "vmalloc", "max_ev");
	for (size_t i = 0; i < kms_replay_nr_cgroups(r, run); i++) {
		const char *path = kms_replay_cgroup_path(r, run, i);
		struct kms_cgroup_stats st;

		if (kms_cgroup_read(sim, path, &st))
			continue;
		fprintf(f, "%-24s %11s %9s %11s %11s %11s %11s %11s %11s %6" PRIu64 "\n", path,
			human(st.current, a, 32), human(st.stock, stock, 32), human(st.peak, b, 32),
			strcmp(path, "/") ? human(st.max, c, 32) : "-", human(st.stat_kernel, d, 32),
			human(st.stat_slab, e, 32), human(st.stat_percpu, g, 32),
			human(st.stat_vmalloc, h, 32), st.events_max);
	}
	fprintf(f, "\n%-8s %12s %12s\n", "uid", "locked_vm", "peak");
	for (size_t i = 0; i < kms_replay_nr_uids(r, run); i++) {
		struct kms_user_stats us;
		uint32_t uid = kms_replay_uid(r, run, i);

		if (kms_user_read(sim, uid, &us))
			continue;
		fprintf(f, "%-8" PRIu32 " %12s %12s\n", uid, human(us.locked_vm, a, 32),
			human(us.locked_vm_peak, b, 32));
	}

	fprintf(f, "\nwho pays:\n%4s %-5s %-18s %-16s %7s %-20s %11s %11s %11s %11s %11s\n",
		"id", "kind", "type", "name", "pid", "paid by", "charged", "peak", "locked_vm",
		"lvm peak", "memlock");
	for (uint32_t id = kms_bpf_obj_next(bpf, 0); id; id = kms_bpf_obj_next(bpf, id)) {
		struct kms_bpf_obj_info oi;
		char payer[48];

		if (kms_bpf_obj_info(bpf, id, &oi))
			continue;
		/* BTF is never charged: one summary line below instead of a row each. */
		if (oi.kind == KMS_OBJ_BTF) {
			nr_btf++;
			continue;
		}
		/* Who paid at the peak: after the free nothing is charged any more. */
		if (oi.locked_vm_pages_peak)
			snprintf(payer, sizeof(payer), "uid %" PRIu32, oi.creator_uid);
		else if (sum_mem(oi.charged_peak))
			snprintf(payer, sizeof(payer), "%s", oi.memcg_path ? oi.memcg_path :
				 oi.creator_cgroup ? oi.creator_cgroup : "?");
		else
			snprintf(payer, sizeof(payer), "nobody");
		fprintf(f, "%4" PRIu32 " %-5s %-18s %-16s %7" PRId32 " %-20s %11s %11s %11s %11s "
			"%11s%s\n", oi.id, obj_kind_name(oi.kind), oi.type_name ? oi.type_name : "?",
			oi.name[0] ? oi.name : "-", oi.creator_pid, payer,
			human(sum_mem(oi.charged), a, 32), human(sum_mem(oi.charged_peak), b, 32),
			human(oi.locked_vm_pages * kms_sim_config(sim)->page_size, c, 32),
			human(oi.locked_vm_pages_peak * kms_sim_config(sim)->page_size, e, 32),
			oi.freed ? "-" : human(oi.memlock, d, 32), oi.freed ? "  (freed)" : "");
	}
	if (kms_bpf_nr_dropped(bpf))
		fprintf(f, "(%llu objects freed earlier are not listed)\n",
			(unsigned long long)kms_bpf_nr_dropped(bpf));
	kms_bpf_totals(bpf, &tot);
	fprintf(f, "\n%u BTF object%s (%s live now): BTF is never charged, in any kernel\n", nr_btf,
		nr_btf == 1 ? "" : "s", human(tot.btf_bytes, c, 32));
	fprintf(f, "unpaid: %s allocated for BPF objects that no cgroup pays for (root, "
		"unaccounted, bypassed)\n", human(tot.unpaid, a, 32));

	kms_replay_limits(r, run, &lim);
	if (lim.nr_cgroups || lim.rlimit_memlock) {
		fprintf(f, "limits needed for every event to succeed: RLIMIT_MEMLOCK >= %s",
			human(lim.rlimit_memlock, a, 32));
		for (size_t i = 0; i < lim.nr_cgroups; i++)
			if (strcmp(lim.cgroups[i], "/") && lim.memcg_max[i])
				fprintf(f, ", %s memory.max >= %s", lim.cgroups[i],
					human(lim.memcg_max[i], b, 32));
		fputs(lim.valid ? "\n" : " (lower bound: the trace could not be replayed again)\n",
		      f);
	}
}

static void text_divergences(struct kms_report *rep, const struct kms_replay *r)
{
	size_t n = kms_replay_nr_divergences(r), runs = kms_replay_nr_runs(r);
	FILE *f = rep->out;
	char buf[32];

	if (runs < 2)
		return;
	fprintf(f, "\n== divergences: %" PRIu64 " event%s with different outcomes ==\n",
		kms_replay_divergences_total(r), kms_replay_divergences_total(r) == 1 ? "" : "s");
	if (!n)
		return;
	fprintf(f, "%6s %6s %-22s", "seq", "line", "op");
	for (size_t i = 0; i < runs; i++)
		fprintf(f, " %-14s", kms_replay_profile_name(r, i));
	fputs(" why\n", f);
	for (size_t k = 0; k < n; k++) {
		const struct kms_replay_divergence *d = kms_replay_divergence(r, k);

		fprintf(f, "%6" PRIu64 " %6" PRIu32 " %-22s", d->seq, d->line, d->op);
		for (size_t i = 0; i < runs; i++)
			fprintf(f, " %-14s", errno_str(d->results[i], buf, sizeof(buf)));
		fprintf(f, " %s\n", d->why);
	}
	if (kms_replay_divergences_total(r) > n)
		fprintf(f, "(%" PRIu64 " more not listed)\n", kms_replay_divergences_total(r) - n);
}

static void text_expectations(struct kms_report *rep, const struct kms_replay *r)
{
	size_t n = kms_replay_nr_expects(r), failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += !kms_replay_expect(r, i)->pass;
	if (!n)
		return;
	fprintf(rep->out, "\nexpectations: %zu checked, %zu failed\n", n, failed);
	for (size_t i = 0; i < n; i++) {
		const struct kms_replay_expect_result *x = kms_replay_expect(r, i);

		if (!x->pass)
			fprintf(rep->out, "  FAIL line %" PRIu32 " [%s] %s: %s\n", x->line, x->profile,
				x->text, x->why);
	}
}

static void text_report(struct kms_report *rep, const struct kms_replay *r)
{
	const struct kms_trace_header *h = kms_replay_header(r);

	fprintf(rep->out, "kmemsim: %s (recorded on %s, %" PRIu32 " possible CPUs, %" PRIu32
		"-byte pages)\n", rep->opts.trace_path ? rep->opts.trace_path : "-",
		h->kernel ? h->kernel : "unknown", h->nr_cpus, h->page_size);
	for (size_t i = 0; i < rep->opts.nr_sets; i++)
		fprintf(rep->out, "%s%s%s", i ? ", " : "what-if (--set): ", rep->opts.sets[i],
			i + 1 == rep->opts.nr_sets ? "\n" : "");
	if (rep->opts.compare)
		text_divergences(rep, r);
	for (size_t i = 0; i < kms_replay_nr_runs(r); i++)
		text_run(rep, r, i);
	if (!rep->opts.compare)
		text_divergences(rep, r);
	text_expectations(rep, r);
}

/* ---- JSON ---- */

static void json_result(struct json_writer *w, const char *key, int64_t v)
{
	char buf[32];

	if (v < 0)
		json_string(w, key, errno_str(v, buf, sizeof(buf)));
	else {
		snprintf(buf, sizeof(buf), "%" PRId64, v);
		json_string(w, key, buf);
	}
}

static void json_bytes_or_max(struct json_writer *w, const char *key, uint64_t v)
{
	if (v == KMS_UNLIMITED)
		json_string(w, key, "max");
	else
		json_uint(w, key, v);
}

static int json_run(struct kms_report *rep, struct json_writer *w, const struct kms_replay *r,
		    size_t run)
{
	const struct kms_sim *sim = kms_replay_sim(r, run);
	const struct kms_bpf *bpf = kms_replay_bpf(r, run);
	uint32_t page_size = kms_sim_config(sim)->page_size;
	struct kms_replay_summary sum;
	struct kms_replay_limits lim;
	struct kms_bpf_totals tot;
	char buf[32];

	kms_replay_summary(r, run, &sum);
	json_object_begin(w, NULL);
	json_string(w, "profile", kms_replay_profile_name(r, run));
	json_object_begin(w, "summary");
	json_uint(w, "events", sum.events);
	json_uint(w, "failed", sum.failed);
	json_object_begin(w, "errors");
	for (size_t e = 1; e < sizeof(sum.errors) / sizeof(sum.errors[0]); e++)
		if (sum.errors[e])
			json_uint(w, errno_str(-(int64_t)e, buf, sizeof(buf)), sum.errors[e]);
	json_object_end(w);
	json_uint(w, "mismatches", sum.mismatches);
	json_uint(w, "expectations_passed", sum.expect_pass);
	json_uint(w, "expectations_failed", sum.expect_fail);
	json_object_end(w);

	json_object_begin(w, "cgroups");
	for (size_t i = 0; i < kms_replay_nr_cgroups(r, run); i++) {
		const char *path = kms_replay_cgroup_path(r, run, i);
		struct kms_cgroup_stats st;

		if (kms_cgroup_read(sim, path, &st))
			continue;
		json_object_begin(w, path);
		json_uint(w, "memory.current", st.current);
		json_uint(w, "stock", st.stock);
		json_uint(w, "memory.peak", st.peak);
		json_bytes_or_max(w, "memory.max", st.max);
		json_bytes_or_max(w, "memory.high", st.high);
		json_uint(w, "memory.kmem.usage_in_bytes", st.kmem);
		json_uint(w, "memory.failcnt", st.failcnt);
		json_object_begin(w, "memory.stat");
		json_uint(w, "kernel", st.stat_kernel);
		json_uint(w, "slab", st.stat_slab);
		json_uint(w, "percpu", st.stat_percpu);
		json_uint(w, "vmalloc", st.stat_vmalloc);
		json_object_end(w);
		json_object_begin(w, "memory.events");
		json_uint(w, "low", st.events_low);
		json_uint(w, "high", st.events_high);
		json_uint(w, "max", st.events_max);
		json_uint(w, "oom", st.events_oom);
		json_uint(w, "oom_kill", st.events_oom_kill);
		json_object_end(w);
		json_bool(w, "online", st.online);
		json_object_end(w);
	}
	json_object_end(w);

	json_object_begin(w, "users");
	for (size_t i = 0; i < kms_replay_nr_uids(r, run); i++) {
		uint32_t uid = kms_replay_uid(r, run, i);
		struct kms_user_stats us;

		if (kms_user_read(sim, uid, &us))
			continue;
		snprintf(buf, sizeof(buf), "%" PRIu32, uid);
		json_object_begin(w, buf);
		json_uint(w, "locked_vm", us.locked_vm);
		json_uint(w, "locked_vm_peak", us.locked_vm_peak);
		json_uint(w, "locked_vm_other", us.locked_vm_other);
		json_object_end(w);
	}
	json_object_end(w);

	json_array_begin(w, "objects");
	for (uint32_t id = kms_bpf_obj_next(bpf, 0); id; id = kms_bpf_obj_next(bpf, id)) {
		struct kms_bpf_obj_info oi;

		if (kms_bpf_obj_info(bpf, id, &oi))
			continue;
		json_object_begin(w, NULL);
		json_string(w, "kind", obj_kind_name(oi.kind));
		json_uint(w, "id", oi.id);
		json_string(w, "type", oi.type_name ? oi.type_name : "");
		json_string(w, "name", oi.name);
		json_int(w, "pid", oi.creator_pid);
		if (oi.memcg_path)
			json_string(w, "memcg", oi.memcg_path);
		else
			json_null(w, "memcg");
		json_uint(w, "uid", oi.creator_uid);
		json_uint(w, "memlock", oi.memlock);
		json_uint(w, "charged", sum_mem(oi.charged));
		json_uint(w, "charged_peak", sum_mem(oi.charged_peak));
		json_uint(w, "slab", oi.charged[KMS_MEM_SLAB]);
		json_uint(w, "percpu", oi.charged[KMS_MEM_PERCPU]);
		json_uint(w, "vmalloc", oi.charged[KMS_MEM_VMALLOC]);
		json_uint(w, "pages", oi.charged[KMS_MEM_PAGES]);
		json_uint(w, "locked_vm", oi.locked_vm_pages * page_size);
		json_uint(w, "locked_vm_peak", oi.locked_vm_pages_peak * page_size);
		json_uint(w, "unpaid", oi.unpaid);
		json_uint(w, "elements", oi.nr_elems);
		json_bool(w, "freed", oi.freed);
		json_object_end(w);
	}
	json_array_end(w);
	json_uint(w, "objects_not_listed", kms_bpf_nr_dropped(bpf));

	kms_bpf_totals(bpf, &tot);
	json_object_begin(w, "unpaid");
	json_uint(w, "bytes", tot.unpaid);
	json_uint(w, "btf", tot.btf_bytes);
	json_object_end(w);

	kms_replay_limits(r, run, &lim);
	json_object_begin(w, "limits_needed");
	json_uint(w, "rlimit_memlock", lim.rlimit_memlock);
	json_object_begin(w, "memcg");
	for (size_t i = 0; i < lim.nr_cgroups; i++)
		if (strcmp(lim.cgroups[i], "/"))
			json_uint(w, lim.cgroups[i], lim.memcg_max[i]);
	json_object_end(w);
	json_bool(w, "exact", lim.valid);
	json_object_end(w);

	if (rep->opts.events && run < rep->nr_ev_files) {
		FILE *ev = rep->ev_files[run];
		char chunk[8192];
		size_t n;

		json_array_begin(w, "events");
		/* The records were written with their own commas and indentation. */
		rewind(ev);
		while ((n = fread(chunk, 1, sizeof(chunk), ev)) > 0)
			fwrite(chunk, 1, n, rep->out);
		w->need_comma[w->depth] = false;
		fputs("\n      ]", rep->out);
		w->depth--;
	}
	json_object_end(w);
	return 0;
}

static int json_report(struct kms_report *rep, const struct kms_replay *r)
{
	const struct kms_trace_header *h = kms_replay_header(r);
	struct json_writer w;
	struct kms_replay_summary sum;

	json_init(&w, rep->out, true);
	json_object_begin(&w, NULL);
	json_object_begin(&w, "kmemsim");
	json_string(&w, "version", KMS_VERSION);
	json_object_end(&w);
	json_object_begin(&w, "trace");
	json_string(&w, "path", rep->opts.trace_path ? rep->opts.trace_path : "-");
	json_string(&w, "format", kms_replay_trace_format(r));
	kms_replay_summary(r, 0, &sum);
	json_uint(&w, "events", sum.events);
	json_string(&w, "kernel", h->kernel ? h->kernel : "unknown");
	json_uint(&w, "page_size", h->page_size);
	json_uint(&w, "nr_cpus", h->nr_cpus);
	json_object_end(&w);
	json_array_begin(&w, "what_if");
	for (size_t i = 0; i < rep->opts.nr_sets; i++)
		json_string(&w, NULL, rep->opts.sets[i]);
	json_array_end(&w);
	json_array_begin(&w, "runs");
	for (size_t i = 0; i < kms_replay_nr_runs(r); i++)
		json_run(rep, &w, r, i);
	json_array_end(&w);
	json_array_begin(&w, "divergences");
	for (size_t k = 0; k < kms_replay_nr_divergences(r); k++) {
		const struct kms_replay_divergence *d = kms_replay_divergence(r, k);

		json_object_begin(&w, NULL);
		json_uint(&w, "seq", d->seq);
		json_uint(&w, "line", d->line);
		json_string(&w, "op", d->op);
		json_object_begin(&w, "results");
		for (size_t i = 0; i < kms_replay_nr_runs(r); i++)
			json_result(&w, kms_replay_profile_name(r, i), d->results[i]);
		json_object_end(&w);
		json_string(&w, "why", d->why);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_uint(&w, "divergences_total", kms_replay_divergences_total(r));
	json_array_begin(&w, "expectations");
	for (size_t i = 0; i < kms_replay_nr_expects(r); i++) {
		const struct kms_replay_expect_result *x = kms_replay_expect(r, i);

		json_object_begin(&w, NULL);
		json_uint(&w, "line", x->line);
		json_string(&w, "profile", x->profile);
		json_string(&w, "expect", x->text);
		json_bool(&w, "pass", x->pass);
		if (!x->pass)
			json_string(&w, "why", x->why);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
	json_finish(&w);
	return 0;
}

/* ---- TAP ---- */

static void tap_report(struct kms_report *rep, const struct kms_replay *r)
{
	size_t n = kms_replay_nr_expects(r);

	fprintf(rep->out, "TAP version 13\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct kms_replay_expect_result *x = kms_replay_expect(r, i);

		fprintf(rep->out, "%s %zu - line %" PRIu32 " [%s] %s\n", x->pass ? "ok" : "not ok",
			i + 1, x->line, x->profile, x->text);
		if (!x->pass)
			fprintf(rep->out, "  ---\n  message: \"%s\"\n  ...\n", x->why);
	}
}

int kms_report_finish(struct kms_report *rep, const struct kms_replay *r)
{
	switch (rep->opts.format) {
	case KMS_REPORT_TEXT:
		text_report(rep, r);
		break;
	case KMS_REPORT_JSON:
		json_report(rep, r);
		break;
	case KMS_REPORT_CSV:
		if (!rep->opts.events)
			fputs("# csv output lists events: use --events\n", rep->out);
		break;
	case KMS_REPORT_TAP:
		tap_report(rep, r);
		break;
	}
	if (rep->svg) {
		FILE *f = fopen(rep->opts.svg_path, "w");

		if (!f)
			return -errno;
		svg_chart_write(rep->svg, f);
		if (fclose(f))
			return -EIO;
	}
	return ferror(rep->out) ? -EIO : 0;
}
