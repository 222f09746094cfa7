// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * sock_*_num2str()/str2num(), sock_flags_num2str(), msg_flags_num2str():
 * SystemTap's spellings, the newer kernel numbers (checked against the
 * libc headers' constants), aliases, and flag decoding on this kernel.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <netinet/in.h>
#include <unistd.h>

#include "socktap.h"
#include "names.h"
#include "testlib.h"

typedef const char *(*num2str_fn)(long);
typedef long (*str2num_fn)(const char *);

struct table_case {
	const char *what;
	const struct socktap_name *(*get)(size_t *cnt);
	num2str_fn num2str;
	str2num_fn str2num;
};

static const struct table_case tables[] = {
    {"prot", socktap_prot_names, sock_prot_num2str, sock_prot_str2num},
    {"fam", socktap_fam_names, sock_fam_num2str, sock_fam_str2num},
    {"state", socktap_state_names, sock_state_num2str, sock_state_str2num},
    {"type", socktap_type_names, sock_type_num2str, sock_type_str2num},
};

static int ascii_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;

		if (x != y || !x)
			return x - y;
	}
}

static void test_tables_well_formed(void)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		size_t cnt;
		const struct socktap_name *v = tables[t].get(&cnt);

		ASSERT_TRUE(cnt > 0, tables[t].what);
		for (size_t i = 0; i < cnt; i++) {
			ASSERT_TRUE(v[i].name && v[i].name[0], tables[t].what);
			if (i)
				ASSERT_TRUE(v[i - 1].num < v[i].num, v[i].name);
			/* Case-insensitive lookup needs names unique ignoring case. */
			for (size_t j = i + 1; j < cnt; j++)
				if (!ASSERT_TRUE(ascii_casecmp(v[i].name, v[j].name) != 0,
						 v[i].name))
					printf("  duplicate: %s / %s\n", v[i].name, v[j].name);
		}
	}
}

static void test_round_trip(void)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		size_t cnt;
		const struct socktap_name *v = tables[t].get(&cnt);

		for (size_t i = 0; i < cnt; i++) {
			ASSERT_EQ(tables[t].str2num(v[i].name), v[i].num, v[i].name);
			ASSERT_STREQ(tables[t].num2str(v[i].num), v[i].name, v[i].name);
			ASSERT_STREQ(tables[t].num2str(tables[t].str2num(v[i].name)), v[i].name,
				     v[i].name);
			ASSERT_EQ(tables[t].str2num(tables[t].num2str(v[i].num)), v[i].num,
				  v[i].name);
		}
	}
}

static void test_table_sizes(void)
{
	size_t cnt;

	/* SystemTap's 133 protocols + ETHERNET, AGGFRAG, RAW, SMC, MPTCP. */
	socktap_prot_names(&cnt);
	ASSERT_EQ(cnt, 133 + 5, "prot count");
	socktap_fam_names(&cnt);
	ASSERT_EQ(cnt, 46, "fam count (0..45, all)");
	socktap_state_names(&cnt);
	ASSERT_EQ(cnt, 5, "state count");
	socktap_type_names(&cnt);
	ASSERT_EQ(cnt, 7, "type count");
}

