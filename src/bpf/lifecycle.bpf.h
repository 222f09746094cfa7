/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Creation and release of sockets at syscall level: socket(2),
 * socketpair(2), the fd closes that release (close, dup2/dup3,
 * close_range, close-on-exec) and process exit; plus the entry times and
 * requested sizes of sends and receives. One small function per syscall;
 * sys_enter and sys_exit only dispatch.
 */
#ifndef ST_LIFECYCLE_BPF_H
#define ST_LIFECYCLE_BPF_H

/* The current task's in-flight syscall slot, created on demand. */
static __always_inline struct inflight *inflight_new(struct task_struct *t, __u32 nr, __u64 now)
{
	struct inflight *inf = task_state(&inflight, t, true);
	if (!inf)
		return 0;
	inf->nr = nr + 1;
	inf->ts = now;
	inf->idx = 0;
	inf->has_close = 0;
	return inf;
}

/*
 * A send or receive begins. No check that fd is a socket: a plain store is
 * cheaper than the fd-table walk, and the transfer's program trusts this
 * entry only after matching the syscall number and the fd's file to its
 * socket.
 */
static __always_inline void enter_xfer(struct task_struct *t, long id, __u64 now)
{
	inflight_new(t, id, now);
}

static __always_inline void enter_socket(struct task_struct *t, __u64 a0, __u64 a1, __u64 a2,
					 __u64 a3, long id, __u64 now, __u32 tid)
{
	/* flags other than CLOEXEC/NONBLOCK fail before __sock_create() */
	if ((__s32)a1 & ~(SOCK_TYPE_MASK | SOCK_CLOEXEC | SOCK_NONBLOCK))
		return;
	struct inflight *inf = inflight_new(t, id, now);
	if (!inf)
		return;
	inf->a0 = (__s32)a0;
	inf->a1 = (__s32)a1 & SOCK_TYPE_MASK;
	inf->a2 = (__s32)a2;
	inf->a3 = a3;
	struct created none = {};
	bpf_map_update_elem(&created, &tid, &none, BPF_ANY);
}

/* close(fd): its socket, if this is its last reference, reported at exit if close succeeds */
static __always_inline void enter_close(struct task_struct *t, __s64 fd, __u64 now)
{
	struct file *f = fd_file(t, fd);
	struct socket *sock = file_socket(f);
	if (!sock || file_refs(f) != 1)
		return;
	struct inflight *inf = inflight_new(t, NR_close, now);
	if (!inf)
		return;
	inf->has_close = 1;
	read_sockvals(sock, &inf->close);
	inf->close.fd = fd;
	inf->close.names = NAMES_CLOSE;
	if (want_addrs && inf->close.family == ST_AF_UNIX)
		unix_paths((struct sock *)inf->close.sk, &inf->close_names);
	sockvals_cookie(&inf->close, fd);
}

/* dup2/dup3(oldfd, newfd): newfd's socket is released if newfd held its last reference */
static __always_inline void enter_dup(struct task_struct *t, __s64 oldfd, __s64 newfd, __u64 now)
{
	if (oldfd == newfd)
		return; /* dup2: no-op; dup3: EINVAL */
	struct file *oldf = fd_file(t, oldfd);
	if (!oldf)
		return; /* EBADF: nothing is closed */
	struct file *f = fd_file(t, newfd);
	struct socket *sock = file_socket(f);
	if (!sock || f == oldf || file_refs(f) != 1)
		return;
	struct sockvals *v = sockvals_scratch();
	if (!v)
		return;
	read_sockvals(sock, v);
	v->fd = newfd;
	sockvals_cookie(v, newfd);
	emit_close(v, ST_CLOSE_DUP, now, now);
}

