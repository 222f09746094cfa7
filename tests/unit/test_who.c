// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * st_inet_text(): the addresses' text as inet_ntop writes it, for the
 * IPv4 and IPv4-mapped forms written by hand and the IPv6 ones passed on,
 * including buffers too short for the fast path.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "who.h"
#include "testlib.h"

static void expect_ntop(int family, const uint8_t addr[16], size_t len, const char *what)
{
	char want[INET6_ADDRSTRLEN] = "", got[INET6_ADDRSTRLEN + 8];
	memset(got, 'x', sizeof(got));
	if (!inet_ntop(family, addr, want, (socklen_t)len))
		want[0] = '\0';
	st_inet_text((uint8_t)family, addr, got, len);
	ASSERT_STREQ(got, want, what);
}

/* Every octet value in every position, and edge cases, against inet_ntop. */
static void test_ipv4(void)
{
	uint8_t a[16] = {0};
	for (int v = 0; v < 256; v++)
		for (int pos = 0; pos < 4; pos++) {
			memset(a, pos == 0 ? 255 : 7, 4);
			a[pos] = (uint8_t)v;
			expect_ntop(AF_INET, a, INET_ADDRSTRLEN, "octet");
		}
	static const uint8_t edge[][4] = {{0, 0, 0, 0},
					  {255, 255, 255, 255},
					  {127, 0, 0, 1},
					  {10, 100, 9, 99},
					  {1, 10, 100, 200}};
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		memcpy(a, edge[i], 4);
		expect_ntop(AF_INET, a, INET_ADDRSTRLEN, "edge");
	}
}

static void test_ipv6(void)
{
	static const char *const texts[] = {"::1",
					    "::",
					    "::ffff:127.0.0.1",
					    "::ffff:0.0.0.0",
					    "::ffff:255.255.255.255",
					    "fe80::1",
					    "2001:db8::ff00:42:8329",
					    "::127.0.0.1",
					    "1:2:3:4:5:6:7:8",
					    "::ffff:0:1.2.3.4",
					    "0:0:0:0:0:fffe:102:304"};
	uint8_t a[16];
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ASSERT_TRUE(inet_pton(AF_INET6, texts[i], a) == 1, texts[i]);
		expect_ntop(AF_INET6, a, INET6_ADDRSTRLEN, texts[i]);
	}
	/* mapped forms of every octet value */
	ASSERT_TRUE(inet_pton(AF_INET6, "::ffff:1.2.3.4", a) == 1, "mapped");
	for (int v = 0; v < 256; v++) {
		a[12 + v % 4] = (uint8_t)v;
		expect_ntop(AF_INET6, a, INET6_ADDRSTRLEN, "mapped octet");
	}
}

/* A buffer too short for every address: inet_ntop's answer (an empty string). */
static void test_short(void)
{
	uint8_t a[16] = {192, 168, 100, 200};
	expect_ntop(AF_INET, a, 8, "short IPv4");
	ASSERT_TRUE(inet_pton(AF_INET6, "::ffff:192.168.100.200", a) == 1, "pton");
	expect_ntop(AF_INET6, a, 16, "short mapped");
	char out[4] = "zzz";
	st_inet_text(99, a, out, sizeof(out));
	ASSERT_STREQ(out, "", "unknown family");
}

static void run(void)
{
	SUBTEST("IPv4 as inet_ntop writes it") test_ipv4();
	SUBTEST("IPv6 and IPv4-mapped as inet_ntop writes them") test_ipv6();
	SUBTEST("short buffers and unknown families") test_short();
}

TEST_MAIN(run)
