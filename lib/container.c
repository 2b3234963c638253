/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container handles: directory fds beneath a hierarchy root. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"
#include "subsys.h"

_public_ void pcon_container_free(struct pcon_container *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	free(c);
}

static void container_freep(struct pcon_container **c) { pcon_container_free(*c); }

/* Relative form of a normalized path for openat2: "/" -> ".", "/a/b" -> "a/b". */
static const char *rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

/* Wrap an open directory fd (taken) as a handle. */
static int container_new(const struct pcon_hier *h, int fd, const char *path,
			 struct pcon_container **ret)
{
	_cleanup_close_ int dfd = fd;
	struct stat st;
	if (fstat(dfd, &st) < 0)
		return negerrno();
	_cleanup_(container_freep) struct pcon_container *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -EBADF;
	if (!(c->path = strdup(path)))
		return -ENOMEM;
	c->hier = h;
	c->id = (uint64_t)st.st_ino;
	c->fd = TAKE_FD(dfd);
	*ret = TAKE_PTR(c);
	return 0;
}

/* Normalize path for hierarchy h, whose root must have opened. */
static int hier_path(const struct pcon_hier *h, const char *path, char **ret)
{
	if (h->root_fd < 0)
		return h->root_fd;
	return pcon_path_normalize(path, ret);
}

