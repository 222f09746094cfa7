/* SPDX-License-Identifier: GPL-2.0 */
/* Maps shared by several concerns: the ring, counters, filter sets, per-task state. */
#ifndef ST_MAPS_BPF_H
#define ST_MAPS_BPF_H

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
	__uint(max_entries, ST_FILTER_SET_MAX);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_FILTER_SET_MAX);
	__type(key, __u32);
	__type(value, __u8);
} uids SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_FILTER_SET_MAX);
	__type(key, char[16]);
	__type(value, __u8);
} comms SEC(".maps");

/* A socket's values, read once, reported by one or more records. */
struct sockvals {
	__u64 cookie;
	__u64 sflags;
	__s32 family, type, protocol, state;
	__s32 fd;
	__u32 known; /* ST_RF_SOCK_VALS */
	__u32 ino;   /* the socket's inode: lets user space make a missing cookie */
	__u32 names; /* where a unix socket's names are: NAMES_LIVE, NAMES_CLOSE, NAMES_EXEC + i */
	/*
	 * The struct sock, as a number, while it is alive: a record made at
	 * once reads a unix socket's names from it. Records made later (at
	 * sys_exit of close(2) and execve, when the socket may be gone: close
	 * releases synchronously since Linux 6.15) carry names read at entry:
	 * names says where they are kept.
	 */
	__u64 sk;
	struct st_addrs addrs; /* inet: read with the other values */
};
#define NAMES_LIVE  0
#define NAMES_CLOSE 1
#define NAMES_EXEC  2

/* The syscall a task is in, between sys_enter and sys_exit. */
struct inflight {
	__u64 ts;  /* entry time; for mmsg, when the current message began */
	__u32 nr;  /* syscall number + 1; 0 = none */
	__u32 idx; /* mmsg: index of the current message */
	__s32 a0, a1, a2;
	__u32 has_close;
	__u64 a3;
	struct sockvals close; /* close(2): the socket it releases */
	struct st_unix_names close_names;
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
	struct st_unix_names names[EXEC_PENDING_MAX];
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

#endif /* ST_MAPS_BPF_H */
