/*
 * Task-state snapshots at a real host's scale: trees of 70, 700 and 5,000
 * containers on a v1 hierarchy with a controller, on v2 and on a named v1
 * hierarchy. Every container's own counts and subtree sums must agree
 * between proc and each bpf walk this kernel runs: css_set (the default
 * where it loads), css_task and task (forced with PCON_BPF_WALK), with
 * processes in known states spread through the tree and one container whose
 * thread flips between running and sleeping while the walks run.
 */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcontest.h"
#include "pcon/taskstate.h"

uint64_t taskstate_bpf_queries(const struct pcon *p); /* libpcon.a internals */
bool taskstate_bpf_task_all(const struct pcon *p);

#define GROUP 50 /* leaves per middle container */
#define MAX_HIERS 3

static struct pcon *P;      /* the walk pcon picks */
static struct pcon *PT, *PC; /* bpf forced to the task walk, the css_task walk */
static struct pcon *PV;     /* the task walk by the iterator's visits (task_iter) */
static struct pcon *PI;     /* the css_task walk by iterator only (css_task_iter) */
static const struct pcon_hier *H[MAX_HIERS];
static size_t n_h;
static char why[256];

static int setup(void **state)
{
	(void)state;
	if (pt_need_root(why, sizeof(why)))
		return 0;
	/* thousands of container handles: take the hard limit of open files, as
	 * a program that needs them does (systemd's soft limit is 1024) */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (pcon_open(NULL, &P) < 0)
		return -1;
	setenv("PCON_BPF_WALK", "task", 1);
	int r = pcon_open(NULL, &PT);
	setenv("PCON_BPF_WALK", "css_task", 1);
	if (r == 0)
		r = pcon_open(NULL, &PC);
	setenv("PCON_BPF_WALK", "task_iter", 1);
	if (r == 0)
		r = pcon_open(NULL, &PV);
	setenv("PCON_BPF_WALK", "css_task_iter", 1);
	if (r == 0)
		r = pcon_open(NULL, &PI);
	unsetenv("PCON_BPF_WALK");
	if (r < 0)
		return -1;
	size_t n;
	const struct pcon_hier *h = pcon_hiers(P, &n);
	const struct pcon_hier *v1 = NULL, *v2 = NULL, *named = NULL;
	for (size_t i = 0; i < n; i++) {
		if (h[i].version == 2 && !v2)
			v2 = &h[i];
		else if (h[i].version == 1 && h[i].named && !(h[i].controllers && h[i].controllers[0]))
			named = named ? named : &h[i];
		else if (h[i].version == 1 && !v1)
			v1 = &h[i];
	}
	if (v1)
		H[n_h++] = v1;
	if (v2)
		H[n_h++] = v2;
	if (named)
		H[n_h++] = named;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_cleanup();
	pcon_close(PI);
	pcon_close(PC);
	pcon_close(PV);
	pcon_close(PT);
	pcon_close(P);
	return 0;
}

/* The same tree in every hierarchy: top/gI/cJ, leaves in groups of GROUP.
 * Ids and paths only: thousands of open handles would outgrow a default
 * open-file limit of 1,024. */
struct tree {
	size_t n;                          /* containers per hierarchy, top included */
	uint64_t *id[MAX_HIERS];
	char **path[MAX_HIERS];
};

static void tree_make(struct tree *t, const char *name, size_t leaves)
{
	size_t groups = (leaves + GROUP - 1) / GROUP;
	t->n = 1 + groups + leaves;
	for (size_t h = 0; h < n_h; h++) {
		t->id[h] = calloc(t->n, sizeof(*t->id[h]));
		t->path[h] = calloc(t->n, sizeof(*t->path[h]));
		assert_non_null(t->id[h]);
		assert_non_null(t->path[h]);
		size_t k = 0;
		char path[256];
		for (size_t g = 0; g <= groups; g++) {
			size_t in_g = g == 0 ? 0 : leaves - (g - 1) * GROUP < GROUP ? leaves - (g - 1) * GROUP : GROUP;
			for (size_t j = 0; j <= in_g; j++) {
				if (g == 0)
					snprintf(path, sizeof(path), "/%s-%s", pt_prefix(), name);
				else if (j == 0)
					snprintf(path, sizeof(path), "/%s-%s/g%zu", pt_prefix(), name, g);
				else
					snprintf(path, sizeof(path), "/%s-%s/g%zu/c%zu", pt_prefix(), name, g, j);
				struct pcon_container *c;
				int r = pcon_container_create(H[h], path, &c);
				if (r < 0)
					fail_msg("create %s:%s: %s", H[h]->name, path, strerror(-r));
				t->id[h][k] = c->id;
				t->path[h][k++] = strdup(path);
				pcon_container_free(c);
			}
		}
		assert_int_equal(k, t->n);
	}
}

