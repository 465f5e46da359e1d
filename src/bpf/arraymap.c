// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/arraymap.c: array, percpu_array and the fd arrays (prog_array,
 * perf_event_array, cgroup_array, array_of_maps). All memory is allocated at
 * creation; updates never allocate (fd arrays take a reference on the object).
 */
#include <errno.h>

#include "bpf/bpf.h"

#define PCPU_MIN_UNIT_SIZE (32 * 1024)
#define ARRAY_CREATE_FLAG_MASK (KMS_F_NUMA_NODE | KMS_F_MMAPABLE | KMS_F_RDONLY | \
				KMS_F_WRONLY | KMS_F_RDONLY_PROG | KMS_F_WRONLY_PROG | \
				KMS_F_PRESERVE_ELEMS | KMS_F_INNER_MAP)

static bool is_fd_array(const struct bpf_map *m)
{
	return m->type == KMS_MAP_TYPE_PROG_ARRAY || m->type == KMS_MAP_TYPE_PERF_EVENT_ARRAY ||
	       m->type == KMS_MAP_TYPE_CGROUP_ARRAY || m->type == KMS_MAP_TYPE_ARRAY_OF_MAPS;
}

/* array_map_alloc_check() / fd_array_map_alloc_check() (5.10 .. 6.18) */
static int array_alloc_check(struct kms_bpf *w, const struct bpf_map *m)
{
	bool percpu = m->type == KMS_MAP_TYPE_PERCPU_ARRAY;
	uint64_t kmalloc_max = UINT64_C(1) << (10 + w->sim->page_shift);

	if (is_fd_array(m) && (m->value_size != 4 ||
			       m->map_flags & (KMS_F_RDONLY_PROG | KMS_F_WRONLY_PROG)))
		return bpf_err(w, -EINVAL, "%s needs value_size 4", bpf_map_type_str(m->type));
	if (m->max_entries == 0 || m->key_size != 4 || m->value_size == 0 ||
	    m->map_flags & ~ARRAY_CREATE_FLAG_MASK ||
	    (percpu && m->map_flags & KMS_F_NUMA_NODE))
		return bpf_err(w, -EINVAL, "array needs key_size 4, value_size > 0, max_entries > 0 "
			       "and array flags");
	if (m->type != KMS_MAP_TYPE_ARRAY && m->map_flags & (KMS_F_MMAPABLE | KMS_F_INNER_MAP) &&
	    !(is_fd_array(m) && m->map_flags & KMS_F_INNER_MAP && !(m->map_flags & KMS_F_MMAPABLE)))
		return bpf_err(w, -EINVAL, "BPF_F_MMAPABLE only for array");
	if (m->type != KMS_MAP_TYPE_PERF_EVENT_ARRAY && m->map_flags & KMS_F_PRESERVE_ELEMS)
		return bpf_err(w, -EINVAL, "BPF_F_PRESERVE_ELEMS only for perf_event_array");
	if (m->value_size > kmalloc_max)
		return bpf_err(w, -E2BIG, "value_size %u > KMALLOC_MAX_SIZE", m->value_size);
	if (percpu && round_up_u64(m->value_size, 8) > PCPU_MIN_UNIT_SIZE)
		return bpf_err(w, -E2BIG, "per-cpu value_size %u > PCPU_MIN_UNIT_SIZE",
			       m->value_size);
	return 0;
}

/*
 * array_map_alloc() (5.10 .. 6.18). Creators without CAP_BPF
 * (!bypass_spec_v1) get max_entries rounded up to a power of two for the
 * allocation (index masking); map->max_entries keeps the asked value.
 * 5.10 cost = array_size (+ attr->max_entries * elem_size * P for percpu).
 */
static int array_map_alloc(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	uint64_t elem_size = round_up_u64(m->value_size, 8), n = m->max_entries;
	uint64_t hdr = w->p->sz.bpf_array.bytes, array_size, cost, ps = page_size(w);
	bool percpu = m->type == KMS_MAP_TYPE_PERCPU_ARRAY, mmap = m->map_flags & KMS_F_MMAPABLE;
	int err = array_alloc_check(w, m);

	if (err)
		return err;
	if (!m->bypass_spec_v1) {
		n = roundup_pow_of_two_u32(m->max_entries);
		if (n == 0 || n > U32_MAX)
			return bpf_err(w, -E2BIG, "max_entries %u: power-of-two rounding for an "
				       "unprivileged creator overflows", m->max_entries);
	}
	if (percpu)
		array_size = hdr + n * 8;
	else if (mmap)
		array_size = round_up_u64(hdr, ps) + round_up_u64(n * elem_size, ps);
	else
		array_size = hdr + n * elem_size;
	cost = array_size;
	if (percpu)
		cost += (uint64_t)m->max_entries * elem_size * nr_cpus(w);
	err = bpf_map_charge_init(w, m, ac, cost);
	if (err)
		return err;
	/* mmapable: bpf_map_area_mmapable_alloc(), vmalloc; else bpf_map_area_alloc() */
	err = bpf_map_area_alloc(w, &m->obj, ac, array_size, mmap);
	if (!err && percpu)	/* bpf_array_alloc_percpu(): one helper call per entry */
		err = bpf_map_percpu_rec(w, m, ac, elem_size, GFP_USER | __GFP_NOWARN,
					 m->max_entries);
	if (!err && m->type == KMS_MAP_TYPE_PROG_ARRAY)	/* prog_array_map_alloc(): bpf_array_aux */
		err = bpf_obj_kmalloc(w, &m->obj, ac, w->p->sz.bpf_array_aux.bytes,
				      bpf_account(w, GFP_KERNEL | __GFP_ZERO));
	return err;
}

