/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Task-state statistics: what the backends share; not part of the public API. */
#ifndef PCON_TASKSTATE_INTERNAL_H
#define PCON_TASKSTATE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "pcon/taskstate.h"
#include "bpf/taskstate.h"

/* Count one thread of the given bucket into s. */
static inline void taskstats_add(struct pcon_taskstats *s, enum ts_bucket b, bool io_wait)
{
	switch (b) {
	case TS_B_RUNNING: s->running++; break;
	case TS_B_SLEEPING: s->sleeping++; break;
	case TS_B_UNINTERRUPTIBLE: s->uninterruptible++; s->io_wait += io_wait; break;
	case TS_B_STOPPED: s->stopped++; break;
	case TS_B_IDLE: s->idle++; break;
	default: s->other++; break;
	}
	s->total++;
}

/* Count n threads of the given bucket into s. */
static inline void taskstats_add_n(struct pcon_taskstats *s, enum ts_bucket b, uint64_t n)
{
	switch (b) {
	case TS_B_RUNNING: s->running += n; break;
	case TS_B_SLEEPING: s->sleeping += n; break;
	case TS_B_UNINTERRUPTIBLE: s->uninterruptible += n; break;
	case TS_B_STOPPED: s->stopped += n; break;
	case TS_B_IDLE: s->idle += n; break;
	default: s->other += n; break;
	}
	s->total += n;
}

/* The state bits /proc's one-letter state stands for (fs/proc/array.c). */
unsigned int taskstate_letter_bits(char letter, unsigned int *ret_exit_state);

/* Parse one /proc/.../stat line: the state letter after the last ')'.
 * -EBADMSG if the line has no such field. */
int taskstate_parse_stat(const char *line, char *ret_state);

/* Each backend adds the counts of one container's own threads to acc. */
int taskstate_proc_read(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc);
/* proc: classify the threads tids[0..n) into acc. */
int taskstate_proc_read_tids(struct pcon *p, const pid_t *tids, size_t n, struct pcon_taskstats *acc);
int taskstate_kernel_read(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc);
/* The kernel's raw cgroupstats answer for a cgroup directory fd. */
struct cgroupstats;
int taskstate_kernel_query(struct pcon *p, int fd, struct cgroupstats *ret);
/* 0 if the eBPF program is loaded (loading it once), else the loader's error. */
int taskstate_bpf_ready(struct pcon *p);
/* The walk the loaded program runs (PCON_WALK_NONE if none is loaded). */
enum pcon_walk taskstate_bpf_walk_kind(const struct pcon *p);
/* How many single-container queries query_css answered in p (for tests:
 * libpcon.a exports it, libpcon.so does not). */
uint64_t taskstate_bpf_queries(const struct pcon *p);
/* How many cgroups the css_set walk of p's program walked again under the
 * lock because their lists changed under it (for tests and benchmarks). */
uint64_t taskstate_bpf_relocked(const struct pcon *p);
/* Is p's task walk count_tasks_all (one program run, 5.17+)? For tests. */
bool taskstate_bpf_task_all(const struct pcon *p);
/* One iterator walk of c (with its descendants if recursive) into s. */
int taskstate_bpf_walk(struct pcon *p, const struct pcon_container *c, bool recursive,
		       struct pcon_tsnap *s);

/* tsnap.c: build a snapshot; sparse: ids not added had no threads. */
int tsnap_new(bool sparse, struct pcon_tsnap **ret);
int tsnap_add(struct pcon_tsnap *s, uint64_t id, uint64_t parent, const struct pcon_taskstats *own);
void tsnap_set_info(struct pcon_tsnap *s, const struct pcon_taskstate_info *info);
void tsnap_set_fallback(struct pcon_tsnap *s, int err);
size_t tsnap_size(const struct pcon_tsnap *s);
/* Sort, and sum every container's subtree. */
void tsnap_finish(struct pcon_tsnap *s);

#endif
