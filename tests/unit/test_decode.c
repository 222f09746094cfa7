// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Record decoding with synthetic records: each record kind fans out to its
 * probes with the tapset's values and times; ids user space made are
 * carried to the socket's close. No kernel, no privileges.
 */
#include "testlib.h"
#include "session.h"

#define MAXEV 16
struct seen {
	int n;
	struct socktap_event ev[MAXEV];
};

static int collect(const struct socktap_event *ev, void *ctx)
{
	struct seen *s = ctx;
	if (s->n < MAXEV)
		s->ev[s->n++] = *ev;
	return 0;
}

static struct st_rec base(enum st_rec_kind kind)
{
	struct st_rec r = {.kind = kind,
			   .fd = 5,
			   .pid = 100,
			   .tid = 101,
			   .uid = 1000,
			   .cpu = 1,
			   .ts_enter = 1000,
			   .ts = 3000,
			   .fd2 = -1,
			   .family = 1,
			   .type = 1,
			   .protocol = 0,
			   .state = 3};
	memcpy(r.comm, "worker", 7);
	return r;
}

static void decode(struct socktap *st, struct st_rec *r, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	st->fn = collect;
	st->fn_ctx = s;
	st_on_record(st, r, sizeof(*r));
}

static void run(void)
{
	struct socktap *st = calloc(1, sizeof(*st));
	struct seen s;
	st->probe_mask = (1ull << SOCKTAP_PROBE__COUNT) - 1;

	SUBTEST("write(2): five probes, entry ones at the entry time with the requested size")
	{
		struct st_rec r = base(ST_REC_XFER);
		r.op = ST_OP_AIO_WRITE;
		r.rflags = ST_RF_ENTRY | ST_RF_SIZE_REQ | ST_RF_SOCK_VALS;
		r.size_req = 100;
		r.ret = 60;
		r.cookie = 77;
		decode(st, &r, &s);
		ASSERT_EQ(s.n, 5, "fan-out");
		static const int order[] = {SOCKTAP_PROBE_AIO_WRITE, SOCKTAP_PROBE_WRITE_ITER,
					    SOCKTAP_PROBE_WRITE_ITER_RETURN,
					    SOCKTAP_PROBE_AIO_WRITE_RETURN, SOCKTAP_PROBE_SEND};
		for (int i = 0; i < 5 && i < s.n; i++) {
			ASSERT_EQ(s.ev[i].probe, order[i], "order");
			ASSERT_EQ(s.ev[i].sock, 77, "sock");
			ASSERT_EQ(s.ev[i].fd, 5, "fd");
			ASSERT_EQ(s.ev[i].size, i < 2 ? 100 : 60, "size");
			ASSERT_EQ(s.ev[i].ts, i < 2 ? 1000 : 3000, "entry or return time");
		}
		ASSERT_EQ(s.ev[4].success, 1, "success");
	}

	SUBTEST("a failed send: size is -errno, success 0; unknown entry size is not known")
	{
		struct st_rec r = base(ST_REC_XFER);
		r.op = ST_OP_SENDMSG;
		r.rflags = ST_RF_SOCK_VALS;
		r.ret = -11;
		decode(st, &r, &s);
		ASSERT_EQ(s.n, 3, "fan-out");
		ASSERT_TRUE(!(s.ev[0].known & SOCKTAP_V_SIZE), "sendmsg entry size unknown");
		ASSERT_EQ(s.ev[1].size, -11, "sendmsg.return size");
		ASSERT_EQ(s.ev[1].success, 0, "success");
	}

	SUBTEST("only the session's probes are delivered")
	{
		struct st_rec r = base(ST_REC_XFER);
		r.op = ST_OP_RECVMSG;
		st->probe_mask = 1ull << SOCKTAP_PROBE_RECEIVE;
		decode(st, &r, &s);
		ASSERT_EQ(s.n, 1, "one");
		ASSERT_EQ(s.ev[0].probe, SOCKTAP_PROBE_RECEIVE, "socket.receive");
		st->probe_mask = (1ull << SOCKTAP_PROBE__COUNT) - 1;
	}

	SUBTEST("socketpair: two sockets, create at entry and create.return at exit each")
	{
		struct st_rec r = base(ST_REC_CREATE);
		r.op = 2;
		r.fd = 3;
		r.fd2 = 4;
		r.cookie = 10;
		r.cookie2 = 11;
		decode(st, &r, &s);
		ASSERT_EQ(s.n, 4, "fan-out");
		ASSERT_TRUE(s.n == 4 && s.ev[0].fd == 3 && s.ev[1].fd == 3 && s.ev[2].fd == 4 &&
				s.ev[3].fd == 4,
			    "fds");
		ASSERT_TRUE(s.n == 4 && s.ev[0].sock == 10 && s.ev[3].sock == 11, "cookies");
		ASSERT_TRUE(s.n == 4 && s.ev[0].ts == 1000 && s.ev[3].ts == 3000, "times");
	}

	SUBTEST("a dropped socket's close: protocol unknown without socket values")
	{
		struct st_rec r = base(ST_REC_CLOSE);
		r.fd = -1;
		r.rflags = ST_RF_ENTRY;
		decode(st, &r, &s);
		ASSERT_EQ(s.n, 2, "close, close.return");
		ASSERT_TRUE(!(s.ev[0].known & SOCKTAP_V_PROTOCOL), "protocol unknown");
		ASSERT_TRUE(s.ev[0].known & SOCKTAP_V_FAMILY, "family known");
	}

	SUBTEST("a short or unknown record is skipped, never fatal")
	{
		struct st_rec r = base(ST_REC_XFER);
		memset(&s, 0, sizeof(s));
		st->fn = collect;
		st->fn_ctx = &s;
		ASSERT_EQ(st_on_record(st, &r, sizeof(r) - 1), 0, "short");
		r.kind = 99;
		ASSERT_EQ(st_on_record(st, &r, sizeof(r)), 0, "unknown kind");
		ASSERT_EQ(s.n, 0, "nothing delivered");
	}

	SUBTEST("a missing socket id: null without the iterators, never a guess")
	{
		struct st_rec r = base(ST_REC_CREATE);
		r.op = 1;
		r.fd = 3;
		r.ino = 4242;
		decode(st, &r, &s);
		ASSERT_TRUE(s.n == 2 && s.ev[0].sock == 0 && s.ev[1].sock == 0, "null");
	}

	SUBTEST("a close record takes the id made for its (pid, inode), once")
	{
		st->made[0] = (struct st_made_cookie){.pid = 100, .ino = 4242, .cookie = 99};
		struct st_rec c = base(ST_REC_CLOSE);
		c.ino = 4242;
		c.rflags = ST_RF_SOCK_VALS | ST_RF_ENTRY;
		c.pid = 101;
		decode(st, &c, &s);
		ASSERT_TRUE(s.n == 2 && s.ev[0].sock == 0, "another process's inode: not its id");
		c.pid = 100;
		decode(st, &c, &s);
		ASSERT_TRUE(s.n == 2 && s.ev[0].sock == 99 && s.ev[1].sock == 99, "the made id");
		decode(st, &c, &s);
		ASSERT_TRUE(s.n == 2 && s.ev[0].sock == 0,
			    "forgotten after the close: inodes are reused");
		c.cookie = 7;
		decode(st, &c, &s);
		ASSERT_TRUE(s.n == 2 && s.ev[0].sock == 7, "the kernel's own id wins");
	}
	free(st);
}

TEST_MAIN(run)
