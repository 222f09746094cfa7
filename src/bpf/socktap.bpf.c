// SPDX-License-Identifier: GPL-2.0
/*
 * socktap's kernel side: one record per kernel event into a ring buffer.
 *
 * Sources (attached only when a selected probe needs them):
 *   tp_btf/sock_send_length, tp_btf/sock_recv_length
 *	fire in sock_sendmsg_nosec()/sock_recvmsg_nosec() (Linux >= 6.3)
 *	for every send and receive whatever its path. Which syscall it was
 *	comes from the task's saved user registers (bpf_task_pt_regs), so
 *	tracing send/receive costs nothing on other syscalls.
 *   tp_btf/sys_enter, tp_btf/sys_exit
 *	entry times and sizes of sends/receives, socket(2)/socketpair(2),
 *	and the fd closes that release sockets.
 *   tp_btf/sched_process_exit	sockets released by process exit.
 *   tp_btf/sched_process_fork	following a target's descendants.
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
#define NR_socket	  41
#define NR_sendto	  44
#define NR_recvfrom	  45
#define NR_sendmsg	  46
#define NR_recvmsg	  47
#define NR_socketpair	  53
#define NR_execve	  59
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

/* ---- configuration: set by libsocktap between open and load ---- */
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
/* SOCKTAP top: ST_AGG_* flags; 0 = one record per event */
const volatile __u32 aggregate = 0;
/* ring: records waiting beyond this many bytes wake the reader at once */
const volatile __u64 wakeup_bytes = 0;

/*
 * [start, end) of sock_write_iter / sock_read_iter, from kallsyms; 0 until
 * known. Not rodata: reading kallsyms takes ~60 ms, so libsocktap fills
 * these in after the programs are armed.
 */
__u64 write_iter_lo = 0, write_iter_hi = 0;
__u64 read_iter_lo = 0, read_iter_hi = 0;

/* ---- maps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized by libsocktap before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* process sets: key tgid (or uid, or comm) -> 1 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} uids SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[16]);
	__type(value, __u8);
} comms SEC(".maps");

struct sockvals {
	__u64 cookie;
	__u64 sflags;
	__s32 family, type, protocol, state;
	__s32 fd;
	__u32 known; /* ST_RF_SOCK_VALS */
};

/* The syscall a task is in, between sys_enter and sys_exit. */
struct inflight {
	__u64 ts;  /* entry time; for mmsg, when the current message began */
	__u32 nr;  /* syscall number + 1; 0 = none */
	__u32 idx; /* mmsg: index of the current message */
	__s32 a0, a1, a2;
	__u32 has_close;
	__u64 a3;
	struct sockvals close; /* close(2): the socket it releases */
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* Sockets an execve will release through close-on-exec, if it succeeds. */
#define EXEC_PENDING_MAX 16
struct exec_pending {
	__u32 n;
	__u32 pad;
	struct sockvals s[EXEC_PENDING_MAX];
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct exec_pending);
} exec_pending SEC(".maps");

/*
 * Cookies of the sockets a socket(2)/socketpair(2) in progress created,
 * in creation order, from cgroup/sock_create (inet only): they name
 * sockets that the syscall then dropped without an fd.
 */
struct created {
	__u64 cookie[2];
	__u32 n;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct created);
} created SEC(".maps");

/* fd-table scans: how often each open file occurs in the closing range */
struct dupkey {
	__u64 file;
	__u32 tid;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct dupkey);
	__type(value, __u32);
} dupcount SEC(".maps");

/* ---- helpers ---- */

static __always_inline void count_lost(__u32 events)
{
	__u32 k = ST_CNT_LOST_RECORDS;
	__u64 *v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		*v += 1;
	k = ST_CNT_LOST_EVENTS;
	v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		*v += events;
}

static __always_inline struct st_rec *rec_reserve(__u32 fanout)
{
	struct st_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r)
		count_lost(fanout);
	return r;
}

/*
 * Wake the reader only when the ring fills up: a wakeup per record costs
 * an IPI (~1.3 us here); the reader otherwise polls with a bounded
 * timeout. While the ring stays that full (a reader slower than the
 * producers), wake it at most once per WAKEUP_GAP_NS per CPU: more
 * wakeups would not make it faster, only the traced task slower.
 */
#define WAKEUP_GAP_NS 1000000
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_wakeup SEC(".maps");

static __always_inline void rec_submit(struct st_rec *r)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes) {
		__u32 zero = 0;
		__u64 *last = bpf_map_lookup_elem(&last_wakeup, &zero);
		if (last && r->ts - *last >= WAKEUP_GAP_NS) {
			*last = r->ts;
			flags = BPF_RB_FORCE_WAKEUP;
		}
	}
	bpf_ringbuf_submit(r, flags);
}

/*
 * comm and uid straight from the BTF-typed task: two 8-byte loads instead
 * of bpf_get_current_comm()'s string copy (the kernel keeps comm
 * NUL-padded), and no helper call for the uid.
 */
static __always_inline void rec_fill_task(struct st_rec *r, __u64 pid_tgid, __u64 ts)
{
	struct task_struct *t = bpf_get_current_task_btf();
	r->pid = pid_tgid >> 32;
	r->tid = (__u32)pid_tgid;
	r->uid = t->cred->uid.val;
	r->cpu = bpf_get_smp_processor_id();
	r->ts = ts;
	__builtin_memcpy(r->comm, t->comm, sizeof(r->comm));
}

