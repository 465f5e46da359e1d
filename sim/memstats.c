// SPDX-License-Identifier: MIT
/*
 * --memstats (hidden, for tests): the program's peak heap on stderr, so a
 * test can check that replay memory follows live objects, not trace length.
 * With jemalloc: its own count of bytes this thread allocated at peak
 * (mallctl "thread.peak.read", jemalloc 5.3); else the kernel's VmHWM.
 * A sanitizer build says "unavailable": its allocator keeps freed memory in
 * quarantine, so neither number means anything there.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kms_build_config.h"
#include "cli.h"

#if KMS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

static int vmhwm(uint64_t *bytes)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %" SCNu64 " kB", bytes) == 1) {
			*bytes *= 1024;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

void cli_memstats_print(FILE *out)
{
	uint64_t peak = 0;

	if (KMS_SANITIZED) {
		fprintf(out, "memstats: unavailable (sanitizer build)\n");
		return;
	}
#if KMS_HAVE_JEMALLOC
	{
		size_t len = sizeof(peak);

		if (!mallctl("thread.peak.read", &peak, &len, NULL, 0)) {
			fprintf(out, "memstats: peak %" PRIu64 " bytes (jemalloc thread.peak)\n",
				peak);
			return;
		}
	}
#endif
	if (!vmhwm(&peak))
		fprintf(out, "memstats: peak %" PRIu64 " bytes (VmHWM)\n", peak);
	else
		fprintf(out, "memstats: unavailable\n");
}
