// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay/fdtable.h"

struct fd_table *fd_table_new(void)
{
	struct fd_table *t = calloc(1, sizeof(*t));

	if (t)
		t->refcnt = 1;
	return t;
}

void fd_table_get(struct fd_table *t)
{
	t->refcnt++;
}

bool fd_table_put(struct fd_table *t)
{
	if (--t->refcnt)
		return false;
	free(t->obj);
	free(t->phantom);
	free(t);
	return true;
}


static int grow(uint32_t **arr, uint32_t *cap, uint64_t need)
{
	uint64_t n = *cap ? *cap : 16;
	uint32_t *p;

	while (n < need)
		n *= 2;
	p = realloc(*arr, n * sizeof(**arr));
	if (!p)
		return -ENOMEM;
	memset(p + *cap, 0, (n - *cap) * sizeof(*p));
	*arr = p;
	*cap = (uint32_t)n;
	return 0;
}

int fd_install(struct fd_table *t, int64_t fd, uint32_t obj)
{
	uint32_t *slot;

	if (fd < 0 || (fd >= FD_DIRECT_MAX && fd < FD_PHANTOM_BASE))
		return -EBADF;
	if (fd < FD_DIRECT_MAX && fd >= (int64_t)t->cap && grow(&t->obj, &t->cap, (uint64_t)fd + 1))
		return -ENOMEM;
	slot = fd_slot(t, fd);
	if (!slot)
		return -EBADF;
	if (!*slot)
		t->nr_open++;
	*slot = obj;
	return 0;
}

uint32_t fd_remove(struct fd_table *t, int64_t fd)
{
	uint32_t *slot = fd_slot(t, fd), obj;

	if (!slot || !*slot)
		return 0;
	obj = *slot;
	*slot = 0;
	t->nr_open--;
	return obj;
}

int64_t fd_install_phantom(struct fd_table *t, uint32_t obj)
{
	if (t->nr_phantom == t->cap_phantom &&
	    grow(&t->phantom, &t->cap_phantom, (uint64_t)t->nr_phantom + 1))
		return -ENOMEM;
	t->phantom[t->nr_phantom] = obj;
	t->nr_open++;
	return FD_PHANTOM_BASE + (int64_t)t->nr_phantom++;
}

int64_t fd_lowest_free(const struct fd_table *t, int64_t from)
{
	int64_t fd = from < 0 ? 0 : from;

	while (fd < (int64_t)t->cap && t->obj[fd])
		fd++;
	return fd;
}

int fd_table_for_each(const struct fd_table *t, fd_visit_fn fn, void *arg)
{
	int err;

	for (uint32_t fd = 0; fd < t->cap; fd++)
		if (t->obj[fd] && (err = fn(fd, t->obj[fd], arg)))
			return err;
	for (uint32_t i = 0; i < t->nr_phantom; i++)
		if (t->phantom[i] && (err = fn(FD_PHANTOM_BASE + (int64_t)i, t->phantom[i], arg)))
			return err;
	return 0;
}
