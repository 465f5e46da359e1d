// SPDX-License-Identifier: MIT
/*
 * `kmemsim calibrate --model MEASURED.csv`: replay every row of a calibration
 * CSV in the model under the current-kernel profile and print the rows again
 * with the modelled delta, the expected reading (modelled + fds x fd cost),
 * the difference and a verdict against the tolerance of one page per CPU
 * (docs/calibration.md). Each row group gets a fresh simulation, as each got
 * a fresh cgroup on the real kernel; the model's delta is the bytes BPF
 * objects charged (kms_bpf_totals()), which is byte-exact where the kernel's
 * counter is page-exact after the drain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kmemsim/bpf.h"
#include "kmemsim/profile.h"
#include "kmemsim/sim.h"

#define NCOL 15
#define MAX_K 16

/* One row group's simulation: a cgroup /a with the creating task 100 in it. */
struct mrun {
	const struct kms_profile *p;
	struct kms_sim *sim;
	struct kms_bpf *w;
	struct kms_bpf_ctx c;
	uint64_t charged;	/* kms_bpf_totals().charged at the last reading */
	uint32_t ids[MAX_K];
	uint32_t nr_ids, inner, prog;
};

static void mrun_free(struct mrun *m)
{
	if (m->w)
		kms_bpf_free(m->w);
	if (m->sim)
		kms_sim_free(m->sim);
	m->w = NULL;
	m->sim = NULL;
}

static int mrun_new(struct mrun *m)
{
	struct kms_config cfg;
	struct kms_bpf_totals t;
	int ret;

	mrun_free(m);
	kms_profile_config(m->p, &cfg);
	if ((ret = kms_sim_new(&cfg, &m->sim)) || (ret = kms_cgroup_create(m->sim, "/a")) ||
	    (ret = kms_cgroup_create(m->sim, "/b")) ||
	    (ret = kms_task_create(m->sim, 100, 0, "/a", UINT64_MAX)) ||
	    (ret = kms_task_create(m->sim, 200, 0, "/", UINT64_MAX)) ||
	    (ret = kms_bpf_new(m->sim, m->p, &m->w)))
		return ret;
	m->c = (struct kms_bpf_ctx){ .pid = 100 };
	m->nr_ids = m->inner = m->prog = 0;
	kms_bpf_totals(m->w, &t);
	m->charged = t.charged;
	return 0;
}

/* Let @ms pass (deferred frees), then the change of bytes charged since the last reading. */
static int64_t mrun_read(struct mrun *m, unsigned int ms)
{
	struct kms_bpf_totals t;
	int64_t d;

	m->c.now_ns += (uint64_t)ms * 1000000u + 1000000u;
	kms_sim_rcu_advance(m->sim, m->c.now_ns);
	kms_bpf_totals(m->w, &t);
	d = (int64_t)(t.charged - m->charged);
	m->charged = t.charged;
	return d;
}

struct mrow {
	char *col[NCOL];
	char key[160];	/* object..flags: rows of one group share it */
};

static int split(char *line, struct mrow *r)
{
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *p = line; n < NCOL; n++) {
		r->col[n] = p;
		p = strchr(p, ',');
		if (!p)
			return n + 1;
		*p++ = '\0';
	}
	return n;
}

/*
 * The pin rows: a 1-entry array pinned at /p0../p15, 16 BPF_OBJ_GETs of /p0
 * and their closes, the 16 unpins, as the calibration did them.
 */
static int replay_pins(struct mrun *m, const char *op, uint32_t count, int *fds)
{
	char path[32];
	int ret = 0;

	if (!strcmp(op, "pin")) {
		struct kms_map_attr a = { .type = KMS_MAP_TYPE_ARRAY, .key_size = 4,
					  .value_size = 4, .max_entries = 1 };

		ret = kms_bpf_map_create(m->w, &m->c, &a);
		if (ret < 0)
			return ret;
		m->inner = (uint32_t)ret;	/* the pinned map */
		mrun_read(m, 0);
		for (uint32_t i = 0; i < count && ret >= 0; i++) {
			snprintf(path, sizeof(path), "/p%u", i);
			ret = kms_bpf_obj_pin(m->w, &m->c, m->inner, path);
		}
	} else if (!strcmp(op, "obj_get")) {
		for (m->nr_ids = 0; m->nr_ids < count && m->nr_ids < MAX_K && ret >= 0;
		     m->nr_ids++) {
			ret = kms_bpf_obj_get_pinned(m->w, &m->c, "/p0");
			m->ids[m->nr_ids] = ret > 0 ? (uint32_t)ret : 0;
		}
		*fds = (int)count;
	} else if (!strcmp(op, "close")) {
		for (uint32_t i = 0; i < m->nr_ids; i++)
			kms_bpf_obj_put(m->w, &m->c, m->ids[i]);
		m->nr_ids = 0;
		*fds = -(int)count;
	} else {
		for (uint32_t i = 0; i < count && ret >= 0; i++) {
			snprintf(path, sizeof(path), "/p%u", i);
			ret = kms_bpf_obj_unpin(m->w, &m->c, path);
		}
	}
	return ret < 0 ? ret : 0;
}

