/* SPDX-License-Identifier: MIT */
/*
 * A process's file descriptor table, as far as BPF objects go: fd -> object
 * id. Tables are shared by CLONE_FILES children and threads (refcounted), and
 * copied by fork, which takes a new object reference per copied fd.
 */
#ifndef KMS_REPLAY_FDTABLE_H
#define KMS_REPLAY_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * fds below FD_DIRECT_MAX index an array. fds the model hands out for objects
 * the real kernel refused to create (so the trace never names them) start at
 * FD_PHANTOM_BASE and live in a second array.
 */
#define FD_DIRECT_MAX	65536
#define FD_PHANTOM_BASE	(1 << 30)

struct fd_table {
	uint32_t refcnt;
	uint32_t *obj;		/* direct fds: object id, 0 = not a BPF fd */
	uint32_t cap;
	uint32_t *phantom;
	uint32_t nr_phantom;
	uint32_t cap_phantom;
	uint32_t nr_open;	/* BPF fds open in this table */
};

struct fd_table *fd_table_new(void);
void fd_table_get(struct fd_table *t);
/* Returns true when this was the last reference (the caller closes every fd first). */
bool fd_table_put(struct fd_table *t);

/* The slot of @fd, NULL when the table has none for it. */
static inline uint32_t *fd_slot(const struct fd_table *t, int64_t fd)
{
	if (fd >= 0 && fd < (int64_t)t->cap)
		return &t->obj[fd];
	if (fd >= FD_PHANTOM_BASE && fd - FD_PHANTOM_BASE < (int64_t)t->nr_phantom)
		return &t->phantom[fd - FD_PHANTOM_BASE];
	return NULL;
}

/* Object behind @fd, 0 if none (every bpf(2) event asks: inline). */
static inline uint32_t fd_lookup(const struct fd_table *t, int64_t fd)
{
	uint32_t *slot = fd_slot(t, fd);

	return slot ? *slot : 0;
}
/* Install @obj at @fd (replacing nothing: the caller closes first). -EBADF, -ENOMEM. */
int fd_install(struct fd_table *t, int64_t fd, uint32_t obj);
/* Remove @fd; returns the object that was there, 0 if none. */
uint32_t fd_remove(struct fd_table *t, int64_t fd);
/* A fresh phantom fd for @obj, or -ENOMEM. */
int64_t fd_install_phantom(struct fd_table *t, uint32_t obj);
/* Lowest free direct fd >= @from (for dup without a recorded result). */
int64_t fd_lowest_free(const struct fd_table *t, int64_t from);

/* Visit every open fd in ascending order; stop if @fn returns non-zero. */
typedef int (*fd_visit_fn)(int64_t fd, uint32_t obj, void *arg);
int fd_table_for_each(const struct fd_table *t, fd_visit_fn fn, void *arg);

#endif
