// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/local_storage.c: cgroup_storage and percpu_cgroup_storage. The
 * map is one small struct; storages are created when a program using the
 * map is attached to a cgroup (bpf_cgroup_storage_alloc()), one per
 * (cgroup, attach type) for 12-byte keys or per cgroup for 8-byte keys.
 *  5.10: pages charged to the map creator's user (map->memory.user) against
 *        the attaching task's RLIMIT_MEMLOCK; failure -> -ENOMEM at attach.
 *  5.11+: bpf_map_kmalloc_node()/bpf_map_alloc_percpu() (read in 5.11.14 and
 *        6.x): the map's memcg pays (under the v7 what-if, the attacher).
 */
#include <errno.h>

#include "bpf/bpf.h"
#include "core/task.h"

#define PCPU_MIN_UNIT_SIZE (32 * 1024)

static bool is_percpu(const struct bpf_map *m)
{
	return m->type == KMS_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static int cgroup_storage_map_alloc(struct kms_bpf *w, struct bpf_map *m,
				    const struct alloc_ctx *ac)
{
	uint64_t sz = w->p->sz.bpf_cgroup_storage_map.bytes;
	int err;

	/*
	 * key: struct bpf_cgroup_storage_key {u64 cgroup_inode_id; u32 attach_type;}
	 * (16 with padding) or the cgroup id (8); measured on 6.18.44: 12 -> EINVAL
	 */
	if (m->key_size != 16 && m->key_size != 8)
		return bpf_err(w, -EINVAL, "cgroup storage key_size %u not 8 or 16", m->key_size);
	if (m->value_size == 0)
		return bpf_err(w, -EINVAL, "cgroup storage value_size 0");
	if (m->value_size > (is_percpu(m) ? PCPU_MIN_UNIT_SIZE : page_size(w)))
		return bpf_err(w, -E2BIG, "cgroup storage value_size %u too large", m->value_size);
	if (m->map_flags & ~(KMS_F_NUMA_NODE | KMS_F_RDONLY | KMS_F_WRONLY |
			     KMS_F_RDONLY_PROG | KMS_F_WRONLY_PROG))
		return bpf_err(w, -EINVAL, "cgroup storage map_flags 0x%x", m->map_flags);
	if (m->max_entries)	/* max_entries is not used and must be 0 */
		return bpf_err(w, -EINVAL, "cgroup storage max_entries must be 0");
	/* 5.10: bpf_map_charge_init(&mem, sizeof(struct bpf_cgroup_storage_map)) */
	err = bpf_map_charge_init(w, m, ac, sz);
	return err ? err : bpf_obj_kmalloc(w, &m->obj, ac, sz,
					   bpf_account(w, GFP_USER | __GFP_ZERO));
}

static uint64_t storage_key(const struct bpf_map *m, uint64_t cgroup_id, uint32_t attach_type)
{
	return cgroup_id << 32 | (m->key_size == 16 ? attach_type : 0xffffffffu);
}

/* 5.10 bpf_cgroup_storage_calculate_size(): pages of one storage */
static uint32_t storage_pages(const struct kms_bpf *w, const struct bpf_map *m)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	uint64_t bytes = is_percpu(m) ? round_up_u64(m->value_size, 8) * nr_cpus(w) :
			 sz->bpf_cgroup_storage.bytes + sz->bpf_storage_buffer.bytes +
			 m->value_size;

	return (uint32_t)(round_up_u64(bytes, page_size(w)) / page_size(w));
}

static int storage_alloc_mem(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *ac,
			     struct elem_alloc *a)
{
	const struct kms_struct_sizes *sz = &w->p->sz;
	gfp_t gfp = GFP_USER | __GFP_NOWARN | __GFP_ZERO;
	bool helpers = w->p->cgroup_storage_map_helpers;
	uint64_t vsize = is_percpu(m) ? round_up_u64(m->value_size, 8) :
			 sz->bpf_storage_buffer.bytes + m->value_size;
	int err;

