// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap serve's series. Snapshots are per-interval counts read and
 * cleared in the kernel, so totals are sums of deltas kept here per label
 * set: a process that exits or a kernel row that is recycled only stops
 * adding, and no counter goes backwards (rate() sees no false reset).
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "out.h"
#include "series.h"
#include "util.h"

static const char *const label_names[SL__COUNT] = {
    [SL_COMM] = "comm",	    [SL_PROTOCOL] = "protocol", [SL_FAMILY] = "family",
    [SL_TYPE] = "type",	    [SL_CGROUP] = "cgroup",	[SL_CONTAINER] = "container",
    [SL_USER] = "user",	    [SL_PID] = "pid",		[SL_ERRNO] = "errno",
    [SL_DEVICE] = "device",
};
/* the labels that make a label set; errno and device label their own counters */
#define SET_LABELS (SL_PID + 1)

const char *serve_label_names(void)
{
	return "comm, protocol, family, type, cgroup, container, user, pid, errno, device";
}

int serve_labels_parse(const char *list, unsigned int *labels, const char **bad)
{
	unsigned int set = (list[0] == '+' || list[0] == '-') ? SL_DEFAULT : 0;
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		char sign = (*p == '+' || *p == '-') ? *p : 0;
		const char *w = sign ? p + 1 : p;
		size_t wn = sign ? n - 1 : n;
		int found = -1;
		for (int l = 0; l < SL__COUNT && wn; l++)
			if (strlen(label_names[l]) == wn && strncmp(w, label_names[l], wn) == 0)
				found = l;
		if (found < 0) {
			*bad = p;
			return -1;
		}
		if (sign == '-')
			set &= ~SL_BIT(found);
		else
			set |= SL_BIT(found);
		if (!p[n])
			break;
		p += n + 1;
	}
	*labels = set;
	return 0;
}

/*
 * The errno label's values: the failures sockets commonly return, from a
 * fixed table so that the label stays bounded; the rest are "other".
 */
static const struct {
	int err;
	const char *name;
} errnos[] = {
    {EPERM, "EPERM"},
    {EINTR, "EINTR"},
    {EIO, "EIO"},
    {EBADF, "EBADF"},
    {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},
    {EINVAL, "EINVAL"},
    {EPIPE, "EPIPE"},
    {ENOTSOCK, "ENOTSOCK"},
    {EDESTADDRREQ, "EDESTADDRREQ"},
    {EMSGSIZE, "EMSGSIZE"},
    {EOPNOTSUPP, "EOPNOTSUPP"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ENETDOWN, "ENETDOWN"},
    {ENETUNREACH, "ENETUNREACH"},
    {ECONNABORTED, "ECONNABORTED"},
    {ECONNRESET, "ECONNRESET"},
    {ENOBUFS, "ENOBUFS"},
    {EISCONN, "EISCONN"},
    {ENOTCONN, "ENOTCONN"},
    {ESHUTDOWN, "ESHUTDOWN"},
    {ETIMEDOUT, "ETIMEDOUT"},
    {ECONNREFUSED, "ECONNREFUSED"},
    {EHOSTUNREACH, "EHOSTUNREACH"},
    {512, "ERESTARTSYS"}, /* kernel-internal: a signal interrupted the call */
};
#define NERRNO (sizeof(errnos) / sizeof(errnos[0]) + 1) /* + "other" */

static unsigned int errno_index(int err)
{
	for (unsigned int i = 0; i < NERRNO - 1; i++)
		if (errnos[i].err == err)
			return i;
	return NERRNO - 1;
}

const char *serve_errno_name(int err)
{
	unsigned int i = errno_index(err);
	return i < NERRNO - 1 ? errnos[i].name : "other";
}

/* The emitted histogram bounds: slots of sizes up to 1 MiB, of durations 1 us .. 17 s. */
#define SIZE_LAST_SLOT 21 /* le = 2^20; the kernel's slot 22 holds the rest */
_Static_assert(SIZE_LAST_SLOT + 2 == SOCKTAP_SIZE_SLOTS, "size slots: the kernel's and these");
#define DUR_FIRST_SLOT 11 /* le = 2^10 ns */
#define DUR_LAST_SLOT  35 /* le = 2^34 ns */