/* 0 and *@delta, or 1 for a row the model does not replay (note in *@why). */
static int replay_row(struct mrun *m, const struct mrow *r, int64_t *delta, int *fds,
		      const char **why)
{
	const char *obj = r->col[3], *op = r->col[9];
	uint32_t key = (uint32_t)atoi(r->col[5]), value = (uint32_t)atoi(r->col[6]);
	uint32_t max = (uint32_t)atoi(r->col[7]), flags = (uint32_t)atoi(r->col[8]);
	uint32_t count = (uint32_t)strtoul(r->col[10], NULL, 10);
	enum kms_map_type type = KMS_MAP_TYPE_UNSPEC;
	int ret = 0;

	*fds = 0;
	if (kms_map_type_from_name(obj, &type) < 0)
		type = KMS_MAP_TYPE_UNSPEC;
	if (!strcmp(op, "pin") || !strcmp(op, "unpin") || !strcmp(op, "obj_get") ||
	    (!strcmp(obj, "fd") && !strcmp(op, "close"))) {
		ret = replay_pins(m, op, count, fds);
		if (ret < 0)
			goto failed;
	} else if (strcmp(op, "create") == 0) {
		struct kms_map_attr a = { .type = type, .key_size = key, .value_size = value,
					  .max_entries = max, .map_flags = flags };

		if (type == KMS_MAP_TYPE_UNSPEC) {
			*why = "not a map type the model knows";
			return 1;
		}
		if (type == KMS_MAP_TYPE_ARRAY_OF_MAPS || type == KMS_MAP_TYPE_HASH_OF_MAPS) {
			struct kms_map_attr in = { .type = KMS_MAP_TYPE_ARRAY, .key_size = 4,
						   .value_size = 4, .max_entries = 1 };

			ret = kms_bpf_map_create(m->w, &m->c, &in);
			if (ret < 0)
				goto failed;
			m->inner = (uint32_t)ret;
			a.inner_map_id = m->inner;
		}
		if (type == KMS_MAP_TYPE_PROG_ARRAY) {
			struct kms_prog_attr pa = { .prog_type = 1, .insn_cnt = 2 };

			ret = kms_bpf_prog_load(m->w, &m->c, &pa);
			if (ret < 0)
				goto failed;
			m->prog = (uint32_t)ret;
		}
		mrun_read(m, 0);	/* setup objects are outside the row, as on the kernel */
		for (m->nr_ids = 0; m->nr_ids < count && m->nr_ids < MAX_K; m->nr_ids++) {
			ret = kms_bpf_map_create(m->w, &m->c, &a);
			if (ret < 0)
				goto failed;
			m->ids[m->nr_ids] = (uint32_t)ret;
		}
		*fds = (int)count;
	} else if (strcmp(op, "load") == 0) {
		for (m->nr_ids = 0; m->nr_ids < count && m->nr_ids < MAX_K; m->nr_ids++) {
			struct kms_prog_attr pa = { .prog_type = 1, .insn_cnt = max };

			ret = strcmp(obj, "prog") == 0 ? kms_bpf_prog_load(m->w, &m->c, &pa)
			      : kms_bpf_btf_load(m->w, &m->c, max);
			if (ret < 0)
				goto failed;
			m->ids[m->nr_ids] = (uint32_t)ret;
		}
		*fds = (int)count;
	} else if (!strcmp(op, "insert") || !strcmp(op, "update") || !strcmp(op, "push") ||
		   !strcmp(op, "reinsert_other_keys")) {
		uint64_t first = strcmp(op, "reinsert_other_keys") == 0 ? 100000 : 1;

		if (!m->nr_ids) {
			*why = "no map in the model";
			return 1;
		}
		for (uint32_t i = 0; i < count; i++) {
			ret = m->inner ? kms_bpf_map_update_obj(m->w, &m->c, m->ids[0], first + i,
								m->inner, KMS_ANY)
			      : m->prog ? kms_bpf_map_update_obj(m->w, &m->c, m->ids[0], first + i,
								 m->prog, KMS_ANY)
			      : kms_bpf_map_update(m->w, &m->c, m->ids[0], first + i, KMS_ANY);
			if (ret < 0)
				break;
		}
	} else if (!strcmp(op, "delete") || !strcmp(op, "delete_then_5s")) {
		if (!m->nr_ids) {
			*why = "no map in the model";
			return 1;
		}
		for (uint32_t i = 0; i < count; i++)
			kms_bpf_map_delete(m->w, &m->c, m->ids[0], 1 + i);
	} else if (strcmp(op, "close") == 0) {
		if (!m->nr_ids) {
			*why = "nothing was created in the model";
			return 1;
		}
		for (uint32_t i = 0; i < m->nr_ids; i++)
			kms_bpf_obj_put(m->w, &m->c, m->ids[i]);
		m->nr_ids = 0;
		*fds = -(int)count;
	} else {
		*why = !strcmp(op, "slab_cost") ? "derived from slabinfo (not measured)"
		       : !strcmp(op, "nop") ? "an empty step"
		       : "not replayed (an experiment across cgroups or in softirq context)";
		return 1;
	}
	/* the kernel rows waited this long before their reading */
	*delta = mrun_read(m, !strcmp(op, "close") ? 200 : !strcmp(op, "delete_then_5s") ? 5000
			   : !strcmp(op, "delete") ? 100 : 0);
	return 0;
failed:
	*why = kms_bpf_strerror(m->w);
	*delta = ret;
	return 2;
}

