/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Internal view of the probe table: what each probe needs from the kernel. */
#ifndef SOCKTAP_PROBES_H
#define SOCKTAP_PROBES_H

#include <stdint.h>
#include "socktap.h"
#include "socktap_abi.h"

/* Kernel attach points ("sources"); one BPF program each. */
enum st_source {
	SRC_SEND_TP,   /* tp_btf/sock_send_length */
	SRC_RECV_TP,   /* tp_btf/sock_recv_length */
	SRC_SYS_ENTER, /* tp_btf/sys_enter */
	SRC_SYS_EXIT,  /* tp_btf/sys_exit */
	SRC_PROC_EXIT, /* tp_btf/sched_process_exit */
	SRC_PROC_FORK, /* tp_btf/sched_process_fork */
	SRC_DEV_XMIT,  /* tp_btf/net_dev_xmit (socktap top -d) */
	SRC_DEV_RECV,  /* tp_btf/netif_receive_skb (socktap top -d) */
	/* kernels before 6.3: the functions sends and receives pass through */
	SRC_SEND_FEXIT,		  /* fexit/__sock_sendmsg */
	SRC_SEND_FEXIT_OLD,	  /* fexit/sock_sendmsg, where __sock_sendmsg is not */
	SRC_RECV_FEXIT,		  /* fexit/sock_recvmsg */
	SRC_RECV_NOSEC_FEXIT,	  /* fexit/____sys_recvmsg (recvmmsg's later messages) */
	SRC_MMSG_FENTRY,	  /* fentry/____sys_sendmsg (sendmmsg's used_address shortcut) */
	SRC_MMSG_FEXIT,		  /* fexit/____sys_sendmsg */
	SRC_SEND_KPROBE,	  /* kprobe/__sock_sendmsg */
	SRC_SEND_KRETPROBE,	  /* kretprobe/__sock_sendmsg */
	SRC_SEND_KPROBE_OLD,	  /* kprobe/sock_sendmsg, where __sock_sendmsg is not */
	SRC_SEND_KRETPROBE_OLD,	  /* kretprobe/sock_sendmsg */
	SRC_RECV_KPROBE,	  /* kprobe/sock_recvmsg */
	SRC_RECV_KRETPROBE,	  /* kretprobe/sock_recvmsg */
	SRC_RECV_NOSEC_KPROBE,	  /* kprobe/____sys_recvmsg */
	SRC_RECV_NOSEC_KRETPROBE, /* kretprobe/____sys_recvmsg */
	SRC_MMSG_KPROBE,	  /* kprobe/____sys_sendmsg */
	SRC_MMSG_KRETPROBE,	  /* kretprobe/____sys_sendmsg */
	/* before Linux 6.5: sendfile/splice and in-kernel sendpage users */
	SRC_SENDPAGE_FENTRY,	 /* fentry/kernel_sendpage */
	SRC_SENDPAGE_FEXIT,	 /* fexit/kernel_sendpage */
	SRC_FSENDPAGE_FENTRY,	 /* fentry/sock_sendpage (the socket file's op) */
	SRC_FSENDPAGE_FEXIT,	 /* fexit/sock_sendpage */
	SRC_SENDPAGE_KPROBE,	 /* kprobe/kernel_sendpage */
	SRC_SENDPAGE_KRETPROBE,	 /* kretprobe/kernel_sendpage */
	SRC_FSENDPAGE_KPROBE,	 /* kprobe/sock_sendpage */
	SRC_FSENDPAGE_KRETPROBE, /* kretprobe/sock_sendpage */
	/* where __sock_sendmsg() is inlined into every caller: see send_arm() */
	SRC_SECSEND_FEXIT,	   /* fexit/security_socket_sendmsg: arms the send */
	SRC_SOCK_SENDMSG_ARMED,	   /* fexit/sock_sendmsg */
	SRC_SENDTO_ARMED,	   /* fexit/__sys_sendto */
	SRC_WRITE_ITER_ARMED,	   /* fexit/sock_write_iter */
	SRC_SYSMSG_ARMED,	   /* fexit/____sys_sendmsg */
	SRC_SECSEND_KPROBE,	   /* kprobe/security_socket_sendmsg */
	SRC_SECSEND_KRETPROBE,	   /* kretprobe/security_socket_sendmsg */
	SRC_SOCK_SENDMSG_ARMED_KP, /* kretprobe/sock_sendmsg */
	SRC_SENDTO_ARMED_KP,	   /* kretprobe/__sys_sendto */
	SRC_WRITE_ITER_ARMED_KP,   /* kretprobe/sock_write_iter */
	SRC_SYSMSG_ARMED_KP,	   /* kretprobe/____sys_sendmsg */
	SRC_KCREATE_FEXIT,	   /* fexit/__sock_create: kernel-made sockets (requester 1) */
	SRC_KRELEASE_FENTRY,	   /* fentry/__sock_release: their release */
	SRC__COUNT,
};

