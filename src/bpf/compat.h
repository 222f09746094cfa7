/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel drift, in one place. Every reader of a kernel field that moved,
 * changed type or appeared across versions goes through a shim here,
 * chosen at load time by CO-RE (bpf_core_field_exists / ___flavor
 * structs), never by kernel version numbers. Each shim names the change
 * it handles.
 */
#ifndef SOCKTAP_COMPAT_H
#define SOCKTAP_COMPAT_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/*
 * struct file's reference count: atomic_long_t f_count until Linux 6.13,
 * then file_ref_t f_ref (commit 90ee6ed776c0 "fs: port files to
 * file_ref"), which stores refs - 1 and parks released files at
 * FILE_REF_RELEASED and above.
 */
struct file___pre_6_13 {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

#define ST_FILE_REF_RELEASED 0xc000000000000000ULL

static __always_inline long file_refs(struct file *f)
{
	if (bpf_core_field_exists(struct file, f_ref)) {
		__u64 c = (__u64)BPF_CORE_READ(f, f_ref.refcnt.counter);
		return c >= ST_FILE_REF_RELEASED ? 0 : (long)c + 1;
	}
	return BPF_CORE_READ((struct file___pre_6_13 *)f, f_count.counter);
}

/*
 * sk->sk_protocol was an 8-bit bitfield until Linux 5.6 (commit
 * bf9765145b85 "sock: Make sk_protocol a 16-bit value"); the probed
 * bitfield read handles both layouts.
 */
static __always_inline int sk_protocol_of(struct sock *sk)
{
	return (int)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}
/* The same, for a BTF-typed sk (tracepoint arguments): plain loads, no helper call. */
static __always_inline int sk_protocol_btf(struct sock *sk)
{
	return (int)BPF_CORE_READ_BITFIELD(sk, sk_protocol);
}

/* Socket cookie field: struct sock_common.skc_cookie (atomic64_t), v5.1+. */
static __always_inline __u64 sk_cookie_peek(struct sock *sk)
{
	return (__u64)BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/*
 * 32-bit (ia32) syscalls on x86-64 carry TS_COMPAT in thread_info.status;
 * their arguments use another ABI, which socktap does not decode.
 */
#define ST_TS_COMPAT 0x0002
static __always_inline bool task_in_compat_syscall(struct task_struct *t)
{
#if defined(__TARGET_ARCH_x86)
	if (bpf_core_field_exists(t->thread_info.status))
		return BPF_CORE_READ(t, thread_info.status) & ST_TS_COMPAT;
#endif
	return false;
}

/* Task flags (include/linux/sched.h), stable since their introduction. */
#define ST_PF_EXITING	0x00000004
#define ST_PF_IO_WORKER 0x00000010 /* v5.12: io_uring workers are PF_IO_WORKER threads */
#define ST_PF_KTHREAD	0x00200000

#endif /* SOCKTAP_COMPAT_H */
