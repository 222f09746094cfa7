/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Oracles for text the formatters write: UTF-8 with no control bytes, one
 * JSON value (RFC 8259, strict), RFC 4180 CSV fields. Written from the
 * RFCs, not from format.c, so that they do not share its mistakes.
 */
#ifndef SOCKTAP_FUZZ_TEXT_CHECK_H
#define SOCKTAP_FUZZ_TEXT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The code point at s (n bytes), its length in *len; -1 if not valid UTF-8 (RFC 3629). */
static inline long utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
	static const long min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t l = s[0] < 0x80	     ? 1
		   : s[0] >> 5 == 6  ? 2
		   : s[0] >> 4 == 14 ? 3
		   : s[0] >> 3 == 30 ? 4
				     : 0;
	if (!l || l > n)
		return -1;
	long cp = l == 1 ? s[0] : s[0] & (0x7f >> l);
	for (size_t i = 1; i < l; i++) {
		if (s[i] >> 6 != 2)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[l] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = l;
	return cp;
}

/* Valid UTF-8 with no C0 control byte (nor DEL) but those in allow. */
static inline bool utf8_clean(const char *s, size_t n, const char *allow)
{
	for (size_t i = 0, l; i < n; i += l) {
		long cp = utf8_decode((const unsigned char *)s + i, n - i, &l);
		if (cp < 0 || ((cp < 0x20 || cp == 0x7f) && !(cp && strchr(allow, (int)cp))))
			return false;
	}
	return true;
}

/* ---- JSON ---- */

struct json {
	const char *p, *end;
	int depth;
};

static bool json_value(struct json *j);

static void json_ws(struct json *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) && *j->p)
		j->p++;
}

static bool json_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool json_hex4(struct json *j, long *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++, j->p++) {
		if (j->p >= j->end)
			return false;
		char c = *j->p;
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return false;
		*cp = *cp << 4 | d;
	}
	return true;
}

/* A string; its value (UTF-8) into out[0..*outlen) when out is given, truncated to cap. */
static bool json_string(struct json *j, char *out, size_t cap, size_t *outlen)
{
	size_t o = 0;
	if (!json_lit(j, "\""))
		return false;
	while (j->p < j->end && *j->p != '"') {
		long cp;
		size_t l = 1;
		if (*j->p == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			const char *esc = strchr("\"\\/bfnrtu", *j->p);
			if (!esc || !*j->p)
				return false;
			if (*j->p++ != 'u') {
				cp = "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrtu"];
			} else {
				if (!json_hex4(j, &cp))
					return false;
				if (cp >= 0xd800 && cp <= 0xdbff) { /* a pair, or nothing */
					long lo;
					if (!json_lit(j, "\\u") || !json_hex4(j, &lo) ||
					    lo < 0xdc00 || lo > 0xdfff)
						return false;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return false;
				}
			}
		} else {
			cp = utf8_decode((const unsigned char *)j->p, (size_t)(j->end - j->p), &l);
			if (cp < 0x20) /* invalid UTF-8, or a raw control byte */
				return false;
			j->p += l;
		}
		/* re-encode into out */
		unsigned char u[4];
		size_t ul = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		for (size_t i = ul; i-- > 1; cp >>= 6)
			u[i] = (unsigned char)(0x80 | (cp & 0x3f));
		u[0] = (unsigned char)(ul == 1 ? cp : (0xf0 << (4 - ul) & 0xff) | cp);
		for (size_t i = 0; out && i < ul; i++, o++)
			if (o < cap)
				out[o] = (char)u[i];
	}
	if (outlen)
		*outlen = o;
	return json_lit(j, "\"");
}

static bool json_number(struct json *j)
{
	const char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
		return false;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		const char *d = ++j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == d)
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		const char *d = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == d)
			return false;
	}
	return j->p > s;
}

static bool json_container(struct json *j, char open, char close, bool keys)
{
	if (!json_lit(j, (char[]){open, 0}) || ++j->depth > 64)
		return false;
	json_ws(j);
	if (json_lit(j, (char[]){close, 0}))
		return j->depth--, true;
	for (;;) {
		json_ws(j);
		if (keys) {
			if (!json_string(j, NULL, 0, NULL))
				return false;
			json_ws(j);
			if (!json_lit(j, ":"))
				return false;
		}
		if (!json_value(j))
			return false;
		json_ws(j);
		if (json_lit(j, (char[]){close, 0}))
			return j->depth--, true;
		if (!json_lit(j, ","))
			return false;
	}
}

static bool json_value(struct json *j)
{
	json_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return json_container(j, '{', '}', true);
	case '[':
		return json_container(j, '[', ']', false);
	case '"':
		return json_string(j, NULL, 0, NULL);
	case 't':
		return json_lit(j, "true");
	case 'f':
		return json_lit(j, "false");
	case 'n':
		return json_lit(j, "null");
	default:
		return json_number(j);
	}
}

/* s[0..n) is exactly one JSON object, and whitespace. */
static inline bool json_is_object(const char *s, size_t n)
{
	struct json j = {s, s + n, 0};
	json_ws(&j);
	if (j.p >= j.end || *j.p != '{' || !json_value(&j))
		return false;
	json_ws(&j);
	return j.p == j.end;
}

/* ---- CSV ---- */

/*
 * The fields of one RFC 4180 record (LF or CRLF ends it), at most max of them,
 * unquoted into out[i] (each up to cap bytes); -1 if it is not one record.
 */
static inline int csv_fields(const char *s, size_t n, char (*out)[256], int max)
{
	int nf = 0;
	size_t i = 0;
	for (;;) {
		size_t o = 0;
		char *f = nf < max ? out[nf] : NULL;
		if (i < n && s[i] == '"') {
			for (i++;; i++) {
				if (i >= n)
					return -1; /* unterminated quote */
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"')
						i++;
					else
						break;
				}
				if (f && o < 255)
					f[o++] = s[i];
			}
			i++; /* the closing quote: a separator or the end must follow */
		} else {
			for (; i < n && s[i] != ',' && s[i] != '\n' && s[i] != '\r'; i++) {
				if (s[i] == '"')
					return -1; /* a quote in an unquoted field */
				if (f && o < 255)
					f[o++] = s[i];
			}
		}
		if (f)
			f[o] = '\0';
		nf++;
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		if (i + 1 == n && s[i] == '\n')
			return nf;
		if (i + 2 == n && s[i] == '\r' && s[i + 1] == '\n')
			return nf;
		return -1;
	}
}

#endif
