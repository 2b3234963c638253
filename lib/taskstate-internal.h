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

/* The state bits /proc's one-letter state stands for (fs/proc/array.c). */
unsigned int taskstate_letter_bits(char letter, unsigned int *ret_exit_state);

/* Parse one /proc/.../stat line: the state letter after the last ')'.
 * -EBADMSG if the line has no such field. */
int taskstate_parse_stat(const char *line, char *ret_state);

/* Each backend adds the counts of one container's own threads to acc. */
int taskstate_proc_read(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc);
int taskstate_kernel_read(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc);
/* The kernel's raw cgroupstats answer for a cgroup directory fd. */
struct cgroupstats;
int taskstate_kernel_query(struct pcon *p, int fd, struct cgroupstats *ret);
/* 0 if the eBPF program is loaded (loading it once), else the loader's error. */
int taskstate_bpf_ready(struct pcon *p);
/* bpf covers descendants itself (one iterator walk). */
int taskstate_bpf_read(struct pcon *p, const struct pcon_container *c, bool recursive,
		       struct pcon_taskstats *acc);

#endif
