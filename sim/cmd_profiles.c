// SPDX-License-Identifier: MIT
/* kmemsim profiles: the built-in kernel profiles, one line each. */
#include <stdio.h>
#include <string.h>

#include "kmemsim/profile.h"
#include "cli.h"

int cmd_profiles(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: kmemsim profiles\n\nList the built-in kernel profiles.\n");
		return KMS_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error("profiles takes no arguments");
	for (size_t i = 0; i < kms_profile_count(); i++) {
		const struct kms_profile *p = kms_profile_at(i);

		printf("%-16s %s\n", kms_profile_name(p), kms_profile_description(p));
	}
	return KMS_EXIT_OK;
}
