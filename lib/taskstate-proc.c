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
 * What /proc cannot tell: whether a D task waits on I/O (in_iowait has no
 * /proc field; delay accounting's blkio ticks count finished waits only), so
 * io_wait is reported unknown. A task frozen by the v1 freezer shows as D
 * and is counted uninterruptible, where bpf sees it frozen (idle, no load).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "taskstate-internal.h"

/* Classify thread tid; 0 counted, -ENOENT gone (skip), <0 error. */
static int read_one(int proc_fd, pid_t tid, struct pcon_taskstats *acc)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "%d/task/%d/stat", (int)tid, (int)tid);
	int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negerrno();
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = n < 0 ? negerrno() : 0;
	close(fd);
	if (err < 0)
		return err;
	buf[n] = '\0';
	char letter;
	unsigned int exit_state = 0, state = TS_DEAD; /* unparsable: "other" */
	if (taskstate_parse_stat(buf, &letter) == 0)
		state = taskstate_letter_bits(letter, &exit_state);
	taskstats_add(acc, ts_classify(state, exit_state), false);
	return 0;
}

/* Classify tids[0..n) into acc; exited threads skipped. */
static int read_range(int proc_fd, const pid_t *tids, size_t n, struct pcon_taskstats *acc)
{
	for (size_t i = 0; i < n; i++) {
		int r = read_one(proc_fd, tids[i], acc);
		if (r == -ENOENT || r == -ESRCH)
			continue; /* exited since the list was read */
		if (r == -EACCES || r == -EPERM) {
			/* hidepid or the like: the thread exists, its state is unknown */
			taskstats_add(acc, TS_B_OTHER, false);
			continue;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

struct part {
	int proc_fd;
	const pid_t *tids;
	size_t n;
	struct pcon_taskstats acc;
	int r;
};

static void *part_run(void *arg)
{
	struct part *w = arg;
	w->r = read_range(w->proc_fd, w->tids, w->n, &w->acc);
	return NULL;
}

/*
 * Large containers are split across the online CPUs (at most PROC_WORKERS
 * threads): each stat read is independent and costs ~3-5 us of kernel time,
 * so latency drops nearly linearly while the CPU spent stays the same.
 */
#define PROC_WORKERS 4
#define PROC_SPLIT_MIN 2048

static int read_parallel(int proc_fd, const pid_t *tids, size_t n, struct pcon_taskstats *acc)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t k = cpus < 2 ? 1 : cpus > PROC_WORKERS ? PROC_WORKERS : (size_t)cpus;
	if (n < PROC_SPLIT_MIN || k < 2)
		return read_range(proc_fd, tids, n, acc);
	struct part w[PROC_WORKERS] = { 0 };
	pthread_t th[PROC_WORKERS];
	bool started[PROC_WORKERS] = { false };
	for (size_t i = 0; i < k; i++) {
		w[i] = (struct part){ .proc_fd = proc_fd, .tids = tids + n * i / k,
				      .n = n * (i + 1) / k - n * i / k };
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
	if (r < 0)
		return r;
	for (size_t i = 0; i < k; i++)
		pcon_taskstats_add(acc, &w[i].acc);
	return 0;
}

int taskstate_proc_read(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc)
{
	_cleanup_free_ pid_t *tids = NULL;
	int n = pcon_container_tasks(c, true, &tids);
	if (n < 0)
		return n;
	return read_parallel(pcon_proc_fd(p), tids, (size_t)n, acc);
}