_public_ int pcon_container_open(const struct pcon_hier *h, const char *path,
				 struct pcon_container **ret)
{
	_cleanup_free_ char *norm = NULL;
	int r = hier_path(h, path, &norm);
	if (r < 0)
		return r;
	int fd = open_beneath(h->root_fd, rel(norm), O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	return container_new(h, fd, norm, ret);
}

_public_ int pcon_container_open_child(const struct pcon_container *c, const char *name,
				       struct pcon_container **ret)
{
	if (strchr(name, '/'))
		return -EINVAL;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/%s", strcmp(c->path, "/") ? c->path : "", name) < 0)
		return -ENOMEM;
	_cleanup_free_ char *norm = NULL;
	int r = pcon_path_normalize(path, &norm);
	if (r < 0)
		return r;
	int fd = open_beneath(c->fd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	return container_new(c->hier, fd, norm, ret);
}

/* A new v1 cpuset starts with no CPUs or memory nodes: give it its parent's. */
static int cpuset_inherit(const struct pcon_hier *h, int parent_fd, int fd)
{
	const char *const files[] = { hier_file(h, "cpuset.cpus"), hier_file(h, "cpuset.mems") };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *mine = NULL, *theirs = NULL;
		int r = read_text_at(fd, files[i], &mine);
		if (r < 0)
			return r;
		if (strstrip(mine)[0])
			continue;
		r = read_text_at(parent_fd, files[i], &theirs);
		if (r < 0)
			return r;
		if (!strstrip(theirs)[0])
			continue;
		r = write_text_at(fd, files[i], theirs);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Remove a directory, waiting briefly for tasks that are exiting to leave it. */
static int rmdir_at(int parent_fd, const char *name)
{
	for (int i = 0;; i++) {
		if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
			return 0;
		if (errno != EBUSY || i == 50)
			return negerrno();
		nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	}
}

/* Close level fds; on failure first remove the levels made here, deepest first. */
static void create_unwind(int *fds, char **comp, size_t level, size_t made_from, bool undo)
{
	for (size_t i = level; i > 0; i--) {
		if (undo && i > made_from)
			(void)rmdir_at(fds[i - 1], comp[i - 1]);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	if (fds[0] >= 0)
		close(fds[0]);
}

_public_ int pcon_container_create(const struct pcon_hier *h, const char *path,
				   struct pcon_container **ret)
{
	_cleanup_free_ char *norm = NULL;
	int r = hier_path(h, path, &norm);
	if (r < 0)
		return r;
	size_t depth = 0;
	for (const char *s = norm; *s; s++)
		depth += *s == '/';
	/* fds[i] is the directory of level i; comp[i] names level i + 1 inside it. */
	_cleanup_free_ int *fds = malloc((depth + 1) * sizeof(int));
	_cleanup_free_ char **comp = malloc((depth + 1) * sizeof(char *));
	_cleanup_free_ char *names = strdup(norm);
	if (!fds || !comp || !names)
		return -ENOMEM;

	bool cpuset_v1 = h->version == 1 && pcon_hier_has(h, "cpuset");
	size_t level = 0, made_from = SIZE_MAX; /* first level made by this call */
	fds[0] = open_beneath(h->root_fd, ".", O_RDONLY | O_DIRECTORY);
	if (fds[0] < 0)
		return fds[0];
	for (char *save = NULL, *t = strtok_r(names, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		bool made = mkdirat(fds[level], t, 0755) == 0;
		if (!made && errno != EEXIST) {
			r = negerrno();
			break;
		}
		int fd = open_beneath(fds[level], t, O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			r = fd;
			if (made)
				(void)rmdir_at(fds[level], t);
			break;
		}
		comp[level] = t;
		fds[++level] = fd;
		if (made && made_from == SIZE_MAX)
			made_from = level;
		if (made && cpuset_v1 && (r = cpuset_inherit(h, fds[level - 1], fd)) < 0)
			break;
	}
	if (r == 0) {
		r = container_new(h, fds[level], norm, ret);
		fds[level] = -EBADF; /* taken by container_new, even on failure */
		if (r == 0)
			r = made_from == SIZE_MAX ? 0 : (int)(level - made_from + 1);
	}
	create_unwind(fds, comp, level, made_from == SIZE_MAX ? level : made_from - 1, r < 0);
	return r;
}

/* Names of the subdirectories of dir fd, sorted. Returns the count. */
/* Sorted names of the entries of directory fd of type (DT_DIR: children). */
static int list_entries(int fd, unsigned char type, char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	int r = opendir_at(fd, &d);
	if (r < 0)
		return r;
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (de->d_type != type || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *s = strdup(de->d_name);
		if (!s || strv_push(&v, &n, s) < 0)
			return -ENOMEM;
	}
	if (errno)
		return negerrno();
	if (!v && !(v = calloc(1, sizeof(char *))))
		return -ENOMEM;
	qsort(v, n, sizeof(char *), strcmp_ptr);
	*ret = TAKE_PTR(v);
	return (int)n;
}

static int list_children(int fd, char ***ret)
{
	return list_entries(fd, DT_DIR, ret);
}

_public_ int pcon_container_children(const struct pcon_container *c, char ***ret)
{
	return list_children(c->fd, ret);
}

_public_ int pcon_container_files(const struct pcon_container *c, char ***ret)
{
	return list_entries(c->fd, DT_REG, ret);
}

/* The task list file: cgroup.procs for processes; tasks (v1) or cgroup.threads (v2). */
static const char *tasks_file(const struct pcon_hier *h, bool threads)
{
	if (!threads)
		return "cgroup.procs";
	return h->version == 1 ? "tasks" : "cgroup.threads";
}

_public_ int pcon_container_tasks(const struct pcon_container *c, bool threads, pid_t **ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_text_at(c->fd, tasks_file(c->hier, threads), &text);
	if (r == -EOPNOTSUPP && !threads) /* a threaded v2 cgroup lists no processes */
		r = read_text_at(c->fd, "cgroup.threads", &text);
	if (r < 0)
		return r;
	return pid_list_parse(text, ret);
}

/* Is name in dir fd a mount point (a file system mounted over a container)? */
static bool covered_at(int fd, const char *name)
{
	struct stat pst, st;
	/* stat follows the mount: another device means something covers it */
	return fstat(fd, &pst) == 0 && fstatat(fd, name, &st, 0) == 0 && st.st_dev != pst.st_dev;
}

/* 1 if the container at fd or any descendant holds a task, 0 if none;
 * -EXDEV if a descendant has a file system mounted over it. */
static int holds_tasks(int fd)
{
	_cleanup_free_ char *text = NULL;
	int r = read_text_at(fd, "cgroup.procs", &text);
	if (r == -EOPNOTSUPP)
		r = read_text_at(fd, "cgroup.threads", &text);
	if (r < 0)
		return r;
	if (strstrip(text)[0])
		return 1;
	_cleanup_strv_free_ char **kids = NULL;
	r = list_children(fd, &kids);
	for (int i = 0; r > 0 && kids[i]; i++) {
		if (covered_at(fd, kids[i]))
			return -EXDEV;
		_cleanup_close_ int kfd = open_beneath(fd, kids[i], O_RDONLY | O_DIRECTORY);
		if (kfd < 0)
			return kfd == -ENOENT ? 0 : kfd;
		int t = holds_tasks(kfd);
		if (t != 0)
			return t;
	}
	return r < 0 ? r : 0;
}

/* Remove name beneath parent_fd, descendants first. */
static int remove_tree(int parent_fd, const char *name)
{
	_cleanup_strv_free_ char **kids = NULL;
	int fd = open_beneath(parent_fd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	int r = list_children(fd, &kids);
	for (int i = 0; r > 0 && kids[i]; i++) {
		int k = remove_tree(fd, kids[i]);
		if (k < 0 && k != -ENOENT) {
			r = k;
			break;
		}
	}
	close(fd);
	return r < 0 ? r : rmdir_at(parent_fd, name);
}

_public_ int pcon_container_remove(const struct pcon_hier *h, const char *path, bool recursive)
{
	_cleanup_free_ char *norm = NULL;
	int r = hier_path(h, path, &norm);
	if (r < 0)
		return r;
	if (strcmp(norm, "/") == 0)
		return -EPERM;
	char *slash = strrchr(norm, '/');
	*slash = '\0';
	const char *name = slash + 1;
	_cleanup_close_ int parent = open_beneath(h->root_fd, norm[0] ? norm + 1 : ".",
						   O_RDONLY | O_DIRECTORY);
	if (parent < 0)
		return parent;
	if (covered_at(parent, name))
		return -EXDEV; /* rmdir would fail with EBUSY: say why, remove nothing */
	_cleanup_close_ int fd = open_beneath(parent, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	if (!recursive) {
		_cleanup_strv_free_ char **kids = NULL;
		r = list_children(fd, &kids);
		if (r != 0)
			return r < 0 ? r : -ENOTEMPTY;
	}
	r = holds_tasks(fd);
	if (r != 0)
		return r < 0 ? r : -EBUSY;
	return remove_tree(parent, name);
}

_public_ int pcon_container_attach(const struct pcon_container *c, pid_t pid, bool thread)
{
	char buf[32];
	if (pid <= 0)
		return -ESRCH;
	int r = subsys_check_attach(c);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	return write_text_at(c->fd, tasks_file(c->hier, thread), buf);
}

/* Is ctrl listed in the cgroup.subtree_control of dir fd? */
static int subtree_has(int fd, const char *ctrl)
{
	_cleanup_free_ char *text = NULL;
	int r = read_text_at(fd, "cgroup.subtree_control", &text);
	if (r < 0)
		return r;
	for (char *save = NULL, *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (strcmp(t, ctrl) == 0)
			return 1;
	return 0;
}

_public_ int pcon_container_enable(const struct pcon_hier *h, const char *path, const char *ctrl)
{
	if (h->version != 2)
		return 0;
	if (!pcon_hier_has(h, ctrl)) {
		const char *sub = subsys_controller(ctrl, 2);
		if (sub && !sub[0])
			return 0; /* a core v2 file: nothing to enable */
		if (!sub || !pcon_hier_has(h, sub))
			return -EOPNOTSUPP;
		ctrl = sub;
	}
	_cleanup_free_ char *norm = NULL, *plus = NULL, *minus = NULL;
	int r = hier_path(h, path, &norm);
	if (r < 0)
		return r;
	if (asprintf(&plus, "+%s", ctrl) < 0 || asprintf(&minus, "-%s", ctrl) < 0)
		return -ENOMEM;
	size_t depth = 0;
	for (const char *c = norm; *c; c++)
		depth += *c == '/' && c[1];
	_cleanup_free_ int *done = calloc(depth + 1, sizeof(int)); /* fds we enabled in */
	if (!done)
		return -ENOMEM;
	size_t n_done = 0;
	int fd = open_beneath(h->root_fd, ".", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	/* Enable from the root down to the container's parent. */
	char *save = NULL, *t = norm[1] ? strtok_r(norm + 1, "/", &save) : NULL;
	while (t && r >= 0) {
		r = subtree_has(fd, ctrl);
		if (r == 0 && (r = write_text_at(fd, "cgroup.subtree_control", plus)) == 0)
			done[n_done++] = dup(fd);
		if (r < 0)
			break;
		int next = open_beneath(fd, t, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		if (fd < 0)
			r = fd;
		t = strtok_r(NULL, "/", &save);
	}
	if (fd >= 0)
		close(fd);
	for (size_t i = n_done; i-- > 0;) {
		if (r < 0 && done[i] >= 0)
			(void)write_text_at(done[i], "cgroup.subtree_control", minus);
		if (done[i] >= 0)
			close(done[i]);
	}
	return r < 0 ? r : 0;
}
