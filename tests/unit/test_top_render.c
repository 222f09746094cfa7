// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap top's rendering: socktop's exact layout, socktap's layout,
 * JSON, sort order and ties, -N, bpftrace-style histograms, escaping.
 * Expected text follows the format strings of SystemTap's socktop and
 * bpftrace's hist(), not this code.
 */
#include <time.h>
#include "testlib.h"
#include "socktap.h"
#include "top_render.h"

typedef void (*render_fn)(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);

/* what fn printed, as one string (static: the last call's) */
static const char *capture(render_fn fn, const struct socktap_snapshot *s, const struct top_view *v)
{
	return TEST_CAPTURE(f, fn(f, s, v));
}

static const char *hist_text(const struct socktap_hist *h, bool by_protocol)
{
	return TEST_CAPTURE(f, top_render_hist(f, h, by_protocol));
}

static const char *users(uint32_t uid)
{
	switch (uid) {
	case 0:
		return "root";
	case 1000:
		return "alice";
	case 1001:
		return "systemd-resolve";
	case 1002:
		return "we\"ird\\";
	}
	return NULL;
}

static struct socktap_proc_row proc(uint32_t pid, uint32_t uid, const char *comm, int prot, int fam,
				    uint64_t sends, uint64_t recvs, uint64_t sb, uint64_t rb,
				    uint64_t se, uint64_t re)
{
	struct socktap_proc_row r = {
	    .pid = pid,
	    .uid = uid,
	    .protocol = prot,
	    .family = fam,
	    .sends = sends,
	    .recvs = recvs,
	    .send_bytes = sb,
	    .recv_bytes = rb,
	    .send_errors = se,
	    .recv_errors = re,
	};
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	return r;
}

static struct socktap_snapshot *snapshot(void)
{
	struct socktap_snapshot *s = calloc(1, sizeof(*s));
	s->ts_start = 1795717795000000000ULL; /* 2026-11-26 18:29:55 UTC */
	s->ts_end = 1795717800000000000ULL;
	s->dropped = 7;
	s->nprocs = 5;
	s->procs = calloc(s->nprocs, sizeof(*s->procs));
	s->procs[0] = proc(1234, 1000, "curl", 6, 2, 10, 20, 4096, 204800, 0, 1);
	s->procs[1] = proc(99, 0, "sshd", 6, 10, 5, 5, 1000, 2000, 0, 0);
	s->procs[2] = proc(4321, 65534, "nginx", 6, 2, 100, 0, 1048576, 0, 2, 0);
	s->procs[3] = proc(555, 1001, "systemd-resolve", 17, 2, 1, 1, 60, 100, 0, 0);
	s->procs[4] = proc(777, 1000, "bad", 17, 2, 0, 0, 0, 0, 3, 0); /* failures only */
	s->ndevs = 3;
	s->devs = calloc(s->ndevs, sizeof(*s->devs));
	s->devs[0] = (struct socktap_dev_row){"lo", 1, 4026531840ULL, 10, 10, 10240, 10240};
	s->devs[1] = (struct socktap_dev_row){"lo", 1, 4026532000ULL, 5, 5, 2048, 2048};
	s->devs[2] = (struct socktap_dev_row){"eth0", 2, 4026531840ULL, 100, 50, 150000, 75000};
	s->nhists = 3;
	s->hists = calloc(s->nhists, sizeof(*s->hists));
	struct socktap_hist *h = &s->hists[0];
	*h = (struct socktap_hist){.kind = SOCKTAP_HIST_SIZE, .key = 1234, .comm = "curl"};
	h->buckets[0] = 1;
	h->buckets[2] = 3;
	h->buckets[11] = 52;
	h->buckets[21] = 26;
	h->count = 82;
	h = &s->hists[1];
	*h = (struct socktap_hist){
	    .kind = SOCKTAP_HIST_LATENCY, .recv = true, .key = 1234, .comm = "curl"};
	h->buckets[14] = 5;
	h->count = 5;
	h = &s->hists[2];
	*h = (struct socktap_hist){.kind = SOCKTAP_HIST_SIZE, .key = 4321, .comm = "nginx"};
	h->buckets[11] = 100;
	h->count = 100;
	return s;
}