static __always_inline void enter_close_range(struct task_struct *t, __u64 a0, __u64 a1, __u64 a2,
					      __u64 now)
{
	__u32 flags = (__u32)a2;
	__u64 lo = (__u32)a0, hi = (__u32)a1;
	if (lo > hi || (flags & CLOSE_RANGE_CLOEXEC))
		return;
	/* with UNSHARE, a shared table is copied first: its files keep a reference */
	if ((flags & CLOSE_RANGE_UNSHARE) && !files_private(t))
		return;
	scan_fds(lo, hi, SCAN_MODE(ST_CLOSE_CLOSE_RANGE, SCAN_EMIT, 0), now);
}

/* execve: the close-on-exec sockets, kept until the exec is known to succeed */
static __always_inline void enter_exec(struct task_struct *t, __u64 now)
{
	/*
	 * If the table is shared beyond this process's own threads (which
	 * exec kills), exec copies it and the close-on-exec closes release
	 * nothing.
	 */
	int sharers = BPF_CORE_READ(t, files, count.counter);
	if (sharers > BPF_CORE_READ(t, signal, nr_threads))
		return;
	struct exec_pending *p = task_state(&exec_pending, t, true);
	if (!p)
		return;
	p->n = 0;
	scan_fds(0, ~0ULL >> 1, SCAN_MODE(ST_CLOSE_EXEC, SCAN_EXEC, 1), now);
}

/* Which of sys_enter's jobs this syscall is (ST_SYSCALL_HOOKS), if any is wanted. */
static __always_inline enum st_syscall_job enter_job_of(long id)
{
	enum st_syscall_job job = ST_SC_NONE;
	switch (id) {
#define ST_JOB_CASE(name, tp, j, exit)                                                             \
	case NR_##name:                                                                            \
		job = j;                                                                           \
		break;
		ST_SYSCALL_HOOKS(ST_JOB_CASE)
#undef ST_JOB_CASE
	}
	switch (job) {
	case ST_SC_ENTRY:
		/* sendmmsg: which message is being sent tells its destination */
		if (id == NR_sendmmsg && (want_addrs || (aggregate & ST_AGG_CONNS)))
			return job;
		return want_entry ? job : ST_SC_NONE;
	case ST_SC_CREATE:
		return want_create ? job : ST_SC_NONE;
	case ST_SC_CLOSE:
		return want_close ? job : ST_SC_NONE;
	default:
		return ST_SC_NONE;
	}
}

/* A wanted syscall begins: a0..a3 are its first arguments. */
static __always_inline int sys_enter_do(long id, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!task_selected(pid_tgid >> 32))
		return 0;
	struct task_struct *t = cur_task();
	if (task_in_compat_syscall(t))
		return 0;
	__u64 now = bpf_ktime_get_ns();

	switch (id) {
	case NR_socket:
	case NR_socketpair:
		enter_socket(t, a0, a1, a2, a3, id, now, (__u32)pid_tgid);
		break;
	case NR_close:
		enter_close(t, (__s32)a0, now);
		break;
	case NR_dup2:
	case NR_dup3:
		enter_dup(t, (__s32)a0, (__s32)a1, now);
		break;
	case NR_close_range:
		enter_close_range(t, a0, a1, a2, now);
		break;
	case NR_execve:
	case NR_execveat:
		enter_exec(t, now);
		break;
	default:
		enter_xfer(t, id, now);
	}
	return 0;
}

/* Every syscall's entry: decided in a few instructions that most are not ours. */
SEC("tp_btf/sys_enter")
int BPF_PROG(st_sys_enter, struct pt_regs *regs, long id)
{
	if (enter_job_of(id) == ST_SC_NONE)
		return 0;
	return sys_enter_do(id, regs->di, regs->si, regs->dx, regs->r10);
}

/*
 * The same, attached by libsocktap to syscalls:sys_enter_NAME of each
 * syscall the session wants: the rest of the system's syscalls run no BPF
 * program. A tracepoint program cannot call bpf_sock_from_file(), so this
 * one serves only sessions without the fd step (load.c).
 */
