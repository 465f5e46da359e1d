// SPDX-License-Identifier: MIT
/*
 * kernel/bpf/core.c bpf_prog_alloc()/bpf_prog_realloc()/free and the prog
 * parts of kernel/bpf/syscall.c bpf_prog_load(). Not modelled: JIT images
 * (bpf_prog_pack, never memcg-charged), func_info/line_info and verifier
 * state (accounted from ~6.17 only), constant-blinding clones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf.h"
#include "core/task.h"

#define BPF_MAXINSNS 4096
#define BPF_PROG_TYPE_SOCKET_FILTER 1
#define BPF_PROG_TYPE_CGROUP_SKB 8

/* bpf_prog_size(n) = max(sizeof(struct bpf_prog), offsetof(struct bpf_prog, insns[n])) */
static uint32_t prog_pages(const struct kms_bpf *w, uint32_t insns)
{
	uint64_t size = w->p->sz.bpf_prog_insns.bytes + (uint64_t)insns * 8;

	return (uint32_t)(round_up_u64(size, page_size(w)) / page_size(w));
}

/* 5.10 bpf_prog_charge_memlock() / __bpf_prog_charge(): current's user, EPERM */
static int prog_charge(struct kms_bpf *w, struct bpf_prog *prog, struct task *t,
		       uint32_t pages, int fail_err)
{
	int err;

	if (w->p->scheme != ACCT_RLIMIT)
		return 0;
	err = bpf_charge_memlock(t->user, t->rlimit_memlock, w->sim->page_shift, pages);
	if (err)
		return bpf_err(w, fail_err, "uid %u locked_vm %lld + %u pages > RLIMIT_MEMLOCK "
			       "%llu pages%s", t->uid, (long long)t->user->locked_vm, pages,
			       (unsigned long long)(t->rlimit_memlock >> w->sim->page_shift),
			       fail_err == -ENOMEM ? " (verifier realloc: ENOMEM)" : "");
	prog->obj.user = t->user;
	bpf_obj_memlock_add(&prog->obj, pages);
	return 0;
}

int bpf_prog_load(struct kms_bpf *w, const struct alloc_ctx *ac, struct task *t,
		  const struct kms_prog_attr *attr, struct bpf_prog *prog)
{
	bool priv = t->uid == 0;
	uint32_t limit = priv ? w->p->insn_limit_priv : BPF_MAXINSNS;
	uint32_t final = attr->final_insn_cnt ? attr->final_insn_cnt : attr->insn_cnt;
	gfp_t gfp = bpf_account(w, GFP_KERNEL | __GFP_ZERO);
	uint32_t new_pages;
	int err;

	prog->prog_type = attr->prog_type;
	prog->expected_attach_type = attr->expected_attach_type;
	/* 5.10 .. 6.18 bpf_prog_load(): the size check comes before the capability check */
	if (attr->insn_cnt == 0 || attr->insn_cnt > limit)
		return bpf_err(w, -E2BIG, "insn_cnt %u not in 1..%u", attr->insn_cnt, limit);
	if (!priv && attr->prog_type != BPF_PROG_TYPE_SOCKET_FILTER &&
	    attr->prog_type != BPF_PROG_TYPE_CGROUP_SKB)
		return bpf_err(w, -EPERM, "prog type %u needs CAP_BPF (uid %u)", attr->prog_type,
			       t->uid);
	/* bpf_prog_alloc_no_stats(): the image, aux; bpf_prog_alloc(): stats (and 6.x active) */
	prog->pages = prog_pages(w, attr->insn_cnt);
	prog->len = attr->insn_cnt;
	err = bpf_obj_vmalloc(w, &prog->obj, ac, (uint64_t)prog->pages * page_size(w), gfp);
	if (!err)
		err = bpf_obj_kmalloc(w, &prog->obj, ac, w->p->sz.bpf_prog_aux.bytes, gfp);
	if (!err && w->p->prog_active_percpu)
		err = bpf_obj_alloc_percpu(w, &prog->obj, ac, 4, gfp, 1);
	if (!err)
		err = bpf_obj_alloc_percpu(w, &prog->obj, ac, w->p->sz.bpf_prog_stats.bytes, gfp, 1);
	if (err)
		return bpf_err_enomem(w, t->memcg, "prog load");
	err = prog_charge(w, prog, t, prog->pages, -EPERM);
	if (err)
		return err;
	if (w->p->scheme == ACCT_MEMCG && t->memcg) {
		prog->obj.owner_memcg = t->memcg;
		mem_cgroup_get(t->memcg);
	}
	/* bpf_prog_realloc() during verification: only growth past the page count moves */
	new_pages = prog_pages(w, final);
	if (new_pages > prog->pages) {
		err = prog_charge(w, prog, t, new_pages - prog->pages, -ENOMEM);
		if (err)
			return err;
		err = bpf_obj_vmalloc(w, &prog->obj, ac, (uint64_t)new_pages * page_size(w), gfp);
		if (err)
			return bpf_err_enomem(w, t->memcg, "verifier realloc");
		/* the old image (the first allocation) is freed */
		bpf_obj_free_alloc(w, &prog->obj, ac, 0);
		prog->pages = new_pages;
	}
	prog->len = final;
	if (attr->nr_map_ids) {
		prog->map_ids = malloc(sizeof(*prog->map_ids) * attr->nr_map_ids);
		if (!prog->map_ids)
			return bpf_err(w, -ENOMEM, "out of memory");
		memcpy(prog->map_ids, attr->map_ids, sizeof(*prog->map_ids) * attr->nr_map_ids);
		for (uint32_t i = 0; i < attr->nr_map_ids; i++) {
			bpf_obj_ref(bpf_obj_find(w, attr->map_ids[i]));
			prog->nr_map_ids = i + 1;
		}
	}
	return 0;
}

void bpf_prog_free(struct kms_bpf *w, const struct alloc_ctx *ac, struct bpf_prog *prog)
{
	/* __bpf_prog_put_noref(): the used maps are released with the program */
	for (uint32_t i = 0; i < prog->nr_map_ids; i++) {
		struct bpf_obj *o = bpf_obj_find(w, prog->map_ids[i]);

		if (o && !o->freed)
			bpf_obj_unref(w, ac, o);
	}
	free(prog->map_ids);
	prog->map_ids = NULL;
	prog->nr_map_ids = 0;
}
