// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Traffic generator for tests/top/run.py (socktap top), with its own
 * ground truth.
 *
 *   traffic [netns] [slow|busy] [dur=SECONDS] [many=N [names]] [addrs [cg:ROLE=DIR]...]
 *           [out=FILE]
 *
 * Forks child processes, each with its own comm, each doing a known
 * number of sends and receives of known sizes:
 *
 *   tt-udp    connected UDP pairs over 127.0.0.1 (send/recv, write/read,
 *             sendmsg/recvmsg, sendmmsg/recvmmsg) and ::1 when IPv6 works,
 *             failing sends (EDESTADDRREQ) and a failing receive (EAGAIN);
 *             after its first round, a second thread ("tt-udp-thr") with
 *             its own pair. The main thread runs on the highest CPU it may
 *             use, the thread on the lowest: per-CPU counts must still give
 *             the process the comm of its first operation ("tt-udp").
 *   tt-tcp    a TCP connection over 127.0.0.1: exact-size receives with
 *             MSG_WAITALL, write/read, EOF (a successful 0-byte receive), a
 *             failing receive (EAGAIN) and a failing send (EPIPE)
 *   tt-unix   unix socketpairs (stream, datagram, seqpacket), a failing
 *             receive (EAGAIN) and a failing send (EPIPE)
 *   tt-short  one UDP exchange, then exits at once (short-lived)
 *   tt-err    failing sends only (EDESTADDRREQ)
 *
 * Every send or receive call is recorded with its result, per (protocol,
 * family, socket type) as the socket reports them (SO_PROTOCOL is
 * sk_protocol): the call counts as a send/receive of ret bytes when ret
 * >= 0, else as an error. sendmmsg/recvmmsg count one operation per
 * message. Each child sends its counts and the multisets of successful
 * sizes to the parent through a pipe; the parent prints one JSON document
 * at the end (on stdout, or FILE with out=):
 *
 *   {"mode": [...], "dur": SECONDS, "pid": P, "comm": "traffic", "ok": true,
 *    "t_start": ns, "t_end": ns (CLOCK_REALTIME: main's start, after the
 *                                children have exited),
 *    "netns": null | {"inode", "ifindex", "before", "after", "delta"},
 *    "processes": [{"status": exit status (128 + signal if killed),
 *                   "report": null | {"pid", "comm", "thread_comms" (of its
 *                     other threads), "role", "unexpected",
 *                     "rows": [{"family", "type", "protocol", "sends",
 *                               "recvs", "send_bytes", "recv_bytes",
 *                               "send_errors", "recv_errors",
 *                               "send_sizes": [...], "recv_sizes": [...]}]}}]}
 *
 * The parent itself makes no socket send or receive. netns: first
 * unshare(CLONE_NEWNET | CLONE_NEWNS), make every mount private, mount a
 * fresh sysfs on /sys, bring lo up (one AF_INET datagram socket for the
 * ioctl: no send, no receive), and report lo's tx/rx packets and bytes
 * (/sys/class/net/lo/statistics) before the children start and after they
 * have exited, and the namespace's inode. slow: spread each child's work
 * over dur seconds (default 2) in rounds; busy: rounds back to back for
 * dur seconds (as many as fit); otherwise one round each.
 *
 * many=N: instead of the children above, N processes "tt-many" one after
 * the other, each making one failing send (EDESTADDRREQ) and exiting, to
 * overflow top's tables (with names: each its own comm, "tt-m00000",
 * "tt-m00001", ..., to overflow serve's label sets); the document then has "many": {"n": N,
 * "failed_sends": how many did fail so} and no processes.
 *
 * addrs: instead, three children on chosen loopback addresses, for top's
 * --by connection and --by cgroup (in a private network namespace: its own
 * 127.0.0.0/8):
 *
 *   ta-tcp    TCP from 127.0.0.2 to a listener on 127.0.0.3 (a new
 *             connection each round, closed at its end), both ways, and a
 *             failing receive (EAGAIN) on the connection
 *   ta-udp    unconnected UDP from one socket on 127.0.0.1 to 127.0.0.2
 *             and 127.0.0.3 (sendto, and one sendmmsg to both), replies,
 *             recvfrom/recvmmsg; a failing send (EDESTADDRREQ) and a
 *             failing receive (EAGAIN), which have no remote address
 *   ta-unix   named unix stream sockets (both ends bound, in a directory
 *             made and removed here) and an unnamed datagram socketpair
 *
 * Each report then also has "conns": [{"protocol", "family", "laddr",
 * "lport", "raddr", "rport", the six counters}], one per (protocol, local
 * end, remote end) of the process, the ends as socktap's contract writes
 * them: INET addresses in inet_ntop() form and ports, null for an unbound
 * end; the remote end of an unconnected datagram socket is the message's
 * (destination named, source received; null when the call failed); unix
 * ends are the bound paths (getsockname/getpeername; unnamed: null), ports
 * null. And "cgroup": the directory (cg:ROLE=DIR, absolute) the child
 * moved itself into before its first socket, or null.
 *
 * stdout must not be a socket (run.py uses a pipe or a file).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_ROWS	8
#define BUF_SIZE	70000
#define UDP_THREAD_COMM "tt-udp-thr"

/* ---- the ground truth of one process ---- */

struct sizes {
	size_t n, cap;
	long *v;
};

