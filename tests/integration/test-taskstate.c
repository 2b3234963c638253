/*
 * Task-state counts against real processes in real v1 and v2 cgroups: the
 * proc and bpf backends must agree on every count, the kernel backend's
 * known gaps are pinned, churn and removal never break a query. Real block
 * I/O waits come from a loop device whose backing file sits on a FUSE file
 * system served by this test, which holds the reads it is told to.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <linux/loop.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcontest.h"

uint64_t taskstate_bpf_queries(const struct pcon *p); /* libpcon.a internals */
uint64_t taskstate_bpf_relocked(const struct pcon *p);
#include "pcon/taskstate.h"

static struct pcon *P;
static const struct pcon_hier *V1, *V2;
static char why[256];

static int setup(void **state)
{
	(void)state;
	if (pt_need_root(why, sizeof(why)))
		return 0;
	if (pcon_open(NULL, &P) < 0)
		return -1;
	const struct pcon_hier *h;
	if (pcon_hier_find(P, "cpu", &h) == 0 && h->version == 1)
		V1 = h;
	size_t n;
	h = pcon_hiers(P, &n);
	for (size_t i = 0; i < n; i++)
		if (h[i].version == 2)
			V2 = &h[i];
	/* orphans of our children (a vfork child whose parent we killed) come back to us */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_cleanup();
	pcon_close(P);
	return 0;
}

static void msleep(long ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L }, NULL);
}

/* A container prefix/name in h (made fresh). */
static struct pcon_container *mk(const struct pcon_hier *h, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "/%s/%s", pt_prefix(), name);
	struct pcon_container *c;
	int r = pcon_container_create(h, path, &c);
	if (r < 0)
		fail_msg("create %s:%s: %s", h->name, path, strerror(-r));
	return c;
}

enum kind { K_BUSY, K_PAUSE, K_STOPPED, K_VFORK, K_THREADS, K_CHURN, K_DIRECT_READ, K_CACHED_READ };

/* test_block_io: the loop device the readers read, and where (inside the held range) */
static char loop_dev[32];
#define DISK_SIZE   (64ull << 20)
#define HOLD_BEGIN  (16ull << 20)
#define HOLD_END    (48ull << 20)
#define DIRECT_OFF  (20ull << 20)
#define CACHED_OFF  (40ull << 20)
static char read_buf[4096] __attribute__((aligned(4096)));

