// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"
#include "cli.h"
#include "names.h"
#include "socktap_abi.h"
#include "util.h"
#include "who.h"

const char *prog_name = "socktap";
bool json_errors;

static void vreport(const char *kind, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	bool note = kind[0] == '\1'; /* a notice: a warning without the word */
	if (!json_errors) {
		/* a message may quote what the user (or a process) wrote: never raw control bytes
		 */
		fprintf(stderr, "%s: %s", prog_name, note ? "" : kind);
		st_safe_fputs(stderr, msg, sizeof(msg));
		fputc('\n', stderr);
		return;
	}
	/* bpftool's shape: one object, message escaped */
	fprintf(stderr, "{\"%s\":", *kind ? "warning" : "error");
	st_json_fputs(stderr, msg, sizeof(msg));
	fprintf(stderr, "}\n");
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void cli_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("\1", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

int int_list_add(struct int_list *l, int v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		int *nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = v;
	return 0;
}

int str_list_add(struct str_list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		const char **nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	/* digits only (a sign where negatives are allowed): strtol would take " 1", "+1", "-0" */
	if (!s || !(isdigit((unsigned char)s[0]) ||
		    (s[0] == '-' && lo < 0 && isdigit((unsigned char)s[1]))))
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int parse_format(const char *s, bool csv_ok)
{
	int fmt = socktap_format_parse(s);
	if (fmt < 0 || (fmt == SOCKTAP_FORMAT_CSV && !csv_ok)) {
		cli_error("-F: unknown format '%s' (%s)", s,
			  csv_ok ? "text, json or csv" : "text or json");
		return -1;
	}
	return fmt;
}

bool parse_decimal(const char *s, double lo, double hi, double *out)
{
	/* plain decimals only: strtod would take " 1", "0x10", "1e3", "inf", "nan" */
	size_t digits = strspn(s, "0123456789"), frac = 0;
	if (s[digits] == '.')
		frac = strspn(s + digits + 1, "0123456789");
	if (digits + frac == 0 || s[digits + (s[digits] == '.' ? 1 + frac : 0)])
		return false;
	double v = strtod(s, NULL);
	if (!(v >= lo) || v > hi)
		return false;
	*out = v;
	return true;
}

/* " (did you mean A, B?)" from a name table, or "" */
static void suggest_names(const struct socktap_name *t, size_t n, const char *word, char *out,
			  size_t len)
{
	int best = 99;
	size_t pos = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int d = st_edit_distance(word, t[i].name, true);
		if (d < best)
			best = d;
	}
	if (best > (int)strlen(word) / 3 + 1)
		return;
	int shown = 0;
	for (size_t i = 0; i < n && shown < 3; i++) {
		if (st_edit_distance(word, t[i].name, true) != best)
			continue;
		pos += snprintf(out + pos, len - pos, "%s%s", shown ? ", " : " (did you mean ",
				t[i].name);
		shown++;
		if (pos >= len)
			break;
	}
	if (shown && pos < len)
		snprintf(out + pos, len - pos, "?)");
}

/* A name as the helpers spell it (or an alias), or a number in [0, limit). */
static int parse_named(const char *opt, const char *what, const char *arg,
		       long (*str2num)(const char *), const struct socktap_name *(*table)(size_t *),
		       long limit, bool quiet, int *out)
{
	long v = str2num(arg);
	if (v < 0 && !parse_long(arg, 0, limit - 1, &v)) {
		if (quiet)
			return -1;
		char hint[256];
		size_t n;
		const struct socktap_name *t = table(&n);
		suggest_names(t, n, arg, hint, sizeof(hint));
		cli_error("%s: unknown %s '%s'%s", opt, what, arg, hint);
		return -1;
	}
	if (v >= limit) {
		if (quiet)
			return -1;
		cli_error("%s: %s '%s' (%ld) cannot be filtered on: must be below %ld", opt, what,
			  arg, v, limit);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * The kernel's filter tables are bounded (socktap_abi.h): one value too many
 * is an error naming the option and the bound, before anything starts.
 */
static int too_many(struct filters *f, const char *opt, size_t have, size_t max)
{
	if (have < max)
		return 0;
	f->full = max;
	if (!f->quiet)
		cli_error("%s: at most %zu values", opt, max);
	return -1;
}

/* Add v unless it is there already (a filter is a set); -1 after one message. */
static int add_int(struct filters *f, const char *opt, struct int_list *l, int v, size_t max)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == v)
			return 1;
	if (too_many(f, opt, l->n, max))
		return -1;
	return int_list_add(l, v) ? -1 : 1;
}

static int add_str(struct filters *f, const char *opt, struct str_list *l, const char *s,
		   size_t max)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	if (too_many(f, opt, l->n, max))
		return -1;
	return str_list_add(l, s) ? -1 : 1;
}

int bad_option(const char *cmd, char **argv)
{
	if (optopt)
		cli_error("%s: unknown option '-%c' or missing argument", cmd, optopt);
	else
		cli_error("%s: unknown option '%s'", cmd, argv[optind - 1]);
	return EXIT_USAGE;
}

int filters_parse(struct filters *f, int opt, const char *arg)
{
	long v;
	int n;
	switch (opt) {
	case 'p':
		if (!parse_long(arg, 1, INT_MAX, &v)) {
			if (!f->quiet)
				cli_error("-p: '%s' is not a process id", arg);
			return -1;
		}
		return add_int(f, "-p", &f->pids, (int)v, ST_FILTER_SET_MAX);
	case 'n':
		if (!*arg) {
			if (!f->quiet)
				cli_error("-n: empty process name");
			return -1;
		}
		return add_str(f, "-n", &f->comms, arg, ST_FILTER_SET_MAX);
	case 'u': {
		struct passwd *pw = getpwnam(arg);
		if (pw)
			v = pw->pw_uid;
		else if (!parse_long(arg, 0, UINT_MAX >> 1, &v)) {
			if (!f->quiet)
				cli_error("-u: unknown user '%s'", arg);
			return -1;
		}
		return add_int(f, "-u", &f->uids, (int)v, ST_FILTER_SET_MAX);
	}
	case 'f':
		if (parse_named("-f", "family", arg, sock_fam_str2num, socktap_fam_names, 64,
				f->quiet, &n))
			return -1;
		return int_list_add(&f->families, n) ? -1 : 1;
	case 'P':
		if (parse_named("-P", "protocol", arg, sock_prot_str2num, socktap_prot_names, 320,
				f->quiet, &n))
			return -1;
		return int_list_add(&f->protocols, n) ? -1 : 1;
	case 'B':
		if (strcmp(arg, "auto") && strcmp(arg, "tracepoint") && strcmp(arg, "fentry") &&
		    strcmp(arg, "kprobe")) {
			cli_error(
			    "--backend: unknown backend '%s' (auto, tracepoint, fentry or kprobe)",
			    arg);
			return -1;
		}
		f->backend = arg;
		return 1;
	case OPT_SYSCALL_HOOKS:
		if (strcmp(arg, "auto") && strcmp(arg, "per-syscall") && strcmp(arg, "raw")) {
			cli_error("--syscall-hooks: unknown value '%s' (auto, per-syscall or raw)",
				  arg);
			return -1;
		}
		f->syscall_hooks = arg;
		return 1;
	case 't':
		if (parse_named("-t", "socket type", arg, sock_type_str2num, socktap_type_names, 32,
				f->quiet, &n))
			return -1;
		return int_list_add(&f->types, n) ? -1 : 1;
	case OPT_ADDR: {
		uint8_t a[16];
		unsigned int plen;
		if (!st_prefix_parse(arg, a, &plen)) {
			cli_error("--addr: bad address '%s' (an IPv4 or IPv6 address, optionally "
				  "/PREFIX)",
				  arg);
			return -1;
		}
		return add_str(f, "--addr", &f->addrs, arg, ST_FILTER_ADDR_MAX);
	}
	case OPT_PORT:
		if (!parse_long(arg, 0, 65535, &v)) {
			cli_error("--port: bad port '%s' (0 to 65535)", arg);
			return -1;
		}
		return int_list_add(&f->ports, (int)v) ? -1 : 1;
	case OPT_CGROUP: {
		for (size_t i = 0; i < f->cgroups.n; i++)
			if (strcmp(f->cgroups.v[i], arg) == 0)
				return 1;
		if (too_many(f, "--cgroup", f->cgroups.n, ST_FILTER_CGROUP_MAX))
			return -1;
		/* checked now, so that a bad path fails before anything starts */
		struct st_cgroups *cg;
		uint64_t id;
		int fd = -1, err = st_cgroups_open(NULL, &cg);
		if (err) {
			cli_error("--cgroup: '%s': no cgroup2 file system is mounted", arg);
			return -1;
		}
		err = st_cgroups_lookup(cg, arg, &fd, &id);
		if (err)
			cli_error("--cgroup: no cgroup '%s' under %s", arg, st_cgroups_mount(cg));
		else
			close(fd);
		st_cgroups_free(cg);
		if (err)
			return -1;
		return str_list_add(&f->cgroups, arg) ? -1 : 1;
	}
	}
	return 0;
}

void filters_free(struct filters *f)
{
	free(f->pids.v);
	free(f->uids.v);
	free(f->families.v);
	free(f->protocols.v);
	free(f->types.v);
	free(f->comms.v);
	free(f->ports.v);
	free(f->addrs.v);
	free(f->cgroups.v);
	memset(f, 0, sizeof(*f));
}

void filters_apply(const struct filters *f, struct socktap_opts *o)
{
	o->pids = (const pid_t *)f->pids.v;
	o->pid_cnt = f->pids.n;
	o->uids = (const uid_t *)f->uids.v;
	o->uid_cnt = f->uids.n;
	o->comms = f->comms.v;
	o->comm_cnt = f->comms.n;
	o->families = f->families.v;
	o->family_cnt = f->families.n;
	o->protocols = f->protocols.v;
	o->protocol_cnt = f->protocols.n;
	o->backend = f->backend;
	o->syscall_hooks = f->syscall_hooks;
	o->types = f->types.v;
	o->type_cnt = f->types.n;
	o->addrs = f->addrs.v;
	o->addr_cnt = f->addrs.n;
	o->ports = f->ports.v;
	o->port_cnt = f->ports.n;
	o->cgroups = f->cgroups.v;
	o->cgroup_cnt = f->cgroups.n;
}

int probes_check(char *const *pats, int n)
{
	for (int i = 0; i < n; i++) {
		if (socktap_pattern_select(pats[i], NULL) > 0)
			continue;
		if (strpbrk(pats[i], "*?")) {
			cli_error("probe pattern '%s' matches no socket probe point", pats[i]);
			return -1;
		}
		const char *sug[3];
		int k = socktap_probe_suggest(pats[i], sug, 3);
		char hint[256] = "";
		size_t pos = 0;
		for (int j = 0; j < k && pos < sizeof(hint); j++)
			pos += snprintf(hint + pos, sizeof(hint) - pos, "%s%s",
					j ? ", " : " (did you mean ", sug[j]);
		if (k && pos < sizeof(hint))
			snprintf(hint + pos, sizeof(hint) - pos, "?)");
		cli_error("unknown probe '%s'%s; 'socktap list' shows them all", pats[i], hint);
		return -1;
	}
	return 0;
}

/* The library's last warning: the one message the user sees if opening fails. */
static char lib_msg[512];

void lib_print(enum socktap_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == SOCKTAP_LOG_WARN && !strstr(msg, "libbpf:"))
		snprintf(lib_msg, sizeof(lib_msg), "%s", msg);
	if (getenv("SOCKTAP_DEBUG"))
		fprintf(stderr, "%s\n", msg);
}

