// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap top / socktop: snapshots as socktop's table, socktap's own
 * table, bpftrace-style histograms, or one JSON object per interval.
 */
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "top_render.h"
#include "out.h"
#include "util.h"

static const char *const sort_names[TOP_SORT__COUNT] = {
    [TOP_SORT_PID] = "pid",	    [TOP_SORT_SENDS] = "sends",	    [TOP_SORT_RECVS] = "recvs",
    [TOP_SORT_SEND_KB] = "send_kb", [TOP_SORT_BYTES] = "bytes",	    [TOP_SORT_RECV_KB] = "recv_kb",
    [TOP_SORT_ERRORS] = "errors",   [TOP_SORT_COMMAND] = "command",
};

/* 's' walks the keys most useful first, the default (socktop's) first of all */
static const enum top_sort sort_cycle[TOP_SORT__COUNT] = {
    TOP_SORT_BYTES,   TOP_SORT_SENDS,  TOP_SORT_RECVS, TOP_SORT_SEND_KB,
    TOP_SORT_RECV_KB, TOP_SORT_ERRORS, TOP_SORT_PID,   TOP_SORT_COMMAND,
};

int top_sort_parse(const char *name)
{
	for (int i = 0; name && i < TOP_SORT__COUNT; i++)
		if (strcmp(name, sort_names[i]) == 0)
			return i;
	return -1;
}

const char *top_sort_name(enum top_sort key)
{
	return (unsigned int)key < TOP_SORT__COUNT ? sort_names[key] : "?";
}

enum top_sort top_sort_next(enum top_sort key)
{
	for (int i = 0; i < TOP_SORT__COUNT; i++)
		if (sort_cycle[i] == key)
			return sort_cycle[(i + 1) % TOP_SORT__COUNT];
	return sort_cycle[0];
}

const char *top_sort_names(void)
{
	return "bytes, sends, recvs, send_kb, recv_kb, errors, pid, command";
}

/* ---- sorting ---- */

static int cmp_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_asc(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_proc(const void *pa, const void *pb, void *arg)
{
	const struct socktap_proc_row *a = pa, *b = pb;
	enum top_sort key = *(const enum top_sort *)arg;
	int c = 0;
	switch (key) {
	case TOP_SORT_BYTES:
		c = cmp_desc(a->send_bytes + a->recv_bytes, b->send_bytes + b->recv_bytes);
		break;
	case TOP_SORT_SENDS:
		c = cmp_desc(a->sends, b->sends);
		break;
	case TOP_SORT_RECVS:
		c = cmp_desc(a->recvs, b->recvs);
		break;
	case TOP_SORT_SEND_KB:
		c = cmp_desc(a->send_bytes, b->send_bytes);
		break;
	case TOP_SORT_RECV_KB:
		c = cmp_desc(a->recv_bytes, b->recv_bytes);
		break;
	case TOP_SORT_ERRORS:
		c = cmp_desc(a->send_errors + a->recv_errors, b->send_errors + b->recv_errors);
		break;
	case TOP_SORT_COMMAND:
		c = strncmp(a->comm, b->comm, sizeof(a->comm));
		break;
	case TOP_SORT_PID:
	case TOP_SORT__COUNT:
		break;
	}
	if (!c)
		c = cmp_asc(a->pid, b->pid);
	if (!c)
		c = cmp_asc(a->protocol, b->protocol);
	if (!c)
		c = cmp_asc(a->family, b->family);
	return c;
}

/*
 * A process row's sort key, made once per row: 10,000 rows through
 * cmp_proc's switch, 80 bytes each, were a third of the time to write a
 * snapshot (perf, bench/scale.py). The same order as cmp_proc.
 */
struct proc_key {
	uint64_t desc; /* the sort counter, largest first; 0 for pid */
	uint32_t pid;
	int32_t protocol, family;
	uint32_t idx;
};

static int cmp_proc_key(const void *pa, const void *pb)
{
	const struct proc_key *a = pa, *b = pb;
	if (a->desc != b->desc)
		return a->desc < b->desc ? 1 : -1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->protocol != b->protocol)
		return a->protocol < b->protocol ? -1 : 1;
	return (a->family > b->family) - (a->family < b->family);
}