static void *nap(void *arg)
{
	(void)arg;
	for (;;)
		nanosleep(&(struct timespec){ .tv_sec = 1000 }, NULL);
	return NULL;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *cond_wait(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

static void *short_life(void *arg)
{
	(void)arg;
	return NULL;
}

static void *churner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, NULL, short_life, NULL) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

/* What a child does once it is inside its containers. */
static void child_body(enum kind k, int report_fd)
{
	pthread_t t;
	switch (k) {
	case K_BUSY:
		for (volatile unsigned long i = 0;; i++)
			;
	case K_PAUSE:
	case K_STOPPED:
		for (;;)
			pause();
	case K_VFORK: {
		pid_t v = vfork();
		if (v == 0) {
			/* the vfork child: neither exec nor exit; its parent waits in D */
			pid_t me = getpid();
			if (write(report_fd, &me, sizeof(me)) < 0)
				_exit(1);
			for (;;)
				pause();
		}
		_exit(0);
	}
	case K_THREADS:
		for (int i = 0; i < 3; i++)
			pthread_create(&t, NULL, nap, NULL);
		for (int i = 0; i < 2; i++)
			pthread_create(&t, NULL, cond_wait, NULL);
		for (;;)
			pause();
	case K_CHURN:
		for (int i = 0; i < 2; i++)
			pthread_create(&t, NULL, churner, NULL);
		for (;;)
			pause();
	case K_DIRECT_READ:
	case K_CACHED_READ: {
		/* one 4 KiB read of the loop device: O_DIRECT, or through its (cold) page cache */
		int fd = open(loop_dev, O_RDONLY | O_CLOEXEC | (k == K_DIRECT_READ ? O_DIRECT : 0));
		off_t off = (off_t)(k == K_DIRECT_READ ? DIRECT_OFF : CACHED_OFF);
		_exit(fd >= 0 && pread(fd, read_buf, sizeof(read_buf), off) == (ssize_t)sizeof(read_buf) ? 0 : 1);
	}
	}
	_exit(0);
}

struct child_arg {
	enum kind k;
	int report_fd;
};

static void child_main(void *arg)
{
	const struct child_arg *a = arg;
	child_body(a->k, a->report_fd);
}

/* Start a child of kind k inside containers a and b (b may be NULL). */
static pid_t spawn(enum kind k, const struct pcon_container *a, const struct pcon_container *b)
{
	int rep[2];
	assert_int_equal(pipe(rep), 0);
	const struct pcon_container *in[] = { a, b };
	struct child_arg arg = { k, rep[1] };
	pid_t pid = pt_spawn_in(in, b ? 2 : 1, child_main, &arg);
	if (k == K_VFORK) {
		pid_t v;
		assert_int_equal(read(rep[0], &v, sizeof(v)), sizeof(v));
		pt_track(v);
	}
	if (k == K_STOPPED)
		kill(pid, SIGSTOP);
	close(rep[0]);
	close(rep[1]);
	return pid;
}

static bool same(const struct pcon_taskstats *a, const struct pcon_taskstats *b, bool io)
{
	return a->running == b->running && a->sleeping == b->sleeping &&
	       a->uninterruptible == b->uninterruptible && a->stopped == b->stopped &&
	       a->idle == b->idle && a->other == b->other && a->total == b->total &&
	       (!io || a->io_wait == b->io_wait);
}

static void show(const char *what, const struct pcon_taskstats *s)
{
	printf("# %s: R %llu S %llu D %llu T %llu I %llu io %llu other %llu total %llu\n", what,
	       (unsigned long long)s->running, (unsigned long long)s->sleeping,
	       (unsigned long long)s->uninterruptible, (unsigned long long)s->stopped,
	       (unsigned long long)s->idle, (unsigned long long)s->io_wait,
	       (unsigned long long)s->other, (unsigned long long)s->total);
}

/* Poll (proc) until c shows want, so threads have reached their waits. */
static void settle(const struct pcon_container *c, const struct pcon_taskstats *want)
{
	struct pcon_taskstats s = { 0 };
	for (int i = 0; i < 300; i++) {
		assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_PROC, 0, &s, NULL), 0);
		if (same(&s, want, false))
			return;
		msleep(10);
	}
	show("got", &s);
	show("want", want);
	fail_msg("%s:%s never reached the expected states", c->hier->name, c->path);
}

static bool have_bpf(void)
{
	struct pcon_container *root;
	if (pcon_container_open(V2 ? V2 : V1, "/", &root) < 0)
		return false;
	struct pcon_taskstats s;
	int r = pcon_taskstate_read(P, root, PCON_BACKEND_BPF, 0, &s, NULL);
	pcon_container_free(root);
	if (r < 0)
		snprintf(why, sizeof(why), "the bpf backend does not load here: %s", strerror(-r));
	return r == 0;
}

#define NEED_ROOT()                                                                    \
	do {                                                                           \
		if (!P)                                                                \
			SKIP_BECAUSE("%s", why);                                       \
	} while (0)

