// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Sessions: resolve probes to kernel sources, configure and load the BPF
 * object, attach, and turn ring-buffer records into tapset events.
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "session.h"

static void st_log(const struct socktap *st, enum socktap_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void st_log(const struct socktap *st, enum socktap_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!st->print)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->print(lvl, msg, st->print_ctx);
}

/* libbpf's messages (verifier logs) go to the session's print callback while it loads. */
static __thread struct socktap *libbpf_print_owner;
static int libbpf_print_tramp(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct socktap *st = libbpf_print_owner;
	char *msg = NULL;
	if (!st || !st->print)
		return 0;
	/* whole: a verifier log is one message, and its last line says what failed */
	int n = vasprintf(&msg, fmt, ap);
	if (n <= 0)
		return 0;
	if (msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	st->print(level == LIBBPF_WARN
		      ? SOCKTAP_LOG_WARN
		      : (level == LIBBPF_INFO ? SOCKTAP_LOG_INFO : SOCKTAP_LOG_DEBUG),
		  msg, st->print_ctx);
	free(msg);
	return 0;
}

/* Like libbpf's OPTS_VALID: a larger struct from a newer caller must have zeros past ours. */
static bool opts_valid(const struct socktap_opts *o)
{
	if (!o)
		return true;
	if (o->sz < offsetof(struct socktap_opts, probes))
		return false;
	for (size_t i = sizeof(*o); i < o->sz; i++)
		if (((const char *)o)[i])
			return false;
	return true;
}
#define OPT(o, field, def)                                                                         \
	((o) && (o)->sz >= offsetof(struct socktap_opts, field) + sizeof((o)->field) ? (o)->field  \
										     : (def))

/* root, or CAP_BPF + CAP_PERFMON (Linux 5.8+), or CAP_SYS_ADMIN */
static bool have_privileges(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {};
	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
#define HAS(cap) (data[(cap) / 32].effective & (1u << ((cap) % 32)))
	return HAS(21 /* CAP_SYS_ADMIN */) || (HAS(39 /* CAP_BPF */) && HAS(38 /* CAP_PERFMON */));
#undef HAS
}

int64_t st_clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * The address range of two static functions, for telling io_uring
 * READ/WRITE from SEND/RECV by the kernel stack. The end of a function
 * is the next symbol's start.
 */
static void *ksym_lookup(void *arg)
{
	struct socktap *st = arg;
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512];
	uint64_t lo = 0, *hi_out = NULL;
	if (!f)
		return NULL;
	/* "ADDR T NAME[\t[module]]": 120k lines, so no sscanf; parse ADDR only when needed */
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		if (!sp || !sp[1] || sp[2] != ' ')
			continue;
		char *name = sp + 3;
		name[strcspn(name, "\t\n")] = '\0';
		if (hi_out) {
			uint64_t addr = strtoull(line, NULL, 16);
			if (addr > lo) {
				*hi_out = addr; /* the next symbol up ends the function */
				hi_out = NULL;
			}
		}
		if (strcmp(name, "sock_write_iter") == 0) {
			lo = st->wi_lo = strtoull(line, NULL, 16);
			hi_out = lo ? &st->wi_hi : NULL;
		} else if (strcmp(name, "sock_read_iter") == 0) {
			lo = st->ri_lo = strtoull(line, NULL, 16);
			hi_out = lo ? &st->ri_hi : NULL;
		}
		if (st->wi_hi && st->ri_hi)
			break;
	}
	fclose(f);
	return NULL;
}

static int resolve_probes(struct socktap *st, const struct socktap_opts *o)
{
	const char *const *pats = OPT(o, probes, NULL);
	size_t n = OPT(o, probe_cnt, 0);
	st->probe_mask = 0;
	if (!n) {
		st->probe_mask = (1ULL << SOCKTAP_PROBE__COUNT) - 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!pats[i] || socktap_pattern_select(pats[i], &st->probe_mask) == 0) {
			st_log(st, SOCKTAP_LOG_WARN, "probe '%s' matches no socket probe point",
			       pats[i] ? pats[i] : "(null)");
			return -ENOENT;
		}
	}
	return 0;
}

