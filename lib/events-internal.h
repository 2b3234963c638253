/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Events: what events.c, events-watch.c and events-bpf.c share; not public. */
#ifndef PCON_EVENTS_INTERNAL_H
#define PCON_EVENTS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "pcon/events.h"

#define EV_MAX_HIDS 64        /* kernel hierarchy ids seen in /proc/<pid>/cgroup */
#define EV_MAX_HIERS 64       /* hierarchies a task is mapped into */
#define EV_BUCKETS 4096       /* pid cache hash buckets */
#define EV_CACHE_MAX 65536    /* pid cache entries at most (bounded memory) */

struct ev_sub {
	int id;
	const struct pcon_hier *hier;
	size_t hier_idx;
	char *path;
	size_t path_len;
	bool recursive;
	int fd;           /* our own dup of the container's directory fd */
	int populated;    /* 1, 0, or -1 not known */
	int wd;           /* v2: inotify watch on cgroup.events, else -1 */
	bool recheck;     /* v1: re-read the subtree's task lists */
	bool gone;        /* removed, or unsubscribed: matches nothing */
	bool dead;        /* unsubscribed: dropped at the end of dispatch */
};

/* Where pcon last saw a task: its /proc/<pid>/cgroup text. */
struct ev_task {
	struct ev_task *next;
	pid_t tid, pid;
	char *cgroup;
};

/* A task's container path per hierarchy (index into the pcon's hierarchies). */
struct ev_where {
	const char *path[EV_MAX_HIERS];
	char buf[4096];
	char cbuf[4096]; /* v1 paths of an exiting task, from the cache */
};

/* epoll tags of the sources */
enum { EV_SRC_NETLINK = 1, EV_SRC_INOTIFY, EV_SRC_TIMER, EV_SRC_BPF };

struct ev_bpf;

struct pcon_events {
	struct pcon *p;
	size_t n_hiers;
	int epfd;
	struct mnl_socket *nl;
	int infd;         /* inotify (v2 cgroup.events), or -1 */
	int timerfd;      /* v1 emptiness re-check every second, or -1 */
	struct ev_bpf *bpf;
	int hid_map[EV_MAX_HIDS];

	struct ev_sub *subs;
	size_t n_subs;
	int next_id;

	struct ev_task *buckets[EV_BUCKETS];
	size_t n_cached;

	uint32_t *last_seq;  /* per CPU: the proc connector numbers each CPU's events */
	bool *seen_cpu;
	size_t n_cpus;

	struct pcon_events_stats st;

	/* during dispatch */
	pcon_event_fn cb;
	void *userdata;
	int delivered;
	int cb_err;
	bool dispatching;
};

/* events.c */
void ev_emit(struct pcon_events *e, struct pcon_event *ev);
void ev_emit_lost(struct pcon_events *e, uint64_t n, uint64_t time_ns);
uint64_t ev_now_ns(void);
bool ev_sub_covers(const struct ev_sub *s, const char *path, bool recursive);
int ev_where_read(struct pcon_events *e, pid_t pid, pid_t tid, struct ev_where *w, char **ret_text);
void ev_where_parse(struct pcon_events *e, char *text, struct ev_where *w);
struct ev_task *ev_cache_get(struct pcon_events *e, pid_t tid);
void ev_cache_put(struct pcon_events *e, pid_t pid, pid_t tid, char *text);
void ev_cache_drop(struct pcon_events *e, pid_t tid);
bool ev_where_interesting(struct pcon_events *e, const struct ev_where *w);
void ev_task_moved(struct pcon_events *e, const struct ev_where *w, bool in);

/* events-watch.c: empty/populated */
int ev_watch_add(struct pcon_events *e, struct ev_sub *s);
void ev_watch_inotify(struct pcon_events *e);
void ev_watch_recheck(struct pcon_events *e, bool all);
void ev_watch_timer(struct pcon_events *e);
void ev_watch_remove(struct pcon_events *e, struct ev_sub *s);
int ev_sub_populated(struct pcon_events *e, struct ev_sub *s);

/* events-bpf.c: moves */
int ev_bpf_new(struct pcon_events *e, struct ev_bpf **ret);
void ev_bpf_free(struct ev_bpf *b);
int ev_bpf_fd(const struct ev_bpf *b);
void ev_bpf_drain(struct pcon_events *e);

#endif
