// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * THE probe table. `socktap list`, the session's choice of BPF programs,
 * the fan-out of kernel records to probe names, docs/probes.md and the
 * tests all come from here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probes.h"
#include "util.h"

#define S(x)	      (1ull << (x))
#define TP(tp, since) SRCK_TRACEPOINT, "btf_trace_" tp, NULL, since

const struct st_source_def st_sources[SRC__COUNT] = {
    [SRC_SEND_TP] = {"tp_btf:sock/sock_send_length", "st_send", TP("sock_send_length", "6.3")},
    [SRC_RECV_TP] = {"tp_btf:sock/sock_recv_length", "st_recv", TP("sock_recv_length", "6.3")},
    [SRC_SYS_ENTER] = {"tp_btf:raw_syscalls/sys_enter", "st_sys_enter", TP("sys_enter", "2.6.33"),
		       "st_sysc_enter", "tracepoint:syscalls/sys_enter_*"},
    [SRC_SYS_EXIT] = {"tp_btf:raw_syscalls/sys_exit", "st_sys_exit", TP("sys_exit", "2.6.33"),
		      "st_sysc_exit", "tracepoint:syscalls/sys_exit_*"},
    [SRC_PROC_EXIT] = {"tp_btf:sched/sched_process_exit", "st_exit",
		       TP("sched_process_exit", "2.6.28")},
    [SRC_PROC_FORK] = {"tp_btf:sched/sched_process_fork", "st_fork",
		       TP("sched_process_fork", "2.6.28")},
    [SRC_DEV_XMIT] = {"tp_btf:net/net_dev_xmit", "st_dev_xmit", TP("net_dev_xmit", "2.6.38")},
    [SRC_DEV_RECV] = {"tp_btf:net/netif_receive_skb", "st_dev_recv",
		      TP("netif_receive_skb", "2.6.32")},
    [SRC_SEND_FEXIT] = {"fexit:__sock_sendmsg", "st_send_fexit", SRCK_FENTRY, "__sock_sendmsg",
			NULL, "5.5"},
    [SRC_SEND_FEXIT_OLD] = {"fexit:sock_sendmsg", "st_send_fexit_old", SRCK_FENTRY, "sock_sendmsg",
			    "__sock_sendmsg", "5.5"},
    [SRC_RECV_FEXIT] = {"fexit:sock_recvmsg", "st_recv_fexit", SRCK_FENTRY, "sock_recvmsg", NULL,
			"5.5"},
    [SRC_RECV_NOSEC_FEXIT] = {"fexit:____sys_recvmsg", "st_recv_nosec_fexit", SRCK_FENTRY,
			      "____sys_recvmsg", NULL, "5.5"},
    [SRC_MMSG_FENTRY] = {"fentry:____sys_sendmsg", "st_mmsg_fentry", SRCK_FENTRY, "____sys_sendmsg",
			 NULL, "5.5"},
    [SRC_MMSG_FEXIT] = {"fexit:____sys_sendmsg", "st_mmsg_fexit", SRCK_FENTRY, "____sys_sendmsg",
			NULL, "5.5"},
    [SRC_SEND_KPROBE] = {"kprobe:__sock_sendmsg", "st_send_kprobe", SRCK_KPROBE, "__sock_sendmsg",
			 NULL, "4.1"},
    [SRC_SEND_KRETPROBE] = {"kretprobe:__sock_sendmsg", "st_send_kretprobe", SRCK_KPROBE,
			    "__sock_sendmsg", NULL, "4.1"},
    [SRC_SEND_KPROBE_OLD] = {"kprobe:sock_sendmsg", "st_send_kprobe_old", SRCK_KPROBE,
			     "sock_sendmsg", "__sock_sendmsg", "4.1"},
    [SRC_SEND_KRETPROBE_OLD] = {"kretprobe:sock_sendmsg", "st_send_kretprobe_old", SRCK_KPROBE,
				"sock_sendmsg", "__sock_sendmsg", "4.1"},
    [SRC_RECV_KPROBE] = {"kprobe:sock_recvmsg", "st_recv_kprobe", SRCK_KPROBE, "sock_recvmsg", NULL,
			 "4.1"},
    [SRC_RECV_KRETPROBE] = {"kretprobe:sock_recvmsg", "st_recv_kretprobe", SRCK_KPROBE,
			    "sock_recvmsg", NULL, "4.1"},
    [SRC_RECV_NOSEC_KPROBE] = {"kprobe:____sys_recvmsg", "st_recv_nosec_kprobe", SRCK_KPROBE,
			       "____sys_recvmsg", NULL, "4.1"},
    [SRC_RECV_NOSEC_KRETPROBE] = {"kretprobe:____sys_recvmsg", "st_recv_nosec_kretprobe",
				  SRCK_KPROBE, "____sys_recvmsg", NULL, "4.1"},
    [SRC_MMSG_KPROBE] = {"kprobe:____sys_sendmsg", "st_mmsg_kprobe", SRCK_KPROBE, "____sys_sendmsg",
			 NULL, "4.1"},
    [SRC_MMSG_KRETPROBE] = {"kretprobe:____sys_sendmsg", "st_mmsg_kretprobe", SRCK_KPROBE,
			    "____sys_sendmsg", NULL, "4.1"},
    [SRC_SENDPAGE_FENTRY] = {"fentry:kernel_sendpage", "st_sendpage_fentry", SRCK_FENTRY,
			     "kernel_sendpage", NULL, "5.5"},
    [SRC_SENDPAGE_FEXIT] = {"fexit:kernel_sendpage", "st_sendpage_fexit", SRCK_FENTRY,
			    "kernel_sendpage", NULL, "5.5"},
    [SRC_FSENDPAGE_FENTRY] = {"fentry:sock_sendpage", "st_fsendpage_fentry", SRCK_FENTRY,
			      "sock_sendpage", NULL, "5.5"},
    [SRC_FSENDPAGE_FEXIT] = {"fexit:sock_sendpage", "st_fsendpage_fexit", SRCK_FENTRY,
			     "sock_sendpage", NULL, "5.5"},
    [SRC_SENDPAGE_KPROBE] = {"kprobe:kernel_sendpage", "st_sendpage_kprobe", SRCK_KPROBE,
			     "kernel_sendpage", NULL, "4.1"},
    [SRC_SENDPAGE_KRETPROBE] = {"kretprobe:kernel_sendpage", "st_sendpage_kretprobe", SRCK_KPROBE,
				"kernel_sendpage", NULL, "4.1"},
    [SRC_FSENDPAGE_KPROBE] = {"kprobe:sock_sendpage", "st_fsendpage_kprobe", SRCK_KPROBE,
			      "sock_sendpage", NULL, "4.1"},
    [SRC_FSENDPAGE_KRETPROBE] = {"kretprobe:sock_sendpage", "st_fsendpage_kretprobe", SRCK_KPROBE,
				 "sock_sendpage", NULL, "4.1"},
    [SRC_SECSEND_FEXIT] = {"fexit:security_socket_sendmsg", "st_secsend_fexit", SRCK_FENTRY,
			   "security_socket_sendmsg", NULL, "5.5"},
    [SRC_SOCK_SENDMSG_ARMED] = {"fexit:sock_sendmsg", "st_sock_sendmsg_armed", SRCK_FENTRY,
				"sock_sendmsg", NULL, "5.5"},
    [SRC_SENDTO_ARMED] = {"fexit:__sys_sendto", "st_sendto_armed", SRCK_FENTRY, "__sys_sendto",
			  NULL, "5.5"},
    [SRC_WRITE_ITER_ARMED] = {"fexit:sock_write_iter", "st_write_iter_armed", SRCK_FENTRY,
			      "sock_write_iter", NULL, "5.5"},
    [SRC_SYSMSG_ARMED] = {"fexit:____sys_sendmsg", "st_sysmsg_armed", SRCK_FENTRY,
			  "____sys_sendmsg", NULL, "5.5"},
    [SRC_SECSEND_KPROBE] = {"kprobe:security_socket_sendmsg", "st_secsend_kprobe", SRCK_KPROBE,
			    "security_socket_sendmsg", NULL, "4.1"},
    [SRC_SECSEND_KRETPROBE] = {"kretprobe:security_socket_sendmsg", "st_secsend_kretprobe",
			       SRCK_KPROBE, "security_socket_sendmsg", NULL, "4.1"},
    [SRC_SOCK_SENDMSG_ARMED_KP] = {"kretprobe:sock_sendmsg", "st_sock_sendmsg_armed_kp",
				   SRCK_KPROBE, "sock_sendmsg", NULL, "4.1"},
    [SRC_SENDTO_ARMED_KP] = {"kretprobe:__sys_sendto", "st_sendto_armed_kp", SRCK_KPROBE,
			     "__sys_sendto", NULL, "4.1"},
    [SRC_WRITE_ITER_ARMED_KP] = {"kretprobe:sock_write_iter", "st_write_iter_armed_kp", SRCK_KPROBE,
				 "sock_write_iter", NULL, "4.1"},
    [SRC_SYSMSG_ARMED_KP] = {"kretprobe:____sys_sendmsg", "st_sysmsg_armed_kp", SRCK_KPROBE,
			     "____sys_sendmsg", NULL, "4.1"},
    [SRC_KCREATE_FEXIT] = {"fexit:__sock_create", "st_kcreate_fexit", SRCK_FENTRY, "__sock_create",
			   NULL, "5.5"},
    [SRC_KRELEASE_FENTRY] = {"fentry:__sock_release", "st_krelease_fentry", SRCK_FENTRY,
			     "__sock_release", NULL, "5.5"},
};

