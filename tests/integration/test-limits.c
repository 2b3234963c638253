/*
 * Limits on the real kernel, through generic knobs: numtasks.max stops a fork,
 * cpuset.cpus pins a task, freezer.state stops and resumes CPU time (v1 and
 * v2), cpuacct.usage grows, cpu.weight and memory.max round-trip. Every task
 * is a child of this test; every container starts with pt_prefix().
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcontest.h"

static struct pcon *P;
static char skip_why[256];  /* why nothing here can run */
static char missing[256];   /* why make() found no hierarchy */

static int setup(void **state)
{
	(void)state;
	if (pt_need_root(skip_why, sizeof(skip_why)))
		return 0;
	int r = pcon_open(NULL, &P);
	if (r < 0)
		snprintf(skip_why, sizeof(skip_why), "pcon_open: %s", strerror(-r));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(pt_cleanup(), 0);
	pcon_close(P);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A new container "/PREFIX/name" in the hierarchy token names, or NULL
 * (with a reason in missing) if this machine has no such hierarchy. */
static struct pcon_container *make(const char *token, const char *name)
{
	const struct pcon_hier *h;
	if (pcon_hier_find(P, token, &h) < 0) {
		snprintf(missing, sizeof(missing), "no hierarchy with %s here", token);
		return NULL;
	}
	char path[256];
	snprintf(path, sizeof(path), "/%s/%s", pt_prefix(), name);
	struct pcon_container *c;
	int r = pcon_container_create(h, path, &c);
	if (r < 0)
		fail_msg("create %s:%s: %s", h->name, path, strerror(-r));
	/* v2: the controller must be enabled down to the container, as pcon create does */
	if (h->version == 2 && strcmp(token, "v2") != 0 && (r = pcon_container_enable(h, path, token)) < 0)
		fail_msg("enable %s down to %s:%s: %s", token, h->name, path, strerror(-r));
	return c;
}

/* A child that spins (dies with this test), tracked for pt_cleanup. */
static pid_t spawn_busy(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	pt_track(pid);
	return pid;
}

static void attach(struct pcon_container *c, pid_t pid)
{
	int r = pcon_container_attach(c, pid, false);
	if (r < 0)
		fail_msg("attach %d to %s: %s", (int)pid, c->path, strerror(-r));
}

static void set(struct pcon_container *c, const char *knob, const char *value)
{
	int r = pcon_knob_set(c, knob, value);
	if (r < 0)
		fail_msg("set %s=%s on %s:%s: %s", knob, value, c->hier->name, c->path, strerror(-r));
}

/* Knob value (static buffer). */
static const char *get(struct pcon_container *c, const char *knob)
{
	static char buf[4096];
	char *v;
	int r = pcon_knob_get(c, knob, &v);
	if (r < 0)
		fail_msg("get %s on %s:%s: %s", knob, c->hier->name, c->path, strerror(-r));
	snprintf(buf, sizeof(buf), "%s", v);
	free(v);
	return buf;
}

static uint64_t get_u64(struct pcon_container *c, const char *knob)
{
	return strtoull(get(c, knob), NULL, 10);
}

/* CPU time of process pid, in ns. */
static uint64_t cpu_ns(pid_t pid)
{
	clockid_t id;
	struct timespec ts;
	assert_int_equal(clock_getcpuclockid(pid, &id), 0);
	assert_int_equal(clock_gettime(id, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * A task in a container with numtasks.max = N forks until a fork fails: the
 * container then holds N tasks, and the failing fork says EAGAIN.
 */
static void test_numtasks_stops_fork(void **state)
{
	(void)state;
	if (skip_why[0])
		SKIP_BECAUSE("%s", skip_why);
	struct pcon_container *c = make("numtasks", "numtasks");
	if (!c)
		SKIP_BECAUSE("%s", missing);
	enum { N = 4 };
	set(c, "numtasks.max", "4");
	assert_string_equal(get(c, "numtasks.max"), "4");

	int go[2], report[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(report), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* In the container (once the parent says go): fork until refused. */
		char b;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		close(report[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(90);
		pid_t kids[64];
		int n = 0, err = 0;
		while (n < 64) {
			pid_t k = fork();
			if (k == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				pause();
				_exit(0);
			}
			if (k < 0) {
				err = errno;
				break;
			}
			kids[n++] = k;
		}
		int msg[2] = { n, err };
		if (write(report[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(91);
		(void)read(go[0], &b, 1); /* the parent closes go: clean up */
		for (int i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		while (wait(NULL) > 0)
			;
		_exit(0);
	}
	pt_track(pid);
	close(go[0]);
	close(report[1]);
	attach(c, pid);
	assert_int_equal(write(go[1], "g", 1), 1);
	int msg[2];
	assert_int_equal(read(report[0], msg, sizeof(msg)), (ssize_t)sizeof(msg));
	assert_int_equal(msg[0], N - 1); /* the forking task + N - 1 children = N */
	assert_int_equal(msg[1], EAGAIN);
	assert_int_equal(get_u64(c, "numtasks.current"), N);
	close(go[1]);
	close(report[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

/* cpuset.cpus=0 leaves a busy task CPU 0 only; it then runs there. */
static void test_cpuset_pins(void **state)
{
	(void)state;
	if (skip_why[0])
		SKIP_BECAUSE("%s", skip_why);
	struct pcon_container *c = make("cpuset", "cpuset");
	if (!c)
		SKIP_BECAUSE("%s", missing);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	/* A CPU beyond the online ones is refused and nothing changes. */
	char beyond[32], before[256];
	snprintf(beyond, sizeof(beyond), "0-%ld", ncpu + 7);
	snprintf(before, sizeof(before), "%s", get(c, "cpuset.cpus"));
	assert_int_equal(pcon_knob_set(c, "cpuset.cpus", beyond), -ERANGE);
	assert_int_equal(pcon_knob_set(c, "cpuset.cpus", "-1"), -EINVAL);
	assert_string_equal(get(c, "cpuset.cpus"), before);

	set(c, "cpuset.cpus", "0");
	assert_string_equal(get(c, "cpuset.cpus"), "0");
	pid_t pid = spawn_busy();
	attach(c, pid);
	cpu_set_t set_;
	CPU_ZERO(&set_);
	assert_int_equal(sched_getaffinity(pid, sizeof(set_), &set_), 0);
	assert_int_equal(CPU_COUNT(&set_), 1);
	assert_true(CPU_ISSET(0, &set_));
	sleep_ms(100);
	/* Field 39 of /proc/PID/stat: the CPU it last ran on. */
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	char *s = strrchr(line, ')');
	assert_non_null(s);
	int field = 2, cpu = -1;
	for (char *save = NULL, *t = strtok_r(s + 1, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (++field == 39)
			cpu = atoi(t);
	assert_int_equal(cpu, 0);
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

/* Frozen: the busy task's CPU time stands still; thawed: it grows again. */
static void freeze_thaw(const char *token, const char *name)
{
	struct pcon_container *c = make(token, name);
	if (!c)
		SKIP_BECAUSE("%s", missing);
	assert_string_equal(get(c, "freezer.state"), "thawed");
	pid_t pid = spawn_busy();
	attach(c, pid);
	sleep_ms(50);
	set(c, "freezer.state", "frozen");
	int i;
	for (i = 0; i < 100 && strcmp(get(c, "freezer.state"), "frozen") != 0; i++)
		sleep_ms(10);
	assert_true(i < 100);
	uint64_t t1 = cpu_ns(pid);
	sleep_ms(200);
	uint64_t t2 = cpu_ns(pid);
	assert_true(t2 - t1 < 1000000); /* under 1 ms in 200 ms: stopped */
	set(c, "freezer.state", "thawed");
	assert_string_equal(get(c, "freezer.state"), "thawed");
	sleep_ms(200);
	uint64_t t3 = cpu_ns(pid);
	assert_true(t3 - t2 > 20000000); /* at least 20 ms of 200 ms on 2 busy-able cores */
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

static void test_freezer_v1(void **state)
{
	(void)state;
	if (skip_why[0])
		SKIP_BECAUSE("%s", skip_why);
	const struct pcon_hier *h;
	if (pcon_hier_find(P, "freezer", &h) < 0 || h->version != 1)
		SKIP_BECAUSE("no v1 freezer hierarchy here");
	freeze_thaw("freezer", "freezer-v1");
}

static void test_freezer_v2(void **state)
{
	(void)state;
	if (skip_why[0])
		SKIP_BECAUSE("%s", skip_why);
	freeze_thaw("v2", "freezer-v2");
}

/* cpuacct.usage of a container grows while its busy task runs (v1 and v2). */
static void test_cpuacct_grows(void **state)
{
	(void)state;
	if (skip_why[0])
		SKIP_BECAUSE("%s", skip_why);
	struct pcon_container *c1 = make("cpuacct", "cpuacct");
	struct pcon_container *c2 = make("v2", "cpuacct");
	if (!c1 || !c2) {
		pcon_container_free(c1);
		pcon_container_free(c2);
		SKIP_BECAUSE("%s", missing);
	}
	assert_int_equal(pcon_knob_set(c1, "cpuacct.usage", "0"), -EROFS);
	pid_t pid = spawn_busy();
	attach(c1, pid);
	attach(c2, pid);
	uint64_t a1 = get_u64(c1, "cpuacct.usage"), b1 = get_u64(c2, "cpuacct.usage");
	sleep_ms(200);
	uint64_t a2 = get_u64(c1, "cpuacct.usage"), b2 = get_u64(c2, "cpuacct.usage");
	assert_true(a2 > a1 + 20000000);
	assert_true(b2 > b1 + 20000000);
	/* Both count the same task: they agree within the time between the reads. */
	uint64_t diff = a2 > b2 ? a2 - b2 : b2 - a2;
	assert_true(diff < 250000000);
	pcon_container_free(c1);
	pcon_container_free(c2);
	assert_int_equal(pt_cleanup(), 0);
}

/* cpu.weight on v1 is cpu.shares; cpu.max is the cfs quota and period. */
static void test_cpu_knobs(void **state)
{
	(void)state;
	if (skip_why[0])
		SKIP_BECAUSE("%s", skip_why);
	struct pcon_container *c = make("cpu", "cpu");
	if (!c)
		SKIP_BECAUSE("%s", missing);
	set(c, "cpu.weight", "250");
	assert_string_equal(get(c, "cpu.weight"), "250");
	if (c->hier->version == 1) {
		assert_string_equal(get(c, "cpu.shares"), "2560");
		set(c, "cpu.shares", "512");                   /* a raw kernel name */
		assert_string_equal(get(c, "cpu.weight"), "50");
	}
	set(c, "cpu.max", "50000 100000");
	assert_string_equal(get(c, "cpu.max"), "50000 100000");
	set(c, "cpu.max", "max");
	assert_string_equal(get(c, "cpu.max"), "max 100000");
	assert_int_equal(pcon_knob_set(c, "cpu.weight", "0"), -ERANGE);
	assert_int_equal(pcon_knob_set(c, "cpu.max", "10 100000"), -ERANGE);
	/* the refused writes changed nothing (v1 took 50 through cpu.shares above) */
	assert_string_equal(get(c, "cpu.weight"), c->hier->version == 1 ? "50" : "250");
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

static void test_memory_max(void **state)
{
	(void)state;
	if (skip_why[0])
		SKIP_BECAUSE("%s", skip_why);
	struct pcon_container *c = make("memory", "memory");
	if (!c)
		SKIP_BECAUSE("%s", missing);
	assert_string_equal(get(c, "memory.max"), "max");
	set(c, "memory.max", "64M");
	assert_string_equal(get(c, "memory.max"), "67108864");
	assert_int_equal(pcon_knob_set(c, "memory.max", "-5"), -ERANGE);
	assert_int_equal(pcon_knob_set(c, "memory.max", "lots"), -EINVAL);
	assert_string_equal(get(c, "memory.max"), "67108864");
	set(c, "memory.max", "max");
	assert_string_equal(get(c, "memory.max"), "max");
	assert_int_equal(pcon_knob_set(c, "memory.current", "1"), -EROFS);
	(void)get(c, "memory.current");
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_numtasks_stops_fork),
	cmocka_unit_test(test_cpuset_pins),
	cmocka_unit_test(test_freezer_v1),
	cmocka_unit_test(test_freezer_v2),
	cmocka_unit_test(test_cpuacct_grows),
	cmocka_unit_test(test_cpu_knobs),
	cmocka_unit_test(test_memory_max),
};

PCONTEST_MAIN(tests, setup, teardown)
