// SPDX-License-Identifier: MIT
/*
 * kms_profile_set(): user overrides of a profile copy (`--set key=value`).
 * Every refusal leaves the profile unchanged and says why in p->error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/profile.h"

static int fail(struct kms_profile *p, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * "123", "64K", "8M", "1G", "2T" (binary units, optional "B" or "iB").
 * -EINVAL when malformed, -ERANGE on overflow.
 */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return -EINVAL;
		}
		if (end[1] && !(end[1] == 'i' && end[2] == 'B' && !end[3]) &&
		    !((end[1] == 'B' || end[1] == 'b') && !end[2]))
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int kms_size_parse(const char *s, uint64_t *out)
{
	if (s && (!strcmp(s, "max") || !strcmp(s, "unlimited"))) {
		*out = UINT64_MAX;
		return 0;
	}
	return parse_size(s, out);
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int set_u32(struct kms_profile *p, const char *key, const char *value,
		   uint64_t lo, uint64_t hi, uint32_t *dst)
{
	uint64_t v;
	int err = parse_size(value, &v);

	if (err == -EINVAL)
		return fail(p, -EINVAL, "%s: '%s' is not a number", key, value);
	if (err || v < lo || v > hi)
		return fail(p, -ERANGE, "%s: %s outside %llu..%llu", key, value,
			    (unsigned long long)lo, (unsigned long long)hi);
	*dst = (uint32_t)v;
	return 0;
}

static int set_flag(struct kms_profile *p, const char *key, const char *value, bool *dst)
{
	bool b;

	if (parse_bool(value, &b))
		return fail(p, -EINVAL, "%s: expected on or off, got '%s'", key, value);
	*dst = b;
	return 0;
}

int kms_profile_set(struct kms_profile *p, const char *key, const char *value)
{
	if (!key || !value)
		return fail(p, -EINVAL, "missing key or value");
	p->error[0] = '\0';

	if (!strcmp(key, "cpus"))
		return set_u32(p, key, value, 1, KMS_MAX_CPUS, &p->cfg.nr_cpus);
	if (!strcmp(key, "page_size")) {
		uint32_t ps;
		int err = set_u32(p, key, value, 4096, 65536, &ps);

		if (err)
			return err;
		if (ps != 4096 && ps != 16384 && ps != 65536)
			return fail(p, -ERANGE, "page_size: %s is not 4K, 16K or 64K", value);
		p->cfg.page_size = ps;
		return 0;
	}
	if (!strcmp(key, "batch"))
		return set_u32(p, key, value, 1, 1024, &p->memcg_charge_batch);
	if (!strcmp(key, "stock_slots"))
		return set_u32(p, key, value, 1, 64, &p->stock_slots);
	if (!strcmp(key, "memcg"))
		return set_flag(p, key, value, &p->cfg.memcg);
	if (!strcmp(key, "kmem"))
		return set_flag(p, key, value, &p->cfg.kmem);
	if (!strcmp(key, "bpf_memcg"))
		return set_flag(p, key, value, &p->cfg.bpf_memcg);
	if (!strcmp(key, "nobpf")) {
		/* cgroup.memory=nobpf: a bare "--set nobpf" passes "1" or "on" */
		bool on;

		if (parse_bool(value, &on))
			return fail(p, -EINVAL, "nobpf: expected on or off, got '%s'", value);
		p->cfg.bpf_memcg = !on;
		return 0;
	}
	if (!strcmp(key, "rlimit.memlock")) {
		uint64_t v;
		int err;

		if (!strcmp(value, "unlimited") || !strcmp(value, "infinity")) {
			p->rlimit_memlock = UINT64_MAX;
			return 0;
		}
		err = parse_size(value, &v);
		if (err == -EINVAL)
			return fail(p, err, "rlimit.memlock: '%s' is not a size", value);
		if (err || v == UINT64_MAX)
			return fail(p, -ERANGE, "rlimit.memlock: %s too large", value);
		p->rlimit_memlock = v;
		return 0;
	}
	if (!strcmp(key, "unprivileged_bpf_disabled")) {
		uint32_t v;
		int err = set_u32(p, key, value, 0, 2, &v);

		if (!err)
			p->unprivileged_bpf_disabled = (uint8_t)v;
		return err;
	}
	if (!strcmp(key, "helper")) {
		if (!strcmp(value, "map"))
			p->helper = HELPER_MAP;
		else if (!strcmp(value, "task"))
			p->helper = HELPER_MAP_IN_INTERRUPT;
		else if (!strcmp(value, "none"))
			p->helper = HELPER_NONE;
		else
			return fail(p, -EINVAL, "helper: expected map, task or none, got '%s'",
				    value);
		return 0;
	}
	if (!strcmp(key, "elem_gfp")) {
		if (!strcmp(value, "atomic"))
			p->elem_gfp = GFP_ATOMIC | __GFP_NOWARN;
		else if (!strcmp(value, "nowait"))
			p->elem_gfp = GFP_NOWAIT | __GFP_NOWARN;
		else if (!strcmp(value, "kernel"))
			p->elem_gfp = GFP_KERNEL;
		else
			return fail(p, -EINVAL, "elem_gfp: expected atomic, nowait or kernel, "
				    "got '%s'", value);
		return 0;
	}
	return fail(p, -EINVAL, "unknown profile key '%s'", key);
}
