// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The output formatter's cost per event, against json-c (Debian's
 * libjson-c-dev) building and printing the same object: the reason
 * format.c writes JSON by hand. Run by `make bench`; with valgrind
 * --tool=callgrind it gives repeatable instruction counts.
 *
 *   format_bench [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "socktap.h"
#ifdef HAVE_JSONC
#include <json-c/json.h>
#endif

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static struct socktap_event sample(void)
{
	struct socktap_event ev = {
	    .probe = SOCKTAP_PROBE_SEND,
	    .name = socktap_probe_get(SOCKTAP_PROBE_SEND)->name,
	    .ts = 1795717109076553878ULL,
	    .pid = 17812,
	    .tid = 17813,
	    .uid = 1000,
	    .comm = "workload",
	    .cpu = 1,
	    .sock = 5049,
	    .fd = 3,
	    .known = socktap_probe_get(SOCKTAP_PROBE_SEND)->values,
	    .size = 64,
	    .success = 1,
	    .protocol = 17,
	    .family = 2,
	    .state = 3,
	    .flags = 8,
	    .type = 2,
	};
	return ev;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct socktap_event ev = sample();
	char buf[1024];
	size_t total = 0;
	static const char *const names[] = {"text", "json", "csv"};

	for (int f = 0; f < 3; f++) {
		double t0 = now();
		for (long i = 0; i < n; i++) {
			ev.ts++;
			total += (size_t)socktap_event_format(&ev, f, buf, sizeof(buf));
		}
		printf("socktap %-5s %6.0f ns/event\n", names[f], (now() - t0) * 1e9 / n);
	}
#ifdef HAVE_JSONC
	double t0 = now();
	for (long i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "probe", json_object_new_string(ev.name));
		json_object_object_add(o, "ts", json_object_new_uint64(++ev.ts));
		json_object_object_add(o, "pid", json_object_new_int(ev.pid));
		json_object_object_add(o, "tid", json_object_new_int(ev.tid));
		json_object_object_add(o, "uid", json_object_new_int(ev.uid));
		json_object_object_add(o, "comm", json_object_new_string(ev.comm));
		json_object_object_add(o, "cpu", json_object_new_int(ev.cpu));
		json_object_object_add(o, "sock", json_object_new_uint64(ev.sock));
		json_object_object_add(o, "fd", json_object_new_int(ev.fd));
		json_object_object_add(o, "name", json_object_new_string(ev.name));
		json_object_object_add(o, "size", json_object_new_int64(ev.size));
		json_object_object_add(o, "success", json_object_new_int(ev.success));
		json_object_object_add(o, "protocol", json_object_new_int(ev.protocol));
		json_object_object_add(o, "family", json_object_new_int(ev.family));
		json_object_object_add(o, "state", json_object_new_int(ev.state));
		json_object_object_add(o, "flags", json_object_new_uint64(ev.flags));
		json_object_object_add(o, "type", json_object_new_int(ev.type));
		total += strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	printf("json-c  json  %6.0f ns/event\n", (now() - t0) * 1e9 / n);
#endif
	return total == 0;
}
