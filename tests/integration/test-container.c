/* Integration tests: container handles on the real kernel's hierarchies. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcontest.h"

static struct pcon *P;

static int setup(void **state)
{
	(void)state;
	char why[128];
	if (pt_need_root(why, sizeof(why)) == 0)
		assert_int_equal(pcon_open(NULL, &P), 0);
	return 0;
}

static void uncover(void);

static int teardown(void **state)
{
	(void)state;
	uncover();
	pt_cleanup();
	pcon_close(P);
	return 0;
}

/* The hierarchy for token, or NULL. */
static const struct pcon_hier *hier(const char *token)
{
	const struct pcon_hier *h;
	return P && pcon_hier_find(P, token, &h) == 0 ? h : NULL;
}

static char *name(const char *suffix)
{
	char *s;
	assert_true(asprintf(&s, "/%s-%s", pt_prefix(), suffix) > 0);
	return s;
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	pt_track(pid);
	return pid;
}

static void lifecycle(const char *token)
{
	const struct pcon_hier *h = hier(token);
	if (!h)
		SKIP_BECAUSE("no %s hierarchy mounted here", token);
	char *top = name(token), *deep;
	assert_true(asprintf(&deep, "%s/a/b", top) > 0);
	struct pcon_container *c;
	assert_int_equal(pcon_container_create(h, deep, &c), 3);
	pid_t pid = spawn_sleeper();
	assert_int_equal(pcon_container_attach(c, pid, false), 0);
	pid_t *pids;
	assert_int_equal(pcon_container_tasks(c, false, &pids), 1);
	assert_int_equal(pids[0], pid);
	free(pids);
	assert_int_equal(pcon_container_remove(h, top, true), -EBUSY);
	assert_int_equal(pcon_container_remove(h, deep, false), -EBUSY);
	assert_int_equal(pcon_container_remove(h, top, false), -ENOTEMPTY);
	assert_int_equal(pcon_container_attach(c, 0, false), -ESRCH);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(pcon_container_remove(h, top, true), 0);
	/* The handle outlives the directory: a clear error, no crash. */
	assert_int_equal(pcon_container_tasks(c, false, &pids), -ENOENT);
	struct pcon_container *gone;
	assert_int_equal(pcon_container_open(h, top, &gone), -ENOENT);
	pcon_container_free(c);
	free(deep);
	free(top);
	assert_int_equal(pt_cleanup(), 0);
}

static void test_lifecycle_v1(void **state) { (void)state; lifecycle("pids"); }
static void test_lifecycle_v2(void **state) { (void)state; lifecycle("unified"); }

/* A second thread: reports its tid through the pipe fd in arg, then idles. */
static void *idle_thread(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	(void)!write(*(int *)arg, &tid, sizeof(tid));
	for (;;)
		pause();
	return NULL;
}

/* A child with two threads; returns its pid and the second thread's tid. */
static pid_t spawn_threaded(pid_t *ret_tid)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, idle_thread, &fds[1]);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], ret_tid, sizeof(*ret_tid)), sizeof(*ret_tid));
	close(fds[0]);
	pt_track(pid);
	return pid;
}

static void test_thread_attach_v1(void **state)
{
	(void)state;
	const struct pcon_hier *h = hier("pids");
	if (!h || h->version != 1) /* v2 moves single threads only in threaded subtrees */
		SKIP_BECAUSE("no v1 pids hierarchy mounted here");
	char *n = name("threads");
	struct pcon_container *c;
	assert_int_equal(pcon_container_create(h, n, &c), 1);
	pid_t tid;
	pid_t pid = spawn_threaded(&tid);
	assert_true(tid > 0);
	assert_int_equal(pcon_container_attach(c, tid, true), 0);
	pid_t *v;
	assert_int_equal(pcon_container_tasks(c, true, &v), 1);
	assert_int_equal(v[0], tid); /* one thread moved, not its process */
	free(v);
	assert_int_equal(pcon_container_tasks(c, false, &v), 1);
	assert_int_equal(v[0], pid); /* cgroup.procs names the process of the thread */
	free(v);
	pcon_container_free(c);
	free(n);
	assert_int_equal(pt_cleanup(), 0);
}

