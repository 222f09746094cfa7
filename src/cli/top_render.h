/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * socktap top / socktop: sorting and drawing snapshots. No I/O but the
 * FILE * it is given, so tests can pin the exact output.
 */
#ifndef SOCKTAP_TOP_RENDER_H
#define SOCKTAP_TOP_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "socktap.h"

/* Sort keys, in the order of their columns left to right ('<' and '>' walk it). */
enum top_sort {
	TOP_SORT_PID,
	TOP_SORT_SENDS,
	TOP_SORT_RECVS,
	TOP_SORT_SEND_KB,
	TOP_SORT_BYTES, /* send + receive bytes: socktop's order; both KB columns */
	TOP_SORT_RECV_KB,
	TOP_SORT_ERRORS,
	TOP_SORT_COMMAND,
	TOP_SORT__COUNT,
};

enum top_layout {
	TOP_LAYOUT_SOCKTAP, /* socktap top: USER, error columns, histograms */
	TOP_LAYOUT_SOCKTOP, /* SystemTap's socktop, byte for byte */
};

/* What a row is: socktap top --by. */
enum top_by {
	TOP_BY_PROCESS,	   /* (pid, protocol, family): socktop's rows */
	TOP_BY_CONNECTION, /* (pid, protocol, both ends) */
	TOP_BY_CGROUP,
};

struct top_view {
	enum top_layout layout;
	enum top_by by;
	enum top_sort sort;
	size_t rows;	       /* processes and devices shown, histograms per kind; 0 = all */
	bool devices;	       /* draw the devices table */
	bool hist_by_protocol; /* histograms are keyed by protocol, not pid */
	/* uid -> user name, NULL if it has none; NULL = getpwuid() */
	const char *(*user_name)(uint32_t uid);
};

/* "bytes", "sends", ... -> key, or -1. */
int top_sort_parse(const char *name);
const char *top_sort_name(enum top_sort key);
/* The key after key in the 's' cycle (bytes, sends, recvs, ... command). */
enum top_sort top_sort_next(enum top_sort key);
/* Comma-separated names of every key, for messages. */
const char *top_sort_names(void);

/*
 * Put a snapshot in display order, in place: processes by key (ties by
 * pid, protocol, family), devices by packets, histograms by kind,
 * direction, count. The socktop layout also shapes it as socktop counts:
 * rows with failures only go, devices are merged by name.
 */
void top_prepare(struct socktap_snapshot *s, const struct top_view *v);
void top_sort_procs(struct socktap_proc_row *rows, size_t n, enum top_sort key);
/* The rows of the view's kind (--by) in key order. */
void top_sort_rows(struct socktap_snapshot *s, const struct top_view *v);
/* "process", "connection", "cgroup" -> enum top_by, or -1. */
int top_by_parse(const char *name);

/* One interval as text in the view's layout (ends with a blank line). */
void top_render_text(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);
/* The pieces, for the live view. */
void top_render_title(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);
/* The main table: processes, connections or cgroups (v->by). */
void top_render_procs(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);
void top_render_devs(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);
void top_render_hists(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);
/* One histogram like bpftrace's hist(): title line, bucket lines, blank line. */
void top_render_hist(FILE *f, const struct socktap_hist *h, bool by_protocol);
/* "[1K, 2K)": bucket b's bounds, bpftrace's labels; returns buf. */
const char *top_hist_label(unsigned int b, char *buf, size_t len);
/* Bucket b covers [lo, hi). */
void top_hist_bounds(unsigned int b, uint64_t *lo, uint64_t *hi);

/*
 * Where the header of the process table (top_render_procs' first line)
 * names key: column and width, to highlight it. False if it does not.
 */
bool top_sort_span(const struct top_view *v, enum top_sort key, int *col, int *width);

/* One JSON object on one line (all of it: the JSON layout ignores v->layout). */
void top_render_json(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);

#endif
