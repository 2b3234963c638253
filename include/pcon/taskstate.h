/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon task-state statistics: how many threads of a container (and
 * optionally its descendants) are running, sleeping, blocked, stopped.
 */
#ifndef PCON_TASKSTATE_H
#define PCON_TASKSTATE_H

#include <errno.h>
#include <stdint.h>

#include "pcon/pcon.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Thread counts by state. Every thread looked at lands in exactly one of
 * running, sleeping, uninterruptible, stopped, idle, other; total is their
 * sum. io_wait is a subset of uninterruptible (blocked on I/O).
 *   running          R: on a CPU or runnable (state 0)
 *   sleeping         S: interruptible wait, freezable or not
 *   uninterruptible  D: uninterruptible wait, killable or freezable or not;
 *                    counts toward the load average
 *   stopped          T/t: stopped by a signal or by a tracer
 *   idle             I/P: uninterruptible waits that are not load
 *                    (TASK_IDLE, parked kernel threads, tasks frozen by the
 *                    v1 freezer: /proc shows those as D, so proc cannot)
 *   other            zombie/dead, or a state the backend could not classify
 */
struct pcon_taskstats {
	uint64_t running;
	uint64_t sleeping;
	uint64_t uninterruptible;
	uint64_t stopped;
	uint64_t io_wait;
	uint64_t idle;
	uint64_t other;
	uint64_t total;
	uint64_t containers; /* how many containers were summed */
	unsigned unknown;    /* PCON_TASKSTATS_* bits: fields the backend cannot see */
};

/* Bits of pcon_taskstats.unknown: the field is 0 because the backend is blind
 * to it, not because no thread is in that state. Print these as "-". */
#define PCON_TASKSTATS_IO_WAIT 0x1u /* proc: /proc has no per-thread I/O-wait flag */
#define PCON_TASKSTATS_IDLE    0x2u /* kernel: cgroupstats has no idle count */

enum pcon_backend {
	PCON_BACKEND_AUTO,   /* bpf if it loads here, else proc */
	PCON_BACKEND_KERNEL, /* taskstats netlink CGROUPSTATS_CMD_GET (v1 only) */
	PCON_BACKEND_PROC,   /* the container's thread list + /proc/<tid>/task/<tid>/stat */
	PCON_BACKEND_BPF,    /* eBPF cgroup iterator + css_task kfuncs */
	PCON_BACKEND_MAX,
	PCON_BACKEND_INVALID = -EINVAL,
};

/* "auto", "kernel", "proc", "bpf"; NULL for an invalid value. */
const char *pcon_backend_to_string(enum pcon_backend b);
/* The backend named s, or PCON_BACKEND_INVALID. */
enum pcon_backend pcon_backend_from_string(const char *s);

/* Add the counts of b to a (and merge what b could not see). */
void pcon_taskstats_add(struct pcon_taskstats *a, const struct pcon_taskstats *b);

/* Include the container's descendants. */
#define PCON_TASKSTATE_RECURSIVE 0x1u

/*
 * Count the threads of container c by state into *ret. The backends keep
 * what they load (the eBPF program, a netlink socket) in p until pcon_close,
 * so p serves one thread at a time. backend AUTO tries
 * bpf, then proc. *ret_used (may be NULL) is the backend that answered.
 * Errors: -ENOENT the container was removed (or vanished mid-query),
 * -EPROTONOSUPPORT the kernel backend on a cgroup v2 hierarchy, -EINVAL bad
 * backend or flags; for an explicit bpf backend, the loader's error (-EPERM
 * without privilege, -EOPNOTSUPP kernel lacks the iterator or kfuncs).
 */
int pcon_taskstate_read(struct pcon *p, const struct pcon_container *c,
			enum pcon_backend backend, unsigned flags,
			struct pcon_taskstats *ret, enum pcon_backend *ret_used);


#ifdef __cplusplus
}
#endif

#endif
