/* SPDX-License-Identifier: GPL-2.0 */
/* Sends and receives on fentry/fexit, for kernels without the tracepoints. */
#ifndef ST_XFER_FENTRY_BPF_H
#define ST_XFER_FENTRY_BPF_H

/*
 * Kernels without the sock_*_length tracepoints (before Linux 6.3): the
 * functions every send and receive passes through, once.
 *
 * Sends: __sock_sendmsg(). Since Linux 6.6 (commit 86a7e0b69bd5 "net:
 * prevent rewrite of msg_name in sock_sendmsg()", backported to 6.1.y and
 * others) the syscalls and sock_write_iter() call it directly and
 * sock_sendmsg() wraps it, so fentry on sock_sendmsg sees no user sends
 * there; older kernels have no __sock_sendmsg and sock_sendmsg() is the
 * place. Both are candidates in src/lib/probes.c, in that order. One path
 * bypasses both: sendmmsg() sending to the same address as the previous
 * message calls the inlined sock_sendmsg_nosec() from ____sys_sendmsg()
 * (the used_address shortcut), taken below.
 *
 * Receives: sock_recvmsg(), except recvmmsg()'s messages after the first,
 * which ____sys_recvmsg() receives with the inlined sock_recvmsg_nosec()
 * (its nosec argument), taken below.
 */
SEC("fexit/__sock_sendmsg")
int BPF_PROG(st_send_fexit, struct socket *sock, struct msghdr *msg, int ret)
{
	if (!want_send)
		return 0;
	/* this send, where __sock_sendmsg() is not inlined: its caller must not count it too */
	send_take();
	bump_sends();
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

SEC("fexit/sock_sendmsg")
int BPF_PROG(st_send_fexit_old, struct socket *sock, struct msghdr *msg, int ret)
{
	if (!want_send)
		return 0;
	bump_sends();
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

SEC("fexit/sock_recvmsg")
int BPF_PROG(st_recv_fexit, struct socket *sock, struct msghdr *msg, int flags, int ret)
{
	if (!want_recv)
		return 0;
	return handle_xfer(ctx, sock->sk, ret, false, true);
}

SEC("fexit/____sys_recvmsg")
int BPF_PROG(st_recv_nosec_fexit, struct socket *sock, struct msghdr *msg_sys, void *msg,
	     void *uaddr, unsigned int flags, int nosec, int ret)
{
	if (!want_recv || !nosec)
		return 0;
	return handle_xfer(ctx, sock->sk, ret, false, true);
}

SEC("fentry/____sys_sendmsg")
int BPF_PROG(st_mmsg_fentry, struct socket *sock, struct msghdr *msg_sys, unsigned int flags,
	     struct used_address *used_address)
{
	if (want_send && used_address)
		mmsg_mark();
	return 0;
}

SEC("fexit/____sys_sendmsg")
int BPF_PROG(st_mmsg_fexit, struct socket *sock, struct msghdr *msg_sys, unsigned int flags,
	     struct used_address *used_address, unsigned int allowed_msghdr_flags, int ret)
{
	if (!want_send || !used_address || !mmsg_bypassed(used_address->name_len))
		return 0;
	/* the message went out through the inlined sock_sendmsg_nosec() */
	if (!same_address(&used_address->name, msg_sys->msg_name, msg_sys->msg_namelen,
			  used_address->name_len))
		return 0;
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

/* __sock_sendmsg() inlined everywhere: see send_arm(). */
SEC("fexit/security_socket_sendmsg")
int BPF_PROG(st_secsend_fexit, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	if (!want_send || ret)
		return 0;
	/* make the cookie now, where the socket is typed: the callers read it back */
	if (feat_xfer_cookie && sock->sk)
		bpf_get_socket_cookie(sock->sk);
	send_arm(sock);
	return 0;
}

SEC("fexit/sock_sendmsg")
int BPF_PROG(st_sock_sendmsg_armed, struct socket *sock, struct msghdr *msg, int ret)
{
	return want_send ? armed_xfer(ctx, ret, ST_PATH_STACK) : 0;
}

SEC("fexit/__sys_sendto")
int BPF_PROG(st_sendto_armed, int fd, void *buff, size_t len, unsigned int flags, void *addr,
	     int addr_len, int ret)
{
	return want_send ? armed_xfer(ctx, ret, ST_PATH_STACK) : 0;
}

SEC("fexit/sock_write_iter")
int BPF_PROG(st_write_iter_armed, struct kiocb *iocb, struct iov_iter *from, long ret)
{
	struct socket *sock = want_send ? send_take() : 0;
	if (!sock)
		return 0;
	bump_sends();
	/* the write_iter path itself: no stack needed */
	return handle_xfer_path(ctx, BPF_CORE_READ(sock, sk), (int)ret, true, false,
				ST_OP_AIO_WRITE);
}

/* and sendmmsg's used_address shortcut, which passes no LSM hook */
SEC("fexit/____sys_sendmsg")
int BPF_PROG(st_sysmsg_armed, struct socket *sock, struct msghdr *msg_sys, unsigned int flags,
	     struct used_address *used_address, unsigned int allowed_msghdr_flags, int ret)
{
	if (!want_send)
		return 0;
	if (send_take()) {
		bump_sends();
		return handle_xfer(ctx, sock->sk, ret, true, true);
	}
	/* no send hook counted anything since ____sys_sendmsg() began (st_mmsg_fentry) */
	if (!used_address || !mmsg_bypassed(used_address->name_len) ||
	    !same_address(&used_address->name, msg_sys->msg_name, msg_sys->msg_namelen,
			  used_address->name_len))
		return 0;
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

/* The sendpage path (before Linux 6.5): see sendpage_enter(). */
SEC("fentry/kernel_sendpage")
int BPF_PROG(st_sendpage_fentry, struct socket *sock)
{
	if (want_send)
		sendpage_enter(sock);
	return 0;
}

SEC("fexit/kernel_sendpage")
int BPF_PROG(st_sendpage_fexit, struct socket *sock, struct page *page, int offset, size_t size,
	     int flags, int ret)
{
	if (!want_send || !sendpage_exit())
		return 0;
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

SEC("fentry/sock_sendpage")
int BPF_PROG(st_fsendpage_fentry, struct file *file)
{
	if (want_send)
		sendpage_enter(BPF_CORE_READ(file, private_data));
	return 0;
}

/* the file's socket is a void * (private_data): read as a kprobe would */
SEC("fexit/sock_sendpage")
int BPF_PROG(st_fsendpage_fexit, struct file *file, struct page *page, int offset, size_t size,
	     loff_t *ppos, int more, long ret)
{
	struct socket *sock;
	if (!want_send || !(sock = sendpage_exit()))
		return 0;
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), (int)ret, true, false);
}

#endif /* ST_XFER_FENTRY_BPF_H */
