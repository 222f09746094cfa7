// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The cgroup v2 resolver: mountinfo parsing, ids to paths over a directory
 * tree of our own (ids are its inode numbers), the 100 ms walk rule and the
 * memory of misses, container ids of every runtime's convention, and
 * --cgroup PATH lookups. Needs no cgroup2 mount; uses this machine's if
 * there is one.
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "testlib.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UC  "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"

static char tmp[64];  /* this run's scratch directory */
static char tree[80]; /* tmp/tree: the fake cgroup2 mount */

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mkdir -p of an absolute path. */
static void mkdir_p(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		TEST_FAIL("mkdir %s: %s", p, strerror(errno));
}

/* tree/rel as an absolute path, in one of a few rotating buffers. */
static const char *in_tree(const char *rel)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", tree, rel);
	return b;
}

static uint64_t ino_of(const char *rel)
{
	struct stat st;

	if (lstat(in_tree(rel), &st)) {
		TEST_FAIL("stat %s: %s", rel, strerror(errno));
		return 0;
	}
	return st.st_ino;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		TEST_FAIL("fopen %s: %s", path, strerror(errno));
		return;
	}
	fputs(text, f);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* ---- mountinfo ---- */

/* st_cgroups_open of a mountinfo made of lines, with each @ standing for tmp. */
static int open_lines(const char *lines, struct st_cgroups **cg)
{
	char path[PATH_MAX], text[8192];
	size_t n = 0;

	for (const char *s = lines; *s && n < sizeof(text) - PATH_MAX; s++) {
		if (*s == '@')
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", tmp);
		else
			text[n++] = *s;
	}
	text[n] = '\0';
	snprintf(path, sizeof(path), "%s/mountinfo", tmp);
	write_file(path, text);
	return st_cgroups_open(path, cg);
}

static void expect_mount(const char *lines, const char *rel, const char *what)
{
	struct st_cgroups *cg = NULL;
	char want[PATH_MAX];

	snprintf(want, sizeof(want), "%s%s", tmp, rel);
	if (ASSERT_EQ(open_lines(lines, &cg), 0, what))
		ASSERT_STREQ(st_cgroups_mount(cg), want, what);
	st_cgroups_free(cg);
}

/* Debian 11's hybrid layout: cgroup2 at .../unified, after the v1 hierarchies. */
static const char hybrid[] =
    "22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
    "31 22 0:28 / @/hy/sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs "
    "ro,mode=755\n"
    "32 31 0:29 / @/hy/sys/fs/cgroup/cpu rw,relatime shared:10 - cgroup cgroup rw,cpu\n"
    "40 31 0:37 / @/hy/sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:12 - "
    "cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / @/hy/sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:11 - "
    "cgroup2 cgroup2 rw,nsdelegate\n"
    "45 41 0:39 / @/hy/other rw,relatime - cgroup2 cgroup2 rw\n";

/* A unified layout (Debian 12, Fedora), no optional fields on the cgroup2 line. */
static const char unified[] =
    "24 30 0:22 / /sys/kernel/security rw,nosuid,nodev,noexec,relatime shared:3 - "
    "securityfs securityfs rw\n"
    "26 30 0:24 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,inode64\n"
    "27 22 0:25 / @/un/sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

static void test_mountinfo(void)
{
	char p[PATH_MAX];
	struct st_cgroups *cg = NULL;

	snprintf(p, sizeof(p), "%s/hy/sys/fs/cgroup/unified", tmp);
	mkdir_p(p);
	snprintf(p, sizeof(p), "%s/hy/other", tmp);
	mkdir_p(p);
	snprintf(p, sizeof(p), "%s/un/sys/fs/cgroup", tmp);
	mkdir_p(p);
	snprintf(p, sizeof(p), "%s/my cgroups\tv2", tmp);
	mkdir_p(p);

	expect_mount(hybrid, "/hy/sys/fs/cgroup/unified", "hybrid: the first cgroup2 line");
	expect_mount(unified, "/un/sys/fs/cgroup", "unified");
	expect_mount("50 1 0:40 / @/my\\040cgroups\\011v2 rw shared:5 master:1 propagate_from:2 - "
		     "cgroup2 none rw\n",
		     "/my cgroups\tv2", "escaped mount point, three optional fields");
	/* The fstype is the field after " - ", not any field that says cgroup2. */
	expect_mount("60 1 0:41 / @/hy/x\\040-\\040cgroup2 rw - tmpfs cgroup2 rw\n"
		     "61 1 0:42 / @/un/sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		     "/un/sys/fs/cgroup", "an escaped \" - cgroup2\" and a cgroup2 source");

	ASSERT_EQ(open_lines("31 22 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"
			     "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
			     &cg),
		  -ENOENT, "v1 only: no cgroup2");
	ASSERT_TRUE(!cg, "*out NULL on failure");
	ASSERT_EQ(open_lines("", &cg), -ENOENT, "empty mountinfo");
	ASSERT_EQ(open_lines("7 1 0:5 / @/nonexistent rw - cgroup2 cgroup2 rw\n", &cg), -ENOENT,
		  "cgroup2 mount point that does not exist: open's errno");
	snprintf(p, sizeof(p), "%s/no-such-mountinfo", tmp);
	ASSERT_EQ(st_cgroups_open(p, &cg), -ENOENT, "missing mountinfo file");
}

