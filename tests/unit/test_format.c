// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Event formatting: exact JSON/CSV/text, escaping of hostile comm strings. */
#include "testlib.h"
#include "socktap.h"
#include "util.h"

static struct socktap_event sample(enum socktap_probe_id id)
{
	struct socktap_event ev = {
	    .probe = id,
	    .name = socktap_probe_get(id)->name,
	    .ts = 1700000000123456789ULL,
	    .pid = 42,
	    .tid = 43,
	    .uid = 1000,
	    .cpu = 1,
	    .comm = "curl",
	    .sock = 77,
	    .fd = 5,
	    .known = socktap_probe_get(id)->values,
	    .size = 64,
	    .success = 1,
	    .protocol = 6,
	    .family = 2,
	    .state = 3,
	    .type = 1,
	    .flags = 4,
	    .requester = 0,
	    .err = 0,
	};
	return ev;
}

static const char *fmt(const struct socktap_event *ev, enum socktap_format f)
{
	static char buf[2048];
	int n = socktap_event_format(ev, f, buf, sizeof(buf));
	return n >= 0 && (size_t)n < sizeof(buf) ? buf : "(error)";
}

static const char *json_comm(const char *comm)
{
	static char out[256];
	struct socktap_event ev = sample(SOCKTAP_PROBE_CLOSE_RETURN);
	memset(ev.comm, 0, sizeof(ev.comm));
	memcpy(ev.comm, comm, strnlen(comm, sizeof(ev.comm) - 1));
	const char *line = fmt(&ev, SOCKTAP_FORMAT_JSON);
	const char *p = strstr(line, "\"comm\":");
	const char *e = p ? strstr(p, ",\"cpu\"") : NULL;
	if (!p || !e)
		return "(missing)";
	p += 7;
	snprintf(out, sizeof(out), "%.*s", (int)(e - p), p);
	return out;
}

