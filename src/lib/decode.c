// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Records to events: one ring-buffer record fans out to the probe names
 * it stands for, stamped and valued as the tapset defines them.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "session.h"
#include "who.h"

int st_run_id_iter(struct socktap *st, int k)
{
	char buf[64];
	if (k < 0 || k > 1 || !st->iter_links[k])
		return -ENOENT;
	int fd = bpf_iter_create(bpf_link__fd(st->iter_links[k]));
	if (fd < 0)
		return -errno;
	/* the programs print nothing: each read runs a batch of sockets, 0 ends the walk */
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	int err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/*
 * A socket id the kernel side could not make: a socket that has moved no
 * data, whose fd BPF could not turn into a trusted socket (fds past 64,
 * or kernels that refuse the fd_cookie step). While the socket exists,
 * the socket iterators can (sockid_iter.bpf.h): user space asks for its
 * inode and runs them. The id is then the kernel's, for every later event
 * too; it is remembered per (pid, inode) for the socket's close record,
 * which may be decoded after the socket is gone. No reference to the
 * socket is ever taken: tracing must not delay a release.
 */
static uint64_t made_cookie(struct socktap *st, uint32_t pid, uint32_t ino, bool forget)
{
	for (unsigned int i = 0; ino && i < sizeof(st->made) / sizeof(st->made[0]); i++) {
		struct st_made_cookie *m = &st->made[i];
		if (m->ino == ino && m->pid == pid && m->cookie) {
			uint64_t c = m->cookie;
			if (forget)
				m->cookie = 0;
			return c;
		}
	}
	return 0;
}

#define ST_AF_UNIX    1
#define ST_AF_NETLINK 16

static uint64_t make_cookie(struct socktap *st, uint32_t pid, int32_t family, uint32_t ino)
{
	int k = family == ST_AF_UNIX ? 0 : family == ST_AF_NETLINK ? 1 : -1;
	uint64_t cookie = 0;
	if (!ino || k < 0 || !st->iter_links[k] || !st->skel)
		return 0;
	int map = bpf_map__fd(st->skel->maps.id_wanted);
	if (bpf_map_update_elem(map, &ino, &cookie, BPF_ANY))
		return 0;
	if (st_run_id_iter(st, k) == 0)
		bpf_map_lookup_elem(map, &ino, &cookie);
	bpf_map_delete_elem(map, &ino);
	if (cookie) {
		unsigned int n = sizeof(st->made) / sizeof(st->made[0]);
		st->made[st->made_next++ % n] = (struct st_made_cookie){pid, ino, cookie};
	}
	return cookie;
}

static int deliver(struct socktap *st, struct socktap_event *ev, enum socktap_probe_id id)
{
	if (!(st->probe_mask & (1ULL << id)))
		return 0;
	ev->probe = id;
	ev->name = st_probes[id].pub.name;
	st->delivered++;
	int ret = st->fn ? st->fn(ev, st->fn_ctx) : 0;
	if (ret < 0 && !st->fn_err)
		st->fn_err = ret;
	return ret;
}

static void event_base(const struct socktap *st, const struct st_rec *r, struct socktap_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->uid = r->uid;
	ev->cpu = r->cpu;
	memcpy(ev->comm, r->comm, sizeof(ev->comm));
	ev->comm[sizeof(ev->comm) - 1] = '\0';
	ev->sock = r->cookie;
	ev->fd = r->fd;
	ev->protocol = r->protocol;
	ev->family = r->family;
	ev->state = r->state;
	ev->type = r->type;
	ev->flags = r->sflags;
	ev->requester = r->origin;
	ev->lport = ev->rport = -1;
	ev->cgroup_id = r->cgroup_id;
	ev->nspid = r->nspid;
	if (r->cgroup_id && st->cgroups) {
		ev->cgroup = st_cgroups_path(st->cgroups, r->cgroup_id);
		ev->container = ev->cgroup ? st_cgroups_container(st->cgroups, r->cgroup_id) : NULL;
	}
	if (r->rflags & ST_RF_UNIX) {
		/* st_on_record checked the size */
		const struct st_rec_unix *u = (const struct st_rec_unix *)r;
		st_unix_text(u->names.lpath, u->names.llen, ev->laddr, sizeof(ev->laddr));
		st_unix_text(u->names.rpath, u->names.rlen, ev->raddr, sizeof(ev->raddr));
		return;
	}
	const struct st_addrs *a = &r->addrs;
	if (a->lfamily) {
		st_inet_text(a->lfamily, a->laddr, ev->laddr, sizeof(ev->laddr));
		ev->lport = a->lport;
	}
	if (a->rfamily) {
		st_inet_text(a->rfamily, a->raddr, ev->raddr, sizeof(ev->raddr));
		ev->rport = a->rport;
	}
}

static uint64_t realtime(const struct socktap *st, uint64_t mono)
{
	return mono + (uint64_t)st->realtime_off;
}

static int on_xfer(struct socktap *st, const struct st_rec *r)
{
	const struct st_fanout *f = st_fanout_xfer(r->op);
	struct socktap_event ev;
	if (!f)
		return 0;
	/* one record's events differ only in these: the rest is made once */
	event_base(st, r, &ev);
	for (int i = 0; i < f->n; i++) {
		enum socktap_probe_id id = f->probe[i];
		ev.known = st_probes[id].pub.values;
		if (f->at_entry[i]) {
			ev.ts = realtime(st, r->ts_enter);
			ev.size = r->size_req;
			ev.success = 0;
			if (!(r->rflags & ST_RF_SIZE_REQ))
				ev.known &= ~SOCKTAP_V_SIZE;
		} else {
			ev.ts = realtime(st, r->ts);
			ev.size = r->ret;
			ev.success = r->ret >= 0;
		}
		if (deliver(st, &ev, id) < 0)
			return -1;
	}
	return 0;
}

static int on_create(struct socktap *st, const struct st_rec *r)
{
	struct socktap_event ev;
	uint64_t cookie[2] = {r->cookie ?: make_cookie(st, r->pid, r->family, r->ino),
			      r->cookie2 ?: make_cookie(st, r->pid, r->family, r->ino2)};
	int count = r->op == 2 ? 2 : 1;
	for (int n = 0; n < count; n++) {
		for (int i = 0; i < st_fanout_create.n; i++) {
			enum socktap_probe_id id = st_fanout_create.probe[i];
			event_base(st, r, &ev);
			ev.known = st_probes[id].pub.values;
			/*
			 * One socket: create at syscall entry, create.return at exit.
			 * socketpair: the first pair at entry, the second at exit.
			 */
			uint64_t t = count == 1
					 ? (st_fanout_create.at_entry[i] ? r->ts_enter : r->ts)
					 : (n == 0 ? r->ts_enter : r->ts);
			ev.ts = realtime(st, t);
			ev.fd = n == 0 ? r->fd : r->fd2;
			ev.sock = cookie[n];
			ev.err = r->ret < 0 ? r->ret : 0;
			ev.success = r->ret >= 0;
			if (deliver(st, &ev, id) < 0)
				return -1;
		}
	}
	return 0;
}

static int on_close(struct socktap *st, const struct st_rec *r)
{
	struct socktap_event ev;
	uint64_t cookie = r->cookie ?: made_cookie(st, r->pid, r->ino, true);
	for (int i = 0; i < st_fanout_close.n; i++) {
		enum socktap_probe_id id = st_fanout_close.probe[i];
		event_base(st, r, &ev);
		ev.known = st_probes[id].pub.values;
		ev.sock = cookie;
		if (!(r->rflags & ST_RF_SOCK_VALS))
			ev.known &= ~SOCKTAP_V_PROTOCOL; /* a dropped socket of default protocol */
		ev.ts = realtime(st, st_fanout_close.at_entry[i] ? r->ts_enter : r->ts);
		if (deliver(st, &ev, id) < 0)
			return -1;
	}
	return 0;
}

int st_on_record(void *ctx, void *data, size_t size)
{
	struct socktap *st = ctx;
	const struct st_rec *r = data;
	int ret = 0;
	if (size < sizeof(*r) || ((r->rflags & ST_RF_UNIX) && size < sizeof(struct st_rec_unix)))
		return 0; /* never stop the ring for a record we cannot read */
	switch (r->kind) {
	case ST_REC_XFER:
		ret = on_xfer(st, r);
		break;
	case ST_REC_CREATE:
		ret = on_create(st, r);
		break;
	case ST_REC_CLOSE:
		ret = on_close(st, r);
		break;
	}
	/* stop consuming only when the caller's callback asked to */
	return ret < 0 ? st->fn_err : 0;
}
