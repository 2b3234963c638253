/* The proc backend's table of kept-open stat files: lookups through
 * collisions and deletions, the descriptor budget, closing what goes stale. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pcontest.h"
#include "statcache.h"

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int new_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* A soft limit of 1,128 leaves a budget of 500 kept files. */
static struct statcache *with_budget_500(void)
{
	struct rlimit old, rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = 1128;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	struct statcache *c;
	assert_int_equal(statcache_new(SIZE_MAX, &c), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	return c;
}

static void test_put_get_drop(void **state)
{
	(void)state;
	struct statcache *c = with_budget_500();
	int fds[501];
	/* tids 1024 apart share a home slot in the first table: long chains */
	for (int i = 0; i < 500; i++) {
		fds[i] = new_fd();
		assert_true(statcache_put(c, 7 + i * 1024, fds[i]));
	}
	assert_int_equal(statcache_size(c), 500);
	fds[500] = new_fd();
	assert_false(statcache_put(c, 99999, fds[500])); /* over the budget: not taken */
	assert_true(is_open(fds[500]));
	close(fds[500]);
	for (int i = 0; i < 500; i += 3) {
		statcache_drop(c, 7 + i * 1024);
		assert_false(is_open(fds[i]));
	}
	for (int i = 0; i < 500; i++)
		assert_int_equal(statcache_get(c, 7 + i * 1024), i % 3 ? fds[i] : -ENOENT);
	assert_int_equal(statcache_get(c, 8), -ENOENT);
	statcache_free(c);
	for (int i = 0; i < 500; i++)
		assert_false(is_open(fds[i]));
}

static void test_budget_set(void **state)
{
	(void)state;
	struct statcache *c;
	assert_int_equal(statcache_new(0, &c), 0); /* what pcon_taskstate_set_fd_budget(p, 0) gives */
	int fd = new_fd();
	assert_false(statcache_put(c, 1, fd));
	close(fd);
	statcache_free(c);
	assert_int_equal(statcache_new(2, &c), 0);
	assert_true(statcache_put(c, 1, new_fd()));
	assert_true(statcache_put(c, 2, new_fd()));
	fd = new_fd();
	assert_false(statcache_put(c, 3, fd));
	close(fd);
	statcache_free(c);
}

static void test_reused_tid(void **state)
{
	(void)state;
	struct statcache *c = with_budget_500();
	int a = new_fd(), b = new_fd();
	assert_true(statcache_put(c, 42, a));
	assert_true(statcache_put(c, 42, b)); /* the new thread's file replaces the old */
	assert_false(is_open(a));
	assert_int_equal(statcache_get(c, 42), b);
	assert_int_equal(statcache_size(c), 1);
	statcache_free(c);
	assert_false(is_open(b));
}

static void test_stale_closed(void **state)
{
	(void)state;
	struct statcache *c = with_budget_500();
	int live = new_fd(), gone = new_fd();
	assert_true(statcache_put(c, 100, live));
	assert_true(statcache_put(c, 200, gone));
	for (int walk = 0; walk < 16; walk++) {
		statcache_next_walk(c);
		assert_int_equal(statcache_get(c, 100), live); /* read every walk */
	}
	assert_int_equal(statcache_get(c, 200), -ENOENT);
	assert_false(is_open(gone));
	assert_true(is_open(live));
	statcache_free(c);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_put_get_drop),
	cmocka_unit_test(test_budget_set),
	cmocka_unit_test(test_reused_tid),
	cmocka_unit_test(test_stale_closed),
};

PCONTEST_MAIN(tests, NULL, NULL)
