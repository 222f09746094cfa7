// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Every subcommand's option parsing (list, trace, top, serve, convert and socktop's
 * *_parse(): getopt and checks, nothing run). The first byte picks the
 * command (and -j); the rest, split on NUL bytes, is argv. A parse gives
 * CLI_RUN or an exit code the command documents; what it lets run holds
 * its checks; and the same argv parsed again gives the same answer (no
 * getopt state left over from the previous call, which a fuzzer's next
 * input would otherwise inherit).
 */
#include <limits.h>
#include "fuzz.h"
#include "capture.h"
#include "cli.h"
#include "series.h"
#include "top.h"

#define MAXARGS 32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet(); /* --help and every error message */
	return 0;
}

static bool valid_patterns(char *const *pats, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (socktap_pattern_select(pats[i], NULL) <= 0)
			return false;
	return true;
}

static int parse(int cmd, int argc, char **argv, uint64_t *digest)
{
	int rc;
	*digest = 0;
	switch (cmd) {
	case 0: {
		struct list_config c;
		rc = list_parse(argc, argv, &c);
		if (rc == CLI_RUN) {
			FUZZ_CHECK(c.doc || valid_patterns(c.pats, (size_t)c.npats),
				   "list patterns");
			*digest = (uint64_t)c.npats << 2 | c.verbose << 1 | c.doc;
		}
		return rc;
	}
	case 1: {
		struct trace_config c;
		rc = trace_parse(argc, argv, &c);
		if (rc == CLI_RUN) {
			FUZZ_CHECK(!(c.command && c.xpid), "-c and -x");
			FUZZ_CHECK(c.fmt >= SOCKTAP_FORMAT_TEXT && c.fmt <= SOCKTAP_FORMAT_CSV,
				   "-F");
			FUZZ_CHECK(c.duration >= 0 && c.duration <= 1e9, "-d %g", c.duration);
			FUZZ_CHECK(!c.rbsize || (c.rbsize >= 4096 && c.rbsize <= 1L << 30 &&
						 !(c.rbsize & (c.rbsize - 1))),
				   "--ringbuf-size %ld", c.rbsize);
			FUZZ_CHECK(valid_patterns((char *const *)c.pats.v, c.pats.n), "patterns");
			/* -w: a capture, never formatted; not with -o or -F (said, exit 2) */
			FUZZ_CHECK(!c.capture || c.fmt == SOCKTAP_FORMAT_TEXT, "-w with -F");
			*digest =
			    c.pats.n << 8 | (uint64_t)c.fmt << 4 | c.capture << 1 | c.no_addrs;
		}
		trace_config_free(&c);
		return rc;
	}
	case 2:
	case 4: {
		struct top_config c;
		rc = cmd == 2 ? top_parse(argc, argv, &c) : socktop_parse(argc, argv, &c);
		if (rc == CLI_RUN) {
			FUZZ_CHECK(c.interval >= TOP_MIN_INTERVAL && c.interval <= 1e6, "-i %g",
				   c.interval);
			FUZZ_CHECK(c.count >= 0 && c.view.rows <= INT_MAX, "-C, -N");
			FUZZ_CHECK(c.fmt == SOCKTAP_FORMAT_TEXT || c.fmt == SOCKTAP_FORMAT_JSON,
				   "-F");
			FUZZ_CHECK(!(c.command && c.xpid), "-c and -x");
			*digest = (uint64_t)c.count << 20 ^ c.view.rows << 4 ^ c.view.devices;
		}
		filters_free(&c.flt);
		return rc;
	}
	case 5: {
		struct convert_config c;
		rc = convert_parse(argc, argv, &c);
		if (rc == CLI_RUN) {
			FUZZ_CHECK(c.inpath, "convert: no FILE");
			FUZZ_CHECK(c.fmt >= SOCKTAP_FORMAT_TEXT && c.fmt <= SOCKTAP_FORMAT_CSV,
				   "-F");
			*digest = (uint64_t)c.fmt << 1 | !!c.outpath;
		}
		return rc;
	}
	default: {
		struct serve_config c;
		rc = serve_parse(argc, argv, &c);
		if (rc == CLI_RUN) {
			FUZZ_CHECK(c.max_series >= 0 && c.max_series <= 10000000, "--max-series");
			FUZZ_CHECK(c.interval >= 0.1 && c.pid_ttl >= 1, "--interval, --pid-ttl");
			FUZZ_CHECK(!(c.labels >> SL__COUNT), "--labels %#x", c.labels);
			*digest = (uint64_t)c.max_series << 16 ^ c.labels;
		}
		filters_free(&c.flt);
		return rc;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"list", "trace", "top", "socktop", "serve", "convert"};
	static const int codes[] = {0, 1, 2, 4, 3, 5}; /* parse()'s cases, in names' order */
	uint8_t sel = fuzz_byte(&data, &size);
	int k = sel % 6, cmd = codes[k];
	json_errors = sel & 0x80;
	char *argv[MAXARGS + 2];
	argv[0] = (char *)names[k];
	size_t n = size ? fuzz_split(data, size, argv + 1, MAXARGS) : 0;
	argv[n + 1] = NULL;
	/* getopt permutes argv: parse a copy of the pointers, twice */
	char *copy[MAXARGS + 2];
	int rc[2];
	uint64_t digest[2];
	for (int i = 0; i < 2; i++) {
		memcpy(copy, argv, sizeof(copy));
		rc[i] = parse(cmd, (int)n + 1, copy, &digest[i]);
		/* socktop exits 1 on bad usage, socktap 2 */
		FUZZ_CHECK(rc[i] == CLI_RUN || rc[i] == 0 || rc[i] == (cmd == 4 ? 1 : EXIT_USAGE),
			   "%s: exit code %d", names[k], rc[i]);
	}
	FUZZ_CHECK(rc[0] == rc[1] && digest[0] == digest[1], "%s: %d then %d", names[k], rc[0],
		   rc[1]);
	fuzz_free_n(argv + 1, n);
	return 0;
}
