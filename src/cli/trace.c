// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* socktap trace: every firing of the selected probes, as text, JSON Lines or CSV. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>
#include "capture.h"
#include "cli.h"

struct out_ctx {
	FILE *f;
	enum socktap_format fmt;
	int err;	      /* errno of a failed write */
	unsigned int n;	      /* events written, for the stop checks */
	int64_t end_ns;	      /* -d: CLOCK_MONOTONIC end, 0 = none */
	int64_t drain_end_ns; /* the last drain writes until then (0: still tracing) */
	uint64_t skipped;     /* events of the last drain left unwritten: lost */
	char line[16384];     /* most lines; longer ones go on the heap (cli_event_write) */
};

/* How long the last drain may write after a stop: SIGTERM, Ctrl-C and -d end within 0.5 s. */
#define DRAIN_NS 250000000

/* Time to stop reading: a signal or -d's end; in the last drain, its own end. */
static bool stop_due(const struct out_ctx *o)
{
	if (o->drain_end_ns)
		return cli_mono_ns() >= o->drain_end_ns;
	return cli_got_stop || cli_got_int || (o->end_ns && cli_mono_ns() >= o->end_ns);
}

/* The last drain past its time: events are taken from the ring and counted, not written. */
static int count_skipped(const struct socktap_event *ev, void *data)
{
	(void)ev;
	((struct out_ctx *)data)->skipped++;
	return 0;
}

/*
 * A poll delivers for as long as events keep coming: under a flood it would
 * never return. Every 256 events written, see whether it is time to stop.
 */
static int event_written(struct out_ctx *o)
{
	if (++o->n % 256 == 0 && stop_due(o))
		return -EINTR;
	return 0;
}

static int on_event(const struct socktap_event *ev, void *data)
{
	struct out_ctx *o = data;
	if (cli_event_write(o->f, ev, o->fmt, o->line, sizeof(o->line))) {
		o->err = errno;
		return -EIO;
	}
	return event_written(o);
}

/* -w: the event as a capture record, unformatted (the cheap path under a flood) */
static int on_capture(const struct socktap_event *ev, void *data)
{
	struct out_ctx *o = data;
	if (capture_event_write(o->f, ev)) {
		o->err = errno ? errno : EIO;
		return -EIO;
	}
	return event_written(o);
}

/* What a stream starts with: CSV's header line, or a capture's header. */
static void stream_header(const struct trace_config *cfg, FILE *f)
{
	if (cfg->capture)
		capture_header_write(f); /* an error stays in f: the next fflush reports it */
	else if (cfg->fmt == SOCKTAP_FORMAT_CSV)
		fputs(socktap_csv_header(), f);
}

static void trace_usage(FILE *f)
{
	fprintf(f, "Usage: socktap trace [PATTERN...] [OPTIONS]\n"
		   "  Trace the probe points matching PATTERNs (default: all 22).\n"
		   "Target (default: the whole system until Ctrl-C):\n"
		   "  -c, --command CMD   run CMD (shell words) traced with its descendants;\n"
		   "                      exit with its status when it ends\n"
		   "  -x, --target PID    trace process PID until it exits\n"
		   "Filters (repeatable; in the kernel):\n"
		   "  -p PID  -n NAME  -u USER  -f FAMILY  -P PROTOCOL  -t TYPE\n"
		   "  --addr ADDR[/PREFIX]  either end (IPv4 or IPv6)   --port PORT  either end\n"
		   "  --cgroup PATH       tasks in that cgroup (v2) or below\n"
		   "Output:\n"
		   "  -F, --format FMT    text (default), json (JSON Lines) or csv\n"
		   "  -o, --output FILE   write events to FILE (stdout/stderr stay the command's)\n"
		   "  -w, --write FILE    write events unformatted, as a capture for\n"
		   "                      'socktap convert' (- = stdout); not with -o or -F\n"
		   "  -d, --duration SEC  stop after SEC seconds\n"
		   "      --no-addrs      leave addresses out (laddr, lport, raddr, rport: null)\n"
		   "      --ringbuf-size BYTES  kernel ring buffer (power of two, default 4 "
		   "MiB)\n" MECHANISM_HELP);
}

static int trace_run(struct trace_config *cfg);

void trace_config_free(struct trace_config *cfg)
{
	filters_free(&cfg->flt);
	free(cfg->pats.v);
	cfg->pats = (struct str_list){0};
}