/* pid/uid/comm filters and the target set; never trace ourselves. */
static __always_inline bool task_selected(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (filter_target && !bpf_map_lookup_elem(&targets, &tgid))
		return false;
	if (filter_pid && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	if (filter_uid) {
		__u32 uid = (__u32)bpf_get_current_uid_gid();
		if (!bpf_map_lookup_elem(&uids, &uid))
			return false;
	}
	if (filter_comm) {
		char comm[16] = {};
		bpf_get_current_comm(comm, sizeof(comm));
		if (!bpf_map_lookup_elem(&comms, comm))
			return false;
	}
	return true;
}

static __always_inline bool sock_selected(__s32 family, __s32 type, __s32 protocol)
{
	if (filter_family && (family < 0 || family >= 64 || !(family_bits & (1ULL << family))))
		return false;
	if (filter_type && (type < 0 || type >= 32 || !(type_bits & (1U << type))))
		return false;
	if (filter_proto) {
		if (protocol < 0 || protocol >= 320)
			return false;
		__u32 p = (__u32)protocol;
		__u32 w = p / 64;
		/* keep the bound in the register that indexes the array */
		asm volatile("%0 &= 7" : "+r"(w));
		if (w >= 5 || !(proto_bits[w] & (1ULL << (p % 64))))
			return false;
	}
	return true;
}

/*
 * fd -> struct file *, from the current task's fd table (0 if none). The
 * task is BTF-typed, so the walk down to the array is plain loads; only
 * the array slot itself needs a probe read (no variable index on BTF).
 */
static __always_inline struct file *fd_file(struct task_struct *t, __s64 fd)
{
	struct files_struct *files = t->files;
	if (!files || fd < 0)
		return 0;
	struct fdtable *fdt = files->fdt;
	if ((__u64)fd >= fdt->max_fds)
		return 0;
	struct file **arr = fdt->fd;
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
}

/* The struct socket behind a file, or 0 for any other file. */
static __always_inline struct socket *file_socket(struct file *f)
{
	if (!f)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if ((BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	/* O_PATH fds on a unix socket's filesystem node are S_IFSOCK too */
	if (BPF_CORE_READ(ino, i_sb, s_magic) != SOCKFS_MAGIC)
		return 0;
	return BPF_CORE_READ(f, private_data);
}

static __always_inline void read_sockvals(struct socket *sock, struct sockvals *v)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	v->family = BPF_CORE_READ(sock, ops, family);
	v->type = BPF_CORE_READ(sock, type);
	v->state = BPF_CORE_READ(sock, state);
	v->sflags = BPF_CORE_READ(sock, flags);
	v->protocol = sk ? sk_protocol_of(sk) : -1;
	v->cookie = sk ? sk_cookie_peek(sk) : 0;
	v->known = ST_RF_SOCK_VALS;
}

/*
 * The cookie is made lazily, by bpf_get_socket_cookie() on a BTF-typed
 * socket. The fd table's array cannot be indexed by a variable from BPF,
 * but files_struct's embedded fd_array[64] can be, one constant index at
 * a time: good for fds < 64 while the table has not grown.
 */
#define FD_CASE(k)                                                                                 \
	case k:                                                                                    \
		f = files->fd_array[k];                                                            \
		asm volatile("" : "+r"(f));                                                        \
		break;
#define FD_CASE8(k)                                                                                \
	FD_CASE(k)                                                                                 \
	FD_CASE(k + 1)                                                                             \
	FD_CASE(k + 2) FD_CASE(k + 3) FD_CASE(k + 4) FD_CASE(k + 5) FD_CASE(k + 6) FD_CASE(k + 7)

__noinline __u64 cookie_by_fd(__s64 fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = t->files;
	struct file *f = 0;

	if (!files || fd < 0 || fd >= 64)
		return 0;
	if (files->fdt != &files->fdtab)
		return 0;
	switch (fd) {
		FD_CASE8(0)
		FD_CASE8(8)
		FD_CASE8(16)
		FD_CASE8(24)
		FD_CASE8(32)
		FD_CASE8(40)
		FD_CASE8(48)
		FD_CASE8(56)
	default:
		return 0;
	}
	if (!f)
		return 0;
	struct socket *sock = bpf_sock_from_file(f);
	if (!sock || !sock->sk)
		return 0;
	return bpf_get_socket_cookie(sock->sk);
}

static __always_inline void sockvals_cookie(struct sockvals *v, __s32 fd)
{
	if (!v->cookie)
		v->cookie = cookie_by_fd(fd);
}

/* The cookie of the socket behind fd: already made (inet sockets are, at birth), or made now. */
static __always_inline __u64 cookie_of_fd(__s32 fd)
{
	struct socket *sock = file_socket(fd_file(bpf_get_current_task_btf(), fd));
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : 0;
	__u64 c = sk ? sk_cookie_peek(sk) : 0;
	return c ? c : cookie_by_fd(fd);
}

/* ---- sends and receives ---- */

struct iov_ctx {
	const struct iovec *iov;
	__s64 total;
	bool fault;
};

static long iov_sum_cb(__u64 i, void *data)
{
	struct iov_ctx *c = data;
	struct iovec v;
	if (bpf_probe_read_user(&v, sizeof(v), &c->iov[i])) {
		c->fault = true;
		return 1;
	}
	c->total += (__s64)v.iov_len;
	if (c->total >= MAX_RW_COUNT)
		return 1;
	return 0;
}

/* Bytes an iovec array asks for, capped as import_iovec() caps them. */
__noinline __s64 iov_sum(__u64 iov_addr, __u64 cnt)
{
	struct iov_ctx c = {.iov = (const struct iovec *)iov_addr};
	if (cnt > UIO_MAXIOV)
		return -1;
	bpf_loop(cnt, iov_sum_cb, &c, 0);
	if (c.fault)
		return -1;
	return c.total > MAX_RW_COUNT ? MAX_RW_COUNT : c.total;
}

__noinline __s64 msghdr_size(__u64 m_addr)
{
	const struct user_msghdr *m = (const struct user_msghdr *)m_addr;
	struct user_msghdr h;
	if (bpf_probe_read_user(&h, sizeof(h), m))
		return -1;
	return iov_sum((__u64)h.msg_iov, h.msg_iovlen);
}

static __always_inline __s64 cap_rw(__u64 n)
{
	return n > MAX_RW_COUNT ? MAX_RW_COUNT : (__s64)n;
}

/* Is addr a return address inside [lo, hi)? Scans the kernel stack. */
/*
 * Big buffers live in a per-CPU scratch map, not on the 512-byte BPF
 * stack: older verifiers (6.1) count the stacks of a whole call chain.
 */
struct scratch {
	__u64 st[24];	    /* a kernel stack */
	__u64 a[16], b[16]; /* two socket addresses */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

struct stack_ctx {
	long n;
	int path;
};

static long stack_path_cb(__u64 i, void *data)
{
	struct stack_ctx *c = data;
	struct scratch *sc = scratch_get();
	if (!sc || i >= 24 || (long)i * 8 >= c->n)
		return 1;
	__u64 a = sc->st[i];
	if (a >= write_iter_lo && a < write_iter_hi)
		c->path = ST_OP_AIO_WRITE;
	else if (a >= read_iter_lo && a < read_iter_hi)
		c->path = ST_OP_AIO_READ;
	return c->path >= 0;
}

/* Does the kernel stack pass through sock_write_iter / sock_read_iter? (bpf_loop: verified once) */
static __always_inline int stack_path(void *ctx)
{
	struct stack_ctx c = {.path = -1};
	struct scratch *sc = scratch_get();
	if (!sc)
		return -1;
	c.n = bpf_get_stack(ctx, sc->st, sizeof(sc->st), 0);
	if (c.n <= 0)
		return -1;
	bpf_loop(24, stack_path_cb, &c, 0);
	return c.path;
}

/*
 * Bytes a syscall asked to move, from its arguments (si, dx); for
 * sendmmsg/recvmmsg, of message idx (~0: unknown). -1 if not known.
 * Global: verified once, not in each tracepoint program's every path.
 */
__noinline __s64 requested_size(__s64 nr, __u64 si, __u64 dx, __u32 idx)
{
	switch (nr) {
	case NR_sendto:
	case NR_recvfrom:
	case NR_write:
	case NR_read:
		return cap_rw(dx);
	case NR_sendmsg:
	case NR_recvmsg:
		return msghdr_size(si);
	case NR_writev:
	case NR_readv:
	case NR_pwritev2:
	case NR_preadv2:
		return iov_sum(si, dx);
	case NR_sendmmsg:
	case NR_recvmmsg:
		if (idx < UIO_MAXIOV)
			return msghdr_size(si + (__u64)idx * sizeof(struct mmsghdr));
		return -1;
	}
	return -1;
}

/* ---- aggregation (socktap top): counts in the kernel, no records ---- */

/*
 * Two generations of each table: the reader flips agg_slot, lets programs
 * that read the old value finish, then drains the old generation, so no
 * count is lost between reading and clearing.
 */
__u32 agg_slot = 0;

#define AGG_ENTRIES 10240
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, AGG_ENTRIES);
	__type(key, struct st_agg_key);
	__type(value, struct st_agg_val);
} procs0 SEC(".maps"), procs1 SEC(".maps");

/* the name and uid of a row's first operation, whichever CPU saw it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AGG_ENTRIES);
	__type(key, struct st_agg_key);
	__type(value, struct st_agg_id);
} ids0 SEC(".maps"), ids1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct st_dev_key);
	__type(value, struct st_dev_val);
} devs0 SEC(".maps"), devs1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, AGG_ENTRIES);
	__type(key, struct st_hist_key);
	__type(value, __u64);
} hists0 SEC(".maps"), hists1 SEC(".maps");

static __always_inline void agg_dropped(void)
{
	__u32 k = ST_CNT_AGG_DROPPED;
	__u64 *v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		*v += 1;
}

/* The entry for key in map, created zeroed if missing; 0 when the table is full. */
static __always_inline void *agg_entry(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);
	if (v)
		return v;
	/* EEXIST from a racing CPU is fine: the lookup finds its entry */
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		agg_dropped();
	return v;
}

