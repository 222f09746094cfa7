/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who and where: a socket's addresses (or, for unconnected datagram
 * sockets, the message's), unix paths, the task's cgroup and its pid in
 * its own pid namespace (filter.bpf.h filters on them).
 */
#ifndef ST_ADDR_BPF_H
#define ST_ADDR_BPF_H

/*
 * The source of the datagram a receive took, per thread: the receive's own
 * record takes (and clears) it. Two hooks see it before that record is
 * made, in the receiving thread: cgroup/recvmsg4|6, where the caller gave
 * an address buffer (the protocol has just filled it in), and
 * skb_copy_datagram_iovec for datagrams copied from a paged skb. cookie
 * names the socket where the hook knows it (0: any).
 */
struct dgram_src {
	__u64 cookie;
	__u8 addr[16];
	__u16 port;
	__u8 family;
	__u8 valid;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct dgram_src);
} dgram_srcs SEC(".maps");

static __always_inline __u64 task_cgroup_id(void)
{
	return feat_cgroup ? bpf_get_current_cgroup_id() : 0;
}

/*
 * The process's id in its own pid namespace, when that is not the initial
 * one (whose ids every record carries already); 0 otherwise. struct pid
 * keeps one upid per level, the task's own namespace at `level`.
 */
static __always_inline __u32 task_nspid(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, group_leader, thread_pid);
	if (!pid)
		return 0;
	unsigned int level = BPF_CORE_READ(pid, level);
	if (level == 0 || level > 32)
		return 0;
	return (__u32)BPF_CORE_READ(pid, numbers[level].nr);
}

/*
 * An inet socket's own ends: getsockname() and, connected, getpeername().
 * Read straight into a: no copies on the stack, which the fd scans'
 * call chain cannot spare (the 512-byte limit on 5.10's legacy object).
 */
static __always_inline void sk_addrs(struct sock *sk, __s32 family, struct st_addrs *a)
{
	struct sock_common *c = &sk->__sk_common;
	__u16 lport = BPF_CORE_READ(c, skc_num);
	__u16 rport = __builtin_bswap16(BPF_CORE_READ(c, skc_dport));
	__u64 *l = (__u64 *)a->laddr, *r = (__u64 *)a->raddr;
	if (family == ST_AF_INET) {
		bpf_core_read(a->laddr, 4, &c->skc_rcv_saddr);
		bpf_core_read(a->raddr, 4, &c->skc_daddr);
	} else if (family == ST_AF_INET6) {
		bpf_core_read(a->laddr, 16, &c->skc_v6_rcv_saddr);
		bpf_core_read(a->raddr, 16, &c->skc_v6_daddr);
	} else {
		return;
	}
	if (l[0] || l[1] || lport) {
		a->lport = lport;
		a->lfamily = (__u8)family;
	}
	if (r[0] || r[1] || rport) {
		a->rport = rport;
		a->rfamily = (__u8)family;
	}
}

/*
 * A transfer's address work, per CPU rather than on the stack, which the
 * send paths' programs cannot spare (5.10's 512 bytes for the whole call
 * chain). Transfers do not nest on a CPU: sends and receives run in
 * process context, and no helper here sends or receives.
 */
struct addr_scratch {
	struct st_addrs a; /* the transfer's two ends */
	struct st_addrs m; /* the message's other end */
	struct user_msghdr hdr;
	struct sockaddr_in6 sa;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct addr_scratch);
} addr_scratch SEC(".maps");

/* This CPU's scratch, its ends cleared; 0 only if the map is missing. */
static __always_inline struct addr_scratch *addr_scratch_get(void)
{
	__u32 zero = 0;
	struct addr_scratch *x = bpf_map_lookup_elem(&addr_scratch, &zero);
	if (x) {
		__builtin_memset(&x->a, 0, sizeof(x->a));
		__builtin_memset(&x->m, 0, sizeof(x->m));
	}
	return x;
}

