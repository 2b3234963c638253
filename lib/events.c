/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Events: the proc connector's fork/exec/exit/uid/gid, mapped to the
 * containers of each task, delivered to subscriptions.
 *
 * What is exact and what is not:
 * - The container of a task is read from /proc/<pid>/task/<tid>/cgroup when
 *   pcon handles the event, a little after it happened. A task that moved in
 *   between is mapped to where it is now. An exiting task is still readable
 *   until it is reaped (cgroup_exit keeps its css_set), so most exits map
 *   exactly; a reaped task (a thread, a child of a fast parent) is mapped
 *   from the pid cache, and a forked child gone before pcon looked is mapped
 *   to its parent's containers (fork inherits them; clone3 with
 *   CLONE_INTO_CGROUP is the exception). Both carry PCON_EVENT_F_CACHED.
 * - Lost events: the kernel numbers each CPU's proc events; a gap in a CPU's
 *   numbers is the exact count of events the socket dropped (ENOBUFS). It is
 *   delivered as PCON_EVENT_LOST when the gap is seen. We subscribe to every
 *   event type, not with the kernel's type filter: filtered types would still
 *   consume numbers and make gaps overcount, and the types we would filter
 *   (sid, comm, ptrace, coredump) are rare next to fork/exit.
 * - The pid cache holds only tasks of subscribed containers, is emptied on
 *   exit and pruned of dead tasks after a loss, and never exceeds
 *   EV_CACHE_MAX entries.
 */
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

#include "events-internal.h"

#define EV_RCVBUF (4 * 1024 * 1024)
#define EV_BATCH 64            /* datagrams per recvmmsg */
#define EV_MAX_PER_DISPATCH 4096 /* so a flood cannot starve the caller's loop */

static const char *const type_names[PCON_EVENT_MAX] = {
	[PCON_EVENT_FORK] = "fork",         [PCON_EVENT_EXEC] = "exec",
	[PCON_EVENT_EXIT] = "exit",         [PCON_EVENT_UID] = "uid",
	[PCON_EVENT_GID] = "gid",           [PCON_EVENT_MOVE] = "move",
	[PCON_EVENT_POPULATED] = "populated", [PCON_EVENT_EMPTY] = "empty",
	[PCON_EVENT_LOST] = "lost",         [PCON_EVENT_GONE] = "gone",
};

_public_ const char *pcon_event_type_to_string(enum pcon_event_type t)
{
	return t >= 0 && t < PCON_EVENT_MAX ? type_names[t] : NULL;
}

uint64_t ev_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ev_emit(struct pcon_events *e, struct pcon_event *ev)
{
	if (e->cb_err < 0 || !e->cb)
		return;
	int r = e->cb(ev, e->userdata);
	if (r < 0)
		e->cb_err = r;
	else
		e->delivered++;
}

void ev_emit_lost(struct pcon_events *e, uint64_t n, uint64_t time_ns)
{
	struct pcon_event ev = { .type = PCON_EVENT_LOST, .time_ns = time_ns,
				 .subscription = -1, .lost = n };
	e->st.lost += n;
	ev_emit(e, &ev);
	/* What we missed may have emptied a v1 container or ended cached tasks. */
	ev_watch_recheck(e, true);
	for (size_t b = 0; b < EV_BUCKETS; b++)
		for (struct ev_task *t = e->buckets[b], *next; t; t = next) {
			next = t->next;
			char rel[64];
			snprintf(rel, sizeof(rel), "%d/task/%d", t->pid, t->tid);
			if (faccessat(pcon_proc_fd(e->p), rel, F_OK, 0) < 0 && errno == ENOENT)
				ev_cache_drop(e, t->tid);
		}
}

/* ---- where a task is ---------------------------------------------------- */

/* Learn which kernel hierarchy id is which of our hierarchies, from our own
 * /proc/self/cgroup ("ID:CONTROLLERS:PATH"; v2 is "0::PATH"). */
