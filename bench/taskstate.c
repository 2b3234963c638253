/*
 * Task-state query cost by backend and container size, in one run:
 *   threads in the container (100 .. 25,000) x backend, median latency and
 *   the ratio to the kernel's own cgroupstats answer on the same container;
 *   the seed's naive algorithm (scan every thread on the machine) as the
 *   comparator; a 10-thread container queried with 0 and 20,000 other
 *   threads on the machine.
 * Needs root (cgroups, bpf). Containers are named pcon-bench-<pid>; every
 * process started here is killed and reaped before exit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cgroupstats.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcon/pcon.h"
#include "pcon/taskstate.h"

int taskstate_kernel_query(struct pcon *p, int fd, struct cgroupstats *ret); /* libpcon internal */

static struct pcon *P, *PT, *PC; /* PT, PC: bpf forced to the task walk, the css_task walk */
static const struct pcon_hier *H;
static char prefix[64];
static pid_t kids[8];
static int n_kids;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *block(void *arg)
{
	char x;
	while (read((int)(long)arg, &x, 1) < 0)
		;
	return NULL;
}

/* A child with n threads (main + n-1 blocked in read) inside c, or anywhere
 * if c is NULL. Returns its pid once every thread exists. */
static pid_t spawn_threads(const struct pcon_container *c, int n)
{
	int go[2], blk[2], ready[2];
	if (pipe(go) || pipe(blk) || pipe(ready))
		exit(1);
	pid_t pid = fork();
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		/* Die with the benchmark, however it ends (a closed pipe, a kill). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char x;
		if (read(go[0], &x, 1) != 1)
			_exit(1);
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 64 * 1024);
		for (int i = 1; i < n; i++) {
			pthread_t t;
			if (pthread_create(&t, &at, block, (void *)(long)blk[0]) != 0)
				_exit(2);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	kids[n_kids++] = pid;
	close(go[0]);
	close(ready[1]); /* so a child that dies before it is ready reads as EOF */
	if (c && pcon_container_attach(c, pid, false) < 0) {
		fprintf(stderr, "attach failed\n");
		exit(1);
	}
	char x;
	if (write(go[1], "g", 1) != 1 || read(ready[0], &x, 1) != 1) {
		fprintf(stderr, "bench: could not start %d threads (pid_max is shared with "
				"every other thread on the machine)\n", n);
		exit(1);
	}
	close(go[1]); close(blk[0]); close(blk[1]); close(ready[0]);
	return pid;
}

static void kill_kids(void)
{
	for (int i = 0; i < n_kids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	n_kids = 0;
}

/* The seed's algorithm: every thread on the machine, filtered by its cgroup. */
static int naive_scan(const char *want_line, struct pcon_taskstats *s)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	*s = (struct pcon_taskstats){ 0 };
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char path[600], buf[4096];
		snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
		DIR *t = opendir(path);
		if (!t)
			continue;
		struct dirent *te;
		while ((te = readdir(t))) {
			if (te->d_name[0] < '0' || te->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/cgroup", de->d_name, te->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			if (!strstr(buf, want_line))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/stat", de->d_name, te->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0)
				s->total++;
		}
		closedir(t);
	}
	closedir(d);
	return 0;
}

enum col { C_RAW, C_KERNEL, C_BPF, C_CSS, C_TASK, C_PROC, C_NAIVE, C_MAX };
static const char *const col_name[C_MAX] = { "cgroupstats", "kernel", "bpf", "bpf-css_task", "bpf-task", "proc", "naive" };

/* Median ms of one query kind on c; total checked against want. */
static double measure(enum col k, const struct pcon_container *c, int reps, uint64_t want)
{
	double t[64];
	char line[300];
	if (reps == 0)
		return 0;
	snprintf(line, sizeof(line), ":%s:%s\n", H->controllers[0], c->path);
	for (int i = 0; i < reps; i++) {
		struct pcon_taskstats s = { 0 };
		struct cgroupstats cs;
		int r = 0;
		double t0 = now_ms();
		switch (k) {
		case C_RAW:
			r = taskstate_kernel_query(P, c->fd, &cs);
			s.total = cs.nr_sleeping + cs.nr_running + cs.nr_stopped + cs.nr_uninterruptible;
			break;
		case C_KERNEL: r = pcon_taskstate_read(P, c, PCON_BACKEND_KERNEL, 0, &s, NULL); break;
		case C_BPF: r = pcon_taskstate_read(P, c, PCON_BACKEND_BPF, 0, &s, NULL); break;
		case C_CSS: r = pcon_taskstate_read(PC, c, PCON_BACKEND_BPF, 0, &s, NULL); break;
		case C_TASK: r = pcon_taskstate_read(PT, c, PCON_BACKEND_BPF, 0, &s, NULL); break;
		case C_PROC: r = pcon_taskstate_read(P, c, PCON_BACKEND_PROC, 0, &s, NULL); break;
		default: r = naive_scan(line, &s); break;
		}
		t[i] = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "bench: %s: %s\n", col_name[k], strerror(-r));
			return -1;
		}
		if (s.total != want)
			fprintf(stderr, "bench: %s counted %llu of %llu threads\n", col_name[k],
				(unsigned long long)s.total, (unsigned long long)want);
	}
	return median(t, reps);
}

/* BENCH_QUICK=1 in the environment: no naive column, no 25,000 row and no
 * 10-thread section, only the walks of every container beside 20,000
 * threads (the figures compared while tuning). */
static bool quick;

static int reps_for(enum col k, int n)
{
	if (quick && k == C_NAIVE)
		return 0;
	if (k == C_NAIVE)
		return n >= 10000 ? 3 : 5;
	if (k == C_PROC || k == C_KERNEL)
		return n >= 10000 ? 7 : 21;
	return 31;
}

