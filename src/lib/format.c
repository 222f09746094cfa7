// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * One event -> one line of text, JSON or CSV.
 *
 * Hand-written rather than a JSON library: this runs once per traced
 * event on the tracer's hot path, output is a flat object of integers and
 * two short strings, and a library's DOM building and allocation would
 * cost more than the kernel side of the event (bench/ measures it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "socktap.h"
#include "util.h"

struct out {
	char *buf;
	size_t len, pos; /* pos may pass len: it counts what was needed */
};

static inline void put_mem(struct out *o, const char *s, size_t n)
{
	if (o->pos < o->len) {
		size_t room = o->len - o->pos;
		memcpy(o->buf + o->pos, s, n < room ? n : room);
	}
	o->pos += n;
}

static inline void put_c(struct out *o, char c)
{
	if (o->pos < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

#define put_lit(o, s) put_mem(o, s, sizeof(s) - 1)

static inline void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

/* Two digits per division, written backwards, copied once: integers are most of a line. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
				     "25262728293031323334353637383940414243444546474849"
				     "50515253545556575859606162636465666768697071727374"
				     "75767778798081828384858687888990919293949596979899";

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	char *p = tmp + sizeof(tmp);
	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	put_mem(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put_i64(struct out *o, int64_t v)
{
	if (v < 0) {
		put_c(o, '-');
		put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(o, (uint64_t)v);
	}
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes available), or 0 if
 * the byte at s does not start one: overlong forms, surrogates and code
 * points past U+10FFFF are invalid (RFC 3629).
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* > U+10FFFF */
		return 4;
	}
	return 0;
}

/* A JSON string: quotes, backslashes and control bytes escaped; bad UTF-8 -> U+FFFD. */
static void put_json_str(struct out *o, const char *str, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max), plain = 0;
	put_c(o, '"');
	/* the common case: printable ASCII, nothing to escape */
	while (plain < n && s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' &&
	       s[plain] != '\\')
		plain++;
	put_mem(o, str, plain);
	for (size_t i = plain; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			put_c(o, '\\');
			put_c(o, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n':
				put_lit(o, "\\n");
				break;
			case '\t':
				put_lit(o, "\\t");
				break;
			case '\r':
				put_lit(o, "\\r");
				break;
			default:
				put_lit(o, "\\u00");
				put_c(o, hex[c >> 4]);
				put_c(o, hex[c & 15]);
			}
			i++;
		} else {
			size_t l = utf8_seq(s + i, n - i);
			if (l == 0) {
				put_lit(o, "\xef\xbf\xbd");
				i++;
			} else {
				put_mem(o, (const char *)s + i, l);
				i += l;
			}
		}
	}
	put_c(o, '"');
}

void st_json_fputs(FILE *f, const char *s, size_t max)
{
	/* the project's one JSON string escaper: put_json_str, into a buffer sized to fit */
	char small[512];
	struct out o = {small, sizeof(small), 0};
	put_json_str(&o, s, max);
	if (o.pos <= o.len) {
		fwrite(small, 1, o.pos, f);
		return;
	}
	char *big = malloc(o.pos);
	if (!big)
		return;
	struct out b = {big, o.pos, 0};
	put_json_str(&b, s, max);
	fwrite(big, 1, b.pos, f);
	free(big);
}

/*
 * A Prometheus label value (text format 0.0.4): backslash, quote and
 * newline escaped, the only escapes the format has; other control bytes
 * and invalid UTF-8 (which the format forbids) as U+FFFD.
 */
void st_prom_label_fputs(FILE *f, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fputs("\xef\xbf\xbd", f);
			i++;
		} else {
			size_t l = utf8_seq(s + i, n - i);
			if (l == 0) {
				fputs("\xef\xbf\xbd", f);
				i++;
			} else {
				fwrite(s + i, 1, l, f);
				i += l;
			}
		}
	}
}

size_t st_prom_label_clean(char *out, size_t cap, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max), o = 0;
	for (size_t i = 0; i < n;) {
		/* what st_prom_label_fputs() turns into U+FFFD */
		bool bad = (s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f;
		size_t l = bad ? 0 : utf8_seq(s + i, n - i);
		if (o + (l ? l : 3) >= cap)
			break; /* never half a sequence */
		memcpy(out + o, l ? str + i : "\xef\xbf\xbd", l ? l : 3);
		o += l ? l : 3;
		i += l ? l : 1;
	}
	out[o] = '\0';
	return o;
}

/*
 * Bytes as they are, except control bytes and invalid UTF-8 (and, in CSV,
 * backslashes, so that \xNN reads back unambiguously): those as \xNN, so that nothing
 * anyone can put in a name (a process's, a path) ever reaches a terminal
 * as a control sequence, and a line stays one line.
 */
