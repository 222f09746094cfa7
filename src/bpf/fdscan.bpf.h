/* SPDX-License-Identifier: GPL-2.0 */
/* Releases: one close record per socket, and the fd-table scans of close_range, exec and exit. */
#ifndef ST_FDSCAN_BPF_H
#define ST_FDSCAN_BPF_H

/* A released unix socket's names: read now, or kept from the syscall's entry (sockvals.names). */
static __always_inline void unix_names_of(const struct sockvals *v, struct st_unix_names *n)
{
	if (v->names == NAMES_LIVE) {
		unix_paths((struct sock *)v->sk, n);
		return;
	}
	if (v->names == NAMES_CLOSE) {
		struct inflight *inf = task_state(&inflight, cur_task(), false);
		if (inf) {
			__builtin_memcpy(n, &inf->close_names, sizeof(*n));
			return;
		}
	} else {
		struct exec_pending *p = task_state(&exec_pending, cur_task(), false);
		__u32 i = v->names - NAMES_EXEC;
		if (p && i < EXEC_PENDING_MAX) {
			__builtin_memcpy(n, &p->names[i], sizeof(*n));
			return;
		}
	}
	n->llen = n->rlen = 0;
}

/* A global function: verified once per program, not at each of its call sites. */
ST_GLOBAL_PTR int emit_close(struct sockvals *v, __u32 why, __u64 ts_enter, __u64 ts)
{
	if (!v)
		return 0;
	if (!sock_selected(v->family, v->type, v->protocol))
		return 0;
	if (!addrs_selected(&v->addrs))
		return 0;
	if (aggregate) {
		count_lifecycle(v->family, v->type, v->protocol, false, 1);
		return 0;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct st_rec *r;
	if (want_addrs && v->family == ST_AF_UNIX && v->sk) {
		struct st_rec_unix *u = rec_begin_unix(ST_REC_CLOSE, fanout_close, pid_tgid, ts);
		if (!u)
			return 0;
		unix_names_of(v, &u->names);
		r = &u->rec;
	} else {
		r = rec_begin(ST_REC_CLOSE, fanout_close, pid_tgid, ts);
		if (!r)
			return 0;
	}
	r->op = why;
	r->rflags |= v->known | ST_RF_ENTRY;
	if (want_addrs)
		r->addrs = v->addrs;
	r->fd = v->fd;
	r->ts_enter = ts_enter;
	rec_sockvals(r, v);
	rec_submit(r);
	return 0;
}

/*
 * Scanning an fd table for the sockets a close_range(), exit or exec
 * releases. A socket is released when every reference to its file is one
 * of the fds being closed: refs == 1, or (after dup) its refs all lie in
 * the range. Pass 1 counts the multiply-referenced ones, pass 2 decides.
 */
enum scan_action { SCAN_EMIT, SCAN_EXEC };

struct scan_ctx {
	struct file **fds;
	unsigned long *open_fds;
	unsigned long *cloexec;
	__u64 lo, hi; /* fd range, inclusive */
	__u64 first;  /* first bitmap word to scan */
	__u64 base;   /* first fd of the word being scanned */
	__u64 bits;   /* its open (and close-on-exec) fds */
	__u64 ts;
	__u32 pass;
	__u32 mode; /* SCAN_MODE() */
};

/*
 * One fd of a scan. Global, with scalar arguments only: verified once, not
 * once per loop iteration (the legacy object's bounded loops would
 * otherwise multiply its size past the verifier's limit).
 */
__noinline int scan_one(__u64 fd, __u64 file, __u32 pass, __u32 mode, __u64 ts)
{
	__u8 why = mode & 0xff, action = (mode >> 8) & 0xff;
	struct file *f = (struct file *)file;
	struct socket *sock = file_socket(f);
	if (!sock)
		return 0;
	long refs = file_refs(f);
	struct dupkey k = {.file = file, .tid = (__u32)bpf_get_current_pid_tgid()};

	if (pass == 1) {
		if (refs > 1) {
			__u32 one = 1, *n = bpf_map_lookup_elem(&dupcount, &k);
			if (n)
				__sync_fetch_and_add(n, 1);
			else
				bpf_map_update_elem(&dupcount, &k, &one, BPF_NOEXIST);
		}
		return 0;
	}
	if (refs > 1) {
		__u32 *n = bpf_map_lookup_elem(&dupcount, &k);
		if (!n)
			return 0; /* already decided at an earlier fd */
		long all_here = *n == refs;
		bpf_map_delete_elem(&dupcount, &k);
		if (!all_here)
			return 0;
	} else if (refs != 1) {
		return 0;
	}

	/* not on the stack: this is the deepest call chain of the fd scans */
	struct sockvals *v = sockvals_scratch();
	if (!v)
		return 0;
	read_sockvals(sock, v);
	v->fd = fd;
	sockvals_cookie(v, fd);
	if (action == SCAN_EXEC) {
		struct exec_pending *p = task_state(&exec_pending, cur_task(), false);
		if (!p)
			return 0;
		__u32 i = p->n;
		if (i < EXEC_PENDING_MAX) {
			v->names = NAMES_EXEC + i;
			if (want_addrs && v->family == ST_AF_UNIX)
				unix_paths((struct sock *)v->sk, &p->names[i]);
			p->s[i] = *v;
			p->n = i + 1;
		} else {
			__u32 key = ST_CNT_EXEC_OVERFLOW;
			__u64 *o = bpf_map_lookup_elem(&counters, &key);
			if (o)
				*o += 1;
		}
		return 0;
	}
	emit_close(v, why, ts, ts);
	return 0;
}

ST_CALLBACK scan_bit_cb(__u64 b, void *data)
{
	struct scan_ctx *c = data;
	if (!(c->bits & (1UL << (b & 63))))
		return 0;
	__u64 fd = c->base + b;
	struct file *f = 0;
	if (fd < c->lo || fd > c->hi)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &c->fds[fd]);
	if (f)
		scan_one(fd, (__u64)f, c->pass, c->mode, c->ts);
	return 0;
}

