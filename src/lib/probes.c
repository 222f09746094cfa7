// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * THE probe table. `socktap list`, the session's choice of BPF programs,
 * the fan-out of kernel records to probe names, docs/probes.md and the
 * tests all come from here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probes.h"
#include "util.h"

#define S(x) (1u << (x))

const struct st_source_def st_sources[SRC__COUNT] = {
    [SRC_SEND_TP] = {"tp_btf:sock/sock_send_length", "btf_trace_sock_send_length", "6.3"},
    [SRC_RECV_TP] = {"tp_btf:sock/sock_recv_length", "btf_trace_sock_recv_length", "6.3"},
    [SRC_SYS_ENTER] = {"tp_btf:raw_syscalls/sys_enter", "btf_trace_sys_enter", "2.6.33"},
    [SRC_SYS_EXIT] = {"tp_btf:raw_syscalls/sys_exit", "btf_trace_sys_exit", "2.6.33"},
    [SRC_PROC_EXIT] = {"tp_btf:sched/sched_process_exit", "btf_trace_sched_process_exit", "2.6.28"},
    [SRC_PROC_FORK] = {"tp_btf:sched/sched_process_fork", "btf_trace_sched_process_fork", "2.6.28"},
    [SRC_DEV_XMIT] = {"tp_btf:net/net_dev_xmit", "btf_trace_net_dev_xmit", "2.6.38"},
    [SRC_DEV_RECV] = {"tp_btf:net/netif_receive_skb", "btf_trace_netif_receive_skb", "2.6.32"},
};

#define V_XFER_ENTRY                                                                               \
	(SOCKTAP_V_NAME | SOCKTAP_V_SIZE | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY |                 \
	 SOCKTAP_V_STATE | SOCKTAP_V_FLAGS | SOCKTAP_V_TYPE)
#define V_XFER_RETURN (V_XFER_ENTRY | SOCKTAP_V_SUCCESS)
#define V_CREATE                                                                                   \
	(SOCKTAP_V_NAME | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY | SOCKTAP_V_TYPE |                 \
	 SOCKTAP_V_REQUESTER)
#define V_CREATE_RETURN (V_CREATE | SOCKTAP_V_SUCCESS | SOCKTAP_V_ERR)
#define V_CLOSE                                                                                    \
	(SOCKTAP_V_NAME | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY | SOCKTAP_V_STATE |                \
	 SOCKTAP_V_FLAGS | SOCKTAP_V_TYPE)

/* What the tracepoint mechanisms cannot see, per probe family. */
#define L_ENTRY                                                                                    \
	"reported when the operation completes, stamped with its entry time; io_uring and "        \
	"in-kernel operations have no visible entry: size is unknown (null) and the time is the "  \
	"completion's"
#define L_RETURN_SEND "state and flags are read at completion, not at entry"
#define L_ITER                                                                                     \
	"io_uring READ/WRITE are told from SEND/RECV by the kernel stack; READV/WRITEV count as "  \
	"aio_read/aio_write"
#define L_CREATE                                                                                   \
	"socket(2) and socketpair(2) only: sockets the kernel creates for itself (requester = 1) " \
	"are invisible, no tracepoint fires in __sock_create()"
#define L_CLOSE                                                                                    \
	"releases by close, close_range, dup2/dup3, exec (close-on-exec) and exit; not seen: "     \
	"io_uring CLOSE, in-kernel releases (SCM_RIGHTS garbage, failed accept), a last "          \
	"reference held by a concurrent syscall"

#define XFER_ENTRY(ID, NAME, SUMMARY, SEND, LIM)                                                   \
	[ID] = {.pub = {NAME, SUMMARY, V_XFER_ENTRY, ID, false},                                   \
		.cand = {{S(SEND) | S(SRC_SYS_ENTER), LIM}}}
#define XFER_RETURN(ID, ENTRY, NAME, SUMMARY, SEND, LIM)                                           \
	[ID] = {.pub = {NAME, SUMMARY, V_XFER_RETURN, ENTRY, true}, .cand = {{S(SEND), LIM}}}