static void test_cpuset_inherits_v1(void **state)
{
	(void)state;
	const struct pcon_hier *h = hier("cpuset");
	if (!h || h->version != 1)
		SKIP_BECAUSE("no v1 cpuset hierarchy mounted here");
	char *n = name("cpuset");
	struct pcon_container *c;
	assert_int_equal(pcon_container_create(h, n, &c), 1);
	pid_t pid = spawn_sleeper();
	/* a v1 cpuset without CPUs refuses tasks (ENOSPC); pcon gave it its parent's */
	assert_int_equal(pcon_container_attach(c, pid, false), 0);
	pcon_container_free(c);
	free(n);
	assert_int_equal(pt_cleanup(), 0);
}

/* The mount point of the covered container of the running test, for teardown. */
static char covered_mnt[4200];

static void uncover(void)
{
	if (covered_mnt[0])
		(void)umount2(covered_mnt, MNT_DETACH);
	covered_mnt[0] = '\0';
}

/*
 * A container with a file system mounted over it (in this process's own
 * mount namespace, so nothing outlives the test): opened underneath the
 * mount, and its tasks found through /proc as an unprivileged walker must.
 */
static void covered(const char *token)
{
	const struct pcon_hier *h = hier(token);
	if (!h)
		SKIP_BECAUSE("no %s hierarchy mounted here", token);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		SKIP_BECAUSE("cannot make a private mount namespace: %s", strerror(errno));
	char *top = name(token), *cov, *in;
	assert_true(asprintf(&cov, "%s/cov", top) > 0 && asprintf(&in, "%s/cov/in", top) > 0);
	struct pcon_container *c, *cin, *parent;
	assert_true(pcon_container_create(h, cov, &c) > 0);
	assert_int_equal(pcon_container_create(h, in, &cin), 1);
	pid_t a = spawn_sleeper(), b = spawn_sleeper();
	assert_int_equal(pcon_container_attach(c, a, false), 0);
	assert_int_equal(pcon_container_attach(cin, b, false), 0);
	pcon_container_free(cin);
	pcon_container_free(c);

	snprintf(covered_mnt, sizeof(covered_mnt), "%s%s", h->mount, cov);
	assert_int_equal(mount("pcon-test", covered_mnt, "tmpfs", 0, NULL), 0);
	assert_int_equal(pcon_container_open(h, top, &parent), 0);
	char **kids;
	assert_int_equal(pcon_container_children(parent, &kids), 1);
	assert_string_equal(kids[0], "cov");
	/* root: opened underneath the mount, by path and as a child */
	assert_int_equal(pcon_container_open_child(parent, "cov", &c), 0);
	pid_t *v;
	assert_int_equal(pcon_container_tasks(c, false, &v), 1);
	assert_int_equal(v[0], a);
	free(v);
	pcon_container_free(c);
	assert_int_equal(pcon_container_open(h, in, &cin), 0);
	assert_int_equal(pcon_container_tasks(cin, false, &v), 1);
	assert_int_equal(v[0], b);
	free(v);
	pcon_container_free(cin);
	/* through /proc: itself, and with what is below it */
	assert_int_equal(pcon_tasks_below(P, h, cov, false, false, &v), 1);
	assert_int_equal(v[0], a);
	free(v);
	assert_int_equal(pcon_tasks_below(P, h, cov, true, false, &v), 2);
	assert_int_equal(v[0], a < b ? a : b);
	assert_int_equal(v[1], a < b ? b : a);
	free(v);
	assert_int_equal(pcon_tasks_below(P, h, cov, true, true, &v), 2); /* one thread each */
	free(v);
	assert_int_equal(pcon_tasks_below(P, h, "/", true, false, &v) >= 2, true);
	free(v);
	pcon_strv_free(kids);
	pcon_container_free(parent);
	uncover();
	free(in);
	free(cov);
	free(top);
	assert_int_equal(pt_cleanup(), 0);
}

static void test_covered_v1(void **state) { (void)state; covered("pids"); }
static void test_covered_v2(void **state) { (void)state; covered("unified"); }

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_covered_v1),
	cmocka_unit_test(test_covered_v2),
	cmocka_unit_test(test_lifecycle_v1),
	cmocka_unit_test(test_lifecycle_v2),
	cmocka_unit_test(test_thread_attach_v1),
	cmocka_unit_test(test_cpuset_inherits_v1),
};

PCONTEST_MAIN_ROOT("container integration tests", tests, setup, teardown)
