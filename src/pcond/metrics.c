/*
 * pcond's /metrics endpoint: a minimal HTTP/1.0 responder (GET and HEAD of
 * /metrics, one request per connection) serving the OpenMetrics text format.
 * Every per-container value covers the container and its descendants, as the
 * kernel's own memory.current, pids.current and cpuacct.usage do.
 *
 * The body is rendered once per sample, at the first scrape after it, and
 * shared by reference: fifty parallel scrapes cost one rendering, and each
 * slow reader holds a pointer into it, not a copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcond.h"
#include "pcon/pressure.h"

/* A label value with \\, \" and \n escaped. */
static int put_label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		int r = *s == '\\' ? buf_put(b, "\\\\", 2)
			: *s == '"' ? buf_put(b, "\\\"", 2)
			: *s == '\n' ? buf_put(b, "\\n", 2)
			: buf_put(b, s, 1);
		if (r < 0)
			return r;
	}
	return 0;
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

static int render_family(struct pcond *d, struct buf *b, const struct family *f)
{
	int r = buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
	for (size_t i = 0; r == 0 && i < d->tr.n_trees; i++) {
		struct tree *tr = &d->tr.trees[i];
		for (struct node *n = tr->root; r == 0 && n; n = node_next(n, tr->root)) {
			double v;
			if (value_of(n, f->kind, &v) < 0)
				continue;
			r = buf_printf(b, "%s%s", f->name, f->suffix);
			if (r == 0)
				r = put_labels(b, tr, n);
			if (r == 0)
				r = buf_printf(b, " %.17g\n", v);
		}
	}
	return r;
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

static int render_states(struct pcond *d, struct buf *b)
{
	int r = buf_printf(b, "# HELP pcon_threads Threads of the container and its descendants by "
			      "state at the last sample (io_wait is a subset of uninterruptible).\n"
			      "# TYPE pcon_threads gauge\n");
	for (size_t i = 0; r == 0 && i < d->tr.n_trees; i++) {
		struct tree *tr = &d->tr.trees[i];
		for (struct node *n = tr->root; r == 0 && n; n = node_next(n, tr->root)) {
			if (!n->sampled)
				continue;
			for (size_t s = 0; r == 0 && s < sizeof(state_names) / sizeof(state_names[0]); s++) {
				uint64_t v;
				if (state_value(&n->sum, s, &v) < 0)
					continue;
				r = buf_put(b, "pcon_threads", 12);
				if (r == 0)
					r = put_labels(b, tr, n);
				if (r == 0) {
					b->len--; /* reopen the label set */
					r = buf_printf(b, ",state=\"%s\"} %llu\n", state_names[s],
						       (unsigned long long)v);
				}
			}
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

/* Pressure stall time: every v2 container's, and the machine's. Counters of
 * seconds, the Prometheus way: the averages are rate() of them. A kernel
 * without PSI gives no samples (never zeros). */
static int render_pressure(struct pcond *d, struct buf *b)
{
	int r = buf_printf(b, "# HELP pcon_pressure_stall_seconds Time some (or, kind=full, all non-idle) "
			      "tasks of the container were stalled waiting for the resource.\n"
			      "# TYPE pcon_pressure_stall_seconds counter\n");
	for (size_t i = 0; r == 0 && i < d->tr.n_trees; i++) {
		struct tree *tr = &d->tr.trees[i];
		if (tr->h->version != 2)
			continue;
		for (struct node *n = tr->root; r == 0 && n; n = node_next(n, tr->root)) {
			struct pcon_pressure p;
			if (pcon_pressure_read(n->c, &p) == 0)
				r = put_pressure(b, "pcon_pressure_stall_seconds_total", tr, n, &p);
		}
	}
	struct pcon_pressure m;
	if (r == 0)
		r = buf_printf(b, "# HELP pcon_machine_pressure_stall_seconds The same for the whole machine "
				  "(/proc/pressure).\n# TYPE pcon_machine_pressure_stall_seconds counter\n");
	if (r == 0 && pcon_pressure_read_machine(d->p, &m) == 0)
		r = put_pressure(b, "pcon_machine_pressure_stall_seconds_total", NULL, NULL, &m);
	return r;
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

int metrics_render(struct pcond *d, struct buf *b)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof(families) / sizeof(families[0]); i++)
		r = render_family(d, b, &families[i]);
	if (r == 0)
		r = render_states(d, b);
	if (r == 0)
		r = render_pressure(d, b);
	if (r == 0)
		r = render_daemon(d, b);
	return r == 0 ? buf_printf(b, "# EOF\n") : r;
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

struct snapshot *metrics_snapshot(struct pcond *d)
{
	if (d->snap && d->snap->gen == d->tr.generation) {
		d->snap->refs++;
		return d->snap;
	}
	if (d->snap_bytes > METRICS_HELD_MAX)
		return NULL; /* slow readers hold too much already */
	struct buf b = { 0 };
	struct snapshot *s = NULL;
	uint64_t t0 = now_ns();
	if (metrics_render(d, &b) == 0 && (s = malloc(sizeof(*s) + b.len))) {
		memcpy(s->data, b.p, b.len);
		s->len = b.len;
		s->gen = d->tr.generation;
		s->refs = 2; /* d->snap's, and the caller's */
		d->snap_bytes += s->len;
		d->renders++;
		d->render_ns = now_ns() - t0;
		snapshot_put(d, d->snap);
		d->snap = s;
	}
	buf_free(&b);
	return s;
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
	struct snapshot *body = metrics_snapshot(d);
	if (!body) {
		static const char msg[] = "metrics unavailable now, try again\n";
		return http_reply(c, "503 Service Unavailable", text, msg, sizeof(msg) - 1, false);
	}
	http_reply(c, "200 OK", "application/openmetrics-text; version=1.0.0; charset=utf-8",
		   NULL, body->len, true);
	if (is_head) {
		snapshot_put(d, body);
		return;
	}
	c->body = body; /* sent after the head, by reference */
	c->body_off = 0;
}