static const char socktop_expected[] =
    "======================= Thu Nov 26 18:30:00 2026 ========================\n"
    "------------------------------- PROCESSES -------------------------------\n"
    "PID   UID     #SEND   #RECV SEND_KB RECV_KB PROT FAMILY   COMMAND        \n"
    "4321  65534     100       0    1024       0 TCP  INET     nginx          \n"
    "1234  1000       10      20       4     200 TCP  INET     curl           \n"
    "99    0           5       5       0       1 TCP  INET6    sshd           \n"
    "555   1001        1       1       0       0 UDP  INET     systemd-resolve\n"
    "-------------------------------- DEVICES --------------------------------\n"
    "DEV             #XMIT         #RECV         XMIT_KB         RECV_KB\n"
    "eth0              100            50             146              73\n"
    "lo                 15            15              12              12\n"
    "=========================================================================\n"
    "\n";

static const char socktap_expected[] =
    "2026-11-26 18:29:55 - 18:30:00 (5.00 s), 7 updates dropped (kernel table full)\n"
    "PID     USER       #SEND   #RECV SEND_KB RECV_KB #SERR #RERR PROT FAMILY   COMMAND\n"
    "4321    65534        100       0    1024       0     2     0 TCP  INET     nginx\n"
    "1234    alice         10      20       4     200     0     1 TCP  INET     curl\n"
    "99      root           5       5       0       1     0     0 TCP  INET6    sshd\n"
    "555     systemd+       1       1       0       0     0     0 UDP  INET     systemd-resolve\n"
    "777     alice          0       0       0       0     3     0 UDP  INET     bad\n"
    "\n"
    "DEV             NETNS          #XMIT     #RECV     XMIT_KB     RECV_KB\n"
    "eth0            4026531840       100        50         146          73\n"
    "lo              4026531840        10        10          10          10\n"
    "lo              4026532000         5         5           2           2\n"
    "\n"
    "@send_size[nginx, 4321]:\n"
    "[1K, 2K)             100 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
    "\n"
    "@send_size[curl, 1234]:\n"
    "[0]                    1 |@                                                   |\n"
    "[1]                    0 |                                                    |\n"
    "[2, 4)                 3 |@@@                                                 |\n"
    "[4, 8)                 0 |                                                    |\n"
    "[8, 16)                0 |                                                    |\n"
    "[16, 32)               0 |                                                    |\n"
    "[32, 64)               0 |                                                    |\n"
    "[64, 128)              0 |                                                    |\n"
    "[128, 256)             0 |                                                    |\n"
    "[256, 512)             0 |                                                    |\n"
    "[512, 1K)              0 |                                                    |\n"
    "[1K, 2K)              52 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
    "[2K, 4K)               0 |                                                    |\n"
    "[4K, 8K)               0 |                                                    |\n"
    "[8K, 16K)              0 |                                                    |\n"
    "[16K, 32K)             0 |                                                    |\n"
    "[32K, 64K)             0 |                                                    |\n"
    "[64K, 128K)            0 |                                                    |\n"
    "[128K, 256K)           0 |                                                    |\n"
    "[256K, 512K)           0 |                                                    |\n"
    "[512K, 1M)             0 |                                                    |\n"
    "[1M, 2M)              26 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
    "\n"
    "@recv_latency_ns[curl, 1234]:\n"
    "[8K, 16K)              5 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
    "\n";

