/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * cgroup v2 ids (bpf_get_current_cgroup_id(): on 64-bit kernels >= 5.5 the
 * inode number of the cgroup's directory in the cgroup2 filesystem) turned
 * into paths relative to the cgroup2 mount and container ids.
 *
 * Resolution rule. Ids map to paths through a cache filled by walks of the
 * whole tree. A lookup that misses walks again, but never sooner than 100 ms
 * (CLOCK_MONOTONIC) after the previous walk ended, so a cgroup created since
 * the last walk resolves on its first lookup once those 100 ms have passed;
 * before that it reads as NULL. An id that a walk started after its first
 * lookup did not find (a cgroup removed before it was ever resolved) is
 * remembered as missing: further lookups of it cost a hash lookup and never
 * start a walk, though every later walk still looks for it. cgroup2 never
 * reuses an id, so a cgroup removed after it was resolved keeps its path
 * (late events still name it). The cache holds 65536 ids; when it is full
 * the next walk clears it and starts again, and ids removed by then read as
 * NULL. Strings returned stay valid until st_cgroups_free, even across a
 * clear (they are freed only there). Walks do not follow symlinks, do not
 * enter other file systems mounted inside, and stop 64 levels below the mount.
 *
 * Not thread-safe: one thread at a time per struct st_cgroups.
 */
#ifndef SOCKTAP_CGROUP_H
#define SOCKTAP_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

struct st_cgroups;

/*
 * mountinfo: NULL = /proc/self/mountinfo. Finds the cgroup2 mount (fstype
 * "cgroup2"; the first one if several: /sys/fs/cgroup/unified in hybrid mode,
 * /sys/fs/cgroup in unified mode) and opens it. -ENOENT if none, -errno else.
 */
int st_cgroups_open(const char *mountinfo, struct st_cgroups **out);
/* For tests: use this directory as the cgroup2 mount (any tree works, ids = inode numbers). */
int st_cgroups_open_dir(const char *mount_dir, struct st_cgroups **out);
void st_cgroups_free(struct st_cgroups *cg);
/* The mount point, without trailing slashes. */
const char *st_cgroups_mount(const struct st_cgroups *cg);

/*
 * id -> path relative to the mount ("/" for the root, "/a/b" below), or NULL
 * when no walk has seen a directory with that id (see the rule above).
 * Cached: valid until st_cgroups_free.
 */
const char *st_cgroups_path(struct st_cgroups *cg, uint64_t id);
/* The container id (64 lowercase hex) that the path of cgroup `id` names, or NULL. */
const char *st_cgroups_container(struct st_cgroups *cg, uint64_t id);

/*
 * Pure: the container id in a cgroup path, written to out[65]; false if the
 * path follows no known convention. The last component that matches wins
 * (the innermost container when they nest):
 *   docker-<id>.scope, /docker/<id>                docker (systemd, cgroupfs drivers)
 *   cri-containerd-<id>.scope                      containerd / CRI
 *   /kubepods/.../pod<uid>/<id>                    kubelet's cgroupfs driver
 *   crio-<id>.scope (not crio-conmon-<id>.scope)   CRI-O
 *   libpod-<id>.scope, /libpod_parent/libpod-<id>  podman
 * <id> is exactly 64 hex digits; upper case is accepted and written in lower
 * case, the spelling the runtimes use (they only ever create lower case).
 */
bool st_container_of_path(const char *path, char out[65]);

/*
 * A user's --cgroup PATH: relative to the mount ("/system.slice",
 * "system.slice") or absolute under the mount
 * ("/sys/fs/cgroup/unified/system.slice"). A path that does not start with
 * the mount point is taken as relative to it, so an absolute path outside
 * the mount ("/etc") names no cgroup: -ENOENT. ".." components are refused
 * (-EINVAL), as is "", and symbolic links are not followed (-ENOTDIR). Opens
 * the directory (O_RDONLY|O_DIRECTORY|O_CLOEXEC) into *fd (caller closes)
 * and gives its id; the id then resolves without a walk. -ENOENT if there is
 * no such cgroup, -ENOTDIR etc.
 */
int st_cgroups_lookup(struct st_cgroups *cg, const char *path, int *fd, uint64_t *id);

#endif
