// SPDX-License-Identifier: MIT
/* kernel/bpf/bloom_filter.c (5.16+): one area with the bitset; pushes move no memory. */
#include <errno.h>

#include "bpf/bpf.h"

#define BLOOM_CREATE_FLAG_MASK (KMS_F_NUMA_NODE | KMS_F_ZERO_SEED | KMS_F_RDONLY | \
				KMS_F_WRONLY | KMS_F_RDONLY_PROG | KMS_F_WRONLY_PROG)

/*
 * bloom_map_alloc(): nr_bits = max_entries * nr_hash_funcs / 5 * 7 (about
 * 1/ln 2 bits per entry per hash), at least BITS_PER_LONG, else the next
 * power of two, capped at 2^31 bits; bytes rounded up to a long.
 */
static uint64_t bloom_bitset_bytes(const struct bpf_map *m)
{
	uint64_t k = m->map_extra & 0xf ? m->map_extra & 0xf : 5;
	uint64_t nr_bits = (uint64_t)m->max_entries * k;
	uint64_t bytes;

	if (nr_bits > U32_MAX || nr_bits / 5 * 7 > U32_MAX || nr_bits / 5 * 7 > (1ull << 31)) {
		bytes = (1ull << 31) / 8;
	} else {
		nr_bits = nr_bits / 5 * 7;
		nr_bits = nr_bits <= 64 ? 64 : roundup_pow_of_two_u32(nr_bits);
		bytes = (nr_bits + 7) / 8;
	}
	return round_up_u64(bytes, 8);
}

static int bloom_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	if (m->key_size != 0 || m->value_size == 0 || m->max_entries == 0 ||
	    m->map_flags & ~BLOOM_CREATE_FLAG_MASK || m->map_extra & ~UINT64_C(0xf))
		return bpf_err(w, -EINVAL, "bloom_filter: key_size 0, value_size > 0, "
			       "max_entries > 0, map_extra <= 15");
	m->aux = (uint32_t)bloom_bitset_bytes(m);
	return bpf_map_area_alloc(w, &m->obj, ac, w->p->sz.bpf_bloom_filter.bytes + m->aux, false);
}

static int bloom_map_push(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			  uint64_t key, uint32_t flags, uint32_t obj_id)
{
	(void)m, (void)ac, (void)key, (void)obj_id;
	return flags != KMS_ANY ? bpf_err(w, -EINVAL, "bloom push takes BPF_ANY only") : 0;
}

/* bloom_map_mem_usage(): sizeof(*bloom) + bitset bytes */
static uint64_t bloom_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	return w->p->sz.bpf_bloom_filter.bytes + m->aux;
}

const struct bpf_map_ops bloom_filter_map_ops = {
	.map_alloc = bloom_map_alloc,
	.map_update = bloom_map_push,
	.map_mem_usage = bloom_map_mem_usage,
};