/* A free-text last field and the line's end: no commas in a CSV field. */
static void put_field(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++)
		fputc(*p == ',' || *p == '\n' ? ';' : *p, out);
	fputc('\n', out);
}

int calibrate_model(const char *path, const char *profile, FILE *out)
{
	struct mrun m = { .p = kms_profile_find(profile) };
	char line[1024], group[160] = "";
	int64_t fd_cost = 0;
	FILE *f;

	if (!m.p)
		return cli_usage_error("calibrate: unknown profile '%s'", profile);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "kmemsim: %s: %s\n", path, strerror(errno));
		return KMS_EXIT_USAGE;
	}
	/*
	 * The fd cost the kernel rows carry: the derived "fd,slab_cost" row, else
	 * the measured "fd,obj_get" row (files from before the slab_cost row).
	 */
	while (fgets(line, sizeof(line), f)) {
		struct mrow r;

		if (split(line, &r) != NCOL || strcmp(r.col[3], "fd") != 0)
			continue;
		if (!strcmp(r.col[9], "slab_cost"))
			fd_cost = strtoll(r.col[11], NULL, 10);
		else if (!strcmp(r.col[9], "obj_get") && !fd_cost)
			fd_cost = (int64_t)strtod(r.col[12], NULL);
	}
	rewind(f);
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		fprintf(stderr, "kmemsim: %s: empty\n", path);
		return KMS_EXIT_USAGE;
	}
	fprintf(out, "%s,modelled,fds,expected,diff,verdict\n", strtok(line, "\n"));
	for (unsigned int lineno = 2; fgets(line, sizeof(line), f); lineno++) {
		char copy[1024];
		struct mrow r;
		int64_t delta = 0, expect, diff;
		long tol;
		const char *why = "";
		int fds = 0, ret;

		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "\n")] = '\0';
		if (split(line, &r) != NCOL) {
			fprintf(stderr, "kmemsim: %s:%u:1: expected %d columns\n", path, lineno,
				NCOL);
			fclose(f);
			mrun_free(&m);
			return KMS_EXIT_USAGE;
		}
		/* < 1 page per CPU in the objcg after each drain: see docs/calibration.md */
		tol = strtol(r.col[2], NULL, 10) * strtol(r.col[1], NULL, 10);
		snprintf(r.key, sizeof(r.key), "%s,%s,%s,%s,%s",
			 /* the pin, fd and nop rows are one experiment on one map */
			 !strcmp(r.col[3], "fd") || !strcmp(r.col[3], "nop") ? "pin" : r.col[3],
			 r.col[5], r.col[6], r.col[7], r.col[8]);
		if (strcmp(r.key, group) != 0 || !strcmp(r.col[9], "create") ||
		    !strcmp(r.col[9], "load")) {
			if ((ret = mrun_new(&m))) {
				fprintf(stderr, "kmemsim: cannot build the model: %s\n",
					strerror(-ret));
				fclose(f);
				mrun_free(&m);
				return KMS_EXIT_FAIL;
			}
			snprintf(group, sizeof(group), "%s", r.key);
		}
		ret = replay_row(&m, &r, &delta, &fds, &why);
		if (ret == 1) {
			fprintf(out, "%s,,,,,n/a: ", copy);
			put_field(out, why);
			continue;
		}
		if (ret == 2) {
			fprintf(out, "%s,%" PRId64 ",,,,model fails: ", copy, delta);
			put_field(out, why);
			continue;
		}
		expect = delta + fds * fd_cost;
		diff = strtoll(r.col[11], NULL, 10) - expect;
		fprintf(out, "%s,%" PRId64 ",%d,%" PRId64 ",%" PRId64 ",%s\n", copy, delta, fds,
			expect, diff, diff > -tol && diff < tol ? "ok" : "OFF");
	}
	fclose(f);
	mrun_free(&m);
	return KMS_EXIT_OK;
}
