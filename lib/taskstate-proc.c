/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc backend: the container's thread list, then each thread's own stat.
 *
 * /proc/<tid>/task/<tid>/stat is the per-thread file and needs no tgid:
 * /proc/<tid> resolves for any thread id, and task/<tid> beneath it is the
 * thread itself. (/proc/<tid>/stat of a non-leader sums over its whole
 * process: ~1 ms per read at 10,000 threads.) Cost is O(threads in the
 * container), independent of the rest of the machine.
 *
 * Each thread's stat file is kept open (statcache.c) and re-read with
 * pread() when the same handle reads the thread again.
 *
 * What /proc cannot tell: whether a D task waits on I/O (in_iowait has no
 * /proc field; delay accounting's blkio ticks count finished waits only), so
 * io_wait is reported unknown. A task frozen by the v1 freezer shows as D
 * and is counted uninterruptible, where bpf sees it frozen (idle, no load).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "statcache.h"
#include "taskstate-internal.h"

/* What a worker saw in the table of kept files, for the caller to apply
 * once the workers are done (the table is read-only meanwhile). */
struct keep {
	pid_t *drop;       /* kept fds that failed: the thread is gone */
	size_t n_drop;
	pid_t *put_tid;    /* files opened for threads not kept yet */
	int *put_fd;
	size_t n_put;
};

/* Read tid's stat line into buf: from its kept fd, else a new open. */
static int read_stat(int proc_fd, struct statcache *sc, pid_t tid, char *buf, size_t size,
		     struct keep *k, size_t max_keep)
{
	int fd = statcache_get(sc, tid);
	if (fd >= 0) {
		ssize_t n = pread(fd, buf, size - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			return 0;
		}
		k->drop[k->n_drop++] = tid; /* exited (or its tid reused): open anew */
	}
	char path[64];
	snprintf(path, sizeof(path), "%d/task/%d/stat", (int)tid, (int)tid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negerrno();
	ssize_t n = read(fd, buf, size - 1);
	int err = n < 0 ? negerrno() : 0;
	if (err == 0 && k->n_put < max_keep) {
		k->put_tid[k->n_put] = tid;
		k->put_fd[k->n_put++] = fd;
	} else {
		close(fd);
	}
	if (err < 0)
		return err;
	buf[n] = '\0';
	return 0;
}

/* Classify thread tid; 0 counted, -ENOENT gone (skip), <0 error. */
static int read_one(int proc_fd, struct statcache *sc, pid_t tid, struct pcon_taskstats *acc,
		    struct keep *k, size_t max_keep)
{
	char buf[1024];
	int r = read_stat(proc_fd, sc, tid, buf, sizeof(buf), k, max_keep);
	if (r < 0)
		return r;
	char letter;
	unsigned int exit_state = 0, state = TS_DEAD; /* unparsable: "other" */
	if (taskstate_parse_stat(buf, &letter) == 0)
		state = taskstate_letter_bits(letter, &exit_state);
	taskstats_add(acc, ts_classify(state, exit_state), false);
	return 0;
}

struct part {
	int proc_fd;
	struct statcache *sc;
	const pid_t *tids;
	size_t n, max_keep;
	struct keep k;
	struct pcon_taskstats acc;
	int r;
};

/* Classify w's tids into w->acc; exited threads skipped. */
static int read_range(struct part *w)
{
	for (size_t i = 0; i < w->n; i++) {
		int r = read_one(w->proc_fd, w->sc, w->tids[i], &w->acc, &w->k, w->max_keep);
		if (r == -ENOENT || r == -ESRCH)
			continue; /* exited since the list was read */
		if (r == -EACCES || r == -EPERM) {
			/* hidepid or the like: the thread exists, its state is unknown */
			taskstats_add(&w->acc, TS_B_OTHER, false);
			continue;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void *part_run(void *arg)
{
	struct part *w = arg;
	w->r = read_range(w);
	return NULL;
}

/* Apply what a worker saw to the table: drop the dead, keep the new. */
static void part_keep(struct statcache *sc, struct part *w)
{
	for (size_t i = 0; i < w->k.n_drop; i++)
		statcache_drop(sc, w->k.drop[i]);
	for (size_t i = 0; i < w->k.n_put; i++)
		if (!statcache_put(sc, w->k.put_tid[i], w->k.put_fd[i]))
			close(w->k.put_fd[i]);
}

/*
 * Large containers are split across the online CPUs (at most PROC_WORKERS
 * threads): each stat read is independent and costs ~3-5 us of kernel time,
 * so latency drops nearly linearly while the CPU spent stays the same.
 */
#define PROC_WORKERS 4
#define PROC_SPLIT_MIN 2048

static int read_parallel(int proc_fd, struct statcache *sc, const pid_t *tids, size_t n,
			 struct pcon_taskstats *acc)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t k = cpus < 2 || n < PROC_SPLIT_MIN ? 1 : cpus > PROC_WORKERS ? PROC_WORKERS : (size_t)cpus;
	/* One allocation holds every worker's drop and put lists. */
	_cleanup_free_ pid_t *ids = malloc(2 * (n + 1) * sizeof(pid_t));
	_cleanup_free_ int *fds = malloc((n + 1) * sizeof(int));
	if (!ids || !fds)
		return -ENOMEM;
	/* Workers keep what they open until they join: only the table's room,
	 * shared among them, or the files open at once outgrow the limit. */
	size_t room = statcache_room(sc);
	struct part w[PROC_WORKERS] = { 0 };
	pthread_t th[PROC_WORKERS];
	bool started[PROC_WORKERS] = { false };
	for (size_t i = 0; i < k; i++) {
		size_t from = n * i / k, len = n * (i + 1) / k - from;
		w[i] = (struct part){ .proc_fd = proc_fd, .sc = sc, .tids = tids + from, .n = len,
				      .max_keep = room / k < len ? room / k : len,
				      .k = { .drop = ids + from, .put_tid = ids + n + from,
					     .put_fd = fds + from } };
		if (i > 0)
			started[i] = pthread_create(&th[i], NULL, part_run, &w[i]) == 0;
	}
	part_run(&w[0]);
	int r = w[0].r;
	for (size_t i = 1; i < k; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			part_run(&w[i]); /* no thread to be had: do it here */
		if (w[i].r < 0 && r == 0)
			r = w[i].r;
	}
	for (size_t i = 0; i < k; i++)
		part_keep(sc, &w[i]);
	if (r < 0)
		return r;
	for (size_t i = 0; i < k; i++)
		pcon_taskstats_add(acc, &w[i].acc);
	return 0;
}

int taskstate_proc_read_tids(struct pcon *p, const pid_t *tids, size_t n, struct pcon_taskstats *acc)
{
	if (!p->ts.stats && statcache_new(p->ts.fd_budget, &p->ts.stats) < 0)
		p->ts.stats = NULL; /* no memory for the table: read without it */
	return read_parallel(pcon_proc_fd(p), p->ts.stats, tids, n, acc);
}

int taskstate_proc_read(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc)
{
	_cleanup_free_ pid_t *tids = NULL;
	int n = pcon_container_tasks(c, true, &tids);
	if (n < 0)
		return n;
	return taskstate_proc_read_tids(p, tids, (size_t)n, acc);
}

_public_ void pcon_taskstate_set_fd_budget(struct pcon *p, size_t n)
{
	if (!p)
		return;
	p->ts.fd_budget = n;
	statcache_free(p->ts.stats); /* made again, within the new budget, when next needed */
	p->ts.stats = NULL;
}
