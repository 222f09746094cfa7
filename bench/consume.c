// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A consumer that does nothing with its events: what libsocktap's own decode
 * costs, set against trace's formatters and its -w writer (bench/run.py's
 * writer table).
 *
 *   consume RINGBUF_BYTES [PROBE...] -- COMMAND [ARG...]
 *
 * Traces COMMAND until it exits, then prints trace's summary line
 * ("N events delivered, M events lost") on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "socktap.h"

static int noop(const struct socktap_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	return 0;
}

int main(int argc, char **argv)
{
	int sep = 2;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (argc < 2 || sep + 1 >= argc) {
		fprintf(stderr, "usage: consume RINGBUF_BYTES [PROBE...] -- COMMAND [ARG...]\n");
		return 2;
	}
	SOCKTAP_OPTS(opts, .probes = (const char *const *)argv + 2, .probe_cnt = (size_t)sep - 2,
		     .ringbuf_size = strtoul(argv[1], NULL, 0), .command = argv + sep + 1);
	struct socktap *st;
	int err = socktap_open(&opts, &st);
	if (!err)
		err = socktap_start(st);
	if (err) {
		fprintf(stderr, "consume: %s\n", strerror(-err));
		return 1;
	}
	int status;
	for (;;) {
		int n = socktap_poll(st, 100, noop, NULL);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "consume: %s\n", strerror(-n));
			return 1;
		}
		if (socktap_command_wait(st, &status, true) == 1)
			break;
	}
	socktap_stop(st);
	socktap_drain(st, noop, NULL);
	struct socktap_stats s = {.sz = sizeof(s)};
	socktap_stats_get(st, &s);
	socktap_close(st);
	fprintf(stderr, "consume: %llu events delivered, %llu events lost\n",
		(unsigned long long)s.delivered, (unsigned long long)s.lost);
	return 0;
}
