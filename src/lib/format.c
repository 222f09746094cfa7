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
#include "out.h"
#include "util.h"

#define put_u64 st_put_u64
#define put_i64 st_put_i64

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

static unsigned int probe_values(const struct socktap_event *ev)
{
	const struct socktap_probe *p = socktap_probe_get(ev->probe);
	return p ? p->values : 0;
}

/*
 * The fields of a JSON object and of a CSV row: one list, in column order,
 * so that the two formats cannot drift apart. X(id, key, absent): absent is
 * what JSON writes for a field the event does not have (CSV leaves the
 * cell empty either way): OMIT leaves the key out (an fd that is not
 * known, a value the probe does not carry), NULL writes null.
 */
#define ST_EVENT_FIELDS(X)                                                                         \
	X(PROBE, "probe", NULL)                                                                    \
	X(TS, "ts", NULL)                                                                          \
	X(PID, "pid", NULL)                                                                        \
	X(TID, "tid", NULL)                                                                        \
	X(UID, "uid", NULL)                                                                        \
	X(COMM, "comm", NULL)                                                                      \
	X(CPU, "cpu", NULL)                                                                        \
	X(SOCK, "sock", NULL)                                                                      \
	X(FD, "fd", OMIT)                                                                          \
	X(NAME, "name", OMIT)                                                                      \
	X(SIZE, "size", OMIT)                                                                      \
	X(SUCCESS, "success", OMIT)                                                                \
	X(PROTOCOL, "protocol", OMIT)                                                              \
	X(FAMILY, "family", OMIT)                                                                  \
	X(STATE, "state", OMIT)                                                                    \
	X(FLAGS, "flags", OMIT)                                                                    \
	X(TYPE, "type", OMIT)                                                                      \
	X(REQUESTER, "requester", OMIT)                                                            \
	X(ERR, "err", OMIT)                                                                        \
	X(LADDR, "laddr", NULL)                                                                    \
	X(LPORT, "lport", NULL)                                                                    \
	X(RADDR, "raddr", NULL)                                                                    \
	X(RPORT, "rport", NULL)                                                                    \
	X(CGROUP, "cgroup", NULL)                                                                  \
	X(CGROUP_ID, "cgroup_id", NULL)                                                            \
	X(CONTAINER, "container", NULL)                                                            \
	X(NSPID, "nspid", NULL)

#define FIELD_ID(id, key, absent) F_##id,
enum field { ST_EVENT_FIELDS(FIELD_ID) F__COUNT };
#undef FIELD_ID

/* the probe values (name .. err) are consecutive fields, in SOCKTAP_V_* bit order */
_Static_assert(F_ERR - F_NAME + 1 == SOCKTAP_VALUE__COUNT, "one field per probe value");

enum absent { ABSENT_NULL, ABSENT_OMIT };

/* ,"key": with its length, so that no key costs a strlen per event */
#define FIELD_KEY(id, key, absent) {",\"" key "\":", sizeof(",\"" key "\":") - 1, ABSENT_##absent},
static const struct {
	const char *json; /* the first field's starts one byte later: no comma */
	unsigned char len;
	unsigned char absent;
} fields[F__COUNT] = {ST_EVENT_FIELDS(FIELD_KEY)};
#undef FIELD_KEY

#define FIELD_CSV(id, key, absent) "," key
static const char csv_header[] = ST_EVENT_FIELDS(FIELD_CSV) "\n";
#undef FIELD_CSV

const char *socktap_csv_header(void)
{
	return csv_header + 1; /* the list's first comma */
}

/* One field's value as an event has it: a number, a string, or none. */
struct field_val {
	/* NONE: the event does not have it (JSON: the field's absent rule); NULL: always null */
	enum { FV_NONE, FV_NULL, FV_U64, FV_I64, FV_STR, FV_NAME } kind;
	union {
		uint64_t u;
		int64_t i;
	};
	const char *s;
	size_t max; /* FV_STR: at most this many bytes of s */
};