struct entry {
	struct entry *next; /* hash chain */
	uint64_t hash;
	char *key;	/* the label values, each ended by a NUL */
	char *rendered; /* the label set as exposed, once written */
	size_t rendered_len;
	size_t keylen;
	uint64_t ops[2], bytes[2], dur_ns[2]; /* [0] sends, [1] receives */
	uint64_t creates, closes;
	uint64_t errs[2][NERRNO];
	uint64_t *hist[2][2]; /* [size, duration][send, receive]: slots, made on first use */
	uint64_t last_ns;
};

struct dev_total {
	char name[48]; /* as st_prom_label_clean() makes it: up to 15 bytes as U+FFFD */
	uint64_t xmits, recvs, xmit_bytes, recv_bytes;
};

struct series_store {
	unsigned int labels;
	size_t max_series;
	uint64_t ttl_ns;
	struct entry **buckets;
	size_t nbuckets, n;
	struct entry *overflow;
	/* distinct label sets folded into the overflow series, by hash (open addressing) */
	uint64_t *ovf;
	size_t ovf_cap, novf;
	uint64_t expired, kernel_drops;
	struct dev_total *devs;
	size_t ndevs, devs_cap;
	time_t start;
	/* the label sets in exposition order, kept between scrapes: sorting 10,000 keys was
	 * a tenth of a scrape (perf), and the set seldom changes */
	struct entry **sorted;
	size_t nsorted;
	bool sorted_stale;
};

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

struct series_store *series_new(unsigned int labels, size_t max_series, uint64_t pid_ttl_ns)
{
	struct series_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->labels = labels;
	s->max_series = max_series;
	s->ttl_ns = (labels & SL_BIT(SL_PID)) ? pid_ttl_ns : 0;
	s->nbuckets = 1024;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	s->start = time(NULL);
	if (!s->buckets) {
		free(s);
		return NULL;
	}
	return s;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	for (int k = 0; k < 2; k++)
		for (int d = 0; d < 2; d++)
			free(e->hist[k][d]);
	free(e->key);
	free(e->rendered);
	free(e);
}

void series_free(struct series_store *s)
{
	if (!s)
		return;
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct entry *e = s->buckets[b], *next; e; e = next) {
			next = e->next;
			entry_free(e);
		}
	entry_free(s->overflow);
	free(s->buckets);
	free(s->sorted);
	free(s->ovf);
	free(s->devs);
	free(s);
}

size_t series_count(const struct series_store *s)
{
	return s->n + (s->overflow != NULL);
}

uint64_t series_overflowed(const struct series_store *s)
{
	return s->novf;
}

/* A label set's key: the selected labels' values in label order, each ended by a NUL. */
/* up to SET_LABELS values of at most 255 bytes, each ended by a NUL */
struct keybuf {
	char b[SET_LABELS * 256];
	size_t n;
};

/*
 * A value as the exposition shows it (invalid UTF-8 and control bytes as
 * U+FFFD): two processes named "a\xff" and "a\xfe" are one label set there,
 * so one series here, not the same series twice.
 */
static void key_add(struct keybuf *k, const char *v)
{
	k->n += st_prom_label_clean(k->b + k->n, 256, v, 255) + 1;
}

static void row_key(const struct series_store *s, const struct socktap_series_row *r,
		    series_user_fn user, struct keybuf *k)
{
	char num[24];
	k->n = 0;
	for (int l = 0; l < SET_LABELS; l++) {
		if (!(s->labels & SL_BIT(l)))
			continue;
		switch (l) {
		case SL_COMM:
			key_add(k, r->comm);
			break;
		case SL_PROTOCOL:
			key_add(k, sock_prot_num2str(r->protocol));
			break;
		case SL_FAMILY:
			key_add(k, sock_fam_num2str(r->family));
			break;
		case SL_TYPE:
			key_add(k, sock_type_num2str(r->type));
			break;
		case SL_CGROUP:
			if (!r->cgroup && r->cgroup_id)
				snprintf(num, sizeof(num), "%llu",
					 (unsigned long long)r->cgroup_id);
			key_add(k, r->cgroup ? r->cgroup : r->cgroup_id ? num : "");
			break;
		case SL_CONTAINER:
			key_add(k, r->container ? r->container : "");
			break;
		case SL_USER: {
			const char *u = user ? user(r->uid) : NULL;
			snprintf(num, sizeof(num), "%u", r->uid);
			key_add(k, u ? u : num);
			break;
		}
		case SL_PID:
			snprintf(num, sizeof(num), "%u", r->pid);
			key_add(k, num);
			break;
		}
	}
}

