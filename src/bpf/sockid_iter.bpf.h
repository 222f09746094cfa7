/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Socket ids made on user space's behalf. The socket iterators hand their
 * program a trusted socket, which bpf_get_socket_cookie() takes on every
 * kernel, even where an fd's socket is untrusted (see cookie_by_fd). User
 * space runs them (decode.c, session.c): for the sockets whose inode it
 * put in id_wanted, or, with id_make_all, for every socket, once at
 * start-up, so that sockets that existed before tracing have an id too.
 * Making a cookie changes nothing but the id's existence (`ss -e` makes
 * them the same way).
 */
#ifndef ST_SOCKID_ITER_BPF_H
#define ST_SOCKID_ITER_BPF_H

/* inode -> cookie (0 until made) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} id_wanted SEC(".maps");

bool id_make_all = false; /* bss: user space sets it for the start-up pass */

static __always_inline void iter_make_id(struct sock *sk)
{
	if (!sk)
		return;
	if (id_make_all) {
		bpf_get_socket_cookie(sk);
		return;
	}
	struct socket *sock = sk->sk_socket;
	if (!sock)
		return;
	__u32 ino = socket_ino(sock);
	__u64 *c = bpf_map_lookup_elem(&id_wanted, &ino);
	if (c && !*c)
		*c = bpf_get_socket_cookie(sk);
}

SEC("iter/unix")
int st_iter_unix(struct bpf_iter__unix *ctx)
{
	struct unix_sock *u = ctx->unix_sk;
	if (u)
		iter_make_id(&u->sk);
	return 0;
}

SEC("iter/netlink")
int st_iter_netlink(struct bpf_iter__netlink *ctx)
{
	struct netlink_sock *n = ctx->sk;
	if (n)
		iter_make_id(&n->sk);
	return 0;
}

#endif /* ST_SOCKID_ITER_BPF_H */
