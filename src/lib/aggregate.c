// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Snapshots of the kernel's counts (socktap top). The BPF side keeps two
 * generations of each table; a snapshot switches the kernel to the other
 * one, waits for programs still holding the old one, then drains it, so
 * reading and clearing never lose a count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "session.h"
#include "who.h"

_Static_assert(SOCKTAP_AGG_PROCESSES == ST_AGG_PROCS && SOCKTAP_AGG_DEVICES == ST_AGG_DEVICES &&
		   SOCKTAP_AGG_HIST_SIZE == ST_AGG_HIST_SIZE &&
		   SOCKTAP_AGG_HIST_LATENCY == ST_AGG_HIST_LATENCY &&
		   SOCKTAP_AGG_HIST_BY_PROTOCOL == ST_AGG_HIST_BY_PROTO &&
		   SOCKTAP_AGG_CONNECTIONS == ST_AGG_CONNS &&
		   SOCKTAP_AGG_CGROUPS == ST_AGG_CGROUPS && SOCKTAP_AGG_SERIES == ST_AGG_SERIES &&
		   SOCKTAP_AGG_SERIES_CGROUP == ST_AGG_SERIES_CGROUP &&
		   SOCKTAP_AGG_LIFECYCLE == ST_AGG_LIFECYCLE &&
		   SOCKTAP_SERIES_SLOTS == ST_SERIES_SLOTS && SOCKTAP_SIZE_SLOTS == ST_SIZE_SLOTS,
	       "socktap.h and socktap_abi.h disagree on aggregation flags");

/*
 * A tracepoint program runs for microseconds with migration disabled;
 * this is far longer than any of them can still be using the old table.
 */
#define GENERATION_GRACE_NS 2000000

unsigned int socktap_hist_bucket(uint64_t v)
{
	return v ? 64 - (unsigned int)__builtin_clzll(v) : 0;
}

/*
 * Keys per batch call: a bounded buffer however many CPUs (values are per
 * CPU), and a full 10,240-row table in some forty calls.
 */
#define DRAIN_BATCH 256

/*
 * Drain a hash (per-CPU or not): every key with its values, deleting as it
 * goes. Calls fn(key, values, ctx) per key; values holds ncpus entries of
 * vsize bytes (per-CPU values are 8-byte aligned; ncpus 1 for a shared table).
 * Batches of keys (bpf_map_lookup_and_delete_batch) where the kernel has them:
 * one key at a time costs three syscalls per row, and get_next_key from the
 * start walks every emptied bucket again, which made a 1,000-row snapshot
 * take 50 ms. Kernels without batches (before 5.6), or a bucket fuller than
 * a batch, take the key-at-a-time path for what is left.
 */
static int drain(int fd, size_t ksize, size_t vsize, int ncpus,
		 int (*fn)(const void *key, const void *vals, void *ctx), void *ctx)
{
	size_t stride = (vsize + 7) & ~(size_t)7, vlen = stride * (size_t)ncpus;
	char key[64], next[64];
	int err = 0;
	if (ksize > sizeof(key))
		return -EINVAL;
	char *keys = malloc(DRAIN_BATCH * ksize), *vals = malloc(DRAIN_BATCH * vlen);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* the kernel's batch token for hashes is a bucket index (u32); room for more */
	uint64_t in = 0, out = 0;
	/* each call moves on by at least a bucket: a bound far above any table's */
	for (long calls = 0; calls < (1L << 24); calls++) {
		bool first = calls == 0;
		__u32 count = DRAIN_BATCH;
		int r = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &out, keys, vals,
							&count, NULL);
		int e = r ? errno : 0;
		if (r && e != ENOENT)
			count = 0; /* the rest one key at a time, below */
		for (__u32 i = 0; i < count && !err; i++)
			err = fn(keys + i * ksize, vals + i * vlen, ctx);
		if (err)
			goto out;
		if (r)
			break; /* ENOENT: the table is empty; else the fallback */
		in = out;
	}
	/* get_next_key from NULL each time: the first key, since we delete as we go */
	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, ksize);
		if (bpf_map_lookup_elem(fd, key, vals) == 0) {
			err = fn(key, vals, ctx);
			if (err)
				break;
		}
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
			err = -errno;
			break;
		}
	}
out:
	free(keys);
	free(vals);
	return err;
}