static void tree_free(struct tree *t)
{
	for (size_t h = 0; h < n_h; h++) {
		for (size_t i = 0; i < t->n; i++)
			free(t->path[h][i]);
		free(t->path[h]);
		free(t->id[h]);
	}
}

/* Container i of hierarchy h, opened (free it). */
static struct pcon_container *tree_open(const struct tree *t, size_t h, size_t i)
{
	struct pcon_container *c;
	int r = pcon_container_open(H[h], t->path[h][i], &c);
	if (r < 0)
		fail_msg("open %s:%s: %s", H[h]->name, t->path[h][i], strerror(-r));
	return c;
}

/* Fixtures: what a child does once inside its containers. */
enum kind { K_PAUSE, K_BUSY, K_STOPPED, K_FLIP };

static void *nap(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void body(void *arg)
{
	enum kind k = (enum kind)(long)arg;
	pthread_t t;
	switch (k) {
	case K_PAUSE: /* three sleeping threads */
		pthread_create(&t, NULL, nap, NULL);
		pthread_create(&t, NULL, nap, NULL);
		for (;;)
			pause();
	case K_BUSY:
		for (volatile unsigned long i = 0;; i++)
			;
	case K_STOPPED:
		for (;;)
			pause();
	case K_FLIP: /* running, then sleeping, about every 50 us */
		for (;;) {
			struct timespec a, b;
			clock_gettime(CLOCK_MONOTONIC, &a);
			do
				clock_gettime(CLOCK_MONOTONIC, &b);
			while ((b.tv_nsec - a.tv_nsec + 1000000000L) % 1000000000L < 50000);
			nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
		}
	}
}

struct placed {
	pid_t pid[8];
	size_t n;
	size_t flip; /* index of the container holding K_FLIP */
};

/* Put one child of kind k in container i of every hierarchy. */
static void place(struct placed *pl, const struct tree *t, size_t i, enum kind k)
{
	struct pcon_container *in[MAX_HIERS];
	for (size_t h = 0; h < n_h; h++)
		in[h] = tree_open(t, h, i);
	pid_t pid = pt_spawn_in((const struct pcon_container *const *)in, n_h, body, (void *)(long)k);
	for (size_t h = 0; h < n_h; h++)
		pcon_container_free(in[h]);
	assert_true(pid > 0);
	if (k == K_STOPPED) {
		kill(pid, SIGSTOP);
		int st;
		assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	}
	pl->pid[pl->n++] = pid;
	if (k == K_FLIP)
		pl->flip = i;
}

static void placed_stop(struct placed *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		kill(pl->pid[i], SIGKILL);
		waitpid(pl->pid[i], NULL, 0);
	}
}

/* Does b hold the same counts as a (the flipping container: the same
 * threads, running or sleeping)? io_wait is left out: proc cannot see it. */
static void same(const char *what, const char *hier, const char *path, bool flip,
		 const struct pcon_taskstats *a, const struct pcon_taskstats *b)
{
	bool ok = a->total == b->total && a->stopped == b->stopped && a->other == b->other &&
		  a->uninterruptible == b->uninterruptible && a->idle == b->idle &&
		  a->running + a->sleeping == b->running + b->sleeping &&
		  (flip || (a->running == b->running && a->sleeping == b->sleeping));
	if (!ok)
		fail_msg("%s %s:%s: proc R%llu S%llu D%llu T%llu I%llu X%llu =%llu, "
			 "bpf R%llu S%llu D%llu T%llu I%llu X%llu =%llu", what, hier, path,
			 (unsigned long long)a->running, (unsigned long long)a->sleeping,
			 (unsigned long long)a->uninterruptible, (unsigned long long)a->stopped,
			 (unsigned long long)a->idle, (unsigned long long)a->other,
			 (unsigned long long)a->total, (unsigned long long)b->running,
			 (unsigned long long)b->sleeping, (unsigned long long)b->uninterruptible,
			 (unsigned long long)b->stopped, (unsigned long long)b->idle,
			 (unsigned long long)b->other, (unsigned long long)b->total);
}

