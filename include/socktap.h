/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libsocktap: SystemTap's socket tapset on eBPF.
 *
 * Conventions follow libbpf: opaque handles, functions named object__verb
 * style (here socktap_<object>_<verb>), negative errno returns, option
 * structs that carry their own size, and no printing from the library
 * (messages go to the print callback in the options, if any).
 */
#ifndef SOCKTAP_H
#define SOCKTAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every function declared here is the library's API: default visibility,
 * although libsocktap is built with -fvisibility=hidden (its internals are
 * not exported; src/lib/libsocktap.map lists these same names).
 */
#pragma GCC visibility push(default)

#define SOCKTAP_VERSION "0.1.0"

/* ---- SystemTap helper functions (exact names and results) ---- */

/* Unknown number -> "UNDEF"; unknown or NULL string -> -1. */
const char *sock_prot_num2str(long proto);
long sock_prot_str2num(const char *proto);
const char *sock_fam_num2str(long family);
long sock_fam_str2num(const char *family);
const char *sock_state_num2str(long state);
long sock_state_str2num(const char *state);
const char *sock_type_num2str(long type);
long sock_type_str2num(const char *type);
/*
 * Decode struct socket's flags word / MSG_* flags as "A|B|C" into buf
 * (always NUL-terminated when len > 0). Returns buf. Socket flag bit
 * names are those of the running kernel (they moved in Linux 6.16).
 */
const char *sock_flags_num2str(unsigned long flags, char *buf, size_t len);
const char *msg_flags_num2str(unsigned long flags, char *buf, size_t len);

/* ---- probe points ---- */

/* Order is ABI: it indexes socktap_probes (src/lib/probes.c). */
enum socktap_probe_id {
	SOCKTAP_PROBE_SEND,
	SOCKTAP_PROBE_RECEIVE,
	SOCKTAP_PROBE_SENDMSG,
	SOCKTAP_PROBE_SENDMSG_RETURN,
	SOCKTAP_PROBE_RECVMSG,
	SOCKTAP_PROBE_RECVMSG_RETURN,
	SOCKTAP_PROBE_AIO_WRITE,
	SOCKTAP_PROBE_AIO_WRITE_RETURN,
	SOCKTAP_PROBE_AIO_READ,
	SOCKTAP_PROBE_AIO_READ_RETURN,
	SOCKTAP_PROBE_WRITEV,
	SOCKTAP_PROBE_WRITEV_RETURN,
	SOCKTAP_PROBE_READV,
	SOCKTAP_PROBE_READV_RETURN,
	SOCKTAP_PROBE_WRITE_ITER,
	SOCKTAP_PROBE_WRITE_ITER_RETURN,
	SOCKTAP_PROBE_READ_ITER,
	SOCKTAP_PROBE_READ_ITER_RETURN,
	SOCKTAP_PROBE_CREATE,
	SOCKTAP_PROBE_CREATE_RETURN,
	SOCKTAP_PROBE_CLOSE,
	SOCKTAP_PROBE_CLOSE_RETURN,
	SOCKTAP_PROBE__COUNT,
};

/* The tapset's values; a probe carries a subset (socktap_probe.values). */
enum socktap_value {
	SOCKTAP_V_NAME = 1u << 0,
	SOCKTAP_V_SIZE = 1u << 1,
	SOCKTAP_V_SUCCESS = 1u << 2,
	SOCKTAP_V_PROTOCOL = 1u << 3,
	SOCKTAP_V_FAMILY = 1u << 4,
	SOCKTAP_V_STATE = 1u << 5,
	SOCKTAP_V_FLAGS = 1u << 6,
	SOCKTAP_V_TYPE = 1u << 7,
	SOCKTAP_V_REQUESTER = 1u << 8,
	SOCKTAP_V_ERR = 1u << 9,
};
#define SOCKTAP_VALUE__COUNT 10

struct socktap_probe {
	const char *name;	     /* "socket.sendmsg.return" */
	const char *summary;	     /* one line, from the tapset */
	unsigned int values;	     /* SOCKTAP_V_* carried, in this order */
	enum socktap_probe_id entry; /* for .return probes: its entry probe */
	bool is_return;
};

/* The probe table; id must be < SOCKTAP_PROBE__COUNT. */
const struct socktap_probe *socktap_probe_get(enum socktap_probe_id id);
/* Exact name -> id, or -ENOENT. */
int socktap_probe_find(const char *name);
/* Name of a value bit ("size"); NULL if not exactly one known bit. */
const char *socktap_value_name(unsigned int value_bit);
/*
 * SystemTap probe-point pattern matching: '*' and '?' match within one
 * dot-separated component, so "socket.*" does not match
 * "socket.sendmsg.return"; '**' matches across components, so "socket.**"
 * matches every socket probe.
 */
