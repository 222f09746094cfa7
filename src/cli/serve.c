// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap serve: top's in-kernel counts as a Prometheus exporter. The
 * kernel's tables are read and cleared every second (and at each scrape)
 * and folded into monotonic totals (series.c); HTTP is libmicrohttpd's,
 * in its own thread, listening only once the probes are armed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <zlib.h>
#include "cli.h"
#include "out.h"
#include "series.h"
#include "webconfig.h"

/* outside 9100-9999 (Prometheus's exporter range, all allocated) and the ports the issue names */
#define SERVE_DEFAULT_ADDR "127.0.0.1:10477"

struct serve {
	struct socktap *st;
	struct series_store *store;
	pthread_mutex_t lock; /* the session's snapshots and the store: main loop vs HTTP */
	struct serve_self self;
	char send_mech[512], recv_mech[512];
	int err; /* a fold that failed: the main loop stops */
	struct web_config *web;
	size_t last_len; /* the previous exposition's size: the next one's first guess */
};

/* Read the kernel's counts and fold them. Lock held. */
static int collect(struct serve *sv)
{
	struct socktap_snapshot *snap;
	int err = socktap_snapshot_take(sv->st, &snap);
	if (err)
		return err;
	err = series_fold(sv->store, snap, (uint64_t)cli_mono_ns(), cli_user_name);
	socktap_snapshot_free(snap);
	return err;
}

/* The exposition into a malloc'ed buffer, after a fresh collection. */
static int render(struct serve *sv, char **buf, size_t *len)
{
	pthread_mutex_lock(&sv->lock);
	int64_t t0 = cli_mono_ns();
	int err = collect(sv);
	if (err && !sv->err)
		sv->err = err;
	double took = (double)(cli_mono_ns() - t0) / 1e9;
	/* sized from the last one, so that a scrape rarely reallocates (and copies) it */
	struct out o = {.grow = true, .len = sv->last_len + sv->last_len / 8 + 4096};
	o.buf = malloc(o.len);
	if (!o.buf)
		err = -ENOMEM;
	else
		err = series_render(sv->store, &o, &sv->self);
	*buf = o.buf;
	*len = o.pos;
	if (!err)
		sv->last_len = o.pos;
	sv->self.scrape_seconds = took;
	pthread_mutex_unlock(&sv->lock);
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

/* gzip (RFC 1952) of in, or NULL */
static char *gzip_buf(const char *in, size_t n, size_t *out_len)
{
	z_stream z = {0};
	/* level 1: on a 10,000-label-set exposition (4.6 MiB) it took 17 ms for 152 KiB where
	 * the default 6 took 53 ms for 144 KiB; Prometheus asks for gzip on every scrape */
	if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, n);
	char *out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	int r = deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

static bool accepts_gzip(struct MHD_Connection *c)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
	return ae && strstr(ae, "gzip");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
			     char *body, size_t len, bool gz)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	if (gz)
		MHD_add_response_header(r, "Content-Encoding", "gzip");
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code, const char *type,
				  const char *text)
{
	char *b = strdup(text);
	return b ? reply(c, code, type, b, strlen(b), false) : MHD_NO;
}

/* A client certificate that the configured CA signed, where one is required. */
static bool client_verified(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	gnutls_session_t tls = (gnutls_session_t)ci->tls_session;
	unsigned int n = 0, status = 0;
	if (!gnutls_certificate_get_peers(tls, &n) || n == 0)
		return false;
	return gnutls_certificate_verify_peers2(tls, &status) == 0 && status == 0;
}

/* --web.config.file's checks: the client's certificate, then basic auth. */
static bool allowed(struct serve *sv, struct MHD_Connection *c, enum MHD_Result *ret)
{
	struct web_config *wc = sv->web;
	if (!wc)
		return true;
	if (wc->verify_clients && !client_verified(c)) {
		*ret = reply_text(c, MHD_HTTP_FORBIDDEN, "text/plain",
				  "a client certificate signed by the configured CA is required\n");
		return false;
	}
	if (!wc->nusers)
		return true;
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	bool ok = user && pass && web_config_check(wc, user, pass);
	MHD_free(user);
	MHD_free(pass);
	if (ok)
		return true;
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen("unauthorized\n"), (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
	*ret = r ? MHD_queue_basic_auth_fail_response(c, "socktap", r) : MHD_NO;
	if (r)
		MHD_destroy_response(r);
	return false;
}

static const char index_page[] = "<html><head><title>socktap</title></head><body><h1>socktap</h1>"
				 "<p>Socket traffic per process, counted in the kernel.</p>"
				 "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **state)
{
	struct serve *sv = cls;
	(void)version;
	(void)data;
	if (!*state) {
		/* the first call only sees the headers; answer on the second */
		*state = (void *)1;
		return MHD_YES;
	}
	if (*data_size) {
		*data_size = 0; /* a body is read and ignored */
		return MHD_YES;
	}
	enum MHD_Result denied;
	if (!allowed(sv, c, &denied))
		return denied;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				  "only GET and HEAD\n");
	if (strcmp(url, "/") == 0)
		return reply_text(c, MHD_HTTP_OK, "text/html; charset=utf-8", index_page);
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
	char *buf = NULL;
	size_t len = 0;
	int err = render(sv, &buf, &len);
	if (err)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
				  "cannot read the kernel's counts\n");
	bool gz = false;
	if (accepts_gzip(c)) {
		size_t zl;
		char *z = gzip_buf(buf, len, &zl);
		if (z) {
			free(buf);
			buf = z;
			len = zl;
			gz = true;
		}
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len, gz);
}

