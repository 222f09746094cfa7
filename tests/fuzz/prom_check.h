/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Prometheus's text exposition format 0.0.4, checked line by line as
 * Prometheus's parser reads it (docs: "Exposition formats"): HELP and TYPE
 * once per family, before its samples; metric and label names; label values
 * with \\ \" \n as the only escapes, in UTF-8; a float value; no label set
 * twice in a family; histograms' buckets cumulative, +Inf equal to _count.
 * Returns NULL, or what is wrong (with the line in err).
 */
#ifndef SOCKTAP_FUZZ_PROM_CHECK_H
#define SOCKTAP_FUZZ_PROM_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "text_check.h"

#define PROM_MAX_FAMILIES 64
#define PROM_MAX_SERIES	  4096

struct prom_family {
	char name[96], type[16];
	bool help, samples;
};

struct prom_state {
	struct prom_family fam[PROM_MAX_FAMILIES];
	int nfam, cur;
	char *seen[PROM_MAX_SERIES]; /* "name{labels}" of every sample */
	int nseen;
	/* the histogram being read: its labels without le, the running bucket count */
	char hist_labels[2048];
	int hist_family;
	double hist_last;
	bool hist_inf;
};

static bool prom_name(const char **p, bool colon)
{
	const char *s = *p;
	while ((**p >= 'a' && **p <= 'z') || (**p >= 'A' && **p <= 'Z') || **p == '_' ||
	       (colon && **p == ':') || (*p > s && **p >= '0' && **p <= '9'))
		(*p)++;
	return *p > s;
}

static int prom_family_of(struct prom_state *st, const char *name, size_t n)
{
	for (int i = 0; i < st->nfam; i++)
		if (strlen(st->fam[i].name) == n && !memcmp(st->fam[i].name, name, n))
			return i;
	return -1;
}