static struct entry *entry_new(const char *key, size_t n, uint64_t hash)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = malloc(n ? n : 1);
	if (!e->key) {
		free(e);
		return NULL;
	}
	memcpy(e->key, key, n);
	e->keylen = n;
	e->hash = hash;
	return e;
}

static int rehash(struct series_store *s)
{
	size_t nb = s->nbuckets * 2;
	struct entry **b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct entry *e = s->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
	return 0;
}

/* Remember a label set folded into the overflow series; true if it is new there. */
static int overflow_note(struct series_store *s, uint64_t h)
{
	if (s->novf * 2 >= s->ovf_cap) {
		size_t cap = s->ovf_cap ? s->ovf_cap * 2 : 4096;
		/* bounded (8 MiB): past 2^19 distinct sets the count stops growing */
		if (cap > (1u << 20))
			return 0;
		uint64_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < s->ovf_cap; i++) {
			uint64_t v = s->ovf[i];
			if (!v)
				continue;
			size_t j = v & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = v;
		}
		free(s->ovf);
		s->ovf = t;
		s->ovf_cap = cap;
	}
	h |= 1; /* 0 marks a free slot */
	size_t j = h & (s->ovf_cap - 1);
	while (s->ovf[j]) {
		if (s->ovf[j] == h)
			return 0;
		j = (j + 1) & (s->ovf_cap - 1);
	}
	s->ovf[j] = h;
	s->novf++;
	return 0;
}

static void overflow_key(const struct series_store *s, struct keybuf *k)
{
	k->n = 0;
	for (int l = 0; l < SET_LABELS; l++)
		if (s->labels & SL_BIT(l))
			key_add(k, "~other");
}

static struct entry *overflow_entry(struct series_store *s)
{
	if (s->overflow)
		return s->overflow;
	struct keybuf k;
	overflow_key(s, &k);
	s->overflow = entry_new(k.b, k.n, 0);
	return s->overflow;
}

