/* SPDX-License-Identifier: GPL-2.0 */
/* x86-64 syscall numbers and the kernel constants the programs test against. */
#ifndef ST_DEFS_BPF_H
#define ST_DEFS_BPF_H

#ifndef __TARGET_ARCH_x86
#error "socktap decodes x86-64 syscalls only"
#endif

/* x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl) */
#define NR_read		  0
#define NR_write	  1
#define NR_close	  3
#define NR_readv	  19
#define NR_writev	  20
#define NR_dup2		  33
#define NR_sendfile	  40
#define NR_socket	  41
#define NR_sendto	  44
#define NR_recvfrom	  45
#define NR_sendmsg	  46
#define NR_recvmsg	  47
#define NR_socketpair	  53
#define NR_execve	  59
#define NR_splice	  275
#define NR_dup3		  292
#define NR_recvmmsg	  299
#define NR_sendmmsg	  307
#define NR_preadv2	  327
#define NR_pwritev2	  328
#define NR_io_uring_enter 426
#define NR_close_range	  436
#define NR_execveat	  322

#define EMFILE		    24
#define ENOSYS		    38
#define EOPNOTSUPP	    95
#define EFAULT		    14
#define SOCK_TYPE_MASK	    0xf
#define SOCK_CLOEXEC	    02000000
#define SOCK_NONBLOCK	    04000
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#define S_IFMT		    00170000
#define S_IFSOCK	    0140000
#define SOCKFS_MAGIC	    0x534F434B
#define MAX_RW_COUNT	    0x7ffff000LL /* INT_MAX & PAGE_MASK, 4 KiB pages */
#define UIO_MAXIOV	    1024
#define SS_UNCONNECTED	    1
#define ST_AF_UNIX	    1
#define ST_AF_INET	    2
#define ST_AF_INET6	    10
#define ST_SOCK_STREAM	    1
#define ST_ETH_P_IP	    0x0800
#define ST_ETH_P_IPV6	    0x86DD
#define ST_IPPROTO_UDP	    17
#define ST_IPPROTO_UDPLITE  136

/*
 * bpf_loop() (Linux 5.17) verifies a loop body once; its callback is a
 * BPF_PSEUDO_FUNC reference that older kernels reject at load, even in
 * dead code. So the object for kernels without it (socktap_legacy.bpf.o,
 * built with ST_NO_BPF_LOOP, chosen by a feature probe) runs bounded loops
 * of at most `max` iterations instead.
 */
#ifdef ST_NO_BPF_LOOP
/*
 * Global functions with pointer arguments need Linux 5.12 ("Arg#0 type PTR
 * ... is not supported yet" before): in the legacy object they are static,
 * verified at each call site instead of once.
 */
#define ST_GLOBAL_PTR static __noinline
/* inlined: 5.10's CFG check takes a call inside a loop for a back-edge */
#define ST_CALLBACK static __always_inline long
#define ST_LOOP(n, max, cb, ctx)                                                                   \
	({                                                                                         \
		for (__u32 _i = 0; _i < (max) && _i < (n); _i++)                                   \
			if (cb(_i, ctx))                                                           \
				break;                                                             \
	})
#else
#define ST_GLOBAL_PTR		 __noinline
#define ST_CALLBACK		 static long
#define ST_LOOP(n, max, cb, ctx) bpf_loop(n, cb, ctx, 0)
#endif

#endif /* ST_DEFS_BPF_H */