/* Where the sock_*_length tracepoints are missing: the functions, as fentry or kprobes. */
#define SEND_FEXIT     (S(SRC_SEND_FEXIT) | S(SRC_MMSG_FENTRY) | S(SRC_MMSG_FEXIT))
#define SEND_FEXIT_OLD (S(SRC_SEND_FEXIT_OLD) | S(SRC_MMSG_FENTRY) | S(SRC_MMSG_FEXIT))
#define RECV_FEXIT     (S(SRC_RECV_FEXIT) | S(SRC_RECV_NOSEC_FEXIT))
#define SEND_KPROBE                                                                                \
	(S(SRC_SEND_KPROBE) | S(SRC_SEND_KRETPROBE) | S(SRC_MMSG_KPROBE) | S(SRC_MMSG_KRETPROBE))
#define SEND_KPROBE_OLD                                                                            \
	(S(SRC_SEND_KPROBE_OLD) | S(SRC_SEND_KRETPROBE_OLD) | S(SRC_MMSG_KPROBE) |                 \
	 S(SRC_MMSG_KRETPROBE))
#define RECV_KPROBE                                                                                \
	(S(SRC_RECV_KPROBE) | S(SRC_RECV_KRETPROBE) | S(SRC_RECV_NOSEC_KPROBE) |                   \
	 S(SRC_RECV_NOSEC_KRETPROBE))
#define L_FUNCS                                                                                    \
	"recvmmsg's messages after the first and sendmmsg's messages to a repeated address are "   \
	"taken from ____sys_recvmsg()/____sys_sendmsg()'s return, where a failure to copy "        \
	"results out after a transfer is reported as the transfer's"
#define L_KPROBES                                                                                  \
	L_FUNCS "; kprobes give no typed socket: its cookie only if already made (inet sockets "   \
		"get theirs at birth), else null"
/*
 * Before Linux 6.5 sendfile(2)/splice(2) to a socket take the sendpage path
 * (see sendpage_enter() in src/bpf/funcs_state.bpf.h): where those functions
 * exist, the function backends hook them too. Candidates with them come
 * first; kernels without them (6.5+) take the next.
 */