static uint64_t proc_sort_value(const struct socktap_proc_row *r, enum top_sort key)
{
	switch (key) {
	case TOP_SORT_BYTES:
		return r->send_bytes + r->recv_bytes;
	case TOP_SORT_SENDS:
		return r->sends;
	case TOP_SORT_RECVS:
		return r->recvs;
	case TOP_SORT_SEND_KB:
		return r->send_bytes;
	case TOP_SORT_RECV_KB:
		return r->recv_bytes;
	case TOP_SORT_ERRORS:
		return r->send_errors + r->recv_errors;
	case TOP_SORT_COMMAND:
	case TOP_SORT_PID:
	case TOP_SORT__COUNT:
		break;
	}
	return 0;
}

void top_sort_procs(struct socktap_proc_row *rows, size_t n, enum top_sort key)
{
	if (n < 2)
		return;
	struct proc_key *keys =
	    key == TOP_SORT_COMMAND || n > UINT32_MAX ? NULL : malloc(n * sizeof(*keys));
	struct socktap_proc_row *tmp = keys ? malloc(n * sizeof(*tmp)) : NULL;
	if (!tmp) {
		/* by name, or out of memory: compare the rows themselves */
		free(keys);
		qsort_r(rows, n, sizeof(*rows), cmp_proc, &key);
		return;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct proc_key){proc_sort_value(&rows[i], key), rows[i].pid,
					    rows[i].protocol, rows[i].family, (uint32_t)i};
	qsort(keys, n, sizeof(*keys), cmp_proc_key);
	for (size_t i = 0; i < n; i++)
		tmp[i] = rows[keys[i].idx];
	memcpy(rows, tmp, n * sizeof(*rows));
	free(tmp);
	free(keys);
}

/* The counter keys, for any row with the six counters. */
#define CMP_COUNTS(c, a, b, key)                                                                   \
	switch (key) {                                                                             \
	case TOP_SORT_BYTES:                                                                       \
		c = cmp_desc(a->send_bytes + a->recv_bytes, b->send_bytes + b->recv_bytes);        \
		break;                                                                             \
	case TOP_SORT_SENDS:                                                                       \
		c = cmp_desc(a->sends, b->sends);                                                  \
		break;                                                                             \
	case TOP_SORT_RECVS:                                                                       \
		c = cmp_desc(a->recvs, b->recvs);                                                  \
		break;                                                                             \
	case TOP_SORT_SEND_KB:                                                                     \
		c = cmp_desc(a->send_bytes, b->send_bytes);                                        \
		break;                                                                             \
	case TOP_SORT_RECV_KB:                                                                     \
		c = cmp_desc(a->recv_bytes, b->recv_bytes);                                        \
		break;                                                                             \
	case TOP_SORT_ERRORS:                                                                      \
		c = cmp_desc(a->send_errors + a->recv_errors, b->send_errors + b->recv_errors);    \
		break;                                                                             \
	default:                                                                                   \
		break;                                                                             \
	}

static int cmp_conn(const void *pa, const void *pb, void *arg)
{
	const struct socktap_conn_row *a = pa, *b = pb;
	enum top_sort key = *(const enum top_sort *)arg;
	int c = 0;
	CMP_COUNTS(c, a, b, key);
	if (!c && key == TOP_SORT_COMMAND)
		c = strncmp(a->comm, b->comm, sizeof(a->comm));
	if (!c)
		c = cmp_asc(a->pid, b->pid);
	if (!c)
		c = cmp_asc(a->protocol, b->protocol);
	if (!c)
		c = strcmp(a->laddr, b->laddr);
	if (!c)
		c = cmp_asc(a->lport, b->lport);
	if (!c)
		c = strcmp(a->raddr, b->raddr);
	if (!c)
		c = cmp_asc(a->rport, b->rport);
	return c;
}

static int cmp_cgroup(const void *pa, const void *pb, void *arg)
{
	const struct socktap_cgroup_row *a = pa, *b = pb;
	enum top_sort key = *(const enum top_sort *)arg;
	int c = 0;
	CMP_COUNTS(c, a, b, key);
	if (!c && key == TOP_SORT_COMMAND)
		c = strcmp(a->cgroup ? a->cgroup : "", b->cgroup ? b->cgroup : "");
	if (!c)
		c = cmp_asc((int64_t)a->cgroup_id, (int64_t)b->cgroup_id);
	return c;
}

void top_sort_rows(struct socktap_snapshot *s, const struct top_view *v)
{
	enum top_sort key = v->sort;
	top_sort_procs(s->procs, s->nprocs, key);
	if (s->nconns > 1)
		qsort_r(s->conns, s->nconns, sizeof(*s->conns), cmp_conn, &key);
	if (s->ncgroups > 1)
		qsort_r(s->cgroups, s->ncgroups, sizeof(*s->cgroups), cmp_cgroup, &key);
}

