/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kept-open /proc/<tid>/task/<tid>/stat files for the proc backend: a
 * thread read again (pcon stats -d, pcon top, pcond) is re-read with
 * pread() on the descriptor it had, which costs about half an open, read
 * and close. A table of tid -> fd (linear probing), within a descriptor
 * budget: half of the soft open-file limit left when the handle was opened,
 * so the application keeps the rest. A thread that exits is dropped when
 * its read fails; one not read for STALE_TAKES walks is closed.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "statcache.h"

#define STALE_TAKES 8

struct ent {
	pid_t tid; /* 0: empty slot */
	int fd;
	uint32_t used; /* the walk that last read it */
};

struct statcache {
	struct ent *v;
	size_t cap, n, budget;
	uint32_t walk;
};

static size_t slot_of(const struct statcache *c, pid_t tid)
{
	return ((size_t)(uint32_t)tid * 2654435761u) & (c->cap - 1);
}

int statcache_new(size_t budget, struct statcache **ret)
{
	struct rlimit rl;
	struct statcache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (budget != SIZE_MAX)
		c->budget = budget;
	else if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		c->budget = rl.rlim_cur > 256 ? (size_t)(rl.rlim_cur - 128) / 2 : 0;
	else
		c->budget = 1u << 16;
	*ret = c;
	return 0;
}

static void drop_at(struct statcache *c, size_t i)
{
	close(c->v[i].fd);
	c->n--;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (size_t j = (i + 1) & (c->cap - 1); c->v[j].tid; j = (j + 1) & (c->cap - 1)) {
		size_t home = slot_of(c, c->v[j].tid);
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			c->v[i] = c->v[j];
			i = j;
		}
	}
	c->v[i] = (struct ent){ 0 };
}

void statcache_free(struct statcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		if (c->v[i].tid)
			close(c->v[i].fd);
	free(c->v);
	free(c);
}

int statcache_get(struct statcache *c, pid_t tid)
{
	if (!c || !c->cap)
		return -ENOENT;
	for (size_t i = slot_of(c, tid); c->v[i].tid; i = (i + 1) & (c->cap - 1))
		if (c->v[i].tid == tid) {
			c->v[i].used = c->walk;
			return c->v[i].fd;
		}
	return -ENOENT;
}

static int grow(struct statcache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 1024;
	struct ent *old = c->v, *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t old_cap = c->cap;
	c->v = v;
	c->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].tid)
			continue;
		size_t j = slot_of(c, old[i].tid);
		while (v[j].tid)
			j = (j + 1) & (cap - 1);
		v[j] = old[i];
	}
	free(old);
	return 0;
}

bool statcache_put(struct statcache *c, pid_t tid, int fd)
{
	if (!c || c->n >= c->budget || tid <= 0)
		return false;
	if ((c->n + 1) * 2 > c->cap && grow(c) < 0)
		return false;
	size_t i = slot_of(c, tid);
	while (c->v[i].tid && c->v[i].tid != tid)
		i = (i + 1) & (c->cap - 1);
	if (c->v[i].tid)
		close(c->v[i].fd); /* a tid reused: the new thread's file wins */
	else
		c->n++;
	c->v[i] = (struct ent){ .tid = tid, .fd = fd, .used = c->walk };
	return true;
}

void statcache_drop(struct statcache *c, pid_t tid)
{
	if (!c || !c->cap)
		return;
	for (size_t i = slot_of(c, tid); c->v[i].tid; i = (i + 1) & (c->cap - 1))
		if (c->v[i].tid == tid) {
			drop_at(c, i);
			return;
		}
}

void statcache_next_walk(struct statcache *c)
{
	if (!c)
		return;
	c->walk++;
	if (c->walk % STALE_TAKES)
		return;
	/* Close what no recent walk read: threads that exited unseen, or
	 * containers no longer asked about. */
	for (size_t i = 0; i < c->cap;) {
		if (c->v[i].tid && c->walk - c->v[i].used >= STALE_TAKES)
			drop_at(c, i); /* slot i now holds the next entry: look again */
		else
			i++;
	}
}

size_t statcache_room(const struct statcache *c)
{
	return c && c->budget > c->n ? c->budget - c->n : 0;
}

size_t statcache_size(const struct statcache *c)
{
	return c ? c->n : 0;
}
