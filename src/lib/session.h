/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Internal: a session's state, shared by session.c and aggregate.c. */
#ifndef SOCKTAP_SESSION_H
#define SOCKTAP_SESSION_H

#include <pthread.h>
#include <stdint.h>
#include "command.h"
#include "plan.h"
#include "probes.h"
#include "socktap.skel.h"

struct socktap {
	struct socktap_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[SRC__COUNT];
	/* syscall_tps: SRC_SYS_ENTER/EXIT are per-syscall tracepoints (syscalls.c), linked here */
	bool syscall_tps, syscall_tps_refused;
	int syscall_hooks; /* enum st_syscall_hooks: what the session asked for */
#define ST_SYSCALL_LINKS 24
	struct bpf_link *syscall_links[2][ST_SYSCALL_LINKS];
	struct bpf_link *cookie_link; /* cgroup/sock_create: cookies for new inet sockets */
	bool want_cookies;
	struct bpf_link *dgram_links[3]; /* st_dgram_src, st_recvmsg4/6: datagrams' sources */
	uint64_t probe_mask;
	uint64_t sources;
	uint32_t features; /* optional steps kept (enum st_feature) */
	/* what the kernel offers the programs, from feature probes (load.c) */
	struct st_kernel {
		bool loop;	   /* bpf_loop(), else the legacy object */
		bool task_btf;	   /* bpf_get_current_task_btf() */
		bool task_storage; /* BPF_MAP_TYPE_TASK_STORAGE, else LRU hashes by tid */
		bool task_regs;	   /* bpf_task_pt_regs() */
		bool syscall_tp;   /* syscalls:sys_enter_* tracepoints (CONFIG_FTRACE_SYSCALLS) */
	} kernel;
	uint32_t denied_facts; /* SOCKTAP_REFUSE: kernel facts to pretend absent */
	/* pieces the session runs without: what is lost and why */
	struct st_loss {
		char piece[32];
		char lost[256];
		char reason[256];
	} losses[8];
	unsigned int nlosses;
	/* socket iterators that make ids for user space (st_iter_unix, st_iter_netlink) */
	struct bpf_link *iter_links[2];
	/* ids made that way: (pid, inode) -> cookie, for the socket's close record (decode.c) */
	struct st_made_cookie {
		uint32_t pid, ino;
		uint64_t cookie;
	} made[64];
	unsigned int made_next;
	bool want_iter;
	int64_t realtime_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	unsigned int max_latency_ms;
	socktap_print_fn print;
	void *print_ctx;
	/* during a poll */
	socktap_event_fn fn;
	void *fn_ctx;
	int fn_err;
	uint64_t delivered;
	int ncpus;
	/* kallsyms lookup, run while the object loads */
	pthread_t ksym_thread;
	bool ksym_started;
	uint64_t wi_lo, wi_hi, ri_lo, ri_hi;
	struct st_command cmd;
	/* who and where */
	struct st_cgroups *cgroups; /* cgroup id -> path; NULL without a cgroup2 mount */
	bool want_addrs;	    /* addresses in records (not socktap_opts.no_addrs) */
	bool filter_port;
	uint64_t port_bits[1024]; /* --port: bit p for port p */
	struct st_prefix {
		uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
		unsigned int len;
	} prefixes[ST_FILTER_ADDR_MAX];
	unsigned int nprefixes;
	int cgroup_fds[ST_FILTER_CGROUP_MAX]; /* --cgroup: directories, for the cgroup array */
	unsigned int ncgroup_fds;
	/* aggregation */
	unsigned int aggregate;
	uint64_t agg_since;   /* CLOCK_MONOTONIC ns of the last snapshot */
	uint64_t agg_dropped; /* per-CPU counter total already reported */
};

/* An option of a caller's (possibly older, smaller) socktap_opts, or def. */
#define OPT(o, field, def)                                                                         \
	((o) && (o)->sz >= offsetof(struct socktap_opts, field) + sizeof((o)->field) ? (o)->field  \
										     : (def))

int64_t st_clock_ns(clockid_t c);
void st_log(const struct socktap *st, enum socktap_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void st_add_loss(struct socktap *st, const char *piece, const char *lost, const char *reason);

/* load.c: open, configure and load the BPF object, leaving out what the kernel refuses */
int st_load(struct socktap *st, const struct socktap_opts *o, struct st_plan_in *in);
/* Feature probes: fills st->kernel, and refuses the steps it rules out (with their losses). */
void st_probe_kernel(struct socktap *st, struct st_plan_in *in);
struct bpf_program *st_source_prog(struct socktap *st, enum st_source src);

/* decode.c: ring-buffer records to events */
int st_on_record(void *ctx, void *data, size_t size);
/* Run socket iterator k (0 unix, 1 netlink): makes the ids id_wanted asks for (or all). */
int st_run_id_iter(struct socktap *st, int k);
uint64_t st_counter_sum(const struct socktap *st, uint32_t key);

#endif