static int array_map_update(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, uint32_t flags, uint32_t obj_id)
{
	uint32_t old;

	if ((flags & ~4u) > KMS_EXIST)
		return bpf_err(w, -EINVAL, "update flags 0x%x", flags);
	if (key >= m->max_entries)
		return bpf_err(w, -E2BIG, "index %llu >= max_entries %u",
			       (unsigned long long)key, m->max_entries);
	if ((flags & 3) == KMS_NOEXIST)	/* all array elements exist */
		return bpf_err(w, -EEXIST, "array elements always exist (BPF_NOEXIST)");
	if (m->type == KMS_MAP_TYPE_PROG_ARRAY || m->type == KMS_MAP_TYPE_ARRAY_OF_MAPS) {
		struct bpf_obj *o = bpf_obj_find(w, obj_id);
		enum kms_bpf_obj_kind want = m->type == KMS_MAP_TYPE_PROG_ARRAY ? KMS_OBJ_PROG :
									     KMS_OBJ_MAP;

		if (!o || o->freed || o->kind != want)
			return bpf_err(w, -EBADF, "object %u is not a live %s", obj_id,
				       want == KMS_OBJ_PROG ? "program" : "map");
		if (keyset_find(&m->storages, key, &old)) {
			bpf_obj_unref(w, ac, bpf_obj_find(w, old));
		} else {
			m->count++;
		}
		bpf_obj_ref(o);
		return keyset_put(&m->storages, key, obj_id);
	}
	if (is_fd_array(m) && !keyset_find(&m->storages, key, NULL)) {
		m->count++;
		return keyset_put(&m->storages, key, 0);
	}
	return 0;
}

static int array_map_delete(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			    uint64_t key, bool pop)
{
	uint32_t old;

	(void)pop;
	if (!is_fd_array(m))
		return bpf_err(w, -EINVAL, "array elements cannot be deleted");
	if (key >= m->max_entries)
		return bpf_err(w, -E2BIG, "index out of range");
	if (!keyset_del(&m->storages, key, &old))
		return -ENOENT;
	m->count--;
	if (old)
		bpf_obj_unref(w, ac, bpf_obj_find(w, old));
	return 0;
}

static int put_cb(uint64_t key, uint32_t val, void *arg)
{
	void **a = arg;
	struct bpf_obj *o = val ? bpf_obj_find(a[0], val) : NULL;

	(void)key;
	if (o && !o->freed)
		bpf_obj_unref(a[0], a[1], o);
	return 0;
}

static void array_map_free(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac)
{
	void *a[2] = { w, (void *)ac };

	keyset_each(&m->storages, put_cb, a);
	keyset_destroy(&m->storages);
	m->count = 0;
}

/*
 * 6.4+ array_map_mem_usage(): sizeof(bpf_array) + percpu: 8 * N + E * P * N;
 * mmapable: PAGE_ALIGN(sizeof) + PAGE_ALIGN(N * E); else N * E, with N =
 * map->max_entries (not the rounded allocation).
 */
static uint64_t array_map_mem_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	uint64_t E = round_up_u64(m->value_size, 8), N = m->max_entries;
	uint64_t usage = w->p->sz.bpf_array.bytes;

	if (m->type == KMS_MAP_TYPE_PERCPU_ARRAY)
		return usage + 8 * N + E * nr_cpus(w) * N;
	if (m->map_flags & KMS_F_MMAPABLE)
		return round_up_u64(usage, page_size(w)) + round_up_u64(N * E, page_size(w));
	return usage + N * E;
}

const struct bpf_map_ops array_map_ops = {
	.map_alloc = array_map_alloc,
	.map_update = array_map_update,
	.map_delete = array_map_delete,
	.map_mem_usage = array_map_mem_usage,
};

const struct bpf_map_ops percpu_array_map_ops = {
	.map_alloc = array_map_alloc,
	.map_update = array_map_update,
	.map_delete = array_map_delete,
	.map_mem_usage = array_map_mem_usage,
};

const struct bpf_map_ops fd_array_map_ops = {
	.map_alloc = array_map_alloc,
	.map_free = array_map_free,
	.map_update = array_map_update,
	.map_delete = array_map_delete,
	.map_mem_usage = array_map_mem_usage,
};
