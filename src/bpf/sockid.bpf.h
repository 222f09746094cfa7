/* SPDX-License-Identifier: GPL-2.0 */
/* From fds to sockets, their values and their ids (cookies). */
#ifndef ST_SOCKID_BPF_H
#define ST_SOCKID_BPF_H

/*
 * fd -> struct file *, from the current task's fd table (0 if none). The
 * task is BTF-typed, so the walk down to the array is plain loads; only
 * the array slot itself needs a probe read (no variable index on BTF).
 */
static __always_inline struct file *fd_file(struct task_struct *t, __s64 fd)
{
	struct file **arr;
	struct file *f = 0;
	if (fd < 0)
		return 0;
	if (feat_task_btf) {
		struct files_struct *files = t->files;
		if (!files)
			return 0;
		struct fdtable *fdt = files->fdt;
		if ((__u64)fd >= fdt->max_fds)
			return 0;
		arr = fdt->fd;
	} else {
		struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
		if (!fdt || (__u64)fd >= BPF_CORE_READ(fdt, max_fds))
			return 0;
		arr = BPF_CORE_READ(fdt, fd);
	}
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
}

/* The struct socket behind a file, or 0 for any other file. */
static __always_inline struct socket *file_socket(struct file *f)
{
	if (!f)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if ((BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	/* O_PATH fds on a unix socket's filesystem node are S_IFSOCK too */
	if (BPF_CORE_READ(ino, i_sb, s_magic) != SOCKFS_MAGIC)
		return 0;
	return BPF_CORE_READ(f, private_data);
}

/* sockfs keeps the inode next to the socket (struct socket_alloc, include/net/sock.h). */
static __always_inline __u32 socket_ino(struct socket *sock)
{
	return (__u32)BPF_CORE_READ((struct socket_alloc *)sock, vfs_inode.i_ino);
}

/*
 * Socket values for a release record made at once (dup2, the fd scans):
 * per CPU, not on the stack, which the scans' call chain (sys_enter, the
 * loop callbacks, scan_one, emit_close) cannot spare: 512 bytes for all
 * of them. Process context only: never two at once on a CPU. Zeroed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sockvals);
} sockvals_scratch_map SEC(".maps");

static __always_inline struct sockvals *sockvals_scratch(void)
{
	__u32 zero = 0;
	struct sockvals *v = bpf_map_lookup_elem(&sockvals_scratch_map, &zero);
	if (v)
		__builtin_memset(v, 0, sizeof(*v));
	return v;
}

static __always_inline void read_sockvals(struct socket *sock, struct sockvals *v)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	v->family = BPF_CORE_READ(sock, ops, family);
	v->type = BPF_CORE_READ(sock, type);
	v->state = BPF_CORE_READ(sock, state);
	v->sflags = BPF_CORE_READ(sock, flags);
	v->protocol = sk ? sk_protocol_of(sk) : -1;
	v->cookie = sk ? sk_cookie_peek(sk) : 0;
	v->ino = socket_ino(sock);
	v->known = ST_RF_SOCK_VALS;
	v->sk = (__u64)sk;
	__builtin_memset(&v->addrs, 0, sizeof(v->addrs));
	if (sk && (want_addrs || filter_port || filter_addr))
		sk_addrs(sk, v->family, &v->addrs);
}

/*
 * Socket ids. The kernel makes a socket's cookie lazily; BPF can make it
 * only with bpf_get_socket_cookie() on a trusted socket. Inet sockets get
 * theirs at birth (kernel_sockets.bpf.h), every socket at its first send
 * or receive (xfer.bpf.h). For the rest, a socket seen only by its fd:
 *
 * feat_fd_cookie: the fd table's array cannot be indexed by a variable,
 * but files_struct's embedded fd_array[64] can be, one constant index at a
 * time: good for fds < 64 while the table has not grown. Kernels that mark
 * task->files untrusted (hardened builds of 6.18) refuse
 * bpf_sock_from_file() on it; without the step, the record carries the
 * socket's inode and user space makes the cookie (decode.c).
 */
#define FD_CASE(k)                                                                                 \
	case k:                                                                                    \
		f = files->fd_array[k];                                                            \
		asm volatile("" : "+r"(f));                                                        \
		break;
#define FD_CASE8(k)                                                                                \
	FD_CASE(k)                                                                                 \
	FD_CASE(k + 1)                                                                             \
	FD_CASE(k + 2) FD_CASE(k + 3) FD_CASE(k + 4) FD_CASE(k + 5) FD_CASE(k + 6) FD_CASE(k + 7)

/* static, not global: verified in its callers' context, so feat_fd_cookie == 0 hides it */
static __noinline __u64 cookie_by_fd(__s64 fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = t->files;
	struct file *f = 0;

	if (!files || fd < 0 || fd >= 64)
		return 0;
	if (files->fdt != &files->fdtab)
		return 0;
	switch (fd) {
		FD_CASE8(0)
		FD_CASE8(8)
		FD_CASE8(16)
		FD_CASE8(24)
		FD_CASE8(32)
		FD_CASE8(40)
		FD_CASE8(48)
		FD_CASE8(56)
	default:
		return 0;
	}
	if (!f)
		return 0;
	struct socket *sock = bpf_sock_from_file(f);
	if (!sock || !sock->sk)
		return 0;
	return bpf_get_socket_cookie(sock->sk);
}

static __always_inline void sockvals_cookie(struct sockvals *v, __s32 fd)
{
	if (!v->cookie && feat_fd_cookie)
		v->cookie = cookie_by_fd(fd);
}

/* The id of the socket behind fd: its cookie if made (or makeable here), and its inode. */
static __always_inline void sockid_of_fd(__s32 fd, __u64 *cookie, __u32 *ino)
{
	struct socket *sock = file_socket(fd_file(cur_task(), fd));
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : 0;
	*cookie = sk ? sk_cookie_peek(sk) : 0;
	*ino = sock ? socket_ino(sock) : 0;
	if (!*cookie && sock && feat_fd_cookie)
		*cookie = cookie_by_fd(fd);
}

#endif /* ST_SOCKID_BPF_H */
