/*
 * pcond's /metrics endpoint: a minimal HTTP/1.0 responder (GET and HEAD of
 * /metrics, one request per connection) serving the OpenMetrics text format.
 * Every per-container value covers the container and its descendants, as the
 * kernel's own memory.current, pids.current and cpuacct.usage do.
 *
 * The body is rendered once per sample, at the first scrape after it, and
 * shared by reference: fifty parallel scrapes cost one rendering, and each
 * slow reader holds a pointer into it, not a copy. The rendering itself is
 * done in steps of METRICS_NODES_PER_PASS containers, one per loop pass,
 * so that other clients are served between them whatever the number of
 * containers; scrapes wait for it without blocking anyone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcond.h"
#include "pcon/pressure.h"

/* A label value with \\, \" and \n escaped. */
/* A label value: the name's reversible text form (no control bytes), as
 * valid UTF-8 with OpenMetrics' escapes; a scrape must parse. */
static int put_label(struct buf *b, const char *s)
{
	char *esc = NULL;
	if (pcon_escape_name_dup(s, &esc) < 0)
		return -ENOMEM;
	size_t n = pcon_escape_label(NULL, 0, esc);
	char *lab = malloc(n + 1);
	int r = lab ? 0 : -ENOMEM;
	if (lab) {
		pcon_escape_label(lab, n + 1, esc);
		r = buf_put(b, lab, strlen(lab));
	}
	free(lab);
	free(esc);
	return r;
}

static int put_labels(struct buf *b, const struct tree *tr, const struct node *n)
{
	int r = buf_put(b, "{hierarchy=\"", 12);
	if (r == 0)
		r = put_label(b, tr->h->name);
	if (r == 0)
		r = buf_put(b, "\",container=\"", 13);
	if (r == 0)
		r = put_label(b, n->c->path);
	return r == 0 ? buf_put(b, "\"}", 2) : r;
}

enum value_kind { V_LOAD1, V_LOAD5, V_LOAD15, V_CPU, V_MEM, V_TASKS };

/* One family's value for n; 0 and *v, or <0 when it has none. */
static int value_of(const struct node *n, enum value_kind k, double *v)
{
	static const char *const knobs[] = { [V_CPU] = "cpuacct.usage", [V_MEM] = "memory.current",
					     [V_TASKS] = "numtasks.current" };
	if (k <= V_LOAD15) {
		if (!n->sampled && n->la.samples == 0 && n->parent)
			return -EAGAIN;
		*v = (double)n->la.avenrun[k - V_LOAD1] / (double)PCON_FIXED_1;
		return 0;
	}
	char *s = NULL;
	if (pcon_knob_get(n->c, knobs[k], &s) < 0)
		return -ENXIO;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	int r = errno || end == s || *end ? -EINVAL : 0;
	free(s);
	if (r < 0)
		return r;
	*v = k == V_CPU ? (double)x / 1e9 : (double)x;
	return 0;
}

static const struct family {
	const char *name, *type, *help;
	enum value_kind kind;
	const char *suffix; /* counters' samples end in _total */
} families[] = {
	{ "pcon_load1", "gauge", "Load average over 1 minute (running + uninterruptible threads of the container and its descendants), as /proc/loadavg computes it.", V_LOAD1, "" },
	{ "pcon_load5", "gauge", "Load average over 5 minutes.", V_LOAD5, "" },
	{ "pcon_load15", "gauge", "Load average over 15 minutes.", V_LOAD15, "" },
	{ "pcon_cpu_usage_seconds", "counter", "CPU time used by the container's tasks.", V_CPU, "_total" },
	{ "pcon_memory_current_bytes", "gauge", "Memory used by the container.", V_MEM, "" },
	{ "pcon_tasks_current", "gauge", "Tasks in the container (the pids controller's count).", V_TASKS, "" },
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))
enum { PART_STATES = N_FAMILIES, PART_PRESSURE, PART_DAEMON }; /* parts after the families */

/* One family's sample line for n, if it has a value. */
static int family_node(struct buf *b, const struct family *f, const struct tree *tr,
		       const struct node *n)
{
	double v;
	if (value_of(n, f->kind, &v) < 0)
		return 0;
	int r = buf_printf(b, "%s%s", f->name, f->suffix);
	if (r == 0)
		r = put_labels(b, tr, n);
	return r == 0 ? buf_printf(b, " %.17g\n", v) : r;
}