struct row {
	int family, type, protocol;
	unsigned long sends, recvs, send_bytes, recv_bytes, send_errors, recv_errors;
	struct sizes send_sizes, recv_sizes;
};

static struct row rows[MAX_ROWS];
static int nrows;
static int unexpected; /* results other than the ones this program expects */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static char sbuf[BUF_SIZE], rbuf[BUF_SIZE];

static void die(const char *what)
{
	fprintf(stderr, "traffic[%d]: %s: %s\n", (int)getpid(), what, strerror(errno));
	exit(2);
}

static void push(struct sizes *s, long v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("realloc");
	}
	s->v[s->n++] = v;
}

static int sockopt(int fd, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len))
		die("getsockopt");
	return v;
}

/* The row of fd's socket, made on first use. Called with lock held. */
static struct row *row_of(int fd)
{
	int family = sockopt(fd, SO_DOMAIN), type = sockopt(fd, SO_TYPE);
	int protocol = sockopt(fd, SO_PROTOCOL);
	for (int i = 0; i < nrows; i++)
		if (rows[i].family == family && rows[i].type == type &&
		    rows[i].protocol == protocol)
			return &rows[i];
	if (nrows == MAX_ROWS) {
		errno = ENOSPC;
		die("rows");
	}
	struct row *r = &rows[nrows++];
	r->family = family;
	r->type = type;
	r->protocol = protocol;
	return r;
}

/* Record one send (or receive) of ret bytes on fd; ret < 0: a failure. Keeps errno. */
static ssize_t note(int fd, bool is_send, ssize_t ret)
{
	int e = errno;
	pthread_mutex_lock(&lock);
	struct row *r = row_of(fd);
	if (ret < 0) {
		if (is_send)
			r->send_errors++;
		else
			r->recv_errors++;
	} else if (is_send) {
		r->sends++;
		r->send_bytes += (unsigned long)ret;
		push(&r->send_sizes, ret);
	} else {
		r->recvs++;
		r->recv_bytes += (unsigned long)ret;
		push(&r->recv_sizes, ret);
	}
	pthread_mutex_unlock(&lock);
	errno = e;
	return ret;
}

/* ---- per connection (mode addrs) ---- */

#define MAX_CONNS 64
#define END_LEN	  160

struct conn {
	int protocol, family;
	char laddr[END_LEN], raddr[END_LEN]; /* JSON values: "null" or a string literal */
	int lport, rport;		     /* -1: null */
	unsigned long sends, recvs, send_bytes, recv_bytes, send_errors, recv_errors;
};

static struct conn conns[MAX_CONNS];
static int nconns;

/* One end as a JSON value and a port (-1: null), as socktap's contract writes it. */
static void end_of(const void *addr, socklen_t alen, char *a, int *port)
{
	const struct sockaddr *sa = addr;
	char txt[INET6_ADDRSTRLEN];

	snprintf(a, END_LEN, "null");
	*port = -1;
	if (!sa || alen < sizeof(sa_family_t))
		return;
	if (sa->sa_family == AF_INET && alen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = addr;
		if (s4->sin_addr.s_addr == 0 && s4->sin_port == 0)
			return;
		inet_ntop(AF_INET, &s4->sin_addr, txt, sizeof(txt));
		snprintf(a, END_LEN, "\"%s\"", txt);
		*port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6 && alen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = addr;
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) && s6->sin6_port == 0)
			return;
		inet_ntop(AF_INET6, &s6->sin6_addr, txt, sizeof(txt));
		snprintf(a, END_LEN, "\"%s\"", txt);
		*port = ntohs(s6->sin6_port);
	} else if (sa->sa_family == AF_UNIX && alen > offsetof(struct sockaddr_un, sun_path)) {
		const struct sockaddr_un *su = addr;
		size_t n = alen - offsetof(struct sockaddr_un, sun_path), o = 1;
		if (n > sizeof(su->sun_path))
			n = sizeof(su->sun_path);
		/* the scenario's paths need no escaping; abstract names are not used here */
		if (su->sun_path[0] == '\0')
			return;
		n = strnlen(su->sun_path, n);
		a[0] = '"';
		for (size_t i = 0; i < n && o + 2 < END_LEN; i++)
			a[o++] = su->sun_path[i];
		a[o++] = '"';
		a[o] = '\0';
	}
}

/*
 * Count one send/receive of fd (ret < 0: failed) in its connection's row.
 * msg: the message's address (destination or source), for unconnected INET
 * sockets. Called with lock held (from note()).
 */
static void note_conn(int fd, bool is_send, ssize_t ret, const void *msg, socklen_t mlen)
{
	struct sockaddr_storage loc, peer;
	socklen_t llen = sizeof(loc), plen = sizeof(peer);
	struct conn k;

	memset(&k, 0, sizeof(k));
	k.protocol = sockopt(fd, SO_PROTOCOL);
	k.family = sockopt(fd, SO_DOMAIN);
	if (getsockname(fd, (struct sockaddr *)&loc, &llen))
		die("getsockname");
	end_of(&loc, llen, k.laddr, &k.lport);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		end_of(&peer, plen, k.raddr, &k.rport);
	else if (k.family == AF_INET || k.family == AF_INET6)
		end_of(ret >= 0 ? msg : NULL, mlen, k.raddr, &k.rport);
	else
		end_of(NULL, 0, k.raddr, &k.rport);
	struct conn *c = NULL;
	for (int i = 0; i < nconns && !c; i++)
		if (conns[i].protocol == k.protocol && conns[i].family == k.family &&
		    conns[i].lport == k.lport && conns[i].rport == k.rport &&
		    !strcmp(conns[i].laddr, k.laddr) && !strcmp(conns[i].raddr, k.raddr))
			c = &conns[i];
	if (!c) {
		if (nconns == MAX_CONNS) {
			errno = ENOSPC;
			die("conns");
		}
		c = &conns[nconns++];
		*c = k;
	}
	if (ret < 0)
		*(is_send ? &c->send_errors : &c->recv_errors) += 1;
	else if (is_send) {
		c->sends++;
		c->send_bytes += (unsigned long)ret;
	} else {
		c->recvs++;
		c->recv_bytes += (unsigned long)ret;
	}
}

