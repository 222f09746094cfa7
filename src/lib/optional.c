// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The optional pieces and how a refusal is traced back to one of them. */
#include <errno.h>
#include <string.h>
#include "optional.h"
#include "probes.h"

const struct st_feature_def st_features[ST_FEAT__COUNT] = {
    [ST_FEAT_FD_COOKIE] = {"fd_cookie",
			   "socket ids made from an fd in the kernel (for sockets that moved no "
			   "data, unix and netlink ones get theirs from the socket iterators "
			   "while they exist; others show null)",
			   "st_sys_enter st_sys_exit st_exit", "bpf_sock_from_file"},
    [ST_FEAT_XFER_COOKIE] = {"xfer_cookie",
			     "socket ids made at sends and receives (sockets whose id no one made "
			     "yet show null)",
			     "st_send st_recv st_send_fexit st_send_fexit_old st_recv_fexit "
			     "st_recv_nosec_fexit st_mmsg_fexit",
			     "bpf_get_socket_cookie"},
    [ST_FEAT_STACK] = {"stack",
		       "telling io_uring READ/WRITE from SEND/RECV (they count as "
		       "sendmsg/recvmsg)",
		       "st_send st_recv st_send_fexit st_send_fexit_old st_recv_fexit "
		       "st_recv_nosec_fexit st_mmsg_fexit st_send_kretprobe st_send_kretprobe_old "
		       "st_recv_kretprobe st_recv_nosec_kretprobe st_mmsg_kretprobe",
		       "bpf_get_stack"},
    [ST_FEAT_COOKIE_MAKER] = {"st_sock_create",
			      "socket ids of new inet sockets at birth (made at their first "
			      "event instead, where possible)",
			      "st_sock_create", NULL, true},
    [ST_FEAT_ITER_UNIX] = {"st_iter_unix",
			   "socket ids of unix sockets that moved no data, where the fd step "
			   "cannot make them (fds past 64, or fd_cookie refused)",
			   "st_iter_unix", NULL, true},
    [ST_FEAT_ITER_NETLINK] = {"st_iter_netlink",
			      "socket ids of netlink sockets that moved no data, where the fd "
			      "step cannot make them",
			      "st_iter_netlink", NULL, true},
    /* every program that makes a record or counts: the helper is in rec_init() */
    [ST_FEAT_CGROUP] = {"cgroup", "the task's cgroup (cgroup, cgroup_id and container: null)",
			"st_send st_recv st_send_fexit st_send_fexit_old st_recv_fexit "
			"st_recv_nosec_fexit st_mmsg_fexit st_secsend_fexit "
			"st_sock_sendmsg_armed st_sendto_armed st_write_iter_armed "
			"st_sysmsg_armed st_sendpage_fexit st_fsendpage_fexit st_send_kretprobe "
			"st_send_kretprobe_old st_recv_kretprobe st_recv_nosec_kretprobe "
			"st_mmsg_kretprobe st_secsend_kretprobe st_sock_sendmsg_armed_kp "
			"st_sendto_armed_kp st_write_iter_armed_kp st_sysmsg_armed_kp "
			"st_sendpage_kretprobe st_fsendpage_kretprobe st_sys_exit st_sysc_exit "
			"st_exit st_kcreate_fexit st_krelease_fentry",
			"bpf_get_current_cgroup_id"},
    [ST_FEAT_MSG_ADDR] = {"msg_addr",
			  "destinations that datagram sends name (raddr of an unconnected "
			  "socket's send: null)",
			  "st_send st_send_fexit st_send_fexit_old st_mmsg_fexit st_secsend_fexit "
			  "st_sock_sendmsg_armed st_sendto_armed st_write_iter_armed "
			  "st_sysmsg_armed st_sendpage_fexit st_fsendpage_fexit st_send_kretprobe "
			  "st_send_kretprobe_old st_mmsg_kretprobe st_secsend_kretprobe "
			  "st_sock_sendmsg_armed_kp st_sendto_armed_kp st_write_iter_armed_kp "
			  "st_sysmsg_armed_kp st_sendpage_kretprobe st_fsendpage_kretprobe",
			  "bpf_probe_read_user"},
    [ST_FEAT_DGRAM_SRC] = {"dgram_src",
			   "sources of received datagrams (raddr of an unconnected socket's "
			   "receive: null)",
			   "st_recvmsg4 st_recvmsg6 st_dgram_src", NULL, true},
    [ST_FEAT_SELFTEST] = {"selftest", "nothing (a test of the refusal path)",
			  "st_send st_send_fexit st_send_fexit_old st_mmsg_fexit st_send_kretprobe "
			  "st_send_kretprobe_old st_mmsg_kretprobe",
			  "invalid mem access"},
};

bool st_word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

int st_feature_blamed(const char *prog, const char *log, uint32_t enabled)
{
	int first = -1;
	if (!prog)
		return -1;
	for (int f = 0; f < ST_FEAT__COUNT; f++) {
		if (!(enabled >> f & 1) || !st_word_in(st_features[f].progs, prog))
			continue;
		if (log && st_features[f].hint && strstr(log, st_features[f].hint))
			return f;
		if (first < 0)
			first = f;
	}
	return first;
}

static bool bookkeeping(const char *line, size_t n)
{
	static const char *const noise[] = {
	    "processed ", "verification time", "stack depth", "-- END",
	    "-- BEGIN",	  "libbpf:",	       "mark_precise"};
	if (n == 0)
		return true;
	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		if (n >= strlen(noise[i]) && strncmp(line, noise[i], strlen(noise[i])) == 0)
			return true;
	return false;
}

void st_verifier_reason(const char *log, char *out, size_t len)
{
	const char *best = NULL;
	size_t best_n = 0;
	if (len)
		out[0] = '\0';
	for (const char *p = log; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!bookkeeping(p, n)) {
			best = p;
			best_n = n;
		}
		p = e ? e + 1 : NULL;
	}
	if (best && len) {
		if (best_n >= len)
			best_n = len - 1;
		memcpy(out, best, best_n);
		out[best_n] = '\0';
	}
}

const char *const st_kernel_facts[ST_KF__COUNT] = {
    [ST_KF_LOOP] = "bpf_loop",
    [ST_KF_TASK_BTF] = "task_btf",
    [ST_KF_TASK_STORAGE] = "task_storage",
    [ST_KF_TASK_REGS] = "task_regs",
    [ST_KF_SYSCALL_TP] = "syscall_tracepoints",
};

int st_refuse_parse(const char *spec, uint32_t *features, uint64_t *sources, uint32_t *kernel,
		    const char **bad, size_t *bad_len)
{
	*features = 0;
	*sources = 0;
	*kernel = 0;
	for (const char *p = spec; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		bool found = n == 0;
		for (int f = 0; f < ST_FEAT__COUNT && !found; f++)
			if (strlen(st_features[f].name) == n &&
			    !strncmp(st_features[f].name, p, n)) {
				*features |= 1u << f;
				found = true;
			}
		for (int k = 0; k < ST_KF__COUNT && !found; k++)
			if (strlen(st_kernel_facts[k]) == n && !strncmp(st_kernel_facts[k], p, n)) {
				*kernel |= 1u << k;
				found = true;
			}
		for (int s = 0; s < SRC__COUNT && !found; s++)
			if (strlen(st_sources[s].prog) == n && !strncmp(st_sources[s].prog, p, n)) {
				*sources |= 1ull << s;
				found = true;
			}
		if (!found) {
			*bad = p;
			*bad_len = n;
			return -EINVAL;
		}
		p = e ? e + 1 : NULL;
	}
	return 0;
}
