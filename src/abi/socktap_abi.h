/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The record format between socktap.bpf.c and libsocktap. Shared by the
 * BPF object and user space, so fixed-width types only (no size_t, no
 * long, no pointers) and explicit padding: both sides must agree on every
 * offset. The library checks sizeof(struct st_rec) against the BPF
 * object's BTF at load time.
 *
 * One record per kernel event. User space fans a record out to the probe
 * names it stands for (socket.write_iter + socket.aio_write + socket.send
 * for one write(2), for instance), so the kernel never pays per name.
 */
#ifndef SOCKTAP_ABI_H
#define SOCKTAP_ABI_H

#ifdef __bpf__
/* vmlinux.h provides the __u* types */
#else
#include <linux/types.h>
#endif

enum st_rec_kind {
	ST_REC_XFER = 1,   /* a send or receive reached the protocol */
	ST_REC_CREATE = 2, /* socket(2) / socketpair(2) returned */
	ST_REC_CLOSE = 3,  /* a socket was released */
};

/* Which path a send/receive took: decides the probe names. */
enum st_op {
	ST_OP_SENDMSG = 0,   /* sendto/sendmsg/sendmmsg, io_uring SEND*, kernel */
	ST_OP_AIO_WRITE = 1, /* write(2): sock_write_iter */
	ST_OP_WRITEV = 2,    /* writev(2), pwritev2(2): sock_write_iter */
	ST_OP_RECVMSG = 3,   /* recvfrom/recvmsg/recvmmsg, io_uring RECV*, kernel */
	ST_OP_AIO_READ = 4,  /* read(2): sock_read_iter */
	ST_OP_READV = 5,     /* readv(2), preadv2(2): sock_read_iter */
	ST_OP__COUNT = 6,
};

/* Who asked for it. */
enum st_origin {
	ST_ORIGIN_SYSCALL = 0,	/* the operation's own syscall, fd known */
	ST_ORIGIN_IO_URING = 1, /* io_uring (inline, task work or io-wq) */
	ST_ORIGIN_KERNEL = 2,	/* kernel thread or in-kernel user of a socket */
};

/* Why a socket was released (ST_REC_CLOSE). */
enum st_close_why {
	ST_CLOSE_CLOSE = 0,	  /* close(2) of its last fd */
	ST_CLOSE_CLOSE_RANGE = 1, /* close_range(2) */
	ST_CLOSE_DUP = 2,	  /* dup2/dup3 over it */
	ST_CLOSE_EXIT = 3,	  /* process exit */
	ST_CLOSE_EXEC = 4,	  /* close-on-exec */
	ST_CLOSE_CREATE_FAIL = 5, /* socket(2)/socketpair(2) failed after creating it */
	ST_CLOSE_KERNEL = 6,	  /* a socket without a file (the kernel's own), fentry only */
};

/* st_rec.rflags */
#define ST_RF_ENTRY	0x01 /* ts_enter is the operation's real start */
#define ST_RF_SIZE_REQ	0x02 /* size_req is known */
#define ST_RF_SOCK_VALS 0x04 /* family/type/state/flags/protocol are known */
#define ST_RF_COMPAT	0x08 /* 32-bit syscall: arguments not decoded */
#define ST_RF_UNIX	0x10 /* the record is a struct st_rec_unix: paths follow */

/*
 * A socket's two ends as the kernel holds them (inet), or as one message
 * named them (unconnected datagram sockets). family 0: that end is null.
 * IPv4 in the first 4 bytes of addr, network order; ports in host order.
 */
struct st_addrs {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport, rport;
	__u8 lfamily, rfamily;
	__u8 pad[2];
};

struct st_rec {
	__u8 kind;   /* enum st_rec_kind */
	__u8 op;     /* XFER: enum st_op; CLOSE: enum st_close_why; CREATE: count (1 or 2) */
	__u8 origin; /* XFER: enum st_origin; CREATE: requester */
	__u8 rflags; /* ST_RF_* */
	__s32 fd;    /* -1 when not known; CREATE: first fd */
	__u32 pid;   /* tgid */
	__u32 tid;
	__u32 uid;
	__u32 cpu;
	__u64 ts_enter; /* CLOCK_MONOTONIC ns: entry probe time */
	__u64 ts;	/* CLOCK_MONOTONIC ns: return probe time */
	__u64 cookie;	/* socket cookie; CREATE: cookie of the first socket */
	__u64 cookie2;	/* CREATE with op == 2: the second socket */
	__u32 ino;	/* the socket's inode number (sockfs), 0 if not known */
	__u32 ino2;	/* CREATE with op == 2: the second socket's */
	__u64 sflags;	/* struct socket's flags */
	__s64 size_req; /* XFER: bytes requested */
	__s32 ret;	/* XFER: bytes moved or -errno; CREATE: result */
	__s32 fd2;	/* CREATE: second fd of socketpair */
	__s32 family;	/* XFER/CLOSE: ops->family; CREATE: as requested */
	__s32 type;	/* struct socket's type; CREATE: as requested */
	__s32 protocol; /* sk->sk_protocol; CREATE: as requested */
	__s32 state;	/* struct socket's state */
	char comm[16];
	__u64 cgroup_id; /* the task's cgroup v2 id; 0 if not known */
	__u32 nspid;	 /* tgid in the task's own pid namespace; 0: socktap's */
	__u32 pad;
	struct st_addrs addrs; /* all zero when not wanted */
};