static void test_systemtap_spellings(void)
{
	ASSERT_STREQ(sock_fam_num2str(1), "LOCAL", "fam 1");
	ASSERT_STREQ(sock_fam_num2str(12), "DECNET", "fam 12");
	ASSERT_STREQ(sock_fam_num2str(33), "RXRPC", "fam 33");
	ASSERT_STREQ(sock_prot_num2str(0), "IP", "prot 0");
	ASSERT_STREQ(sock_prot_num2str(4), "IPENCAP", "prot 4");
	ASSERT_STREQ(sock_prot_num2str(33), "SEP", "prot 33");
	ASSERT_STREQ(sock_prot_num2str(39), "TP++", "prot 39");
	ASSERT_STREQ(sock_prot_num2str(58), "IPV6-ICMP", "prot 58");
	ASSERT_STREQ(sock_prot_num2str(93), "AX.25", "prot 93");
	ASSERT_STREQ(sock_prot_num2str(94), "IPIP", "prot 94");
	ASSERT_STREQ(sock_prot_num2str(107), "A/N", "prot 107");
	ASSERT_STREQ(sock_prot_num2str(135), "Mobility-Header", "prot 135");
	ASSERT_STREQ(sock_prot_num2str(136), "UDPLite", "prot 136");
	ASSERT_STREQ(sock_prot_num2str(137), "MPLS-IN-IP", "prot 137");
	ASSERT_STREQ(sock_state_num2str(0), "FREE", "state 0");
	ASSERT_STREQ(sock_state_num2str(4), "DISCONNECTING", "state 4");
	ASSERT_STREQ(sock_type_num2str(6), "DCCP", "type 6");
	ASSERT_STREQ(sock_type_num2str(10), "PACKET", "type 10");
}

static void test_newer_numbers(void)
{
	ASSERT_STREQ(sock_prot_num2str(143), "ETHERNET", "prot 143");
	ASSERT_STREQ(sock_prot_num2str(144), "AGGFRAG", "prot 144");
	ASSERT_STREQ(sock_prot_num2str(255), "RAW", "prot 255");
	ASSERT_STREQ(sock_prot_num2str(256), "SMC", "prot 256");
	ASSERT_STREQ(sock_prot_num2str(262), "MPTCP", "prot 262");
	ASSERT_STREQ(sock_fam_num2str(21), "RDS", "fam 21");
	ASSERT_STREQ(sock_fam_num2str(27), "IB", "fam 27");
	ASSERT_STREQ(sock_fam_num2str(28), "MPLS", "fam 28");
	ASSERT_STREQ(sock_fam_num2str(29), "CAN", "fam 29");
	ASSERT_STREQ(sock_fam_num2str(40), "VSOCK", "fam 40");
	ASSERT_STREQ(sock_fam_num2str(44), "XDP", "fam 44");
	ASSERT_STREQ(sock_fam_num2str(45), "MCTP", "fam 45");
}

/* Numbers from this machine's libc/uapi headers, not from names.c. */
/* clang-format off */
#define FAM(x) {AF_##x, "AF_" #x}
#define PROT(x) {IPPROTO_##x, "IPPROTO_" #x}
/* clang-format on */

