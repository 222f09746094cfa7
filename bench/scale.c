// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Scale harness (bench/scale.py): many live processes, each holding many
 * sockets and moving a few datagrams per period, so that every one of them
 * has a row in top's and serve's kernel tables at once.
 *
 *   scale [procs=N] [socks=S] [rounds=R] [period_ms=P] [size=B] [kinds=one|both]
 *         [deadline=SEC]
 *
 * Defaults: 10000 processes, 10 sockets each (UDP on 127.0.0.1 and unix
 * socketpairs; one UDP socket bound, the rest unbound), 20 rounds of 1000 ms, 100-byte datagrams, a
 * 600 s deadline. Each child is named stscale-<i> and, once told to go, sends and receives one
 * datagram per round, its phase spread over the period (a bounded total rate: 2*N operations per
 * period). kinds=one: child i moves data on UDP if i is even, on a socketpair if odd (one kernel
 * row per process); both: on both (two rows per process).
 *
 * Protocol, line by line: stdout "ready N" once every child holds its
 * sockets; stdin "go" starts the rounds; stdout then a JSON line of what the
 * children did (their own counts), once all have finished; stdin "stop" (or
 * EOF, or the deadline, or SIGINT/SIGTERM) kills every child. The children
 * are in the harness's process group, die with it (PR_SET_PDEATHSIG) and
 * at the deadline (alarm), whatever happens to the parent.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 30000
#define MAX_SOCKS 64
#define MAX_SIZE  60000

struct report {
	int kind; /* 0: ready, 1: done, 2: failed */
	int pid;
	unsigned long long sends, recvs, send_bytes, recv_bytes;
	int udp, unix_; /* which kinds moved data */
};

static long nprocs = 10000, nsocks = 10, rounds = 20, period_ms = 1000, size = 100,
	    deadline_s = 600;
static int both;
static volatile sig_atomic_t got_stop;
static pid_t *kids;
static long nkids;

static void on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long read_long_file(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* one datagram out and the same one back in; 0 or -1 */
static int round_trip(int out, int in, char *buf, struct report *r)
{
	ssize_t n = send(out, buf, (size_t)size, 0);
	if (n != size)
		return -1;
	r->sends++;
	r->send_bytes += (unsigned long long)n;
	n = recv(in, buf, (size_t)size, 0);
	if (n != size)
		return -1;
	r->recvs++;
	r->recv_bytes += (unsigned long long)n;
	return 0;
}

static void child(long i, int go_fd, int stop_fd, int rep_fd, long long start_deadline)
{
	int udp[MAX_SOCKS], pairs[MAX_SOCKS][2];
	long npairs = nsocks / 4, nudp = nsocks - 2 * npairs;
	struct report r = {.pid = getpid()};
	char name[16], buf[MAX_SIZE];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1); /* the parent is gone already */
	alarm((unsigned int)((start_deadline - mono_ms()) / 1000 + 1));
	snprintf(name, sizeof(name), "stscale-%d", (int)(i % 100000));
	prctl(PR_SET_NAME, name);
	memset(buf, 'x', sizeof(buf));
	/*
	 * UDP: the first socket bound to 127.0.0.1 and connected to itself (loopback
	 * only), the traffic's; the others unbound, held open: 127.0.0.1 has some
	 * 28,000 ephemeral ports, not one per socket of 10,000 processes.
	 */
	for (long s = 0; s < nudp; s++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof(a);
		udp[s] = socket(AF_INET, SOCK_DGRAM, 0);
		if (udp[s] < 0)
			goto fail;
		if (s == 0 && (bind(udp[s], (struct sockaddr *)&a, sizeof(a)) ||
			       getsockname(udp[s], (struct sockaddr *)&a, &al) ||
			       connect(udp[s], (struct sockaddr *)&a, sizeof(a))))
			goto fail;
	}
	for (long s = 0; s < npairs; s++)
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pairs[s]))
			goto fail;
	r.kind = 0;
	if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	/* the go: the parent closes the pipe's write end, so every child wakes at once */
	char c;
	if (read(go_fd, &c, 1) != 0)
		_exit(1);
	int use_udp = nudp > 0 && (both || i % 2 == 0 || npairs == 0);
	int use_unix = npairs > 0 && (both || i % 2 == 1 || nudp == 0);
	r.udp = use_udp;
	r.unix_ = use_unix;
	/* phases spread over the period: a bounded, even total rate */
	long long t0 = mono_ms() + (i * period_ms) / nprocs;
	for (long k = 0; k < rounds; k++) {
		long long at = t0 + k * period_ms, now = mono_ms();
		if (at > now)
			poll(NULL, 0, (int)(at - now));
		if (use_udp && round_trip(udp[0], udp[0], buf, &r))
			goto fail;
		if (use_unix && round_trip(pairs[k % npairs][0], pairs[k % npairs][1], buf, &r))
			goto fail;
	}
	r.kind = 1;
	if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	/* alive, sockets held, until the parent closes the stop pipe (or dies, or the alarm) */
	while (read(stop_fd, &c, 1) > 0)
		;
	_exit(0);
