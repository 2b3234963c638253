/* pcon stats: task-state counts of containers (running, sleeping, blocked...). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pcond-taskstats.h"
#include "repeat.h"
#include "table.h"
#include "pcon/pressure.h"
#include "pcon/taskstate.h"

struct stats {
	struct cli *c;
	enum pcon_backend backend;
	unsigned flags;
	bool tree, verbose, table; /* table: print rows (-o, -J, --raw, -n, --tree) */
	bool direct;       /* --direct: count here, never ask pcond */
	int unreadable;    /* --tree rows of containers that could not be opened */
	int depth;
	long sample;       /* how many were printed */
	struct tout out;
};

/* One row: a container's counts (--tree: of its whole subtree). */
struct row {
	char *name;        /* HIER:PATH, escaped for printing */
	const struct pcon_hier *hier;
	char *path;        /* raw */
	int depth;
	long parent;       /* index of the parent's row, -1 at the top */
	uint64_t id;
	struct pcon_taskstate_info info;
	bool pcond;        /* pcond answered, from its walk */
	struct pcon_taskstats sum;
	int unreadable;    /* not opened: why (its counts are in its parent's) */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

enum {
	COL_CONTAINER, COL_HIERARCHY, COL_PATH, COL_ID, COL_DEPTH, COL_TOTAL, COL_RUNNING,
	COL_SLEEPING, COL_UNINT, COL_BLOCKED, COL_STOPPED, COL_IDLE, COL_OTHER, COL_CONTAINERS,
	COL_RECURSIVE, COL_BACKEND, COL_WALK, COL_SOURCE, COL_FALLBACK, COL_ERROR, COL_TIME, COL_CPU_SOME,
	COL_MEM_SOME, COL_MEM_FULL, COL_IO_SOME, COL_IO_FULL,
};

static const struct tcol cols[] = {
	[COL_CONTAINER] = { "CONTAINER", 0.3, 0, SCOLS_JSON_STRING, "HIER:PATH, escaped as pcon prints names" },
	[COL_HIERARCHY] = { "HIERARCHY", 0.1, 0, SCOLS_JSON_STRING, "the hierarchy's name" },
	[COL_PATH] = { "PATH", 0.2, 0, SCOLS_JSON_STRING, "the container's path in its hierarchy" },
	[COL_ID] = { "ID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "cgroup id (inode number of its directory)" },
	[COL_DEPTH] = { "DEPTH", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "--tree: levels below the container named" },
	[COL_TOTAL] = { "TOTAL", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads counted (the sum of the six states)" },
	[COL_RUNNING] = { "RUNNING", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads running or runnable (R)" },
	[COL_SLEEPING] = { "SLEEPING", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads in an interruptible sleep (S)" },
	[COL_UNINT] = { "UNINTERRUPTIBLE", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads in an uninterruptible sleep (D), blocked included" },
	[COL_BLOCKED] = { "BLOCKED", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads waiting on I/O (a part of D); '-' (null) where the backend cannot see it" },
	[COL_STOPPED] = { "STOPPED", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads stopped or traced (T, t)" },
	[COL_IDLE] = { "IDLE", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "idle kernel threads (I); '-' (null) where unknown" },
	[COL_OTHER] = { "OTHER", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads in none of the states above (frozen, or not counted by the kernel backend)" },
	[COL_CONTAINERS] = { "CONTAINERS", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "containers summed (1, more with -r or --tree)" },
	[COL_RECURSIVE] = { "RECURSIVE", 1, 0, SCOLS_JSON_BOOLEAN, "whether the counts include the descendants" },
	[COL_BACKEND] = { "BACKEND", 5, 0, SCOLS_JSON_STRING, "the backend that answered: bpf, proc or kernel" },
	[COL_WALK] = { "WALK", 5, 0, SCOLS_JSON_STRING, "bpf's walk: css_set, css_task or task; '-' (null) for other backends" },
	[COL_SOURCE] = { "SOURCE", 5, 0, SCOLS_JSON_STRING, "who walked: pcon, or a running pcond (see --direct)" },
	[COL_FALLBACK] = { "FALLBACK", 0.2, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "why auto did not use bpf; '-' (null) if it did" },
	[COL_ERROR] = { "ERROR", 0.2, 0, SCOLS_JSON_STRING, "why a container could not be read (its counts are in its parent's)" },
	[COL_TIME] = { "TIME", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "when the sample was taken (seconds since the epoch)" },
	[COL_CPU_SOME] = { "CPU-SOME", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s some tasks waited for CPU (v2)" },
	[COL_MEM_SOME] = { "MEM-SOME", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s some tasks waited for memory (v2)" },
	[COL_MEM_FULL] = { "MEM-FULL", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s all tasks waited for memory (v2)" },
	[COL_IO_SOME] = { "IO-SOME", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s some tasks waited for I/O (v2)" },
	[COL_IO_FULL] = { "IO-FULL", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s all tasks waited for I/O (v2)" },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

#define DFLT_TEXT "CONTAINER,TOTAL,RUNNING,SLEEPING,UNINTERRUPTIBLE,BLOCKED,STOPPED,IDLE,OTHER"
#define DFLT_JSON "CONTAINER,HIERARCHY,PATH,ID,DEPTH,TOTAL,RUNNING,SLEEPING,UNINTERRUPTIBLE," \
		  "BLOCKED,STOPPED,IDLE,OTHER,CONTAINERS,BACKEND,WALK,SOURCE,FALLBACK,ERROR"

static void stats_help(void)
{
	printf("Usage: pcon stats [OPTIONS] [OUTPUT OPTIONS] [HIER:PATH...]\n\n"
	       "Count the threads of each container by state. One container prints\n"
	       "  sleeping S, blocked B, running R, stopped T, uninterruptible D\n"
	       "then ', idle I' and ', other O' where those are not 0, so that the line\n"
	       "adds up (blocked = waiting on I/O, a subset of uninterruptible; '-'\n"
	       "where the backend cannot see it). Several containers: one such line\n"
	       "each, prefixed with the name. -o, -J, --raw or -n print a table (one\n"
	       "row per container) instead. Without HIER:PATH: every hierarchy's tree,\n"
	       "as --tree does.\n\n"
	       "  -r, --recursive      include descendant containers\n"
	       "  -t, --tree           a table drawn as a tree: one row per container below\n"
	       "                       each one named, with the counts of its whole subtree\n"
	       "      --depth=N        --tree: rows down to N levels below (default 3)\n"
	       "  -B, --backend=NAME   auto (bpf where it loads, else proc), kernel\n"
	       "                       (taskstats cgroupstats: v1 only, inexact), proc, bpf\n"
	       "  -v, --verbose        say on stderr which backend answered, how bpf\n"
	       "                       walked, and why auto fell back to proc\n"
	       "      --direct         walk here: do not ask a running pcond (auto and\n"
	       "                       bpf ask it first: it keeps its eBPF program loaded)\n"
	       "  -d, --delay=SECS     sample every SECS seconds (0 allowed; default 1\n"
	       "                       with -c); --interval is the same\n"
	       "  -c, --count=N        stop after N samples (default 1; unlimited with -d)\n"
	       TABLE_HELP
	       "  -h, --help           show this help\n\n"
	       "Table columns (default " DFLT_TEXT ";\n"
	       "with -J also HIERARCHY, PATH, ID, DEPTH, CONTAINERS, BACKEND, WALK, SOURCE,\n"
	       "FALLBACK, ERROR): see --list-columns. A count the backend cannot see is '-'\n"
	       "(null).\n"
	       "A container that cannot be opened is a row with ERROR set; pcon says so\n"
	       "on stderr and exits 1.\n");
}

/* Why the bpf backend could not answer, in words a user can act on. */
static const char *bpf_reason(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "loading eBPF needs root or CAP_BPF+CAP_PERFMON";
	case EOPNOTSUPP:
		return "the task-iterator walk (kernels without the css_task kfuncs of "
		       "Linux 6.7+) cannot see a named v1 hierarchy";
	case ENOSPC:
		return "the walk found more than 1048576 cgroups";
	case ELOOP:
		return "the task walk cannot follow cgroups nested more than 32 levels deep";
	default:
		return NULL;
	}
}

/* The error line for a failed read of container name. */
static int fail_read(const struct stats *s, const char *name, int err)
{
	switch (-err) {
	case EPROTONOSUPPORT:
		return cli_fail(name, "the kernel backend supports only cgroup v1 hierarchies");
	case ENOENT:
		return cli_fail(name, "container was removed");
	}
	if (s->backend == PCON_BACKEND_BPF) {
		const char *why = bpf_reason(err);
		if (why)
			return cli_fail(name, "bpf backend: %s", why);
		return cli_fail(name, "bpf backend: cannot run the eBPF walk: %s", strerror(-err));
	}
	return cli_fail(name, "cannot read task states: %s", strerror(-err));
}

/* -v: who answered for name, and why auto fell back. */
static void say_how(const struct stats *s, const char *name, const struct pcon_taskstate_info *i)
{
	if (!s->verbose)
		return;
	if (i->walk != PCON_WALK_NONE)
		fprintf(stderr, "pcon: %s: backend bpf, walk %s\n", name, pcon_walk_to_string(i->walk));
	else if (i->fallback < 0) {
		const char *why = bpf_reason(i->fallback);
		fprintf(stderr, "pcon: %s: backend %s: bpf could not answer: %s\n", name,
			pcon_backend_to_string(i->backend), why ? why : strerror(-i->fallback));
	} else
		fprintf(stderr, "pcon: %s: backend %s\n", name, pcon_backend_to_string(i->backend));
}

static double now_realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The seed's line: its five fields in its order, then what else there is
 * (idle, other) where not 0, so that the line adds up. */
static void seed_line(const char *prefix, const struct pcon_taskstats *t)
{
	if (prefix)
		printf("%s: ", prefix);
	printf("sleeping %llu, blocked ", (unsigned long long)t->sleeping);
	if (t->unknown & PCON_TASKSTATS_IO_WAIT)
		putchar('-');
	else
		printf("%llu", (unsigned long long)t->io_wait);
	printf(", running %llu, stopped %llu, uninterruptible %llu", (unsigned long long)t->running,
	       (unsigned long long)t->stopped, (unsigned long long)t->uninterruptible);
	if (t->idle && !(t->unknown & PCON_TASKSTATS_IDLE))
		printf(", idle %llu", (unsigned long long)t->idle);
	if (t->other)
		printf(", other %llu", (unsigned long long)t->other);
	putchar('\n');
}

static int rows_push(struct rows *rs, struct row **ret)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct row *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	*ret = &rs->v[rs->n++];
	**ret = (struct row){ 0 };
	return 0;
}

static void rows_free(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].name);
		free(rs->v[i].path);
	}
	free(rs->v);
	*rs = (struct rows){ 0 };
}

/* A row for a child that exists but cannot be opened (a mount covers it):
 * its counts are unknown here (they are in its parent's sum), and pcon
 * says why on stderr and exits 1. */
static int unreadable_row(struct stats *s, struct rows *rs, const struct pcon_container *ct,
			  const char *name, int depth, long parent, int err)
{
	struct row *row;
	char *path = NULL;
	if (rows_push(rs, &row) < 0 ||
	    asprintf(&path, "%s/%s", strcmp(ct->path, "/") ? ct->path : "", name) < 0)
		return -ENOMEM;
	row->depth = depth;
	row->parent = parent;
	row->hier = ct->hier;
	row->path = path;
	row->unreadable = err;
	if (!(row->name = strdup(cli_spec_name(ct->hier, path))))
		return -ENOMEM;
	cli_errno(row->name, err);
	s->unreadable++;
	return 0;
}

/* A row of ct with counts sum and how they were found. */
static int add_row(struct rows *rs, const struct pcon_container *ct, int depth, long parent,
		   const struct pcon_taskstats *sum, const struct pcon_taskstate_info *info)
{
	struct row *row;
	if (rows_push(rs, &row) < 0)
		return -ENOMEM;
	row->depth = depth;
	row->parent = parent;
	row->id = ct->id;
	row->sum = *sum;
	row->info = *info;
	row->hier = ct->hier;
	if (!(row->name = strdup(cli_name(ct))) || !(row->path = strdup(ct->path)))
		return -ENOMEM;
	return 0;
}

/*
 * Row for ct and (depth permitting) rows for its descendants, each with the
 * counts of its whole subtree from one snapshot. Children made since the
 * walk or removed meanwhile are left out. Returns 0 or -errno.
 */
static int tree_walk(struct stats *s, struct rows *rs, const struct pcon_tsnap *snap,
		     const struct pcon_container *ct, int depth, long parent)
{
	struct pcon_taskstats sum;
	struct pcon_taskstate_info info;
	int r = pcon_tsnap_get(snap, ct->id, PCON_TASKSTATE_RECURSIVE, &sum);
	if (r < 0)
		return r;
	pcon_tsnap_info(snap, &info);
	if (add_row(rs, ct, depth, parent, &sum, &info) < 0)
		return -ENOMEM;
	long me = (long)rs->n - 1;
	if (depth >= s->depth)
		return 0;
	char **kids = NULL;
	r = pcon_container_children(ct, &kids);
	if (r < 0)
		return depth > 0 && (r == -ENOENT || r == -ENODEV) ? 0 : r;
	r = 0;
	for (int i = 0; kids[i] && r >= 0; i++) {
		struct pcon_container *k;
		int e = pcon_container_open_child(ct, kids[i], &k);
		if (e < 0 && e != -ENOENT) /* there, but not to be opened: said, never dropped */
			r = unreadable_row(s, rs, ct, kids[i], depth + 1, me, e);
		if (e < 0)
			continue;
		size_t before = rs->n;
		r = tree_walk(s, rs, snap, k, depth + 1, me);
		pcon_container_free(k);
		if (r == -ENOENT) { /* removed meanwhile: drop what it left */
			while (rs->n > before) {
				rs->n--;
				free(rs->v[rs->n].name);
				free(rs->v[rs->n].path);
			}
			r = 0;
		}
	}
	pcon_strv_free(kids);
	return r;
}

/* The pressure cells of a row (read only when a pressure column is shown). */
static int set_pressure(struct table *t, struct libscols_line *ln, const struct row *w)
{
	static const int psi[][3] = {
		{ COL_CPU_SOME, PCON_PSI_CPU, PCON_PSI_SOME }, { COL_MEM_SOME, PCON_PSI_MEMORY, PCON_PSI_SOME },
		{ COL_MEM_FULL, PCON_PSI_MEMORY, PCON_PSI_FULL }, { COL_IO_SOME, PCON_PSI_IO, PCON_PSI_SOME },
		{ COL_IO_FULL, PCON_PSI_IO, PCON_PSI_FULL },
	};
	bool want = false;
	for (size_t i = 0; i < sizeof(psi) / sizeof(psi[0]); i++)
		want |= table_has(t, psi[i][0]);
	struct pcon_pressure p;
	struct pcon_container *ct = NULL;
	bool have = want && !w->unreadable && pcon_container_open(w->hier, w->path, &ct) == 0 &&
		    pcon_pressure_read(ct, &p) == 0;
	pcon_container_free(ct);
	int r = 0;
	for (size_t i = 0; i < sizeof(psi) / sizeof(psi[0]) && r == 0; i++) {
		if (have && p.have[psi[i][1]][psi[i][2]])
			r = table_setf(t, ln, psi[i][0], "%.2f", p.v[psi[i][1]][psi[i][2]].avg10);
		else
			r = table_set(t, ln, psi[i][0], NULL);
	}
	return r;
}

/* A count, or empty ('-', null) where the backend is blind to it. */
static int set_count(struct table *t, struct libscols_line *ln, int id, uint64_t v, bool unknown)
{
	return unknown ? table_set(t, ln, id, NULL) : table_set_u64(t, ln, id, v);
}

static int set_row(struct stats *s, struct table *t, struct libscols_line *ln, const struct row *w,
		   double now)
{
	const struct pcon_taskstats *c = &w->sum;
	bool un = w->unreadable != 0;
	int r = table_set(t, ln, COL_CONTAINER, w->name);
	r = r ?: table_set_name(t, ln, COL_HIERARCHY, w->hier->name);
	r = r ?: table_set_name(t, ln, COL_PATH, w->path);
	r = r ?: set_count(t, ln, COL_ID, w->id, un);
	r = r ?: table_set_u64(t, ln, COL_DEPTH, (uint64_t)w->depth);
	r = r ?: set_count(t, ln, COL_TOTAL, c->total, un);
	r = r ?: set_count(t, ln, COL_RUNNING, c->running, un);
	r = r ?: set_count(t, ln, COL_SLEEPING, c->sleeping, un);
	r = r ?: set_count(t, ln, COL_UNINT, c->uninterruptible, un);
	r = r ?: set_count(t, ln, COL_BLOCKED, c->io_wait, un || (c->unknown & PCON_TASKSTATS_IO_WAIT));
	r = r ?: set_count(t, ln, COL_STOPPED, c->stopped, un);
	r = r ?: set_count(t, ln, COL_IDLE, c->idle, un || (c->unknown & PCON_TASKSTATS_IDLE));
	r = r ?: set_count(t, ln, COL_OTHER, c->other, un);
	r = r ?: set_count(t, ln, COL_CONTAINERS, c->containers, un);
	r = r ?: table_set(t, ln, COL_RECURSIVE, s->tree || (s->flags & PCON_TASKSTATE_RECURSIVE) ? "yes" : "");
	r = r ?: table_set(t, ln, COL_BACKEND, un ? NULL : pcon_backend_to_string(w->info.backend));
	r = r ?: table_set(t, ln, COL_WALK, un || w->info.walk == PCON_WALK_NONE ? NULL
							 : pcon_walk_to_string(w->info.walk));
	r = r ?: table_set(t, ln, COL_SOURCE, un ? NULL : w->pcond ? "pcond" : "pcon");
	const char *why = NULL;
	if (!un && w->info.fallback < 0)
		why = bpf_reason(w->info.fallback) ?: strerror(-w->info.fallback);
	r = r ?: table_set(t, ln, COL_FALLBACK, why);
	r = r ?: table_set(t, ln, COL_ERROR, un ? cli_strerror(w->unreadable) : NULL);
	r = r ?: table_setf(t, ln, COL_TIME, "%.3f", now);
	r = r ?: set_pressure(t, ln, w);
	return r;
}

/* The rows as a table (a tree with --tree). 0, or the exit status. */
static int print_rows(struct stats *s, const struct rows *rs)
{
	/* an unreadable row says why in the text table too (unless -o chose) */
	bool why = s->unreadable && !s->out.output;
	const char *dflt = s->out.json ? DFLT_JSON : why ? DFLT_TEXT ",ERROR" : DFLT_TEXT;
	struct table t;
	int r = table_init(&t, "stats", "containers", cols, NCOLS, dflt, &s->out);
	if (r)
		return r;
	if (s->tree && table_has(&t, COL_CONTAINER)) {
		struct libscols_column *cl = scols_table_get_column(t.tb, (size_t)t.pos[COL_CONTAINER]);
		scols_column_set_flags(cl, scols_column_get_flags(cl) | SCOLS_FL_TREE);
	}
	struct libscols_line **lines = calloc(rs->n + 1, sizeof(*lines));
	double now = now_realtime();
	r = lines ? 0 : -ENOMEM;
	for (size_t i = 0; i < rs->n && r == 0; i++) {
		const struct row *w = &rs->v[i];
		lines[i] = table_row(&t, s->tree && w->parent >= 0 ? lines[w->parent] : NULL);
		r = lines[i] ? set_row(s, &t, lines[i], w, now) : -ENOMEM;
	}
	free(lines);
	if (r == 0 && s->sample++ > 0 && !s->out.json)
		putchar('\n'); /* samples apart */
	r = r < 0 ? cli_errno("stats", r) : table_print(&t);
	table_free(&t);
	return r;
}

/*
 * Ask a running pcond for ct's counts (recursive: and its subtree's): it
 * keeps its eBPF program loaded, so this costs a request, not a load. 0, or
 * a negative errno when pcon must walk itself (no pcond, --direct, another
 * backend asked for, a hierarchy it does not watch, an old answer...).
 */
static int ask_pcond(const struct stats *s, const struct pcon_container *ct, bool recursive,
		     struct pcond_answer *ret)
{
	*ret = (struct pcond_answer){ 0 };
	if (s->direct)
		return -EOPNOTSUPP;
	/* the name as pcon prints it: pcond reads it back the same way */
	int r = pcond_taskstats(s->c, cli_name(ct), recursive, s->backend, ret);
	if (r == 0 && (ret->rows[0].id != ct->id || (!recursive && ret->n != 1))) {
		pcond_answer_free(ret); /* another container of that name */
		r = -ESTALE;
	}
	if (r == 0 && s->verbose)
		fprintf(stderr, "pcon: %s: pcond answered from its walk of %.1f ms ago\n",
			cli_name(ct), (double)ret->age_us / 1000);
	return r;
}

/* The counts of one container from pcond's answer. */
static void pcond_counts(const struct stats *s, const struct pcond_answer *a,
			 struct pcon_taskstats *ret)
{
	if (s->flags & PCON_TASKSTATE_RECURSIVE) {
		*ret = a->rows[0].sum;
		ret->containers = a->n;
	} else {
		*ret = a->rows[0].own;
		ret->containers = 1;
	}
}

/* --tree rows of ct from pcond's answer (pre-order, parent ids): nothing
 * is loaded or listed here. Rows below --depth are left out, but count in
 * their ancestors' CONTAINERS as in a walk. */
static int tree_from_pcond(struct stats *s, struct rows *rs, const struct pcon_container *ct,
			   const struct pcond_answer *a)
{
	long *at = calloc(a->n, sizeof(*at));        /* the rows of the ancestors */
	uint64_t *ids = calloc(a->n, sizeof(*ids));  /* and their ids, by depth */
	int r = at && ids ? 0 : -ENOMEM;
	size_t first = rs->n, top = 0;
	for (size_t i = 0; i < a->n && r == 0; i++) {
		const struct pcond_row *w = &a->rows[i];
		while (top > 0 && ids[top - 1] != w->parent)
			top--;
		if (i > 0 && top == 0) {
			r = -EBADMSG;
			break;
		}
		for (size_t k = 0; k < top; k++)
			if (at[k] >= 0)
				rs->v[at[k]].sum.containers++;
		ids[top] = w->id;
		at[top] = -1;
		if ((int)top <= s->depth) {
			struct row *row;
			if (rows_push(rs, &row) < 0)
				r = -ENOMEM;
			else {
				*row = (struct row){ .depth = (int)top, .parent = top ? at[top - 1] : -1,
						     .id = w->id, .info = a->info, .pcond = true,
						     .sum = w->sum, .hier = ct->hier };
				row->sum.containers = 1;
				row->path = strdup(w->path);
				row->name = strdup(cli_spec_name(ct->hier, w->path));
				r = row->path && row->name ? 0 : -ENOMEM;
				at[top] = (long)(rs->n - 1);
			}
		}
		top++;
	}
	if (r < 0) /* leave no half tree */
		while (rs->n > first) {
			rs->n--;
			free(rs->v[rs->n].name);
			free(rs->v[rs->n].path);
		}
	free(at);
	free(ids);
	return r;
}

/* One sample of the containers named: the seed's line each, or a row each. */
static int sample_flat(struct stats *s, struct pcon_container **cts, int n)
{
	struct rows rs = { 0 };
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		struct pcon_taskstats t;
		struct pcon_taskstate_info info;
		struct pcond_answer a;
		bool pcond = ask_pcond(s, cts[i], s->flags & PCON_TASKSTATE_RECURSIVE, &a) == 0;
		int r = 0;
		if (pcond) {
			pcond_counts(s, &a, &t);
			info = a.info;
			pcond_answer_free(&a);
		} else
			r = pcon_taskstate_read(s->c->p, cts[i], s->backend, s->flags, &t, &info);
		if (r < 0) {
			rc = fail_read(s, cli_name(cts[i]), r);
			break;
		}
		say_how(s, cli_name(cts[i]), &info);
		if (!s->table)
			seed_line(n > 1 ? cli_name(cts[i]) : NULL, &t);
		else if (add_row(&rs, cts[i], 0, -1, &t, &info) < 0)
			rc = cli_errno("stats", -ENOMEM);
		else
			rs.v[rs.n - 1].pcond = pcond;
	}
	if (rc == 0 && s->table)
		rc = print_rows(s, &rs);
	rows_free(&rs);
	return rc;
}

static int sample_tree(struct stats *s, struct pcon_container **cts, int n)
{
	struct rows rs = { 0 };
	s->unreadable = 0;
	for (int i = 0; i < n; i++) {
		/* One walk per container named: every row below it comes from it. */
		struct pcond_answer a;
		if (ask_pcond(s, cts[i], true, &a) == 0) {
			say_how(s, cli_name(cts[i]), &a.info);
			int r = tree_from_pcond(s, &rs, cts[i], &a);
			pcond_answer_free(&a);
			if (r == 0)
				continue;
		}
		struct pcon_tsnap *snap;
		int r = pcon_tsnap_take(s->c->p, cts[i], s->backend, &snap);
		if (r == 0) {
			struct pcon_taskstate_info info;
			pcon_tsnap_info(snap, &info);
			say_how(s, cli_name(cts[i]), &info);
			r = tree_walk(s, &rs, snap, cts[i], 0, -1);
			pcon_tsnap_free(snap);
		}
		if (r < 0) {
			rows_free(&rs);
			return fail_read(s, cli_name(cts[i]), r);
		}
	}
	int rc = print_rows(s, &rs);
	rows_free(&rs);
	return rc ? rc : s->unreadable ? 1 : 0;
}

/* Open the root of every hierarchy (bare "pcon stats"), however many. */
static int open_roots(struct cli *c, struct pcon_container ***ret)
{
	size_t nh;
	const struct pcon_hier *h = pcon_hiers(c->p, &nh);
	struct pcon_container **cts = calloc(nh + 1, sizeof(*cts));
	if (!cts) {
		cli_fail("stats", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < nh; i++) {
		int r = pcon_container_open(&h[i], "/", &cts[i]);
		if (r < 0) {
			cli_close_all(cts, (int)i);
			free(cts);
			cli_errno(cli_spec_name(&h[i], "/"), r);
			return -1;
		}
	}
	*ret = cts;
	return (int)nh;
}

static int run(struct stats *s, struct pcon_container **cts, int n, double delay, long count)
{
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; count < 0 || i < count; i++) {
		if (i > 0)
			repeat_wait(&next, delay);
		int rc = s->tree ? sample_tree(s, cts, n) : sample_flat(s, cts, n);
		if (rc != 0)
			return rc;
		if (fflush(stdout) != 0)
			return cli_fail("stats", "write error: %s", strerror(errno));
	}
	return 0;
}

/* The options; 0, -1 after --help, or the exit status of a usage error. */
static int parse_args(struct stats *s, int argc, char **argv, double *delay, long *count)
{
	enum { OPT_DEPTH = 0x100, OPT_INTERVAL, OPT_DIRECT };
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "tree", no_argument, NULL, 't' },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "depth", required_argument, NULL, OPT_DEPTH },
		{ "backend", required_argument, NULL, 'B' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "delay", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "count", required_argument, NULL, 'c' },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool depth_given = false;
	int o, rc = 0;
	while (rc == 0 && (o = getopt_long(argc, argv, ":rtB:vd:c:h" TABLE_LETTERS, opts, NULL)) != -1) {
		switch (o) {
		case 'r': s->flags |= PCON_TASKSTATE_RECURSIVE; break;
		case 't': s->tree = true; break;
		case OPT_DIRECT: s->direct = true; break;
		case 'v': s->verbose = true; break;
		case 'h': stats_help(); return -1;
		case OPT_DEPTH:
			depth_given = true;
			rc = repeat_depth("stats", "--depth", optarg, 1000, &s->depth);
			break;
		case 'B':
			s->backend = pcon_backend_from_string(optarg);
			if (s->backend == PCON_BACKEND_INVALID)
				rc = cli_usage("stats", "--backend: unknown backend '%s' (auto, kernel, proc, bpf)",
					       optarg);
			break;
		case 'd':
		case OPT_INTERVAL:
			rc = repeat_delay("stats", o == 'd' ? "--delay" : "--interval", optarg, 0, delay);
			break;
		case 'c': rc = repeat_count("stats", "--count", optarg, count); break;
		default:
			if (!tout_option(&s->out, o, optarg))
				return cli_option_error("stats", argv, o);
		}
	}
	if (rc)
		return rc;
	if (optind < argc && s->out.list_columns)
		return cli_usage("stats", "--list-columns takes no container");
	if (depth_given && !s->tree && optind < argc)
		return cli_usage("stats", "--depth goes with --tree (or no container: every tree)");
	return 0;
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
	struct stats s = { .c = c, .backend = PCON_BACKEND_AUTO, .depth = 3 };
	double delay = -1;
	long count = -1;
	int rc = parse_args(&s, argc, argv, &delay, &count);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (s.out.list_columns)
		return table_list_columns(cols, NCOLS, &s.out);
	s.table = s.tree || s.out.output || s.out.json || s.out.raw || s.out.noheadings;
	if (count < 0 && delay < 0)
		count = 1;
	if (delay < 0)
		delay = 1;

	/* Every name given is opened, however many: none is silently left out. */
	struct pcon_container **cts;
	int n;
	bool roots = optind == argc;
	if (roots) {
		s.tree = s.table = true;
		n = open_roots(c, &cts);
	} else {
		n = cli_open_specs(c, argv + optind, argc - optind, &cts);
	}
	if (n < 0)
		return 1;
	rc = run(&s, cts, n, delay, count);
	if (roots) {
		cli_close_all(cts, n);
		free(cts);
	} else {
		cli_free_specs(cts, n);
	}
	return rc;
}