#define SENDPAGE_FEXIT                                                                             \
	(S(SRC_SENDPAGE_FENTRY) | S(SRC_SENDPAGE_FEXIT) | S(SRC_FSENDPAGE_FENTRY) |                \
	 S(SRC_FSENDPAGE_FEXIT))
#define SENDPAGE_KPROBE                                                                            \
	(S(SRC_SENDPAGE_KPROBE) | S(SRC_SENDPAGE_KRETPROBE) | S(SRC_FSENDPAGE_KPROBE) |            \
	 S(SRC_FSENDPAGE_KRETPROBE))
#define L_SENDPAGE "; sendfile/splice and in-kernel sendpage users from the sendpage path"
/*
 * Where __sock_sendmsg() is in BTF but inlined into every caller (no symbol
 * to attach to: Debian's 6.12), each send is found between its LSM check
 * and its caller's return (send_arm() in src/bpf/funcs_state.bpf.h).
 */
#define SEND_ARMED_FEXIT                                                                           \
	(S(SRC_SECSEND_FEXIT) | S(SRC_SOCK_SENDMSG_ARMED) | S(SRC_SENDTO_ARMED) |                  \
	 S(SRC_WRITE_ITER_ARMED) | S(SRC_SYSMSG_ARMED) | S(SRC_MMSG_FENTRY))
#define SEND_ARMED_KPROBE                                                                          \
	(S(SRC_SECSEND_KPROBE) | S(SRC_SECSEND_KRETPROBE) | S(SRC_SOCK_SENDMSG_ARMED_KP) |         \
	 S(SRC_SENDTO_ARMED_KP) | S(SRC_WRITE_ITER_ARMED_KP) | S(SRC_SYSMSG_ARMED_KP) |            \
	 S(SRC_MMSG_KPROBE))
/* both: __sock_sendmsg() where a caller calls it, the armed callers where it is inlined */
#define SEND_BOTH_FEXIT	 (S(SRC_SEND_FEXIT) | SEND_ARMED_FEXIT)
#define SEND_BOTH_KPROBE (S(SRC_SEND_KPROBE) | S(SRC_SEND_KRETPROBE) | SEND_ARMED_KPROBE)
#define L_ARMED                                                                                    \
	"; sends are taken between security_socket_sendmsg() "                                     \
	"and the return of sock_sendmsg/__sys_sendto/____sys_sendmsg/sock_write_iter, with the "   \
	"socket read untyped (its cookie made at the LSM check)"
/*
 * Order: __sock_sendmsg() (6.6+, and the 5.10.y/6.1.y backports) together
 * with the LSM-armed callers, since a build may inline it into some
 * callers and not others (Debian's 5.10 inlines it into sock_sendmsg): the
 * first of them to return counts the send, once. Then the armed callers
 * alone, right both where __sock_sendmsg() is inlined everywhere (6.12,
 * absent from BTF) and where sends go through sock_sendmsg() (whose return
 * consumes the arming first); then without the LSM hook. Each with the
 * sendpage path first, for kernels before 6.5.
 */
#define WITH_SENDPAGE(base, sp, x, backend, lim, l)                                                \
	{(base) | (sp) | (x), backend, lim, l L_SENDPAGE},                                         \
	{                                                                                          \
		(base) | (x), backend, lim, l                                                      \
	}
#define CANDS_SEND(extra, lim)                                                                     \
	{                                                                                          \
		{S(SRC_SEND_TP) | (extra), ST_BACKEND_TRACEPOINT, lim},                            \
		    WITH_SENDPAGE(SEND_BOTH_FEXIT, SENDPAGE_FEXIT, extra, ST_BACKEND_FENTRY, lim,  \
				  L_FUNCS L_ARMED),                                                \
		    WITH_SENDPAGE(SEND_ARMED_FEXIT, SENDPAGE_FEXIT, extra, ST_BACKEND_FENTRY, lim, \
				  L_FUNCS L_ARMED),                                                \
		    WITH_SENDPAGE(SEND_FEXIT, SENDPAGE_FEXIT, extra, ST_BACKEND_FENTRY, lim,       \
				  L_FUNCS),                                                        \
		    WITH_SENDPAGE(SEND_FEXIT_OLD, SENDPAGE_FEXIT, extra, ST_BACKEND_FENTRY, lim,   \
				  L_FUNCS),                                                        \
		    WITH_SENDPAGE(SEND_BOTH_KPROBE, SENDPAGE_KPROBE, extra, ST_BACKEND_KPROBE,     \
				  lim, L_KPROBES L_ARMED),                                         \
		    WITH_SENDPAGE(SEND_ARMED_KPROBE, SENDPAGE_KPROBE, extra, ST_BACKEND_KPROBE,    \
				  lim, L_KPROBES L_ARMED),                                         \
		    WITH_SENDPAGE(SEND_KPROBE, SENDPAGE_KPROBE, extra, ST_BACKEND_KPROBE, lim,     \
				  L_KPROBES),                                                      \
		    WITH_SENDPAGE(SEND_KPROBE_OLD, SENDPAGE_KPROBE, extra, ST_BACKEND_KPROBE, lim, \
				  L_KPROBES),                                                      \
	}

#define CANDS_RECV(extra, lim)                                                                     \
	{                                                                                          \
		{S(SRC_RECV_TP) | (extra), ST_BACKEND_TRACEPOINT, lim},                            \
		    {RECV_FEXIT | (extra), ST_BACKEND_FENTRY, lim, L_FUNCS},                       \
		{                                                                                  \
			RECV_KPROBE | (extra), ST_BACKEND_KPROBE, lim, L_KPROBES                   \
		}                                                                                  \
	}

#define V_XFER_ENTRY                                                                               \
	(SOCKTAP_V_NAME | SOCKTAP_V_SIZE | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY |                 \
	 SOCKTAP_V_STATE | SOCKTAP_V_FLAGS | SOCKTAP_V_TYPE)