bool socktap_pattern_match(const char *pattern, const char *name);
/* Set bit i of *mask for every probe i matching pattern; returns matches. */
int socktap_pattern_select(const char *pattern, uint64_t *mask);
/*
 * Up to n probe names closest to a misspelt word (edit distance),
 * written to out[]; returns how many.
 */
int socktap_probe_suggest(const char *word, const char **out, int n);

/* What backs a probe on the running kernel. */
struct socktap_backing {
	size_t sz;
	bool available;
	char mechanism[160]; /* e.g. "tp_btf:sock_send_length" */
	char limits[320];    /* what this mechanism cannot see, "" if nothing */
};
/* Inspects the running kernel's BTF; no privileges needed. */
int socktap_probe_backing(enum socktap_probe_id id, struct socktap_backing *out);

/* ---- events ---- */

/* One probe firing, as the tapset defines it. */
struct socktap_event {
	enum socktap_probe_id probe;
	const char *name;  /* probe name (the tapset's `name` value) */
	uint64_t ts;	   /* CLOCK_REALTIME, ns */
	uint32_t pid, tid; /* process (tgid) and thread */
	uint32_t uid;	   /* real uid */
	uint32_t cpu;
	char comm[16];	    /* NUL-terminated, may hold any other byte */
	uint64_t sock;	    /* kernel socket cookie; 0 if not known (JSON null) */
	int32_t fd;	    /* -1 if not known */
	unsigned int known; /* SOCKTAP_V_* whose value is known */
	int64_t size;	    /* bytes requested / moved, or -errno */
	int32_t success;    /* 1 or 0 */
	int32_t protocol;
	int32_t family;
	int32_t state;
	int32_t type;
	uint64_t flags;	   /* struct socket's flags */
	int32_t requester; /* create: 1 kernel, 0 user */
	int32_t err;	   /* create.return: 0 or -errno */
	/*
	 * Who and where. Addresses in their text form ("127.0.0.1", "::1",
	 * "::ffff:127.0.0.1"); for unix sockets the bound paths, an abstract
	 * name as "@name" (every NUL byte of it as '@', as /proc/net/unix
	 * shows them); "" when null. An unconnected datagram socket's remote
	 * end is the message's: the destination its send named, the source
	 * of the datagram its receive took. A port is null (-1) when its
	 * address is, and always for unix. All null with socktap_opts.no_addrs.
	 */
	char laddr[112], raddr[112];
	int32_t lport, rport;
	uint64_t cgroup_id;    /* the task's cgroup v2 id (its directory's inode); 0: unknown */
	const char *cgroup;    /* its path below the cgroup2 mount ("/" the root); NULL: unknown */
	const char *container; /* the 64-hex container id the path names; NULL: none */
	uint32_t nspid;	       /* the pid in the process's own pid namespace; 0: socktap's */
};

enum socktap_format {
	SOCKTAP_FORMAT_TEXT,
	SOCKTAP_FORMAT_JSON,
	SOCKTAP_FORMAT_CSV,
};
/* Name -> format ("text", "json", "csv"), or -EINVAL. */
int socktap_format_parse(const char *name);
/*
 * Format one event as one line (with '\n') into buf. Returns the length
 * it needs (excluding NUL), like snprintf; output is complete only if
 * that is < len. JSON values are numbers; strings are escaped and any
 * invalid UTF-8 byte becomes U+FFFD.
 */
int socktap_event_format(const struct socktap_event *ev, enum socktap_format fmt, char *buf,
			 size_t len);
/* The CSV header line (with '\n'). */
const char *socktap_csv_header(void);

/* ---- sessions ---- */

struct socktap;

enum socktap_log_level {
	SOCKTAP_LOG_WARN,
	SOCKTAP_LOG_INFO,
	SOCKTAP_LOG_DEBUG,
};
typedef void (*socktap_print_fn)(enum socktap_log_level level, const char *msg, void *ctx);

/*
 * Filters: values of one kind are OR'ed, kinds are AND'ed. Zero counts
 * mean "any". All filtering happens in the kernel, in bounded tables: at
 * most 1024 pids, 1024 uids and 1024 comms (more: socktap_open() fails
 * with -E2BIG).
 */
