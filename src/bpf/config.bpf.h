/* SPDX-License-Identifier: GPL-2.0 */
/* Configuration: rodata set by libsocktap between open and load, and bss it fills in after. */
#ifndef ST_CONFIG_BPF_H
#define ST_CONFIG_BPF_H

const volatile __u32 self_tgid = 0;
const volatile bool want_send = false;	/* XFER records for sends */
const volatile bool want_recv = false;	/* XFER records for receives */
const volatile bool want_entry = false; /* entry times and requested sizes */
const volatile bool want_iter = false;	/* tell write_iter/read_iter paths apart */
const volatile bool want_create = false;
const volatile bool want_close = false;
const volatile bool filter_target = false;
const volatile bool filter_pid = false;
const volatile bool filter_uid = false;
const volatile bool filter_comm = false;
const volatile bool filter_family = false;
const volatile bool filter_type = false;
const volatile bool filter_proto = false;
const volatile __u64 family_bits = 0;	 /* bit f: family f (< 64) selected */
const volatile __u32 type_bits = 0;	 /* bit t: type t (< 32) selected */
const volatile __u64 proto_bits[5] = {}; /* bit p: protocol p (< 320) selected */
/* fan-out of each record, for counting lost events */
const volatile __u8 fanout_xfer[ST_OP__COUNT] = {};
const volatile __u8 fanout_create = 0; /* per socket created */
const volatile __u8 fanout_close = 0;
/* who and where: addresses, the cgroup, the pid in the task's namespace */
const volatile bool want_addrs = false;
/* the filters on them: ports (either end), addresses (addr_filter), cgroups (cgroup_filter) */
const volatile bool filter_port = false;
const volatile bool filter_addr = false;
const volatile __u32 filter_cgroups = 0;   /* how many cgroup_filter slots are set */
const volatile __u64 port_bits[1024] = {}; /* bit p: port p selected */
/* SOCKTAP top: ST_AGG_* flags; 0 = one record per event */
const volatile __u32 aggregate = 0;
/* ring: records waiting beyond this many bytes wake the reader at once */
const volatile __u64 wakeup_bytes = 0;

/*
 * Optional steps inside programs, each of which some kernel may refuse
 * (enum st_feature in socktap_abi.h; src/lib/optional.c says what each
 * costs when it is off). libsocktap clears a flag where the kernel lacks
 * what the step needs or the verifier refuses it: the step's code is then
 * dead to the verifier, which never looks at its helpers or fields.
 */
const volatile bool feat_fd_cookie = true;   /* cookies made from an fd (bpf_sock_from_file) */
const volatile bool feat_xfer_cookie = true; /* cookies made at sends and receives */
const volatile bool feat_stack = true;	     /* kernel stacks: io_uring READ/WRITE paths */
/*
 * What older kernels lack, found by feature probes at start-up (load.c):
 * bpf_get_current_task_btf() and task-local storage (Linux 5.11),
 * bpf_task_pt_regs() (5.15). Without them: helper reads of the task, an LRU
 * hash by thread id, and the saved registers found at the top of the
 * task's kernel stack (thread_size, set by libsocktap).
 */
const volatile bool feat_task_btf = true;
const volatile bool feat_task_storage = true;
const volatile bool feat_task_regs = true;
const volatile __u64 thread_size = 16384;
/* bpf_get_current_cgroup_id() (Linux 4.18): the task's cgroup */
const volatile bool feat_cgroup = true;
/* the destination a sendto/sendmsg/sendmmsg names, read from user memory */
const volatile bool feat_msg_addr = true;
/* a step every verifier refuses: tests the fallback loop on a real refusal */
const volatile bool feat_selftest = false;

/*
 * [start, end) of sock_write_iter / sock_read_iter, from kallsyms; 0 until
 * known. Not rodata: reading kallsyms takes ~60 ms, so libsocktap fills
 * these in after the programs are armed.
 */
__u64 write_iter_lo = 0, write_iter_hi = 0;
__u64 read_iter_lo = 0, read_iter_hi = 0;

#endif /* ST_CONFIG_BPF_H */
