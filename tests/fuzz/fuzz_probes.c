// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Probe patterns: socktap_pattern_match() against a plain recursive
 * matcher of the same rules (memoised, so bounded), on the probe table's
 * names and on a name from the input; lookups and suggestions on the
 * pattern as a word.
 */
#include <errno.h>
#include <stdbool.h>
#include "fuzz.h"
#include "socktap.h"

#define MAXP 128
#define MAXN 160

/* memo[i][j]: 0 unknown, 1 no, 2 yes (pattern from i matches name from j) */
static unsigned char memo[MAXP + 1][MAXN + 1];

/* '**' (any run of 2+ stars) matches anything; '*' anything without '.'; '?' one non-'.' */
static bool ref(const char *p, size_t i, const char *n, size_t j)
{
	if (memo[i][j])
		return memo[i][j] == 2;
	bool r;
	if (!p[i]) {
		r = !n[j];
	} else if (p[i] == '*') {
		size_t k = i;
		while (p[k] == '*')
			k++;
		bool cross = k - i >= 2;
		r = false;
		for (size_t m = j;; m++) {
			if (ref(p, k, n, m)) {
				r = true;
				break;
			}
			if (!n[m] || (!cross && n[m] == '.'))
				break;
		}
	} else if (!n[j]) {
		r = false;
	} else if (p[i] == '?') {
		r = n[j] != '.' && ref(p, i + 1, n, j + 1);
	} else {
		r = p[i] == n[j] && ref(p, i + 1, n, j + 1);
	}
	memo[i][j] = r ? 2 : 1;
	return r;
}

static bool ref_match(const char *p, const char *n)
{
	memset(memo, 0, (strlen(p) + 1) * sizeof(memo[0])); /* the rows this pattern uses */
	return ref(p, 0, n, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* pattern NUL name */
	const uint8_t *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	if (plen > MAXP || (nul && size - plen - 1 > MAXN))
		return -1; /* the reference's memo bounds the work */
	char *pat = fuzz_strndup(data, plen);
	char *name = nul ? fuzz_strndup(nul + 1, size - plen - 1) : NULL;

	if (name)
		FUZZ_CHECK(socktap_pattern_match(pat, name) == ref_match(pat, name),
			   "'%s' on '%s': library %d", pat, name, socktap_pattern_match(pat, name));
	uint64_t mask = 0;
	int n = socktap_pattern_select(pat, &mask);
	FUZZ_CHECK(n == __builtin_popcountll(mask), "select: %d matches, mask %#llx", n,
		   (unsigned long long)mask);
	for (int i = 0; i < SOCKTAP_PROBE__COUNT; i++) {
		const char *pn = socktap_probe_get(i)->name;
		FUZZ_CHECK(!!(mask >> i & 1) == ref_match(pat, pn), "'%s' on '%s'", pat, pn);
	}
	int id = socktap_probe_find(pat);
	FUZZ_CHECK(id < 0 ? id == -ENOENT : strcmp(socktap_probe_get(id)->name, pat) == 0,
		   "find '%s': %d", pat, id);
	const char *sug[4];
	int want = size ? data[0] % 5 : 0, k = socktap_probe_suggest(pat, sug, want);
	FUZZ_CHECK(k >= 0 && k <= want, "suggest %d of %d", k, want);
	for (int i = 0; i < k; i++)
		FUZZ_CHECK(socktap_probe_find(sug[i]) >= 0, "suggested '%s'", sug[i]);
	free(pat);
	free(name);
	return 0;
}