#define V_XFER_RETURN (V_XFER_ENTRY | SOCKTAP_V_SUCCESS)
#define V_CREATE                                                                                   \
	(SOCKTAP_V_NAME | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY | SOCKTAP_V_TYPE |                 \
	 SOCKTAP_V_REQUESTER)
#define V_CREATE_RETURN (V_CREATE | SOCKTAP_V_SUCCESS | SOCKTAP_V_ERR)
#define V_CLOSE                                                                                    \
	(SOCKTAP_V_NAME | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY | SOCKTAP_V_STATE |                \
	 SOCKTAP_V_FLAGS | SOCKTAP_V_TYPE)

/* What the tracepoint mechanisms cannot see, per probe family. */
#define L_ENTRY                                                                                    \
	"reported when the operation completes, stamped with its entry time; io_uring and "        \
	"in-kernel operations have no visible entry: size is unknown (null) and the time is the "  \
	"completion's"
#define L_RETURN_SEND "state and flags are read at completion, not at entry"
#define L_ITER                                                                                     \
	"io_uring READ/WRITE are told from SEND/RECV by the kernel stack; READV/WRITEV count as "  \
	"aio_read/aio_write"
#define L_CREATE                                                                                   \
	"socket(2) and socketpair(2) only: sockets the kernel creates for itself (requester = 1) " \
	"are invisible, no tracepoint fires in __sock_create()"
#define L_CREATE_USER "socket(2) and socketpair(2) for user sockets"
#define L_CLOSE                                                                                    \
	"releases by close, close_range, dup2/dup3, exec (close-on-exec) and exit; not seen: "     \
	"io_uring CLOSE, in-kernel releases (SCM_RIGHTS garbage, failed accept), a last "          \
	"reference held by a concurrent syscall"

/* where sched_process_exit is refused: releases at exit are the one thing lost */
#define L_CLOSE_NOEXIT                                                                             \
	"releases by close, close_range, dup2/dup3 and exec (close-on-exec); not seen: releases "  \
	"at process exit (sched_process_exit unavailable), io_uring CLOSE, in-kernel releases, a " \
	"last reference held by a concurrent syscall"

/*
 * Creation and release: the syscall hooks, which know the fds; where fentry
 * works, plus __sock_create()/__sock_release() for the kernel's own sockets.
 * Preferred even though fentry costs more than tracepoints: it sees more,
 * and sockets are created far less often than they move data.
 */
#define L_KERNEL_SOCKETS                                                                           \
	"kernel-made sockets (requester = 1) from fexit:__sock_create, without fd; their "         \
	"create events have no cookie (BPF gets no typed socket there)"
#define CANDS_CREATE                                                                               \
	{                                                                                          \
		{S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT) | S(SRC_KCREATE_FEXIT), ST_BACKEND_FENTRY,     \
		 L_CREATE_USER, L_KERNEL_SOCKETS},                                                 \
		{                                                                                  \
			S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT), ST_BACKEND_AUTO, L_CREATE, NULL        \
		}                                                                                  \
	}
#define CANDS_CLOSE                                                                                \
	{                                                                                          \
		{S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT) | S(SRC_PROC_EXIT) | S(SRC_KRELEASE_FENTRY),   \
		 ST_BACKEND_FENTRY, L_CLOSE,                                                       \
		 "kernel sockets' releases from fentry:__sock_release, "                           \
		 "without fd"},                                                                    \
		    {S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT) | S(SRC_PROC_EXIT), ST_BACKEND_AUTO,       \
		     L_CLOSE, NULL},                                                               \
		{                                                                                  \
			S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT), ST_BACKEND_AUTO, L_CLOSE_NOEXIT, NULL  \
		}                                                                                  \
	}