const struct st_probe_def st_probes[SOCKTAP_PROBE__COUNT] = {
    [SOCKTAP_PROBE_SEND] = {.pub = {"socket.send", "Message sent on a socket", V_XFER_RETURN,
				    SOCKTAP_PROBE_SEND, true},
			    .cand = {{S(SRC_SEND_TP), ""}}},
    [SOCKTAP_PROBE_RECEIVE] = {.pub = {"socket.receive", "Message received on a socket",
				       V_XFER_RETURN, SOCKTAP_PROBE_RECEIVE, true},
			       .cand = {{S(SRC_RECV_TP), ""}}},
    XFER_ENTRY(SOCKTAP_PROBE_SENDMSG, "socket.sendmsg",
	       "Message is currently being sent on a socket", SRC_SEND_TP, L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_SENDMSG_RETURN, SOCKTAP_PROBE_SENDMSG, "socket.sendmsg.return",
		"Return from socket.sendmsg", SRC_SEND_TP, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_RECVMSG, "socket.recvmsg", "Message being received on socket",
	       SRC_RECV_TP, L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_RECVMSG_RETURN, SOCKTAP_PROBE_RECVMSG, "socket.recvmsg.return",
		"Return from Message being received on socket", SRC_RECV_TP, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_AIO_WRITE, "socket.aio_write", "Message send via sock_aio_write",
	       SRC_SEND_TP, L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_AIO_WRITE_RETURN, SOCKTAP_PROBE_AIO_WRITE, "socket.aio_write.return",
		"Conclusion of message send via sock_aio_write", SRC_SEND_TP, L_ITER),
    XFER_ENTRY(SOCKTAP_PROBE_AIO_READ, "socket.aio_read", "Receiving message via sock_aio_read",
	       SRC_RECV_TP, L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_AIO_READ_RETURN, SOCKTAP_PROBE_AIO_READ, "socket.aio_read.return",
		"Conclusion of message received via sock_aio_read", SRC_RECV_TP, L_ITER),
    XFER_ENTRY(SOCKTAP_PROBE_WRITEV, "socket.writev", "Message sent via socket_writev", SRC_SEND_TP,
	       L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_WRITEV_RETURN, SOCKTAP_PROBE_WRITEV, "socket.writev.return",
		"Conclusion of message sent via socket_writev", SRC_SEND_TP, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_READV, "socket.readv", "Receiving a message via sock_readv",
	       SRC_RECV_TP, L_ENTRY),
    XFER_RETURN(SOCKTAP_PROBE_READV_RETURN, SOCKTAP_PROBE_READV, "socket.readv.return",
		"Conclusion of receiving a message via sock_readv", SRC_RECV_TP, L_RETURN_SEND),
    XFER_ENTRY(SOCKTAP_PROBE_WRITE_ITER, "socket.write_iter", "Message send via sock_write_iter",
	       SRC_SEND_TP, L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_WRITE_ITER_RETURN, SOCKTAP_PROBE_WRITE_ITER,
		"socket.write_iter.return", "Conclusion of message send via sock_write_iter",
		SRC_SEND_TP, L_ITER),
    XFER_ENTRY(SOCKTAP_PROBE_READ_ITER, "socket.read_iter", "Receiving message via sock_read_iter",
	       SRC_RECV_TP, L_ENTRY "; " L_ITER),
    XFER_RETURN(SOCKTAP_PROBE_READ_ITER_RETURN, SOCKTAP_PROBE_READ_ITER, "socket.read_iter.return",
		"Conclusion of message received via sock_read_iter", SRC_RECV_TP, L_ITER),
    [SOCKTAP_PROBE_CREATE] = {.pub = {"socket.create", "Creation of a socket", V_CREATE,
				      SOCKTAP_PROBE_CREATE, false},
			      .cand = {{S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT), L_CREATE}}},
    [SOCKTAP_PROBE_CREATE_RETURN] = {.pub = {"socket.create.return",
					     "Return from Creation of a socket", V_CREATE_RETURN,
					     SOCKTAP_PROBE_CREATE, true},
				     .cand = {{S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT), L_CREATE}}},
    [SOCKTAP_PROBE_CLOSE] = {.pub = {"socket.close", "Close a socket", V_CLOSE, SOCKTAP_PROBE_CLOSE,
				     false},
			     .cand = {{S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT) | S(SRC_PROC_EXIT),
				       L_CLOSE}}},
    [SOCKTAP_PROBE_CLOSE_RETURN] = {.pub = {"socket.close.return", "Return from closing a socket",
					    SOCKTAP_V_NAME, SOCKTAP_PROBE_CLOSE, true},
				    .cand = {{S(SRC_SYS_ENTER) | S(SRC_SYS_EXIT) | S(SRC_PROC_EXIT),
					      L_CLOSE}}},
};

