// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The load step: open the BPF object, configure it from the plan, load it;
 * when the kernel refuses a piece, leave that piece out, plan again and
 * retry. Each refusal costs only its piece: a step inside a program (its
 * feat_* flag off), or one program (its probes fall back to the next
 * mechanism, or, where nothing else backs them, are dropped: an error only
 * if the caller named them).
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "session.h"
#include "syscalls.h"
#include "socktap_legacy.skel.h"

/* What libbpf said while loading: the last program it blamed and that program's verifier log. */
struct load_report {
	struct socktap *st;
	char prog[64];
	char *log;
	char what[160]; /* libbpf's own reason when there is no log (a map, a relocation) */
};

static __thread struct load_report *report;

static void note_prog(struct load_report *r, const char *msg)
{
	/* "libbpf: prog 'NAME': ..." */
	const char *p = strstr(msg, "prog '");
	if (!p)
		return;
	p += 6;
	const char *e = strchr(p, '\'');
	if (!e || (size_t)(e - p) >= sizeof(r->prog))
		return;
	memcpy(r->prog, p, (size_t)(e - p));
	r->prog[e - p] = '\0';
	const char *log = strstr(e, "-- BEGIN PROG LOAD LOG --");
	if (log) {
		free(r->log);
		r->log = strdup(log + strlen("-- BEGIN PROG LOAD LOG --"));
	} else if (!strstr(e, "failed to load: ")) {
		/* "BPF program load failed: Permission denied", "failed to relocate ..." */
		snprintf(r->what, sizeof(r->what), "%s", e + 3);
		r->what[strcspn(r->what, "\n")] = '\0';
	}
}

static int libbpf_print_tramp(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct load_report *r = report;
	char *msg = NULL;
	if (!r)
		return 0;
	/* whole: a verifier log is one message, and its last line says what failed */
	int n = vasprintf(&msg, fmt, ap);
	if (n <= 0)
		return 0;
	if (level == LIBBPF_WARN)
		note_prog(r, msg);
	if (msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	if (r->st->print)
		r->st->print(level == LIBBPF_WARN
				 ? SOCKTAP_LOG_DEBUG /* the session says what matters, once */
				 : (level == LIBBPF_INFO ? SOCKTAP_LOG_INFO : SOCKTAP_LOG_DEBUG),
			     msg, r->st->print_ctx);
	free(msg);
	return 0;
}

struct bpf_program *st_source_prog(struct socktap *st, enum st_source src)
{
	if (!st->skel || (unsigned)src >= SRC__COUNT)
		return NULL;
	const char *twin = st_sources[src].per_syscall_prog;
	return bpf_object__find_program_by_name(
	    st->skel->obj, st->syscall_tps && twin ? twin : st_sources[src].prog);
}

static volatile bool *feature_flag(struct socktap_bpf *s, enum st_feature f)
{
	switch (f) {
	case ST_FEAT_FD_COOKIE:
		return (volatile bool *)&s->rodata->feat_fd_cookie;
	case ST_FEAT_XFER_COOKIE:
		return (volatile bool *)&s->rodata->feat_xfer_cookie;
	case ST_FEAT_STACK:
		return (volatile bool *)&s->rodata->feat_stack;
	case ST_FEAT_SELFTEST:
		return (volatile bool *)&s->rodata->feat_selftest;
	case ST_FEAT_CGROUP:
		return (volatile bool *)&s->rodata->feat_cgroup;
	case ST_FEAT_MSG_ADDR:
		return (volatile bool *)&s->rodata->feat_msg_addr;
	default:
		return NULL; /* a whole program: autoload decides */
	}
}

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

/* A probe that fails to run says nothing: assume the feature, the fallback loop has the last word.
 */
static bool has_helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, id, NULL) != 0;
}