#define XFER_ENTRY(ID, NAME, SUMMARY, DIR, LIM)                                                    \
	[ID] = {.pub = {NAME, SUMMARY, V_XFER_ENTRY, ID, false},                                   \
		.cand = CANDS_##DIR(S(SRC_SYS_ENTER), LIM)}
#define XFER_RETURN(ID, ENTRY, NAME, SUMMARY, DIR, LIM)                                            \
	[ID] = {.pub = {NAME, SUMMARY, V_XFER_RETURN, ENTRY, true}, .cand = CANDS_##DIR(0, LIM)}

const struct st_probe_def st_probes[SOCKTAP_PROBE__COUNT] = {
    [SOCKTAP_PROBE_SEND] = {.pub = {"socket.send", "Message sent on a socket", V_XFER_RETURN,
				    SOCKTAP_PROBE_SEND, true},
			    .cand = CANDS_SEND(0, "")},
    [SOCKTAP_PROBE_RECEIVE] = {.pub = {"socket.receive", "Message received on a socket",
				       V_XFER_RETURN, SOCKTAP_PROBE_RECEIVE, true},
			       .cand = CANDS_RECV(0, "")},
    XFER_ENTRY(SOCKTAP_PROBE_SENDMSG, "socket.sendmsg",
	       "Message is currently being sent on a socket", SEND, L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_SENDMSG_RETURN, SOCKTAP_PROBE_SENDMSG, "socket.sendmsg.return",
		"Return from socket.sendmsg", SEND, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_RECVMSG, "socket.recvmsg", "Message being received on socket", RECV,
	       L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_RECVMSG_RETURN, SOCKTAP_PROBE_RECVMSG, "socket.recvmsg.return",
		"Return from Message being received on socket", RECV, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_AIO_WRITE, "socket.aio_write", "Message send via sock_aio_write", SEND,
	       L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_AIO_WRITE_RETURN, SOCKTAP_PROBE_AIO_WRITE, "socket.aio_write.return",
		"Conclusion of message send via sock_aio_write", SEND, L_ITER),
    XFER_ENTRY(SOCKTAP_PROBE_AIO_READ, "socket.aio_read", "Receiving message via sock_aio_read",
	       RECV, L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_AIO_READ_RETURN, SOCKTAP_PROBE_AIO_READ, "socket.aio_read.return",
		"Conclusion of message received via sock_aio_read", RECV, L_ITER),
    XFER_ENTRY(SOCKTAP_PROBE_WRITEV, "socket.writev", "Message sent via socket_writev", SEND,
	       L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_WRITEV_RETURN, SOCKTAP_PROBE_WRITEV, "socket.writev.return",
		"Conclusion of message sent via socket_writev", SEND, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_READV, "socket.readv", "Receiving a message via sock_readv", RECV,
	       L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_READV_RETURN, SOCKTAP_PROBE_READV, "socket.readv.return",
		"Conclusion of receiving a message via sock_readv", RECV, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_WRITE_ITER, "socket.write_iter", "Message send via sock_write_iter",
	       SEND, L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_WRITE_ITER_RETURN, SOCKTAP_PROBE_WRITE_ITER,
		"socket.write_iter.return", "Conclusion of message send via sock_write_iter", SEND,
		L_ITER),
    XFER_ENTRY(SOCKTAP_PROBE_READ_ITER, "socket.read_iter", "Receiving message via sock_read_iter",
	       RECV, L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_READ_ITER_RETURN, SOCKTAP_PROBE_READ_ITER, "socket.read_iter.return",
		"Conclusion of message received via sock_read_iter", RECV, L_ITER),
    [SOCKTAP_PROBE_CREATE] = {.pub = {"socket.create", "Creation of a socket", V_CREATE,
				      SOCKTAP_PROBE_CREATE, false},
			      .cand = CANDS_CREATE},
    [SOCKTAP_PROBE_CREATE_RETURN] = {.pub = {"socket.create.return",
					     "Return from Creation of a socket", V_CREATE_RETURN,
					     SOCKTAP_PROBE_CREATE, true},
				     .cand = CANDS_CREATE},
    [SOCKTAP_PROBE_CLOSE] = {.pub = {"socket.close", "Close a socket", V_CLOSE, SOCKTAP_PROBE_CLOSE,
				     false},
			     .cand = CANDS_CLOSE},
    [SOCKTAP_PROBE_CLOSE_RETURN] = {.pub = {"socket.close.return", "Return from closing a socket",
					    SOCKTAP_V_NAME, SOCKTAP_PROBE_CLOSE, true},
				    .cand = CANDS_CLOSE},
};

/* Nesting as the kernel calls them: outer entry, inner entry, inner return, outer return. */
#define P(x) SOCKTAP_PROBE_##x
static const struct st_fanout fanout_xfer[ST_OP__COUNT] = {
    [ST_OP_SENDMSG] = {3, {P(SENDMSG), P(SENDMSG_RETURN), P(SEND)}, {1, 0, 0}},
    [ST_OP_AIO_WRITE] = {5,
			 {P(AIO_WRITE), P(WRITE_ITER), P(WRITE_ITER_RETURN), P(AIO_WRITE_RETURN),
			  P(SEND)},
			 {1, 1, 0, 0, 0}},
    [ST_OP_WRITEV] = {5,
		      {P(WRITEV), P(WRITE_ITER), P(WRITE_ITER_RETURN), P(WRITEV_RETURN), P(SEND)},
		      {1, 1, 0, 0, 0}},
    [ST_OP_RECVMSG] = {3, {P(RECVMSG), P(RECVMSG_RETURN), P(RECEIVE)}, {1, 0, 0}},
    [ST_OP_AIO_READ] = {5,
			{P(AIO_READ), P(READ_ITER), P(READ_ITER_RETURN), P(AIO_READ_RETURN),
			 P(RECEIVE)},
			{1, 1, 0, 0, 0}},
    [ST_OP_READV] = {5,
		     {P(READV), P(READ_ITER), P(READ_ITER_RETURN), P(READV_RETURN), P(RECEIVE)},
		     {1, 1, 0, 0, 0}},
};
const struct st_fanout st_fanout_create = {2, {P(CREATE), P(CREATE_RETURN)}, {1, 0}};
const struct st_fanout st_fanout_close = {2, {P(CLOSE), P(CLOSE_RETURN)}, {1, 0}};
#undef P

const struct st_fanout *st_fanout_xfer(enum st_op op)
{
	return (unsigned)op < ST_OP__COUNT ? &fanout_xfer[op] : NULL;
}

const struct socktap_probe *socktap_probe_get(enum socktap_probe_id id)
{
	if ((unsigned)id >= SOCKTAP_PROBE__COUNT)
		return NULL;
	return &st_probes[id].pub;
}

int socktap_probe_find(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++)
		if (strcmp(st_probes[i].pub.name, name) == 0)
			return i;
	return -ENOENT;
}

static const char *const value_names[SOCKTAP_VALUE__COUNT] = {
    "name", "size", "success", "protocol", "family", "state", "flags", "type", "requester", "err",
};

const char *socktap_value_name(unsigned int bit)
{
	if (!bit || (bit & (bit - 1)))
		return NULL;
	int i = __builtin_ctz(bit);
	return i < SOCKTAP_VALUE__COUNT ? value_names[i] : NULL;
}

/*
 * SystemTap's probe-point globs: '?' is one character and '*' any run of
 * them, neither crossing a '.', while '**' (two or more stars) is any run
 * that may: "socket.**" is every socket probe, "socket.*" the two-component
 * ones. SystemTap expands "a**b" to "a*b" and "a*.**b"; matching the
 * characters directly gives the same set, without expansion.
 *
 * A dynamic programme over the name's positions, one pattern token at a
 * time: at[i] says the tokens so far can match name[0..i), so the work is
 * |pattern| x |name| whatever the stars, never backtracking.
 */
bool socktap_pattern_match(const char *pattern, const char *name)
{
	if (!pattern || !name)
		return false;
	size_t n = strlen(name);
	bool small[2][64], *at = small[0], *next = small[1], *heap = NULL;
	if (n + 1 > sizeof(small[0]) / sizeof(small[0][0])) {
		heap = calloc(2 * (n + 1), sizeof(bool));
		if (!heap)
			return false;
		at = heap;
		next = heap + n + 1;
	}
	memset(at, 0, (n + 1) * sizeof(bool));
	at[0] = true;
	for (const char *p = pattern; *p; p++) {
		bool any = false;
		if (*p == '*' && p[1] == '*') {
			/* any run, dots included: every position from the first reachable one */
			while (p[1] == '*')
				p++;
			for (size_t i = 0; i <= n; i++)
				next[i] = any = any || at[i];
		} else if (*p == '*') {
			/* any run within the component: reachability stops at each '.' */
			for (size_t i = 0; i <= n; i++) {
				if (i > 0 && name[i - 1] == '.')
					any = false;
				next[i] = any = any || at[i];
			}
		} else {
			next[0] = false;
			for (size_t i = 1; i <= n; i++)
				next[i] = at[i - 1] &&
					  (*p == '?' ? name[i - 1] != '.' : name[i - 1] == *p);
		}
		bool *t = at;
		at = next;
		next = t;
	}
	bool match = at[n];
	free(heap);
	return match;
}

int socktap_pattern_select(const char *pattern, uint64_t *mask)
{
	int n = 0;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
		if (socktap_pattern_match(pattern, st_probes[i].pub.name)) {
			if (mask)
				*mask |= 1ULL << i;
			n++;
		}
	}
	return n;
}