/* A sockaddr in user memory (a message's destination) as x->m's remote end; false if none. */
static __always_inline bool user_sockaddr(__u64 uaddr, __u64 len, struct addr_scratch *x)
{
	struct sockaddr_in6 *sa = &x->sa;
	if (!uaddr || len < sizeof(struct sockaddr_in) || !feat_msg_addr)
		return false;
	__builtin_memset(sa, 0, sizeof(*sa));
	if (bpf_probe_read_user(sa, len < sizeof(*sa) ? sizeof(struct sockaddr_in) : sizeof(*sa),
				(void *)uaddr))
		return false;
	struct st_addrs *a = &x->m;
	if (sa->sin6_family == ST_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		__builtin_memcpy(a->raddr, &in->sin_addr.s_addr, 4);
		a->rport = __builtin_bswap16(in->sin_port);
		a->rfamily = ST_AF_INET;
		return true;
	}
	if (sa->sin6_family == ST_AF_INET6 && len >= sizeof(*sa)) {
		__builtin_memcpy(a->raddr, &sa->sin6_addr, 16);
		a->rport = __builtin_bswap16(sa->sin6_port);
		a->rfamily = ST_AF_INET6;
		return true;
	}
	return false;
}

/*
 * The destination a datagram send names, from the syscall's arguments:
 * sendto's dest_addr, sendmsg's msg_name, message idx of sendmmsg's.
 */
static __always_inline bool msg_dest(__s64 nr, const struct uregs *regs, __u32 idx,
				     struct addr_scratch *x)
{
	__u64 hdr;
	switch (nr) {
	case NR_sendto:
		return user_sockaddr(regs->r8, regs->r9, x);
	case NR_sendmsg:
		hdr = regs->si;
		break;
	case NR_sendmmsg:
		if (idx >= UIO_MAXIOV)
			return false;
		hdr = regs->si + (__u64)idx * sizeof(struct mmsghdr);
		break;
	default:
		return false;
	}
	if (!feat_msg_addr || bpf_probe_read_user(&x->hdr, sizeof(x->hdr), (void *)hdr))
		return false;
	return user_sockaddr((__u64)x->hdr.msg_name, (__u64)x->hdr.msg_namelen, x);
}

/* The source a datagram receive recorded (and forget it); cookie: the socket's, 0 if unknown. */
static __always_inline bool take_dgram_src(__u64 cookie, struct st_addrs *a)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct dgram_src *d = bpf_map_lookup_elem(&dgram_srcs, &tid);
	if (!d || !d->valid)
		return false;
	d->valid = 0;
	if (d->cookie && cookie && d->cookie != cookie)
		return false;
	__builtin_memcpy(a->raddr, d->addr, 16);
	a->rport = d->port;
	a->rfamily = d->family;
	return true;
}

static __always_inline void put_dgram_src(const struct dgram_src *d)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&dgram_srcs, &tid, d, BPF_ANY);
}

/*
 * A datagram receive with an address buffer: the address the protocol
 * just wrote there (an IPv4 source on an AF_INET6 socket is already
 * ::ffff:a.b.c.d). Attached at the cgroup2 root, so every task passes;
 * only observes (returns 1: the address stays as it is).
 */
SEC("cgroup/recvmsg4")
int st_recvmsg4(struct bpf_sock_addr *ctx)
{
	if (!task_selected(bpf_get_current_pid_tgid() >> 32))
		return 1;
	struct dgram_src d = {.cookie = bpf_get_socket_cookie(ctx), .valid = 1};
	__u32 ip = ctx->user_ip4;
	__builtin_memcpy(d.addr, &ip, 4);
	d.port = __builtin_bswap16((__u16)ctx->user_port);
	d.family = ST_AF_INET;
	put_dgram_src(&d);
	return 1;
}

