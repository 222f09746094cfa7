// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The capture reader (socktap convert) on any bytes: it never crashes, and
 * stops at the first bad byte with a message naming the file and an offset.
 * The first input byte picks what follows it: odd, a whole file; even,
 * records after a valid header (so that the fuzzer spends its time on
 * records). Every event read is formatted in all three formats (it must be
 * an event socktap_event_format() takes), and encoded again it is the
 * record it came from, byte for byte: the reader takes exactly what the
 * writer writes.
 */
#include "fuzz.h"
#include "capture.h"
#include "cli.h"
#include "text_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int csv_columns(void)
{
	int n = 1;
	for (const char *h = socktap_csv_header(); *h; h++)
		n += *h == ',';
	return n;
}

static char cells[64][256];
static uint8_t header[4096];
static size_t header_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_byte(&data, &size);
	if (!header_len) {
		FILE *m = fmemopen(header, sizeof(header), "wb");
		FUZZ_CHECK(m && capture_header_write(m) == 0, "header");
		header_len = (size_t)ftell(m);
		fclose(m);
	}
	size_t pre = sel & 1 ? 0 : header_len, total = pre + size;
	/* heap, exact size: ASan sees a read past the end */
	uint8_t *buf = malloc(total + 1);
	FUZZ_CHECK(buf, "malloc");
	memcpy(buf, header, pre);
	memcpy(buf + pre, data, size);
	FILE *f = total ? fmemopen(buf, total, "rb") : fopen("/dev/null", "rb");
	FUZZ_CHECK(f, "fmemopen");
	struct capture_reader *r = calloc(1, sizeof(*r));
	FUZZ_CHECK(r, "calloc");
	static char line[1 << 18];
	static uint8_t rec[CAPTURE_MAX_RECORD + 4];
	if (capture_open(r, f, "fuzz.cap") == 0) {
		FUZZ_CHECK(!pre || r->off == header_len, "valid header read to %llu",
			   (unsigned long long)r->off);
		struct socktap_event ev;
		int got;
		uint64_t off = r->off;
		while ((got = capture_next(r, &ev)) == 1) {
			FUZZ_CHECK(r->off == off + 4 + r->body_len && r->off <= total,
				   "offset %llu after a record of %u at %llu",
				   (unsigned long long)r->off, r->body_len,
				   (unsigned long long)off);
			off = r->off;
			for (int fmt = SOCKTAP_FORMAT_TEXT; fmt <= SOCKTAP_FORMAT_CSV; fmt++) {
				int n = socktap_event_format(&ev, fmt, line, sizeof(line));
				FUZZ_CHECK(n > 0 && (size_t)n < sizeof(line), "format %d: %d", fmt,
					   n);
				if (fmt == SOCKTAP_FORMAT_JSON)
					FUZZ_CHECK(json_is_object(line, (size_t)n - 1),
						   "not one JSON object: %s", line);
				if (fmt == SOCKTAP_FORMAT_CSV)
					FUZZ_CHECK(csv_fields(line, (size_t)n, cells, 64) ==
						       csv_columns(),
						   "not the header's columns: %s", line);
			}
			/* the same table as ours (a valid header's): the same bytes back */
			if (pre && r->ids[r->file_probe] == (int)r->file_probe) {
				size_t n = capture_encode(&ev, rec, sizeof(rec));
				FUZZ_CHECK(n == 4 + r->body_len && n <= sizeof(rec) &&
					       memcmp(rec + 4, r->body, r->body_len) == 0,
					   "record at %llu encodes back differently",
					   (unsigned long long)off - 4 - r->body_len);
			}
		}
		FUZZ_CHECK(got == 0 || (got == -1 && strstr(r->msg, "fuzz.cap: ")), "next: %d %s",
			   got, r->msg);
		/* a clean end is the end of the bytes */
		FUZZ_CHECK(got != 0 || r->off == total, "clean end at %llu of %zu",
			   (unsigned long long)r->off, total);
	} else {
		FUZZ_CHECK(strstr(r->msg, "fuzz.cap: "), "open: %s", r->msg);
	}
	capture_close(r);
	free(r);
	fclose(f);
	free(buf);
	return 0;
}
