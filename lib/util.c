/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small file, parsing and string-vector helpers. */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "internal.h"

/* Read a whole (possibly large, unsized) kernel file into a NUL-terminated string. */
int read_text_at(int dirfd, const char *name, char **ret)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negerrno();

	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - len < 2) {
			char *n = realloc(buf, cap * 2);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return negerrno();
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* One write(2) of text: cgroupfs takes each write as one command. */
int write_text_at(int dirfd, const char *name, const char *text)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negerrno();
	/* A write of no bytes never reaches a cgroup file's handler: the
	 * empty value (cpuset.cpus=) is written as a lone newline. */
	if (!*text)
		text = "\n";
	size_t len = strlen(text);
	ssize_t r = write(fd, text, len);
	if (r < 0)
		return negerrno();
	return (size_t)r == len ? 0 : -EIO;
}

/*
 * The same confinement as openat2 RESOLVE_BENEATH|NO_SYMLINKS|NO_XDEV, one
 * component at a time, for kernels (and tools such as valgrind) without
 * openat2: ".." is refused, a symlink anywhere gives -ELOOP, a component on
 * another mount gives -EXDEV.
 */
int open_beneath_walk(int dirfd, const char *path, int flags)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return negerrno();
	dev_t dev = st.st_dev;
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	_cleanup_close_ int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return negerrno();
	char *save = NULL, *comp = strtok_r(copy, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0)
			return -EXDEV;
		if (strcmp(comp, ".") == 0) {
			comp = next;
			continue;
		}
		/* O_PATH|O_NOFOLLOW opens a symlink itself: fstat tells. */
		_cleanup_close_ int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return negerrno();
		if (fstat(fd, &st) < 0)
			return negerrno();
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (st.st_dev != dev)
			return -EXDEV;
		if (next && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		closep(&cur);
		cur = TAKE_FD(fd);
		comp = next;
	}
	/* Reopen the directory reached (never by name again) with the flags asked for. */
	if (!(flags & O_DIRECTORY))
		return -EINVAL; /* only directories are opened beneath a root */
	if (fstat(cur, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	int fd = openat(cur, ".", flags | O_CLOEXEC);
	return fd < 0 ? negerrno() : fd;
}

/* One openat2 confined beneath dirfd; -ENOSYS where the kernel lacks it. */
static int openat2_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
			   RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? negerrno() : (int)fd;
}

/* The inode number and type dirfd's listing gives for name; -ENOENT if none. */
static int dir_entry(int dirfd, const char *name, ino_t *ret_ino, unsigned char *ret_type)
{
	_cleanup_closedir_ DIR *d = NULL;
	int r = opendir_at(dirfd, &d);
	if (r < 0)
		return r;
	struct dirent *de;
	while ((errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, name) == 0) {
			*ret_ino = de->d_ino;
			*ret_type = de->d_type;
			return 0;
		}
	return errno ? negerrno() : -ENOENT;
}

/* kernfs (cgroupfs) file handles: type FILEID_KERNFS, the 64-bit node id,
 * which is the inode number on 64-bit kernels. */
#define FILEID_KERNFS 0xfe

/*
 * Open directory name of dirfd that a mount covers (openat2 said EXDEV):
 * path lookup would enter the mounted file system, so open the cgroup
 * directory itself by the inode number its parent lists, then check that it
 * is that directory of the same file system, directly below dirfd. -EXDEV if
 * it cannot be done (no CAP_DAC_READ_SEARCH, not kernfs).
 */
int open_covered(int dirfd, const char *name, int flags)
{
	struct stat pst, st;
	ino_t ino;
	unsigned char type;
	if (fstat(dirfd, &pst) < 0)
		return negerrno();
	int r = dir_entry(dirfd, name, &ino, &type);
	if (r < 0)
		return r;
	if (type != DT_DIR && type != DT_UNKNOWN)
		return -ENOTDIR;
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS } };
	uint64_t id = (uint64_t)ino;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	_cleanup_close_ int fd = open_by_handle_at(dirfd, &h.fh, flags | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE ? -ENOENT : -EXDEV;
	if (fstat(fd, &st) < 0)
		return negerrno();
	if (st.st_dev != pst.st_dev || st.st_ino != ino || !S_ISDIR(st.st_mode))
		return -EXDEV;
	if (fstatat(fd, "..", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return negerrno();
	if (st.st_dev != pst.st_dev || st.st_ino != pst.st_ino)
		return -EXDEV; /* moved away (v1 rename) meanwhile */
	return TAKE_FD(fd);
}

/* open_beneath one component at a time: for paths longer than PATH_MAX and
 * for directories a mount covers. */
static int open_beneath_steps(int dirfd, const char *path, int flags)
{
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	_cleanup_close_ int cur = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return negerrno();
	char *save = NULL, *comp = strtok_r(copy, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0)
			return -EXDEV;
		int f = next ? O_RDONLY | O_DIRECTORY : flags;
		int fd = openat2_beneath(cur, comp, f);
		if (fd == -ENOSYS)
			fd = open_beneath_walk(cur, comp, f);
		if (fd == -EXDEV)
			fd = open_covered(cur, comp, f);
		if (fd < 0)
			return fd;
		closep(&cur);
		cur = fd;
		comp = next;
	}
	return TAKE_FD(cur);
}

/* openat2 confined beneath dirfd: no "..", symlink or mount escapes. */
int open_beneath(int dirfd, const char *path, int flags)
{
	static bool no_openat2;
	if (strlen(path) >= PATH_MAX)
		return open_beneath_steps(dirfd, path, flags);
	int fd = no_openat2 ? -ENOSYS : openat2_beneath(dirfd, path, flags);
	if (fd == -ENOSYS) {
		no_openat2 = true;
		fd = open_beneath_walk(dirfd, path, flags);
	}
	if (fd == -EXDEV || fd == -ENAMETOOLONG)
		fd = open_beneath_steps(dirfd, path, flags);
	return fd;
}

/* Strict decimal u64: digits only, optional trailing newline, no overflow. */
int parse_u64(const char *s, uint64_t *ret)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_int(const char *s, int *ret)
{
	uint64_t v;
	int r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v > INT32_MAX)
		return -ERANGE;
	*ret = (int)v;
	return 0;
}

/* Trim white space at both ends, in place. */
char *strstrip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Append s (owned) to a NULL-terminated vector of n entries. */
int strv_push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

bool strv_contains(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

_public_ void pcon_strv_free(char **v)
{
	for (char **i = v; i && *i; i++)
		free(*i);
	free(v);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Parse a cgroup.procs/tasks list: sorted, duplicates dropped. Returns count. */
int pid_list_parse(const char *text, pid_t **ret)
{
	size_t cap = 64, n = 0;
	_cleanup_free_ pid_t *v = malloc(cap * sizeof(pid_t));
	if (!v)
		return -ENOMEM;
	for (const char *p = text; *p;) {
		char *end;
		errno = 0;
		long x = strtol(p, &end, 10);
		if (end == p || errno || x <= 0 || x > INT32_MAX || (*end && *end != '\n'))
			return -EBADMSG;
		if (n == cap) {
			pid_t *nv = realloc(v, cap * 2 * sizeof(pid_t));
			if (!nv)
				return -ENOMEM;
			v = nv;
			cap *= 2;
		}
		v[n++] = (pid_t)x;
		p = *end ? end + 1 : end;
	}
	qsort(v, n, sizeof(pid_t), cmp_pid);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	*ret = TAKE_PTR(v);
	return (int)u;
}

int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int opendir_at(int dirfd, DIR **ret)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = negerrno();
		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}