/* Compare every container's own counts and sums: proc against one bpf walk. */
static void compare(const struct tree *t, size_t h, const struct placed *pl,
		    const struct pcon_tsnap *proc, const struct pcon_tsnap *bpf, const char *walk)
{
	uint64_t threads = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t id = t->id[h][i];
		const char *path = t->path[h][i];
		/* The top is not flipping itself, but its sum (and g1's) holds the flip. */
		bool flip_own = i == pl->flip, flip_sum = i == pl->flip || i == 0 || i == 1;
		struct pcon_taskstats a, b;
		assert_int_equal(pcon_tsnap_get(proc, id, 0, &a), 0);
		assert_int_equal(pcon_tsnap_get(bpf, id, 0, &b), 0);
		char what[64];
		snprintf(what, sizeof(what), "%s own", walk);
		same(what, H[h]->name, path, flip_own, &a, &b);
		threads += a.total;
		assert_int_equal(pcon_tsnap_get(proc, id, PCON_TASKSTATE_RECURSIVE, &a), 0);
		assert_int_equal(pcon_tsnap_get(bpf, id, PCON_TASKSTATE_RECURSIVE, &b), 0);
		snprintf(what, sizeof(what), "%s sum", walk);
		same(what, H[h]->name, path, flip_sum, &a, &b);
	}
	/* 3 sleepers + busy + stopped + flip, all inside the tree */
	assert_int_equal(threads, 6);
	struct pcon_taskstats top;
	assert_int_equal(pcon_tsnap_get(bpf, t->id[h][0], PCON_TASKSTATE_RECURSIVE, &top), 0);
	assert_int_equal(top.total, 6);
	assert_int_equal(top.stopped, 1);
	assert_true(top.running >= 1);
	/* Every container of the tree is one the sums saw (the task walk sees
	 * only containers with threads and their ancestors). */
	if (strcmp(walk, "task") != 0)
		assert_int_equal(top.containers, t->n);
}

/*
 * Every container's own counts asked for one at a time, as pcon stats
 * without -r does: twice on p (the iterator, then the query program from its
 * cache of cgroups, which the trees overflow) and once on PI (the css_task
 * iterator only).
 */
static void compare_single(const struct tree *t, size_t h, const struct placed *pl,
			   const struct pcon_tsnap *proc, struct pcon *p, enum pcon_walk want)
{
	/* The handle's second single-container query loads the query program (once). */
	struct pcon_container *c0 = tree_open(t, h, 0);
	struct pcon_taskstats s0;
	for (int k = 0; k < 2; k++)
		assert_int_equal(pcon_taskstate_read(p, c0, PCON_BACKEND_BPF, 0, &s0, NULL), 0);
	pcon_container_free(c0);
	uint64_t q0 = taskstate_bpf_queries(p), qi = taskstate_bpf_queries(PI);
	for (size_t i = 0; i < t->n; i++) {
		struct pcon_container *c = tree_open(t, h, i);
		struct pcon_taskstats a, b;
		struct pcon_taskstate_info info;
		assert_int_equal(pcon_tsnap_get(proc, c->id, 0, &a), 0);
		for (int k = 0; k < 3; k++) {
			int r = pcon_taskstate_read(k < 2 ? p : PI, c, PCON_BACKEND_BPF, 0, &b, &info);
			if (r < 0)
				fail_msg("bpf read of %s:%s: %s", H[h]->name, c->path, strerror(-r));
			assert_int_equal(info.walk, k < 2 ? want : PCON_WALK_CSS_TASK);
			same(k == 0 ? "first read" : k == 1 ? "query" : "css_task_iter", H[h]->name,
			     c->path, i == pl->flip, &a, &b);
		}
		pcon_container_free(c);
	}
	uint64_t answered = taskstate_bpf_queries(p) - q0;
	if (answered == 0)
		printf("# %s: the %s query program does not load here: the iterator answered "
		       "every read\n", H[h]->name, pcon_walk_to_string(want));
	else
		assert_true(answered >= t->n - 1); /* every second read (c0's may be the first) */
	assert_int_equal(taskstate_bpf_queries(PI), qi);
}