/* note() and note_conn() together: one call of the addrs children. */
static ssize_t note_a(int fd, bool is_send, ssize_t ret, const void *msg, socklen_t mlen)
{
	int e = errno;
	pthread_mutex_lock(&lock);
	note_conn(fd, is_send, ret, msg, mlen);
	pthread_mutex_unlock(&lock);
	errno = e;
	return note(fd, is_send, ret);
}

static void expect(ssize_t got, ssize_t want, const char *what)
{
	if (got == want)
		return;
	fprintf(stderr, "traffic[%d]: %s: got %zd (%s), want %zd\n", (int)getpid(), what, got,
		got < 0 ? strerror(errno) : "ok", want);
	__atomic_add_fetch(&unexpected, 1, __ATOMIC_RELAXED);
}

static void expect_err(ssize_t got, int err, const char *what)
{
	if (got < 0 && errno == err)
		return;
	fprintf(stderr, "traffic[%d]: %s: got %zd (%s), want %s\n", (int)getpid(), what, got,
		got < 0 ? strerror(errno) : "ok", strerror(err));
	__atomic_add_fetch(&unexpected, 1, __ATOMIC_RELAXED);
}

/* ---- the recorded calls ---- */

static ssize_t x_send(int fd, size_t n, int flags)
{
	return note(fd, true, send(fd, sbuf, n, flags));
}

static ssize_t x_recv(int fd, size_t n, int flags)
{
	return note(fd, false, recv(fd, rbuf, n, flags));
}

static ssize_t x_write(int fd, size_t n)
{
	return note(fd, true, write(fd, sbuf, n));
}

static ssize_t x_read(int fd, size_t n)
{
	return note(fd, false, read(fd, rbuf, n));
}

/* Read exactly n bytes from a stream with read(), recording every call. */
static void read_all(int fd, size_t n, const char *what)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = x_read(fd, n - got);
		if (r <= 0) {
			expect(r, (ssize_t)(n - got), what);
			return;
		}
		got += (size_t)r;
	}
}

static ssize_t x_sendmsg2(int fd, size_t a, size_t b)
{
	struct iovec iov[2] = {{sbuf, a}, {sbuf + a, b}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	return note(fd, true, sendmsg(fd, &m, 0));
}

static ssize_t x_recvmsg(int fd, size_t n)
{
	struct iovec iov = {rbuf, n};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	return note(fd, false, recvmsg(fd, &m, 0));
}

/* sendmmsg/recvmmsg: one operation per message the kernel handled. */
static void x_mmsg(int fd, bool is_send, const size_t *lens, unsigned int n, const char *what)
{
	struct mmsghdr mv[8];
	struct iovec iov[8];
	size_t off = 0;
	memset(mv, 0, sizeof(mv));
	for (unsigned int i = 0; i < n && i < 8; i++) {
		iov[i].iov_base = (is_send ? sbuf : rbuf) + off;
		iov[i].iov_len = is_send ? lens[i] : 4096;
		off += 4096;
		mv[i].msg_hdr.msg_iov = &iov[i];
		mv[i].msg_hdr.msg_iovlen = 1;
	}
	int ret = is_send ? sendmmsg(fd, mv, n, 0) : recvmmsg(fd, mv, n, 0, NULL);
	if (ret < 0) {
		note(fd, is_send, -1);
		expect(ret, n, what);
		return;
	}
	for (int i = 0; i < ret; i++) {
		note(fd, is_send, mv[i].msg_len);
		expect(mv[i].msg_len, (ssize_t)lens[i], what);
	}
	expect(ret, n, what);
}

/* ---- sockets ---- */

static void loopback(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		*len = sizeof(*s6);
	}
}

/* A socket bound to the loopback address, port 0; -1 if the family cannot. */
static int bound(int family, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, type, 0);
	if (fd < 0) {
		if (family == AF_INET6)
			return -1;
		die("socket");
	}
	loopback(family, &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		if (family == AF_INET6) {
			close(fd);
			return -1;
		}
		die("bind");
	}
	return fd;
}

static void connect_to(int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(peer, (struct sockaddr *)&ss, &len))
		die("getsockname");
	if (connect(fd, (struct sockaddr *)&ss, len))
		die("connect");
}

/* Two UDP sockets connected to each other; false if the family cannot. */
static bool udp_pair(int family, int *a, int *b)
{
	*a = bound(family, SOCK_DGRAM);
	if (*a < 0)
		return false;
	*b = bound(family, SOCK_DGRAM);
	if (*b < 0) {
		close(*a);
		return false;
	}
	connect_to(*a, *b);
	connect_to(*b, *a);
	return true;
}

