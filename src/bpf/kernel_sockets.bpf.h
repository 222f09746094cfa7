/* SPDX-License-Identifier: GPL-2.0 */
/* Cookies at birth (cgroup/sock_create) and the kernel's own sockets (fentry). */
#ifndef ST_KERNEL_SOCKETS_BPF_H
#define ST_KERNEL_SOCKETS_BPF_H

/*
 * Socket cookies are made lazily, and BPF can make one only from a
 * BTF-typed socket, which socket(2)'s exit does not offer once the fd
 * table has grown past 64 slots (see cookie_by_fd). Inet sockets get
 * theirs at birth here instead, so socket.create can carry it. Allows
 * every socket: this program only observes.
 */
SEC("cgroup/sock_create")
int st_sock_create(struct bpf_sock *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct created *c = bpf_map_lookup_elem(&created, &tid);
	if (c && c->n < 2)
		c->cookie[c->n++ & 1] = cookie;
	return 1;
}

/*
 * Sockets the kernel creates and releases for itself (requester = 1: per
 * network namespace control sockets, NFS, tunnels...), where fentry can
 * see __sock_create() and __sock_release(); syscalls cannot. User
 * sockets stay with the syscall hooks, which know their fds.
 */
SEC("fexit/__sock_create")
int BPF_PROG(st_kcreate_fexit, struct net *net, int family, int type, int protocol,
	     struct socket **res, int kern, int ret)
{
	if (!want_create || !kern)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!task_selected(pid_tgid >> 32) || !sock_selected(family, type, protocol) ||
	    filter_port || filter_addr)
		return 0;
	if (aggregate) {
		if (ret == 0)
			count_lifecycle(family, type, protocol, true, 1);
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	struct st_rec *r = rec_begin(ST_REC_CREATE, fanout_create, pid_tgid, now);
	if (!r)
		return 0;
	r->op = 1;
	r->origin = 1; /* requester: the kernel */
	r->rflags = 0; /* no entry time: create and create.return share the return's */
	/*
	 * No cookie: res (struct socket **) cannot even be read here on 6.1
	 * ("arg type PTR is not a struct"), and a new socket has none yet.
	 */
	r->ret = ret;
	r->family = family;
	r->type = type;
	r->protocol = protocol;
	r->state = SS_UNCONNECTED;
	rec_submit(r);
	return 0;
}

SEC("fentry/__sock_release")
int BPF_PROG(st_krelease_fentry, struct socket *sock, struct inode *inode)
{
	if (!want_close || sock->file)
		return 0; /* a user socket: its fd's close, exit or exec reports it */
	struct task_struct *t = cur_task();
	struct uregs regs = {};
	/* socket(2)/socketpair(2) dropping what they made: sys_exit reports that */
	if (!(TASK_GET(t, flags, flags) & ST_PF_KTHREAD) && task_uregs(t, &regs) &&
	    regs.ax == -ENOSYS && (regs.orig_ax == NR_socket || regs.orig_ax == NR_socketpair))
		return 0;
	if (!task_selected(bpf_get_current_pid_tgid() >> 32))
		return 0;
	struct sockvals v = {.fd = -1, .known = ST_RF_SOCK_VALS};
	struct sock *sk = sock->sk;
	v.family = sock->ops ? sock->ops->family : -1;
	v.type = sock->type;
	v.state = sock->state;
	v.sflags = sock->flags;
	v.protocol = sk ? sk_protocol_btf(sk) : -1;
	v.cookie = !sk ? 0 : feat_xfer_cookie ? bpf_get_socket_cookie(sk) : sk_cookie_peek(sk);
	v.sk = (__u64)sk;
	if (sk && (want_addrs || filter_port || filter_addr))
		sk_addrs(sk, v.family, &v.addrs);
	__u64 now = bpf_ktime_get_ns();
	emit_close(&v, ST_CLOSE_KERNEL, now, now);
	return 0;
}

#endif /* ST_KERNEL_SOCKETS_BPF_H */
