// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The CLI's value parsing: filters_parse() for each filter option, the
 * input's NUL-separated strings as repeated values (duplicates and bounds);
 * parse_long() and parse_decimal() against what their comments promise.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include "fuzz.h"
#include "cli.h"
#include "socktap_abi.h"

static const int opts[] = {'p',	     'n',      'u', 'f', 'P', 't', 'B', OPT_SYSCALL_HOOKS,
			   OPT_ADDR, OPT_PORT, 'x' /* not a filter option */};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* "whole string, base 10, within [lo, hi]": digits, and a '-' only where lo < 0 */
static void check_long(const char *s, long lo, long hi)
{
	long v = 12345, want;
	bool ok = parse_long(s, lo, hi, &v);
	size_t sign = s[0] == '-' && lo < 0, digits = strspn(s + sign, "0123456789");
	bool shape = digits > 0 && !s[sign + digits];
	errno = 0;
	want = strtol(s, NULL, 10);
	bool expect = shape && errno != ERANGE && want >= lo && want <= hi;
	FUZZ_CHECK(ok == expect, "parse_long('%s', %ld, %ld) = %d", s, lo, hi, ok);
	FUZZ_CHECK(ok ? v == want : v == 12345, "parse_long('%s') = %ld", s, v);
}

/* "a plain decimal ("2", "0.5", ".5"), within [lo, hi]" */
static void check_decimal(const char *s, double lo, double hi)
{
	double v = -7;
	bool ok = parse_decimal(s, lo, hi, &v);
	size_t d = strspn(s, "0123456789"), f = s[d] == '.' ? strspn(s + d + 1, "0123456789") : 0;
	bool shape = d + f > 0 && !s[d + (s[d] == '.' ? 1 + f : 0)];
	double want = shape ? strtod(s, NULL) : 0;
	FUZZ_CHECK(ok == (shape && want >= lo && want <= hi), "parse_decimal('%s', %g, %g) = %d", s,
		   lo, hi, ok);
	FUZZ_CHECK(ok ? v == want && isfinite(v) : v == -7, "parse_decimal('%s') = %g", s, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int opt = opts[fuzz_byte(&data, &size) % NOPTS];
	bool quiet = fuzz_byte(&data, &size) & 1;
	char *v[16];
	size_t n = fuzz_split(data, size, v, 16);
	struct filters f = {.quiet = quiet};
	for (size_t i = 0; i < n; i++) {
		int r = filters_parse(&f, opt, v[i]);
		FUZZ_CHECK(opt == 'x' ? r == 0 : r == 1 || r == -1, "filters_parse(%#x, '%s') = %d",
			   opt, v[i], r);
		if (r < 0)
			continue;
		/* a value taken is in the set, once; the bounds hold */
		struct int_list *il = opt == 'p' ? &f.pids : opt == 'u' ? &f.uids : NULL;
		struct str_list *sl = opt == 'n' ? &f.comms : opt == OPT_ADDR ? &f.addrs : NULL;
		if (il)
			FUZZ_CHECK(il->n <= ST_FILTER_SET_MAX, "%zu values", il->n);
		if (sl) {
			FUZZ_CHECK(sl->n <= ST_FILTER_SET_MAX, "%zu values", sl->n);
			size_t same = 0;
			for (size_t k = 0; k < sl->n; k++)
				same += strcmp(sl->v[k], v[i]) == 0;
			FUZZ_CHECK(same == 1, "'%s' held %zu times", v[i], same);
		}
		if (opt == 'p') {
			long pid;
			FUZZ_CHECK(parse_long(v[i], 1, INT_MAX, &pid), "-p took '%s'", v[i]);
		}
		if (opt == 'B')
			FUZZ_CHECK(f.backend == v[i], "--backend '%s' not kept", v[i]);
		if (opt == OPT_PORT)
			FUZZ_CHECK(f.ports.v[f.ports.n - 1] >= 0 &&
				       f.ports.v[f.ports.n - 1] <= 65535,
				   "port %d", f.ports.v[f.ports.n - 1]);
		if (opt == 'f' || opt == 'P' || opt == 't') {
			struct int_list *l = opt == 'f'	  ? &f.families
					     : opt == 'P' ? &f.protocols
							  : &f.types;
			int last = l->v[l->n - 1], limit = opt == 'f' ? 64 : opt == 'P' ? 320 : 32;
			FUZZ_CHECK(last >= 0 && last < limit, "-%c '%s' -> %d", opt, v[i], last);
		}
	}
	filters_free(&f);

	/* the first string as a number, the bounds from the second's bytes */
	long b[2] = {LONG_MIN, LONG_MAX};
	if (n > 1)
		memcpy(b, v[1], strlen(v[1]) < sizeof(b) ? strlen(v[1]) : sizeof(b));
	if (n) {
		check_long(v[0], b[0] < b[1] ? b[0] : b[1], b[0] < b[1] ? b[1] : b[0]);
		check_long(v[0], 0, 65535);
		check_long(v[0], LONG_MIN, LONG_MAX);
		check_decimal(v[0], 0, 1e9);
		check_decimal(v[0], 0.1, 1e6);
	}
	fuzz_free_n(v, n);
	return 0;
}
