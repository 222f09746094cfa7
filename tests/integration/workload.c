// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap integration workload.
 *
 *   workload SCENARIO     run one scenario (workload list: their names)
 *
 * Performs a small, deterministic sequence of socket operations and
 * prints its own ground truth on stdout as JSON lines, one per operation,
 * for tests/integration/run.py to derive the events socktap must report.
 * The records are kept in memory and written at the end (and just before
 * fork and exec, which would otherwise duplicate or lose them), so that
 * writing them never interleaves with the traced operations. stdout must
 * not be a socket.
 *
 * Every record has "op", "pid", "tid", "uid" and "fd" (-1 when none); the
 * rest depends on the op:
 *   socket      family, type (without SOCK_NONBLOCK/CLOEXEC), protocol (as
 *               passed), cloexec, ret (new fd or -errno)
 *   socketpair  family, type, protocol, ret, fds [a, b]
 *   sockinfo    family, type, protocol (SO_PROTOCOL: sk_protocol), state
 *               (struct socket's state, 1 unconnected, 3 connected): the
 *               socket's identity, after each socket/socketpair/accept and
 *               connect. Stands for the getsockopt() calls it makes.
 *   send sendto sendmsg write writev recv recvfrom recvmsg read readv
 *               req (bytes asked: sum of iov lengths), ret (bytes or -errno),
 *               msg_flags where the call has them
 *   sendmmsg recvmmsg
 *               ret, msgs [{req, ret}...]: the messages the kernel attempted
 *   uring_send uring_recv uring_write uring_read
 *               an io_uring IORING_OP_SEND / RECV / WRITE / READ on fd: req, ret
 *   bind listen connect accept getsockname ioctl
 *               ret (accept: the new fd)
 *   close       ret, releases (this was the socket's last reference)
 *   dup         ret; dup2: oldfd, ret, released [fds]
 *   close_range hi, flags, ret, released [fds]
 *   fork        ret (child pid); forked: the child's first record, ppid
 *   exec        released [close-on-exec sockets execve releases]
 *   exit        released [sockets the process's exit releases]
 *   sendfile splice
 *               (scenario "sendfile") fd: the socket, req, ret: bytes asked and
 *               moved by all the calls together, calls: how many
 *   bulk_recv   (scenario "sendfile") fd, ret: bytes its reader thread received
 *   skip        reason: the scenario cannot run in this build
 *   self        nspid [pid in each pid namespace, outermost first]: the
 *               NSpid line of /proc/self/status (its first record)
 *   note        text: something the scenario left out (e.g. no ::1)
 *
 * Scenario "addrs" (and only it) adds the socket's addresses to every
 * send/receive record (sendmmsg/recvmmsg: to each of "msgs") and to every
 * close record, as the workload knows them:
 *   laddr lport raddr rport
 *               INET/INET6: addresses in inet_ntop() form ("127.0.0.1",
 *               "::1", "::ffff:127.0.0.2"), ports as numbers. laddr/lport:
 *               getsockname() after the call, null for an unbound socket
 *               (address 0, port 0). raddr/rport: getpeername() when the
 *               socket is connected; else the message's address (the
 *               destination sendto/sendmsg/sendmmsg named, the source a
 *               receive returned, or, where the caller passed no address
 *               buffer, the one sender the scenario arranged), null where
 *               there is none (a failed call, a close).
 *               Unix: laddr the bound path, raddr getpeername()'s (a message
 *               address never counts); abstract names as "@name" with every
 *               NUL byte of the name shown as '@'; unnamed: null; ports null.
 *               Other families: all four null.
 *   connected   getpeername() succeeded before the call
 *
 * Each scenario starts in a private network namespace with lo up, so its
 * addresses (127.0.0.1:0, abstract unix names) are its own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

/* struct socket's state (enum socket_state, include/uapi/linux/net.h) */
#define STATE_UNCONNECTED 1
#define STATE_CONNECTED	  3

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char payload[4096];

/* ---- ground truth ---- */

static struct {
	pthread_mutex_t lock;
	char *buf;
	size_t len, cap;
} gt = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void gt_flush(void)
{
	pthread_mutex_lock(&gt.lock);
	size_t off = 0;
	while (off < gt.len) {
		ssize_t n = write(STDOUT_FILENO, gt.buf + off, gt.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	gt.len = 0;
	pthread_mutex_unlock(&gt.lock);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;
	gt_flush();
	fprintf(stderr, "workload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(3);
}

static pid_t tid_self(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* One record: the common fields, then `fmt` (which starts with a comma). */
static void gt_add(const char *op, int fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void gt_add(const char *op, int fd, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int n = snprintf(line, sizeof(line),
			 "{\"op\":\"%s\",\"pid\":%d,\"tid\":%d,\"uid\":%u,\"fd\":%d", op, getpid(),
			 tid_self(), getuid(), fd);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "}\n");
	if ((size_t)n >= sizeof(line))
		fail("record for %s too long", op);

	pthread_mutex_lock(&gt.lock);
	if (gt.len + (size_t)n > gt.cap) {
		size_t cap = gt.cap ? gt.cap * 2 : 1 << 16;
		while (cap < gt.len + (size_t)n)
			cap *= 2;
		char *nb = realloc(gt.buf, cap);
		if (!nb) {
			pthread_mutex_unlock(&gt.lock);
			fail("out of memory");
		}
		gt.buf = nb;
		gt.cap = cap;
	}
	memcpy(gt.buf + gt.len, line, (size_t)n);
	gt.len += (size_t)n;
	pthread_mutex_unlock(&gt.lock);
}

/* "[3,4,5]" */
static const char *fd_array(char *buf, size_t len, const int *fds, int n)
{
	size_t pos = (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < n && pos < len; i++)
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%d", i ? "," : "", fds[i]);
	if (pos < len)
		snprintf(buf + pos, len - pos, "]");
	return buf;
}

/* A syscall's result as the kernel returns it: value or -errno. */
static long res(long r)
{
	return r < 0 ? -errno : r;
}

/* Setup steps and operations that must succeed. */
static long need(long r, const char *what)
{
	if (r < 0)
		fail("%s: %s", what, strerror((int)-r));
	return r;
}

static void expect_err(long r, int err, const char *what)
{
	if (r != -err)
		fail("%s: returned %ld, expected -%d (%s)", what, r, err, strerror(err));
}

static size_t iov_sum(const struct iovec *iov, size_t n)
{
	size_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += iov[i].iov_len;
	return sum;
}

/* ---- addresses (scenario "addrs") ---- */

static bool addrs_on; /* records carry laddr/lport/raddr/rport */

/* A JSON string literal of s (n bytes, NULs already mapped). */
static void json_str(char *out, size_t len, const char *s, size_t n)
{
	size_t pos = 0;
	if (len < 3)
		fail("json_str: no room");
	out[pos++] = '"';
	for (size_t i = 0; i < n && pos + 8 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			pos += (size_t)snprintf(out + pos, len - pos, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			pos += (size_t)snprintf(out + pos, len - pos, "\\u%04x", c);
		else
			out[pos++] = (char)c;
	}
	snprintf(out + pos, len - pos, "\"");
}

/*
 * One end of a socket as two JSON values, the address and the port: null,
 * null for no address, an unbound INET end (address 0, port 0), an unnamed
 * unix socket and other families.
 */
static void end_json(const void *addr, socklen_t alen, char *a, size_t an, char *p, size_t pn)
{
	const struct sockaddr *sa = addr;
	char txt[INET6_ADDRSTRLEN];

	snprintf(a, an, "null");
	snprintf(p, pn, "null");
	if (!sa || alen < sizeof(sa_family_t))
		return;
	if (sa->sa_family == AF_INET && alen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = addr;
		if (s4->sin_addr.s_addr == 0 && s4->sin_port == 0)
			return;
		if (!inet_ntop(AF_INET, &s4->sin_addr, txt, sizeof(txt)))
			fail("inet_ntop: %s", strerror(errno));
		json_str(a, an, txt, strlen(txt));
		snprintf(p, pn, "%u", ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6 && alen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = addr;
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) && s6->sin6_port == 0)
			return;
		if (!inet_ntop(AF_INET6, &s6->sin6_addr, txt, sizeof(txt)))
			fail("inet_ntop: %s", strerror(errno));
		json_str(a, an, txt, strlen(txt));
		snprintf(p, pn, "%u", ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *su = addr;
		size_t n = alen - offsetof(struct sockaddr_un, sun_path);
		char name[sizeof(su->sun_path)];
		if (alen <= offsetof(struct sockaddr_un, sun_path))
			return; /* unnamed */
		if (n > sizeof(name))
			n = sizeof(name);
		if (su->sun_path[0] == '\0') {
			/* abstract: every NUL byte of the name as '@', like /proc/net/unix */
			for (size_t i = 0; i < n; i++)
				name[i] = su->sun_path[i] ? su->sun_path[i] : '@';
		} else {
			n = strnlen(su->sun_path, n);
			memcpy(name, su->sun_path, n);
		}
		json_str(a, an, name, n);
		/* ports stay null */
	}
}

static bool is_connected(int fd)
{
	if (!addrs_on)
		return false;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	return getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/*
 * ",\"laddr\":...,\"lport\":...,\"raddr\":...,\"rport\":...,\"connected\":..." for fd, or
 * "" unless addrs_on. msg: the message's address (NULL: none); connected: as
 * is_connected() said before the call. Unix sockets' raddr is getpeername()'s only.
 */
static const char *ends(char *out, size_t len, int fd, const void *msg, socklen_t mlen,
			bool connected)
{
	struct sockaddr_storage loc, peer;
	socklen_t llen = sizeof(loc), plen = sizeof(peer);
	char la[512], lp[16], ra[512], rp[16];

	out[0] = '\0';
	if (!addrs_on)
		return out;
	if (getsockname(fd, (struct sockaddr *)&loc, &llen))
		fail("getsockname(%d): %s", fd, strerror(errno));
	end_json(&loc, llen, la, sizeof(la), lp, sizeof(lp));
	if (loc.ss_family != AF_INET && loc.ss_family != AF_INET6 && loc.ss_family != AF_UNIX)
		snprintf(la, sizeof(la), "null");
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		end_json(&peer, plen, ra, sizeof(ra), rp, sizeof(rp));
	else if (loc.ss_family == AF_INET || loc.ss_family == AF_INET6)
		end_json(msg, msg ? mlen : 0, ra, sizeof(ra), rp, sizeof(rp));
	else
		end_json(NULL, 0, ra, sizeof(ra), rp, sizeof(rp));
	snprintf(out, len, ",\"laddr\":%s,\"lport\":%s,\"raddr\":%s,\"rport\":%s,\"connected\":%s",
		 la, lp, ra, rp, connected ? "true" : "false");
	return out;
}

/* ---- socket syscalls, recorded ---- */

static void sockinfo(int fd, int state)
{
	int family = -1, type = -1, protocol = -1;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len))
		fail("getsockopt(%d): %s", fd, strerror(errno));
	gt_add("sockinfo", fd, ",\"family\":%d,\"type\":%d,\"protocol\":%d,\"state\":%d", family,
	       type, protocol, state);
}

/*
 * A unix socket's struct socket state as the kernel keeps it: the "St"
 * column of /proc/net/unix (this network namespace's), found by inode.
 * unix_socketpair() of older kernels (Debian's 5.10) leaves datagram pairs
 * SS_UNCONNECTED where newer ones make them SS_CONNECTED, so the ground
 * truth reads the state rather than assumes it.
 */
static int unix_state(int fd)
{
	struct stat sb;
	char line[512];
	int state = -1;
	if (fstat(fd, &sb))
		fail("fstat(%d): %s", fd, strerror(errno));
	FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		fail("/proc/net/unix: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long ino = 0;
		int st = 0;
		/* Num RefCount Protocol Flags Type St Inode [Path] */
		if (sscanf(line, "%*s %*s %*s %*s %*s %x %lu", &st, &ino) == 2 &&
		    ino == (unsigned long)sb.st_ino)
			state = st;
	}
	fclose(f);
	if (state < 0)
		fail("socket fd %d (inode %lu) not in /proc/net/unix", fd,
		     (unsigned long)sb.st_ino);
	return state;
}

static int x_socket(int family, int type, int protocol)
{
	int r = (int)res(socket(family, type, protocol));
	gt_add("socket", r >= 0 ? r : -1,
	       ",\"family\":%d,\"type\":%d,\"protocol\":%d,\"cloexec\":%s,\"ret\":%d", family,
	       type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol,
	       (type & SOCK_CLOEXEC) ? "true" : "false", r);
	if (r >= 0)
		sockinfo(r, STATE_UNCONNECTED);
	return r;
}

static int x_socketpair(int family, int type, int protocol, int sv[2])
{
	int r = (int)res(socketpair(family, type, protocol, sv));
	if (r < 0)
		sv[0] = sv[1] = -1;
	gt_add("socketpair", sv[0],
	       ",\"family\":%d,\"type\":%d,\"protocol\":%d,\"ret\":%d,\"fds\":[%d,%d]", family,
	       type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol, r, sv[0], sv[1]);
	if (r == 0) {
		sockinfo(sv[0], family == AF_UNIX ? unix_state(sv[0]) : STATE_UNCONNECTED);
		sockinfo(sv[1], family == AF_UNIX ? unix_state(sv[1]) : STATE_UNCONNECTED);
	}
	return r;
}

static int x_bind(int fd, const void *addr, socklen_t len)
{
	int r = (int)res(bind(fd, addr, len));
	gt_add("bind", fd, ",\"ret\":%d", r);
	return r;
}

static int x_listen(int fd, int backlog)
{
	int r = (int)res(listen(fd, backlog));
	gt_add("listen", fd, ",\"ret\":%d", r);
	return r;
}

/*
 * state_after: struct socket's state once connected. TCP and unix
 * stream/seqpacket connect() make it SS_CONNECTED; UDP (inet_dgram_connect)
 * and unix datagram connect() leave it SS_UNCONNECTED.
 */
static int x_connect(int fd, const void *addr, socklen_t len, int state_after)
{
	int r = (int)res(connect(fd, addr, len));
	gt_add("connect", fd, ",\"ret\":%d", r);
	if (r == 0)
		sockinfo(fd, state_after);
	return r;
}

static int x_accept(int fd)
{
	int r = (int)res(accept(fd, NULL, NULL));
	gt_add("accept", fd, ",\"ret\":%d", r);
	if (r >= 0)
		sockinfo(r, STATE_CONNECTED);
	return r;
}

static int x_getsockname(int fd, void *addr, socklen_t *len)
{
	int r = (int)res(getsockname(fd, addr, len));
	gt_add("getsockname", fd, ",\"ret\":%d", r);
	return r;
}

static int x_ioctl(int fd, unsigned long req, const char *name, void *arg)
{
	int r = (int)res(ioctl(fd, req, arg));
	gt_add("ioctl", fd, ",\"request\":\"%s\",\"ret\":%d", name, r);
	return r;
}

static void rec_xfer(const char *op, int fd, size_t req, long ret, int flags, const void *msg,
		     socklen_t mlen, bool connected)
{
	char e[1200];
	gt_add(op, fd, ",\"req\":%zu,\"ret\":%ld,\"msg_flags\":%d%s", req, ret, flags,
	       ends(e, sizeof(e), fd, msg, mlen, connected));
}

static long x_send(int fd, const void *buf, size_t len, int flags)
{
	bool conn = is_connected(fd);
	long r = res(send(fd, buf, len, flags));
	rec_xfer("send", fd, len, r, flags, NULL, 0, conn);
	return r;
}

static long x_sendto(int fd, const void *buf, size_t len, int flags, const void *addr,
		     socklen_t alen)
{
	bool conn = is_connected(fd);
	long r = res(sendto(fd, buf, len, flags, addr, alen));
	rec_xfer("sendto", fd, len, r, flags, addr, alen, conn);
	return r;
}

static long x_sendmsg(int fd, struct iovec *iov, size_t n, int flags, void *addr, socklen_t alen)
{
	struct msghdr m = {.msg_name = addr, .msg_namelen = alen, .msg_iov = iov, .msg_iovlen = n};
	bool conn = is_connected(fd);
	long r = res(sendmsg(fd, &m, flags));
	rec_xfer("sendmsg", fd, iov_sum(iov, n), r, flags, addr, alen, conn);
	return r;
}

static long x_write(int fd, const void *buf, size_t len)
{
	char e[1200];
	bool conn = is_connected(fd);
	long r = res(write(fd, buf, len));
	gt_add("write", fd, ",\"req\":%zu,\"ret\":%ld%s", len, r,
	       ends(e, sizeof(e), fd, NULL, 0, conn));
	return r;
}

static long x_writev(int fd, const struct iovec *iov, int n)
{
	char e[1200];
	bool conn = is_connected(fd);
	long r = res(writev(fd, iov, n));
	gt_add("writev", fd, ",\"req\":%zu,\"ret\":%ld%s", iov_sum(iov, (size_t)n), r,
	       ends(e, sizeof(e), fd, NULL, 0, conn));
	return r;
}

/*
 * Receives. src, where given: the sender of the one datagram the scenario
 * queued, for calls that pass the kernel no address buffer (recv, recvmsg
 * without msg_name): the workload cannot read the source back, so it says
 * which it arranged. It counts only when the call succeeds.
 */
static long x_recv_src(int fd, void *buf, size_t len, int flags, const void *src, socklen_t slen)
{
	bool conn = is_connected(fd);
	long r = res(recv(fd, buf, len, flags));
	rec_xfer("recv", fd, len, r, flags, r >= 0 ? src : NULL, slen, conn);
	return r;
}

static long x_recv(int fd, void *buf, size_t len, int flags)
{
	return x_recv_src(fd, buf, len, flags, NULL, 0);
}

static long x_recvfrom(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	bool conn = is_connected(fd);
	memset(&from, 0, sizeof(from));
	long r = res(recvfrom(fd, buf, len, flags, (struct sockaddr *)&from, &flen));
	rec_xfer("recvfrom", fd, len, r, flags, r >= 0 && flen ? &from : NULL, flen, conn);
	return r;
}

/* recvmsg with an address buffer, or (noname) without one and src the arranged sender */
static long x_recvmsg_src(int fd, struct iovec *iov, size_t n, int flags, bool noname,
			  const void *src, socklen_t slen)
{
	struct sockaddr_storage from;
	struct msghdr m = {.msg_name = noname ? NULL : &from,
			   .msg_namelen = noname ? 0 : sizeof(from),
			   .msg_iov = iov,
			   .msg_iovlen = n};
	bool conn = is_connected(fd);
	memset(&from, 0, sizeof(from));
	long r = res(recvmsg(fd, &m, flags));
	const void *a = noname ? src : m.msg_namelen ? (const void *)&from : NULL;
	rec_xfer("recvmsg", fd, iov_sum(iov, n), r, flags, r >= 0 ? a : NULL,
		 noname ? slen : m.msg_namelen, conn);
	return r;
}

static long x_recvmsg(int fd, struct iovec *iov, size_t n, int flags)
{
	return x_recvmsg_src(fd, iov, n, flags, false, NULL, 0);
}

static long x_read(int fd, void *buf, size_t len)
{
	char e[1200];
	bool conn = is_connected(fd);
	long r = res(read(fd, buf, len));
	gt_add("read", fd, ",\"req\":%zu,\"ret\":%ld%s", len, r,
	       ends(e, sizeof(e), fd, NULL, 0, conn));
	return r;
}

static long x_readv(int fd, const struct iovec *iov, int n)
{
	char e[1200];
	bool conn = is_connected(fd);
	long r = res(readv(fd, iov, n));
	gt_add("readv", fd, ",\"req\":%zu,\"ret\":%ld%s", iov_sum(iov, (size_t)n), r,
	       ends(e, sizeof(e), fd, NULL, 0, conn));
	return r;
}

/*
 * The messages a sendmmsg/recvmmsg attempted: all that moved data, plus
 * the first if the call failed. A call that returns a short count has
 * attempted one more message whose error it swallowed: the workload could
 * not know that message's result, so the scenarios never do it.
 * srcs (receives, may be NULL): per message, the arranged sender where the
 * message has no msg_name.
 */
static void rec_mmsg(const char *op, int fd, const struct mmsghdr *v, unsigned int n, int r,
		     int flags, const struct sockaddr_storage *srcs, bool connected)
{
	char msgs[4096], e[1200];
	bool is_recv = strcmp(op, "recvmmsg") == 0;
	size_t pos = (size_t)snprintf(msgs, sizeof(msgs), "[");
	if (r >= 0 && (unsigned int)r < n)
		fail("%s(%d): %d of %u messages: the failed attempt's result is unknowable", op, fd,
		     r, n);
	for (int i = 0; i < (r < 0 ? 1 : r) && pos < sizeof(msgs); i++) {
		const struct msghdr *h = &v[i].msg_hdr;
		const void *a = h->msg_name;
		socklen_t alen = h->msg_namelen;
		if (is_recv && !a && srcs) {
			a = &srcs[i];
			alen = sizeof(srcs[i]);
		}
		if (is_recv && r < 0)
			a = NULL;
		pos += (size_t)snprintf(
		    msgs + pos, sizeof(msgs) - pos, "%s{\"req\":%zu,\"ret\":%d%s}", i ? "," : "",
		    iov_sum(h->msg_iov, h->msg_iovlen), r < 0 ? r : (int)v[i].msg_len,
		    ends(e, sizeof(e), fd, a, alen, connected));
	}
	if (pos < sizeof(msgs))
		snprintf(msgs + pos, sizeof(msgs) - pos, "]");
	else
		fail("%s(%d): record too long", op, fd);
	gt_add(op, fd, ",\"ret\":%d,\"msg_flags\":%d,\"msgs\":%s", r, flags, msgs);
}

static int x_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	bool conn = is_connected(fd);
	int r = (int)res(sendmmsg(fd, v, n, flags));
	rec_mmsg("sendmmsg", fd, v, n, r, flags, NULL, conn);
	return r;
}

static int x_recvmmsg_src(int fd, struct mmsghdr *v, unsigned int n, int flags,
			  const struct sockaddr_storage *srcs)
{
	bool conn = is_connected(fd);
	int r = (int)res(recvmmsg(fd, v, n, flags, NULL));
	rec_mmsg("recvmmsg", fd, v, n, r, flags, srcs, conn);
	return r;
}

static int x_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	return x_recvmmsg_src(fd, v, n, flags, NULL);
}

static int x_close(int fd, bool releases)
{
	char e[1200];
	/* the addresses at release: the socket's, before it goes */
	if (addrs_on)
		ends(e, sizeof(e), fd, NULL, 0, is_connected(fd));
	else
		e[0] = '\0';
	int r = (int)res(close(fd));
	gt_add("close", fd, ",\"ret\":%d,\"releases\":%s%s", r,
	       releases && r == 0 ? "true" : "false", e);
	return r;
}

static int x_dup(int fd)
{
	int r = (int)res(dup(fd));
	gt_add("dup", fd, ",\"ret\":%d", r);
	return r;
}

/* dup2(oldfd, fd); releases: fd held a socket's last reference */
static int x_dup2(int oldfd, int fd, bool releases)
{
	char rel[64];
	int r = (int)res(dup2(oldfd, fd));
	gt_add("dup2", fd, ",\"oldfd\":%d,\"ret\":%d,\"released\":%s", oldfd, r,
	       fd_array(rel, sizeof(rel), &fd, releases && r >= 0 ? 1 : 0));
	return r;
}

static int x_close_range(unsigned int lo, unsigned int hi, unsigned int flags, const int *released,
			 int nrel)
{
	char rel[256];
	int r = (int)res(syscall(SYS_close_range, lo, hi, flags));
	gt_add("close_range", (int)lo, ",\"hi\":%u,\"flags\":%u,\"ret\":%d,\"released\":%s", hi,
	       flags, r, fd_array(rel, sizeof(rel), released, r == 0 ? nrel : 0));
	return r;
}

/* The process ends: record which sockets its exit releases, flush, exit. */
static void __attribute__((noreturn)) proc_exit(const int *released, int nrel)
{
	char rel[256];
	gt_add("exit", -1, ",\"status\":0,\"released\":%s",
	       fd_array(rel, sizeof(rel), released, nrel));
	gt_flush();
	_exit(0);
}

/* ---- helpers ---- */

/* The first record: this process's pid in each pid namespace it is in. */
static void record_self(void)
{
	char line[256], ids[128] = "";
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		fail("/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6) == 0) {
			size_t pos = 0;
			char *save = NULL;
			for (char *t = strtok_r(line + 6, " \t\n", &save); t && pos < sizeof(ids);
			     t = strtok_r(NULL, " \t\n", &save))
				pos += (size_t)snprintf(ids + pos, sizeof(ids) - pos, "%s%s",
							pos ? "," : "", t);
		}
	}
	fclose(f);
	gt_add("self", -1, ",\"nspid\":[%s]", ids);
}

static struct sockaddr_in loopback(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A UDP socket bound to 127.0.0.1 on a port of the kernel's choosing. */
static int udp_bound(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = (int)need(x_socket(AF_INET, SOCK_DGRAM, 0), "socket");

	*addr = loopback();
	need(x_bind(fd, addr, sizeof(*addr)), "bind");
	need(x_getsockname(fd, addr, &len), "getsockname");
	return fd;
}

static socklen_t unix_abstract(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "socktap-%d-%s", getpid(), name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

enum rd { RD_RECV, RD_RECVFROM, RD_RECVMSG, RD_READ, RD_READV };

/* Read exactly n bytes from a stream socket, one recorded call at a time. */
static void read_exact(int fd, size_t n, enum rd how)
{
	static char buf[sizeof(payload)];
	size_t got = 0;

	while (got < n) {
		size_t want = n - got;
		struct iovec iov[2] = {{buf, want < 16 ? want : 16}, {buf + 16, 0}};
		long r = 0;

		if (want > 16)
			iov[1].iov_len = want - 16;
		switch (how) {
		case RD_RECV:
			r = x_recv(fd, buf, want, 0);
			break;
		case RD_RECVFROM:
			r = x_recvfrom(fd, buf, want, 0);
			break;
		case RD_RECVMSG:
			r = x_recvmsg(fd, iov, 1, 0);
			break;
		case RD_READ:
			r = x_read(fd, buf, want);
			break;
		case RD_READV:
			r = x_readv(fd, iov, want > 16 ? 2 : 1);
			break;
		}
		if (r <= 0)
			fail("read_exact(%d): %ld after %zu of %zu bytes", fd, r, got, n);
		got += (size_t)r;
	}
}

/* Enter a private network namespace and bring its lo up. */
static void setup_netns(void)
{
	struct ifreq ifr = {0};

	if (unshare(CLONE_NEWNET))
		fail("unshare(CLONE_NEWNET): %s", strerror(errno));
	int fd = (int)need(x_socket(AF_INET, SOCK_DGRAM, 0), "socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	need(x_ioctl(fd, SIOCGIFFLAGS, "SIOCGIFFLAGS", &ifr), "SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	need(x_ioctl(fd, SIOCSIFFLAGS, "SIOCSIFFLAGS", &ifr), "SIOCSIFFLAGS");
	need(x_close(fd, true), "close");
}

/* ---- scenarios ---- */

static void sc_udp(void)
{
	struct sockaddr_in aa, ba;
	char buf[2048];
	int a = udp_bound(&aa), b = udp_bound(&ba);

	/* unconnected */
	need(x_sendto(a, payload, 100, 0, &ba, sizeof(ba)), "sendto");
	need(x_recvfrom(b, buf, sizeof(buf), 0), "recvfrom");
	struct iovec siov[2] = {{payload, 30}, {payload + 30, 40}};
	need(x_sendmsg(a, siov, 2, 0, &ba, sizeof(ba)), "sendmsg");
	struct iovec riov[2] = {{buf, 50}, {buf + 50, 1000}};
	need(x_recvmsg(b, riov, 2, 0), "recvmsg");
	/* no destination: udp_sendmsg() fails with EDESTADDRREQ */
	expect_err(x_send(a, payload, 10, 0), EDESTADDRREQ, "send on an unconnected UDP socket");
	/* nothing queued */
	expect_err(x_recv(b, buf, 64, MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT recv");

	/* connected: inet_dgram_connect() leaves struct socket's state alone */
	need(x_connect(a, &ba, sizeof(ba), STATE_UNCONNECTED), "connect");
	need(x_send(a, payload, 200, 0), "send");
	need(x_recv(b, buf, sizeof(buf), 0), "recv");
	need(x_sendto(a, payload, 300, 0, NULL, 0), "sendto");
	need(x_recvfrom(b, buf, sizeof(buf), 0), "recvfrom");
	need(x_connect(b, &aa, sizeof(aa), STATE_UNCONNECTED), "connect");
	need(x_send(b, payload, 50, 0), "send");
	/* a short buffer truncates the datagram: 20 bytes returned */
	need(x_recvfrom(a, buf, 20, 0), "recvfrom");

	need(x_close(a, true), "close");
	need(x_close(b, true), "close");
}

static void sc_tcp(void)
{
	struct sockaddr_in la = loopback();
	socklen_t len = sizeof(la);
	char buf[256];

	int l = (int)need(x_socket(AF_INET, SOCK_STREAM, 0), "socket");
	need(x_bind(l, &la, sizeof(la)), "bind");
	need(x_listen(l, 4), "listen");
	need(x_getsockname(l, &la, &len), "getsockname");
	int c = (int)need(x_socket(AF_INET, SOCK_STREAM, 0), "socket");
	need(x_connect(c, &la, sizeof(la), STATE_CONNECTED), "connect");
	int s = (int)need(x_accept(l), "accept");

	need(x_send(c, payload, 100, 0), "send");
	read_exact(s, 100, RD_RECV);
	need(x_send(s, payload, 150, 0), "send");
	read_exact(c, 150, RD_RECV);
	need(x_write(c, payload, 64), "write");
	read_exact(s, 64, RD_READ);
	need(x_write(s, payload, 48), "write");
	read_exact(c, 48, RD_READ);
	struct iovec wv[3] = {{payload, 10}, {payload + 10, 20}, {payload + 30, 30}};
	need(x_writev(s, wv, 3), "writev");
	read_exact(c, 60, RD_READV);
	need(x_writev(c, wv, 2), "writev");
	read_exact(s, 30, RD_READV);
	struct iovec mv[2] = {{payload, 7}, {payload + 7, 9}};
	need(x_sendmsg(c, mv, 2, 0, NULL, 0), "sendmsg");
	read_exact(s, 16, RD_RECVMSG);
	need(x_sendto(s, payload, 33, 0, NULL, 0), "sendto");
	read_exact(c, 33, RD_RECVFROM);
	/* nothing left to read */
	expect_err(x_recv(c, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT recv");

	need(x_close(c, true), "close");
	need(x_close(s, true), "close");
	need(x_close(l, true), "close");
}

/* Traffic both ways on a connected unix pair; every call moves a whole message. */
static void unix_traffic(int x, int y)
{
	char buf[256];
	struct iovec sv[2] = {{payload, 5}, {payload + 5, 6}};
	struct iovec rv[1] = {{buf, sizeof(buf)}};
	struct iovec wv[2] = {{payload, 3}, {payload + 3, 4}};

	need(x_send(x, payload, 33, 0), "send");
	need(x_recv(y, buf, sizeof(buf), 0), "recv");
	need(x_sendmsg(y, sv, 2, 0, NULL, 0), "sendmsg");
	need(x_recvmsg(x, rv, 1, 0), "recvmsg");
	need(x_write(x, payload, 12), "write");
	need(x_read(y, buf, sizeof(buf)), "read");
	need(x_writev(y, wv, 2), "writev");
	need(x_readv(x, rv, 1), "readv");
	need(x_sendto(x, payload, 17, 0, NULL, 0), "sendto");
	need(x_recvfrom(y, buf, sizeof(buf), 0), "recvfrom");
}

static void unix_listener(int type, const char *name)
{
	struct sockaddr_un a;
	socklen_t alen = unix_abstract(&a, name);

	int l = (int)need(x_socket(AF_UNIX, type, 0), "socket");
	need(x_bind(l, &a, alen), "bind");
	need(x_listen(l, 2), "listen");
	int c = (int)need(x_socket(AF_UNIX, type, 0), "socket");
	need(x_connect(c, &a, alen, STATE_CONNECTED), "connect");
	int s = (int)need(x_accept(l), "accept");
	unix_traffic(c, s);
	need(x_close(c, true), "close");
	need(x_close(s, true), "close");
	need(x_close(l, true), "close");
}

static void sc_unix(void)
{
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	struct sockaddr_un a;
	char buf[256];
	int sv[2];

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		need(x_socketpair(AF_UNIX, types[i], 0, sv), "socketpair");
		unix_traffic(sv[0], sv[1]);
		need(x_close(sv[0], true), "close");
		need(x_close(sv[1], true), "close");
	}

	unix_listener(SOCK_STREAM, "stream");
	unix_listener(SOCK_SEQPACKET, "seqpacket");

	/* datagrams through an abstract address; unix_dgram_connect() leaves the state */
	socklen_t alen = unix_abstract(&a, "dgram");
	int srv = (int)need(x_socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
	need(x_bind(srv, &a, alen), "bind");
	int cli = (int)need(x_socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
	need(x_sendto(cli, payload, 19, 0, &a, alen), "sendto");
	need(x_recvfrom(srv, buf, sizeof(buf), 0), "recvfrom");
	need(x_connect(cli, &a, alen, STATE_UNCONNECTED), "connect");
	need(x_send(cli, payload, 21, 0), "send");
	need(x_recv(srv, buf, sizeof(buf), 0), "recv");
	need(x_write(cli, payload, 23), "write");
	need(x_read(srv, buf, sizeof(buf)), "read");
	need(x_close(cli, true), "close");
	need(x_close(srv, true), "close");
}

static void sc_mmsg(void)
{
	struct sockaddr_in aa, ba;
	static char rbuf[3][512];
	int a = udp_bound(&aa), b = udp_bound(&ba);

	/* no destination: the first message fails, and with it the call */
	struct iovec iov0 = {payload, 40};
	struct mmsghdr one = {.msg_hdr = {.msg_iov = &iov0, .msg_iovlen = 1}};
	expect_err(x_sendmmsg(a, &one, 1, 0), EDESTADDRREQ, "sendmmsg without a destination");

	/* three datagrams of different sizes, the second from two iovecs */
	struct iovec siov[4] = {
	    {payload, 100}, {payload, 150}, {payload + 150, 50}, {payload, 300}};
	struct mmsghdr sv[3] = {
	    {.msg_hdr = {.msg_iov = &siov[0], .msg_iovlen = 1}},
	    {.msg_hdr = {.msg_iov = &siov[1], .msg_iovlen = 2}},
	    {.msg_hdr = {.msg_iov = &siov[3], .msg_iovlen = 1}},
	};
	for (size_t i = 0; i < ARRAY_SIZE(sv); i++) {
		sv[i].msg_hdr.msg_name = &ba;
		sv[i].msg_hdr.msg_namelen = sizeof(ba);
	}
	if (need(x_sendmmsg(a, sv, 3, 0), "sendmmsg") != 3)
		fail("sendmmsg: not all three sent");

	struct iovec riov[6];
	struct mmsghdr rv[3] = {0};
	for (int i = 0; i < 3; i++) {
		riov[2 * i] = (struct iovec){rbuf[i], 256};
		riov[2 * i + 1] = (struct iovec){rbuf[i] + 256, 256};
		rv[i].msg_hdr.msg_iov = &riov[2 * i];
		rv[i].msg_hdr.msg_iovlen = 2;
	}
	/* exactly as many as are queued: no fourth attempt */
	if (need(x_recvmmsg(b, rv, 3, 0), "recvmmsg") != 3)
		fail("recvmmsg: not all three received");

	need(x_close(a, true), "close");
	need(x_close(b, true), "close");
}

static void sc_dup(void)
{
	struct sockaddr_in aa, ba;
	char buf[256];
	int a = udp_bound(&aa), b = udp_bound(&ba);

	need(x_sendto(a, payload, 40, 0, &ba, sizeof(ba)), "sendto");
	need(x_recv(b, buf, sizeof(buf), 0), "recv");
	int d = (int)need(x_dup(a), "dup");
	/* the dup still holds the socket */
	need(x_close(a, false), "close");
	need(x_sendto(d, payload, 80, 0, &ba, sizeof(ba)), "sendto");
	need(x_recv(b, buf, sizeof(buf), 0), "recv");
	need(x_close(d, true), "close");
	need(x_close(b, true), "close");
}

static void sc_fork(void)
{
	struct sockaddr_in sa, ra;
	char buf[256];
	int status;
	int s = udp_bound(&sa), r = udp_bound(&ra);

	need(x_sendto(s, payload, 10, 0, &ra, sizeof(ra)), "sendto");
	need(x_recv(r, buf, sizeof(buf), 0), "recv");
	gt_flush(); /* the child's records come after these */
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		gt_add("forked", -1, ",\"ppid\":%d", getppid());
		need(x_sendto(s, payload, 64, 0, &ra, sizeof(ra)), "sendto");
		/* s and r stay open in the parent: this exit releases nothing */
		proc_exit(NULL, 0);
	}
	gt_add("fork", -1, ",\"ret\":%d", pid);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("child %d failed (status %#x)", pid, status);
	need(x_recv(r, buf, sizeof(buf), 0), "recv");
	need(x_close(s, true), "close");
	need(x_close(r, true), "close");
}

static void sc_exit(void)
{
	struct sockaddr_in sa, ra;
	char buf[256];
	int s = udp_bound(&sa), r = udp_bound(&ra);

	need(x_sendto(s, payload, 10, 0, &ra, sizeof(ra)), "sendto");
	need(x_recv(r, buf, sizeof(buf), 0), "recv");
	need(x_close(r, true), "close");
	/* exit with s open */
	proc_exit(&s, 1);
}

static void sc_exec(void)
{
	struct sockaddr_in a2;
	char self[PATH_MAX], fdarg[16], rel[64], buf[256];

	int s1 = (int)need(x_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
	int s2 = udp_bound(&a2);
	need(x_sendto(s1, payload, 25, 0, &a2, sizeof(a2)), "sendto");
	need(x_recv(s2, buf, sizeof(buf), 0), "recv");

	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		fail("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	snprintf(fdarg, sizeof(fdarg), "%d", s2);
	/* s1 is close-on-exec and released by the exec; s2 lives on */
	gt_add("exec", -1, ",\"released\":%s", fd_array(rel, sizeof(rel), &s1, 1));
	gt_flush();
	execl(self, "workload", "exec-child", fdarg, (char *)NULL);
	fail("execve %s: %s", self, strerror(errno));
}

/* After sc_exec's execve: the inherited socket still works, then goes. */
static void exec_child(const char *fdarg)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char buf[256];
	int s2 = atoi(fdarg);

	need(x_getsockname(s2, &a, &len), "getsockname");
	need(x_sendto(s2, payload, 40, 0, &a, sizeof(a)), "sendto");
	need(x_recv(s2, buf, sizeof(buf), 0), "recv");
	need(x_close(s2, true), "close");
	proc_exit(NULL, 0);
}

static void sc_close_range(void)
{
	int fds[3];

	fds[0] = (int)need(x_socket(AF_INET, SOCK_DGRAM, 0), "socket");
	fds[1] = (int)need(x_socket(AF_INET, SOCK_STREAM, 0), "socket");
	fds[2] = (int)need(x_socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
	if (fds[1] != fds[0] + 1 || fds[2] != fds[1] + 1)
		fail("close_range: sockets not on consecutive fds");
	need(x_close_range((unsigned int)fds[0], (unsigned int)fds[2], 0, fds, 3), "close_range");
}

static void sc_dup2(void)
{
	int s = (int)need(x_socket(AF_INET, SOCK_STREAM, 0), "socket");
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0)
		fail("open /dev/null: %s", strerror(errno));
	/* over the socket's only fd: releases it */
	need(x_dup2(nul, s, true), "dup2");

	/* over one of two fds of a socket: releases nothing; the close does */
	int t = (int)need(x_socket(AF_UNIX, SOCK_STREAM, 0), "socket");
	int d = (int)need(x_dup(t), "dup");
	need(x_dup2(nul, d, false), "dup2");
	need(x_close(t, true), "close");

	/* now /dev/null: not sockets */
	close(d);
	close(s);
	close(nul);
}

static void sc_emfile(void)
{
	struct rlimit old, low;

	/* the lowest free fd becomes the limit: no new fd can be allocated */
	int lowest = open("/dev/null", O_RDONLY);
	if (lowest < 0)
		fail("open /dev/null: %s", strerror(errno));
	close(lowest);
	if (getrlimit(RLIMIT_NOFILE, &old))
		fail("getrlimit: %s", strerror(errno));
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	if (setrlimit(RLIMIT_NOFILE, &low))
		fail("setrlimit: %s", strerror(errno));
	/* __sys_socket() creates the socket, then sock_map_fd() finds no fd and releases it */
	expect_err(x_socket(AF_INET, SOCK_DGRAM, 0), EMFILE, "socket at RLIMIT_NOFILE");
	expect_err(x_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), EMFILE, "socket at RLIMIT_NOFILE");
	if (setrlimit(RLIMIT_NOFILE, &old))
		fail("setrlimit: %s", strerror(errno));

	int s = (int)need(x_socket(AF_INET, SOCK_DGRAM, 0), "socket");
	need(x_close(s, true), "close");
}

static void sc_socketpair_inet(void)
{
	int sv[2];
	/* both sockets are created, then inet's socketpair op says EOPNOTSUPP */
	expect_err(x_socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP, "socketpair(AF_INET)");
}

static void sc_badfamily(void)
{
	/* __sock_create() refuses the family before creating anything */
	expect_err(x_socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT, "socket(12345)");
}

static void sc_netlink(void)
{
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
	    .nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		   .nlmsg_type = RTM_GETLINK,
		   .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		   .nlmsg_seq = 1},
	    .ifi = {.ifi_family = AF_UNSPEC},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	bool done = false;

	int nl = (int)need(x_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), "socket");
	need(x_sendto(nl, &req, sizeof(req), 0, &kernel, sizeof(kernel)), "sendto");
	while (!done) {
		int n = (int)need(x_recv(nl, buf, sizeof(buf), 0), "recv");
		if (n == 0)
			fail("netlink: end of file before NLMSG_DONE");
		for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, (unsigned int)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				done = true;
			else if (nh->nlmsg_type == NLMSG_ERROR)
				fail("netlink: RTM_GETLINK dump failed");
		}
	}
	need(x_close(nl, true), "close");
}

static pthread_barrier_t bar;

static void *thread_main(void *arg)
{
	int id = (int)(long)arg;
	struct sockaddr_in aa, ba;
	char buf[256];
	int a = udp_bound(&aa), b = udp_bound(&ba);

	/* all sockets exist before any is closed: no fd is reused meanwhile */
	pthread_barrier_wait(&bar);
	for (int k = 0; k < 5; k++) {
		need(x_sendto(a, payload, (size_t)(50 + 10 * id + k), 0, &ba, sizeof(ba)),
		     "sendto");
		need(x_recvfrom(b, buf, sizeof(buf), 0), "recvfrom");
	}
	pthread_barrier_wait(&bar);
	need(x_close(a, true), "close");
	need(x_close(b, true), "close");
	return NULL;
}

static void sc_threads(void)
{
	pthread_t t[2];

	pthread_barrier_init(&bar, NULL, 2);
	for (long i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)i))
			fail("pthread_create failed");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
}

/*
 * sendfile(2) and splice(2) to a TCP socket, 3,000,000 bytes each, from a
 * memfd, while a thread receives them. Before Linux 6.5 these take the
 * sendpage path, since then sock_sendmsg() with MSG_SPLICE_PAGES; how many
 * kernel sends that makes is the kernel's business, so only totals are
 * recorded (run.py's sendfile test checks them).
 */
#define BULK 3000000

static void *bulk_reader(void *arg)
{
	static char buf[65536];
	int fd = (int)(long)arg;
	size_t got = 0;
	while (got < 2 * (size_t)BULK) {
		long r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0)
			fail("bulk_reader: recv %ld after %zu bytes", r, got);
		got += (size_t)r;
	}
	gt_add("bulk_recv", fd, ",\"ret\":%zu", got);
	return NULL;
}

static void sc_sendfile(void)
{
	struct sockaddr_in la = loopback();
	socklen_t len = sizeof(la);
	int l = (int)need(x_socket(AF_INET, SOCK_STREAM, 0), "socket");
	need(x_bind(l, &la, sizeof(la)), "bind");
	need(x_listen(l, 4), "listen");
	need(x_getsockname(l, &la, &len), "getsockname");
	int c = (int)need(x_socket(AF_INET, SOCK_STREAM, 0), "socket");
	need(x_connect(c, &la, sizeof(la), STATE_CONNECTED), "connect");
	int s = (int)need(x_accept(l), "accept");

	int mf = (int)syscall(SYS_memfd_create, "socktap-bulk", 0);
	if (mf < 0)
		fail("memfd_create: %s", strerror(errno));
	for (size_t done = 0; done < BULK;) {
		size_t n = BULK - done < sizeof(payload) ? BULK - done : sizeof(payload);
		if (write(mf, payload, n) != (ssize_t)n)
			fail("write memfd: %s", strerror(errno));
		done += n;
	}
	pthread_t reader;
	if (pthread_create(&reader, NULL, bulk_reader, (void *)(long)s))
		fail("pthread_create failed");

	off_t off = 0;
	size_t sent = 0;
	int calls = 0;
	while (sent < BULK) {
		ssize_t r = sendfile(c, mf, &off, BULK - sent);
		if (r <= 0)
			fail("sendfile: %zd after %zu bytes", r, sent);
		sent += (size_t)r;
		calls++;
	}
	gt_add("sendfile", c, ",\"req\":%d,\"ret\":%zu,\"calls\":%d", BULK, sent, calls);

	int pfd[2];
	if (pipe(pfd))
		fail("pipe: %s", strerror(errno));
	loff_t in_off = 0;
	sent = 0;
	calls = 0;
	while (sent < BULK) {
		ssize_t n = splice(mf, &in_off, pfd[1], NULL, BULK - sent, 0);
		if (n <= 0)
			fail("splice to pipe: %zd", n);
		for (ssize_t left = n; left > 0;) {
			ssize_t r = splice(pfd[0], NULL, c, NULL, (size_t)left, 0);
			if (r <= 0)
				fail("splice to socket: %zd after %zu bytes", r, sent);
			left -= r;
			sent += (size_t)r;
			calls++;
		}
	}
	gt_add("splice", c, ",\"req\":%d,\"ret\":%zu,\"calls\":%d", BULK, sent, calls);
	pthread_join(reader, NULL);
	close(pfd[0]);
	close(pfd[1]);
	close(mf);
	need(x_close(c, true), "close");
	need(x_close(s, true), "close");
	need(x_close(l, true), "close");
}

/* ---- scenario "addrs": chosen addresses on lo, every end recorded ---- */

static struct sockaddr_in in4(const char *ip)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		fail("inet_pton(%s)", ip);
	return a;
}

static struct sockaddr_in6 in6(const char *ip)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	if (inet_pton(AF_INET6, ip, &a.sin6_addr) != 1)
		fail("inet_pton(%s)", ip);
	return a;
}

/*
 * Fixed ports of scenario addrs, for run.py's --port filters: the private
 * network namespace has them free. The other ports are the kernel's choice.
 */
#define ADDRS_TCP_PORT 5555 /* the IPv4 listener on 127.0.0.3 */
#define ADDRS_UDP_PORT 5556 /* the UDP socket on 127.0.0.3 */

/* An AF_INET socket of type on ip:port (0: the kernel's choice); *a: its address. */
static int bound4(int type, const char *ip, int port, struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = (int)need(x_socket(AF_INET, type, 0), "socket");
	*a = in4(ip);
	a->sin_port = htons((uint16_t)port);
	need(x_bind(fd, a, sizeof(*a)), "bind");
	need(x_getsockname(fd, a, &len), "getsockname");
	return fd;
}

/* v4 as an IPv4-mapped IPv6 address, for an AF_INET6 socket */
static struct sockaddr_in6 mapped(const struct sockaddr_in *v4)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = v4->sin_port};
	a.sin6_addr.s6_addr[10] = 0xff;
	a.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&a.sin6_addr.s6_addr[12], &v4->sin_addr, 4);
	return a;
}

