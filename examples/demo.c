// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The bundled demo workload for `make demo`: a little of everything the
 * socket tapset sees. A TCP echo over loopback (send/recv, write/read,
 * writev/readv), a UDP datagram, a unix socketpair, and one failing send.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int listener;

static void *echo_server(void *arg)
{
	char buf[256];
	ssize_t n;
	(void)arg;
	int c = accept(listener, NULL, NULL);
	while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
		send(c, buf, (size_t)n, 0);
	close(c);
	return NULL;
}

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	char buf[256];
	pthread_t th;

	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(listener, 1) || getsockname(listener, (struct sockaddr *)&a, &alen)) {
		perror("demo: tcp listener");
		return 1;
	}
	pthread_create(&th, NULL, echo_server, NULL);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("demo: connect");
		return 1;
	}
	send(s, "hello", 5, 0);
	recv(s, buf, 5, MSG_WAITALL);
	if (write(s, "world!", 6) != 6 || read(s, buf, 6) != 6)
		perror("demo: write/read");
	struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
	if (writev(s, iov, 2) != 5)
		perror("demo: writev");
	struct iovec riov[2] = {{buf, 2}, {buf + 2, 3}};
	if (readv(s, riov, 2) < 0)
		perror("demo: readv");
	close(s);
	pthread_join(th, NULL);
	close(listener);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	send(u, "no address", 10, 0); /* EDESTADDRREQ: fails in the protocol */
	sendto(u, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a));
	close(u);

	int sv[2];
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	send(sv[0], "unix", 4, 0);
	recv(sv[1], buf, sizeof(buf), 0);
	close(sv[0]);
	close(sv[1]);
	printf("demo: done\n");
	return 0;
}
