/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): an oracle that
 * aborts (so libFuzzer reports the input), NUL-terminated copies of the
 * input (heap-allocated, so ASan sees a read past their end), and quiet
 * stdio for code that prints messages.
 */
#ifndef SOCKTAP_FUZZ_H
#define SOCKTAP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(fuzz_stderr(), "%s:%d: check failed: %s: ", __FILE__, __LINE__,    \
				#cond);                                                            \
			fprintf(fuzz_stderr(), __VA_ARGS__);                                       \
			fputc('\n', fuzz_stderr());                                                \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The real stderr, even after fuzz_quiet(). */
static inline FILE *fuzz_stderr(void)
{
	static FILE *f;
	if (!f && (f = fdopen(2, "w")))
		setvbuf(f, NULL, _IONBF, 0); /* abort() flushes nothing */
	return f ? f : stderr;
}

/*
 * The code under test reports bad input on stdout/stderr: thousands of lines
 * a second would be most of the cost. Only the stdio streams are replaced;
 * fd 2 stays, for the sanitizers' and libFuzzer's reports.
 */
static inline void fuzz_quiet(void)
{
	fuzz_stderr();
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		stdout = null;
		stderr = null;
	}
}

/* data[0..size) as a C string (a NUL inside ends it early). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Consume the first byte of the input (0 when none is left). */
static inline uint8_t fuzz_byte(const uint8_t **data, size_t *size)
{
	if (!*size)
		return 0;
	(*size)--;
	return *(*data)++;
}

/*
 * Split into at most max NUL-separated strings, each its own allocation (a
 * read past one's end is ASan's to see); returns how many. fuzz_free_n frees.
 */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; n < max && i <= size; n++) {
		const uint8_t *nul = memchr(data + i, 0, size - i);
		size_t len = nul ? (size_t)(nul - (data + i)) : size - i;
		out[n] = fuzz_strndup(data + i, len);
		i += len + 1;
	}
	return n;
}

static inline void fuzz_free_n(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

#endif
