/* SPDX-License-Identifier: GPL-2.0 */
/* The in-kernel filters: process sets, families, types, protocols. */
#ifndef ST_FILTER_BPF_H
#define ST_FILTER_BPF_H

static __always_inline bool task_selected(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (filter_target && !bpf_map_lookup_elem(&targets, &tgid))
		return false;
	if (filter_pid && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	if (filter_uid) {
		__u32 uid = (__u32)bpf_get_current_uid_gid();
		if (!bpf_map_lookup_elem(&uids, &uid))
			return false;
	}
	if (filter_comm) {
		char comm[16] = {};
		bpf_get_current_comm(comm, sizeof(comm));
		if (!bpf_map_lookup_elem(&comms, comm))
			return false;
	}
	return true;
}

static __always_inline bool sock_selected(__s32 family, __s32 type, __s32 protocol)
{
	if (filter_family && (family < 0 || family >= 64 || !(family_bits & (1ULL << family))))
		return false;
	if (filter_type && (type < 0 || type >= 32 || !(type_bits & (1U << type))))
		return false;
	if (filter_proto) {
		if (protocol < 0 || protocol >= 320)
			return false;
		__u32 p = (__u32)protocol;
		__u32 w = p / 64;
		/* keep the bound in the register that indexes the array */
		asm volatile("%0 &= 7" : "+r"(w));
		if (w >= 5 || !(proto_bits[w] & (1ULL << (p % 64))))
			return false;
	}
	return true;
}

#endif /* ST_FILTER_BPF_H */
