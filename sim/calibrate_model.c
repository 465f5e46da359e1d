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
#include "kmemsim/uapi.h"
#include "model_mirror.h"

#define NCOL 15
#define MAX_K 16

/* One row group's simulation, and the objects its rows act on. */
struct mrun {
	const char *profile;
	struct mirror *m;
	uint32_t ids[MAX_K];
	uint32_t nr_ids, inner, prog;
};

static int mrun_new(struct mrun *r)
{
	char why[128];

	mirror_free(r->m);
	r->nr_ids = r->inner = r->prog = 0;
	return mirror_new(r->profile, &r->m, why, sizeof(why));
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
static const struct kms_kbpf_map_spec pinned_array = {
	.type = KMS_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
	.inner_map_fd = -1, .btf_fd = -1,
};

/*
 * The pin rows: a 1-entry array pinned at /p0../p15, 16 BPF_OBJ_GETs of /p0
 * and their closes, the 16 unpins, as the calibration did them.
 */
static int replay_pins(struct mrun *r, const char *op, uint32_t count, int *fds)
{
	char path[32];
	int ret = 0;

	if (!strcmp(op, "pin")) {
		ret = mirror_map_create(r->m, &pinned_array, 0);
		if (ret < 0)
			return ret;
		r->inner = (uint32_t)ret;	/* the pinned map */
		mirror_delta(r->m, 0);
		for (uint32_t i = 0; i < count && ret >= 0; i++) {
			snprintf(path, sizeof(path), "/p%u", i);
			ret = mirror_pin(r->m, r->inner, path);
		}
	} else if (!strcmp(op, "obj_get")) {
		for (r->nr_ids = 0; r->nr_ids < count && r->nr_ids < MAX_K && ret >= 0;
		     r->nr_ids++) {
			ret = mirror_get_pinned(r->m, "/p0");
			r->ids[r->nr_ids] = ret > 0 ? (uint32_t)ret : 0;
		}
		*fds = (int)count;
	} else if (!strcmp(op, "close")) {
		for (uint32_t i = 0; i < r->nr_ids; i++)
			mirror_put(r->m, r->ids[i]);
		r->nr_ids = 0;
		*fds = -(int)count;
	} else {
		for (uint32_t i = 0; i < count && ret >= 0; i++) {
			snprintf(path, sizeof(path), "/p%u", i);
			ret = mirror_unpin(r->m, path);
		}
	}
	return ret < 0 ? ret : 0;
}

/* The objects of a create or load row: the count of them, made on the model. */
static int replay_create(struct mrun *r, const char *obj, const char *op,
			 const struct kms_kbpf_map_spec *spec, uint32_t count)
{
	int ret = 0;

	if (!strcmp(op, "create")) {
		/* setup objects are outside the row, as on the kernel */
		if (spec->type == KMS_MAP_TYPE_ARRAY_OF_MAPS ||
		    spec->type == KMS_MAP_TYPE_HASH_OF_MAPS) {
			ret = mirror_map_create(r->m, &pinned_array, 0);
			r->inner = ret > 0 ? (uint32_t)ret : 0;
		} else if (spec->type == KMS_MAP_TYPE_PROG_ARRAY) {
			ret = mirror_prog_load(r->m, 2);
			r->prog = ret > 0 ? (uint32_t)ret : 0;
		}
		if (ret < 0)
			return ret;
		mirror_delta(r->m, 0);
	}
	for (r->nr_ids = 0; r->nr_ids < count && r->nr_ids < MAX_K; r->nr_ids++) {
		ret = !strcmp(op, "create") ? mirror_map_create(r->m, spec, r->inner)
		      : !strcmp(obj, "prog") ? mirror_prog_load(r->m, spec->max_entries)
		      : mirror_btf_load(r->m, spec->max_entries);
		if (ret < 0)
			return ret;
		r->ids[r->nr_ids] = (uint32_t)ret;
	}
	return 0;
}

/* 0 and *@delta, or 1 for a row the model does not replay, 2 the model refused (*@why). */
static int replay_row(struct mrun *r, const struct mrow *row, int64_t *delta, int *fds,
		      const char **why)
{
	const char *obj = row->col[3], *op = row->col[9];
	enum kms_map_type type = KMS_MAP_TYPE_UNSPEC;
	struct kms_kbpf_map_spec spec = {
		.key_size = (uint32_t)atoi(row->col[5]), .value_size = (uint32_t)atoi(row->col[6]),
		.max_entries = (uint32_t)atoi(row->col[7]), .flags = (uint32_t)atoi(row->col[8]),
		.inner_map_fd = -1, .btf_fd = -1,
	};
	uint32_t count = (uint32_t)strtoul(row->col[10], NULL, 10);
	int ret = 0;

	*fds = 0;
	if (kms_map_type_from_name(obj, &type) < 0)
		type = KMS_MAP_TYPE_UNSPEC;
	spec.type = (uint32_t)type;
	if (!strcmp(op, "pin") || !strcmp(op, "unpin") || !strcmp(op, "obj_get") ||
	    (!strcmp(obj, "fd") && !strcmp(op, "close"))) {
		ret = replay_pins(r, op, count, fds);
	} else if (!strcmp(op, "create") || !strcmp(op, "load")) {
		if (!strcmp(op, "create") && type == KMS_MAP_TYPE_UNSPEC) {
			*why = "not a map type the model knows";
			return 1;
		}
		ret = replay_create(r, obj, op, &spec, count);
		*fds = (int)count;
	} else if (!strcmp(op, "insert") || !strcmp(op, "update") || !strcmp(op, "push") ||
		   !strcmp(op, "reinsert_other_keys")) {
		uint64_t first = strcmp(op, "reinsert_other_keys") == 0 ? 100000 : 1;

		/*
		 * The delete_lifetime and irq experiments start with "insert": their
		 * map was created outside any row, so it is here, before the reading.
		 */
		if (!r->nr_ids && type != KMS_MAP_TYPE_UNSPEC && !strcmp(op, "insert")) {
			ret = replay_create(r, obj, "create", &spec, 1);
			if (ret >= 0)
				mirror_delta(r->m, 0);
		}
		if (ret >= 0 && !r->nr_ids) {
			*why = "no map in the model";
			return 1;
		}
		for (uint32_t i = 0; ret >= 0 && i < count; i++)
			if (mirror_update(r->m, r->ids[0], first + i, KMS_BPF_ANY,
					  r->inner ? r->inner : r->prog) < 0)
				break;
	} else if (!strcmp(op, "delete") || !strcmp(op, "delete_then_5s")) {
		if (!r->nr_ids) {
			*why = "no map in the model";
			return 1;
		}
		for (uint32_t i = 0; i < count; i++)
			mirror_delete(r->m, r->ids[0], 1 + i);
	} else if (strcmp(op, "close") == 0) {
		if (!r->nr_ids) {
			*why = "nothing was created in the model";
			return 1;
		}
		for (uint32_t i = 0; i < r->nr_ids; i++)
			mirror_put(r->m, r->ids[i]);
		r->nr_ids = 0;
		*fds = -(int)count;
	} else {
		*why = !strcmp(op, "slab_cost") ? "derived from slabinfo (not measured)"
		       : !strcmp(op, "nop") ? "an empty step"
		       : "not replayed (an experiment across cgroups or in softirq context)";
		return 1;
	}
	if (ret < 0) {
		*why = mirror_error(r->m);
		*delta = ret;
		return 2;
	}
	/* the kernel rows waited this long before their reading */
	*delta = mirror_delta(r->m, !strcmp(op, "close") ? 200 : !strcmp(op, "delete_then_5s")
			      ? 5000 : !strcmp(op, "delete") ? 100 : 0);
	return 0;
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
	struct mrun m = { .profile = profile };
	char line[1024], group[160] = "";
	int64_t fd_cost = 0;
	FILE *f;

	if (mrun_new(&m)) {
		mirror_free(m.m);
		return cli_usage_error("calibrate: unknown profile '%s'", profile);
	}
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "kmemsim: %s: %s\n", path, strerror(errno));
		mirror_free(m.m);
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
		mirror_free(m.m);
		fprintf(stderr, "kmemsim: %s:1:1: empty, expected the header line\n", path);
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
			mirror_free(m.m);
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
				mirror_free(m.m);
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
	mirror_free(m.m);
	return KMS_EXIT_OK;
}
