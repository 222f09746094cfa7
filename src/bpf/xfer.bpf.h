/* SPDX-License-Identifier: GPL-2.0 */
/* Sends and receives: one record (or one count) per transfer, whatever backs it. */
#ifndef ST_XFER_BPF_H
#define ST_XFER_BPF_H

/*
 * The socket values a send/receive record needs. btf: sk is BTF-typed
 * (tracepoint and fentry arguments), so fields are plain loads; else
 * (kprobes) every read is a probe read. The flag is a constant at each
 * call site: the other branch compiles away.
 */
struct xsock {
	__s32 family, type, protocol, state, skfamily;
	__u64 flags, cookie;
	struct file *file;
	struct socket *sock;
};

/*
 * full: every value a record carries; else only what counting needs (the
 * type only when something looks at it).
 */
static __always_inline bool xsock_read(struct sock *sk, struct xsock *x, bool btf, bool full,
				       bool need_type)
{
	if (btf) {
		x->skfamily = sk->__sk_common.skc_family;
		x->protocol = sk_protocol_btf(sk);
		if (!full && !need_type)
			return true;
		struct socket *sock = sk->sk_socket;
		if (!sock)
			return false;
		x->type = sock->type;
		x->sock = sock;
		if (!full)
			return true;
		x->family = sock->ops->family;
		x->state = sock->state;
		x->flags = sock->flags;
		x->file = sock->file;
		/* makes the cookie if nothing has yet; else the one already made */
		x->cookie = feat_xfer_cookie ? bpf_get_socket_cookie(sk) : sk_cookie_peek(sk);
		return true;
	}
	x->skfamily = BPF_CORE_READ(sk, __sk_common.skc_family);
	x->protocol = sk_protocol_of(sk);
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);
	if (!sock)
		return false;
	x->sock = sock;
	x->type = BPF_CORE_READ(sock, type);
	x->family = BPF_CORE_READ(sock, ops, family);
	x->state = BPF_CORE_READ(sock, state);
	x->flags = BPF_CORE_READ(sock, flags);
	x->file = BPF_CORE_READ(sock, file);
	/* no BTF pointer, no helper: the cookie only if something made it already */
	x->cookie = sk_cookie_peek(sk);
	return true;
}

/*
 * The syscall the current task is in: its number (-1 when none: a kernel
 * thread, io_uring, task work after a syscall) and its saved registers.
 */
static __always_inline __s64 xfer_syscall(struct task_struct *t, __u32 tflags, struct uregs *regs,
					  bool *have_regs, bool *compat)
{
	if (tflags & (ST_PF_IO_WORKER | ST_PF_KTHREAD))
		return -1;
	*have_regs = task_uregs(t, regs);
	if (task_in_compat_syscall(t)) {
		*compat = true;
		return -1;
	}
	/*
	 * Inside a syscall the entry code keeps -ENOSYS in ax; after it (task
	 * work, e.g. io_uring retries) ax holds the result and orig_ax a
	 * syscall that is over.
	 */
	if (*have_regs && regs->ax == -ENOSYS)
		return regs->orig_ax;
	return -1;
}

/* What xfer_addrs() needs to know of the transfer. */
struct addr_query {
	__u64 cookie; /* the socket's, 0 if not read */
	__s64 nr;     /* the syscall, -1 if none */
	__s64 idx;    /* sendmmsg's message, -1 if not known */
	__s32 family, type;
	bool is_send;
};

/*
 * The two ends of a transfer, into x->a. Inet streams and connected
 * datagram sockets: the socket's. An unconnected datagram socket's other
 * end is the message's: the destination its send named (message idx of a
 * sendmmsg), the source of the datagram its receive took. Unix sockets:
 * their paths travel in the record (rec_begin_sk).
 */
static __always_inline void xfer_addrs(struct sock *sk, const struct addr_query *q,
				       const struct uregs *regs, struct addr_scratch *x)
{
	if (q->family != ST_AF_INET && q->family != ST_AF_INET6)
		return;
	sk_addrs(sk, q->family, &x->a);
	if (q->type == ST_SOCK_STREAM)
		return;
	bool named = q->is_send
			 ? (q->nr != NR_sendmmsg || q->idx >= 0) && msg_dest(q->nr, regs, q->idx, x)
			 : take_dgram_src(q->cookie, &x->m);
	if (named) {
		__builtin_memcpy(x->a.raddr, x->m.raddr, 16);
		x->a.rport = x->m.rport;
		x->a.rfamily = x->m.rfamily;
	}
}

