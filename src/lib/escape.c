// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The project's string encoders, one per output syntax: JSON strings,
 * CSV fields, text cells, Prometheus label values, and messages for a
 * terminal. Whatever a process or a user can name (a comm, a path, an
 * argument) reaches a terminal or a parser only through one of these:
 * valid UTF-8 is checked by one function (utf8_seq), control bytes never
 * pass raw.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "out.h"
#include "util.h"

void st_out_slow(struct out *o, const char *s, size_t n)
{
	if (!n)
		return;
	if (o->grow && o->pos <= o->len) {
		size_t cap = o->len ? o->len : 4096;
		while (cap - o->pos < n && cap < SIZE_MAX / 2)
			cap *= 2;
		char *b = realloc(o->buf, cap);
		if (b) {
			o->buf = b;
			o->len = cap;
			memcpy(o->buf + o->pos, s, n);
			o->pos += n;
			return;
		}
		o->grow = false; /* from here on pos only counts: the caller sees pos > len */
	}
	if (o->pos < o->len)
		memcpy(o->buf + o->pos, s, n < o->len - o->pos ? n : o->len - o->pos);
	o->pos += n;
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

/* The common case of JSON strings and label values: printable ASCII, nothing to escape. */
static size_t plain_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
		i++;
	return i;
}

/* A JSON string: quotes, backslashes and control bytes escaped; bad UTF-8 -> U+FFFD. */
void st_put_json_str(struct out *o, const char *str, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max);
	put_c(o, '"');
	size_t plain = plain_prefix(s, n);
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
	/* the project's one JSON string escaper, into a buffer sized to fit */
	char small[512];
	struct out o = {small, sizeof(small), 0};
	st_put_json_str(&o, s, max);
	if (o.pos <= o.len) {
		fwrite(small, 1, o.pos, f);
		return;
	}
	char *big = malloc(o.pos);
	if (!big)
		return;
	struct out b = {big, o.pos, 0};
	st_put_json_str(&b, s, max);
	fwrite(big, 1, b.pos, f);
	free(big);
}

/*
 * A Prometheus label value (text format 0.0.4): backslash, quote and
 * newline escaped, the only escapes the format has; other control bytes
 * and invalid UTF-8 (which the format forbids) as U+FFFD.
 */
void st_put_prom_label(struct out *o, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max);
	size_t plain = plain_prefix(s, n);
	put_mem(o, str, plain);
	for (size_t i = plain; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			put_c(o, '\\');
			put_c(o, (char)c);
			i++;
		} else if (c == '\n') {
			put_lit(o, "\\n");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			put_lit(o, "\xef\xbf\xbd");
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
}

size_t st_prom_label_clean(char *out, size_t cap, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max), o = 0;
	for (size_t i = 0; i < n;) {
		/* what st_put_prom_label() turns into U+FFFD */
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
void st_put_csv_str(struct out *o, const char *str, size_t max)
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
void st_put_text_str(struct out *o, const char *str, size_t max)
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

const char *st_text_str(const char *s, size_t max, char *buf, size_t len)
{
	if (!len)
		return buf;
	struct out o = {buf, len - 1, 0};
	size_t n = strnlen(s, max);
	for (size_t i = 0; i < n; i++) {
		size_t before = o.pos;
		st_put_text_str(&o, s + i, 1);
		if (o.pos > o.len) {
			o.pos = before; /* no half escape */
			break;
		}
	}
	buf[o.pos] = '\0';
	return buf;
}