static void hid_map_load(struct pcon_events *e)
{
	for (size_t i = 0; i < EV_MAX_HIDS; i++)
		e->hid_map[i] = -1;
	_cleanup_free_ char *text = NULL;
	if (read_text_at(pcon_proc_fd(e->p), "self/cgroup", &text) < 0)
		return;
	size_t n;
	const struct pcon_hier *h = pcon_hiers(e->p, &n);
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		int hid;
		if (parse_int(l, &hid) < 0 || hid < 0 || hid >= EV_MAX_HIDS)
			continue;
		const char *ctrls = c1 + 1;
		char first[64];
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(ctrls, ","), ctrls);
		for (size_t i = 0; i < n && i < EV_MAX_HIERS; i++) {
			bool match;
			if (!ctrls[0])
				match = h[i].version == 2;
			else if (strncmp(ctrls, "name=", 5) == 0)
				match = h[i].version == 1 && h[i].named && strcmp(h[i].named, ctrls + 5) == 0;
			else
				match = h[i].version == 1 && strv_contains(h[i].controllers, first);
			if (match) {
				e->hid_map[hid] = (int)i;
				break;
			}
		}
	}
}

/* Split a /proc/<pid>/cgroup text (modified in place) into w->path[]. */
void ev_where_parse(struct pcon_events *e, char *text, struct ev_where *w)
{
	memset(w->path, 0, sizeof(w->path));
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			long hid = strtol(l, NULL, 10);
			if (hid >= 0 && hid < EV_MAX_HIDS && e->hid_map[hid] >= 0)
				w->path[e->hid_map[hid]] = c2 + 1;
		}
		l = nl ? nl + 1 : NULL;
	}
}

/* Has the task begun to exit (PF_EXITING in field 9 of its stat)? */
static bool task_exiting(struct pcon_events *e, pid_t pid, pid_t tid)
{
	char rel[64], buf[1024];
	snprintf(rel, sizeof(rel), "%d/task/%d/stat", pid, tid);
	_cleanup_close_ int fd = openat(pcon_proc_fd(e->p), rel, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return true; /* gone meanwhile */
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long flags = 0;
	/* after ")": state ppid pgrp session tty_nr tpgid flags */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x4; /* PF_EXITING */
}

/* w as a text ev_where_parse reads back ("ID::PATH" lines), for the cache;
 * NULL when out of memory. */
static char *where_text(struct pcon_events *e, const struct ev_where *w)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	for (int hid = 0; hid < EV_MAX_HIDS; hid++)
		if (e->hid_map[hid] >= 0 && w->path[e->hid_map[hid]])
			fprintf(f, "%d::%s\n", hid, w->path[e->hid_map[hid]]);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Read where task tid of process pid is now. *ret_text (may be NULL) gets a
 * copy of the raw text for the cache. -ENOENT/-ESRCH: the task is gone. */
int ev_where_read(struct pcon_events *e, pid_t pid, pid_t tid, struct ev_where *w, char **ret_text)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "%d/task/%d/cgroup", pid, tid);
	_cleanup_close_ int fd = openat(pcon_proc_fd(e->p), rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	ssize_t n = read(fd, w->buf, sizeof(w->buf) - 1);
	if (n <= 0)
		return n < 0 ? negerrno() : -ESRCH; /* an exited task reads empty */
	w->buf[n] = '\0';
	if (task_exiting(e, pid, tid)) {
		/* v1 shows an exiting task in "/" (only v2 keeps a zombie's
		 * cgroup): take v1 paths from the cache, never cache the raw
		 * text (*ret_text gets the paths merged here). */
		struct ev_task *t = ev_cache_get(e, tid);
		if (!t)
			return -ESRCH; /* as if gone: callers fall back to the parent */
		ev_where_parse(e, w->buf, w);
		char *copy = strdup(t->cgroup);
		struct ev_where c;
		if (copy) {
			snprintf(c.buf, sizeof(c.buf), "%s", copy);
			free(copy);
			ev_where_parse(e, c.buf, &c);
			memcpy(w->cbuf, c.buf, sizeof(c.buf));
		}
		size_t nh;
		const struct pcon_hier *h = pcon_hiers(e->p, &nh);
		for (size_t i = 0; i < nh && i < EV_MAX_HIERS; i++)
			if (h[i].version == 1)
				w->path[i] = copy && c.path[i] ? w->cbuf + (c.path[i] - c.buf) : NULL;
		if (ret_text && !(*ret_text = where_text(e, w)))
			return -ENOMEM;
		return 0;
	}
	if (ret_text && !(*ret_text = strdup(w->buf)))
		return -ENOMEM;
	ev_where_parse(e, w->buf, w);
	return 0;
}

