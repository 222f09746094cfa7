// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * floor count|hash COMMAND...: attach bench/floor.bpf.c, run COMMAND,
 * exit with its status. The benchmark's reference for what any tracer on
 * these tracepoints costs on this machine.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "count") && strcmp(argv[1], "hash"))) {
		fprintf(stderr, "usage: floor count|hash COMMAND...\n");
		return 2;
	}
	struct floor_bpf *s = floor_bpf__open();
	if (!s)
		return 1;
	s->rodata->use_hash = strcmp(argv[1], "hash") == 0;
	if (floor_bpf__load(s) || floor_bpf__attach(s)) {
		fprintf(stderr, "floor: cannot load or attach\n");
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	floor_bpf__destroy(s);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
