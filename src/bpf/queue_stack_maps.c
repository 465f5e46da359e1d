// SPDX-License-Identifier: MIT
/* kernel/bpf/queue_stack_maps.c: one area allocated at creation, push/pop move no memory. */
#include <errno.h>

#include "bpf/bpf.h"

#define QUEUE_STACK_CREATE_FLAG_MASK (KMS_F_NUMA_NODE | KMS_F_RDONLY | KMS_F_WRONLY | \
				      KMS_F_RDONLY_PROG | KMS_F_WRONLY_PROG)

static uint64_t queue_size(const struct kms_bpf *w, const struct bpf_map *m)
{
	/* queue_stack_map_alloc(): sizeof(*qs) + (max_entries + 1) * value_size */
	return w->p->sz.bpf_queue_stack.bytes + ((uint64_t)m->max_entries + 1) * m->value_size;
}

static int queue_stack_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	uint64_t kmalloc_max = UINT64_C(1) << (10 + w->sim->page_shift);
	int err;

	/* queue_stack_map_alloc_check() */
	if (m->max_entries == 0 || m->key_size != 0 || m->value_size == 0 ||
	    m->map_flags & ~QUEUE_STACK_CREATE_FLAG_MASK)
		return bpf_err(w, -EINVAL, "queue/stack needs key_size 0, value_size > 0, "
			       "max_entries > 0");
	if (m->value_size > kmalloc_max)
		return bpf_err(w, -E2BIG, "value_size %u > KMALLOC_MAX_SIZE", m->value_size);
	/* 5.10: cost = queue_size */
	err = bpf_map_charge_init(w, m, ac, queue_size(w, m));
	return err ? err : bpf_map_area_alloc(w, &m->obj, ac, queue_size(w, m), false);
}

static int queue_stack_map_push(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
				uint64_t key, uint32_t flags, uint32_t obj_id)
{
	(void)ac, (void)key, (void)obj_id;
	if (flags & ~(uint32_t)KMS_EXIST)
		return bpf_err(w, -EINVAL, "push flags 0x%x", flags);
	if (m->count >= m->max_entries) {
		if (flags != KMS_EXIST)	/* BPF_EXIST overwrites the oldest */
			return bpf_err(w, -E2BIG, "queue/stack full (%u)", m->max_entries);
		return 0;
	}
	m->count++;
	return 0;
}

static int queue_stack_map_pop(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			       uint64_t key, bool pop)
{
	(void)ac, (void)key;
	if (!pop)
		return bpf_err(w, -EINVAL, "queue/stack: delete is not supported, pop instead");
	if (m->count == 0)
		return bpf_err(w, -ENOENT, "queue/stack empty");
	m->count--;
	return 0;
}

static uint64_t queue_stack_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return queue_size(w, m);	/* 6.4+ queue_stack_map_mem_usage() */
}

const struct bpf_map_ops queue_stack_map_ops = {
	.map_alloc = queue_stack_map_alloc,
	.map_update = queue_stack_map_push,
	.map_delete = queue_stack_map_pop,
	.map_mem_usage = queue_stack_map_mem_usage,
};
