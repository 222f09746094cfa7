/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Internal: a session's state, shared by session.c and aggregate.c. */
#ifndef SOCKTAP_SESSION_H
#define SOCKTAP_SESSION_H

#include <pthread.h>
#include <stdint.h>
#include "command.h"
#include "probes.h"
#include "socktap.skel.h"

struct socktap {
	struct socktap_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[SRC__COUNT];
	struct bpf_link *cookie_link; /* cgroup/sock_create: cookies for new inet sockets */
	bool want_cookies;
	uint64_t probe_mask;
	uint64_t sources;
	bool want_iter;
	int64_t realtime_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	unsigned int max_latency_ms;
	socktap_print_fn print;
	void *print_ctx;
	/* during a poll */
	socktap_event_fn fn;
	void *fn_ctx;
	int fn_err;
	uint64_t delivered;
	int ncpus;
	/* kallsyms lookup, run while the object loads */
	pthread_t ksym_thread;
	bool ksym_started;
	uint64_t wi_lo, wi_hi, ri_lo, ri_hi;
	struct st_command cmd;
	/* aggregation */
	unsigned int aggregate;
	uint64_t agg_since;   /* CLOCK_MONOTONIC ns of the last snapshot */
	uint64_t agg_dropped; /* per-CPU counter total already reported */
};

int64_t st_clock_ns(clockid_t c);
uint64_t st_counter_sum(const struct socktap *st, uint32_t key);

#endif
