/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * --web.config.file: the Prometheus exporter-toolkit's format, the parts
 * serve supports: tls_server_config (cert_file, key_file, client_ca_file,
 * client_auth_type) and basic_auth_users (bcrypt hashes).
 */
#ifndef SOCKTAP_WEBCONFIG_H
#define SOCKTAP_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct web_user {
	char *name, *hash;
	bool ok;		     /* a password passed: its digest is below */
	unsigned char ok_sha256[32]; /* not the password itself */
};

struct web_config {
	/* PEM contents, read at start-up (NULL: plain HTTP) */
	char *cert_pem, *key_pem, *client_ca_pem;
	bool verify_clients; /* client_auth_type: RequireAndVerifyClientCert */
	struct web_user *users;
	size_t nusers;
};

/* 0, or -1 after one message naming the file and the bad key or value (in err). */
int web_config_load(const char *path, struct web_config *wc, char *err, size_t errlen);
void web_config_free(struct web_config *wc);

/* Basic auth: user's password against its bcrypt hash (crypt(3)); remembers successes. */
bool web_config_check(struct web_config *wc, const char *user, const char *password);

#endif
