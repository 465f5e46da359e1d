// SPDX-License-Identifier: MIT
#include <errno.h>

#include "mm/params.h"

void mm_params_init(struct mm_params *p)
{
	*p = (struct mm_params){
		/* 6.18 include/linux/memcontrol.h: #define MEMCG_CHARGE_BATCH 64U */
		.memcg_charge_batch = 64,
		/* 6.18 mm/memcontrol.c: #define NR_MEMCG_STOCK 7 */
		.nr_memcg_stock = 7,
		.stock_evict = MEMCG_STOCK_EVICT_ROUND_ROBIN,
		.force_rule = MEMCG_FORCE_GFP_HIGH,
		.nmi_rule = MEMCG_NMI_CHARGED,
		.separate_obj_stock = true,
		.kmem_pages_objcg = true,
		.obj_stock_lazy_uncharge = true,
		.obj_drain_direct = true,
		.refill_large_direct = true,
		.force_raises_max_event = true,
		.pcpu_objcg_overhead = true,
		.pcpu_overhead_needs_kmem = true,
		.irq_charge_active_memcg = true,
		.kmalloc_large_slab_stat = true,
		.stat_kernel = true,
		.stat_vmalloc = true,
		.kmalloc_min_size = 8,
		/* 6.18 include/linux/mmzone.h: MAX_PAGE_ORDER 10 (x86-64 default) */
		.max_page_order = 10,
		.rcu_grace_ns = MM_RCU_GRACE_NS_DEFAULT,
	};
}

void mm_params_init_5_11(struct mm_params *p)
{
	mm_params_init(p);
	/* 5.11 include/linux/memcontrol.h: #define MEMCG_CHARGE_BATCH 32U */
	p->memcg_charge_batch = 32;
	/* 5.11 struct memcg_stock_pcp: one cached memcg, one cached objcg */
	p->nr_memcg_stock = 1;
	/* 5.11 try_charge(): "if (gfp_mask & __GFP_ATOMIC) goto force" */
	p->force_rule = MEMCG_FORCE_GFP_ATOMIC;
	/* the memcg charge path became NMI-safe only in 6.16 */
	p->nmi_rule = MEMCG_NMI_FORBIDDEN;
	p->separate_obj_stock = false;
	/* 5.11 __memcg_kmem_charge_page(): page->memcg_data = memcg | MEMCG_DATA_KMEM */
	p->kmem_pages_objcg = false;
	/* 5.11 refill_obj_stock(): "if (stock->nr_bytes > PAGE_SIZE) drain_obj_stock(stock)" */
	p->obj_stock_lazy_uncharge = false;
	/* 5.11 drain_obj_stock() -> __memcg_kmem_uncharge() -> refill_stock() */
	p->obj_drain_direct = false;
	p->refill_large_direct = false;
	p->force_raises_max_event = false;
	/* 5.11 pcpu_memcg_pre_alloc_hook(): obj_cgroup_charge(size * num_possible_cpus()) */
	p->pcpu_objcg_overhead = false;
	p->pcpu_overhead_needs_kmem = false;
	/* 5.11 kmalloc_order(): mod_node_page_state() only, no memcg stat */
	p->kmalloc_large_slab_stat = false;
	p->stat_kernel = false;
	p->stat_vmalloc = false;
	/* 5.11 MAX_ORDER 11: orders 0..10 */
	p->max_page_order = 10;
}

int mm_params_validate(const struct mm_params *p)
{
	/* 6.18 refill_stock(): BUILD_BUG_ON(MEMCG_CHARGE_BATCH > S8_MAX) */
	if (p->memcg_charge_batch == 0 || p->memcg_charge_batch > 127)
		return -EINVAL;
	if (p->nr_memcg_stock == 0 || p->nr_memcg_stock > NR_MEMCG_STOCK_MAX)
		return -EINVAL;
	if (p->stock_evict != MEMCG_STOCK_EVICT_ROUND_ROBIN)
		return -EINVAL;
	if (p->force_rule > MEMCG_FORCE_GFP_HIGH || p->nmi_rule > MEMCG_NMI_CHARGED)
		return -EINVAL;
	/* ARCH_KMALLOC_MINALIGN is a power of two between 8 and 256 */
	if (p->kmalloc_min_size < 8 || p->kmalloc_min_size > 256 ||
	    (p->kmalloc_min_size & (p->kmalloc_min_size - 1)))
		return -EINVAL;
	if (p->max_page_order > 20)
		return -EINVAL;
	return 0;
}
