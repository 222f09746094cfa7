/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Internal helpers shared by the library and the CLI. */
#ifndef SOCKTAP_UTIL_H
#define SOCKTAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* s (at most max bytes) as a JSON string: escaped, invalid UTF-8 as U+FFFD. */
void st_json_fputs(FILE *f, const char *s, size_t max);

/* s as text for a terminal: control bytes and invalid UTF-8 as \\xNN, UTF-8 kept. */
void st_safe_fputs(FILE *f, const char *s, size_t max);

/*
 * s (at most max bytes) as trace's text shows a name: printable ASCII as it
 * is, anything else as \xNN, so that it is one fixed-width cell; into buf
 * (len bytes, whole escapes only, NUL-terminated). Returns buf.
 */
const char *st_text_str(const char *s, size_t max, char *buf, size_t len);

/*
 * Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, so "TPC" is one step from "TCP"); words longer than 63
 * bytes are "far" (1000).
 */
/*
 * s (at most max bytes) as the exposition shows it, before escaping: what it would
 * show as U+FFFD is U+FFFD. Into out (cap > 0 bytes, NUL-terminated, no
 * sequence cut); returns the length. Values alike in the exposition are
 * alike here, so that keys made of them never give a label set twice.
 */
size_t st_prom_label_clean(char *out, size_t cap, const char *s, size_t max);

int st_edit_distance(const char *a, const char *b, bool ignore_case);

#endif
