/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Shared by the socktap subcommands. */
#ifndef SOCKTAP_CLI_H
#define SOCKTAP_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <wordexp.h>
#include "socktap.h"

/* Exit codes: 0 ok, 1 failure at run time, 2 bad usage. */
#define EXIT_USAGE 2

extern const char *prog_name;
extern bool json_errors; /* -j: errors as JSON objects, like bpftool */

/* One message on stderr: "socktap: <msg>" (or {"error": "<msg>"} with -j). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable arrays for repeatable options. */
struct int_list {
	int *v;
	size_t n, cap;
};
struct str_list {
	const char **v;
	size_t n, cap;
};
int int_list_add(struct int_list *l, int v);
int str_list_add(struct str_list *l, const char *s);

/* The filters shared by trace, top and socktop: -p -n -u -f -P -t, --addr --port --cgroup. */
struct filters {
	struct int_list pids, uids, families, protocols, types, ports;
	struct str_list comms, addrs, cgroups;
	const char *backend;	   /* --backend: NULL = auto */
	const char *syscall_hooks; /* --syscall-hooks: NULL = auto */
	bool quiet;  /* no message on a bad value: the caller words its own (socktop) */
	size_t full; /* the last value refused was one too many: the most there can be */
};
/*
 * Handle one filter option (opt is the letter). Returns 1 if it was a
 * filter option and was valid, 0 if it was not a filter option, -1 after
 * printing an error about arg (unless quiet). A value given twice counts
 * once; past the kernel's bound for that filter (-p, -u, -n: 1024 values
 * each, --addr 256, --cgroup 8) the error names the option and the bound.
 */
int filters_parse(struct filters *f, int opt, const char *arg);
/*
 * The filters' long options: --backend (opt 'B'), --addr, --port, --cgroup,
 * and --syscall-hooks (how, not what: it rides along with --backend).
 */
enum { OPT_ADDR = 0x200, OPT_PORT, OPT_CGROUP, OPT_SYSCALL_HOOKS };
#define FILTER_LONGOPTS                                                                            \
	{"backend", required_argument, NULL, 'B'}, {"addr", required_argument, NULL, OPT_ADDR},    \
	    {"port", required_argument, NULL, OPT_PORT},                                           \
	    {"cgroup", required_argument, NULL, OPT_CGROUP},                                       \
	{                                                                                          \
		"syscall-hooks", required_argument, NULL, OPT_SYSCALL_HOOKS                        \
	}
/* their help lines */
#define MECHANISM_HELP                                                                             \
	"      --backend auto|tracepoint|fentry|kprobe  force the attach mechanism\n"              \
	"      --syscall-hooks auto|per-syscall|raw  per-syscall: only the syscalls socktap\n"     \
	"                      needs run a program (no in-kernel fd step); raw: every one\n"
void filters_apply(const struct filters *f, struct socktap_opts *o);
void filters_free(struct filters *f);

/*
 * Check probe patterns the way socktap_open() will use them; prints one
 * error naming the first bad pattern (with suggestions) and returns -1.
 */
int probes_check(char *const *pats, int n);

/* Number parsing: whole string, base 10, within [lo, hi]. */
bool parse_long(const char *s, long lo, long hi, long *out);
/* Seconds and the like: a plain decimal ("2", "0.5", ".5"), within [lo, hi]. */
bool parse_decimal(const char *s, double lo, double hi, double *out);
/* -F's word: the format, or -1 after naming the bad word (csv only where csv_ok) */
int parse_format(const char *s, bool csv_ok);

/* getopt returned '?' for cmd: one message naming the option; returns EXIT_USAGE. */
int bad_option(const char *cmd, char **argv);

/* Sessions' print callback: keeps the library's last warning for start_failed(). */
void lib_print(enum socktap_log_level level, const char *msg, void *ctx);
/*
 * socktap_open() or socktap_start() returned err: one message (the
 * library's, or the command's exec error), and the exit code: 127 when
 * command (argv[0] of -c, or NULL) could not be run, else 1.
 */
int start_failed(int err, const char *command);
/* One line per piece the session runs without (socktap_degraded_get), on stderr. */
void report_degraded(const struct socktap *st);
/* The same as a JSON array, for -j summaries. */
void degraded_json(FILE *f, const struct socktap *st);
/* A warning that needs no "warning:" word: "socktap: MSG" (JSON: {"warning": MSG}). */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* -c COMMAND as shell words (no command substitution): 0, or an exit code after one message. */
int command_words(const char *command, wordexp_t *we);
bool command_exists(const char *cmd);
/* A wait status as a shell reports it: the exit status, or 128 + signal. */
int exit_code(int status);
bool process_alive(pid_t pid);