/* This machine's cgroup2 mount, if any: our own cgroup resolves to /proc/self/cgroup's path. */
static void test_this_machine(void)
{
	struct st_cgroups *cg = NULL, *cg2 = NULL;
	char line[PATH_MAX + 8], own[PATH_MAX] = "";
	uint64_t id = 0;
	int err, fd = -1;
	FILE *f;

	err = st_cgroups_open(NULL, &cg);
	if (err == -ENOENT) {
		printf("  # no cgroup2 mount here\n");
		return;
	}
	if (!ASSERT_EQ(err, 0, "st_cgroups_open(NULL)"))
		return;
	printf("  # cgroup2 at %s\n", st_cgroups_mount(cg));
	ASSERT_TRUE(st_cgroups_mount(cg)[0] == '/', "absolute mount point");
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0)
			snprintf(own, sizeof(own), "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
	if (f)
		fclose(f);
	/* In a cgroup namespace the two may not agree: skip, do not fail. */
	if (!own[0] || st_cgroups_lookup(cg, own, &fd, &id)) {
		printf("  # own cgroup \"%s\" not under the mount, skipped\n", own);
		st_cgroups_free(cg);
		return;
	}
	close(fd);
	printf("  # own cgroup %s, id %" PRIu64 "\n", own, id);
	ASSERT_STREQ(st_cgroups_path(cg, id), own, "lookup caches the path");
	if (ASSERT_EQ(st_cgroups_open(NULL, &cg2), 0, "second open")) {
		/* A fresh resolver must find it by walking the real tree. */
		ASSERT_STREQ(st_cgroups_path(cg2, id), own, "walk of the real tree");
		ASSERT_STREQ(st_cgroups_path(cg2, id), own, "cached");
	}
	st_cgroups_free(cg2);
	st_cgroups_free(cg);
}

/* ---- a tree of our own ---- */

static void make_tree(void)
{
	char p[PATH_MAX];

	mkdir_p(in_tree("a/b/c"));
	mkdir_p(in_tree("system.slice/nginx.service"));
	mkdir_p(in_tree("system.slice/docker-" ID ".scope"));
	mkdir_p(in_tree("my dir/with\nnewline"));
	write_file(in_tree("a/cgroup.procs"), "");
	snprintf(p, sizeof(p), "%s", in_tree("a/link"));
	if (symlink("b", p))
		TEST_FAIL("symlink: %s", strerror(errno));
}

