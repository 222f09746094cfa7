// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap_event_format() on arbitrary events, laid out as decode.c fills
 * them (comm NUL-terminated in 16 bytes, addresses in 112, the cgroup path
 * up to PATH_MAX, NULL pointers where unknown), any byte in any string.
 * Every format: snprintf's contract (the length it needs; a truncated line
 * is a prefix), one line, UTF-8, no raw control byte. JSON: one object that
 * parses back, comm in it as it was where comm is UTF-8. CSV: the header's
 * count of RFC 4180 fields, pid and comm as they were.
 */
#include <inttypes.h>
#include <limits.h>
#include "fuzz.h"
#include "socktap.h"
#include "text_check.h"

struct in {
	const uint8_t *p;
	size_t n;
};

static void take(struct in *in, void *dst, size_t len)
{
	size_t k = len < in->n ? len : in->n;
	memset(dst, 0, len);
	memcpy(dst, in->p, k);
	in->p += k;
	in->n -= k;
}
#define TAKE(in, field) take(in, &(field), sizeof(field))

/* A C string of up to max-1 bytes: a length byte, then the bytes (a NUL in them ends it). */
static void take_str(struct in *in, char *dst, size_t max)
{
	uint8_t len = 0;
	TAKE(in, len);
	take(in, dst, len % max);
	dst[max - 1] = '\0';
}

static bool all_controls_ok(const char *s)
{
	/* every C0 byte and DEL allowed: JSON escapes them, so they come back */
	static char allow[33];
	if (!allow[0])
		for (int c = 1; c < 32; c++)
			allow[c - 1] = (char)c;
	allow[31] = 0x7f;
	return utf8_clean(s, strlen(s), allow);
}

static void check_json(const struct socktap_event *ev, const char *line, size_t n)
{
	FUZZ_CHECK(json_is_object(line, n), "not one JSON object: %s", line);
	const char *c = strstr(line, ",\"comm\":");
	FUZZ_CHECK(c, "no comm: %s", line);
	struct json j = {c + 8, line + n, 0};
	char comm[256];
	size_t len;
	FUZZ_CHECK(json_string(&j, comm, sizeof(comm), &len), "comm: %s", line);
	if (all_controls_ok(ev->comm))
		FUZZ_CHECK(len == strlen(ev->comm) && memcmp(comm, ev->comm, len) == 0,
			   "comm does not read back: %s", line);
}

static void check_csv(const struct socktap_event *ev, const char *line, size_t n)
{
	static char(*f)[256], (*h)[256];
	static int header_fields;
	if (!f) {
		f = malloc(64 * sizeof(*f));
		h = malloc(64 * sizeof(*h));
		const char *hd = socktap_csv_header();
		header_fields = csv_fields(hd, strlen(hd), h, 64);
		FUZZ_CHECK(header_fields > 20, "header: %s", hd);
	}
	int nf = csv_fields(line, n, f, 64);
	FUZZ_CHECK(nf == header_fields, "%d fields, the header has %d: %s", nf, header_fields,
		   line);
	char pid[16];
	snprintf(pid, sizeof(pid), "%" PRIu32, ev->pid);
	FUZZ_CHECK(strcmp(f[0], ev->name) == 0 && strcmp(f[2], pid) == 0, "probe, pid: %s", line);
	/* comm as it was, where nothing in it needs \xNN */
	if (utf8_clean(ev->comm, strlen(ev->comm), "") && !strchr(ev->comm, '\\'))
		FUZZ_CHECK(strcmp(f[5], ev->comm) == 0, "comm '%s' read back as '%s'", ev->comm,
			   f[5]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	struct socktap_event ev;
	uint8_t probe, ptrs, cut;
	uint16_t cglen;
	char container[65];

	TAKE(&in, probe);
	memset(&ev, 0, sizeof(ev));
	ev.probe = (enum socktap_probe_id)(probe % SOCKTAP_PROBE__COUNT);
	ev.name = socktap_probe_get(ev.probe)->name;
	TAKE(&in, ev.ts);
	TAKE(&in, ev.pid);
	TAKE(&in, ev.tid);
	TAKE(&in, ev.uid);
	TAKE(&in, ev.cpu);
	TAKE(&in, ev.sock);
	TAKE(&in, ev.fd);
	TAKE(&in, ev.known);
	TAKE(&in, ev.size);
	TAKE(&in, ev.success);
	TAKE(&in, ev.protocol);
	TAKE(&in, ev.family);
	TAKE(&in, ev.state);
	TAKE(&in, ev.type);
	TAKE(&in, ev.flags);
	TAKE(&in, ev.requester);
	TAKE(&in, ev.err);
	TAKE(&in, ev.lport);
	TAKE(&in, ev.rport);
	TAKE(&in, ev.cgroup_id);
	TAKE(&in, ev.nspid);
	TAKE(&in, cut);
	TAKE(&in, ptrs);
	take_str(&in, ev.comm, sizeof(ev.comm));
	take_str(&in, ev.laddr, sizeof(ev.laddr));
	take_str(&in, ev.raddr, sizeof(ev.raddr));
	take_str(&in, container, sizeof(container));
	ev.container = ptrs & 1 ? container : NULL;
	/* the cgroup path: the rest of the input, repeated to a length below PATH_MAX */
	TAKE(&in, cglen);
	char *cgroup = NULL;
	if (ptrs & 2) {
		size_t len = in.n ? cglen % PATH_MAX : 0;
		cgroup = malloc(len + 1);
		for (size_t i = 0; i < len; i++)
			cgroup[i] = (char)in.p[i % in.n];
		cgroup[len] = '\0';
		ev.cgroup = cgroup;
	}

	for (int fmt = SOCKTAP_FORMAT_TEXT; fmt <= SOCKTAP_FORMAT_CSV; fmt++) {
		int n = socktap_event_format(&ev, fmt, NULL, 0);
		FUZZ_CHECK(n > 0, "format %d: %d", fmt, n);
		char *line = malloc((size_t)n + 1), *part = malloc((size_t)n + 1);
		FUZZ_CHECK(socktap_event_format(&ev, fmt, line, (size_t)n + 1) == n &&
			       strlen(line) == (size_t)n,
			   "format %d: not the length it said (%d)", fmt, n);
		/* truncated: the first len-1 bytes of the line, and a NUL */
		size_t len = cut % (n + 1) + 1;
		FUZZ_CHECK(socktap_event_format(&ev, fmt, part, len) == n &&
			       strlen(part) == len - 1 && memcmp(part, line, len - 1) == 0,
			   "format %d: cut at %zu is not a prefix", fmt, len);
		FUZZ_CHECK(memchr(line, '\n', (size_t)n) == line + n - 1, "format %d: not one line",
			   fmt);
		FUZZ_CHECK(utf8_clean(line, (size_t)n - 1, ""),
			   "format %d: invalid UTF-8 or a control byte: %s", fmt, line);
		if (fmt == SOCKTAP_FORMAT_JSON)
			check_json(&ev, line, (size_t)n);
		if (fmt == SOCKTAP_FORMAT_CSV)
			check_csv(&ev, line, (size_t)n);
		free(line);
		free(part);
	}
	free(cgroup);
	return 0;
}