static void udp_exchange(int from, int to, size_t n)
{
	expect(x_send(from, n, 0), (ssize_t)n, "udp send");
	expect(x_recv(to, sizeof(rbuf), 0), (ssize_t)n, "udp recv");
}

/* ---- the children ---- */

static cpu_set_t cpus; /* the CPUs the process may use, before pin() */

/* Run the calling thread on the lowest (or highest) CPU of cpus. */
static void pin(bool highest)
{
	cpu_set_t set;
	int cpu = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &cpus) && (cpu < 0 || highest))
			cpu = i;
	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *udp_thread(void *arg)
{
	(void)arg;
	int a, b;
	pin(false);
	prctl(PR_SET_NAME, UDP_THREAD_COMM);
	if (!udp_pair(AF_INET, &a, &b))
		die("udp pair");
	for (int i = 0; i < 5; i++)
		udp_exchange(a, b, 64);
	close(a);
	close(b);
	return NULL;
}

static void udp_round(int round)
{
	static const size_t sizes[] = {0, 1, 2, 3, 100, 1000, 1472, 4096, 8000, 65507};
	static const size_t mm[] = {10, 20, 30};
	int a, b;

	if (round == 0) {
		if (sched_getaffinity(0, sizeof(cpus), &cpus))
			die("sched_getaffinity");
		pin(true);
	}
	if (!udp_pair(AF_INET, &a, &b))
		die("udp pair");
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		udp_exchange(a, b, sizes[i]);
	udp_exchange(b, a, 17);
	udp_exchange(b, a, 300);
	expect(x_write(a, 33), 33, "udp write");
	expect(x_read(b, sizeof(rbuf)), 33, "udp read");
	expect(x_sendmsg2(a, 10, 20), 30, "udp sendmsg");
	expect(x_recvmsg(b, sizeof(rbuf)), 30, "udp recvmsg");
	x_mmsg(a, true, mm, 3, "udp sendmmsg");
	x_mmsg(b, false, mm, 3, "udp recvmmsg");
	expect_err(x_recv(b, sizeof(rbuf), MSG_DONTWAIT), EAGAIN, "udp recv on empty socket");

	/* no destination: EDESTADDRREQ */
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	if (c < 0)
		die("socket");
	for (int i = 0; i < 3; i++)
		expect_err(x_send(c, 5, 0), EDESTADDRREQ, "send on an unconnected UDP socket");
	close(c);
	close(a);
	close(b);

	if (udp_pair(AF_INET6, &a, &b)) {
		udp_exchange(a, b, 1);
		udp_exchange(a, b, 1000);
		udp_exchange(b, a, 9000);
		close(a);
		close(b);
	}

	if (round == 0) {
		pthread_t th;
		if (pthread_create(&th, NULL, udp_thread, NULL))
			die("pthread_create");
		pthread_join(th, NULL);
	}
}

static void tcp_round(int round)
{
	static const size_t sizes[] = {1, 7, 64, 512, 1500, 4000, 16384, 32768};
	(void)round;
	int l = bound(AF_INET, SOCK_STREAM);
	if (listen(l, 1))
		die("listen");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		die("socket");
	connect_to(c, l);
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* a blocking send moves everything; MSG_WAITALL makes the receive exact */
		expect(x_send(c, sizes[i], 0), (ssize_t)sizes[i], "tcp send");
		expect(x_recv(s, sizes[i], MSG_WAITALL), (ssize_t)sizes[i], "tcp recv");
	}
	expect(x_write(s, 100), 100, "tcp write");
	read_all(c, 100, "tcp read");
	expect(x_send(s, 2000, 0), 2000, "tcp send back");
	expect(x_recv(c, 2000, MSG_WAITALL), 2000, "tcp recv back");
	expect_err(x_recv(c, 100, MSG_DONTWAIT), EAGAIN, "tcp recv on empty socket");

	/* a TCP socket that never connected: EPIPE (no SIGPIPE with MSG_NOSIGNAL) */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	if (t < 0)
		die("socket");
	expect_err(x_send(t, 10, MSG_NOSIGNAL), EPIPE, "send on an unconnected TCP socket");
	close(t);

	/* end of stream: a successful receive of 0 bytes */
	if (shutdown(c, SHUT_WR))
		die("shutdown");
	expect(x_recv(s, 10, 0), 0, "tcp recv at EOF");
	close(s);
	close(c);
	close(l);
}

static void unix_round(int round)
{
	static const size_t stream[] = {1, 100, 1000, 10000, 50000};
	static const size_t dgram[] = {0, 5, 300, 2000};
	int sv[2];
	(void)round;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	for (size_t i = 0; i < ARRAY_SIZE(stream); i++) {
		expect(x_write(sv[0], stream[i]), (ssize_t)stream[i], "unix write");
		read_all(sv[1], stream[i], "unix read");
	}
	expect(x_send(sv[1], 200, 0), 200, "unix send");
	expect(x_recv(sv[0], 200, MSG_WAITALL), 200, "unix recv");
	/* the peer is gone: EPIPE */
	close(sv[1]);
	expect_err(x_send(sv[0], 10, MSG_NOSIGNAL), EPIPE, "unix send to a closed peer");
	close(sv[0]);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		die("socketpair");
	for (size_t i = 0; i < ARRAY_SIZE(dgram); i++) {
		expect(x_send(sv[0], dgram[i], 0), (ssize_t)dgram[i], "unix dgram send");
		expect(x_recv(sv[1], sizeof(rbuf), 0), (ssize_t)dgram[i], "unix dgram recv");
	}
	expect_err(x_recv(sv[1], sizeof(rbuf), MSG_DONTWAIT), EAGAIN,
		   "unix dgram recv on empty socket");
	close(sv[0]);
	close(sv[1]);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		die("socketpair");
	expect(x_send(sv[1], 40, 0), 40, "unix seqpacket send");
	expect(x_send(sv[1], 80, 0), 80, "unix seqpacket send");
	expect(x_recv(sv[0], sizeof(rbuf), 0), 40, "unix seqpacket recv");
	expect(x_recv(sv[0], sizeof(rbuf), 0), 80, "unix seqpacket recv");
	close(sv[0]);
	close(sv[1]);
}

