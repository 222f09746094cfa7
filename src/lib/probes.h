/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Internal view of the probe table: what each probe needs from the kernel. */
#ifndef SOCKTAP_PROBES_H
#define SOCKTAP_PROBES_H

#include <stdint.h>
#include "socktap.h"
#include "socktap_abi.h"

/* Kernel attach points ("sources"); one BPF program each. */
enum st_source {
	SRC_SEND_TP,   /* tp_btf/sock_send_length */
	SRC_RECV_TP,   /* tp_btf/sock_recv_length */
	SRC_SYS_ENTER, /* tp_btf/sys_enter */
	SRC_SYS_EXIT,  /* tp_btf/sys_exit */
	SRC_PROC_EXIT, /* tp_btf/sched_process_exit */
	SRC_PROC_FORK, /* tp_btf/sched_process_fork */
	SRC_DEV_XMIT,  /* tp_btf/net_dev_xmit (socktap top -d) */
	SRC_DEV_RECV,  /* tp_btf/netif_receive_skb (socktap top -d) */
	SRC__COUNT,
};

struct st_source_def {
	const char *name;     /* as `list -v` shows it */
	const char *btf_name; /* BTF type that proves the tracepoint exists */
	const char *since;    /* kernel version that added it */
};
extern const struct st_source_def st_sources[SRC__COUNT];

/* One way to back a probe: all its sources must exist. */
struct st_candidate {
	uint32_t sources; /* 1u << enum st_source */
	const char *limits;
};
#define ST_MAX_CANDIDATES 3

struct st_probe_def {
	struct socktap_probe pub;
	/* SystemTap's "!" list: the first candidate whose sources exist wins */
	struct st_candidate cand[ST_MAX_CANDIDATES];
};
extern const struct st_probe_def st_probes[SOCKTAP_PROBE__COUNT];

/* The probes one record kind/op fans out to, in firing order. */
struct st_fanout {
	uint8_t n;
	uint8_t probe[ST_MAX_FANOUT];
	uint8_t at_entry[ST_MAX_FANOUT]; /* stamped with ts_enter */
};
const struct st_fanout *st_fanout_xfer(enum st_op op);
extern const struct st_fanout st_fanout_create, st_fanout_close;

/* Which sources exist on the running kernel (bit per enum st_source). */
int st_sources_available(uint32_t *mask);
/* The candidate backing probe id, given the available sources; NULL if none. */
const struct st_candidate *st_probe_resolve(enum socktap_probe_id id, uint32_t avail);

#endif
