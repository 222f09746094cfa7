/* SPDX-License-Identifier: GPL-2.0 */
/* What a syscall asked for, from its arguments; which kernel path a transfer took. */
#ifndef ST_SYSARGS_BPF_H
#define ST_SYSARGS_BPF_H

struct iov_ctx {
	const struct iovec *iov;
	__s64 total;
	bool fault;
};

ST_CALLBACK iov_sum_cb(__u64 i, void *data)
{
	struct iov_ctx *c = data;
	struct iovec v;
	if (bpf_probe_read_user(&v, sizeof(v), &c->iov[i])) {
		c->fault = true;
		return 1;
	}
	c->total += (__s64)v.iov_len;
	if (c->total >= MAX_RW_COUNT)
		return 1;
	return 0;
}

/* Bytes an iovec array asks for, capped as import_iovec() caps them. */
__noinline __s64 iov_sum(__u64 iov_addr, __u64 cnt)
{
	struct iov_ctx c = {.iov = (const struct iovec *)iov_addr};
	if (cnt > UIO_MAXIOV)
		return -1;
	ST_LOOP(cnt, UIO_MAXIOV, iov_sum_cb, &c);
	if (c.fault)
		return -1;
	return c.total > MAX_RW_COUNT ? MAX_RW_COUNT : c.total;
}

__noinline __s64 msghdr_size(__u64 m_addr)
{
	const struct user_msghdr *m = (const struct user_msghdr *)m_addr;
	struct user_msghdr h;
	if (bpf_probe_read_user(&h, sizeof(h), m))
		return -1;
	return iov_sum((__u64)h.msg_iov, h.msg_iovlen);
}

static __always_inline __s64 cap_rw(__u64 n)
{
	return n > MAX_RW_COUNT ? MAX_RW_COUNT : (__s64)n;
}

/* Is addr a return address inside [lo, hi)? Scans the kernel stack. */
/*
 * Big buffers live in a per-CPU scratch map, not on the 512-byte BPF
 * stack: older verifiers (6.1) count the stacks of a whole call chain.
 */
/*
 * Frames searched for sock_*_iter: kprobe programs see the kprobe and
 * ftrace frames first, so deeper than a tracepoint needs.
 */
#define ST_STACK_DEPTH 48
struct scratch {
	__u64 st[ST_STACK_DEPTH]; /* a kernel stack */
	__u64 a[16], b[16];	  /* two socket addresses */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

struct stack_ctx {
	long n;
	int path;
};

ST_CALLBACK stack_path_cb(__u64 i, void *data)
{
	struct stack_ctx *c = data;
	struct scratch *sc = scratch_get();
	if (!sc || i >= ST_STACK_DEPTH || (long)i * 8 >= c->n)
		return 1;
	__u64 a = sc->st[i];
	if (a >= write_iter_lo && a < write_iter_hi)
		c->path = ST_OP_AIO_WRITE;
	else if (a >= read_iter_lo && a < read_iter_hi)
		c->path = ST_OP_AIO_READ;
	return c->path >= 0;
}

/* Does the kernel stack pass through sock_write_iter / sock_read_iter? (bpf_loop: verified once) */
static __always_inline int stack_path(void *ctx)
{
	struct stack_ctx c;
	/* field by field: an initializer becomes a .rodata.cst16 constant in one build only */
	c.n = 0;
	c.path = -1;
	struct scratch *sc = scratch_get();
	if (!sc)
		return -1;
	c.n = bpf_get_stack(ctx, sc->st, sizeof(sc->st), 0);
	if (c.n <= 0)
		return -1;
	ST_LOOP(ST_STACK_DEPTH, ST_STACK_DEPTH, stack_path_cb, &c);
	return c.path;
}

/*
 * Bytes a syscall asked to move, from its arguments (si, dx); for
 * sendmmsg/recvmmsg, of message idx (~0: unknown). -1 if not known.
 * Global: verified once, not in each tracepoint program's every path.
 */
__noinline __s64 requested_size(__s64 nr, __u64 si, __u64 dx, __u32 idx)
{
	switch (nr) {
	case NR_sendto:
	case NR_recvfrom:
	case NR_write:
	case NR_read:
		return cap_rw(dx);
	case NR_sendmsg:
	case NR_recvmsg:
		return msghdr_size(si);
	case NR_writev:
	case NR_readv:
	case NR_pwritev2:
	case NR_preadv2:
		return iov_sum(si, dx);
	case NR_sendmmsg:
	case NR_recvmmsg:
		if (idx < UIO_MAXIOV)
			return msghdr_size(si + (__u64)idx * sizeof(struct mmsghdr));
		return -1;
	}
	return -1;
}

#endif /* ST_SYSARGS_BPF_H */
