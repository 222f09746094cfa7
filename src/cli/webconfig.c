// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * --web.config.file, parsed with libyaml. Strict like the exporter-toolkit:
 * a key serve does not know is an error, not silently ignored, so a
 * setting the operator relies on is never quietly off.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gnutls/crypto.h>
#include <yaml.h>
#include "webconfig.h"

/* PEM files are a few KiB: more is not one (a device, say), and would only eat memory */
#define PEM_MAX (1 << 20)

/*
 * A regular file only: a FIFO or a device (cert_file: /dev/zero, /dev/stdin)
 * would block serve's start or never end. Opened without blocking, so that
 * opening a FIFO does not wait for a writer.
 */
static char *read_all(const char *path)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n, total = 0;
	while (m && total <= PEM_MAX && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		fwrite(chunk, 1, n, m);
		total += n;
	}
	bool bad = ferror(f) || total > PEM_MAX;
	int e = total > PEM_MAX ? EFBIG : errno;
	fclose(f);
	if (!m || fclose(m) || bad) {
		free(buf);
		errno = e ? e : EIO;
		return NULL;
	}
	return buf;
}

struct ctx {
	yaml_document_t *doc;
	const char *path;
	char dir[PATH_MAX];
	char *err;
	size_t errlen;
};

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int fail(struct ctx *c, yaml_node_t *n, const char *what, const char *word)
{
	snprintf(c->err, c->errlen, "%s:%lu: %s '%s'", c->path,
		 n ? (unsigned long)n->start_mark.line + 1 : 1ul, what, word);
	return -1;
}

/* A file the config names: relative to the config file's directory, as the toolkit does. */
static int load_pem(struct ctx *c, yaml_node_t *n, const char *file, char **out)
{
	char full[PATH_MAX * 2];
	if (file[0] == '/')
		snprintf(full, sizeof(full), "%s", file);
	else
		snprintf(full, sizeof(full), "%s/%s", c->dir, file);
	free(*out);
	*out = read_all(full);
	if (!*out)
		return fail(c, n,
			    errno == EINVAL ? "not a regular file" : strerror(errno ? errno : EIO),
			    full);
	return 0;
}

static int parse_tls(struct ctx *c, yaml_node_t *m, struct web_config *wc)
{
	bool have_cert = false, have_key = false;
	if (m->type != YAML_MAPPING_NODE)
		return fail(c, m, "not a mapping", "tls_server_config");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
		const char *k = scalar(kn), *v = scalar(vn);
		if (!k)
			return fail(c, kn, "not a key", "?");
		if (!v)
			return fail(c, vn, "not a string value for", k);
		int r = 0;
		if (strcmp(k, "cert_file") == 0) {
			r = load_pem(c, vn, v, &wc->cert_pem);
			have_cert = true;
		} else if (strcmp(k, "key_file") == 0) {
			r = load_pem(c, vn, v, &wc->key_pem);
			have_key = true;
		} else if (strcmp(k, "client_ca_file") == 0) {
			r = load_pem(c, vn, v, &wc->client_ca_pem);
		} else if (strcmp(k, "client_auth_type") == 0) {
			if (strcmp(v, "RequireAndVerifyClientCert") == 0)
				wc->verify_clients = true;
			else if (strcmp(v, "NoClientCert") == 0)
				wc->verify_clients = false;
			else
				return fail(c, vn,
					    "unsupported client_auth_type (NoClientCert or "
					    "RequireAndVerifyClientCert)",
					    v);
		} else {
			return fail(c, kn, "unsupported key in tls_server_config", k);
		}
		if (r)
			return r;
	}
	if (!have_cert || !have_key)
		return fail(c, m, "needs cert_file and key_file:", "tls_server_config");
	if (wc->verify_clients && !wc->client_ca_pem)
		return fail(c, m, "RequireAndVerifyClientCert needs client_ca_file in",
			    "tls_server_config");
	return 0;
}

static int parse_users(struct ctx *c, yaml_node_t *m, struct web_config *wc)
{
	if (m->type != YAML_MAPPING_NODE)
		return fail(c, m, "not a mapping", "basic_auth_users");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
		const char *k = scalar(kn), *v = scalar(vn);
		if (!k || !*k)
			return fail(c, kn, "not a user name", k ? k : "?");
		/* bcrypt only, as the exporter-toolkit */
		if (!v || strncmp(v, "$2", 2) != 0 || strlen(v) != 60)
			return fail(c, vn, "not a bcrypt hash for user", k);
		void *grown = realloc(wc->users, (wc->nusers + 1) * sizeof(*wc->users));
		if (!grown)
			return fail(c, vn, "out of memory at user", k);
		wc->users = grown;
		struct web_user *u = &wc->users[wc->nusers];
		u->name = strdup(k);
		u->hash = strdup(v);
		u->ok = false;
		wc->nusers++;
		if (!u->name || !u->hash)
			return fail(c, vn, "out of memory at user", k);
	}
	return 0;
}

int web_config_load(const char *path, struct web_config *wc, char *err, size_t errlen)
{
	memset(wc, 0, sizeof(*wc));
	struct ctx c = {.path = path, .err = err, .errlen = errlen};
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(c.dir, sizeof(c.dir), "%s", dirname(tmp));
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = -1;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%lu: not YAML: %s", path,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	c.doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = 0; /* an empty file: plain HTTP, no users */
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		fail(&c, root, "not a mapping:", "the document");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&doc, p->value);
		const char *k = scalar(kn);
		int r;
		if (k && strcmp(k, "tls_server_config") == 0)
			r = parse_tls(&c, vn, wc);
		else if (k && strcmp(k, "basic_auth_users") == 0)
			r = parse_users(&c, vn, wc);
		else
			r = fail(&c, kn, "unsupported key", k ? k : "?");
		if (r)
			goto out;
	}
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc)
		web_config_free(wc);
	return rc;
}

void web_config_free(struct web_config *wc)
{
	free(wc->cert_pem);
	free(wc->key_pem);
	free(wc->client_ca_pem);
	for (size_t i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	free(wc->users);
	memset(wc, 0, sizeof(*wc));
}

/* equal strings, in time that depends on the lengths only */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

bool web_config_check(struct web_config *wc, const char *user, const char *password)
{
	for (size_t i = 0; i < wc->nusers; i++) {
		struct web_user *u = &wc->users[i];
		if (strcmp(u->name, user) != 0)
			continue;
		/* bcrypt costs tens of ms by design: a password that passed once is remembered */
		unsigned char d[32];
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, password, strlen(password), d) != 0)
			return false;
		if (u->ok) {
			unsigned char x = 0;
			for (size_t j = 0; j < sizeof(d); j++)
				x |= (unsigned char)(d[j] ^ u->ok_sha256[j]);
			if (!x)
				return true;
		}
		struct crypt_data cd;
		memset(&cd, 0, sizeof(cd));
		const char *h = crypt_r(password, u->hash, &cd);
		if (!h || !same(h, u->hash))
			return false;
		memcpy(u->ok_sha256, d, sizeof(d));
		u->ok = true;
		return true;
	}
	return false;
}