/* Nesting as the kernel calls them: outer entry, inner entry, inner return, outer return. */
#define P(x) SOCKTAP_PROBE_##x
static const struct st_fanout fanout_xfer[ST_OP__COUNT] = {
    [ST_OP_SENDMSG] = {3, {P(SENDMSG), P(SENDMSG_RETURN), P(SEND)}, {1, 0, 0}},
    [ST_OP_AIO_WRITE] = {5,
			 {P(AIO_WRITE), P(WRITE_ITER), P(WRITE_ITER_RETURN), P(AIO_WRITE_RETURN),
			  P(SEND)},
			 {1, 1, 0, 0, 0}},
    [ST_OP_WRITEV] = {5,
		      {P(WRITEV), P(WRITE_ITER), P(WRITE_ITER_RETURN), P(WRITEV_RETURN), P(SEND)},
		      {1, 1, 0, 0, 0}},
    [ST_OP_RECVMSG] = {3, {P(RECVMSG), P(RECVMSG_RETURN), P(RECEIVE)}, {1, 0, 0}},
    [ST_OP_AIO_READ] = {5,
			{P(AIO_READ), P(READ_ITER), P(READ_ITER_RETURN), P(AIO_READ_RETURN),
			 P(RECEIVE)},
			{1, 1, 0, 0, 0}},
    [ST_OP_READV] = {5,
		     {P(READV), P(READ_ITER), P(READ_ITER_RETURN), P(READV_RETURN), P(RECEIVE)},
		     {1, 1, 0, 0, 0}},
};
const struct st_fanout st_fanout_create = {2, {P(CREATE), P(CREATE_RETURN)}, {1, 0}};
const struct st_fanout st_fanout_close = {2, {P(CLOSE), P(CLOSE_RETURN)}, {1, 0}};
#undef P

const struct st_fanout *st_fanout_xfer(enum st_op op)
{
	return (unsigned)op < ST_OP__COUNT ? &fanout_xfer[op] : NULL;
}

const struct socktap_probe *socktap_probe_get(enum socktap_probe_id id)
{
	if ((unsigned)id >= SOCKTAP_PROBE__COUNT)
		return NULL;
	return &st_probes[id].pub;
}

int socktap_probe_find(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++)
		if (strcmp(st_probes[i].pub.name, name) == 0)
			return i;
	return -ENOENT;
}

static const char *const value_names[SOCKTAP_VALUE__COUNT] = {
    "name", "size", "success", "protocol", "family", "state", "flags", "type", "requester", "err",
};

const char *socktap_value_name(unsigned int bit)
{
	if (!bit || (bit & (bit - 1)))
		return NULL;
	int i = __builtin_ctz(bit);
	return i < SOCKTAP_VALUE__COUNT ? value_names[i] : NULL;
}

