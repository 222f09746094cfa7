// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* socktap: SystemTap's socket tapset on eBPF. One table of subcommands, like bpftool. */
#include <errno.h>
#include <string.h>
#include "cli.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct cmd cmds[] = {
    {"list", cmd_list, "list [PATTERN...] [-v]    probe points and their values"},
    {"trace", cmd_trace, "trace [PATTERN...] [OPTIONS] trace probe points (default: all)"},
    {"convert", cmd_convert, "convert FILE [OPTIONS]    a trace -w capture as text, JSON or CSV"},
    {"top", cmd_top, "top [OPTIONS]             socket traffic per process, every interval"},
    {"serve", cmd_serve, "serve [OPTIONS]           a Prometheus exporter of the same counts"},
    {"help", cmd_help, "help                      this text"},
    {"version", cmd_version, "version                   socktap's version"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: socktap [-j] COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  socktap %s\n", cmds[i].summary);
	fprintf(f, "\nOptions:\n  -j, --json     errors (and list) as JSON\n"
		   "  -h, --help     this text\n"
		   "  -V, --version  socktap's version\n"
		   "\nRun 'socktap COMMAND --help' for a command's options.\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("socktap %s\n", SOCKTAP_VERSION);
	return 0;
}

/*
 * What went to stdout is the command's result: a write error there (a full
 * disk, a closed pipe) is a failure, said once, unless the command already
 * failed and said why.
 */
static int finish(int rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	int e = errno ? errno : EIO;
	if (rc == 0) {
		cli_error("writing standard output: %s", strerror(e));
		rc = 1;
	}
	return rc;
}

static int dispatch(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0) {
			json_errors = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			return cmd_version(0, NULL);
		} else {
			cli_error("unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(argv[i], cmds[c].name) == 0)
			return cmds[c].fn(argc - i, argv + i);
	cli_error("unknown command '%s'; try 'socktap help'", argv[i]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	return finish(dispatch(argc, argv));
}