/*
 * A unix socket's record (ST_RF_UNIX): its bound path and its peer's, as
 * many bytes of sun_path as the kernel keeps (abstract names start with a
 * NUL byte); len 0: unnamed.
 */
#define ST_UNIX_PATH 108
struct st_unix_names {
	__u16 llen, rlen;
	char lpath[ST_UNIX_PATH];
	char rpath[ST_UNIX_PATH];
};
struct st_rec_unix {
	struct st_rec rec;
	struct st_unix_names names;
	__u8 pad[4];
};

/* Per-CPU counters (map "counters"). */
/*
 * The syscalls socktap hooks and what for: ST_SC_ENTRY, a send's or
 * receive's entry time and requested size; ST_SC_CREATE, socket creation;
 * ST_SC_CLOSE, fd closes that may release a socket. Columns: the syscall
 * (its __NR_ name), its tracepoint's name (the SYSCALL_DEFINE's), the job,
 * and whether it is also hooked at its exit. The BPF side dispatches on this list
 * (lifecycle.bpf.h); libsocktap attaches syscalls:sys_enter_NAME (and
 * sys_exit_NAME) for the ones a session wants, where those tracepoints
 * serve (load.c), so that other syscalls pay no BPF program at all.
 */
enum st_syscall_job { ST_SC_NONE, ST_SC_ENTRY, ST_SC_CREATE, ST_SC_CLOSE };
#define ST_SYSCALL_HOOKS(X)                                                                        \
	X(read, read, ST_SC_ENTRY, 0)                                                              \
	X(write, write, ST_SC_ENTRY, 0)                                                            \
	X(readv, readv, ST_SC_ENTRY, 0)                                                            \
	X(writev, writev, ST_SC_ENTRY, 0)                                                          \
	X(preadv2, preadv2, ST_SC_ENTRY, 0)                                                        \
	X(pwritev2, pwritev2, ST_SC_ENTRY, 0)                                                      \
	X(sendto, sendto, ST_SC_ENTRY, 0)                                                          \
	X(recvfrom, recvfrom, ST_SC_ENTRY, 0)                                                      \
	X(sendmsg, sendmsg, ST_SC_ENTRY, 0)                                                        \
	X(recvmsg, recvmsg, ST_SC_ENTRY, 0)                                                        \
	X(sendmmsg, sendmmsg, ST_SC_ENTRY, 0)                                                      \
	X(recvmmsg, recvmmsg, ST_SC_ENTRY, 0)                                                      \
	X(sendfile, sendfile64, ST_SC_ENTRY, 0)                                                    \
	X(splice, splice, ST_SC_ENTRY, 0)                                                          \
	X(socket, socket, ST_SC_CREATE, 1)                                                         \
	X(socketpair, socketpair, ST_SC_CREATE, 1)                                                 \
	X(close, close, ST_SC_CLOSE, 1)                                                            \
	X(close_range, close_range, ST_SC_CLOSE, 0)                                                \
	X(dup2, dup2, ST_SC_CLOSE, 0)                                                              \
	X(dup3, dup3, ST_SC_CLOSE, 0)                                                              \
	X(execve, execve, ST_SC_CLOSE, 1)                                                          \
	X(execveat, execveat, ST_SC_CLOSE, 1)

enum st_counter {
	ST_CNT_LOST_RECORDS = 0,  /* ring full: records dropped */
	ST_CNT_LOST_EVENTS = 1,	  /* the probe events they stood for */
	ST_CNT_EXEC_OVERFLOW = 2, /* close-on-exec sockets beyond what one exec can carry */
	ST_CNT_AGG_DROPPED = 3,	  /* aggregation updates that found their table full */
	ST_CNT__MAX = 4,
};

/* ---- aggregation (socktap top) ---- */