SEC("tracepoint")
int st_sysc_enter(struct trace_event_raw_sys_enter *ctx)
{
	long id = ctx->id;
	enum st_syscall_job job = enter_job_of(id);
	if (job == ST_SC_NONE)
		return 0;
	/*
	 * The record holds only the arguments this syscall has, and the kernel
	 * refuses to attach a program that reads past it (max_ctx_offset) to a
	 * shorter one: read the first directly (every hooked syscall has one),
	 * the others, which only creation and closes use, by copy (from the
	 * per-CPU trace buffer the record sits in; values past the record are
	 * never used).
	 */
	__u64 a[4] = {ctx->args[0]};
	if (job != ST_SC_ENTRY)
		bpf_probe_read_kernel(&a[1], 3 * sizeof(a[0]), &ctx->args[1]);
	return sys_enter_do(id, a[0], a[1], a[2], a[3]);
}

/* socket(2)/socketpair(2) returned: one record for the socket(s) it made */
static __always_inline void emit_create(struct inflight *inf, __u64 pid_tgid, __u64 now, __s32 ret,
					__u8 count, __s32 fd, __s32 fd2, __u64 c0, __u64 c1)
{
	/* a new socket has no address: no address or port filter selects it */
	if (!sock_selected(inf->a0, inf->a1, inf->a2) || filter_port || filter_addr)
		return;
	if (aggregate) {
		/* each socket with its kind as made (the protocol asked for may be 0) */
		__s32 fds[2] = {fd, fd2};
		for (int i = 0; i < 2; i++) {
			struct socket *sock = file_socket(fd_file(cur_task(), fds[i]));
			struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : 0;
			if (sock)
				count_lifecycle(inf->a0, BPF_CORE_READ(sock, type),
						sk ? sk_protocol_of(sk) : inf->a2, true, 1);
		}
		return;
	}
	struct st_rec *r =
	    rec_begin(ST_REC_CREATE, fanout_create * (count ? count : 1), pid_tgid, now);
	if (!r)
		return;
	r->op = count;
	r->origin = 0; /* requester: user */
	r->rflags = ST_RF_ENTRY;
	r->fd = fd;
	r->fd2 = fd2;
	r->ts_enter = inf->ts;
	r->cookie = c0;
	r->cookie2 = c1;
	if (fd >= 0 && !c0)
		sockid_of_fd(fd, &r->cookie, &r->ino);
	if (fd2 >= 0 && !c1)
		sockid_of_fd(fd2, &r->cookie2, &r->ino2);
	r->ret = ret;
	r->family = inf->a0;
	r->type = inf->a1;
	r->protocol = inf->a2;
	r->state = SS_UNCONNECTED;
	if ((fd >= 0 && !r->cookie) || (fd2 >= 0 && !r->cookie2))
		/* user space makes the id while the fd is open: wake it now (decode.c) */
		bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
	else
		rec_submit(r);
}

/*
 * A socket that __sock_create() made but the syscall then dropped
 * (no fd left, or socketpair unsupported): released without a file.
 * Its protocol is known only if it was asked for explicitly.
 */
static __always_inline void emit_dropped(struct inflight *inf, __u64 now, __u64 cookie)
{
	struct sockvals v = {
	    .cookie = cookie,
	    .family = inf->a0,
	    .type = inf->a1,
	    .protocol = inf->a2,
	    .state = SS_UNCONNECTED,
	    .fd = -1,
	    .known = inf->a2 ? ST_RF_SOCK_VALS : 0,
	};
	emit_close(&v, ST_CLOSE_CREATE_FAIL, now, now);
}

/*
 * The end of socket(2)/socketpair(2): what __sock_create() did, from the
 * result; one plan, one emit sequence. Global: verified once, not inline
 * in sys_exit's every path.
 */
