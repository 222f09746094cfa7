/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The current task, whatever the kernel offers: a BTF-typed task (plain
 * loads, Linux >= 5.11) or helper reads; task-local storage or an LRU hash
 * by thread id; the syscall's saved registers from bpf_task_pt_regs()
 * (5.15) or from the top of the kernel stack. The feat_* flags are rodata:
 * the verifier sees only one side of each choice.
 */
#ifndef ST_TASK_BPF_H
#define ST_TASK_BPF_H

static __always_inline struct task_struct *cur_task(void)
{
	if (feat_task_btf)
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* t->direct (a plain load of a BTF task), or the same path read by helper */
#define TASK_GET(t, direct, ...) (feat_task_btf ? (t)->direct : BPF_CORE_READ(t, __VA_ARGS__))

static __always_inline __u32 task_uid(struct task_struct *t)
{
	if (feat_task_btf)
		return t->cred->uid.val;
	return (__u32)bpf_get_current_uid_gid();
}

/* comm of the current task: two 8-byte loads where the task is typed, else the helper */
static __always_inline void task_comm(struct task_struct *t, char comm[16])
{
	if (feat_task_btf)
		__builtin_memcpy(comm, t->comm, 16);
	else
		bpf_get_current_comm(comm, 16);
}

/* Is the fd table this task's alone (no other process or CLONE_FILES thread)? */
static __always_inline bool files_private(struct task_struct *t)
{
	return BPF_CORE_READ(t, files, count.counter) == 1;
}

/*
 * Per-task state in map (which is task storage, or where the kernel has
 * none an LRU hash keyed by thread id: libsocktap retypes it), for the
 * current task t; created zeroed if asked. An LRU hash forgets the
 * longest-idle tasks when full, where task storage dies with its task.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[8192]); /* >= every per-task value (exec_pending is the largest) */
} zeroes SEC(".maps");

static __always_inline void *task_state(void *map, struct task_struct *t, bool create)
{
	if (feat_task_storage)
		return bpf_task_storage_get(map, t, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	void *v = bpf_map_lookup_elem(map, &tid);
	if (v || !create)
		return v;
	void *z = bpf_map_lookup_elem(&zeroes, &zero);
	if (!z)
		return 0;
	bpf_map_update_elem(map, &tid, z, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, &tid);
}

/* The saved user registers of the current task's syscall: what socktap reads of them. */
struct uregs {
	long ax, orig_ax;
	unsigned long di, si, dx, r8, r9;
};

static __always_inline bool task_uregs(struct task_struct *t, struct uregs *u)
{
	struct pt_regs *r;
	if (feat_task_regs) {
		r = (struct pt_regs *)bpf_task_pt_regs(t);
		if (!r)
			return false;
		u->ax = r->ax;
		u->orig_ax = r->orig_ax;
		u->di = r->di;
		u->si = r->si;
		u->dx = r->dx;
		u->r8 = r->r8;
		u->r9 = r->r9;
		return true;
	}
	/*
	 * Before bpf_task_pt_regs() (Linux 5.15, commit dd6e10fbd9fb "bpf: Add
	 * bpf_task_pt_regs() helper"): x86-64's task_pt_regs(), the pt_regs
	 * at the top of the task's kernel stack (no top padding before FRED,
	 * 6.9, which has the helper anyway).
	 */
	void *stack = BPF_CORE_READ(t, stack);
	if (!stack)
		return false;
	r = (struct pt_regs *)((unsigned long)stack + thread_size) - 1;
	u->ax = BPF_CORE_READ(r, ax);
	u->orig_ax = BPF_CORE_READ(r, orig_ax);
	u->di = BPF_CORE_READ(r, di);
	u->si = BPF_CORE_READ(r, si);
	u->dx = BPF_CORE_READ(r, dx);
	u->r8 = BPF_CORE_READ(r, r8);
	u->r9 = BPF_CORE_READ(r, r9);
	return true;
}

#endif /* ST_TASK_BPF_H */