static void check_walk(const struct tree *t, size_t h, const struct placed *pl,
		       const struct pcon_tsnap *proc, struct pcon *p, enum pcon_walk want)
{
	struct pcon_container *top = tree_open(t, h, 0);
	struct pcon_tsnap *bpf;
	int r = pcon_tsnap_take(p, top, PCON_BACKEND_BPF, &bpf);
	if (want == PCON_WALK_TASK && H[h]->version == 1 && !(H[h]->controllers && H[h]->controllers[0])) {
		/* No css_set slot leads to a named hierarchy: said so, and auto falls back. */
		assert_int_equal(r, -EOPNOTSUPP);
		struct pcon_taskstats s;
		struct pcon_taskstate_info info;
		assert_int_equal(pcon_taskstate_read(p, top, PCON_BACKEND_AUTO, PCON_TASKSTATE_RECURSIVE,
						     &s, &info), 0);
		assert_int_equal(info.backend, PCON_BACKEND_PROC);
		assert_int_equal(info.fallback, -EOPNOTSUPP);
		assert_int_equal(s.total, 6);
		pcon_container_free(top);
		return;
	}
	if (r < 0)
		fail_msg("bpf walk of %s:%s: %s", H[h]->name, top->path, strerror(-r));
	struct pcon_taskstate_info info;
	pcon_tsnap_info(bpf, &info);
	assert_int_equal(info.backend, PCON_BACKEND_BPF);
	assert_int_equal(info.walk, want);
	compare(t, h, pl, proc, bpf, pcon_walk_to_string(want));
	if (want != PCON_WALK_TASK)
		compare_single(t, h, pl, proc, p, want);
	pcon_tsnap_free(bpf);
	pcon_container_free(top);
}

/* Is name a kernel symbol (a kfunc this kernel has)? */
static bool has_ksym(const char *name)
{
	char *out = NULL;
	int r = pt_sh(&out, "grep -qw '%s' /proc/kallsyms", name);
	free(out);
	return r == 0;
}

/* The walk P's bpf backend runs. */
static enum pcon_walk default_walk(void)
{
	struct pcon_container *root;
	struct pcon_taskstate_info info = { 0 };
	struct pcon_taskstats s;
	assert_int_equal(pcon_container_open(H[0], "/", &root), 0);
	int r = pcon_taskstate_read(P, root, PCON_BACKEND_BPF, 0, &s, &info);
	pcon_container_free(root);
	return r < 0 ? PCON_WALK_NONE : info.walk;
}

/* Wait until every fixture thread is in the tree (threads start after the
 * child joins its containers). */
static void settle(const struct tree *t)
{
	for (int i = 0; i < 500; i++) {
		struct pcon_taskstats s;
		struct pcon_container *top = tree_open(t, 0, 0);
		int r = pcon_taskstate_read(P, top, PCON_BACKEND_PROC, PCON_TASKSTATE_RECURSIVE, &s, NULL);
		pcon_container_free(top);
		if (r == 0 && s.total == 6)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	fail_msg("the fixture threads did not all start");
}

static void run_scale(const char *name, size_t leaves)
{
	if (why[0])
		SKIP_BECAUSE("%s", why);
	if (n_h == 0)
		SKIP_BECAUSE("no cgroup hierarchy is mounted");
	struct tree t = { 0 };
	tree_make(&t, name, leaves);
	/* Fixtures in a middle container, deep leaves, and the flip in g1's first leaf. */
	struct placed pl = { 0 };
	place(&pl, &t, 1 + 1, K_FLIP);
	place(&pl, &t, t.n - 1, K_PAUSE);
	place(&pl, &t, t.n / 2, K_BUSY);
	place(&pl, &t, 1, K_STOPPED);
	settle(&t);
	/* The css_task walk must run wherever the kernel has its kfuncs, the
	 * css_set walk wherever it loads (6.9+, see test_css_set_walk). */
	bool bpf_css = has_ksym("bpf_iter_css_task_new");
	bool bpf_set = bpf_css && default_walk() == PCON_WALK_CSS_SET;
	for (size_t h = 0; h < n_h; h++) {
		struct pcon_tsnap *proc;
		struct pcon_container *top = tree_open(&t, h, 0);
		assert_int_equal(pcon_tsnap_take(P, top, PCON_BACKEND_PROC, &proc), 0);
		pcon_container_free(top);
		if (bpf_set)
			check_walk(&t, h, &pl, proc, P, PCON_WALK_CSS_SET);
		if (bpf_css)
			check_walk(&t, h, &pl, proc, PC, PCON_WALK_CSS_TASK);
		check_walk(&t, h, &pl, proc, PT, PCON_WALK_TASK);
		check_walk(&t, h, &pl, proc, PV, PCON_WALK_TASK);
		pcon_tsnap_free(proc);
	}
	placed_stop(&pl);
	tree_free(&t);
	assert_int_equal(pt_cleanup(), 0);
}

/* The css_task walk where the kernel has its kfuncs; the sizes above then
 * checked it beside the task walk. */
static void test_css_task_walk(void **state)
{
	(void)state;
	if (why[0])
		SKIP_BECAUSE("%s", why);
	if (!has_ksym("bpf_iter_css_task_new"))
		SKIP_BECAUSE("this kernel has no css_task kfuncs (Linux 6.7+): the trees were "
			     "checked with the task walk only");
	struct pcon_container *root;
	assert_int_equal(pcon_container_open(H[0], "/", &root), 0);
	struct pcon_taskstate_info info;
	struct pcon_taskstats s;
	assert_int_equal(pcon_taskstate_read(PC, root, PCON_BACKEND_BPF, 0, &s, &info), 0);
	assert_int_equal(info.walk, PCON_WALK_CSS_TASK);
	pcon_container_free(root);
}

static char release[65]; /* uname -r, once kernel_at_least ran */

/* Is the running kernel major.minor or later? */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		fail_msg("uname");
	snprintf(release, sizeof(release), "%s", u.release);
	return ma > major || (ma == major && mi >= minor);
}