/* busy, pause, SIGSTOP, vfork parent + child, nanosleep and futex threads */
static void test_states(void **state)
{
	(void)state;
	NEED_ROOT();
	if (!V1 && !V2)
		SKIP_BECAUSE("needs a v1 cpu hierarchy or a v2 hierarchy");
	/* in both where both are mounted; a pure v2 host has only b */
	struct pcon_container *a = V1 ? mk(V1, "states") : NULL, *b = V2 ? mk(V2, "states") : NULL;
	struct pcon_container *first = a ? a : b, *second = a ? b : NULL;
	spawn(K_BUSY, first, second);
	spawn(K_PAUSE, first, second);
	spawn(K_STOPPED, first, second);
	spawn(K_VFORK, first, second);
	spawn(K_THREADS, first, second);
	/* S: pause, vfork child, threads' main + 3 nanosleep + 2 futex */
	struct pcon_taskstats want = { .running = 1, .sleeping = 8, .uninterruptible = 1,
				       .stopped = 1, .total = 11 };
	settle(first, &want);
	bool bpf = have_bpf();
	for (int v = 0; v < 2; v++) {
		struct pcon_container *c = v ? b : a;
		struct pcon_taskstats ps, bs, ks;
		if (!c)
			continue;
		struct pcon_taskstate_info used;
		assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_PROC, 0, &ps, &used), 0);
		assert_true(same(&ps, &want, false));
		assert_true(ps.unknown & PCON_TASKSTATS_IO_WAIT);
		if (bpf) {
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_BPF, 0, &bs, &used), 0);
			if (!same(&bs, &ps, false)) {
				show("proc", &ps);
				show("bpf", &bs);
				fail_msg("proc and bpf disagree on %s", c->hier->name);
			}
			assert_int_equal(bs.io_wait, 0);
			assert_int_equal(bs.unknown, 0);
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_AUTO, 0, &bs, &used), 0);
			assert_int_equal(used.backend, PCON_BACKEND_BPF);
		}
		if (v == 0) {
			/* The kernel's exact-value matching, pinned: only the three pause()
			 * sleepers are sleeping; the freezable nanosleep/futex threads and
			 * the vfork parent (0x2102) are in no bucket, so "other" here. */
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_KERNEL, 0, &ks, &used), 0);
			show("kernel", &ks);
			assert_int_equal(ks.running, 1);
			assert_int_equal(ks.stopped, 1);
			assert_int_equal(ks.sleeping, 3);
			assert_int_equal(ks.uninterruptible, 0);
			assert_int_equal(ks.other, 6);
			assert_int_equal(ks.total, 11);
		} else {
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_KERNEL, 0, &ks, &used),
					 -EPROTONOSUPPORT);
		}
	}
	if (!bpf)
		printf("# bpf not compared: %s\n", why);
	pcon_container_free(a);
	pcon_container_free(b);
	assert_int_equal(pt_cleanup(), 0);
}

/* Plain pause() sleepers: the kernel agrees with proc and bpf on R/S/T. */
static void test_kernel_agrees(void **state)
{
	(void)state;
	NEED_ROOT();
	if (!V1)
		SKIP_BECAUSE("needs a v1 cpu hierarchy (the kernel backend is v1 only)");
	struct pcon_container *a = mk(V1, "agree");
	spawn(K_PAUSE, a, NULL);
	spawn(K_PAUSE, a, NULL);
	spawn(K_STOPPED, a, NULL);
	spawn(K_BUSY, a, NULL);
	struct pcon_taskstats want = { .running = 1, .sleeping = 2, .stopped = 1, .total = 4 };
	settle(a, &want);
	struct pcon_taskstats ks, bs;
	assert_int_equal(pcon_taskstate_read(P, a, PCON_BACKEND_KERNEL, 0, &ks, NULL), 0);
	assert_true(same(&ks, &want, false));
	if (have_bpf()) {
		assert_int_equal(pcon_taskstate_read(P, a, PCON_BACKEND_BPF, 0, &bs, NULL), 0);
		assert_true(same(&bs, &want, true));
	}
	pcon_container_free(a);
	assert_int_equal(pt_cleanup(), 0);
}

/* -r: descendants included; one level of nesting, v1 and v2. */
static void test_recursive(void **state)
{
	(void)state;
	NEED_ROOT();
	const struct pcon_hier *hs[2] = { V1, V2 };
	bool bpf = have_bpf();
	for (int v = 0; v < 2; v++) {
		if (!hs[v])
			continue;
		struct pcon_container *top = mk(hs[v], "rec"), *kid = mk(hs[v], "rec/kid");
		spawn(K_PAUSE, top, NULL);
		spawn(K_STOPPED, kid, NULL);
		settle(kid, &(struct pcon_taskstats){ .stopped = 1, .total = 1 });
		settle(top, &(struct pcon_taskstats){ .sleeping = 1, .total = 1 });
		for (int b = PCON_BACKEND_KERNEL; b <= PCON_BACKEND_BPF; b++) {
			if ((b == PCON_BACKEND_KERNEL && hs[v]->version != 1) || (b == PCON_BACKEND_BPF && !bpf))
				continue;
			struct pcon_taskstats s;
			assert_int_equal(pcon_taskstate_read(P, top, (enum pcon_backend)b,
							     PCON_TASKSTATE_RECURSIVE, &s, NULL), 0);
			assert_int_equal(s.sleeping, 1);
			assert_int_equal(s.stopped, 1);
			assert_int_equal(s.total, 2);
			assert_int_equal(s.containers, 2);
			assert_int_equal(pcon_taskstate_read(P, top, (enum pcon_backend)b, 0, &s, NULL), 0);
			assert_int_equal(s.total, 1);
		}
		pcon_container_free(top);
		pcon_container_free(kid);
		assert_int_equal(pt_cleanup(), 0);
	}
}