/* Glob within one component: '*' any run, '?' one character; no '.' is crossed. */
static bool component_match(const char *p, const char *pe, const char *s, const char *se)
{
	const char *star_p = NULL, *star_s = NULL;
	while (s < se) {
		if (p < pe && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (p < pe && *p == '*') {
			star_p = ++p;
			star_s = s;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

bool socktap_pattern_match(const char *pattern, const char *name)
{
	if (!pattern || !name)
		return false;
	for (;;) {
		const char *pe = strchr(pattern, '.'), *ne = strchr(name, '.');
		if (!pe)
			pe = pattern + strlen(pattern);
		if (!ne)
			ne = name + strlen(name);
		if (!component_match(pattern, pe, name, ne))
			return false;
		if (!*pe || !*ne)
			return !*pe && !*ne;
		pattern = pe + 1;
		name = ne + 1;
	}
}

int socktap_pattern_select(const char *pattern, uint64_t *mask)
{
	int n = 0;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
		if (socktap_pattern_match(pattern, st_probes[i].pub.name)) {
			if (mask)
				*mask |= 1ULL << i;
			n++;
		}
	}
	return n;
}

int socktap_probe_suggest(const char *word, const char **out, int n)
{
	int dist[SOCKTAP_PROBE__COUNT], order[SOCKTAP_PROBE__COUNT], found = 0;
	if (!word || n <= 0)
		return 0;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
		dist[i] = st_edit_distance(word, st_probes[i].pub.name, false);
		order[i] = i;
	}
	for (int i = 1; i < SOCKTAP_PROBE__COUNT; i++)
		for (int j = i; j > 0 && dist[order[j]] < dist[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	/* only plausible misspellings: at most a third of the word changed */
	int limit = (int)strlen(word) / 3 + 1;
	for (int i = 0; i < SOCKTAP_PROBE__COUNT && found < n; i++)
		if (dist[order[i]] <= limit)
			out[found++] = st_probes[order[i]].pub.name;
	return found;
}

/*
 * A tracepoint exists when the kernel's BTF names its "btf_trace_<tp>"
 * typedef. Parsing vmlinux BTF costs ~12 MiB of peak memory, and libbpf
 * parses it again to load the object, so the names are looked up as
 * strings in the BTF string section, streamed in small chunks.
 */
int st_sources_available(uint32_t *mask)
{
	const char *path = getenv("SOCKTAP_VMLINUX_BTF") ?: "/sys/kernel/btf/vmlinux";
	struct btf_header hdr;
	char buf[65536 + 64];
	size_t keep = 0;
	uint32_t found = 0;
	int err = 0;

	*mask = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fread(&hdr, sizeof(hdr), 1, f) != 1 || hdr.magic != BTF_MAGIC ||
	    fseek(f, (long)hdr.hdr_len + hdr.str_off, SEEK_SET)) {
		err = -EINVAL;
		goto out;
	}
	for (uint32_t left = hdr.str_len; left && found != (1u << SRC__COUNT) - 1;) {
		size_t want = left < 65536 ? left : 65536;
		size_t got = fread(buf + keep, 1, want, f);
		if (got == 0) {
			err = -EIO;
			goto out;
		}
		left -= (uint32_t)got;
		size_t len = keep + got;
		/* every string is NUL-terminated: match "name\0" preceded by a NUL */
		for (int i = 0; i < SRC__COUNT; i++) {
			const char *name = st_sources[i].btf_name;
			size_t n = strlen(name) + 1;
			for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), name, n));
			     p++) {
				if (p > buf && p[-1] == '\0') {
					found |= 1u << i;
					break;
				}
			}
		}
		/* the tail may hold the start of a name cut by the chunk boundary */
		keep = len < 64 ? len : 64;
		memmove(buf, buf + len - keep, keep);
	}
	*mask = found;
out:
	fclose(f);
	return err;
}

const struct st_candidate *st_probe_resolve(enum socktap_probe_id id, uint32_t avail)
{
	if ((unsigned)id >= SOCKTAP_PROBE__COUNT)
		return NULL;
	for (int i = 0; i < ST_MAX_CANDIDATES; i++) {
		const struct st_candidate *c = &st_probes[id].cand[i];
		if (!c->sources)
			break;
		if ((c->sources & avail) == c->sources)
			return c;
	}
	return NULL;
}

int socktap_probe_backing(enum socktap_probe_id id, struct socktap_backing *out)
{
	uint32_t avail;
	if (!out || out->sz < sizeof(*out) || (unsigned)id >= SOCKTAP_PROBE__COUNT)
		return -EINVAL;
	int err = st_sources_available(&avail);
	out->available = false;
	out->mechanism[0] = out->limits[0] = '\0';
	if (err) {
		snprintf(out->limits, sizeof(out->limits),
			 "kernel BTF (/sys/kernel/btf/vmlinux) unreadable: %s", strerror(-err));
		return 0;
	}
	const struct st_candidate *c = st_probe_resolve(id, avail);
	if (!c) {
		/* say which source is missing from the first candidate */
		const struct st_candidate *first = &st_probes[id].cand[0];
		size_t len = 0;
		for (int i = 0; i < SRC__COUNT; i++)
			if ((first->sources & (1u << i)) && !(avail & (1u << i)))
				len += snprintf(out->limits + len, sizeof(out->limits) - len,
						"%s%s missing (Linux >= %s)", len ? "; " : "",
						st_sources[i].name, st_sources[i].since);
		return 0;
	}
	out->available = true;
	size_t len = 0;
	for (int i = 0; i < SRC__COUNT && len < sizeof(out->mechanism); i++)
		if (c->sources & (1u << i))
			len += snprintf(out->mechanism + len, sizeof(out->mechanism) - len, "%s%s",
					len ? " + " : "", st_sources[i].name);
	snprintf(out->limits, sizeof(out->limits), "%s", c->limits);
	return 0;
}
