// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Traffic generator for tests/top/run.py (socktap top), with its own
 * ground truth.
 *
 *   traffic [netns] [slow|busy] [dur=SECONDS] [many=N] [out=FILE]
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
 * overflow top's tables; the document then has "many": {"n": N,
 * "failed_sends": how many did fail so} and no processes.
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
#include <sys/wait.h>
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

struct child {
	const char *comm, *role;
	const char *thread_comm; /* of its other thread, if any */
	void (*round)(int round);
	bool short_lived; /* one round, at once, even when slow */
	pid_t pid;
	int fd; /* read end of its report pipe */
	int status;
	char *report;
};

static struct child children[] = {
    {"tt-udp", "udp", UDP_THREAD_COMM, udp_round, false, 0, -1, 0, NULL},
    {"tt-tcp", "tcp", NULL, tcp_round, false, 0, -1, 0, NULL},
    {"tt-unix", "unix", NULL, unix_round, false, 0, -1, 0, NULL},
    {"tt-short", "short", NULL, short_round, true, 0, -1, 0, NULL},
    {"tt-err", "err", NULL, err_round, false, 0, -1, 0, NULL},
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
	fputs("]}", f);
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
static long many(long n)
{
	long done = 0;
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			prctl(PR_SET_NAME, "tt-many");
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
	bool netns = false, slow = false, busy = false;
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
		else {
			fputs("usage: traffic [netns] [slow|busy] [dur=SECONDS] [many=N] "
			      "[out=FILE]\n",
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

	size_t nchildren = many_n >= 0 ? 0 : ARRAY_SIZE(children);
	if (many_n >= 0)
		many_done = many(many_n);
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
			run_child(&children[i], p[1], rounds, pause_ms);
		}
		close(p[1]);
		children[i].pid = pid;
		children[i].fd = p[0];
	}
	bool ok = many_done == many_n || many_n < 0;
	for (size_t i = 0; i < nchildren; i++) {
		struct child *c = &children[i];
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
		if (strncmp(argv[i], "dur=", 4) && strncmp(argv[i], "out=", 4)) {
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
		const struct child *c = &children[i];
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
