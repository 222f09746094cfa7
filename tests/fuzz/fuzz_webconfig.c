// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * serve's --web.config.file parser (src/cli/webconfig.c) on arbitrary YAML,
 * written to a file in a directory of its own that holds the PEM files a
 * config may name (relative names resolve there). Accepted: what the
 * exporter-toolkit's rules promise (cert and key, a CA for client
 * verification, bcrypt hashes). Refused: one message naming the file, and
 * nothing left behind. Basic auth is tried only for hashes of the lowest
 * costs: bcrypt's cost is exponential by design.
 */
#include <limits.h>
#include <unistd.h>
#include "fuzz.h"
#include "webconfig.h"

static char dir[] = "/tmp/socktap-fuzz-webconfig-XXXXXX", path[PATH_MAX];
static const char *const pems[] = {"srv.crt", "srv.key", "ca.crt"};

static void cleanup(void)
{
	char p[PATH_MAX];
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, pems[i]);
		unlink(p);
	}
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	atexit(cleanup);
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", dir, pems[i]);
		FILE *f = fopen(p, "w");
		FUZZ_CHECK(f, "%s", p);
		fprintf(f, "-----BEGIN %s-----\nAAAA\n-----END %s-----\n", pems[i], pems[i]);
		fclose(f);
	}
	return 0;
}

static bool cheap_bcrypt(const char *hash)
{
	/* "$2b$04$...": costs 04 and 05 take a millisecond or two */
	return strlen(hash) == 60 && hash[3] == '$' && hash[4] == '0' &&
	       (hash[5] == '4' || hash[5] == '5') && hash[6] == '$';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");
	FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0, "write %s", path);
	struct web_config wc;
	char err[512];
	memset(err, 'x', sizeof(err));
	if (web_config_load(path, &wc, err, sizeof(err))) {
		FUZZ_CHECK(memchr(err, 0, sizeof(err)), "message not terminated");
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0,
			   "message does not name the file: %s", err);
		FUZZ_CHECK(!wc.cert_pem && !wc.key_pem && !wc.client_ca_pem && !wc.users &&
			       !wc.nusers,
			   "a refused config left something behind");
		return 0;
	}
	FUZZ_CHECK(!wc.cert_pem == !wc.key_pem, "cert without key, or key without cert");
	FUZZ_CHECK(!wc.verify_clients || (wc.cert_pem && wc.client_ca_pem),
		   "client verification without a CA");
	for (size_t i = 0; i < wc.nusers; i++) {
		struct web_user *u = &wc.users[i];
		FUZZ_CHECK(u->name && *u->name && u->hash && strlen(u->hash) == 60 &&
			       !strncmp(u->hash, "$2", 2) && !u->ok,
			   "user %zu", i);
		if (!cheap_bcrypt(u->hash))
			continue;
		/* the same answer twice (the second from the cache when it passed) */
		bool ok = web_config_check(&wc, u->name, "password");
		FUZZ_CHECK(web_config_check(&wc, u->name, "password") == ok, "check changed");
	}
	FUZZ_CHECK(!web_config_check(&wc, "\x01no such user", "password"), "unknown user passed");
	web_config_free(&wc);
	return 0;
}