static void short_round(int round)
{
	int a, b;
	(void)round;
	if (!udp_pair(AF_INET, &a, &b))
		die("udp pair");
	udp_exchange(a, b, 42);
	close(a);
	close(b);
}

static void err_round(int round)
{
	(void)round;
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	if (c < 0)
		die("socket");
	for (int i = 0; i < 4; i++)
		expect_err(x_send(c, 7, 0), EDESTADDRREQ, "send on an unconnected UDP socket");
	close(c);
}

/* ---- the addrs children ---- */

/* An AF_INET socket of type on ip, port of the kernel's choosing; *a: its address. */
static int bound_at(int type, const char *ip, struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		die("socket");
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
		die("inet_pton");
	if (bind(fd, (struct sockaddr *)a, sizeof(*a)))
		die("bind");
	if (getsockname(fd, (struct sockaddr *)a, &len))
		die("getsockname");
	return fd;
}

static ssize_t a_send(int fd, size_t n, int flags)
{
	return note_a(fd, true, send(fd, sbuf, n, flags), NULL, 0);
}

static ssize_t a_sendto(int fd, size_t n, const struct sockaddr_in *to)
{
	return note_a(fd, true, sendto(fd, sbuf, n, 0, (const struct sockaddr *)to, sizeof(*to)),
		      to, sizeof(*to));
}

static ssize_t a_recv(int fd, size_t n, int flags)
{
	return note_a(fd, false, recv(fd, rbuf, n, flags), NULL, 0);
}

static ssize_t a_recvfrom(int fd, size_t n, int flags)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	memset(&from, 0, sizeof(from));
	ssize_t r = recvfrom(fd, rbuf, n, flags, (struct sockaddr *)&from, &flen);
	return note_a(fd, false, r, &from, flen);
}

static void a_write(int fd, size_t n, const char *what)
{
	expect(note_a(fd, true, write(fd, sbuf, n), NULL, 0), (ssize_t)n, what);
}

/* Read exactly n bytes from a stream, recording every call. */
static void a_read_all(int fd, size_t n, const char *what)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = note_a(fd, false, read(fd, rbuf, n - got), NULL, 0);
		if (r <= 0) {
			expect(r, (ssize_t)(n - got), what);
			return;
		}
		got += (size_t)r;
	}
}

static void ta_tcp_round(int round)
{
	static const size_t sizes[] = {1, 100, 1000, 5000};
	struct sockaddr_in la, ca;
	(void)round;
	int l = bound_at(SOCK_STREAM, "127.0.0.3", &la);
	if (listen(l, 1))
		die("listen");
	int c = bound_at(SOCK_STREAM, "127.0.0.2", &ca);
	if (connect(c, (struct sockaddr *)&la, sizeof(la)))
		die("connect");
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		expect(a_send(c, sizes[i], 0), (ssize_t)sizes[i], "tcp send");
		expect(a_recv(s, sizes[i], MSG_WAITALL), (ssize_t)sizes[i], "tcp recv");
	}
	expect(a_send(s, 300, 0), 300, "tcp send back");
	expect(a_recv(c, 300, MSG_WAITALL), 300, "tcp recv back");
	a_write(s, 7, "tcp write");
	a_read_all(c, 7, "tcp read");
	expect_err(a_recv(c, 100, MSG_DONTWAIT), EAGAIN, "tcp recv on empty socket");
	close(c);
	close(s);
	close(l);
}

