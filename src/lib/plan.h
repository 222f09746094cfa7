/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The plan: from what a session asks for and what the kernel has (and has
 * refused), the BPF programs to load and the optional steps to keep. Pure:
 * no kernel, no I/O; the load step (load.c) calls it again after each
 * refusal.
 */
#ifndef SOCKTAP_PLAN_H
#define SOCKTAP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "optional.h"
#include "probes.h"

struct st_plan_in {
	uint64_t probes;	  /* requested probes (bit per socktap_probe_id) */
	bool probes_explicit;	  /* named by the caller (else: all, by default) */
	unsigned int aggregate;	  /* SOCKTAP_AGG_* */
	enum st_backend backend;  /* forced kind, or ST_BACKEND_AUTO */
	uint64_t avail;		  /* sources the kernel has (st_sources_available) */
	uint64_t refused_sources; /* programs the kernel refused */
	uint32_t refused_features;
	bool follow;   /* follow the targets' descendants */
	bool addrs;    /* addresses wanted: in records, per connection, or filtered on */
	bool selftest; /* SOCKTAP_TEST_REFUSAL: include the step no verifier takes */
};

struct st_plan {
	uint64_t sources;   /* programs to load and attach */
	uint32_t features;  /* optional steps to keep (bit per enum st_feature) */
	uint64_t probes;    /* probes the session delivers */
	uint64_t dropped;   /* default probes left out: nothing on this kernel backs them */
	int err;	    /* 0, or -ENOTSUP: a requested probe cannot be backed */
	int bad_probe;	    /* with err: that probe, or -1 (aggregation's own need) */
	int missing_source; /* with err: the first source it lacks, or -1 */
};

/* Probes that move data, create or close sockets, or tell the iter paths apart. */
uint64_t st_probes_send(void);
uint64_t st_probes_recv(void);
uint64_t st_probes_entry(void);
uint64_t st_probes_iter(void);
uint64_t st_probes_lifecycle(void);

void st_plan_make(const struct st_plan_in *in, struct st_plan *out);
/* What refusing source src costs the probes of in: "NAME: probe, probe (untraced)..." */
void st_plan_source_loss(const struct st_plan_in *in, int src, char *out, size_t len);

#endif
