/* SPDX-License-Identifier: GPL-2.0 */
/* Sends and receives on the sock_*_length tracepoints (Linux >= 6.3). */
#ifndef ST_XFER_TP_BPF_H
#define ST_XFER_TP_BPF_H

SEC("tp_btf/sock_send_length")
int BPF_PROG(st_send, struct sock *sk, int ret, int flags)
{
	if (!want_send)
		return 0;
	return handle_xfer(ctx, sk, ret, true, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(st_recv, struct sock *sk, int ret, int flags)
{
	if (!want_recv)
		return 0;
	return handle_xfer(ctx, sk, ret, false, true);
}

#endif /* ST_XFER_TP_BPF_H */