static void ta_udp_round(int round)
{
	struct sockaddr_in a1, a2, a3;
	(void)round;
	int u1 = bound_at(SOCK_DGRAM, "127.0.0.1", &a1);
	int u2 = bound_at(SOCK_DGRAM, "127.0.0.2", &a2);
	int u3 = bound_at(SOCK_DGRAM, "127.0.0.3", &a3);
	static const size_t to2[] = {10, 20, 30}, to3[] = {40, 50};

	for (size_t i = 0; i < ARRAY_SIZE(to2); i++)
		expect(a_sendto(u1, to2[i], &a2), (ssize_t)to2[i], "udp sendto");
	for (size_t i = 0; i < ARRAY_SIZE(to3); i++)
		expect(a_sendto(u1, to3[i], &a3), (ssize_t)to3[i], "udp sendto");
	for (size_t i = 0; i < ARRAY_SIZE(to2); i++)
		expect(a_recvfrom(u2, sizeof(rbuf), 0), (ssize_t)to2[i], "udp recvfrom");
	for (size_t i = 0; i < ARRAY_SIZE(to3); i++)
		expect(a_recvfrom(u3, sizeof(rbuf), 0), (ssize_t)to3[i], "udp recvfrom");
	expect(a_sendto(u2, 60, &a1), 60, "udp reply");
	expect(a_recvfrom(u1, sizeof(rbuf), 0), 60, "udp recvfrom reply");

	/* one sendmmsg, both destinations; one message per operation */
	struct iovec iov[2] = {{sbuf, 70}, {sbuf, 80}};
	struct mmsghdr mv[2];
	memset(mv, 0, sizeof(mv));
	mv[0].msg_hdr = (struct msghdr){
	    .msg_name = &a2, .msg_namelen = sizeof(a2), .msg_iov = &iov[0], .msg_iovlen = 1};
	mv[1].msg_hdr = (struct msghdr){
	    .msg_name = &a3, .msg_namelen = sizeof(a3), .msg_iov = &iov[1], .msg_iovlen = 1};
	int r = sendmmsg(u1, mv, 2, 0);
	expect(r, 2, "udp sendmmsg");
	for (int i = 0; i < r; i++)
		note_a(u1, true, mv[i].msg_len, mv[i].msg_hdr.msg_name, mv[i].msg_hdr.msg_namelen);
	for (int k = 0; k < 2; k++) {
		int fd = k ? u3 : u2;
		struct sockaddr_storage from;
		struct iovec riov = {rbuf, 4096};
		struct mmsghdr rv;
		memset(&rv, 0, sizeof(rv));
		rv.msg_hdr = (struct msghdr){.msg_name = &from,
					     .msg_namelen = sizeof(from),
					     .msg_iov = &riov,
					     .msg_iovlen = 1};
		int n = recvmmsg(fd, &rv, 1, 0, NULL);
		expect(n, 1, "udp recvmmsg");
		if (n == 1)
			note_a(fd, false, rv.msg_len, &from, rv.msg_hdr.msg_namelen);
		else
			note_a(fd, false, -1, NULL, 0);
	}

	/* failures: no remote end */
	expect_err(a_send(u1, 5, 0), EDESTADDRREQ, "send on an unconnected UDP socket");
	expect_err(a_recvfrom(u3, sizeof(rbuf), MSG_DONTWAIT), EAGAIN, "udp recv on empty socket");
	close(u1);
	close(u2);
	close(u3);
}

static void ta_unix_round(int round)
{
	char dir[] = "/tmp/socktap-top-XXXXXX";
	struct sockaddr_un sa, ca;
	int sv[2];
	(void)round;

	if (!mkdtemp(dir))
		die("mkdtemp");
	memset(&sa, 0, sizeof(sa));
	memset(&ca, 0, sizeof(ca));
	sa.sun_family = ca.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/srv.sock", dir);
	snprintf(ca.sun_path, sizeof(ca.sun_path), "%s/cli.sock", dir);
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || c < 0)
		die("socket");
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    bind(c, (struct sockaddr *)&ca, sizeof(ca)) ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		die("unix stream setup");
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	static const size_t sizes[] = {11, 222, 3333};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		a_write(c, sizes[i], "unix write");
		a_read_all(s, sizes[i], "unix read");
	}
	expect(a_send(s, 44, 0), 44, "unix send back");
	expect(a_recv(c, 44, MSG_WAITALL), 44, "unix recv back");
	close(c);
	close(s);
	close(l);
	if (unlink(sa.sun_path) || unlink(ca.sun_path) || rmdir(dir))
		die("remove the unix sockets' directory");

	/* an unnamed pair: both ends have the same (null) ends, so one row */
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		die("socketpair");
	expect(a_send(sv[0], 5, 0), 5, "unix dgram send");
	expect(a_recv(sv[1], sizeof(rbuf), 0), 5, "unix dgram recv");
	expect(a_send(sv[1], 6, 0), 6, "unix dgram send");
	expect(a_recv(sv[0], sizeof(rbuf), 0), 6, "unix dgram recv");
	close(sv[0]);
	close(sv[1]);
}

struct child {
	const char *comm, *role;
	const char *thread_comm; /* of its other thread, if any */
	void (*round)(int round);
	bool short_lived; /* one round, at once, even when slow */
	pid_t pid;
	int fd; /* read end of its report pipe */
	int status;
	char *report;
	const char *cgroup; /* cg:ROLE=DIR: moves itself there first */
};

static struct child children[] = {
    {"tt-udp", "udp", UDP_THREAD_COMM, udp_round, false, 0, -1, 0, NULL, NULL},
    {"tt-tcp", "tcp", NULL, tcp_round, false, 0, -1, 0, NULL, NULL},
    {"tt-unix", "unix", NULL, unix_round, false, 0, -1, 0, NULL, NULL},
    {"tt-short", "short", NULL, short_round, true, 0, -1, 0, NULL, NULL},
    {"tt-err", "err", NULL, err_round, false, 0, -1, 0, NULL, NULL},
};

static struct child addrs_children[] = {
    {"ta-tcp", "tcp", NULL, ta_tcp_round, false, 0, -1, 0, NULL, NULL},
    {"ta-udp", "udp", NULL, ta_udp_round, false, 0, -1, 0, NULL, NULL},
    {"ta-unix", "unix", NULL, ta_unix_round, false, 0, -1, 0, NULL, NULL},
};

static void put_sizes(FILE *f, const struct sizes *s)
{
	fputc('[', f);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%s%ld", i ? "," : "", s->v[i]);
	fputc(']', f);
}