static bool prom_float(const char *s, const char *end, double *v)
{
	char buf[64], *e;
	size_t n = (size_t)(end - s);
	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (!strcmp(buf, "+Inf") || !strcmp(buf, "-Inf") || !strcmp(buf, "NaN")) {
		*v = buf[0] == 'N' ? NAN : buf[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	/* Go's ParseFloat: decimal digits, a point, an exponent; no hex floats here */
	if (strpbrk(buf, "xXpP") || !strchr("+-.0123456789", buf[0]))
		return false;
	*v = strtod(buf, &e);
	return !*e;
}

static void prom_free(struct prom_state *st)
{
	for (int i = 0; i < st->nseen; i++)
		free(st->seen[i]);
}

static const char *prom_line(struct prom_state *st, const char *line, size_t n)
{
	char tmp[8192];
	if (n >= sizeof(tmp))
		return "line too long to check";
	memcpy(tmp, line, n);
	tmp[n] = '\0';
	if (strlen(tmp) != n)
		return "NUL byte";
	if (!utf8_clean(tmp, n, ""))
		return "invalid UTF-8 or a control byte";
	const char *p = tmp;
	if (*p == '#') {
		bool help = !strncmp(p, "# HELP ", 7), type = !strncmp(p, "# TYPE ", 7);
		if (!help && !type)
			return NULL; /* a comment */
		p += 7;
		const char *name = p;
		if (!prom_name(&p, true) || *p != ' ')
			return "HELP/TYPE: bad metric name";
		int f = prom_family_of(st, name, (size_t)(p - name));
		if (f < 0) {
			if (st->nfam == PROM_MAX_FAMILIES || (size_t)(p - name) >= 96)
				return "too many families";
			f = st->nfam++;
			memcpy(st->fam[f].name, name, (size_t)(p - name));
		}
		struct prom_family *fm = &st->fam[f];
		if (fm->samples)
			return "HELP/TYPE after the family's samples";
		if (help) {
			if (fm->help)
				return "HELP twice";
			fm->help = true;
			return NULL;
		}
		p++;
		if (fm->type[0])
			return "TYPE twice";
		if (strcmp(p, "counter") && strcmp(p, "gauge") && strcmp(p, "histogram") &&
		    strcmp(p, "summary") && strcmp(p, "untyped"))
			return "unknown TYPE";
		snprintf(fm->type, sizeof(fm->type), "%s", p);
		st->cur = f;
		return NULL;
	}
	const char *name = p;
	if (!prom_name(&p, true))
		return "bad metric name";
	size_t nl = (size_t)(p - name);
	/* the family: the name itself, or a histogram's with its suffix */
	int f = prom_family_of(st, name, nl);
	const char *suffix = "";
	static const char *const sfx[] = {"_bucket", "_sum", "_count"};
	for (int i = 0; f < 0 && i < 3; i++) {
		size_t sl = strlen(sfx[i]);
		if (nl > sl && !memcmp(name + nl - sl, sfx[i], sl)) {
			f = prom_family_of(st, name, nl - sl);
			if (f >= 0 && strcmp(st->fam[f].type, "histogram"))
				f = -1;
			suffix = sfx[i];
		}
	}
	if (f < 0)
		return "a sample with no TYPE before it";
	if (f != st->cur)
		return "a family's samples are not together";
	if (!st->fam[f].samples) {
		/* its samples are together: a series twice can only be within them */
		prom_free(st);
		st->nseen = 0;
	}
	st->fam[f].samples = true;
	char labels[2048] = "", le[64] = "";
	size_t ll = 0;
	char names[32][64];
	int nnames = 0;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			const char *ln = p;
			if (!prom_name(&p, false) || *p != '=' || p[1] != '"')
				return "bad label name";
			size_t lnl = (size_t)(p - ln);
			if (lnl >= 64 || nnames == 32)
				return "label name too long, or too many";
			for (int i = 0; i < nnames; i++)
				if (strlen(names[i]) == lnl && !memcmp(names[i], ln, lnl))
					return "a label twice";
			memcpy(names[nnames], ln, lnl);
			names[nnames++][lnl] = 0;
			bool is_le = lnl == 2 && !memcmp(ln, "le", 2);
			const char *vs = p += 2;
			for (; *p != '"'; p++) {
				if (!*p)
					return "unterminated label value";
				if (*p == '\\' && !strchr("\\\"n", *++p))
					return "bad escape in a label value";
				if (!*p)
					return "unterminated label value";
			}
			size_t vl = (size_t)(p - vs);
			if (is_le) {
				if (vl >= sizeof(le))
					return "le too long";
				memcpy(le, vs, vl);
				le[vl] = 0;
			} else {
				if (ll + (size_t)(p + 1 - ln) + 2 >= sizeof(labels))
					return "labels too long to check";
				ll += (size_t)snprintf(labels + ll, sizeof(labels) - ll, "%.*s,",
						       (int)(p + 1 - ln), ln);
			}
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return "no comma between labels";
		}
		p++;
	}
	if (*p != ' ')
		return "no space before the value";
	const char *vs = ++p, *ve = strchr(vs, ' ');
	ve = ve ? ve : vs + strlen(vs);
	double v;
	if (!prom_float(vs, ve, &v))
		return "bad value";
	if (*ve) {
		/* a timestamp: an integer */
		const char *t = ve + 1;
		if (*t == '-')
			t++;
		if (!*t || strspn(t, "0123456789") != strlen(t))
			return "bad timestamp";
	}
	if (!strcmp(st->fam[f].type, "counter") && !(v >= 0))
		return "a counter below zero";
	/* no sample twice: name and label set (le included) */
	if (st->nseen == PROM_MAX_SERIES)
		return "too many samples to check";
	char *key;
	if (asprintf(&key, "%.*s{%s}le=%s", (int)nl, name, labels, le) < 0)
		abort();
	for (int i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen[i], key)) {
			free(key);
			return "the same series twice";
		}
	st->seen[st->nseen++] = key;
	if (!strcmp(suffix, "_bucket")) {
		if (!le[0])
			return "a bucket without le";
		double bound;
		if (!prom_float(le, le + strlen(le), &bound))
			return "bad le";
		if (st->hist_family != f || strcmp(st->hist_labels, labels)) {
			st->hist_family = f;
			snprintf(st->hist_labels, sizeof(st->hist_labels), "%s", labels);
			st->hist_last = 0;
			st->hist_inf = false;
		}
		if (v < st->hist_last)
			return "buckets not cumulative";
		st->hist_last = v;
		st->hist_inf = isinf(bound) && bound > 0;
	} else if (!strcmp(suffix, "_count")) {
		if (st->hist_family != f || strcmp(st->hist_labels, labels) || !st->hist_inf ||
		    v != st->hist_last)
			return "_count is not the +Inf bucket";
	}
	return NULL;
}

/* The whole text: NULL, or what is wrong, with the line into where[0..len). */
static inline const char *prom_check(const char *text, size_t n, char *where, size_t len)
{
	struct prom_state *st = calloc(1, sizeof(*st));
	const char *err = NULL;
	st->cur = st->hist_family = -1;
	if (n && text[n - 1] != '\n')
		err = "no newline at the end";
	for (size_t i = 0; !err && i < n;) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t ln = (size_t)(nl - (text + i));
		err = prom_line(st, text + i, ln);
		if (err)
			snprintf(where, len, "%.*s", (int)ln, text + i);
		i += ln + 1;
	}
	prom_free(st);
	free(st);
	return err;
}

#endif
