/* SPDX-License-Identifier: GPL-2.0 */
/* The current task: what the programs ask of it besides its ids. */
#ifndef ST_TASK_BPF_H
#define ST_TASK_BPF_H

/* Is the fd table this task's alone (no other process or CLONE_FILES thread)? */
static __always_inline bool files_private(struct task_struct *t)
{
	return BPF_CORE_READ(t, files, count.counter) == 1;
}

#endif /* ST_TASK_BPF_H */