static void report(FILE *f, const struct child *c)
{
	fprintf(f, "{\"pid\":%d,\"comm\":\"%s\",\"thread_comms\":[", (int)getpid(), c->comm);
	if (c->thread_comm)
		fprintf(f, "\"%s\"", c->thread_comm);
	fprintf(f, "],\"role\":\"%s\",\"unexpected\":%d,\"rows\":[", c->role, unexpected);
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		fprintf(f,
			"%s{\"family\":%d,\"type\":%d,\"protocol\":%d,\"sends\":%lu,\"recvs\":%lu,"
			"\"send_bytes\":%lu,\"recv_bytes\":%lu,\"send_errors\":%lu,"
			"\"recv_errors\":%lu,\"send_sizes\":",
			i ? "," : "", r->family, r->type, r->protocol, r->sends, r->recvs,
			r->send_bytes, r->recv_bytes, r->send_errors, r->recv_errors);
		put_sizes(f, &r->send_sizes);
		fputs(",\"recv_sizes\":", f);
		put_sizes(f, &r->recv_sizes);
		fputc('}', f);
	}
	fputs("],\"conns\":[", f);
	for (int i = 0; i < nconns; i++) {
		const struct conn *c = &conns[i];
		char lp[16] = "null", rp[16] = "null";
		if (c->lport >= 0)
			snprintf(lp, sizeof(lp), "%d", c->lport);
		if (c->rport >= 0)
			snprintf(rp, sizeof(rp), "%d", c->rport);
		fprintf(f,
			"%s{\"protocol\":%d,\"family\":%d,\"laddr\":%s,\"lport\":%s,\"raddr\":%s,"
			"\"rport\":%s,\"sends\":%lu,\"recvs\":%lu,\"send_bytes\":%lu,"
			"\"recv_bytes\":%lu,\"send_errors\":%lu,\"recv_errors\":%lu}",
			i ? "," : "", c->protocol, c->family, c->laddr, lp, c->raddr, rp, c->sends,
			c->recvs, c->send_bytes, c->recv_bytes, c->send_errors, c->recv_errors);
	}
	fputs("],\"cgroup\":", f);
	if (c->cgroup)
		fprintf(f, "\"%s\"", c->cgroup);
	else
		fputs("null", f);
	fputc('}', f);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* rounds < 0: back to back until -rounds ms have passed */
static void run_child(struct child *c, int out, int rounds, long pause_ms)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (prctl(PR_SET_NAME, c->comm))
		die("prctl");
	memset(sbuf, 'x', sizeof(sbuf));
	if (c->cgroup) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/cgroup.procs", c->cgroup);
		FILE *cg = fopen(path, "w");
		if (!cg || fprintf(cg, "%d\n", (int)getpid()) < 0 || fclose(cg))
			die(path);
	}
	if (c->short_lived)
		rounds = 1;
	if (rounds < 0) {
		unsigned long long end = now_ns() + (unsigned long long)-rounds * 1000000ULL;
		for (int i = 0; i == 0 || now_ns() < end; i++)
			c->round(i);
	}
	for (int i = 0; i < rounds; i++) {
		if (i)
			sleep_ms(pause_ms);
		c->round(i);
	}
	FILE *f = fdopen(out, "w");
	if (!f)
		die("fdopen");
	report(f, c);
	if (fclose(f))
		die("report");
	_exit(unexpected ? 3 : 0);
}

static char *slurp(int fd)
{
	size_t n = 0, cap = 4096;
	char *p = malloc(cap);
	if (!p)
		die("malloc");
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			p = realloc(p, cap);
			if (!p)
				die("realloc");
		}
		ssize_t r = read(fd, p + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read report");
		if (r == 0)
			break;
		n += (size_t)r;
	}
	p[n] = '\0';
	return p;
}

/* ---- network namespace and lo's counters ---- */

static const char *const stat_names[] = {"tx_packets", "tx_bytes", "rx_packets", "rx_bytes"};

static void lo_stats(unsigned long long *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(stat_names); i++) {
		char path[128];
		snprintf(path, sizeof(path), "/sys/class/net/lo/statistics/%s", stat_names[i]);
		FILE *f = fopen(path, "r");
		if (!f || fscanf(f, "%llu", &v[i]) != 1)
			die(path);
		fclose(f);
	}
}

static void put_stats(FILE *f, const char *name, const unsigned long long *v)
{
	fprintf(f, ",\"%s\":{", name);
	for (size_t i = 0; i < ARRAY_SIZE(stat_names); i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", stat_names[i], v[i]);
	fputc('}', f);
}

/* many=N: N short processes, one failing send each; returns how many failed as expected. */
static long many(long n, bool names)
{
	long done = 0;
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			char comm[16];
			snprintf(comm, sizeof(comm), "tt-m%05ld", i % 100000);
			prctl(PR_SET_NAME, names ? comm : "tt-many");
			int c = socket(AF_INET, SOCK_DGRAM, 0);
			if (c < 0)
				_exit(2);
			ssize_t r = send(c, sbuf, 1, 0);
			_exit(r < 0 && errno == EDESTADDRREQ ? 0 : 3);
		}
		int status;
		if (waitpid(pid, &status, 0) < 0)
			die("waitpid");
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			done++;
	}
	return done;
}

