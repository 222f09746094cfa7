// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Who and where: the kernel's addresses as text, and the address filters' words. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "who.h"

/*
 * a.b.c.d by hand: glibc's inet_ntop formats IPv4 with sprintf, which was a fifth of
 * trace -w's CPU time under a failing-send flood (bench/run.py --writer)
 */
static void ipv4_text(const uint8_t a[4], char *out, size_t len)
{
	char buf[16], *p = buf;
	for (int i = 0; i < 4; i++) {
		unsigned int v = a[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = '.';
	}
	p[-1] = '\0';
	/* as inet_ntop: nothing when it does not fit (out stays "") */
	if ((size_t)(p - buf) <= len)
		memcpy(out, buf, (size_t)(p - buf));
}

void st_inet_text(uint8_t family, const uint8_t addr[16], char *out, size_t len)
{
	out[0] = '\0';
	/* inet_ntop writes an IPv4-mapped IPv6 address as ::ffff:a.b.c.d, as wanted */
	if (family == AF_INET)
		ipv4_text(addr, out, len);
	else if (family == AF_INET6)
		inet_ntop(AF_INET6, addr, out, (socklen_t)len);
}

void st_unix_text(const char *path, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	if (len > ST_UNIX_PATH)
		len = ST_UNIX_PATH;
	if (len && path[0] != '\0') {
		/* a filesystem path: the kernel may keep its terminating NUL in len */
		len = strnlen(path, len);
		o = len < outlen - 1 ? len : outlen - 1;
		memcpy(out, path, o);
	} else {
		for (size_t i = 0; i < len && o + 1 < outlen; i++)
			out[o++] = path[i] ? path[i] : '@';
	}
	out[o] = '\0';
}

bool st_prefix_parse(const char *s, uint8_t addr[16], unsigned int *prefixlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	unsigned int max, plen;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		max = 128;
	} else {
		return false;
	}
	plen = max;
	if (slash) {
		char *end;
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return false;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (*end || v > max)
			return false;
		plen = (unsigned int)v;
	}
	*prefixlen = plen + (max == 32 ? 96 : 0);
	return true;
}