static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 b = 0;
	if (!v)
		return 0;
	/* floor(log2(v)) + 1, branch-free enough for the verifier */
	if (v >> 32) {
		b += 32;
		v >>= 32;
	}
	if (v >> 16) {
		b += 16;
		v >>= 16;
	}
	if (v >> 8) {
		b += 8;
		v >>= 8;
	}
	if (v >> 4) {
		b += 4;
		v >>= 4;
	}
	if (v >> 2) {
		b += 2;
		v >>= 2;
	}
	if (v >> 1) {
		b += 1;
	}
	return b + 1;
}

static __always_inline void hist_add(__u32 key, __u8 kind, bool is_send, __u64 value)
{
	struct st_hist_key k = {
	    .key = key, .kind = kind, .recv = !is_send, .bucket = (__u8)log2_bucket(value)};
	__u64 zero = 0, *c;
	c = agg_slot ? agg_entry(&hists1, &k, &zero) : agg_entry(&hists0, &k, &zero);
	if (c)
		*c += 1;
}

static __always_inline void aggregate_xfer(struct task_struct *t, __u32 tgid, __s32 family,
					   __s32 protocol, int ret, bool is_send, __u64 now)
{
	if (aggregate & ST_AGG_PROCS) {
		struct st_agg_key k = {
		    .tgid = tgid, .protocol = (__u16)protocol, .family = (__u16)family};
		struct st_agg_val zero = {}, *v;
		v = agg_slot ? agg_entry(&procs1, &k, &zero) : agg_entry(&procs0, &k, &zero);
		if (!v)
			return;
		if (!v->comm[0]) {
			/*
			 * First operation of this row on this CPU. The row's name
			 * is its first operation's across CPUs: the shared table
			 * keeps whichever CPU got there first (BPF_NOEXIST).
			 */
			struct st_agg_id id = {.uid = t->cred->uid.val};
			__builtin_memcpy(id.comm, t->comm, sizeof(id.comm));
			__builtin_memcpy(v->comm, id.comm, sizeof(v->comm));
			v->uid = id.uid;
			if (agg_slot)
				bpf_map_update_elem(&ids1, &k, &id, BPF_NOEXIST);
			else
				bpf_map_update_elem(&ids0, &k, &id, BPF_NOEXIST);
		}
		if (ret < 0) {
			if (is_send)
				v->send_errors++;
			else
				v->recv_errors++;
		} else if (is_send) {
			v->sends++;
			v->send_bytes += ret;
		} else {
			v->recvs++;
			v->recv_bytes += ret;
		}
	}
	if (ret < 0)
		return;
	__u32 hkey = (aggregate & ST_AGG_HIST_BY_PROTO) ? (__u32)protocol : tgid;
	if (aggregate & ST_AGG_HIST_SIZE)
		hist_add(hkey, ST_HIST_SIZE, is_send, (__u64)ret);
	if (aggregate & ST_AGG_HIST_LATENCY) {
		/* only a syscall's own operation has a known start */
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
		if (!regs || (long)regs->ax != -ENOSYS || (t->flags & ST_PF_KTHREAD))
			return;
		struct inflight *inf = bpf_task_storage_get(&inflight, t, 0, 0);
		if (!inf || inf->nr != (__u32)regs->orig_ax + 1)
			return;
		hist_add(hkey, ST_HIST_LATENCY, is_send, now - inf->ts);
		inf->ts = now; /* the next message of an mmsg call starts here */
	}
}

/*
 * State the kprobe and fentry backends carry from a function's entry to its
 * return, per task: the socket of up to 4 hooks in flight (send, receive,
 * nosec receive, sendmmsg), and how many sends the task made, to tell
 * whether ____sys_sendmsg() went around __sock_sendmsg().
 */
struct kpstate {
	__u64 sock[4];
	__u64 aux[2];
	__u32 sends;	  /* sends seen by the send hooks */
	__u32 sends_mark; /* ... when ____sys_sendmsg() began */
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kpstate);
} kpstate SEC(".maps");