/* The css_set walk is the default from Linux 6.9 (may_goto), where the
 * sizes above checked it beside the others. */
static void test_css_set_walk(void **state)
{
	(void)state;
	if (why[0])
		SKIP_BECAUSE("%s", why);
	if (!kernel_at_least(6, 9) || !has_ksym("bpf_iter_css_task_new"))
		SKIP_BECAUSE("Linux %s runs no css_set walk (6.9+ with the css_task kfuncs): "
			     "the trees were checked with the walks it runs", release);
	assert_int_equal(default_walk(), PCON_WALK_CSS_SET);
}

/* The task walk is one program run where the kernel has bpf_loop (5.17+),
 * and PCON_BPF_WALK=task_iter makes it a visit per thread. */
static void test_task_walk_kind(void **state)
{
	(void)state;
	if (why[0])
		SKIP_BECAUSE("%s", why);
	if (!kernel_at_least(5, 17))
		SKIP_BECAUSE("Linux %s has no bpf_loop (5.17+): the task walk visits each thread",
			     release);
	struct pcon_container *root;
	assert_int_equal(pcon_container_open(H[0], "/", &root), 0);
	struct pcon_taskstats s, v;
	struct pcon_taskstate_info info;
	int r = pcon_taskstate_read(PT, root, PCON_BACKEND_BPF, 0, &s, &info);
	if (r == -EOPNOTSUPP) /* a named v1 hierarchy first: the walk cannot see it */
		SKIP_BECAUSE("%s: the task walk cannot see this hierarchy", H[0]->name);
	assert_int_equal(r, 0);
	assert_int_equal(info.walk, PCON_WALK_TASK);
	assert_true(taskstate_bpf_task_all(PT));
	assert_int_equal(pcon_taskstate_read(PV, root, PCON_BACKEND_BPF, 0, &v, &info), 0);
	assert_int_equal(info.walk, PCON_WALK_TASK);
	assert_false(taskstate_bpf_task_all(PV));
	pcon_container_free(root);
}

static void test_70(void **state) { (void)state; run_scale("s70", 70); }
static void test_700(void **state) { (void)state; run_scale("s700", 700); }
static void test_5000(void **state)
{
	(void)state;
	if (getenv("PCONTEST_SLOW"))
		SKIP_BECAUSE("15,000 containers made and walked, and PCONTEST_SLOW says this machine "
			     "is an emulated guest (70 and 700 ran)");
	run_scale("s5000", 5000);
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_70),
		cmocka_unit_test(test_700),
		cmocka_unit_test(test_5000),
		cmocka_unit_test(test_css_task_walk),
		cmocka_unit_test(test_css_set_walk),
		cmocka_unit_test(test_task_walk_kind),
	};
	setenv("CMOCKA_MESSAGE_OUTPUT", "TAP", 1);
	return cmocka_run_group_tests(tests, setup, teardown) ? 1 : 0;
}
