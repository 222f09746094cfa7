// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Addresses as text (who.c): the same text as inet_ntop, which it replaces for IPv4. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include "testlib.h"
#include "who.h"

static void run(void)
{
	SUBTEST("IPv4: inet_ntop's text for every byte value in every position")
	{
		int bad = 0;
		for (int pos = 0; pos < 4; pos++)
			for (int v = 0; v < 256; v++) {
				uint8_t a[16] = {127, 0, 0, 1};
				a[pos] = (uint8_t)v;
				a[(pos + 1) % 4] = (uint8_t)(255 - v);
				char got[112], want[INET_ADDRSTRLEN];
				st_inet_text(AF_INET, a, got, sizeof(got));
				inet_ntop(AF_INET, a, want, sizeof(want));
				if (strcmp(got, want) != 0 && bad++ < 5)
					TEST_FAIL("got %s, inet_ntop %s", got, want);
			}
		ASSERT_EQ(bad, 0, "differences");
	}

	SUBTEST("IPv4: a buffer too small gives \"\", never a cut address")
	{
		uint8_t a[16] = {255, 255, 255, 255};
		char out[16];
		st_inet_text(AF_INET, a, out, 15);
		ASSERT_STREQ(out, "", "15 bytes for 16");
		st_inet_text(AF_INET, a, out, 16);
		ASSERT_STREQ(out, "255.255.255.255", "16 bytes");
	}

	SUBTEST("IPv6 and others: as before")
	{
		uint8_t a[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
		char out[112];
		st_inet_text(AF_INET6, a, out, sizeof(out));
		ASSERT_STREQ(out, "::ffff:127.0.0.1", "IPv4-mapped");
		st_inet_text(AF_UNIX, a, out, sizeof(out));
		ASSERT_STREQ(out, "", "not inet");
	}
}

TEST_MAIN(run)