static __always_inline struct kpstate *kp_get(bool create)
{
	return bpf_task_storage_get(&kpstate, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void kp_save(void *sock, __u32 slot)
{
	struct kpstate *k = kp_get(true);
	if (k && slot < 4)
		k->sock[slot] = (__u64)sock;
}

static __always_inline void *kp_take(__u32 slot)
{
	struct kpstate *k = kp_get(false);
	if (!k || slot >= 4)
		return 0;
	void *s = (void *)k->sock[slot];
	k->sock[slot] = 0;
	return s;
}

static __always_inline void kp_save_aux(__u64 a, __u64 b)
{
	struct kpstate *k = kp_get(true);
	if (k) {
		k->aux[0] = a;
		k->aux[1] = b;
	}
}

static __always_inline bool kp_take_aux(__u64 *a, __u64 *b)
{
	struct kpstate *k = kp_get(false);
	if (!k)
		return false;
	*a = k->aux[0];
	*b = k->aux[1];
	return true;
}

static __always_inline void bump_sends(void)
{
	struct kpstate *k = kp_get(false);
	if (k)
		k->sends++;
}

static __always_inline void mmsg_mark(void)
{
	struct kpstate *k = kp_get(true);
	if (k)
		k->sends_mark = k->sends;
}

/* ____sys_sendmsg() returned without passing through a send hook? */
static __always_inline bool mmsg_bypassed(__u32 name_len)
{
	struct kpstate *k = kp_get(false);
	return k && k->sends == k->sends_mark && name_len != ~0U;
}

/*
 * The used_address shortcut's own test, after the fact: the message's
 * address equals the remembered one. (A message that failed before that
 * test with an equal address would be taken for a send; only copy errors
 * do that.)
 */
static __always_inline bool same_address(void *remembered, void *name, int namelen, __u32 len)
{
	struct scratch *sc = scratch_get();
	if (!sc || !name || namelen <= 0 || (__u32)namelen != len || len > sizeof(sc->a))
		return false;
	__u64 *a = sc->a, *b = sc->b;
	if (bpf_probe_read_kernel(a, sizeof(sc->a), remembered) ||
	    bpf_probe_read_kernel(b, sizeof(sc->b), name))
		return false;
	for (int i = 0; i < 16; i++) {
		__u32 lo = i * 8;
		if (lo >= len)
			break;
		__u64 mask = len - lo >= 8 ? ~0ULL : (1ULL << ((len - lo) * 8)) - 1;
		if ((a[i] ^ b[i]) & mask)
			return false;
	}
	return true;
}

/*
 * The socket values a send/receive record needs. btf: sk is BTF-typed
 * (tracepoint and fentry arguments), so fields are plain loads; else
 * (kprobes) every read is a probe read. The flag is a constant at each
 * call site: the other branch compiles away.
 */
struct xsock {
	__s32 family, type, protocol, state, skfamily;
	__u64 flags, cookie;
	struct file *file;
};

static __always_inline bool xsock_read(struct sock *sk, struct xsock *x, bool btf, bool full)
{
	if (btf) {
		x->skfamily = sk->__sk_common.skc_family;
		x->protocol = sk_protocol_btf(sk);
		if (!full && !filter_type)
			return true;
		struct socket *sock = sk->sk_socket;
		if (!sock)
			return false;
		x->type = sock->type;
		if (!full)
			return true;
		x->family = sock->ops->family;
		x->state = sock->state;
		x->flags = sock->flags;
		x->file = sock->file;
		x->cookie = bpf_get_socket_cookie(sk);
		return true;
	}
	x->skfamily = BPF_CORE_READ(sk, __sk_common.skc_family);
	x->protocol = sk_protocol_of(sk);
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);
	if (!sock)
		return false;
	x->type = BPF_CORE_READ(sock, type);
	x->family = BPF_CORE_READ(sock, ops, family);
	x->state = BPF_CORE_READ(sock, state);
	x->flags = BPF_CORE_READ(sock, flags);
	x->file = BPF_CORE_READ(sock, file);
	/* no BTF pointer, no helper: the cookie only if something made it already */
	x->cookie = sk_cookie_peek(sk);
	return true;
}

static __always_inline int handle_xfer(void *ctx, struct sock *sk, int ret, bool is_send, bool btf)
{
	struct xsock x = {};
	/* ids from the BTF-typed task: plain loads rather than another helper call */
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tgid = t->tgid;
	__u64 pid_tgid = (__u64)tgid << 32 | (__u32)t->pid;
	if (!task_selected(tgid))
		return 0;

	if (aggregate) {
		/*
		 * Counting must cost next to nothing: sk_family instead of
		 * sock->ops->family (the same number: __sock_create() gives the
		 * sock the family whose ops it installs), no clock unless a
		 * latency histogram wants it, no socket type unless filtered on.
		 */
		if (!xsock_read(sk, &x, btf, false) ||
		    !sock_selected(x.skfamily, x.type, x.protocol))
			return 0;
		__u64 at = (aggregate & ST_AGG_HIST_LATENCY) ? bpf_ktime_get_ns() : 0;
		aggregate_xfer(t, tgid, x.skfamily, x.protocol, ret, is_send, at);
		return 0;
	}

	if (!xsock_read(sk, &x, btf, true))
		return 0;
	__s32 family = x.family, type = x.type, protocol = x.protocol;
	if (!sock_selected(family, type, protocol))
		return 0;

	__u64 now = bpf_ktime_get_ns();
	__u32 tflags = t->flags;
	__u8 op = is_send ? ST_OP_SENDMSG : ST_OP_RECVMSG;
	__u8 origin = ST_ORIGIN_KERNEL;
	__u8 rflags = ST_RF_SOCK_VALS;
	__s32 fd = -1;
	__s64 size_req = -1;
	__u64 ts_enter = now;
	__s64 nr = -1;
	struct pt_regs *regs = 0;

	if (tflags & ST_PF_IO_WORKER) {
		origin = ST_ORIGIN_IO_URING;
	} else if (!(tflags & ST_PF_KTHREAD)) {
		regs = (struct pt_regs *)bpf_task_pt_regs(t);
		if (task_in_compat_syscall(t)) {
			rflags |= ST_RF_COMPAT;
		} else if (regs && (long)regs->ax == -ENOSYS) {
			/*
			 * Inside a syscall the entry code keeps -ENOSYS in ax; after
			 * it (task work, e.g. io_uring retries) ax holds the result
			 * and orig_ax a syscall that is over.
			 */
			nr = regs->orig_ax;
		}
	}

	/* Which syscall reached the protocol, and is it this socket's fd? */
	__s32 want_op = -1;
	switch (nr) {
	case NR_sendto:
	case NR_sendmsg:
	case NR_sendmmsg:
		want_op = ST_OP_SENDMSG;
		break;
	case NR_write:
		want_op = ST_OP_AIO_WRITE;
		break;
	case NR_writev:
	case NR_pwritev2:
		want_op = ST_OP_WRITEV;
		break;
	case NR_recvfrom:
	case NR_recvmsg:
	case NR_recvmmsg:
		want_op = ST_OP_RECVMSG;
		break;
	case NR_read:
		want_op = ST_OP_AIO_READ;
		break;
	case NR_readv:
	case NR_preadv2:
		want_op = ST_OP_READV;
		break;
	case NR_io_uring_enter:
		origin = ST_ORIGIN_IO_URING;
		break;
	}
	if (want_op >= 0 && (want_op < ST_OP_RECVMSG) == is_send && regs) {
		__s64 rfd = (__s32)regs->di;
		/* an in-kernel socket user inside some other fd's syscall is not this fd's op */
		if (fd_file(t, rfd) == x.file) {
			op = want_op;
			origin = ST_ORIGIN_SYSCALL;
			fd = rfd;
		}
	}
	if (origin != ST_ORIGIN_SYSCALL && want_iter && write_iter_hi) {
		/* io_uring READ/WRITE and splice-like paths go through sock_*_iter */
		int p = stack_path(ctx);
		if (p == ST_OP_AIO_WRITE && is_send)
			op = ST_OP_AIO_WRITE;
		else if (p == ST_OP_AIO_READ && !is_send)
			op = ST_OP_AIO_READ;
	}

	if (origin == ST_ORIGIN_SYSCALL && want_entry) {
		struct inflight *inf = bpf_task_storage_get(&inflight, t, 0, 0);
		__u32 idx = 0;
		if (inf && inf->nr == (__u32)nr + 1) {
			ts_enter = inf->ts;
			idx = inf->idx;
			rflags |= ST_RF_ENTRY;
			/* the next message of a sendmmsg/recvmmsg starts now */
			inf->ts = now;
			inf->idx = idx + 1;
		}
		size_req =
		    requested_size(nr, regs->si, regs->dx, (rflags & ST_RF_ENTRY) ? idx : ~0U);
		if (size_req >= 0)
			rflags |= ST_RF_SIZE_REQ;
	}

	struct st_rec *r = rec_reserve(fanout_xfer[op < ST_OP__COUNT ? op : 0]);
	if (!r)
		return 0;
	rec_fill_task(r, pid_tgid, now);
	r->kind = ST_REC_XFER;
	r->op = op;
	r->origin = origin;
	r->rflags = rflags;
	r->fd = fd;
	r->ts_enter = ts_enter;
	r->cookie = x.cookie;
	r->cookie2 = 0;
	r->sflags = x.flags;
	r->size_req = size_req;
	r->ret = ret;
	r->fd2 = -1;
	r->family = family;
	r->type = type;
	r->protocol = protocol;
	r->state = x.state;
	rec_submit(r);
	return 0;
}

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

/*
 * Kernels without the sock_*_length tracepoints (before Linux 6.3): the
 * functions every send and receive passes through, once.
 *
 * Sends: __sock_sendmsg(). Since Linux 6.6 (commit 86a7e0b69bd5 "net:
 * prevent rewrite of msg_name in sock_sendmsg()", backported to 6.1.y and
 * others) the syscalls and sock_write_iter() call it directly and
 * sock_sendmsg() wraps it, so fentry on sock_sendmsg sees no user sends
 * there; older kernels have no __sock_sendmsg and sock_sendmsg() is the
 * place. Both are candidates in src/lib/probes.c, in that order. One path
 * bypasses both: sendmmsg() sending to the same address as the previous
 * message calls the inlined sock_sendmsg_nosec() from ____sys_sendmsg()
 * (the used_address shortcut), taken below.
 *
 * Receives: sock_recvmsg(), except recvmmsg()'s messages after the first,
 * which ____sys_recvmsg() receives with the inlined sock_recvmsg_nosec()
 * (its nosec argument), taken below.
 */
SEC("fexit/__sock_sendmsg")
int BPF_PROG(st_send_fexit, struct socket *sock, struct msghdr *msg, int ret)
{
	if (!want_send)
		return 0;
	bump_sends();
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

SEC("fexit/sock_sendmsg")
int BPF_PROG(st_send_fexit_old, struct socket *sock, struct msghdr *msg, int ret)
{
	if (!want_send)
		return 0;
	bump_sends();
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

SEC("fexit/sock_recvmsg")
int BPF_PROG(st_recv_fexit, struct socket *sock, struct msghdr *msg, int flags, int ret)
{
	if (!want_recv)
		return 0;
	return handle_xfer(ctx, sock->sk, ret, false, true);
}

SEC("fexit/____sys_recvmsg")
int BPF_PROG(st_recv_nosec_fexit, struct socket *sock, struct msghdr *msg_sys, void *msg,
	     void *uaddr, unsigned int flags, int nosec, int ret)
{
	if (!want_recv || !nosec)
		return 0;
	return handle_xfer(ctx, sock->sk, ret, false, true);
}

SEC("fentry/____sys_sendmsg")
int BPF_PROG(st_mmsg_fentry, struct socket *sock, struct msghdr *msg_sys, unsigned int flags,
	     struct used_address *used_address)
{
	if (want_send && used_address)
		mmsg_mark();
	return 0;
}

SEC("fexit/____sys_sendmsg")
int BPF_PROG(st_mmsg_fexit, struct socket *sock, struct msghdr *msg_sys, unsigned int flags,
	     struct used_address *used_address, unsigned int allowed_msghdr_flags, int ret)
{
	if (!want_send || !used_address || !mmsg_bypassed(used_address->name_len))
		return 0;
	/* the message went out through the inlined sock_sendmsg_nosec() */
	if (!same_address(&used_address->name, msg_sys->msg_name, msg_sys->msg_namelen,
			  used_address->name_len))
		return 0;
	return handle_xfer(ctx, sock->sk, ret, true, true);
}

/* The same hooks as kprobes, for kernels whose fentry is unavailable. */
SEC("kprobe/__sock_sendmsg")
int BPF_KPROBE(st_send_kprobe, struct socket *sock)
{
	kp_save(sock, 0);
	return 0;
}

SEC("kretprobe/__sock_sendmsg")
int BPF_KRETPROBE(st_send_kretprobe, int ret)
{
	struct socket *sock = kp_take(0);
	if (!want_send || !sock)
		return 0;
	bump_sends();
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), ret, true, false);
}

SEC("kprobe/sock_sendmsg")
int BPF_KPROBE(st_send_kprobe_old, struct socket *sock)
{
	kp_save(sock, 0);
	return 0;
}

SEC("kretprobe/sock_sendmsg")
int BPF_KRETPROBE(st_send_kretprobe_old, int ret)
{
	struct socket *sock = kp_take(0);
	if (!want_send || !sock)
		return 0;
	bump_sends();
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), ret, true, false);
}