/* rodata `aggregate` flags: the same bits as SOCKTAP_AGG_* in socktap.h */
#define ST_AGG_PROCS	     0x01
#define ST_AGG_DEVICES	     0x02
#define ST_AGG_HIST_SIZE     0x04
#define ST_AGG_HIST_LATENCY  0x08
#define ST_AGG_HIST_BY_PROTO 0x10
#define ST_AGG_CONNS	     0x20
#define ST_AGG_CGROUPS	     0x40
#define ST_AGG_SERIES	     0x80
#define ST_AGG_SERIES_CGROUP 0x100 /* series keyed by cgroup too */
#define ST_AGG_LIFECYCLE     0x200 /* series count sockets made and released */

struct st_agg_key {
	__u32 tgid;
	__u16 protocol;
	__u16 family;
};

/* per CPU; the reader sums the CPUs */
struct st_agg_val {
	__u64 sends, recvs;
	__u64 send_bytes, recv_bytes;
	__u64 send_errors, recv_errors;
	__u32 uid;
	__u32 pad;
	char comm[16];
	/*
	 * process rows: when this CPU first counted the row; the row is named
	 * after the CPU that saw it first (its first operation's comm and uid)
	 */
	__u64 first_ns;
};

/* the same counters per connection: unix sockets are told apart by their inode */
struct st_conn_key {
	__u32 tgid;
	__u16 protocol;
	__u16 family;
	__u32 ino; /* unix: the socket's inode (its paths are in st_conn_id); else 0 */
	__u32 pad;
	struct st_addrs addrs;
};

/* shared: a connection row's first operation's comm and uid, and its unix paths */
struct st_conn_id {
	__u32 uid;
	__u32 pad;
	char comm[16];
	struct st_unix_names names;
	__u8 pad2[4];
};

struct st_cgroup_key {
	__u64 cgroup_id;
};

struct st_dev_key {
	__u32 ifindex;
	__u32 netns; /* network namespace inode */
};

struct st_dev_val {
	__u64 xmits, recvs;
	__u64 xmit_bytes, recv_bytes;
	char name[16];
};

enum st_hist_kind { ST_HIST_SIZE = 0, ST_HIST_LATENCY = 1 };
struct st_hist_key {
	__u32 key; /* tgid, or protocol */
	__u8 kind;
	__u8 recv;
	__u8 bucket; /* 0: value 0; b >= 1: [2^(b-1), 2^b) */
	__u8 pad;
};

/*
 * serve: per (process, cgroup if asked, protocol, family, type, errno).
 * Failures are counted in rows of their errno, successes in err 0's.
 */
struct st_series_key {
	__u64 cgroup_id; /* 0 unless the cgroup is asked for */
	__u32 tgid;
	__u16 protocol;
	__u16 family;
	__u16 type;
	__u16 err; /* a failure's errno; 0: successes */
	__u32 pad;
};

/*
 * Size histograms live in the series' own value, so that a transfer
 * costs one map update: slots as ST_SERIES_SLOTS' (below), 0 .. 21
 * (sizes up to 2^20), the last holding everything larger.
 */
#define ST_SIZE_SLOTS 23

/* per CPU; the comm is the thread-group leader's, the uid the first operation's */
struct st_series_val {
	__u64 sends, recvs;
	__u64 send_bytes, recv_bytes;
	__u64 send_errors, recv_errors;
	__u64 send_ns, recv_ns; /* entry-to-return sums, with ST_AGG_HIST_LATENCY */
	__u64 creates, closes;	/* with ST_AGG_LIFECYCLE */
	__u32 uid;
	__u32 pad;
	char comm[16];
	__u32 size_slots[2][ST_SIZE_SLOTS]; /* [send, receive]; with ST_AGG_HIST_SIZE */
	__u32 pad2[2];
};

/*
 * serve's duration histograms, per series (err 0). Slots are upper-inclusive so
 * that Prometheus's "le" bounds are exact powers of two: slot 0 holds 0,
 * slot s >= 1 holds (2^(s-2), 2^(s-1)], so slot 1 holds 1.
 */
#define ST_SERIES_SLOTS 66
struct st_series_hist_key {
	struct st_series_key s;
	__u8 kind; /* enum st_hist_kind */
	__u8 recv;
	__u8 slot;
	__u8 pad[5];
};

/* Most probe events one record fans out to. */
#define ST_MAX_FANOUT 8

/*
 * Most values each in-kernel filter holds: the sizes of its maps, which
 * libsocktap and the CLI check against (a fuller map fails with E2BIG).
 */
#define ST_FILTER_SET_MAX    1024 /* pids, uids, comms: each */
#define ST_FILTER_ADDR_MAX   256  /* address prefixes */
#define ST_FILTER_CGROUP_MAX 8	  /* cgroups */

#endif /* SOCKTAP_ABI_H */
