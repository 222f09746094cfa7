// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * peakrss COMMAND...: run COMMAND, print "peakrss KiB" of it and its reaped
 * descendants on stderr, exit with its status.
 *
 * Why not read ru_maxrss from Python: a child's peak RSS includes the
 * memory it had before exec, i.e. a copy of its parent's; from Python
 * that is Python's ~16 MiB. This program is small, so the figure is the
 * tracer's own.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: peakrss COMMAND...\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 1;
	fprintf(stderr, "peakrss %ld\n", ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