void st_probe_kernel(struct socktap *st, struct st_plan_in *in)
{
	struct st_kernel *k = &st->kernel;
	uint32_t deny = st->denied_facts; /* SOCKTAP_REFUSE, for tests */
	k->loop = !(deny >> ST_KF_LOOP & 1) && has_helper(BPF_FUNC_loop);
	k->task_btf = !(deny >> ST_KF_TASK_BTF & 1) && has_helper(BPF_FUNC_get_current_task_btf);
	/* bpf_task_pt_regs() takes a BTF-typed task */
	k->task_regs =
	    k->task_btf && !(deny >> ST_KF_TASK_REGS & 1) && has_helper(BPF_FUNC_task_pt_regs);
	k->task_storage = k->task_btf && !(deny >> ST_KF_TASK_STORAGE & 1) &&
			  libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) != 0;
	k->syscall_tp = !(deny >> ST_KF_SYSCALL_TP & 1) && st_syscall_tps_exist();
	struct st_plan would;
	st_plan_make(in, &would);
	bool lifecycle = would.probes & st_probes_lifecycle();
	if (!k->task_btf && (would.features >> ST_FEAT_FD_COOKIE & 1)) {
		/* cookie_by_fd walks a BTF-typed task's fd table */
		in->refused_features |= 1u << ST_FEAT_FD_COOKIE;
		st_add_loss(st, st_features[ST_FEAT_FD_COOKIE].name,
			    st_features[ST_FEAT_FD_COOKIE].lost,
			    "the kernel has no bpf_get_current_task_btf() (Linux >= 5.11)");
	}
	if (!k->loop && lifecycle)
		st_add_loss(st, "bpf_loop",
			    "releases by close_range, exec and exit of fds past 255 (bounded loops "
			    "instead of bpf_loop)",
			    "the kernel has no bpf_loop() (Linux >= 5.17)");
}