struct socktap_opts {
	size_t sz; /* sizeof(struct socktap_opts) */
	/* Probe patterns (socktap_pattern_match); none = all probes. */
	const char *const *probes;
	size_t probe_cnt;
	const pid_t *pids; /* processes (tgid) */
	size_t pid_cnt;
	const char *const *comms; /* exact comm (execname) */
	size_t comm_cnt;
	const uid_t *uids;
	size_t uid_cnt;
	const int *families;
	size_t family_cnt;
	const int *protocols;
	size_t protocol_cnt;
	const int *types;
	size_t type_cnt;
	/*
	 * Targets: when any is given, only these processes are traced (ANDed
	 * with the filters above). command: the argv (NULL-terminated) of a
	 * program that socktap_open() forks and holds before exec, and that
	 * socktap_start() lets run, so it is traced from its first
	 * instruction. follow_children: also trace every process a target
	 * forks after socktap_start() (always on for command).
	 */
	const pid_t *targets;
	size_t target_cnt;
	char *const *command;
	bool follow_children;
	/*
	 * Ring buffer bytes (power of two, >= page size); 0 = 4 MiB. It is
	 * mapped twice into the process, so it counts twice in RSS.
	 */
	size_t ringbuf_size;
	/* Longest a delivered event waits in the ring, ms; 0 = 50. */
	unsigned int max_latency_ms;
	socktap_print_fn print;
	void *print_ctx;
	/*
	 * Aggregation instead of events (socktap top): when non-zero, no
	 * event is delivered; the kernel counts successful sends and
	 * receives per (process, protocol, family), and
	 * socktap_snapshot_take() reads and clears the counts. Probe
	 * patterns are ignored. SOCKTAP_AGG_* flags.
	 */
	unsigned int aggregate;
	/*
	 * Mechanism: NULL or "auto" picks, per probe, the cheapest the kernel
	 * has (tracepoint < fentry < kprobe); "tracepoint", "fentry" or
	 * "kprobe" forces one (syscall hooks serve them all).
	 */
	const char *backend;
	/*
	 * Who and where (all filtered in the kernel, like the rest): addresses
	 * "ADDR" or "ADDR/PREFIX", IPv4 or IPv6, either end of the socket (or
	 * message) matching; ports, either end; cgroups by path (below the
	 * cgroup2 mount, or absolute under it): the task is in one or below.
	 * At most 256 addresses and 8 cgroups.
	 */
	const char *const *addrs;
	size_t addr_cnt;
	const int *ports;
	size_t port_cnt;
	const char *const *cgroups;
	size_t cgroup_cnt;
	/* Leave addresses out of events (they cost a little per event): all null. */
	bool no_addrs;
	/*
	 * How socktap hooks syscalls (for entry times and sizes, creation and
	 * closes). "raw": the raw sys_enter/sys_exit tracepoints, which run a
	 * program on every syscall of the machine; "per-syscall": the
	 * syscalls:sys_enter_NAME tracepoints of the syscalls it needs, so
	 * other syscalls run none, without the in-kernel fd step (which those
	 * programs cannot take; ids of sockets that moved no data then come
	 * from the socket iterators). NULL or "auto": per-syscall where the
	 * session needs no fd step or the kernel refuses it, else raw.
	 */
	const char *syscall_hooks;
	size_t : 0;
};

enum socktap_agg {
	SOCKTAP_AGG_PROCESSES = 1u << 0, /* per (pid, protocol, family) counts */
	SOCKTAP_AGG_DEVICES = 1u << 1,	 /* per network device: net_dev_xmit, netif_receive_skb */
	SOCKTAP_AGG_HIST_SIZE = 1u << 2, /* log2 histogram of send/receive sizes */
	SOCKTAP_AGG_HIST_LATENCY = 1u << 3,	/* log2 histogram of entry-to-return ns */
	SOCKTAP_AGG_HIST_BY_PROTOCOL = 1u << 4, /* histograms per protocol, not per process */
	SOCKTAP_AGG_CONNECTIONS = 1u << 5, /* per (pid, protocol, both ends): socktap_conn_row */
	SOCKTAP_AGG_CGROUPS = 1u << 6,	   /* per cgroup: socktap_cgroup_row */
	/*
	 * serve: per (process, protocol, family, type, errno), named after the
	 * thread-group leader: socktap_series_row; with HIST_SIZE/LATENCY,
	 * their histograms (socktap_series_hist) instead of per process.
	 */
	SOCKTAP_AGG_SERIES = 1u << 7,
	SOCKTAP_AGG_SERIES_CGROUP = 1u << 8, /* series per cgroup too */
	/* series count sockets made and released (socket.create, socket.close) */
	SOCKTAP_AGG_LIFECYCLE = 1u << 9,
};
#define SOCKTAP_OPTS(NAME, ...)                                                                    \
	struct socktap_opts NAME = {.sz = sizeof(struct socktap_opts), __VA_ARGS__}