static void test_header_constants(void)
{
	static const struct socktap_name fams[] = {
	    FAM(UNSPEC),  FAM(LOCAL),	  FAM(UNIX),   FAM(FILE),	FAM(INET),	FAM(AX25),
	    FAM(IPX),	  FAM(APPLETALK), FAM(NETROM), FAM(BRIDGE),	FAM(ATMPVC),	FAM(X25),
	    FAM(INET6),	  FAM(ROSE),	  FAM(DECnet), FAM(NETBEUI),	FAM(SECURITY),	FAM(KEY),
	    FAM(NETLINK), FAM(ROUTE),	  FAM(PACKET), FAM(ASH),	FAM(ECONET),	FAM(ATMSVC),
	    FAM(RDS),	  FAM(SNA),	  FAM(IRDA),   FAM(PPPOX),	FAM(WANPIPE),	FAM(LLC),
	    FAM(IB),	  FAM(MPLS),	  FAM(CAN),    FAM(TIPC),	FAM(BLUETOOTH), FAM(IUCV),
	    FAM(RXRPC),	  FAM(ISDN),	  FAM(PHONET), FAM(IEEE802154), FAM(CAIF),	FAM(ALG),
	    FAM(NFC),	  FAM(VSOCK),	  FAM(KCM),    FAM(QIPCRTR),	FAM(SMC),	FAM(XDP),
	    FAM(MCTP),
	};
	/* glibc has no IPPROTO_L2TP: 115 is from include/uapi/linux/in.h. */
	static const struct socktap_name prots[] = {
	    PROT(IP),	  PROT(ICMP),  PROT(IGMP),    PROT(IPIP),    PROT(TCP),
	    PROT(EGP),	  PROT(PUP),   PROT(UDP),     PROT(IDP),     PROT(TP),
	    PROT(DCCP),	  PROT(IPV6),  PROT(RSVP),    PROT(GRE),     PROT(ESP),
	    PROT(AH),	  PROT(MTP),   PROT(BEETPH),  PROT(ENCAP),   PROT(PIM),
	    PROT(COMP),	  PROT(SCTP),  PROT(UDPLITE), PROT(MPLS),    PROT(ETHERNET),
	    PROT(RAW),	  PROT(MPTCP), PROT(HOPOPTS), PROT(ROUTING), PROT(FRAGMENT),
	    PROT(ICMPV6), PROT(NONE),  PROT(DSTOPTS), PROT(MH),	     {115, "IPPROTO_L2TP"},
	};
	char name[64];

	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		ASSERT_EQ(sock_fam_str2num(fams[i].name), fams[i].num, fams[i].name);
		snprintf(name, sizeof(name), "P%s", fams[i].name + 1); /* PF_ spelling */
		ASSERT_EQ(sock_fam_str2num(name), fams[i].num, name);
		ASSERT_TRUE(strcmp(sock_fam_num2str(fams[i].num), "UNDEF"), fams[i].name);
	}
	ASSERT_EQ(AF_MAX, 46, "AF_MAX: a new family needs a table entry");
	for (size_t i = 0; i < sizeof(prots) / sizeof(prots[0]); i++) {
		ASSERT_EQ(sock_prot_str2num(prots[i].name), prots[i].num, prots[i].name);
		ASSERT_TRUE(strcmp(sock_prot_num2str(prots[i].num), "UNDEF"), prots[i].name);
	}
	ASSERT_EQ(sock_type_str2num("SOCK_STREAM"), SOCK_STREAM, "SOCK_STREAM");
	ASSERT_EQ(sock_type_str2num("SOCK_DGRAM"), SOCK_DGRAM, "SOCK_DGRAM");
	ASSERT_EQ(sock_type_str2num("SOCK_RAW"), SOCK_RAW, "SOCK_RAW");
	ASSERT_EQ(sock_type_str2num("SOCK_RDM"), SOCK_RDM, "SOCK_RDM");
	ASSERT_EQ(sock_type_str2num("SOCK_SEQPACKET"), SOCK_SEQPACKET, "SOCK_SEQPACKET");
	ASSERT_EQ(sock_type_str2num("SOCK_DCCP"), SOCK_DCCP, "SOCK_DCCP");
	ASSERT_EQ(sock_type_str2num("SOCK_PACKET"), SOCK_PACKET, "SOCK_PACKET");
}

static void test_undef(void)
{
	ASSERT_STREQ(sock_prot_num2str(-1), "UNDEF", "prot -1");
	ASSERT_STREQ(sock_prot_num2str(61), "UNDEF", "prot 61 (gap)");
	ASSERT_STREQ(sock_prot_num2str(138), "UNDEF", "prot 138");
	ASSERT_STREQ(sock_prot_num2str(263), "UNDEF", "prot 263");
	ASSERT_STREQ(sock_prot_num2str(LONG_MAX), "UNDEF", "prot LONG_MAX");
	ASSERT_STREQ(sock_prot_num2str(LONG_MIN), "UNDEF", "prot LONG_MIN");
	ASSERT_STREQ(sock_fam_num2str(-1), "UNDEF", "fam -1");
	ASSERT_STREQ(sock_fam_num2str(46), "UNDEF", "fam 46");
	ASSERT_STREQ(sock_state_num2str(5), "UNDEF", "state 5");
	ASSERT_STREQ(sock_state_num2str(-1), "UNDEF", "state -1");
	ASSERT_STREQ(sock_type_num2str(0), "UNDEF", "type 0");
	ASSERT_STREQ(sock_type_num2str(7), "UNDEF", "type 7");
	/* SystemTap semantics: SOCK_NONBLOCK/SOCK_CLOEXEC are not masked off. */
	ASSERT_STREQ(sock_type_num2str(SOCK_STREAM | SOCK_NONBLOCK), "UNDEF", "type NONBLOCK");
}