static const char *const state_names[] = { "running", "sleeping", "uninterruptible", "io_wait",
					   "stopped", "idle", "other" };

static int state_value(const struct pcon_taskstats *s, size_t i, uint64_t *v)
{
	const uint64_t vals[] = { s->running, s->sleeping, s->uninterruptible, s->io_wait,
				  s->stopped, s->idle, s->other };
	if ((i == 3 && (s->unknown & PCON_TASKSTATS_IO_WAIT)) ||
	    (i == 5 && (s->unknown & PCON_TASKSTATS_IDLE)))
		return -ENODATA;
	*v = vals[i];
	return 0;
}

/* n's lines of pcon_threads, one per state it has a count for. */
static int states_node(struct buf *b, const struct tree *tr, const struct node *n)
{
	int r = 0;
	if (!n->sampled)
		return 0;
	for (size_t s = 0; r == 0 && s < sizeof(state_names) / sizeof(state_names[0]); s++) {
		uint64_t v;
		if (state_value(&n->sum, s, &v) < 0)
			continue;
		r = buf_put(b, "pcon_threads", 12);
		if (r == 0)
			r = put_labels(b, tr, n);
		if (r == 0) {
			b->len--; /* reopen the label set */
			r = buf_printf(b, ",state=\"%s\"} %llu\n", state_names[s], (unsigned long long)v);
		}
	}
	return r;
}

/* One stall counter per resource and kind the kernel gives. */
static int put_pressure(struct buf *b, const char *name, const struct tree *tr, const struct node *n,
			const struct pcon_pressure *p)
{
	int r = 0;
	for (int res = 0; r == 0 && res < PCON_PSI_MAX; res++)
		for (int k = 0; r == 0 && k < PCON_PSI_KIND_MAX; k++) {
			if (!p->have[res][k])
				continue;
			r = buf_printf(b, "%s", name);
			if (r == 0 && tr) {
				r = put_labels(b, tr, n);
				b->len -= r == 0; /* reopen the label set */
				if (r == 0)
					r = buf_put(b, ",", 1);
			} else if (r == 0) {
				r = buf_put(b, "{", 1);
			}
			if (r == 0)
				r = buf_printf(b, "resource=\"%s\",kind=\"%s\"} %.6f\n",
					       pcon_psi_resource_to_string((enum pcon_psi_resource)res),
					       pcon_psi_kind_to_string((enum pcon_psi_kind)k),
					       (double)p->v[res][k].total_us / 1e6);
		}
	return r;
}

/* Pressure stall time of a v2 container: counters of seconds, the Prometheus
 * way (the averages are rate() of them). No PSI, no samples (never zeros). */
static int pressure_node(struct buf *b, const struct tree *tr, const struct node *n)
{
	struct pcon_pressure p;
	if (tr->h->version != 2 || pcon_pressure_read(n->c, &p) < 0)
		return 0;
	return put_pressure(b, "pcon_pressure_stall_seconds_total", tr, n, &p);
}

/* The machine's, from /proc/pressure. */
static int render_machine_pressure(struct pcond *d, struct buf *b)
{
	struct pcon_pressure m;
	int r = buf_printf(b, "# HELP pcon_machine_pressure_stall_seconds The same for the whole machine "
			      "(/proc/pressure).\n# TYPE pcon_machine_pressure_stall_seconds counter\n");
	if (r == 0 && pcon_pressure_read_machine(d->p, &m) == 0)
		r = put_pressure(b, "pcon_machine_pressure_stall_seconds_total", NULL, NULL, &m);
	return r;
}

static int part_head(struct buf *b, size_t part)
{
	if (part == PART_PRESSURE)
		return buf_printf(b, "# HELP pcon_pressure_stall_seconds Time some (or, kind=full, all "
				     "non-idle) tasks of the container were stalled waiting for the "
				     "resource.\n# TYPE pcon_pressure_stall_seconds counter\n");
	if (part == PART_STATES)
		return buf_printf(b, "# HELP pcon_threads Threads of the container and its descendants "
				     "by state at the last sample (io_wait is a subset of "
				     "uninterruptible).\n# TYPE pcon_threads gauge\n");
	const struct family *f = &families[part];
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
}