struct collect {
	struct socktap_snapshot *snap;
	int ncpus;
	size_t cap;
	struct socktap *st;
	int ids_fd; /* connections: the generation's names and unix paths */
};

/* The six counters, summed over the CPUs. */
#define SUM_COUNTS(r, v, ncpus)                                                                    \
	for (int i_ = 0; i_ < (ncpus); i_++) {                                                     \
		(r)->sends += (v)[i_].sends;                                                       \
		(r)->recvs += (v)[i_].recvs;                                                       \
		(r)->send_bytes += (v)[i_].send_bytes;                                             \
		(r)->recv_bytes += (v)[i_].recv_bytes;                                             \
		(r)->send_errors += (v)[i_].send_errors;                                           \
		(r)->recv_errors += (v)[i_].recv_errors;                                           \
	}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(*arr, c * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static int add_proc(const void *key, const void *vals, void *ctx)
{
	const struct st_agg_key *k = key;
	const struct st_agg_val *v = vals;
	struct collect *c = ctx;
	struct socktap_snapshot *s = c->snap;
	if (grow((void **)&s->procs, &c->cap, s->nprocs, sizeof(*s->procs)))
		return -ENOMEM;
	struct socktap_proc_row *r = &s->procs[s->nprocs++];
	memset(r, 0, sizeof(*r));
	r->pid = k->tgid;
	r->protocol = k->protocol;
	r->family = k->family;
	SUM_COUNTS(r, v, c->ncpus);
	/* named after its first operation: the CPU that counted it first */
	const struct st_agg_val *first = NULL;
	for (int i = 0; i < c->ncpus; i++)
		if (v[i].comm[0] && (!first || v[i].first_ns < first->first_ns))
			first = &v[i];
	if (first) {
		memcpy(r->comm, first->comm, sizeof(r->comm));
		r->comm[sizeof(r->comm) - 1] = '\0';
		r->uid = first->uid;
	}
	return 0;
}

static int add_conn(const void *key, const void *vals, void *ctx)
{
	const struct st_conn_key *k = key;
	const struct st_agg_val *v = vals;
	struct collect *c = ctx;
	struct socktap_snapshot *s = c->snap;
	if (grow((void **)&s->conns, &c->cap, s->nconns, sizeof(*s->conns)))
		return -ENOMEM;
	struct socktap_conn_row *r = &s->conns[s->nconns++];
	memset(r, 0, sizeof(*r));
	r->pid = k->tgid;
	r->protocol = k->protocol;
	r->family = k->family;
	r->lport = r->rport = -1;
	SUM_COUNTS(r, v, c->ncpus);
	struct st_conn_id id;
	bool named = bpf_map_lookup_elem(c->ids_fd, k, &id) == 0;
	if (named) {
		memcpy(r->comm, id.comm, sizeof(r->comm));
		r->uid = id.uid;
	} else {
		for (int i = 0; i < c->ncpus && !r->comm[0]; i++) {
			memcpy(r->comm, v[i].comm, sizeof(r->comm));
			r->uid = v[i].uid;
		}
	}
	r->comm[sizeof(r->comm) - 1] = '\0';
	if (k->ino) {
		if (named) {
			st_unix_text(id.names.lpath, id.names.llen, r->laddr, sizeof(r->laddr));
			st_unix_text(id.names.rpath, id.names.rlen, r->raddr, sizeof(r->raddr));
		}
		return 0;
	}
	const struct st_addrs *a = &k->addrs;
	if (a->lfamily) {
		st_inet_text(a->lfamily, a->laddr, r->laddr, sizeof(r->laddr));
		r->lport = a->lport;
	}
	if (a->rfamily) {
		st_inet_text(a->rfamily, a->raddr, r->raddr, sizeof(r->raddr));
		r->rport = a->rport;
	}
	return 0;
}

static int cmp_conn_key(const void *pa, const void *pb)
{
	const struct socktap_conn_row *a = pa, *b = pb;
	int c = (a->pid > b->pid) - (a->pid < b->pid);
	if (!c)
		c = (a->protocol > b->protocol) - (a->protocol < b->protocol);
	if (!c)
		c = (a->family > b->family) - (a->family < b->family);
	if (!c)
		c = strcmp(a->laddr, b->laddr);
	if (!c)
		c = (a->lport > b->lport) - (a->lport < b->lport);
	if (!c)
		c = strcmp(a->raddr, b->raddr);
	if (!c)
		c = (a->rport > b->rport) - (a->rport < b->rport);
	return c;
}

/*
 * The kernel tells unix sockets apart by inode (their paths are too long
 * for a key): sockets with the same ends (unnamed pairs, a server's
 * accepted sockets without client names) are one row here.
 */
static void merge_conns(struct socktap_snapshot *s)
{
	size_t n = 0;
	if (s->nconns < 2)
		return;
	qsort(s->conns, s->nconns, sizeof(*s->conns), cmp_conn_key);
	for (size_t i = 0; i < s->nconns; i++) {
		struct socktap_conn_row *r = &s->conns[i];
		if (n && cmp_conn_key(&s->conns[n - 1], r) == 0) {
			SUM_COUNTS(&s->conns[n - 1], r, 1);
			continue;
		}
		s->conns[n++] = *r;
	}
	s->nconns = n;
}

static int add_cgroup(const void *key, const void *vals, void *ctx)
{
	const struct st_cgroup_key *k = key;
	const struct st_agg_val *v = vals;
	struct collect *c = ctx;
	struct socktap_snapshot *s = c->snap;
	if (grow((void **)&s->cgroups, &c->cap, s->ncgroups, sizeof(*s->cgroups)))
		return -ENOMEM;
	struct socktap_cgroup_row *r = &s->cgroups[s->ncgroups++];
	memset(r, 0, sizeof(*r));
	r->cgroup_id = k->cgroup_id;
	if (c->st->cgroups && k->cgroup_id) {
		r->cgroup = st_cgroups_path(c->st->cgroups, k->cgroup_id);
		r->container =
		    r->cgroup ? st_cgroups_container(c->st->cgroups, k->cgroup_id) : NULL;
	}
	SUM_COUNTS(r, v, c->ncpus);
	return 0;
}

static int add_series(const void *key, const void *vals, void *ctx)
{
	const struct st_series_key *k = key;
	const struct st_series_val *v = vals;
	struct collect *c = ctx;
	struct socktap_snapshot *s = c->snap;
	if (grow((void **)&s->series, &c->cap, s->nseries, sizeof(*s->series)))
		return -ENOMEM;
	struct socktap_series_row *r = &s->series[s->nseries++];
	memset(r, 0, sizeof(*r));
	r->pid = k->tgid;
	r->protocol = k->protocol;
	r->family = k->family;
	r->type = k->type;
	r->err = k->err;
	r->cgroup_id = k->cgroup_id;
	if (c->st->cgroups && k->cgroup_id) {
		r->cgroup = st_cgroups_path(c->st->cgroups, k->cgroup_id);
		r->container =
		    r->cgroup ? st_cgroups_container(c->st->cgroups, k->cgroup_id) : NULL;
	}
	SUM_COUNTS(r, v, c->ncpus);
	for (int i = 0; i < c->ncpus; i++) {
		r->send_ns += v[i].send_ns;
		r->recv_ns += v[i].recv_ns;
		r->creates += v[i].creates;
		r->closes += v[i].closes;
		for (int d = 0; d < 2; d++)
			for (int j = 0; j < SOCKTAP_SIZE_SLOTS; j++)
				r->size_slots[d][j] += v[i].size_slots[d][j];
		if (!r->comm[0] && v[i].comm[0]) {
			memcpy(r->comm, v[i].comm, sizeof(r->comm));
			r->comm[sizeof(r->comm) - 1] = '\0';
			r->uid = v[i].uid;
		}
	}
	return 0;
}

/* One slot's count as drained: gathered, then sorted into histograms. */
struct slot_count {
	struct st_series_hist_key k;
	uint64_t n;
};
struct slot_list {
	struct slot_count *v;
	size_t n, cap;
	int ncpus;
};

static int add_slot(const void *key, const void *vals, void *ctx)
{
	struct slot_list *l = ctx;
	const uint64_t *v = vals;
	if (grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v)))
		return -ENOMEM;
	struct slot_count *e = &l->v[l->n++];
	memcpy(&e->k, key, sizeof(e->k));
	e->n = 0;
	for (int i = 0; i < l->ncpus; i++)
		e->n += v[i];
	return 0;
}

