// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* The probe table, pattern matching and fan-out: no kernel, no privileges. */
#include "testlib.h"
#include "probes.h"

static int count_matches(const char *pattern)
{
	return socktap_pattern_select(pattern, NULL);
}

static void run(void)
{
	SUBTEST("table has the seed's 18 probes plus the 4 iter probes")
	{
		static const char *const seed[] = {
		    "socket.send",	 "socket.receive",
		    "socket.sendmsg",	 "socket.sendmsg.return",
		    "socket.recvmsg",	 "socket.recvmsg.return",
		    "socket.aio_write",	 "socket.aio_write.return",
		    "socket.aio_read",	 "socket.aio_read.return",
		    "socket.writev",	 "socket.writev.return",
		    "socket.readv",	 "socket.readv.return",
		    "socket.create",	 "socket.create.return",
		    "socket.close",	 "socket.close.return",
		    "socket.write_iter", "socket.write_iter.return",
		    "socket.read_iter",	 "socket.read_iter.return",
		};
		ASSERT_EQ(SOCKTAP_PROBE__COUNT, 22, "probe count");
		for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
			ASSERT_TRUE(socktap_probe_find(seed[i]) >= 0, seed[i]);
		ASSERT_EQ(socktap_probe_find("socket.nope"), -ENOENT, "unknown name");
	}

	SUBTEST("every entry is complete and names are unique")
	{
		for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
			const struct socktap_probe *p = socktap_probe_get(i);
			ASSERT_TRUE(p && p->name && p->summary, "entry filled");
			ASSERT_TRUE(p->values & SOCKTAP_V_NAME, "every probe carries name");
			ASSERT_EQ(socktap_probe_find(p->name), i, p->name);
			ASSERT_TRUE(st_probes[i].cand[0].sources != 0, "has a candidate");
			/* .return probes end in .return and point at their entry */
			size_t n = strlen(p->name);
			bool dot_return = n > 7 && strcmp(p->name + n - 7, ".return") == 0;
			if (dot_return) {
				const struct socktap_probe *e = socktap_probe_get(p->entry);
				ASSERT_TRUE(p->is_return, p->name);
				ASSERT_TRUE(e && strncmp(e->name, p->name, n - 7) == 0 &&
						strlen(e->name) == n - 7,
					    "entry of a .return probe");
			}
		}
		ASSERT_TRUE(socktap_probe_get(SOCKTAP_PROBE__COUNT) == NULL, "out of range");
	}

	SUBTEST("values follow the seed")
	{
		const unsigned int xfer = SOCKTAP_V_NAME | SOCKTAP_V_SIZE | SOCKTAP_V_PROTOCOL |
					  SOCKTAP_V_FAMILY | SOCKTAP_V_STATE | SOCKTAP_V_FLAGS |
					  SOCKTAP_V_TYPE;
		ASSERT_EQ(socktap_probe_get(SOCKTAP_PROBE_SENDMSG)->values, xfer, "sendmsg");
		ASSERT_EQ(socktap_probe_get(SOCKTAP_PROBE_SEND)->values, xfer | SOCKTAP_V_SUCCESS,
			  "send");
		ASSERT_EQ(socktap_probe_get(SOCKTAP_PROBE_CREATE)->values,
			  SOCKTAP_V_NAME | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY | SOCKTAP_V_TYPE |
			      SOCKTAP_V_REQUESTER,
			  "create");
		ASSERT_EQ(socktap_probe_get(SOCKTAP_PROBE_CREATE_RETURN)->values,
			  socktap_probe_get(SOCKTAP_PROBE_CREATE)->values | SOCKTAP_V_SUCCESS |
			      SOCKTAP_V_ERR,
			  "create.return");
		ASSERT_EQ(socktap_probe_get(SOCKTAP_PROBE_CLOSE)->values,
			  SOCKTAP_V_NAME | SOCKTAP_V_PROTOCOL | SOCKTAP_V_FAMILY | SOCKTAP_V_STATE |
			      SOCKTAP_V_FLAGS | SOCKTAP_V_TYPE,
			  "close");
		ASSERT_EQ(socktap_probe_get(SOCKTAP_PROBE_CLOSE_RETURN)->values, SOCKTAP_V_NAME,
			  "close.return carries only its name");
		ASSERT_STREQ(socktap_value_name(SOCKTAP_V_REQUESTER), "requester", "value name");
		ASSERT_TRUE(socktap_value_name(SOCKTAP_V_SIZE | SOCKTAP_V_TYPE) == NULL,
			    "two bits are not a value");
	}

	SUBTEST("pattern: '*' stays within one component")
	{
		ASSERT_EQ(count_matches("socket.*"), 12, "socket.*");
		ASSERT_EQ(count_matches("socket.*.return"), 10, "socket.*.return");
		ASSERT_EQ(count_matches("*.*"), 12, "*.*");
		ASSERT_EQ(count_matches("*"), 0, "* alone matches no dotted name");
		ASSERT_EQ(count_matches("socket.send"), 1, "exact");
		ASSERT_EQ(count_matches("socket.send*"), 2, "send, sendmsg");
		ASSERT_EQ(count_matches("socket.*_iter*"), 2, "write_iter, read_iter");
		ASSERT_EQ(count_matches("socket.*_iter.*"), 2, "their returns");
		ASSERT_EQ(count_matches("socket.?ecv*"), 1, "? is one character");
		ASSERT_EQ(count_matches("socket.sendmsg.*"), 1, "socket.sendmsg.return");
		ASSERT_EQ(count_matches("socket"), 0, "a prefix is not a match");
		ASSERT_EQ(count_matches("socket.send.return"), 0, "no such probe");
		ASSERT_TRUE(!socktap_pattern_match("socket.*", "socket.sendmsg.return"),
			    "no crossing of '.'");
		ASSERT_TRUE(socktap_pattern_match("s*t.c*e", "socket.close"), "inner stars");
		ASSERT_TRUE(!socktap_pattern_match(NULL, "socket.send"), "NULL pattern");
	}

	SUBTEST("pattern: '**' spans components, as in SystemTap")
	{
		ASSERT_EQ(count_matches("socket.**"), 22, "socket.** is every probe");
		ASSERT_EQ(count_matches("**"), 22, "** alone too");
		ASSERT_EQ(count_matches("***"), 22, "three stars are two");
		ASSERT_EQ(count_matches("**.return"), 10, "every return probe");
		ASSERT_EQ(count_matches("socket.**.return"), 10, "socket.X.return");
		ASSERT_EQ(count_matches("socket.**e"), 4, "receive, aio_write, create, close");
		ASSERT_EQ(count_matches("socket.send**"), 3, "send, sendmsg, sendmsg.return");
		ASSERT_EQ(count_matches("**.*"), 22, "** then one component");
		ASSERT_EQ(count_matches("*.**.*"), 10, "three components or more");
		ASSERT_EQ(count_matches("socket**return"), 10, "across both dots");
		ASSERT_EQ(count_matches("socket.**.send"), 0, "no probe has send last but one");
		ASSERT_TRUE(socktap_pattern_match("s**n", "socket.sendmsg.return"),
			    "first to last");
		ASSERT_TRUE(!socktap_pattern_match("**x", "socket.send"), "still anchored");
		ASSERT_TRUE(socktap_pattern_match("a.**.z", "a.b.c.d.z"), "many components");
		ASSERT_TRUE(!socktap_pattern_match("a.**.z", "a.z"), "but at least one");
		ASSERT_TRUE(socktap_pattern_match("a**z", "a.z"), "or none, without the dots");
		ASSERT_TRUE(!socktap_pattern_match("a.?", "a.."), "? is no dot");
	}

	SUBTEST("pattern: long names and many stars")
	{
		/* past the matcher's stack rows, and a pattern that would backtrack exponentially
		 */
		char name[300], pat[200];
		memset(name, 'a', sizeof(name) - 2);
		name[sizeof(name) - 2] = 'b';
		name[sizeof(name) - 1] = '\0';
		for (size_t i = 0; i + 2 < sizeof(pat); i += 2)
			memcpy(pat + i, "a*", 2);
		strcpy(pat + sizeof(pat) - 2, "c");
		ASSERT_TRUE(!socktap_pattern_match(pat, name), "no c at the end");
		pat[sizeof(pat) - 2] = 'b';
		ASSERT_TRUE(socktap_pattern_match(pat, name), "b at the end");
		ASSERT_TRUE(socktap_pattern_match("**b", name), "a long name");
		ASSERT_TRUE(socktap_pattern_match("", ""), "empty matches empty");
		ASSERT_TRUE(!socktap_pattern_match("", "a"), "and nothing else");
	}

	SUBTEST("pattern select builds the mask")
	{
		uint64_t m = 0;
		ASSERT_EQ(socktap_pattern_select("socket.create*", &m), 1, "create only");
		ASSERT_EQ(m, 1ULL << SOCKTAP_PROBE_CREATE, "mask bit");
		ASSERT_EQ(socktap_pattern_select("socket.create.*", &m), 1, "and its return");
		ASSERT_EQ(m, (1ULL << SOCKTAP_PROBE_CREATE) | (1ULL << SOCKTAP_PROBE_CREATE_RETURN),
			  "mask bits accumulate");
	}

	SUBTEST("suggestions for misspellings")
	{
		const char *s[3];
		int n = socktap_probe_suggest("socket.sendmgs", s, 3);
		ASSERT_TRUE(n >= 1, "some suggestion");
		ASSERT_STREQ(n ? s[0] : NULL, "socket.sendmsg", "closest first");
		ASSERT_EQ(socktap_probe_suggest("zzzzzzzzzzzzzzzzzzzzzzz", s, 3), 0,
			  "nothing plausible");
	}

	SUBTEST("fan-out: one record, every name once, entries before returns")
	{
		int seen[SOCKTAP_PROBE__COUNT] = {};
		for (int op = 0; op < ST_OP__COUNT; op++) {
			const struct st_fanout *f = st_fanout_xfer(op);
			int sends = 0;
			bool past_entries = false;
			ASSERT_TRUE(f && f->n >= 3 && f->n <= ST_MAX_FANOUT, "fan-out size");
			for (int i = 0; f && i < f->n; i++) {
				const struct socktap_probe *p = socktap_probe_get(f->probe[i]);
				seen[f->probe[i]]++;
				ASSERT_EQ(f->at_entry[i], !p->is_return, p->name);
				if (!f->at_entry[i])
					past_entries = true;
				else
					ASSERT_TRUE(!past_entries, "entries come first");
				sends += f->probe[i] == SOCKTAP_PROBE_SEND ||
					 f->probe[i] == SOCKTAP_PROBE_RECEIVE;
			}
			ASSERT_EQ(sends, 1,
				  "exactly one socket.send/receive per kernel send/receive");
			ASSERT_TRUE(f->probe[f->n - 1] == SOCKTAP_PROBE_SEND ||
					f->probe[f->n - 1] == SOCKTAP_PROBE_RECEIVE,
				    "send/receive last");
		}
		/* every send/receive-side probe is reachable from some op */
		for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
			if (i >= SOCKTAP_PROBE_CREATE)
				continue;
			ASSERT_TRUE(seen[i] > 0, socktap_probe_get(i)->name);
		}
		ASSERT_EQ(seen[SOCKTAP_PROBE_WRITE_ITER], 2, "write(2) and writev(2) both");
	}

	SUBTEST("resolution picks the first candidate whose sources exist")
	{
		uint64_t all = (1ull << SRC__COUNT) - 1, tp_only = 0;
		for (int i = 0; i < SRC__COUNT; i++)
			if (st_sources[i].kind == SRCK_TRACEPOINT)
				tp_only |= 1ull << i;
		const struct st_candidate *c;
		c = st_probe_resolve(SOCKTAP_PROBE_SEND, all, ST_BACKEND_AUTO);
		ASSERT_TRUE(c && c->sources == 1ull << SRC_SEND_TP, "tracepoints first");
		ASSERT_TRUE(st_probe_resolve(SOCKTAP_PROBE_SEND, tp_only & ~(1ull << SRC_SEND_TP),
					     ST_BACKEND_AUTO) == NULL,
			    "no send tracepoint and no functions: no socket.send");
		c = st_probe_resolve(SOCKTAP_PROBE_SEND, all & ~(1ull << SRC_SEND_TP),
				     ST_BACKEND_AUTO);
		ASSERT_TRUE(c && c->backend == ST_BACKEND_FENTRY &&
				(c->sources >> SRC_SEND_FEXIT & 1),
			    "then fexit on __sock_sendmsg");
		c = st_probe_resolve(SOCKTAP_PROBE_SEND, all, ST_BACKEND_KPROBE);
		ASSERT_TRUE(c && c->backend == ST_BACKEND_KPROBE, "a forced backend wins");
		c = st_probe_resolve(SOCKTAP_PROBE_RECVMSG,
				     all & ~(1ull << SRC_RECV_TP) & ~(1ull << SRC_RECV_NOSEC_FEXIT),
				     ST_BACKEND_AUTO);
		ASSERT_TRUE(c && c->backend == ST_BACKEND_KPROBE,
			    "a partial fentry set is no candidate: kprobes next");
		ASSERT_TRUE(c && (c->sources >> SRC_SYS_ENTER & 1),
			    "entry probes need entry times");
		ASSERT_TRUE(st_probe_resolve(SOCKTAP_PROBE_SEND, all & ~(1ull << SRC_SYS_ENTER),
					     ST_BACKEND_AUTO) != NULL,
			    "socket.send needs no syscall hooks");
		c = st_probe_resolve(SOCKTAP_PROBE_CLOSE, all & ~(1ull << SRC_PROC_EXIT),
				     ST_BACKEND_AUTO);
		ASSERT_TRUE(c && !(c->sources >> SRC_PROC_EXIT & 1) && strstr(c->limits, "exit"),
			    "close without process exit: the syscalls, saying what is lost");
		c = st_probe_resolve(SOCKTAP_PROBE_SEND, all & ~(1ull << SRC_SEND_TP),
				     ST_BACKEND_AUTO);
		ASSERT_TRUE(c && (c->sources >> SRC_SENDPAGE_FEXIT & 1),
			    "where the sendpage path exists, the function backends hook it");
		c = st_probe_resolve(SOCKTAP_PROBE_SEND,
				     all & ~(1ull << SRC_SEND_TP) & ~(1ull << SRC_FSENDPAGE_FEXIT),
				     ST_BACKEND_AUTO);
		ASSERT_TRUE(c && c->backend == ST_BACKEND_FENTRY &&
				!(c->sources >> SRC_SENDPAGE_FEXIT & 1),
			    "and where it does not (6.5+), the same without it");
		ASSERT_TRUE(st_probe_resolve(SOCKTAP_PROBE_CLOSE, all, ST_BACKEND_KPROBE) != NULL,
			    "syscall hooks serve every backend");
		ASSERT_EQ(st_backend_parse("fentry"), ST_BACKEND_FENTRY, "parse");
		ASSERT_EQ(st_backend_parse("ebpf"), -EINVAL, "parse bad");
	}
}

TEST_MAIN(run)