static void test_paths(void)
{
	struct st_cgroups *cg = NULL;
	char slashed[PATH_MAX];
	const char *p;

	snprintf(slashed, sizeof(slashed), "%s//", tree);
	if (!ASSERT_EQ(st_cgroups_open_dir(slashed, &cg), 0, "open_dir"))
		return;
	ASSERT_STREQ(st_cgroups_mount(cg), tree, "trailing slashes dropped");
	ASSERT_STREQ(st_cgroups_path(cg, ino_of(".")), "/", "root");
	ASSERT_STREQ(st_cgroups_path(cg, ino_of("a")), "/a", "/a");
	ASSERT_STREQ(st_cgroups_path(cg, ino_of("a/b")), "/a/b", "/a/b, not via the symlink");
	ASSERT_STREQ(st_cgroups_path(cg, ino_of("a/b/c")), "/a/b/c", "/a/b/c");
	ASSERT_STREQ(st_cgroups_path(cg, ino_of("system.slice/nginx.service")),
		     "/system.slice/nginx.service", "service");
	ASSERT_STREQ(st_cgroups_path(cg, ino_of("my dir/with\nnewline")), "/my dir/with\nnewline",
		     "names kept byte for byte");
	p = st_cgroups_path(cg, ino_of("a/b"));
	ASSERT_TRUE(p && p == st_cgroups_path(cg, ino_of("a/b")), "the same cached string");
	ASSERT_TRUE(!st_cgroups_path(cg, 0), "id 0");
	ASSERT_TRUE(!st_cgroups_path(cg, ino_of("a/cgroup.procs")), "a file is no cgroup");
	ASSERT_TRUE(!st_cgroups_path(cg, ino_of("a/link")), "nor a symlink");
	ASSERT_TRUE(!st_cgroups_path(cg, UINT64_MAX), "unknown id");

	ASSERT_STREQ(st_cgroups_container(cg, ino_of("system.slice/docker-" ID ".scope")), ID,
		     "container of a docker scope");
	p = st_cgroups_container(cg, ino_of("system.slice/docker-" ID ".scope"));
	ASSERT_TRUE(p && p == st_cgroups_container(cg, ino_of("system.slice/docker-" ID ".scope")),
		    "container id cached");
	ASSERT_TRUE(!st_cgroups_container(cg, ino_of("system.slice/nginx.service")),
		    "no container: service");
	ASSERT_TRUE(!st_cgroups_container(cg, ino_of(".")), "no container: root");
	ASSERT_TRUE(!st_cgroups_container(cg, UINT64_MAX), "no container: unknown id");
	st_cgroups_free(cg);
}

static void test_walk_rule(void)
{
	struct st_cgroups *cg = NULL;
	int64_t t0 = ms_now();
	uint64_t id;

	if (!ASSERT_EQ(st_cgroups_open_dir(tree, &cg), 0, "open_dir"))
		return;
	ASSERT_STREQ(st_cgroups_path(cg, ino_of("a")), "/a", "first walk");
	mkdir_p(in_tree("a/new"));
	id = ino_of("a/new");
	/* Within 100 ms of the walk a new cgroup reads as NULL (only checkable when we are quick).
	 */
	if (ms_now() - t0 < 90)
		ASSERT_TRUE(!st_cgroups_path(cg, id), "no walk within 100 ms");
	sleep_ms(110);
	ASSERT_STREQ(st_cgroups_path(cg, id), "/a/new", "created later: resolves after 100 ms");
	st_cgroups_free(cg);
}

/*
 * A removed cgroup's id: one walk proves it gone, then a storm of its events
 * costs no walk. An open fd keeps each removed inode from being reused by the
 * next mkdir (ext4 would), which would make the ids collide.
 */
