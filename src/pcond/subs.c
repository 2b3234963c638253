/*
 * pcond's event subscriptions: one events handle for every subscriber,
 * created at the first subscription and freed a while after the last one
 * leaves.
 * Each event becomes one "event k=v ..." line on the connections that
 * subscribed to its container. A subscriber that does not read never holds
 * pcond up: its backlog is bounded (CONN_STREAM_MAX), events beyond it are
 * counted, not queued, and told as one "event type=lost" line once it
 * drains.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>

#include "pcond.h"

static int64_t mono_to_real(void)
{
	struct timespec r, m;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000 + (r.tv_nsec - m.tv_nsec);
}

/* Does /proc hide other users' processes (hidepid)? Then the events, which
 * name every task, are not for unprivileged users either. */
static bool proc_hides_pids(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool hides = false;
	while (f && !hides && fgets(line, sizeof(line), f)) {
		char mnt[256];
		const char *dash = strstr(line, " - proc ");
		if (!dash || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 || strcmp(mnt, "/proc") != 0)
			continue;
		const char *h = strstr(dash, "hidepid=");
		hides = h && strncmp(h + 8, "0", 1) != 0 && strncmp(h + 8, "off", 3) != 0;
	}
	if (f)
		fclose(f);
	return hides;
}

static struct sub *sub_find(struct pcond *d, int id)
{
	for (size_t i = 0; i < d->n_subs; i++)
		if (d->subs[i].id == id)
			return &d->subs[i];
	return NULL;
}

static void sub_remove(struct pcond *d, struct sub *s)
{
	(void)pcon_events_unsubscribe(d->ev, s->id);
	if (s->c)
		s->c->n_subs--;
	*s = d->subs[--d->n_subs];
}

/* Free the events handle once nobody has subscribed for EVENTS_LINGER_NS:
 * loading it costs about 17 ms (the eBPF move tracker, the proc connector),
 * so a client that subscribes and leaves in a loop pays it once, not per
 * connection. Called from the sample timer. */
void subs_release_idle(struct pcond *d, bool now)
{
	if (!d->ev || d->n_subs > 0)
		return;
	if (!now && now_ns() - d->ev_idle_ns < EVENTS_LINGER_NS)
		return;
	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->events.fd, NULL);
	pcon_events_free(d->ev);
	d->ev = NULL;
	free(d->subs);
	d->subs = NULL;
	visible_done(d);
	free(d->line);
	d->line = NULL;
}

/* The last subscriber left: start the linger. */
static void events_release(struct pcond *d)
{
	if (d->ev && d->n_subs == 0 && !d->ev_idle_ns)
		d->ev_idle_ns = now_ns();
}

static int events_acquire(struct pcond *d)
{
	d->ev_idle_ns = 0;
	if (d->ev)
		return 0;
	int r = pcon_events_new(d->p, 0, &d->ev);
	if (r < 0)
		return r;
	d->ev_loads++;
	d->events.kind = EV_EVENTS;
	d->events.fd = pcon_events_fd(d->ev);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->events };
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->events.fd, &ev) < 0) {
		r = -errno;
		pcon_events_free(d->ev);
		d->ev = NULL;
		return r;
	}
	d->mono_to_real_ns = mono_to_real();
	return 0;
}

