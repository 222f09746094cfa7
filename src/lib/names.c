// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * SystemTap's socket helper functions: sock_{prot,fam,state,type}_num2str()
 * and _str2num(), sock_flags_num2str() and msg_flags_num2str().
 *
 * Every name SystemTap's tapset knows keeps its spelling, so scripts and
 * output stay comparable; numbers it never knew come from the Linux 6.x
 * headers (checked against this kernel's BTF and the installed uapi/libc
 * headers).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "socktap.h"
#include "names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Protocols: 0..137 are SystemTap's table (from an old /etc/protocols, so
 * e.g. 33 is "SEP" rather than DCCP); above that, include/uapi/linux/in.h.
 */
static const struct socktap_name prot_names[] = {
    {0, "IP"},
    {1, "ICMP"},
    {2, "IGMP"},
    {3, "GGP"},
    {4, "IPENCAP"},
    {5, "ST"},
    {6, "TCP"},
    {7, "CBT"},
    {8, "EGP"},
    {9, "IGP"},
    {10, "BBN-RCC"},
    {11, "NVP"},
    {12, "PUP"},
    {13, "ARGUS"},
    {14, "EMCON"},
    {15, "XNET"},
    {16, "CHAOS"},
    {17, "UDP"},
    {18, "MUX"},
    {19, "DCN"},
    {20, "HMP"},
    {21, "PRM"},
    {22, "XNS-IDP"},
    {23, "TRUNK-1"},
    {24, "TRUNK-2"},
    {25, "LEAF-1"},
    {26, "LEAF-2"},
    {27, "RDP"},
    {28, "IRTP"},
    {29, "ISO-TP4"},
    {30, "NETBLT"},
    {31, "MFE-NSP"},
    {32, "MERIT-INP"},
    {33, "SEP"},
    {34, "3PC"},
    {35, "IDPR"},
    {36, "XTP"},
    {37, "DDP"},
    {38, "IDPR-CMTP"},
    {39, "TP++"},
    {40, "IL"},
    {41, "IPV6"},
    {42, "SDRP"},
    {43, "IPV6-ROUTE"},
    {44, "IPV6-FRAG"},
    {45, "IDRP"},
    {46, "RSVP"},
    {47, "GRE"},
    {48, "MHRP"},
    {49, "BNA"},
    {50, "IPV6-CRYPT"},
    {51, "IPV6-AUTH"},
    {52, "I-NLSP"},
    {53, "SWIPE"},
    {54, "NARP"},
    {55, "MOBILE"},
    {56, "TLSP"},
    {57, "SKIP"},
    {58, "IPV6-ICMP"},
    {59, "IPV6-NONXT"},
    {60, "IPV6-OPTS"},
    {62, "CFTP"},
    {64, "SAT-EXPAK"},
    {65, "KRYPTOLAN"},
    {66, "RVD"},
    {67, "IPPC"},
    {69, "SAT-MON"},
    {70, "VISA"},
    {71, "IPCV"},
    {72, "CPNX"},
    {73, "CPHB"},
    {74, "WSN"},
    {75, "PVP"},
    {76, "BR-SAT-MON"},
    {77, "SUN-ND"},
    {78, "WB-MON"},
    {79, "WB-EXPAK"},
    {80, "ISO-IP"},
    {81, "VMTP"},
    {82, "SECURE-VMTP"},
    {83, "VINES"},
    {84, "TTP"},
    {85, "NSFNET-IGP"},
    {86, "DGP"},
    {87, "TCF"},
    {88, "EIGRP"},
    {89, "OSPF"},
    {90, "SPRITE-RPC"},
    {91, "LARP"},
    {92, "MTP"},
    {93, "AX.25"},
    {94, "IPIP"},
    {95, "MICP"},
    {96, "SCC-SP"},
    {97, "ETHERIP"},
    {98, "ENCAP"},
    {100, "GMTP"},
    {101, "IFMP"},
    {102, "PNNI"},
    {103, "PIM"},
    {104, "ARIS"},
    {105, "SCPS"},
    {106, "QNX"},
    {107, "A/N"},
    {108, "IPCOMP"},
    {109, "SNP"},
    {110, "COMPAQ-PEER"},
    {111, "IPX-IN-IP"},
    {112, "VRRP"},
    {113, "PGM"},
    {115, "L2TP"},
    {116, "DDX"},
    {117, "IATP"},
    {118, "STP"},
    {119, "SRP"},
    {120, "UTI"},
    {121, "SMP"},
    {122, "SM"},
    {123, "PTP"},
    {124, "ISIS"},
    {125, "FIRE"},
    {126, "CRTP"},
    {127, "CRDUP"},
    {128, "SSCOPMCE"},
    {129, "IPLT"},
    {130, "SPS"},
    {131, "PIPE"},
    {132, "SCTP"},
    {133, "FC"},
    {134, "RSVP-E2E-IGNORE"},
    {135, "Mobility-Header"},
    {136, "UDPLite"},
    {137, "MPLS-IN-IP"},
    /* Not in SystemTap: the kernel's IPPROTO_* names. */
    {143, "ETHERNET"},
    {144, "AGGFRAG"},
    {255, "RAW"},
    {256, "SMC"},
    {262, "MPTCP"},
};