enum st_source_kind {
	SRCK_TRACEPOINT, /* tp_btf: a BTF typedef btf_trace_<tp> proves it exists */
	SRCK_FENTRY,	 /* fentry/fexit: a BTF function that a trial program attaches to */
	SRCK_KPROBE,	 /* kprobe/kretprobe: a kprobe the kernel accepts on the function */
};

struct st_source_def {
	const char *name; /* as `list -v` shows it */
	const char *prog; /* the BPF program (src/bpf/), looked up by this name */
	enum st_source_kind kind;
	const char *target; /* tracepoint's BTF typedef, or the function */
	const char *absent; /* only where this function does not exist (else double counts) */
	const char *since;  /* kernel version that added it, for messages */
	/* the same job on per-syscall tracepoints, where the session takes those (syscalls.c) */
	const char *per_syscall_prog;
	const char *per_syscall_name;
};
extern const struct st_source_def st_sources[SRC__COUNT];

/* socktap_opts.backend values; neutral sources (syscalls, sched) serve all */
enum st_backend {
	ST_BACKEND_AUTO,
	ST_BACKEND_TRACEPOINT,
	ST_BACKEND_FENTRY,
	ST_BACKEND_KPROBE,
};
/* "tracepoint", "fentry", "kprobe", "auto" -> enum, or -EINVAL */
int st_backend_parse(const char *name);

/* One way to back a probe: all its sources must exist. */
struct st_candidate {
	uint64_t sources;	 /* 1ull << enum st_source */
	enum st_backend backend; /* ST_BACKEND_AUTO: neutral (syscall hooks only) */
	const char *limits;
	const char *backend_limits; /* what this mechanism adds to them, or NULL */
};
#define ST_MAX_CANDIDATES 18

struct st_probe_def {
	struct socktap_probe pub;
	/* SystemTap's "!" list: the first candidate whose sources exist wins */
	struct st_candidate cand[ST_MAX_CANDIDATES];
};
extern const struct st_probe_def st_probes[SOCKTAP_PROBE__COUNT];

/* The probes one record kind/op fans out to, in firing order. */
struct st_fanout {
	uint8_t n;
	uint8_t probe[ST_MAX_FANOUT];
	uint8_t at_entry[ST_MAX_FANOUT]; /* stamped with ts_enter */
};
const struct st_fanout *st_fanout_xfer(enum st_op op);
extern const struct st_fanout st_fanout_create, st_fanout_close;

/*
 * Which sources exist on the running kernel (bit per enum st_source).
 * Tracepoints are looked up in BTF; fentry and kprobe sources are tried
 * (a trial attach), and only when `need` asks for them: that costs time.
 */
int st_sources_available(uint64_t *mask, uint64_t need);
/* Which of names (at most 64) the kernel's BTF has as strings: bit i for names[i]. */
int st_btf_has_strings(const char *const *names, int n, uint64_t *found);
/* From the last st_sources_available(): bit 0 iter/unix, bit 1 iter/netlink in BTF; -1 unknown. */
int st_btf_has_iterators(void);
/* Sources the given probes' candidates may need tried (see st_sources_available). */
uint64_t st_probes_need(uint64_t probe_mask, uint64_t tp_avail, enum st_backend backend);
/* The candidate backing probe id, given the available sources; NULL if none. */
const struct st_candidate *st_probe_resolve(enum socktap_probe_id id, uint64_t avail,
					    enum st_backend backend);

/*
 * The kernel's raw BTF, scanned in place (probes.c); exposed for
 * tests/fuzz/fuzz_btf.c, which feeds the scanner mutated BTF.
 */
struct btf_header;
struct raw_btf {
	char *data;
	size_t len, cap;
	const struct btf_header *hdr;
};
/* 0 if the header and sections are fit to scan, else -EINVAL. */
int st_raw_btf_check(const struct raw_btf *b);
/* The record after p, or NULL at an unknown kind or a record running past end. */
const char *st_raw_btf_next(const char *p, const char *end);
/* The first BTF_KIND_FUNC named fn (its type id), or 0; b passed st_raw_btf_check. */
int st_raw_btf_func_id(const struct raw_btf *b, const char *fn);

#endif
