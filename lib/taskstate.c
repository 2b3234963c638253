/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Task-state statistics: backend names, selection, and the descendant walk. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "statcache.h"
#include "taskstate-internal.h"

static const char *const backend_names[PCON_BACKEND_MAX] = {
	[PCON_BACKEND_AUTO] = "auto",
	[PCON_BACKEND_KERNEL] = "kernel",
	[PCON_BACKEND_PROC] = "proc",
	[PCON_BACKEND_BPF] = "bpf",
};

_public_ const char *pcon_backend_to_string(enum pcon_backend b)
{
	return b >= 0 && b < PCON_BACKEND_MAX ? backend_names[b] : NULL;
}

static const char *const walk_names[PCON_WALK_MAX] = {
	[PCON_WALK_NONE] = "none",
	[PCON_WALK_CSS_TASK] = "css_task",
	[PCON_WALK_TASK] = "task",
	[PCON_WALK_CSS_SET] = "css_set",
};

_public_ const char *pcon_walk_to_string(enum pcon_walk w)
{
	return w >= 0 && w < PCON_WALK_MAX ? walk_names[w] : NULL;
}

_public_ enum pcon_backend pcon_backend_from_string(const char *s)
{
	for (int i = 0; s && i < PCON_BACKEND_MAX; i++)
		if (strcmp(s, backend_names[i]) == 0)
			return (enum pcon_backend)i;
	return PCON_BACKEND_INVALID;
}

unsigned int taskstate_letter_bits(char letter, unsigned int *ret_exit_state)
{
	*ret_exit_state = 0;
	switch (letter) {
	case 'R': return 0;
	case 'S': return TS_INTERRUPTIBLE;
	case 'D': return TS_UNINTERRUPTIBLE;
	case 'T': return TS_STOPPED;
	case 't': return TS_TRACED;
	case 'P': return TS_PARKED;
	case 'I': return TS_UNINTERRUPTIBLE | TS_NOLOAD;
	case 'Z': *ret_exit_state = TS_EXIT_ZOMBIE; return 0;
	case 'X': *ret_exit_state = TS_EXIT_DEAD; return 0;
	default: return TS_DEAD; /* a letter this code does not know: "other" */
	}
}

int taskstate_parse_stat(const char *line, char *ret_state)
{
	/* comm may hold spaces and ')': only the last ')' ends it. */
	const char *e = strrchr(line, ')');
	if (!e || e[1] != ' ' || !e[2] || e[2] == ' ' || e[2] == '\n')
		return -EBADMSG;
	*ret_state = e[2];
	return 0;
}

