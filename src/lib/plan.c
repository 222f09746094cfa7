// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The plan: probes and kernel facts in, programs and optional steps out. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "plan.h"

#define P(x) (1ull << SOCKTAP_PROBE_##x)

uint64_t st_probes_send(void)
{
	return P(SEND) | P(SENDMSG) | P(SENDMSG_RETURN) | P(AIO_WRITE) | P(AIO_WRITE_RETURN) |
	       P(WRITEV) | P(WRITEV_RETURN) | P(WRITE_ITER) | P(WRITE_ITER_RETURN);
}

uint64_t st_probes_recv(void)
{
	return P(RECEIVE) | P(RECVMSG) | P(RECVMSG_RETURN) | P(AIO_READ) | P(AIO_READ_RETURN) |
	       P(READV) | P(READV_RETURN) | P(READ_ITER) | P(READ_ITER_RETURN);
}

uint64_t st_probes_entry(void)
{
	return P(SENDMSG) | P(AIO_WRITE) | P(WRITEV) | P(WRITE_ITER) | P(RECVMSG) | P(AIO_READ) |
	       P(READV) | P(READ_ITER);
}

uint64_t st_probes_iter(void)
{
	return P(AIO_WRITE) | P(AIO_WRITE_RETURN) | P(WRITE_ITER) | P(WRITE_ITER_RETURN) |
	       P(AIO_READ) | P(AIO_READ_RETURN) | P(READ_ITER) | P(READ_ITER_RETURN);
}

uint64_t st_probes_lifecycle(void)
{
	return P(CREATE) | P(CREATE_RETURN) | P(CLOSE) | P(CLOSE_RETURN);
}

/* The first source of `need` that `avail` lacks, or -1. */
static int first_missing(uint64_t need, uint64_t avail)
{
	uint64_t miss = need & ~avail;
	return miss ? __builtin_ctzll(miss) : -1;
}

/* A probe nothing backs: the first source its first eligible candidate lacks. */
static int missing_for(int probe, uint64_t avail, enum st_backend backend)
{
	for (int i = 0; i < ST_MAX_CANDIDATES && st_probes[probe].cand[i].sources; i++) {
		const struct st_candidate *c = &st_probes[probe].cand[i];
		if (backend != ST_BACKEND_AUTO && c->backend != ST_BACKEND_AUTO &&
		    c->backend != backend)
			continue;
		return first_missing(c->sources, avail);
	}
	return -1;
}

static void fail(struct st_plan *out, int probe, int source)
{
	out->err = -ENOTSUP;
	out->bad_probe = probe;
	out->missing_source = source;
}