/*
 * Families: SystemTap's names (1 is "LOCAL", 12 "DECNET"), plus the AF_*
 * numbers it lacked, spelt as include/linux/socket.h without "AF_".
 */
static const struct socktap_name fam_names[] = {
    {0, "UNSPEC"},    {1, "LOCAL"},	  {2, "INET"},	   {3, "AX25"},	    {4, "IPX"},
    {5, "APPLETALK"}, {6, "NETROM"},	  {7, "BRIDGE"},   {8, "ATMPVC"},   {9, "X25"},
    {10, "INET6"},    {11, "ROSE"},	  {12, "DECNET"},  {13, "NETBEUI"}, {14, "SECURITY"},
    {15, "KEY"},      {16, "NETLINK"},	  {17, "PACKET"},  {18, "ASH"},	    {19, "ECONET"},
    {20, "ATMSVC"},   {21, "RDS"},	  {22, "SNA"},	   {23, "IRDA"},    {24, "PPPOX"},
    {25, "WANPIPE"},  {26, "LLC"},	  {27, "IB"},	   {28, "MPLS"},    {29, "CAN"},
    {30, "TIPC"},     {31, "BLUETOOTH"},  {32, "IUCV"},	   {33, "RXRPC"},   {34, "ISDN"},
    {35, "PHONET"},   {36, "IEEE802154"}, {37, "CAIF"},	   {38, "ALG"},	    {39, "NFC"},
    {40, "VSOCK"},    {41, "KCM"},	  {42, "QIPCRTR"}, {43, "SMC"},	    {44, "XDP"},
    {45, "MCTP"},
};

/* socket_state, include/uapi/linux/net.h (SS_*). */
static const struct socktap_name state_names[] = {
    {0, "FREE"}, {1, "UNCONNECTED"}, {2, "CONNECTING"}, {3, "CONNECTED"}, {4, "DISCONNECTING"},
};

/* enum sock_type, include/linux/net.h (SOCK_*). */
static const struct socktap_name type_names[] = {
    {1, "STREAM"},    {2, "DGRAM"}, {3, "RAW"},	    {4, "RDM"},
    {5, "SEQPACKET"}, {6, "DCCP"},  {10, "PACKET"},
};

/*
 * Extra spellings str2num() accepts; matched case-insensitively against
 * the whole string, or what is left once the prefix is stripped.
 */
static const struct socktap_name fam_aliases[] = {
    {1, "UNIX"},   /* AF_UNIX: the POSIX name for AF_LOCAL */
    {1, "FILE"},   /* AF_FILE: glibc's other name for AF_LOCAL */
    {16, "ROUTE"}, /* AF_ROUTE: 4.4BSD name for AF_NETLINK */
};