	a->nr = 0;
	err = helpers ? bpf_map_kmalloc_node(w, m, ac, sz->bpf_cgroup_storage.bytes, gfp, &a->c[0])
		      : kmalloc(w->sim, ac, sz->bpf_cgroup_storage.bytes, bpf_account(w, gfp),
				&a->c[0]);
	if (err)
		return err;
	a->nr = 1;
	if (is_percpu(m))
		err = helpers ? bpf_map_alloc_percpu(w, m, ac, vsize, gfp, &a->c[1])
			      : alloc_percpu(w->sim, ac, vsize, 8, bpf_account(w, gfp), &a->c[1]);
	else
		err = helpers ? bpf_map_kmalloc_node(w, m, ac, vsize, gfp, &a->c[1])
			      : kmalloc(w->sim, ac, vsize, bpf_account(w, gfp), &a->c[1]);
	if (err) {
		kfree(w->sim, ac, &a->c[0]);
		return err;
	}
	a->nr = 2;
	return 0;
}

int bpf_cgroup_storage_attach(struct kms_bpf *w, struct bpf_map *m, const struct alloc_ctx *caller,
			      struct task *attacher, uint64_t cgroup_id, uint32_t attach_type)
{
	struct alloc_ctx own = *caller, *ac = &own;
	uint64_t key = storage_key(m, cgroup_id, attach_type);
	struct elem_alloc a;
	uint32_t refs, pages = 0;
	int err;

	own.owner = m->obj.owner;	/* the storage is the map's memory */
	if (keyset_find(&m->storages, key, &refs))	/* reused: no new charge */
		return keyset_put(&m->storages, key, refs + 1);
	if (w->p->scheme == ACCT_RLIMIT && m->obj.user) {
		/* bpf_map_charge_memlock(map, pages): creator's user, attacher's limit */
		pages = storage_pages(w, m);
		err = bpf_charge_memlock(m->obj.user, attacher->rlimit_memlock,
					 w->sim->page_shift, pages);
		if (err)
			return bpf_err(w, -ENOMEM, "cgroup storage: uid %u locked_vm %lld + %u pages "
				       "> RLIMIT_MEMLOCK %llu pages of pid %d (attach ENOMEM)",
				       m->obj.user->uid, (long long)m->obj.user->locked_vm, pages,
				       (unsigned long long)(attacher->rlimit_memlock >>
							    w->sim->page_shift),
				       attacher->pid);
		bpf_obj_memlock_add(&m->obj, pages);
	}
	err = storage_alloc_mem(w, m, ac, &a);
	if (!err)
		err = bpf_elem_insert_or_free(w, m, ac, key, &a);
	if (!err)
		err = keyset_put(&m->storages, key, 1);
	if (err) {
		if (pages) {
			bpf_uncharge_memlock(m->obj.user, pages);
			m->obj.memlock_pages -= pages;
		}
		return bpf_err(w, -ENOMEM, "cgroup storage allocation failed (attach ENOMEM)");
	}
	return 0;
}

void bpf_cgroup_storage_detach(struct kms_bpf *w, struct bpf_map *m,
			       const struct alloc_ctx *caller, uint64_t cgroup_id,
			       uint32_t attach_type)
{
	struct alloc_ctx own = *caller, *ac = &own;
	uint64_t key = storage_key(m, cgroup_id, attach_type);
	uint32_t refs;

	own.owner = m->obj.owner;
	if (!keyset_find(&m->storages, key, &refs))
		return;
	if (refs > 1) {
		keyset_put(&m->storages, key, refs - 1);
		return;
	}
	keyset_del(&m->storages, key, NULL);
	bpf_elem_remove(w, m, ac, key);	/* bpf_cgroup_storage_free(): RCU */
	if (w->p->scheme == ACCT_RLIMIT && m->obj.user) {
		uint32_t pages = storage_pages(w, m);

		bpf_uncharge_memlock(m->obj.user, pages);
		m->obj.memlock_pages -= pages;
	}
}

/* 6.4+ cgroup_storage_map_usage(): the map struct only */
static uint64_t cgroup_storage_map_usage(const struct kms_bpf *w, const struct bpf_map *m)
{
	(void)m;
	return w->p->sz.bpf_cgroup_storage_map.bytes;
}

const struct bpf_map_ops cgroup_storage_map_ops = {
	.map_alloc = cgroup_storage_map_alloc,
	.map_mem_usage = cgroup_storage_map_usage,
};
