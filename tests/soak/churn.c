// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Process and socket churn for tests/soak/run.py, with its own ground truth.
 *
 *   churn dur=SECONDS [rate=PROCS_PER_SEC] [par=N] [comm=NAME] [out=FILE]
 *
 * For dur seconds, forks short-lived children at up to rate per second (at
 * most par alive at once). Each child names itself comm (default
 * "soak-churn"), then makes one round: a connected UDP pair over 127.0.0.1
 * (and ::1 when IPv6 works) with a few datagrams each way and one failing
 * receive (EAGAIN), a TCP connection over 127.0.0.1 (listener, connect,
 * accept; data both ways, read until the known total), unix stream and
 * datagram socketpairs; closes everything and exits. The sizes vary per
 * child (a seed from its index) so the byte totals are not a multiple of one
 * round.
 *
 * Every send/receive call's result is recorded per (family, type, protocol)
 * as the socket reports them (SO_DOMAIN, SO_TYPE, SO_PROTOCOL): a success
 * counts as one operation of ret bytes, a failure as an error. The child
 * sends its counts to the parent as one fixed-size record on a shared pipe
 * (smaller than PIPE_BUF: written atomically); the parent sums them and
 * prints one JSON document at the end (stdout, or FILE with out=):
 *
 *   {"ok": bool, "forked": N, "reported": N, "failed": N (exit status not 0),
 *    "sockets": N (socket() and socketpair() ends, accept()ed ones included),
 *    "t_start": ns, "t_end": ns (CLOCK_REALTIME), "rows": [{"family", "type",
 *    "protocol", "sends", "recvs", "send_bytes", "recv_bytes",
 *    "send_errors", "recv_errors"}], "pids": [the distinct pids forked, ascending]}
 *
 * SIGTERM or SIGINT ends the forking early (the document is still written,
 * after the children alive have exited). The parent makes no socket call;
 * stdout must not be a socket.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROWS 8
#define BUF_SIZE 65536

struct row {
	int family, type, protocol;
	unsigned long long sends, recvs, send_bytes, recv_bytes, send_errors, recv_errors;
};

/* one child's report: well under PIPE_BUF (4096), so one write() is atomic */
struct report {
	unsigned int magic, nrows, sockets, unexpected;
	struct row rows[MAX_ROWS];
};
#define MAGIC 0x50a4c0deu
_Static_assert(sizeof(struct report) < 4096, "a report must fit PIPE_BUF");

static struct report rep;
static char sbuf[BUF_SIZE], rbuf[BUF_SIZE];
static unsigned int seed;
static volatile sig_atomic_t stop;

static void die(const char *what)
{
	fprintf(stderr, "churn[%d]: %s: %s\n", (int)getpid(), what, strerror(errno));
	_exit(2);
}

static int sockopt(int fd, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len))
		die("getsockopt");
	return v;
}

static struct row *row_of(int fd)
{
	int family = sockopt(fd, SO_DOMAIN), type = sockopt(fd, SO_TYPE);
	int protocol = sockopt(fd, SO_PROTOCOL);
	for (unsigned int i = 0; i < rep.nrows; i++)
		if (rep.rows[i].family == family && rep.rows[i].type == type &&
		    rep.rows[i].protocol == protocol)
			return &rep.rows[i];
	if (rep.nrows == MAX_ROWS) {
		errno = ENOSPC;
		die("rows");
	}
	struct row *r = &rep.rows[rep.nrows++];
	r->family = family;
	r->type = type;
	r->protocol = protocol;
	return r;
}

/* Record one send (or receive) of ret bytes on fd; ret < 0: a failure. */
static ssize_t note(int fd, bool is_send, ssize_t ret)
{
	int e = errno;
	struct row *r = row_of(fd);
	if (ret < 0)
		(*(is_send ? &r->send_errors : &r->recv_errors))++;
	else if (is_send) {
		r->sends++;
		r->send_bytes += (unsigned long long)ret;
	} else {
		r->recvs++;
		r->recv_bytes += (unsigned long long)ret;
	}
	errno = e;
	return ret;
}