/* Threads created and exiting all through the scans: never an error, never
 * an overflowed count, and the buckets always sum to the total. */
static void test_churn(void **state)
{
	(void)state;
	NEED_ROOT();
	bool bpf = have_bpf();
	const struct pcon_hier *hs[2] = { V1, V2 };
	for (int v = 0; v < 2; v++) {
		if (!hs[v])
			continue;
		struct pcon_container *c = mk(hs[v], "churn");
		spawn(K_CHURN, c, NULL);
		spawn(K_THREADS, c, NULL);
		for (int i = 0; i < 300; i++) { /* until the steady threads exist */
			struct pcon_taskstats s;
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_PROC, 0, &s, NULL), 0);
			if (s.sleeping >= 6)
				break;
			msleep(10);
		}
		for (int i = 0; i < 300; i++) {
			enum pcon_backend b = (enum pcon_backend)(PCON_BACKEND_KERNEL + i % 3);
			if ((b == PCON_BACKEND_KERNEL && hs[v]->version != 1) || (b == PCON_BACKEND_BPF && !bpf))
				b = PCON_BACKEND_PROC;
			struct pcon_taskstats s;
			int r = pcon_taskstate_read(P, c, b, 0, &s, NULL);
			if (r < 0)
				fail_msg("%s %s: %s", hs[v]->name, pcon_backend_to_string(b), strerror(-r));
			assert_true(s.total < 1000);
			assert_int_equal(s.total, s.running + s.sleeping + s.uninterruptible + s.stopped +
							  s.idle + s.other);
			assert_true(s.io_wait <= s.uninterruptible);
			assert_true(s.total >= 6); /* the steady threads are always there */
		}
		pcon_container_free(c);
		assert_int_equal(pt_cleanup(), 0);
	}
}

/*
 * The css_set walk reads task lists without the kernel's lock while threads
 * are made and reaped on them: every answer, in one container and in its
 * parent's sum, must still count the 9 threads that cannot come or go (6 in
 * K_THREADS, 3 in K_CHURN), 6 of them asleep, and no more than a few of the
 * short-lived ones (a joined thread stays listed until its exit reaches
 * cgroup_exit, so each churner may have two or three listed at once: 17 is
 * far above what the kernel lists, far below what a list misread counts);
 * and a walk that met a list changing must have walked it again under the
 * lock (relocked). Runs until that has happened at least 20 times, or 10 s.
 */
static void test_lockless_churn(void **state)
{
	(void)state;
	NEED_ROOT();
	if (!have_bpf())
		SKIP_BECAUSE("%s", why);
	const struct pcon_hier *h = V2 ? V2 : V1;
	struct pcon_container *top = mk(h, "lockless"), *c = mk(h, "lockless/churn");
	struct pcon_taskstats s;
	struct pcon_taskstate_info info;
	assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_BPF, 0, &s, &info), 0);
	if (info.walk != PCON_WALK_CSS_SET) {
		pcon_container_free(c);
		pcon_container_free(top);
		assert_int_equal(pt_cleanup(), 0);
		SKIP_BECAUSE("the bpf backend runs the %s walk here, not css_set (Linux 6.9+)",
			     pcon_walk_to_string(info.walk));
	}
	spawn(K_CHURN, c, NULL);
	spawn(K_THREADS, c, NULL);
	for (int i = 0; i < 300; i++) { /* until the steady threads exist */
		assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_PROC, 0, &s, NULL), 0);
		if (s.sleeping >= 6 && s.total >= 9)
			break;
		msleep(10);
	}
	uint64_t before = taskstate_bpf_relocked(P);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned n = 0;
	do {
		/* own counts (the query program after the first), then the parent's sum (an iterator) */
		bool sum = n % 2;
		int r = pcon_taskstate_read(P, sum ? top : c, PCON_BACKEND_BPF,
					    sum ? PCON_TASKSTATE_RECURSIVE : 0, &s, &info);
		if (r < 0)
			fail_msg("bpf read %u: %s", n, strerror(-r));
		assert_int_equal(info.walk, PCON_WALK_CSS_SET);
		if (s.total < 9 || s.total > 17 || s.sleeping < 6)
			fail_msg("read %u (%s) counted %llu threads, %llu sleeping: 9 to 17 exist, 6 "
				 "of them asleep", n, sum ? "sum" : "own", (unsigned long long)s.total,
				 (unsigned long long)s.sleeping);
		assert_int_equal(s.total, s.running + s.sleeping + s.uninterruptible + s.stopped +
						  s.idle + s.other);
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (taskstate_bpf_relocked(P) - before < 20 && t.tv_sec - t0.tv_sec < 10);
	uint64_t relocked = taskstate_bpf_relocked(P) - before;
	printf("# %u reads, %llu walked again under the lock\n", n, (unsigned long long)relocked);
	pcon_container_free(c);
	pcon_container_free(top);
	assert_int_equal(pt_cleanup(), 0);
	if (relocked == 0)
		SKIP_BECAUSE("no walk met a list changing in 10 s (%u reads): the relocked path "
			     "did not run", n);
}