SEC("kprobe/sock_recvmsg")
int BPF_KPROBE(st_recv_kprobe, struct socket *sock)
{
	kp_save(sock, 1);
	return 0;
}

SEC("kretprobe/sock_recvmsg")
int BPF_KRETPROBE(st_recv_kretprobe, int ret)
{
	struct socket *sock = kp_take(1);
	if (!want_recv || !sock)
		return 0;
	return handle_xfer(ctx, BPF_CORE_READ(sock, sk), ret, false, false);
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

/* ---- creation and release ---- */

/* A global function: verified once per program, not at each of its call sites. */
__noinline int emit_close(struct sockvals *v, __u32 why, __u64 ts_enter, __u64 ts)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!v)
		return 0;
	if (!sock_selected(v->family, v->type, v->protocol))
		return 0;
	struct st_rec *r = rec_reserve(fanout_close);
	if (!r)
		return 0;
	rec_fill_task(r, pid_tgid, ts);
	r->kind = ST_REC_CLOSE;
	r->op = why;
	r->origin = 0;
	r->rflags = v->known | ST_RF_ENTRY;
	r->fd = v->fd;
	r->ts_enter = ts_enter;
	r->cookie = v->cookie;
	r->cookie2 = 0;
	r->sflags = v->sflags;
	r->size_req = 0;
	r->ret = 0;
	r->fd2 = -1;
	r->family = v->family;
	r->type = v->type;
	r->protocol = v->protocol;
	r->state = v->state;
	rec_submit(r);
	return 0;
}