/* Is path (a container in s's hierarchy) s's container, or below it when
 * recursive? */
bool ev_sub_covers(const struct ev_sub *s, const char *path, bool recursive)
{
	if (!path || s->gone)
		return false;
	if (strcmp(path, s->path) == 0)
		return true;
	if (!recursive)
		return false;
	if (s->path_len == 1)
		return true; /* "/" holds everything */
	return strncmp(path, s->path, s->path_len) == 0 && path[s->path_len] == '/';
}

/* Does any subscription care about a task here (subtree included)? */
bool ev_where_interesting(struct pcon_events *e, const struct ev_where *w)
{
	for (size_t i = 0; i < e->n_subs; i++)
		if (ev_sub_covers(&e->subs[i], w->path[e->subs[i].hier_idx], true))
			return true;
	return false;
}

/* ---- pid cache -------------------------------------------------------- */

static size_t bucket(pid_t tid)
{
	return ((uint32_t)tid * 2654435761u) % EV_BUCKETS;
}

struct ev_task *ev_cache_get(struct pcon_events *e, pid_t tid)
{
	for (struct ev_task *t = e->buckets[bucket(tid)]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

/* Remember text (taken) as where tid is; replaces an older entry. */
void ev_cache_put(struct pcon_events *e, pid_t pid, pid_t tid, char *text)
{
	struct ev_task *t = ev_cache_get(e, tid);
	if (t) {
		free(t->cgroup);
		t->cgroup = text;
		t->pid = pid;
		return;
	}
	if (e->n_cached >= EV_CACHE_MAX || !(t = malloc(sizeof(*t)))) {
		free(text);
		return;
	}
	*t = (struct ev_task){ .next = e->buckets[bucket(tid)], .tid = tid, .pid = pid, .cgroup = text };
	e->buckets[bucket(tid)] = t;
	e->n_cached++;
}

void ev_cache_drop(struct pcon_events *e, pid_t tid)
{
	for (struct ev_task **pp = &e->buckets[bucket(tid)]; *pp; pp = &(*pp)->next)
		if ((*pp)->tid == tid) {
			struct ev_task *t = *pp;
			*pp = t->next;
			free(t->cgroup);
			free(t);
			e->n_cached--;
			return;
		}
}

/* Where the cache last saw tid; false if it never did. *ret_text (may be
 * NULL) gets a copy of the entry, to cache a forked child like its parent. */
static bool cache_where(struct pcon_events *e, pid_t tid, struct ev_where *w, char **ret_text)
{
	struct ev_task *t = ev_cache_get(e, tid);
	if (!t)
		return false;
	snprintf(w->buf, sizeof(w->buf), "%s", t->cgroup);
	if (ret_text)
		*ret_text = strdup(t->cgroup);
	ev_where_parse(e, w->buf, w);
	return true;
}

/* ---- delivering task events ------------------------------------------- */

/* v1 emptiness follows tasks: one came (populated) or left (re-check). */
void ev_task_moved(struct pcon_events *e, const struct ev_where *w, bool in)
{
	for (size_t i = 0; i < e->n_subs; i++) {
		struct ev_sub *s = &e->subs[i];
		if (s->hier->version != 1 || !ev_sub_covers(s, w->path[s->hier_idx], true))
			continue;
		if (!in) {
			s->recheck = true;
		} else if (s->populated == 0) {
			s->populated = 1;
			struct pcon_event ev = { .type = PCON_EVENT_POPULATED, .time_ns = ev_now_ns(),
						 .subscription = s->id, .hier = s->hier, .path = s->path };
			ev_emit(e, &ev);
		}
	}
}

static void deliver(struct pcon_events *e, struct pcon_event *ev, const struct ev_where *w)
{
	for (size_t i = 0; i < e->n_subs; i++) {
		const struct ev_sub *s = &e->subs[i];
		const char *path = w->path[s->hier_idx];
		if (!ev_sub_covers(s, path, s->recursive))
			continue;
		ev->subscription = s->id;
		ev->hier = s->hier;
		ev->path = path;
		ev_emit(e, ev);
	}
}

/* Map the task of ev. With moves tracked, the cache is where a task is, and
 * it beats /proc, where a pid may already name another task (pids are
 * reused fast under churn). Without, /proc first, then the cache. A fork
 * maps through the parent (fallback_tid): the child starts in its
 * containers. */
static bool locate(struct pcon_events *e, struct pcon_event *ev, pid_t fallback_tid,
		   struct ev_where *w, char **ret_text)
{
	bool fork = ev->type == PCON_EVENT_FORK;
	if (e->bpf && cache_where(e, fork ? fallback_tid : ev->tid, w, fork ? ret_text : NULL))
		return true;
	if (ev_where_read(e, ev->pid, ev->tid, w, ret_text) == 0)
		return true;
	ev->flags |= PCON_EVENT_F_CACHED;
	if (cache_where(e, fallback_tid, w, fork ? ret_text : NULL))
		return true;
	return fork && ev_where_read(e, ev->parent_pid, ev->parent_tid, w, ret_text) == 0;
}

static void read_comm(struct pcon_events *e, pid_t pid, pid_t tid, char comm[static 17])
{
	char rel[64];
	snprintf(rel, sizeof(rel), "%d/task/%d/comm", pid, tid);
	comm[0] = '\0';
	_cleanup_close_ int fd = openat(pcon_proc_fd(e->p), rel, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, comm, 16);
	if (n > 0) {
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
	}
}

static void on_proc_event(struct pcon_events *e, const struct proc_event *pe)
{
	struct pcon_event ev = { .time_ns = pe->timestamp_ns };
	struct ev_where w;
	_cleanup_free_ char *text = NULL;
	char comm[17];
	switch (pe->what) {
	case PROC_EVENT_FORK:
		ev.type = PCON_EVENT_FORK;
		ev.pid = pe->event_data.fork.child_tgid;
		ev.tid = pe->event_data.fork.child_pid;
		ev.parent_pid = pe->event_data.fork.parent_tgid;
		ev.parent_tid = pe->event_data.fork.parent_pid;
		if (!locate(e, &ev, ev.parent_tid, &w, &text))
			return;
		break;
	case PROC_EVENT_EXEC:
		ev.type = PCON_EVENT_EXEC;
		ev.pid = pe->event_data.exec.process_tgid;
		ev.tid = pe->event_data.exec.process_pid;
		if (!locate(e, &ev, ev.tid, &w, &text))
			return;
		read_comm(e, ev.pid, ev.tid, comm);
		ev.comm = comm[0] ? comm : NULL;
		break;
	case PROC_EVENT_EXIT:
		ev.type = PCON_EVENT_EXIT;
		ev.pid = pe->event_data.exit.process_tgid;
		ev.tid = pe->event_data.exit.process_pid;
		ev.exit_code = pe->event_data.exit.exit_code;
		ev.exit_signal = pe->event_data.exit.exit_signal;
		if (!locate(e, &ev, ev.tid, &w, NULL)) {
			ev_cache_drop(e, ev.tid);
			return;
		}
		break;
	case PROC_EVENT_UID:
	case PROC_EVENT_GID:
		ev.type = pe->what == PROC_EVENT_UID ? PCON_EVENT_UID : PCON_EVENT_GID;
		ev.pid = pe->event_data.id.process_tgid;
		ev.tid = pe->event_data.id.process_pid;
		ev.rid = pe->event_data.id.r.ruid;
		ev.eid = pe->event_data.id.e.euid;
		if (!locate(e, &ev, ev.tid, &w, NULL))
			return;
		break;
	default:
		return;
	}
	if (ev.tid != ev.pid)
		ev.flags |= PCON_EVENT_F_THREAD;
	if (ev.type == PCON_EVENT_FORK)
		ev_task_moved(e, &w, true);
	deliver(e, &ev, &w);
	if (ev.type == PCON_EVENT_EXIT) {
		ev_cache_drop(e, ev.tid);
		ev_task_moved(e, &w, false);
	} else if (text && ev_where_interesting(e, &w)) {
		/* The parent was where the child starts: learn it too (it may have
		 * moved in unseen, without eBPF), so its exit maps. With eBPF its
		 * moves were seen, and the child may have been moved in after the
		 * fork: the guess would map the parent's later events there. */
		if (ev.type == PCON_EVENT_FORK && !e->bpf && !ev_cache_get(e, ev.parent_tid)) {
			char *copy = strdup(text);
			if (copy)
				ev_cache_put(e, ev.parent_pid, ev.parent_tid, copy);
		}
		ev_cache_put(e, ev.pid, ev.tid, TAKE_PTR(text));
	} else if (text && ev.type == PCON_EVENT_EXEC) {
		ev_cache_drop(e, ev.tid); /* it left our containers before exec */
	}
}

/* ---- the proc connector ------------------------------------------------- */

static int connector_listen(struct mnl_socket *nl, enum proc_cn_mcast_op op)
{
	char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(uint32_t))] __attribute__((aligned(8)));
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = mnl_socket_get_portid(nl);
	struct cn_msg *cn = mnl_nlmsg_put_extra_header(nlh, sizeof(*cn) + sizeof(uint32_t));
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(uint32_t);
	uint32_t v = op;
	memcpy(cn->data, &v, sizeof(v));
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? negerrno() : 0;
}

