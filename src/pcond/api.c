/*
 * pcond's Unix-socket API: one request line in, data lines and one final
 * "ok ..." or "err ERRNO message" line out (see man/pcond.8.scd). Anyone may
 * read; requests that change the daemon need uid 0 (SO_PEERCRED). After
 * "subscribe", the connection carries event lines (subs.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pcond.h"
#include "pcon/rules.h"

void reply_err(struct conn *c, const char *code, const char *msg)
{
	(void)buf_printf(&c->out, "err %s %s\n", code, msg);
}

/* "container hier=H path=P id=N load1=... " for one node. */
static int put_container(struct buf *b, const struct tree *tr, const struct node *n)
{
	char hier[512], path[3 * 4096 + 1], l1[16], l5[16], l15[16];
	if (proto_escape(tr->h->name, hier, sizeof(hier)) < 0 ||
	    proto_escape(n->c->path, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	const struct pcon_loadavg *la = &n->la;
	return buf_printf(b,
			  "container hier=%s path=%s id=%llu load1=%s load5=%s load15=%s "
			  "avenrun=%lu,%lu,%lu samples=%llu running=%llu uninterruptible=%llu "
			  "tasks=%llu sampled=%d\n",
			  hier, path, (unsigned long long)n->id,
			  pcon_loadavg_format(la->avenrun[0], l1, sizeof(l1)),
			  pcon_loadavg_format(la->avenrun[1], l5, sizeof(l5)),
			  pcon_loadavg_format(la->avenrun[2], l15, sizeof(l15)),
			  la->avenrun[0], la->avenrun[1], la->avenrun[2],
			  (unsigned long long)la->samples, (unsigned long long)n->sum.running,
			  (unsigned long long)n->sum.uninterruptible,
			  (unsigned long long)n->sum.total, n->sampled ? 1 : 0);
}

bool spec_or_err(struct pcond *d, struct conn *c, const char *name, struct pcon_spec *ret)
{
	int r = pcon_spec_parse(d->p, name, ret);
	if (r < 0)
		reply_err(c, r == -ENODEV ? "ENODEV" : "EINVAL",
			  r == -ENODEV ? "no such hierarchy" : "bad container name");
	return r >= 0;
}

static void do_loadavg(struct pcond *d, struct conn *c, const struct proto_req *req)
{
	struct pcon_spec spec;
	if (!spec_or_err(d, c, req->spec, &spec))
		return;
	size_t lines = 0;
	const char *code = NULL, *msg = NULL;
	size_t mark = c->out.len;
	tracker_roots_now(&d->tr); /* roots answer the kernel's load of this moment */
	for (size_t i = 0; i < spec.n && !code; i++) {
		struct tree *tr = tracker_tree(&d->tr, spec.hiers[i]);
		struct node *top = tr ? tree_find(tr, spec.path) : NULL;
		if (!tr) {
			code = "ENODEV";
			msg = "hierarchy not watched by this pcond (see its --hierarchy)";
		} else if (!top) {
			code = "ENOENT";
			msg = "no such container, or not tracked yet (pcond rescans every 5 s)";
		}
		for (struct node *n = top; n; n = req->recursive ? node_next(n, top) : NULL) {
			if (put_container(&c->out, tr, n) < 0) {
				code = "ENOBUFS";
				msg = "reply too large";
				break;
			}
			lines++;
		}
	}
	pcon_spec_done(&spec);
	if (code) {
		c->out.len = mark; /* nothing but the error */
		return reply_err(c, code, msg);
	}
	(void)buf_printf(&c->out, "ok %zu\n", lines);
}

/* " KEY=N", KEY being prefix and key, at p; the end. An answer of 1,000
 * containers is 16,000 of these: by hand, at a tenth of printf's cost. */
static char *put_kv(char *p, const char *prefix, const char *key, uint64_t v)
{
	char digits[20];
	int n = 0;
	*p++ = ' ';
	p = stpcpy(stpcpy(p, prefix), key);
	*p++ = '=';
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* " running=N ... total=N" of s, each key after prefix, at p; the end. */
static char *put_counts(char *p, const char *prefix, const struct pcon_taskstats *s)
{
	p = put_kv(p, prefix, "running", s->running);
	p = put_kv(p, prefix, "sleeping", s->sleeping);
	p = put_kv(p, prefix, "uninterruptible", s->uninterruptible);
	p = put_kv(p, prefix, "stopped", s->stopped);
	p = put_kv(p, prefix, "io_wait", s->io_wait);
	p = put_kv(p, prefix, "idle", s->idle);
	p = put_kv(p, prefix, "other", s->other);
	return put_kv(p, prefix, "total", s->total);
}

static int put_taskstats(struct buf *b, const struct node *n)
{
	char path[3 * 4096 + 1];
	if (proto_escape(n->c->path, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	char line[1024], *p = line; /* 4 keys and 16 counts, each at most 41 bytes */
	p = put_kv(p, "", "id", n->id);
	p = put_kv(p, "", "parent", n->parent ? n->parent->id : 0);
	p = put_kv(p, "", "sampled", n->sampled ? 1 : 0);
	p = put_kv(p, "", "unknown", n->own.unknown | n->sum.unknown);
	p = put_counts(p, "", &n->own);
	p = put_counts(p, "sum_", &n->sum);
	*p++ = '\n';
	int r = buf_put(b, "taskstats path=", 15);
	r = r < 0 ? r : buf_put(b, path, strlen(path));
	return r < 0 ? r : buf_put(b, line, (size_t)(p - line));
}

/*
 * Whether an unprivileged client may have a walk made for it now: at most
 * TASKSTATS_WALKS_PER_SEC a second, all such clients together, so that
 * asking costs pcond no more than a bounded share of a CPU. Root's
 * requests always walk.
 */
#define TASKSTATS_WALKS_PER_SEC 10
static bool may_walk(struct pcond *d, const struct conn *c, uint64_t now)
{
	if (c->uid == 0)
		return true;
	if (now - d->ts_window_ns >= 1000000000ULL) {
		d->ts_window_ns = now;
		d->ts_walks = 0;
	}
	return d->ts_walks++ < TASKSTATS_WALKS_PER_SEC;
}

/* The thread counts of a container (-r: and of every one below it), from a
 * walk made now unless one at most PROTO_TASKSTATS_AGE_MS old answers. */
static void do_taskstats(struct pcond *d, struct conn *c, const struct proto_req *req)
{
	struct pcon_spec spec;
	if (!spec_or_err(d, c, req->spec, &spec))
		return;
	bool one = spec.n == 1;
	struct tree *tr = one ? tracker_tree(&d->tr, spec.hiers[0]) : NULL;
	if (!tr) {
		pcon_spec_done(&spec);
		return reply_err(c, one ? "ENODEV" : "EINVAL",
				 one ? "hierarchy not watched by this pcond (see its --hierarchy)"
				     : "taskstats takes a container of one hierarchy");
	}
	uint64_t now = now_ns();
	if ((c->uid == 0 || now - tr->walked_ns > PROTO_TASKSTATS_AGE_MS * 1000000ULL) &&
	    may_walk(d, c, now)) {
		tracker_refresh(&d->tr, tr);
		d->ts_walked++;
	}
	struct node *top = tree_find(tr, spec.path);
	pcon_spec_done(&spec);
	if (!top)
		return reply_err(c, "ENOENT", "no such container");
	size_t lines = 0, mark = c->out.len;
	for (struct node *n = top; n; n = req->recursive ? node_next(n, top) : NULL, lines++) {
		if (n->over_cap && req->recursive) {
			c->out.len = mark;
			return reply_err(c, "ERANGE", "more containers than pcond tracks (its --max-containers)");
		}
		if (put_taskstats(&c->out, n) < 0) {
			c->out.len = mark;
			return reply_err(c, "ENOBUFS", "reply too large");
		}
	}
	(void)buf_printf(&c->out, "ok %zu backend=%s walk=%s age_us=%llu\n", lines,
			 pcon_backend_to_string(d->tr.used), pcon_walk_to_string(d->tr.walk),
			 (unsigned long long)((now_ns() - tr->walked_ns) / 1000));
}

static void do_status(struct pcond *d, struct conn *c)
{
	const struct tracker *t = &d->tr;
	(void)buf_printf(&c->out,
			 "status version=%s pid=%d hierarchies=%zu tracked=%zu limit=%zu "
			 "untracked=%zu rounds=%llu skipped=%llu failed_rounds=%llu scan_errors=%llu "
			 "backend=%s sample_cpu_us=%.0f "
			 "sample_wall_us=%.0f read_errors=%llu clients=%zu http_clients=%zu "
			 "refused=%llu expired=%llu fd_exhausted=%llu subscriptions=%zu "
			 "events=%d event_loads=%llu metrics_renders=%llu metrics_render_us=%llu "
			 "rules=%zu rules_moved=%llu rules_failed=%llu taskstats_walks=%llu "
			 "uptime_s=%llu\n",
			 PCOND_VERSION, (int)getpid(), t->n_trees, t->tracked, t->cap, t->untracked,
			 (unsigned long long)t->rounds, (unsigned long long)t->skipped,
			 (unsigned long long)t->failed, (unsigned long long)t->scan_errors,
			 pcon_backend_to_string(t->used),
			 t->last_cpu_s * 1e6, t->last_wall_s * 1e6,
			 (unsigned long long)t->read_errors, d->n_api, d->n_http,
			 (unsigned long long)d->refused, (unsigned long long)d->expired,
			 (unsigned long long)d->fd_exhausted, d->n_subs, d->ev ? 1 : 0,
			 (unsigned long long)d->ev_loads, (unsigned long long)d->renders,
			 (unsigned long long)(d->render_ns / 1000), pcon_rules_count(d->rules),
			 (unsigned long long)d->rules_moved, (unsigned long long)d->rules_failed,
			 (unsigned long long)d->ts_walked,
			 (unsigned long long)((now_ns() - d->started_ns) / 1000000000ULL));
	(void)buf_printf(&c->out, "ok 1\n");
}

void api_request(struct pcond *d, struct conn *c, const char *line, size_t len)
{
	struct proto_req req;
	const char *why;
	int r = proto_parse(line, len, &req, &why);
	if (r < 0)
		return reply_err(c, r == -ENOENT ? "ENOSYS" : r == -ENAMETOOLONG ? "ENAMETOOLONG" : "EINVAL", why);
	if (req.privileged && c->uid != 0)
		return reply_err(c, "EPERM", "only root may change pcond");
	switch (req.cmd) {
	case PROTO_PING:
		(void)buf_printf(&c->out, "ok pcond %s\n", PCOND_VERSION);
		break;
	case PROTO_STATUS:
		do_status(d, c);
		break;
	case PROTO_LOADAVG:
		do_loadavg(d, c, &req);
		break;
	case PROTO_RESCAN:
		pcond_sample(d, 0);
		(void)buf_printf(&c->out, "ok %zu\n", d->tr.tracked);
		break;
	case PROTO_TASKSTATS:
		do_taskstats(d, c, &req);
		break;
	case PROTO_SUBSCRIBE:
		subs_request(d, c, req.spec, req.recursive);
		break;
	case PROTO_WATCH:
		watch_request(d, c, req.expr, req.spec);
		break;
	case PROTO_LIMIT:
		if (req.number > d->fd_budget) {
			char msg[128];
			snprintf(msg, sizeof(msg), "the open-file limit allows at most %zu containers",
				 d->fd_budget);
			return reply_err(c, "ERANGE", msg);
		}
		d->tr.cap = (size_t)req.number;
		(void)buf_printf(&c->out, "ok %zu\n", d->tr.cap);
		break;
	default:
		reply_err(c, "ENOSYS", "unknown command");
		break;
	}
}
