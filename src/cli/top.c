// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap top: socktop's table from counts kept in the kernel, every
 * interval. A full-screen view on a terminal; plain text or JSON Lines
 * anywhere else. socktop (socktop.c) runs the same loop.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>
#include "top.h"

/* ---- the terminal: restored on every way out ---- */

static volatile sig_atomic_t curses_on;
static struct termios saved_tio;
static bool have_tio;
/* terminfo's exit-alternate-screen and show-cursor, copied for a signal handler */
static char restore_seq[128];
static size_t restore_len;

static void curses_end(void)
{
	if (curses_on) {
		curses_on = 0;
		if (!isendwin())
			endwin();
	}
}

/* SIGSEGV and friends: no curses call is safe here; put the tty back by hand, die as before. */
static void on_fatal(int sig)
{
	if (curses_on) {
		if (have_tio)
			tcsetattr(STDOUT_FILENO, TCSANOW, &saved_tio);
		ssize_t w = write(STDOUT_FILENO, restore_seq, restore_len);
		(void)w;
	}
	raise(sig); /* SA_RESETHAND: the default action now */
}

static void add_seq(const char *cap, const char *fallback)
{
	const char *s = tigetstr(cap);
	if (!s || s == (char *)-1)
		s = fallback;
	size_t n = strlen(s);
	if (restore_len + n < sizeof(restore_seq)) {
		memcpy(restore_seq + restore_len, s, n);
		restore_len += n;
	}
}

static bool curses_start(void)
{
	static bool registered;
	have_tio = tcgetattr(STDOUT_FILENO, &saved_tio) == 0;
	/* newterm, not initscr: an unknown TERM falls back to text instead of exiting */
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr)
		return false;
	set_term(scr);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	restore_len = 0;
	add_seq("rmcup", "\033[?1049l");
	add_seq("cnorm", "\033[?25h");
	struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_RESETHAND | SA_NODEFER};
	sigemptyset(&sa.sa_mask);
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	if (!registered)
		registered = atexit(curses_end) == 0;
	curses_on = 1;
	return true;
}

/* ---- one session ---- */

enum stop_reason {
	STOP_NONE,
	STOP_COUNT,   /* -C snapshots printed */
	STOP_COMMAND, /* -c command or -x target ended */
	STOP_QUIT,    /* q */
	STOP_SIGNAL,  /* SIGINT, SIGTERM, SIGHUP: the last, partial interval printed */
	STOP_ERROR,
};

struct top {
	struct top_config *cfg;
	struct top_view view;	/* what is drawn: the live view's keys change it */
	struct cli_session ses; /* its out is the text's, its werr the writes' */
	bool live, paused, help, count_devs;
	const char *note; /* one-off message on the live view's status line */
	struct socktap_snapshot *shown;
};

/* Draw text (lines) from row y on, clipped to the screen; returns the next row. */
static int draw_text(int y, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end && y < LINES - 1) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		mvaddnstr(y++, 0, p, (int)(n < (size_t)COLS ? n : (size_t)COLS));
		p = nl ? nl + 1 : end;
	}
	return y;
}

typedef void (*render_fn)(FILE *f, const struct socktap_snapshot *s, const struct top_view *v);

static int draw_piece(int y, render_fn fn, const struct socktap_snapshot *s,
		      const struct top_view *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return y;
	fn(f, s, v);
	fclose(f);
	y = draw_text(y, buf, len);
	free(buf);
	return y;
}

static const char help_text[] =
    "socktap top: keys\n"
    "\n"
    "  q            quit (with -c: end the command)\n"
    "  p, space     pause: the screen freezes; counting goes on, and the intervals\n"
    "               that pass while paused are not shown\n"
    "  s            next sort key (bytes, sends, recvs, send_kb, recv_kb, errors,\n"
    "               pid, command)\n"
    "  <  >         sort by the column left / right of the current one\n"
    "  d            show / hide network devices\n"
    "  h, ?         this help; any key returns\n"
    "\n"
    "Counts are per interval: successful sends and receives, bytes (KB = 1024),\n"
    "failed sends (#SERR) and receives (#RERR), per process, protocol and family.\n";