SEC("cgroup/recvmsg6")
int st_recvmsg6(struct bpf_sock_addr *ctx)
{
	if (!task_selected(bpf_get_current_pid_tgid() >> 32))
		return 1;
	struct dgram_src d = {.cookie = bpf_get_socket_cookie(ctx), .valid = 1};
	__u32 w[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
	__builtin_memcpy(d.addr, w, 16);
	d.port = __builtin_bswap16((__u16)ctx->user_port);
	d.family = ST_AF_INET6;
	put_dgram_src(&d);
	return 1;
}

/*
 * A datagram copied from a paged skb passes here (UDP copies a linear
 * skb's data directly, without this tracepoint, since Linux 4.13's
 * copy_linear_skb()): its IPv4 or IPv6 source and UDP source port, from
 * the headers. For an AF_INET6 socket an IPv4 source is ::ffff:a.b.c.d,
 * as recvfrom() reports it. Streams (TCP) pass here too, skipped at once.
 * Where the caller gave an address buffer, cgroup/recvmsg runs after this
 * and has the last word.
 */
SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(st_dgram_src, const struct sk_buff *skb, int len)
{
	struct sock *sk = skb->sk;
	__s32 skfamily = -1;
	if (sk) {
		if (sk->sk_type == ST_SOCK_STREAM)
			return 0;
		skfamily = sk->__sk_common.skc_family;
		if (skfamily != ST_AF_INET && skfamily != ST_AF_INET6)
			return 0;
	}
	__u16 proto = __builtin_bswap16(skb->protocol);
	if (proto != ST_ETH_P_IP && proto != ST_ETH_P_IPV6)
		return 0;
	if (!task_selected(bpf_get_current_pid_tgid() >> 32))
		return 0;
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = skb->network_header, th = skb->transport_header;
	struct dgram_src d = {.valid = 1};
	__u8 l4 = 0;
	if (proto == ST_ETH_P_IP) {
		struct iphdr ip;
		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return 0;
		l4 = ip.protocol;
		if (skfamily == ST_AF_INET6) {
			d.addr[10] = 0xff;
			d.addr[11] = 0xff;
			__builtin_memcpy(d.addr + 12, &ip.saddr, 4);
			d.family = ST_AF_INET6;
		} else {
			__builtin_memcpy(d.addr, &ip.saddr, 4);
			d.family = ST_AF_INET;
		}
	} else {
		struct ipv6hdr ip6;
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return 0;
		l4 = ip6.nexthdr;
		__builtin_memcpy(d.addr, &ip6.saddr, 16);
		d.family = ST_AF_INET6;
	}
	if (l4 == ST_IPPROTO_UDP || l4 == ST_IPPROTO_UDPLITE) {
		__be16 sport = 0;
		bpf_probe_read_kernel(&sport, sizeof(sport), head + th);
		d.port = __builtin_bswap16(sport);
	}
	put_dgram_src(&d);
	return 0;
}

/* A unix socket's bound path (its struct unix_address) into buf; its length, 0 if unnamed. */
static __always_inline __u16 unix_path(struct sock *sk, char *buf)
{
	struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
	if (!ua)
		return 0;
	/* len counts sun_family */
	__u64 len = BPF_CORE_READ(ua, len);
	if (len <= 2)
		return 0;
	len -= 2;
	if (len > ST_UNIX_PATH)
		len = ST_UNIX_PATH;
	/* the bound must hold in the register the helper gets */
	asm volatile("" : "+r"(len));
	if (bpf_probe_read_kernel(buf, len, &ua->name[0].sun_path))
		return 0;
	return (__u16)len;
}

/* Both paths of a unix socket: its own, and its peer's (unix_peer()). */
static __always_inline void unix_paths(struct sock *sk, struct st_unix_names *n)
{
	n->llen = unix_path(sk, n->lpath);
	struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
	n->rlen = peer ? unix_path(peer, n->rpath) : 0;
}

#endif /* ST_ADDR_BPF_H */
