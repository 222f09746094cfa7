/* SPDX-License-Identifier: GPL-2.0 */
/* State the fentry and kprobe backends carry from a function's entry to its return. */
#ifndef ST_FUNCS_STATE_BPF_H
#define ST_FUNCS_STATE_BPF_H

/*
 * State the kprobe and fentry backends carry from a function's entry to its
 * return, per task: the socket of up to 4 hooks in flight (send, receive,
 * nosec receive, sendmmsg), and how many sends the task made, to tell
 * whether ____sys_sendmsg() went around __sock_sendmsg().
 */
struct kpstate {
	__u64 sock[4];
	__u64 aux[2];
	__u32 sends;	  /* sends seen by the send hooks */
	__u32 sends_mark; /* ... when ____sys_sendmsg() began */
	/* the sendpage path (before Linux 6.5): sock_sendpage() -> kernel_sendpage() */
	__u32 sp_depth;
	__u32 sp_mark[2]; /* sends when each level began */
	__u32 pad;
	__u64 sp_sock[2]; /* kprobes: each level's socket */
	__s32 path[4];	  /* kprobes: each hook's sock_*_iter path, seen at entry */
	__u64 armed;	  /* a send the LSM let through, not counted yet (send_armed) */
	__u64 sec_sock;	  /* kprobes: security_socket_sendmsg()'s socket, until it returns */
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kpstate);
} kpstate SEC(".maps");

static __always_inline struct kpstate *kp_get(bool create)
{
	return task_state(&kpstate, cur_task(), create);
}

static __always_inline void kp_save(void *sock, __u32 slot)
{
	struct kpstate *k = kp_get(true);
	if (k && slot < 4)
		k->sock[slot] = (__u64)sock;
}

/*
 * A kprobe's entry keeps its socket and the kernel stack's verdict for the
 * kretprobe: at return the stack may no longer show sock_*_iter (kretprobe
 * unwinding on Debian's 5.10 ends at the trampoline).
 */
static __always_inline void kp_save_path(void *ctx, void *sock, __u32 slot)
{
	struct kpstate *k = kp_get(true);
	if (!k || slot >= 4)
		return;
	k->sock[slot] = (__u64)sock;
	k->path[slot] = want_iter && feat_stack && write_iter_hi ? stack_path(ctx) : -1;
}

static __always_inline int kp_path(__u32 slot)
{
	struct kpstate *k = kp_get(false);
	return k && slot < 4 ? k->path[slot] : -1;
}

static __always_inline void *kp_take(__u32 slot)
{
	struct kpstate *k = kp_get(false);
	if (!k || slot >= 4)
		return 0;
	void *s = (void *)k->sock[slot];
	k->sock[slot] = 0;
	return s;
}

static __always_inline void kp_save_aux(__u64 a, __u64 b)
{
	struct kpstate *k = kp_get(true);
	if (k) {
		k->aux[0] = a;
		k->aux[1] = b;
	}
}

static __always_inline bool kp_take_aux(__u64 *a, __u64 *b)
{
	struct kpstate *k = kp_get(false);
	if (!k)
		return false;
	*a = k->aux[0];
	*b = k->aux[1];
	return true;
}

static __always_inline void bump_sends(void)
{
	struct kpstate *k = kp_get(false);
	if (k)
		k->sends++;
}

static __always_inline void mmsg_mark(void)
{
	struct kpstate *k = kp_get(true);
	if (k)
		k->sends_mark = k->sends;
}

/*
 * Sends by the sendpage path, before Linux 6.5 (commit dc97391e6610 "sock:
 * Remove ->sendpage*() in favour of sendmsg(MSG_SPLICE_PAGES)"):
 * sendfile(2) and splice(2) to a socket, and in-kernel users, reach the
 * protocol through sock_sendpage() (the socket file's op) and
 * kernel_sendpage(), not sock_sendmsg(). Either may be inlined into the
 * other, and where the protocol has no sendpage, sock_no_sendpage() sends
 * through sock_sendmsg(), whose hook counts it. So each level remembers
 * how many sends the task had made when it began, and the first level to
 * return without a send below it counts the send, once.
 */
static __always_inline void sendpage_enter(void *sock)
{
	struct kpstate *k = kp_get(true);
	if (!k)
		return;
	__u32 d = k->sp_depth;
	if (d < 2) {
		k->sp_mark[d] = k->sends;
		k->sp_sock[d] = (__u64)sock;
	}
	k->sp_depth = d + 1;
}

/* The socket to count this level's send for, or 0: a send below it counted already. */
static __always_inline void *sendpage_exit(void)
{
	struct kpstate *k = kp_get(false);
	if (!k || !k->sp_depth)
		return 0;
	__u32 d = k->sp_depth - 1;
	k->sp_depth = d;
	if (d >= 2 || k->sends != k->sp_mark[d])
		return 0;
	k->sends++; /* the levels above see it counted */
	return (void *)k->sp_sock[d];
}

/*
 * Kernels that inline __sock_sendmsg() into every caller (Debian's 6.12:
 * no symbol for it) leave no function around each send. Its first step is
 * security_socket_sendmsg(), an out-of-line LSM hook: when that returns 0
 * the send goes ahead, so it arms the task; the caller that contains the
 * send (sock_sendmsg, __sys_sendto, ____sys_sendmsg, sock_write_iter)
 * returns the send's result, and counts it if armed. A send the LSM
 * refused reaches no protocol, as on the tracepoints.
 */
static __always_inline void send_arm(void *sock)
{
	struct kpstate *k = kp_get(true);
	if (k)
		k->armed = (__u64)sock;
}

static __always_inline void *send_take(void)
{
	struct kpstate *k = kp_get(false);
	if (!k || !k->armed)
		return 0;
	void *s = (void *)k->armed;
	k->armed = 0;
	return s;
}

/* A caller of the inlined send returned: count the send it contains, if the LSM armed one. */
static __always_inline int armed_xfer(void *ctx, int ret, int path)
{
	struct socket *sock = send_take();
	if (!sock)
		return 0;
	bump_sends(); /* a sendpage level above sees the send counted */
	return handle_xfer_path(ctx, BPF_CORE_READ(sock, sk), ret, true, false, path);
}

/* ____sys_sendmsg() returned without passing through a send hook? */
static __always_inline bool mmsg_bypassed(__u32 name_len)
{
	struct kpstate *k = kp_get(false);
	return k && k->sends == k->sends_mark && name_len != ~0U;
}

/*
 * The used_address shortcut's own test, after the fact: the message's
 * address equals the remembered one. (A message that failed before that
 * test with an equal address would be taken for a send; only copy errors
 * do that.)
 */
static __always_inline bool same_address(void *remembered, void *name, int namelen, __u32 len)
{
	struct scratch *sc = scratch_get();
	if (!sc || !name || namelen <= 0 || (__u32)namelen != len || len > sizeof(sc->a))
		return false;
	__u64 *a = sc->a, *b = sc->b;
	if (bpf_probe_read_kernel(a, sizeof(sc->a), remembered) ||
	    bpf_probe_read_kernel(b, sizeof(sc->b), name))
		return false;
	for (int i = 0; i < 16; i++) {
		__u32 lo = i * 8;
		if (lo >= len)
			break;
		__u64 mask = len - lo >= 8 ? ~0ULL : (1ULL << ((len - lo) * 8)) - 1;
		if ((a[i] ^ b[i]) & mask)
			return false;
	}
	return true;
}

#endif /* ST_FUNCS_STATE_BPF_H */