/* A container removed while a handle is open: -ENOENT from every backend. */
static void test_removed(void **state)
{
	(void)state;
	NEED_ROOT();
	bool bpf = have_bpf();
	const struct pcon_hier *hs[2] = { V1, V2 };
	for (int v = 0; v < 2; v++) {
		if (!hs[v])
			continue;
		struct pcon_container *c = mk(hs[v], "gone");
		/* Asked for three times first (the handle's second single query
		 * loads query_css): the last answer comes from query_css, which
		 * then holds the cgroup. */
		uint64_t q0 = taskstate_bpf_queries(P);
		struct pcon_taskstats s0;
		for (int i = 0; bpf && i < 3; i++)
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_BPF, 0, &s0, NULL), 0);
		uint64_t q1 = taskstate_bpf_queries(P);
		bool query = bpf && q1 > q0;
		char path[256];
		snprintf(path, sizeof(path), "/%s/gone", pt_prefix());
		assert_int_equal(pcon_container_remove(hs[v], path, false), 0);
		for (int b = PCON_BACKEND_KERNEL; b <= PCON_BACKEND_BPF; b++) {
			if ((b == PCON_BACKEND_KERNEL && hs[v]->version != 1) || (b == PCON_BACKEND_BPF && !bpf))
				continue;
			struct pcon_taskstats s;
			for (unsigned f = 0; f <= PCON_TASKSTATE_RECURSIVE; f++)
				if (pcon_taskstate_read(P, c, (enum pcon_backend)b, f, &s, NULL) != -ENOENT)
					fail_msg("%s %s: removed container not reported", hs[v]->name,
						 pcon_backend_to_string((enum pcon_backend)b));
		}
		/* query_css said so itself (the first bpf read after the removal). */
		if (query)
			assert_int_equal(taskstate_bpf_queries(P), q1 + 1);
		else if (bpf)
			printf("# query_css does not load here: the iterator answered\n");
		pcon_container_free(c);
		assert_int_equal(pt_cleanup(), 0);
	}
}

/* A task frozen by the v1 freezer is no load: bpf counts it idle; /proc
 * shows it as D, so proc counts it uninterruptible. Thawed, it sleeps again. */
static void test_frozen(void **state)
{
	(void)state;
	NEED_ROOT();
	const struct pcon_hier *fz;
	if (pcon_hier_find(P, "freezer", &fz) < 0 || fz->version != 1)
		SKIP_BECAUSE("no v1 freezer hierarchy mounted here");
	if (!have_bpf())
		SKIP_BECAUSE("the bpf backend does not load here");
	struct pcon_container *c = mk(fz, "frozen");
	spawn(K_PAUSE, c, NULL);
	assert_int_equal(pcon_knob_set(c, "freezer.state", "frozen"), 0);
	char *st = NULL;
	for (int i = 0; i < 200; i++) {
		free(st);
		assert_int_equal(pcon_knob_get(c, "freezer.state", &st), 0);
		if (strcmp(st, "frozen") == 0)
			break;
		msleep(10);
	}
	assert_string_equal(st, "frozen");
	free(st);
	struct pcon_taskstats b, pr;
	assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_BPF, 0, &b, NULL), 0);
	assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_PROC, 0, &pr, NULL), 0);
	show("frozen bpf", &b);
	show("frozen proc", &pr);
	assert_true(b.total == 1 && b.idle == 1 && b.uninterruptible == 0);
	assert_true(pr.total == 1 && pr.uninterruptible == 1);
	assert_int_equal(pcon_knob_set(c, "freezer.state", "thawed"), 0);
	const struct pcon_taskstats sleeping = { .sleeping = 1, .total = 1 };
	settle(c, &sleeping);
	pcon_container_free(c);
	assert_int_equal(pt_cleanup(), 0);
}

