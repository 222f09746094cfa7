/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * A bounded output buffer for the formatters (format.c) and the string
 * encoders (escape.c): writes past the end are counted, not made, so one
 * pass both fills a buffer and says how large it had to be.
 */
#ifndef SOCKTAP_OUT_H
#define SOCKTAP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, pos; /* pos may pass len: it counts what was needed */
	bool grow;	 /* buf is malloc'ed and grows to fit (until an allocation fails) */
};

/* put_mem's rare case, out of line: grow the buffer, or copy what fits and count the rest */
void st_out_slow(struct out *o, const char *s, size_t n);

/*
 * One comparison in the common case (an event's line is some 60 of these; n is mostly a
 * constant, so its test folds away). n == 0 takes the slow path: buf may still be NULL.
 */
static inline void put_mem(struct out *o, const char *s, size_t n)
{
	if (__builtin_expect(n && o->pos + n <= o->len, 1)) {
		memcpy(o->buf + o->pos, s, n);
		o->pos += n;
	} else {
		st_out_slow(o, s, n);
	}
}

static inline void put_c(struct out *o, char c)
{
	if (__builtin_expect(o->pos < o->len, 1))
		o->buf[o->pos++] = c;
	else
		st_out_slow(o, &c, 1);
}

#define put_lit(o, s) put_mem(o, s, sizeof(s) - 1)

static inline void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

/* Integers in decimal; inline: they are most of an event's line. */
/* Two digits per division, written backwards, copied once: integers are most of a line. */
static const char st_digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
					"25262728293031323334353637383940414243444546474849"
					"50515253545556575859606162636465666768697071727374"
					"75767778798081828384858687888990919293949596979899";

static inline void st_put_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	char *p = tmp + sizeof(tmp);
	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, st_digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, st_digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	put_mem(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

static inline void st_put_i64(struct out *o, int64_t v)
{
	if (v < 0) {
		put_c(o, '-');
		st_put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		st_put_u64(o, (uint64_t)v);
	}
}

/* The encoders of names, paths and messages, one per output syntax (escape.c). */
/* a JSON string, quoted: quotes, backslashes, control bytes escaped; bad UTF-8 as U+FFFD */
void st_put_json_str(struct out *o, const char *s, size_t max);
/* a CSV field (RFC 4180): quoted when it holds a comma or a quote; control bytes,
 * backslashes and bad UTF-8 as \xNN */
void st_put_csv_str(struct out *o, const char *s, size_t max);
/* text: printable ASCII as it is, anything else as \xNN */
void st_put_text_str(struct out *o, const char *s, size_t max);
/* a Prometheus label value (text format 0.0.4), without the quotes */
void st_put_prom_label(struct out *o, const char *s, size_t max);

#endif
