/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon ownership: giving a user a container, in the kernel's cgroup v2
 * delegation model (Documentation/admin-guide/cgroup-v2.rst, "Delegation").
 */
#ifndef PCON_OWNER_H
#define PCON_OWNER_H

#include <stdbool.h>
#include <sys/types.h>

#include "pcon/pcon.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pcon_owner {
	bool set;
	uid_t uid;
	gid_t gid;
};

/* "USER[:GROUP]", names or numbers; without GROUP the user's primary group
 * (a bare number with no passwd entry: gid = uid). -EINVAL no such user or group. */
int pcon_owner_parse(const char *s, struct pcon_owner *ret);

/*
 * Give container c to users, all or nothing (on failure every owner changed
 * is put back):
 *   admin  the directory (so the user may make and remove children) and the
 *          files that delegate: on v2 cgroup.procs, cgroup.threads and
 *          cgroup.subtree_control, never the resource files, so limits set on
 *          c itself stay with their owner; on v1 every file of c except the
 *          task lists (v1 has no delegation model: like libcgroup's -a).
 *   tasks  the task lists only (tasks, cgroup.procs, cgroup.threads): the
 *          user may move processes in and out. On v2 admin implies tasks
 *          unless tasks is given.
 * Either may be unset. Errors: -EPERM not allowed, -ENOENT container removed.
 */
int pcon_container_chown(const struct pcon_container *c, const struct pcon_owner *admin,
			 const struct pcon_owner *tasks);

#ifdef __cplusplus
}
#endif

#endif