/* ---- test_block_io: a FUSE file that holds reads, behind a loop device ---- */

/* The file system: one read-only file "disk" of DISK_SIZE zero bytes, opened
 * with direct_io (no page cache in front of the server, so every read of the
 * loop device's backing file reaches us). While hold is set, reads that touch
 * [HOLD_BEGIN, HOLD_END) are parked unanswered until bio_release(). */
#define DISK_INO 2
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool hold;
static struct held { fuse_req_t req; size_t size; } held[16];
static size_t n_held, n_held_ever;

static void disk_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)DISK_SIZE;
	}
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent != FUSE_ROOT_ID || strcmp(name, "disk") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct fuse_entry_param e = { .ino = DISK_INO, .attr_timeout = 60, .entry_timeout = 60 };
	disk_stat(DISK_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != DISK_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	disk_stat(ino, &st);
	fuse_reply_attr(req, &st, 60);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != DISK_INO)
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EROFS);
	else {
		fi->direct_io = 1;
		fuse_reply_open(req, fi);
	}
}

static void reply_zeros(fuse_req_t req, size_t size)
{
	char *z = calloc(1, size ? size : 1);
	if (z)
		fuse_reply_buf(req, z, size);
	else
		fuse_reply_err(req, ENOMEM);
	free(z);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	uint64_t o = (uint64_t)off;
	size = o >= DISK_SIZE ? 0 : (size_t)(DISK_SIZE - o < size ? DISK_SIZE - o : size);
	pthread_mutex_lock(&hold_mu);
	if (hold && o < HOLD_END && o + size > HOLD_BEGIN && n_held < sizeof(held) / sizeof(held[0])) {
		held[n_held++] = (struct held){ req, size };
		n_held_ever++;
		pthread_cond_broadcast(&hold_cv);
		pthread_mutex_unlock(&hold_mu);
		return; /* answered by bio_release() */
	}
	pthread_mutex_unlock(&hold_mu);
	reply_zeros(req, size);
}

static const struct fuse_lowlevel_ops fs_ops = {
	.lookup = fs_lookup,
	.getattr = fs_getattr,
	.open = fs_open,
	.read = fs_read,
};

/* Stop holding and answer every parked read. Idempotent. */
static void bio_release(void)
{
	pthread_mutex_lock(&hold_mu);
	hold = false;
	struct held h[sizeof(held) / sizeof(held[0])];
	size_t n = n_held;
	memcpy(h, held, n * sizeof(h[0]));
	n_held = 0;
	pthread_mutex_unlock(&hold_mu);
	for (size_t i = 0; i < n; i++)
		reply_zeros(h[i].req, h[i].size);
}

/* Everything test_block_io sets up; bio_cleanup() undoes whatever exists. */
static struct {
	char dir[64]; /* the mount point (a fresh temp dir), "" if none */
	struct fuse_session *se;
	bool mounted, served;
	pthread_t server;
	int loop_fd;
	pid_t kids[2];
} bio = { .loop_fd = -1 };

static void *serve(void *arg)
{
	fuse_session_loop(arg);
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig; /* only interrupts the server's read of /dev/fuse */
}

