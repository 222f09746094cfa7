// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The plan (probes + kernel facts -> programs and optional steps), how a
 * refusal is traced to its piece, and that the source table, the feature
 * table and the BPF object agree. No kernel, no privileges: the skeleton is
 * opened, never loaded.
 */
#include "testlib.h"
#include "plan.h"
#include "socktap.skel.h"
#include "socktap_legacy.skel.h"

#define S(x)  (1ull << (x))
#define PR(x) (1ull << SOCKTAP_PROBE_##x)
#define ALLP  ((1ull << SOCKTAP_PROBE__COUNT) - 1)

static uint64_t tracepoints(void)
{
	uint64_t m = 0;
	for (int i = 0; i < SRC__COUNT; i++)
		if (st_sources[i].kind == SRCK_TRACEPOINT)
			m |= S(i);
	return m;
}

static void run(void)
{
	const uint64_t tp = tracepoints(), all = (1ull << SRC__COUNT) - 1;

	SUBTEST("plan: all probes on a tracepoint kernel need the tracepoints and every step")
	{
		struct st_plan_in in = {.probes = ALLP, .avail = tp};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.err, 0, "no error");
		ASSERT_EQ(p.probes, ALLP, "every probe");
		ASSERT_EQ(p.dropped, 0, "none dropped");
		ASSERT_EQ(p.sources,
			  S(SRC_SEND_TP) | S(SRC_RECV_TP) | S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT) |
			      S(SRC_PROC_EXIT),
			  "sources");
		ASSERT_EQ(p.features,
			  1u << ST_FEAT_FD_COOKIE | 1u << ST_FEAT_XFER_COOKIE |
			      1u << ST_FEAT_STACK | 1u << ST_FEAT_COOKIE_MAKER |
			      1u << ST_FEAT_ITER_UNIX | 1u << ST_FEAT_ITER_NETLINK |
			      1u << ST_FEAT_CGROUP,
			  "steps");
	}

	SUBTEST("plan: addresses add the message and datagram-source pieces, not the entry hook")
	{
		struct st_plan_in in = {.probes = PR(SEND) | PR(RECEIVE),
					.probes_explicit = true,
					.avail = tp,
					.addrs = true};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.sources, S(SRC_SEND_TP) | S(SRC_RECV_TP),
			  "no syscall hook for sendmmsg's message index");
		ASSERT_EQ(p.features,
			  1u << ST_FEAT_XFER_COOKIE | 1u << ST_FEAT_CGROUP |
			      1u << ST_FEAT_MSG_ADDR | 1u << ST_FEAT_DGRAM_SRC,
			  "steps");
		in.probes |= PR(SENDMSG);
		st_plan_make(&in, &p);
		ASSERT_EQ(p.sources & S(SRC_SYS_ENTER), S(SRC_SYS_ENTER),
			  "an entry probe brings the hook, which then serves the index too");
	}

	SUBTEST("plan: top by connection counts per message, by cgroup needs the cgroup id")
	{
		struct st_plan_in in = {
		    .aggregate = SOCKTAP_AGG_CONNECTIONS, .avail = tp, .addrs = true};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.err, 0, "no error");
		ASSERT_EQ(p.sources, S(SRC_SEND_TP) | S(SRC_RECV_TP) | S(SRC_SYS_ENTER), "sources");
		ASSERT_EQ(p.features & (1u << ST_FEAT_MSG_ADDR | 1u << ST_FEAT_DGRAM_SRC),
			  1u << ST_FEAT_MSG_ADDR | 1u << ST_FEAT_DGRAM_SRC, "message addresses");
		ASSERT_EQ(p.features & 1u << ST_FEAT_CGROUP, 0, "no cgroup id by connection");
		in = (struct st_plan_in){.aggregate = SOCKTAP_AGG_CGROUPS, .avail = tp};
		st_plan_make(&in, &p);
		ASSERT_EQ(p.sources, S(SRC_SEND_TP) | S(SRC_RECV_TP), "by cgroup: no entry hook");
		ASSERT_EQ(p.features & 1u << ST_FEAT_CGROUP, 1u << ST_FEAT_CGROUP, "the cgroup id");
	}

	SUBTEST("plan: socket.send alone needs one program and no syscall hook")
	{
		struct st_plan_in in = {.probes = PR(SEND), .probes_explicit = true, .avail = tp};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.sources, S(SRC_SEND_TP), "sources");
		ASSERT_EQ(p.features, 1u << ST_FEAT_XFER_COOKIE | 1u << ST_FEAT_CGROUP,
			  "only the transfer's cookie and cgroup steps");
	}

	SUBTEST("plan: a refused step is left out, nothing else changes")
	{
		struct st_plan_in in = {
		    .probes = ALLP, .avail = tp, .refused_features = 1u << ST_FEAT_FD_COOKIE};
		struct st_plan p, q;
		st_plan_make(&in, &p);
		in.refused_features = 0;
		st_plan_make(&in, &q);
		ASSERT_EQ(p.err, 0, "loads");
		ASSERT_EQ(p.features, q.features & ~(1u << ST_FEAT_FD_COOKIE), "one step less");
		ASSERT_EQ(p.sources, q.sources, "same programs");
		ASSERT_EQ(p.probes, q.probes, "same probes");
	}

	SUBTEST("plan: a refused program drops the default probes it alone backs")
	{
		struct st_plan_in in = {
		    .probes = ALLP, .avail = tp, .refused_sources = S(SRC_SYS_EXIT)};
		struct st_plan p;
		st_plan_make(&in, &p);
		const uint64_t lc = PR(CREATE) | PR(CREATE_RETURN) | PR(CLOSE) | PR(CLOSE_RETURN);
		ASSERT_EQ(p.err, 0, "the rest still loads");
		ASSERT_EQ(p.dropped, lc, "create and close probes dropped");
		ASSERT_EQ(p.probes, ALLP & ~lc, "the other 18 stay");
		ASSERT_TRUE(!(p.sources >> SRC_SYS_EXIT & 1), "not loaded");
		char lost[256];
		in.refused_sources = 0;
		st_plan_source_loss(&in, SRC_SYS_EXIT, lost, sizeof(lost));
		ASSERT_TRUE(strstr(lost, "socket.create (untraced)") != NULL, lost);
	}

	SUBTEST("plan: refused process exit costs only the releases at exit")
	{
		struct st_plan_in in = {
		    .probes = ALLP, .avail = tp, .refused_sources = S(SRC_PROC_EXIT)};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.err, 0, "loads");
		ASSERT_EQ(p.probes, ALLP, "all 22 probes");
		ASSERT_TRUE(!(p.sources >> SRC_PROC_EXIT & 1), "without sched_process_exit");
		const struct st_candidate *c =
		    st_probe_resolve(SOCKTAP_PROBE_CLOSE, tp & ~S(SRC_PROC_EXIT), ST_BACKEND_AUTO);
		ASSERT_TRUE(c && strstr(c->limits, "process exit"), "and says so");
	}

	SUBTEST("plan: a refused program is an error for a probe the caller named")
	{
		struct st_plan_in in = {.probes = PR(CLOSE) | PR(SEND),
					.probes_explicit = true,
					.avail = tp,
					.refused_sources = S(SRC_SYS_EXIT)};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.err, -ENOTSUP, "error");
		ASSERT_EQ(p.bad_probe, SOCKTAP_PROBE_CLOSE, "names the probe");
		ASSERT_EQ(p.missing_source, SRC_SYS_EXIT, "and what it lacks");
	}

	SUBTEST("plan: a refused tracepoint falls back to fentry where the kernel has it")
	{
		struct st_plan_in in = {.probes = PR(SEND),
					.probes_explicit = true,
					.avail = all,
					.refused_sources = S(SRC_SEND_TP)};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.err, 0, "loads");
		ASSERT_TRUE(p.sources >> SRC_SEND_FEXIT & 1, "fexit on __sock_sendmsg instead");
	}

	SUBTEST("plan: top counts need send and receive, latency the entry hook, -d the devices")
	{
		struct st_plan_in in = {.aggregate = SOCKTAP_AGG_PROCESSES |
						     SOCKTAP_AGG_HIST_LATENCY | SOCKTAP_AGG_DEVICES,
					.avail = tp};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_EQ(p.err, 0, "no error");
		ASSERT_EQ(p.sources,
			  S(SRC_SEND_TP) | S(SRC_RECV_TP) | S(SRC_SYS_ENTER) | S(SRC_DEV_XMIT) |
			      S(SRC_DEV_RECV),
			  "sources");
		ASSERT_EQ(p.features, 0, "no record steps");
		in.refused_sources = S(SRC_DEV_XMIT);
		st_plan_make(&in, &p);
		ASSERT_EQ(p.err, -ENOTSUP, "devices refused: top -d cannot run");
		ASSERT_EQ(p.missing_source, SRC_DEV_XMIT, "names it");
	}

	SUBTEST("plan: the selftest step only when asked for, and only with sends")
	{
		struct st_plan_in in = {
		    .probes = PR(RECEIVE), .probes_explicit = true, .avail = tp, .selftest = true};
		struct st_plan p;
		st_plan_make(&in, &p);
		ASSERT_TRUE(!(p.features >> ST_FEAT_SELFTEST & 1), "no sends, no selftest");
		in.probes = PR(SEND);
		st_plan_make(&in, &p);
		ASSERT_TRUE(p.features >> ST_FEAT_SELFTEST & 1, "with sends");
	}

	SUBTEST("blame: the step the verifier's log names, else the program's first step")
	{
		uint32_t on = (1u << ST_FEAT__COUNT) - 1;
		ASSERT_EQ(st_feature_blamed(
			      "st_sys_enter",
			      "123: (85) call bpf_sock_from_file#196\nR1 type=untrusted_ptr_", on),
			  ST_FEAT_FD_COOKIE, "fd cookie in sys_enter");
		ASSERT_EQ(st_feature_blamed("st_send",
					    "call bpf_get_stack#67\nR2 min value is negative", on),
			  ST_FEAT_STACK, "the stack step named by its helper");
		ASSERT_EQ(st_feature_blamed("st_send", "R0 invalid mem access 'scalar'", on),
			  ST_FEAT_SELFTEST, "the selftest step");
		ASSERT_EQ(st_feature_blamed("st_send", "something else", on), ST_FEAT_XFER_COOKIE,
			  "unknown words: the first step of the program");
		ASSERT_EQ(st_feature_blamed("st_send", "something else", 0), -1,
			  "no step left: the program itself");
		ASSERT_EQ(st_feature_blamed("st_fork", "x", on), -1, "a program without steps");
		ASSERT_EQ(st_feature_blamed(NULL, "x", on), -1, "no program named");
	}

	SUBTEST("reason: the verifier's last line that is not bookkeeping")
	{
		char out[64];
		st_verifier_reason(
		    "0: (85) call x\nR1 type=untrusted_ptr_ expected=ptr_\n"
		    "processed 123 insns (limit 1000000)\nverification time 5 usec\n",
		    out, sizeof(out));
		ASSERT_TRUE(strcmp(out, "R1 type=untrusted_ptr_ expected=ptr_") == 0, out);
		st_verifier_reason(NULL, out, sizeof(out));
		ASSERT_TRUE(out[0] == '\0', "no log");
		st_verifier_reason("a very long line that will not fit in the buffer at all", out,
				   8);
		ASSERT_EQ(strlen(out), 7, "truncated");
	}

	SUBTEST("SOCKTAP_REFUSE: features and program names, the first bad word")
	{
		uint32_t f, k;
		uint64_t s;
		const char *bad = NULL;
		size_t n = 0;
		ASSERT_EQ(st_refuse_parse("fd_cookie,st_exit,stack,bpf_loop", &f, &s, &k, &bad, &n),
			  0, "parses");
		ASSERT_EQ(k, 1u << ST_KF_LOOP, "kernel facts");
		ASSERT_EQ(f, 1u << ST_FEAT_FD_COOKIE | 1u << ST_FEAT_STACK, "features");
		ASSERT_EQ(s, S(SRC_PROC_EXIT), "programs");
		ASSERT_EQ(st_refuse_parse("stack,nosuch,st_exit", &f, &s, &k, &bad, &n), -EINVAL,
			  "bad");
		ASSERT_TRUE(n == 6 && strncmp(bad, "nosuch", n) == 0, "names the bad word");
		ASSERT_EQ(st_refuse_parse("", &f, &s, &k, &bad, &n), 0, "empty");
	}

	SUBTEST("tables and BPF object agree: every source and step has its program")
	{
		struct socktap_bpf *skel = socktap_bpf__open();
		ASSERT_TRUE(skel != NULL, "skeleton opens");
		if (!skel)
			return;
		for (int i = 0; i < SRC__COUNT; i++) {
			ASSERT_TRUE(bpf_object__find_program_by_name(skel->obj, st_sources[i].prog),
				    st_sources[i].prog);
			const char *twin = st_sources[i].per_syscall_prog;
			if (twin)
				ASSERT_TRUE(bpf_object__find_program_by_name(skel->obj, twin),
					    twin);
		}
		for (int f = 0; f < ST_FEAT__COUNT; f++) {
			const char *p = st_features[f].progs;
			while (p && *p) {
				char name[64];
				size_t len = strcspn(p, " ");
				snprintf(name, sizeof(name), "%.*s", (int)len, p);
				ASSERT_TRUE(bpf_object__find_program_by_name(skel->obj, name),
					    name);
				p = p[len] ? p + len + 1 : NULL;
			}
		}
		/* and every program of the object is a source or an optional program */
		struct bpf_program *prog;
		bpf_object__for_each_program(prog, skel->obj)
		{
			const char *name = bpf_program__name(prog);
			bool known = false;
			for (int i = 0; i < SRC__COUNT && !known; i++)
				known = strcmp(st_sources[i].prog, name) == 0 ||
					(st_sources[i].per_syscall_prog &&
					 strcmp(st_sources[i].per_syscall_prog, name) == 0);
			for (int f = 0; f < ST_FEAT__COUNT && !known; f++)
				known = st_features[f].program &&
					st_word_in(st_features[f].progs, name);
			ASSERT_TRUE(known, name);
		}
		/* the legacy build is opened as this skeleton: the same maps, in the same sizes */
		size_t lsz = 0;
		const void *lbytes = socktap_legacy_bpf__elf_bytes(&lsz);
		struct bpf_object *legacy = bpf_object__open_mem(lbytes, lsz, NULL);
		ASSERT_TRUE(legacy != NULL, "legacy object opens");
		struct bpf_map *m, *l;
		int nmain = 0, nleg = 0;
		bpf_object__for_each_map(m, skel->obj)
		{
			/* internal maps are named after their object: compare ".rodata" with
			 * ".rodata" */
			const char *name = bpf_map__name(m), *dot = strrchr(name, '.');
			bool found = false;
			nmain++;
			if (legacy)
				bpf_object__for_each_map(l, legacy)
				{
					const char *ln = bpf_map__name(l), *ld = strrchr(ln, '.');
					bool same = bpf_map__is_internal(m)
							? bpf_map__is_internal(l) && dot && ld &&
							      !strcmp(dot, ld)
							: !strcmp(name, ln);
					if (same)
						found = bpf_map__value_size(l) ==
							bpf_map__value_size(m);
				}
			ASSERT_TRUE(found, name);
		}
		if (legacy)
			bpf_object__for_each_map(l, legacy) nleg++;
		ASSERT_EQ(nleg, nmain, "legacy object: as many maps");
		bpf_object__for_each_program(prog, skel->obj) ASSERT_TRUE(
		    legacy && bpf_object__find_program_by_name(legacy, bpf_program__name(prog)),
		    bpf_program__name(prog));
		bpf_object__close(legacy);
		socktap_bpf__destroy(skel);
	}
}

TEST_MAIN(run)