/* The label set's entry: found, made, or the overflow series at the limit. */
static struct entry *entry_get(struct series_store *s, const struct keybuf *k)
{
	uint64_t h = fnv1a(k->b, k->n);
	for (struct entry *e = s->buckets[h & (s->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && e->keylen == k->n && memcmp(e->key, k->b, k->n) == 0)
			return e;
	/* labels all "~other" (a process of that name, --labels comm): the overflow's, not twice */
	struct keybuf o;
	overflow_key(s, &o);
	if (k->n && o.n == k->n && memcmp(o.b, k->b, k->n) == 0)
		return overflow_entry(s);
	if (s->max_series && s->n >= s->max_series) {
		if (overflow_note(s, h))
			return NULL;
		return overflow_entry(s);
	}
	if (s->n >= s->nbuckets && rehash(s))
		return NULL;
	struct entry *e = entry_new(k->b, k->n, h);
	if (!e)
		return NULL;
	e->next = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = e;
	s->n++;
	s->sorted_stale = true;
	return e;
}

/* the histogram's series: a row with the same kernel key and err 0 */
struct row_ref {
	const struct socktap_series_row *r;
	struct entry *e;
};

static int cmp_tuple(uint32_t pa, int32_t pra, int32_t fa, int32_t ta, uint64_t ca, uint32_t pb,
		     int32_t prb, int32_t fb, int32_t tb, uint64_t cb)
{
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (pra != prb)
		return pra < prb ? -1 : 1;
	if (fa != fb)
		return fa < fb ? -1 : 1;
	if (ta != tb)
		return ta < tb ? -1 : 1;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	return 0;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct socktap_series_row *x = ((const struct row_ref *)a)->r;
	const struct socktap_series_row *y = ((const struct row_ref *)b)->r;
	return cmp_tuple(x->pid, x->protocol, x->family, x->type, x->cgroup_id, y->pid, y->protocol,
			 y->family, y->type, y->cgroup_id);
}

static struct entry *hist_entry(const struct row_ref *refs, size_t n,
				const struct socktap_series_hist *h)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct socktap_series_row *r = refs[mid].r;
		int c = cmp_tuple(r->pid, r->protocol, r->family, r->type, r->cgroup_id, h->pid,
				  h->protocol, h->family, h->type, h->cgroup_id);
		if (c == 0)
			return refs[mid].e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int fold_devs(struct series_store *s, const struct socktap_snapshot *snap)
{
	for (size_t i = 0; i < snap->ndevs; i++) {
		const struct socktap_dev_row *r = &snap->devs[i];
		struct dev_total *d = NULL;
		char name[sizeof(d->name)];
		/* by name as shown: "lo" of every network namespace is one series */
		st_prom_label_clean(name, sizeof(name), r->name, sizeof(r->name));
		for (size_t j = 0; j < s->ndevs && !d; j++)
			if (strcmp(s->devs[j].name, name) == 0)
				d = &s->devs[j];
		if (!d) {
			if (s->ndevs == s->devs_cap) {
				size_t cap = s->devs_cap ? s->devs_cap * 2 : 16;
				void *p = realloc(s->devs, cap * sizeof(*s->devs));
				if (!p)
					return -ENOMEM;
				s->devs = p;
				s->devs_cap = cap;
			}
			d = &s->devs[s->ndevs++];
			memset(d, 0, sizeof(*d));
			memcpy(d->name, name, sizeof(d->name));
		}
		d->xmits += r->xmits;
		d->recvs += r->recvs;
		d->xmit_bytes += r->xmit_bytes;
		d->recv_bytes += r->recv_bytes;
	}
	return 0;
}

static void expire(struct series_store *s, uint64_t now_ns)
{
	if (!s->ttl_ns)
		return;
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct entry **pe = &s->buckets[b]; *pe;) {
			struct entry *e = *pe;
			if (now_ns - e->last_ns > s->ttl_ns) {
				*pe = e->next;
				entry_free(e);
				s->n--;
				s->expired++;
				s->sorted_stale = true;
			} else {
				pe = &e->next;
			}
		}
}

int series_fold(struct series_store *s, const struct socktap_snapshot *snap, uint64_t now_ns,
		series_user_fn user)
{
	struct row_ref *refs = snap->nseries ? calloc(snap->nseries, sizeof(*refs)) : NULL;
	size_t nrefs = 0;
	int err = 0;
	if (snap->nseries && !refs)
		return -ENOMEM;
	s->kernel_drops += snap->dropped;
	for (size_t i = 0; i < snap->nseries; i++) {
		const struct socktap_series_row *r = &snap->series[i];
		struct keybuf k;
		row_key(s, r, user, &k);
		struct entry *e = entry_get(s, &k);
		if (!e) {
			err = -ENOMEM;
			break;
		}
		e->last_ns = now_ns;
		e->ops[0] += r->sends;
		e->ops[1] += r->recvs;
		e->bytes[0] += r->send_bytes;
		e->bytes[1] += r->recv_bytes;
		e->dur_ns[0] += r->send_ns;
		e->dur_ns[1] += r->recv_ns;
		e->creates += r->creates;
		e->closes += r->closes;
		unsigned int x = errno_index(r->err);
		e->errs[0][x] += r->send_errors;
		e->errs[1][x] += r->recv_errors;
		if (r->err != 0)
			continue;
		refs[nrefs++] = (struct row_ref){r, e};
		for (int d = 0; d < 2 && !err; d++) {
			uint64_t n = 0;
			for (int j = 0; j < SOCKTAP_SIZE_SLOTS; j++)
				n += r->size_slots[d][j];
			if (!n)
				continue;
			uint64_t **slots = &e->hist[0][d];
			if (!*slots && !(*slots = calloc(SOCKTAP_SERIES_SLOTS, sizeof(uint64_t))))
				err = -ENOMEM;
			for (int j = 0; *slots && j < SOCKTAP_SIZE_SLOTS; j++)
				(*slots)[j] += r->size_slots[d][j];
		}
		if (err)
			break;
	}
	/* no rows (all dropped): no histogram has one (and qsort must not get NULL) */
	if (!err && snap->nshists && nrefs) {
		qsort(refs, nrefs, sizeof(*refs), cmp_ref);
		for (size_t i = 0; i < snap->nshists; i++) {
			const struct socktap_series_hist *h = &snap->shists[i];
			struct entry *e = hist_entry(refs, nrefs, h);
			if (!e)
				continue; /* its row was dropped: the kernel counted the drop */
			int kind = h->kind == SOCKTAP_HIST_LATENCY;
			uint64_t **slots = &e->hist[kind][h->recv];
			if (!*slots && !(*slots = calloc(SOCKTAP_SERIES_SLOTS, sizeof(uint64_t)))) {
				err = -ENOMEM;
				break;
			}
			for (int j = 0; j < SOCKTAP_SERIES_SLOTS; j++)
				(*slots)[j] += h->slots[j];
		}
	}
	free(refs);
	if (!err)
		err = fold_devs(s, snap);
	expire(s, now_ns);
	return err;
}

/* ---- the exposition ---- */

/*
 * Written with out.h's growing buffer and integer writer rather than stdio:
 * at 10,000 label sets (4.6 MiB) vfprintf and stdio's per-call locking were
 * a fifth of a scrape (perf, bench/run.py's serve rows).
 */

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

/* The label sets in order (sorted again only when the set changed), then the overflow series. */
static struct entry **entries_sorted(struct series_store *s, size_t *n)
{
	if (s->sorted_stale || !s->sorted) {
		struct entry **es = realloc(s->sorted, (s->n + 1) * sizeof(*es));
		if (!es)
			return NULL;
		size_t k = 0;
		for (size_t b = 0; b < s->nbuckets; b++)
			for (struct entry *e = s->buckets[b]; e; e = e->next)
				es[k++] = e;
		qsort(es, k, sizeof(*es), cmp_entry);
		s->sorted = es;
		s->nsorted = k;
		s->sorted_stale = false;
	}
	*n = s->nsorted;
	if (s->overflow)
		s->sorted[(*n)++] = s->overflow; /* room: n + 1 were allocated */
	return s->sorted;
}

/* The label set as exposed (a="..",b=".."), rendered once: the key never changes. */
static void put_entry_labels(struct out *o, const struct series_store *s, struct entry *e)
{
	if (!e->rendered) {
		struct out r = {.grow = true};
		const char *v = e->key;
		bool first = true;
		for (int l = 0; l < SET_LABELS; l++) {
			if (!(s->labels & SL_BIT(l)))
				continue;
			if (!first)
				put_c(&r, ',');
			put_str(&r, label_names[l]);
			put_lit(&r, "=\"");
			st_put_prom_label(&r, v, 255);
			put_c(&r, '"');
			v += strlen(v) + 1;
			first = false;
		}
		if (r.pos > r.len) { /* out of memory: this once without labels */
			free(r.buf);
			return;
		}
		e->rendered = r.buf;
		e->rendered_len = r.pos;
	}
	put_mem(o, e->rendered, e->rendered_len);
}

/* NAME{label set[,extra="v"]} V\n; extra values are socktap's own (errno names, bounds): plain */
static void put_sample(struct out *o, const struct series_store *s, const char *name,
		       const char *suffix, struct entry *e, const char *extra, const char *value,
		       uint64_t v)
{
	put_str(o, name);
	if (suffix)
		put_str(o, suffix);
	put_c(o, '{');
	size_t at = o->pos;
	put_entry_labels(o, s, e);
	if (extra) {
		if (o->pos != at)
			put_c(o, ',');
		put_str(o, extra);
		put_lit(o, "=\"");
		put_str(o, value);
		put_c(o, '"');
	}
	put_lit(o, "} ");
	st_put_u64(o, v);
	put_c(o, '\n');
}

static void family_head(struct out *o, const char *name, const char *type, const char *help)
{
	put_lit(o, "# HELP ");
	put_str(o, name);
	put_c(o, ' ');
	put_str(o, help);
	put_lit(o, "\n# TYPE ");
	put_str(o, name);
	put_c(o, ' ');
	put_str(o, type);
	put_c(o, '\n');
}

/* A float as Prometheus reads it: the shortest decimal that reads back the same. */
static void put_float(struct out *o, double v)
{
	char b[32];
	for (int p = 1; p <= 17; p++) {
		snprintf(b, sizeof(b), "%.*g", p, v);
		if (strtod(b, NULL) == v)
			break;
	}
	put_str(o, b);
}

/* a gauge or counter without labels */
static void put_plain(struct out *o, const char *name, const char *type, const char *help,
		      uint64_t v)
{
	family_head(o, name, type, help);
	put_str(o, name);
	put_c(o, ' ');
	st_put_u64(o, v);
	put_c(o, '\n');
}

static void write_counters(struct out *o, const struct series_store *s, struct entry **es, size_t n)
{
	static const struct {
		const char *name, *help;
		int what, dir; /* what: 0 ops, 1 bytes */
	} fams[] = {
	    {"socktap_send_operations_total", "Successful sends (socket.send).", 0, 0},
	    {"socktap_receive_operations_total", "Successful receives (socket.receive).", 0, 1},
	    {"socktap_send_bytes_total", "Bytes sent by successful sends.", 1, 0},
	    {"socktap_receive_bytes_total", "Bytes received by successful receives.", 1, 1},
	};
	for (size_t m = 0; m < sizeof(fams) / sizeof(fams[0]); m++) {
		family_head(o, fams[m].name, "counter", fams[m].help);
		for (size_t i = 0; i < n; i++) {
			struct entry *e = es[i];
			put_sample(o, s, fams[m].name, NULL, e, NULL, NULL,
				   fams[m].what ? e->bytes[fams[m].dir] : e->ops[fams[m].dir]);
		}
	}
	static const char *const err_names[2] = {"socktap_send_errors_total",
						 "socktap_receive_errors_total"};
	static const char *const err_help[2] = {"Failed sends.", "Failed receives."};
	bool by_errno = s->labels & SL_BIT(SL_ERRNO);
	for (int d = 0; d < 2; d++) {
		family_head(o, err_names[d], "counter", err_help[d]);
		for (size_t i = 0; i < n; i++) {
			struct entry *e = es[i];
			uint64_t sum = 0;
			for (unsigned int x = 0; x < NERRNO; x++) {
				sum += e->errs[d][x];
				if (by_errno && e->errs[d][x])
					put_sample(o, s, err_names[d], NULL, e, "errno",
						   x < NERRNO - 1 ? errnos[x].name : "other",
						   e->errs[d][x]);
			}
			if (!by_errno)
				put_sample(o, s, err_names[d], NULL, e, NULL, NULL, sum);
		}
	}
}

static void write_lifecycle(struct out *o, const struct series_store *s, struct entry **es,
			    size_t n)
{
	static const char *const names[2] = {"socktap_sockets_created_total",
					     "socktap_sockets_closed_total"};
	static const char *const helps[2] = {"Sockets made (socket.create).",
					     "Sockets released (socket.close)."};
	for (int m = 0; m < 2; m++) {
		family_head(o, names[m], "counter", helps[m]);
		for (size_t i = 0; i < n; i++)
			put_sample(o, s, names[m], NULL, es[i], NULL, NULL,
				   m ? es[i]->closes : es[i]->creates);
	}
}

static void write_hist(struct out *o, const struct series_store *s, struct entry **es, size_t n,
		       int kind, int dir)
{
	static const char *const names[2][2] = {
	    {"socktap_send_size_bytes", "socktap_receive_size_bytes"},
	    {"socktap_send_duration_seconds", "socktap_receive_duration_seconds"}};
	static const char *const helps[2][2] = {
	    {"Bytes per successful send.", "Bytes per successful receive."},
	    {"Time from a send syscall's entry to its send's end.",
	     "Time from a receive syscall's entry to its receive's end."}};
	const char *name = names[kind][dir];
	int first = kind ? DUR_FIRST_SLOT : 0, last = kind ? DUR_LAST_SLOT : SIZE_LAST_SLOT;
	/* slot b holds values up to 2^(b-1): the bounds are exact */
	char les[SOCKTAP_SERIES_SLOTS][32];
	for (int b = first; b <= last; b++) {
		double bound = b ? (double)(1ull << (b - 1)) : 0;
		struct out lo = {les[b], sizeof(les[b]) - 1, 0, false};
		put_float(&lo, kind ? bound / 1e9 : bound);
		les[b][lo.pos < lo.len ? lo.pos : lo.len] = '\0';
	}
	family_head(o, name, "histogram", helps[kind][dir]);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = es[i];
		const uint64_t *slots = e->hist[kind][dir];
		/* like a client library's labelled histogram: there once observed */
		if (!slots)
			continue;
		uint64_t cum = 0;
		int j = 0;
		for (int b = first; b <= last; b++) {
			for (; j <= b; j++)
				cum += slots[j];
			put_sample(o, s, name, "_bucket", e, "le", les[b], cum);
		}
		for (; j < SOCKTAP_SERIES_SLOTS; j++)
			cum += slots[j];
		put_sample(o, s, name, "_bucket", e, "le", "+Inf", cum);
		put_str(o, name);
		put_lit(o, "_sum{");
		put_entry_labels(o, s, e);
		put_lit(o, "} ");
		if (kind)
			put_float(o, (double)e->dur_ns[dir] / 1e9);
		else
			st_put_u64(o, e->bytes[dir]);
		put_c(o, '\n');
		put_sample(o, s, name, "_count", e, NULL, NULL, cum);
	}
}

