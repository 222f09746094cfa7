/* SPDX-License-Identifier: GPL-2.0 */
/* One ring-buffer record per kernel event: reserve, fill, submit. */
#ifndef ST_RECORD_BPF_H
#define ST_RECORD_BPF_H

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
	struct task_struct *t = cur_task();
	r->cgroup_id = task_cgroup_id();
	r->nspid = task_nspid(t);
	r->pad = 0;
	__builtin_memset(&r->addrs, 0, sizeof(r->addrs));
	r->pid = pid_tgid >> 32;
	r->tid = (__u32)pid_tgid;
	r->uid = task_uid(t);
	r->cpu = bpf_get_smp_processor_id();
	r->ts = ts;
	task_comm(t, r->comm);
}

/*
 * The one record builder: reserved, the task's ids filled in, every value
 * set to "unknown" (fds -1, no cookie, no socket values), so that callers
 * set only what their event knows. 0 when the ring is full (counted lost).
 */
static __always_inline void rec_init(struct st_rec *r, __u8 kind, __u64 pid_tgid, __u64 ts)
{
	rec_fill_task(r, pid_tgid, ts);
	r->kind = kind;
	r->op = 0;
	r->origin = 0;
	r->rflags = 0;
	r->fd = -1;
	r->fd2 = -1;
	r->ts_enter = ts;
	r->cookie = 0;
	r->cookie2 = 0;
	r->ino = 0;
	r->ino2 = 0;
	r->sflags = 0;
	r->size_req = 0;
	r->ret = 0;
	r->family = -1;
	r->type = -1;
	r->protocol = -1;
	r->state = -1;
}

static __always_inline struct st_rec *rec_begin(__u8 kind, __u32 fanout, __u64 pid_tgid, __u64 ts)
{
	struct st_rec *r = rec_reserve(fanout);
	if (r)
		rec_init(r, kind, pid_tgid, ts);
	return r;
}

/*
 * rec_begin for an event on a unix socket, when addresses are wanted: a
 * struct st_rec_unix (ST_RF_UNIX), whose names the caller fills in.
 * Callers add their rflags to the ones set here.
 */
static __always_inline struct st_rec_unix *rec_begin_unix(__u8 kind, __u32 fanout, __u64 pid_tgid,
							  __u64 ts)
{
	struct st_rec_unix *u = bpf_ringbuf_reserve(&events, sizeof(*u), 0);
	if (!u) {
		count_lost(fanout);
		return 0;
	}
	rec_init(&u->rec, kind, pid_tgid, ts);
	u->rec.rflags = ST_RF_UNIX;
	return u;
}

/* rec_begin for an event on socket sk, alive now: a unix socket's record carries its names. */
static __always_inline struct st_rec *rec_begin_sk(__u8 kind, __u32 fanout, __u64 pid_tgid,
						   __u64 ts, struct sock *sk, __s32 family)
{
	if (!want_addrs || !sk || family != ST_AF_UNIX)
		return rec_begin(kind, fanout, pid_tgid, ts);
	struct st_rec_unix *u = rec_begin_unix(kind, fanout, pid_tgid, ts);
	if (!u)
		return 0;
	unix_paths(sk, &u->names);
	return &u->rec;
}

/* A socket's values, as struct socket and its sock hold them. */
static __always_inline void rec_sockvals(struct st_rec *r, const struct sockvals *v)
{
	r->cookie = v->cookie;
	r->ino = v->ino;
	r->sflags = v->sflags;
	r->family = v->family;
	r->type = v->type;
	r->protocol = v->protocol;
	r->state = v->state;
}

#endif /* ST_RECORD_BPF_H */
