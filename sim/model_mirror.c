// SPDX-License-Identifier: MIT
/* The model side of `kmemsim validate` (see model_mirror.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmemsim/bpf.h"
#include "kmemsim/profile.h"
#include "kmemsim/sim.h"
#include "model_mirror.h"

#define VM_PID 100

struct mirror {
	const struct kms_profile *p;
	struct kms_sim *sim;
	struct kms_bpf *w;
	struct kms_bpf_ctx c;
	uint64_t charged;	/* kms_bpf_totals().charged at the last mirror_delta() */
};

int mirror_new(const char *profile, struct mirror **out, char *why, size_t len)
{
	struct mirror *m = calloc(1, sizeof(*m));
	struct kms_config cfg;
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->p = kms_profile_find(profile);
	if (!m->p) {
		snprintf(why, len, "unknown profile '%s'", profile);
		free(m);
		return -EINVAL;
	}
	kms_profile_config(m->p, &cfg);
	if ((ret = kms_sim_new(&cfg, &m->sim)) || (ret = kms_cgroup_create(m->sim, "/a")) ||
	    (ret = kms_task_create(m->sim, VM_PID, 0, "/a", UINT64_MAX)) ||
	    (ret = kms_bpf_new(m->sim, m->p, &m->w))) {
		snprintf(why, len, "cannot build the model: %s", strerror(-ret));
		mirror_free(m);
		return ret;
	}
	m->c = (struct kms_bpf_ctx){ .pid = VM_PID };
	*out = m;
	return 0;
}

void mirror_free(struct mirror *m)
{
	if (!m)
		return;
	if (m->w)
		kms_bpf_free(m->w);
	if (m->sim)
		kms_sim_free(m->sim);
	free(m);
}

int64_t mirror_delta(struct mirror *m, unsigned int settle_ms)
{
	struct kms_bpf_totals t;
	int64_t d;

	/* the same time passes as on the kernel before its reading: deferred frees run */
	m->c.now_ns += (uint64_t)settle_ms * 1000000u + 1000000u;
	kms_sim_rcu_advance(m->sim, m->c.now_ns);
	kms_bpf_totals(m->w, &t);
	d = (int64_t)(t.charged - m->charged);
	m->charged = t.charged;
	return d;
}

void mirror_set_cpu(struct mirror *m, uint32_t cpu)
{
	m->c.cpu = cpu;
}

void mirror_set_softirq(struct mirror *m, int on)
{
	/* the softirq interrupts another task: 0, the idle task / a kernel thread */
	m->c.ctx = on ? KMS_CTX_SOFTIRQ : KMS_CTX_TASK;
	m->c.interrupted_pid = 0;
}

int mirror_map_create(struct mirror *m, const struct kms_kbpf_map_spec *spec, uint32_t inner_id)
{
	struct kms_map_attr a = {
		.type = (enum kms_map_type)spec->type, .key_size = spec->key_size,
		.value_size = spec->value_size, .max_entries = spec->max_entries,
		.map_flags = spec->flags, .map_extra = spec->map_extra, .inner_map_id = inner_id,
	};

	return kms_bpf_map_create(m->w, &m->c, &a);
}

int mirror_prog_load(struct mirror *m, uint32_t insn_cnt)
{
	/* what the actor loads: a socket filter of that many instructions */
	struct kms_prog_attr pa = { .prog_type = KMS_PROG_TYPE_SOCKET_FILTER,
				    .insn_cnt = insn_cnt };

	return kms_bpf_prog_load(m->w, &m->c, &pa);
}

int mirror_btf_load(struct mirror *m, uint32_t size)
{
	return kms_bpf_btf_load(m->w, &m->c, size);
}

int mirror_update(struct mirror *m, uint32_t id, uint64_t key, uint64_t flags, uint32_t obj_id)
{
	return obj_id ? kms_bpf_map_update_obj(m->w, &m->c, id, key, obj_id, (uint32_t)flags)
		      : kms_bpf_map_update(m->w, &m->c, id, key, (uint32_t)flags);
}

int mirror_delete(struct mirror *m, uint32_t id, uint64_t key)
{
	return kms_bpf_map_delete(m->w, &m->c, id, key);
}

int mirror_put(struct mirror *m, uint32_t id)
{
	return kms_bpf_obj_put(m->w, &m->c, id);
}

int mirror_pin(struct mirror *m, uint32_t id, const char *path)
{
	return kms_bpf_obj_pin(m->w, &m->c, id, path);
}

int mirror_get_pinned(struct mirror *m, const char *path)
{
	return kms_bpf_obj_get_pinned(m->w, &m->c, path);
}

int mirror_unpin(struct mirror *m, const char *path)
{
	return kms_bpf_obj_unpin(m->w, &m->c, path);
}

const char *mirror_error(const struct mirror *m)
{
	return kms_bpf_strerror(m->w);
}