/* SIGINT counts up, SIGTERM/SIGHUP set stop; none restarts a wait. SIGPIPE ignored. */
extern volatile sig_atomic_t cli_got_stop, cli_got_int;
void cli_install_signals(void);

/*
 * -o FILE, safe against failed starts: output_open() opens FILE without
 * truncating it (creating it if missing), so a bad path is reported before
 * tracing starts; output_commit() empties it once tracing has started;
 * output_abandon() (a failed start) leaves an existing file as it was and
 * removes one it created. 0, or -1 after one message.
 */
struct output {
	const char *path;
	FILE *f;
	bool created;
	const char *opt; /* the option its messages name: NULL = "-o" */
};
int output_open(struct output *o, const char *path);
int output_commit(struct output *o);
void output_abandon(struct output *o);

/*
 * One session's life, shared by trace, top and serve (lifecycle.c):
 *   cli_session_begin()   checks -x's process, parses -c's words, opens -o
 *                         (not emptied yet) and installs the signal flags;
 *   cli_session_start()   opens and starts the library session with the
 *                         target in opts (relax, if given, may drop an
 *                         optional part once after -ENOTSUP); only then
 *                         empties -o and says what the kernel refused;
 *   cli_session_target_ended()  the command exited (status kept) or -x's
 *                         process is gone; never blocks;
 *   cli_session_reap()    tracing ended first: wait for the command's
 *                         status, after a SIGTERM if terminate;
 *   cli_session_end()     closes the session and -o, reports a write
 *                         error, and gives the exit code: rc, or the
 *                         command's status when rc is 0.
 * begin and start return 0 or an exit code after one message (a failed
 * start leaves an existing -o file as it was); after begin, always end.
 */
struct cli_target {
	const char *command; /* -c: shell words, or NULL */
	pid_t xpid;	     /* -x, or 0 */
	const char *outpath; /* -o, or NULL: stdout */
	const char *outopt;  /* the option messages about it name: NULL = "-o" */
};
struct cli_session {
	struct cli_target target;
	FILE *out; /* -o's file or stdout; NULL after a failed start */
	struct socktap *st;
	pid_t child; /* -c's command once started, else 0 */
	int child_status;
	bool child_done;
	int werr; /* errno of a failed write to out: the caller sets it */
	struct output o;
	wordexp_t we;
	bool have_words;
};
int cli_session_begin(struct cli_session *s, const struct cli_target *t);
void cli_session_target(const struct cli_session *s, struct socktap_opts *opts);
int cli_session_start(struct cli_session *s, struct socktap_opts *opts,
		      bool (*relax)(struct socktap_opts *opts, void *ctx), void *ctx);
bool cli_session_target_ended(struct cli_session *s);
void cli_session_reap(struct cli_session *s, bool terminate);
int cli_session_end(struct cli_session *s, int rc);

/* One event as trace -F fmt writes it, through line[cap] (the heap if longer); 0, or -1 with errno.
 */
int cli_event_write(FILE *f, const struct socktap_event *ev, enum socktap_format fmt, char *line,
		    size_t cap);
/* CLOCK_MONOTONIC, ns. */
int64_t cli_mono_ns(void);
/* uid -> user name (cached), or NULL; not thread-safe: serve calls it with its lock held. */
const char *cli_user_name(uint32_t uid);

int cmd_list(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_convert(int argc, char **argv);

/*
 * Each command's options, parsed apart from running it (so that
 * tests/fuzz/fuzz_options.c can call them in-process, any number of
 * times): getopt (state reset first) and checks only; nothing loaded,
 * nothing exits. CLI_RUN: go on and run; else the exit code, after at most
 * one message (0 after --help). *_config_free() frees what parsing kept,
 * whatever it returned.
 */
#define CLI_RUN (-1)

struct list_config {
	bool verbose, doc;
	char **pats; /* into argv */
	int npats;
};
int list_parse(int argc, char **argv, struct list_config *cfg);

struct trace_config {
	struct filters flt;
	const char *command, *outpath;
	pid_t xpid;
	double duration; /* 0: until stopped */
	long rbsize;	 /* 0: the library's default */
	int fmt;
	struct str_list pats;
	bool no_addrs;
	bool capture; /* -w: outpath (NULL: stdout) gets a capture file (capture.h) */
};
int trace_parse(int argc, char **argv, struct trace_config *cfg);
void trace_config_free(struct trace_config *cfg);

struct serve_config {
	struct filters flt;
	const char *listen, *textfile, *web_config;
	double interval;
	unsigned int labels;
	long max_series;
	double pid_ttl;
	bool durations, no_sizes, lifecycle;
};
int serve_parse(int argc, char **argv, struct serve_config *cfg);

#endif