static void write_devs(struct out *o, const struct series_store *s)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fams[] = {
	    {"socktap_device_transmit_bytes_total", "Bytes handed to a device (net_dev_xmit).",
	     offsetof(struct dev_total, xmit_bytes)},
	    {"socktap_device_transmit_packets_total", "Packets handed to a device.",
	     offsetof(struct dev_total, xmits)},
	    {"socktap_device_receive_bytes_total", "Bytes received (netif_receive_skb).",
	     offsetof(struct dev_total, recv_bytes)},
	    {"socktap_device_receive_packets_total", "Packets received.",
	     offsetof(struct dev_total, recvs)},
	};
	for (size_t m = 0; m < sizeof(fams) / sizeof(fams[0]); m++) {
		bool labelled = s->labels & SL_BIT(SL_DEVICE);
		uint64_t sum = 0;
		if (labelled)
			family_head(o, fams[m].name, "counter", fams[m].help);
		for (size_t i = 0; i < s->ndevs; i++) {
			uint64_t v;
			memcpy(&v, (const char *)&s->devs[i] + fams[m].off, sizeof(v));
			sum += v;
			if (!labelled)
				continue;
			put_str(o, fams[m].name);
			put_lit(o, "{device=\"");
			st_put_prom_label(o, s->devs[i].name, sizeof(s->devs[i].name));
			put_lit(o, "\"} ");
			st_put_u64(o, v);
			put_c(o, '\n');
		}
		if (!labelled)
			put_plain(o, fams[m].name, "counter", fams[m].help, sum);
	}
}