/* Wait up to ms for pid to exit; true if reaped (status in *st). */
static bool reap(pid_t pid, int ms, int *st)
{
	for (int i = 0; i <= ms; i += 5) {
		pid_t r = waitpid(pid, st, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		msleep(5);
	}
	return false;
}

static void bio_cleanup(void)
{
	/* 1. no read stays held, so the readers (and the loop worker) finish */
	bio_release();
	for (size_t i = 0; i < 2; i++)
		if (bio.kids[i] > 0) {
			kill(bio.kids[i], SIGKILL);
			int st;
			if (reap(bio.kids[i], 3000, &st))
				bio.kids[i] = 0;
		}
	/* 2. detach the loop device (it holds the FUSE file open) */
	if (bio.loop_fd >= 0) {
		(void)ioctl(bio.loop_fd, LOOP_CLR_FD, 0);
		close(bio.loop_fd);
		bio.loop_fd = -1;
	}
	/* 3. stop the server: it may sit in a read of /dev/fuse, so interrupt it */
	if (bio.served) {
		fuse_session_exit(bio.se);
		bool done = false;
		for (int i = 0; i < 100 && !done; i++) {
			pthread_kill(bio.server, SIGUSR1);
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_nsec += 20 * 1000000L;
			if (t.tv_nsec >= 1000000000L) {
				t.tv_sec++;
				t.tv_nsec -= 1000000000L;
			}
			done = pthread_timedjoin_np(bio.server, NULL, &t) == 0;
		}
		if (!done) /* never seen; leave the thread rather than hang */
			fprintf(stderr, "# the FUSE server thread did not stop\n");
		bio.served = false;
	}
	/* 4. unmount (closing the session's /dev/fuse aborts anything left) */
	if (bio.mounted) {
		fuse_session_unmount(bio.se);
		bio.mounted = false;
	}
	if (bio.se) {
		fuse_session_destroy(bio.se);
		bio.se = NULL;
	}
	/* readers left behind by an abort have now finished */
	for (size_t i = 0; i < 2; i++)
		if (bio.kids[i] > 0) {
			int st;
			reap(bio.kids[i], 3000, &st);
			bio.kids[i] = 0;
		}
	if (bio.dir[0]) {
		if (rmdir(bio.dir) < 0)
			fprintf(stderr, "# rmdir %s: %s\n", bio.dir, strerror(errno));
		bio.dir[0] = '\0';
	}
	loop_dev[0] = '\0';
}

static int bio_teardown(void **state)
{
	(void)state;
	bio_cleanup();
	return 0;
}

/* Mount the FUSE file system and put a loop device on its file. 0, or -1
 * with the reason it cannot be done here in why. */
static int bio_setup(char *why_, size_t n)
{
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		snprintf(why_, n, "no usable /dev/fuse: %s", strerror(errno));
		return -1;
	}
	struct sigaction sa = { .sa_handler = on_sigusr1 }; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	snprintf(bio.dir, sizeof(bio.dir), "/tmp/pcon-fuse-XXXXXX");
	if (!mkdtemp(bio.dir)) {
		snprintf(why_, n, "mkdtemp: %s", strerror(errno));
		bio.dir[0] = '\0';
		return -1;
	}
	char *argv[] = { "pcon-test-fuse", "-o", "fsname=pcon-test-fuse", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	bio.se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), NULL);
	fuse_opt_free_args(&args);
	if (!bio.se) {
		snprintf(why_, n, "libfuse could not make a session");
		return -1;
	}
	if (fuse_session_mount(bio.se, bio.dir) < 0) {
		snprintf(why_, n, "mounting a FUSE file system at %s was refused", bio.dir);
		return -1;
	}
	bio.mounted = true;
	if (pthread_create(&bio.server, NULL, serve, bio.se) != 0) {
		snprintf(why_, n, "cannot start the FUSE server thread");
		return -1;
	}
	bio.served = true;

	char file[128];
	snprintf(file, sizeof(file), "%s/disk", bio.dir);
	int bfd = open(file, O_RDONLY | O_CLOEXEC);
	if (bfd < 0) {
		snprintf(why_, n, "open %s: %s", file, strerror(errno));
		return -1;
	}
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		snprintf(why_, n, "open /dev/loop-control: %s", strerror(errno));
		close(bfd);
		return -1;
	}
	int err = 0;
	for (int tries = 0; tries < 10 && bio.loop_fd < 0; tries++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0) {
			err = errno;
			break;
		}
		snprintf(loop_dev, sizeof(loop_dev), "/dev/loop%d", nr);
		int fd = open(loop_dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			break;
		}
		struct loop_config cfg = { .fd = (uint32_t)bfd,
					   .info = { .lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR } };
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			bio.loop_fd = fd;
			break;
		}
		err = errno;
		close(fd);
		if (err != EBUSY) /* EBUSY: someone else took that device first */
			break;
	}
	close(ctl);
	close(bfd); /* the loop device keeps its own reference */
	if (bio.loop_fd < 0) {
		snprintf(why_, n, "cannot attach a loop device to the FUSE file: %s", strerror(err));
		loop_dev[0] = '\0';
		return -1;
	}
	return 0;
}

/* The state letter of pid in /proc, '?' if unreadable. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return '?';
	buf[r] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] ? p[2] : '?';
}

/* An O_DIRECT read and a page-cache-miss read of a loop device, both held
 * by the FUSE server behind it: D for /proc, uninterruptible + io_wait for
 * bpf; what the kernel backend makes of them is pinned. */
