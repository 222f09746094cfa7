// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The helpers' name tables: every sock_*_str2num() on arbitrary text, and
 * the num2str() of what it returns; num2str() on arbitrary numbers; the flag
 * strings into buffers of every small size.
 */
#include "fuzz.h"
#include "socktap.h"

struct helper {
	const char *what;
	long (*str2num)(const char *);
	const char *(*num2str)(long);
};

static const struct helper helpers[] = {
    {"prot", sock_prot_str2num, sock_prot_num2str},
    {"fam", sock_fam_str2num, sock_fam_num2str},
    {"state", sock_state_str2num, sock_state_num2str},
    {"type", sock_type_str2num, sock_type_num2str},
};

/* A flag string: NUL-terminated inside len, and a prefix of the one an ample buffer gets. */
static void check_flags(const char *(*fn)(unsigned long, char *, size_t), unsigned long flags,
			size_t len)
{
	char full[2048], *buf = malloc(len ? len : 1);
	FUZZ_CHECK(fn(flags, full, sizeof(full)) == full, "returns its buffer");
	FUZZ_CHECK(strlen(full) < sizeof(full) - 1, "flags %#lx fill %zu bytes", flags,
		   sizeof(full));
	FUZZ_CHECK(fn(flags, buf, len) == buf, "returns its buffer");
	if (len) {
		size_t n = strnlen(buf, len);
		FUZZ_CHECK(n < len, "no NUL within %zu bytes", len);
		FUZZ_CHECK(strncmp(buf, full, n) == 0 &&
			       n == (strlen(full) < len - 1 ? strlen(full) : len - 1),
			   "'%s' is not the first %zu bytes of '%s'", buf, len - 1, full);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		const struct helper *h = &helpers[i];
		long v = h->str2num(s);
		FUZZ_CHECK(v >= -1, "sock_%s_str2num: %ld", h->what, v);
		if (v < 0)
			continue;
		/* a name (or alias) maps to a number the table names, and that name maps back */
		const char *name = h->num2str(v);
		FUZZ_CHECK(strcmp(name, "UNDEF") != 0, "sock_%s_str2num('%s') = %ld, unnamed",
			   h->what, s, v);
		FUZZ_CHECK(h->str2num(name) == v, "sock_%s: '%s' -> %ld -> '%s' -> %ld", h->what, s,
			   v, name, h->str2num(name));
	}
	/* the same bytes as numbers */
	long num = 0;
	unsigned long flags = 0;
	memcpy(&num, data, size < sizeof(num) ? size : sizeof(num));
	memcpy(&flags, data, size < sizeof(flags) ? size : sizeof(flags));
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		const struct helper *h = &helpers[i];
		/* as is, and folded to where the tables' numbers are */
		for (long k = 0, n = num; k < 2; k++, n = num % 512) {
			const char *name = h->num2str(n);
			FUZZ_CHECK(name != NULL, "sock_%s_num2str(%ld)", h->what, n);
			if (strcmp(name, "UNDEF") != 0)
				FUZZ_CHECK(h->str2num(name) == n, "sock_%s: %ld -> '%s' -> %ld",
					   h->what, n, name, h->str2num(name));
		}
	}
	size_t len = size ? data[size - 1] % 80 : 0;
	check_flags(sock_flags_num2str, flags, len);
	check_flags(msg_flags_num2str, flags, len);
	free(s);
	return 0;
}
