/*
 * pcond's threshold events: "watch EXPR CONTAINER" follows the crossings of
 * a threshold expression (see pcon/when.h) over a container's load, thread
 * counts (its subtree) or pressure, evaluated at every sample. For pressure
 * above a level on v2, the kernel's own PSI trigger (a stall over a 2 s
 * window) reports the crossing within that window, before the next sample.
 * One expression per connection; the connection then carries only
 * "threshold" lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "pcond.h"

#define PSI_WINDOW_US 2000000 /* a multiple of 2 s, as the kernel asks of unprivileged users */

struct watch {
	enum ev_kind kind; /* first: EV_WATCH, what epoll's data.ptr points at */
	int fd;            /* the PSI trigger, or -1 */
	struct conn *c;
	struct pcon_when w;
	const struct pcon_hier *h;
	char *path;
	uint64_t trigger_ns; /* when the PSI trigger last fired */
	struct watch *next;  /* dropped this loop pass: freed after it */
};

/* Stop w's trigger; free w after this loop pass, as epoll may still have
 * handed out an event that points at it. */
static void watch_free(struct pcond *d, struct watch *w)
{
	if (w->fd >= 0) {
		(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->fd, NULL);
		close(w->fd);
		w->fd = -1;
	}
	w->c = NULL;
	w->next = d->watch_grave;
	d->watch_grave = w;
}

void watches_reap(struct pcond *d)
{
	for (struct watch *w = d->watch_grave, *next; w; w = next) {
		next = w->next;
		free(w->path);
		free(w);
	}
	d->watch_grave = NULL;
}

/* The kernel's PSI trigger for a "pressure above" expression on v2; the
 * expression is still sampled where there is none. */
static void psi_trigger(struct pcond *d, struct watch *w, const struct pcon_container *c)
{
	if (w->w.var != PCON_WHEN_PRESSURE || !w->w.greater || c->hier->version != 2)
		return;
	char file[32], text[64];
	snprintf(file, sizeof(file), "%s.pressure", pcon_psi_resource_to_string(w->w.res));
	unsigned long stall = (unsigned long)(w->w.threshold / 100.0 * PSI_WINDOW_US);
	snprintf(text, sizeof(text), "%s %lu %u", pcon_psi_kind_to_string(w->w.kind),
		 stall < 1 ? 1 : stall, PSI_WINDOW_US);
	int fd = openat(c->fd, file, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	struct epoll_event ev = { .events = EPOLLPRI, .data.ptr = w };
	if (write(fd, text, strlen(text) + 1) < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pcond_log(LOG_DEBUG, "watch: no PSI trigger on %s (%s): sampled instead", file,
			  strerror(errno));
		close(fd);
		return;
	}
	w->fd = fd;
}

void watch_request(struct pcond *d, struct conn *c, const char *expr, const char *name)
{
	struct pcon_when when;
	if (pcon_when_parse(expr, &when) < 0)
		return reply_err(c, "EINVAL", "bad expression (NAME OP NUMBER: load1>1.5, running>4, "
					      "cpu.some.avg10>20; see pcon(1))");
	struct pcon_spec spec;
	if (!spec_or_err(d, c, name, &spec))
		return;
	struct tree *tr = tracker_tree(&d->tr, spec.hiers[0]);
	struct node *n = tr ? tree_find(tr, spec.path) : NULL;
	struct watch *w = calloc(1, sizeof(*w));
	if (!tr || !n || !w) {
		pcon_spec_done(&spec);
		free(w);
		return !tr ? reply_err(c, "ENODEV", "hierarchy not watched by this pcond (see its --hierarchy)")
		     : !n  ? reply_err(c, "ENOENT", "no such container, or not tracked yet")
			   : reply_err(c, "ENOMEM", "out of memory");
	}
	*w = (struct watch){ .kind = EV_WATCH, .fd = -1, .c = c, .w = when, .h = spec.hiers[0],
			     .path = strdup(spec.path) };
	pcon_spec_done(&spec);
	struct watch **v = realloc(d->watches, (d->n_watches + 1) * sizeof(*v));
	if (!w->path || !v) {
		watch_free(d, w);
		return reply_err(c, "ENOMEM", "out of memory");
	}
	d->watches = v;
	d->watches[d->n_watches++] = w;
	psi_trigger(d, w, n->c);
	c->stream = true; /* from now on it only hears */
	char canon[64];
	pcon_when_format(&when, canon, sizeof(canon));
	(void)buf_printf(&c->out, "ok 1 psi_trigger=%d expr=%s\n", w->fd >= 0, canon);
}

/* One "threshold" line on w's connection; over the backlog bound it is left out. */
static void tell(struct pcond *d, struct watch *w, double value, const char *source)
{
	char hier[512], path[3 * 4096 + 1], expr[64], canon[64];
	pcon_when_format(&w->w, canon, sizeof(canon));
	if (w->c->out.len - w->c->out.off > CONN_STREAM_MAX ||
	    proto_escape(w->h->name, hier, sizeof(hier)) < 0 ||
	    proto_escape(w->path, path, sizeof(path)) < 0 || proto_escape(canon, expr, sizeof(expr)) < 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	(void)buf_printf(&w->c->out, "threshold time=%lld hier=%s path=%s expr=%s state=%s value=%g source=%s\n",
			 (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, hier, path, expr,
			 w->w.state ? "on" : "off", value, source);
	(void)conn_flush(d, w->c); /* may close it */
}

/* w's value now, from the last sample (and its pressure files). */
static int value_now(struct pcond *d, struct watch *w, double *ret)
{
	struct tree *tr = tracker_tree(&d->tr, w->h);
	struct node *n = tr ? tree_find(tr, w->path) : NULL;
	if (!n || !n->sampled)
		return -ENODATA;
	struct pcon_pressure p;
	bool psi = w->w.var == PCON_WHEN_PRESSURE && pcon_pressure_read(n->c, &p) == 0;
	struct pcon_when_input in = { .load = &n->la, .tasks = &n->sum, .pressure = psi ? &p : NULL };
	return pcon_when_value(&w->w, &in, ret);
}

void watches_sample(struct pcond *d)
{
	for (size_t i = 0; i < d->n_watches; i++) {
		struct watch *w = d->watches[i];
		double v;
		if (value_now(d, w, &v) < 0)
			continue;
		/* After a PSI trigger the average lags: it holds "on" for the
		 * average's own span, then the value decides again. */
		bool held = w->w.state && w->trigger_ns &&
			    now_ns() - w->trigger_ns < (uint64_t)w->w.window * 1000000000ULL;
		if (!held && pcon_when_step(&w->w, v) == 1)
			tell(d, w, v, "sample");
	}
}

void watch_trigger(struct pcond *d, void *ptr)
{
	struct watch *w = ptr;
	if (!w->c)
		return; /* dropped earlier in this pass */
	w->trigger_ns = now_ns();
	double v = 0;
	(void)value_now(d, w, &v);
	if (!w->w.state) {
		w->w.state = w->w.known = true;
		tell(d, w, v, "psi");
	}
}

void watches_drop(struct pcond *d, struct conn *c)
{
	for (size_t i = 0; i < d->n_watches;)
		if (d->watches[i]->c == c) {
			watch_free(d, d->watches[i]);
			d->watches[i] = d->watches[--d->n_watches];
		} else {
			i++;
		}
	if (!d->n_watches) {
		free(d->watches);
		d->watches = NULL;
	}
}