/* HOST:PORT, [V6]:PORT or :PORT (every address) */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	if (!colon || colon - spec >= (long)sizeof(host))
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	long port;
	if (!parse_long(colon + 1, 1, 65535, &port))
		return -1;
	char *h = host;
	size_t hl = strlen(h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		h++;
	} else if (strchr(h, ':')) {
		return -1; /* an IPv6 address needs its brackets */
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST},
			*res = NULL;
	char ps[8];
	snprintf(ps, sizeof(ps), "%ld", port);
	if (getaddrinfo(*h ? h : NULL, ps, &hints, &res) || !res)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void mechanism_of(struct socktap *st, enum socktap_probe_id id, char *out, size_t n)
{
	if (socktap_probe_source(st, id, out, n))
		snprintf(out, n, "none");
}

/* --textfile: the exposition by rename, so node_exporter never reads half of one */
static int write_textfile(struct serve *sv, const char *path)
{
	char *buf = NULL, tmp[PATH_MAX];
	size_t len = 0;
	int err = render(sv, &buf, &len);
	if (err)
		return err;
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp)) {
		free(buf);
		return -ENAMETOOLONG;
	}
	FILE *f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		free(buf);
		return err;
	}
	size_t w = fwrite(buf, 1, len, f);
	free(buf);
	if (fclose(f) || w != len) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

/* a kernel without the device tracepoints still has sockets to count */
static bool without_devices(struct socktap_opts *opts, void *ctx)
{
	(void)ctx;
	if (!(opts->aggregate & SOCKTAP_AGG_DEVICES))
		return false;
	opts->aggregate &= ~(unsigned int)SOCKTAP_AGG_DEVICES;
	return true;
}