static const struct socktap_name prot_aliases[] = {
    {58, "ICMPV6"}, /* IPPROTO_ICMPV6; SystemTap says "IPV6-ICMP" */
    {4, "IPV4"},    /* IANA's keyword for 4; SystemTap says "IPENCAP" */
    /*
     * The kernel's IPPROTO_* names where they differ from SystemTap's.
     * Prefixed only: bare "IPIP" stays SystemTap's 94, and bare words
     * like "NONE" or "TP" would be surprising as protocol names.
     */
    {0, "IPPROTO_HOPOPTS"},   /* in6.h */
    {4, "IPPROTO_IPIP"},      /* the kernel's IPIP is 4, not 94 */
    {22, "IPPROTO_IDP"},      /* XNS-IDP */
    {29, "IPPROTO_TP"},	      /* ISO-TP4 */
    {33, "IPPROTO_DCCP"},     /* SystemTap's old name is SEP */
    {43, "IPPROTO_ROUTING"},  /* in6.h, IPV6-ROUTE */
    {44, "IPPROTO_FRAGMENT"}, /* in6.h, IPV6-FRAG */
    {50, "IPPROTO_ESP"},      /* IPV6-CRYPT */
    {51, "IPPROTO_AH"},	      /* IPV6-AUTH */
    {59, "IPPROTO_NONE"},     /* in6.h, IPV6-NONXT */
    {60, "IPPROTO_DSTOPTS"},  /* in6.h, IPV6-OPTS */
    {94, "IPPROTO_BEETPH"},   /* IPIP */
    {108, "IPPROTO_COMP"},    /* IPCOMP */
    {135, "IPPROTO_MH"},      /* in6.h, Mobility-Header */
    {137, "IPPROTO_MPLS"},    /* MPLS-IN-IP */
};

struct name_table {
	const struct socktap_name *names;
	size_t cnt;
	const struct socktap_name *aliases;
	size_t alias_cnt;
	const char *prefixes[2]; /* optional, stripped case-insensitively */
};

static const struct name_table prot_table = {
    prot_names, ARRAY_SIZE(prot_names), prot_aliases, ARRAY_SIZE(prot_aliases), {"IPPROTO_"},
};
static const struct name_table fam_table = {
    fam_names, ARRAY_SIZE(fam_names), fam_aliases, ARRAY_SIZE(fam_aliases), {"AF_", "PF_"},
};
static const struct name_table state_table = {
    state_names, ARRAY_SIZE(state_names), NULL, 0, {"SS_"},
};
static const struct name_table type_table = {
    type_names, ARRAY_SIZE(type_names), NULL, 0, {"SOCK_"},
};

/* ASCII only: locale-dependent strcasecmp() would differ under tr_TR. */
static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int ascii_casecmp(const char *a, const char *b)
{
	while (*a && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return ascii_lower((unsigned char)*a) - ascii_lower((unsigned char)*b);
}

static const char *ascii_strip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)prefix[i]))
			return NULL;
	return s + n;
}