ST_GLOBAL_PTR int finish_create(struct inflight *inf, __s64 id, __s64 ret)
{
	if (!inf)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	__u64 c0 = 0, c1 = 0;
	__u32 tid = (__u32)pid_tgid;
	struct created *c = bpf_map_lookup_elem(&created, &tid);
	if (c) {
		c0 = c->cookie[0];
		c1 = c->cookie[1];
		bpf_map_delete_elem(&created, &tid);
	}
	__s32 cret = ret < 0 ? ret : 0, fd = -1, fd2 = -1;
	__u8 count = 1, dropped = 0;
	if (id == NR_socket) {
		if (ret == -EMFILE) {
			cret = 0; /* created, then dropped for want of an fd */
			dropped = 1;
		} else if (ret >= 0) {
			fd = ret;
		}
	} else {
		/* fds are reserved and written back before the sockets exist */
		if (ret == -EMFILE || ret == -EFAULT)
			return 0;
		if (ret == 0) {
			int sv[2] = {-1, -1};
			bpf_probe_read_user(sv, sizeof(sv), (void *)inf->a3);
			fd = sv[0];
			fd2 = sv[1];
			count = 2;
		} else if (ret == -EOPNOTSUPP) {
			/* both made, then released: the family has no socketpair */
			cret = 0;
			count = 2;
			dropped = 2;
		}
	}
	emit_create(inf, pid_tgid, now, cret, count, fd, fd2, c0, c1);
	/* released second first, as __sys_socketpair() does */
	if (dropped == 2)
		emit_dropped(inf, now, c1);
	if (dropped)
		emit_dropped(inf, now, c0);
	return 0;
}

/* execve returned: if it succeeded, its close-on-exec sockets are gone */
static __always_inline void exit_exec(struct task_struct *t, long ret, __u64 now)
{
	struct exec_pending *p = task_state(&exec_pending, t, false);
	if (!p)
		return;
	__u32 n = p->n;
	p->n = 0;
	if (ret != 0)
		return;
	for (__u32 i = 0; i < EXEC_PENDING_MAX; i++) {
		if (i >= n)
			break;
		emit_close(&p->s[i], ST_CLOSE_EXEC, now, now);
	}
}

static __always_inline int sys_exit_do(__s64 id, long ret)
{
	/* sends and receives need no exit hook: see the inflight check in handle_xfer() */
	switch (id) {
	case NR_socket:
	case NR_socketpair:
		if (!want_create)
			return 0;
		break;
	case NR_close:
	case NR_execve:
	case NR_execveat:
		if (!want_close)
			return 0;
		break;
	default:
		return 0;
	}

	struct task_struct *t = cur_task();
	__u64 now = bpf_ktime_get_ns();
	if (id == NR_execve || id == NR_execveat) {
		exit_exec(t, ret, now);
		return 0;
	}
	struct inflight *inf = task_state(&inflight, t, false);
	if (!inf || inf->nr != (__u32)id + 1)
		return 0;
	inf->nr = 0;
	if (id == NR_close) {
		if (inf->has_close && ret == 0)
			emit_close(&inf->close, ST_CLOSE_CLOSE, inf->ts, now);
		return 0;
	}
	return finish_create(inf, id, ret);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(st_sys_exit, struct pt_regs *regs, long ret)
{
	return sys_exit_do(regs->orig_ax, ret);
}

/* sys_exit's twin of st_sysc_enter, on syscalls:sys_exit_NAME */
SEC("tracepoint")
int st_sysc_exit(struct trace_event_raw_sys_exit *ctx)
{
	return sys_exit_do(ctx->id, ctx->ret);
}

/* A process whose fd table dies with it releases its sockets. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(st_exit, struct task_struct *p)
{
	if (!want_close)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	bool selected = task_selected(tgid);

	struct task_struct *t = cur_task();
	if (TASK_GET(t, flags, flags) & ST_PF_KTHREAD)
		return 0;
	if (selected && files_private(t))
		scan_fds(0, ~0ULL >> 1, SCAN_MODE(ST_CLOSE_EXIT, SCAN_EMIT, 0), bpf_ktime_get_ns());
	return 0;
}

#endif /* ST_LIFECYCLE_BPF_H */
