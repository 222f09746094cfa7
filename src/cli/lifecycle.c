// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * One session's life, for trace, top (and socktop) and serve: the target,
 * -o's file, the library session and the traced command's exit status.
 * The order is the contract: nothing is emptied or started before the
 * arguments are known good, -o is emptied only once tracing runs, and a
 * failed start leaves every file as it was.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cli_session_begin(struct cli_session *s, const struct cli_target *t)
{
	*s = (struct cli_session){.target = *t, .out = stdout};
	if (t->xpid && !process_alive(t->xpid)) {
		cli_error("-x: no process %d", (int)t->xpid);
		return 1;
	}
	if (t->command) {
		int rc = command_words(t->command, &s->we);
		if (rc)
			return rc;
		s->have_words = true;
	}
	/* opened now (a bad path is said before tracing), emptied only once tracing runs */
	if (t->outpath) {
		s->o.opt = t->outopt;
		if (output_open(&s->o, t->outpath)) {
			cli_session_end(s, 1);
			return 1;
		}
		s->out = s->o.f;
	}
	cli_install_signals();
	return 0;
}

void cli_session_target(const struct cli_session *s, struct socktap_opts *opts)
{
	if (s->have_words) {
		opts->command = s->we.we_wordv;
	} else if (s->target.xpid) {
		opts->targets = &s->target.xpid;
		opts->target_cnt = 1;
	}
}

int cli_session_start(struct cli_session *s, struct socktap_opts *opts,
		      bool (*relax)(struct socktap_opts *opts, void *ctx), void *ctx)
{
	cli_session_target(s, opts);
	int err = socktap_open(opts, &s->st);
	if (err == -ENOTSUP && relax && relax(opts, ctx))
		err = socktap_open(opts, &s->st);
	if (!err)
		err = socktap_start(s->st);
	if (err) {
		int rc = start_failed(err, s->have_words ? s->we.we_wordv[0] : NULL);
		socktap_close(s->st);
		s->st = NULL;
		/* a failed start leaves -o's file as it was */
		output_abandon(&s->o);
		s->out = NULL;
		return rc;
	}
	if (s->o.f && output_commit(&s->o))
		s->werr = EIO; /* said already; ends the run as a write error would */
	report_degraded(s->st);
	s->child = socktap_command_pid(s->st);
	return 0;
}

bool cli_session_target_ended(struct cli_session *s)
{
	if (s->child && !s->child_done && socktap_command_wait(s->st, &s->child_status, true) == 1)
		s->child_done = true;
	if (s->child_done)
		return true;
	/* -x is no child of ours: it has ended once it no longer runs */
	return s->target.xpid && !process_alive(s->target.xpid);
}

void cli_session_reap(struct cli_session *s, bool terminate)
{
	if (!s->child || s->child_done)
		return;
	if (terminate)
		kill(s->child, SIGTERM);
	if (socktap_command_wait(s->st, &s->child_status, false) == 1)
		s->child_done = true;
}

int cli_session_end(struct cli_session *s, int rc)
{
	socktap_close(s->st);
	s->st = NULL;
	const char *path = s->target.outpath;
	if (s->werr) {
		cli_error("writing %s: %s; output is incomplete", path ? path : "standard output",
			  strerror(s->werr));
		rc = 1;
	}
	if (s->child && s->child_done && rc == 0)
		rc = exit_code(s->child_status);
	if (s->o.f && fclose(s->o.f) && rc == 0) {
		cli_error("writing %s: %s; output is incomplete", path, strerror(errno));
		rc = 1;
	}
	s->o.f = NULL;
	s->out = NULL;
	if (s->have_words)
		wordfree(&s->we);
	s->have_words = false;
	return rc;
}