static void expect(ssize_t got, ssize_t want, const char *what)
{
	if (got == want)
		return;
	fprintf(stderr, "churn[%d]: %s: got %zd (%s), want %zd\n", (int)getpid(), what, got,
		got < 0 ? strerror(errno) : "ok", want);
	rep.unexpected++;
}

static size_t pick(size_t lo, size_t hi)
{
	return lo + (size_t)rand_r(&seed) % (hi - lo + 1);
}

static int sock(int family, int type)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		rep.sockets++;
	return fd;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Receive exactly n bytes from a stream, recording every call. */
static void recv_all(int fd, size_t n, const char *what)
{
	size_t got = 0;
	for (int calls = 0; got < n && calls < 100000; calls++) {
		ssize_t r =
		    note(fd, false, recv(fd, rbuf, n - got > BUF_SIZE ? BUF_SIZE : n - got, 0));
		if (r <= 0) {
			expect(r, (ssize_t)(n - got), what);
			return;
		}
		got += (size_t)r;
	}
}

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

/* fd bound to the family's loopback address, port 0; its address in ss. -1: no such family. */
static int bound(int family, int type, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = sock(family, type);
	if (fd < 0)
		return -1;
	loopback(family, ss, len);
	if (bind(fd, (struct sockaddr *)ss, *len) || getsockname(fd, (struct sockaddr *)ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void udp(int family)
{
	struct sockaddr_storage a, b;
	socklen_t la, lb;
	int fds[2] = {bound(family, SOCK_DGRAM, &a, &la), bound(family, SOCK_DGRAM, &b, &lb)};
	if (fds[0] < 0 || fds[1] < 0) {
		if (family == AF_INET6) { /* no IPv6 here: the same every round */
			close_all(fds, 2);
			return;
		}
		die("udp socket");
	}
	if (connect(fds[0], (struct sockaddr *)&b, lb) ||
	    connect(fds[1], (struct sockaddr *)&a, la))
		die("udp connect");
	int n = (int)pick(1, 4);
	for (int i = 0; i < n; i++) {
		size_t s = pick(1, 1400), t = pick(0, 1400);
		expect(note(fds[0], true, send(fds[0], sbuf, s, 0)), (ssize_t)s, "udp send");
		expect(note(fds[1], false, recv(fds[1], rbuf, BUF_SIZE, 0)), (ssize_t)s,
		       "udp recv");
		expect(note(fds[1], true, send(fds[1], sbuf, t, 0)), (ssize_t)t, "udp send back");
		expect(note(fds[0], false, recv(fds[0], rbuf, BUF_SIZE, 0)), (ssize_t)t,
		       "udp recv back");
	}
	/* one failure per round: nothing is queued */
	ssize_t r = note(fds[0], false, recv(fds[0], rbuf, BUF_SIZE, MSG_DONTWAIT));
	if (!(r < 0 && errno == EAGAIN))
		expect(r, -1, "udp recv on an empty socket (EAGAIN)");
	close_all(fds, 2);
}

/* Close without TIME_WAIT: hundreds of connections a second would fill the port range. */
static void close_rst(int fd)
{
	struct linger l = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void tcp(void)
{
	struct sockaddr_storage a;
	socklen_t la;
	int l = bound(AF_INET, SOCK_STREAM, &a, &la);
	if (l < 0 || listen(l, 1))
		die("tcp listen");
	int c = sock(AF_INET, SOCK_STREAM);
	if (c < 0 || connect(c, (struct sockaddr *)&a, la))
		die("tcp connect");
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		die("accept");
	rep.sockets++;
	/* sizes below the loopback socket buffers: each send completes without a reader */
	size_t up = 0, down = pick(1, 30000);
	int n = (int)pick(1, 3);
	for (int i = 0; i < n; i++) {
		size_t k = pick(1, 15000);
		expect(note(c, true, send(c, sbuf, k, 0)), (ssize_t)k, "tcp send");
		up += k;
	}
	recv_all(s, up, "tcp recv");
	expect(note(s, true, send(s, sbuf, down, 0)), (ssize_t)down, "tcp send back");
	recv_all(c, down, "tcp recv back");
	close(l);
	close_rst(c);
	close_rst(s);
}

static void unix_pairs(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair stream");
	rep.sockets += 2;
	size_t k = pick(1, 50000);
	expect(note(sv[0], true, write(sv[0], sbuf, k)), (ssize_t)k, "unix stream write");
	recv_all(sv[1], k, "unix stream recv");
	close_all(sv, 2);

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair dgram");
	rep.sockets += 2;
	int n = (int)pick(1, 3);
	for (int i = 0; i < n; i++) {
		size_t s = pick(0, 2000);
		expect(note(sv[1], true, send(sv[1], sbuf, s, 0)), (ssize_t)s, "unix dgram send");
		expect(note(sv[0], false, read(sv[0], rbuf, BUF_SIZE)), (ssize_t)s,
		       "unix dgram read");
	}
	close_all(sv, 2);
}

static void child(unsigned long index, const char *comm, int out)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the name first: every socket call below is under it */
	if (prctl(PR_SET_NAME, comm))
		die("prctl");
	seed = (unsigned int)(index * 2654435761u + 1);
	memset(sbuf, 'x', sizeof(sbuf));
	rep.magic = MAGIC;
	udp(AF_INET);
	udp(AF_INET6);
	tcp();
	unix_pairs();
	if (write(out, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		die("report");
	_exit(rep.unexpected ? 3 : 0);
}

static unsigned long long now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

/* the distinct pids forked (pids wrap at pid_max: 120,000 processes reuse some) */
#define PID_BITS (1u << 22) /* PID_MAX_LIMIT on 64-bit */
static unsigned char pid_seen[PID_BITS / 8];

static struct row totals[MAX_ROWS];
static unsigned int ntotals;
static unsigned long long reported, bad_reports, sockets;

static void add(const struct report *r)
{
	if (r->magic != MAGIC || r->nrows > MAX_ROWS) {
		bad_reports++;
		return;
	}
	reported++;
	sockets += r->sockets;
	for (unsigned int i = 0; i < r->nrows; i++) {
		const struct row *x = &r->rows[i];
		struct row *t = NULL;
		for (unsigned int j = 0; j < ntotals && !t; j++)
			if (totals[j].family == x->family && totals[j].type == x->type &&
			    totals[j].protocol == x->protocol)
				t = &totals[j];
		if (!t) {
			if (ntotals == MAX_ROWS) {
				bad_reports++;
				continue;
			}
			t = &totals[ntotals++];
			t->family = x->family;
			t->type = x->type;
			t->protocol = x->protocol;
		}
		t->sends += x->sends;
		t->recvs += x->recvs;
		t->send_bytes += x->send_bytes;
		t->recv_bytes += x->recv_bytes;
		t->send_errors += x->send_errors;
		t->recv_errors += x->recv_errors;
	}
}

/* Read every whole report the pipe holds (non-blocking). */
static void drain(int fd)
{
	struct report r;
	for (;;) {
		ssize_t n = read(fd, &r, sizeof(r));
		if (n == (ssize_t)sizeof(r))
			add(&r);
		else if (n > 0)
			bad_reports++; /* cannot happen: reports are written whole */
		else if (n < 0 && errno == EINTR)
			continue;
		else
			return;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	double dur = 10, rate = 200;
	long par = 8;
	const char *comm = "soak-churn", *out_path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "dur=", 4))
			dur = atof(argv[i] + 4);
		else if (!strncmp(argv[i], "rate=", 5))
			rate = atof(argv[i] + 5);
		else if (!strncmp(argv[i], "par=", 4))
			par = atol(argv[i] + 4);
		else if (!strncmp(argv[i], "comm=", 5))
			comm = argv[i] + 5;
		else if (!strncmp(argv[i], "out=", 4))
			out_path = argv[i] + 4;
		else {
			fputs("usage: churn dur=SECONDS [rate=PROCS_PER_SEC] [par=N] [comm=NAME] "
			      "[out=FILE]\n",
			      stderr);
			return 2;
		}
	}
	if (dur <= 0 || rate <= 0 || par < 1 || par > 64) {
		fputs("churn: dur and rate must be > 0, par 1..64\n", stderr);
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe");
	if (fcntl(p[0], F_SETFL, O_NONBLOCK))
		die("fcntl");
	/* room for far more than par reports: a child never blocks on its report */
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);

	unsigned long long t_start = now_ns(CLOCK_REALTIME), t0 = now_ns(CLOCK_MONOTONIC);
	unsigned long long end = t0 + (unsigned long long)(dur * 1e9);
	unsigned long long forked = 0, failed = 0;
	long alive = 0;
	while (!stop) {
		unsigned long long t = now_ns(CLOCK_MONOTONIC);
		if (t >= end)
			break;
		/* pacing: child number k is due at t0 + k / rate */
		unsigned long long due = t0 + (unsigned long long)((double)forked / rate * 1e9);
		if (alive < par && t >= due) {
			pid_t pid = fork();
			if (pid < 0)
				die("fork");
			if (pid == 0) {
				close(p[0]);
				child(forked, comm, p[1]);
			}
			forked++;
			alive++;
			if ((unsigned int)pid < PID_BITS)
				pid_seen[(unsigned int)pid / 8] |= (unsigned char)(1u << (pid % 8));
			continue;
		}
		int status;
		pid_t w = alive >= par ? waitpid(-1, &status, 0) : waitpid(-1, &status, WNOHANG);
		if (w > 0) {
			alive--;
			if (status != 0)
				failed++;
		} else if (alive < par) {
			/* ahead of schedule: sleep until the next is due (at most 10 ms) */
			unsigned long long d = due > t ? due - t : 0;
			struct timespec ts = {0, (long)(d > 10000000ULL ? 10000000ULL : d)};
			nanosleep(&ts, NULL);
		}
		drain(p[0]);
	}
	close(p[1]);
	while (alive > 0) {
		int status;
		pid_t w = waitpid(-1, &status, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("waitpid");
		alive--;
		if (status != 0)
			failed++;
	}
	drain(p[0]);
	unsigned long long t_end = now_ns(CLOCK_REALTIME);

	bool ok = failed == 0 && bad_reports == 0 && reported == forked;
	FILE *f = stdout;
	if (out_path && !(f = fopen(out_path, "w")))
		die(out_path);
	fprintf(f,
		"{\"ok\":%s,\"forked\":%llu,\"reported\":%llu,\"failed\":%llu,\"bad_reports\":%llu,"
		"\"sockets\":%llu,\"t_start\":%llu,\"t_end\":%llu,\"rows\":[",
		ok ? "true" : "false", forked, reported, failed, bad_reports, sockets, t_start,
		t_end);
	for (unsigned int i = 0; i < ntotals; i++) {
		const struct row *r = &totals[i];
		fprintf(
		    f,
		    "%s{\"family\":%d,\"type\":%d,\"protocol\":%d,\"sends\":%llu,\"recvs\":%llu,"
		    "\"send_bytes\":%llu,\"recv_bytes\":%llu,\"send_errors\":%llu,"
		    "\"recv_errors\":%llu}",
		    i ? "," : "", r->family, r->type, r->protocol, r->sends, r->recvs,
		    r->send_bytes, r->recv_bytes, r->send_errors, r->recv_errors);
	}
	fputs("],\"pids\":[", f);
	const char *sep = "";
	for (unsigned int pid = 0; pid < PID_BITS; pid++)
		if (pid_seen[pid / 8] & (1u << (pid % 8))) {
			fprintf(f, "%s%u", sep, pid);
			sep = ",";
		}
	fputs("]}\n", f);
	if (fclose(f))
		die("write");
	return ok ? 0 : 1;
}