/* A CPU's number sequence jumped: the jump is what the socket dropped. */
static void check_seq(struct pcon_events *e, uint32_t cpu, uint32_t seq, uint64_t time_ns)
{
	if (cpu >= e->n_cpus) {
		size_t n = cpu + 64;
		uint32_t *s = realloc(e->last_seq, n * sizeof(*s));
		if (s)
			e->last_seq = s;
		bool *b = s ? realloc(e->seen_cpu, n * sizeof(*b)) : NULL;
		if (!b)
			return;
		e->seen_cpu = b;
		memset(b + e->n_cpus, 0, (n - e->n_cpus) * sizeof(*b));
		e->n_cpus = n;
	}
	uint32_t gap = seq - e->last_seq[cpu] - 1;
	if (e->seen_cpu[cpu] && gap != 0 && gap < (1u << 30))
		ev_emit_lost(e, gap, time_ns);
	e->seen_cpu[cpu] = true;
	e->last_seq[cpu] = seq;
}

static void on_datagram(struct pcon_events *e, const char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type != NLMSG_DONE)
			continue;
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct cn_msg))
			continue;
		const struct cn_msg *cn = mnl_nlmsg_get_payload(nlh);
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC ||
		    cn->len < sizeof(struct proc_event) ||
		    mnl_nlmsg_get_payload_len(nlh) < sizeof(*cn) + cn->len)
			continue;
		struct proc_event pe;
		memcpy(&pe, cn->data, sizeof(pe));
		if (pe.what == PROC_EVENT_NONE)
			continue; /* the reply to our listen request: not numbered per CPU */
		e->st.received++;
		check_seq(e, pe.cpu, cn->seq, pe.timestamp_ns);
		on_proc_event(e, &pe);
	}
}