/* Does the container still exist? A removed cgroup's fd answers zeros. */
static int container_alive(const struct pcon_container *c)
{
	struct stat st;
	if (fstatat(c->fd, "cgroup.procs", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? -ENOENT : negerrno();
	return 0;
}

typedef int (*read_one_fn)(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc);

/*
 * A child that exists but cannot be opened (a mount over it): its threads,
 * and its descendants', found through /proc, count as one entry under c, so
 * they still count in c's sums. Its id is made up: nothing can look it up.
 */
static int walk_unopenable(struct pcon *p, const struct pcon_container *c, const char *name,
			   unsigned unknown, struct pcon_tsnap *s)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ pid_t *tids = NULL;
	if (asprintf(&path, "%s/%s", strcmp(c->path, "/") ? c->path : "", name) < 0)
		return -ENOMEM;
	int n = pcon_tasks_below(p, c->hier, path, true, true, &tids);
	if (n < 0)
		return n;
	struct pcon_taskstats own = { .unknown = unknown };
	int r = taskstate_proc_read_tids(p, tids, (size_t)n, &own);
	if (r < 0)
		return r;
	return tsnap_add(s, UINT64_MAX - tsnap_size(s), c->id, &own);
}

/* c's own threads, then (recursive) every descendant's, one entry each. A
 * descendant that vanishes during the walk is skipped; c itself vanishing
 * is an error. */
static int walk(struct pcon *p, const struct pcon_container *c, uint64_t parent, bool recursive,
		bool top, read_one_fn fn, unsigned unknown, struct pcon_tsnap *s)
{
	struct pcon_taskstats own = { .unknown = unknown };
	int r = fn(p, c, &own);
	if (r < 0)
		return r;
	r = tsnap_add(s, c->id, parent, &own);
	if (r < 0 || !recursive)
		return r;
	_cleanup_strv_free_ char **kids = NULL;
	r = pcon_container_children(c, &kids);
	if (r < 0)
		return (r == -ENOENT || r == -ENODEV) && !top ? 0 : r;
	for (int i = 0; kids[i]; i++) {
		struct pcon_container *k;
		r = pcon_container_open_child(c, kids[i], &k);
		if (r == -ENOENT)
			continue;
		if (r == -EXDEV) {
			/* A mount covers it: proc finds its threads through /proc; the
			 * kernel backend needs a directory fd and leaves it out. */
			r = fn == taskstate_proc_read ? walk_unopenable(p, c, kids[i], unknown, s) : 0;
			if (r < 0)
				return r;
			continue;
		}
		if (r < 0)
			return r;
		r = walk(p, k, c->id, true, false, fn, unknown, s);
		pcon_container_free(k);
		if (r == -ENOENT || r == -ENODEV)
			continue; /* removed while we looked */
		if (r < 0)
			return r;
	}
	return 0;
}

/* Snapshot c (and, recursive, its subtree) with one backend. */
static int take_with(struct pcon *p, const struct pcon_container *c, enum pcon_backend b,
		     bool recursive, struct pcon_tsnap **ret)
{
	struct pcon_taskstate_info info = { .backend = b };
	int r;
	if (b == PCON_BACKEND_BPF && (r = taskstate_bpf_ready(p)) < 0)
		return r;
	if (b == PCON_BACKEND_BPF)
		info.walk = taskstate_bpf_walk_kind(p);
	if (b == PCON_BACKEND_KERNEL && c->hier->version != 1)
		return -EPROTONOSUPPORT;
	struct pcon_tsnap *s;
	r = tsnap_new(info.walk == PCON_WALK_TASK, &s);
	if (r < 0)
		return r;
	switch (b) {
	case PCON_BACKEND_PROC:
		statcache_next_walk(p->ts.stats);
		r = walk(p, c, 0, recursive, true, taskstate_proc_read, PCON_TASKSTATS_IO_WAIT, s);
		break;
	case PCON_BACKEND_KERNEL:
		r = walk(p, c, 0, recursive, true, taskstate_kernel_read, PCON_TASKSTATS_IDLE, s);
		break;
	case PCON_BACKEND_BPF:
		r = taskstate_bpf_walk(p, c, recursive, s);
		break;
	default:
		r = -EINVAL;
	}
	/* A removed cgroup's fd answers zeros to cgroupstats and the task walk;
	 * the css_task walk finds no cgroup at all and said so already. */
	if (r >= 0 && b != PCON_BACKEND_PROC && info.walk != PCON_WALK_CSS_TASK)
		r = container_alive(c);
	if (r == -ENODEV)
		r = -ENOENT; /* the kernel's answer for a removed cgroup's files */
	if (r < 0) {
		pcon_tsnap_free(s);
		return r;
	}
	tsnap_set_info(s, &info);
	tsnap_finish(s);
	*ret = s;
	return 0;
}

/* Snapshot with backend (auto: bpf, else proc for this query, saying why). */
static int take(struct pcon *p, const struct pcon_container *c, enum pcon_backend backend,
		bool recursive, struct pcon_tsnap **ret)
{
	if (backend < 0 || backend >= PCON_BACKEND_MAX)
		return -EINVAL;
	if (backend != PCON_BACKEND_AUTO)
		return take_with(p, c, backend, recursive, ret);
	int err = take_with(p, c, PCON_BACKEND_BPF, recursive, ret);
	if (err >= 0 || err == -ENOENT)
		return err; /* a container error is the answer, not a reason to fall back */
	int r = take_with(p, c, PCON_BACKEND_PROC, recursive, ret);
	if (r >= 0)
		tsnap_set_fallback(*ret, err);
	return r;
}

_public_ int pcon_tsnap_take(struct pcon *p, const struct pcon_container *top,
			     enum pcon_backend backend, struct pcon_tsnap **ret)
{
	if (!p || !top || !ret)
		return -EINVAL;
	return take(p, top, backend, true, ret);
}

_public_ int pcon_taskstate_read(struct pcon *p, const struct pcon_container *c,
				 enum pcon_backend backend, unsigned flags,
				 struct pcon_taskstats *ret, struct pcon_taskstate_info *ret_info)
{
	if (!p || !c || !ret || (flags & ~PCON_TASKSTATE_RECURSIVE))
		return -EINVAL;
	struct pcon_tsnap *s;
	int r = take(p, c, backend, flags & PCON_TASKSTATE_RECURSIVE, &s);
	if (r < 0)
		return r;
	r = pcon_tsnap_get(s, c->id, flags, ret);
	if (r >= 0 && ret_info)
		pcon_tsnap_info(s, ret_info);
	pcon_tsnap_free(s);
	return r;
}
_public_ void pcon_taskstats_add(struct pcon_taskstats *a, const struct pcon_taskstats *b)
{
	a->running += b->running;
	a->sleeping += b->sleeping;
	a->uninterruptible += b->uninterruptible;
	a->stopped += b->stopped;
	a->io_wait += b->io_wait;
	a->idle += b->idle;
	a->other += b->other;
	a->total += b->total;
	a->containers += b->containers;
	a->unknown |= b->unknown;
}