int socktap_probe_suggest(const char *word, const char **out, int n)
{
	int dist[SOCKTAP_PROBE__COUNT], order[SOCKTAP_PROBE__COUNT], found = 0;
	if (!word || n <= 0)
		return 0;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
		dist[i] = st_edit_distance(word, st_probes[i].pub.name, false);
		order[i] = i;
	}
	for (int i = 1; i < SOCKTAP_PROBE__COUNT; i++)
		for (int j = i; j > 0 && dist[order[j]] < dist[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	/* only plausible misspellings: at most a third of the word changed */
	int limit = (int)strlen(word) / 3 + 1;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT && found < n; i++)
		if (dist[order[i]] <= limit)
			out[found++] = st_probes[order[i]].pub.name;
	return found;
}

/*
 * Names in the kernel's BTF string section. Parsing vmlinux BTF costs
 * ~12 MiB of peak memory and ~30 ms, and libbpf parses it again to load the
 * object, so tracepoint typedefs ("btf_trace_<tp>") and function names are
 * looked up as strings, streamed in small chunks. bit i of *found: names[i].
 */
static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* bytes read at a time; the fuzz build makes it small, so that small inputs cross chunks */
#ifndef ST_BTF_CHUNK
#define ST_BTF_CHUNK 65536
#endif

int st_btf_has_strings(const char *const *names, int n, uint64_t *found)
{
	const char *path = getenv("SOCKTAP_VMLINUX_BTF") ?: "/sys/kernel/btf/vmlinux";
	struct btf_header hdr;
	static char buf[ST_BTF_CHUNK + 256];
	uint32_t hashes[64];
	size_t keep = 0;
	bool skipping = false;
	int err = 0;

	*found = 0;
	if (n > 64)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		hashes[i] = fnv1a(names[i], strlen(names[i]));
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fread(&hdr, sizeof(hdr), 1, f) != 1 || hdr.magic != BTF_MAGIC ||
	    fseek(f, (long)hdr.hdr_len + hdr.str_off, SEEK_SET)) {
		err = -EINVAL;
		goto out;
	}
	/* one pass: hash every string, compare only on a hash match */
	for (uint32_t left = hdr.str_len; left;) {
		size_t want = left < ST_BTF_CHUNK ? left : ST_BTF_CHUNK;
		size_t got = fread(buf + keep, 1, want, f);
		if (got == 0) {
			err = -EIO;
			goto out;
		}
		left -= (uint32_t)got;
		size_t len = keep + got, pos = 0;
		if (skipping) {
			/* the rest of a string longer than any name */
			char *nul = memchr(buf, '\0', len);
			if (!nul) {
				keep = 0;
				continue;
			}
			pos = (size_t)(nul - buf) + 1;
			skipping = false;
		}
		for (;;) {
			char *nul = memchr(buf + pos, '\0', len - pos);
			if (!nul)
				break;
			size_t sl = (size_t)(nul - (buf + pos));
			uint32_t h = fnv1a(buf + pos, sl);
			for (int i = 0; i < n; i++)
				if (h == hashes[i] && strcmp(buf + pos, names[i]) == 0)
					*found |= 1ull << i;
			pos += sl + 1;
		}
		/* an unfinished string carries over to the next chunk (names are short) */
		keep = len - pos;
		if (keep > 256) {
			keep = 0; /* a string longer than any name: skip to its end */
			skipping = true;
		}
		memmove(buf, buf + pos, keep);
	}
out:
	fclose(f);
	return err;
}

static void raw_btf_free(struct raw_btf *b)
{
	if (b->data)
		munmap(b->data, b->cap);
	b->data = NULL;
}

/*
 * What the scan relies on: both sections inside the data, the string
 * section ending in NUL (so a name_off inside it ends inside it). Records
 * are copied out, so the type section need not be aligned (libbpf takes it
 * unaligned too).
 */
int st_raw_btf_check(const struct raw_btf *b)
{
	const struct btf_header *h = b->hdr;
	if (b->len < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len < sizeof(*h) ||
	    (size_t)h->hdr_len + h->str_off + h->str_len > b->len ||
	    (size_t)h->hdr_len + h->type_off + h->type_len > b->len || !h->str_len ||
	    b->data[h->hdr_len + h->str_off + h->str_len - 1])
		return -EINVAL;
	return 0;
}

/*
 * An anonymous mapping rather than malloc: freed memory goes straight back
 * to the system, and glibc's mmap threshold does not grow to 5 MiB, which
 * would keep libbpf's later BTF parse on the heap and raise peak RSS.
 */