/*
 * Resolve probes, check the kernel, load the BPF object (not attached).
 * Returns 0 and *out, or a negative errno:
 *   -ENOENT   a probe pattern matches nothing
 *   -EINVAL   bad options
 *   -EPERM    missing privileges (root, or CAP_BPF and CAP_PERFMON)
 *   -ENOTSUP  the kernel has no BTF or no mechanism for a requested probe
 */
int socktap_open(const struct socktap_opts *opts, struct socktap **out);
/*
 * Attach: probes fire from here on. Then, with opts.command, let the
 * command run; if it cannot be executed, returns its exec errno (e.g.
 * -ENOENT) and the command is gone.
 */
int socktap_start(struct socktap *st);
/* Add a process to the target set after start. */
int socktap_target_add(struct socktap *st, pid_t pid);
/* The command's pid; 0 without opts.command. */
pid_t socktap_command_pid(const struct socktap *st);
/*
 * Reap the command: returns 1 and its wait status once it has exited, 0
 * while it runs (nohang), or a negative errno. The command's events stay
 * in the ring until polled or drained.
 */
int socktap_command_wait(struct socktap *st, int *status, bool nohang);

/*
 * Called once per event. Return 0 to go on, or a negative errno to make
 * socktap_poll() stop and return it. The event is valid only during the
 * call.
 */
typedef int (*socktap_event_fn)(const struct socktap_event *ev, void *ctx);
/*
 * Wait up to timeout_ms (-1 forever, 0 not at all) for events, deliver
 * them all, return how many were delivered or a negative errno
 * (-EINTR when a signal interrupted the wait).
 */
int socktap_poll(struct socktap *st, int timeout_ms, socktap_event_fn fn, void *ctx);
/*
 * Stop tracing: detach every probe, so that no new event is made (a -c
 * command runs on untraced). Events already in the ring stay there for
 * socktap_drain(), and the counts stay readable. Idempotent.
 */
int socktap_stop(struct socktap *st);
/* Deliver whatever is in the ring now, without waiting. */
int socktap_drain(struct socktap *st, socktap_event_fn fn, void *ctx);
/* A descriptor that becomes readable when events wait (for epoll). */
int socktap_fd(const struct socktap *st);

struct socktap_stats {
	size_t sz;
	uint64_t delivered;    /* events passed to the callback */
	uint64_t lost;	       /* events dropped: ring buffer full */
	uint64_t lost_records; /* kernel records those came from */
};
int socktap_stats_get(const struct socktap *st, struct socktap_stats *out);

/*
 * A piece of socktap that this session runs without: a step or program
 * the kernel refused or lacks (or that SOCKTAP_REFUSE names). Everything
 * else is exact; what the piece gave is missing (null) or comes from a
 * fallback. Strings live as long as the session.
 */
struct socktap_degraded {
	size_t sz;
	const char *piece;  /* "fd_cookie", a BPF program's name, "probes" */
	const char *lost;   /* what the session lacks without it */
	const char *reason; /* why: the verifier's words, or what the kernel lacks */
};
/* The i-th such piece (from 0); -ENOENT past the last. */
int socktap_degraded_get(const struct socktap *st, unsigned int i, struct socktap_degraded *out);

/* ---- aggregation (opts.aggregate) ---- */

/* One row of socktop's table. Counts cover successful operations; errors are failures. */
struct socktap_proc_row {
	uint32_t pid, uid;
	char comm[16]; /* at the process's first counted operation */
	int32_t protocol, family;
	uint64_t sends, recvs;
	uint64_t send_bytes, recv_bytes;
	uint64_t send_errors, recv_errors;
};

/*
 * One connection: a process's traffic between two ends, on one protocol.
 * Unconnected datagram sockets: one row per destination (send) and
 * source (receive). Addresses and ports as in struct socktap_event.
 */
struct socktap_conn_row {
	uint32_t pid, uid;
	char comm[16];
	int32_t protocol, family;
	char laddr[112], raddr[112];
	int32_t lport, rport;
	uint64_t sends, recvs;
	uint64_t send_bytes, recv_bytes;
	uint64_t send_errors, recv_errors;
};

struct socktap_cgroup_row {
	uint64_t cgroup_id;
	const char *cgroup;    /* NULL: no longer exists */
	const char *container; /* NULL: none */
	uint64_t sends, recvs;
	uint64_t send_bytes, recv_bytes;
	uint64_t send_errors, recv_errors;
};