static void test_misses(void)
{
	struct st_cgroups *cg = NULL;
	uint64_t gone, x;
	int fd;

	if (!ASSERT_EQ(st_cgroups_open_dir(tree, &cg), 0, "open_dir"))
		return;
	mkdir_p(in_tree("gone"));
	gone = ino_of("gone");
	fd = open(in_tree("gone"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0, "open gone");
	ASSERT_EQ(rmdir(in_tree("gone")), 0, "rmdir gone");
	ASSERT_TRUE(!st_cgroups_path(cg, gone), "removed before any walk: NULL (walks)");
	ASSERT_TRUE(!st_cgroups_container(cg, gone), "no container either");
	sleep_ms(110);
	for (int i = 0; i < 100000; i++)
		if (st_cgroups_path(cg, gone)) {
			TEST_FAIL("storm lookup %d resolved", i);
			break;
		}
	/* Had the storm walked, x (made after it) would wait 100 ms; it resolves at once. */
	mkdir_p(in_tree("x"));
	x = ino_of("x");
	ASSERT_STREQ(st_cgroups_path(cg, x), "/x", "the storm started no walk");
	ASSERT_TRUE(!st_cgroups_path(cg, gone), "still gone after that walk");
	close(fd);
	rmdir(in_tree("x"));
	st_cgroups_free(cg);
}

/* Documented choice: cgroup2 never reuses ids, so a resolved cgroup keeps its path once gone. */
static void test_removed_after_resolved(void)
{
	struct st_cgroups *cg = NULL;
	const char *p;
	uint64_t old;
	int fd;

	if (!ASSERT_EQ(st_cgroups_open_dir(tree, &cg), 0, "open_dir"))
		return;
	mkdir_p(in_tree("old"));
	old = ino_of("old");
	p = st_cgroups_path(cg, old);
	ASSERT_STREQ(p, "/old", "resolved");
	fd = open(in_tree("old"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_EQ(rmdir(in_tree("old")), 0, "rmdir old");
	sleep_ms(110);
	mkdir_p(in_tree("y"));
	ASSERT_STREQ(st_cgroups_path(cg, ino_of("y")), "/y", "a walk after the removal");
	ASSERT_TRUE(st_cgroups_path(cg, old) == p, "the removed one keeps its path and string");
	ASSERT_STREQ(p, "/old", "string intact");
	close(fd);
	rmdir(in_tree("y"));
	st_cgroups_free(cg);
}

/* Directories up to 64 levels below the mount are walked, deeper ones are not. */
static void test_depth(void)
{
	struct st_cgroups *cg = NULL;
	char rel[200] = "deep";
	uint64_t at64, at65;

	for (int level = 2; level <= 65; level++)
		strcat(rel, "/d");
	mkdir_p(in_tree(rel));
	at65 = ino_of(rel);
	rel[strlen(rel) - 2] = '\0';
	at64 = ino_of(rel);
	if (!ASSERT_EQ(st_cgroups_open_dir(tree, &cg), 0, "open_dir"))
		return;
	ASSERT_TRUE(st_cgroups_path(cg, at64) != NULL, "level 64");
	ASSERT_TRUE(!st_cgroups_path(cg, at65), "level 65");
	st_cgroups_free(cg);
}

/* ---- --cgroup PATH ---- */

static void expect_lookup(struct st_cgroups *cg, const char *path, const char *rel,
			  const char *want_path)
{
	uint64_t id = 0;
	int fd = -1, err = st_cgroups_lookup(cg, path, &fd, &id);

	if (!ASSERT_EQ(err, 0, path))
		return;
	ASSERT_EQ(id, ino_of(rel), path);
	ASSERT_TRUE(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "O_CLOEXEC fd");
	ASSERT_STREQ(st_cgroups_path(cg, id), want_path, path);
	close(fd);
}

static int lookup_err(struct st_cgroups *cg, const char *path)
{
	uint64_t id = 0;
	int fd = -1, err = st_cgroups_lookup(cg, path, &fd, &id);

	if (!err)
		close(fd);
	return err;
}

static void test_lookup(void)
{
	struct st_cgroups *cg = NULL;
	char abs[PATH_MAX];

	if (!ASSERT_EQ(st_cgroups_open_dir(tree, &cg), 0, "open_dir"))
		return;
	/* No walk before these: lookup enters its result into the cache. */
	expect_lookup(cg, "system.slice", "system.slice", "/system.slice");
	expect_lookup(cg, "/a/b", "a/b", "/a/b");
	expect_lookup(cg, "a//b/./c/", "a/b/c", "/a/b/c");
	expect_lookup(cg, "/", ".", "/");
	expect_lookup(cg, in_tree("system.slice/nginx.service"), "system.slice/nginx.service",
		      "/system.slice/nginx.service");
	expect_lookup(cg, tree, ".", "/");
	snprintf(abs, sizeof(abs), "%s/", tree);
	expect_lookup(cg, abs, ".", "/");

	ASSERT_EQ(lookup_err(cg, "/etc"), -ENOENT, "absolute outside the mount: -ENOENT");
	ASSERT_EQ(lookup_err(cg, tmp), -ENOENT, "the mount's parent: -ENOENT");
	snprintf(abs, sizeof(abs), "%sX/a", tree);
	ASSERT_EQ(lookup_err(cg, abs), -ENOENT, "mount point as a mere prefix: -ENOENT");
	ASSERT_EQ(lookup_err(cg, "a/nonexistent"), -ENOENT, "nonexistent");
	ASSERT_EQ(lookup_err(cg, "/nonexistent/b"), -ENOENT, "nonexistent parent");
	ASSERT_EQ(lookup_err(cg, "a/cgroup.procs"), -ENOTDIR, "a file");
	ASSERT_EQ(lookup_err(cg, "a/cgroup.procs/x"), -ENOTDIR, "below a file");
	ASSERT_EQ(lookup_err(cg, "a/link"), -ENOTDIR, "a symlink (O_DIRECTORY|O_NOFOLLOW)");
	ASSERT_EQ(lookup_err(cg, "a/link/c"), -ENOTDIR, "through a symlink");
	ASSERT_EQ(lookup_err(cg, "a/.."), -EINVAL, "..");
	ASSERT_EQ(lookup_err(cg, "../tree/a"), -EINVAL, ".. out of the mount");
	ASSERT_EQ(lookup_err(cg, ""), -EINVAL, "empty");
	st_cgroups_free(cg);
}

/* ---- container ids ---- */

static void expect_container(const char *path, const char *want)
{
	char out[65];
	bool ok;

	memset(out, 'X', sizeof(out));
	ok = st_container_of_path(path, out);
	if (want) {
		if (ASSERT_TRUE(ok, path))
			ASSERT_STREQ(out, want, path);
	} else {
		ASSERT_TRUE(!ok, path);
	}
}

static void test_containers(void)
{
	/* docker */
	expect_container("/system.slice/docker-" ID ".scope", ID);
	expect_container("/docker/" ID, ID);
	expect_container("/docker/" ID "/", ID);
	expect_container("/docker/" ID "/docker/" ID2, ID2); /* docker in docker: the inner */
	expect_container("/system.slice/docker-" ID ".scope/init.scope", ID);
	/* containerd / CRI, systemd driver and kubelet's cgroupfs */
	expect_container("/kubepods.slice/kubepods-burstable.slice/"
			 "kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/"
			 "cri-containerd-" ID ".scope",
			 ID);
	expect_container("/system.slice/containerd.service/kubepods-besteffort-pod1.slice:cri-"
			 "containerd:" ID,
			 NULL);
	expect_container("/kubepods/burstable/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/" ID, ID);
	expect_container("/kubepods/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/" ID, ID);
	expect_container("/kubelet/kubepods/besteffort/podx/" ID2, ID2);
	/* CRI-O */
	expect_container("/kubepods.slice/kubepods-pod1.slice/crio-" ID ".scope", ID);
	expect_container("/kubepods.slice/kubepods-pod1.slice/crio-conmon-" ID ".scope", NULL);
	expect_container(
	    "/kubepods.slice/kubepods-pod1.slice/crio-" ID2 ".scope/crio-conmon-" ID ".scope", ID2);
	/* podman */
	expect_container("/machine.slice/libpod-" ID ".scope", ID);
	expect_container("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
			 ".scope/container",
			 ID);
	expect_container("/libpod_parent/libpod-" ID, ID);
	/* Upper case is accepted and comes out lower (no runtime writes it, but it is hex). */
	expect_container("/docker/" UC, ID);
	expect_container("/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef"
			 "0123456789abcdef.scope",
			 ID);

	/* not containers */
	expect_container("", NULL);
	expect_container("/", NULL);
	expect_container("/system.slice/nginx.service", NULL);
	expect_container("/user.slice/user-1000.slice/session-2.scope", NULL);
	expect_container("/system.slice/docker.service", NULL);
	expect_container("/docker/" ID "0", NULL); /* 65 */
	expect_container("/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
			 NULL); /* 63 */
	expect_container("/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef"
			 "0123456789abcde.scope",
			 NULL); /* 63 */
	expect_container("/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
			 NULL);					       /* g */
	expect_container("/system.slice/docker-" ID, NULL);	       /* no .scope */
	expect_container("/system.slice/docker-" ID ".service", NULL); /* not a scope */
	expect_container("/docker/docker-" ID, NULL);		       /* mixed forms */
	expect_container("/" ID, NULL);				       /* bare, no parent */
	expect_container("/system.slice/" ID, NULL);		       /* bare, other parent */
	expect_container("/kubepods/burstable/" ID, NULL);	       /* not below a pod */
	expect_container("/other/pod1/" ID, NULL);		       /* a pod, no kubepods */
	expect_container("/machine.slice/libpod-" ID, NULL);	       /* bare, no libpod_parent */
	expect_container("/libpod_parent/" ID, NULL);		       /* no libpod- */
	expect_container("/system.slice/libpod-conmon-" ID ".scope", NULL); /* podman's conmon */
}

static void run(void)
{
	char tmpl[] = "/tmp/st_cgroup.XXXXXX";

	if (!mkdtemp(tmpl)) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		test_state.failed++;
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", tmpl);
	snprintf(tree, sizeof(tree), "%s/tree", tmp);
	mkdir_p(tree);
	make_tree();

	SUBTEST("mountinfo: hybrid, unified, escapes, no cgroup2") test_mountinfo();
	SUBTEST("this machine's cgroup2 mount") test_this_machine();
	SUBTEST("ids resolve to paths, root is /") test_paths();
	SUBTEST("a cgroup made after a walk resolves after 100 ms") test_walk_rule();
	SUBTEST("a removed cgroup's storm of lookups starts no walk") test_misses();
	SUBTEST("a cgroup removed after it resolved keeps its path") test_removed_after_resolved();
	SUBTEST("walk depth bound") test_depth();
	SUBTEST("--cgroup PATH lookup") test_lookup();
	SUBTEST("container ids of each runtime") test_containers();

	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TEST_MAIN(run)
