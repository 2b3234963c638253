/* Task-state classification and the proc backend, on a fake /proc + cgroupfs. */
#include <stdlib.h>
#include <string.h>

#include "pcontest.h"
#include "pcon/taskstate.h"
#include "taskstate-internal.h"

static char *root;

static const char mountinfo[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

#define V1 "sys/fs/cgroup/cpu"
#define V2 "sys/fs/cgroup/unified"

/* A thread's stat line under the fake /proc. */
static void fake_thread(int tid, const char *comm, const char *state)
{
	char rel[128], line[512];
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", tid, tid);
	snprintf(line, sizeof(line), "%d (%s) %s 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 "
		 "1234 1000000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		 tid, comm, state, tid, tid);
	pt_write(root, rel, line);
}

static int setup(void **state)
{
	(void)state;
	root = pt_tmpdir();
	pt_write(root, "proc/self/mountinfo", mountinfo);
	pt_write(root, "proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t3\t1\n");
	/* v1 root: no tasks; /web: one of each state; /web/db: two sleepers */
	pt_write(root, V1 "/tasks", "");
	pt_write(root, V1 "/cgroup.procs", "");
	pt_write(root, V1 "/web/tasks", "101\n102\n103\n104\n105\n106\n107\n108\n109\n110\n111\n112\n");
	pt_write(root, V1 "/web/cgroup.procs", "101\n");
	pt_write(root, V1 "/web/db/tasks", "201\n202\n");
	pt_write(root, V1 "/web/db/cgroup.procs", "201\n");
	fake_thread(101, "busy", "R");
	fake_thread(102, "a b) S (c", "S");       /* comm with spaces and ')' */
	fake_thread(103, "vfork parent", "D");
	fake_thread(104, "stopped", "T");
	fake_thread(105, "traced", "t");
	fake_thread(106, "kworker/0:1-events", "I");
	fake_thread(107, "zombie", "Z");
	fake_thread(108, "))) R ((", "P");
	pt_write(root, "proc/109/task/109/stat", "109 (truncated"); /* no state field */
	/* 110 has no stat file: it exited after the list was read */
	fake_thread(111, "x", "W");               /* a letter pcon does not know */
	fake_thread(112, ")", "S");
	fake_thread(201, "db", "S");
	fake_thread(202, "db worker", "S");
	pt_write(root, V2 "/cgroup.controllers", "hugetlb perf_event\n");
	pt_write(root, V2 "/cgroup.procs", "");
	pt_write(root, V2 "/cgroup.threads", "");
	pt_write(root, V2 "/app/cgroup.procs", "301\n");
	pt_write(root, V2 "/app/cgroup.threads", "301\n302\n");
	fake_thread(301, "app", "R");
	fake_thread(302, "app worker", "D");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_rmtree(root);
	free(root);
	return 0;
}

static void test_classify_bits(void **state)
{
	(void)state;
	static const struct { unsigned st, ex; enum ts_bucket b; } t[] = {
		{ 0x0, 0, TS_B_RUNNING },
		{ 0x1, 0, TS_B_SLEEPING },
		{ 0x2001, 0, TS_B_SLEEPING },          /* freezable: nanosleep, futex */
		{ 0x101, 0, TS_B_SLEEPING },           /* TASK_KILLABLE-style interruptible */
		{ 0x2, 0, TS_B_UNINTERRUPTIBLE },
		{ 0x102, 0, TS_B_UNINTERRUPTIBLE },    /* TASK_KILLABLE */
		{ 0x2102, 0, TS_B_UNINTERRUPTIBLE },   /* killable + freezable: vfork parent */
		{ 0x104, 0, TS_B_STOPPED },            /* TASK_STOPPED */
		{ 0x8, 0, TS_B_STOPPED },              /* TASK_TRACED */
		{ 0x402, 0, TS_B_IDLE },               /* TASK_IDLE */
		{ 0x2402, 0, TS_B_IDLE },              /* freezable idle */
		{ 0x40, 0, TS_B_IDLE },                /* parked kthread */
		{ 0x8000, 0, TS_B_IDLE },              /* frozen: not load (/proc says D) */
		{ 0x80, 0, TS_B_OTHER },               /* TASK_DEAD */
		{ 0x0, 0x20, TS_B_OTHER },             /* EXIT_ZOMBIE */
		{ 0x200, 0, TS_B_RUNNING },            /* TASK_WAKING */
		{ 0x100, 0, TS_B_RUNNING },            /* a lone modifier bit is no wait */
		{ 0x10000, 0, TS_B_OTHER },            /* a bit this code does not know */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (ts_classify(t[i].st, t[i].ex) != t[i].b)
			fail_msg("state 0x%x exit 0x%x: bucket %d, want %d", t[i].st, t[i].ex,
				 ts_classify(t[i].st, t[i].ex), t[i].b);
	}
	assert_true(ts_io_wait(0x102, 0, 1));
	assert_true(ts_io_wait(0x2, 0, 1));
	assert_false(ts_io_wait(0x2, 0, 0));
	assert_false(ts_io_wait(0x1, 0, 1));   /* only a blocked task waits on I/O */
	assert_false(ts_io_wait(0x0, 0, 1));   /* woken, still flagged: running */
	assert_false(ts_io_wait(0x402, 0, 1));
}

/* The eBPF walks skip exit_state (another cache line) for states a task
 * past exit_notify never has again: every state it can have must read it. */
static void test_needs_exit_state(void **state)
{
	(void)state;
	/* running (the exit path itself), D, killable D, TASK_IDLE, rtlock wait */
	static const unsigned must[] = { 0x0, 0x2, 0x102, 0x2102, 0x402, 0x1000, 0x8000 };
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (!ts_needs_exit_state(must[i]))
			fail_msg("state %#x: its bucket depends on exit_state", must[i]);
	/* S, freezable S, stopped, traced, TASK_DEAD (other either way) */
	static const unsigned skip[] = { 0x1, 0x2001, 0x104, 0x8, 0x80 };
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		assert_false(ts_needs_exit_state(skip[i]));
	/* Wherever it is skipped, the state alone is S, T or dead. */
	for (unsigned st = 0; st <= 0xffff; st++) {
		if (ts_needs_exit_state(st))
			continue;
		if (!(st & (TS_INTERRUPTIBLE | TS_STOPPED | TS_TRACED | TS_DEAD)))
			fail_msg("state %#x skips exit_state", st);
		if (st & TS_DEAD)
			assert_int_equal(ts_classify(st, 0), TS_B_OTHER);
	}
}

static void test_letters(void **state)
{
	(void)state;
	static const struct { char c; enum ts_bucket b; } t[] = {
		{ 'R', TS_B_RUNNING }, { 'S', TS_B_SLEEPING }, { 'D', TS_B_UNINTERRUPTIBLE },
		{ 'T', TS_B_STOPPED }, { 't', TS_B_STOPPED }, { 'I', TS_B_IDLE },
		{ 'P', TS_B_IDLE }, { 'Z', TS_B_OTHER }, { 'X', TS_B_OTHER }, { '?', TS_B_OTHER },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned ex;
		unsigned st = taskstate_letter_bits(t[i].c, &ex);
		if (ts_classify(st, ex) != t[i].b)
			fail_msg("letter %c: bucket %d, want %d", t[i].c, ts_classify(st, ex), t[i].b);
	}
}

static void test_parse_stat(void **state)
{
	(void)state;
	char c;
	assert_int_equal(taskstate_parse_stat("1 (init) S 0 1 1", &c), 0);
	assert_int_equal(c, 'S');
	assert_int_equal(taskstate_parse_stat("7 (a b) R (c) D 1 2", &c), 0);
	assert_int_equal(c, 'D');
	assert_int_equal(taskstate_parse_stat("7 ()) T 1", &c), 0);
	assert_int_equal(c, 'T');
	assert_int_equal(taskstate_parse_stat("7 (x", &c), -EBADMSG);
	assert_int_equal(taskstate_parse_stat("7 (x) ", &c), -EBADMSG);
	assert_int_equal(taskstate_parse_stat("7 (x)S", &c), -EBADMSG);
	assert_int_equal(taskstate_parse_stat("", &c), -EBADMSG);
}

static void test_names(void **state)
{
	(void)state;
	for (int b = 0; b < PCON_BACKEND_MAX; b++)
		assert_int_equal(pcon_backend_from_string(pcon_backend_to_string((enum pcon_backend)b)), b);
	assert_int_equal(pcon_backend_from_string("netlink"), PCON_BACKEND_INVALID);
	assert_int_equal(pcon_backend_from_string(NULL), PCON_BACKEND_INVALID);
	assert_null(pcon_backend_to_string(PCON_BACKEND_MAX));
	assert_null(pcon_backend_to_string(PCON_BACKEND_INVALID));
}

/* Open spec in the fake tree. */
static struct pcon_container *open_fake(struct pcon *p, const char *spec)
{
	struct pcon_spec s;
	struct pcon_container *c;
	assert_int_equal(pcon_spec_parse(p, spec, &s), 0);
	assert_int_equal(pcon_container_open(s.hiers[0], s.path, &c), 0);
	pcon_spec_done(&s);
	return c;
}

static void test_proc_counts(void **state)
{
	(void)state;
	struct pcon *p;
	assert_int_equal(pcon_open(root, &p), 0);
	struct pcon_container *c = open_fake(p, "cpu:/web");
	struct pcon_taskstats s;
	struct pcon_taskstate_info used = { .backend = PCON_BACKEND_INVALID };
	assert_int_equal(pcon_taskstate_read(p, c, PCON_BACKEND_PROC, 0, &s, &used), 0);
	assert_int_equal(used.backend, PCON_BACKEND_PROC);
	assert_int_equal(s.running, 1);
	assert_int_equal(s.sleeping, 2);           /* 102 and 112 */
	assert_int_equal(s.uninterruptible, 1);
	assert_int_equal(s.stopped, 2);            /* T and t */
	assert_int_equal(s.idle, 2);               /* I and P */
	assert_int_equal(s.other, 3);              /* Z, unparsable, unknown letter */
	assert_int_equal(s.io_wait, 0);
	assert_true(s.unknown & PCON_TASKSTATS_IO_WAIT);
	assert_int_equal(s.total, 11);             /* 110 vanished: not counted */
	assert_int_equal(s.total, s.running + s.sleeping + s.uninterruptible + s.stopped +
				 s.idle + s.other);
	assert_int_equal(s.containers, 1);

	/* auto on a fake sysroot cannot use the kernel's view: proc answers */
	assert_int_equal(pcon_taskstate_read(p, c, PCON_BACKEND_AUTO, 0, &s, &used), 0);
	assert_int_equal(used.backend, PCON_BACKEND_PROC);

	assert_int_equal(pcon_taskstate_read(p, c, PCON_BACKEND_PROC, PCON_TASKSTATE_RECURSIVE,
					     &s, &used), 0);
	assert_int_equal(s.sleeping, 4);
	assert_int_equal(s.total, 13);
	assert_int_equal(s.containers, 2);

	assert_int_equal(pcon_taskstate_read(p, c, PCON_BACKEND_PROC, 0x80, &s, NULL), -EINVAL);
	assert_int_equal(pcon_taskstate_read(p, c, (enum pcon_backend)7, 0, &s, NULL), -EINVAL);
	pcon_container_free(c);

	c = open_fake(p, "unified:/app");
	assert_int_equal(pcon_taskstate_read(p, c, PCON_BACKEND_PROC, 0, &s, NULL), 0);
	assert_int_equal(s.running, 1);
	assert_int_equal(s.uninterruptible, 1);
	assert_int_equal(s.total, 2);
	assert_int_equal(pcon_taskstate_read(p, c, PCON_BACKEND_KERNEL, 0, &s, NULL), -EPROTONOSUPPORT);
	pcon_container_free(c);
	pcon_close(p);
}

static void test_removed(void **state)
{
	(void)state;
	struct pcon *p;
	pt_write(root, V1 "/gone/tasks", "101\n");
	pt_write(root, V1 "/gone/cgroup.procs", "101\n");
	assert_int_equal(pcon_open(root, &p), 0);
	struct pcon_container *c = open_fake(p, "cpu:/gone");
	char path[4096];
	snprintf(path, sizeof(path), "%s/" V1 "/gone", root);
	pt_rmtree(path);
	struct pcon_taskstats s = { .total = 42 };
	assert_int_equal(pcon_taskstate_read(p, c, PCON_BACKEND_PROC, 0, &s, NULL), -ENOENT);
	assert_int_equal(s.total, 42); /* untouched on failure */
	pcon_container_free(c);
	pcon_close(p);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_classify_bits),
	cmocka_unit_test(test_needs_exit_state),
	cmocka_unit_test(test_letters),
	cmocka_unit_test(test_parse_stat),
	cmocka_unit_test(test_names),
	cmocka_unit_test(test_proc_counts),
	cmocka_unit_test(test_removed),
};

PCONTEST_MAIN(tests, setup, teardown)
