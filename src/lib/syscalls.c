// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The syscall hooks as per-syscall tracepoints. Any program on the raw
 * sys_enter/sys_exit tracepoints runs on every syscall of the machine
 * (about 50 ns for the pair on the build machine's 6.18, before it can
 * tell the syscall is not one of socktap's); a program on
 * syscalls:sys_enter_close runs for close(2) only, and the rest of the
 * system pays just the slow syscall entry that any syscall hook costs.
 * Used where the session needs no fd step (tracepoint programs cannot
 * call bpf_sock_from_file()), the kernel has the syscall tracepoints and
 * they load; else the raw hooks (load.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "optional.h"
#include "session.h"
#include "syscalls.h"

static const struct {
	const char *name;
	enum st_syscall_job job;
	bool exit;
} hooks[] = {
#define ST_HOOK_ROW(nr, tp, j, x) {#tp, j, x},
    ST_SYSCALL_HOOKS(ST_HOOK_ROW)
#undef ST_HOOK_ROW
};
#define NHOOKS (sizeof(hooks) / sizeof(hooks[0]))
_Static_assert(NHOOKS <= ST_SYSCALL_LINKS, "st_syscall_links too small");

/* where libbpf looks for tracepoints, in its order */
static const char *const tracefs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

int st_syscall_hooks_choose(struct socktap *st, struct st_plan_in *in, const char *mode)
{
	if (!mode || !strcmp(mode, "auto")) {
		st->syscall_hooks = ST_HOOKS_AUTO;
	} else if (!strcmp(mode, "raw")) {
		st->syscall_hooks = ST_HOOKS_RAW;
		st->syscall_tps_refused = true;
	} else if (!strcmp(mode, "per-syscall")) {
		st->syscall_hooks = ST_HOOKS_PER_SYSCALL;
		if (!st->kernel.syscall_tp) {
			st_log(
			    st, SOCKTAP_LOG_WARN,
			    "per-syscall hooks: this kernel shows no syscalls:sys_enter_* "
			    "tracepoints (CONFIG_FTRACE_SYSCALLS, tracefs at /sys/kernel/tracing)");
			return -ENOTSUP;
		}
		struct st_plan would;
		st_plan_make(in, &would);
		if (would.features >> ST_FEAT_FD_COOKIE & 1) {
			in->refused_features |= 1u << ST_FEAT_FD_COOKIE;
			st_add_loss(st, st_features[ST_FEAT_FD_COOKIE].name,
				    st_features[ST_FEAT_FD_COOKIE].lost,
				    "per-syscall hooks chosen: their programs cannot call "
				    "bpf_sock_from_file()");
		}
	} else {
		st_log(st, SOCKTAP_LOG_WARN,
		       "unknown syscall hooks '%s' (auto, per-syscall or raw)", mode);
		return -EINVAL;
	}
	return 0;
}

/*
 * tracefs where no one mounted it (minimal systems and containers: systemd mounts it at
 * boot elsewhere): mounted at its usual place, as perf does, since the syscall
 * tracepoints can be attached only through their ids there. Leaves it mounted, as a
 * boot would have: another socktap (or perf) may be using it.
 */
static void tracefs_mount(void)
{
	struct stat st;
	char probe[64];
	for (size_t t = 0; t < sizeof(tracefs) / sizeof(tracefs[0]); t++) {
		snprintf(probe, sizeof(probe), "%s/events", tracefs[t]);
		if (access(probe, F_OK) == 0)
			return; /* mounted */
	}
	if (stat(tracefs[0], &st) == 0 && S_ISDIR(st.st_mode))
		mount("nodev", tracefs[0], "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

bool st_syscall_tps_exist(void)
{
	tracefs_mount();
	for (size_t t = 0; t < sizeof(tracefs) / sizeof(tracefs[0]); t++) {
		size_t found = 0;
		for (size_t i = 0; i < NHOOKS; i++) {
			char path[160];
			snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_%s/id",
				 tracefs[t], hooks[i].name);
			found += access(path, R_OK) == 0;
		}
		if (found == NHOOKS)
			return true;
		if (found)
			return false; /* some syscall has none: a hook would miss it */
	}
	return false;
}

/* Whether the session's programs want this syscall (enter_job_of() in lifecycle.bpf.h). */
static bool wanted(const struct socktap *st, size_t i, bool exit)
{
	const struct socktap_bpf *s = st->skel;
	if (exit && !hooks[i].exit)
		return false;
	switch (hooks[i].job) {
	case ST_SC_ENTRY:
		if (exit)
			return false;
		if (strcmp(hooks[i].name, "sendmmsg") == 0 &&
		    (s->rodata->want_addrs || (s->rodata->aggregate & ST_AGG_CONNS)))
			return true;
		return s->rodata->want_entry;
	case ST_SC_CREATE:
		return s->rodata->want_create;
	case ST_SC_CLOSE:
		return s->rodata->want_close;
	default:
		return false;
	}
}

int st_syscall_tps_attach(struct socktap *st, bool exit)
{
	struct bpf_program *p = st_source_prog(st, exit ? SRC_SYS_EXIT : SRC_SYS_ENTER);
	struct bpf_link **links = st->syscall_links[exit];
	for (size_t i = 0; i < NHOOKS; i++) {
		if (links[i] || !wanted(st, i, exit))
			continue;
		char tp[48];
		snprintf(tp, sizeof(tp), "sys_%s_%s", exit ? "exit" : "enter", hooks[i].name);
		links[i] = bpf_program__attach_tracepoint(p, "syscalls", tp);
		if (!links[i]) {
			int err = -errno;
			st_log(st, SOCKTAP_LOG_WARN, "attaching tracepoint:syscalls/%s failed: %s",
			       tp, strerror(-err));
			return err;
		}
	}
	return 0;
}

void st_syscall_tps_detach(struct socktap *st)
{
	for (int x = 0; x < 2; x++)
		for (size_t i = 0; i < ST_SYSCALL_LINKS; i++) {
			bpf_link__destroy(st->syscall_links[x][i]);
			st->syscall_links[x][i] = NULL;
		}
}

const char *st_source_name(const struct socktap *st, enum st_source src)
{
	if (st && st->syscall_tps && st_sources[src].per_syscall_name)
		return st_sources[src].per_syscall_name;
	return st_sources[src].name;
}