static int render_daemon(struct pcond *d, struct buf *b)
{
	const struct tracker *t = &d->tr;
	return buf_printf(b,
			  "# HELP pcond_containers Containers tracked.\n# TYPE pcond_containers gauge\n"
			  "pcond_containers %zu\n"
			  "# HELP pcond_containers_untracked Containers over the tracking limit at the last sample.\n"
			  "# TYPE pcond_containers_untracked gauge\npcond_containers_untracked %zu\n"
			  "# HELP pcond_samples Load samples taken.\n# TYPE pcond_samples counter\n"
			  "pcond_samples_total %llu\n"
			  "# HELP pcond_samples_skipped Samples that fell due while pcond could not take them (applied late, together).\n"
			  "# TYPE pcond_samples_skipped counter\npcond_samples_skipped_total %llu\n"
			  "# HELP pcond_rounds_failed Sample rounds in which a container could not be listed or read.\n"
			  "# TYPE pcond_rounds_failed counter\npcond_rounds_failed_total %llu\n"
			  "# HELP pcond_sample_cpu_seconds CPU time of the last sample.\n"
			  "# TYPE pcond_sample_cpu_seconds gauge\npcond_sample_cpu_seconds %.6f\n"
			  "# HELP pcond_connections_refused Connections refused over a limit.\n"
			  "# TYPE pcond_connections_refused counter\npcond_connections_refused_total %llu\n"
			  "# HELP pcond_descriptors_exhausted Times pcond stopped accepting for want of a file descriptor.\n"
			  "# TYPE pcond_descriptors_exhausted counter\npcond_descriptors_exhausted_total %llu\n",
			  t->tracked, t->untracked, (unsigned long long)t->rounds,
			  (unsigned long long)t->skipped, (unsigned long long)t->failed, t->last_cpu_s,
			  (unsigned long long)d->refused, (unsigned long long)d->fd_exhausted);
}

/*
 * Render up to budget more container lines into rs->b, resuming where the
 * last step stopped: family by family, tree by tree, node by node. 1 when
 * the body is complete, 0 if there is more, <0 on error. The tracker must
 * not sample between steps (nodes may go): see metrics_sampling.
 */
static int render_step(struct pcond *d, struct render *rs, size_t budget)
{
	int r = 0;
	while (r == 0 && budget > 0) {
		if (rs->part == PART_DAEMON) {
			r = render_machine_pressure(d, &rs->b);
			if (r == 0)
				r = render_daemon(d, &rs->b);
			return r < 0 ? r : buf_printf(&rs->b, "# EOF\n") < 0 ? -ENOBUFS : 1;
		}
		if (!rs->headed) {
			r = part_head(&rs->b, rs->part);
			rs->headed = true;
			rs->tree = 0;
			rs->n = NULL;
			continue;
		}
		if (rs->tree >= d->tr.n_trees) {
			rs->part++;
			rs->headed = false;
			continue;
		}
		const struct tree *tr = &d->tr.trees[rs->tree];
		if (!rs->n)
			rs->n = tr->root;
		r = rs->part == PART_STATES     ? states_node(&rs->b, tr, rs->n)
		    : rs->part == PART_PRESSURE ? pressure_node(&rs->b, tr, rs->n)
						: family_node(&rs->b, &families[rs->part], tr, rs->n);
		budget--;
		rs->n = node_next(rs->n, tr->root);
		if (!rs->n)
			rs->tree++;
	}
	return r;
}

int metrics_render(struct pcond *d, struct buf *b)
{
	struct render rs = { 0 };
	int r;
	while ((r = render_step(d, &rs, SIZE_MAX)) == 0)
		;
	*b = rs.b;
	return r < 0 ? r : 0;
}

void snapshot_put(struct pcond *d, struct snapshot *s)
{
	if (!s || --s->refs > 0)
		return;
	if (d->snap == s)
		d->snap = NULL;
	d->snap_bytes -= s->len;
	free(s);
}

/* The finished rendering as the current snapshot (d->snap, one reference). */
static struct snapshot *snapshot_new(struct pcond *d, const struct buf *b, uint64_t gen)
{
	struct snapshot *s = malloc(sizeof(*s) + b->len);
	if (!s)
		return NULL;
	memcpy(s->data, b->p, b->len);
	s->len = b->len;
	s->gen = gen;
	s->refs = 1;
	d->snap_bytes += s->len;
	d->renders++;
	snapshot_put(d, d->snap);
	d->snap = s;
	return s;
}