/* Every container's counts at once: one walk of the whole hierarchy, by
 * each walk. */
static int walk_all(void)
{
	struct pcon_container *root;
	if (pcon_container_open(H, "/", &root) < 0)
		return -1;
	struct pcon *by[3] = { P, PC, PT };
	double ms[3][31];
	for (int i = 0; i < 31; i++)
		for (int w = 0; w < 3; w++) {
			struct pcon_tsnap *s;
			double t0 = now_ms();
			if (pcon_tsnap_take(by[w], root, PCON_BACKEND_BPF, &s) < 0)
				return -1;
			ms[w][i] = now_ms() - t0;
			pcon_tsnap_free(s);
		}
	printf("\nEvery container of %s at once, 20,000+ threads on the machine (median ms):\n"
	       "  css_set walk %.3f   css_task walk %.3f   task walk %.3f\n", H->name,
	       median(ms[0], 31), median(ms[1], 31), median(ms[2], 31));
	pcon_container_free(root);
	return 0;
}

static void cleanup(void)
{
	kill_kids();
	if (P && H) {
		char path[128];
		snprintf(path, sizeof(path), "/%s", prefix);
		pcon_container_remove(H, path, true);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	exit(130); /* runs cleanup(): a benchmark, not a library path */
}

int main(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* as pcon and pcond do */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	quick = getenv("BENCH_QUICK") && strcmp(getenv("BENCH_QUICK"), "1") == 0;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (geteuid() != 0) {
		printf("bench taskstate: skipped (needs root)\n");
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "pcon-bench-%d", (int)getpid());
	setenv("PCON_BPF_WALK", "task", 1);
	int r = pcon_open(NULL, &PT);
	setenv("PCON_BPF_WALK", "css_task", 1);
	if (r == 0)
		r = pcon_open(NULL, &PC);
	unsetenv("PCON_BPF_WALK");
	if (r < 0 || pcon_open(NULL, &P) < 0 || pcon_hier_find(P, "cpu", &H) < 0 || H->version != 1) {
		printf("bench taskstate: skipped (needs a v1 cpu hierarchy for the kernel comparison)\n");
		return 0;
	}
	atexit(cleanup);
	struct pcon_container *c;
	char path[128];
	snprintf(path, sizeof(path), "/%s/big", prefix);
	if (pcon_container_create(H, path, &c) < 0)
		return 1;

	printf("Task-state query latency, one container on v1 %s (median ms; ratio to the kernel's\n"
	       "own cgroupstats reply on the same container). 'kernel' = pcon's kernel backend\n"
	       "(cgroupstats + the thread list for its uncounted threads); naive = every thread on\n"
	       "the machine filtered by its cgroup file; bpf = the walk pcon picks here (css_set\n"
	       "on 6.9+: the cgroup's task lists read unlocked and checked; after the first query\n"
	       "one bpf() call of a syscall program); bpf-css_task = the css_task kfunc walk of\n"
	       "6.7 and 6.8, the same way (forced here); bpf-task = the task-iterator walk of\n"
	       "kernels without the css_task kfuncs (forced here), over every thread.\n\n", H->name);
	printf("%8s", "threads");
	for (int k = 0; k < C_MAX; k++)
		printf(" %12s", col_name[k]);
	printf(" %9s %9s %9s %9s\n", "bpf/cgst", "css/cgst", "task/cgst", "proc/cgst");
	static const int sizes[] = { 100, 1000, 10000, 25000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) - quick; i++) {
		spawn_threads(c, sizes[i]);
		double ms[C_MAX];
		for (int k = 0; k < C_MAX; k++)
			ms[k] = measure((enum col)k, c, reps_for((enum col)k, sizes[i]), (uint64_t)sizes[i]);
		printf("%8d", sizes[i]);
		for (int k = 0; k < C_MAX; k++)
			printf(" %12.3f", ms[k]);
		printf(" %8.2fx %8.2fx %8.2fx %8.1fx\n", ms[C_BPF] / ms[C_RAW], ms[C_CSS] / ms[C_RAW],
		       ms[C_TASK] / ms[C_RAW], ms[C_PROC] / ms[C_RAW]);
		fflush(stdout);
		kill_kids();
	}
	pcon_container_free(c);

	if (quick) { /* the walks beside 20,000 threads, without the 10-thread section */
		spawn_threads(NULL, 20000);
		return walk_all() < 0;
	}
	/* A small container, alone and then next to 20,000 other threads. */
	snprintf(path, sizeof(path), "/%s/small", prefix);
	if (pcon_container_create(H, path, &c) < 0)
		return 1;
	spawn_threads(c, 10);
	double alone[C_MAX], crowd[C_MAX];
	for (int k = 0; k < C_MAX; k++)
		alone[k] = measure((enum col)k, c, k == C_NAIVE ? 5 : 51, 10);
	spawn_threads(NULL, 20000);
	for (int k = 0; k < C_MAX; k++)
		crowd[k] = measure((enum col)k, c, k == C_NAIVE ? 3 : 51, 10);
	printf("\n10-thread container (median ms):\n%-26s", "");
	for (int k = 0; k < C_MAX; k++)
		printf(" %12s", col_name[k]);
	printf("\n%-26s", "alone");
	for (int k = 0; k < C_MAX; k++)
		printf(" %12.3f", alone[k]);
	printf("\n%-26s", "+20,000 other threads");
	for (int k = 0; k < C_MAX; k++)
		printf(" %12.3f", crowd[k]);
	printf("\n%-26s", "ratio");
	for (int k = 0; k < C_MAX; k++)
		printf(" %11.2fx", crowd[k] / alone[k]);
	printf("\n");
	if (walk_all() < 0)
		return 1;
	pcon_container_free(c);
	return 0;
}
