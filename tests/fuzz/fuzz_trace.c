// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the trace readers (native parser and strace importer:
 * the input's first line picks one, as kms_trace_open() does) and the replay
 * behind them. Whatever the input, reading must end in 0 or -EINVAL with a
 * message, never a crash; every event read must survive write -> parse ->
 * write unchanged; and a trace read whole replays under every profile
 * without breaking an invariant (fuzz_check.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (kms_fuzz_check_read(data, size))
		kms_fuzz_check_replay(data, size);
	return 0;
}
