/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tasks of a container found through /proc instead of its task list: the
 * fallback for a container that exists but cannot be opened (a file system
 * mounted over it, a caller without CAP_DAC_READ_SEARCH), so its tasks are
 * still counted in its ancestors rather than dropped.
 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>

#include "internal.h"

struct want {
	const struct pcon_hier *h;
	char *path;     /* as /proc/PID/cgroup names it: the mount's root + path */
	size_t len;
	bool below;
};

/* Does the "ID:CONTROLLERS:PATH" line belong to hierarchy h? */
static bool line_is_hier(const struct pcon_hier *h, const char *id, const char *ctrls)
{
	if (h->version == 2)
		return strcmp(id, "0") == 0 && !ctrls[0];
	if (h->named) {
		return strncmp(ctrls, "name=", 5) == 0 &&
		       strcmp(ctrls + 5, h->named) == 0;
	}
	if (h->id > 0)
		return atoi(id) == h->id;
	return strcmp(ctrls, h->name) == 0; /* ids unknown: the controller list */
}

/* 1 if the cgroup file text puts the task in w, 0 if not. */
static int cgroup_text_matches(const struct want *w, char *text)
{
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		if (!line_is_hier(w->h, l, c1 + 1))
			continue;
		const char *p = c2 + 1;
		if (strncmp(p, w->path, w->len) != 0)
			return 0;
		if (p[w->len] == '\0')
			return 1;
		/* below the root "/" every path is a descendant */
		bool child = w->len == 1 || p[w->len] == '/';
		return w->below && child;
	}
	return 0;
}

/* Read dirfd/name/cgroup; 1 match, 0 no match or the task is gone. */
static int task_matches(const struct want *w, int dirfd, const char *name)
{
	char file[300];
	snprintf(file, sizeof(file), "%s/cgroup", name);
	_cleanup_free_ char *text = NULL;
	int r = read_text_at(dirfd, file, &text);
	if (r == -ENOENT || r == -ESRCH)
		return 0; /* exited meanwhile */
	return r < 0 ? r : cgroup_text_matches(w, text);
}

static int push_id(pid_t **v, size_t *n, size_t *cap, long id)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		pid_t *nv = realloc(*v, c * sizeof(pid_t));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (pid_t)id;
	return 0;
}

/* The threads of process pid that are in w. */
static int scan_threads(const struct want *w, int proc_fd, const char *pid, pid_t **v,
			size_t *n, size_t *cap)
{
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/task", pid);
	int tfd = openat(proc_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return 0; /* exited meanwhile */
	_cleanup_closedir_ DIR *d = fdopendir(tfd);
	if (!d) {
		close(tfd);
		return negerrno();
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		int m = task_matches(w, tfd, de->d_name);
		if (m < 0)
			return m;
		if (m && push_id(v, n, cap, strtol(de->d_name, NULL, 10)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

_public_ int pcon_tasks_below(const struct pcon *p, const struct pcon_hier *h, const char *path,
			      bool below, bool threads, pid_t **ret)
{
	_cleanup_free_ char *norm = NULL;
	int r = pcon_path_normalize(path, &norm);
	if (r < 0)
		return r;
	struct want w = { .h = h, .below = below };
	const char *root = h->root && strcmp(h->root, "/") ? h->root : "";
	if (asprintf(&w.path, "%s%s", root, root[0] && !strcmp(norm, "/") ? "" : norm) < 0)
		return -ENOMEM;
	_cleanup_free_ char *wpath = w.path;
	w.len = strlen(w.path);

	_cleanup_closedir_ DIR *d = NULL;
	r = opendir_at(p->proc_fd, &d);
	if (r < 0)
		return r;
	_cleanup_free_ pid_t *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (threads) {
			r = scan_threads(&w, dirfd(d), de->d_name, &v, &n, &cap);
		} else {
			r = task_matches(&w, dirfd(d), de->d_name);
			if (r > 0)
				r = push_id(&v, &n, &cap, strtol(de->d_name, NULL, 10));
		}
		if (r < 0)
			return r;
	}
	if (!v && !(v = malloc(sizeof(pid_t))))
		return -ENOMEM;
	qsort(v, n, sizeof(pid_t), cmp_pid);
	*ret = TAKE_PTR(v);
	return (int)n;
}