int top_by_parse(const char *name)
{
	static const char *const names[] = {"process", "connection", "cgroup"};
	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

/* socktop's order: most packets first */
static int cmp_dev(const void *pa, const void *pb)
{
	const struct socktap_dev_row *a = pa, *b = pb;
	int c = cmp_desc(a->xmits + a->recvs, b->xmits + b->recvs);
	if (!c)
		c = strncmp(a->name, b->name, sizeof(a->name));
	if (!c)
		c = cmp_asc((int64_t)a->netns, (int64_t)b->netns);
	if (!c)
		c = cmp_asc(a->ifindex, b->ifindex);
	return c;
}

static int cmp_hist(const void *pa, const void *pb)
{
	const struct socktap_hist *a = pa, *b = pb;
	int c = cmp_asc(a->kind, b->kind);
	if (!c)
		c = cmp_asc(a->recv, b->recv);
	if (!c)
		c = cmp_desc(a->count, b->count);
	if (!c)
		c = cmp_asc(a->key, b->key);
	return c;
}

/* socktop keys devices by name only: "lo" of every namespace is one row */
static void merge_devs_by_name(struct socktap_snapshot *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->ndevs; i++) {
		struct socktap_dev_row *d = &s->devs[i], *m = NULL;
		for (size_t j = 0; j < n && !m; j++)
			if (strncmp(s->devs[j].name, d->name, sizeof(d->name)) == 0)
				m = &s->devs[j];
		if (!m) {
			s->devs[n++] = *d;
			continue;
		}
		m->xmits += d->xmits;
		m->recvs += d->recvs;
		m->xmit_bytes += d->xmit_bytes;
		m->recv_bytes += d->recv_bytes;
	}
	s->ndevs = n;
}

/* socktop counts successful operations only: a row of failures alone is not in its table */
static void drop_failures_only(struct socktap_snapshot *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].sends || s->procs[i].recvs)
			s->procs[n++] = s->procs[i];
	s->nprocs = n;
}

void top_prepare(struct socktap_snapshot *s, const struct top_view *v)
{
	if (v->layout == TOP_LAYOUT_SOCKTOP) {
		drop_failures_only(s);
		merge_devs_by_name(s);
	}
	top_sort_rows(s, v);
	if (s->ndevs > 1)
		qsort(s->devs, s->ndevs, sizeof(*s->devs), cmp_dev);
	if (s->nhists > 1)
		qsort(s->hists, s->nhists, sizeof(*s->hists), cmp_hist);
}

/* ---- text ---- */

static size_t limit(size_t n, const struct top_view *v)
{
	return v->rows && v->rows < n ? v->rows : n;
}

#define COMM_TEXT 80 /* 16 bytes, each up to 4 (\xNN), and the NUL */

static const char *user_of(const struct top_view *v, uint32_t uid)
{
	if (v->user_name)
		return v->user_name(uid);
	struct passwd *pw = getpwuid(uid);
	return pw ? pw->pw_name : NULL;
}

static void socktop_title(FILE *f, const struct socktap_snapshot *s)
{
	char date[64];
	time_t t = (time_t)(s->ts_end / 1000000000ULL);
	if (!ctime_r(&t, date))
		snprintf(date, sizeof(date), "?");
	date[strcspn(date, "\n")] = '\0';
	fprintf(f, "======================= %s ========================\n", date);
}

void top_render_title(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	if (v->layout == TOP_LAYOUT_SOCKTOP) {
		socktop_title(f, s);
		return;
	}
	char a[32], b[32];
	struct tm ta, tb;
	time_t t0 = (time_t)(s->ts_start / 1000000000ULL), t1 = (time_t)(s->ts_end / 1000000000ULL);
	localtime_r(&t0, &ta);
	localtime_r(&t1, &tb);
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &ta);
	/* the end's date only when the interval crossed midnight */
	strftime(b, sizeof(b),
		 ta.tm_yday == tb.tm_yday && ta.tm_year == tb.tm_year ? "%H:%M:%S"
								      : "%Y-%m-%d %H:%M:%S",
		 &tb);
	double secs = s->ts_end > s->ts_start ? (double)(s->ts_end - s->ts_start) / 1e9 : 0;
	fprintf(f, "%s - %s (%.2f s)", a, b, secs);
	size_t n = v->by == TOP_BY_CONNECTION ? s->nconns
		   : v->by == TOP_BY_CGROUP   ? s->ncgroups
					      : s->nprocs;
	if (limit(n, v) < n)
		fprintf(f, ", top %zu of %zu rows", limit(n, v), n);
	if (s->dropped)
		fprintf(f, ", %" PRIu64 " updates dropped (kernel table full)", s->dropped);
	fputc('\n', f);
}

