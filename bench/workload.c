// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Benchmark workloads: a fixed amount of work, timed from inside, so a
 * tracer's start-up and shutdown are not in the figure.
 *
 *   workload MODE ITERATIONS
 *
 * prints one line:
 *   "MODE ITERATIONS ELAPSED_NS KERNEL_SOCKET_OPS CPU_NS CHUNKED_CPU_NS"
 * (KERNEL_SOCKET_OPS: sends + receives that reach the protocol, i.e. the
 * socket.send/socket.receive events a tracer sees; CPU_NS: the process's CPU
 * time over the timed loop, all its threads; CHUNKED_CPU_NS: the loop is run
 * in CHUNKS equal parts, and this is the median part's CPU time times
 * CHUNKS.) CPU time leaves out what a busy host steals from this guest and
 * the time other tasks run here; the median part leaves out the chunks an
 * interrupt storm or a page-cache flush hit. Both are what bench/run.py
 * needs for an A/A spread of a few percent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long iters;

#define CHUNKS 16

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The timed loop: wall and CPU time in total, and each chunk's CPU time. */
struct timing {
	uint64_t wall, cpu, chunk[CHUNKS];
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* iters calls of op(arg, i), in CHUNKS timed parts */
static void timed(void (*op)(void *, long), void *arg, struct timing *t)
{
	long i = 0;
	uint64_t w0 = now_ns(), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), c = c0;
	for (int k = 0; k < CHUNKS; k++) {
		long end = iters * (k + 1) / CHUNKS;
		for (; i < end; i++)
			op(arg, i);
		uint64_t c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		t->chunk[k] = c1 - c;
		c = c1;
	}
	t->wall = now_ns() - w0;
	t->cpu = c - c0;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* ---- ping-pong between two threads over a connected pair ---- */
struct pp {
	int fd;
	size_t len;
};

static void *pong(void *arg)
{
	struct pp *p = arg;
	char buf[65536];
	for (long i = 0; i < iters; i++) {
		size_t got = 0;
		while (got < p->len) {
			ssize_t n = recv(p->fd, buf + got, p->len - got, 0);
			if (n <= 0)
				die("pong recv");
			got += (size_t)n;
		}
		if (send(p->fd, buf, p->len, 0) != (ssize_t)p->len)
			die("pong send");
	}
	return NULL;
}

static void ping_once(void *arg, long i)
{
	(void)i;
	struct pp *p = arg;
	static char buf[65536]; /* the ping thread's only */
	if (send(p->fd, buf, p->len, 0) != (ssize_t)p->len)
		die("ping send");
	size_t got = 0;
	while (got < p->len) {
		ssize_t n = recv(p->fd, buf + got, p->len - got, 0);
		if (n <= 0)
			die("ping recv");
		got += (size_t)n;
	}
}

static void ping_pong(int a, int b, size_t len, struct timing *t)
{
	struct pp p = {b, len}, q = {a, len};
	pthread_t th;
	pthread_create(&th, NULL, pong, &p);
	timed(ping_once, &q, t);
	pthread_join(th, NULL);
}

static void udp_pair(int *a, int *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in sb = sa;
	socklen_t l = sizeof(sa);
	*a = socket(AF_INET, SOCK_DGRAM, 0);
	*b = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(*a, (void *)&sa, sizeof(sa)) || bind(*b, (void *)&sb, sizeof(sb)) ||
	    getsockname(*a, (void *)&sa, &l) || getsockname(*b, (void *)&sb, &l) ||
	    connect(*a, (void *)&sb, sizeof(sb)) || connect(*b, (void *)&sa, sizeof(sa)))
		die("udp pair");
}

static void tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(sa);
	int one = 1;
	int lst = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(lst, (void *)&sa, sizeof(sa)) || listen(lst, 1) ||
	    getsockname(lst, (void *)&sa, &l))
		die("tcp listen");
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*a, (void *)&sa, sizeof(sa)))
		die("tcp connect");
	*b = accept(lst, NULL, NULL);
	close(lst);
	/* without it, Nagle and delayed ACKs dominate a request/response loop */
	setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[1 << 16];
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	return NULL;
}

static void stream_send(void *arg, long i)
{
	static char buf[65536];
	(void)i;
	if (send(*(int *)arg, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		die("stream send");
}

static void fail_send(void *arg, long i)
{
	(void)i;
	if (send(*(int *)arg, "x", 1, 0) != -1 || errno != EDESTADDRREQ)
		die("failsend");
}

static void get_pid(void *arg, long i)
{
	(void)arg, (void)i;
	syscall(SYS_getpid);
}

static void devnull_write(void *arg, long i)
{
	(void)i;
	if (write(*(int *)arg, "x", 1) != 1)
		die("devnull");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr,
			"usage: workload udp|unix|tcp_rr|tcp_stream|failsend|getpid|devnull "
			"ITERATIONS\n");
		return 2;
	}
	const char *mode = argv[1];
	iters = atol(argv[2]);
	uint64_t ops = 0;
	struct timing t = {0};
	int a, b;

	if (strcmp(mode, "stamp") == 0) {
		/* start-up: when a tracer's -c command starts, its probes are armed */
		printf("stamp 0 %llu 0\n", (unsigned long long)now_ns());
		return 0;
	} else if (strcmp(mode, "udp") == 0) {
		udp_pair(&a, &b);
		ping_pong(a, b, 64, &t);
		ops = 4 * (uint64_t)iters;
	} else if (strcmp(mode, "unix") == 0) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			die("socketpair");
		ping_pong(sv[0], sv[1], 64, &t);
		ops = 4 * (uint64_t)iters;
	} else if (strcmp(mode, "tcp_rr") == 0) {
		tcp_pair(&a, &b);
		ping_pong(a, b, 64, &t);
		ops = 4 * (uint64_t)iters; /* at least: a 64-byte recv may rarely split */
	} else if (strcmp(mode, "tcp_stream") == 0) {
		pthread_t th;
		tcp_pair(&a, &b);
		pthread_create(&th, NULL, drain, &b);
		timed(stream_send, &a, &t);
		shutdown(a, SHUT_WR);
		pthread_join(th, NULL);
		ops = (uint64_t)iters; /* sends; receives vary with segmentation */
	} else if (strcmp(mode, "failsend") == 0) {
		/* the cheapest socket operation: fails in the protocol (EDESTADDRREQ) */
		a = socket(AF_INET, SOCK_DGRAM, 0);
		timed(fail_send, &a, &t);
		ops = (uint64_t)iters;
	} else if (strcmp(mode, "getpid") == 0) {
		timed(get_pid, NULL, &t);
	} else if (strcmp(mode, "devnull") == 0) {
		a = open("/dev/null", O_WRONLY);
		timed(devnull_write, &a, &t);
	} else {
		fprintf(stderr, "workload: unknown mode '%s'\n", mode);
		return 2;
	}
	qsort(t.chunk, CHUNKS, sizeof(t.chunk[0]), cmp_u64);
	uint64_t median = (t.chunk[CHUNKS / 2 - 1] + t.chunk[CHUNKS / 2]) / 2;
	printf("%s %ld %llu %llu %llu %llu\n", mode, iters, (unsigned long long)t.wall,
	       (unsigned long long)ops, (unsigned long long)t.cpu,
	       (unsigned long long)(median * CHUNKS));
	return 0;
}
