// SPDX-License-Identifier: GPL-2.0
/*
 * The floor: the least a tracer can do on socktap's tracepoints. Variant
 * "count" increments a per-CPU counter (no helper call); variant "hash"
 * also looks the process up in a per-CPU hash, which is what any per-process
 * aggregation (socktap top, bpftrace's @[comm] = count()) cannot avoid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile bool use_hash = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} per_process SEC(".maps");

static __always_inline int hit(void)
{
	if (use_hash) {
		struct task_struct *t = bpf_get_current_task_btf();
		__u32 k = t->tgid;
		__u64 zero = 0, *v = bpf_map_lookup_elem(&per_process, &k);
		if (!v) {
			bpf_map_update_elem(&per_process, &k, &zero, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&per_process, &k);
		}
		if (v)
			*v += 1;
		return 0;
	}
	__u32 z = 0;
	__u64 *c = bpf_map_lookup_elem(&count, &z);
	if (c)
		*c += 1;
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send, struct sock *sk, int ret, int flags)
{
	return hit();
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv, struct sock *sk, int ret, int flags)
{
	return hit();
}

/*
 * Variant "syscall-idle": a syscall tracepoint that never fires in the
 * workloads. From then on every syscall takes the kernel's slow entry path
 * (SYSCALL_WORK_SYSCALL_TRACEPOINT): the tax of any syscall hook at all.
 */
SEC("tracepoint/syscalls/sys_enter_socketpair")
int floor_idle(void *ctx)
{
	return hit();
}

/*
 * Variant "syscall-idle-exit": the same plus a sys_exit tracepoint that never
 * fires. An exit tracepoint turns on the kernel's exit-side tracing too, run
 * for every syscall: the floor of a tracer that needs syscall results (as
 * socktap's creation and close probes do), where "syscall-idle" is the floor
 * of one that needs only entries.
 */
SEC("tracepoint/syscalls/sys_exit_socketpair")
int floor_idle_exit(void *ctx)
{
	return hit();
}

/*
 * Variant "syscall-hook": the same slow path plus two BPF programs that
 * return at once on every syscall's entry and exit, as socktap's own
 * sys_enter and sys_exit do for a syscall that is not theirs: the least a
 * tracer built on raw syscall tracepoints can cost.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