/* always inlined with a constant f (below): the switch folds away, one field is a few stores */
static inline __attribute__((always_inline)) void
field_get(const struct socktap_event *ev, unsigned int values, enum field f, struct field_val *v)
{
	v->kind = FV_U64;
	switch (f) {
	case F_PROBE:
	case F_NAME:
		if (f == F_NAME && !(values & SOCKTAP_V_NAME))
			v->kind = FV_NONE;
		else
			v->kind = FV_NAME; /* a probe name: plain ASCII, written as it is */
		return;
	case F_TS:
		v->u = ev->ts;
		return;
	case F_PID:
		v->u = ev->pid;
		return;
	case F_TID:
		v->u = ev->tid;
		return;
	case F_UID:
		v->u = ev->uid;
		return;
	case F_CPU:
		v->u = ev->cpu;
		return;
	case F_COMM:
		v->kind = FV_STR;
		v->s = ev->comm;
		v->max = sizeof(ev->comm);
		return;
	case F_SOCK:
		v->u = ev->sock; /* 0: no cookie could be had yet */
		v->kind = ev->sock ? FV_U64 : FV_NONE;
		return;
	case F_FD:
		v->i = ev->fd;
		v->kind = ev->fd >= 0 ? FV_I64 : FV_NONE;
		return;
	case F_LADDR:
	case F_RADDR:
		v->s = f == F_LADDR ? ev->laddr : ev->raddr;
		v->max = sizeof(ev->laddr);
		v->kind = v->s[0] ? FV_STR : FV_NONE;
		return;
	case F_LPORT:
		v->i = ev->lport;
		v->kind = ev->laddr[0] && ev->lport >= 0 ? FV_I64 : FV_NONE;
		return;
	case F_RPORT:
		v->i = ev->rport;
		v->kind = ev->raddr[0] && ev->rport >= 0 ? FV_I64 : FV_NONE;
		return;
	case F_CGROUP:
	case F_CONTAINER:
		v->s = f == F_CGROUP ? ev->cgroup : ev->container;
		v->max = f == F_CGROUP ? 4096 : 65;
		v->kind = v->s && v->s[0] ? FV_STR : FV_NONE;
		return;
	case F_CGROUP_ID:
		v->u = ev->cgroup_id;
		v->kind = ev->cgroup_id ? FV_U64 : FV_NONE;
		return;
	case F_NSPID:
		v->u = ev->nspid;
		v->kind = ev->nspid ? FV_U64 : FV_NONE;
		return;
	case F__COUNT:
		break;
	default: {
		unsigned int bit = 1u << (f - F_NAME);
		if (!(values & bit)) {
			v->kind = FV_NONE;
		} else if (!(ev->known & bit)) {
			v->kind = FV_NULL; /* carried but not known */
		} else if (bit == SOCKTAP_V_FLAGS) {
			v->u = ev->flags;
		} else {
			v->kind = FV_I64;
			v->i = value_of(ev, bit);
		}
		return;
	}
	}
	v->kind = FV_NONE;
}

static inline __attribute__((always_inline)) void put_field_val(struct out *o,
								const struct socktap_event *ev,
								size_t name_len,
								const struct field_val *v, bool csv)
{
	switch (v->kind) {
	case FV_U64:
		put_u64(o, v->u);
		break;
	case FV_I64:
		put_i64(o, v->i);
		break;
	case FV_NAME:
		if (!csv)
			put_c(o, '"');
		put_mem(o, ev->name, name_len);
		if (!csv)
			put_c(o, '"');
		break;
	case FV_STR:
		if (csv)
			st_put_csv_str(o, v->s, v->max);
		else
			st_put_json_str(o, v->s, v->max);
		break;
	case FV_NONE:
	case FV_NULL:
		if (!csv)
			put_lit(o, "null");
		break;
	}
}

static inline __attribute__((always_inline)) void json_field(struct out *o,
							     const struct socktap_event *ev,
							     unsigned int values, size_t name_len,
							     enum field f)
{
	struct field_val v;
	field_get(ev, values, f, &v);
	if (v.kind == FV_NONE && fields[f].absent == ABSENT_OMIT)
		return;
	put_mem(o, fields[f].json + !f, fields[f].len - !f);
	put_field_val(o, ev, name_len, &v, false);
}

static inline __attribute__((always_inline)) void csv_field(struct out *o,
							    const struct socktap_event *ev,
							    unsigned int values, size_t name_len,
							    enum field f)
{
	struct field_val v;
	if (f)
		put_c(o, ',');
	field_get(ev, values, f, &v);
	put_field_val(o, ev, name_len, &v, true);
}

/*
 * The list expanded into straight-line code, one call per field with a constant id,
 * rather than a loop: a loop over the list measured ~1,100 instructions more per
 * event (callgrind, bench/format_bench), a fifth of the writer's budget.
 */
#define JSON_FIELD(id, key, absent) json_field(o, ev, values, name_len, F_##id);
#define CSV_FIELD(id, key, absent)  csv_field(o, ev, values, name_len, F_##id);

static void format_json(const struct socktap_event *ev, struct out *o)
{
	unsigned int values = probe_values(ev);
	size_t name_len = strlen(ev->name);
	put_c(o, '{');
	ST_EVENT_FIELDS(JSON_FIELD)
	put_lit(o, "}\n");
}

static void format_csv(const struct socktap_event *ev, struct out *o)
{
	unsigned int values = probe_values(ev);
	size_t name_len = strlen(ev->name);
	ST_EVENT_FIELDS(CSV_FIELD)
	put_c(o, '\n');
}
#undef JSON_FIELD
#undef CSV_FIELD

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
	st_put_text_str(o, addr, 112);
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
	st_put_text_str(o, ev->comm, sizeof(ev->comm));
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
		st_put_text_str(o, ev->cgroup, 4096);
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
