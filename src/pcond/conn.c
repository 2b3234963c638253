/*
 * pcond's client connections (Unix-socket API and HTTP): non-blocking, one
 * bounded input buffer and one output buffer each, so a slow, silent or
 * malicious client can never stall the loop or the other clients.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pcond.h"

static int buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	if (b->len + more > CONN_OUT_MAX)
		return -ENOBUFS;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int buf_put(struct buf *b, const char *s, size_t n)
{
	int r = buf_reserve(b, n);
	if (r < 0)
		return r;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* Formatted into the room left, once; a second time only when it did not fit. */
int buf_printf(struct buf *b, const char *fmt, ...)
{
	for (;;) {
		size_t room = b->cap - b->len;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		int r = buf_reserve(b, (size_t)n + 1);
		if (r < 0)
			return r;
	}
}

void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

static void set_more(struct pcond *d, struct conn *c, bool more)
{
	if (c->more != more)
		d->n_more += more ? 1 : (size_t)-1;
	c->more = more;
}

/* Bytes queued for c and not sent yet: its output, then its shared body. */
static size_t unsent(const struct conn *c)
{
	return c->out.len - c->out.off + (c->body ? c->body->len - c->body_off : 0);
}

static void conn_watch(struct pcond *d, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	ev.events = (c->reading && !c->eof ? EPOLLIN | EPOLLRDHUP : 0) | (unsent(c) ? EPOLLOUT : 0);
	(void)epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static size_t conns_of(const struct pcond *d, enum ev_kind kind, uid_t uid)
{
	size_t n = 0;
	for (const struct conn *c = d->conns; c; c = c->next)
		n += c->kind == kind && c->uid == uid;
	return n;
}

/*
 * May a new connection of uid be served? NULL if so, else the reason. Two
 * pools, API and HTTP, alike: root may take every slot; other users leave
 * the pool's root reserve free and hold at most max_per_uid each
 * (subscribers included). An HTTP peer's uid is known when it is on this
 * machine (peer.c); all others count as one user, PEER_REMOTE.
 */
static const char *admit(const struct pcond *d, bool http, uid_t uid)
{
	size_t n = http ? d->n_http : d->n_api, max = http ? d->max_http : d->max_api;
	size_t reserve = http ? d->http_reserve : d->root_reserve;
	if (n >= max)
		return http ? "too many HTTP clients" : "too many clients";
	if (uid == 0)
		return NULL;
	if (n + reserve >= max)
		return "too many clients (the rest are kept for root)";
	if (conns_of(d, http ? EV_HTTP_CONN : EV_API_CONN, uid) >= d->max_per_uid)
		return uid == PEER_REMOTE ? "too many connections from other machines"
					  : "too many connections of this user";
	return NULL;
}

static void refuse(struct pcond *d, int fd, bool http, const char *why)
{
	char msg[256];
	int n = http ? snprintf(msg, sizeof(msg), "HTTP/1.0 503 Service Unavailable\r\n"
				"Content-Type: text/plain\r\nContent-Length: %zu\r\n"
				"Connection: close\r\nRetry-After: 5\r\n\r\n%s\n",
				strlen(why) + 1, why)
		     : snprintf(msg, sizeof(msg), "err EBUSY %s\n", why);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1; /* cut short rather than read past msg */
	/* A fresh socket's buffer takes this without blocking. */
	(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	d->refused++;
}

static int accept_all(struct pcond *d, struct listener *l);

static void listeners_watch(struct pcond *d, uint32_t events)
{
	struct listener *ls[] = { &d->api, &d->http };
	for (size_t i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = events, .data.ptr = ls[i] };
		if (ls[i]->fd >= 0)
			(void)epoll_ctl(d->epfd, EPOLL_CTL_MOD, ls[i]->fd, &ev);
	}
}

/*
 * Out of descriptors, a listener stays readable and accept keeps failing:
 * watched, it would spin the loop. It is unwatched until a descriptor is
 * closed (conn_close) or the next sample.
 */
static void listeners_pause(struct pcond *d)
{
	if (d->paused)
		return;
	d->paused = true;
	d->fd_exhausted++;
	listeners_watch(d, 0);
	if (!d->fd_logged)
		pcond_log(LOG_WARNING, "out of file descriptors: not accepting connections until one is closed");
	d->fd_logged = true;
}

void listeners_resume(struct pcond *d)
{
	if (!d->paused)
		return;
	d->paused = false;
	listeners_watch(d, EPOLLIN);
}

int conn_accept(struct pcond *d, struct listener *l)
{
	int r = accept_all(d, l);
	if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM)
		listeners_pause(d);
	else if (r == 0)
		d->fd_logged = false;
	return r;
}

