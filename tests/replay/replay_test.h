/* SPDX-License-Identifier: MIT */
/*
 * Helpers every replay test uses: a replay always runs with the model's
 * invariants checked after every event (a broken one fails the test with the
 * event, the invariant and both numbers), over a trace file or a string.
 */
#ifndef KMS_TESTS_REPLAY_TEST_H
#define KMS_TESTS_REPLAY_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kmemsim/replay.h"

/* Every built-in profile's name, in kms_profile_at() order (at most RT_MAX_PROFILES). */
#define RT_MAX_PROFILES 16
size_t rt_all_profiles(const char *names[RT_MAX_PROFILES]);

/*
 * Replay @path (a file), or @text when @path is NULL, with @opts (NULL: every
 * profile, nothing else) and check_invariants forced on. Returns the replay
 * for inspection (kms_replay_free() it). Fails the test when the trace cannot
 * be opened or the replay stops; a stopped replay's error is returned in
 * *@ret when @ret is not NULL instead of failing.
 */
struct kms_replay *rt_replay(const char *path, const char *text,
			     const struct kms_replay_opts *opts, kms_replay_step_fn fn, void *arg,
			     int *ret);

/* No map, program, BTF or link of run @run is live. */
bool rt_all_freed(const struct kms_replay *r, size_t run);

/*
 * After rcu_barrier() and drain_all_stock(): every cgroup the trace used is
 * at zero (memory.current, kmem, memory.stat) but for the bytes objcgs parked
 * (under a page per CPU), every uid's locked_vm_bpf is zero and no allocation
 * is live. Fails the test naming what is not.
 */
void rt_assert_back_to_zero(struct kms_replay *r, size_t run, const char *what);

/* Trace files (.trace, .strace) in @dir below the source root, sorted; free with rt_free_list. */
char **rt_list_traces(const char *dir, size_t *n);
void rt_free_list(char **list, size_t n);

#endif
