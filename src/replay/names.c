// SPDX-License-Identifier: MIT
/* An insertion-ordered set of strings: the cgroups a run saw, in first-use order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay_int.h"

struct name_entry {
	const char *name;
	UT_hash_handle hh;
};

int name_set_add(struct name_set *set, const char *name)
{
	struct name_entry *e = NULL;
	char *copy;

	HASH_FIND_STR(set->index, name, e);
	if (e)
		return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		char **p = realloc(set->names, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		set->names = p;
		set->cap = cap;
	}
	copy = strdup(name);
	e = calloc(1, sizeof(*e));
	if (!copy || !e) {
		free(copy);
		free(e);
		return -ENOMEM;
	}
	e->name = copy;
	set->names[set->n++] = copy;
	HASH_ADD_KEYPTR(hh, set->index, e->name, strlen(e->name), e);
	return 1;
}

void name_set_free(struct name_set *set)
{
	struct name_entry *e, *tmp;

	HASH_ITER(hh, set->index, e, tmp) {
		HASH_DEL(set->index, e);
		free(e);
	}
	for (size_t i = 0; i < set->n; i++)
		free(set->names[i]);
	free(set->names);
	memset(set, 0, sizeof(*set));
}
