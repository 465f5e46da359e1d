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

#include "record/sample.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
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
		     uint32_t key_size, uint32_t max_entries)
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
	*m = (struct rec_sampled_map){ .id = id, .key_size = key_size,
				       .max_entries = max_entries };
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
	fd = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
	if (fd < 0) {
		n = -errno;
		goto out;
	}
	for (bool first = true; n <= (long)m->max_entries; first = false) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = first ? 0 : (uint64_t)(uintptr_t)key;
		a.next_key = (uint64_t)(uintptr_t)next;
		if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a) < 0)
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

void rec_sampler_run(struct rec_sampler *s, struct rec_emit *e, double t, bool all)
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
		if (m->written && m->last == (uint64_t)n && !all)
			continue;
		rec_emit_map_elems(e, t, m->id, (uint64_t)n);
		m->last = (uint64_t)n;
		m->written = true;
		s->nr_written++;
	}
}

void rec_sampler_free(struct rec_sampler *s)
{
	free(s->maps);
	memset(s, 0, sizeof(*s));
}