static void put_safe(struct out *o, const unsigned char *s, size_t n, bool csv)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l = c < 0x20 || c == 0x7f || (csv && c == '\\') ? 0 : utf8_seq(s + i, n - i);
		if (l == 0) {
			put_lit(o, "\\x");
			put_c(o, hex[c >> 4]);
			put_c(o, hex[c & 15]);
			i++;
			continue;
		}
		if (c == '"' && csv)
			put_c(o, '"'); /* quotes doubled (the field is quoted) */
		put_mem(o, (const char *)s + i, l);
		i += l;
	}
}

/* A CSV field (RFC 4180): quoted when it holds a comma or a quote; safe bytes (above). */
static void put_csv_str(struct out *o, const char *str, size_t max)
{
	size_t n = strnlen(str, max);
	bool quote = strcspn(str, ",\"") < n;
	if (quote)
		put_c(o, '"');
	put_safe(o, (const unsigned char *)str, n, true);
	if (quote)
		put_c(o, '"');
}

void st_safe_fputs(FILE *f, const char *s, size_t max)
{
	char buf[2048];
	size_t n = strnlen(s, max);
	/* at most 4 bytes out per byte in: chunks that always fit */
	for (size_t i = 0; i < n;) {
		size_t take = n - i < 400 ? n - i : 400;
		/* do not split a UTF-8 sequence between chunks */
		while (take < n - i && take > 0 &&
		       (((const unsigned char *)s)[i + take] & 0xc0) == 0x80)
			take--;
		if (!take)
			take = 1;
		struct out o = {buf, sizeof(buf), 0};
		put_safe(&o, (const unsigned char *)s + i, take, false);
		fwrite(buf, 1, o.pos, f);
		i += take;
	}
}

/* Text: printable bytes as they are, anything else as \xNN, so a line stays one line. */
static void put_text_str(struct out *o, const char *str, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strnlen(str, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)str[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			put_lit(o, "\\x");
			put_c(o, hex[c >> 4]);
			put_c(o, hex[c & 15]);
		} else {
			put_c(o, (char)c);
		}
	}
}

static int64_t value_of(const struct socktap_event *ev, unsigned int bit)
{
	switch (bit) {
	case SOCKTAP_V_SIZE:
		return ev->size;
	case SOCKTAP_V_SUCCESS:
		return ev->success;
	case SOCKTAP_V_PROTOCOL:
		return ev->protocol;
	case SOCKTAP_V_FAMILY:
		return ev->family;
	case SOCKTAP_V_STATE:
		return ev->state;
	case SOCKTAP_V_FLAGS:
		return (int64_t)ev->flags;
	case SOCKTAP_V_TYPE:
		return ev->type;
	case SOCKTAP_V_REQUESTER:
		return ev->requester;
	case SOCKTAP_V_ERR:
		return ev->err;
	}
	return 0;
}

/* ,"<value>": for each value bit, with its length: no strlen per event */
#define KEY(s)                                                                                     \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
static const struct {
	const char *s;
	size_t len;
} json_keys[SOCKTAP_VALUE__COUNT] = {
    KEY(",\"name\":"),	    KEY(",\"size\":"),	KEY(",\"success\":"), KEY(",\"protocol\":"),
    KEY(",\"family\":"),    KEY(",\"state\":"), KEY(",\"flags\":"),   KEY(",\"type\":"),
    KEY(",\"requester\":"), KEY(",\"err\":"),
};
#undef KEY

static unsigned int probe_values(const struct socktap_event *ev)
{
	const struct socktap_probe *p = socktap_probe_get(ev->probe);
	return p ? p->values : 0;
}

/* a string, or null when empty (or NULL) */
static void put_json_opt(struct out *o, const char *str, size_t max)
{
	if (str && *str)
		put_json_str(o, str, max);
	else
		put_lit(o, "null");
}

static void put_json_num_opt(struct out *o, int64_t v, bool known)
{
	if (known)
		put_i64(o, v);
	else
		put_lit(o, "null");
}