static void test_minus_one(void)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		ASSERT_EQ(tables[t].str2num(NULL), -1, tables[t].what);
		ASSERT_EQ(tables[t].str2num(""), -1, tables[t].what);
		ASSERT_EQ(tables[t].str2num("UNDEF"), -1, tables[t].what);
		ASSERT_EQ(tables[t].str2num("nonsense"), -1, tables[t].what);
	}
	ASSERT_EQ(sock_prot_str2num("6"), -1, "decimal not accepted");
	ASSERT_EQ(sock_fam_str2num("2"), -1, "decimal not accepted");
	ASSERT_EQ(sock_prot_str2num(" TCP"), -1, "leading space");
	ASSERT_EQ(sock_prot_str2num("TCP "), -1, "trailing space");
	ASSERT_EQ(sock_prot_str2num("TC"), -1, "prefix of a name");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_"), -1, "bare prefix");
	ASSERT_EQ(sock_fam_str2num("AF_"), -1, "bare prefix");
	ASSERT_EQ(sock_fam_str2num("AF_AF_INET"), -1, "prefix stripped once");
	ASSERT_EQ(sock_type_str2num("SOCK_"), -1, "bare prefix");
	ASSERT_EQ(sock_state_str2num("SS_"), -1, "bare prefix");
	/* Prefixes and aliases belong to their own table. */
	ASSERT_EQ(sock_prot_str2num("AF_TCP"), -1, "AF_ on a protocol");
	ASSERT_EQ(sock_fam_str2num("IPPROTO_INET"), -1, "IPPROTO_ on a family");
	ASSERT_EQ(sock_type_str2num("SS_DGRAM"), -1, "SS_ on a type");
	ASSERT_EQ(sock_state_str2num("SOCK_CONNECTED"), -1, "SOCK_ on a state");
	ASSERT_EQ(sock_prot_str2num("UNIX"), -1, "family alias on a protocol");
	/* Kernel-only protocol spellings need their prefix. */
	ASSERT_EQ(sock_prot_str2num("NONE"), -1, "bare NONE");
	ASSERT_EQ(sock_prot_str2num("DCCP"), -1, "bare DCCP");
}

