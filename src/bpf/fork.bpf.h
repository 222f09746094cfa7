/* SPDX-License-Identifier: GPL-2.0 */
/* Target set: follow a traced command's descendants. */
#ifndef ST_FORK_BPF_H
#define ST_FORK_BPF_H

/* Target set: follow a traced command's descendants. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(st_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = 1;
	if (ptgid == ctgid)
		return 0; /* a new thread */
	if (bpf_map_lookup_elem(&targets, &ptgid))
		bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	return 0;
}

#endif /* ST_FORK_BPF_H */