fail:
	r.kind = 2;
	if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(1);
}

static void kill_kids(void)
{
	for (long i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	/* reaped: each wait is for a child SIGKILLed, so it returns promptly */
	for (long i = 0; i < nkids; i++)
		waitpid(kids[i], NULL, 0);
	nkids = 0;
}

/* a line from stdin into line (NUL-ended, newline dropped); 0, -1 at EOF/stop, 1 on timeout */
static int read_line(char *line, size_t n, long long until)
{
	size_t k = 0;
	while (!got_stop) {
		long long left = until - mono_ms();
		if (left <= 0)
			return 1;
		struct pollfd p = {.fd = 0, .events = POLLIN};
		int pr = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (pr < 0 && errno != EINTR)
			return -1;
		if (pr <= 0)
			continue;
		char c;
		ssize_t r = read(0, &c, 1);
		if (r <= 0)
			return -1;
		if (c == '\n') {
			line[k] = '\0';
			return 0;
		}
		if (k + 1 < n)
			line[k++] = c;
	}
	return -1;
}

/* count reports of kind want (or failures) until n or the deadline; the sums of the done */
static long collect(int fd, long n, int want, long long until, struct report *sum, long *failed)
{
	long got = 0;
	while (got + *failed < n && !got_stop && mono_ms() < until) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1000) <= 0)
			continue;
		struct report r;
		if (read(fd, &r, sizeof(r)) != sizeof(r))
			return -1;
		if (r.kind == 2) {
			(*failed)++;
			continue;
		}
		if (r.kind != want)
			continue;
		got++;
		sum->sends += r.sends;
		sum->recvs += r.recvs;
		sum->send_bytes += r.send_bytes;
		sum->recv_bytes += r.recv_bytes;
		sum->udp += r.udp;
		sum->unix_ += r.unix_;
	}
	return got;
}