#define MASK(p) (1ULL << SOCKTAP_PROBE_##p)
#define M_SEND                                                                                     \
	(MASK(SEND) | MASK(SENDMSG) | MASK(SENDMSG_RETURN) | MASK(AIO_WRITE) |                     \
	 MASK(AIO_WRITE_RETURN) | MASK(WRITEV) | MASK(WRITEV_RETURN) | MASK(WRITE_ITER) |          \
	 MASK(WRITE_ITER_RETURN))
#define M_RECV                                                                                     \
	(MASK(RECEIVE) | MASK(RECVMSG) | MASK(RECVMSG_RETURN) | MASK(AIO_READ) |                   \
	 MASK(AIO_READ_RETURN) | MASK(READV) | MASK(READV_RETURN) | MASK(READ_ITER) |              \
	 MASK(READ_ITER_RETURN))
#define M_ENTRY                                                                                    \
	(MASK(SENDMSG) | MASK(AIO_WRITE) | MASK(WRITEV) | MASK(WRITE_ITER) | MASK(RECVMSG) |       \
	 MASK(AIO_READ) | MASK(READV) | MASK(READ_ITER))
#define M_ITER                                                                                     \
	(MASK(AIO_WRITE) | MASK(AIO_WRITE_RETURN) | MASK(WRITE_ITER) | MASK(WRITE_ITER_RETURN) |   \
	 MASK(AIO_READ) | MASK(AIO_READ_RETURN) | MASK(READ_ITER) | MASK(READ_ITER_RETURN))
#define M_CREATE (MASK(CREATE) | MASK(CREATE_RETURN))
#define M_CLOSE	 (MASK(CLOSE) | MASK(CLOSE_RETURN))

static uint8_t fanout_count(const struct st_fanout *f, uint64_t mask)
{
	uint8_t n = 0;
	for (int i = 0; i < f->n; i++)
		n += !!(mask & (1ULL << f->probe[i]));
	return n;
}

static int set_bitmap(struct socktap *st, const char *what, const int *v, size_t n, int limit,
		      uint64_t *bits, size_t words)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0 || v[i] >= limit) {
			st_log(st, SOCKTAP_LOG_WARN, "%s %d out of range (0..%d)", what, v[i],
			       limit - 1);
			return -EINVAL;
		}
		if ((size_t)(v[i] / 64) < words)
			bits[v[i] / 64] |= 1ULL << (v[i] % 64);
	}
	return 0;
}

static struct bpf_program *source_prog(struct socktap_bpf *s, enum st_source src)
{
	switch (src) {
	case SRC_SEND_TP:
		return s->progs.st_send;
	case SRC_RECV_TP:
		return s->progs.st_recv;
	case SRC_SYS_ENTER:
		return s->progs.st_sys_enter;
	case SRC_SYS_EXIT:
		return s->progs.st_sys_exit;
	case SRC_PROC_EXIT:
		return s->progs.st_exit;
	case SRC_PROC_FORK:
		return s->progs.st_fork;
	case SRC_DEV_XMIT:
		return s->progs.st_dev_xmit;
	case SRC_DEV_RECV:
		return s->progs.st_dev_recv;
	case SRC_SEND_FEXIT:
		return s->progs.st_send_fexit;
	case SRC_SEND_FEXIT_OLD:
		return s->progs.st_send_fexit_old;
	case SRC_RECV_FEXIT:
		return s->progs.st_recv_fexit;
	case SRC_RECV_NOSEC_FEXIT:
		return s->progs.st_recv_nosec_fexit;
	case SRC_MMSG_FENTRY:
		return s->progs.st_mmsg_fentry;
	case SRC_MMSG_FEXIT:
		return s->progs.st_mmsg_fexit;
	case SRC_SEND_KPROBE:
		return s->progs.st_send_kprobe;
	case SRC_SEND_KRETPROBE:
		return s->progs.st_send_kretprobe;
	case SRC_SEND_KPROBE_OLD:
		return s->progs.st_send_kprobe_old;
	case SRC_SEND_KRETPROBE_OLD:
		return s->progs.st_send_kretprobe_old;
	case SRC_RECV_KPROBE:
		return s->progs.st_recv_kprobe;
	case SRC_RECV_KRETPROBE:
		return s->progs.st_recv_kretprobe;
	case SRC_RECV_NOSEC_KPROBE:
		return s->progs.st_recv_nosec_kprobe;
	case SRC_RECV_NOSEC_KRETPROBE:
		return s->progs.st_recv_nosec_kretprobe;
	case SRC_MMSG_KPROBE:
		return s->progs.st_mmsg_kprobe;
	case SRC_MMSG_KRETPROBE:
		return s->progs.st_mmsg_kretprobe;
	case SRC_KCREATE_FEXIT:
		return s->progs.st_kcreate_fexit;
	case SRC_KRELEASE_FENTRY:
		return s->progs.st_krelease_fentry;
	default:
		return NULL;
	}
}

