// SPDX-License-Identifier: MIT
/* A private bpffs mount for pins, so nothing lands in the system's /sys/fs/bpf. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kernel/kernel_priv.h"

int kms_kbpffs_mount(struct kms_kbpffs *fs)
{
	const char *tmp = getenv("TMPDIR");

	/* the pid in the name tells a leftover from a mount a live run still uses */
	snprintf(fs->dir, sizeof(fs->dir), "%s/kms_bpffs_%d_XXXXXX", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	if (!mkdtemp(fs->dir)) {
		int err = -errno;

		fs->dir[0] = '\0';
		return err;
	}
	if (mount("bpf", fs->dir, "bpf", 0, "mode=0700") < 0) {
		int err = -errno;

		rmdir(fs->dir);
		fs->dir[0] = '\0';
		return err;
	}
	return 0;
}

int kms_kbpffs_unmount(struct kms_kbpffs *fs)
{
	DIR *d;
	int err = 0;

	if (!fs->dir[0])
		return 0;
	d = opendir(fs->dir);
	if (d) {
		struct dirent *e;

		while ((e = readdir(d))) {
			char path[600];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", fs->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	/* Lazy detach: an fd still open somewhere must not keep the mount point busy. */
	if (umount2(fs->dir, MNT_DETACH) < 0 && errno != EINVAL)
		err = -errno;
	if (rmdir(fs->dir) < 0 && !err)
		err = -errno;
	if (!err)
		fs->dir[0] = '\0';
	return err;
}
