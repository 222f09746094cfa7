/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * socktap serve's series: the kernel's per-interval counts (snapshots)
 * folded into monotonic totals per label set, and their exposition in
 * Prometheus's text format 0.0.4. No BPF here: unit-testable.
 */
#ifndef SOCKTAP_SERIES_H
#define SOCKTAP_SERIES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "socktap.h"

enum serve_label {
	SL_COMM,
	SL_PROTOCOL,
	SL_FAMILY,
	SL_TYPE,
	SL_CGROUP,
	SL_CONTAINER,
	SL_USER,
	SL_PID,
	SL_ERRNO,  /* on the error counters only */
	SL_DEVICE, /* on the device counters only */
	SL__COUNT
};
#define SL_BIT(l) (1u << (l))
#define SL_DEFAULT                                                                                 \
	(SL_BIT(SL_COMM) | SL_BIT(SL_PROTOCOL) | SL_BIT(SL_FAMILY) | SL_BIT(SL_TYPE) |             \
	 SL_BIT(SL_ERRNO) | SL_BIT(SL_DEVICE))

/*
 * --labels LIST: comma-separated names; "+name"/"-name" add to or remove
 * from the default set, a bare list replaces it. 0, or -1 with *bad the
 * offending word (a pointer into list, up to the next comma).
 */
int serve_labels_parse(const char *list, unsigned int *labels, const char **bad);
const char *serve_label_names(void); /* "comm, protocol, ..." for messages */

/* What the exposition says about socktap itself. */
struct serve_self {
	const char *version;
	const char *send_mechanism, *recv_mechanism; /* what backs socket.send/receive */
	double scrape_seconds;			     /* the previous scrape's collection time */
	bool durations;				     /* duration histograms are collected */
	bool sizes;				     /* size histograms are collected */
	bool lifecycle;				     /* sockets created and closed are counted */
};

struct series_store;

/*
 * max_series bounds the label sets (0: unbounded); pid_ttl_ns expires
 * label sets with a pid label that saw no operation for that long.
 */
struct series_store *series_new(unsigned int labels, size_t max_series, uint64_t pid_ttl_ns);
void series_free(struct series_store *s);

/* uid -> user name, or NULL (the uid is shown) */
typedef const char *(*series_user_fn)(uint32_t uid);

/* Fold one snapshot into the totals; now_ns orders expiry. 0 or -ENOMEM. */
int series_fold(struct series_store *s, const struct socktap_snapshot *snap, uint64_t now_ns,
		series_user_fn user);

/* The whole exposition. 0, or -errno from writing. */
int series_write(struct series_store *s, FILE *f, const struct serve_self *self);
/* The same, appended to o (out.h; a growing one): 0, or -ENOMEM when it could not grow. */
struct out;
int series_render(struct series_store *s, struct out *o, const struct serve_self *self);

/* Label sets held, and distinct ones folded into the overflow series. */
size_t series_count(const struct series_store *s);
uint64_t series_overflowed(const struct series_store *s);

/* The errno label's value: a name from a fixed table, else "other". */
const char *serve_errno_name(int err);

#endif