static int fill_maps(struct socktap *st, const struct socktap_opts *o)
{
	struct socktap_bpf *s = st->skel;
	uint8_t one = 1;
	const pid_t *pids = OPT(o, pids, NULL);
	const uid_t *uids = OPT(o, uids, NULL);
	const char *const *comms = OPT(o, comms, NULL);
	const pid_t *targets = OPT(o, targets, NULL);

	for (size_t i = 0; i < OPT(o, target_cnt, 0); i++) {
		uint32_t k = (uint32_t)targets[i];
		if (targets[i] <= 0)
			return -EINVAL;
		if (bpf_map__update_elem(s->maps.targets, &k, sizeof(k), &one, 1, BPF_ANY))
			return -errno;
	}
	if (st->cmd.pid) {
		uint32_t k = (uint32_t)st->cmd.pid;
		if (bpf_map__update_elem(s->maps.targets, &k, sizeof(k), &one, 1, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < OPT(o, pid_cnt, 0); i++) {
		uint32_t k = (uint32_t)pids[i];
		if (bpf_map__update_elem(s->maps.pids, &k, sizeof(k), &one, 1, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < OPT(o, uid_cnt, 0); i++) {
		uint32_t k = (uint32_t)uids[i];
		if (bpf_map__update_elem(s->maps.uids, &k, sizeof(k), &one, 1, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < OPT(o, comm_cnt, 0); i++) {
		char k[16] = {};
		/* the kernel keeps 15 bytes of a name, like pgrep matches */
		strncpy(k, comms[i], sizeof(k) - 1);
		if (bpf_map__update_elem(s->maps.comms, k, sizeof(k), &one, 1, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t size);

int socktap_open(const struct socktap_opts *o, struct socktap **out)
{
	struct socktap *st;
	uint64_t avail = 0;
	int err;

	if (!out || !opts_valid(o))
		return -EINVAL;
	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->print = OPT(o, print, NULL);
	st->print_ctx = OPT(o, print_ctx, NULL);
	st->max_latency_ms = OPT(o, max_latency_ms, 0) ?: 50;
	st->ncpus = libbpf_num_possible_cpus();

	st->aggregate = OPT(o, aggregate, 0);
	if (st->aggregate & ~(SOCKTAP_AGG_PROCESSES | SOCKTAP_AGG_DEVICES | SOCKTAP_AGG_HIST_SIZE |
			      SOCKTAP_AGG_HIST_LATENCY | SOCKTAP_AGG_HIST_BY_PROTOCOL)) {
		err = -EINVAL;
		goto fail;
	}
	err = st->aggregate ? 0 : resolve_probes(st, o);
	if (err)
		goto fail;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		st_log(st, SOCKTAP_LOG_WARN,
		       "this kernel has no BTF (/sys/kernel/btf/vmlinux): socktap needs "
		       "CONFIG_DEBUG_INFO_BTF=y");
		err = -ENOTSUP;
		goto fail;
	}
	if (!have_privileges()) {
		st_log(st, SOCKTAP_LOG_WARN,
		       "tracing needs root, or CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)");
		err = -EPERM;
		goto fail;
	}
	const char *bname = OPT(o, backend, NULL);
	int backend = bname ? st_backend_parse(bname) : ST_BACKEND_AUTO;
	if (backend < 0) {
		st_log(st, SOCKTAP_LOG_WARN,
		       "unknown backend '%s' (auto, tracepoint, fentry or kprobe)", bname);
		err = -EINVAL;
		goto fail;
	}
	/* tracepoints first (a BTF lookup); fentry/kprobe trials only where they are needed */
	err = st_sources_available(&avail, 0);
	if (!err) {
		uint64_t need = st_probes_need(st->probe_mask, avail, backend);
		if (need & ~avail)
			err = st_sources_available(&avail, need);
	}
	if (err) {
		st_log(st, SOCKTAP_LOG_WARN, "cannot read kernel BTF: %s", strerror(-err));
		goto fail;
	}
	if (st->aggregate) {
		/* counting needs the send/receive tracepoints, latency the entry times */
		uint64_t need = 0;
		if (st->aggregate & ~SOCKTAP_AGG_DEVICES) {
			/* the send and receive sources of socket.send/socket.receive */
			uint64_t m = 1ull << SOCKTAP_PROBE_SEND | 1ull << SOCKTAP_PROBE_RECEIVE;
			uint64_t more = st_probes_need(m, avail, backend);
			if (more & ~avail)
				st_sources_available(&avail, more);
			for (int p = SOCKTAP_PROBE_SEND; p <= SOCKTAP_PROBE_RECEIVE; p++) {
				const struct st_candidate *c = st_probe_resolve(p, avail, backend);
				if (!c) {
					st_log(st, SOCKTAP_LOG_WARN,
					       "no mechanism for %s on this kernel (see socktap "
					       "list -v)",
					       st_probes[p].pub.name);
					err = -ENOTSUP;
					goto fail;
				}
				need |= c->sources;
			}
		}
		if (st->aggregate & SOCKTAP_AGG_HIST_LATENCY)
			need |= 1ull << SRC_SYS_ENTER;
		if (st->aggregate & SOCKTAP_AGG_DEVICES)
			need |= 1ull << SRC_DEV_XMIT | 1ull << SRC_DEV_RECV;
		for (int i = 0; i < SRC__COUNT; i++) {
			if ((need >> i & 1) && !(avail >> i & 1)) {
				st_log(st, SOCKTAP_LOG_WARN,
				       "%s is missing on this kernel (Linux >= %s)",
				       st_sources[i].name, st_sources[i].since);
				err = -ENOTSUP;
				goto fail;
			}
		}
		st->sources |= need;
	}
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
		if (!(st->probe_mask & (1ULL << i)))
			continue;
		const struct st_candidate *c = st_probe_resolve(i, avail, backend);
		if (!c) {
			st_log(st, SOCKTAP_LOG_WARN,
			       "probe %s: no %s%smechanism on this kernel (see socktap list -v)",
			       st_probes[i].pub.name, bname && backend ? bname : "",
			       bname && backend ? " " : "");
			err = -ENOTSUP;
			goto fail;
		}
		st->sources |= c->sources;
	}
	char *const *command = OPT(o, command, NULL);
	bool targeted = OPT(o, target_cnt, 0) > 0 || command;
	if (targeted && (OPT(o, follow_children, false) || command))
		st->sources |= 1ull << SRC_PROC_FORK;

	size_t rb_size = OPT(o, ringbuf_size, 0) ?: 4u << 20;
	if (st->aggregate)
		rb_size = (size_t)sysconf(_SC_PAGESIZE); /* no records: the smallest ring */
	long page = sysconf(_SC_PAGESIZE);
	if (rb_size < (size_t)page || (rb_size & (rb_size - 1))) {
		st_log(st, SOCKTAP_LOG_WARN, "ring buffer size %zu: must be a power of two >= %ld",
		       rb_size, page);
		err = -EINVAL;
		goto fail;
	}

	uint64_t m = st->probe_mask;
	st->want_iter = (m & M_ITER) != 0;
	if (st->want_iter && pthread_create(&st->ksym_thread, NULL, ksym_lookup, st) == 0)
		st->ksym_started = true;

	libbpf_print_fn_t prev_print = libbpf_set_print(libbpf_print_tramp);
	libbpf_print_owner = st;
	st->skel = socktap_bpf__open();
	if (!st->skel) {
		err = -errno;
		libbpf_set_print(prev_print);
		goto fail;
	}
	struct socktap_bpf *s = st->skel;
	s->rodata->self_tgid = (uint32_t)getpid();
	bool counting = (st->aggregate & ~SOCKTAP_AGG_DEVICES) != 0;
	s->rodata->want_send = (m & M_SEND) != 0 || counting;
	s->rodata->want_recv = (m & M_RECV) != 0 || counting;
	s->rodata->want_entry = (m & M_ENTRY) != 0;
	s->rodata->want_iter = st->want_iter;
	s->rodata->want_create = (m & M_CREATE) != 0;
	s->rodata->want_close = (m & M_CLOSE) != 0;
	s->rodata->filter_target = targeted;
	s->rodata->filter_pid = OPT(o, pid_cnt, 0) > 0;
	s->rodata->filter_uid = OPT(o, uid_cnt, 0) > 0;
	s->rodata->filter_comm = OPT(o, comm_cnt, 0) > 0;
	s->rodata->filter_family = OPT(o, family_cnt, 0) > 0;
	s->rodata->filter_type = OPT(o, type_cnt, 0) > 0;
	s->rodata->filter_proto = OPT(o, protocol_cnt, 0) > 0;
	uint64_t fam = 0, types = 0, protos[5] = {};
	if ((err = set_bitmap(st, "family", OPT(o, families, NULL), OPT(o, family_cnt, 0), 64, &fam,
			      1)) ||
	    (err =
		 set_bitmap(st, "type", OPT(o, types, NULL), OPT(o, type_cnt, 0), 32, &types, 1)) ||
	    (err = set_bitmap(st, "protocol", OPT(o, protocols, NULL), OPT(o, protocol_cnt, 0), 320,
			      protos, 5))) {
		libbpf_set_print(prev_print);
		goto fail;
	}
	s->rodata->family_bits = fam;
	s->rodata->type_bits = (uint32_t)types;
	memcpy((void *)s->rodata->proto_bits, protos, sizeof(protos));
	for (int op = 0; op < ST_OP__COUNT; op++)
		s->rodata->fanout_xfer[op] = fanout_count(st_fanout_xfer(op), m);
	s->rodata->fanout_create = fanout_count(&st_fanout_create, m);
	s->rodata->fanout_close = fanout_count(&st_fanout_close, m);
	s->rodata->wakeup_bytes = rb_size / 4;
	s->rodata->aggregate = st->aggregate; /* SOCKTAP_AGG_* == ST_AGG_* */
	/* the entry hook records entry times; latency needs them without entry probes */
	s->rodata->want_entry = s->rodata->want_entry || (st->aggregate & SOCKTAP_AGG_HIST_LATENCY);
	bpf_map__set_max_entries(s->maps.events, rb_size);
	/*
	 * Tables a session does not use shrink to one entry: preallocating
	 * 10240-entry per-CPU tables costs tens of ms of start-up and memory.
	 */
	struct bpf_map *unused[8];
	int nunused = 0;
	if (!(st->aggregate & SOCKTAP_AGG_PROCESSES)) {
		unused[nunused++] = s->maps.procs0;
		unused[nunused++] = s->maps.procs1;
		unused[nunused++] = s->maps.ids0;
		unused[nunused++] = s->maps.ids1;
	}
	if (!(st->aggregate & SOCKTAP_AGG_DEVICES)) {
		unused[nunused++] = s->maps.devs0;
		unused[nunused++] = s->maps.devs1;
	}
	if (!(st->aggregate & (SOCKTAP_AGG_HIST_SIZE | SOCKTAP_AGG_HIST_LATENCY))) {
		unused[nunused++] = s->maps.hists0;
		unused[nunused++] = s->maps.hists1;
	}
	for (int i = 0; i < nunused; i++)
		bpf_map__set_max_entries(unused[i], 1);
	for (int i = 0; i < SRC__COUNT; i++)
		bpf_program__set_autoload(source_prog(s, i), (st->sources >> i) & 1);
	st->want_cookies = (m & (M_CREATE | M_CLOSE)) != 0;
	bpf_program__set_autoload(s->progs.st_sock_create, st->want_cookies);

	err = socktap_bpf__load(s);
	libbpf_set_print(prev_print);
	libbpf_print_owner = NULL;
#ifdef __GLIBC__
	/*
	 * libbpf is done with vmlinux BTF (~12 MiB parsed): hand that memory
	 * back before the ring buffer is mapped, so peak RSS is the larger of
	 * the two, not their sum.
	 */
	malloc_trim(0);
#endif
	if (err) {
		st_log(st, SOCKTAP_LOG_WARN, "loading the BPF programs failed: %s", strerror(-err));
		goto fail;
	}
	if (command) {
		err = st_command_spawn(command, &st->cmd);
		if (err) {
			st_log(st, SOCKTAP_LOG_WARN, "cannot start '%s': %s", command[0],
			       strerror(-err));
			goto fail;
		}
	}
	err = fill_maps(st, o);
	if (err)
		goto fail;
	st->rb = ring_buffer__new(bpf_map__fd(s->maps.events), on_record, st, NULL);
	if (!st->rb) {
		err = -errno;
		goto fail;
	}
	st->realtime_off = st_clock_ns(CLOCK_REALTIME) - st_clock_ns(CLOCK_MONOTONIC);
	st->agg_since = (uint64_t)st_clock_ns(CLOCK_MONOTONIC);
	*out = st;
	return 0;
fail:
	socktap_close(st);
	return err;
}

/* The cgroup2 hierarchy's root, where a cgroup program sees every process. */
static int cgroup2_root(char *path, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], dir[PATH_MAX], type[64];
	int found = -ENOENT;
	if (!f)
		return -errno;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(path, len, "%s", dir);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Best effort: without it, sockets that never move data may lack a cookie. */
static void attach_cookie_maker(struct socktap *st)
{
	char path[PATH_MAX];
	if (cgroup2_root(path, sizeof(path))) {
		st_log(st, SOCKTAP_LOG_INFO,
		       "no cgroup2 mount: new inet sockets get no early cookie");
		return;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	st->cookie_link = bpf_program__attach_cgroup(st->skel->progs.st_sock_create, fd);
	if (!st->cookie_link)
		st_log(st, SOCKTAP_LOG_INFO, "cgroup/sock_create on %s: %s", path, strerror(errno));
	close(fd);
}

int socktap_start(struct socktap *st)
{
	if (!st)
		return -EINVAL;
	for (int i = 0; i < SRC__COUNT; i++) {
		if (!((st->sources >> i) & 1) || st->links[i])
			continue;
		st->links[i] = bpf_program__attach(source_prog(st->skel, i));
		if (!st->links[i]) {
			int err = -errno;
			st_log(st, SOCKTAP_LOG_WARN, "attaching %s failed: %s", st_sources[i].name,
			       strerror(-err));
			return err;
		}
	}
	if (st->want_cookies && !st->cookie_link)
		attach_cookie_maker(st);
	if (st->ksym_started) {
		pthread_join(st->ksym_thread, NULL);
		st->ksym_started = false;
		if (st->wi_hi && st->ri_hi) {
			st->skel->bss->write_iter_lo = st->wi_lo;
			st->skel->bss->read_iter_lo = st->ri_lo;
			st->skel->bss->read_iter_hi = st->ri_hi;
			/* last: the BPF side tests write_iter_hi before using any */
			__atomic_store_n(&st->skel->bss->write_iter_hi, st->wi_hi,
					 __ATOMIC_RELEASE);
		} else {
			st_log(st, SOCKTAP_LOG_INFO,
			       "no kernel symbol addresses (kptr_restrict?): io_uring READ/WRITE "
			       "on sockets count as sendmsg/recvmsg");
		}
	}
	if (st->cmd.pid && st->cmd.go_fd >= 0) {
		int err = st_command_release(&st->cmd);
		if (err) {
			st_log(st, SOCKTAP_LOG_WARN, "cannot run the command: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

pid_t socktap_command_pid(const struct socktap *st)
{
	return st ? st->cmd.pid : 0;
}

int socktap_command_wait(struct socktap *st, int *status, bool nohang)
{
	if (!st)
		return -EINVAL;
	return st_command_wait(&st->cmd, status, nohang);
}

int socktap_target_add(struct socktap *st, pid_t pid)
{
	uint32_t k = (uint32_t)pid;
	uint8_t one = 1;
	if (!st || pid <= 0)
		return -EINVAL;
	if (bpf_map__update_elem(st->skel->maps.targets, &k, sizeof(k), &one, 1, BPF_ANY))
		return -errno;
	return 0;
}

/* ---- records to events ---- */

static int deliver(struct socktap *st, struct socktap_event *ev, enum socktap_probe_id id)
{
	if (!(st->probe_mask & (1ULL << id)))
		return 0;
	ev->probe = id;
	ev->name = st_probes[id].pub.name;
	st->delivered++;
	int ret = st->fn ? st->fn(ev, st->fn_ctx) : 0;
	if (ret < 0 && !st->fn_err)
		st->fn_err = ret;
	return ret;
}

static void event_base(const struct socktap *st, const struct st_rec *r, struct socktap_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->uid = r->uid;
	ev->cpu = r->cpu;
	memcpy(ev->comm, r->comm, sizeof(ev->comm));
	ev->comm[sizeof(ev->comm) - 1] = '\0';
	ev->sock = r->cookie;
	ev->fd = r->fd;
	ev->protocol = r->protocol;
	ev->family = r->family;
	ev->state = r->state;
	ev->type = r->type;
	ev->flags = r->sflags;
	ev->requester = r->origin;
	(void)st;
}

static uint64_t realtime(const struct socktap *st, uint64_t mono)
{
	return mono + (uint64_t)st->realtime_off;
}

static int on_xfer(struct socktap *st, const struct st_rec *r)
{
	const struct st_fanout *f = st_fanout_xfer(r->op);
	struct socktap_event ev;
	if (!f)
		return 0;
	for (int i = 0; i < f->n; i++) {
		enum socktap_probe_id id = f->probe[i];
		event_base(st, r, &ev);
		ev.known = st_probes[id].pub.values;
		if (f->at_entry[i]) {
			ev.ts = realtime(st, r->ts_enter);
			ev.size = r->size_req;
			if (!(r->rflags & ST_RF_SIZE_REQ))
				ev.known &= ~SOCKTAP_V_SIZE;
		} else {
			ev.ts = realtime(st, r->ts);
			ev.size = r->ret;
			ev.success = r->ret >= 0;
		}
		if (deliver(st, &ev, id) < 0)
			return -1;
	}
	return 0;
}

static int on_create(struct socktap *st, const struct st_rec *r)
{
	struct socktap_event ev;
	int count = r->op == 2 ? 2 : 1;
	for (int n = 0; n < count; n++) {
		for (int i = 0; i < st_fanout_create.n; i++) {
			enum socktap_probe_id id = st_fanout_create.probe[i];
			event_base(st, r, &ev);
			ev.known = st_probes[id].pub.values;
			/*
			 * One socket: create at syscall entry, create.return at exit.
			 * socketpair: the first pair at entry, the second at exit.
			 */
			uint64_t t = count == 1
					 ? (st_fanout_create.at_entry[i] ? r->ts_enter : r->ts)
					 : (n == 0 ? r->ts_enter : r->ts);
			ev.ts = realtime(st, t);
			ev.fd = n == 0 ? r->fd : r->fd2;
			ev.sock = n == 0 ? r->cookie : r->cookie2;
			ev.err = r->ret < 0 ? r->ret : 0;
			ev.success = r->ret >= 0;
			if (deliver(st, &ev, id) < 0)
				return -1;
		}
	}
	return 0;
}

static int on_close(struct socktap *st, const struct st_rec *r)
{
	struct socktap_event ev;
	for (int i = 0; i < st_fanout_close.n; i++) {
		enum socktap_probe_id id = st_fanout_close.probe[i];
		event_base(st, r, &ev);
		ev.known = st_probes[id].pub.values;
		if (!(r->rflags & ST_RF_SOCK_VALS))
			ev.known &= ~SOCKTAP_V_PROTOCOL; /* a dropped socket of default protocol */
		ev.ts = realtime(st, st_fanout_close.at_entry[i] ? r->ts_enter : r->ts);
		if (deliver(st, &ev, id) < 0)
			return -1;
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct socktap *st = ctx;
	const struct st_rec *r = data;
	int ret = 0;
	if (size < sizeof(*r))
		return 0; /* never stop the ring for a record we cannot read */
	switch (r->kind) {
	case ST_REC_XFER:
		ret = on_xfer(st, r);
		break;
	case ST_REC_CREATE:
		ret = on_create(st, r);
		break;
	case ST_REC_CLOSE:
		ret = on_close(st, r);
		break;
	}
	/* stop consuming only when the caller's callback asked to */
	return ret < 0 ? st->fn_err : 0;
}

static int run_ring(struct socktap *st, int timeout_ms, socktap_event_fn fn, void *ctx)
{
	uint64_t before = st->delivered;
	st->fn = fn;
	st->fn_ctx = ctx;
	st->fn_err = 0;
	int err =
	    timeout_ms == 0 ? ring_buffer__consume(st->rb) : ring_buffer__poll(st->rb, timeout_ms);
	/* records whose producer chose not to wake us: take them as well */
	if (err >= 0 && timeout_ms != 0 && !st->fn_err)
		err = ring_buffer__consume(st->rb);
	st->fn = NULL;
	if (st->fn_err)
		return st->fn_err;
	if (err < 0)
		return err;
	uint64_t n = st->delivered - before;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int socktap_poll(struct socktap *st, int timeout_ms, socktap_event_fn fn, void *ctx)
{
	if (!st)
		return -EINVAL;
	/* the kernel side wakes us only when the ring fills: poll at least this often */
	int slice = (int)st->max_latency_ms;
	if (timeout_ms >= 0 && timeout_ms < slice)
		return run_ring(st, timeout_ms, fn, ctx);
	int64_t deadline =
	    timeout_ms < 0 ? -1 : st_clock_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000LL;
	for (;;) {
		int n = run_ring(st, slice, fn, ctx);
		if (n != 0)
			return n;
		if (deadline >= 0) {
			int64_t left = (deadline - st_clock_ns(CLOCK_MONOTONIC)) / 1000000;
			if (left <= 0)
				return 0;
			if (left < slice)
				slice = (int)left;
		}
	}
}

int socktap_drain(struct socktap *st, socktap_event_fn fn, void *ctx)
{
	if (!st)
		return -EINVAL;
	return run_ring(st, 0, fn, ctx);
}

int socktap_fd(const struct socktap *st)
{
	return st && st->rb ? ring_buffer__epoll_fd(st->rb) : -EINVAL;
}

uint64_t socktap_probe_mask(const struct socktap *st)
{
	return st ? st->probe_mask : 0;
}

/* A per-CPU counter, summed over the CPUs (0 if unreadable). */
uint64_t st_counter_sum(const struct socktap *st, uint32_t key)
{
	uint64_t sum = 0, *vals;
	if (!st->skel || !(vals = calloc((size_t)st->ncpus, sizeof(*vals))))
		return 0;
	if (bpf_map__lookup_elem(st->skel->maps.counters, &key, sizeof(key), vals,
				 sizeof(*vals) * (size_t)st->ncpus, 0) == 0)
		for (int c = 0; c < st->ncpus; c++)
			sum += vals[c];
	free(vals);
	return sum;
}

int socktap_stats_get(const struct socktap *st, struct socktap_stats *out)
{
	if (!st || !out || out->sz < sizeof(*out))
		return -EINVAL;
	out->delivered = st->delivered;
	out->lost_records = st_counter_sum(st, ST_CNT_LOST_RECORDS);
	out->lost = st_counter_sum(st, ST_CNT_LOST_EVENTS);
	return 0;
}

void socktap_close(struct socktap *st)
{
	if (!st)
		return;
	if (st->ksym_started)
		pthread_join(st->ksym_thread, NULL);
	st_command_abandon(&st->cmd);
	for (int i = 0; i < SRC__COUNT; i++)
		bpf_link__destroy(st->links[i]);
	bpf_link__destroy(st->cookie_link);
	ring_buffer__free(st->rb);
	socktap_bpf__destroy(st->skel);
	free(st);
}
