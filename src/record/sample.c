// SPDX-License-Identifier: MIT
/*
 * Element counts by map id: BPF_MAP_GET_FD_BY_ID, then BPF_MAP_GET_NEXT_KEY
 * from the start until -ENOENT. Only map types whose keys are the elements are
 * counted (hash family, LPM trie): arrays always hold max_entries elements and
 * queues, stacks and ring buffers cannot be walked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <uthash.h>

#include "record/sample.h"

struct rec_key {
	uint64_t id;
	UT_hash_handle hh;
};

static long sys_bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
	return syscall(SYS_bpf, cmd, attr, size);
}

static bool countable(uint32_t map_type)
{
	switch (map_type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
	case BPF_MAP_TYPE_HASH_OF_MAPS:
		return true;
	default:
		return false;
	}
}

void rec_sampler_add(struct rec_sampler *s, uint32_t id, uint32_t map_type,
		     uint32_t key_size, uint32_t max_entries, pid_t creator)
{
	struct rec_sampled_map *m;

	if (!id || !countable(map_type) || key_size == 0 || key_size > 65536)
		return;
	for (unsigned int i = 0; i < s->nr; i++)
		if (s->maps[i].id == id)
			return;
	if (s->nr == s->cap) {
		unsigned int cap = s->cap ? 2 * s->cap : 16;
		void *p = realloc(s->maps, cap * sizeof(*s->maps));

		if (!p)
			return;
		s->maps = p;
		s->cap = cap;
	}
	m = &s->maps[s->nr++];
	/* a new map is empty */
	*m = (struct rec_sampled_map){ .id = id, .key_size = key_size,
				       .max_entries = max_entries, .creator = creator };
}

static struct rec_sampled_map *find(struct rec_sampler *s, uint32_t id)
{
	for (unsigned int i = 0; i < s->nr; i++)
		if (s->maps[i].id == id)
			return &s->maps[i];
	return NULL;
}

static void user_insert(struct rec_sampled_map *m, uint64_t key)
{
	struct rec_key *k;

	HASH_FIND(hh, m->keys, &key, sizeof(key), k);
	if (k)
		return;		/* an overwrite */
	k = malloc(sizeof(*k));
	if (!k)
		return;
	k->id = key;
	HASH_ADD(hh, m->keys, id, sizeof(k->id), k);
	m->count++;
}

static void user_delete(struct rec_sampled_map *m, uint64_t key)
{
	struct rec_key *k;

	HASH_FIND(hh, m->keys, &key, sizeof(key), k);
	if (k) {
		HASH_DEL(m->keys, k);
		free(k);
	}
	/* a successful delete removed an element, whoever inserted it */
	if (m->count)
		m->count--;
}

void rec_sampler_user_op(struct rec_sampler *s, const struct rec_bpf_call *b)
{
	struct rec_sampled_map *m = find(s, b->target.id);

	if (!m || b->target.kind != REC_OBJ_MAP)
		return;
	switch (b->cmd) {
	case BPF_MAP_UPDATE_ELEM:
		if (b->ret == 0 && b->has_key)
			user_insert(m, b->key_id);
		break;
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		if (b->ret == 0 && b->has_key)
			user_delete(m, b->key_id);
		break;
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
		/* the kernel did batch_done elements, also when it failed later */
		for (uint32_t i = 0; i < b->nr_batch_keys; i++) {
			if (b->cmd == BPF_MAP_UPDATE_BATCH)
				user_insert(m, b->batch_keys[i]);
			else
				user_delete(m, b->batch_keys[i]);
		}
		break;
	default:
		break;
	}
}

void rec_sampler_reassign(struct rec_sampler *s, pid_t pid, pid_t heir)
{
	for (unsigned int i = 0; i < s->nr; i++)
		if (s->maps[i].creator == pid)
			s->maps[i].creator = heir;
}

/* Number of elements, or -errno. Walks at most max_entries + 1 keys: an LRU
 * or a map being updated concurrently cannot make the walk loop forever. */
static long count_elems(const struct rec_sampled_map *m)
{
	union bpf_attr a;
	unsigned char *key = malloc(m->key_size), *next = malloc(m->key_size);
	long n = 0;
	int fd;

	if (!key || !next) {
		free(key);
		free(next);
		return -ENOMEM;
	}
	memset(&a, 0, sizeof(a));
	a.map_id = m->id;
	fd = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &a, sizeof(a));
	if (fd < 0) {
		n = -errno;
		goto out;
	}
	for (bool first = true; n <= (long)m->max_entries; first = false) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = first ? 0 : (uint64_t)(uintptr_t)key;
		a.next_key = (uint64_t)(uintptr_t)next;
		if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a)) < 0)
			break;
		n++;
		memcpy(key, next, m->key_size);
	}
	close(fd);
out:
	free(key);
	free(next);
	return n;
}

void rec_sampler_run(struct rec_sampler *s, struct rec_emit *e, double t)
{
	for (unsigned int i = 0; i < s->nr && !s->disabled; i++) {
		struct rec_sampled_map *m = &s->maps[i];
		long n;

		if (m->gone)
			continue;
		n = count_elems(m);
		if (n == -EPERM || n == -EACCES) {
			s->disabled = true;
			rec_emit_comment(e, "map element sampling stopped: looking maps up "
					 "by id is not permitted (needs CAP_SYS_ADMIN)");
			break;
		}
		if (n < 0) {
			m->gone = n == -ENOENT;
			continue;
		}
		if ((uint64_t)n == m->count)
			continue;
		rec_emit_prog_elems(e, t, m->creator, m->id, (int64_t)n - (int64_t)m->count);
		m->count = (uint64_t)n;
		s->nr_written++;
	}
}

void rec_sampler_free(struct rec_sampler *s)
{
	for (unsigned int i = 0; i < s->nr; i++) {
		struct rec_key *k, *tmp;

		HASH_ITER(hh, s->maps[i].keys, k, tmp) {
			HASH_DEL(s->maps[i].keys, k);
			free(k);
		}
	}
	free(s->maps);
	memset(s, 0, sizeof(*s));
}

uint32_t rec_prog_xlated_insns(uint32_t id)
{
	struct bpf_prog_info info;
	union bpf_attr a;
	uint32_t n = 0;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a, sizeof(a));
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)) == 0)
		n = info.xlated_prog_len / (uint32_t)sizeof(struct bpf_insn);
	close(fd);
	return n;
}