/*
 * Scanning an fd table for the sockets a close_range(), exit or exec
 * releases. A socket is released when every reference to its file is one
 * of the fds being closed: refs == 1, or (after dup) its refs all lie in
 * the range. Pass 1 counts the multiply-referenced ones, pass 2 decides.
 */
enum scan_action { SCAN_EMIT, SCAN_EXEC };
struct scan_ctx {
	struct file **fds;
	unsigned long *open_fds;
	unsigned long *cloexec;
	__u64 lo, hi; /* fd range, inclusive */
	__u64 first;  /* first bitmap word to scan */
	__u64 base;   /* first fd of the word being scanned */
	__u64 bits;   /* its open (and close-on-exec) fds */
	__u64 pid_tgid;
	__u64 ts;
	__u32 pass;
	__u8 why;
	__u8 action;
};

static __always_inline void scan_one(struct scan_ctx *c, __u64 fd)
{
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &c->fds[fd]);
	struct socket *sock = file_socket(f);
	if (!sock)
		return;
	long refs = file_refs(f);
	struct dupkey k = {.file = (__u64)f, .tid = (__u32)c->pid_tgid};

	if (c->pass == 1) {
		if (refs > 1) {
			__u32 one = 1, *n = bpf_map_lookup_elem(&dupcount, &k);
			if (n)
				__sync_fetch_and_add(n, 1);
			else
				bpf_map_update_elem(&dupcount, &k, &one, BPF_NOEXIST);
		}
		return;
	}
	if (refs > 1) {
		__u32 *n = bpf_map_lookup_elem(&dupcount, &k);
		if (!n)
			return; /* already decided at an earlier fd */
		long all_here = *n == refs;
		bpf_map_delete_elem(&dupcount, &k);
		if (!all_here)
			return;
	} else if (refs != 1) {
		return;
	}

	struct sockvals v = {};
	read_sockvals(sock, &v);
	v.fd = fd;
	if (c->action == SCAN_EXEC) {
		/* looked up here: a map value pointer does not survive the bpf_loop ctx */
		struct exec_pending *p =
		    bpf_task_storage_get(&exec_pending, bpf_get_current_task_btf(), 0, 0);
		if (!p)
			return;
		__u32 i = p->n;
		if (i < EXEC_PENDING_MAX) {
			sockvals_cookie(&v, fd);
			p->s[i] = v;
			p->n = i + 1;
		} else {
			__u32 key = ST_CNT_EXEC_OVERFLOW;
			__u64 *o = bpf_map_lookup_elem(&counters, &key);
			if (o)
				*o += 1;
		}
		return;
	}
	sockvals_cookie(&v, fd);
	emit_close(&v, c->why, c->ts, c->ts);
}

static long scan_bit_cb(__u64 b, void *data)
{
	struct scan_ctx *c = data;
	if (!(c->bits & (1UL << (b & 63))))
		return 0;
	__u64 fd = c->base + b;
	if (fd >= c->lo && fd <= c->hi)
		scan_one(c, fd);
	return 0;
}

static long scan_word_cb(__u64 w, void *data)
{
	struct scan_ctx *c = data;
	unsigned long bits = 0, cx = ~0UL;

	w += c->first;
	c->base = w * 64;
	if (c->base > c->hi)
		return 1;
	if (bpf_probe_read_kernel(&bits, sizeof(bits), &c->open_fds[w]))
		return 1;
	if (c->cloexec && bpf_probe_read_kernel(&cx, sizeof(cx), &c->cloexec[w]))
		return 1;
	c->bits = bits & cx;
	/* empty words are the common case in big tables: skip them cheaply */
	if (c->bits)
		bpf_loop(64, scan_bit_cb, c, 0);
	return 0;
}

#define SCAN_MODE(why, action, cloexec_only) ((why) | (action) << 8 | (cloexec_only) << 16)
/* A global function (at most five scalar arguments): verified once, not per call site. */
__noinline int scan_fds(__u64 lo, __u64 hi, __u32 mode, __u64 ts)
{
	__u8 why = mode & 0xff, action = (mode >> 8) & 0xff;
	bool cloexec_only = (mode >> 16) & 1;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = BPF_CORE_READ(t, files);
	if (!files)
		return 0;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	__u64 max = BPF_CORE_READ(fdt, max_fds);
	if (max == 0)
		return 0;
	if (hi >= max)
		hi = max - 1;
	if (lo > hi)
		return 0;
	struct scan_ctx c = {
	    .fds = BPF_CORE_READ(fdt, fd),
	    .open_fds = BPF_CORE_READ(fdt, open_fds),
	    .cloexec = cloexec_only ? BPF_CORE_READ(fdt, close_on_exec) : 0,
	    .lo = lo,
	    .hi = hi,
	    .pid_tgid = pid_tgid,
	    .ts = ts,
	    .why = why,
	    .action = action,
	};
	c.first = lo / 64;
	__u64 words = hi / 64 + 1 - c.first;
	c.pass = 1;
	bpf_loop(words, scan_word_cb, &c, 0);
	c.pass = 2;
	bpf_loop(words, scan_word_cb, &c, 0);
	return 0;
}