#define SOCKTOP_HDR_FMT "%-5s %-5s %7s %7s %7s %7s %-4s %-8s %-15s\n"
#define SOCKTAP_HDR_FMT "%-7s %-8s %7s %7s %7s %7s %5s %5s %-4s %-8s %s\n"

#define CONN_HDR_FMT	"%-7s %-15s %-4s %-28s %-28s %7s %7s %7s %7s %5s %5s\n"
#define CGROUP_HDR_FMT	"%7s %7s %7s %7s %5s %5s %-12s %s\n"
#define CONN_ADDR_WIDTH 28

static void procs_header(char *buf, size_t len, const struct top_view *v)
{
	if (v->by == TOP_BY_CONNECTION)
		snprintf(buf, len, CONN_HDR_FMT, "PID", "COMMAND", "PROT", "LOCAL", "REMOTE",
			 "#SEND", "#RECV", "SEND_KB", "RECV_KB", "#SERR", "#RERR");
	else if (v->by == TOP_BY_CGROUP)
		snprintf(buf, len, CGROUP_HDR_FMT, "#SEND", "#RECV", "SEND_KB", "RECV_KB", "#SERR",
			 "#RERR", "CONTAINER", "CGROUP");
	else if (v->layout == TOP_LAYOUT_SOCKTOP)
		snprintf(buf, len, SOCKTOP_HDR_FMT, "PID", "UID", "#SEND", "#RECV", "SEND_KB",
			 "RECV_KB", "PROT", "FAMILY", "COMMAND");
	else
		snprintf(buf, len, SOCKTAP_HDR_FMT, "PID", "USER", "#SEND", "#RECV", "SEND_KB",
			 "RECV_KB", "#SERR", "#RERR", "PROT", "FAMILY", "COMMAND");
}

bool top_sort_span(const struct top_view *v, enum top_sort key, int *col, int *width)
{
	static const char *const first[TOP_SORT__COUNT] = {
	    [TOP_SORT_PID] = "PID",	  [TOP_SORT_SENDS] = "#SEND",
	    [TOP_SORT_RECVS] = "#RECV",	  [TOP_SORT_SEND_KB] = "SEND_KB",
	    [TOP_SORT_BYTES] = "SEND_KB", [TOP_SORT_RECV_KB] = "RECV_KB",
	    [TOP_SORT_ERRORS] = "#SERR",  [TOP_SORT_COMMAND] = "COMMAND",
	};
	/* keys that sum two columns light both */
	static const char *const last[TOP_SORT__COUNT] = {
	    [TOP_SORT_BYTES] = "RECV_KB",
	    [TOP_SORT_ERRORS] = "#RERR",
	};
	char hdr[192];
	if ((unsigned int)key >= TOP_SORT__COUNT)
		return false;
	procs_header(hdr, sizeof(hdr), v);
	const char *a = strstr(hdr, first[key]);
	const char *b = last[key] ? strstr(hdr, last[key]) : a;
	if (!a || !b)
		return false;
	*col = (int)(a - hdr);
	*width = (int)(b - a) + (int)strlen(last[key] ? last[key] : first[key]);
	return true;
}

/*
 * One end for the connection table: "addr:port", "[v6]:port", a unix path,
 * "*" when null; the start cut (marked '+') to fit, so the port stays.
 */
static void conn_end(char *buf, size_t len, const char *addr, int32_t port)
{
	char full[4 * 112 + 16], text[4 * 112];
	st_text_str(addr, 112, text, sizeof(text));
	if (!addr[0])
		snprintf(full, sizeof(full), "*");
	else if (port < 0)
		snprintf(full, sizeof(full), "%s", text);
	else if (strchr(addr, ':'))
		snprintf(full, sizeof(full), "[%s]:%" PRId32, text, port);
	else
		snprintf(full, sizeof(full), "%s:%" PRId32, text, port);
	size_t n = strlen(full);
	if (n <= CONN_ADDR_WIDTH)
		snprintf(buf, len, "%s", full);
	else
		snprintf(buf, len, "+%s", full + n - (CONN_ADDR_WIDTH - 1));
}