/* The transfer's ends, in this CPU's scratch; 0 when the address filters reject them. */
static __always_inline struct addr_scratch *xfer_ends(struct sock *sk, const struct addr_query *q,
						      const struct uregs *regs)
{
	struct addr_scratch *ax = addr_scratch_get();
	if (!ax)
		return 0;
	xfer_addrs(sk, q, regs, ax);
	return addrs_selected(&ax->a) ? ax : 0;
}

/* The current message's index in an mmsg call, for counting (nothing else advances it). */
static __always_inline __s64 mmsg_idx_next(struct task_struct *t, __s64 nr)
{
	if (nr != NR_sendmmsg)
		return -1;
	struct inflight *inf = task_state(&inflight, t, false);
	if (!inf || inf->nr != (__u32)nr + 1)
		return -1;
	return inf->idx++;
}

/*
 * path: which of sock_write_iter/sock_read_iter the transfer came through,
 * for io_uring READ/WRITE and other paths without a syscall to tell:
 * ST_PATH_STACK to look at the kernel stack here, or what the caller knows
 * already (a kretprobe's stack no longer shows it on some kernels: its
 * kprobe looked at entry).
 */
#define ST_PATH_STACK (-2)
static __always_inline int handle_xfer_path(void *ctx, struct sock *sk, int ret, bool is_send,
					    bool btf, int path)
{
	struct xsock x = {};
	/* ids from the BTF-typed task: plain loads rather than another helper call */
	struct task_struct *t = cur_task();
	__u64 pid_tgid =
	    feat_task_btf ? (__u64)t->tgid << 32 | (__u32)t->pid : bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (!task_selected(tgid))
		return 0;
	if (feat_selftest && is_send)
		return *(volatile int *)(long)bpf_get_prandom_u32(); /* no verifier takes this */

	if (aggregate) {
		/*
		 * Counting must cost next to nothing: sk_family instead of
		 * sock->ops->family (the same number: __sock_create() gives the
		 * sock the family whose ops it installs), no clock unless a
		 * latency histogram wants it, no socket type unless filtered on.
		 */
		bool need_addrs = (aggregate & ST_AGG_CONNS) || filter_port || filter_addr;
		if (!xsock_read(sk, &x, btf, false,
				filter_type || need_addrs || (aggregate & ST_AGG_SERIES)) ||
		    !sock_selected(x.skfamily, x.type, x.protocol))
			return 0;
		struct addr_scratch *ax = 0;
		if (need_addrs) {
			struct uregs regs = {};
			bool have_regs = false, compat = false;
			__s64 nr = -1, idx = -1;
			if (is_send && x.type != ST_SOCK_STREAM) {
				nr = xfer_syscall(t, TASK_GET(t, flags, flags), &regs, &have_regs,
						  &compat);
				idx = mmsg_idx_next(t, nr);
			}
			struct addr_query q = {.nr = nr,
					       .idx = idx,
					       .family = x.skfamily,
					       .type = x.type,
					       .is_send = is_send};
			ax = xfer_ends(sk, &q, &regs);
			if (!ax)
				return 0;
		}
		__u64 at = (aggregate & ST_AGG_HIST_LATENCY) ? bpf_ktime_get_ns() : 0;
		aggregate_xfer(t, tgid, sk, x.sock, x.skfamily, x.type, x.protocol, ax ? &ax->a : 0,
			       ret, is_send, at);
		return 0;
	}

	if (!xsock_read(sk, &x, btf, true, true))
		return 0;
	__s32 family = x.family, type = x.type, protocol = x.protocol;
	if (!sock_selected(family, type, protocol))
		return 0;

	__u64 now = bpf_ktime_get_ns();
	__u32 tflags = TASK_GET(t, flags, flags);
	__u8 op = is_send ? ST_OP_SENDMSG : ST_OP_RECVMSG;
	__u8 origin = ST_ORIGIN_KERNEL;
	__u8 rflags = ST_RF_SOCK_VALS;
	__s32 fd = -1;
	__s64 size_req = -1;
	__u64 ts_enter = now;
	__s64 nr = -1;
	struct uregs regs = {};
	bool have_regs = false;

	bool compat = false;
	if (tflags & ST_PF_IO_WORKER)
		origin = ST_ORIGIN_IO_URING;
	else
		nr = xfer_syscall(t, tflags, &regs, &have_regs, &compat);
	if (compat)
		rflags |= ST_RF_COMPAT;

	/* Which syscall reached the protocol, and is it this socket's fd? */
	__s32 want_op = -1;
	int fd_reg = 0; /* which argument is the socket's fd */
	switch (nr) {
	case NR_sendto:
	case NR_sendmsg:
	case NR_sendmmsg:
		want_op = ST_OP_SENDMSG;
		break;
	case NR_sendfile:
		/* Linux >= 6.5: sendfile and splice reach sock_sendmsg() (MSG_SPLICE_PAGES) */
		want_op = ST_OP_SENDMSG;
		break;
	case NR_splice:
		want_op = ST_OP_SENDMSG;
		fd_reg = 2; /* splice(fd_in, off_in, fd_out, ...) */
		break;
	case NR_write:
		want_op = ST_OP_AIO_WRITE;
		break;
	case NR_writev:
	case NR_pwritev2:
		want_op = ST_OP_WRITEV;
		break;
	case NR_recvfrom:
	case NR_recvmsg:
	case NR_recvmmsg:
		want_op = ST_OP_RECVMSG;
		break;
	case NR_read:
		want_op = ST_OP_AIO_READ;
		break;
	case NR_readv:
	case NR_preadv2:
		want_op = ST_OP_READV;
		break;
	case NR_io_uring_enter:
		origin = ST_ORIGIN_IO_URING;
		break;
	}
	if (want_op >= 0 && (want_op < ST_OP_RECVMSG) == is_send && have_regs) {
		__s64 rfd = (__s32)(fd_reg == 2 ? regs.dx : regs.di);
		/* an in-kernel socket user inside some other fd's syscall is not this fd's op */
		if (fd_file(t, rfd) == x.file) {
			op = want_op;
			origin = ST_ORIGIN_SYSCALL;
			fd = rfd;
		}
	}
	if (origin != ST_ORIGIN_SYSCALL && want_iter && feat_stack && write_iter_hi) {
		/* io_uring READ/WRITE and splice-like paths go through sock_*_iter */
		int p = path == ST_PATH_STACK ? stack_path(ctx) : path;
		if (p == ST_OP_AIO_WRITE && is_send)
			op = ST_OP_AIO_WRITE;
		else if (p == ST_OP_AIO_READ && !is_send)
			op = ST_OP_AIO_READ;
	}

	__s64 msg_idx = -1; /* an mmsg call's current message */
	if (origin == ST_ORIGIN_SYSCALL && (want_entry || want_addrs)) {
		struct inflight *inf = task_state(&inflight, t, false);
		if (inf && inf->nr == (__u32)nr + 1) {
			ts_enter = inf->ts;
			msg_idx = inf->idx;
			rflags |= ST_RF_ENTRY;
			/* the next message of a sendmmsg/recvmmsg starts now */
			inf->ts = now;
			inf->idx = msg_idx + 1;
		}
		if (want_entry) {
			size_req = requested_size(nr, regs.si, regs.dx,
						  msg_idx >= 0 ? (__u32)msg_idx : ~0U);
			if (size_req >= 0)
				rflags |= ST_RF_SIZE_REQ;
		}
	}

	struct addr_scratch *ax = 0;
	if (want_addrs || filter_port || filter_addr) {
		struct addr_query q = {.cookie = x.cookie,
				       .nr = nr,
				       .idx = msg_idx,
				       .family = family,
				       .type = type,
				       .is_send = is_send};
		ax = xfer_ends(sk, &q, &regs);
		if (!ax)
			return 0;
	}

	struct st_rec *r = rec_begin_sk(ST_REC_XFER, fanout_xfer[op < ST_OP__COUNT ? op : 0],
					pid_tgid, now, sk, family);
	if (!r)
		return 0;
	r->op = op;
	r->origin = origin;
	r->rflags |= rflags;
	if (want_addrs && ax)
		r->addrs = ax->a;
	r->fd = fd;
	r->ts_enter = ts_enter;
	r->cookie = x.cookie;
	r->sflags = x.flags;
	r->size_req = size_req;
	r->ret = ret;
	r->family = family;
	r->type = type;
	r->protocol = protocol;
	r->state = x.state;
	rec_submit(r);
	return 0;
}

static __always_inline int handle_xfer(void *ctx, struct sock *sk, int ret, bool is_send, bool btf)
{
	return handle_xfer_path(ctx, sk, ret, is_send, btf, ST_PATH_STACK);
}

#endif /* ST_XFER_BPF_H */
