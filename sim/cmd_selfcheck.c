// SPDX-License-Identifier: MIT
/*
 * A short built-in check of the accounting core that needs no input files: a
 * newcomer's first proof that the build works and the counters add up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kmemsim/sim.h"
#include "cli.h"

static int failures;

static void expect(const char *what, long long got, long long want)
{
	printf("  %-58s %12lld %s\n", what, got, got == want ? "ok" : "FAIL");
	if (got != want) {
		printf("    expected %lld\n", want);
		failures++;
	}
}

int cmd_selfcheck(int argc, char **argv)
{
	struct kms_cgroup_stats st;
	struct kms_user_stats us;
	struct kms_config cfg;
	struct kms_sim *sim;
	int err;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: kmemsim selfcheck\n");
		return KMS_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error("selfcheck takes no arguments");

	kms_config_init(&cfg);
	err = kms_sim_new(&cfg, &sim);
	if (err) {
		fprintf(stderr, "kmemsim: cannot create a simulation: %s\n", strerror(-err));
		return KMS_EXIT_FAIL;
	}
	printf("kmemsim selfcheck (page size %u, %u possible CPUs)\n", cfg.page_size,
	       cfg.nr_cpus);

	kms_cgroup_create(sim, "/app");
	/* memory.max takes bytes and keeps whole pages: 1 MiB = 256 pages of 4 KiB. */
	expect("set /app memory.max 1 MiB", kms_cgroup_set_max(sim, "/app", 1 << 20), 0);
	kms_cgroup_read(sim, "/app", &st);
	expect("/app memory.max (bytes)", (long long)st.max, 1 << 20);
	expect("rmdir / refused", kms_cgroup_remove(sim, "/"), -EINVAL);

	kms_task_create(sim, 100, 0, "/app", 64 << 10);
	kms_task_create(sim, 101, 0, "/", 64 << 10);
	expect("rmdir /app with a task in it", kms_cgroup_remove(sim, "/app"), -EBUSY);
	/* Two root processes share uid 0's locked_vm: 10 pages + 6 pages. */
	kms_user_locked_vm_other(sim, 0, 10);
	kms_user_locked_vm_other(sim, 0, 6);
	kms_user_read(sim, 0, &us);
	expect("uid 0 locked_vm after 10 + 6 pages (bytes)", (long long)us.locked_vm, 16 * 4096);

	kms_task_exit(sim, 100);
	expect("rmdir /app once empty", kms_cgroup_remove(sim, "/app"), 0);
	kms_sim_free(sim);

	printf("%s\n", failures ? "selfcheck FAILED" : "selfcheck passed");
	return failures ? KMS_EXIT_FAIL : KMS_EXIT_OK;
}
