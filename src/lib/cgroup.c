// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* cgroup v2 ids to paths and container ids (the rule is in cgroup.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"

/* Overridable only to exercise the clear by hand with a small tree. */
#ifndef ST_CGROUPS_MAX
#define ST_CGROUPS_MAX 65536
#endif
#define WALK_INTERVAL_NS (100 * 1000000LL)
#define WALK_MAX_DEPTH	 64
#define CHUNK_SIZE	 16384

struct ent {
	uint64_t id;	  /* 0: empty slot (no inode is 0) */
	const char *path; /* NULL: missing */
	const char *cont; /* the container id, once cont_done */
	uint64_t asked;	  /* missing: cg->walks when it was first looked up */
	bool cont_done;
};

/* Strings live in chunks freed only by st_cgroups_free: returned pointers outlive a clear. */
struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

struct st_cgroups {
	char *mount;
	int mount_fd;
	dev_t dev;
	uint64_t root_id;
	struct ent *tab;
	size_t cap, count; /* cap: a power of two, at least twice count */
	bool full;	   /* an insert found ST_CGROUPS_MAX ids: the next walk clears */
	uint64_t walks;
	bool walked;
	int64_t walk_end; /* CLOCK_MONOTONIC ns */
	struct chunk *chunks;
	char buf[PATH_MAX]; /* the walk's current path */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char *arena_dup(struct st_cgroups *cg, const char *s, size_t len)
{
	struct chunk *c = cg->chunks;
	char *p;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = cg->chunks;
		c->used = 0;
		c->size = size;
		cg->chunks = c;
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

static struct ent *slot(const struct st_cgroups *cg, uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;
	size_t i = (size_t)(h ^ (h >> 32)) & (cg->cap - 1);

	while (cg->tab[i].id && cg->tab[i].id != id)
		i = (i + 1) & (cg->cap - 1);
	return &cg->tab[i];
}

static struct ent *find(const struct st_cgroups *cg, uint64_t id)
{
	struct ent *e;

	if (!cg->tab)
		return NULL;
	e = slot(cg, id);
	return e->id == id ? e : NULL;
}

static int grow(struct st_cgroups *cg)
{
	struct ent *old = cg->tab;
	size_t old_cap = cg->cap, cap = old_cap ? old_cap * 2 : 256;

	cg->tab = calloc(cap, sizeof(*cg->tab));
	if (!cg->tab) {
		cg->tab = old;
		return -ENOMEM;
	}
	cg->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id)
			*slot(cg, old[i].id) = old[i];
	free(old);
	return 0;
}

/* The entry of id, added (missing, asked now) if new; NULL when full or out of memory. */
static struct ent *get_or_add(struct st_cgroups *cg, uint64_t id)
{
	struct ent *e = find(cg, id);

	if (e)
		return e;
	if (cg->count >= ST_CGROUPS_MAX) {
		cg->full = true;
		return NULL;
	}
	if ((cg->count + 1) * 2 > cg->cap && grow(cg))
		return NULL;
	e = slot(cg, id);
	*e = (struct ent){.id = id, .asked = cg->walks};
	cg->count++;
	return e;
}

static void set_path(struct st_cgroups *cg, uint64_t id, const char *path, size_t len)
{
	struct ent *e = get_or_add(cg, id);
	const char *p;

	/* Unchanged on almost every walk: keep the string, and the arena small. */
	if (!e || (e->path && strcmp(e->path, path) == 0))
		return;
	p = arena_dup(cg, path, len);
	if (!p)
		return;
	e->path = p;
	e->cont = NULL;
	e->cont_done = false;
}

/* Enters every directory below dfd (whose path is cg->buf[0, len)) into the table; closes dfd. */
static void walk_dir(struct st_cgroups *cg, int dfd, size_t len, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t n = strlen(name);
		struct stat st;
		int fd;

		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		/* cgroup2 reports d_type: its many control files cost no syscall. */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (len + 1 + n >= sizeof(cg->buf))
			continue;
		/* O_DIRECTORY|O_NOFOLLOW refuses files and symlinks before opening anything. */
		fd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* Another file system mounted inside has inode numbers that are no cgroup ids. */
		if (fstat(fd, &st) || st.st_dev != cg->dev) {
			close(fd);
			continue;
		}
		cg->buf[len] = '/';
		memcpy(cg->buf + len + 1, name, n + 1);
		set_path(cg, st.st_ino, cg->buf, len + 1 + n);
		if (depth < WALK_MAX_DEPTH)
			walk_dir(cg, fd, len + 1 + n, depth + 1);
		else
			close(fd);
	}
	closedir(d);
}