static int serve_run(struct serve_config *cfg)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (!cfg->textfile && parse_listen(cfg->listen, &ss, &sl)) {
		cli_error("--web.listen-address: '%s' is not HOST:PORT (e.g. 127.0.0.1:10477 or "
			  "[::1]:10477)",
			  cfg->listen);
		return EXIT_USAGE;
	}
	struct web_config web = {0};
	if (cfg->web_config) {
		char msg[512];
		if (web_config_load(cfg->web_config, &web, msg, sizeof(msg))) {
			cli_error("--web.config.file: %s", msg);
			return EXIT_USAGE;
		}
		if (cfg->textfile)
			cli_warn("--web.config.file: no effect with --textfile");
	}
	struct serve sv = {.web = cfg->web_config ? &web : NULL,
			   .self = {.version = SOCKTAP_VERSION,
				    .durations = cfg->durations,
				    .lifecycle = cfg->lifecycle,
				    .sizes = !cfg->no_sizes}};
	pthread_mutex_init(&sv.lock, NULL);
	sv.store = series_new(cfg->labels, (size_t)cfg->max_series, (uint64_t)(cfg->pid_ttl * 1e9));
	if (!sv.store) {
		cli_error("out of memory");
		web_config_free(&web);
		return 1;
	}
	unsigned int agg = SOCKTAP_AGG_SERIES | SOCKTAP_AGG_DEVICES |
			   (cfg->no_sizes ? 0 : SOCKTAP_AGG_HIST_SIZE) |
			   (cfg->durations ? SOCKTAP_AGG_HIST_LATENCY : 0) |
			   (cfg->lifecycle ? SOCKTAP_AGG_LIFECYCLE : 0);
	if (cfg->labels & (SL_BIT(SL_CGROUP) | SL_BIT(SL_CONTAINER)))
		agg |= SOCKTAP_AGG_SERIES_CGROUP;
	SOCKTAP_OPTS(opts, .aggregate = agg, .print = lib_print);
	filters_apply(&cfg->flt, &opts);
	struct cli_session ses;
	int rc = cli_session_begin(&ses, &(struct cli_target){0});
	if (!rc)
		rc = cli_session_start(&ses, &opts, without_devices, NULL);
	if (rc) {
		series_free(sv.store);
		web_config_free(&web);
		return cli_session_end(&ses, rc);
	}
	sv.st = ses.st;
	mechanism_of(sv.st, SOCKTAP_PROBE_SEND, sv.send_mech, sizeof(sv.send_mech));
	mechanism_of(sv.st, SOCKTAP_PROBE_RECEIVE, sv.recv_mech, sizeof(sv.recv_mech));
	sv.self.send_mechanism = sv.send_mech;
	sv.self.recv_mechanism = sv.recv_mech;

	/* armed: only now may a scrape succeed */
	struct MHD_Daemon *d = NULL;
	if (!cfg->textfile) {
		unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
		/* idle and slow clients: bounded, and timed out */
		struct MHD_OptionItem o[8] = {
		    {MHD_OPTION_SOCK_ADDR, 0, &ss},
		    {MHD_OPTION_CONNECTION_LIMIT, 256, NULL},
		    {MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL},
		    {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 65536, NULL},
		};
		int no = 4;
		if (web.cert_pem) {
			flags |= MHD_USE_TLS;
			o[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, web.key_pem};
			o[no++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, web.cert_pem};
			if (web.client_ca_pem)
				o[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0,
								  web.client_ca_pem};
		}
		o[no] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &sv, MHD_OPTION_ARRAY, o,
				     MHD_OPTION_END);
		if (!d) {
			cli_error("--web.listen-address: cannot listen on '%s': %s", cfg->listen,
				  strerror(errno ? errno : EADDRINUSE));
			rc = 1;
			goto out;
		}
	}
	int64_t next_file = cli_mono_ns();
	while (!cli_got_stop && !cli_got_int) {
		/* the kernel's tables stay small: fold every second, whoever scrapes */
		poll(NULL, 0, 1000);
		if (cli_got_stop || cli_got_int)
			break;
		pthread_mutex_lock(&sv.lock);
		int err = collect(&sv);
		if (err && !sv.err)
			sv.err = err;
		pthread_mutex_unlock(&sv.lock);
		if (sv.err) {
			cli_error("reading the kernel's counts: %s", strerror(-sv.err));
			rc = 1;
			break;
		}
		if (cfg->textfile && cli_mono_ns() >= next_file) {
			err = write_textfile(&sv, cfg->textfile);
			if (err) {
				cli_error("--textfile: cannot write '%s': %s", cfg->textfile,
					  strerror(-err));
				rc = 1;
				break;
			}
			next_file += (int64_t)(cfg->interval * 1e9);
		}
	}
out:
	if (d)
		MHD_stop_daemon(d);
	rc = cli_session_end(&ses, rc);
	series_free(sv.store);
	web_config_free(&web);
	pthread_mutex_destroy(&sv.lock);
	return rc;
}

static void serve_usage(FILE *f)
{
	fprintf(f, "Usage: socktap serve [OPTIONS]\n"
		   "  A Prometheus exporter: socket traffic counted in the kernel, as counters\n"
		   "  and histograms per label set that never go backwards.\n"
		   "Filters (repeatable; in the kernel):\n"
		   "  -p PID  -n NAME  -u USER  -f FAMILY  -P PROTOCOL  -t TYPE\n"
		   "  --addr ADDR[/PREFIX]  either end (IPv4 or IPv6)   --port PORT  either end\n"
		   "  --cgroup PATH       tasks in that cgroup (v2) or below\n"
		   "Exporter:\n"
		   "      --web.listen-address HOST:PORT  where /metrics is served\n"
		   "                      (default " SERVE_DEFAULT_ADDR ", loopback only)\n"
		   "      --web.config.file FILE  TLS and basic auth, in the Prometheus\n"
		   "                      exporter-toolkit's format (tls_server_config:\n"
		   "                      cert_file, key_file, client_ca_file,\n"
		   "                      client_auth_type; basic_auth_users: bcrypt)\n"
		   "      --labels LIST   label names, or +NAME/-NAME to change the default\n"
		   "                      (comm,protocol,family,type,errno,device); also\n"
		   "                      cgroup, container, user, pid\n"
		   "      --max-series N  label sets kept; more fold into comm=\"~other\"\n"
		   "                      (default 2000; 0: no limit)\n"
		   "      --pid-ttl SEC   with the pid label, drop series idle that long\n"
		   "                      (default 300)\n"
		   "      --durations     duration histograms too (a syscall hook: every\n"
		   "                      syscall on the machine takes the slow path)\n"
		   "      --lifecycle     sockets created and closed too (the same hook)\n"
		   "      --no-sizes      no size histograms\n"
		   "      --textfile PATH write the exposition to PATH every interval\n"
		   "                      instead of listening (node_exporter's textfile)\n"
		   "      --interval SEC  --textfile's interval (default 15)\n" MECHANISM_HELP);
}

