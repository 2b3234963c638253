/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon events: what happens to the tasks of containers, as it happens.
 *
 * Sources: the kernel's netlink proc connector (fork, exec, exit, uid and
 * gid changes), an eBPF program on the cgroup_attach_task tracepoint (a task
 * moved between containers), inotify on v2 cgroup.events and the proc
 * connector's exits on v1 (a container becoming empty or populated).
 *
 * Shaped for an epoll loop: poll pcon_events_fd() for EPOLLIN, then call
 * pcon_events_dispatch(), which drains what is ready without blocking.
 *
 * Mapping a task to its container is done when pcon handles the event, by
 * reading /proc/<pid>/task/<tid>/cgroup; for a task already gone it falls
 * back to a cache of where pcon last saw the task (filled on fork, exec and
 * move, and at subscription from the container's thread list), marked with
 * PCON_EVENT_F_CACHED; pcon(1) under *events* says what is exact.
 */
#ifndef PCON_EVENTS_H
#define PCON_EVENTS_H

#include <errno.h>
#include <stdint.h>
#include <sys/types.h>

#include "pcon/pcon.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pcon_event_type {
	PCON_EVENT_FORK,      /* a new process (tid == pid) or thread in the container */
	PCON_EVENT_EXEC,      /* the task ran execve */
	PCON_EVENT_EXIT,      /* the task exited */
	PCON_EVENT_UID,       /* real/effective uid changed */
	PCON_EVENT_GID,       /* real/effective gid changed */
	PCON_EVENT_MOVE,      /* moved between containers (eBPF only) */
	PCON_EVENT_POPULATED, /* the container (with its descendants) got its first task */
	PCON_EVENT_EMPTY,     /* the container (with its descendants) lost its last task */
	PCON_EVENT_LOST,      /* the kernel dropped events: .lost says how many */
	PCON_EVENT_GONE,      /* the subscribed container was removed: its last event */
	PCON_EVENT_MAX,
	PCON_EVENT_INVALID = -EINVAL,
};

/* "fork", "exec", ...; NULL for an invalid value. */
const char *pcon_event_type_to_string(enum pcon_event_type t);

/* Bits of pcon_event.flags. */
#define PCON_EVENT_F_CACHED 0x1u /* container from pcon's cache: the task was gone */
#define PCON_EVENT_F_THREAD 0x2u /* fork/exit of a thread that is not its process */

/* One event, valid only during the callback. */
struct pcon_event {
	enum pcon_event_type type;
	unsigned flags;
	uint64_t time_ns;             /* CLOCK_MONOTONIC: kernel's stamp, else when seen */
	int subscription;             /* id from pcon_events_subscribe; -1 for LOST */
	const struct pcon_hier *hier; /* hierarchy of path (NULL for LOST) */
	const char *path;             /* the task's container (MOVE: the new one), or
	                                 the container that emptied/populated */
	const char *from_path;        /* MOVE: the previous container, or NULL if unknown */
	pid_t pid, tid;               /* the task: process and thread id */
	pid_t parent_pid, parent_tid; /* FORK: who forked */
	uint32_t exit_code;           /* EXIT: wait status, as waitpid() reports it */
	uint32_t exit_signal;         /* EXIT: signal sent to the parent */
	uint32_t rid, eid;            /* UID/GID: real and effective id */
	const char *comm;             /* EXEC: the new command name, or NULL */
	uint64_t lost;                /* LOST: how many of the machine's events */
};

/* Called for each event; a negative return stops dispatch and is returned. */
typedef int (*pcon_event_fn)(const struct pcon_event *ev, void *userdata);

struct pcon_events;

/* Do not load the eBPF move tracker (moves are then seen late). */
#define PCON_EVENTS_NO_BPF 0x1u

/*
 * A handle listening to the kernel. -EPERM if the proc connector refuses
 * this user, -EPROTONOSUPPORT if the kernel has no proc connector. The eBPF
 * move tracker is optional: see pcon_events_tracks_moves().
 */
int pcon_events_new(struct pcon *p, unsigned flags, struct pcon_events **ret);
void pcon_events_free(struct pcon_events *e);

/* Include the container's descendants (fork/exec/exit/uid/gid/move). */
#define PCON_EVENTS_RECURSIVE 0x1u

/*
 * Deliver the events of container c (held by reference to its directory:
 * c may be freed afterwards). Empty/populated events concern c counting its
 * descendants. Returns the subscription id (>= 0); -ENOENT c was removed.
 * When c is removed later, the subscription gets PCON_EVENT_GONE (after
 * PCON_EVENT_EMPTY) and then nothing more.
 */
int pcon_events_subscribe(struct pcon_events *e, const struct pcon_container *c, unsigned flags);

/*
 * End subscription id: no more events for it. Safe from within the dispatch
 * callback. 0, or -ENOENT if there is no such subscription.
 */
int pcon_events_unsubscribe(struct pcon_events *e, int subscription);

/* The fd to poll for EPOLLIN (an epoll fd over every source). */
int pcon_events_fd(const struct pcon_events *e);

/*
 * Handle everything ready, without blocking, calling cb for each event.
 * Returns how many events were delivered, or a negative errno (or cb's).
 */
int pcon_events_dispatch(struct pcon_events *e, pcon_event_fn cb, void *userdata);

/* 1 if task moves are reported as they happen (eBPF loaded), else 0. */
int pcon_events_tracks_moves(const struct pcon_events *e);

/* Is the container of subscription id populated now? 1, 0 or -errno. */
int pcon_events_populated(const struct pcon_events *e, int subscription);

/*
 * Set the netlink receive buffer (default 4 MiB; forced past rmem_max when
 * privileged). Smaller makes drops likelier: for tests.
 */
int pcon_events_set_rcvbuf(struct pcon_events *e, int bytes);

/* Counters since creation. */
struct pcon_events_stats {
	uint64_t received;  /* proc connector messages read */
	uint64_t lost;      /* events the kernel dropped (proc connector + eBPF) */
	uint64_t overruns;  /* ENOBUFS reports */
	uint64_t cached;    /* tasks in the pid cache now */
};
void pcon_events_stats(const struct pcon_events *e, struct pcon_events_stats *ret);

#ifdef __cplusplus
}
#endif

#endif