static void walk(struct st_cgroups *cg)
{
	int fd;

	if (cg->full) {
		if (cg->tab)
			memset(cg->tab, 0, cg->cap * sizeof(*cg->tab));
		cg->count = 0;
		cg->full = false;
	}
	cg->walks++;
	set_path(cg, cg->root_id, "/", 1);
	fd = openat(cg->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		walk_dir(cg, fd, 0, 1);
	cg->walked = true;
	cg->walk_end = now_ns();
}

static struct ent *resolve(struct st_cgroups *cg, uint64_t id)
{
	struct ent *e;

	if (!id)
		return NULL;
	e = find(cg, id);
	if (e && e->path)
		return e;
	if (!e)
		e = get_or_add(cg, id);
	/* A walk begun after its first lookup did not find it: gone, and no reason to walk. */
	if (e && e->asked < cg->walks)
		return NULL;
	if (cg->walked && now_ns() - cg->walk_end < WALK_INTERVAL_NS)
		return NULL;
	walk(cg); /* may have cleared or moved e */
	e = find(cg, id);
	if (e && e->path)
		return e;
	if (!e && (e = get_or_add(cg, id)))
		e->asked = cg->walks - 1;
	return NULL;
}

const char *st_cgroups_path(struct st_cgroups *cg, uint64_t id)
{
	struct ent *e = resolve(cg, id);

	return e ? e->path : NULL;
}

const char *st_cgroups_container(struct st_cgroups *cg, uint64_t id)
{
	struct ent *e = resolve(cg, id);
	char buf[65];

	if (!e)
		return NULL;
	if (!e->cont_done) {
		if (st_container_of_path(e->path, buf)) {
			e->cont = arena_dup(cg, buf, 64);
			if (!e->cont)
				return NULL;
		}
		e->cont_done = true;
	}
	return e->cont;
}

/* ---- container ids ---- */

/* The component before pos: [*b, *b + *n). */
static bool comp_before(const char *path, const char *pos, const char **b, size_t *n)
{
	const char *s;

	while (pos > path && pos[-1] == '/')
		pos--;
	if (pos == path)
		return false;
	for (s = pos; s > path && s[-1] != '/'; s--)
		;
	*b = s;
	*n = (size_t)(pos - s);
	return true;
}

static bool comp_is(const char *c, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(c, word, n) == 0;
}

/* Is c[0, n) prefix, 64 hex digits, suffix? The digits go to id in lower case. */
static bool wrapped(const char *c, size_t n, const char *prefix, const char *suffix, char id[65])
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	if (n != pl + 64 + sl || memcmp(c, prefix, pl) || memcmp(c + pl + 64, suffix, sl))
		return false;
	for (size_t i = 0; i < 64; i++) {
		char x = c[pl + i];

		if (x >= 'A' && x <= 'F')
			x = (char)(x - 'A' + 'a');
		else if (!((x >= '0' && x <= '9') || (x >= 'a' && x <= 'f')))
			return false;
		id[i] = x;
	}
	id[64] = '\0';
	return true;
}

static bool container_of_comp(const char *path, const char *c, size_t n, char id[65])
{
	const char *pc, *a;
	size_t pn, an;

	if (wrapped(c, n, "docker-", ".scope", id) ||
	    wrapped(c, n, "cri-containerd-", ".scope", id) ||
	    wrapped(c, n, "crio-", ".scope", id) || wrapped(c, n, "libpod-", ".scope", id))
		return true;
	/* The cgroupfs drivers' bare names mean a container only below their own parent. */
	if (!comp_before(path, c, &pc, &pn))
		return false;
	if (comp_is(pc, pn, "docker") && wrapped(c, n, "", "", id))
		return true;
	if (comp_is(pc, pn, "libpod_parent") && wrapped(c, n, "libpod-", "", id))
		return true;
	if (pn > 3 && memcmp(pc, "pod", 3) == 0 && wrapped(c, n, "", "", id))
		for (a = pc; comp_before(path, a, &a, &an);)
			if (comp_is(a, an, "kubepods"))
				return true;
	return false;
}

bool st_container_of_path(const char *path, char out[65])
{
	const char *pos = path + strlen(path), *c;
	char id[65];
	size_t n;

	for (; comp_before(path, pos, &c, &n); pos = c) {
		if (container_of_comp(path, c, n, id)) {
			memcpy(out, id, sizeof(id));
			return true;
		}
	}
	return false;
}

/* ---- opening ---- */