static void test_block_io(void **state)
{
	(void)state;
	NEED_ROOT();
	if (!V1 && !V2)
		SKIP_BECAUSE("needs a v1 cpu hierarchy or a v2 hierarchy");
	char reason[256];
	if (bio_setup(reason, sizeof(reason)) < 0) {
		bio_cleanup();
		SKIP_BECAUSE("%s", reason);
	}
	struct pcon_container *a = V1 ? mk(V1, "blockio") : NULL, *b = V2 ? mk(V2, "blockio") : NULL;
	struct pcon_container *first = a ? a : b, *second = a ? b : NULL;
	pthread_mutex_lock(&hold_mu);
	hold = true;
	pthread_mutex_unlock(&hold_mu);
	bio.kids[0] = spawn(K_DIRECT_READ, first, second);
	bio.kids[1] = spawn(K_CACHED_READ, first, second);

	/* the server has a read parked, and both readers wait in D (3 s at most) */
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 3;
	pthread_mutex_lock(&hold_mu);
	while (n_held == 0)
		if (pthread_cond_timedwait(&hold_cv, &hold_mu, &t) == ETIMEDOUT)
			break;
	size_t parked = n_held;
	pthread_mutex_unlock(&hold_mu);
	if (parked == 0)
		fail_msg("no read of the held range reached the FUSE server in 3 s");
	char st[2] = { '?', '?' };
	for (int i = 0; i < 600; i++) {
		st[0] = proc_state(bio.kids[0]);
		st[1] = proc_state(bio.kids[1]);
		if (st[0] == 'D' && st[1] == 'D')
			break;
		msleep(5);
	}
	printf("# /proc: O_DIRECT reader %c, page-cache reader %c; %zu read(s) parked\n", st[0], st[1],
	       parked);
	if (st[0] != 'D' || st[1] != 'D')
		fail_msg("the readers are not both in D: %c %c", st[0], st[1]);

	struct pcon_taskstats want = { .uninterruptible = 2, .total = 2 };
	settle(first, &want);
	bool bpf = have_bpf();
	for (int v = 0; v < 2; v++) {
		struct pcon_container *c = v ? b : a;
		struct pcon_taskstats ps, bs, ks;
		if (!c)
			continue;
		assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_PROC, 0, &ps, NULL), 0);
		show(v ? "proc v2" : "proc v1", &ps);
		assert_true(same(&ps, &want, false));
		assert_true(ps.unknown & PCON_TASKSTATS_IO_WAIT);
		assert_int_equal(ps.io_wait, 0);
		if (bpf) {
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_BPF, 0, &bs, NULL), 0);
			show(v ? "bpf v2" : "bpf v1", &bs);
			assert_true(same(&bs, &want, false));
			assert_int_equal(bs.io_wait, 2);
			assert_int_equal(bs.unknown, 0);
		}
		if (v == 0) {
			/* Pinned: the O_DIRECT wait (0x2) is the kernel's uninterruptible and
			 * never io_wait; the page-cache wait (0x102) matches no bucket, so
			 * the kernel counts it in nr_io_wait only, which pcon folds into
			 * uninterruptible. */
			assert_int_equal(pcon_taskstate_read(P, c, PCON_BACKEND_KERNEL, 0, &ks, NULL), 0);
			show("kernel v1", &ks);
			assert_int_equal(ks.uninterruptible, 2);
			assert_int_equal(ks.io_wait, 1);
			assert_int_equal(ks.running + ks.sleeping + ks.stopped + ks.other, 0);
			assert_int_equal(ks.total, 2);
		}
	}
	if (!bpf)
		printf("# bpf not compared: %s\n", why);

	/* released, both reads complete and succeed */
	bio_release();
	for (int i = 0; i < 2; i++) {
		int ws = -1;
		if (!reap(bio.kids[i], 3000, &ws))
			fail_msg("a reader did not finish within 3 s of the release");
		bio.kids[i] = 0;
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	}
	bio_cleanup();
	pcon_container_free(a);
	pcon_container_free(b);
	assert_int_equal(pt_cleanup(), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_states),
	cmocka_unit_test(test_kernel_agrees),
	cmocka_unit_test(test_recursive),
	cmocka_unit_test(test_churn),
	cmocka_unit_test(test_lockless_churn),
	cmocka_unit_test(test_removed),
	cmocka_unit_test(test_frozen),
	cmocka_unit_test_teardown(test_block_io, bio_teardown),
};

PCONTEST_MAIN(tests, setup, teardown)