static int raw_btf_read(struct raw_btf *b)
{
	const char *path = getenv("SOCKTAP_VMLINUX_BTF") ?: "/sys/kernel/btf/vmlinux";
	struct stat sb;
	memset(b, 0, sizeof(*b));
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t cap = fstat(fileno(f), &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size : 16u << 20;
	void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		fclose(f);
		return -ENOMEM;
	}
	b->data = m;
	b->cap = cap;
	size_t n;
	while (b->len < cap && (n = fread(b->data + b->len, 1, cap - b->len, f)) > 0)
		b->len += n;
	fclose(f);
	b->hdr = (const void *)b->data;
	if (st_raw_btf_check(b)) {
		raw_btf_free(b);
		return -EINVAL;
	}
	return 0;
}

/*
 * The record after the one at p (types are variable length: kind-specific
 * tails), or NULL where the walk must stop: a kind this code does not know
 * (its tail's length is unknown, so whatever follows would be misread) or a
 * tail that does not fit before end.
 */
static struct btf_type raw_btf_type(const char *p)
{
	struct btf_type t;
	memcpy(&t, p, sizeof(t));
	return t;
}

const char *st_raw_btf_next(const char *p, const char *end)
{
	struct btf_type t = raw_btf_type(p);
	size_t vlen = BTF_INFO_VLEN(t.info), tail;
	switch (BTF_INFO_KIND(t.info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		tail = 4;
		break;
	case BTF_KIND_ARRAY:
		tail = sizeof(struct btf_array);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		tail = vlen * sizeof(struct btf_member);
		break;
	case BTF_KIND_ENUM:
		tail = vlen * sizeof(struct btf_enum);
		break;
	case BTF_KIND_FUNC_PROTO:
		tail = vlen * sizeof(struct btf_param);
		break;
	case BTF_KIND_DATASEC:
		tail = vlen * sizeof(struct btf_var_secinfo);
		break;
	case 19: /* BTF_KIND_ENUM64 (Linux 6.0), not in older uapi headers */
		tail = vlen * 12;
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		tail = 0;
		break;
	default:
		return NULL;
	}
	if ((size_t)(end - p) < sizeof(t) + tail)
		return NULL;
	return p + sizeof(t) + tail;
}

/*
 * The BTF type id of function fn, by one pass over the raw type section
 * (no libbpf parse: that costs ~30 ms and ~12 MiB, and libbpf does it again
 * to load). 0 if there is no such function.
 */
int st_raw_btf_func_id(const struct raw_btf *b, const char *fn)
{
	const char *strs = b->data + b->hdr->hdr_len + b->hdr->str_off;
	const char *p = b->data + b->hdr->hdr_len + b->hdr->type_off, *end = p + b->hdr->type_len;
	for (int id = 1; p && end - p >= (ptrdiff_t)sizeof(struct btf_type); id++) {
		struct btf_type t = raw_btf_type(p);
		if (BTF_INFO_KIND(t.info) == BTF_KIND_FUNC && t.name_off < b->hdr->str_len &&
		    strcmp(strs + t.name_off, fn) == 0)
			return id;
		p = st_raw_btf_next(p, end);
	}
	return 0;
}

/*
 * Can an fentry/fexit program attach to fn? Only a trial says: the
 * function may be in BTF yet inlined, notrace, or the kernel may refuse
 * trampolines altogether (EPERM where ftrace is locked down).
 */
static int fentry_try(int id, bool fexit)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY,
		    .attach_btf_id = (__u32)id);
	int pfd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "st_trial", "GPL", insns, 2, &o);
	if (pfd < 0)
		return -errno;
	int lfd = bpf_raw_tracepoint_open(NULL, pfd);
	int err = lfd < 0 ? -errno : 0;
	if (lfd >= 0)
		close(lfd);
	close(pfd);
	return err;
}

static bool fentry_can_attach(const struct raw_btf *btf, const char *fn, bool fexit)
{
	int id = btf && btf->data ? st_raw_btf_func_id(btf, fn) : 0;
	return id > 0 && fentry_try(id, fexit) == 0;
}

/*
 * Where the kernel refuses trampolines outright (EPERM: ftrace locked
 * down), every fentry trial fails the same way: find out with the first
 * function in BTF before looking for the ones we want.
 */
static bool fentry_blocked(const struct raw_btf *b)
{
	if (!b->data)
		return false;
	const char *p = b->data + b->hdr->hdr_len + b->hdr->type_off, *end = p + b->hdr->type_len;
	for (int id = 1; p && end - p >= (ptrdiff_t)sizeof(struct btf_type); id++) {
		if (BTF_INFO_KIND(raw_btf_type(p).info) == BTF_KIND_FUNC)
			return fentry_try(id, false) == -EPERM;
		p = st_raw_btf_next(p, end);
	}
	return false;
}

