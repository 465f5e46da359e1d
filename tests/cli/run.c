// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

struct sink {
	int fd;
	char *buf;
	size_t len, cap;
	int open;
};

static int sink_read(struct sink *s)
{
	char chunk[65536];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));

	if (n <= 0) {
		s->open = 0;
		return 0;
	}
	if (s->len + (size_t)n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		char *p;

		while (cap < s->len + (size_t)n + 1)
			cap *= 2;
		p = realloc(s->buf, cap);
		if (!p)
			return -1;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, chunk, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return 0;
}

int run_kmemsim(const char *const argv[], const char *stdin_text, struct run_result *r)
{
	return run_kmemsim_timeout(argv, stdin_text, 0, r);
}

int run_kmemsim_timeout(const char *const argv[], const char *stdin_text, unsigned int seconds,
			struct run_result *r)
{
	const char *exe = getenv("KMEMSIM");
	int in[2], out[2], err[2], status;
	struct sink so = { 0 }, se = { 0 };
	size_t argc = 0, in_len = stdin_text ? strlen(stdin_text) : 0, in_off = 0;
	const char **args;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (!exe)
		return -1;
	while (argv[argc])
		argc++;
	char valgrind_supp[4200];

	snprintf(valgrind_supp, sizeof(valgrind_supp), "--suppressions=%s/tests/valgrind.supp",
		 getenv("KMEMSIM_SOURCE_ROOT") ? getenv("KMEMSIM_SOURCE_ROOT") : ".");
	args = calloc(argc + 9, sizeof(*args));
	if (!args)
		return -1;
	{
		size_t k = 0;

		/* Under the valgrind test setup, the program runs under memcheck too. */
		if (getenv("KMEMSIM_UNDER_VALGRIND")) {
			args[k++] = "/usr/bin/valgrind";
			args[k++] = "--quiet";
			args[k++] = "--error-exitcode=99";
			args[k++] = "--leak-check=full";
			args[k++] = "--errors-for-leak-kinds=definite,indirect";
			args[k++] = "--soname-synonyms=somalloc=*jemalloc*";
			args[k++] = valgrind_supp;
		}
		args[k++] = exe;
		for (size_t i = 0; i < argc; i++)
			args[k++] = argv[i];
		exe = args[0];
	}
	if (pipe(in) || pipe(out) || pipe(err)) {
		free(args);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		free(args);
		return -1;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
		/* A pending alarm survives execve(): a hang ends in SIGALRM (status 142). */
		if (seconds)
			alarm(getenv("KMEMSIM_UNDER_VALGRIND") ? seconds * 20 : seconds);
		execv(exe, (char *const *)args);
		_exit(127);
	}
	free(args);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	signal(SIGPIPE, SIG_IGN);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	so.fd = out[0]; so.open = 1;
	se.fd = err[0]; se.open = 1;
	if (!in_len) {
		close(in[1]);
		in[1] = -1;
	}
	while (so.open || se.open) {
		struct pollfd p[3] = {
			{ .fd = so.open ? so.fd : -1, .events = POLLIN },
			{ .fd = se.open ? se.fd : -1, .events = POLLIN },
			{ .fd = in[1], .events = POLLOUT },
		};

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents && sink_read(&so))
			break;
		if (p[1].revents && sink_read(&se))
			break;
		if (in[1] >= 0 && p[2].revents) {
			ssize_t n = write(in[1], stdin_text + in_off, in_len - in_off);

			if (n > 0)
				in_off += (size_t)n;
			if (n < 0 || in_off == in_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	close(so.fd);
	close(se.fd);
	waitpid(pid, &status, 0);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = so.buf ? so.buf : strdup("");
	r->out_len = so.len;
	r->err = se.buf ? se.buf : strdup("");
	r->err_len = se.len;
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

const char *source_path(const char *rel, char *buf, size_t len)
{
	const char *root = getenv("KMEMSIM_SOURCE_ROOT");

	snprintf(buf, len, "%s/%s", root ? root : ".", rel);
	return buf;
}
