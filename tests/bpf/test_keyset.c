// SPDX-License-Identifier: MIT
/* The live-key table of the maps: compared with a plain array under a fixed random workload. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bpf/keyset.h"

#define UNIVERSE 4096u

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* Keys collide on purpose: multiples of a power of two, and the empty marker itself. */
static uint64_t key_of(uint32_t i)
{
	return i == 7 ? UINT64_MAX : (uint64_t)i << 20;
}

static void test_against_reference(void **state)
{
	static uint32_t ref[UNIVERSE];	/* 0 absent, else value + 1 */
	struct keyset s;
	uint64_t seed = 42;
	uint32_t live = 0;

	(void)state;
	keyset_init(&s);
	for (int step = 0; step < 200000; step++) {
		uint32_t i = (uint32_t)(lcg(&seed) % UNIVERSE), v, op = (uint32_t)(lcg(&seed) % 3);
		uint64_t k = key_of(i);

		if (op < 2) {
			/* values stay 0 for the first half, so the value array appears late */
			v = step < 100000 ? 0 : (uint32_t)(lcg(&seed) % 1000);
			assert_int_equal(keyset_put(&s, k, v), 0);
			live += !ref[i];
			ref[i] = v + 1;
		} else {
			bool had = keyset_del(&s, k, &v);

			assert_int_equal(had, ref[i] != 0);
			if (had)
				assert_int_equal(v, ref[i] - 1);
			live -= had;
			ref[i] = 0;
		}
		if (step % 997 == 0) {
			for (uint32_t j = 0; j < UNIVERSE; j++) {
				bool in = keyset_find(&s, key_of(j), &v);

				assert_int_equal(in, ref[j] != 0);
				if (in)
					assert_int_equal(v, ref[j] - 1);
			}
			assert_int_equal(s.nr + s.has_empty_key, live);
		}
	}
	keyset_destroy(&s);
}

static int count_cb(uint64_t key, uint32_t val, void *arg)
{
	(void)key, (void)val;
	++*(uint32_t *)arg;
	return 0;
}

static void test_evict_and_each(void **state)
{
	struct keyset s;
	uint32_t cursor = 0, n = 0, v;
	uint64_t k;

	(void)state;
	keyset_init(&s);
	assert_false(keyset_evict(&s, &cursor, &k, &v));
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(keyset_put(&s, i, (uint32_t)i), 0);
	assert_int_equal(keyset_put(&s, UINT64_MAX, 5), 0);
	assert_int_equal(keyset_each(&s, count_cb, &n), 0);
	assert_int_equal(n, 101);
	for (int i = 0; i < 101; i++) {
		assert_true(keyset_evict(&s, &cursor, &k, &v));
		assert_false(keyset_find(&s, k, NULL));
	}
	assert_false(keyset_evict(&s, &cursor, &k, &v));
	assert_int_equal(s.nr, 0);
	keyset_destroy(&s);
}

static void assert_same_table(const struct keyset *a, const struct keyset *b)
{
	assert_int_equal(a->mask, b->mask);
	assert_int_equal(a->nr, b->nr);
	assert_int_equal(a->has_empty_key, b->has_empty_key);
	assert_int_equal(a->keys != NULL, b->keys != NULL);
	assert_int_equal(a->vals != NULL, b->vals != NULL);
	if (a->keys)
		assert_memory_equal(a->keys, b->keys, sizeof(*a->keys) * (a->mask + 1));
	if (a->vals)
		assert_memory_equal(a->vals, b->vals, sizeof(*a->vals) * (a->mask + 1));
}

/*
 * The table's layout is the maps' iteration and LRU eviction order, which
 * reports show. A map operation's lookup, delete and put share one probe
 * through the memo; a second table that forgets the memo before every call
 * must end up with every key in the same slot, whatever the operations.
 */
static void test_memo_keeps_layout(void **state)
{
	struct keyset a, b;
	uint64_t seed = 7;
	uint32_t ca = 0, cb = 0;

	(void)state;
	keyset_init(&a);
	keyset_init(&b);
	for (int step = 0; step < 100000; step++) {
		/* a small universe of colliding keys: long probe runs, many backward shifts */
		uint64_t k = key_of((uint32_t)(lcg(&seed) % 600)), ka, kb;
		uint32_t op = (uint32_t)(lcg(&seed) % 6), v = step < 20000 ? 0 : (uint32_t)step;
		uint32_t va, vb;
		bool ina, inb;

		b.memo_ok = false;
		ina = keyset_find(&a, k, &va);
		inb = keyset_find(&b, k, &vb);
		assert_int_equal(ina, inb);
		b.memo_ok = false;
		switch (op) {
		case 0:	/* insert or replace in place (a per-cpu hash, an array) */
		case 1:
			assert_int_equal(keyset_put(&a, k, v), 0);
			assert_int_equal(keyset_put(&b, k, v), 0);
			break;
		case 2:	/* overwrite: the old element out, the new one in (htab_map_update) */
			assert_int_equal(keyset_del(&a, k, &va), ina);
			assert_int_equal(keyset_del(&b, k, &vb), inb);
			b.memo_ok = false;
			assert_int_equal(keyset_put(&a, k, v), 0);
			assert_int_equal(keyset_put(&b, k, v), 0);
			break;
		case 3:	/* delete after the lookup */
			assert_int_equal(keyset_del(&a, k, &va), ina);
			assert_int_equal(keyset_del(&b, k, &vb), inb);
			break;
		case 4:	/* an overwrite whose new element fails: the old one put back */
			if (keyset_del(&a, k, &va)) {
				assert_true(keyset_del(&b, k, &vb));
				b.memo_ok = false;
				assert_int_equal(keyset_put(&a, k, va), 0);
				assert_int_equal(keyset_put(&b, k, vb), 0);
			}
			break;
		default:	/* an LRU map full: evict, then insert */
			if (keyset_evict(&a, &ca, &ka, &va)) {
				assert_true(keyset_evict(&b, &cb, &kb, &vb));
				assert_true(ka == kb);
				b.memo_ok = false;
				assert_int_equal(keyset_put(&a, k, v), 0);
				assert_int_equal(keyset_put(&b, k, v), 0);
			}
			break;
		}
		assert_same_table(&a, &b);
	}
	keyset_destroy(&a);
	keyset_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_evict_and_each),
		cmocka_unit_test(test_memo_keeps_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
