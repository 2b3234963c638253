/* pcon top's samples: one row per container below the root, with what the
 * kernel counts for it (task states, CPU time, memory, I/O bytes, pressure)
 * and pcond's load averages. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcond-client.h"
#include "top.h"
#include "pcon/pressure.h"

static int cmp_load(const void *a, const void *b)
{
	return strcmp(((const struct top_load *)a)->path, ((const struct top_load *)b)->path);
}

void top_loads_free(struct top *t)
{
	for (size_t i = 0; i < t->n_loads; i++)
		free(t->loads[i].path);
	free(t->loads);
	t->loads = NULL;
	t->n_loads = 0;
}

static const char *next_line(const char *l)
{
	const char *nl = strchr(l, '\n');
	return nl ? nl + 1 : l + strlen(l);
}

/* Ask pcond for the load averages of every container under the root; with no
 * pcond (or an error) there are none and the columns show '-'. */
static void fetch_loads(struct top *t)
{
	top_loads_free(t);
	int fd = pcond_connect(pcond_socket(t->c));
	if (fd < 0)
		return;
	char *spec = NULL, req[PROTO_LINE_MAX], *reply = NULL;
	if (asprintf(&spec, "%s:%s", t->tree->name, t->root) > 0 &&
	    proto_request_format(PROTO_LOADAVG, true, spec, 0, req, sizeof(req)) > 0 &&
	    pcond_ask(fd, req, &reply) == 0) {
		size_t n = 0;
		for (const char *l = reply; *l; l = next_line(l))
			n += strncmp(l, "container ", 10) == 0;
		t->loads = calloc(n + 1, sizeof(*t->loads));
		for (const char *l = reply; t->loads && *l; l = next_line(l)) {
			char path[4096], v[3][32];
			if (strncmp(l, "container ", 10) || !proto_field(l, "path", path, sizeof(path)) ||
			    !proto_field(l, "load1", v[0], 32) || !proto_field(l, "load5", v[1], 32) ||
			    !proto_field(l, "load15", v[2], 32))
				continue;
			struct top_load *x = &t->loads[t->n_loads];
			if (!(x->path = strdup(path)))
				break;
			for (int i = 0; i < 3; i++)
				x->v[i] = strtod(v[i], NULL);
			t->n_loads++;
		}
		if (t->loads)
			qsort(t->loads, t->n_loads, sizeof(*t->loads), cmp_load);
	}
	free(spec);
	free(reply);
	close(fd);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void top_sample_free(struct top_sample *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	*s = (struct top_sample){ 0 };
}

/* A statistics file of an open container (not a knob: no translation). */
static bool read_at(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* The same container in hierarchy h (where another controller counts). */
static struct pcon_container *same_path(const struct pcon_hier *h, const struct pcon_container *c)
{
	struct pcon_container *o = NULL;
	if (!h || h == c->hier || pcon_container_open(h, c->path, &o) < 0)
		return NULL;
	return o;
}

/* CPU time: v2 cpu.stat has usage_usec in every cgroup (no cpu controller
 * needed); v1 cpuacct.usage where cpuacct is co-mounted, else in the
 * cpuacct hierarchy at the same path. */
static bool cpu_usage(const struct top *t, const struct pcon_container *c, uint64_t *ret_ns)
{
	char buf[4096];
	if (c->hier->version == 2) {
		const char *u = read_at(c->fd, "cpu.stat", buf, sizeof(buf)) ? strstr(buf, "usage_usec ") : NULL;
		unsigned long long us;
		if (!u || sscanf(u, "usage_usec %llu", &us) != 1)
			return false;
		*ret_ns = us * 1000;
		return true;
	}
	struct pcon_container *o = pcon_hier_has(c->hier, "cpuacct") ? NULL : same_path(t->cpuacct, c);
	const struct pcon_container *a = pcon_hier_has(c->hier, "cpuacct") ? c : o;
	unsigned long long ns;
	bool ok = a && read_at(a->fd, "cpuacct.usage", buf, sizeof(buf)) && sscanf(buf, "%llu", &ns) == 1;
	pcon_container_free(o);
	if (ok)
		*ret_ns = ns;
	return ok;
}

/* Bytes read and written: v2 io.stat (rbytes=, wbytes= per device; always
 * the subtree's), else v1 blkio.throttle.io_service_bytes (_recursive: the
 * subtree's). On Linux 6.9 and later v1 counts nothing until a throttle
 * limit has been set on the device once. */
static bool io_bytes(const struct top *t, const struct pcon_container *c, uint64_t *rd, uint64_t *wr)
{
	char buf[16384];
	*rd = *wr = 0;
	if (c->hier->version == 2 && read_at(c->fd, "io.stat", buf, sizeof(buf))) {
		for (const char *p = buf; (p = strpbrk(p, "rw")); p++) {
			unsigned long long v;
			if (sscanf(p, "rbytes=%llu", &v) == 1 && (p == buf || p[-1] == ' '))
				*rd += v;
			else if (sscanf(p, "wbytes=%llu", &v) == 1 && (p == buf || p[-1] == ' '))
				*wr += v;
		}
		return true;
	}
	struct pcon_container *o = pcon_hier_has(c->hier, "blkio") ? NULL : same_path(t->blkio, c);
	const struct pcon_container *b = pcon_hier_has(c->hier, "blkio") ? c : o;
	bool ok = b && read_at(b->fd, t->recursive ? "blkio.throttle.io_service_bytes_recursive"
						   : "blkio.throttle.io_service_bytes", buf, sizeof(buf));
	pcon_container_free(o);
	for (const char *l = buf; ok && *l; l = next_line(l)) {
		char dev[64], op[16];
		unsigned long long v;
		if (sscanf(l, "%63s %15s %llu", dev, op, &v) != 3)
			continue;
		if (!strcmp(op, "Read"))
			*rd += v;
		else if (!strcmp(op, "Write"))
			*wr += v;
	}
	return ok;
}

/* A knob of the container at path in hierarchy h, as a number. */
static bool knob_u64(const struct pcon_hier *h, const char *path, const char *knob, uint64_t *ret)
{
	struct pcon_container *c;
	if (!h || pcon_container_open(h, path, &c) < 0)
		return false;
	char *s = NULL;
	unsigned long long v;
	bool ok = pcon_knob_get(c, knob, &s) == 0 && s && sscanf(s, "%llu", &v) == 1;
	free(s);
	pcon_container_free(c);
	if (ok)
		*ret = v;
	return ok;
}

/* Processes in c (and below it, recursive). -errno if none can be read. */
static long count_procs(const struct pcon_container *c, bool recursive)
{
	pid_t *pids = NULL;
	int n = pcon_container_tasks(c, false, &pids);
	free(pids);
	if (n < 0)
		return n;
	long sum = n;
	char **kids = NULL;
	if (!recursive || pcon_container_children(c, &kids) < 0)
		return sum;
	for (int i = 0; kids[i]; i++) {
		struct pcon_container *k;
		if (pcon_container_open_child(c, kids[i], &k) < 0)
			continue;
		long m = count_procs(k, true);
		sum += m > 0 ? m : 0;
		pcon_container_free(k);
	}
	pcon_strv_free(kids);
	return sum;
}

static void set(struct top_row *r, int col, double v)
{
	r->v[col] = v;
	r->known[col] = true;
}

static void fill_counts(struct top *t, const struct pcon_tsnap *snap, const struct pcon_container *c,
			struct top_row *r)
{
	struct pcon_taskstats ts;
	if (snap && pcon_tsnap_get(snap, c->id, t->recursive ? PCON_TASKSTATE_RECURSIVE : 0, &ts) == 0) {
		set(r, TC_TASKS, (double)ts.total);
		set(r, TC_R, (double)ts.running);
		set(r, TC_S, (double)ts.sleeping);
		set(r, TC_D, (double)ts.uninterruptible);
		set(r, TC_T, (double)ts.stopped);
		if (!(ts.unknown & PCON_TASKSTATS_IO_WAIT))
			set(r, TC_IO, (double)ts.io_wait);
	}
	if (t->processes) {
		r->known[TC_TASKS] = false;
		long n = count_procs(c, t->recursive);
		if (n >= 0)
			set(r, TC_TASKS, (double)n);
	}
}

static void fill_row(struct top *t, const struct pcon_tsnap *snap, const struct pcon_container *c,
		     struct top_row *r)
{
	fill_counts(t, snap, c, r);
	r->have_usage = cpu_usage(t, c, &r->usage_ns);
	r->have_io = io_bytes(t, c, &r->rbytes, &r->wbytes);
	uint64_t mem;
	if (knob_u64(t->memory, c->path, "memory.current", &mem))
		set(r, TC_MEMORY, (double)mem);
	struct top_load key = { .path = c->path };
	const struct top_load *x = t->n_loads ? bsearch(&key, t->loads, t->n_loads, sizeof(key), cmp_load) : NULL;
	for (int i = 0; x && i < 3; i++)
		set(r, TC_LOAD1 + i, x->v[i]);
	static const int psi[][3] = {
		{ TC_CPU_SOME, PCON_PSI_CPU, PCON_PSI_SOME }, { TC_MEM_SOME, PCON_PSI_MEMORY, PCON_PSI_SOME },
		{ TC_MEM_FULL, PCON_PSI_MEMORY, PCON_PSI_FULL }, { TC_IO_SOME, PCON_PSI_IO, PCON_PSI_SOME },
	};
	struct pcon_pressure p;
	if (pcon_pressure_read(c, &p) == 0)
		for (size_t i = 0; i < sizeof(psi) / sizeof(psi[0]); i++)
			if (p.have[psi[i][1]][psi[i][2]])
				set(r, psi[i][0], p.v[psi[i][1]][psi[i][2]].avg10);
}

static struct top_row *new_row(struct top_sample *s, const char *parent, const char *name, int depth)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct top_row *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	struct top_row *r = &s->v[s->n];
	*r = (struct top_row){ .depth = depth };
	int n = name ? asprintf(&r->path, "%s/%s", strcmp(parent, "/") ? parent : "", name)
		     : ((r->path = strdup(parent)) ? 0 : -1);
	if (n < 0)
		return NULL;
	s->n++;
	return r;
}

/* Rows for c and its subtree, down to t->depth; counts from one snapshot. */
static int walk(struct top *t, const struct pcon_tsnap *snap, const struct pcon_container *c,
		int depth, struct top_sample *s)
{
	struct top_row *r = new_row(s, c->path, NULL, depth);
	if (!r)
		return -ENOMEM;
	fill_row(t, snap, c, r);
	if (depth >= t->depth)
		return 0;
	char **kids = NULL;
	int n = pcon_container_children(c, &kids), e = 0;
	for (int i = 0; i < n && e == 0; i++) {
		struct pcon_container *k;
		int o = pcon_container_open_child(c, kids[i], &k);
		if (o == 0) {
			e = walk(t, snap, k, depth + 1, s);
			pcon_container_free(k);
		} else if (o != -ENOENT && !new_row(s, c->path, kids[i], depth + 1)) {
			e = -ENOMEM; /* exists but cannot be opened (a mount over it): a row of '-' */
		}
	}
	pcon_strv_free(kids);
	return e;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct top_row *)a)->path, ((const struct top_row *)b)->path);
}

