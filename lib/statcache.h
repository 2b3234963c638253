/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kept-open per-thread stat files of the proc backend; not public API. */
#ifndef PCON_STATCACHE_H
#define PCON_STATCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "internal.h"

struct statcache;

/* budget: how many fds it may keep; SIZE_MAX: half the soft open-file limit. */
int statcache_new(size_t budget, struct statcache **ret);
void statcache_free(struct statcache *c);
/* The kept fd of tid's stat file, or -ENOENT. Safe from several threads at
 * once while nothing is put or dropped. */
int statcache_get(struct statcache *c, pid_t tid);
/* Keep fd (taken) for tid; false (fd not taken) when over the budget. */
bool statcache_put(struct statcache *c, pid_t tid, int fd);
/* Close and forget tid's fd. */
void statcache_drop(struct statcache *c, pid_t tid);
/* A new walk begins; now and then close what recent walks did not read. */
void statcache_next_walk(struct statcache *c);
size_t statcache_size(const struct statcache *c);
/* How many more files it may keep. */
size_t statcache_room(const struct statcache *c);

#endif
