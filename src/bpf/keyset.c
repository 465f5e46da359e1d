// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "bpf/keyset.h"

#define EMPTY UINT64_MAX

void keyset_init(struct keyset *s)
{
	*s = (struct keyset){ 0 };
}

void keyset_destroy(struct keyset *s)
{
	free(s->keys);
	free(s->vals);
	keyset_init(s);
}

static inline uint32_t slot_of(const struct keyset *s, uint64_t key)
{
	/* splitmix64 finaliser: key ids from traces are often sequential */
	key ^= key >> 30;
	key *= UINT64_C(0xbf58476d1ce4e5b9);
	key ^= key >> 27;
	key *= UINT64_C(0x94d049bb133111eb);
	key ^= key >> 31;
	return (uint32_t)key & s->mask;
}

/* The slot where a probe for @key (not EMPTY) ends: its own, or the first empty one. */
static inline uint32_t probe(struct keyset *s, uint64_t key)
{
	uint32_t i;

	if (s->memo_ok && s->memo_key == key)
		return s->memo_slot;
	i = slot_of(s, key);
	while (s->keys[i] != EMPTY && s->keys[i] != key)
		i = (i + 1) & s->mask;
	s->memo_ok = true;
	s->memo_key = key;
	s->memo_slot = i;
	return i;
}

/* Whether @key (not EMPTY) is in the table: its slot in *@slot, its value in *@val. */
static inline bool find_slot(struct keyset *s, uint64_t key, uint32_t *slot, uint32_t *val)
{
	uint32_t i;

	if (!s->keys)
		return false;
	i = probe(s, key);
	if (s->keys[i] == EMPTY)
		return false;
	if (val)
		*val = s->vals ? s->vals[i] : 0;
	*slot = i;
	return true;
}

bool keyset_find(struct keyset *s, uint64_t key, uint32_t *val)
{
	uint32_t i;

	if (key == EMPTY) {
		if (s->has_empty_key && val)
			*val = s->empty_key_val;
		return s->has_empty_key;
	}
	return find_slot(s, key, &i, val);
}

/* @key at slot @i, where its probe ends: the same slot whether remembered or probed again. */
static void put_at(struct keyset *s, uint32_t i, uint64_t key, uint32_t val)
{
	if (s->keys[i] == EMPTY)
		s->nr++;
	s->keys[i] = key;
	if (s->vals)
		s->vals[i] = val;
}

/* Rehashing: the keys are all different and the memo is off. */
static void raw_put(struct keyset *s, uint64_t key, uint32_t val)
{
	uint32_t i = slot_of(s, key);

	while (s->keys[i] != EMPTY && s->keys[i] != key)
		i = (i + 1) & s->mask;
	put_at(s, i, key, val);
}

static int grow(struct keyset *s)
{
	uint32_t cap = s->keys ? (s->mask + 1) * 2 : 16;
	uint64_t *okeys = s->keys;
	uint32_t *ovals = s->vals;
	uint32_t ocap = s->keys ? s->mask + 1 : 0;

	if (cap == 0)
		return -ENOMEM;
	s->keys = malloc(sizeof(*s->keys) * cap);
	s->vals = ovals ? malloc(sizeof(*s->vals) * cap) : NULL;
	if (!s->keys || (ovals && !s->vals)) {
		free(s->keys);
		free(s->vals);
		s->keys = okeys;
		s->vals = ovals;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap; i++)
		s->keys[i] = EMPTY;
	s->mask = cap - 1;
	s->memo_ok = false;	/* every key moves */
	s->nr = 0;
	for (uint32_t i = 0; i < ocap; i++)
		if (okeys[i] != EMPTY)
			raw_put(s, okeys[i], ovals ? ovals[i] : 0);
	free(okeys);
	free(ovals);
	return 0;
}

/* Values start out implicit (all 0): the array exists once one is not 0. */
static int need_vals(struct keyset *s)
{
	if (s->vals || !s->keys)
		return 0;
	s->vals = calloc(s->mask + 1, sizeof(*s->vals));
	return s->vals ? 0 : -ENOMEM;
}

int keyset_put(struct keyset *s, uint64_t key, uint32_t val)
{
	if (key == EMPTY) {
		s->has_empty_key = true;
		s->empty_key_val = val;
		return 0;
	}
	if (!s->keys || (uint64_t)(s->nr + 1) * 4 > (uint64_t)(s->mask + 1) * 3) {
		int err = grow(s);

		if (err)
			return err;
	}
	if (val && need_vals(s))
		return -ENOMEM;
	/* the memo stays right: @key now lives where its probe ended */
	put_at(s, probe(s, key), key, val);
	return 0;
}

bool keyset_del(struct keyset *s, uint64_t key, uint32_t *val)
{
	uint32_t i, j;

	if (key == EMPTY) {
		if (!s->has_empty_key)
			return false;
		if (val)
			*val = s->empty_key_val;
		s->has_empty_key = false;
		return true;
	}
	if (!find_slot(s, key, &i, val))
		return false;
	/* backward-shift: pull later members of the probe run into the hole */
	for (j = (i + 1) & s->mask; s->keys[j] != EMPTY; j = (j + 1) & s->mask) {
		uint32_t home = slot_of(s, s->keys[j]);

		/* move j to i if its home is not cyclically in (i, j] */
		if (((j - home) & s->mask) >= ((j - i) & s->mask)) {
			s->keys[i] = s->keys[j];
			if (s->vals)
				s->vals[i] = s->vals[j];
			i = j;
		}
	}
	s->keys[i] = EMPTY;
	s->nr--;
	/*
	 * Other keys moved, but @key's probe now ends at the final hole: the
	 * slots from its home to where it was were full and stay full, and the
	 * shift left every slot full from there to the hole. A put of @key
	 * right after (an overwrite) lands there, as a new probe would find.
	 */
	s->memo_key = key;
	s->memo_slot = i;
	return true;
}

int keyset_each(const struct keyset *s, int (*fn)(uint64_t key, uint32_t val, void *arg),
		void *arg)
{
	int ret;

	if (s->has_empty_key) {
		ret = fn(EMPTY, s->empty_key_val, arg);
		if (ret)
			return ret;
	}
	if (!s->keys)
		return 0;
	for (uint32_t i = 0; i <= s->mask; i++) {
		if (s->keys[i] == EMPTY)
			continue;
		ret = fn(s->keys[i], s->vals ? s->vals[i] : 0, arg);
		if (ret)
			return ret;
	}
	return 0;
}

bool keyset_evict(struct keyset *s, uint32_t *cursor, uint64_t *key, uint32_t *val)
{
	if (s->has_empty_key) {
		*key = EMPTY;
		return keyset_del(s, EMPTY, val);
	}
	if (!s->nr)
		return false;
	for (uint32_t n = 0; n <= s->mask; n++) {
		uint32_t i = (*cursor + n) & s->mask;

		if (s->keys[i] != EMPTY) {
			*key = s->keys[i];
			*cursor = i + 1;
			return keyset_del(s, *key, val);
		}
	}
	return false;
}
