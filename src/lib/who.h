/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Who and where: the kernel's addresses as text, and the address filters' words. */
#ifndef SOCKTAP_WHO_H
#define SOCKTAP_WHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "socktap_abi.h"

/* One end's address as text ("127.0.0.1", "::1"), "" for family 0; out has >= 46 bytes. */
void st_inet_text(uint8_t family, const uint8_t addr[16], char *out, size_t len);
/*
 * A unix address (len bytes of sun_path) as text: a path up to its first
 * NUL, an abstract name (first byte NUL) as "@" and the name with each NUL
 * byte as '@'; "" for len 0. out has >= ST_UNIX_PATH + 1 bytes.
 */
void st_unix_text(const char *path, size_t len, char *out, size_t outlen);
/*
 * "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6) as a 128-bit prefix: IPv4 as
 * ::ffff:a.b.c.d with prefix + 96, the way the kernel side matches both
 * families in one trie. false for anything else.
 */
bool st_prefix_parse(const char *s, uint8_t addr[16], unsigned int *prefixlen);

#endif
