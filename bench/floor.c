// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * floor count|hash|syscall-idle|syscall-idle-exit|syscall-hook COMMAND...: attach one
 * variant of bench/floor.bpf.c, run COMMAND, exit with its status. The
 * benchmark's reference for what any tracer on these tracepoints costs on
 * this machine.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

/* variant -> the programs it attaches */
static const struct {
	const char *name;
	const char *progs[3];
} variants[] = {
    {"count", {"floor_send", "floor_recv"}},
    {"hash", {"floor_send", "floor_recv"}},
    {"syscall-idle", {"floor_idle"}},
    {"syscall-idle-exit", {"floor_idle", "floor_idle_exit"}},
    {"syscall-hook", {"floor_sys_enter", "floor_sys_exit"}},
};

static int wanted(int v, const char *prog)
{
	for (int i = 0; i < 3 && variants[v].progs[i]; i++)
		if (strcmp(variants[v].progs[i], prog) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int v = -1;
	for (size_t i = 0; argc >= 3 && i < sizeof(variants) / sizeof(variants[0]); i++)
		if (strcmp(argv[1], variants[i].name) == 0)
			v = (int)i;
	if (v < 0) {
		fprintf(stderr,
			"usage: floor count|hash|syscall-idle|syscall-idle-exit|syscall-hook "
			"COMMAND...\n");
		return 2;
	}
	struct floor_bpf *s = floor_bpf__open();
	if (!s)
		return 1;
	s->rodata->use_hash = strcmp(argv[1], "hash") == 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, s->obj)
	    bpf_program__set_autoload(p, wanted(v, bpf_program__name(p)));
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
