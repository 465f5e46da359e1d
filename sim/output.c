// SPDX-License-Identifier: MIT
/*
 * -o FILE for every command: a regular file (new or existing) is written
 * beside itself and renamed over on success, so a failed run keeps the old
 * one and never leaves half a file; a symlink's target is the file.
 * Anything else (/dev/null, a FIFO, a terminal) is written directly:
 * renaming over it would replace the device node itself (a run with
 * -o /dev/null as root once turned this machine's /dev/null into a file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

FILE *cli_output_open(const char *path, struct cli_output *o)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->target = realpath(path, NULL);
	if (!o->target && errno != ENOENT)
		return NULL;
	if (!o->target && !(o->target = strdup(path)))
		return NULL;
	if (stat(o->target, &st) == 0 && !S_ISREG(st.st_mode))
		return o->f = fopen(o->target, "w");
	if (asprintf(&o->tmp, "%s.kmemsim-tmp", o->target) < 0) {
		o->tmp = NULL;
		return NULL;
	}
	return o->f = fopen(o->tmp, "w");
}

int cli_output_close(struct cli_output *o, bool keep)
{
	int ret = 0;

	if (o->f && fclose(o->f))
		ret = -EIO;
	o->f = NULL;
	if (o->tmp) {
		if (keep && !ret && rename(o->tmp, o->target))
			ret = -errno;
		if (!keep || ret)
			unlink(o->tmp);
	}
	free(o->tmp);
	free(o->target);
	o->tmp = o->target = NULL;
	return ret;
}
