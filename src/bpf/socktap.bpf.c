// SPDX-License-Identifier: GPL-2.0
/*
 * socktap's kernel side: one record per kernel event into a ring buffer,
 * or (socktap top) counts kept in kernel tables. One object, one
 * translation unit; each concern lives in its own header, included here in
 * dependency order.
 *
 * Every program is optional: libsocktap loads only those the selected
 * probes need, and each piece a kernel may refuse (a program, or a step
 * inside one gated by a feat_* rodata flag in config.bpf.h) can be left out
 * without touching the rest. Code behind a false feat_* flag is dead to
 * the verifier, which then never looks at the helpers or fields it uses.
 *
 * Sources (src/lib/probes.c names them and says what backs which probe):
 *   xfer_tp.bpf.h	tp_btf/sock_send_length, sock_recv_length (Linux >= 6.3)
 *   xfer_fentry.bpf.h	fexit on the socket send/receive functions (before 6.3)
 *   xfer_kprobe.bpf.h	the same as k(ret)probes
 *   lifecycle.bpf.h	tp_btf/sys_enter, sys_exit, sched_process_exit: entry
 *			times, socket(2)/socketpair(2), the fd closes that release
 *   kernel_sockets.bpf.h	cgroup/sock_create (cookies at birth), fentry on
 *			__sock_create/__sock_release (the kernel's own sockets)
 *   sockid_iter.bpf.h	iter/unix, iter/netlink: socket ids made for user space
 *   addr.bpf.h		tp_btf/skb_copy_datagram_iovec: received datagrams' sources
 *   devices.bpf.h	tp_btf/net_dev_xmit, netif_receive_skb (top -d)
 *   fork.bpf.h		tp_btf/sched_process_fork (a command's descendants)
 *
 * x86-64 syscall numbers and argument registers only, for now.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "compat.h"
#include "socktap_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* the common ground */
#include "defs.bpf.h"
#include "config.bpf.h"
#include "maps.bpf.h"
#include "task.bpf.h"
#include "filter.bpf.h"
#include "addr.bpf.h"
#include "record.bpf.h"
#include "sockid.bpf.h"
#include "sockid_iter.bpf.h"
#include "sysargs.bpf.h"
#include "aggregate.bpf.h"

/* sends and receives */
#include "xfer.bpf.h"
#include "xfer_tp.bpf.h"
#include "funcs_state.bpf.h"
#include "xfer_fentry.bpf.h"
#include "xfer_kprobe.bpf.h"

/* creation and release */
#include "fdscan.bpf.h"
#include "lifecycle.bpf.h"
#include "kernel_sockets.bpf.h"

/* the rest */
#include "devices.bpf.h"
#include "fork.bpf.h"