/* Rates against the last sample: CPU %, bytes read and written a second. */
static void rates(struct top *t)
{
	if (t->prev.n)
		qsort(t->prev.v, t->prev.n, sizeof(struct top_row), cmp_path);
	double dt = (double)(t->cur.when_ns - t->prev.when_ns) / 1e9;
	for (size_t i = 0; i < t->cur.n && dt > 0; i++) {
		struct top_row *r = &t->cur.v[i];
		const struct top_row *o = t->prev.n ? bsearch(r, t->prev.v, t->prev.n, sizeof(*r), cmp_path) : NULL;
		if (!o)
			continue;
		if (r->have_usage && o->have_usage && r->usage_ns >= o->usage_ns)
			set(r, TC_CPU, (double)(r->usage_ns - o->usage_ns) / 1e9 / dt * 100.0);
		if (r->have_io && o->have_io && r->rbytes >= o->rbytes && r->wbytes >= o->wbytes) {
			set(r, TC_INPUT, (double)(r->rbytes - o->rbytes) / dt);
			set(r, TC_OUTPUT, (double)(r->wbytes - o->wbytes) / dt);
		}
	}
}

int top_take_sample(struct top *t)
{
	top_sample_free(&t->prev);
	t->prev = t->cur;
	t->cur = (struct top_sample){ .when_ns = mono_ns() };
	struct pcon_container *root;
	int r = pcon_container_open(t->tree, t->root, &root);
	if (r < 0)
		return r;
	fetch_loads(t);
	struct pcon_tsnap *snap = NULL;
	(void)pcon_tsnap_take(t->c->p, root, t->backend, &snap); /* none: counts show as "-" */
	r = walk(t, snap, root, 0, &t->cur);
	pcon_tsnap_free(snap);
	pcon_container_free(root);
	if (r == 0)
		rates(t);
	return r;
}