static void drain_netlink(struct pcon_events *e)
{
	static char bufs[EV_BATCH][512] __attribute__((aligned(8)));
	int fd = mnl_socket_get_fd(e->nl);
	for (int done = 0; done < EV_MAX_PER_DISPATCH && e->cb_err == 0;) {
		struct mmsghdr m[EV_BATCH];
		struct iovec iov[EV_BATCH];
		struct sockaddr_nl sa[EV_BATCH];
		for (int i = 0; i < EV_BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &sa[i], .msg_namelen = sizeof(sa[i]),
							      .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		int n = recvmmsg(fd, m, EV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				e->st.overruns++; /* the count comes from the sequence gaps */
				continue;
			}
			return; /* EAGAIN: drained */
		}
		for (int i = 0; i < n; i++)
			if (sa[i].nl_pid == 0 && !(m[i].msg_hdr.msg_flags & MSG_TRUNC))
				on_datagram(e, bufs[i], m[i].msg_len); /* from the kernel only */
		done += n;
	}
}

/* ---- the handle --------------------------------------------------------- */

static int epoll_watch(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negerrno() : 0;
}

_public_ int pcon_events_set_rcvbuf(struct pcon_events *e, int bytes)
{
	int fd = mnl_socket_get_fd(e->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0 ? negerrno() : 0;
}

static int open_connector(struct pcon_events *e)
{
	e->nl = mnl_socket_open2(NETLINK_CONNECTOR, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!e->nl)
		return errno == EPROTONOSUPPORT ? -EPROTONOSUPPORT : negerrno();
	if (mnl_socket_bind(e->nl, CN_IDX_PROC, MNL_SOCKET_AUTOPID) < 0)
		return negerrno();
	(void)pcon_events_set_rcvbuf(e, EV_RCVBUF); /* best effort: rmem_max caps the unprivileged */
	int r = connector_listen(e->nl, PROC_CN_MCAST_LISTEN);
	if (r < 0)
		return r;
	return epoll_watch(e->epfd, mnl_socket_get_fd(e->nl), EV_SRC_NETLINK);
}

_public_ int pcon_events_new(struct pcon *p, unsigned flags, struct pcon_events **ret)
{
	if (flags & ~PCON_EVENTS_NO_BPF)
		return -EINVAL;
	struct pcon_events *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->p = p;
	e->infd = e->timerfd = -1;
	pcon_hiers(p, &e->n_hiers);
	hid_map_load(e);
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	int r = e->epfd < 0 ? negerrno() : open_connector(e);
	if (r == 0 && !(flags & PCON_EVENTS_NO_BPF) && ev_bpf_new(e, &e->bpf) == 0 &&
	    epoll_watch(e->epfd, ev_bpf_fd(e->bpf), EV_SRC_BPF) < 0) {
		ev_bpf_free(e->bpf);
		e->bpf = NULL;
	}
	if (r < 0) {
		pcon_events_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

_public_ void pcon_events_free(struct pcon_events *e)
{
	if (!e)
		return;
	if (e->nl) {
		(void)connector_listen(e->nl, PROC_CN_MCAST_IGNORE);
		mnl_socket_close(e->nl);
	}
	ev_bpf_free(e->bpf);
	for (size_t i = 0; i < e->n_subs; i++) {
		free(e->subs[i].path);
		closep(&e->subs[i].fd);
	}
	free(e->subs);
	for (size_t b = 0; b < EV_BUCKETS; b++)
		while (e->buckets[b])
			ev_cache_drop(e, e->buckets[b]->tid);
	closep(&e->infd);
	closep(&e->timerfd);
	closep(&e->epfd);
	free(e->last_seq);
	free(e->seen_cpu);
	free(e);
}

/* Cache where the container's threads are now, so their exits map even if
 * pcon never saw them fork. Recursive: descendants too. */
static void cache_fill(struct pcon_events *e, int dirfd, bool recursive, int depth)
{
	_cleanup_free_ char *text = NULL;
	const char *list = "cgroup.threads";
	if (read_text_at(dirfd, list, &text) < 0 && read_text_at(dirfd, (list = "tasks"), &text) < 0)
		return;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int tid;
		char rel[64], *t = NULL;
		if (parse_int(l, &tid) < 0 || e->n_cached >= EV_CACHE_MAX)
			continue;
		snprintf(rel, sizeof(rel), "%d/status", tid);
		_cleanup_free_ char *status = NULL;
		if (read_text_at(pcon_proc_fd(e->p), rel, &status) < 0)
			continue;
		char *tg = strstr(status, "\nTgid:");
		int pid = tg ? (int)strtol(tg + 6, NULL, 10) : tid;
		struct ev_where w;
		if (ev_where_read(e, pid, tid, &w, &t) == 0)
			ev_cache_put(e, pid, tid, t);
	}
	if (!recursive || depth > 64)
		return;
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		closep(&dfd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_close_ int child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (child >= 0)
			cache_fill(e, child, true, depth + 1);
	}
}

_public_ int pcon_events_subscribe(struct pcon_events *e, const struct pcon_container *c, unsigned flags)
{
	if (flags & ~PCON_EVENTS_RECURSIVE)
		return -EINVAL;
	size_t n;
	const struct pcon_hier *h = pcon_hiers(e->p, &n);
	if (c->hier < h || c->hier >= h + n || (size_t)(c->hier - h) >= EV_MAX_HIERS)
		return -EINVAL; /* a hierarchy of another pcon handle */
	struct ev_sub *v = realloc(e->subs, (e->n_subs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	e->subs = v;
	struct ev_sub s = { .id = e->next_id, .hier = c->hier, .hier_idx = (size_t)(c->hier - h),
			    .recursive = flags & PCON_EVENTS_RECURSIVE, .populated = -1, .wd = -1,
			    .path = strdup(c->path), .path_len = strlen(c->path) };
	s.fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
	int r = !s.path ? -ENOMEM : s.fd < 0 ? negerrno() : ev_watch_add(e, &s);
	if (r < 0) {
		ev_watch_remove(e, &s); /* ev_watch_add may fail after adding the watch */
		free(s.path);
		closep(&s.fd);
		return r;
	}
	e->subs[e->n_subs++] = s;
	e->next_id++;
	cache_fill(e, s.fd, true, 0); /* exits anywhere below matter for emptiness */
	return s.id;
}

/* Release what a subscription holds; its entry stays until compact(). */
static void sub_release(struct pcon_events *e, struct ev_sub *s)
{
	ev_watch_remove(e, s);
	closep(&s->fd);
	s->gone = true;
}

/* Drop unsubscribed entries: never during dispatch, which walks e->subs
 * and hands out their paths. */
static void compact(struct pcon_events *e)
{
	size_t k = 0;
	for (size_t i = 0; i < e->n_subs; i++) {
		if (e->subs[i].dead)
			free(e->subs[i].path);
		else
			e->subs[k++] = e->subs[i];
	}
	e->n_subs = k;
}

_public_ int pcon_events_unsubscribe(struct pcon_events *e, int subscription)
{
	for (size_t i = 0; i < e->n_subs; i++) {
		struct ev_sub *s = &e->subs[i];
		if (s->id != subscription || s->dead)
			continue;
		sub_release(e, s);
		s->dead = true;
		if (!e->dispatching)
			compact(e);
		return 0;
	}
	return -ENOENT;
}

_public_ int pcon_events_fd(const struct pcon_events *e)
{
	return e->epfd;
}

_public_ int pcon_events_tracks_moves(const struct pcon_events *e)
{
	return e->bpf != NULL;
}

_public_ int pcon_events_populated(const struct pcon_events *e, int subscription)
{
	for (size_t i = 0; i < e->n_subs; i++)
		if (e->subs[i].id == subscription && !e->subs[i].dead)
			return e->subs[i].populated < 0 || e->subs[i].gone ? -ENOENT
									   : e->subs[i].populated;
	return -EINVAL;
}

_public_ void pcon_events_stats(const struct pcon_events *e, struct pcon_events_stats *ret)
{
	*ret = e->st;
	ret->cached = e->n_cached;
}

_public_ int pcon_events_dispatch(struct pcon_events *e, pcon_event_fn cb, void *userdata)
{
	struct epoll_event evs[8];
	e->cb = cb;
	e->userdata = userdata;
	e->delivered = 0;
	e->cb_err = 0;
	int n = epoll_wait(e->epfd, evs, 8, 0);
	if (n < 0)
		return errno == EINTR ? 0 : negerrno();
	e->dispatching = true;
	/* Moves first: a task moved and then forking must be where it moved
	 * when its fork is handled (the two streams are not merged by time). */
	unsigned ready = 0;
	for (int i = 0; i < n; i++)
		ready |= 1u << evs[i].data.u32;
	if (e->bpf)
		ev_bpf_drain(e);
	if ((ready & (1u << EV_SRC_NETLINK)) && e->cb_err == 0)
		drain_netlink(e);
	if ((ready & (1u << EV_SRC_INOTIFY)) && e->cb_err == 0)
		ev_watch_inotify(e);
	if ((ready & (1u << EV_SRC_TIMER)) && e->cb_err == 0)
		ev_watch_timer(e);
	ev_watch_recheck(e, false);
	e->cb = NULL;
	e->dispatching = false;
	compact(e);
	return e->cb_err < 0 ? e->cb_err : e->delivered;
}