/* Accept (or refuse) what waits on l, at most CONN_ACCEPTS_PER_PASS: a
 * backlog full of connections is taken in turns with the other clients
 * (the listener stays readable, and the loop comes back to it). */
static int accept_all(struct pcond *d, struct listener *l)
{
	bool http = l->kind == EV_HTTP_LISTEN;
	for (int i = 0; i < CONN_ACCEPTS_PER_PASS; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ? 0 : -errno;
		struct ucred cr = { .pid = 0, .uid = PEER_REMOTE, .gid = (gid_t)-1 };
		socklen_t n = sizeof(cr);
		if (!http && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) < 0) {
			close(fd);
			continue;
		}
		if (http && peer_tcp_uid(fd, &cr.uid) < 0)
			cr.uid = PEER_REMOTE;
		const char *why = admit(d, http, cr.uid);
		if (why) {
			refuse(d, fd, http, why);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->kind = http ? EV_HTTP_CONN : EV_API_CONN;
		c->fd = fd;
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->pid = cr.pid;
		c->reading = true;
		c->last_ns = now_ns();
		if (http) {
			c->req_ns = c->last_ns; /* its head is due from the start */
			/* A scraper that never reads holds at most this much
			 * kernel memory (TCP would grow it to megabytes). */
			int sz = CONN_HTTP_SNDBUF;
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = d->conns;
		if (d->conns)
			d->conns->prev = c;
		d->conns = c;
		d->n_conns++;
		*(http ? &d->n_http : &d->n_api) += 1;
	}
	return 0;
}

/* Closed now, freed by conn_reap: later events of the same epoll batch may
 * still point at c (a sweep or a failed event write closes others). */
void conn_close(struct pcond *d, struct conn *c)
{
	if (c->dead)
		return;
	set_more(d, c, false);
	if (c->waiting)
		d->n_waiting--;
	c->waiting = false;
	subs_drop(d, c);
	watches_drop(d, c);
	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->n_conns--;
	listeners_resume(d); /* a descriptor is free again */
	snapshot_put(d, c->body);
	c->body = NULL;
	*(c->kind == EV_HTTP_CONN ? &d->n_http : &d->n_api) -= 1;
	buf_free(&c->out);
	c->dead = true;
	c->prev = NULL;
	c->next = d->graveyard;
	d->graveyard = c;
}

void conn_reap(struct pcond *d)
{
	while (d->graveyard) {
		struct conn *c = d->graveyard;
		d->graveyard = c->next;
		free(c);
	}
}

/* Send what can be sent of c's shared body. 1 all sent, 0 not yet, -1 broken. */
static int flush_body(struct pcond *d, struct conn *c)
{
	while (c->body && c->body_off < c->body->len) {
		ssize_t n = send(c->fd, c->body->data + c->body_off, c->body->len - c->body_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->body_off += (size_t)n;
	}
	snapshot_put(d, c->body);
	c->body = NULL;
	return 1;
}

/* Send what can be sent now. -1 if the connection is to be closed. */
static int flush_out(struct pcond *d, struct conn *c)
{
	while (c->out.off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out.off, c->out.len - c->out.off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* A client that reads, but never quite all, would keep
			 * the sent bytes at the front forever: drop them once
			 * they are as many as the unsent ones (amortized O(1)). */
			if (c->out.off >= c->out.len - c->out.off) {
				memmove(c->out.p, c->out.p + c->out.off, c->out.len - c->out.off);
				c->out.len -= c->out.off;
				c->out.off = 0;
			}
			return 0;
		}
		if (n <= 0)
			return -1;
		c->out.off += (size_t)n;
	}
	c->out.len = c->out.off = 0;
	int r = flush_body(d, c);
	if (r <= 0)
		return r;
	return c->closing && !c->waiting ? -1 : 0;
}

/* Handle the complete requests in c->in (API: lines; HTTP: one head), at
 * most CONN_REQS_PER_PASS per loop pass: a client that pipelines thousands
 * of requests is served in turns with everyone else. */
static void process_input(struct pcond *d, struct conn *c)
{
	size_t used_total = 0;
	if (c->stream) {
		c->in_len = 0; /* a subscriber's input means nothing */
		return;
	}
	if (c->pass != d->pass) {
		c->pass = d->pass;
		c->req_done = 0;
	}
	while (!c->closing && unsent(c) < 65536) {
		if (c->req_done >= CONN_REQS_PER_PASS) {
			set_more(d, c, true);
			break;
		}
		const char *p = c->in + used_total;
		size_t avail = c->in_len - used_total;
		if (c->kind == EV_HTTP_CONN) {
			const char *end = memmem(p, avail, "\r\n\r\n", 4);
			if (!end)
				end = memmem(p, avail, "\n\n", 2);
			if (!end) {
				if (c->in_len == sizeof(c->in)) {
					http_request(d, c, NULL, 0); /* too long: 431 */
					c->closing = true;
				}
				c->closing |= c->eof; /* a partial head gets no answer */
				break;
			}
			http_request(d, c, p, (size_t)(end - p));
			c->closing = true; /* HTTP/1.0: one request per connection */
			break;
		}
		size_t len, used;
		int r = proto_line(p, avail, &len, &used);
		if (r == 0 && avail == sizeof(c->in) - used_total && used_total == 0)
			r = -E2BIG;
		if (r == -E2BIG) {
			(void)buf_printf(&c->out, "err E2BIG request longer than %d bytes\n",
					 PROTO_LINE_MAX - 1);
			c->closing = true;
			break;
		}
		if (r == 0) {
			/* EOF: every complete request is answered; a partial last
			 * one gets none. */
			c->closing |= c->eof;
			break;
		}
		api_request(d, c, p, len);
		c->req_done++;
		used_total += used;
		if (c->stream) {
			used_total = c->in_len; /* the rest is ignored */
			break;
		}
	}
	memmove(c->in, c->in + used_total, c->in_len - used_total);
	c->in_len -= used_total;
	if (c->in_len == 0)
		c->req_ns = 0;
	else if (used_total > 0)
		c->req_ns = now_ns(); /* the rest is the next request */
}

int conn_flush(struct pcond *d, struct conn *c)
{
	if (flush_out(d, c) < 0 || (c->closing && !c->waiting && unsent(c) == 0)) {
		conn_close(d, c);
		return -1;
	}
	if (c->stream) {
		subs_catch_up(c);
		if (flush_out(d, c) < 0) {
			conn_close(d, c);
			return -1;
		}
	}
	/* Read more only while the reply backlog is small: a client that does
	 * not read its answers cannot make pcond buffer without bound. A
	 * subscriber is read (to see it leave) until it shuts its side. */
	c->reading = !c->closing && (c->stream ? c->reading : unsent(c) < 65536);
	if (unsent(c) == 0)
		c->out_ns = 0;
	else if (!c->out_ns)
		c->out_ns = now_ns();
	conn_watch(d, c);
	return 0;
}

void conn_event(struct pcond *d, struct conn *c, uint32_t events)
{
	if (!c->stream)
		c->last_ns = now_ns();
	if (c->stream && (events & (EPOLLHUP | EPOLLERR))) {
		conn_close(d, c); /* the subscriber left */
		return;
	}
	if (events & EPOLLIN) {
		while (c->in_len < sizeof(c->in)) {
			ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0) {
				/* EOF: answer what was complete (process_input, as the
				 * backlog allows), then close. A subscriber that shut
				 * its writing side still gets events. */
				c->eof = true;
				c->reading = false;
				break;
			}
			c->in_len += (size_t)n;
			if (!c->req_ns)
				c->req_ns = now_ns();
		}
		process_input(d, c);
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		conn_close(d, c);
		return;
	}
	bool was_stream = c->stream;
	if (conn_flush(d, c) < 0)
		return;
	if (!was_stream && c->reading && (c->in_len > 0 || c->eof)) {
		process_input(d, c);
		if (unsent(c))
			conn_watch(d, c); /* EPOLLOUT sends it, then reads on */
		else
			(void)conn_flush(d, c); /* closes c at EOF with nothing left */
	}
}

/*
 * Close the connections past a deadline. A request must arrive whole within
 * --request-timeout (CONN_REQUEST_SEC) of its first byte and its answer be read within
 * CONN_SEND_SEC: deadlines, not idle timers, so a byte every few seconds
 * holds nothing for long. Subscribers have no deadline: they count against
 * their user's connections instead.
 */
void conn_sweep(struct pcond *d)
{
	uint64_t now = now_ns();
	const uint64_t s = 1000000000ULL;
	for (struct conn *c = d->conns, *next; c; c = next) {
		next = c->next;
		if (c->stream)
			continue;
		bool late = (c->req_ns && now - c->req_ns > d->request_ns) ||
			    (c->out_ns && now - c->out_ns > CONN_SEND_SEC * s) ||
			    now - c->last_ns > CONN_IDLE_SEC * s;
		if (late) {
			d->expired++;
			conn_close(d, c);
		}
	}
}

void conn_resume(struct pcond *d)
{
	if (d->n_more == 0)
		return;
	for (struct conn *c = d->conns, *next; c; c = next) {
		next = c->next;
		if (!c->more)
			continue;
		set_more(d, c, false);
		process_input(d, c);
		(void)conn_flush(d, c); /* may close c, never another */
	}
}