/* Does the kernel take a k(ret)probe on fn? A trial perf event, no BPF needed. */
static bool kprobe_can_attach(const char *fn, bool ret)
{
	char buf[64];
	int type = -1, retbit = -1;
	FILE *f = fopen("/sys/bus/event_source/devices/kprobe/type", "re");
	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	f = fopen("/sys/bus/event_source/devices/kprobe/format/retprobe", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && sscanf(buf, "config:%d", &retbit) != 1)
			retbit = -1;
		fclose(f);
	}
	if (type < 0 || (ret && retbit < 0))
		return false;
	struct perf_event_attr a = {.size = sizeof(a), .type = (__u32)type};
	a.config = ret ? 1ull << retbit : 0;
	a.config1 = (__u64)(uintptr_t)fn; /* kprobe_func */
	int fd = (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int iterators_in_btf = -1;

int st_btf_has_iterators(void)
{
	return iterators_in_btf;
}

int st_sources_available(uint64_t *mask, uint64_t need)
{
	const char *names[SRC__COUNT + 3];
	uint64_t in_btf;
	int sock_sendmsg_idx = SRC__COUNT;

	*mask = 0;
	for (int i = 0; i < SRC__COUNT; i++)
		names[i] = st_sources[i].target;
	names[SRC__COUNT] = "__sock_sendmsg";
	/* the socket iterators' targets, asked in the same pass (st_btf_has_iterators) */
	names[SRC__COUNT + 1] = "bpf_iter_unix";
	names[SRC__COUNT + 2] = "bpf_iter_netlink";
	int err = st_btf_has_strings(names, SRC__COUNT + 3, &in_btf);
	if (err)
		return err;
	iterators_in_btf = (in_btf >> (SRC__COUNT + 1)) & 3;

	struct raw_btf btf = {};
	bool btf_read = false;
	for (int i = 0; i < SRC__COUNT; i++) {
		const struct st_source_def *d = &st_sources[i];
		switch (d->kind) {
		case SRCK_TRACEPOINT:
			if (in_btf >> i & 1)
				*mask |= 1ull << i;
			break;
		case SRCK_FENTRY:
			if (!(need >> i & 1) || !(in_btf >> i & 1))
				break;
			if (d->absent && (in_btf >> sock_sendmsg_idx & 1))
				break; /* the newer function exists: this one would count twice */
			if (!btf_read) {
				raw_btf_read(&btf);
				if (fentry_blocked(&btf))
					raw_btf_free(&btf); /* every trial would fail alike */
				btf_read = true;
			}
			if (fentry_can_attach(&btf, d->target, strncmp(d->name, "fexit", 5) == 0))
				*mask |= 1ull << i;
			break;
		case SRCK_KPROBE:
			if (!(need >> i & 1))
				break;
			/* the newer function in BTF, attachable or inlined: this one would miss
			 * sends */
			if (d->absent && (in_btf >> sock_sendmsg_idx & 1))
				break;
			if (kprobe_can_attach(d->target, strncmp(d->name, "kretprobe", 9) == 0))
				*mask |= 1ull << i;
			break;
		}
	}
	raw_btf_free(&btf);
	return 0;
}

int st_backend_parse(const char *name)
{
	static const char *const names[] = {"auto", "tracepoint", "fentry", "kprobe"};
	for (int i = 0; name && i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -EINVAL;
}

const struct st_candidate *st_probe_resolve(enum socktap_probe_id id, uint64_t avail,
					    enum st_backend backend)
{
	if ((unsigned)id >= SOCKTAP_PROBE__COUNT)
		return NULL;
	for (int i = 0; i < ST_MAX_CANDIDATES; i++) {
		const struct st_candidate *c = &st_probes[id].cand[i];
		if (!c->sources)
			break;
		/* a forced backend: candidates of another kind do not count; neutral ones do */
		if (backend != ST_BACKEND_AUTO && c->backend != ST_BACKEND_AUTO &&
		    c->backend != backend)
			continue;
		if ((c->sources & avail) == c->sources)
			return c;
	}
	return NULL;
}

/* The sources the first candidates of these probes could need, up to the first tracepoint one. */
uint64_t st_probes_need(uint64_t probe_mask, uint64_t tp_avail, enum st_backend backend)
{
	uint64_t need = 0;
	for (int p = 0; p < SOCKTAP_PROBE__COUNT; p++) {
		if (!(probe_mask >> p & 1))
			continue;
		for (int i = 0; i < ST_MAX_CANDIDATES; i++) {
			const struct st_candidate *c = &st_probes[p].cand[i];
			if (!c->sources)
				break;
			if (backend != ST_BACKEND_AUTO && c->backend != ST_BACKEND_AUTO &&
			    c->backend != backend)
				continue;
			need |= c->sources;
			if ((c->sources & tp_avail) == c->sources)
				break; /* met by tracepoints alone: no trial of the rest */
		}
	}
	return need;
}

int socktap_probe_backing(enum socktap_probe_id id, struct socktap_backing *out)
{
	uint64_t avail = 0;
	if (!out || out->sz < sizeof(*out) || (unsigned)id >= SOCKTAP_PROBE__COUNT)
		return -EINVAL;
	int err = st_sources_available(&avail, 0);
	if (!err)
		err = st_sources_available(&avail,
					   st_probes_need(1ull << id, avail, ST_BACKEND_AUTO));
	out->available = false;
	out->mechanism[0] = out->limits[0] = '\0';
	if (err) {
		snprintf(out->limits, sizeof(out->limits),
			 "kernel BTF (/sys/kernel/btf/vmlinux) unreadable: %s", strerror(-err));
		return 0;
	}
	const struct st_candidate *c = st_probe_resolve(id, avail, ST_BACKEND_AUTO);
	if (!c) {
		/* per candidate, the first source that is missing */
		size_t len = 0;
		for (int k = 0; k < ST_MAX_CANDIDATES && st_probes[id].cand[k].sources; k++) {
			uint64_t miss = st_probes[id].cand[k].sources & ~avail;
			int i = miss ? __builtin_ctzll(miss) : -1;
			if (i < 0 || len >= sizeof(out->limits))
				continue;
			len += snprintf(out->limits + len, sizeof(out->limits) - len,
					st_sources[i].kind == SRCK_TRACEPOINT
					    ? "%s%s missing (Linux >= %s)"
					    : "%s%s unavailable",
					len ? "; " : "", st_sources[i].name, st_sources[i].since);
		}
		/* trial attaches need privileges: without them, fentry and kprobes look absent */
		if (geteuid() != 0 && len < sizeof(out->limits))
			snprintf(out->limits + len, sizeof(out->limits) - len,
				 " (fentry and kprobes are tried only as root)");
		return 0;
	}
	out->available = true;
	size_t len = 0;
	for (int i = 0; i < SRC__COUNT && len < sizeof(out->mechanism); i++)
		if (c->sources >> i & 1)
			len += snprintf(out->mechanism + len, sizeof(out->mechanism) - len, "%s%s",
					len ? " + " : "", st_sources[i].name);
	snprintf(out->limits, sizeof(out->limits), "%s%s%s", c->limits,
		 c->limits[0] && c->backend_limits ? "; " : "", c->backend_limits ?: "");
	return 0;
}
