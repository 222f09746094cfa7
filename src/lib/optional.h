/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Optional pieces: the steps inside BPF programs that some kernel may
 * refuse (each gated by a feat_* rodata flag in src/bpf/config.bpf.h), and
 * the optional programs. A session runs without a refused piece, loses
 * only what the table says, and tells the user once.
 */
#ifndef SOCKTAP_OPTIONAL_H
#define SOCKTAP_OPTIONAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum st_feature {
	ST_FEAT_FD_COOKIE,    /* feat_fd_cookie: cookies made from an fd */
	ST_FEAT_XFER_COOKIE,  /* feat_xfer_cookie: cookies made at sends and receives */
	ST_FEAT_STACK,	      /* feat_stack: kernel stacks tell io_uring READ/WRITE apart */
	ST_FEAT_COOKIE_MAKER, /* the program st_sock_create: inet cookies at birth */
	ST_FEAT_ITER_UNIX,    /* the program st_iter_unix: unix socket ids for user space */
	ST_FEAT_ITER_NETLINK, /* the program st_iter_netlink: netlink socket ids likewise */
	ST_FEAT_CGROUP,	      /* feat_cgroup: the task's cgroup id */
	ST_FEAT_MSG_ADDR,     /* feat_msg_addr: a datagram send's destination, from user memory */
	ST_FEAT_DGRAM_SRC, /* programs st_recvmsg4/6, st_dgram_src: a received datagram's source */
	ST_FEAT_SELFTEST,  /* feat_selftest: a step every verifier refuses (tests only) */
	ST_FEAT__COUNT,
};

struct st_feature_def {
	const char *name;  /* the word SOCKTAP_REFUSE takes */
	const char *lost;  /* what a session lacks without it: the warning's subject */
	const char *progs; /* the programs whose code holds the step, space-separated */
	const char *hint;  /* a word of a verifier log that points at this step, or NULL */
	bool program;	   /* the piece is whole programs (progs), not a step */
};
extern const struct st_feature_def st_features[ST_FEAT__COUNT];

/* Does the space-separated list hold word? */
bool st_word_in(const char *list, const char *word);

/*
 * Which piece a failed load points at, from what libbpf reported: prog is
 * the program the kernel refused, log its verifier log (may be NULL).
 * Among the features in `enabled` whose code is in prog: the one the log
 * names, else the first. -1 if no enabled feature is in prog.
 */
int st_feature_blamed(const char *prog, const char *log, uint32_t enabled);

/*
 * The line of a verifier log that says why: the last one that is not
 * bookkeeping ("processed N insns", "verification time", stack depths).
 * Copied to out (truncated to len); "" if there is none.
 */
void st_verifier_reason(const char *log, char *out, size_t len);

/*
 * SOCKTAP_REFUSE=word,word...: pieces to treat as refused by the kernel,
 * for tests of the degraded paths. Words are feature names or BPF program
 * names, or kernel facts (st_kernel_facts). Sets the masks; returns 0, or -EINVAL with *bad
 * pointing at the first unknown word (inside the given string).
 */
int st_refuse_parse(const char *spec, uint32_t *features, uint64_t *sources, uint32_t *kernel,
		    const char **bad, size_t *bad_len);

/* Kernel facts SOCKTAP_REFUSE can deny, to run older kernels' paths here (bits of *kernel). */
enum st_kernel_fact {
	ST_KF_LOOP,
	ST_KF_TASK_BTF,
	ST_KF_TASK_STORAGE,
	ST_KF_TASK_REGS,
	ST_KF_SYSCALL_TP,
	ST_KF__COUNT
};
extern const char *const st_kernel_facts[ST_KF__COUNT];

#endif
