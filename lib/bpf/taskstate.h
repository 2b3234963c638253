/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Task-state classification, shared by the eBPF program and by user space so
 * every backend sorts a thread into the same bucket. Include after the types
 * (vmlinux.h in BPF, <stdint.h> in user space).
 */
#ifndef PCON_BPF_TASKSTATE_H
#define PCON_BPF_TASKSTATE_H

/* The kernel's task state bits (include/linux/sched.h), stable uAPI-like values. */
#define TS_INTERRUPTIBLE   0x0001u
#define TS_UNINTERRUPTIBLE 0x0002u
#define TS_STOPPED         0x0004u
#define TS_TRACED          0x0008u
#define TS_EXIT_DEAD       0x0010u
#define TS_EXIT_ZOMBIE     0x0020u
#define TS_PARKED          0x0040u
#define TS_DEAD            0x0080u
#define TS_WAKEKILL        0x0100u
#define TS_WAKING          0x0200u
#define TS_NOLOAD          0x0400u
#define TS_NEW             0x0800u
#define TS_RTLOCK_WAIT     0x1000u
#define TS_FREEZABLE       0x2000u
#define TS_FREEZABLE_UNSAFE 0x4000u
#define TS_FROZEN          0x8000u
/* Bits that never change the bucket: how a wait may end, not what it is. */
#define TS_MODIFIERS (TS_WAKEKILL | TS_FREEZABLE | TS_FREEZABLE_UNSAFE | TS_WAKING | TS_NEW)

enum ts_bucket {
	TS_B_RUNNING,
	TS_B_SLEEPING,
	TS_B_UNINTERRUPTIBLE,
	TS_B_STOPPED,
	TS_B_IDLE,
	TS_B_OTHER,
	TS_B_MAX,
};

/*
 * The bucket of a thread from its __state and exit_state. Bits are tested,
 * not values, so FREEZABLE (0x2000) and WAKEKILL (0x100) do not move a task:
 * 0x2001 is sleeping, 0x102 and 0x2102 uninterruptible, 0x104 stopped.
 * TASK_IDLE (0x402), parked kthreads and frozen tasks (TASK_FROZEN, the v1
 * freezer) are idle: blocked but not load, as the kernel's load average
 * counts them. (/proc shows a frozen task as D, so the proc backend cannot
 * tell it from an uninterruptible one.)
 */
static inline enum ts_bucket ts_classify(unsigned int state, unsigned int exit_state)
{
	if ((exit_state & (TS_EXIT_ZOMBIE | TS_EXIT_DEAD)) || (state & (TS_DEAD | TS_EXIT_ZOMBIE | TS_EXIT_DEAD)))
		return TS_B_OTHER;
	if (state & (TS_STOPPED | TS_TRACED))
		return TS_B_STOPPED;
	if (state & (TS_FROZEN | TS_PARKED))
		return TS_B_IDLE;
	if (state & TS_RTLOCK_WAIT)
		return TS_B_UNINTERRUPTIBLE;
	if (state & TS_UNINTERRUPTIBLE)
		return (state & TS_NOLOAD) ? TS_B_IDLE : TS_B_UNINTERRUPTIBLE;
	if (state & TS_INTERRUPTIBLE)
		return TS_B_SLEEPING;
	if ((state & ~TS_MODIFIERS) == 0)
		return TS_B_RUNNING;
	return TS_B_OTHER;
}

/*
 * Does the bucket of a thread with this __state depend on its exit_state?
 * A task gets an exit_state in exit_notify, after its last signal: from
 * then on it runs, or blocks uninterruptibly (memory, locks), until
 * do_task_dead sets TASK_DEAD. It never sleeps interruptibly or stops again,
 * so for those states (and TASK_DEAD, "other" either way) exit_state adds
 * nothing and the eBPF walks spare the cache line it lives in.
 */
static inline int ts_needs_exit_state(unsigned int state)
{
	return !(state & (TS_INTERRUPTIBLE | TS_STOPPED | TS_TRACED | TS_DEAD));
}

/* Is a thread of this state waiting on I/O? Only a blocked (D) task can be. */
static inline int ts_io_wait(unsigned int state, unsigned int exit_state, int in_iowait)
{
	return in_iowait && ts_classify(state, exit_state) == TS_B_UNINTERRUPTIBLE &&
	       !(state & TS_FROZEN);
}

/*
 * One record per cgroup a walk visits: its id, its parent's (0 for a
 * hierarchy root) and its own threads by bucket. The walks write them into
 * an array map that user space maps and reads after the walk, so no read()
 * of the iterator's output has to hold them all.
 */
struct ts_record {
	unsigned long long cgroup_id;
	unsigned long long parent_id;
	unsigned long long n[TS_B_MAX];
	unsigned long long io_wait;
};

/* query_css: one container's own counts, in one BPF_PROG_RUN. key names
 * the cgroup as user space does: its id and its hierarchy's id. */
struct ts_cache_key {
	unsigned long long cgroup_id;
	unsigned int hier_id;
	unsigned int pad;
};

struct ts_query {
	struct ts_cache_key key;
	unsigned int found; /* out: 0 not cached, else one of: */
	unsigned int pad;
	unsigned long long n[TS_B_MAX];
	unsigned long long io_wait;
};
#define TS_QUERY_FOUND 1
#define TS_QUERY_GONE 2 /* the cgroup was removed */

/* Cgroups query_css keeps a reference on, at most. */
#define TS_CACHE_MAX 256

/* The first record slots a walk may fill; user space grows the maps past it. */
#define TS_RECS_DEFAULT 4096

/* How the task walk finds a thread's cgroup in the walked hierarchy. */
#define TS_HIER_V2 0 /* the default hierarchy: the css_set's dfl_cgrp */
/* any other value: the hierarchy id of a v1 hierarchy with a controller */

#endif