static const char *num2str(const struct name_table *t, long num)
{
	size_t lo = 0, hi = t->cnt;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->names[mid].num == num)
			return t->names[mid].name;
		if (t->names[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "UNDEF";
}

static long find_name(const struct socktap_name *v, size_t cnt, const char *s, bool icase)
{
	for (size_t i = 0; i < cnt; i++)
		if (icase ? !ascii_casecmp(v[i].name, s) : !strcmp(v[i].name, s))
			return v[i].num;
	return -1;
}

/* Exact table name, then an alias, then any table name ignoring case. */
static long lookup(const struct name_table *t, const char *s)
{
	long num;

	if (!*s)
		return -1;
	num = find_name(t->names, t->cnt, s, false);
	if (num < 0)
		num = find_name(t->aliases, t->alias_cnt, s, true);
	if (num < 0)
		num = find_name(t->names, t->cnt, s, true);
	return num;
}

static long str2num(const struct name_table *t, const char *s)
{
	long num;

	if (!s)
		return -1;
	num = lookup(t, s);
	for (size_t i = 0; num < 0 && i < ARRAY_SIZE(t->prefixes) && t->prefixes[i]; i++) {
		const char *rest = ascii_strip_prefix(s, t->prefixes[i]);

		if (rest)
			num = lookup(t, rest);
	}
	return num;
}

const char *sock_prot_num2str(long proto)
{
	return num2str(&prot_table, proto);
}

long sock_prot_str2num(const char *proto)
{
	return str2num(&prot_table, proto);
}

const char *sock_fam_num2str(long family)
{
	return num2str(&fam_table, family);
}

long sock_fam_str2num(const char *family)
{
	return str2num(&fam_table, family);
}

const char *sock_state_num2str(long state)
{
	return num2str(&state_table, state);
}

long sock_state_str2num(const char *state)
{
	return str2num(&state_table, state);
}

const char *sock_type_num2str(long type)
{
	return num2str(&type_table, type);
}

long sock_type_str2num(const char *type)
{
	return str2num(&type_table, type);
}

const struct socktap_name *socktap_prot_names(size_t *cnt)
{
	*cnt = prot_table.cnt;
	return prot_table.names;
}

const struct socktap_name *socktap_fam_names(size_t *cnt)
{
	*cnt = fam_table.cnt;
	return fam_table.names;
}

const struct socktap_name *socktap_state_names(size_t *cnt)
{
	*cnt = state_table.cnt;
	return state_table.names;
}

const struct socktap_name *socktap_type_names(size_t *cnt)
{
	*cnt = type_table.cnt;
	return type_table.names;
}

/* ---- "A|B|0x40" flag strings ---- */

struct flagbuf {
	char *buf;
	size_t len, pos;
	bool any;
};

static void fb_raw(struct flagbuf *fb, const char *s)
{
	while (*s && fb->pos + 1 < fb->len)
		fb->buf[fb->pos++] = *s++;
	if (fb->len)
		fb->buf[fb->pos] = '\0';
}

static void fb_add(struct flagbuf *fb, const char *name)
{
	if (fb->any)
		fb_raw(fb, "|");
	fb->any = true;
	fb_raw(fb, name);
}

static void fb_add_hex(struct flagbuf *fb, unsigned long bit)
{
	char hex[2 + 2 * sizeof(bit) + 1];

	snprintf(hex, sizeof(hex), "0x%lx", bit);
	fb_add(fb, hex);
}

static void fb_init(struct flagbuf *fb, char *buf, size_t len)
{
	*fb = (struct flagbuf){.buf = buf, .len = len};
	if (len)
		buf[0] = '\0';
}

#define FLAG_BITS (sizeof(unsigned long) * CHAR_BIT)

/*
 * struct socket's flag bits. Up to Linux 6.15 they were #defines (so not
 * in BTF); 6.16 made them enum socket_flags and dropped PASSCRED/PASSSEC/
 * PASSPIDFD, renumbering SUPPORT_ZC and CUSTOM_SOCKOPT. Bits a kernel does
 * not have are never set, so the old list serves every pre-6.16 kernel
 * since 4.4 (which renamed SOCK_ASYNC_* to SOCKWQ_ASYNC_*, same bits).
 */
static const char *const sock_flags_pre_6_16[] = {
    "ASYNC_NOSPACE", "ASYNC_WAITDATA", "NOSPACE",	 "PASSCRED",
    "PASSSEC",	     "SUPPORT_ZC",     "CUSTOM_SOCKOPT", "PASSPIDFD",
};
static const char *const sock_flags_6_16[] = {
    "ASYNC_NOSPACE", "ASYNC_WAITDATA", "NOSPACE", "SUPPORT_ZC", "CUSTOM_SOCKOPT",
};

#define SOCK_FLAG_NAME_MAX 48
static char sock_flag_store[FLAG_BITS][SOCK_FLAG_NAME_MAX];
static const char *sock_flag_names[FLAG_BITS];
static pthread_once_t sock_flags_once = PTHREAD_ONCE_INIT;

static void use_static_flags(const char *const *names, size_t cnt)
{
	for (size_t i = 0; i < cnt && i < FLAG_BITS; i++)
		sock_flag_names[i] = names[i];
}

static void add_btf_flag(unsigned long long bit, const char *name)
{
	const char *s;

	if (bit >= FLAG_BITS || sock_flag_names[bit] || !name)
		return;
	/* SystemTap prints the names without these prefixes. */
	if (!strncmp(name, "SOCKWQ_", 7))
		name += 7;
	else if (!strncmp(name, "SOCK_", 5))
		name += 5;
	if (!*name || strlen(name) >= SOCK_FLAG_NAME_MAX)
		return; /* printed as hex instead */
	s = strcpy(sock_flag_store[bit], name);
	sock_flag_names[bit] = s;
}

/* Copy the names of the enum holding SOCKWQ_ASYNC_NOSPACE; false if none. */
static bool load_btf_flags(const struct btf *btf)
{
	__u32 n = btf__type_cnt(btf);

	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		__u16 vlen = btf_vlen(t);
		bool found = false;

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (__u16 i = 0; i < vlen && !found; i++)
				found = !strcmp(btf__name_by_offset(btf, e[i].name_off),
						"SOCKWQ_ASYNC_NOSPACE");
			for (__u16 i = 0; found && i < vlen; i++)
				if (e[i].val >= 0)
					add_btf_flag(e[i].val,
						     btf__name_by_offset(btf, e[i].name_off));
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);

			for (__u16 i = 0; i < vlen && !found; i++)
				found = !strcmp(btf__name_by_offset(btf, e[i].name_off),
						"SOCKWQ_ASYNC_NOSPACE");
			for (__u16 i = 0; found && i < vlen; i++)
				add_btf_flag(btf_enum64_value(&e[i]),
					     btf__name_by_offset(btf, e[i].name_off));
		}
		if (found)
			return true;
	}
	return false;
}

