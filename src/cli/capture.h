/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Capture files: `socktap trace -w FILE` writes delivered events in a
 * compact binary form instead of formatting them (formatting is what a
 * flood outruns); `socktap convert FILE` formats them later, with the
 * library's own formatter, as trace -F would have.
 *
 * Format version 1. Every integer is little-endian.
 *
 *   header:
 *     8 bytes   magic "\x89STCAP\r\n" (the high byte and CR LF catch 7-bit
 *               and newline-converting transfers)
 *     u16       format version (1); a reader refuses a newer one
 *     u16       probe count N
 *     N times   u8 length, then the probe's name: the table the record
 *               probe ids index (a reader maps them by name to its own)
 *   records, until the end of the file:
 *     u32       L: the length of the body that follows (at most 65536)
 *     body:
 *       u16     probe id (an index into the header's table)
 *       u16     presence bits: 1 cgroup is known, 2 container is known
 *       u64     ts
 *       varints, in this order (LEB128, shortest form; s: signed, zigzag):
 *               known, pid, tid, uid, cpu, sock, fd s, size s, success s,
 *               protocol s, family s, state s, type s, flags, requester s,
 *               err s, lport s, rport s, cgroup_id, nspid
 *       five strings, each a varint length then its bytes (no NUL byte):
 *       comm (< 16), laddr (< 112), raddr (< 112), cgroup and container
 *       (at most 4096; length 0 where not known)
 *
 * A record's body is exactly L bytes: anything else is a corrupt file.
 */
#ifndef SOCKTAP_CAPTURE_H
#define SOCKTAP_CAPTURE_H

#include <stdint.h>
#include <stdio.h>
#include "socktap.h"

#define CAPTURE_VERSION	   1
#define CAPTURE_MAX_RECORD 65536
#define CAPTURE_MAX_PATH   4096 /* the longest cgroup or container string */

/* The header, for a new capture. 0, or -1 with errno. */
int capture_header_write(FILE *f);
/*
 * One event's record (length and body) into buf: returns the bytes it
 * needs, written only if they fit in len.
 */
size_t capture_encode(const struct socktap_event *ev, uint8_t *buf, size_t len);
/* One event, appended to f (buffered: no system call of its own). 0, or -1 with errno. */
int capture_event_write(FILE *f, const struct socktap_event *ev);

struct capture_reader {
	FILE *f;
	const char *name; /* for messages: the file's path, or "standard input" */
	uint64_t off;	  /* where the next record starts */
	unsigned int version;
	unsigned int nprobes;
	int ids[256];		 /* the file's probe id -> this socktap's, or -1 (unknown name) */
	uint8_t *body;		 /* the last record's body (CAPTURE_MAX_RECORD bytes) */
	uint32_t body_len;	 /* its length */
	unsigned int file_probe; /* its probe id as the file has it */
	char cgroup[CAPTURE_MAX_PATH + 1], container[CAPTURE_MAX_PATH + 1];
	char msg[512]; /* why reading stopped (the file and the offset), after -1 */
};

/* Reads and checks the header. 0, or -1 with r->msg. capture_close() either way. */
int capture_open(struct capture_reader *r, FILE *f, const char *name);
/*
 * The next event (its strings live in r until the next call): 1, 0 at the
 * clean end of the file, or -1 with r->msg (truncated or corrupt, at r->off).
 */
int capture_next(struct capture_reader *r, struct socktap_event *ev);
void capture_close(struct capture_reader *r);

struct convert_config {
	const char *inpath, *outpath;
	int fmt;
};
int convert_parse(int argc, char **argv, struct convert_config *cfg);
int cmd_convert(int argc, char **argv);

#endif