static __always_inline bool files_private(struct task_struct *t)
{
	return BPF_CORE_READ(t, files, count.counter) == 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(st_sys_enter, struct pt_regs *regs, long id)
{
	bool xfer = false;

	switch (id) {
	case NR_read:
	case NR_write:
	case NR_readv:
	case NR_writev:
	case NR_preadv2:
	case NR_pwritev2:
	case NR_sendto:
	case NR_recvfrom:
	case NR_sendmsg:
	case NR_recvmsg:
	case NR_sendmmsg:
	case NR_recvmmsg:
		if (!want_entry)
			return 0;
		xfer = true;
		break;
	case NR_socket:
	case NR_socketpair:
		if (!want_create)
			return 0;
		break;
	case NR_close:
	case NR_close_range:
	case NR_dup2:
	case NR_dup3:
	case NR_execve:
	case NR_execveat:
		if (!want_close)
			return 0;
		break;
	default:
		return 0;
	}

	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!task_selected(pid_tgid >> 32))
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	if (task_in_compat_syscall(t))
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__s64 a0 = (__s32)regs->di;

	if (xfer) {
		/*
		 * No check that fd is a socket: a plain store is cheaper than the
		 * fd-table walk, and the tracepoint only trusts this entry after
		 * matching the syscall number and the fd's file to its socket.
		 */
		struct inflight *inf =
		    bpf_task_storage_get(&inflight, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!inf)
			return 0;
		inf->nr = id + 1;
		inf->ts = now;
		inf->idx = 0;
		inf->has_close = 0;
		return 0;
	}

	switch (id) {
	case NR_socket:
	case NR_socketpair: {
		/* flags other than CLOEXEC/NONBLOCK fail before __sock_create() */
		if ((__s32)regs->si & ~(SOCK_TYPE_MASK | SOCK_CLOEXEC | SOCK_NONBLOCK))
			return 0;
		struct inflight *inf =
		    bpf_task_storage_get(&inflight, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!inf)
			return 0;
		inf->nr = id + 1;
		inf->ts = now;
		inf->a0 = (__s32)regs->di;
		inf->a1 = (__s32)regs->si & SOCK_TYPE_MASK;
		inf->a2 = (__s32)regs->dx;
		inf->a3 = regs->r10;
		inf->has_close = 0;
		struct created none = {};
		__u32 tid = (__u32)pid_tgid;
		bpf_map_update_elem(&created, &tid, &none, BPF_ANY);
		return 0;
	}
	case NR_close: {
		struct file *f = fd_file(t, a0);
		struct socket *sock = file_socket(f);
		if (!sock || file_refs(f) != 1)
			return 0;
		struct inflight *inf =
		    bpf_task_storage_get(&inflight, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!inf)
			return 0;
		inf->nr = id + 1;
		inf->ts = now;
		inf->has_close = 1;
		read_sockvals(sock, &inf->close);
		inf->close.fd = a0;
		sockvals_cookie(&inf->close, a0);
		return 0;
	}
	case NR_dup2:
	case NR_dup3: {
		__s64 a1 = (__s32)regs->si;
		if (a0 == a1)
			return 0; /* dup2: no-op; dup3: EINVAL */
		struct file *oldf = fd_file(t, a0);
		if (!oldf)
			return 0; /* EBADF: nothing is closed */
		struct file *f = fd_file(t, a1);
		struct socket *sock = file_socket(f);
		if (!sock || f == oldf || file_refs(f) != 1)
			return 0;
		struct sockvals v = {};
		read_sockvals(sock, &v);
		v.fd = a1;
		sockvals_cookie(&v, a1);
		emit_close(&v, ST_CLOSE_DUP, now, now);
		return 0;
	}
	case NR_close_range: {
		__u32 flags = (__u32)regs->dx;
		__u64 lo = (__u32)regs->di, hi = (__u32)regs->si;
		if (lo > hi || (flags & CLOSE_RANGE_CLOEXEC))
			return 0;
		/* with UNSHARE, a shared table is copied first: its files keep a reference */
		if ((flags & CLOSE_RANGE_UNSHARE) && !files_private(t))
			return 0;
		scan_fds(lo, hi, SCAN_MODE(ST_CLOSE_CLOSE_RANGE, SCAN_EMIT, 0), now);
		return 0;
	}
	case NR_execve:
	case NR_execveat: {
		/*
		 * If the table is shared beyond this process's own threads (which
		 * exec kills), exec copies it and the close-on-exec closes
		 * release nothing.
		 */
		int sharers = BPF_CORE_READ(t, files, count.counter);
		if (sharers > BPF_CORE_READ(t, signal, nr_threads))
			return 0;
		struct exec_pending *p =
		    bpf_task_storage_get(&exec_pending, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!p)
			return 0;
		p->n = 0;
		scan_fds(0, ~0ULL >> 1, SCAN_MODE(ST_CLOSE_EXEC, SCAN_EXEC, 1), now);
		return 0;
	}
	}
	return 0;
}

static __always_inline void emit_create(struct inflight *inf, __u64 pid_tgid, __u64 now, __s32 ret,
					__u8 count, __s32 fd, __s32 fd2, __u64 c0, __u64 c1)
{
	if (!sock_selected(inf->a0, inf->a1, inf->a2))
		return;
	struct st_rec *r = rec_reserve(fanout_create * (count ? count : 1));
	if (!r)
		return;
	rec_fill_task(r, pid_tgid, now);
	r->kind = ST_REC_CREATE;
	r->op = count;
	r->origin = 0; /* requester: user */
	r->rflags = ST_RF_ENTRY;
	r->fd = fd;
	r->fd2 = fd2;
	r->ts_enter = inf->ts;
	r->cookie = c0 ? c0 : fd >= 0 ? cookie_of_fd(fd) : 0;
	r->cookie2 = c1 ? c1 : fd2 >= 0 ? cookie_of_fd(fd2) : 0;
	r->sflags = 0;
	r->size_req = 0;
	r->ret = ret;
	r->family = inf->a0;
	r->type = inf->a1;
	r->protocol = inf->a2;
	r->state = SS_UNCONNECTED;
	rec_submit(r);
}

/*
 * A socket that __sock_create() made but the syscall then dropped
 * (no fd left, or socketpair unsupported): released without a file.
 * Its protocol is known only if it was asked for explicitly.
 */
static __always_inline void emit_dropped(struct inflight *inf, __u64 pid_tgid, __u64 now,
					 __u64 cookie)
{
	struct sockvals v = {
	    .cookie = cookie,
	    .family = inf->a0,
	    .type = inf->a1,
	    .protocol = inf->a2,
	    .state = SS_UNCONNECTED,
	    .fd = -1,
	    .known = inf->a2 ? ST_RF_SOCK_VALS : 0,
	};
	emit_close(&v, ST_CLOSE_CREATE_FAIL, now, now);
}

/*
 * The end of socket(2)/socketpair(2): what __sock_create() did, from the
 * result; one plan, one emit sequence. Global: verified once, not inline
 * in sys_exit's every path.
 */
