/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Empty and populated: a subscribed container, counting its descendants,
 * gained its first task or lost its last one (the old release_agent's
 * moment).
 * - v2: the kernel keeps "populated 0|1" in cgroup.events and signals every
 *   change as a file modification: one inotify watch per subscription.
 * - v1 has no such file and no notification (notify_on_release only runs a
 *   helper the administrator configured). pcon re-reads the subtree's
 *   cgroup.procs when the proc connector reports an exit of one of its tasks
 *   (after cgroup_exit, so the list no longer holds it), when a move out is
 *   seen, after lost events, and once a second (a task moved out without
 *   eBPF is otherwise not seen). A fork into it marks it populated at once.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>

#include "events-internal.h"

/* v1: does the directory or any below hold a process? 1, 0, -errno. */
static int subtree_populated(int dirfd, int depth)
{
	char c;
	_cleanup_close_ int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	ssize_t n = read(fd, &c, 1);
	if (n < 0)
		return negerrno();
	if (n > 0)
		return 1;
	if (depth > 64)
		return 0;
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		closep(&dfd);
		return -ENOENT;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_close_ int child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (child >= 0 && subtree_populated(child, depth + 1) > 0)
			return 1;
	}
	return 0;
}

/* v2: the populated line of cgroup.events. */
static int events_populated(int dirfd)
{
	char buf[256];
	_cleanup_close_ int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return negerrno();
	buf[n] = '\0';
	const char *p = strstr(buf, "populated ");
	return p ? p[10] == '1' : -EBADMSG;
}

int ev_sub_populated(struct pcon_events *e, struct ev_sub *s)
{
	(void)e;
	if (s->path_len == 1)
		return 1; /* a root always holds the machine's tasks (v2 has no cgroup.events there) */
	if (s->hier->version == 2)
		return events_populated(s->fd);
	return subtree_populated(s->fd, 0);
}

int ev_watch_add(struct pcon_events *e, struct ev_sub *s)
{
	int r = ev_sub_populated(e, s);
	if (r < 0)
		return r == -ENODEV ? -ENOENT : r;
	s->populated = r;
	if (s->path_len == 1)
		return 0; /* a root never empties: nothing to watch */
	if (s->hier->version == 2) {
		if (e->infd < 0) {
			e->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_SRC_INOTIFY };
			if (e->infd < 0 || epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->infd, &ev) < 0) {
				r = negerrno();
				closep(&e->infd);
				e->infd = -1;
				return r;
			}
		}
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d/cgroup.events", s->fd);
		s->wd = inotify_add_watch(e->infd, path, IN_MODIFY);
		if (s->wd < 0)
			return negerrno();
	}
	/* v1 emptiness, and removal on both (kernfs tells inotify nothing of
	 * an rmdir: the watch holds the inode), are checked every second. */
	if (e->timerfd < 0) {
		e->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_SRC_TIMER };
		if (e->timerfd < 0 || timerfd_settime(e->timerfd, 0, &its, NULL) < 0 ||
		    epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->timerfd, &ev) < 0) {
			r = negerrno();
			closep(&e->timerfd);
			e->timerfd = -1;
			return r;
		}
	}
	return 0;
}

static void emit(struct pcon_events *e, struct ev_sub *s, enum pcon_event_type t)
{
	struct pcon_event ev = { .type = t, .time_ns = ev_now_ns(), .subscription = s->id,
				 .hier = s->hier, .path = s->path };
	ev_emit(e, &ev);
}

/* s's container was removed: it was emptied first (v1 may not have seen
 * it), then it is gone. Its last events. */
static void removed(struct pcon_events *e, struct ev_sub *s)
{
	if (s->gone)
		return;
	if (s->populated == 1) {
		s->populated = 0;
		emit(e, s, PCON_EVENT_EMPTY);
		if (s->gone)
			return; /* the callback unsubscribed: nothing more for it */
	}
	s->gone = true;
	if (s->wd >= 0)
		(void)inotify_rm_watch(e->infd, s->wd);
	s->wd = -1;
	emit(e, s, PCON_EVENT_GONE);
}

/* Read s's state again; report a change. */
static void update(struct pcon_events *e, struct ev_sub *s)
{
	if (s->gone)
		return;
	int r = ev_sub_populated(e, s);
	if (r == -ENOENT || r == -ENODEV)
		return removed(e, s);
	if (r < 0 || r == s->populated)
		return;
	s->populated = r;
	emit(e, s, r ? PCON_EVENT_POPULATED : PCON_EVENT_EMPTY);
}

void ev_watch_remove(struct pcon_events *e, struct ev_sub *s)
{
	/* Subscriptions of one container share its watch (inotify gives one
	 * wd per inode): it goes with the last of them. */
	bool shared = false;
	for (size_t i = 0; i < e->n_subs; i++)
		shared |= &e->subs[i] != s && e->subs[i].wd == s->wd;
	if (s->wd >= 0 && e->infd >= 0 && !shared)
		(void)inotify_rm_watch(e->infd, s->wd);
	s->wd = -1;
}

void ev_watch_inotify(struct pcon_events *e)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(e->infd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ie = (const struct inotify_event *)p;
			for (size_t i = 0; i < e->n_subs; i++)
				if (e->subs[i].wd == ie->wd && (ie->mask & IN_MODIFY))
					update(e, &e->subs[i]);
				else if (e->subs[i].wd == ie->wd && (ie->mask & IN_IGNORED)) {
					e->subs[i].wd = -1; /* the container was removed */
					removed(e, &e->subs[i]);
				}
			p += sizeof(*ie) + ie->len;
		}
	}
}

void ev_watch_recheck(struct pcon_events *e, bool all)
{
	for (size_t i = 0; i < e->n_subs && e->cb_err == 0; i++) {
		struct ev_sub *s = &e->subs[i];
		if (s->hier->version == 1 && (all || s->recheck))
			update(e, s);
		else if (all && !s->gone && s->path_len > 1 &&
			 faccessat(s->fd, "cgroup.events", F_OK, 0) < 0 && errno == ENOENT)
			removed(e, s);
		s->recheck = false;
	}
}

void ev_watch_timer(struct pcon_events *e)
{
	uint64_t ticks;
	if (read(e->timerfd, &ticks, sizeof(ticks)) == sizeof(ticks))
		ev_watch_recheck(e, true);
}