static int arg(const char *a, const char *name, long lo, long hi, long *v)
{
	size_t n = strlen(name);
	if (strncmp(a, name, n) || a[n] != '=')
		return 0;
	char *end;
	long x = strtol(a + n + 1, &end, 10);
	if (*end || x < lo || x > hi) {
		fprintf(stderr, "scale: %s must be %ld..%ld\n", name, lo, hi);
		exit(2);
	}
	*v = x;
	return 1;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (arg(argv[i], "procs", 1, MAX_PROCS, &nprocs) ||
		    arg(argv[i], "socks", 1, MAX_SOCKS, &nsocks) ||
		    arg(argv[i], "rounds", 1, 100000, &rounds) ||
		    arg(argv[i], "period_ms", 10, 60000, &period_ms) ||
		    arg(argv[i], "size", 1, MAX_SIZE, &size) ||
		    arg(argv[i], "deadline", 1, 86400, &deadline_s))
			continue;
		if (strcmp(argv[i], "kinds=one") == 0 || strcmp(argv[i], "kinds=both") == 0) {
			both = argv[i][6] == 'b';
			continue;
		}
		fprintf(stderr, "scale: unknown argument '%s'\n", argv[i]);
		return 2;
	}
	long long until = mono_ms() + deadline_s * 1000;
	/* the machine's limits, said rather than found by a failed fork */
	long pid_max = read_long_file("/proc/sys/kernel/pid_max");
	long threads_max = read_long_file("/proc/sys/kernel/threads-max");
	if ((pid_max > 0 && nprocs + 1000 > pid_max) ||
	    (threads_max > 0 && nprocs + 1000 > threads_max)) {
		fprintf(stderr,
			"scale: %ld processes do not fit kernel.pid_max=%ld / "
			"kernel.threads-max=%ld (raise them with sysctl)\n",
			nprocs, pid_max, threads_max);
		return 1;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)nprocs + 1000) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)nprocs + 1000
				  ? (rlim_t)nprocs + 1000
				  : rl.rlim_max;
		if (setrlimit(RLIMIT_NPROC, &rl))
			fprintf(stderr, "scale: cannot raise RLIMIT_NPROC: %s\n", strerror(errno));
	}
	/* per child: nsocks sockets and a few pipes; RLIMIT_NOFILE is per process */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nsocks + 16) {
		fprintf(stderr, "scale: RLIMIT_NOFILE %llu is below %ld sockets\n",
			(unsigned long long)rl.rlim_cur, nsocks);
		return 1;
	}
	if (setpgid(0, 0) && errno != EPERM)
		fprintf(stderr, "scale: setpgid: %s\n", strerror(errno));
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	kids = calloc((size_t)nprocs, sizeof(*kids));
	int go[2], stop[2], rep[2];
	if (!kids || pipe(go) || pipe(stop) || pipe(rep)) {
		perror("scale");
		return 1;
	}
	int rc = 1;
	for (long i = 0; i < nprocs && !got_stop && mono_ms() < until; i++) {
		pid_t p = fork();
		if (p < 0) {
			fprintf(stderr, "scale: fork %ld: %s\n", i, strerror(errno));
			goto out;
		}
		if (p == 0) {
			close(go[1]);
			close(stop[1]);
			close(rep[0]);
			close(0);
			close(1); /* the driver's pipe: EOF there is the parent's */
			child(i, go[0], stop[0], rep[1], until);
		}
		kids[nkids++] = p;
	}
	close(go[0]);
	close(stop[0]);
	close(rep[1]);
	struct report ready = {0}, done = {0};
	long failed = 0;
	long nready = collect(rep[0], nprocs, 0, until, &ready, &failed);
	if (nready != nprocs) {
		fprintf(stderr, "scale: %ld of %ld children ready, %ld failed\n", nready, nprocs,
			failed);
		goto out;
	}
	printf("ready %ld\n", nready);
	fflush(stdout);
	char line[64];
	if (read_line(line, sizeof(line), until) || strcmp(line, "go")) {
		fprintf(stderr, "scale: no go\n");
		goto out;
	}
	long long t_go = mono_ms();
	close(go[1]);
	long ndone = collect(rep[0], nprocs, 1, until, &done, &failed);
	printf("{\"procs\":%ld,\"done\":%ld,\"failed\":%ld,\"sends\":%llu,\"recvs\":%llu,"
	       "\"send_bytes\":%llu,\"recv_bytes\":%llu,\"udp_procs\":%d,\"unix_procs\":%d,"
	       "\"sockets\":%ld,\"traffic_ms\":%lld}\n",
	       nprocs, ndone, failed, done.sends, done.recvs, done.send_bytes, done.recv_bytes,
	       done.udp, done.unix_, nprocs * nsocks, mono_ms() - t_go);
	fflush(stdout);
	if (ndone != nprocs)
		goto out;
	/* held until stop: the driver reads the tools' final figures first */
	while (read_line(line, sizeof(line), until) == 0 && strcmp(line, "stop"))
		;
	rc = 0;
out:
	close(stop[1]);
	kill_kids();
	return rc;
}
