/* Shared helpers for pcon's cmocka tests; linked into every test binary. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcontest.h"

char *pt_tmpdir(void)
{
	char *d = strdup("/tmp/pcon-unit-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

void pt_mkdir(const char *root, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *s = path + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(path, 0755);
			*s = '/';
		}
	(void)mkdir(path, 0755);
}

void pt_write(const char *root, const char *rel, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", rel);
	char *slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		pt_mkdir(root, path);
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

void pt_rmtree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *pt_prefix(void)
{
	static char buf[64];
	if (!buf[0])
		snprintf(buf, sizeof(buf), "pcon-test-%d", (int)getpid());
	return buf;
}

int pt_need_root(char *why, size_t n)
{
	if (geteuid() != 0) {
		snprintf(why, n, "needs root to create cgroups");
		return 1;
	}
	struct pcon *p;
	int r = pcon_open(NULL, &p);
	if (r < 0) {
		snprintf(why, n, "no cgroup hierarchy: %s", strerror(-r));
		return 1;
	}
	pcon_close(p);
	return 0;
}

static pid_t tracked[4096];
static size_t n_tracked;

void pt_track(pid_t pid)
{
	if (n_tracked < sizeof(tracked) / sizeof(tracked[0]))
		tracked[n_tracked++] = pid;
}

static void kill_tracked(void)
{
	for (size_t i = 0; i < n_tracked; i++) {
		if (tracked[i] <= 0)
			continue;
		(void)kill(tracked[i], SIGKILL);
		(void)waitpid(tracked[i], NULL, 0);
		tracked[i] = 0;
	}
	n_tracked = 0;
}

int pt_cleanup(void)
{
	kill_tracked();
	struct pcon *p;
	if (pcon_open(NULL, &p) < 0)
		return 0;
	size_t n;
	const struct pcon_hier *h = pcon_hiers(p, &n);
	int left = 0;
	for (size_t i = 0; i < n; i++) {
		struct pcon_container *root;
		if (pcon_container_open(&h[i], "/", &root) < 0)
			continue;
		char **kids = NULL;
		int k = pcon_container_children(root, &kids);
		for (int j = 0; j < k; j++)
			if (strncmp(kids[j], pt_prefix(), strlen(pt_prefix())) == 0 &&
			    pcon_container_remove(&h[i], kids[j], true) < 0)
				left++;
		pcon_strv_free(kids);
		pcon_container_free(root);
	}
	pcon_close(p);
	return left;
}

pid_t pt_spawn_in(const struct pcon_container *const *cts, size_t n, void (*body)(void *arg), void *arg)
{
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char x;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		if (read(go[0], &x, 1) != 1)
			_exit(1);
		close(go[0]);
		body(arg);
		_exit(0);
	}
	pt_track(pid);
	close(go[0]);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pcon_container_attach(cts[i], pid, false), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	return pid;
}

int pt_sh(char **out, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	size_t r;
	while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (cap - len < 2) {
			buf = realloc(buf, cap *= 2);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	int st = pclose(f);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
