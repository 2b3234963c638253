/*
 * Giving a container to a user, on real cgroups: on v2 the delegated user
 * (nobody) makes sub-containers and moves its own process within the
 * subtree, but cannot change the delegated container's own limits nor move
 * its process out; on v1 every file but the task lists changes owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcontest.h"
#include "pcon/owner.h"

static struct pcon *P;
static char why[256];

static int setup(void **state)
{
	(void)state;
	if (pt_need_root(why, sizeof(why)))
		return 0;
	return pcon_open(NULL, &P) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_cleanup();
	pcon_close(P);
	return 0;
}

static void test_parse(void **state)
{
	(void)state;
	struct pcon_owner o;
	assert_int_equal(pcon_owner_parse("root", &o), 0);
	assert_true(o.set && o.uid == 0 && o.gid == 0);
	struct passwd *pw = getpwnam("nobody");
	if (pw) {
		assert_int_equal(pcon_owner_parse("nobody:root", &o), 0);
		assert_true(o.uid == pw->pw_uid && o.gid == 0);
	}
	assert_int_equal(pcon_owner_parse("54321", &o), 0);
	assert_true(o.uid == 54321);
	assert_int_equal(pcon_owner_parse("0:54321", &o), 0);
	assert_true(o.uid == 0 && o.gid == 54321);
	static const char *const bad[] = { "", "no-such-user-pcon", "root:", ":root", "root:no-such-group-pcon", "-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pcon_owner_parse(bad[i], &o), -EINVAL);
}

static uid_t owner(const struct pcon_container *c, const char *name)
{
	struct stat st;
	assert_int_equal(fstatat(c->fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_uid;
}

/* Write text to dir/name as the calling process; 0 or -errno. */
static int put(const char *dir, const char *name, const char *text)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, text, strlen(text)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void test_delegate_v2(void **state)
{
	(void)state;
	if (why[0])
		SKIP_BECAUSE("%s", why);
	size_t n;
	const struct pcon_hier *h = pcon_hiers(P, &n), *v2 = NULL;
	for (size_t i = 0; i < n; i++)
		if (h[i].version == 2)
			v2 = &h[i];
	struct passwd *pw = getpwnam("nobody");
	if (!v2 || !pw)
		SKIP_BECAUSE("%s", !v2 ? "no cgroup v2 hierarchy" : "no user nobody");
	char path[256], dir[4200];
	snprintf(path, sizeof(path), "/%s-deleg", pt_prefix());
	struct pcon_container *c;
	assert_true(pcon_container_create(v2, path, &c) >= 0);
	struct pcon_owner admin;
	assert_int_equal(pcon_owner_parse("nobody", &admin), 0);
	assert_int_equal(pcon_container_chown(c, &admin, NULL), 0);
	assert_int_equal(owner(c, "."), pw->pw_uid);
	assert_int_equal(owner(c, "cgroup.procs"), pw->pw_uid);
	assert_int_equal(owner(c, "cgroup.subtree_control"), pw->pw_uid);
	assert_int_equal(owner(c, "cgroup.max.descendants"), 0); /* its own limits stay root's */
	snprintf(dir, sizeof(dir), "%s%s", v2->mount, path);
	int go[2], res[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(res), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char x, sub[4300], me[32];
		int out[4];
		if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid) || read(go[0], &x, 1) != 1)
			_exit(1);
		snprintf(sub, sizeof(sub), "%s/sub", dir);
		snprintf(me, sizeof(me), "%d", (int)getpid());
		out[0] = mkdir(sub, 0755) < 0 ? -errno : 0;          /* may make children */
		out[1] = put(sub, "cgroup.procs", me);               /* may move itself within */
		out[2] = put(dir, "cgroup.max.descendants", "1000"); /* may not touch its limits */
		out[3] = put(v2->mount, "cgroup.procs", me);         /* may not leave the subtree */
		_exit(write(res[1], out, sizeof(out)) == sizeof(out) ? 0 : 1);
	}
	pt_track(pid);
	assert_int_equal(pcon_container_attach(c, pid, false), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	int out[4] = { 1, 1, 1, 1 }, st;
	assert_int_equal(read(res[0], out, sizeof(out)), sizeof(out));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], -EACCES);
	assert_int_equal(out[3], -EACCES);
	close(go[0]), close(go[1]), close(res[0]), close(res[1]);
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

static void test_owner_v1(void **state)
{
	(void)state;
	if (why[0])
		SKIP_BECAUSE("%s", why);
	const struct pcon_hier *h;
	if (pcon_hier_find(P, "cpu", &h) < 0 || h->version != 1)
		SKIP_BECAUSE("no v1 cpu hierarchy");
	char path[256];
	snprintf(path, sizeof(path), "/%s-own", pt_prefix());
	struct pcon_container *c;
	assert_true(pcon_container_create(h, path, &c) >= 0);
	struct pcon_owner admin, tasks;
	assert_int_equal(pcon_owner_parse("54321:54322", &admin), 0);
	assert_int_equal(pcon_owner_parse("54323", &tasks), 0);
	assert_int_equal(pcon_container_chown(c, &admin, &tasks), 0);
	assert_int_equal(owner(c, "."), 54321);
	assert_int_equal(owner(c, "cpu.shares"), 54321);
	assert_int_equal(owner(c, "tasks"), 54323);
	assert_int_equal(owner(c, "cgroup.procs"), 54323);
	/* tasks alone: the directory and knobs keep their owner */
	assert_int_equal(pcon_owner_parse("0", &tasks), 0);
	assert_int_equal(pcon_container_chown(c, NULL, &tasks), 0);
	assert_int_equal(owner(c, "tasks"), 0);
	assert_int_equal(owner(c, "cpu.shares"), 54321);
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_delegate_v2),
	cmocka_unit_test(test_owner_v1),
};

PCONTEST_MAIN(tests, setup, teardown)
