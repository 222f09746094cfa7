/* SPDX-License-Identifier: GPL-2.0 */
/* Sends and receives on k(ret)probes, where neither tracepoints nor fentry exist. */
#ifndef ST_XFER_KPROBE_BPF_H
#define ST_XFER_KPROBE_BPF_H

/* The same hooks as kprobes, for kernels whose fentry is unavailable. */
SEC("kprobe/__sock_sendmsg")
int BPF_KPROBE(st_send_kprobe, struct socket *sock)
{
	kp_save_path(ctx, sock, 0);
	return 0;
}

SEC("kretprobe/__sock_sendmsg")
int BPF_KRETPROBE(st_send_kretprobe, int ret)
{
	struct socket *sock = kp_take(0);
	if (!want_send || !sock)
		return 0;
	send_take(); /* see st_send_fexit */
	bump_sends();
	return handle_xfer_path(ctx, BPF_CORE_READ(sock, sk), ret, true, false, kp_path(0));
}

SEC("kprobe/sock_sendmsg")
int BPF_KPROBE(st_send_kprobe_old, struct socket *sock)
{
	kp_save_path(ctx, sock, 0);
	return 0;
}

SEC("kretprobe/sock_sendmsg")
int BPF_KRETPROBE(st_send_kretprobe_old, int ret)
{
	struct socket *sock = kp_take(0);
	if (!want_send || !sock)
		return 0;
	bump_sends();
	return handle_xfer_path(ctx, BPF_CORE_READ(sock, sk), ret, true, false, kp_path(0));
}

SEC("kprobe/sock_recvmsg")
int BPF_KPROBE(st_recv_kprobe, struct socket *sock)
{
	kp_save_path(ctx, sock, 1);
	return 0;
}

SEC("kretprobe/sock_recvmsg")
int BPF_KRETPROBE(st_recv_kretprobe, int ret)
{
	struct socket *sock = kp_take(1);
	if (!want_recv || !sock)
		return 0;
	return handle_xfer_path(ctx, BPF_CORE_READ(sock, sk), ret, false, false, kp_path(1));
}

/* nosec is the sixth argument: BPF_KPROBE names five, x86-64 passes the sixth in r9 */
SEC("kprobe/____sys_recvmsg")
int st_recv_nosec_kprobe(struct pt_regs *ctx)
{
	int nosec = (int)ctx->r9;
	kp_save(nosec ? (void *)PT_REGS_PARM1(ctx) : 0, 2);
	return 0;
}

SEC("kretprobe/____sys_recvmsg")
int BPF_KRETPROBE(st_recv_nosec_kretprobe, int ret)
{
	struct socket *sock = kp_take(2);
	if (!want_recv || !sock)
		return 0;
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), ret, false, false);
}

SEC("kprobe/____sys_sendmsg")
int BPF_KPROBE(st_mmsg_kprobe, struct socket *sock, struct msghdr *msg_sys, unsigned int flags,
	       struct used_address *used_address)
{
	if (!want_send || !used_address)
		return 0;
	mmsg_mark();
	kp_save(sock, 3);
	kp_save_aux((__u64)msg_sys, (__u64)used_address);
	return 0;
}

SEC("kretprobe/____sys_sendmsg")
int BPF_KRETPROBE(st_mmsg_kretprobe, int ret)
{
	struct socket *sock = kp_take(3);
	__u64 msg_sys = 0, ua = 0;
	if (!want_send || !sock || !kp_take_aux(&msg_sys, &ua))
		return 0;
	struct used_address *used = (void *)ua;
	struct msghdr *m = (void *)msg_sys;
	__u32 name_len = BPF_CORE_READ(used, name_len);
	if (!mmsg_bypassed(name_len) || !same_address(&used->name, BPF_CORE_READ(m, msg_name),
						      BPF_CORE_READ(m, msg_namelen), name_len))
		return 0;
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), ret, true, false);
}

/* __sock_sendmsg() inlined everywhere: see send_arm(). */
SEC("kprobe/security_socket_sendmsg")
int BPF_KPROBE(st_secsend_kprobe, struct socket *sock)
{
	struct kpstate *k = want_send ? kp_get(true) : 0;
	if (k)
		k->sec_sock = (__u64)sock;
	return 0;
}

SEC("kretprobe/security_socket_sendmsg")
int BPF_KRETPROBE(st_secsend_kretprobe, int ret)
{
	struct kpstate *k = want_send ? kp_get(false) : 0;
	if (!k)
		return 0;
	if (!ret && k->sec_sock)
		k->armed = k->sec_sock;
	k->sec_sock = 0;
	return 0;
}

SEC("kretprobe/sock_sendmsg")
int BPF_KRETPROBE(st_sock_sendmsg_armed_kp, int ret)
{
	return want_send ? armed_xfer(ctx, ret, ST_PATH_STACK) : 0;
}

SEC("kretprobe/__sys_sendto")
int BPF_KRETPROBE(st_sendto_armed_kp, int ret)
{
	return want_send ? armed_xfer(ctx, ret, ST_PATH_STACK) : 0;
}

SEC("kretprobe/sock_write_iter")
int BPF_KRETPROBE(st_write_iter_armed_kp, long ret)
{
	struct socket *sock = want_send ? send_take() : 0;
	if (!sock)
		return 0;
	bump_sends();
	/* the write_iter path itself: no stack needed */
	return handle_xfer_path(ctx, BPF_CORE_READ(sock, sk), (int)ret, true, false,
				ST_OP_AIO_WRITE);
}

/* ____sys_sendmsg: the armed send, or the used_address shortcut (st_mmsg_kprobe saved its args) */
SEC("kretprobe/____sys_sendmsg")
int BPF_KRETPROBE(st_sysmsg_armed_kp, int ret)
{
	struct socket *sock = kp_take(3);
	__u64 msg_sys = 0, ua = 0;
	if (!want_send)
		return 0;
	struct socket *armed = send_take();
	if (armed) {
		bump_sends();
		return handle_xfer(ctx, BPF_CORE_READ(armed, sk), ret, true, false);
	}
	if (!sock || !kp_take_aux(&msg_sys, &ua))
		return 0;
	struct used_address *used = (void *)ua;
	struct msghdr *m = (void *)msg_sys;
	__u32 name_len = BPF_CORE_READ(used, name_len);
	if (!mmsg_bypassed(name_len) || !same_address(&used->name, BPF_CORE_READ(m, msg_name),
						      BPF_CORE_READ(m, msg_namelen), name_len))
		return 0;
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), ret, true, false);
}

/* The sendpage path (before Linux 6.5): see sendpage_enter(). */
SEC("kprobe/kernel_sendpage")
int BPF_KPROBE(st_sendpage_kprobe, struct socket *sock)
{
	if (want_send)
		sendpage_enter(sock);
	return 0;
}

SEC("kretprobe/kernel_sendpage")
int BPF_KRETPROBE(st_sendpage_kretprobe, int ret)
{
	struct socket *sock;
	if (!want_send || !(sock = sendpage_exit()))
		return 0;
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), ret, true, false);
}

SEC("kprobe/sock_sendpage")
int BPF_KPROBE(st_fsendpage_kprobe, struct file *file)
{
	if (want_send)
		sendpage_enter(BPF_CORE_READ(file, private_data));
	return 0;
}

SEC("kretprobe/sock_sendpage")
int BPF_KRETPROBE(st_fsendpage_kretprobe, long ret)
{
	struct socket *sock;
	if (!want_send || !(sock = sendpage_exit()))
		return 0;
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), (int)ret, true, false);
}

#endif /* ST_XFER_KPROBE_BPF_H */
