// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * socktop: a drop-in for SystemTap's socktop example, on socktap's
 * in-kernel counts. Same options, defaults, messages and table; the
 * loop is socktap top's (top.c).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "top.h"

/* socktop's own text, less -m (there is no module to generate) */
static void usage(void)
{
	printf("USAGE: socktop [-d] [-i interval] [-N num] [-P protocol]... [-f family]...\n"
	       "               [-t stype]... [-n pname]... [-p pid]... [-u username]... [-h]\n"
	       "    -d           # print network device traffic (default: off)\n"
	       "    -i interval  # interval in seconds between printing (default: 5)\n"
	       "    -N num       # number of top processes and devices to print (default: 10)\n"
	       "    -f family    # this protocol family only (default: all)\n"
	       "    -P protocol  # this protocol only (default: all)\n"
	       "    -t stype     # this socket type only (default: all)\n"
	       "    -n pname     # this process name only (default: all)\n"
	       "    -p pid       # this process ID only (default: all)\n"
	       "    -u username  # this user only (default: all)\n"
	       "    -c count     # number of iteration\n"
	       "    -h           # print this help text\n"
	       "\n"
	       "Protocol Families:\n"
	       "    LOCAL, INET, INET6, IPX, NETLINK, X25, AX25, ATMPVC, APPLETALK, PACKET\n"
	       "\n"
	       "Protocols:\n"
	       "    TCP, UDP, SCTP, IP, FC, ... (see /etc/protocols for complete list)\n"
	       "\n"
	       "Socket Types:\n"
	       "    STREAM, DGRAM, RAW, RDM, SEQPACKET, DCCP, PACKET\n");
}

/* socktop's wording for a bad filter value */
static const char *filter_what(int opt)
{
	switch (opt) {
	case 'P':
		return "Unknown protocol";
	case 'f':
		return "Unknown protocol family";
	case 't':
		return "Unknown socket type";
	case 'u':
		return "Unknown user";
	case 'p':
		return "Invalid process ID";
	default:
		return "Invalid process name";
	}
}

int socktop_parse(int argc, char **argv, struct top_config *cfg)
{
	*cfg = (struct top_config){
	    .view = {.layout = TOP_LAYOUT_SOCKTOP, .sort = TOP_SORT_BYTES, .rows = 10},
	    .interval = 5,
	    .fmt = SOCKTAP_FORMAT_TEXT,
	    .flt = {.quiet = true},
	};
	int c, errors = 0;
	bool told_full = false;
	long v;

	optind = 0; /* glibc's full reset: a previous parse may have stopped mid-argument */
	opterr = 0;
	/* like socktop (bash getopts): every bad value is reported, then exit 1 */
	while ((c = getopt(argc, argv, ":df:i:n:N:P:p:t:u:c:h")) != -1) {
		int f = filters_parse(&cfg->flt, c, optarg);
		if (f < 0 && cfg->flt.full) {
			/* past the kernel's bound: said once, not once per value left */
			if (!told_full)
				printf("ERROR: Too many values for -%c: at most %zu\n", c,
				       cfg->flt.full);
			told_full = true;
			cfg->flt.full = 0;
			errors++;
			continue;
		}
		if (f < 0) {
			printf("ERROR: %s: %s\n", filter_what(c), optarg);
			errors++;
			continue;
		}
		if (f > 0)
			continue;
		v = 0;
		switch (c) {
		case 'd':
			cfg->view.devices = true;
			break;
		case 'i':
			if (!parse_decimal(optarg, TOP_MIN_INTERVAL, 1e6, &cfg->interval)) {
				printf("ERROR: Invalid interval: %s\n", optarg);
				errors++;
			}
			break;
		case 'N':
			if (!parse_long(optarg, 0, INT_MAX, &v)) {
				printf("ERROR: Invalid number: %s\n", optarg);
				errors++;
			}
			cfg->view.rows = (size_t)v;
			break;
		case 'c':
			/* socktop counts down to 0: zero or less never gets there */
			if (!parse_long(optarg, LONG_MIN, LONG_MAX, &v)) {
				printf("ERROR: Invalid count: %s\n", optarg);
				errors++;
			}
			cfg->count = v > 0 ? v : 0;
			break;
		case ':':
			fprintf(stderr, "socktop: option requires an argument -- %c\n", optopt);
			usage();
			return 1;
		case '?':
			fprintf(stderr, "socktop: illegal option -- %c\n", optopt);
			usage();
			return 1;
		case 'h':
		default:
			usage();
			return 1;
		}
	}
	/* socktop takes no operands: say so, in its own words, rather than ignore them */
	for (int i = optind; i < argc; i++) {
		printf("ERROR: Unexpected argument: %s\n", argv[i]);
		errors++;
	}
	return errors ? 1 : CLI_RUN;
}

int main(int argc, char **argv)
{
	struct top_config cfg;
	prog_name = "socktop";
	int rc = socktop_parse(argc, argv, &cfg);
	if (rc == CLI_RUN)
		rc = top_run(&cfg);
	filters_free(&cfg.flt);
	return rc;
}