static unsigned long long netns_setup(int *ifindex)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		die("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("make mounts private");
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		die("mount sysfs");
	/* the only socket the parent makes: for the ioctls, no send or receive */
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		die("SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		die("SIOCSIFFLAGS");
	close(s);
	*ifindex = (int)if_nametoindex("lo");
	struct stat st;
	if (stat("/proc/self/ns/net", &st))
		die("stat /proc/self/ns/net");
	return (unsigned long long)st.st_ino;
}

int main(int argc, char **argv)
{
	unsigned long long t_start = now_ns();
	bool netns = false, slow = false, busy = false, addrs = false, names = false;
	double dur = 2.0;
	long many_n = -1, many_done = 0;
	const char *out_path = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "netns") == 0)
			netns = true;
		else if (strcmp(argv[i], "slow") == 0)
			slow = true;
		else if (strcmp(argv[i], "busy") == 0)
			busy = true;
		else if (strncmp(argv[i], "dur=", 4) == 0)
			dur = atof(argv[i] + 4);
		else if (strncmp(argv[i], "many=", 5) == 0)
			many_n = atol(argv[i] + 5);
		else if (strncmp(argv[i], "out=", 4) == 0)
			out_path = argv[i] + 4;
		else if (strcmp(argv[i], "names") == 0)
			names = true;
		else if (strcmp(argv[i], "addrs") == 0)
			addrs = true;
		else if (strncmp(argv[i], "cg:", 3) == 0 && strchr(argv[i], '=')) {
			const char *role = argv[i] + 3, *dir = strchr(argv[i], '=') + 1;
			size_t rl = (size_t)(dir - 1 - role);
			bool found = false;
			for (size_t k = 0; k < ARRAY_SIZE(addrs_children); k++)
				if (strlen(addrs_children[k].role) == rl &&
				    !strncmp(addrs_children[k].role, role, rl)) {
					addrs_children[k].cgroup = dir;
					found = true;
				}
			if (!found) {
				fprintf(stderr, "traffic: no child with role %.*s\n", (int)rl,
					role);
				return 2;
			}
		} else {
			fputs("usage: traffic [netns] [slow|busy] [dur=SECONDS] [many=N [names]] "
			      "[addrs [cg:ROLE=DIR]...] [out=FILE]\n",
			      stderr);
			return 2;
		}
	}
	int rounds = busy ? -(int)(dur * 1000) : slow ? 10 : 1;
	long pause_ms = slow ? (long)(dur * 1000 / (rounds - 1)) : 0;

	unsigned long long ino = 0, before[4] = {0}, after[4] = {0};
	int ifindex = 0;
	if (netns) {
		ino = netns_setup(&ifindex);
		lo_stats(before);
	}

	struct child *kids = addrs ? addrs_children : children;
	size_t nchildren = many_n >= 0 ? 0
			   : addrs     ? ARRAY_SIZE(addrs_children)
				       : ARRAY_SIZE(children);
	if (many_n >= 0)
		many_done = many(many_n, names);
	for (size_t i = 0; i < nchildren; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC))
			die("pipe");
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(p[0]);
			run_child(&kids[i], p[1], rounds, pause_ms);
		}
		close(p[1]);
		kids[i].pid = pid;
		kids[i].fd = p[0];
	}
	bool ok = many_done == many_n || many_n < 0;
	for (size_t i = 0; i < nchildren; i++) {
		struct child *c = &kids[i];
		c->report = slurp(c->fd);
		close(c->fd);
		if (waitpid(c->pid, &c->status, 0) < 0)
			die("waitpid");
		if (c->status != 0 || !c->report[0])
			ok = false;
	}
	unsigned long long t_end = now_ns();
	if (netns) {
		/* let any packet the closing connections still owe leave first */
		sleep_ms(200);
		lo_stats(after);
	}

	FILE *f = stdout;
	if (out_path && !(f = fopen(out_path, "w")))
		die(out_path);
	fputs("{\"mode\":[", f);
	const char *sep = "";
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "dur=", 4) && strncmp(argv[i], "out=", 4) &&
		    strncmp(argv[i], "cg:", 3)) {
			fprintf(f, "%s\"%.*s\"", sep, (int)strcspn(argv[i], "="), argv[i]);
			sep = ",";
		}
	}
	fprintf(f,
		"],\"dur\":%g,\"pid\":%d,\"comm\":\"traffic\",\"ok\":%s,\"t_start\":%llu,"
		"\"t_end\":%llu",
		slow || busy ? dur : 0.0, (int)getpid(), ok ? "true" : "false", t_start, t_end);
	if (netns) {
		unsigned long long delta[4];
		for (int i = 0; i < 4; i++)
			delta[i] = after[i] - before[i];
		fprintf(f, ",\"netns\":{\"inode\":%llu,\"ifindex\":%d", ino, ifindex);
		put_stats(f, "before", before);
		put_stats(f, "after", after);
		put_stats(f, "delta", delta);
		fputc('}', f);
	} else {
		fputs(",\"netns\":null", f);
	}
	if (many_n >= 0)
		fprintf(f, ",\"many\":{\"n\":%ld,\"failed_sends\":%ld}", many_n, many_done);
	fputs(",\"processes\":[", f);
	for (size_t i = 0; i < nchildren; i++) {
		const struct child *c = &kids[i];
		const char *rep = c->report[0] ? c->report : "null";
		fprintf(f, "%s{\"status\":%d,\"report\":%s}", i ? "," : "",
			WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status),
			rep);
	}
	fputs("]}\n", f);
	if (fclose(f))
		die("write");
	return ok ? 0 : 1;
}