enum {
	OPT_LISTEN = 0x100,
	OPT_WEB_CONFIG,
	OPT_LABELS,
	OPT_MAX_SERIES,
	OPT_PID_TTL,
	OPT_DURATIONS,
	OPT_LIFECYCLE,
	OPT_NO_SIZES,
	OPT_TEXTFILE,
	OPT_INTERVAL,
};
_Static_assert((int)OPT_INTERVAL < (int)OPT_ADDR, "option codes collide");

static bool parse_seconds(const char *opt, const char *arg, double lo, double *out)
{
	if (!parse_decimal(arg, lo, 1e6, out)) {
		cli_error("%s: '%s' is not a number of seconds (at least %g)", opt, arg, lo);
		return false;
	}
	return true;
}

int serve_parse(int argc, char **argv, struct serve_config *cfg)
{
	static const struct option longopts[] = {
	    FILTER_LONGOPTS,
	    {"web.listen-address", required_argument, NULL, OPT_LISTEN},
	    {"web.config.file", required_argument, NULL, OPT_WEB_CONFIG},
	    {"labels", required_argument, NULL, OPT_LABELS},
	    {"max-series", required_argument, NULL, OPT_MAX_SERIES},
	    {"pid-ttl", required_argument, NULL, OPT_PID_TTL},
	    {"durations", no_argument, NULL, OPT_DURATIONS},
	    {"lifecycle", no_argument, NULL, OPT_LIFECYCLE},
	    {"no-sizes", no_argument, NULL, OPT_NO_SIZES},
	    {"textfile", required_argument, NULL, OPT_TEXTFILE},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	*cfg = (struct serve_config){
	    .listen = SERVE_DEFAULT_ADDR,
	    .interval = 15,
	    .labels = SL_DEFAULT,
	    .max_series = 2000,
	    .pid_ttl = 300,
	};
	int c;
	optind = 0; /* glibc's full reset: a previous parse may have stopped mid-argument */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "p:n:u:f:P:t:h", longopts, NULL)) != -1) {
		int fr = filters_parse(&cfg->flt, c, optarg);
		if (fr < 0)
			return EXIT_USAGE;
		if (fr > 0)
			continue;
		switch (c) {
		case OPT_LISTEN:
			cfg->listen = optarg;
			break;
		case OPT_WEB_CONFIG:
			cfg->web_config = optarg;
			break;
		case OPT_LABELS: {
			const char *bad = NULL;
			if (serve_labels_parse(optarg, &cfg->labels, &bad)) {
				cli_error("--labels: unknown label '%.*s' (%s)",
					  (int)strcspn(bad, ","), bad, serve_label_names());
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_MAX_SERIES:
			if (!parse_long(optarg, 0, 10000000, &cfg->max_series)) {
				cli_error("--max-series: '%s' is not a number of series (0 to "
					  "10000000)",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_PID_TTL:
			if (!parse_seconds("--pid-ttl", optarg, 1, &cfg->pid_ttl))
				return EXIT_USAGE;
			break;
		case OPT_DURATIONS:
			cfg->durations = true;
			break;
		case OPT_LIFECYCLE:
			cfg->lifecycle = true;
			break;
		case OPT_NO_SIZES:
			cfg->no_sizes = true;
			break;
		case OPT_TEXTFILE:
			cfg->textfile = optarg;
			break;
		case OPT_INTERVAL:
			if (!parse_seconds("--interval", optarg, 0.1, &cfg->interval))
				return EXIT_USAGE;
			break;
		case 'h':
			serve_usage(stdout);
			return 0; /* a write error is main()'s to report */
		case '?':
		default:
			return bad_option("serve", argv);
		}
	}
	if (optind < argc) {
		cli_error("serve: unexpected argument '%s' (serve takes no probe patterns)",
			  argv[optind]);
		return EXIT_USAGE;
	}
	return CLI_RUN;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_config cfg;
	int rc = serve_parse(argc, argv, &cfg);
	if (rc == CLI_RUN)
		rc = serve_run(&cfg);
	filters_free(&cfg.flt);
	return rc;
}
