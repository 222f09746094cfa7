/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Shared by the socktap subcommands. */
#ifndef SOCKTAP_CLI_H
#define SOCKTAP_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "socktap.h"

/* Exit codes: 0 ok, 1 failure at run time, 2 bad usage. */
#define EXIT_USAGE 2

extern const char *prog_name;
extern bool json_errors; /* -j: errors as JSON objects, like bpftool */

/* One message on stderr: "socktap: <msg>" (or {"error": "<msg>"} with -j). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable arrays for repeatable options. */
struct int_list {
	int *v;
	size_t n, cap;
};
struct str_list {
	const char **v;
	size_t n, cap;
};
int int_list_add(struct int_list *l, int v);
int str_list_add(struct str_list *l, const char *s);

/* The filters shared by trace (and later top): -p -n -u -f -P -t. */
struct filters {
	struct int_list pids, uids, families, protocols, types;
	struct str_list comms;
};
/*
 * Handle one filter option (opt is the letter). Returns 1 if it was a
 * filter option and was valid, 0 if it was not a filter option, -1 after
 * printing an error about arg.
 */
int filters_parse(struct filters *f, int opt, const char *arg);
void filters_apply(const struct filters *f, struct socktap_opts *o);

/*
 * Check probe patterns the way socktap_open() will use them; prints one
 * error naming the first bad pattern (with suggestions) and returns -1.
 */
int probes_check(char *const *pats, int n);

/* Number parsing: whole string, base 10, within [lo, hi]. */
bool parse_long(const char *s, long lo, long hi, long *out);

int cmd_list(int argc, char **argv);
int cmd_trace(int argc, char **argv);

#endif
