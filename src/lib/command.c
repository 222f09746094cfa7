// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A traced command: forked at open, held before exec until the probes are
 * armed, so that nothing it does escapes the trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "command.h"

int st_command_spawn(char *const *argv, struct st_command *c)
{
	int go[2], ep[2];
	c->pid = 0;
	c->go_fd = c->err_fd = -1;
	c->reaped = false;
	if (!argv || !argv[0])
		return -EINVAL;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(ep, O_CLOEXEC)) {
		int e = -errno;
		close(go[0]);
		close(go[1]);
		return e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(go[0]);
		close(go[1]);
		close(ep[0]);
		close(ep[1]);
		return e;
	}
	if (pid == 0) {
		char b;
		sigset_t none;
		close(go[1]);
		close(ep[0]);
		/* the command starts as if from a shell, whatever the tracer ignores or blocks */
		static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGQUIT, SIGHUP};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (read(go[0], &b, 1) != 1)
			_exit(127); /* the tracer gave up before starting */
		execvp(argv[0], argv);
		int e = errno;
		if (write(ep[1], &e, sizeof(e)) != sizeof(e))
			_exit(126);
		_exit(127);
	}
	close(go[0]);
	close(ep[1]);
	c->pid = pid;
	c->go_fd = go[1];
	c->err_fd = ep[0];
	return 0;
}

int st_command_release(struct st_command *c)
{
	char b = 'g';
	int e = 0;
	if (c->go_fd < 0)
		return -EINVAL;
	ssize_t w = write(c->go_fd, &b, 1);
	close(c->go_fd);
	c->go_fd = -1;
	if (w != 1)
		return -EPIPE;
	/* EOF when exec succeeded (the pipe is close-on-exec), an errno if not */
	ssize_t n;
	do
		n = read(c->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(c->err_fd);
	c->err_fd = -1;
	if (n == sizeof(e)) {
		waitpid(c->pid, NULL, 0);
		c->reaped = true;
		return -e;
	}
	return 0;
}

int st_command_wait(struct st_command *c, int *status, bool nohang)
{
	if (!c->pid)
		return -ECHILD;
	if (c->reaped)
		return -ECHILD;
	pid_t r;
	do
		r = waitpid(c->pid, status, nohang ? WNOHANG : 0);
	while (r < 0 && errno == EINTR && !nohang);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	c->reaped = true;
	return 1;
}

void st_command_abandon(struct st_command *c)
{
	if (!c->pid || c->reaped)
		return;
	if (c->go_fd >= 0) {
		/* never released: it exits without running the command */
		close(c->go_fd);
		c->go_fd = -1;
		waitpid(c->pid, NULL, 0);
		c->reaped = true;
	}
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->err_fd = -1;
}