/* process_* as the client libraries define them, from /proc/self */
static void write_process(struct out *o, time_t start)
{
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long ut = 0, stt = 0, vsize = 0, rss = 0;
	FILE *p = fopen("/proc/self/stat", "re");
	if (p) {
		char buf[1024];
		size_t n = fread(buf, 1, sizeof(buf) - 1, p);
		buf[n] = '\0';
		fclose(p);
		/* after the comm's closing parenthesis: fields 3.. */
		char *q = strrchr(buf, ')');
		if (q && sscanf(q + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
				"%*d %*d %*d %*u %llu %llu",
				&ut, &stt, &vsize, &rss) == 4) {
			family_head(o, "process_cpu_seconds_total", "counter",
				    "User and system CPU time spent in seconds.");
			put_lit(o, "process_cpu_seconds_total ");
			put_float(o, (double)(ut + stt) / (double)tick);
			put_c(o, '\n');
			put_plain(o, "process_virtual_memory_bytes", "gauge",
				  "Virtual memory size in bytes.", vsize);
			put_plain(o, "process_resident_memory_bytes", "gauge",
				  "Resident memory size in bytes.", rss * (unsigned long long)page);
		}
	}
	put_plain(o, "process_start_time_seconds", "gauge",
		  "Start time of the process since unix epoch in seconds.",
		  start > 0 ? (uint64_t)start : 0);
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		long nfd = -1; /* the directory's own fd */
		while (readdir(d))
			nfd++;
		closedir(d);
		put_plain(o, "process_open_fds", "gauge", "Number of open file descriptors.",
			  nfd > 2 ? (uint64_t)(nfd - 2) : 0); /* less . and .. */
	}
	long max = sysconf(_SC_OPEN_MAX);
	put_plain(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
		  max > 0 ? (uint64_t)max : 0);
}