static struct sockaddr_storage stor(const void *a, size_t len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, a, len);
	return ss;
}

/* TCP over IPv4: a client on 127.0.0.2 to a listener on 127.0.0.3, both ways. */
static void addrs_tcp4(void)
{
	struct sockaddr_in la, ca;
	int l = bound4(SOCK_STREAM, "127.0.0.3", ADDRS_TCP_PORT, &la);
	need(x_listen(l, 4), "listen");
	int c = bound4(SOCK_STREAM, "127.0.0.2", 0, &ca);
	need(x_connect(c, &la, sizeof(la), STATE_CONNECTED), "connect");
	int s = (int)need(x_accept(l), "accept");

	need(x_send(c, payload, 100, 0), "send");
	read_exact(s, 100, RD_RECV);
	need(x_send(s, payload, 77, 0), "send");
	read_exact(c, 77, RD_RECVFROM);
	need(x_write(c, payload, 31), "write");
	read_exact(s, 31, RD_READ);
	struct iovec mv[2] = {{payload, 5}, {payload + 5, 8}};
	need(x_sendmsg(s, mv, 2, 0, NULL, 0), "sendmsg");
	read_exact(c, 13, RD_RECVMSG);
	char buf[64];
	expect_err(x_recv(c, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT recv");
	need(x_close(c, true), "close");
	need(x_close(s, true), "close");
	need(x_close(l, true), "close");
}

/* TCP over ::1. false: this namespace has no ::1 (recorded as a note). */
static bool addrs_tcp6(void)
{
	struct sockaddr_in6 la = in6("::1");
	socklen_t len = sizeof(la);
	int l = (int)res(x_socket(AF_INET6, SOCK_STREAM, 0));
	if (l < 0) {
		gt_add("note", -1,
		       ",\"text\":\"no IPv6 (socket: %s): the IPv6 parts are left out\"",
		       strerror(-l));
		return false;
	}
	int r = x_bind(l, &la, sizeof(la));
	if (r < 0) {
		gt_add("note", -1, ",\"text\":\"no ::1 (bind: %s): the IPv6 parts are left out\"",
		       strerror(-r));
		need(x_close(l, true), "close");
		return false;
	}
	need(x_listen(l, 4), "listen");
	need(x_getsockname(l, &la, &len), "getsockname");
	int c = (int)need(x_socket(AF_INET6, SOCK_STREAM, 0), "socket");
	need(x_connect(c, &la, sizeof(la), STATE_CONNECTED), "connect");
	int s = (int)need(x_accept(l), "accept");

	need(x_send(c, payload, 60, 0), "send");
	read_exact(s, 60, RD_RECV);
	need(x_write(s, payload, 45), "write");
	read_exact(c, 45, RD_READV);
	need(x_close(s, true), "close");
	need(x_close(c, true), "close");
	need(x_close(l, true), "close");
	return true;
}

/*
 * Unconnected UDP: one socket on 127.0.0.1 to 127.0.0.2:P1 and
 * 127.0.0.3:P2 by sendto, sendmsg and sendmmsg (one call, different
 * destinations); received by recvfrom, recv (no address buffer), recvmsg
 * (with and without msg_name) and recvmmsg. Then an AF_INET6 socket on
 * ::ffff:127.0.0.1 (dual-stack) receives from the IPv4 socket on 127.0.0.2.
 */
static void addrs_udp(bool v6)
{
	struct sockaddr_in a1, a2, a3;
	char buf[2048];
	int u1 = bound4(SOCK_DGRAM, "127.0.0.1", 0, &a1);
	int u2 = bound4(SOCK_DGRAM, "127.0.0.2", 0, &a2);
	int u3 = bound4(SOCK_DGRAM, "127.0.0.3", ADDRS_UDP_PORT, &a3);

	need(x_sendto(u1, payload, 101, 0, &a2, sizeof(a2)), "sendto");
	need(x_sendto(u1, payload, 102, 0, &a3, sizeof(a3)), "sendto");
	need(x_recvfrom(u2, buf, sizeof(buf), 0), "recvfrom");
	need(x_recv_src(u3, buf, sizeof(buf), 0, &a1, sizeof(a1)), "recv");

	struct iovec siov[2] = {{payload, 40}, {payload + 40, 63}};
	need(x_sendmsg(u1, siov, 2, 0, &a3, sizeof(a3)), "sendmsg");
	need(x_sendmsg(u1, siov, 1, 0, &a2, sizeof(a2)), "sendmsg");
	struct iovec riov[1] = {{buf, sizeof(buf)}};
	need(x_recvmsg(u3, riov, 1, 0), "recvmsg");
	need(x_recvmsg_src(u2, riov, 1, 0, true, &a1, sizeof(a1)), "recvmsg");

	/* another sender: u3's next datagram comes from 127.0.0.2 */
	need(x_sendto(u2, payload, 55, 0, &a3, sizeof(a3)), "sendto");
	need(x_recvfrom(u3, buf, sizeof(buf), 0), "recvfrom");

	/* one sendmmsg, three destinations in turn */
	struct iovec miov[3] = {{payload, 110}, {payload, 120}, {payload, 130}};
	struct mmsghdr sv[3] = {
	    {.msg_hdr = {.msg_name = &a2,
			 .msg_namelen = sizeof(a2),
			 .msg_iov = &miov[0],
			 .msg_iovlen = 1}},
	    {.msg_hdr = {.msg_name = &a3,
			 .msg_namelen = sizeof(a3),
			 .msg_iov = &miov[1],
			 .msg_iovlen = 1}},
	    {.msg_hdr = {.msg_name = &a2,
			 .msg_namelen = sizeof(a2),
			 .msg_iov = &miov[2],
			 .msg_iovlen = 1}},
	};
	if (need(x_sendmmsg(u1, sv, 3, 0), "sendmmsg") != 3)
		fail("sendmmsg: not all three sent");
	/* u2 holds two: the first into a name buffer, the second without one */
	static char rb[3][512];
	struct sockaddr_storage from0;
	struct iovec rv_iov[3] = {{rb[0], 512}, {rb[1], 512}, {rb[2], 512}};
	struct mmsghdr rv[2] = {
	    {.msg_hdr = {.msg_name = &from0,
			 .msg_namelen = sizeof(from0),
			 .msg_iov = &rv_iov[0],
			 .msg_iovlen = 1}},
	    {.msg_hdr = {.msg_iov = &rv_iov[1], .msg_iovlen = 1}},
	};
	struct sockaddr_storage srcs[2] = {stor(&a1, sizeof(a1)), stor(&a1, sizeof(a1))};
	if (need(x_recvmmsg_src(u2, rv, 2, 0, srcs), "recvmmsg") != 2)
		fail("recvmmsg: not both received");
	struct sockaddr_storage from1;
	struct mmsghdr rv3[1] = {
	    {.msg_hdr = {.msg_name = &from1,
			 .msg_namelen = sizeof(from1),
			 .msg_iov = &rv_iov[2],
			 .msg_iovlen = 1}},
	};
	if (need(x_recvmmsg(u3, rv3, 1, 0), "recvmmsg") != 1)
		fail("recvmmsg: nothing received");

	/* back the other way: u1 hears from 127.0.0.3 */
	need(x_sendto(u3, payload, 66, 0, &a1, sizeof(a1)), "sendto");
	need(x_recvfrom(u1, buf, sizeof(buf), 0), "recvfrom");

	/* failures: no destination, nothing queued (with and without an address buffer) */
	expect_err(x_send(u1, payload, 10, 0), EDESTADDRREQ, "send on an unconnected UDP socket");
	expect_err(x_recv(u2, buf, 64, MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT recv");
	expect_err(x_recvfrom(u3, buf, 64, MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT recvfrom");

	if (v6) {
		/* dual-stack: an AF_INET6 socket on ::ffff:127.0.0.1 hears IPv4 senders */
		struct sockaddr_in6 d = in6("::ffff:127.0.0.1");
		socklen_t len = sizeof(d);
		int off = 0;
		int u6 = (int)need(x_socket(AF_INET6, SOCK_DGRAM, 0), "socket");
		if (setsockopt(u6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
			fail("IPV6_V6ONLY: %s", strerror(errno));
		need(x_bind(u6, &d, sizeof(d)), "bind");
		need(x_getsockname(u6, &d, &len), "getsockname");
		struct sockaddr_in d4 = in4("127.0.0.1");
		d4.sin_port = d.sin6_port;
		need(x_sendto(u2, payload, 71, 0, &d4, sizeof(d4)), "sendto");
		need(x_recvfrom(u6, buf, sizeof(buf), 0), "recvfrom");
		need(x_sendto(u3, payload, 72, 0, &d4, sizeof(d4)), "sendto");
		struct sockaddr_in6 m3 = mapped(&a3);
		need(x_recv_src(u6, buf, sizeof(buf), 0, &m3, sizeof(m3)), "recv");
		/* and back, to a mapped destination */
		struct sockaddr_in6 m2 = mapped(&a2);
		need(x_sendto(u6, payload, 73, 0, &m2, sizeof(m2)), "sendto");
		need(x_recvfrom(u2, buf, sizeof(buf), 0), "recvfrom");
		need(x_close(u6, true), "close");
	}
	need(x_close(u1, true), "close");
	need(x_close(u2, true), "close");
	need(x_close(u3, true), "close");
}

static socklen_t unix_path(struct sockaddr_un *a, const char *dir, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(a->sun_path))
		fail("unix path too long: %s/%s", dir, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
}

/* Named unix stream sockets, both ends bound, in a directory made and removed here. */
static void addrs_unix_stream(void)
{
	char dir[] = "/tmp/socktap-addrs-XXXXXX";
	struct sockaddr_un sa, ca;
	char buf[256];

	if (!mkdtemp(dir))
		fail("mkdtemp: %s", strerror(errno));
	socklen_t slen = unix_path(&sa, dir, "srv.sock");
	socklen_t clen = unix_path(&ca, dir, "cli.sock");
	int l = (int)need(x_socket(AF_UNIX, SOCK_STREAM, 0), "socket");
	need(x_bind(l, &sa, slen), "bind");
	need(x_listen(l, 2), "listen");
	int c = (int)need(x_socket(AF_UNIX, SOCK_STREAM, 0), "socket");
	need(x_bind(c, &ca, clen), "bind");
	need(x_connect(c, &sa, slen, STATE_CONNECTED), "connect");
	int s = (int)need(x_accept(l), "accept");
	/* and one unnamed client: its peer has a name, it has none */
	int u = (int)need(x_socket(AF_UNIX, SOCK_STREAM, 0), "socket");
	need(x_connect(u, &sa, slen, STATE_CONNECTED), "connect");
	int su = (int)need(x_accept(l), "accept");

	need(x_send(c, payload, 24, 0), "send");
	need(x_recv(s, buf, sizeof(buf), 0), "recv");
	need(x_write(s, payload, 25), "write");
	need(x_read(c, buf, sizeof(buf)), "read");
	need(x_send(u, payload, 26, 0), "send");
	need(x_recvfrom(su, buf, sizeof(buf), 0), "recvfrom");
	need(x_sendto(su, payload, 27, 0, NULL, 0), "sendto");
	need(x_recv(u, buf, sizeof(buf), 0), "recv");
	need(x_close(c, true), "close");
	need(x_close(s, true), "close");
	need(x_close(u, true), "close");
	need(x_close(su, true), "close");
	need(x_close(l, true), "close");
	if (unlink(sa.sun_path) || unlink(ca.sun_path) || rmdir(dir))
		fail("removing %s: %s", dir, strerror(errno));
}

/* An abstract name with a NUL byte inside it: "\0socktap-PID\0tag" (shown "@socktap-PID@tag"). */
static socklen_t unix_abstract_nul(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "socktap-%d", getpid());
	int m = snprintf(a->sun_path + 2 + n, sizeof(a->sun_path) - 2 - (size_t)n, "%s", tag);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 2 + (size_t)n + (size_t)m);
}

/* Abstract unix datagrams: bind + sendto, then connect (no socketpair). */
static void addrs_unix_dgram(void)
{
	struct sockaddr_un sa, ca;
	char buf[256];
	socklen_t slen = unix_abstract_nul(&sa, "dg-srv");
	socklen_t clen = unix_abstract(&ca, "dg-cli");

	int srv = (int)need(x_socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
	need(x_bind(srv, &sa, slen), "bind");
	int cli = (int)need(x_socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
	need(x_bind(cli, &ca, clen), "bind");
	/* unconnected: the destination named is no peer: raddr null */
	need(x_sendto(cli, payload, 19, 0, &sa, slen), "sendto");
	need(x_recvfrom(srv, buf, sizeof(buf), 0), "recvfrom");
	need(x_connect(cli, &sa, slen, STATE_UNCONNECTED), "connect");
	need(x_send(cli, payload, 21, 0), "send");
	need(x_recv(srv, buf, sizeof(buf), 0), "recv");
	need(x_connect(srv, &ca, clen, STATE_UNCONNECTED), "connect");
	need(x_send(srv, payload, 23, 0), "send");
	need(x_recvfrom(cli, buf, sizeof(buf), 0), "recvfrom");
	need(x_close(cli, true), "close");
	need(x_close(srv, true), "close");
}

/* A netlink socket: all four null. */
static void addrs_netlink(void)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
	} req = {
	    .nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)),
		   .nlmsg_type = RTM_GETADDR,
		   .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		   .nlmsg_seq = 7},
	    .g = {.rtgen_family = AF_INET},
	};
	static char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int nl = (int)need(x_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), "socket");
	/* not a dump: one reply, the ack (an error message with error 0) */
	need(x_sendto(nl, &req, sizeof(req), 0, &kernel, sizeof(kernel)), "sendto");
	need(x_recv(nl, buf, sizeof(buf), 0), "recv");
	need(x_close(nl, true), "close");
}

static void sc_addrs(void)
{
	addrs_tcp4();
	bool v6 = addrs_tcp6();
	addrs_udp(v6);
	addrs_unix_stream();
	addrs_unix_dgram();
	addrs_netlink();
}

#ifdef HAVE_LIBURING
static int uring_one(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int r = io_uring_submit_and_wait(ring, 1);
	if (r < 0)
		fail("io_uring_submit_and_wait: %s", strerror(-r));
	r = io_uring_wait_cqe(ring, &cqe);
	if (r < 0)
		fail("io_uring_wait_cqe: %s", strerror(-r));
	r = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return r;
}

static void sc_iouring(void)
{
	struct io_uring ring;
	char buf[256];
	int sv[2];

	need(x_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
	int r = io_uring_queue_init(4, &ring, 0);
	if (r < 0)
		fail("io_uring_queue_init: %s", strerror(-r));

	io_uring_prep_send(io_uring_get_sqe(&ring), sv[0], payload, 77, 0);
	r = uring_one(&ring);
	gt_add("uring_send", sv[0], ",\"req\":%d,\"ret\":%d", 77, r);
	need(r, "IORING_OP_SEND");
	/* the data is already queued: the receive succeeds at its first attempt */
	io_uring_prep_recv(io_uring_get_sqe(&ring), sv[1], buf, sizeof(buf), 0);
	r = uring_one(&ring);
	gt_add("uring_recv", sv[1], ",\"req\":%zu,\"ret\":%d", sizeof(buf), r);
	need(r, "IORING_OP_RECV");
	/* READ/WRITE on a socket go through sock_write_iter/sock_read_iter */
	io_uring_prep_write(io_uring_get_sqe(&ring), sv[0], payload, 33, 0);
	r = uring_one(&ring);
	gt_add("uring_write", sv[0], ",\"req\":%d,\"ret\":%d", 33, r);
	need(r, "IORING_OP_WRITE");
	io_uring_prep_read(io_uring_get_sqe(&ring), sv[1], buf, sizeof(buf), 0);
	r = uring_one(&ring);
	gt_add("uring_read", sv[1], ",\"req\":%zu,\"ret\":%d", sizeof(buf), r);
	need(r, "IORING_OP_READ");

	io_uring_queue_exit(&ring);
	need(x_close(sv[0], true), "close");
	need(x_close(sv[1], true), "close");
}
#else
static void sc_iouring(void)
{
	gt_add("skip", -1, ",\"reason\":\"%s\"", "built without liburing (no HAVE_LIBURING)");
}
#endif

static const struct scenario {
	const char *name;
	void (*run)(void);
	bool addrs; /* records carry addresses */
} scenarios[] = {
    {"udp", sc_udp},
    {"tcp", sc_tcp},
    {"unix", sc_unix},
    {"mmsg", sc_mmsg},
    {"dup", sc_dup},
    {"fork", sc_fork},
    {"exit", sc_exit},
    {"exec", sc_exec},
    {"close_range", sc_close_range},
    {"dup2", sc_dup2},
    {"emfile", sc_emfile},
    {"socketpair_inet", sc_socketpair_inet},
    {"badfamily", sc_badfamily},
    {"netlink", sc_netlink},
    {"threads", sc_threads},
    {"iouring", sc_iouring},
    {"sendfile", sc_sendfile},
    {"addrs", sc_addrs, true},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: workload SCENARIO | workload list\nscenarios:");
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
		fprintf(f, " %s", scenarios[i].name);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	struct stat sb;

	if (fstat(STDOUT_FILENO, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		fprintf(stderr, "workload: stdout is a socket: its writes would be traced\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (char)('a' + i % 26);

	if (argc == 3 && strcmp(argv[1], "exec-child") == 0)
		exec_child(argv[2]);
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
			printf("%s\n", scenarios[i].name);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (strcmp(argv[1], scenarios[i].name) == 0) {
			addrs_on = scenarios[i].addrs;
			record_self();
			setup_netns();
			scenarios[i].run();
			proc_exit(NULL, 0);
		}
	}
	fprintf(stderr, "workload: unknown scenario '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