struct socktap_dev_row {
	char name[16];
	uint32_t ifindex;
	uint64_t netns; /* network namespace inode: "lo" exists in each */
	uint64_t xmits, recvs;
	uint64_t xmit_bytes, recv_bytes; /* skb->len: transmit counts the link-layer header */
};

/*
 * log2 histogram, like bpftrace's hist(): bucket 0 holds 0, bucket i >= 1
 * holds [2^(i-1), 2^i).
 */
#define SOCKTAP_HIST_BUCKETS 64
enum socktap_hist_kind {
	SOCKTAP_HIST_SIZE,    /* bytes moved by successful sends/receives */
	SOCKTAP_HIST_LATENCY, /* ns from an entry probe to its return probe */
};
struct socktap_hist {
	enum socktap_hist_kind kind;
	bool recv;	/* false: sends */
	uint32_t key;	/* pid, or protocol with SOCKTAP_AGG_HIST_BY_PROTOCOL */
	char comm[16];	/* per process: its comm */
	uint64_t count; /* sum of the buckets */
	uint64_t buckets[SOCKTAP_HIST_BUCKETS];
};
/* The bucket a value falls in. */
unsigned int socktap_hist_bucket(uint64_t value);

#define SOCKTAP_SIZE_SLOTS 23

/* serve's rows: successes in err 0's row, failures in their errno's */
struct socktap_series_row {
	uint32_t pid, uid;
	char comm[16]; /* the process's name: its thread-group leader's */
	int32_t protocol, family, type;
	int32_t err;			/* 0, or the errno of the failures counted here */
	uint64_t cgroup_id;		/* with SOCKTAP_AGG_SERIES_CGROUP, else 0 */
	const char *cgroup, *container; /* NULL: unknown; live as long as the session */
	uint64_t sends, recvs;
	uint64_t send_bytes, recv_bytes;
	uint64_t send_errors, recv_errors;
	uint64_t send_ns, recv_ns; /* sums of entry-to-return times (HIST_LATENCY) */
	uint64_t creates, closes;  /* with SOCKTAP_AGG_LIFECYCLE */
	/*
	 * err 0's row with SOCKTAP_AGG_HIST_SIZE: its size histograms, slots as
	 * socktap_series_hist's (below) for sizes up to 2^20, the last slot
	 * holding everything larger. [0] sends, [1] receives.
	 */
	uint64_t size_slots[2][SOCKTAP_SIZE_SLOTS];
};

/*
 * A series' duration histogram (HIST_LATENCY). Slots are upper-inclusive, so that each bound is
 * an exact power of two: slot 0 holds 0, slot s >= 1 holds values in
 * (2^(s-2), 2^(s-1)] (slot 1: 1, slot 2: 2, slot 3: 3..4, ...).
 */
#define SOCKTAP_SERIES_SLOTS 66
struct socktap_series_hist {
	uint32_t pid;
	int32_t protocol, family, type;
	uint64_t cgroup_id;
	enum socktap_hist_kind kind;
	bool recv;
	uint64_t count;
	uint64_t slots[SOCKTAP_SERIES_SLOTS];
};

struct socktap_snapshot {
	uint64_t ts_start, ts_end; /* CLOCK_REALTIME ns: the interval covered */
	size_t nprocs;
	struct socktap_proc_row *procs;
	size_t ndevs;
	struct socktap_dev_row *devs;
	size_t nhists;
	struct socktap_hist *hists;
	size_t nconns;
	struct socktap_conn_row *conns;
	size_t ncgroups;
	struct socktap_cgroup_row *cgroups; /* strings live as long as the session */
	size_t nseries;
	struct socktap_series_row *series;
	size_t nshists;
	struct socktap_series_hist *shists;
	/* updates that found the kernel's table full (bounded), not counted above */
	uint64_t dropped;
};

/*
 * Read and clear the kernel's counts: everything since the previous
 * snapshot (or since socktap_start()). Rows are unsorted. Free with
 * socktap_snapshot_free().
 */
int socktap_snapshot_take(struct socktap *st, struct socktap_snapshot **out);
void socktap_snapshot_free(struct socktap_snapshot *snap);

/*
 * What backs probe id in this session (its loaded mechanism, as in
 * struct socktap_backing), into buf; -ENOENT if the session does not
 * trace it.
 */
int socktap_probe_source(const struct socktap *st, enum socktap_probe_id id, char *buf, size_t len);

/* Which enabled probes the session traces (bit i = probe id i). */
uint64_t socktap_probe_mask(const struct socktap *st);

void socktap_close(struct socktap *st);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif /* SOCKTAP_H */