static void render_conns(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	char comm[COMM_TEXT], l[64], r[64];
	for (size_t i = 0; i < limit(s->nconns, v); i++) {
		const struct socktap_conn_row *c = &s->conns[i];
		st_text_str(c->comm, sizeof(c->comm), comm, sizeof(comm));
		conn_end(l, sizeof(l), c->laddr, c->lport);
		conn_end(r, sizeof(r), c->raddr, c->rport);
		fprintf(f,
			"%-7" PRIu32 " %-15s %-4s %-28s %-28s %7" PRIu64 " %7" PRIu64 " %7" PRIu64
			" %7" PRIu64 " %5" PRIu64 " %5" PRIu64 "\n",
			c->pid, comm, sock_prot_num2str(c->protocol), l, r, c->sends, c->recvs,
			c->send_bytes / 1024, c->recv_bytes / 1024, c->send_errors, c->recv_errors);
	}
}

static void render_cgroups(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	char path[4 * 256 + 8], id[32];
	for (size_t i = 0; i < limit(s->ncgroups, v); i++) {
		const struct socktap_cgroup_row *c = &s->cgroups[i];
		if (c->cgroup)
			st_text_str(c->cgroup, 256, path, sizeof(path));
		else
			snprintf(path, sizeof(path), "(gone: id %" PRIu64 ")", c->cgroup_id);
		/* docker ps's short id */
		snprintf(id, sizeof(id), "%.12s", c->container ? c->container : "-");
		fprintf(f,
			"%7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %5" PRIu64 " %5" PRIu64
			" %-12s %s\n",
			c->sends, c->recvs, c->send_bytes / 1024, c->recv_bytes / 1024,
			c->send_errors, c->recv_errors, id, path);
	}
}

void top_render_procs(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	char hdr[192], comm[COMM_TEXT];
	procs_header(hdr, sizeof(hdr), v);
	if (v->by != TOP_BY_PROCESS) {
		fputs(hdr, f);
		if (v->by == TOP_BY_CONNECTION)
			render_conns(f, s, v);
		else
			render_cgroups(f, s, v);
		return;
	}
	fputs(hdr, f);
	for (size_t i = 0; i < limit(s->nprocs, v); i++) {
		const struct socktap_proc_row *r = &s->procs[i];
		st_text_str(r->comm, sizeof(r->comm), comm, sizeof(comm));
		if (v->layout == TOP_LAYOUT_SOCKTOP) {
			fprintf(f,
				"%-5" PRIu32 " %-5" PRIu32 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
				" %7" PRIu64 " %-4s %-8s %-15s\n",
				r->pid, r->uid, r->sends, r->recvs, r->send_bytes / 1024,
				r->recv_bytes / 1024, sock_prot_num2str(r->protocol),
				sock_fam_num2str(r->family), comm);
			continue;
		}
		char user[32];
		const char *name = user_of(v, r->uid);
		if (!name)
			snprintf(user, sizeof(user), "%" PRIu32, r->uid);
		else if (strlen(name) > 8) /* keep the columns: top's '+' marks the cut */
			snprintf(user, sizeof(user), "%.7s+", name);
		else
			snprintf(user, sizeof(user), "%s", name);
		fprintf(f,
			"%-7" PRIu32 " %-8s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
			" %5" PRIu64 " %5" PRIu64 " %-4s %-8s %s\n",
			r->pid, user, r->sends, r->recvs, r->send_bytes / 1024,
			r->recv_bytes / 1024, r->send_errors, r->recv_errors,
			sock_prot_num2str(r->protocol), sock_fam_num2str(r->family), comm);
	}
}

void top_render_devs(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	char name[COMM_TEXT];
	if (v->layout == TOP_LAYOUT_SOCKTOP)
		fprintf(f, "%-7s %13s %13s %15s %15s\n", "DEV", "#XMIT", "#RECV", "XMIT_KB",
			"RECV_KB");
	else
		fprintf(f, "%-15s %-10s %9s %9s %11s %11s\n", "DEV", "NETNS", "#XMIT", "#RECV",
			"XMIT_KB", "RECV_KB");
	for (size_t i = 0; i < limit(s->ndevs, v); i++) {
		const struct socktap_dev_row *d = &s->devs[i];
		st_text_str(d->name, sizeof(d->name), name, sizeof(name));
		if (v->layout == TOP_LAYOUT_SOCKTOP)
			fprintf(f, "%-7s %13" PRIu64 " %13" PRIu64 " %15" PRIu64 " %15" PRIu64 "\n",
				name, d->xmits, d->recvs, d->xmit_bytes / 1024,
				d->recv_bytes / 1024);
		else
			fprintf(f,
				"%-15s %-10" PRIu64 " %9" PRIu64 " %9" PRIu64 " %11" PRIu64
				" %11" PRIu64 "\n",
				name, d->netns, d->xmits, d->recvs, d->xmit_bytes / 1024,
				d->recv_bytes / 1024);
	}
}