static void init_sock_flags(void)
{
	struct btf *btf = btf__load_vmlinux_btf();

	if (!btf) {
		/* No BTF: assume a current kernel. */
		use_static_flags(sock_flags_6_16, ARRAY_SIZE(sock_flags_6_16));
		return;
	}
	/* BTF without the enum: a kernel from before 6.16 (#defines). */
	if (!load_btf_flags(btf))
		use_static_flags(sock_flags_pre_6_16, ARRAY_SIZE(sock_flags_pre_6_16));
	btf__free(btf);
}

const char *socktap_sock_flag_name(unsigned int bit)
{
	pthread_once(&sock_flags_once, init_sock_flags);
	return bit < FLAG_BITS ? sock_flag_names[bit] : NULL;
}

const char *sock_flags_num2str(unsigned long flags, char *buf, size_t len)
{
	struct flagbuf fb;

	fb_init(&fb, buf, len);
	pthread_once(&sock_flags_once, init_sock_flags);
	for (unsigned int i = 0; i < FLAG_BITS; i++) {
		if (!(flags & (1UL << i)))
			continue;
		if (sock_flag_names[i])
			fb_add(&fb, sock_flag_names[i]);
		else
			fb_add_hex(&fb, 1UL << i);
	}
	return buf;
}

/*
 * MSG_* flags, include/linux/socket.h. SystemTap's list comes first, in
 * its order (bit order, with TRYHARD printed after DONTROUTE: same bit);
 * then the newer flags user space can pass (those glibc's <sys/socket.h>
 * also defines). Other bits (kernel-internal ones) follow as hex.
 */
static const struct {
	unsigned long bit;
	const char *name;
} msg_flags[] = {
    {0x1, "OOB"},
    {0x2, "PEEK"},
    {0x4, "DONTROUTE"},
    {0x4, "TRYHARD"},
    {0x8, "CTRUNC"},
    {0x10, "PROBE"}, /* glibc calls it MSG_PROXY */
    {0x20, "TRUNC"},
    {0x40, "DONTWAIT"},
    {0x80, "EOR"},
    {0x100, "WAITALL"},
    {0x200, "FIN"},
    {0x400, "SYN"},
    {0x800, "CONFIRM"},
    {0x1000, "RST"},
    {0x2000, "ERRQUEUE"},
    {0x4000, "NOSIGNAL"},
    {0x8000, "MORE"},
    /* Not in SystemTap. */
    {0x10000, "WAITFORONE"},
    {0x40000, "BATCH"},
    {0x4000000, "ZEROCOPY"},
    {0x20000000, "FASTOPEN"},
    {0x40000000, "CMSG_CLOEXEC"},
};

const char *msg_flags_num2str(unsigned long flags, char *buf, size_t len)
{
	unsigned long known = 0;
	struct flagbuf fb;

	fb_init(&fb, buf, len);
	for (size_t i = 0; i < ARRAY_SIZE(msg_flags); i++) {
		known |= msg_flags[i].bit;
		if (flags & msg_flags[i].bit)
			fb_add(&fb, msg_flags[i].name);
	}
	for (unsigned int i = 0; i < FLAG_BITS; i++)
		if (flags & ~known & (1UL << i))
			fb_add_hex(&fb, 1UL << i);
	return buf;
}