static const char json_expected[] =
    "{\"ts_start\":1795717795000000000,\"ts_end\":1795717800000000000,\"dropped\":7,"
    "\"processes\":[{\"pid\":4321,\"uid\":65534,\"user\":null,\"comm\":\"nginx\","
    "\"protocol\":6,\"protocol_name\":\"TCP\",\"family\":2,\"family_name\":\"INET\","
    "\"sends\":100,\"recvs\":0,\"send_bytes\":1048576,\"recv_bytes\":0,"
    "\"send_errors\":2,\"recv_errors\":0},{\"pid\":1234,\"uid\":1000,"
    "\"user\":\"alice\",\"comm\":\"curl\",\"protocol\":6,\"protocol_name\":\"TCP\","
    "\"family\":2,\"family_name\":\"INET\",\"sends\":10,\"recvs\":20,"
    "\"send_bytes\":4096,\"recv_bytes\":204800,\"send_errors\":0,\"recv_errors\":1},"
    "{\"pid\":99,\"uid\":0,\"user\":\"root\",\"comm\":\"sshd\",\"protocol\":6,"
    "\"protocol_name\":\"TCP\",\"family\":10,\"family_name\":\"INET6\",\"sends\":5,"
    "\"recvs\":5,\"send_bytes\":1000,\"recv_bytes\":2000,\"send_errors\":0,"
    "\"recv_errors\":0},{\"pid\":555,\"uid\":1001,\"user\":\"systemd-resolve\","
    "\"comm\":\"systemd-resolve\",\"protocol\":17,\"protocol_name\":\"UDP\","
    "\"family\":2,\"family_name\":\"INET\",\"sends\":1,\"recvs\":1,\"send_bytes\":60,"
    "\"recv_bytes\":100,\"send_errors\":0,\"recv_errors\":0},{\"pid\":777,"
    "\"uid\":1000,\"user\":\"alice\",\"comm\":\"bad\",\"protocol\":17,"
    "\"protocol_name\":\"UDP\",\"family\":2,\"family_name\":\"INET\",\"sends\":0,"
    "\"recvs\":0,\"send_bytes\":0,\"recv_bytes\":0,\"send_errors\":3,"
    "\"recv_errors\":0}],\"devices\":[{\"name\":\"eth0\",\"ifindex\":2,"
    "\"netns\":4026531840,\"xmits\":100,\"recvs\":50,\"xmit_bytes\":150000,"
    "\"recv_bytes\":75000},{\"name\":\"lo\",\"ifindex\":1,\"netns\":4026531840,"
    "\"xmits\":10,\"recvs\":10,\"xmit_bytes\":10240,\"recv_bytes\":10240},"
    "{\"name\":\"lo\",\"ifindex\":1,\"netns\":4026532000,\"xmits\":5,\"recvs\":5,"
    "\"xmit_bytes\":2048,\"recv_bytes\":2048}],\"connections\":[],\"cgroups\":[],\"histograms\":[{"
    "\"kind\":\"size\","
    "\"dir\":\"send\",\"by\":\"process\",\"key\":4321,\"comm\":\"nginx\","
    "\"count\":100,\"buckets\":[{\"lo\":1024,\"hi\":2048,\"count\":100}]},"
    "{\"kind\":\"size\",\"dir\":\"send\",\"by\":\"process\",\"key\":1234,"
    "\"comm\":\"curl\",\"count\":82,\"buckets\":[{\"lo\":0,\"hi\":1,\"count\":1},"
    "{\"lo\":2,\"hi\":4,\"count\":3},{\"lo\":1024,\"hi\":2048,\"count\":52},"
    "{\"lo\":1048576,\"hi\":2097152,\"count\":26}]},{\"kind\":\"latency\","
    "\"dir\":\"recv\",\"by\":\"process\",\"key\":1234,\"comm\":\"curl\",\"count\":5,"
    "\"buckets\":[{\"lo\":8192,\"hi\":16384,\"count\":5}]}]}\n";

/* rows as letters, by (pid, protocol, family) */
static const char *order(const struct socktap_proc_row *rows, size_t n)
{
	static char out[16];
	static const struct {
		uint32_t pid;
		int prot, fam;
		char id;
	} ids[] = {
	    {30, 6, 2, 'a'}, {10, 6, 2, 'b'}, {20, 17, 2, 'c'}, {10, 17, 2, 'd'}, {10, 6, 10, 'e'}};
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(out); i++) {
		char id = '?';
		for (size_t j = 0; j < sizeof(ids) / sizeof(ids[0]); j++)
			if (ids[j].pid == rows[i].pid && ids[j].prot == rows[i].protocol &&
			    ids[j].fam == rows[i].family)
				id = ids[j].id;
		out[k++] = id;
	}
	out[k] = '\0';
	return out;
}

