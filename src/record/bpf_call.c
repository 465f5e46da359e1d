// SPDX-License-Identifier: MIT
/*
 * Decoding bpf(2) attributes from a tracee. Field layout is the uapi
 * union bpf_attr (include/uapi/linux/bpf.h); the kernel reads at most
 * min(size, sizeof(attr)) bytes and treats the rest as zero
 * (kernel/bpf/syscall.c __sys_bpf(): bpf_check_uarg_tail_zero + copy_from_bpfptr),
 * so the recorder does the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmemsim/trace.h"
#include "record/bpf_call.h"

int rec_bpf_target_fd(const struct rec_bpf_call *b)
{
	const union bpf_attr *a = &b->attr;

	switch (b->cmd) {
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
	case BPF_MAP_FREEZE:
		return (int)a->map_fd;
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		return (int)a->batch.map_fd;
	case BPF_OBJ_PIN:
	case BPF_OBJ_GET_INFO_BY_FD:
		return (int)a->bpf_fd;
	case BPF_PROG_ATTACH:
	case BPF_PROG_DETACH:
		return (int)a->attach_bpf_fd;
	case BPF_LINK_CREATE:
		return (int)a->link_create.prog_fd;
	case BPF_RAW_TRACEPOINT_OPEN:
		return (int)a->raw_tracepoint.prog_fd;
	case BPF_PROG_BIND_MAP:
		return (int)a->prog_bind_map.map_fd;
	case BPF_PROG_TEST_RUN:
		return (int)a->test.prog_fd;
	default:
		return -1;
	}
}

bool rec_bpf_returns_fd(int cmd)
{
	switch (cmd) {
	case BPF_MAP_CREATE:
	case BPF_PROG_LOAD:
	case BPF_OBJ_GET:
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_BTF_LOAD:
	case BPF_BTF_GET_FD_BY_ID:
	case BPF_RAW_TRACEPOINT_OPEN:
	case BPF_LINK_CREATE:
	case BPF_LINK_GET_FD_BY_ID:
	case BPF_ITER_CREATE:
		return true;
	default:
		return false;
	}
}

static bool is_elem_cmd(int cmd)
{
	return cmd == BPF_MAP_LOOKUP_ELEM || cmd == BPF_MAP_UPDATE_ELEM ||
	       cmd == BPF_MAP_DELETE_ELEM || cmd == BPF_MAP_GET_NEXT_KEY ||
	       cmd == BPF_MAP_LOOKUP_AND_DELETE_ELEM;
}

void rec_bpf_read_attr(struct rec_bpf_call *b, pid_t pid, int cmd, uint64_t uattr,
		       uint32_t size)
{
	uint32_t n = size < sizeof(b->attr) ? size : (uint32_t)sizeof(b->attr);

	b->cmd = cmd;
	b->size = size;
	memset(&b->attr, 0, sizeof(b->attr));
	b->attr_ok = rec_read_mem(pid, uattr, &b->attr, n) == 0;
}

void rec_bpf_read_args(struct rec_bpf_call *b, pid_t pid)
{
	uint32_t ks = b->target.key_size;
	int cmd = b->cmd;

	if (!b->attr_ok)
		return;
	/* GET_NEXT_KEY with key NULL asks for the first key: no key id. */
	if (is_elem_cmd(cmd) && b->target.kind == REC_OBJ_MAP && ks > 0 && b->attr.key &&
	    ks <= 65536) {
		unsigned char *key = malloc(ks);

		if (key && rec_read_mem(pid, b->attr.key, key, ks) == 0) {
			b->key_id = kms_key_id(key, ks);
			b->has_key = true;
		}
		free(key);
	}
	if (cmd == BPF_OBJ_PIN || cmd == BPF_OBJ_GET)
		rec_read_str(pid, b->attr.pathname, b->path, sizeof(b->path));
}

static bool is_batch_cmd(int cmd)
{
	return cmd == BPF_MAP_LOOKUP_BATCH || cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH ||
	       cmd == BPF_MAP_UPDATE_BATCH || cmd == BPF_MAP_DELETE_BATCH;
}

static void read_batch_keys(struct rec_bpf_call *b, pid_t pid)
{
	uint32_t ks = b->target.key_size, n = b->batch_done;
	unsigned char *keys;

	if (b->target.kind != REC_OBJ_MAP || ks == 0 || ks > 65536 || n == 0 ||
	    n > REC_BATCH_KEYS_MAX || !b->attr.batch.keys)
		return;
	keys = malloc((size_t)ks * n);
	b->batch_keys = malloc(sizeof(*b->batch_keys) * n);
	if (keys && b->batch_keys &&
	    rec_read_mem(pid, b->attr.batch.keys, keys, (size_t)ks * n) == 0) {
		for (uint32_t i = 0; i < n; i++)
			b->batch_keys[i] = kms_key_id(keys + (size_t)i * ks, ks);
		b->nr_batch_keys = n;
	}
	free(keys);
}

void rec_bpf_decode_exit(struct rec_bpf_call *b, pid_t pid, uint64_t uattr, long ret)
{
	b->ret = ret;
	if (!b->attr_ok || !is_batch_cmd(b->cmd))
		return;
	/* The kernel writes back how many elements it processed, also on
	 * failure (kernel/bpf/syscall.c generic_map_*_batch: copy_to_user of
	 * count after the loop). */
	if (rec_read_mem(pid, uattr + offsetof(union bpf_attr, batch.count), &b->batch_done,
			 sizeof(b->batch_done)))
		b->batch_done = 0;
	read_batch_keys(b, pid);
}

void rec_bpf_call_release(struct rec_bpf_call *b)
{
	free(b->batch_keys);
	b->batch_keys = NULL;
	b->nr_batch_keys = 0;
}