void top_hist_bounds(unsigned int b, uint64_t *lo, uint64_t *hi)
{
	*lo = b ? 1ULL << (b - 1) : 0;
	*hi = b < 64 ? 1ULL << b : UINT64_MAX;
}

/* 2^power as bpftrace writes it: 512, 1K, 2M ... */
static void pow_label(unsigned int power, char *buf, size_t len)
{
	static const char suffix[] = "\0KMGTPE";
	unsigned int k = power / 10 < 6 ? power / 10 : 6;
	if (k)
		snprintf(buf, len, "%llu%c", 1ULL << (power - 10 * k), suffix[k]);
	else
		snprintf(buf, len, "%llu", 1ULL << power);
}

const char *top_hist_label(unsigned int b, char *buf, size_t len)
{
	char lo[24], hi[24];
	if (b < 2) {
		snprintf(buf, len, "[%u]", b); /* bucket 1 holds only 1 */
		return buf;
	}
	pow_label(b - 1, lo, sizeof(lo));
	pow_label(b, hi, sizeof(hi));
	snprintf(buf, len, "[%s, %s)", lo, hi);
	return buf;
}

#define HIST_BAR 52

static const char *hist_name(const struct socktap_hist *h)
{
	if (h->kind == SOCKTAP_HIST_LATENCY)
		return h->recv ? "recv_latency_ns" : "send_latency_ns";
	return h->recv ? "recv_size" : "send_size";
}

void top_render_hist(FILE *f, const struct socktap_hist *h, bool by_protocol)
{
	char comm[COMM_TEXT], label[64], bar[HIST_BAR + 1];
	if (by_protocol)
		fprintf(f, "@%s[%s]:\n", hist_name(h), sock_prot_num2str(h->key));
	else
		fprintf(f, "@%s[%s, %" PRIu32 "]:\n", hist_name(h),
			st_text_str(h->comm, sizeof(h->comm), comm, sizeof(comm)), h->key);
	int first = -1, last = -1;
	uint64_t max = 0;
	for (int b = 0; b < SOCKTAP_HIST_BUCKETS; b++) {
		if (!h->buckets[b])
			continue;
		if (first < 0)
			first = b;
		last = b;
		if (h->buckets[b] > max)
			max = h->buckets[b];
	}
	for (int b = first; first >= 0 && b <= last; b++) {
		/* exact integer scaling: the largest bucket gets the full bar */
		size_t w = (size_t)((unsigned __int128)h->buckets[b] * HIST_BAR / max);
		memset(bar, '@', w);
		bar[w] = '\0';
		fprintf(f, "%-16s%8" PRIu64 " |%-52s|\n",
			top_hist_label((unsigned int)b, label, sizeof(label)), h->buckets[b], bar);
	}
	fputc('\n', f);
}

/* Calls fn for the histograms shown: the first v->rows of each kind and direction. */
static void for_each_hist(const struct socktap_snapshot *s, const struct top_view *v,
			  void (*fn)(const struct socktap_hist *h, size_t nth, void *ctx),
			  void *ctx)
{
	size_t in_group = 0, shown = 0;
	for (size_t i = 0; i < s->nhists; i++) {
		const struct socktap_hist *h = &s->hists[i];
		if (i && (h->kind != h[-1].kind || h->recv != h[-1].recv))
			in_group = 0;
		if (v->rows && in_group++ >= v->rows)
			continue;
		fn(h, shown++, ctx);
	}
}

struct hist_text {
	FILE *f;
	bool by_protocol;
};

static void hist_text(const struct socktap_hist *h, size_t nth, void *ctx)
{
	struct hist_text *t = ctx;
	(void)nth;
	top_render_hist(t->f, h, t->by_protocol);
}

void top_render_hists(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	struct hist_text t = {.f = f, .by_protocol = v->hist_by_protocol};
	for_each_hist(s, v, hist_text, &t);
}

