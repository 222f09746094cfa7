/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* socktap top and socktop: one loop, two option syntaxes. */
#ifndef SOCKTAP_TOP_H
#define SOCKTAP_TOP_H

#include "cli.h"
#include "top_render.h"

/* seconds: a snapshot itself takes milliseconds, so a shorter interval would only spin */
#define TOP_MIN_INTERVAL 0.01

struct top_config {
	struct top_view view;
	struct filters flt;
	double interval;   /* seconds between snapshots */
	long count;	   /* snapshots to print, then exit; 0 = until stopped */
	unsigned int hist; /* SOCKTAP_AGG_HIST_SIZE / _LATENCY */
	bool rows_given;   /* JSON is limited to view.rows only when -N was given */
	int fmt;	   /* SOCKTAP_FORMAT_TEXT or SOCKTAP_FORMAT_JSON */
	const char *outpath;
	const char *command; /* -c: shell words */
	pid_t xpid;	     /* -x */
	bool live;	     /* a terminal gets the full-screen view */
	bool timing;	     /* SOCKTAP_TOP_TIMING: each snapshot's cost on stderr */
};

/* Count, print, repeat; returns the exit code (the command's with -c). */
int top_run(struct top_config *cfg);
/*
 * socktap top's options and socktop's (socktop.c), as cli.h's *_parse():
 * CLI_RUN, or the exit code. filters_free(&cfg->flt) after either.
 */
int top_parse(int argc, char **argv, struct top_config *cfg);
int socktop_parse(int argc, char **argv, struct top_config *cfg);

#endif
