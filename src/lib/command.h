/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Internal: the traced command of a session (opts.command). */
#ifndef SOCKTAP_COMMAND_H
#define SOCKTAP_COMMAND_H

#include <stdbool.h>
#include <sys/types.h>

struct st_command {
	pid_t pid;
	int go_fd;  /* write one byte: exec */
	int err_fd; /* an errno arrives here if exec failed */
	bool reaped;
};

/* Fork argv[0] (PATH search), held before exec. */
int st_command_spawn(char *const *argv, struct st_command *c);
/* Let it exec; returns 0, or the exec errno (negative) with the child reaped. */
int st_command_release(struct st_command *c);
/* 1 and *status once it exited, 0 while running (nohang), negative errno. */
int st_command_wait(struct st_command *c, int *status, bool nohang);
/* A command never released exits without running; a running one is left alone. */
void st_command_abandon(struct st_command *c);

#endif
