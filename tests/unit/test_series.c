// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap serve's series (src/cli/series.c): --labels parsing, folding
 * snapshots into totals that never go backwards, the overflow series, pid
 * expiry, exact histogram bounds and label escaping in the exposition.
 * Expected lines follow Prometheus's text format 0.0.4, not this code.
 */
#include "testlib.h"
#include "socktap.h"
#include "series.h"

static const struct serve_self self = {.version = "9.9", .sizes = true};

static const char *expose(struct series_store *s)
{
	return TEST_CAPTURE(f, series_write(s, f, &self));
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static struct socktap_series_row udp_row(uint32_t pid, const char *comm)
{
	struct socktap_series_row r = {.pid = pid, .protocol = 17, .family = 2, .type = 2};
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	return r;
}

static void run(void)
{
	SUBTEST("labels: defaults, + and -, a bare list, bad words named")
	{
		unsigned int l = 0;
		const char *bad = NULL;
		ASSERT_EQ(serve_labels_parse("+pid,-type", &l, &bad), 0, "relative");
		ASSERT_EQ(l, (SL_DEFAULT | SL_BIT(SL_PID)) & ~SL_BIT(SL_TYPE),
			  "default + pid - type");
		ASSERT_EQ(serve_labels_parse("comm,cgroup", &l, &bad), 0, "absolute");
		ASSERT_EQ(l, SL_BIT(SL_COMM) | SL_BIT(SL_CGROUP), "exactly comm and cgroup");
		ASSERT_EQ(serve_labels_parse("+comm,nope,pid", &l, &bad), -1, "unknown");
		ASSERT_STREQ(bad, "nope,pid", "the bad word comes first");
		ASSERT_EQ(serve_labels_parse("comm,", &l, &bad), -1, "empty word");
	}
	SUBTEST("errno names: the fixed table, else other")
	{
		ASSERT_STREQ(serve_errno_name(11), "EAGAIN", "EAGAIN");
		ASSERT_STREQ(serve_errno_name(104), "ECONNRESET", "ECONNRESET");
		ASSERT_STREQ(serve_errno_name(512), "ERESTARTSYS", "kernel-internal");
		ASSERT_STREQ(serve_errno_name(4095), "other", "unknown");
	}
	SUBTEST("fold: deltas of two processes of one name sum; totals survive their exit")
	{
		struct series_store *s = series_new(SL_DEFAULT, 0, 0);
		struct socktap_series_row rows[3] = {udp_row(10, "w"), udp_row(11, "w"),
						     udp_row(11, "w")};
		rows[0].sends = 3, rows[0].send_bytes = 300;
		rows[1].sends = 2, rows[1].send_bytes = 20;
		rows[2].err = 11, rows[2].recv_errors = 4;
		struct socktap_snapshot snap = {.nseries = 3, .series = rows};
		ASSERT_EQ(series_fold(s, &snap, 1, NULL), 0, "fold");
		const char *t = expose(s);
		ASSERT_TRUE(has_line(t, "socktap_send_operations_total{comm=\"w\",protocol=\"UDP\","
					"family=\"INET\",type=\"DGRAM\"} 5"),
			    "5 sends");
		ASSERT_TRUE(has_line(t, "socktap_send_bytes_total{comm=\"w\",protocol=\"UDP\","
					"family=\"INET\",type=\"DGRAM\"} 320"),
			    "320 bytes");
		ASSERT_TRUE(has_line(t, "socktap_receive_errors_total{comm=\"w\",protocol=\"UDP\","
					"family=\"INET\",type=\"DGRAM\",errno=\"EAGAIN\"} 4"),
			    "errors by errno");
		ASSERT_TRUE(has_line(t, "# TYPE socktap_send_operations_total counter"), "TYPE");
		/* both processes gone: the next snapshot has no rows, nothing goes back */
		struct socktap_snapshot empty = {0};
		series_fold(s, &empty, 2, NULL);
		t = expose(s);
		ASSERT_TRUE(has_line(t, "socktap_send_operations_total{comm=\"w\",protocol=\"UDP\","
					"family=\"INET\",type=\"DGRAM\"} 5"),
			    "still 5 after the exit");
		ASSERT_EQ(series_count(s), 1, "one label set");
		series_free(s);
	}
	SUBTEST("histograms: upper-inclusive slots give exact power-of-two bounds")
	{
		struct series_store *s = series_new(SL_BIT(SL_COMM), 0, 0);
		struct socktap_series_row r = udp_row(1, "h");
		r.sends = 5, r.send_bytes = 0 + 1 + 1024 + 1025 + (4 << 20);
		/* 0 -> slot 0, 1 -> 1, 1024 -> 11 ((512, 1024]), 1025 -> 12, past 2^20: the last */
		r.size_slots[0][0] = r.size_slots[0][1] = r.size_slots[0][11] = 1;
		r.size_slots[0][12] = r.size_slots[0][SOCKTAP_SIZE_SLOTS - 1] = 1;
		struct socktap_snapshot snap = {.nseries = 1, .series = &r};
		series_fold(s, &snap, 1, NULL);
		const char *t = expose(s);
		ASSERT_TRUE(has_line(t, "socktap_send_size_bytes_bucket{comm=\"h\",le=\"0\"} 1"),
			    "le 0");
		ASSERT_TRUE(has_line(t, "socktap_send_size_bytes_bucket{comm=\"h\",le=\"512\"} 2"),
			    "le 512");
		ASSERT_TRUE(has_line(t, "socktap_send_size_bytes_bucket{comm=\"h\",le=\"1024\"} 3"),
			    "le 1024 holds 1024");
		ASSERT_TRUE(has_line(t, "socktap_send_size_bytes_bucket{comm=\"h\",le=\"2048\"} 4"),
			    "le 2048");
		ASSERT_TRUE(
		    has_line(t, "socktap_send_size_bytes_bucket{comm=\"h\",le=\"1048576\"} 4"),
		    "le 2^20");
		ASSERT_TRUE(has_line(t, "socktap_send_size_bytes_bucket{comm=\"h\",le=\"+Inf\"} 5"),
			    "+Inf");
		ASSERT_TRUE(has_line(t, "socktap_send_size_bytes_sum{comm=\"h\"} 4196354"), "sum");
		ASSERT_TRUE(has_line(t, "socktap_send_size_bytes_count{comm=\"h\"} 5"), "count");
		ASSERT_TRUE(strstr(t, "socktap_receive_size_bytes_count") == NULL,
			    "no receive histogram before an observation");
		series_free(s);
	}
	SUBTEST("overflow: past --max-series one ~other series, distinct sets counted once")
	{
		struct series_store *s = series_new(SL_BIT(SL_COMM), 2, 0);
		const char *names[] = {"a", "b", "c", "d", "c"};
		for (int i = 0; i < 5; i++) {
			struct socktap_series_row r = udp_row((uint32_t)i, names[i]);
			r.sends = 1;
			struct socktap_snapshot snap = {.nseries = 1, .series = &r};
			series_fold(s, &snap, 1, NULL);
		}
		const char *t = expose(s);
		ASSERT_TRUE(has_line(t, "socktap_send_operations_total{comm=\"~other\"} 3"),
			    "c, d, c folded");
		ASSERT_TRUE(has_line(t, "socktap_series_overflowed 2"), "c and d: 2 distinct");
		ASSERT_TRUE(has_line(t, "socktap_series 3"), "a, b and the overflow series");
		series_free(s);
	}
	SUBTEST("pid labels expire after their TTL, others never")
	{
		struct series_store *s = series_new(SL_BIT(SL_COMM) | SL_BIT(SL_PID), 0, 100);
		struct socktap_series_row r = udp_row(7, "p");
		r.sends = 1;
		struct socktap_snapshot snap = {.nseries = 1, .series = &r};
		series_fold(s, &snap, 1000, NULL);
		ASSERT_TRUE(
		    has_line(expose(s), "socktap_send_operations_total{comm=\"p\",pid=\"7\"} 1"),
		    "pid label");
		struct socktap_snapshot empty = {0};
		series_fold(s, &empty, 1050, NULL);
		ASSERT_EQ(series_count(s), 1, "within the TTL");
		series_fold(s, &empty, 1101, NULL);
		ASSERT_EQ(series_count(s), 0, "expired");
		ASSERT_TRUE(has_line(expose(s), "socktap_series_expired_total 1"), "counted");
		series_free(s);
		s = series_new(SL_BIT(SL_COMM), 0, 100);
		series_fold(s, &snap, 1000, NULL);
		series_fold(s, &empty, 100000, NULL);
		ASSERT_EQ(series_count(s), 1, "no pid label: kept");
		series_free(s);
	}
	SUBTEST("escaping: quotes, backslashes, newlines; control bytes and bad UTF-8 replaced")
	{
		struct series_store *s = series_new(SL_BIT(SL_COMM), 0, 0);
		struct socktap_series_row r = udp_row(1, "");
		memcpy(r.comm, "a\"b\\c\nd\x1b\xff", 10);
		r.sends = 1;
		struct socktap_snapshot snap = {.nseries = 1, .series = &r};
		series_fold(s, &snap, 1, NULL);
		ASSERT_TRUE(has_line(expose(s),
				     "socktap_send_operations_total{comm=\"a\\\"b\\\\c\\nd"
				     "\xef\xbf\xbd\xef\xbf\xbd\"} 1"),
			    "escaped");
		series_free(s);
	}
	SUBTEST("names alike once replaced are one series, not the same series twice")
	{
		struct series_store *s = series_new(SL_BIT(SL_COMM), 0, 0);
		struct socktap_series_row r[2] = {udp_row(1, "a\xff"), udp_row(2, "a\x01")};
		r[0].sends = 2, r[1].sends = 3;
		struct socktap_snapshot snap = {.nseries = 2, .series = r};
		series_fold(s, &snap, 1, NULL);
		const char *t = expose(s);
		ASSERT_TRUE(has_line(t, "socktap_send_operations_total{comm=\"a\xef\xbf\xbd\"} 5"),
			    "one series, the sum");
		ASSERT_EQ(series_count(s), 1, "one label set");
		series_free(s);
	}
	SUBTEST("a process named ~other is the overflow series, not a second one")
	{
		struct series_store *s = series_new(SL_BIT(SL_COMM), 1, 0);
		struct socktap_series_row r[3] = {udp_row(1, "~other"), udp_row(2, "x"),
						  udp_row(3, "y")};
		r[0].sends = 1, r[1].sends = 2, r[2].sends = 4;
		struct socktap_snapshot snap = {.nseries = 3, .series = r};
		series_fold(s, &snap, 1, NULL);
		const char *t = expose(s);
		ASSERT_TRUE(has_line(t, "socktap_send_operations_total{comm=\"x\"} 2"), "x kept");
		ASSERT_TRUE(has_line(t, "socktap_send_operations_total{comm=\"~other\"} 5"),
			    "~other and y: one series");
		series_free(s);
	}
}

TEST_MAIN(run)
