/* SPDX-License-Identifier: MIT */
/*
 * The live keys of a map: 64-bit key ids with a 32-bit value each, open
 * addressing with linear probing and backward-shift deletion (no tombstones).
 * The value array exists only once a value is not 0 (a hash map whose
 * elements share one charge group never needs it): 8 bytes per slot, load
 * factor <= 3/4, so 11..21 bytes per live key, 32 at the peak of a resize.
 * Iteration order depends only on the operations.
 */
#ifndef KMS_BPF_KEYSET_H
#define KMS_BPF_KEYSET_H

#include <stdbool.h>
#include <stdint.h>

struct keyset {
	uint64_t *keys;
	uint32_t *vals;		/* NULL: every value is 0 */
	uint32_t mask;		/* capacity - 1, capacity a power of two */
	uint32_t nr;
	bool has_empty_key;	/* the key equal to the empty marker lives here */
	uint32_t empty_key_val;
	/*
	 * Where the last probe for memo_key ended (memo_ok): its slot if it is
	 * there, else the first empty slot from its home, where a put would
	 * place it. Every change of the table sets or clears it, so the lookup,
	 * delete and put of one map operation probe once between them.
	 */
	bool memo_ok;
	uint32_t memo_slot;
	uint64_t memo_key;
};

void keyset_init(struct keyset *s);
void keyset_destroy(struct keyset *s);
/* Value of @key in *@val; false if absent. Remembers where the probe ended. */
bool keyset_find(struct keyset *s, uint64_t key, uint32_t *val);
/* Insert or replace: 0, or -ENOMEM. */
int keyset_put(struct keyset *s, uint64_t key, uint32_t val);
/* Remove: true and the value if it was there. */
bool keyset_del(struct keyset *s, uint64_t key, uint32_t *val);
/*
 * Remove some key (the next live slot from *@cursor on, cyclically): the LRU
 * eviction stand-in. Deterministic for a given history. False when empty.
 */
bool keyset_evict(struct keyset *s, uint32_t *cursor, uint64_t *key, uint32_t *val);
/* Visit every key; @fn returning non-zero stops. */
int keyset_each(const struct keyset *s, int (*fn)(uint64_t key, uint32_t val, void *arg),
		void *arg);

#endif