void report_degraded(const struct socktap *st)
{
	struct socktap_degraded d = {.sz = sizeof(d)};
	for (unsigned int i = 0; socktap_degraded_get(st, i, &d) == 0; i++) {
		if (strcmp(d.piece, "probes") == 0)
			cli_note("probes %s: not traced (%s)", d.lost, d.reason);
		else
			cli_note("%s: unavailable on this kernel (%s)", d.lost, d.reason);
	}
}

void degraded_json(FILE *f, const struct socktap *st)
{
	struct socktap_degraded d = {.sz = sizeof(d)};
	fputs("[", f);
	for (unsigned int i = 0; socktap_degraded_get(st, i, &d) == 0; i++) {
		fprintf(f, "%s{\"piece\":", i ? "," : "");
		st_json_fputs(f, d.piece, SIZE_MAX);
		fputs(",\"lost\":", f);
		st_json_fputs(f, d.lost, SIZE_MAX);
		fputs(",\"reason\":", f);
		st_json_fputs(f, d.reason, SIZE_MAX);
		fputs("}", f);
	}
	fputs("]", f);
}

int start_failed(int err, const char *command)
{
	bool exec_failed = command && strstr(lib_msg, "cannot run the command");
	if (exec_failed)
		cli_error("-c: cannot run '%s': %s", command, strerror(-err));
	else if (lib_msg[0])
		cli_error("%s", lib_msg);
	else
		cli_error("cannot start tracing: %s", strerror(-err));
	return exec_failed ? 127 : 1;
}

