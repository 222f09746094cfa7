/* SPDX-License-Identifier: GPL-2.0 */
/* The in-kernel filters: process sets, cgroups, families, types, protocols, addresses, ports. */
#ifndef ST_FILTER_BPF_H
#define ST_FILTER_BPF_H

/* --addr: one trie for both families, IPv4 as ::ffff:a.b.c.d (prefix + 96) */
struct addr_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ST_FILTER_ADDR_MAX);
	__type(key, struct addr_lpm_key);
	__type(value, __u8);
} addr_filter SEC(".maps");

/* --cgroup: the cgroups a task must be in (or below) */
#define CGROUP_FILTER_MAX ST_FILTER_CGROUP_MAX
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, CGROUP_FILTER_MAX);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

static __always_inline bool selected_cgroup(void)
{
	if (!filter_cgroups)
		return true;
	for (__u32 i = 0; i < CGROUP_FILTER_MAX && i < filter_cgroups; i++)
		if (bpf_current_task_under_cgroup(&cgroup_filter, i) == 1)
			return true;
	return false;
}

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
	if (filter_cgroups && !selected_cgroup())
		return false;
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

/* --port: either end */
static __always_inline bool port_in(__u16 p)
{
	__u32 w = p / 64;
	asm volatile("%0 &= 1023" : "+r"(w));
	return port_bits[w] & (1ULL << (p % 64));
}

static __always_inline bool addr_in(const __u8 *addr, __u8 family)
{
	struct addr_lpm_key k = {.prefixlen = 128};
	if (family == ST_AF_INET) {
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		__builtin_memcpy(k.addr + 12, addr, 4);
	} else if (family == ST_AF_INET6) {
		__builtin_memcpy(k.addr, addr, 16);
	} else {
		return false;
	}
	return bpf_map_lookup_elem(&addr_filter, &k) != 0;
}

/* The address filters, on an event's two ends: either end matches. */
static __always_inline bool addrs_selected(const struct st_addrs *a)
{
	if (filter_port &&
	    !((a->lfamily && port_in(a->lport)) || (a->rfamily && port_in(a->rport))))
		return false;
	if (filter_addr && !addr_in(a->laddr, a->lfamily) && !addr_in(a->raddr, a->rfamily))
		return false;
	return true;
}

#endif /* ST_FILTER_BPF_H */