static const char key_line[] = "q quit  p pause  s sort  < > column  d devices  h help";

static void draw(struct top *t)
{
	char buf[256];
	const struct top_config *c = t->cfg;
	if (t->ses.have_words)
		clearok(curscr, TRUE); /* the command may have written over the screen */
	erase();
	snprintf(buf, sizeof(buf), " socktap top   every %gs   sort: %s%s", c->interval,
		 top_sort_name(t->view.sort), t->paused ? "   PAUSED" : "");
	attron(A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	mvaddnstr(0, 0, buf, COLS);
	attroff(A_REVERSE);
	int y = 1;
	if (t->help) {
		draw_text(2, help_text, sizeof(help_text) - 1);
	} else if (!t->shown) {
		snprintf(buf, sizeof(buf), "counting: the first interval ends in %gs", c->interval);
		mvaddnstr(1, 0, buf, COLS);
	} else {
		const struct socktap_snapshot *s = t->shown;
		y = draw_piece(y, top_render_title, s, &t->view) + 1;
		int hdr = y, col, w;
		y = draw_piece(y, top_render_procs, s, &t->view);
		if (hdr < LINES - 1) {
			mvchgat(hdr, 0, -1, A_BOLD, 0, NULL);
			if (top_sort_span(&t->view, t->view.sort, &col, &w) && col < COLS)
				mvchgat(hdr, col, w, A_BOLD | A_REVERSE, 0, NULL);
		}
		if (t->view.devices && y < LINES - 1) {
			hdr = y + 1;
			y = draw_piece(y + 1, top_render_devs, s, &t->view);
			if (hdr < LINES - 1)
				mvchgat(hdr, 0, -1, A_BOLD, 0, NULL);
		}
		if (s->nhists && y < LINES - 1)
			draw_piece(y + 1, top_render_hists, s, &t->view);
	}
	snprintf(buf, sizeof(buf), " %s", t->note ? t->note : key_line);
	t->note = NULL;
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvaddnstr(LINES - 1, 0, buf, COLS);
	attroff(A_REVERSE);
	refresh();
}

static void resort(struct top *t)
{
	if (t->shown)
		top_sort_rows(t->shown, &t->view);
}

/* One key of the live view; false to quit. */
static bool on_key(struct top *t, int ch)
{
	if (t->help && ch != KEY_RESIZE) {
		t->help = false;
		draw(t);
		return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case 'p':
	case ' ':
		t->paused = !t->paused;
		break;
	case 's':
		t->view.sort = top_sort_next(t->view.sort);
		resort(t);
		break;
	case '<':
		if (t->view.sort > 0)
			t->view.sort--;
		resort(t);
		break;
	case '>':
		if (t->view.sort + 1 < TOP_SORT__COUNT)
			t->view.sort++;
		resort(t);
		break;
	case 'd':
		if (t->count_devs)
			t->view.devices = !t->view.devices;
		else
			t->note = "devices are not counted: this kernel lacks their tracepoints";
		break;
	case 'h':
	case '?':
		t->help = true;
		break;
	case KEY_RESIZE:
		break;
	default:
		return true;
	}
	draw(t);
	return true;
}

/* A new snapshot: draw it, or print it. Takes ownership. Returns -1 on a write error. */
static int show(struct top *t, struct socktap_snapshot *s, bool final)
{
	if (t->live) {
		if (t->paused && !final) {
			socktap_snapshot_free(s);
			return 0;
		}
		top_prepare(s, &t->view);
		socktap_snapshot_free(t->shown);
		t->shown = s;
		draw(t);
		return 0;
	}
	struct top_view v = t->view;
	top_prepare(s, &v);
	if (t->cfg->fmt == SOCKTAP_FORMAT_JSON) {
		if (!t->cfg->rows_given)
			v.rows = 0;
		top_render_json(t->ses.out, s, &v);
	} else {
		top_render_text(t->ses.out, s, &v);
	}
	socktap_snapshot_free(s);
	if (fflush(t->ses.out) || ferror(t->ses.out)) {
		t->ses.werr = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

static int take(struct top *t, bool final)
{
	struct socktap_snapshot *s;
	int64_t t0 = cli_mono_ns();
	int err = socktap_snapshot_take(t->ses.st, &s);
	if (err) {
		curses_end();
		cli_error("reading the kernel's counts: %s", strerror(-err));
		return -1;
	}
	/* SOCKTAP_TOP_TIMING: each snapshot's cost, for bench/scale.py (no timing in tests) */
	if (t->cfg->timing) {
		int64_t t1 = cli_mono_ns();
		size_t rows = s->nprocs + s->nconns + s->ncgroups;
		int rc = show(t, s, final);
		int64_t t2 = cli_mono_ns();
		fprintf(stderr, "socktap: top: %zu rows: snapshot %.3f ms, render %.3f ms\n", rows,
			(double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
		return rc;
	}
	return show(t, s, final);
}

/* Wait up to ms for a key (live) or a signal; false when the user quits. */
static bool wait_a_little(struct top *t, int ms)
{
	if (!t->live) {
		poll(NULL, 0, ms);
		return true;
	}
	timeout(ms);
	int ch = getch();
	return ch == ERR || on_key(t, ch);
}

static enum stop_reason loop(struct top *t)
{
	const struct top_config *c = t->cfg;
	pid_t child = t->ses.child;
	int64_t step = (int64_t)(c->interval * 1e9), deadline = cli_mono_ns() + step;
	long taken = 0;
	if (t->live)
		draw(t);
	for (;;) {
		/* first: an interval shorter than a snapshot must not starve the signals */
		if (cli_got_stop || (cli_got_int && !child) || cli_got_int > 1)
			return take(t, true) ? STOP_ERROR : STOP_SIGNAL;
		int64_t now = cli_mono_ns();
		if (now >= deadline) {
			if (take(t, false))
				return STOP_ERROR;
			if (c->count > 0 && ++taken >= c->count)
				return STOP_COUNT;
			deadline += step;
			if (deadline <= now)
				deadline =
				    now + step; /* fell behind (stopped, swapped): no burst */
			continue;
		}
		int64_t left = (deadline - now + 999999) / 1000000;
		/* -x is no child of ours: look at it at least every 100 ms */
		if (!wait_a_little(t, left < 100 ? (int)left : 100))
			return STOP_QUIT;
		/* the rest of its interval, so a short command is counted in full */
		if (cli_session_target_ended(&t->ses))
			return take(t, true) ? STOP_ERROR : STOP_COMMAND;
		if (cli_got_stop || (cli_got_int && !child) || cli_got_int > 1)
			return take(t, true) ? STOP_ERROR : STOP_SIGNAL;
	}
}

/* the live view counts devices always, so that 'd' shows them at once: not at any cost */
static bool without_devices(struct socktap_opts *opts, void *ctx)
{
	struct top *t = ctx;
	if (!t->count_devs || t->cfg->view.devices)
		return false;
	t->count_devs = false;
	opts->aggregate &= ~(unsigned int)SOCKTAP_AGG_DEVICES;
	return true;
}

int top_run(struct top_config *cfg)
{
	struct top t = {.cfg = cfg, .view = cfg->view};
	cfg->timing = getenv("SOCKTAP_TOP_TIMING") != NULL;
	const struct cli_target target = {cfg->command, cfg->xpid, cfg->outpath};
	int rc = cli_session_begin(&t.ses, &target);
	if (rc)
		return rc;
	setvbuf(t.ses.out, NULL, _IOFBF, 1 << 16);
	t.live = cfg->live && !cfg->outpath && cfg->fmt == SOCKTAP_FORMAT_TEXT &&
		 isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	if (!t.view.user_name)
		t.view.user_name = cli_user_name;

	t.count_devs = cfg->view.devices || t.live;
	/* per-process histograms take their names from the process rows */
	static const unsigned int by_agg[] = {
	    [TOP_BY_PROCESS] = SOCKTAP_AGG_PROCESSES,
	    [TOP_BY_CONNECTION] = SOCKTAP_AGG_CONNECTIONS,
	    [TOP_BY_CGROUP] = SOCKTAP_AGG_CGROUPS,
	};
	unsigned int agg = by_agg[cfg->view.by] | cfg->hist |
			   (cfg->view.hist_by_protocol ? SOCKTAP_AGG_HIST_BY_PROTOCOL : 0);
	if (cfg->hist && !cfg->view.hist_by_protocol)
		agg |= SOCKTAP_AGG_PROCESSES;
	SOCKTAP_OPTS(opts, .aggregate = agg | (t.count_devs ? SOCKTAP_AGG_DEVICES : 0),
		     .print = lib_print);
	filters_apply(&cfg->flt, &opts);
	rc = cli_session_start(&t.ses, &opts, without_devices, &t);
	if (rc)
		return cli_session_end(&t.ses, rc);
	if (t.live && !curses_start())
		t.live = false;

	enum stop_reason why = loop(&t);
	curses_end();
	/* the live view's last screen goes with it: leave the final counts in the scrollback */
	if (t.live && t.shown && (why == STOP_COUNT || why == STOP_COMMAND || why == STOP_SIGNAL)) {
		t.live = false;
		top_render_text(t.ses.out, t.shown, &t.view);
		if (fflush(t.ses.out))
			t.ses.werr = errno;
	}
	/*
	 * Stopped first (q, SIGTERM, an error): end the command, keep its
	 * status; one Ctrl-C leaves it to the terminal's own SIGINT. With -C
	 * the command, if any, runs on untraced, as trace -d leaves it.
	 */
	if (why != STOP_COUNT)
		cli_session_reap(&t.ses, (why != STOP_QUIT && why != STOP_SIGNAL) || cli_got_stop ||
					     !cli_got_int);
	socktap_snapshot_free(t.shown);
	return cli_session_end(&t.ses, why == STOP_ERROR ? 1 : 0);
}

/* ---- socktap top's options ---- */

static void top_usage(FILE *f)
{
	fprintf(f,
		"Usage: socktap top [OPTIONS]\n"
		"  Per-process socket traffic, counted in the kernel, every interval: sends,\n"
		"  receives, KB and failures per (process, protocol, family), like socktop.\n"
		"  Full screen on a terminal (h: keys); else one table (or JSON object) per\n"
		"  interval.\n"
		"Target (default: the whole system until q, Ctrl-C or SIGTERM):\n"
		"  -c, --command CMD   run CMD (shell words) with its descendants; print the\n"
		"                      last counts and exit with its status when it ends\n"
		"  -x, --target PID    count process PID until it exits\n"
		"Filters (repeatable; in the kernel):\n"
		"  -p PID  -n NAME  -u USER  -f FAMILY  -P PROTOCOL  -t TYPE\n"
		"  --addr ADDR[/PREFIX]  either end (IPv4 or IPv6)   --port PORT  either end\n"
		"  --cgroup PATH       tasks in that cgroup (v2) or below\n"
		"Display:\n"
		"  -b, --by ROWS       process (default), connection (pid, protocol, both\n"
		"                      ends; unconnected UDP per peer) or cgroup\n"
		"  -i, --interval SEC  seconds between updates (default 5; fractions allowed)\n"
		"  -N, --rows NUM      processes and devices shown (default 10; 0: all)\n"
		"  -C, --count NUM     exit after NUM updates\n"
		"  -s, --sort KEY      %s\n"
		"                      (default bytes: sent + received)\n"
		"  -d, --devices       network devices too\n"
		"      --hist KIND     size or latency histograms (repeatable)\n"
		"      --hist-by BY    process (default) or protocol\n"
		"  -F, --format FMT    text (default) or json (one object per line, every\n"
		"                      row unless -N is given)\n"
		"  -o, --output FILE   write there (stdout stays the command's)\n"
		"Mechanism:\n" MECHANISM_HELP,
		top_sort_names());
}

enum { OPT_HIST = 0x100, OPT_HIST_BY };
_Static_assert((int)OPT_HIST_BY < (int)OPT_ADDR, "option codes collide");

int top_parse(int argc, char **argv, struct top_config *cfg)
{
	static const struct option longopts[] = {
	    FILTER_LONGOPTS,
	    {"command", required_argument, NULL, 'c'},
	    {"target", required_argument, NULL, 'x'},
	    {"interval", required_argument, NULL, 'i'},
	    {"rows", required_argument, NULL, 'N'},
	    {"count", required_argument, NULL, 'C'},
	    {"sort", required_argument, NULL, 's'},
	    {"devices", no_argument, NULL, 'd'},
	    {"by", required_argument, NULL, 'b'},
	    {"hist", required_argument, NULL, OPT_HIST},
	    {"hist-by", required_argument, NULL, OPT_HIST_BY},
	    {"format", required_argument, NULL, 'F'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	*cfg = (struct top_config){
	    .view = {.layout = TOP_LAYOUT_SOCKTAP, .sort = TOP_SORT_BYTES, .rows = 10},
	    .interval = 5,
	    .fmt = SOCKTAP_FORMAT_TEXT,
	    .live = true,
	};
	int c;

	optind = 0; /* glibc's full reset: a previous parse may have stopped mid-argument */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:x:i:N:C:s:db:F:o:p:n:u:f:P:t:h", longopts, NULL)) !=
	       -1) {
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
		case 'i':
			if (!parse_decimal(optarg, 0, 1e6, &cfg->interval) ||
			    !(cfg->interval > 0)) {
				cli_error("-i: '%s' is not a number of seconds", optarg);
				return EXIT_USAGE;
			}
			if (cfg->interval < TOP_MIN_INTERVAL) {
				cli_error("-i: '%s' is shorter than the shortest interval, %g s",
					  optarg, TOP_MIN_INTERVAL);
				return EXIT_USAGE;
			}
			break;
		case 'N':
			if (!parse_long(optarg, 0, INT_MAX, &v)) {
				cli_error("-N: '%s' is not a number of rows", optarg);
				return EXIT_USAGE;
			}
			cfg->view.rows = (size_t)v;
			cfg->rows_given = true;
			break;
		case 'C':
			if (!parse_long(optarg, 1, LONG_MAX, &v)) {
				cli_error("-C: '%s' is not a number of updates", optarg);
				return EXIT_USAGE;
			}
			cfg->count = v;
			break;
		case 's': {
			int k = top_sort_parse(optarg);
			if (k < 0) {
				cli_error("-s: unknown sort key '%s' (%s)", optarg,
					  top_sort_names());
				return EXIT_USAGE;
			}
			cfg->view.sort = (enum top_sort)k;
			break;
		}
		case 'd':
			cfg->view.devices = true;
			break;
		case 'b': {
			int by = top_by_parse(optarg);
			if (by < 0) {
				cli_error(
				    "--by: unknown row kind '%s' (process, connection or cgroup)",
				    optarg);
				return EXIT_USAGE;
			}
			cfg->view.by = (enum top_by)by;
			break;
		}
		case OPT_HIST:
			if (strcmp(optarg, "size") == 0)
				cfg->hist |= SOCKTAP_AGG_HIST_SIZE;
			else if (strcmp(optarg, "latency") == 0)
				cfg->hist |= SOCKTAP_AGG_HIST_LATENCY;
			else {
				cli_error("--hist: unknown histogram '%s' (size or latency)",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_HIST_BY:
			if (strcmp(optarg, "process") == 0)
				cfg->view.hist_by_protocol = false;
			else if (strcmp(optarg, "protocol") == 0)
				cfg->view.hist_by_protocol = true;
			else {
				cli_error("--hist-by: unknown key '%s' (process or protocol)",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			if ((cfg->fmt = parse_format(optarg, false)) < 0)
				return EXIT_USAGE;
			break;
		case 'o':
			cfg->outpath = optarg;
			break;
		case 'h':
			top_usage(stdout);
			return 0;
		case '?':
		default:
			return bad_option("top", argv);
		}
	}
	if (optind < argc) {
		cli_error("top: unexpected argument '%s' (top takes no probe patterns)",
			  argv[optind]);
		return EXIT_USAGE;
	}
	if (cfg->command && cfg->xpid) {
		cli_error("-c and -x: give one target, not both");
		return EXIT_USAGE;
	}
	return CLI_RUN;
}

int cmd_top(int argc, char **argv)
{
	struct top_config cfg;
	int rc = top_parse(argc, argv, &cfg);
	if (rc == CLI_RUN)
		rc = top_run(&cfg);
	filters_free(&cfg.flt);
	return rc;
}