/* the histogram a slot belongs to: every key field but the slot */
static int cmp_slot_hist(const struct st_series_hist_key *a, const struct st_series_hist_key *b)
{
	struct st_series_hist_key x = *a, y = *b;
	x.slot = y.slot = 0;
	return memcmp(&x, &y, sizeof(x));
}

static int cmp_slot(const void *pa, const void *pb)
{
	return cmp_slot_hist(&((const struct slot_count *)pa)->k,
			     &((const struct slot_count *)pb)->k);
}

static int collect_shists(int fd, struct socktap_snapshot *s, int ncpus)
{
	struct slot_list l = {.ncpus = ncpus};
	size_t cap = 0;
	int err =
	    drain(fd, sizeof(struct st_series_hist_key), sizeof(uint64_t), ncpus, add_slot, &l);
	if (!err && l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_slot);
	for (size_t i = 0; !err && i < l.n; i++) {
		const struct st_series_hist_key *k = &l.v[i].k;
		if (!i || cmp_slot_hist(&l.v[i - 1].k, k)) {
			if (grow((void **)&s->shists, &cap, s->nshists, sizeof(*s->shists))) {
				err = -ENOMEM;
				break;
			}
			struct socktap_series_hist *h = &s->shists[s->nshists++];
			memset(h, 0, sizeof(*h));
			h->pid = k->s.tgid;
			h->protocol = k->s.protocol;
			h->family = k->s.family;
			h->type = k->s.type;
			h->cgroup_id = k->s.cgroup_id;
			h->kind =
			    k->kind == ST_HIST_LATENCY ? SOCKTAP_HIST_LATENCY : SOCKTAP_HIST_SIZE;
			h->recv = k->recv;
		}
		struct socktap_series_hist *h = &s->shists[s->nshists - 1];
		if (k->slot < SOCKTAP_SERIES_SLOTS)
			h->slots[k->slot] += l.v[i].n;
		h->count += l.v[i].n;
	}
	free(l.v);
	return err;
}