void st_plan_make(const struct st_plan_in *in, struct st_plan *out)
{
	uint64_t avail = in->avail & ~in->refused_sources;
	bool counting = (in->aggregate & ~(unsigned)SOCKTAP_AGG_DEVICES) != 0;

	memset(out, 0, sizeof(*out));
	out->bad_probe = out->missing_source = -1;

	if (in->aggregate) {
		/* counting rests on socket.send and socket.receive's sources */
		for (int p = SOCKTAP_PROBE_SEND; counting && p <= SOCKTAP_PROBE_RECEIVE; p++) {
			const struct st_candidate *c = st_probe_resolve(p, avail, in->backend);
			if (!c)
				return fail(out, p, missing_for(p, avail, in->backend));
			out->sources |= c->sources;
		}
		/* serve --lifecycle: what backs socket.create and socket.close */
		static const int lifecycle[] = {SOCKTAP_PROBE_CREATE, SOCKTAP_PROBE_CLOSE};
		for (size_t i = 0; (in->aggregate & SOCKTAP_AGG_LIFECYCLE) && i < 2; i++) {
			const struct st_candidate *c =
			    st_probe_resolve(lifecycle[i], avail, in->backend);
			if (!c)
				return fail(out, lifecycle[i],
					    missing_for(lifecycle[i], avail, in->backend));
			out->sources |= c->sources;
		}
		uint64_t need = 0;
		if (in->aggregate & SOCKTAP_AGG_HIST_LATENCY)
			need |= 1ull << SRC_SYS_ENTER; /* entry times */
		if (in->aggregate & SOCKTAP_AGG_DEVICES)
			need |= 1ull << SRC_DEV_XMIT | 1ull << SRC_DEV_RECV;
		if (need & ~avail)
			return fail(out, -1, first_missing(need, avail));
		out->sources |= need;
		/* which message of a sendmmsg is sent (its destination), where the hook exists */
		if (in->addrs)
			out->sources |= avail & 1ull << SRC_SYS_ENTER;
	} else {
		for (int p = 0; p < SOCKTAP_PROBE__COUNT; p++) {
			if (!(in->probes >> p & 1))
				continue;
			const struct st_candidate *c = st_probe_resolve(p, avail, in->backend);
			if (!c) {
				if (in->probes_explicit)
					return fail(out, p, missing_for(p, avail, in->backend));
				out->dropped |= 1ull << p;
				continue;
			}
			out->sources |= c->sources;
			out->probes |= 1ull << p;
		}
		if (!out->probes) {
			int p = out->dropped ? __builtin_ctzll(out->dropped) : 0;
			return fail(out, p, missing_for(p, avail, in->backend));
		}
	}
	if (in->follow) {
		if (!(avail >> SRC_PROC_FORK & 1))
			return fail(out, -1, SRC_PROC_FORK);
		out->sources |= 1ull << SRC_PROC_FORK;
	}

	uint32_t need = 0;
	uint64_t m = out->probes;
	if (m & st_probes_lifecycle())
		need |= 1u << ST_FEAT_FD_COOKIE | 1u << ST_FEAT_COOKIE_MAKER |
			1u << ST_FEAT_ITER_UNIX | 1u << ST_FEAT_ITER_NETLINK;
	if (m & (st_probes_send() | st_probes_recv()))
		need |= 1u << ST_FEAT_XFER_COOKIE;
	if (m & st_probes_iter())
		need |= 1u << ST_FEAT_STACK;
	if (in->selftest && ((m & st_probes_send()) || counting))
		need |= 1u << ST_FEAT_SELFTEST;
	if (!in->aggregate || (in->aggregate & (SOCKTAP_AGG_CGROUPS | SOCKTAP_AGG_SERIES_CGROUP)))
		need |= 1u << ST_FEAT_CGROUP;
	/*
	 * Not the entry hook for sendmmsg's message index: any syscall hook puts
	 * every syscall on the slow path. trace has it for its entry probes,
	 * create and close; without them, sendmmsg's destinations are null.
	 */
	if (in->addrs && ((m & st_probes_send()) || counting))
		need |= 1u << ST_FEAT_MSG_ADDR;
	if (in->addrs && ((m & st_probes_recv()) || counting))
		need |= 1u << ST_FEAT_DGRAM_SRC;
	out->features = need & ~in->refused_features;
}

void st_plan_source_loss(const struct st_plan_in *in, int src, char *out, size_t len)
{
	uint64_t before = in->avail & ~in->refused_sources, after = before & ~(1ull << src);
	size_t pos = (size_t)snprintf(out, len, "%s", st_sources[src].name);
	int changed = 0;
	for (int p = 0; p < SOCKTAP_PROBE__COUNT && pos < len && !in->aggregate; p++) {
		if (!(in->probes >> p & 1))
			continue;
		const struct st_candidate *a = st_probe_resolve(p, before, in->backend);
		const struct st_candidate *b = st_probe_resolve(p, after, in->backend);
		if (a == b)
			continue;
		pos += (size_t)snprintf(out + pos, len - pos, "%s%s%s",
					changed++ ? ", " : ", used by ", st_probes[p].pub.name,
					b ? "" : " (untraced)");
	}
	/* which message of a sendmmsg is being sent: its destination */
	if (src == SRC_SYS_ENTER && in->addrs && pos < len)
		snprintf(out + pos, len - pos,
			 "; and the destinations of sendmmsg messages on unconnected sockets "
			 "(raddr null)");
}