void top_render_text(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	if (v->layout == TOP_LAYOUT_SOCKTOP) {
		socktop_title(f, s);
		fputs("------------------------------- PROCESSES "
		      "-------------------------------\n",
		      f);
		top_render_procs(f, s, v);
		if (v->devices) {
			fputs("-------------------------------- DEVICES "
			      "--------------------------------\n",
			      f);
			top_render_devs(f, s, v);
		}
		fputs("========================================================================="
		      "\n\n",
		      f);
		return;
	}
	top_render_title(f, s, v);
	top_render_procs(f, s, v);
	if (v->devices) {
		fputc('\n', f);
		top_render_devs(f, s, v);
	}
	if (s->nhists)
		fputc('\n', f);
	top_render_hists(f, s, v);
	if (!s->nhists)
		fputc('\n', f); /* histograms end with their own blank line */
}

/* ---- JSON ---- */

static void hist_json(const struct socktap_hist *h, size_t nth, void *ctx)
{
	struct hist_text *t = ctx;
	FILE *f = t->f;
	fprintf(f, "%s{\"kind\":\"%s\",\"dir\":\"%s\",\"by\":\"%s\",\"key\":%" PRIu32 ",\"comm\":",
		nth ? "," : "", h->kind == SOCKTAP_HIST_LATENCY ? "latency" : "size",
		h->recv ? "recv" : "send", t->by_protocol ? "protocol" : "process", h->key);
	st_json_fputs(f, h->comm, sizeof(h->comm));
	fprintf(f, ",\"count\":%" PRIu64 ",\"buckets\":[", h->count);
	bool any = false;
	for (unsigned int b = 0; b < SOCKTAP_HIST_BUCKETS; b++) {
		uint64_t lo, hi;
		if (!h->buckets[b])
			continue;
		top_hist_bounds(b, &lo, &hi);
		fprintf(f, "%s{\"lo\":%" PRIu64 ",\"hi\":%" PRIu64 ",\"count\":%" PRIu64 "}",
			any ? "," : "", lo, hi, h->buckets[b]);
		any = true;
	}
	fputs("]}", f);
}

static void json_opt_str(FILE *f, const char *str, size_t max)
{
	if (str && *str)
		st_json_fputs(f, str, max);
	else
		fputs("null", f);
}

/* a port is null where its address is, and for unix sockets */
static void json_opt_port(FILE *f, const char *addr, int32_t port)
{
	if (addr[0] && port >= 0)
		fprintf(f, "%" PRId32, port);
	else
		fputs("null", f);
}

/* the six counters and the row's closing brace */
static void json_counts(FILE *f, uint64_t sends, uint64_t recvs, uint64_t send_bytes,
			uint64_t recv_bytes, uint64_t send_errors, uint64_t recv_errors)
{
	fprintf(f,
		"\"sends\":%" PRIu64 ",\"recvs\":%" PRIu64 ",\"send_bytes\":%" PRIu64
		",\"recv_bytes\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"recv_errors\":%" PRIu64
		"}",
		sends, recvs, send_bytes, recv_bytes, send_errors, recv_errors);
}

/* One process row as JSON, appended to o. */
static void put_proc_json(struct out *o, const struct socktap_proc_row *r, const char *user)
{
	put_lit(o, "{\"pid\":");
	st_put_u64(o, r->pid);
	put_lit(o, ",\"uid\":");
	st_put_u64(o, r->uid);
	put_lit(o, ",\"user\":");
	if (user)
		st_put_json_str(o, user, strlen(user));
	else
		put_lit(o, "null");
	put_lit(o, ",\"comm\":");
	st_put_json_str(o, r->comm, sizeof(r->comm));
	put_lit(o, ",\"protocol\":");
	st_put_i64(o, r->protocol);
	put_lit(o, ",\"protocol_name\":\"");
	put_str(o, sock_prot_num2str(r->protocol));
	put_lit(o, "\",\"family\":");
	st_put_i64(o, r->family);
	put_lit(o, ",\"family_name\":\"");
	put_str(o, sock_fam_num2str(r->family));
	static const char *const names[6] = {
	    "\",\"sends\":",	",\"recvs\":",	     ",\"send_bytes\":",
	    ",\"recv_bytes\":", ",\"send_errors\":", ",\"recv_errors\":"};
	const uint64_t vals[6] = {r->sends,	 r->recvs,	 r->send_bytes,
				  r->recv_bytes, r->send_errors, r->recv_errors};
	for (int k = 0; k < 6; k++) {
		put_str(o, names[k]);
		st_put_u64(o, vals[k]);
	}
	put_c(o, '}');
}