static int open_dir(const char *dir, struct st_cgroups **out)
{
	struct st_cgroups *cg = calloc(1, sizeof(*cg));
	size_t len = strlen(dir);
	struct stat st;
	int err;

	if (!cg)
		return -ENOMEM;
	cg->mount_fd = -1;
	/* Trailing slashes would break the prefix match of st_cgroups_lookup. */
	while (len > 1 && dir[len - 1] == '/')
		len--;
	cg->mount = strndup(dir, len);
	if (!cg->mount) {
		err = -ENOMEM;
		goto fail;
	}
	cg->mount_fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->mount_fd < 0 || fstat(cg->mount_fd, &st)) {
		err = -errno;
		goto fail;
	}
	cg->dev = st.st_dev;
	cg->root_id = st.st_ino;
	*out = cg;
	return 0;
fail:
	st_cgroups_free(cg);
	return err;
}

int st_cgroups_open_dir(const char *mount_dir, struct st_cgroups **out)
{
	*out = NULL;
	if (!mount_dir || !*mount_dir)
		return -EINVAL;
	return open_dir(mount_dir, out);
}

/* mountinfo's octal escapes (\040 is a space), decoded in place. */
static void unescape(char *s)
{
	char *w = s;

	for (const char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/*
 * The mount point of a mountinfo line whose fstype is cgroup2, else NULL.
 * Fields: id parent major:minor root mount-point options [optional...] - fstype source
 * super-options; the optional fields vary in number, hence the search for "-".
 */
static char *cgroup2_mount_point(char *line)
{
	char *save = NULL, *mp = NULL, *tok;

	line[strcspn(line, "\n")] = '\0';
	tok = strtok_r(line, " ", &save);
	for (int i = 0; tok; i++, tok = strtok_r(NULL, " ", &save)) {
		if (i == 4)
			mp = tok;
		if (i >= 6 && strcmp(tok, "-") == 0) {
			tok = strtok_r(NULL, " ", &save);
			if (!mp || !tok || strcmp(tok, "cgroup2"))
				return NULL;
			unescape(mp);
			return mp;
		}
	}
	return NULL;
}

int st_cgroups_open(const char *mountinfo, struct st_cgroups **out)
{
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	char *line = NULL, *mp = NULL;
	size_t cap = 0;
	int err;

	*out = NULL;
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		if ((mp = cgroup2_mount_point(line)))
			break;
	if (mp)
		err = open_dir(mp, out);
	else
		err = ferror(f) ? -EIO : -ENOENT;
	free(line);
	fclose(f);
	return err;
}

void st_cgroups_free(struct st_cgroups *cg)
{
	struct chunk *c, *next;

	if (!cg)
		return;
	if (cg->mount_fd >= 0)
		close(cg->mount_fd);
	for (c = cg->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(cg->tab);
	free(cg->mount);
	free(cg);
}

const char *st_cgroups_mount(const struct st_cgroups *cg)
{
	return cg->mount;
}

/* ---- --cgroup PATH ---- */

int st_cgroups_lookup(struct st_cgroups *cg, const char *path, int *fd, uint64_t *id)
{
	size_t ml = strlen(cg->mount), nl = 0;
	const char *p = path, *q;
	char norm[PATH_MAX];
	struct stat st;
	int cur, next, err;

	if (!path || !*path)
		return -EINVAL;
	if (ml > 1 && strncmp(path, cg->mount, ml) == 0 && (path[ml] == '/' || !path[ml]))
		p = path + ml;
	cur = openat(cg->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	/* One component at a time: no "..", no symlink, can lead out of the mount. */
	for (; *p; p = q) {
		size_t n;

		while (*p == '/')
			p++;
		q = strchrnul(p, '/');
		n = (size_t)(q - p);
		if (!n || (n == 1 && p[0] == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			err = -EINVAL;
			goto fail;
		}
		if (nl + 1 + n >= sizeof(norm)) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		norm[nl] = '/';
		memcpy(norm + nl + 1, p, n);
		norm[nl + 1 + n] = '\0';
		next = openat(cur, norm + nl + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			err = -errno;
			goto fail;
		}
		close(cur);
		cur = next;
		nl += 1 + n;
	}
	if (fstat(cur, &st)) {
		err = -errno;
		goto fail;
	}
	if (!nl) {
		norm[0] = '/';
		norm[1] = '\0';
		nl = 1;
	}
	if (st.st_dev == cg->dev)
		set_path(cg, st.st_ino, norm, nl);
	*fd = cur;
	*id = st.st_ino;
	return 0;
fail:
	close(cur);
	return err;
}
