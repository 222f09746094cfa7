// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Capture files (capture.h has the format): trace -w's writer, and the
 * reader behind socktap convert, which formats with socktap_event_format()
 * so that a converted capture is what trace -F would have printed.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "capture.h"
#include "cli.h"

static const char magic[8] = "\x89STCAP\r\n";

/* the body: at most this much before its strings (every varint at its longest) */
#define MAX_NUMBERS (2 + 2 + 8 + 20 * 10)
/* and at least (every varint one byte, every string empty) */
#define MIN_BODY (2 + 2 + 8 + 20 + 5)
enum { HAVE_CGROUP = 1, HAVE_CONTAINER = 2 };

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
	return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static inline uint8_t *put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

/* LEB128: most of an event's numbers are small, and bytes written are most of -w's cost */
static inline uint8_t *put_uv(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* zigzag: -1 (an unknown fd or port) is one byte too */
static inline uint8_t *put_sv(uint8_t *p, int64_t v)
{
	return put_uv(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline uint8_t *put_str(uint8_t *p, const char *s, size_t n)
{
	p = put_uv(p, n);
	memcpy(p, s, n);
	return p + n;
}

int capture_header_write(FILE *f)
{
	uint8_t buf[8 + 4 + SOCKTAP_PROBE__COUNT * 256], *p = buf;
	memcpy(p, magic, sizeof(magic));
	p = put16(p + sizeof(magic), CAPTURE_VERSION);
	p = put16(p, SOCKTAP_PROBE__COUNT);
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
		const char *name = socktap_probe_get(i)->name;
		size_t n = strlen(name);
		*p++ = (uint8_t)n;
		memcpy(p, name, n);
		p += n;
	}
	return fwrite(buf, 1, (size_t)(p - buf), f) == (size_t)(p - buf) ? 0 : -1;
}

/* strnlen: a comm or address the kernel filled to the end has no NUL */
size_t capture_encode(const struct socktap_event *ev, uint8_t *buf, size_t len)
{
	size_t comm = strnlen(ev->comm, sizeof(ev->comm) - 1);
	size_t laddr = strnlen(ev->laddr, sizeof(ev->laddr) - 1);
	size_t raddr = strnlen(ev->raddr, sizeof(ev->raddr) - 1);
	size_t cg = ev->cgroup ? strlen(ev->cgroup) : 0;
	size_t ct = ev->container ? strlen(ev->container) : 0;
	/* a cgroup path is at most PATH_MAX: longer is not one (and would not be read) */
	if (cg > CAPTURE_MAX_PATH)
		cg = CAPTURE_MAX_PATH;
	if (ct > CAPTURE_MAX_PATH)
		ct = CAPTURE_MAX_PATH;
	/* room for the longest numbers; the length written is what they took */
	size_t most = 4 + MAX_NUMBERS + 5 * 3 + comm + laddr + raddr + cg + ct;
	if (most > len)
		return most;
	uint8_t *p = buf + 4;
	p = put16(p, (uint16_t)ev->probe);
	p = put16(p, (ev->cgroup ? HAVE_CGROUP : 0) | (ev->container ? HAVE_CONTAINER : 0));
	p = put64(p, ev->ts);
	p = put_uv(p, ev->known);
	p = put_uv(p, ev->pid);
	p = put_uv(p, ev->tid);
	p = put_uv(p, ev->uid);
	p = put_uv(p, ev->cpu);
	p = put_uv(p, ev->sock);
	p = put_sv(p, ev->fd);
	p = put_sv(p, ev->size);
	p = put_sv(p, ev->success);
	p = put_sv(p, ev->protocol);
	p = put_sv(p, ev->family);
	p = put_sv(p, ev->state);
	p = put_sv(p, ev->type);
	p = put_uv(p, ev->flags);
	p = put_sv(p, ev->requester);
	p = put_sv(p, ev->err);
	p = put_sv(p, ev->lport);
	p = put_sv(p, ev->rport);
	p = put_uv(p, ev->cgroup_id);
	p = put_uv(p, ev->nspid);
	p = put_str(p, ev->comm, comm);
	p = put_str(p, ev->laddr, laddr);
	p = put_str(p, ev->raddr, raddr);
	p = put_str(p, ev->cgroup ? ev->cgroup : "", cg);
	p = put_str(p, ev->container ? ev->container : "", ct);
	put32(buf, (uint32_t)(p - buf - 4));
	return (size_t)(p - buf);
}

int capture_event_write(FILE *f, const struct socktap_event *ev)
{
	/* every event but one with a long cgroup path fits on the stack */
	uint8_t buf[1024], *big = NULL, *p = buf;
	size_t n = capture_encode(ev, buf, sizeof(buf));
	if (n > sizeof(buf)) {
		if (!(p = big = malloc(n)))
			return -1;
		n = capture_encode(ev, big, n);
	}
	/* unlocked: one thread writes; trace flushes the stream after each poll */
	size_t wrote = fwrite_unlocked(p, 1, n, f);
	free(big);
	return wrote == n ? 0 : -1;
}

/* ---- reading ---- */

static int fail(struct capture_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct capture_reader *r, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(r->msg, sizeof(r->msg), "%s: %s", r->name, why);
	return -1;
}

/* n bytes, or fewer at the end of the file (or an error, said in errno) */
static size_t read_some(struct capture_reader *r, void *buf, size_t n)
{
	errno = 0;
	return fread(buf, 1, n, r->f);
}

static int short_read(struct capture_reader *r, const char *what, uint64_t at, size_t got,
		      size_t want)
{
	if (ferror(r->f))
		return fail(r, "reading %s at offset %llu: %s", what, (unsigned long long)at,
			    strerror(errno ? errno : EIO));
	return fail(r, "truncated %s at offset %llu (%zu of %zu bytes)", what,
		    (unsigned long long)at, got, want);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

int capture_open(struct capture_reader *r, FILE *f, const char *name)
{
	uint8_t head[12];
	r->f = f;
	r->name = name;
	r->off = 0;
	r->msg[0] = '\0';
	r->body = malloc(CAPTURE_MAX_RECORD);
	if (!r->body)
		return fail(r, "%s", strerror(ENOMEM));
	size_t got = read_some(r, head, sizeof(head));
	if (ferror(f))
		return short_read(r, "header", 0, got, sizeof(head));
	if (memcmp(head, magic, got < sizeof(magic) ? got : sizeof(magic)) != 0)
		return fail(r, "not a socktap capture (no capture magic at offset 0)");
	if (got < sizeof(head))
		return short_read(r, "header", 0, got, sizeof(head));
	r->version = get16(head + 8);
	if (r->version > CAPTURE_VERSION)
		return fail(r,
			    "capture format version %u is newer than this socktap reads (%d): "
			    "convert it with a newer socktap",
			    r->version, CAPTURE_VERSION);
	if (r->version == 0)
		return fail(r, "corrupt header at offset 8: format version 0");
	r->nprobes = get16(head + 10);
	if (r->nprobes > sizeof(r->ids) / sizeof(r->ids[0]))
		return fail(r, "corrupt header at offset 10: %u probes", r->nprobes);
	r->off = sizeof(head);
	for (unsigned int i = 0; i < r->nprobes; i++) {
		uint8_t len;
		char pname[256];
		if ((got = read_some(r, &len, 1)) != 1)
			return short_read(r, "header", r->off, got, 1);
		if ((got = read_some(r, pname, len)) != len)
			return short_read(r, "header", r->off + 1, got, len);
		pname[len] = '\0';
		/* by name: a socktap with other probes still reads the ones it knows */
		r->ids[i] = memchr(pname, 0, len) ? -ENOENT : socktap_probe_find(pname);
		r->off += 1 + len;
	}
	return 0;
}

/*
 * One varint of at most max, in its shortest form (so that a record has one
 * encoding: what is read writes back the same bytes); false if not.
 */
static bool get_uv(const uint8_t **p, const uint8_t *end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		if (shift == 63 && b > 1)
			return false;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if ((shift && !b) || v > max)
				return false;
			*out = v;
			return true;
		}
	}
	return false;
}

struct body {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t uv(struct body *b, uint64_t max)
{
	uint64_t v = 0;
	if (!b->bad && !get_uv(&b->p, b->end, max, &v))
		b->bad = true;
	return v;
}

/* zigzag, of an int64_t (max UINT64_MAX) or an int32_t (UINT32_MAX) */
static int64_t sv(struct body *b, uint64_t max)
{
	uint64_t v = uv(b, max);
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* a string field: its length and bytes, copied NUL-terminated into dst (cap bytes) */
static int get_str(struct capture_reader *r, struct body *b, char *dst, size_t cap,
		   const char *what)
{
	uint64_t n;
	if (!get_uv(&b->p, b->end, CAPTURE_MAX_RECORD, &n) || (uint64_t)(b->end - b->p) < n)
		return fail(r, "corrupt record at offset %llu: %s runs past the record",
			    (unsigned long long)r->off, what);
	if (n >= cap)
		return fail(r, "corrupt record at offset %llu: %s of %llu bytes (at most %zu)",
			    (unsigned long long)r->off, what, (unsigned long long)n, cap - 1);
	if (memchr(b->p, 0, n))
		return fail(r, "corrupt record at offset %llu: %s holds a NUL byte",
			    (unsigned long long)r->off, what);
	memcpy(dst, b->p, n);
	dst[n] = '\0';
	b->p += n;
	return 0;
}

int capture_next(struct capture_reader *r, struct socktap_event *ev)
{
	uint8_t lenb[4];
	size_t got = read_some(r, lenb, 4);
	if (got == 0 && !ferror(r->f))
		return 0;
	if (got != 4)
		return short_read(r, "record length", r->off, got, 4);
	uint32_t len = get32(lenb);
	if (len < MIN_BODY || len > CAPTURE_MAX_RECORD)
		return fail(r, "corrupt record at offset %llu: length %u (%d to %d)",
			    (unsigned long long)r->off, len, MIN_BODY, CAPTURE_MAX_RECORD);
	if ((got = read_some(r, r->body, len)) != len)
		return short_read(r, "record", r->off, got + 4, len + 4);
	r->body_len = len;
	unsigned int id = get16(r->body), have = get16(r->body + 2);
	r->file_probe = id;
	if (id >= r->nprobes)
		return fail(r, "corrupt record at offset %llu: probe %u (the file names %u)",
			    (unsigned long long)r->off, id, r->nprobes);
	if (r->ids[id] < 0)
		return fail(r, "record at offset %llu: a probe this socktap does not know",
			    (unsigned long long)r->off);
	if (have & ~(unsigned int)(HAVE_CGROUP | HAVE_CONTAINER))
		return fail(r, "corrupt record at offset %llu: presence bits %#x",
			    (unsigned long long)r->off, have);
	memset(ev, 0, sizeof(*ev));
	ev->probe = (enum socktap_probe_id)r->ids[id];
	ev->name = socktap_probe_get(ev->probe)->name;
	ev->ts = get64(r->body + 4);
	struct body b = {r->body + 12, r->body + len, false};
	const uint64_t u32 = UINT32_MAX;
	ev->known = (unsigned int)uv(&b, UINT_MAX);
	ev->pid = (uint32_t)uv(&b, u32);
	ev->tid = (uint32_t)uv(&b, u32);
	ev->uid = (uint32_t)uv(&b, u32);
	ev->cpu = (uint32_t)uv(&b, u32);
	ev->sock = uv(&b, UINT64_MAX);
	ev->fd = (int32_t)sv(&b, u32);
	ev->size = sv(&b, UINT64_MAX);
	ev->success = (int32_t)sv(&b, u32);
	ev->protocol = (int32_t)sv(&b, u32);
	ev->family = (int32_t)sv(&b, u32);
	ev->state = (int32_t)sv(&b, u32);
	ev->type = (int32_t)sv(&b, u32);
	ev->flags = uv(&b, UINT64_MAX);
	ev->requester = (int32_t)sv(&b, u32);
	ev->err = (int32_t)sv(&b, u32);
	ev->lport = (int32_t)sv(&b, u32);
	ev->rport = (int32_t)sv(&b, u32);
	ev->cgroup_id = uv(&b, UINT64_MAX);
	ev->nspid = (uint32_t)uv(&b, u32);
	if (b.bad)
		return fail(r,
			    "corrupt record at offset %llu: a number runs past the record or is "
			    "out of range",
			    (unsigned long long)r->off);
	if (get_str(r, &b, ev->comm, sizeof(ev->comm), "comm") ||
	    get_str(r, &b, ev->laddr, sizeof(ev->laddr), "laddr") ||
	    get_str(r, &b, ev->raddr, sizeof(ev->raddr), "raddr") ||
	    get_str(r, &b, r->cgroup, sizeof(r->cgroup), "cgroup") ||
	    get_str(r, &b, r->container, sizeof(r->container), "container"))
		return -1;
	if (b.p != b.end)
		return fail(r, "corrupt record at offset %llu: %zu bytes past its fields",
			    (unsigned long long)r->off, (size_t)(b.end - b.p));
	if ((!(have & HAVE_CGROUP) && r->cgroup[0]) ||
	    (!(have & HAVE_CONTAINER) && r->container[0]))
		return fail(r, "corrupt record at offset %llu: a string marked unknown has bytes",
			    (unsigned long long)r->off);
	ev->cgroup = have & HAVE_CGROUP ? r->cgroup : NULL;
	ev->container = have & HAVE_CONTAINER ? r->container : NULL;
	r->off += 4 + len;
	return 1;
}

void capture_close(struct capture_reader *r)
{
	free(r->body);
	r->body = NULL;
}

/* ---- socktap convert ---- */

static void convert_usage(void)
{
	printf("Usage: socktap convert FILE [-F text|json|csv] [-o OUT]\n"
	       "  Print the events of a capture (made by trace with \"-w FILE\") as trace\n"
	       "  would have printed them; FILE - is standard input.\n"
	       "  -F, --format FMT    text (default), json (JSON Lines) or csv\n"
	       "  -o, --output OUT    write to OUT instead of standard output\n");
}

int convert_parse(int argc, char **argv, struct convert_config *cfg)
{
	static const struct option longopts[] = {{"format", required_argument, NULL, 'F'},
						 {"output", required_argument, NULL, 'o'},
						 {"help", no_argument, NULL, 'h'},
						 {}};
	int c;
	*cfg = (struct convert_config){.fmt = SOCKTAP_FORMAT_TEXT};
	optind = 0; /* glibc's full reset: a previous parse may have stopped mid-argument */
	opterr = 0;
	while (optind == 0 || optind < argc) {
		c = getopt_long(argc, argv, "+F:o:h", longopts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			if (cfg->inpath) {
				cli_error("convert: unexpected argument '%s' (one FILE)",
					  argv[optind]);
				return EXIT_USAGE;
			}
			cfg->inpath = argv[optind++];
			continue;
		}
		switch (c) {
		case 'F':
			if ((cfg->fmt = parse_format(optarg, true)) < 0)
				return EXIT_USAGE;
			break;
		case 'o':
			cfg->outpath = optarg;
			break;
		case 'h':
			convert_usage();
			return 0;
		default:
			return bad_option("convert", argv);
		}
	}
	if (!cfg->inpath) {
		cli_error("convert: which capture? (FILE, or - for standard input)");
		return EXIT_USAGE;
	}
	return CLI_RUN;
}

int cmd_convert(int argc, char **argv)
{
	struct convert_config cfg;
	int rc = convert_parse(argc, argv, &cfg);
	if (rc != CLI_RUN)
		return rc;
	bool is_stdin = strcmp(cfg.inpath, "-") == 0;
	FILE *in = is_stdin ? stdin : fopen(cfg.inpath, "rb");
	if (!in) {
		cli_error("convert: cannot open '%s': %s", cfg.inpath, strerror(errno));
		return 1;
	}
	struct capture_reader *r = calloc(1, sizeof(*r));
	char *line = malloc(16384);
	struct output o = {.opt = "-o"};
	FILE *out = stdout;
	rc = 1;
	if (!r || !line) {
		cli_error("convert: %s", strerror(ENOMEM));
		goto done;
	}
	/* the header first: a file that is no capture leaves -o's file alone */
	if (capture_open(r, in, is_stdin ? "standard input" : cfg.inpath)) {
		cli_error("%s", r->msg);
		goto done;
	}
	if (cfg.outpath) {
		if (output_open(&o, cfg.outpath) || output_commit(&o))
			goto done;
		out = o.f;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 18);
	if (cfg.fmt == SOCKTAP_FORMAT_CSV)
		fputs(socktap_csv_header(), out);
	struct socktap_event ev;
	int got, werr = 0;
	while ((got = capture_next(r, &ev)) == 1)
		if (cli_event_write(out, &ev, cfg.fmt, line, 16384)) {
			werr = errno;
			break;
		}
	/* what was read before a bad record is printed: flushed before the message */
	if (fflush(out) && !werr)
		werr = errno ? errno : EIO;
	if (werr) {
		cli_error("writing %s: %s; output is incomplete",
			  cfg.outpath ? cfg.outpath : "standard output", strerror(werr));
	} else if (got < 0) {
		cli_error("%s", r->msg);
	} else {
		rc = 0;
	}
done:
	if (o.f && fclose(o.f) && rc == 0) {
		cli_error("writing %s: %s; output is incomplete", cfg.outpath, strerror(errno));
		rc = 1;
	}
	if (r)
		capture_close(r);
	free(r);
	free(line);
	if (!is_stdin)
		fclose(in);
	return rc;
}