static void test_aliases(void)
{
	ASSERT_EQ(sock_fam_str2num("UNIX"), 1, "UNIX");
	ASSERT_EQ(sock_fam_str2num("FILE"), 1, "FILE");
	ASSERT_EQ(sock_fam_str2num("ROUTE"), 16, "ROUTE");
	ASSERT_EQ(sock_fam_str2num("AF_UNIX"), 1, "AF_UNIX");
	ASSERT_EQ(sock_fam_str2num("pf_unix"), 1, "pf_unix");
	ASSERT_EQ(sock_fam_str2num("AF_INET"), 2, "AF_INET");
	ASSERT_EQ(sock_fam_str2num("af_inet"), 2, "af_inet");
	ASSERT_EQ(sock_fam_str2num("inet6"), 10, "inet6");
	ASSERT_EQ(sock_fam_str2num("PF_INET6"), 10, "PF_INET6");
	ASSERT_EQ(sock_fam_str2num("DECnet"), 12, "DECnet");
	ASSERT_EQ(sock_fam_str2num("Netlink"), 16, "Netlink");

	ASSERT_EQ(sock_prot_str2num("IPPROTO_TCP"), 6, "IPPROTO_TCP");
	ASSERT_EQ(sock_prot_str2num("ipproto_udp"), 17, "ipproto_udp");
	ASSERT_EQ(sock_prot_str2num("tcp"), 6, "tcp");
	ASSERT_EQ(sock_prot_str2num("ICMPV6"), 58, "ICMPV6");
	ASSERT_EQ(sock_prot_str2num("icmpv6"), 58, "icmpv6");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_ICMPV6"), 58, "IPPROTO_ICMPV6");
	ASSERT_EQ(sock_prot_str2num("UDPLITE"), 136, "UDPLITE");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_UDPLITE"), 136, "IPPROTO_UDPLITE");
	ASSERT_EQ(sock_prot_str2num("IPV4"), 4, "IPV4");
	ASSERT_EQ(sock_prot_str2num("IPENCAP"), 4, "IPENCAP");
	/* SystemTap's exact name wins; only the kernel's prefixed name is 4. */
	ASSERT_EQ(sock_prot_str2num("IPIP"), 94, "IPIP");
	ASSERT_EQ(sock_prot_str2num("ipip"), 94, "ipip");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_IPIP"), 4, "IPPROTO_IPIP");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_BEETPH"), 94, "IPPROTO_BEETPH");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_DCCP"), 33, "IPPROTO_DCCP");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_MPTCP"), 262, "IPPROTO_MPTCP");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_SMC"), 256, "IPPROTO_SMC");
	ASSERT_EQ(sock_prot_str2num("IPPROTO_AGGFRAG"), 144, "IPPROTO_AGGFRAG");
	ASSERT_EQ(sock_prot_str2num("mobility-header"), 135, "mobility-header");

	ASSERT_EQ(sock_type_str2num("SOCK_DGRAM"), 2, "SOCK_DGRAM");
	ASSERT_EQ(sock_type_str2num("sock_stream"), 1, "sock_stream");
	ASSERT_EQ(sock_type_str2num("seqpacket"), 5, "seqpacket");
	ASSERT_EQ(sock_state_str2num("SS_CONNECTED"), 3, "SS_CONNECTED");
	ASSERT_EQ(sock_state_str2num("ss_free"), 0, "ss_free");
	ASSERT_EQ(sock_state_str2num("connected"), 3, "connected");
}

static void flags_str(unsigned long flags, char *buf, size_t len)
{
	ASSERT_TRUE(sock_flags_num2str(flags, buf, len) == buf, "returns buf");
}