static int ignore_row(const void *key, const void *vals, void *ctx)
{
	(void)key;
	(void)vals;
	(void)ctx;
	return 0;
}

/* Delete every key of a (shared) table. */
static int clear_table(int fd, size_t ksize, size_t vsize)
{
	return drain(fd, ksize, vsize, 1, ignore_row, NULL);
}

static int add_dev(const void *key, const void *vals, void *ctx)
{
	const struct st_dev_key *k = key;
	const struct st_dev_val *v = vals;
	struct collect *c = ctx;
	struct socktap_snapshot *s = c->snap;
	if (grow((void **)&s->devs, &c->cap, s->ndevs, sizeof(*s->devs)))
		return -ENOMEM;
	struct socktap_dev_row *r = &s->devs[s->ndevs++];
	memset(r, 0, sizeof(*r));
	r->ifindex = k->ifindex;
	r->netns = k->netns;
	for (int i = 0; i < c->ncpus; i++) {
		r->xmits += v[i].xmits;
		r->recvs += v[i].recvs;
		r->xmit_bytes += v[i].xmit_bytes;
		r->recv_bytes += v[i].recv_bytes;
		if (!r->name[0] && v[i].name[0]) {
			memcpy(r->name, v[i].name, sizeof(r->name));
			r->name[sizeof(r->name) - 1] = '\0';
		}
	}
	return 0;
}

static int add_hist(const void *key, const void *vals, void *ctx)
{
	const struct st_hist_key *k = key;
	const uint64_t *v = vals;
	struct collect *c = ctx;
	struct socktap_snapshot *s = c->snap;
	struct socktap_hist *h = NULL;
	uint64_t n = 0;

	for (int i = 0; i < c->ncpus; i++)
		n += v[i];
	for (size_t i = 0; i < s->nhists; i++) {
		struct socktap_hist *x = &s->hists[i];
		if (x->key == k->key && (int)x->kind == k->kind && x->recv == !!k->recv) {
			h = x;
			break;
		}
	}
	if (!h) {
		if (grow((void **)&s->hists, &c->cap, s->nhists, sizeof(*s->hists)))
			return -ENOMEM;
		h = &s->hists[s->nhists++];
		memset(h, 0, sizeof(*h));
		h->kind = k->kind == ST_HIST_LATENCY ? SOCKTAP_HIST_LATENCY : SOCKTAP_HIST_SIZE;
		h->recv = k->recv;
		h->key = k->key;
	}
	if (k->bucket < SOCKTAP_HIST_BUCKETS)
		h->buckets[k->bucket] += n;
	h->count += n;
	return 0;
}