int subs_internal(struct pcond *d, const struct pcon_container *c, unsigned flags, int *ret_id)
{
	int r = events_acquire(d);
	if (r < 0)
		return r;
	struct sub *v = realloc(d->subs, (d->n_subs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->subs = v;
	r = pcon_events_subscribe(d->ev, c, flags);
	if (r < 0)
		return r;
	d->subs[d->n_subs++] = (struct sub){ .id = r, .c = NULL };
	*ret_id = r;
	return 0;
}

static void containers_free(struct pcon_container **ct, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pcon_container_free(ct[i]);
}

/* Subscribe c to every container of ct; all or nothing. */
static int subscribe_all(struct pcond *d, struct conn *c, struct pcon_container **ct, size_t n,
			 unsigned flags)
{
	size_t first = d->n_subs;
	int r = 0;
	struct sub *v = realloc(d->subs, (d->n_subs + n) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->subs = v;
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = pcon_events_subscribe(d->ev, ct[i], flags);
		if (r >= 0) {
			d->subs[d->n_subs++] = (struct sub){ .id = r, .c = c };
			c->n_subs++;
		}
	}
	if (r < 0)
		while (d->n_subs > first)
			sub_remove(d, &d->subs[d->n_subs - 1]);
	return r < 0 ? r : 0;
}

static const char *errno_code(int r)
{
	return r == -ENOENT ? "ENOENT" : r == -EACCES || r == -EPERM ? "EPERM" : "EIO";
}

/*
 * Nothing costly happens before the request is known to be good: the name
 * is parsed and every container opened first; only then are the kernel's
 * event sources loaded (once, kept while anyone subscribes).
 */
void subs_request(struct pcond *d, struct conn *c, const char *name, bool recursive)
{
	struct pcon_spec spec;
	if (!spec_or_err(d, c, name, &spec))
		return;
	struct pcon_container *ct[PCON_SPEC_MAX_HIERS];
	size_t n = 0;
	int r = 0;
	for (; n < spec.n; n++) {
		r = pcon_container_open(spec.hiers[n], spec.path, &ct[n]);
		if (r < 0)
			break;
	}
	pcon_spec_done(&spec);
	if (r < 0) {
		containers_free(ct, n);
		return reply_err(c, errno_code(r), r == -ENOENT ? "no such container" : strerror(-r));
	}
	if (c->uid != 0 && proc_hides_pids()) {
		containers_free(ct, n);
		return reply_err(c, "EPERM", "/proc hides other users' tasks here (hidepid): "
					     "only root may subscribe");
	}
	r = events_acquire(d);
	if (r < 0) {
		containers_free(ct, n);
		char msg[128];
		snprintf(msg, sizeof(msg), "cannot listen to the kernel's process events: %s",
			 strerror(-r));
		return reply_err(c, r == -EPERM || r == -EACCES ? "EPERM" : "EIO", msg);
	}
	r = subscribe_all(d, c, ct, n, recursive ? PCON_EVENTS_RECURSIVE : 0);
	containers_free(ct, n);
	if (r < 0) {
		events_release(d);
		return reply_err(c, errno_code(r), r == -ENOENT ? "no such container" : strerror(-r));
	}
	c->stream = true;
	(void)buf_printf(&c->out, "ok %zu moves=%d\n", n, pcon_events_tracks_moves(d->ev));
}

/* ---- one event as a line ------------------------------------------------ */

/* Append ev's line (lib/proto.c's codec) to c's output, as c may see it;
 * on failure it is as it was. */
static int put_event(struct pcond *d, struct conn *c, const struct pcon_event *ev, unsigned flags)
{
	if (!d->line && !(d->line = malloc(PROTO_EVENT_MAX)))
		return -ENOMEM;
	bool priv = ev->type != PCON_EVENT_EXEC && ev->type != PCON_EVENT_EXIT;
	if (!priv && !visible_private(d, c, ev))
		flags |= PROTO_EVENT_WITHHELD;
	int n = proto_event_format(ev, ev->hier ? ev->hier->name : NULL,
				   (int64_t)ev->time_ns + d->mono_to_real_ns, flags, d->line,
				   PROTO_EVENT_MAX);
	return n < 0 ? n : buf_put(&c->out, d->line, (size_t)n);
}

static size_t backlog(const struct conn *c)
{
	return c->out.len - c->out.off;
}

/* Queue ev for c, or count it as dropped. Once one is dropped, all are
 * until the lost line is queued, so that line stands where the gap is. */
static void queue(struct pcond *d, struct conn *c, const struct pcon_event *ev)
{
	if (c->dropped || c->kernel_lost || backlog(c) >= CONN_STREAM_MAX ||
	    put_event(d, c, ev, 0) < 0)
		c->dropped++;
}

/* The kernel lost n of the machine's events: c may have missed some. */
static void queue_lost(struct pcond *d, struct conn *c, const struct pcon_event *ev)
{
	if (c->dropped || c->kernel_lost || backlog(c) >= CONN_STREAM_MAX ||
	    put_event(d, c, ev, 0) < 0)
		c->kernel_lost += ev->lost;
}

/* "n events lost" now, by the kernel or by pcond (flags). */
static int put_lost(struct buf *b, uint64_t n, unsigned flags)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct pcon_event ev = { .type = PCON_EVENT_LOST, .subscription = -1, .lost = n };
	char line[256];
	int len = proto_event_format(&ev, NULL, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
				     flags, line, sizeof(line));
	return len < 0 ? len : buf_put(b, line, (size_t)len);
}

void subs_catch_up(struct conn *c)
{
	if (!c->stream || backlog(c) > CONN_STREAM_MAX / 2)
		return;
	/* Queued past the bound if need be: at most two lines per drain. */
	if (c->kernel_lost && put_lost(&c->out, c->kernel_lost, 0) == 0)
		c->kernel_lost = 0;
	if (c->dropped && put_lost(&c->out, c->dropped, PROTO_EVENT_SOURCE_PCOND) == 0)
		c->dropped = 0;
}

static int on_event(const struct pcon_event *ev, void *userdata)
{
	struct pcond *d = userdata;
	if (ev->type == PCON_EVENT_LOST) {
		/* the machine's loss: every subscriber may have missed events */
		for (size_t i = 0; i < d->n_subs; i++) {
			struct conn *c = d->subs[i].c;
			if (!c)
				continue; /* pcond's own (the rules): nothing to tell */
			bool seen = false;
			for (size_t k = 0; k < i && !seen; k++)
				seen = d->subs[k].c == c;
			if (!seen)
				queue_lost(d, c, ev);
		}
		return 0;
	}
	struct sub *s = sub_find(d, ev->subscription);
	if (!s)
		return 0;
	if (!s->c) {
		rules_on_event(d, ev);
		return 0;
	}
	struct conn *c = s->c;
	if (c->uid != 0 && (ev->type == PCON_EVENT_FORK || ev->type == PCON_EVENT_EXEC ||
			    ev->type == PCON_EVENT_UID || ev->type == PCON_EVENT_GID ||
			    ev->type == PCON_EVENT_MOVE))
		visible_note(d, ev); /* for its exit, when it may be gone */
	if (ev->type != PCON_EVENT_GONE) {
		queue(d, c, ev);
		return 0;
	}
	/* Its last event: told even past the bound, like a lost line. */
	(void)put_event(d, c, ev, 0);
	sub_remove(d, s);
	if (c->n_subs == 0)
		c->closing = true; /* nothing left to tell: close once sent */
	return 0;
}

void subs_dispatch(struct pcond *d)
{
	int r = pcon_events_dispatch(d->ev, on_event, d);
	if (r < 0)
		pcond_log(LOG_DEBUG, "reading events: %s", strerror(-r));
	for (struct conn *c = d->conns, *next; c; c = next) {
		next = c->next;
		if (!c->stream)
			continue;
		subs_catch_up(c);
		if (c->out.len > c->out.off || c->closing)
			(void)conn_flush(d, c); /* may close c */
	}
	events_release(d);
}

void subs_drop(struct pcond *d, struct conn *c)
{
	if (!c->stream)
		return;
	for (size_t i = 0; i < d->n_subs;)
		if (d->subs[i].c == c)
			sub_remove(d, &d->subs[i]);
		else
			i++;
	events_release(d);
}