static void render_reset(struct render *rs)
{
	buf_free(&rs->b);
	*rs = (struct render){ 0 };
}

static void render_start(struct pcond *d)
{
	render_reset(&d->render);
	d->render.active = true;
	d->render.gen = d->tr.generation;
	d->render.t0 = now_ns();
}

static void http_reply(struct conn *c, const char *status, const char *type, const char *body,
		       size_t len, bool head);

/* Answer every scrape waiting for the rendering: with s, or an error. */
static void deliver(struct pcond *d, struct snapshot *s)
{
	for (struct conn *c = d->conns, *next; c && d->n_waiting; c = next) {
		next = c->next;
		if (!c->waiting)
			continue;
		c->waiting = false;
		d->n_waiting--;
		if (!s) {
			static const char msg[] = "metrics unavailable now, try again\n";
			http_reply(c, "503 Service Unavailable", "text/plain; charset=utf-8", msg,
				   sizeof(msg) - 1, false);
		} else {
			http_reply(c, "200 OK", "application/openmetrics-text; version=1.0.0; "
				   "charset=utf-8", NULL, s->len, true);
			if (!c->head_only) {
				s->refs++;
				c->body = s; /* sent after the head, by reference */
				c->body_off = 0;
			}
		}
		(void)conn_flush(d, c); /* may close c */
	}
}

void metrics_pass(struct pcond *d)
{
	if (!d->render.active)
		return;
	int r = render_step(d, &d->render, METRICS_NODES_PER_PASS);
	if (r == 0)
		return;
	struct snapshot *s = r > 0 ? snapshot_new(d, &d->render.b, d->render.gen) : NULL;
	if (s)
		d->render_ns = now_ns() - d->render.t0;
	render_reset(&d->render);
	deliver(d, s);
}

void metrics_sampling(struct pcond *d, bool done)
{
	if (!done)
		render_reset(&d->render); /* its nodes may go: start over after */
	else if (d->n_waiting)
		render_start(d);
}

static void http_reply(struct conn *c, const char *status, const char *type, const char *body,
		       size_t len, bool head)
{
	(void)buf_printf(&c->out, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
				  "Connection: close\r\n\r\n", status, type, len);
	if (!head)
		(void)buf_put(&c->out, body, len);
}

void http_request(struct pcond *d, struct conn *c, const char *head, size_t len)
{
	static const char text[] = "text/plain; charset=utf-8";
	if (!head) {
		static const char msg[] = "request header too large\n";
		return http_reply(c, "431 Request Header Fields Too Large", text, msg, sizeof(msg) - 1, false);
	}
	const char *eol = memchr(head, '\n', len);
	size_t n = eol ? (size_t)(eol - head) : len;
	char line[512];
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, head, n);
	line[n] = '\0';
	char method[16], target[400];
	if (sscanf(line, "%15s %399s", method, target) != 2) {
		static const char msg[] = "bad request\n";
		return http_reply(c, "400 Bad Request", text, msg, sizeof(msg) - 1, false);
	}
	bool is_head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !is_head) {
		static const char msg[] = "only GET and HEAD\n";
		return http_reply(c, "405 Method Not Allowed", text, msg, sizeof(msg) - 1, false);
	}
	target[strcspn(target, "?")] = '\0';
	if (strcmp(target, "/") == 0) {
		static const char msg[] = "pcond: per-container load averages and task states at /metrics\n";
		return http_reply(c, "200 OK", text, msg, sizeof(msg) - 1, is_head);
	}
	if (strcmp(target, "/metrics") != 0) {
		static const char msg[] = "not found; try /metrics\n";
		return http_reply(c, "404 Not Found", text, msg, sizeof(msg) - 1, false);
	}
	c->head_only = is_head;
	c->waiting = true; /* answered by deliver() */
	d->n_waiting++;
	if (d->snap && d->snap->gen == d->tr.generation)
		deliver(d, d->snap); /* this sample's body is rendered already */
	else if (d->snap_bytes > METRICS_HELD_MAX)
		deliver(d, NULL); /* slow readers hold too much already */
	else if (!d->render.active)
		render_start(d);
}