/*
 * The process rows, made in a buffer and written in 64 KiB pieces: fprintf
 * per field was half of the time to write 10,000 rows (perf, bench/scale.py).
 */
static void json_procs(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	char buf[1 << 16];
	struct out o = {buf, sizeof(buf), 0, false};
	for (size_t i = 0; i < limit(s->nprocs, v); i++) {
		const struct socktap_proc_row *r = &s->procs[i];
		const char *user = user_of(v, r->uid);
		size_t at = o.pos;
		if (i)
			put_c(&o, ',');
		put_proc_json(&o, r, user);
		if (o.pos <= o.len - 4096)
			continue;
		/* the buffer is nearly full, or this row (a very long user name) did not fit */
		bool fits = o.pos <= o.len;
		fwrite(buf, 1, fits ? o.pos : at, f);
		o.pos = 0;
		if (fits)
			continue;
		struct out big = {.grow = true};
		if (i)
			put_c(&big, ',');
		put_proc_json(&big, r, user);
		if (big.pos <= big.len)
			fwrite(big.buf, 1, big.pos, f);
		free(big.buf);
	}
	fwrite(buf, 1, o.pos, f);
}

void top_render_json(FILE *f, const struct socktap_snapshot *s, const struct top_view *v)
{
	fprintf(f,
		"{\"ts_start\":%" PRIu64 ",\"ts_end\":%" PRIu64 ",\"dropped\":%" PRIu64
		",\"processes\":[",
		s->ts_start, s->ts_end, s->dropped);
	json_procs(f, s, v);
	fputs("],\"devices\":[", f);
	for (size_t i = 0; i < limit(s->ndevs, v); i++) {
		const struct socktap_dev_row *d = &s->devs[i];
		fprintf(f, "%s{\"name\":", i ? "," : "");
		st_json_fputs(f, d->name, sizeof(d->name));
		fprintf(f,
			",\"ifindex\":%" PRIu32 ",\"netns\":%" PRIu64 ",\"xmits\":%" PRIu64
			",\"recvs\":%" PRIu64 ",\"xmit_bytes\":%" PRIu64 ",\"recv_bytes\":%" PRIu64
			"}",
			d->ifindex, d->netns, d->xmits, d->recvs, d->xmit_bytes, d->recv_bytes);
	}
	fputs("],\"connections\":[", f);
	for (size_t i = 0; i < limit(s->nconns, v); i++) {
		const struct socktap_conn_row *c = &s->conns[i];
		fprintf(f, "%s{\"pid\":%" PRIu32 ",\"comm\":", i ? "," : "", c->pid);
		st_json_fputs(f, c->comm, sizeof(c->comm));
		fprintf(f, ",\"protocol_name\":\"%s\",\"family_name\":\"%s\",\"laddr\":",
			sock_prot_num2str(c->protocol), sock_fam_num2str(c->family));
		json_opt_str(f, c->laddr, sizeof(c->laddr));
		fputs(",\"lport\":", f);
		json_opt_port(f, c->laddr, c->lport);
		fputs(",\"raddr\":", f);
		json_opt_str(f, c->raddr, sizeof(c->raddr));
		fputs(",\"rport\":", f);
		json_opt_port(f, c->raddr, c->rport);
		fputc(',', f);
		json_counts(f, c->sends, c->recvs, c->send_bytes, c->recv_bytes, c->send_errors,
			    c->recv_errors);
	}
	fputs("],\"cgroups\":[", f);
	for (size_t i = 0; i < limit(s->ncgroups, v); i++) {
		const struct socktap_cgroup_row *c = &s->cgroups[i];
		fprintf(f, "%s{\"cgroup\":", i ? "," : "");
		json_opt_str(f, c->cgroup, 4096);
		fprintf(f, ",\"cgroup_id\":%" PRIu64 ",\"container\":", c->cgroup_id);
		json_opt_str(f, c->container, 65);
		fputc(',', f);
		json_counts(f, c->sends, c->recvs, c->send_bytes, c->recv_bytes, c->send_errors,
			    c->recv_errors);
	}
	fputs("],\"histograms\":[", f);
	struct hist_text t = {.f = f, .by_protocol = v->hist_by_protocol};
	for_each_hist(s, v, hist_json, &t);
	fputs("]}\n", f);
}
