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
#include "cgroup.h"
#include "session.h"
#include "syscalls.h"
#include "who.h"

void st_log(const struct socktap *st, enum socktap_log_level lvl, const char *fmt, ...)
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

/*
 * Who and where: the address, port and cgroup filters, checked here (one
 * message naming the bad value), and the cgroup names' cache.
 */
static int who_opts(struct socktap *st, const struct socktap_opts *o)
{
	const char *const *addrs = OPT(o, addrs, NULL);
	const int *ports = OPT(o, ports, NULL);
	const char *const *cgroups = OPT(o, cgroups, NULL);
	size_t naddrs = OPT(o, addr_cnt, 0), nports = OPT(o, port_cnt, 0);
	size_t ncgroups = OPT(o, cgroup_cnt, 0);

	st->want_addrs = !st->aggregate && !OPT(o, no_addrs, false);
	if (naddrs > sizeof(st->prefixes) / sizeof(st->prefixes[0])) {
		st_log(st, SOCKTAP_LOG_WARN, "too many addresses to filter on (%zu, at most %zu)",
		       naddrs, sizeof(st->prefixes) / sizeof(st->prefixes[0]));
		return -EINVAL;
	}
	for (size_t i = 0; i < naddrs; i++) {
		struct st_prefix *p = &st->prefixes[st->nprefixes++];
		if (!addrs[i] || !st_prefix_parse(addrs[i], p->addr, &p->len)) {
			st_log(st, SOCKTAP_LOG_WARN,
			       "bad address '%s': expected an IPv4 or IPv6 address, optionally "
			       "/PREFIX",
			       addrs[i] ? addrs[i] : "(null)");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < nports; i++) {
		if (ports[i] < 0 || ports[i] > 65535) {
			st_log(st, SOCKTAP_LOG_WARN, "bad port %d: must be 0 to 65535", ports[i]);
			return -EINVAL;
		}
		st->port_bits[ports[i] / 64] |= 1ull << (ports[i] % 64);
		st->filter_port = true;
	}
	/* without a cgroup2 mount, events carry the id alone */
	if (st_cgroups_open(NULL, &st->cgroups) < 0)
		st->cgroups = NULL;
	if (ncgroups > sizeof(st->cgroup_fds) / sizeof(st->cgroup_fds[0])) {
		st_log(st, SOCKTAP_LOG_WARN, "too many cgroups to filter on (%zu, at most %zu)",
		       ncgroups, sizeof(st->cgroup_fds) / sizeof(st->cgroup_fds[0]));
		return -EINVAL;
	}
	for (size_t i = 0; i < ncgroups; i++) {
		uint64_t id;
		int fd = -1, err = -ENOENT;
		if (cgroups[i] && st->cgroups)
			err = st_cgroups_lookup(st->cgroups, cgroups[i], &fd, &id);
		if (err) {
			st_log(st, SOCKTAP_LOG_WARN, "no cgroup '%s'%s%s%s",
			       cgroups[i] ? cgroups[i] : "(null)",
			       st->cgroups ? " under " : ": no cgroup2 mount",
			       st->cgroups ? st_cgroups_mount(st->cgroups) : "",
			       err == -ENOENT || !st->cgroups ? "" : " (not a cgroup directory)");
			return -EINVAL;
		}
		st->cgroup_fds[st->ncgroup_fds++] = fd;
	}
	return 0;
}

static int fill_who_maps(struct socktap *st)
{
	struct socktap_bpf *s = st->skel;
	uint8_t one = 1;
	for (unsigned int i = 0; i < st->nprefixes; i++) {
		struct {
			uint32_t prefixlen;
			uint8_t addr[16];
		} k = {st->prefixes[i].len, {0}};
		memcpy(k.addr, st->prefixes[i].addr, 16);
		if (bpf_map__update_elem(s->maps.addr_filter, &k, sizeof(k), &one, 1, BPF_ANY))
			return -errno;
	}
	for (unsigned int i = 0; i < st->ncgroup_fds; i++) {
		uint32_t fd = (uint32_t)st->cgroup_fds[i];
		if (bpf_map__update_elem(s->maps.cgroup_filter, &i, sizeof(i), &fd, sizeof(fd),
					 BPF_ANY))
			return -errno;
	}
	return 0;
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
	return fill_who_maps(st);
}

/* SOCKTAP_REFUSE: pieces to treat as refused, so tests can walk every degraded path. */
static int refusals(struct socktap *st, struct st_plan_in *in)
{
	const char *spec = getenv("SOCKTAP_REFUSE"), *bad = NULL;
	size_t bad_len = 0;
	if (!spec || !*spec)
		return 0;
	if (st_refuse_parse(spec, &in->refused_features, &in->refused_sources, &st->denied_facts,
			    &bad, &bad_len)) {
		/* the words, from the tables they name */
		char words[256];
		size_t pos = 0;
		for (int f = 0; f < ST_FEAT__COUNT && pos < sizeof(words); f++)
			pos += (size_t)snprintf(words + pos, sizeof(words) - pos, "%s%s",
						pos ? ", " : "", st_features[f].name);
		for (int k = 0; k < ST_KF__COUNT && pos < sizeof(words); k++)
			pos += (size_t)snprintf(words + pos, sizeof(words) - pos, ", %s",
						st_kernel_facts[k]);
		st_log(st, SOCKTAP_LOG_WARN,
		       "SOCKTAP_REFUSE: unknown piece '%.*s' (%s, or a BPF program's name)",
		       (int)bad_len, bad, words);
		return -EINVAL;
	}
	/* say what the session loses, as for a real refusal: only pieces it would have used */
	struct st_plan_in all = *in;
	struct st_plan would;
	all.refused_features = 0;
	all.refused_sources = 0;
	st_plan_make(&all, &would);
	for (int f = 0; f < ST_FEAT__COUNT; f++)
		if ((in->refused_features & would.features) >> f & 1)
			st_add_loss(st, st_features[f].name, st_features[f].lost,
				    "refused by SOCKTAP_REFUSE");
	for (int i = 0; i < SRC__COUNT; i++) {
		if (!((in->refused_sources & would.sources) >> i & 1))
			continue;
		char lost[256];
		all.refused_sources = in->refused_sources & ((1ull << i) - 1);
		st_plan_source_loss(&all, i, lost, sizeof(lost));
		st_add_loss(st, st_sources[i].prog, lost, "refused by SOCKTAP_REFUSE");
	}
	return 0;
}

/* Optional programs whose kernel side may be missing: known from BTF, before any load. */
static void kernel_lacks(struct socktap *st, struct st_plan_in *in)
{
	static const int feats[] = {ST_FEAT_ITER_UNIX, ST_FEAT_ITER_NETLINK};
	int found = st_btf_has_iterators();
	struct st_plan would;
	st_plan_make(in, &would);
	if (!(would.features & (1u << ST_FEAT_ITER_UNIX | 1u << ST_FEAT_ITER_NETLINK)))
		return;
	if (found < 0)
		found = 3; /* not looked up: let the load say */
	for (int i = 0; i < 2; i++) {
		if (found >> i & 1 || in->refused_features >> feats[i] & 1)
			continue;
		char why[96];
		snprintf(why, sizeof(why), "the kernel has no %s iterator (Linux >= %s)",
			 i ? "netlink" : "unix", i ? "5.9" : "5.17");
		in->refused_features |= 1u << feats[i];
		st_add_loss(st, st_features[feats[i]].name, st_features[feats[i]].lost, why);
	}
}

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
			      SOCKTAP_AGG_HIST_LATENCY | SOCKTAP_AGG_HIST_BY_PROTOCOL |
			      SOCKTAP_AGG_CONNECTIONS | SOCKTAP_AGG_CGROUPS | SOCKTAP_AGG_SERIES |
			      SOCKTAP_AGG_SERIES_CGROUP | SOCKTAP_AGG_LIFECYCLE)) {
		err = -EINVAL;
		goto fail;
	}
	err = st->aggregate ? 0 : resolve_probes(st, o);
	if (!err)
		err = who_opts(st, o);
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
	size_t rb_size = OPT(o, ringbuf_size, 0) ?: 4u << 20;
	long page = sysconf(_SC_PAGESIZE);
	if (!st->aggregate && (rb_size < (size_t)page || (rb_size & (rb_size - 1)))) {
		st_log(st, SOCKTAP_LOG_WARN, "ring buffer size %zu: must be a power of two >= %ld",
		       rb_size, page);
		err = -EINVAL;
		goto fail;
	}
	/* tracepoints first (a BTF lookup); fentry/kprobe trials only where they are needed */
	err = st_sources_available(&avail, 0);
	if (!err) {
		uint64_t want = st->aggregate
				    ? 1ull << SOCKTAP_PROBE_SEND | 1ull << SOCKTAP_PROBE_RECEIVE
				    : st->probe_mask;
		uint64_t need = st_probes_need(want, avail, backend);
		if (need & ~avail)
			err = st_sources_available(&avail, need);
	}
	if (err) {
		st_log(st, SOCKTAP_LOG_WARN, "cannot read kernel BTF: %s", strerror(-err));
		goto fail;
	}
	char *const *command = OPT(o, command, NULL);
	struct st_plan_in in = {
	    .probes = st->probe_mask,
	    .probes_explicit = OPT(o, probe_cnt, 0) > 0,
	    .aggregate = st->aggregate,
	    .backend = backend,
	    .avail = avail,
	    .follow = (OPT(o, target_cnt, 0) > 0 && OPT(o, follow_children, false)) || command,
	    .selftest = getenv("SOCKTAP_TEST_REFUSAL") != NULL,
	    .addrs = st->want_addrs || (st->aggregate & SOCKTAP_AGG_CONNECTIONS) ||
		     st->filter_port || st->nprefixes,
	};
	err = refusals(st, &in);
	if (err)
		goto fail;
	/*
	 * Fork the command before loading: fork copies the fd table sized to
	 * our open fds, and once the maps, programs and links are open (past
	 * 64) the child's table would never be the embedded one that the fd
	 * step needs (cookie_by_fd() in src/bpf/sockid.bpf.h). Before the
	 * ksym thread, too: the child forks from a single-threaded process.
	 */
	if (command) {
		err = st_command_spawn(command, &st->cmd);
		if (err) {
			st_log(st, SOCKTAP_LOG_WARN, "cannot start '%s': %s", command[0],
			       strerror(-err));
			goto fail;
		}
	}
	kernel_lacks(st, &in);
	st_probe_kernel(st, &in);
	err = st_syscall_hooks_choose(st, &in, OPT(o, syscall_hooks, NULL));
	if (err)
		goto fail;
	st->want_iter = (st->probe_mask & st_probes_iter()) != 0;
	if (st->want_iter && pthread_create(&st->ksym_thread, NULL, ksym_lookup, st) == 0)
		st->ksym_started = true;
	err = st_load(st, o, &in);
	if (err)
		goto fail;
	st->want_iter = (st->probe_mask & st_probes_iter()) && (st->features >> ST_FEAT_STACK & 1);
	st->want_cookies = st->features >> ST_FEAT_COOKIE_MAKER & 1;
	err = fill_maps(st, o);
	if (err)
		goto fail;
	st->rb = ring_buffer__new(bpf_map__fd(st->skel->maps.events), st_on_record, st, NULL);
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