/* who and where: the same keys on every event, null where not known */
static void format_json_who(const struct socktap_event *ev, struct out *o)
{
	put_lit(o, ",\"laddr\":");
	put_json_opt(o, ev->laddr, sizeof(ev->laddr));
	put_lit(o, ",\"lport\":");
	put_json_num_opt(o, ev->lport, ev->laddr[0] && ev->lport >= 0);
	put_lit(o, ",\"raddr\":");
	put_json_opt(o, ev->raddr, sizeof(ev->raddr));
	put_lit(o, ",\"rport\":");
	put_json_num_opt(o, ev->rport, ev->raddr[0] && ev->rport >= 0);
	put_lit(o, ",\"cgroup\":");
	put_json_opt(o, ev->cgroup, 4096);
	put_lit(o, ",\"cgroup_id\":");
	put_json_num_opt(o, (int64_t)ev->cgroup_id, ev->cgroup_id != 0);
	put_lit(o, ",\"container\":");
	put_json_opt(o, ev->container, 65);
	put_lit(o, ",\"nspid\":");
	put_json_num_opt(o, ev->nspid, ev->nspid != 0);
}

static void format_json(const struct socktap_event *ev, struct out *o)
{
	unsigned int values = probe_values(ev);
	size_t name_len = strlen(ev->name);
	put_lit(o, "{\"probe\":\"");
	put_mem(o, ev->name, name_len);
	put_lit(o, "\",\"ts\":");
	put_u64(o, ev->ts);
	put_lit(o, ",\"pid\":");
	put_u64(o, ev->pid);
	put_lit(o, ",\"tid\":");
	put_u64(o, ev->tid);
	put_lit(o, ",\"uid\":");
	put_u64(o, ev->uid);
	put_lit(o, ",\"comm\":");
	put_json_str(o, ev->comm, sizeof(ev->comm));
	put_lit(o, ",\"cpu\":");
	put_u64(o, ev->cpu);
	put_lit(o, ",\"sock\":");
	if (ev->sock)
		put_u64(o, ev->sock);
	else
		put_lit(o, "null"); /* no cookie could be had yet */
	if (ev->fd >= 0) {
		put_lit(o, ",\"fd\":");
		put_i64(o, ev->fd);
	}
	for (unsigned int i = 0; i < SOCKTAP_VALUE__COUNT; i++) {
		unsigned int bit = 1u << i;
		if (!(values & bit))
			continue;
		put_mem(o, json_keys[i].s, json_keys[i].len);
		if (bit == SOCKTAP_V_NAME) {
			put_c(o, '"');
			put_mem(o, ev->name, name_len);
			put_c(o, '"');
		} else if (!(ev->known & bit)) {
			put_lit(o, "null");
		} else if (bit == SOCKTAP_V_FLAGS) {
			put_u64(o, ev->flags);
		} else {
			put_i64(o, value_of(ev, bit));
		}
	}
	format_json_who(ev, o);
	put_lit(o, "}\n");
}

static const char csv_header[] = "probe,ts,pid,tid,uid,comm,cpu,sock,fd,name,size,success,protocol,"
				 "family,state,flags,type,requester,err,laddr,lport,raddr,rport,"
				 "cgroup,cgroup_id,container,nspid\n";

const char *socktap_csv_header(void)
{
	return csv_header;
}

static void format_csv(const struct socktap_event *ev, struct out *o)
{
	unsigned int values = probe_values(ev);
	put_str(o, ev->name);
	put_c(o, ',');
	put_u64(o, ev->ts);
	put_c(o, ',');
	put_u64(o, ev->pid);
	put_c(o, ',');
	put_u64(o, ev->tid);
	put_c(o, ',');
	put_u64(o, ev->uid);
	put_c(o, ',');
	put_csv_str(o, ev->comm, sizeof(ev->comm));
	put_c(o, ',');
	put_u64(o, ev->cpu);
	put_c(o, ',');
	if (ev->sock)
		put_u64(o, ev->sock);
	put_c(o, ',');
	if (ev->fd >= 0)
		put_i64(o, ev->fd);
	for (unsigned int bit = 1; bit < (1u << SOCKTAP_VALUE__COUNT); bit <<= 1) {
		put_c(o, ',');
		if (!(values & bit))
			continue;
		if (bit == SOCKTAP_V_NAME)
			put_str(o, ev->name);
		else if (!(ev->known & bit))
			continue;
		else if (bit == SOCKTAP_V_FLAGS)
			put_u64(o, ev->flags);
		else
			put_i64(o, value_of(ev, bit));
	}
	put_c(o, ',');
	put_csv_str(o, ev->laddr, sizeof(ev->laddr));
	put_c(o, ',');
	if (ev->laddr[0] && ev->lport >= 0)
		put_i64(o, ev->lport);
	put_c(o, ',');
	put_csv_str(o, ev->raddr, sizeof(ev->raddr));
	put_c(o, ',');
	if (ev->raddr[0] && ev->rport >= 0)
		put_i64(o, ev->rport);
	put_c(o, ',');
	if (ev->cgroup)
		put_csv_str(o, ev->cgroup, 4096);
	put_c(o, ',');
	if (ev->cgroup_id)
		put_u64(o, ev->cgroup_id);
	put_c(o, ',');
	if (ev->container)
		put_csv_str(o, ev->container, 65);
	put_c(o, ',');
	if (ev->nspid)
		put_u64(o, ev->nspid);
	put_c(o, '\n');
}

