/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Task-state snapshots: every container's own counts from one walk, looked
 * up by id; a subtree's sums come from the parent links, so a container
 * that cannot be opened by name still counts in its ancestors.
 */
#include <stdlib.h>
#include <string.h>

#include "taskstate-internal.h"

struct tsnap_entry {
	uint64_t id, parent;
	uint64_t kids; /* entries whose parent this is */
	struct pcon_taskstats own, sum;
};

struct pcon_tsnap {
	struct tsnap_entry *v;
	size_t n, cap;
	bool sparse; /* absent ids had no threads (the task walk) */
	struct pcon_taskstate_info info;
};

int tsnap_new(bool sparse, struct pcon_tsnap **ret)
{
	struct pcon_tsnap *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->sparse = sparse;
	*ret = s;
	return 0;
}

void tsnap_set_info(struct pcon_tsnap *s, const struct pcon_taskstate_info *info)
{
	s->info = *info;
}

size_t tsnap_size(const struct pcon_tsnap *s)
{
	return s->n;
}

void tsnap_set_fallback(struct pcon_tsnap *s, int err)
{
	s->info.fallback = err;
}

int tsnap_add(struct pcon_tsnap *s, uint64_t id, uint64_t parent, const struct pcon_taskstats *own)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8; /* most queries are of one container */
		struct tsnap_entry *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	struct tsnap_entry *e = &s->v[s->n++];
	*e = (struct tsnap_entry){ .id = id, .parent = parent, .own = *own };
	e->own.containers = 1;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	uint64_t x = ((const struct tsnap_entry *)a)->id, y = ((const struct tsnap_entry *)b)->id;
	return x < y ? -1 : x > y;
}

static struct tsnap_entry *find(const struct pcon_tsnap *s, uint64_t id)
{
	struct tsnap_entry key = { .id = id };
	return s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_entry) : NULL;
}

/* Sort by id and add each container's own counts to its every ancestor's sum. */
void tsnap_finish(struct pcon_tsnap *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_entry);
	for (size_t i = 0; i < s->n; i++) {
		s->v[i].sum = (struct pcon_taskstats){ .unknown = s->v[i].own.unknown };
		s->v[i].kids = 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct tsnap_entry *e = &s->v[i], *p = e->parent ? find(s, e->parent) : NULL;
		if (p)
			p->kids++;
		/* Parent links come from the kernel; a cycle cannot occur, but the
		 * walk up is bounded by the number of entries all the same. */
		for (size_t hops = 0; e && hops <= s->n; hops++) {
			pcon_taskstats_add(&e->sum, &s->v[i].own);
			e = e->parent ? find(s, e->parent) : NULL;
		}
	}
}

_public_ int pcon_tsnap_get(const struct pcon_tsnap *s, uint64_t id, unsigned flags,
			    struct pcon_taskstats *ret)
{
	if (!s || !ret || (flags & ~PCON_TASKSTATE_RECURSIVE))
		return -EINVAL;
	const struct tsnap_entry *e = find(s, id);
	if (!e && !s->sparse)
		return -ENOENT;
	if (!e) {
		*ret = (struct pcon_taskstats){ .unknown = s->n ? s->v[0].own.unknown : 0 };
		return 0;
	}
	*ret = flags & PCON_TASKSTATE_RECURSIVE ? e->sum : e->own;
	return 0;
}

_public_ int pcon_tsnap_parent(const struct pcon_tsnap *s, uint64_t id, uint64_t *ret)
{
	const struct tsnap_entry *e = s ? find(s, id) : NULL;
	if (!e)
		return -ENOENT;
	*ret = e->parent;
	return 0;
}

_public_ int pcon_tsnap_children(const struct pcon_tsnap *s, uint64_t id, uint64_t *ret)
{
	const struct tsnap_entry *e = s ? find(s, id) : NULL;
	if (s && s->sparse)
		return -EOPNOTSUPP;
	if (!e)
		return -ENOENT;
	*ret = e->kids;
	return 0;
}

_public_ void pcon_tsnap_info(const struct pcon_tsnap *s, struct pcon_taskstate_info *ret)
{
	*ret = s->info;
}

_public_ void pcon_tsnap_free(struct pcon_tsnap *s)
{
	if (!s)
		return;
	free(s->v);
	free(s);
}