static void run(void)
{
	SUBTEST("json: exact line for socket.send")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_SEND);
		ASSERT_STREQ(
		    fmt(&ev, SOCKTAP_FORMAT_JSON),
		    "{\"probe\":\"socket.send\",\"ts\":1700000000123456789,\"pid\":42,"
		    "\"tid\":43,\"uid\":1000,\"comm\":\"curl\",\"cpu\":1,\"sock\":77,"
		    "\"fd\":5,\"name\":\"socket.send\",\"size\":64,\"success\":1,"
		    "\"protocol\":6,\"family\":2,\"state\":3,\"flags\":4,\"type\":1,"
		    "\"laddr\":null,\"lport\":null,\"raddr\":null,\"rport\":null,\"cgroup\":null,"
		    "\"cgroup_id\":null,\"container\":null,\"nspid\":null}\n",
		    "send line");
	}

	SUBTEST("json: create.return has requester and err, no fd when unknown")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_CREATE_RETURN);
		ev.fd = -1;
		ev.err = -97;
		ev.success = 0;
		ASSERT_STREQ(
		    fmt(&ev, SOCKTAP_FORMAT_JSON),
		    "{\"probe\":\"socket.create.return\",\"ts\":1700000000123456789,"
		    "\"pid\":42,\"tid\":43,\"uid\":1000,\"comm\":\"curl\",\"cpu\":1,"
		    "\"sock\":77,\"name\":\"socket.create.return\",\"success\":0,"
		    "\"protocol\":6,\"family\":2,\"type\":1,\"requester\":0,\"err\":-97,"
		    "\"laddr\":null,\"lport\":null,\"raddr\":null,\"rport\":null,\"cgroup\":null,"
		    "\"cgroup_id\":null,\"container\":null,\"nspid\":null}\n",
		    "create.return line");
	}

	SUBTEST("json: unknown values are null, negative sizes stay numbers")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_SENDMSG);
		ev.known &= ~SOCKTAP_V_SIZE;
		ASSERT_TRUE(strstr(fmt(&ev, SOCKTAP_FORMAT_JSON), "\"size\":null,") != NULL,
			    "null size");
		ev = sample(SOCKTAP_PROBE_RECVMSG_RETURN);
		ev.size = -11;
		ev.success = 0;
		ASSERT_TRUE(strstr(fmt(&ev, SOCKTAP_FORMAT_JSON), "\"size\":-11,\"success\":0,") !=
				NULL,
			    "-EAGAIN");
		ev.flags = 0xffffffffffffffffULL;
		ASSERT_TRUE(strstr(fmt(&ev, SOCKTAP_FORMAT_JSON),
				   "\"flags\":18446744073709551615,") != NULL,
			    "flags unsigned");
	}

	SUBTEST("json: an unknown socket cookie is null, an unknown fd is absent")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_CLOSE);
		ev.sock = 0;
		ev.fd = -1;
		const char *line = fmt(&ev, SOCKTAP_FORMAT_JSON);
		ASSERT_TRUE(strstr(line, "\"sock\":null,\"name\"") != NULL, line);
		ASSERT_TRUE(strstr(fmt(&ev, SOCKTAP_FORMAT_CSV), ",1,,,socket.close,") != NULL,
			    "csv: empty sock and fd cells");
	}

	SUBTEST("json: hostile comm strings")
	{
		ASSERT_STREQ(json_comm("a\"b"), "\"a\\\"b\"", "quote");
		ASSERT_STREQ(json_comm("a\\b"), "\"a\\\\b\"", "backslash");
		ASSERT_STREQ(json_comm("a\nb\tc"), "\"a\\nb\\tc\"", "newline, tab");
		ASSERT_STREQ(json_comm("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"", "controls");
		ASSERT_STREQ(json_comm("caf\xc3\xa9"), "\"caf\xc3\xa9\"", "valid UTF-8 kept");
		ASSERT_STREQ(json_comm("\xff\xfe"), "\"\xef\xbf\xbd\xef\xbf\xbd\"",
			     "invalid bytes -> U+FFFD each");
		ASSERT_STREQ(json_comm("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"", "overlong");
		ASSERT_STREQ(json_comm("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
			     "surrogate");
		ASSERT_STREQ(json_comm("ab\xe2\x82"), "\"ab\xef\xbf\xbd\xef\xbf\xbd\"",
			     "truncated sequence at the end");
		ASSERT_STREQ(json_comm("\xf4\x90\x80\x80"),
			     "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "> U+10FFFF");
		ASSERT_STREQ(json_comm("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"", "emoji kept");
		ASSERT_STREQ(json_comm(""), "\"\"", "empty");
	}

	SUBTEST("json: a 15-byte comm without NUL inside the array is bounded")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_CLOSE_RETURN);
		memset(ev.comm, '"', sizeof(ev.comm)); /* no terminator at all */
		const char *line = fmt(&ev, SOCKTAP_FORMAT_JSON);
		ASSERT_TRUE(
		    strstr(
			line,
			"\"comm\":"
			"\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\",") !=
			NULL,
		    "16 quotes, escaped, then stop");
	}

	SUBTEST("csv: header and quoting")
	{
		ASSERT_STREQ(socktap_csv_header(),
			     "probe,ts,pid,tid,uid,comm,cpu,sock,fd,name,size,success,protocol,"
			     "family,state,flags,type,requester,err,laddr,lport,raddr,rport,cgroup,"
			     "cgroup_id,container,nspid\n",
			     "header");
		struct socktap_event ev = sample(SOCKTAP_PROBE_SEND);
		strcpy(ev.comm, "a,\"b\"");
		ASSERT_STREQ(fmt(&ev, SOCKTAP_FORMAT_CSV),
			     "socket.send,1700000000123456789,42,43,1000,\"a,\"\"b\"\"\",1,77,5,"
			     "socket.send,64,1,6,2,3,4,1,,,,,,,,,,\n",
			     "row");
		/* a name anyone can set: no control byte, no raw invalid UTF-8, one line */
		strcpy(ev.comm, "\x1b[31mx\ny\\\xff\xc3\xa9");
		ASSERT_STREQ(fmt(&ev, SOCKTAP_FORMAT_CSV),
			     "socket.send,1700000000123456789,42,43,1000,\\x1b[31mx\\x0ay\\x5c\\xff"
			     "\xc3\xa9,1,77,5,socket.send,64,1,6,2,3,4,1,,,,,,,,,,\n",
			     "control bytes, backslash and bad UTF-8 as \\xNN; UTF-8 kept");
		ev = sample(SOCKTAP_PROBE_CLOSE_RETURN);
		ev.fd = -1;
		ASSERT_STREQ(fmt(&ev, SOCKTAP_FORMAT_CSV),
			     "socket.close.return,1700000000123456789,42,43,1000,curl,1,77,,"
			     "socket.close.return,,,,,,,,,,,,,,,,,\n",
			     "sparse row has every column");
	}

	SUBTEST("who and where: addresses, ports, cgroup, container, nspid in each format")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_SEND);
		strcpy(ev.laddr, "::1");
		ev.lport = 40000;
		strcpy(ev.raddr, "::ffff:127.0.0.2");
		ev.rport = 443;
		ev.cgroup_id = 1234;
		ev.cgroup = "/system.slice/a,b \"c\".service";
		ev.container = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		ev.nspid = 7;
		ASSERT_TRUE(
		    strstr(fmt(&ev, SOCKTAP_FORMAT_JSON),
			   "\"type\":1,\"laddr\":\"::1\",\"lport\":40000,"
			   "\"raddr\":\"::ffff:127.0.0.2\",\"rport\":443,"
			   "\"cgroup\":\"/system.slice/a,b \\\"c\\\".service\","
			   "\"cgroup_id\":1234,\"container\":\"0123456789abcdef0123456789abcdef"
			   "0123456789abcdef0123456789abcdef\",\"nspid\":7}\n") != NULL,
		    fmt(&ev, SOCKTAP_FORMAT_JSON));
		ASSERT_TRUE(
		    strstr(fmt(&ev, SOCKTAP_FORMAT_CSV),
			   ",1,,,::1,40000,::ffff:127.0.0.2,443,\"/system.slice/a,b \"\"c\"\""
			   ".service\",1234,0123456789abcdef0123456789abcdef0123456789abcdef"
			   "0123456789abcdef,7\n") != NULL,
		    fmt(&ev, SOCKTAP_FORMAT_CSV));
		ASSERT_TRUE(
		    strstr(fmt(&ev, SOCKTAP_FORMAT_TEXT),
			   " [::1]:40000 -> [::ffff:127.0.0.2]:443 cgroup=/system.slice/a,b "
			   "\"c\".service nspid=7\n") != NULL,
		    fmt(&ev, SOCKTAP_FORMAT_TEXT));
		/* unix: paths without ports; one end null */
		ev = sample(SOCKTAP_PROBE_RECEIVE);
		strcpy(ev.laddr, "@abs@name");
		ev.lport = ev.rport = -1;
		ASSERT_TRUE(strstr(fmt(&ev, SOCKTAP_FORMAT_JSON),
				   "\"laddr\":\"@abs@name\",\"lport\":null,\"raddr\":null,"
				   "\"rport\":null,") != NULL,
			    fmt(&ev, SOCKTAP_FORMAT_JSON));
		ASSERT_TRUE(strstr(fmt(&ev, SOCKTAP_FORMAT_TEXT), " @abs@name -> *\n") != NULL,
			    fmt(&ev, SOCKTAP_FORMAT_TEXT));
		strcpy(ev.laddr, "127.0.0.1");
		ev.lport = 80;
		ASSERT_TRUE(strstr(fmt(&ev, SOCKTAP_FORMAT_TEXT), " 127.0.0.1:80 -> *\n") != NULL,
			    fmt(&ev, SOCKTAP_FORMAT_TEXT));
	}

	SUBTEST("text: names decoded, control bytes escaped")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_SEND);
		strcpy(ev.comm, "x\ny");
		const char *line = fmt(&ev, SOCKTAP_FORMAT_TEXT);
		ASSERT_TRUE(strstr(line, "x\\x0ay[42/43] socket.send fd=5 sock=77 size=64 "
					 "success=1 protocol=TCP family=INET state=CONNECTED "
					 "flags=NOSPACE type=STREAM\n") != NULL,
			    line);
		ASSERT_TRUE(strchr(line, '\n') == line + strlen(line) - 1, "one line");
	}

	SUBTEST("text cells (top's tables): escapes whole, cut to the buffer")
	{
		char buf[32];
		ASSERT_STREQ(st_text_str("a\x01\\\xc3\xa9", 16, buf, sizeof(buf)),
			     "a\\x01\\x5c\\xc3\\xa9", "control, backslash, non-ASCII");
		ASSERT_STREQ(st_text_str("a\x01"
					 "b",
					 16, buf, 6),
			     "a\\x01", "escape fits exactly");
		ASSERT_STREQ(st_text_str("a\x01"
					 "b",
					 16, buf, 5),
			     "a", "no half escape");
		ASSERT_STREQ(st_text_str("abcdef", 3, buf, sizeof(buf)), "abc",
			     "at most max bytes");
	}

	SUBTEST("format: truncation reports the needed length")
	{
		struct socktap_event ev = sample(SOCKTAP_PROBE_SEND);
		char small[16];
		int need = socktap_event_format(&ev, SOCKTAP_FORMAT_JSON, small, sizeof(small));
		ASSERT_EQ(need, (long long)strlen(fmt(&ev, SOCKTAP_FORMAT_JSON)), "needed length");
		ASSERT_EQ(strlen(small), sizeof(small) - 1, "NUL-terminated");
		ASSERT_EQ(socktap_event_format(&ev, 99, small, sizeof(small)), -EINVAL,
			  "bad format");
		ASSERT_EQ(socktap_format_parse("json"), SOCKTAP_FORMAT_JSON, "parse json");
		ASSERT_EQ(socktap_format_parse("xml"), -EINVAL, "parse xml");
	}
}

TEST_MAIN(run)