/* One end as text: "127.0.0.1:80", "[::1]:443", a unix path, "*" when null. */
static void put_text_end(struct out *o, const char *addr, int32_t port)
{
	if (!addr[0]) {
		put_c(o, '*');
		return;
	}
	bool v6 = port >= 0 && strchr(addr, ':');
	if (v6)
		put_c(o, '[');
	put_text_str(o, addr, 112);
	if (v6)
		put_c(o, ']');
	if (port >= 0) {
		put_c(o, ':');
		put_i64(o, port);
	}
}

static void format_text(const struct socktap_event *ev, struct out *o)
{
	unsigned int values = probe_values(ev);
	char tbuf[32], fbuf[128];
	time_t secs = (time_t)(ev->ts / 1000000000ULL);
	struct tm tm;
	localtime_r(&secs, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	put_str(o, tbuf);
	snprintf(tbuf, sizeof(tbuf), ".%06u ", (unsigned)(ev->ts % 1000000000ULL / 1000));
	put_str(o, tbuf);
	put_text_str(o, ev->comm, sizeof(ev->comm));
	put_c(o, '[');
	put_u64(o, ev->pid);
	put_c(o, '/');
	put_u64(o, ev->tid);
	put_lit(o, "] ");
	put_str(o, ev->name);
	if (ev->fd >= 0) {
		put_lit(o, " fd=");
		put_i64(o, ev->fd);
	}
	if (ev->sock) {
		put_lit(o, " sock=");
		put_u64(o, ev->sock);
	}
	for (unsigned int bit = SOCKTAP_V_SIZE; bit < (1u << SOCKTAP_VALUE__COUNT); bit <<= 1) {
		if (!(values & bit))
			continue;
		put_c(o, ' ');
		put_str(o, socktap_value_name(bit));
		put_c(o, '=');
		if (!(ev->known & bit)) {
			put_c(o, '?');
			continue;
		}
		switch (bit) {
		case SOCKTAP_V_PROTOCOL:
			put_str(o, sock_prot_num2str(ev->protocol));
			break;
		case SOCKTAP_V_FAMILY:
			put_str(o, sock_fam_num2str(ev->family));
			break;
		case SOCKTAP_V_STATE:
			put_str(o, sock_state_num2str(ev->state));
			break;
		case SOCKTAP_V_TYPE:
			put_str(o, sock_type_num2str(ev->type));
			break;
		case SOCKTAP_V_FLAGS:
			sock_flags_num2str(ev->flags, fbuf, sizeof(fbuf));
			put_str(o, fbuf[0] ? fbuf : "0");
			break;
		default:
			put_i64(o, value_of(ev, bit));
		}
	}
	if (ev->laddr[0] || ev->raddr[0]) {
		put_c(o, ' ');
		put_text_end(o, ev->laddr, ev->lport);
		put_lit(o, " -> ");
		put_text_end(o, ev->raddr, ev->rport);
	}
	if (ev->cgroup) {
		put_lit(o, " cgroup=");
		put_text_str(o, ev->cgroup, 4096);
	}
	if (ev->nspid) {
		put_lit(o, " nspid=");
		put_u64(o, ev->nspid);
	}
	put_c(o, '\n');
}

int socktap_format_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	if (strcmp(name, "text") == 0)
		return SOCKTAP_FORMAT_TEXT;
	if (strcmp(name, "json") == 0)
		return SOCKTAP_FORMAT_JSON;
	if (strcmp(name, "csv") == 0)
		return SOCKTAP_FORMAT_CSV;
	return -EINVAL;
}

int socktap_event_format(const struct socktap_event *ev, enum socktap_format fmt, char *buf,
			 size_t len)
{
	struct out o = {buf, len, 0};
	if (!ev || !ev->name || (!buf && len))
		return -EINVAL;
	switch (fmt) {
	case SOCKTAP_FORMAT_JSON:
		format_json(ev, &o);
		break;
	case SOCKTAP_FORMAT_CSV:
		format_csv(ev, &o);
		break;
	case SOCKTAP_FORMAT_TEXT:
		format_text(ev, &o);
		break;
	default:
		return -EINVAL;
	}
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos > INT32_MAX ? -EOVERFLOW : (int)o.pos;
}