static const char *sorted_by(const char *key)
{
	/* distinct per key, with ties on pid, then protocol, then family */
	struct socktap_proc_row rows[] = {
	    proc(20, 0, "aaa", 17, 2, 3, 3, 2000, 6000, 1, 1),
	    proc(10, 0, "alpha", 17, 2, 5, 1, 3000, 10, 0, 2),
	    proc(10, 0, "alpha", 6, 10, 0, 0, 0, 0, 0, 0),
	    proc(30, 0, "zeta", 6, 2, 1, 9, 2500, 5000, 0, 0),
	    proc(10, 0, "alpha", 6, 2, 5, 1, 3000, 10, 4, 0),
	};
	int k = top_sort_parse(key);
	if (k < 0)
		return "(unknown key)";
	top_sort_procs(rows, sizeof(rows) / sizeof(rows[0]), (enum top_sort)k);
	return order(rows, sizeof(rows) / sizeof(rows[0]));
}

static void run(void)
{
	/* the date line is local time: pin it */
	setenv("TZ", "UTC", 1);
	tzset();

	SUBTEST("socktop layout: exact, failures-only rows dropped, devices merged by name")
	{
		struct socktap_snapshot *s = snapshot();
		struct top_view v = {.layout = TOP_LAYOUT_SOCKTOP,
				     .sort = TOP_SORT_BYTES,
				     .rows = 10,
				     .devices = true,
				     .user_name = users};
		top_prepare(s, &v);
		ASSERT_STREQ(capture(top_render_text, s, &v), socktop_expected, "socktop text");
		socktap_snapshot_free(s);
	}

	SUBTEST("socktop layout: no devices section without -d")
	{
		struct socktap_snapshot *s = snapshot();
		struct top_view v = {
		    .layout = TOP_LAYOUT_SOCKTOP, .rows = 1, .sort = TOP_SORT_BYTES};
		top_prepare(s, &v);
		ASSERT_STREQ(
		    capture(top_render_text, s, &v),
		    "======================= Thu Nov 26 18:30:00 2026 ========================\n"
		    "------------------------------- PROCESSES -------------------------------\n"
		    "PID   UID     #SEND   #RECV SEND_KB RECV_KB PROT FAMILY   COMMAND        \n"
		    "4321  65534     100       0    1024       0 TCP  INET     nginx          \n"
		    "=========================================================================\n"
		    "\n",
		    "socktop -N 1");
		socktap_snapshot_free(s);
	}

	SUBTEST("socktap layout: users, errors, devices per namespace, histograms")
	{
		struct socktap_snapshot *s = snapshot();
		struct top_view v = {.layout = TOP_LAYOUT_SOCKTAP,
				     .sort = TOP_SORT_BYTES,
				     .rows = 10,
				     .devices = true,
				     .user_name = users};
		top_prepare(s, &v);
		ASSERT_STREQ(capture(top_render_text, s, &v), socktap_expected, "socktap text");
		socktap_snapshot_free(s);
	}

	SUBTEST("socktap layout: -N limits rows and says so")
	{
		struct socktap_snapshot *s = snapshot();
		s->dropped = 0;
		s->nhists = 0;
		struct top_view v = {.layout = TOP_LAYOUT_SOCKTAP,
				     .sort = TOP_SORT_SENDS,
				     .rows = 2,
				     .user_name = users};
		top_prepare(s, &v);
		ASSERT_STREQ(
		    capture(top_render_text, s, &v),
		    "2026-11-26 18:29:55 - 18:30:00 (5.00 s), top 2 of 5 rows\n"
		    "PID     USER       #SEND   #RECV SEND_KB RECV_KB #SERR #RERR PROT "
		    "FAMILY   COMMAND\n"
		    "4321    65534        100       0    1024       0     2     0 TCP  INET"
		    "     nginx\n"
		    "1234    alice         10      20       4     200     0     1 TCP  INET"
		    "     curl\n"
		    "\n",
		    "-N 2 -s sends");
		socktap_snapshot_free(s);
	}

	SUBTEST("json: exact, every row without -N")
	{
		struct socktap_snapshot *s = snapshot();
		struct top_view v = {
		    .layout = TOP_LAYOUT_SOCKTAP, .sort = TOP_SORT_BYTES, .user_name = users};
		top_prepare(s, &v);
		ASSERT_STREQ(capture(top_render_json, s, &v), json_expected, "json");
		socktap_snapshot_free(s);
	}

	SUBTEST("json: -N limits processes, devices and histograms per kind")
	{
		struct socktap_snapshot *s = snapshot();
		struct top_view v = {.layout = TOP_LAYOUT_SOCKTAP,
				     .sort = TOP_SORT_PID,
				     .rows = 1,
				     .user_name = users};
		top_prepare(s, &v);
		const char *j = capture(top_render_json, s, &v);
		ASSERT_TRUE(strstr(j, "\"processes\":[{\"pid\":99,") != NULL, "lowest pid first");
		ASSERT_TRUE(strstr(j, "\"pid\":555") == NULL, "one process");
		ASSERT_TRUE(strstr(j, "\"devices\":[{\"name\":\"eth0\",") != NULL,
			    "busiest device");
		ASSERT_TRUE(strstr(j, "\"netns\":4026532000") == NULL, "one device");
		ASSERT_TRUE(strstr(j, "\"key\":4321") != NULL, "largest send histogram");
		ASSERT_TRUE(strstr(j, "\"dir\":\"send\",\"by\":\"process\",\"key\":1234") == NULL,
			    "one send-size histogram");
		ASSERT_TRUE(strstr(j, "\"kind\":\"latency\"") != NULL, "latency has its own limit");
		socktap_snapshot_free(s);
	}

	SUBTEST("json: hostile strings are escaped, invalid UTF-8 becomes U+FFFD")
	{
		struct socktap_snapshot s = {
		    .ts_start = 1, .ts_end = 2, .nprocs = 1, .ndevs = 1, .nhists = 1};
		struct socktap_proc_row r = proc(1, 1002, "", 6, 2, 1, 0, 1, 0, 0, 0);
		/* quote, backslash, newline, control byte, stray byte, valid UTF-8 (é) */
		memcpy(r.comm, "a\"b\\c\n\x01\xff\xc3\xa9", 11);
		struct socktap_dev_row d = {.name = "e\tth\x7f"};
		struct socktap_hist h = {.kind = SOCKTAP_HIST_SIZE, .key = 1, .count = 0};
		memcpy(h.comm, r.comm, sizeof(h.comm));
		s.procs = &r;
		s.devs = &d;
		s.hists = &h;
		struct top_view v = {.user_name = users};
		ASSERT_STREQ(
		    capture(top_render_json, &s, &v),
		    "{\"ts_start\":1,\"ts_end\":2,\"dropped\":0,\"processes\":[{\"pid\":1,\"uid\":"
		    "1002,\"user\":\"we\\\"ird\\\\\",\"comm\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd"
		    "\xc3\xa9\",\"protocol\":6,\"protocol_name\":\"TCP\",\"family\":2,\"family_"
		    "name\":\"INET\",\"sends\":1,\"recvs\":0,\"send_bytes\":1,\"recv_bytes\":0,"
		    "\"send_errors\":0,\"recv_errors\":0}],\"devices\":[{\"name\":"
		    "\"e\\tth\\u007f\","
		    "\"ifindex\":0,\"netns\":0,\"xmits\":0,\"recvs\":0,\"xmit_bytes\":0,\"recv_"
		    "bytes\":0}],\"connections\":[],\"cgroups\":[],\"histograms\":[{\"kind\":"
		    "\"size\",\"dir\":\"send\",\"by\":"
		    "\"process\",\"key\":1,\"comm\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xc3\xa9\","
		    "\"count\":0,\"buckets\":[]}]}\n",
		    "hostile comm, user and device name");
		/* a comm of 16 bytes with no NUL stops at 16, and text escapes every odd byte */
		memset(r.comm, 'x', sizeof(r.comm));
		const char *j = capture(top_render_json, &s, &v);
		ASSERT_TRUE(strstr(j, "\"comm\":\"xxxxxxxxxxxxxxxx\",") != NULL,
			    "unterminated comm");
		memcpy(r.comm, "a\"b\\c\n\x01\xff\xc3\xa9", 11);
		v.layout = TOP_LAYOUT_SOCKTOP;
		const char *t = capture(top_render_procs, &s, &v);
		ASSERT_TRUE(strstr(t, " a\"b\\x5cc\\x0a\\x01\\xff\\xc3\\xa9\n") != NULL,
			    "text: one row, no raw control bytes");
	}

	SUBTEST("by connection and by cgroup: exact text, JSON and order")
	{
		struct socktap_conn_row conns[3] = {
		    {.pid = 7,
		     .comm = "dig",
		     .protocol = 17,
		     .family = 2,
		     .laddr = "127.0.0.1",
		     .lport = 5353,
		     .raddr = "127.0.0.3",
		     .rport = 53,
		     .sends = 2,
		     .send_bytes = 80},
		    {.pid = 7,
		     .comm = "dig",
		     .protocol = 6,
		     .family = 10,
		     .laddr = "::1",
		     .lport = 40000,
		     .raddr = "::ffff:127.0.0.2",
		     .rport = 443,
		     .sends = 1,
		     .recvs = 1,
		     .send_bytes = 100,
		     .recv_bytes = 4096},
		    {.pid = 9,
		     .comm = "sshd",
		     .protocol = 0,
		     .family = 1,
		     .laddr = "/run/a-very-long-unix-socket-path/name.sock",
		     .lport = -1,
		     .raddr = "",
		     .rport = -1,
		     .recvs = 1,
		     .recv_bytes = 10,
		     .recv_errors = 1},
		};
		struct socktap_cgroup_row cgs[2] = {
		    {.cgroup_id = 42,
		     .cgroup = "/system.slice/docker-0123456789abcdef0123456789abcdef"
			       "0123456789abcdef0123456789abcdef.scope",
		     .container =
			 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		     .sends = 1,
		     .send_bytes = 2048},
		    {.cgroup_id = 7, .cgroup = NULL, .recvs = 3, .recv_bytes = 3072},
		};
		struct socktap_snapshot snap = {.ts_start = 1,
						.ts_end = 2,
						.nconns = 3,
						.conns = conns,
						.ncgroups = 2,
						.cgroups = cgs};
		struct top_view v = {
		    .layout = TOP_LAYOUT_SOCKTAP, .sort = TOP_SORT_BYTES, .by = TOP_BY_CONNECTION};
		top_prepare(&snap, &v);
		ASSERT_STREQ(
		    capture(top_render_procs, &snap, &v),
		    "PID     COMMAND         PROT LOCAL                        REMOTE              "
		    "           #SEND   #RECV SEND_KB RECV_KB #SERR #RERR\n"
		    "7       dig             TCP  [::1]:40000                  "
		    "[::ffff:127.0.0.2]:443             1       1       0       4     0     0\n"
		    "7       dig             UDP  127.0.0.1:5353               127.0.0.3:53        "
		    "               2       0       0       0     0     0\n"
		    "9       sshd            IP   +-unix-socket-path/name.sock *                   "
		    "               0       1       0       0     0     1\n",
		    "connection table: most bytes first, long paths cut at the start");
		v.by = TOP_BY_CGROUP;
		ASSERT_STREQ(
		    capture(top_render_procs, &snap, &v),
		    "  #SEND   #RECV SEND_KB RECV_KB #SERR #RERR CONTAINER    CGROUP\n"
		    "      0       3       0       3     0     0 -            (gone: id 7)\n"
		    "      1       0       2       0     0     0 0123456789ab "
		    "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef"
		    "0123456789abcdef.scope\n",
		    "cgroup table");
		const char *j = capture(top_render_json, &snap, &v);
		ASSERT_TRUE(
		    strstr(j,
			   "\"connections\":[{\"pid\":7,\"comm\":\"dig\",\"protocol_name\":"
			   "\"TCP\",\"family_name\":\"INET6\",\"laddr\":\"::1\",\"lport\":40000,"
			   "\"raddr\":\"::ffff:127.0.0.2\",\"rport\":443,\"sends\":1,\"recvs\":1,"
			   "\"send_bytes\":100,\"recv_bytes\":4096,\"send_errors\":0,"
			   "\"recv_errors\":0},") != NULL,
		    j);
		ASSERT_TRUE(strstr(j, "{\"pid\":9,\"comm\":\"sshd\",\"protocol_name\":\"IP\","
				      "\"family_name\":\"LOCAL\",\"laddr\":\"/run/a-very-long-unix-"
				      "socket-path/name.sock\",\"lport\":null,\"raddr\":null,"
				      "\"rport\":null,") != NULL,
			    j);
		ASSERT_TRUE(strstr(j, "\"cgroups\":[{\"cgroup\":null,\"cgroup_id\":7,"
				      "\"container\":null,\"sends\":0,\"recvs\":3,") != NULL,
			    j);
		ASSERT_TRUE(strstr(j,
				   "\"cgroup_id\":42,\"container\":\"0123456789abcdef"
				   "0123456789abcdef0123456789abcdef0123456789abcdef\",") != NULL,
			    j);
		ASSERT_EQ(top_by_parse("connection"), TOP_BY_CONNECTION, "parse connection");
		ASSERT_EQ(top_by_parse("cgroup"), TOP_BY_CGROUP, "parse cgroup");
		ASSERT_EQ(top_by_parse("conn"), -1, "no abbreviations");
	}

	SUBTEST("sort: every key, ties by pid, protocol, family")
	{
		ASSERT_STREQ(sorted_by("bytes"), "cabde", "bytes (send + recv)");
		ASSERT_STREQ(sorted_by("sends"), "bdcae", "sends");
		ASSERT_STREQ(sorted_by("recvs"), "acbde", "recvs");
		ASSERT_STREQ(sorted_by("send_kb"), "bdace", "send_kb");
		ASSERT_STREQ(sorted_by("recv_kb"), "cabde", "recv_kb");
		ASSERT_STREQ(sorted_by("errors"), "bdcea", "errors (send + recv)");
		ASSERT_STREQ(sorted_by("pid"), "bedca", "pid");
		ASSERT_STREQ(sorted_by("command"), "cbeda", "command");
		ASSERT_EQ(top_sort_parse("bogus"), -1, "unknown key");
	}

	SUBTEST("sort: 's' cycles through every key once, '<' '>' follow the columns")
	{
		enum top_sort k = TOP_SORT_BYTES;
		unsigned int seen = 0;
		for (int i = 0; i < TOP_SORT__COUNT; i++) {
			seen |= 1u << k;
			k = top_sort_next(k);
		}
		ASSERT_EQ(k, TOP_SORT_BYTES, "back to bytes");
		ASSERT_EQ(seen, (1u << TOP_SORT__COUNT) - 1, "all keys");
		ASSERT_STREQ(top_sort_name(TOP_SORT_BYTES), "bytes", "default's name");
		struct top_view v = {.layout = TOP_LAYOUT_SOCKTAP};
		int col = -1, w = -1;
		/* "PID     USER       #SEND   #RECV SEND_KB RECV_KB #SERR #RERR PROT ..." */
		ASSERT_TRUE(top_sort_span(&v, TOP_SORT_PID, &col, &w), "pid span");
		ASSERT_EQ(col, 0, "pid col");
		ASSERT_EQ(w, 3, "pid width");
		ASSERT_TRUE(top_sort_span(&v, TOP_SORT_BYTES, &col, &w), "bytes span");
		ASSERT_EQ(col, 33, "bytes: from SEND_KB");
		ASSERT_EQ(w, 15, "bytes: to RECV_KB");
		ASSERT_TRUE(top_sort_span(&v, TOP_SORT_ERRORS, &col, &w), "errors span");
		ASSERT_EQ(col, 49, "errors: from #SERR");
		ASSERT_EQ(w, 11, "errors: to #RERR");
		v.layout = TOP_LAYOUT_SOCKTOP;
		ASSERT_TRUE(!top_sort_span(&v, TOP_SORT_ERRORS, &col, &w), "socktop has no errors");
	}

	SUBTEST("hist: bucket labels and bounds like bpftrace")
	{
		static const struct {
			unsigned int b;
			const char *label;
		} cases[] = {
		    {0, "[0]"},	      {1, "[1]"},	  {2, "[2, 4)"},    {10, "[512, 1K)"},
		    {11, "[1K, 2K)"}, {20, "[512K, 1M)"}, {21, "[1M, 2M)"}, {31, "[1G, 2G)"},
		    {41, "[1T, 2T)"}, {51, "[1P, 2P)"},	  {61, "[1E, 2E)"}, {63, "[4E, 8E)"},
		};
		char buf[64];
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			ASSERT_STREQ(top_hist_label(cases[i].b, buf, sizeof(buf)), cases[i].label,
				     "label");
		static const uint64_t values[] = {0,	1,    2,    3,		4,
						  1023, 1024, 1025, 1ULL << 40, (1ULL << 63) - 1};
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			uint64_t lo, hi;
			unsigned int b = socktap_hist_bucket(values[i]);
			top_hist_bounds(b, &lo, &hi);
			ASSERT_TRUE(lo <= values[i] && values[i] < hi, "value within its bucket");
		}
		uint64_t lo, hi;
		top_hist_bounds(0, &lo, &hi);
		ASSERT_TRUE(lo == 0 && hi == 1, "bucket 0 is [0, 1)");
		top_hist_bounds(63, &lo, &hi);
		ASSERT_TRUE(lo == 1ULL << 62 && hi == 1ULL << 63, "bucket 63");
	}

	SUBTEST("hist: bars scale to the largest bucket, truncated; first to last non-empty")
	{
		struct socktap_hist h = {.kind = SOCKTAP_HIST_LATENCY, .recv = true, .key = 6};
		h.buckets[3] = 7;
		h.buckets[5] = 3;
		h.count = 10;
		ASSERT_STREQ(hist_text(&h, true),
			     "@recv_latency_ns[TCP]:\n"
			     "[4, 8)                 7 "
			     "|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
			     "[8, 16)                0 |                                           "
			     "         |\n"
			     "[16, 32)               3 |@@@@@@@@@@@@@@@@@@@@@@                     "
			     "         |\n"
			     "\n",
			     "by protocol, 3 * 52 / 7 = 22");
		struct socktap_hist e = {.kind = SOCKTAP_HIST_SIZE, .key = 42, .comm = "a\nb"};
		ASSERT_STREQ(hist_text(&e, false), "@send_size[a\\x0ab, 42]:\n\n",
			     "empty, per process, comm escaped");
		struct socktap_hist big = {.kind = SOCKTAP_HIST_SIZE, .key = 1, .comm = "x"};
		big.buckets[0] = 1ULL << 63; /* times 52 overflows 64 bits */
		big.buckets[1] = 1ULL << 62;
		const char *t = hist_text(&big, false);
		ASSERT_TRUE(strstr(t, "|@@@@@@@@@@@@@@@@@@@@@@@@@@                          |") !=
				NULL,
			    "no overflow scaling huge counts");
	}
}

TEST_MAIN(run)
