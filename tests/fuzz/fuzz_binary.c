// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the binary form's reader (docs/trace-format.md, "The
 * binary form"). An input that starts with the magic is a whole file; any
 * other input is taken as records after a valid header, so mutations spend
 * their time in the record decoder rather than in the magic. The checks are
 * fuzz_trace.c's: an end or -EINVAL with a message, never a crash; every
 * event read round-trips through text and binary; a trace read whole
 * replays with the model's invariants on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "kmemsim/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kms_trace_header h = { KMS_TRACE_FORMAT_VERSION, "fuzz", 4096, 2 };
	struct kms_trace_writer *w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (size >= 8 && memcmp(data, "\x89KMS\r\n\x1a\n", 8) == 0) {
		if (kms_fuzz_check_read(data, size))
			kms_fuzz_check_replay(data, size);
		return 0;
	}
	/* a header and no event: the end record (two zero bytes) is dropped for the input */
	f = open_memstream(&buf, &len);
	if (!f || kms_trace_writer_open(f, KMS_TRACE_BINARY, &h, NULL, &w) ||
	    kms_trace_writer_close(w) || fflush(f) || len < 2)
		abort();
	len -= 2;
	if (fwrite(data, 1, size, f) != size || fflush(f))
		abort();
	if (kms_fuzz_check_read((const uint8_t *)buf, len + size))
		kms_fuzz_check_replay((const uint8_t *)buf, len + size);
	fclose(f);
	free(buf);
	return 0;
}
