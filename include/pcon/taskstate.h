/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon task-state statistics: how many threads of a container (and
 * optionally its descendants) are running, sleeping, blocked, stopped.
 */
#ifndef PCON_TASKSTATE_H
#define PCON_TASKSTATE_H

#include <errno.h>
#include <stddef.h>
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
	PCON_BACKEND_BPF,    /* eBPF: one in-kernel walk per query (see pcon_walk) */
	PCON_BACKEND_MAX,
	PCON_BACKEND_INVALID = -EINVAL,
};

/* How the bpf backend walks, chosen by probing when it loads. */
enum pcon_walk {
	PCON_WALK_NONE,     /* not bpf */
	PCON_WALK_CSS_TASK, /* cgroup iterator + css_task kfuncs (Linux 6.7+): O(threads in the subtree) */
	PCON_WALK_TASK,     /* task iterator over every thread (Linux 5.8+): O(threads on the machine) */
	PCON_WALK_CSS_SET,  /* cgroup iterator reading the css_sets' task lists unlocked, checked,
			     * else as CSS_TASK (Linux 6.9+): O(threads in the subtree) */
	PCON_WALK_MAX,
	PCON_WALK_INVALID = -EINVAL,
};

/* "auto", "kernel", "proc", "bpf"; NULL for an invalid value. */
const char *pcon_backend_to_string(enum pcon_backend b);
/* The backend named s, or PCON_BACKEND_INVALID. */
enum pcon_backend pcon_backend_from_string(const char *s);
/* "none", "css_task", "task", "css_set"; NULL for an invalid value. */
const char *pcon_walk_to_string(enum pcon_walk w);

/* Which backend answered a query, how, and why auto did not use bpf. */
struct pcon_taskstate_info {
	enum pcon_backend backend; /* the backend that answered */
	enum pcon_walk walk;       /* bpf: the walk that ran */
	int fallback;              /* auto: bpf's error (<0) when proc answered instead, else 0 */
};

/*
 * How many descriptors the proc backend may keep open in p (one per thread
 * it reads: re-reading a kept file costs about half of opening it again).
 * The default is half of the soft open-file limit when it is first needed;
 * 0 keeps none. An application that counts its descriptors sets it.
 */
void pcon_taskstate_set_fd_budget(struct pcon *p, size_t n);

/* Add the counts of b to a (and merge what b could not see). */
void pcon_taskstats_add(struct pcon_taskstats *a, const struct pcon_taskstats *b);

/* Include the container's descendants. */
#define PCON_TASKSTATE_RECURSIVE 0x1u

/*
 * Count the threads of container c by state into *ret. The backends keep
 * what they load (the eBPF program, a netlink socket) in p until pcon_close,
 * so p serves one thread at a time. backend AUTO tries bpf, then proc, for
 * each query. *ret_info (may be NULL) says who answered.
 * Errors: -ENOENT the container was removed (or vanished mid-query),
 * -EPROTONOSUPPORT the kernel backend on a cgroup v2 hierarchy, -EINVAL bad
 * backend or flags; for an explicit bpf backend, the loader's or the walk's
 * error (-EPERM without privilege, -EOPNOTSUPP no walk this kernel can run
 * on this hierarchy, -ENOSPC the walk found more cgroups than it can hold,
 * -ELOOP the task walk met cgroups nested over 32 levels deep).
 */
int pcon_taskstate_read(struct pcon *p, const struct pcon_container *c,
			enum pcon_backend backend, unsigned flags,
			struct pcon_taskstats *ret, struct pcon_taskstate_info *ret_info);

/*
 * A snapshot: the own thread counts of every container of a subtree, taken
 * in one walk (bpf: one iterator run; proc and kernel: one pass over the
 * subtree's containers), and the sums of any container's subtree computed
 * from them. Containers are looked up by id (pcon_container.id).
 */
struct pcon_tsnap;

/* Take a snapshot of top's subtree. Errors as pcon_taskstate_read. */
int pcon_tsnap_take(struct pcon *p, const struct pcon_container *top,
		    enum pcon_backend backend, struct pcon_tsnap **ret);
/*
 * Counts of the container with this id: its own threads, or with
 * PCON_TASKSTATE_RECURSIVE its whole subtree. -ENOENT if the walk did not
 * see the container (made after the walk, or outside top's subtree); the
 * task walk sees only containers with threads (and their ancestors), and
 * answers zeros for the rest.
 */
int pcon_tsnap_get(const struct pcon_tsnap *s, uint64_t id, unsigned flags,
		   struct pcon_taskstats *ret);
/* The parent id of a container the walk saw (0 for a hierarchy root), or -ENOENT. */
int pcon_tsnap_parent(const struct pcon_tsnap *s, uint64_t id, uint64_t *ret);
/* How many child containers the walk saw under this id; -ENOENT if it did not
 * see the id, -EOPNOTSUPP for the task walk (it sees populated ones only). */
int pcon_tsnap_children(const struct pcon_tsnap *s, uint64_t id, uint64_t *ret);
/* Who took the snapshot, and how. */
void pcon_tsnap_info(const struct pcon_tsnap *s, struct pcon_taskstate_info *ret);
void pcon_tsnap_free(struct pcon_tsnap *s);

#ifdef __cplusplus
}
#endif

#endif