/* The object for this kernel: with bpf_loop(), or the legacy build without (same layout). */
static struct socktap_bpf *open_object(bool legacy)
{
	struct socktap_bpf *obj = calloc(1, sizeof(*obj));
	int err;
	if (!obj)
		return NULL;
	err = socktap_bpf__create_skeleton(obj);
	if (!err && legacy)
		obj->skeleton->data = socktap_legacy_bpf__elf_bytes(&obj->skeleton->data_sz);
	if (!err)
		err = bpf_object__open_skeleton(obj->skeleton, NULL);
	if (err) {
		socktap_bpf__destroy(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

/* Without task storage: the per-task maps become LRU hashes keyed by thread id. */
static void retype_task_maps(struct socktap_bpf *s)
{
	struct bpf_map *maps[] = {s->maps.inflight, s->maps.exec_pending, s->maps.kpstate};
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		bpf_map__set_type(maps[i], BPF_MAP_TYPE_LRU_HASH);
		bpf_map__set_map_flags(maps[i], 0);
		bpf_map__set_max_entries(maps[i], maps[i] == s->maps.exec_pending ? 1024 : 16384);
	}
}

/* The object, opened and configured for one plan (not loaded yet). */
static int configure(struct socktap *st, const struct socktap_opts *o, const struct st_plan *plan,
		     size_t rb_size, bool targeted)
{
	struct socktap_bpf *s = open_object(!st->kernel.loop);
	if (!s)
		return -errno;
	st->skel = s;
	s->rodata->feat_task_btf = st->kernel.task_btf;
	s->rodata->feat_task_storage = st->kernel.task_storage;
	s->rodata->feat_task_regs = st->kernel.task_regs;
	if (!st->kernel.task_storage)
		retype_task_maps(s);
	uint64_t m = plan->probes;
	bool counting = (st->aggregate & ~SOCKTAP_AGG_DEVICES) != 0;
	s->rodata->self_tgid = (uint32_t)getpid();
	s->rodata->want_send = (m & st_probes_send()) != 0 || counting;
	s->rodata->want_recv = (m & st_probes_recv()) != 0 || counting;
	/* the entry hook records entry times; latency needs them without entry probes */
	s->rodata->want_entry =
	    (m & st_probes_entry()) != 0 || (st->aggregate & SOCKTAP_AGG_HIST_LATENCY);
	s->rodata->want_iter = (m & st_probes_iter()) != 0;
	bool lifecycle = (st->aggregate & SOCKTAP_AGG_LIFECYCLE) != 0;
	s->rodata->want_create =
	    (m & (1ull << SOCKTAP_PROBE_CREATE | 1ull << SOCKTAP_PROBE_CREATE_RETURN)) != 0 ||
	    lifecycle;
	s->rodata->want_close =
	    (m & (1ull << SOCKTAP_PROBE_CLOSE | 1ull << SOCKTAP_PROBE_CLOSE_RETURN)) != 0 ||
	    lifecycle;
	s->rodata->filter_target = targeted;
	s->rodata->filter_pid = OPT(o, pid_cnt, 0) > 0;
	s->rodata->filter_uid = OPT(o, uid_cnt, 0) > 0;
	s->rodata->filter_comm = OPT(o, comm_cnt, 0) > 0;
	s->rodata->filter_family = OPT(o, family_cnt, 0) > 0;
	s->rodata->filter_type = OPT(o, type_cnt, 0) > 0;
	s->rodata->filter_proto = OPT(o, protocol_cnt, 0) > 0;
	uint64_t fam = 0, types = 0, protos[5] = {};
	int err;
	if ((err = set_bitmap(st, "family", OPT(o, families, NULL), OPT(o, family_cnt, 0), 64, &fam,
			      1)) ||
	    (err =
		 set_bitmap(st, "type", OPT(o, types, NULL), OPT(o, type_cnt, 0), 32, &types, 1)) ||
	    (err = set_bitmap(st, "protocol", OPT(o, protocols, NULL), OPT(o, protocol_cnt, 0), 320,
			      protos, 5)))
		return err;
	s->rodata->family_bits = fam;
	s->rodata->type_bits = (uint32_t)types;
	memcpy((void *)s->rodata->proto_bits, protos, sizeof(protos));
	for (int op = 0; op < ST_OP__COUNT; op++)
		s->rodata->fanout_xfer[op] = fanout_count(st_fanout_xfer(op), m);
	s->rodata->fanout_create = fanout_count(&st_fanout_create, m);
	s->rodata->fanout_close = fanout_count(&st_fanout_close, m);
	s->rodata->wakeup_bytes = rb_size / 4;
	s->rodata->aggregate = st->aggregate; /* SOCKTAP_AGG_* == ST_AGG_* */
	s->rodata->want_addrs = st->want_addrs;
	s->rodata->filter_port = st->filter_port;
	if (st->filter_port)
		memcpy((void *)s->rodata->port_bits, st->port_bits, sizeof(st->port_bits));
	s->rodata->filter_addr = st->nprefixes > 0;
	s->rodata->filter_cgroups = st->ncgroup_fds;
	for (int f = 0; f < ST_FEAT__COUNT; f++) {
		volatile bool *flag = feature_flag(s, f);
		if (flag)
			*flag = plan->features >> f & 1;
	}
	bpf_map__set_max_entries(s->maps.events, rb_size);
	/*
	 * Tables a session does not use shrink to one entry: preallocating
	 * 10240-entry per-CPU tables costs tens of ms of start-up and memory.
	 */
	struct bpf_map *unused[24];
	int nunused = 0;
	if (!(st->aggregate & SOCKTAP_AGG_PROCESSES)) {
		unused[nunused++] = s->maps.procs0;
		unused[nunused++] = s->maps.procs1;
	}
	if (!(st->aggregate & SOCKTAP_AGG_DEVICES)) {
		unused[nunused++] = s->maps.devs0;
		unused[nunused++] = s->maps.devs1;
	}
	/* with series, the histograms are theirs (shists) */
	if (!(st->aggregate & (SOCKTAP_AGG_HIST_SIZE | SOCKTAP_AGG_HIST_LATENCY)) ||
	    (st->aggregate & SOCKTAP_AGG_SERIES)) {
		unused[nunused++] = s->maps.hists0;
		unused[nunused++] = s->maps.hists1;
	}
	if (!(st->aggregate & SOCKTAP_AGG_SERIES)) {
		unused[nunused++] = s->maps.series0;
		unused[nunused++] = s->maps.series1;
	}
	if (!(st->aggregate & SOCKTAP_AGG_SERIES) || !(st->aggregate & SOCKTAP_AGG_HIST_LATENCY)) {
		unused[nunused++] = s->maps.shists0;
		unused[nunused++] = s->maps.shists1;
	}
	if (!(st->aggregate & SOCKTAP_AGG_CONNECTIONS)) {
		unused[nunused++] = s->maps.conns0;
		unused[nunused++] = s->maps.conns1;
		unused[nunused++] = s->maps.conn_ids0;
		unused[nunused++] = s->maps.conn_ids1;
	}
	if (!(st->aggregate & SOCKTAP_AGG_CGROUPS)) {
		unused[nunused++] = s->maps.cgroups0;
		unused[nunused++] = s->maps.cgroups1;
	}
	for (int i = 0; i < nunused; i++)
		bpf_map__set_max_entries(unused[i], 1);
	/* the syscall hooks per syscall where they serve: not with the fd step (syscalls.c) */
	st->syscall_tps = st->kernel.syscall_tp && !st->syscall_tps_refused &&
			  !(plan->features >> ST_FEAT_FD_COOKIE & 1);
	/* every program off, then the plan's on */
	struct bpf_program *p;
	bpf_object__for_each_program(p, s->obj) bpf_program__set_autoload(p, false);
	for (int i = 0; i < SRC__COUNT; i++) {
		if (!(plan->sources >> i & 1))
			continue;
		struct bpf_program *sp = st_source_prog(st, i);
		if (!sp)
			return -ENOENT; /* the table and the object disagree: a build error */
		bpf_program__set_autoload(sp, true);
	}
	for (int f = 0; f < ST_FEAT__COUNT; f++) {
		if (!st_features[f].program)
			continue;
		/* a piece may be several programs: progs is a word list */
		char names[128];
		snprintf(names, sizeof(names), "%s", st_features[f].progs);
		for (char *save, *w = strtok_r(names, " ", &save); w;
		     w = strtok_r(NULL, " ", &save))
			bpf_program__set_autoload(bpf_object__find_program_by_name(s->obj, w),
						  plan->features >> f & 1);
	}
	return 0;
}

void st_add_loss(struct socktap *st, const char *piece, const char *lost, const char *reason)
{
	if (st->nlosses >= sizeof(st->losses) / sizeof(st->losses[0]))
		return;
	struct st_loss *l = &st->losses[st->nlosses++];
	snprintf(l->piece, sizeof(l->piece), "%s", piece);
	snprintf(l->lost, sizeof(l->lost), "%s", lost);
	snprintf(l->reason, sizeof(l->reason), "%s", reason);
}

static int source_of_prog(const char *prog)
{
	for (int i = 0; i < SRC__COUNT; i++)
		if (strcmp(st_sources[i].prog, prog) == 0)
			return i;
	return -1;
}

int st_load(struct socktap *st, const struct socktap_opts *o, struct st_plan_in *in)
{
	size_t rb_size = OPT(o, ringbuf_size, 0) ?: 4u << 20;
	if (st->aggregate)
		rb_size = (size_t)sysconf(_SC_PAGESIZE); /* no records: the smallest ring */
	bool targeted = OPT(o, target_cnt, 0) > 0 || OPT(o, command, NULL);
	struct load_report rep = {.st = st};
	int err = -EINVAL;

	/* the process sets' maps are bounded (socktap_abi.h): say so, not E2BIG from a fill */
	const struct {
		const char *what;
		size_t n;
	} sets[] = {
	    {"process ids", OPT(o, pid_cnt, 0)},
	    {"uids", OPT(o, uid_cnt, 0)},
	    {"process names", OPT(o, comm_cnt, 0)},
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		if (sets[i].n > ST_FILTER_SET_MAX) {
			st_log(st, SOCKTAP_LOG_WARN, "too many %s to filter on (%zu, at most %d)",
			       sets[i].what, sets[i].n, ST_FILTER_SET_MAX);
			return -E2BIG;
		}
	}

	/* one attempt per piece that can be refused, and one that loads */
	for (int attempt = 0; attempt <= SRC__COUNT + ST_FEAT__COUNT; attempt++) {
		struct st_plan plan;
		st_plan_make(in, &plan);
		if (plan.err) {
			const char *what = plan.bad_probe >= 0 ? st_probes[plan.bad_probe].pub.name
							       : "aggregation";
			int ms = plan.missing_source;
			bool refused = ms >= 0 && (in->refused_sources >> ms & 1);
			st_log(st, SOCKTAP_LOG_WARN,
			       "probe %s: no %s%smechanism on this kernel%s%s%s%s", what,
			       in->backend ? OPT(o, backend, "") : "", in->backend ? " " : "",
			       ms >= 0 ? " (" : "", ms >= 0 ? st_sources[ms].name : "",
			       ms >= 0 ? (refused ? " refused" : " missing") : "",
			       ms >= 0 ? "; see socktap list -v)" : " (see socktap list -v)");
			err = plan.err;
			break;
		}
		err = configure(st, o, &plan, rb_size, targeted);
		if (err)
			break;
		rep.prog[0] = rep.what[0] = '\0';
		free(rep.log);
		rep.log = NULL;
		libbpf_print_fn_t prev = libbpf_set_print(libbpf_print_tramp);
		report = &rep;
		err = socktap_bpf__load(st->skel);
		report = NULL;
		libbpf_set_print(prev);
#ifdef __GLIBC__
		/*
		 * libbpf is done with vmlinux BTF (~12 MiB parsed): hand that
		 * memory back before the ring buffer is mapped, so peak RSS is
		 * the larger of the two, not their sum.
		 */
		malloc_trim(0);
#endif
		if (!err) {
			st->sources = plan.sources;
			st->features = plan.features;
			st->probe_mask = plan.probes;
			if (plan.dropped) {
				char names[256];
				size_t pos = 0;
				for (int p = 0; p < SOCKTAP_PROBE__COUNT && pos < sizeof(names);
				     p++)
					if (plan.dropped >> p & 1)
						pos += (size_t)snprintf(
						    names + pos, sizeof(names) - pos, "%s%s",
						    pos ? ", " : "", st_probes[p].pub.name);
				st_add_loss(st, "probes", names,
					    "nothing on this kernel backs them");
			}
			break;
		}
		/* which piece: a step in the refused program, else the program */
		char reason[256], vr[200];
		st_verifier_reason(rep.log, vr, sizeof(vr));
		/* the verifier's words bounded: the line fits a loss's reason (256 bytes) */
		snprintf(reason, sizeof(reason), "%s %s: %.170s",
			 rep.log ? "verifier refused" : "kernel refused",
			 rep.prog[0] ? rep.prog : "the object",
			 vr[0]	       ? vr
			 : rep.what[0] ? rep.what
				       : strerror(-err));
		int f = st_feature_blamed(rep.prog, rep.log, plan.features);
		int src = rep.prog[0] ? source_of_prog(rep.prog) : -1;
		bool syscall_tp = false;
		for (int i = 0; i < SRC__COUNT; i++)
			syscall_tp |= st_sources[i].per_syscall_prog &&
				      !strcmp(rep.prog, st_sources[i].per_syscall_prog);
		socktap_bpf__destroy(st->skel);
		st->skel = NULL;
		if (syscall_tp && st->syscall_hooks == ST_HOOKS_PER_SYSCALL) {
			st_log(st, SOCKTAP_LOG_WARN, "per-syscall hooks: %s", reason);
			break;
		} else if (syscall_tp && !st->syscall_tps_refused) {
			/* the raw syscall hooks do the same, at every syscall's cost */
			st->syscall_tps_refused = true;
			st_log(st, SOCKTAP_LOG_INFO,
			       "syscall tracepoints refused (%s): raw sys_enter/sys_exit instead",
			       reason);
		} else if (f >= 0) {
			in->refused_features |= 1u << f;
			st_add_loss(st, st_features[f].name, st_features[f].lost, reason);
		} else if (src >= 0 && (plan.sources >> src & 1)) {
			char lost[256];
			st_plan_source_loss(in, src, lost, sizeof(lost));
			in->refused_sources |= 1ull << src;
			st_add_loss(st, st_sources[src].prog, lost, reason);
		} else {
			st_log(st, SOCKTAP_LOG_WARN, "loading the BPF programs failed: %s", reason);
			break;
		}
	}
	free(rep.log);
	return err;
}
