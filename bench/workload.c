// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Benchmark workloads: a fixed amount of work, timed from inside, so a
 * tracer's start-up and shutdown are not in the figure.
 *
 *   workload MODE ITERATIONS
 *
 * prints one line: "MODE ITERATIONS ELAPSED_NS KERNEL_SOCKET_OPS"
 * (KERNEL_SOCKET_OPS: sends + receives that reach the protocol, i.e. the
 * socket.send/socket.receive events a tracer sees).
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

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
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

static uint64_t ping_pong(int a, int b, size_t len)
{
	char buf[65536] = {0};
	struct pp p = {b, len};
	pthread_t th;
	pthread_create(&th, NULL, pong, &p);
	uint64_t t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		if (send(a, buf, len, 0) != (ssize_t)len)
			die("ping send");
		size_t got = 0;
		while (got < len) {
			ssize_t n = recv(a, buf + got, len - got, 0);
			if (n <= 0)
				die("ping recv");
			got += (size_t)n;
		}
	}
	uint64_t t = now_ns() - t0;
	pthread_join(th, NULL);
	return t;
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
	uint64_t t = 0, ops = 0;
	int a, b;

	if (strcmp(mode, "stamp") == 0) {
		/* start-up: when a tracer's -c command starts, its probes are armed */
		printf("stamp 0 %llu 0\n", (unsigned long long)now_ns());
		return 0;
	} else if (strcmp(mode, "udp") == 0) {
		udp_pair(&a, &b);
		t = ping_pong(a, b, 64);
		ops = 4 * (uint64_t)iters;
	} else if (strcmp(mode, "unix") == 0) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			die("socketpair");
		t = ping_pong(sv[0], sv[1], 64);
		ops = 4 * (uint64_t)iters;
	} else if (strcmp(mode, "tcp_rr") == 0) {
		tcp_pair(&a, &b);
		t = ping_pong(a, b, 64);
		ops = 4 * (uint64_t)iters; /* at least: a 64-byte recv may rarely split */
	} else if (strcmp(mode, "tcp_stream") == 0) {
		static char buf[65536];
		pthread_t th;
		tcp_pair(&a, &b);
		pthread_create(&th, NULL, drain, &b);
		t = now_ns();
		for (long i = 0; i < iters; i++)
			if (send(a, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
				die("stream send");
		shutdown(a, SHUT_WR);
		pthread_join(th, NULL);
		t = now_ns() - t;
		ops = (uint64_t)iters; /* sends; receives vary with segmentation */
	} else if (strcmp(mode, "failsend") == 0) {
		/* the cheapest socket operation: fails in the protocol (EDESTADDRREQ) */
		a = socket(AF_INET, SOCK_DGRAM, 0);
		t = now_ns();
		for (long i = 0; i < iters; i++)
			if (send(a, "x", 1, 0) != -1 || errno != EDESTADDRREQ)
				die("failsend");
		t = now_ns() - t;
		ops = (uint64_t)iters;
	} else if (strcmp(mode, "getpid") == 0) {
		t = now_ns();
		for (long i = 0; i < iters; i++)
			syscall(SYS_getpid);
		t = now_ns() - t;
	} else if (strcmp(mode, "devnull") == 0) {
		int fd = open("/dev/null", O_WRONLY);
		t = now_ns();
		for (long i = 0; i < iters; i++)
			if (write(fd, "x", 1) != 1)
				die("devnull");
		t = now_ns() - t;
	} else {
		fprintf(stderr, "workload: unknown mode '%s'\n", mode);
		return 2;
	}
	printf("%s %ld %llu %llu\n", mode, iters, (unsigned long long)t, (unsigned long long)ops);
	return 0;
}
