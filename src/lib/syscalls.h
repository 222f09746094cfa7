/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* The syscall hooks as per-syscall tracepoints (syscalls.c). */
#ifndef ST_SYSCALLS_H
#define ST_SYSCALLS_H

#include <stdbool.h>
#include "plan.h"
#include "probes.h"

struct socktap;

enum st_syscall_hooks { ST_HOOKS_AUTO, ST_HOOKS_PER_SYSCALL, ST_HOOKS_RAW };

/*
 * socktap_opts.syscall_hooks, once the kernel is probed: "raw" rules the
 * per-syscall tracepoints out, "per-syscall" the fd step (a loss, said).
 */
int st_syscall_hooks_choose(struct socktap *st, struct st_plan_in *in, const char *mode);
/* every hooked syscall has its syscalls:sys_enter_NAME tracepoint in tracefs */
bool st_syscall_tps_exist(void);
/* attach st_sysc_enter (exit: st_sysc_exit) to each syscall the loaded session wants */
int st_syscall_tps_attach(struct socktap *st, bool exit);
void st_syscall_tps_detach(struct socktap *st);
/* what backs a source in this session, for messages and socktap_probe_source() */
const char *st_source_name(const struct socktap *st, enum st_source src);

#endif
