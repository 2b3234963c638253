/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Task-state statistics: backend names, selection, and the descendant walk. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

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

/* c's own threads, then (recursive) every descendant's. A descendant that
 * vanishes during the walk is skipped; c itself vanishing is an error. */
static int walk(struct pcon *p, const struct pcon_container *c, bool recursive, bool top,
		read_one_fn fn, struct pcon_taskstats *acc)
{
	int r = fn(p, c, acc);
	if (r < 0)
		return r;
	acc->containers++;
	if (!recursive)
		return 0;
	_cleanup_strv_free_ char **kids = NULL;
	r = pcon_container_children(c, &kids);
	if (r < 0)
		return r == -ENOENT && !top ? 0 : r;
	for (int i = 0; kids[i]; i++) {
		struct pcon_container *k;
		r = pcon_container_open_child(c, kids[i], &k);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = walk(p, k, true, false, fn, acc);
		pcon_container_free(k);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_with(struct pcon *p, const struct pcon_container *c, enum pcon_backend b,
		     bool recursive, struct pcon_taskstats *ret)
{
	struct pcon_taskstats s = { 0 };
	int r;
	switch (b) {
	case PCON_BACKEND_PROC:
		s.unknown = PCON_TASKSTATS_IO_WAIT;
		r = walk(p, c, recursive, true, taskstate_proc_read, &s);
		break;
	case PCON_BACKEND_KERNEL:
		if (c->hier->version != 1)
			return -EPROTONOSUPPORT;
		s.unknown = PCON_TASKSTATS_IDLE;
		r = walk(p, c, recursive, true, taskstate_kernel_read, &s);
		break;
	case PCON_BACKEND_BPF:
		r = taskstate_bpf_read(p, c, recursive, &s);
		break;
	default:
		return -EINVAL;
	}
	if (r >= 0 && b != PCON_BACKEND_PROC)
		r = container_alive(c);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

_public_ int pcon_taskstate_read(struct pcon *p, const struct pcon_container *c,
				 enum pcon_backend backend, unsigned flags,
				 struct pcon_taskstats *ret, enum pcon_backend *ret_used)
{
	if (!p || !c || !ret || (flags & ~PCON_TASKSTATE_RECURSIVE))
		return -EINVAL;
	bool recursive = flags & PCON_TASKSTATE_RECURSIVE;
	enum pcon_backend b = backend;
	int r;
	if (backend == PCON_BACKEND_AUTO)
		/* Only a loader failure falls back; a container error is the answer. */
		b = taskstate_bpf_ready(p) == 0 ? PCON_BACKEND_BPF : PCON_BACKEND_PROC;
	r = read_with(p, c, b, recursive, ret);
	if (r < 0)
		return r;
	if (ret_used)
		*ret_used = b;
	return 0;
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