int series_render(struct series_store *s, struct out *o, const struct serve_self *self)
{
	size_t n = 0;
	struct entry **es = entries_sorted(s, &n);
	if (!es)
		return -ENOMEM;
	write_counters(o, s, es, n);
	if (self->lifecycle)
		write_lifecycle(o, s, es, n);
	for (int d = 0; d < 2 && self->sizes; d++)
		write_hist(o, s, es, n, 0, d);
	for (int d = 0; d < 2 && self->durations; d++)
		write_hist(o, s, es, n, 1, d);
	write_devs(o, s);

	family_head(o, "socktap_build_info", "gauge", "socktap's version; always 1.");
	put_lit(o, "socktap_build_info{version=\"");
	st_put_prom_label(o, self->version, 64);
	put_lit(o, "\"} 1\n");
	family_head(o, "socktap_probe_info", "gauge",
		    "What backs each probe on this kernel; always 1.");
	const char *mech[2] = {self->send_mechanism, self->recv_mechanism};
	static const char *const probe[2] = {"socket.send", "socket.receive"};
	for (int i = 0; i < 2; i++) {
		put_lit(o, "socktap_probe_info{probe=\"");
		put_str(o, probe[i]);
		put_lit(o, "\",mechanism=\"");
		st_put_prom_label(o, mech[i] ? mech[i] : "", 512);
		put_lit(o, "\"} 1\n");
	}
	put_plain(o, "socktap_kernel_updates_dropped_total", "counter",
		  "Updates the kernel's bounded tables had no room for (not counted).",
		  s->kernel_drops);
	put_plain(o, "socktap_series", "gauge", "Label sets held.", series_count(s));
	put_plain(o, "socktap_series_limit", "gauge", "--max-series (0: no limit).", s->max_series);
	put_plain(o, "socktap_series_overflowed", "gauge",
		  "Distinct label sets folded into the comm=\"~other\" series at the limit.",
		  s->novf);
	put_plain(o, "socktap_series_expired_total", "counter",
		  "Label sets with a pid label removed after their time to live.", s->expired);
	family_head(o, "socktap_scrape_collect_seconds", "gauge",
		    "Time the previous scrape took to read the kernel's counts and fold them.");
	put_lit(o, "socktap_scrape_collect_seconds ");
	put_float(o, self->scrape_seconds);
	put_c(o, '\n');
	write_process(o, s->start);
	return o->pos > o->len ? -ENOMEM : 0;
}

int series_write(struct series_store *s, FILE *f, const struct serve_self *self)
{
	struct out o = {.grow = true};
	int err = series_render(s, &o, self);
	if (!err && fwrite(o.buf, 1, o.pos, f) != o.pos)
		err = -EIO;
	free(o.buf);
	return err;
}