ST_CALLBACK scan_word_cb(__u64 w, void *data)
{
	struct scan_ctx *c = data;
	unsigned long bits = 0, cx = ~0UL;

	w += c->first;
	c->base = w * 64;
	if (c->base > c->hi)
		return 1;
	if (bpf_probe_read_kernel(&bits, sizeof(bits), &c->open_fds[w]))
		return 1;
	if (c->cloexec && bpf_probe_read_kernel(&cx, sizeof(cx), &c->cloexec[w]))
		return 1;
	c->bits = bits & cx;
	/* empty words are the common case in big tables: skip them cheaply */
	if (c->bits)
		ST_LOOP(64, 64, scan_bit_cb, c);
	return 0;
}

/* fd-table words a scan covers: all with bpf_loop, 256 fds in the legacy object's bounded loops */
#ifdef ST_NO_BPF_LOOP
#define SCAN_MAX_WORDS 4
#else
#define SCAN_MAX_WORDS (1u << 23)
#endif

#define SCAN_MODE(why, action, cloexec_only) ((why) | (action) << 8 | (cloexec_only) << 16)
/* A global function (at most five scalar arguments): verified once, not per call site. */
__noinline int scan_fds(__u64 lo, __u64 hi, __u32 mode, __u64 ts)
{
	bool cloexec_only = (mode >> 16) & 1;
	struct task_struct *t = cur_task();
	struct files_struct *files = BPF_CORE_READ(t, files);
	if (!files)
		return 0;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	__u64 max = BPF_CORE_READ(fdt, max_fds);
	if (max == 0)
		return 0;
	if (hi >= max)
		hi = max - 1;
	if (lo > hi)
		return 0;
	struct scan_ctx c = {
	    .fds = BPF_CORE_READ(fdt, fd),
	    .open_fds = BPF_CORE_READ(fdt, open_fds),
	    .cloexec = cloexec_only ? BPF_CORE_READ(fdt, close_on_exec) : 0,
	    .lo = lo,
	    .hi = hi,
	    .ts = ts,
	    .mode = mode,
	};
	c.first = lo / 64;
	__u64 words = hi / 64 + 1 - c.first;
	c.pass = 1;
	ST_LOOP(words, SCAN_MAX_WORDS, scan_word_cb, &c);
	c.pass = 2;
	ST_LOOP(words, SCAN_MAX_WORDS, scan_word_cb, &c);
	return 0;
}

#endif /* ST_FDSCAN_BPF_H */