static void test_sock_flags_common(void)
{
	char buf[256];

	flags_str(0, buf, sizeof(buf));
	ASSERT_STREQ(buf, "", "0");
	flags_str(1UL << 0, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ASYNC_NOSPACE", "bit 0");
	flags_str(1UL << 1, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ASYNC_WAITDATA", "bit 1");
	flags_str(1UL << 2, buf, sizeof(buf));
	ASSERT_STREQ(buf, "NOSPACE", "bit 2");
	flags_str((1UL << 0) | (1UL << 2), buf, sizeof(buf));
	ASSERT_STREQ(buf, "ASYNC_NOSPACE|NOSPACE", "bits 0|2");
	flags_str(7, buf, sizeof(buf));
	ASSERT_STREQ(buf, "ASYNC_NOSPACE|ASYNC_WAITDATA|NOSPACE", "bits 0|1|2");
	flags_str(1UL << 40, buf, sizeof(buf));
	ASSERT_STREQ(buf, "0x10000000000", "bit 40");
	flags_str(1UL << 63, buf, sizeof(buf));
	ASSERT_STREQ(buf, "0x8000000000000000", "bit 63");
	flags_str((1UL << 40) | (1UL << 2) | (1UL << 41), buf, sizeof(buf));
	ASSERT_STREQ(buf, "NOSPACE|0x10000000000|0x20000000000", "bit order");
}

/* Kernel version, as major * 1000 + minor; 0 if unknown. */
static int kernel_version(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

static void test_sock_flags_running_kernel(void)
{
	int ver = kernel_version();
	char buf[256];

	/* Every named bit decodes to exactly its name. */
	for (unsigned int bit = 0; bit < sizeof(unsigned long) * CHAR_BIT; bit++) {
		const char *name = socktap_sock_flag_name(bit);

		flags_str(1UL << bit, buf, sizeof(buf));
		if (name) {
			ASSERT_STREQ(buf, name, "named bit");
			ASSERT_TRUE(strncmp(name, "SOCK", 4), "prefix stripped");
		} else {
			char hex[32];

			snprintf(hex, sizeof(hex), "0x%lx", 1UL << bit);
			ASSERT_STREQ(buf, hex, "unnamed bit");
		}
	}
	printf("  # kernel %d.%d, bits 3..5: %s %s %s\n", ver / 1000, ver % 1000,
	       socktap_sock_flag_name(3) ?: "-", socktap_sock_flag_name(4) ?: "-",
	       socktap_sock_flag_name(5) ?: "-");
	if (ver >= 6016) {
		/* enum socket_flags: PASSCRED and PASSSEC are gone. */
		flags_str(1UL << 3, buf, sizeof(buf));
		ASSERT_STREQ(buf, "SUPPORT_ZC", "6.16+ bit 3");
		flags_str(1UL << 4, buf, sizeof(buf));
		ASSERT_STREQ(buf, "CUSTOM_SOCKOPT", "6.16+ bit 4");
		flags_str((1UL << 2) | (1UL << 3), buf, sizeof(buf));
		ASSERT_STREQ(buf, "NOSPACE|SUPPORT_ZC", "6.16+ bits 2|3");
	} else if (ver && access("/sys/kernel/btf/vmlinux", R_OK) == 0) {
		flags_str(1UL << 3, buf, sizeof(buf));
		ASSERT_STREQ(buf, "PASSCRED", "pre-6.16 bit 3");
		flags_str(1UL << 4, buf, sizeof(buf));
		ASSERT_STREQ(buf, "PASSSEC", "pre-6.16 bit 4");
	}
}

static void test_flags_truncation(void)
{
	char buf[16];

	memset(buf, 'X', sizeof(buf));
	sock_flags_num2str(5, buf, 8);
	ASSERT_STREQ(buf, "ASYNC_N", "sock flags into 8 bytes");
	ASSERT_EQ(buf[8], 'X', "no write past len");

	memset(buf, 'X', sizeof(buf));
	sock_flags_num2str(5, buf, 14);
	ASSERT_STREQ(buf, "ASYNC_NOSPACE", "exactly one name fits");
	ASSERT_EQ(buf[14], 'X', "no write past len");

	memset(buf, 'X', sizeof(buf));
	sock_flags_num2str(1UL << 63, buf, 5);
	ASSERT_STREQ(buf, "0x80", "hex truncated");
	ASSERT_EQ(buf[5], 'X', "no write past len");

	memset(buf, 'X', sizeof(buf));
	sock_flags_num2str(5, buf, 1);
	ASSERT_STREQ(buf, "", "len 1");
	ASSERT_EQ(buf[1], 'X', "no write past len");

	memset(buf, 'X', sizeof(buf));
	ASSERT_TRUE(sock_flags_num2str(5, buf, 0) == buf, "len 0 returns buf");
	ASSERT_EQ(buf[0], 'X', "len 0 writes nothing");

	memset(buf, 'X', sizeof(buf));
	msg_flags_num2str(MSG_PEEK | MSG_DONTWAIT, buf, 7);
	ASSERT_STREQ(buf, "PEEK|D", "msg flags into 7 bytes");
	ASSERT_EQ(buf[7], 'X', "no write past len");

	memset(buf, 'X', sizeof(buf));
	ASSERT_TRUE(msg_flags_num2str(MSG_PEEK, buf, 0) == buf, "len 0 returns buf");
	ASSERT_EQ(buf[0], 'X', "len 0 writes nothing");
}

static const char *msg_str(unsigned long flags)
{
	static char buf[512];

	ASSERT_TRUE(msg_flags_num2str(flags, buf, sizeof(buf)) == buf, "returns buf");
	return buf;
}

static void test_msg_flags(void)
{
	ASSERT_STREQ(msg_str(0), "", "0");
	ASSERT_STREQ(msg_str(MSG_PEEK | MSG_DONTWAIT), "PEEK|DONTWAIT", "PEEK|DONTWAIT");
	ASSERT_STREQ(msg_str(MSG_DONTROUTE), "DONTROUTE|TRYHARD", "TRYHARD is DONTROUTE");
	ASSERT_STREQ(msg_str(MSG_PROXY), "PROBE", "kernel MSG_PROBE is glibc MSG_PROXY");
	ASSERT_STREQ(msg_str(MSG_NOSIGNAL | MSG_MORE), "NOSIGNAL|MORE", "NOSIGNAL|MORE");
	ASSERT_STREQ(msg_str(MSG_OOB | MSG_PEEK | MSG_DONTROUTE | MSG_CTRUNC | MSG_PROXY |
			     MSG_TRUNC | MSG_DONTWAIT | MSG_EOR | MSG_WAITALL | MSG_FIN | MSG_SYN |
			     MSG_CONFIRM | MSG_RST | MSG_ERRQUEUE | MSG_NOSIGNAL | MSG_MORE),
		     "OOB|PEEK|DONTROUTE|TRYHARD|CTRUNC|PROBE|TRUNC|DONTWAIT|EOR|WAITALL|FIN|"
		     "SYN|CONFIRM|RST|ERRQUEUE|NOSIGNAL|MORE",
		     "all of SystemTap's");
	ASSERT_STREQ(
	    msg_str(MSG_WAITFORONE | MSG_BATCH | MSG_ZEROCOPY | MSG_FASTOPEN | MSG_CMSG_CLOEXEC),
	    "WAITFORONE|BATCH|ZEROCOPY|FASTOPEN|CMSG_CLOEXEC", "newer flags");
	ASSERT_STREQ(msg_str(0x20000), "0x20000", "unknown bit");
	ASSERT_STREQ(msg_str(0x80000000UL), "0x80000000", "MSG_CMSG_COMPAT is internal");
	ASSERT_STREQ(msg_str(MSG_OOB | 0x20000 | MSG_BATCH), "OOB|BATCH|0x20000",
		     "names, then unknown bits");
	ASSERT_STREQ(msg_str(1UL << 63), "0x8000000000000000", "bit 63");
}

/* First use from several threads at once: pthread_once must make it safe. */
static void *flags_thread(void *arg)
{
	char buf[64];

	sock_flags_num2str(5, buf, sizeof(buf));
	*(int *)arg = strcmp(buf, "ASYNC_NOSPACE|NOSPACE") == 0;
	return NULL;
}

static void test_first_use_threads(void)
{
	pthread_t th[8];
	int ok[8] = {0};

	for (int i = 0; i < 8; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, flags_thread, &ok[i]), 0, "pthread_create");
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ASSERT_TRUE(ok[i], "thread result");
	}
}

static void run(void)
{
	/* Must run first: it is the flags table's first use. */
	SUBTEST("sock_flags first use from threads") test_first_use_threads();
	SUBTEST("tables sorted, names unique ignoring case") test_tables_well_formed();
	SUBTEST("table sizes") test_table_sizes();
	SUBTEST("every entry round-trips") test_round_trip();
	SUBTEST("SystemTap spellings") test_systemtap_spellings();
	SUBTEST("Linux 6.x numbers") test_newer_numbers();
	SUBTEST("AF_/IPPROTO_/SOCK_ constants from libc headers") test_header_constants();
	SUBTEST("num2str UNDEF") test_undef();
	SUBTEST("str2num -1") test_minus_one();
	SUBTEST("str2num aliases") test_aliases();
	SUBTEST("sock_flags_num2str common bits") test_sock_flags_common();
	SUBTEST("sock_flags_num2str running kernel") test_sock_flags_running_kernel();
	SUBTEST("flags truncation stays NUL-terminated") test_flags_truncation();
	SUBTEST("msg_flags_num2str") test_msg_flags();
}

TEST_MAIN(run)