__noinline int finish_create(struct inflight *inf, __s64 id, __s64 ret)
{
	if (!inf)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();
	__u64 c0 = 0, c1 = 0;
	__u32 tid = (__u32)pid_tgid;
	struct created *c = bpf_map_lookup_elem(&created, &tid);
	if (c) {
		c0 = c->cookie[0];
		c1 = c->cookie[1];
		bpf_map_delete_elem(&created, &tid);
	}
	__s32 cret = ret < 0 ? ret : 0, fd = -1, fd2 = -1;
	__u8 count = 1, dropped = 0;
	if (id == NR_socket) {
		if (ret == -EMFILE) {
			cret = 0; /* created, then dropped for want of an fd */
			dropped = 1;
		} else if (ret >= 0) {
			fd = ret;
		}
	} else {
		/* fds are reserved and written back before the sockets exist */
		if (ret == -EMFILE || ret == -EFAULT)
			return 0;
		if (ret == 0) {
			int sv[2] = {-1, -1};
			bpf_probe_read_user(sv, sizeof(sv), (void *)inf->a3);
			fd = sv[0];
			fd2 = sv[1];
			count = 2;
		} else if (ret == -EOPNOTSUPP) {
			/* both made, then released: the family has no socketpair */
			cret = 0;
			count = 2;
			dropped = 2;
		}
	}
	emit_create(inf, pid_tgid, now, cret, count, fd, fd2, c0, c1);
	/* released second first, as __sys_socketpair() does */
	if (dropped == 2)
		emit_dropped(inf, pid_tgid, now, c1);
	if (dropped)
		emit_dropped(inf, pid_tgid, now, c0);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(st_sys_exit, struct pt_regs *regs, long ret)
{
	__s64 id = regs->orig_ax;

	/* sends and receives need no exit hook: see the inflight check in handle_xfer() */
	switch (id) {
	case NR_socket:
	case NR_socketpair:
		if (!want_create)
			return 0;
		break;
	case NR_close:
		if (!want_close)
			return 0;
		break;
	case NR_execve:
	case NR_execveat:
		if (!want_close)
			return 0;
		break;
	default:
		return 0;
	}

	struct task_struct *t = bpf_get_current_task_btf();
	__u64 now = bpf_ktime_get_ns();

	if (id == NR_execve || id == NR_execveat) {
		struct exec_pending *p = bpf_task_storage_get(&exec_pending, t, 0, 0);
		if (!p)
			return 0;
		__u32 n = p->n;
		p->n = 0;
		if (ret != 0)
			return 0;
		for (__u32 i = 0; i < EXEC_PENDING_MAX; i++) {
			if (i >= n)
				break;
			emit_close(&p->s[i], ST_CLOSE_EXEC, now, now);
		}
		return 0;
	}

	struct inflight *inf = bpf_task_storage_get(&inflight, t, 0, 0);
	if (!inf || inf->nr != (__u32)id + 1)
		return 0;
	inf->nr = 0;

	if (id == NR_socket || id == NR_socketpair)
		return finish_create(inf, id, ret);

	switch (id) {
	case NR_close:
		if (inf->has_close && ret == 0)
			emit_close(&inf->close, ST_CLOSE_CLOSE, inf->ts, now);
		return 0;
	}
	return 0;
}

/* A process whose fd table dies with it releases its sockets. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(st_exit, struct task_struct *p)
{
	if (!want_close)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	bool selected = task_selected(tgid);

	struct task_struct *t = bpf_get_current_task_btf();
	if (t->flags & ST_PF_KTHREAD)
		return 0;
	if (selected && files_private(t))
		scan_fds(0, ~0ULL >> 1, SCAN_MODE(ST_CLOSE_EXIT, SCAN_EMIT, 0), bpf_ktime_get_ns());
	return 0;
}

/* ---- network devices (socktop's DEVICES section) ---- */

static __always_inline void dev_count(struct net_device *dev, __u64 len, bool xmit)
{
	if (!dev)
		return;
	struct st_dev_key k = {.ifindex = dev->ifindex, .netns = dev->nd_net.net->ns.inum};
	struct st_dev_val zero = {}, *v;
	v = agg_slot ? agg_entry(&devs1, &k, &zero) : agg_entry(&devs0, &k, &zero);
	if (!v)
		return;
	if (!v->name[0])
		__builtin_memcpy(v->name, dev->name, sizeof(v->name));
	if (xmit) {
		v->xmits++;
		v->xmit_bytes += len;
	} else {
		v->recvs++;
		v->recv_bytes += len;
	}
}

/* SystemTap's netdev.transmit counts skb->len as handed to the device */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(st_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int len)
{
	if (rc == 0) /* NETDEV_TX_OK */
		dev_count(dev, len, true);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(st_dev_recv, struct sk_buff *skb)
{
	dev_count(skb->dev, skb->len, false);
	return 0;
}

/*
 * Socket cookies are made lazily, and BPF can make one only from a
 * BTF-typed socket, which socket(2)'s exit does not offer once the fd
 * table has grown past 64 slots (see cookie_by_fd). Inet sockets get
 * theirs at birth here instead, so socket.create can carry it. Allows
 * every socket: this program only observes.
 */
SEC("cgroup/sock_create")
int st_sock_create(struct bpf_sock *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct created *c = bpf_map_lookup_elem(&created, &tid);
	if (c && c->n < 2)
		c->cookie[c->n++ & 1] = cookie;
	return 1;
}

/*
 * Sockets the kernel creates and releases for itself (requester = 1: per
 * network namespace control sockets, NFS, tunnels...), where fentry can
 * see __sock_create() and __sock_release(); syscalls cannot. User
 * sockets stay with the syscall hooks, which know their fds.
 */
SEC("fexit/__sock_create")
int BPF_PROG(st_kcreate_fexit, struct net *net, int family, int type, int protocol,
	     struct socket **res, int kern, int ret)
{
	if (!want_create || !kern)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!task_selected(pid_tgid >> 32) || !sock_selected(family, type, protocol))
		return 0;
	struct st_rec *r = rec_reserve(fanout_create);
	if (!r)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	rec_fill_task(r, pid_tgid, now);
	r->kind = ST_REC_CREATE;
	r->op = 1;
	r->origin = 1; /* requester: the kernel */
	r->rflags = 0; /* no entry time: create and create.return share the return's */
	r->fd = -1;
	r->fd2 = -1;
	r->ts_enter = now;
	/*
	 * res (struct socket **) cannot even be read here on 6.1 ("arg type PTR
	 * is not a struct"), and a new socket has no cookie yet anyway.
	 */
	r->cookie = 0;
	r->cookie2 = 0;
	r->sflags = 0;
	r->size_req = 0;
	r->ret = ret;
	r->family = family;
	r->type = type;
	r->protocol = protocol;
	r->state = SS_UNCONNECTED;
	rec_submit(r);
	return 0;
}

SEC("fentry/__sock_release")
int BPF_PROG(st_krelease_fentry, struct socket *sock, struct inode *inode)
{
	if (!want_close || sock->file)
		return 0; /* a user socket: its fd's close, exit or exec reports it */
	struct task_struct *t = bpf_get_current_task_btf();
	if (!(t->flags & ST_PF_KTHREAD)) {
		/* socket(2)/socketpair(2) dropping what they made: sys_exit reports that */
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);
		if (regs && (long)regs->ax == -ENOSYS &&
		    (regs->orig_ax == NR_socket || regs->orig_ax == NR_socketpair))
			return 0;
	}
	if (!task_selected(t->tgid))
		return 0;
	struct sockvals v = {.fd = -1, .known = ST_RF_SOCK_VALS};
	struct sock *sk = sock->sk;
	v.family = sock->ops ? sock->ops->family : -1;
	v.type = sock->type;
	v.state = sock->state;
	v.sflags = sock->flags;
	v.protocol = sk ? sk_protocol_btf(sk) : -1;
	v.cookie = sk ? bpf_get_socket_cookie(sk) : 0;
	__u64 now = bpf_ktime_get_ns();
	emit_close(&v, ST_CLOSE_KERNEL, now, now);
	return 0;
}

/* Target set: follow a traced command's descendants. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(st_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = 1;
	if (ptgid == ctgid)
		return 0; /* a new thread */
	if (bpf_map_lookup_elem(&targets, &ptgid))
		bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	return 0;
}
