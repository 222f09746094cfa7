// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktap serve's exposition (src/cli/series.c): snapshots built from the
 * input (any bytes in comm, cgroup, container, device and user names; any
 * label set; a small --max-series, pid expiry) folded twice, then written.
 * Every line must read as Prometheus's text format (prom_check.h). With
 * SOCKTAP_FUZZ_PROMTOOL set (make fuzz, when build/prometheus/promtool is
 * there), one input in 256, chosen by its bytes, also goes through
 * `promtool check metrics`.
 */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fuzz.h"
#include "prom_check.h"
#include "series.h"

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
#define TAKE(in, v) take(in, &(v), sizeof(v))

static uint8_t take8(struct in *in)
{
	uint8_t b;
	TAKE(in, b);
	return b;
}

/* A string (length byte, bytes) kept in a pool that lives as long as the input; or NULL. */
static char pool[8][256];
static int npool;
static const char *take_str(struct in *in)
{
	uint8_t len = take8(in);
	if (len == 0xff || npool == 8)
		return NULL;
	char *s = pool[npool++];
	take(in, s, len);
	s[len] = '\0';
	return s;
}

static const char *users[4];
static const char *user_of(uint32_t uid)
{
	return users[uid % 4];
}

static const char *promtool;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	promtool = getenv("SOCKTAP_FUZZ_PROMTOOL");
	if (promtool && !*promtool)
		promtool = NULL;
	return 0;
}

static void run_promtool(const char *text, size_t n)
{
	char path[] = "/tmp/socktap-fuzz-prom-XXXXXX";
	int fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0, "mkstemp");
	FUZZ_CHECK(write(fd, text, n) == (ssize_t)n, "write");
	lseek(fd, 0, SEEK_SET);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd, 0);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execl(promtool, "promtool", "check", "metrics", (char *)NULL);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	close(fd);
	/* promtool's lint problems exit 3 (it does not like our _total-less gauges): errors are 1
	 */
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) != 1 && WEXITSTATUS(status) != 127;
	if (ok)
		unlink(path);
	FUZZ_CHECK(ok, "promtool check metrics failed (status %#x) on %s", status, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	uint16_t labels;
	TAKE(&in, labels);
	size_t max_series = take8(&in) % 8;
	struct series_store *s =
	    series_new(labels & ((1u << SL__COUNT) - 1), max_series, (uint64_t)(take8(&in) % 4));
	npool = 0;
	for (int i = 0; i < 4; i++)
		users[i] = take_str(&in);
	struct serve_self self = {.version = take_str(&in) ?: "", .send_mechanism = take_str(&in)};
	uint8_t flags = take8(&in);
	self.durations = flags & 1, self.sizes = flags & 2, self.lifecycle = flags & 4;
	self.scrape_seconds = take8(&in) / 1000.0;

	for (int round = 0; round < 2; round++) {
		struct socktap_series_row rows[6];
		struct socktap_series_hist hists[3];
		struct socktap_dev_row devs[3];
		struct socktap_snapshot snap = {.series = rows, .shists = hists, .devs = devs};
		snap.nseries = take8(&in) % 7;
		for (size_t i = 0; i < snap.nseries; i++) {
			struct socktap_series_row *r = &rows[i];
			memset(r, 0, sizeof(*r));
			r->pid = take8(&in) % 4, r->uid = take8(&in);
			take(&in, r->comm,
			     sizeof(r->comm) - 1); /* NUL-terminated, as the kernel's */
			r->protocol = take8(&in), r->family = take8(&in) % 48,
			r->type = take8(&in) % 12, r->err = take8(&in) % 4 ? 0 : take8(&in);
			TAKE(&in, r->cgroup_id);
			r->cgroup = take_str(&in), r->container = take_str(&in);
			r->sends = take8(&in), r->recvs = take8(&in), r->send_bytes = take8(&in);
			r->recv_bytes = take8(&in), r->send_errors = take8(&in) % 3;
			r->recv_errors = take8(&in) % 3, r->send_ns = take8(&in) * 1000u;
			r->recv_ns = take8(&in), r->creates = take8(&in) % 3,
			r->closes = take8(&in) % 3;
			uint8_t slot = take8(&in);
			r->size_slots[slot & 1][(slot >> 1) % SOCKTAP_SIZE_SLOTS] = take8(&in);
		}
		/* rows beyond nseries a histogram may name: no row has their keys */
		for (size_t i = snap.nseries; i < 6; i++)
			memset(&rows[i], 0xff, sizeof(rows[i]));
		snap.nshists = take8(&in) % 4;
		for (size_t i = 0; i < snap.nshists; i++) {
			struct socktap_series_hist *h = &hists[i];
			const struct socktap_series_row *r = &rows[take8(&in) % 6];
			memset(h, 0, sizeof(*h));
			/* a histogram of a row of this snapshot, or of none */
			h->pid = r->pid, h->protocol = r->protocol, h->family = r->family;
			h->type = r->type, h->cgroup_id = r->cgroup_id;
			h->kind = take8(&in) & 1 ? SOCKTAP_HIST_LATENCY : SOCKTAP_HIST_SIZE;
			h->recv = take8(&in) & 1;
			uint8_t slot = take8(&in) % SOCKTAP_SERIES_SLOTS;
			h->slots[slot] = h->count = take8(&in);
		}
		snap.ndevs = take8(&in) % 4;
		for (size_t i = 0; i < snap.ndevs; i++) {
			memset(&devs[i], 0, sizeof(devs[i]));
			take(&in, devs[i].name, sizeof(devs[i].name) - 1);
			devs[i].xmits = take8(&in), devs[i].recv_bytes = take8(&in);
		}
		FUZZ_CHECK(series_fold(s, &snap, (uint64_t)round * 3, user_of) == 0, "fold");
	}

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_CHECK(f && series_write(s, f, &self) == 0, "series_write");
	fclose(f);
	char where[256];
	const char *err = prom_check(text, len, where, sizeof(where));
	FUZZ_CHECK(!err, "%s: %s", err, where);
	if (promtool) {
		uint32_t h = 2166136261u;
		for (size_t i = 0; i < size; i++)
			h = (h ^ data[i]) * 16777619u;
		if (h % 256 == 0)
			run_promtool(text, len);
	}
	free(text);
	series_free(s);
	return 0;
}