int socktap_degraded_get(const struct socktap *st, unsigned int i, struct socktap_degraded *out)
{
	if (!st || !out || out->sz < sizeof(*out))
		return -EINVAL;
	if (i >= st->nlosses)
		return -ENOENT;
	out->piece = st->losses[i].piece;
	out->lost = st->losses[i].lost;
	out->reason = st->losses[i].reason;
	return 0;
}

/* The cgroup2 hierarchy's root, where a cgroup program sees every process. */
/* Best effort: without it, sockets that never move data may lack a cookie. */
static void attach_cookie_maker(struct socktap *st)
{
	if (!st->cgroups) {
		st_log(st, SOCKTAP_LOG_INFO,
		       "no cgroup2 mount: new inet sockets get no early cookie");
		return;
	}
	int fd = open(st_cgroups_mount(st->cgroups), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	st->cookie_link = bpf_program__attach_cgroup(st->skel->progs.st_sock_create, fd);
	if (!st->cookie_link)
		st_log(st, SOCKTAP_LOG_INFO, "cgroup/sock_create on %s: %s",
		       st_cgroups_mount(st->cgroups), strerror(errno));
	close(fd);
}

/*
 * The socket iterators, attached once; then one pass that makes the id of
 * every unix and netlink socket that exists already (a socket is iterated
 * whether or not it is traced: ids are cheap and change nothing), so that
 * the first event of such a socket has one even if it moves no data.
 */
static void attach_id_iters(struct socktap *st)
{
	static const int feats[] = {ST_FEAT_ITER_UNIX, ST_FEAT_ITER_NETLINK};
	for (int k = 0; k < 2; k++) {
		if (!(st->features >> feats[k] & 1) || st->iter_links[k])
			continue;
		struct bpf_program *p =
		    bpf_object__find_program_by_name(st->skel->obj, st_features[feats[k]].progs);
		st->iter_links[k] = bpf_program__attach_iter(p, NULL);
		if (!st->iter_links[k]) {
			char why[128];
			snprintf(why, sizeof(why), "attaching it failed: %s", strerror(errno));
			st_add_loss(st, st_features[feats[k]].name, st_features[feats[k]].lost,
				    why);
			continue;
		}
		st->skel->bss->id_make_all = true;
		st_run_id_iter(st, k);
		st->skel->bss->id_make_all = false;
	}
}

/*
 * Received datagrams' sources: the tracepoint, and the cgroup hooks at the
 * cgroup2 root (every task is below it). Without them, an unconnected
 * socket's receives have no raddr.
 */
static void attach_dgram_src(struct socktap *st)
{
	const struct st_feature_def *f = &st_features[ST_FEAT_DGRAM_SRC];
	if (!(st->features >> ST_FEAT_DGRAM_SRC & 1) || st->dgram_links[0])
		return;
	int fd = st->cgroups
		     ? open(st_cgroups_mount(st->cgroups), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
		     : -1;
	const char *why = "no cgroup2 mount";
	if (fd >= 0) {
		st->dgram_links[0] = bpf_program__attach(st->skel->progs.st_dgram_src);
		st->dgram_links[1] = bpf_program__attach_cgroup(st->skel->progs.st_recvmsg4, fd);
		st->dgram_links[2] = bpf_program__attach_cgroup(st->skel->progs.st_recvmsg6, fd);
		why = strerror(errno);
		close(fd);
	}
	if (!st->dgram_links[0] || !st->dgram_links[1] || !st->dgram_links[2]) {
		char reason[128];
		snprintf(reason, sizeof(reason), "attaching it failed: %s", why);
		st_add_loss(st, f->name, f->lost, reason);
		for (int i = 0; i < 3; i++) {
			bpf_link__destroy(st->dgram_links[i]);
			st->dgram_links[i] = NULL;
		}
	}
}

int socktap_start(struct socktap *st)
{
	if (!st)
		return -EINVAL;
	for (int i = 0; i < SRC__COUNT; i++) {
		if (!((st->sources >> i) & 1) || st->links[i])
			continue;
		if (st->syscall_tps && (i == SRC_SYS_ENTER || i == SRC_SYS_EXIT)) {
			int err = st_syscall_tps_attach(st, i == SRC_SYS_EXIT);
			if (err)
				return err;
			continue;
		}
		st->links[i] = bpf_program__attach(st_source_prog(st, i));
		if (!st->links[i]) {
			int err = -errno;
			st_log(st, SOCKTAP_LOG_WARN, "attaching %s failed: %s", st_sources[i].name,
			       strerror(-err));
			return err;
		}
	}
	if (st->want_cookies && !st->cookie_link)
		attach_cookie_maker(st);
	attach_id_iters(st);
	attach_dgram_src(st);
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

int socktap_stop(struct socktap *st)
{
	if (!st)
		return -EINVAL;
	for (int i = 0; i < SRC__COUNT; i++) {
		bpf_link__destroy(st->links[i]);
		st->links[i] = NULL;
	}
	st_syscall_tps_detach(st);
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
	st_syscall_tps_detach(st);
	bpf_link__destroy(st->cookie_link);
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(st->dgram_links[i]);
	bpf_link__destroy(st->iter_links[0]);
	bpf_link__destroy(st->iter_links[1]);
	ring_buffer__free(st->rb);
	socktap_bpf__destroy(st->skel);
	for (unsigned int i = 0; i < st->ncgroup_fds; i++)
		close(st->cgroup_fds[i]);
	st_cgroups_free(st->cgroups);
	free(st);
}

int socktap_probe_source(const struct socktap *st, enum socktap_probe_id id, char *buf, size_t len)
{
	if (!st || !buf || !len || (unsigned)id >= SOCKTAP_PROBE__COUNT)
		return -EINVAL;
	buf[0] = '\0';
	/* the first candidate whose sources the session loaded all of */
	for (int k = 0; k < ST_MAX_CANDIDATES && st_probes[id].cand[k].sources; k++) {
		uint64_t want = st_probes[id].cand[k].sources;
		if (want & ~st->sources)
			continue;
		size_t n = 0;
		for (int i = 0; i < SRC__COUNT && n < len; i++)
			if (want >> i & 1)
				n += snprintf(buf + n, len - n, "%s%s", n ? " + " : "",
					      st_source_name(st, i));
		return 0;
	}
	return -ENOENT;
}
