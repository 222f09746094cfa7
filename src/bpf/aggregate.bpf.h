/* SPDX-License-Identifier: GPL-2.0 */
/* Aggregation (socktap top): counts in the kernel, no records. */
#ifndef ST_AGGREGATE_BPF_H
#define ST_AGGREGATE_BPF_H

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

/* top --by connection: per (process, protocol, both ends) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, AGG_ENTRIES);
	__type(key, struct st_conn_key);
	__type(value, struct st_agg_val);
} conns0 SEC(".maps"), conns1 SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AGG_ENTRIES);
	__type(key, struct st_conn_key);
	__type(value, struct st_conn_id);
} conn_ids0 SEC(".maps"), conn_ids1 SEC(".maps");
/* a connection id is too big for the stack next to a transfer's state */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_conn_id);
} conn_scratch SEC(".maps");

/* top --by cgroup */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct st_cgroup_key);
	__type(value, struct st_agg_val);
} cgroups0 SEC(".maps"), cgroups1 SEC(".maps");

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

/* serve: its series, and their histograms */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, AGG_ENTRIES);
	__type(key, struct st_series_key);
	__type(value, struct st_series_val);
} series0 SEC(".maps"), series1 SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4 * AGG_ENTRIES);
	__type(key, struct st_series_hist_key);
	__type(value, __u64);
} shists0 SEC(".maps"), shists1 SEC(".maps");

/*
 * New rows start from these: zeroed globals, never written, rather than
 * zeroed structs on the stack, which the transfer paths cannot spare
 * (512 bytes for a whole call chain; 6.1's verifier counted 544).
 */
struct st_agg_val agg_val_zero;
struct st_series_val series_val_zero;

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

/* A macro, not a function: st_agg_val and st_series_val share these six counters. */
#define COUNT_XFER(v, ret, is_send)                                                                \
	do {                                                                                       \
		if ((ret) < 0) {                                                                   \
			if (is_send)                                                               \
				(v)->send_errors++;                                                \
			else                                                                       \
				(v)->recv_errors++;                                                \
		} else if (is_send) {                                                              \
			(v)->sends++;                                                              \
			(v)->send_bytes += (ret);                                                  \
		} else {                                                                           \
			(v)->recvs++;                                                              \
			(v)->recv_bytes += (ret);                                                  \
		}                                                                                  \
	} while (0)

static __always_inline void series_hist_add(__u32 gen, const struct st_series_key *sk, __u8 kind,
					    bool recv, __u64 value)
{
	struct st_series_hist_key k = {.s = *sk, .kind = kind, .recv = recv};
	k.slot = value ? (__u8)(log2_bucket(value - 1) + 1) : 0;
	__u64 zero = 0, *c;
	c = gen ? agg_entry(&shists1, &k, &zero) : agg_entry(&shists0, &k, &zero);
	if (c)
		*c += 1;
}

/*
 * serve's row for key k in generation gen, made if missing and named after
 * the thread-group leader, so a pool's thread names are one series; 0 when
 * the table is full.
 */
static __always_inline struct st_series_val *series_row(struct task_struct *t,
							struct st_series_key *k, __u32 gen)
{
	if (aggregate & ST_AGG_SERIES_CGROUP)
		k->cgroup_id = task_cgroup_id();
	struct st_series_val *v = gen ? agg_entry(&series1, k, &series_val_zero)
				      : agg_entry(&series0, k, &series_val_zero);
	if (v && !v->comm[0]) {
		struct task_struct *leader = BPF_CORE_READ(t, group_leader);
		bpf_core_read(v->comm, sizeof(v->comm), &leader->comm);
		v->uid = task_uid(t);
	}
	return v;
}

static __always_inline void count_series(struct task_struct *t, __u32 tgid, __s32 family,
					 __s32 type, __s32 protocol, int ret, bool is_send,
					 __s64 lat)
{
	struct st_series_key k = {.tgid = tgid,
				  .protocol = (__u16)protocol,
				  .family = (__u16)family,
				  .type = (__u16)type,
				  .err = ret < 0 ? (__u16)-ret : 0};
	/* one generation for the row and its histograms: a snapshot has both or neither */
	__u32 gen = agg_slot;
	struct st_series_val *v = series_row(t, &k, gen);
	if (!v)
		return;
	COUNT_XFER(v, ret, is_send);
	if (ret < 0)
		return;
	if (aggregate & ST_AGG_HIST_SIZE) {
		__u32 slot = ret ? log2_bucket((__u64)ret - 1) + 1 : 0;
		if (slot > ST_SIZE_SLOTS - 1)
			slot = ST_SIZE_SLOTS - 1;
		v->size_slots[is_send ? 0 : 1][slot]++;
	}
	if (lat >= 0) {
		if (is_send)
			v->send_ns += lat;
		else
			v->recv_ns += lat;
		series_hist_add(gen, &k, ST_HIST_LATENCY, !is_send, (__u64)lat);
	}
}

/*
 * serve's sockets made and released (the socket.create and socket.close
 * events), counted in the series of their process and kind: a socket that
 * never moves data still shows, and creates minus closes is what is open.
 */