/* execvp's search, done up front so a missing command is an error before tracing starts. */
bool command_exists(const char *cmd)
{
	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	char buf[PATH_MAX];
	for (const char *p = path;; p++) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		struct stat sb;
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? p : ".", cmd) <
			(int)sizeof(buf) &&
		    stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0)
			return true;
		if (!e)
			return false;
		p = e;
	}
}

int command_words(const char *command, wordexp_t *we)
{
	/* shell words, as `stap -c` takes them; no command substitution */
	int werr = wordexp(command, we, WRDE_NOCMD);
	if (werr || we->we_wordc == 0) {
		cli_error("-c: cannot parse command '%s'%s", command,
			  werr == WRDE_CMDSUB ? ": command substitution is not allowed" : "");
		if (!werr)
			wordfree(we);
		return EXIT_USAGE;
	}
	if (!command_exists(we->we_wordv[0])) {
		cli_error("-c: command not found: '%s'", we->we_wordv[0]);
		wordfree(we);
		return 127;
	}
	return 0;
}

int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Running, not merely unreaped: a zombie's parent may never wait for it. */
bool process_alive(pid_t pid)
{
	char path[64], buf[512];
	if (kill(pid, 0) != 0 && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold ')' and spaces, the state follows the last ')' */
	const char *rp = strrchr(buf, ')');
	return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

volatile sig_atomic_t cli_got_stop, cli_got_int;

static void on_signal(int sig)
{
	if (sig == SIGINT)
		cli_got_int++;
	else if (sig == SIGTERM || sig == SIGHUP)
		cli_got_stop = 1;
	/* SIGCHLD: only to cut a wait short */
}

void cli_install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a signal must cut the ring-buffer or interval wait short */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int output_open(struct output *o, const char *path)
{
	o->path = path;
	o->created = false;
	o->f = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd >= 0)
		o->created = true;
	else if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		cli_error("%s: cannot open '%s': %s", o->opt ? o->opt : "-o", path,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		if (o->created)
			unlink(path);
		return -1;
	}
	return 0;
}

int output_commit(struct output *o)
{
	struct stat sb;
	int fd = fileno(o->f);
	/*
	 * A non-empty regular file only: /dev/null, a FIFO or a terminal has
	 * nothing to empty, and truncating an empty file to 0 would still make
	 * ext4 flush all that was written at the close (auto_da_alloc).
	 */
	if (o->created || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size == 0)
		return 0;
	if (ftruncate(fd, 0)) {
		cli_error("%s: cannot empty '%s': %s", o->opt ? o->opt : "-o", o->path,
			  strerror(errno));
		return -1;
	}
	return 0;
}

void output_abandon(struct output *o)
{
	if (!o->f)
		return;
	fclose(o->f);
	o->f = NULL;
	if (o->created)
		unlink(o->path);
}

int cli_event_write(FILE *f, const struct socktap_event *ev, enum socktap_format fmt, char *line,
		    size_t cap)
{
	int n = socktap_event_format(ev, fmt, line, cap);
	if (n < 0)
		return 0; /* cannot happen; never stop the stream for it */
	char *big = NULL;
	if ((size_t)n >= cap) {
		/*
		 * Longer than most: a cgroup path (up to 4095 bytes) of control
		 * bytes, each \u00XX in JSON, is 24 KiB. Rare: on the heap.
		 */
		if (!(big = malloc((size_t)n + 1)))
			return -1;
		socktap_event_format(ev, fmt, big, (size_t)n + 1);
		line = big;
	}
	errno = 0; /* a short write that sets none must not report an older error */
	size_t wrote = fwrite(line, 1, (size_t)n, f);
	int err = errno;
	free(big);
	if (wrote == (size_t)n)
		return 0;
	errno = err ? err : EIO;
	return -1;
}

int64_t cli_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* getpwuid() may ask NSS (LDAP...) each time: names per uid, remembered. One thread only. */
const char *cli_user_name(uint32_t uid)
{
	static struct {
		bool valid, known;
		uint32_t uid;
		char name[64];
	} cache[256];
	__typeof__(cache[0]) *c = &cache[uid % 256];
	if (!c->valid || c->uid != uid) {
		struct passwd *pw = getpwuid(uid);
		c->valid = true;
		c->uid = uid;
		c->known = pw && strlen(pw->pw_name) < sizeof(c->name);
		if (c->known)
			strcpy(c->name, pw->pw_name);
	}
	return c->known ? c->name : NULL;
}
