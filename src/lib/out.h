/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * A bounded output buffer for the formatters (format.c) and the string
 * encoders (escape.c): writes past the end are counted, not made, so one
 * pass both fills a buffer and says how large it had to be.
 */
#ifndef SOCKTAP_OUT_H
#define SOCKTAP_OUT_H

#include <stddef.h>
#include <string.h>

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

/* The encoders of names, paths and messages, one per output syntax (escape.c). */
/* a JSON string, quoted: quotes, backslashes, control bytes escaped; bad UTF-8 as U+FFFD */
void st_put_json_str(struct out *o, const char *s, size_t max);
/* a CSV field (RFC 4180): quoted when it holds a comma or a quote; control bytes,
 * backslashes and bad UTF-8 as \xNN */
void st_put_csv_str(struct out *o, const char *s, size_t max);
/* text: printable ASCII as it is, anything else as \xNN */
void st_put_text_str(struct out *o, const char *s, size_t max);

#endif