static __always_inline void count_lifecycle(__s32 family, __s32 type, __s32 protocol, bool create,
					    __u32 n)
{
	struct st_series_key k = {.tgid = bpf_get_current_pid_tgid() >> 32,
				  .protocol = (__u16)protocol,
				  .family = (__u16)family,
				  .type = (__u16)type};
	struct st_series_val *v = series_row(cur_task(), &k, agg_slot);
	if (!v)
		return;
	if (create)
		v->creates += n;
	else
		v->closes += n;
}

/*
 * The entry-to-return time of the syscall's own operation, or -1: only a
 * syscall's own operation has a known start.
 */
static __always_inline __s64 xfer_latency(struct task_struct *t, __u64 now)
{
	struct uregs regs = {};
	if ((TASK_GET(t, flags, flags) & ST_PF_KTHREAD) || !task_uregs(t, &regs) ||
	    regs.ax != -ENOSYS)
		return -1;
	struct inflight *inf = task_state(&inflight, t, false);
	if (!inf || inf->nr != (__u32)regs.orig_ax + 1)
		return -1;
	__s64 lat = now - inf->ts;
	inf->ts = now; /* the next message of an mmsg call starts here */
	return lat;
}

/* A connection row; its comm, uid and unix paths come from its first operation. */
static __always_inline void count_conn(struct task_struct *t, __u32 tgid, struct sock *sk,
				       struct socket *sock, __s32 family, __s32 protocol,
				       const struct st_addrs *a, int ret, bool is_send)
{
	struct st_conn_key k = {.tgid = tgid, .protocol = (__u16)protocol, .family = (__u16)family};
	if (family == ST_AF_UNIX)
		k.ino = sock ? socket_ino(sock) : 0;
	else if (a)
		k.addrs = *a;
	struct st_agg_val *v;
	v = agg_slot ? agg_entry(&conns1, &k, &agg_val_zero)
		     : agg_entry(&conns0, &k, &agg_val_zero);
	if (!v)
		return;
	if (!v->comm[0]) {
		__u32 z = 0;
		struct st_conn_id *id = bpf_map_lookup_elem(&conn_scratch, &z);
		if (!id)
			return;
		id->uid = task_uid(t);
		task_comm(t, id->comm);
		id->names.llen = id->names.rlen = 0;
		if (family == ST_AF_UNIX)
			unix_paths(sk, &id->names);
		__builtin_memcpy(v->comm, id->comm, sizeof(v->comm));
		v->uid = id->uid;
		if (agg_slot)
			bpf_map_update_elem(&conn_ids1, &k, id, BPF_NOEXIST);
		else
			bpf_map_update_elem(&conn_ids0, &k, id, BPF_NOEXIST);
	}
	COUNT_XFER(v, ret, is_send);
}

static __always_inline void aggregate_xfer(struct task_struct *t, __u32 tgid, struct sock *sk,
					   struct socket *sock, __s32 family, __s32 type,
					   __s32 protocol, const struct st_addrs *a, int ret,
					   bool is_send, __u64 now)
{
	__s64 lat = -1;
	if ((aggregate & ST_AGG_HIST_LATENCY) && ret >= 0)
		lat = xfer_latency(t, now);
	if (aggregate & ST_AGG_SERIES)
		count_series(t, tgid, family, type, protocol, ret, is_send, lat);
	if (aggregate & ST_AGG_CONNS)
		count_conn(t, tgid, sk, sock, family, protocol, a, ret, is_send);
	if (aggregate & ST_AGG_CGROUPS) {
		struct st_cgroup_key k = {.cgroup_id = task_cgroup_id()};
		struct st_agg_val *v;
		v = agg_slot ? agg_entry(&cgroups1, &k, &agg_val_zero)
			     : agg_entry(&cgroups0, &k, &agg_val_zero);
		if (v)
			COUNT_XFER(v, ret, is_send);
	}
	if (aggregate & ST_AGG_PROCS) {
		struct st_agg_key k = {
		    .tgid = tgid, .protocol = (__u16)protocol, .family = (__u16)family};
		struct st_agg_val *v;
		v = agg_slot ? agg_entry(&procs1, &k, &agg_val_zero)
			     : agg_entry(&procs0, &k, &agg_val_zero);
		if (!v)
			return;
		if (!v->comm[0]) {
			/*
			 * First operation of this row on this CPU. The row's name
			 * is its first operation's across CPUs: the reader takes
			 * the CPU with the earliest time (a shared names table cost
			 * a map update here and half of a snapshot to drain).
			 */
			task_comm(t, v->comm);
			v->uid = task_uid(t);
			v->first_ns = bpf_ktime_get_ns();
		}
		COUNT_XFER(v, ret, is_send);
	}
	if (ret < 0 || (aggregate & ST_AGG_SERIES))
		return; /* serve's histograms are its series' */
	__u32 hkey = (aggregate & ST_AGG_HIST_BY_PROTO) ? (__u32)protocol : tgid;
	if (aggregate & ST_AGG_HIST_SIZE)
		hist_add(hkey, ST_HIST_SIZE, is_send, (__u64)ret);
	if ((aggregate & ST_AGG_HIST_LATENCY) && lat >= 0)
		hist_add(hkey, ST_HIST_LATENCY, is_send, (__u64)lat);
}

#endif /* ST_AGGREGATE_BPF_H */
