// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <ctype.h>
#include <string.h>
#include "util.h"

static inline int min3(int a, int b, int c)
{
	int m = a < b ? a : b;
	return m < c ? m : c;
}

int st_edit_distance(const char *a, const char *b, bool ignore_case)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[64][64];
	if (la > 63 || lb > 63)
		return 1000;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = (unsigned char)a[i - 1], cb = (unsigned char)b[j - 1];
			if (ignore_case) {
				ca = toupper(ca);
				cb = toupper(cb);
			}
			d[i][j] =
			    min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ca != cb));
			if (i > 1 && j > 1) {
				int pa = (unsigned char)a[i - 2], pb = (unsigned char)b[j - 2];
				if (ignore_case) {
					pa = toupper(pa);
					pb = toupper(pb);
				}
				if (ca == pb && pa == cb && d[i - 2][j - 2] + 1 < d[i][j])
					d[i][j] = d[i - 2][j - 2] + 1;
			}
		}
	}
	return d[la][lb];
}