int trace_parse(int argc, char **argv, struct trace_config *cfg)
{
	static const struct option longopts[] = {
	    FILTER_LONGOPTS,
	    {"command", required_argument, NULL, 'c'},
	    {"target", required_argument, NULL, 'x'},
	    {"format", required_argument, NULL, 'F'},
	    {"output", required_argument, NULL, 'o'},
	    {"write", required_argument, NULL, 'w'},
	    {"duration", required_argument, NULL, 'd'},
	    {"ringbuf-size", required_argument, NULL, 'R'},
	    {"no-addrs", no_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;
	const char *wpath = NULL;
	bool fmt_given = false;
	*cfg = (struct trace_config){.fmt = SOCKTAP_FORMAT_TEXT};
	optind = 0; /* glibc's full reset: a previous parse may have stopped mid-argument */
	opterr = 0;
	/*
	 * Patterns may come before or after options. Never past the end: there,
	 * after a "--", getopt sends optind back to the operands it skipped.
	 */
	while (optind == 0 || optind < argc) {
		c = getopt_long(argc, argv, "+c:x:F:o:w:d:p:n:u:f:P:t:h", longopts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			str_list_add(&cfg->pats, argv[optind++]);
			continue;
		}
		int f = filters_parse(&cfg->flt, c, optarg);
		if (f < 0)
			return EXIT_USAGE;
		if (f > 0)
			continue;
		long v;
		switch (c) {
		case 'c':
			cfg->command = optarg;
			break;
		case 'x':
			if (!parse_long(optarg, 1, INT_MAX, &v)) {
				cli_error("-x: '%s' is not a process id", optarg);
				return EXIT_USAGE;
			}
			cfg->xpid = (pid_t)v;
			break;
		case 'F':
			if ((cfg->fmt = parse_format(optarg, true)) < 0)
				return EXIT_USAGE;
			fmt_given = true;
			break;
		case 'o':
			cfg->outpath = optarg;
			break;
		case 'w':
			wpath = optarg;
			break;
		case 'd':
			if (!parse_decimal(optarg, 0, 1e9, &cfg->duration) ||
			    !(cfg->duration > 0)) {
				cli_error("--duration: '%s' is not a number of seconds", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'R':
			if (!parse_long(optarg, 4096, 1L << 30, &v) || (v & (v - 1))) {
				cli_error("--ringbuf-size: '%s' is not a power of two from 4096 to "
					  "1 GiB",
					  optarg);
				return EXIT_USAGE;
			}
			cfg->rbsize = v;
			break;
		case 'N':
			cfg->no_addrs = true;
			break;
		case 'h':
			trace_usage(stdout);
			return 0;
		case '?':
		default:
			return bad_option("trace", argv);
		}
	}
	if (cfg->command && cfg->xpid) {
		cli_error("-c and -x: give one target, not both");
		return EXIT_USAGE;
	}
	if (wpath && (cfg->outpath || fmt_given)) {
		cli_error("-w writes a capture, not formatted events: not with -o or -F "
			  "(socktap convert formats it)");
		return EXIT_USAGE;
	}
	if (wpath && strcmp(wpath, "-") == 0 && isatty(STDOUT_FILENO)) {
		cli_error("-w -: not writing a binary capture to a terminal");
		return EXIT_USAGE;
	}
	if (wpath) {
		cfg->capture = true;
		cfg->outpath = strcmp(wpath, "-") ? wpath : NULL;
	}
	if (probes_check((char *const *)cfg->pats.v, (int)cfg->pats.n))
		return EXIT_USAGE;
	return CLI_RUN;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_config cfg;
	int rc = trace_parse(argc, argv, &cfg);
	if (rc == CLI_RUN)
		rc = trace_run(&cfg);
	trace_config_free(&cfg);
	return rc;
}

/* After trace_parse(): trace until told to stop; the exit code. */
static int trace_run(struct trace_config *cfg)
{
	struct cli_session ses;
	const struct cli_target target = {cfg->command, cfg->xpid, cfg->outpath,
					  cfg->capture ? "-w" : "-o"};
	int rc = cli_session_begin(&ses, &target);
	if (rc)
		return rc;
	struct out_ctx *out = calloc(1, sizeof(*out));
	if (!out) {
		cli_error("out of memory");
		return cli_session_end(&ses, 1);
	}
	out->fmt = cfg->fmt;
	out->f = ses.out;
	/* 256 KiB: few write(2)s per poll, and a quarter of the RSS a 1 MiB buffer costs */
	setvbuf(out->f, NULL, _IOFBF, 1 << 18);

	SOCKTAP_OPTS(opts, .probes = cfg->pats.v, .probe_cnt = cfg->pats.n,
		     .ringbuf_size = (size_t)cfg->rbsize, .print = lib_print,
		     .no_addrs = cfg->no_addrs);
	filters_apply(&cfg->flt, &opts);
	/* the header first: the command may print to the same stdout once it runs */
	if (!cfg->outpath)
		stream_header(cfg, out->f);
	rc = cli_session_start(&ses, &opts, NULL, NULL);
	if (rc) {
		free(out);
		return cli_session_end(&ses, rc);
	}
	struct socktap *st = ses.st;
	if (cfg->outpath && !ses.werr)
		stream_header(cfg, out->f);
	out->err = ses.werr;
	socktap_event_fn fn = cfg->capture ? on_capture : on_event;

	if (cfg->duration > 0)
		out->end_ns = cli_mono_ns() + (int64_t)(cfg->duration * 1e9);
	bool timed_out = false;
	while (!out->err) {
		int n = socktap_poll(st, 100, fn, out);
		if (n < 0 && n != -EINTR) {
			if (!out->err)
				cli_error("reading events: %s", strerror(-n));
			rc = 1;
			break;
		}
		if (fflush(out->f) && !out->err)
			out->err = errno;
		if (out->err || cli_session_target_ended(&ses))
			break;
		if (cli_got_stop || (cli_got_int && !ses.child))
			break;
		if (cli_got_int > 1)
			break; /* second Ctrl-C: do not wait for the command */
		if (out->end_ns && cli_mono_ns() >= out->end_ns) {
			timed_out = true; /* the command, if any, runs on untraced */
			break;
		}
	}
	/*
	 * Events still in the ring belong to the run: deliver them before the
	 * summary. Detached first, so that what is left is finite (a ring's
	 * worth at most) however fast events were coming.
	 */
	socktap_stop(st);
	/*
	 * A ring's worth is finite, but writing it may not be quick (a disk
	 * throttling dirty pages): past the bound, count the rest as lost.
	 */
	out->drain_end_ns = cli_mono_ns() + DRAIN_NS;
	int dn = out->err ? 0 : socktap_drain(st, fn, out);
	if (dn == -EINTR)
		dn = socktap_drain(st, count_skipped, out);
	if (dn < 0 && !out->err)
		rc = 1;
	if (fflush(out->f) && !out->err)
		out->err = errno;

	struct socktap_stats stats = {.sz = sizeof(stats)};
	socktap_stats_get(st, &stats);
	stats.delivered -= out->skipped;
	stats.lost += out->skipped;
	/* tracing ended first (SIGTERM, an error): the command's status still counts */
	if (!timed_out)
		cli_session_reap(&ses, cli_got_stop);
	char degraded[2048] = "[]";
	if (json_errors) {
		/* kept for the summary, which comes after the session is gone */
		FILE *m = fmemopen(degraded, sizeof(degraded), "w");
		if (m) {
			degraded_json(m, st);
			if (fclose(m))
				snprintf(degraded, sizeof(degraded), "[]");
		}
	}
	socktap_close(st);
	ses.st = NULL;
	ses.werr = out->err;
	if (json_errors)
		fprintf(stderr, "{\"delivered\":%llu,\"lost\":%llu,\"degraded\":%s}\n",
			(unsigned long long)stats.delivered, (unsigned long long)stats.lost,
			degraded);
	else if (stats.lost && stats.lost == out->skipped)
		fprintf(stderr,
			"%s: %llu events delivered, %llu events lost (not written: "
			"the output was too slow when told to stop)\n",
			prog_name, (unsigned long long)stats.delivered,
			(unsigned long long)stats.lost);
	else if (stats.lost)
		fprintf(stderr,
			"%s: %llu events delivered, %llu events lost (ring buffer full%s; try a "
			"larger --ringbuf-size)\n",
			prog_name, (unsigned long long)stats.delivered,
			(unsigned long long)stats.lost,
			out->skipped ? ", and the rest unwritten when told to stop" : "");
	else
		fprintf(stderr, "%s: %llu events delivered, 0 events lost\n", prog_name,
			(unsigned long long)stats.delivered);
	free(out);
	return cli_session_end(&ses, rc);
}