int socktap_snapshot_take(struct socktap *st, struct socktap_snapshot **out)
{
	if (!st || !out)
		return -EINVAL;
	*out = NULL;
	if (!st->aggregate)
		return -EINVAL;
	struct socktap_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;

	struct socktap_bpf *skel = st->skel;
	uint32_t old = __atomic_load_n(&skel->bss->agg_slot, __ATOMIC_ACQUIRE);
	__atomic_store_n(&skel->bss->agg_slot, old ^ 1, __ATOMIC_RELEASE);
	uint64_t now = (uint64_t)st_clock_ns(CLOCK_MONOTONIC);
	s->ts_start = st->agg_since + (uint64_t)st->realtime_off;
	s->ts_end = now + (uint64_t)st->realtime_off;
	st->agg_since = now;
	struct timespec grace = {0, GENERATION_GRACE_NS};
	nanosleep(&grace, NULL);

	struct collect c = {.snap = s, .ncpus = st->ncpus, .st = st};
	int err =
	    drain(bpf_map__fd(old ? skel->maps.procs1 : skel->maps.procs0),
		  sizeof(struct st_agg_key), sizeof(struct st_agg_val), st->ncpus, add_proc, &c);
	if (!err) {
		c.cap = 0;
		err = drain(bpf_map__fd(old ? skel->maps.devs1 : skel->maps.devs0),
			    sizeof(struct st_dev_key), sizeof(struct st_dev_val), st->ncpus,
			    add_dev, &c);
	}
	if (!err && !(st->aggregate & SOCKTAP_AGG_SERIES)) {
		c.cap = 0;
		err = drain(bpf_map__fd(old ? skel->maps.hists1 : skel->maps.hists0),
			    sizeof(struct st_hist_key), sizeof(uint64_t), st->ncpus, add_hist, &c);
	}
	if (!err && (st->aggregate & SOCKTAP_AGG_CONNECTIONS)) {
		c.cap = 0;
		c.ids_fd = bpf_map__fd(old ? skel->maps.conn_ids1 : skel->maps.conn_ids0);
		err = drain(bpf_map__fd(old ? skel->maps.conns1 : skel->maps.conns0),
			    sizeof(struct st_conn_key), sizeof(struct st_agg_val), st->ncpus,
			    add_conn, &c);
		if (!err)
			err = clear_table(c.ids_fd, sizeof(struct st_conn_key),
					  sizeof(struct st_conn_id));
		merge_conns(s);
	}
	if (!err && (st->aggregate & SOCKTAP_AGG_CGROUPS)) {
		c.cap = 0;
		err = drain(bpf_map__fd(old ? skel->maps.cgroups1 : skel->maps.cgroups0),
			    sizeof(struct st_cgroup_key), sizeof(struct st_agg_val), st->ncpus,
			    add_cgroup, &c);
	}
	if (!err && (st->aggregate & SOCKTAP_AGG_SERIES)) {
		c.cap = 0;
		err = drain(bpf_map__fd(old ? skel->maps.series1 : skel->maps.series0),
			    sizeof(struct st_series_key), sizeof(struct st_series_val), st->ncpus,
			    add_series, &c);
		if (!err && (st->aggregate & SOCKTAP_AGG_HIST_LATENCY))
			err = collect_shists(
			    bpf_map__fd(old ? skel->maps.shists1 : skel->maps.shists0), s,
			    st->ncpus);
	}
	if (err) {
		socktap_snapshot_free(s);
		return err;
	}
	/* per-process histograms are named after the process */
	for (size_t i = 0; i < s->nhists; i++) {
		if (st->aggregate & SOCKTAP_AGG_HIST_BY_PROTOCOL)
			break;
		for (size_t j = 0; j < s->nprocs; j++)
			if (s->procs[j].pid == s->hists[i].key) {
				memcpy(s->hists[i].comm, s->procs[j].comm,
				       sizeof(s->hists[i].comm));
				break;
			}
	}
	uint64_t dropped = st_counter_sum(st, ST_CNT_AGG_DROPPED);
	s->dropped = dropped - st->agg_dropped;
	st->agg_dropped = dropped;
	*out = s;
	return 0;
}

void socktap_snapshot_free(struct socktap_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->procs);
	free(snap->devs);
	free(snap->hists);
	free(snap->conns);
	free(snap->cgroups);
	free(snap->series);
	free(snap->shists);
	free(snap);
}
