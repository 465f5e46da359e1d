/* SPDX-License-Identifier: MIT */
/*
 * What every input must satisfy, shared by the libFuzzer target and the
 * regression test that replays the inputs it once found (tests/fuzz/regressions/).
 * A violation abort()s, which libFuzzer reports and saves as a crash.
 */
#ifndef KMS_TESTS_FUZZ_CHECK_H
#define KMS_TESTS_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Read @data as kms_trace_open() would (either format): it must end in a
 * clean end or -EINVAL with a message, and every event read must write and
 * parse back to the same text. True when the whole input was read and is
 * small enough to replay quickly (see fuzz_check.c).
 */
bool kms_fuzz_check_read(const uint8_t *data, size_t size);

/*
 * Replay @data under every profile with the model's invariants checked after
 * every event: it must finish, or stop on an input error with a message,
 * never on a broken invariant.
 */
void kms_fuzz_check_replay(const uint8_t *data, size_t size);

#endif
