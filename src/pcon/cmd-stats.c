/* pcon stats: task-state counts of containers (running, sleeping, blocked...). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pcon/pressure.h"
#include "pcon/taskstate.h"

#define MAX_CONTAINERS 64

struct stats {
	struct cli *c;
	enum pcon_backend backend;
	unsigned flags;
	bool json, tree, verbose;
	int unreadable;    /* --tree rows of containers that could not be opened */
	int depth;
	struct json j;
};

/* One row of --tree: a container's own counts and its subtree's. */
struct row {
	char *name;        /* HIER:PATH, escaped for printing */
	const char *hier;  /* raw, for JSON */
	char *path;
	int depth;
	uint64_t id;
	struct pcon_taskstate_info info;
	struct pcon_taskstats sum;
	int unreadable;    /* not opened: why (its counts are in its parent's) */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static void stats_help(void)
{
	printf("Usage: pcon stats [OPTIONS] [HIER:PATH...]\n\n"
	       "Count the threads of each container by state. One container prints\n"
	       "  sleeping S, blocked B, running R, stopped T, uninterruptible D\n"
	       "(blocked = waiting on I/O, a subset of uninterruptible; '-' where the\n"
	       "backend cannot see it). Without HIER:PATH: every hierarchy's tree,\n"
	       "as --tree does.\n\n"
	       "  -r, --recursive      include descendant containers\n"
	       "  -t, --tree           one row per container below each one named, with\n"
	       "                       the counts of its whole subtree\n"
	       "  -d, --depth=N        --tree: rows down to N levels below (default 3)\n"
	       "  -b, --backend=NAME   auto (bpf where it loads, else proc), kernel\n"
	       "                       (taskstats cgroupstats: v1 only, inexact), proc, bpf\n"
	       "  -v, --verbose        say on stderr which backend answered, how bpf\n"
	       "                       walked, and why auto fell back to proc\n"
	       "  -i, --interval=SECS  sample every SECS seconds (0 allowed; default 1\n"
	       "                       with -n)\n"
	       "  -n, --count=N        stop after N samples (default 1; unlimited with -i)\n"
	       "      --json           one JSON object per container (--tree: per sample)\n"
	       "                       with every count, backend, walk, id, hierarchy, path\n"
	       "  -h, --help           show this help\n");
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

static void json_counts(struct json *j, const struct pcon_taskstats *t)
{
	json_u64(j, "running", t->running);
	json_u64(j, "sleeping", t->sleeping);
	json_u64(j, "uninterruptible", t->uninterruptible);
	if (t->unknown & PCON_TASKSTATS_IO_WAIT)
		json_null(j, "io_wait");
	else
		json_u64(j, "io_wait", t->io_wait);
	json_u64(j, "stopped", t->stopped);
	if (t->unknown & PCON_TASKSTATS_IDLE)
		json_null(j, "idle");
	else
		json_u64(j, "idle", t->idle);
	json_u64(j, "other", t->other);
	json_u64(j, "total", t->total);
	json_u64(j, "containers", t->containers);
}

/* "pressure": the container's PSI where the kernel keeps it (v2), else null. */
static void json_pressure(struct json *j, const struct pcon_container *ct)
{
	struct pcon_pressure p;
	if (pcon_pressure_read(ct, &p) < 0) {
		json_null(j, "pressure");
		return;
	}
	json_obj_begin(j, "pressure");
	cli_json_pressure(j, &p);
	json_obj_end(j);
}

static void json_head(struct json *j, const char *hier, const char *path, uint64_t id,
		      const struct pcon_taskstate_info *info)
{
	json_name(j, "hierarchy", hier);
	json_name(j, "path", path);
	json_u64(j, "id", id);
	json_str(j, "backend", pcon_backend_to_string(info->backend));
	if (info->walk != PCON_WALK_NONE)
		json_str(j, "walk", pcon_walk_to_string(info->walk));
	else
		json_null(j, "walk");
	if (info->fallback < 0) {
		const char *why = bpf_reason(info->fallback);
		json_str(j, "fallback", why ? why : strerror(-info->fallback));
	} else {
		json_null(j, "fallback");
	}
}

static double now_realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A count, or "-" where the backend is blind to it. */
static const char *num(char *buf, size_t n, uint64_t v, bool unknown)
{
	if (unknown)
		return "-";
	snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

/* One sample of plain containers: the seed's line (prefixed if several). */
static int sample_flat(struct stats *s, struct pcon_container **cts, int n)
{
	for (int i = 0; i < n; i++) {
		struct pcon_taskstats t;
		struct pcon_taskstate_info info;
		int r = pcon_taskstate_read(s->c->p, cts[i], s->backend, s->flags, &t, &info);
		if (r < 0)
			return fail_read(s, cli_name(cts[i]), r);
		say_how(s, cli_name(cts[i]), &info);
		if (s->json) {
			json_obj_begin(&s->j, NULL);
			json_str(&s->j, "container", cli_name(cts[i]));
			json_head(&s->j, cts[i]->hier->name, cts[i]->path, cts[i]->id, &info);
			json_bool(&s->j, "recursive", s->flags & PCON_TASKSTATE_RECURSIVE);
			json_double(&s->j, "time", now_realtime(), 3);
			json_counts(&s->j, &t);
			json_pressure(&s->j, cts[i]);
			json_obj_end(&s->j);
			json_done(&s->j);
			continue;
		}
		char b[32];
		if (n > 1)
			printf("%s: ", cli_name(cts[i]));
		printf("sleeping %llu, blocked %s, running %llu, stopped %llu, uninterruptible %llu",
		       (unsigned long long)t.sleeping,
		       num(b, sizeof(b), t.io_wait, t.unknown & PCON_TASKSTATS_IO_WAIT),
		       (unsigned long long)t.running, (unsigned long long)t.stopped,
		       (unsigned long long)t.uninterruptible);
		/* The seed's five fields, then what else there is, so the line adds up. */
		if (t.idle && !(t.unknown & PCON_TASKSTATS_IDLE))
			printf(", idle %llu", (unsigned long long)t.idle);
		if (t.other)
			printf(", other %llu", (unsigned long long)t.other);
		putchar('\n');
	}
	return 0;
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
			  const char *name, int depth, int err)
{
	struct row *row;
	char *path = NULL;
	if (rows_push(rs, &row) < 0 ||
	    asprintf(&path, "%s/%s", strcmp(ct->path, "/") ? ct->path : "", name) < 0)
		return -ENOMEM;
	row->depth = depth;
	row->hier = ct->hier->name;
	row->path = path;
	row->unreadable = err;
	if (!(row->name = strdup(cli_spec_name(ct->hier, path))))
		return -ENOMEM;
	cli_errno(row->name, err);
	s->unreadable++;
	return 0;
}

/*
 * Row for ct and (depth permitting) rows for its descendants, each with the
 * counts of its whole subtree from one snapshot. Children made since the
 * walk or removed meanwhile are left out. Returns 0 or -errno.
 */
static int tree_walk(struct stats *s, struct rows *rs, const struct pcon_tsnap *snap,
		     const struct pcon_container *ct, int depth)
{
	struct pcon_taskstats sum;
	int r = pcon_tsnap_get(snap, ct->id, PCON_TASKSTATE_RECURSIVE, &sum);
	if (r < 0)
		return r;
	struct row *row;
	if (rows_push(rs, &row) < 0)
		return -ENOMEM;
	row->depth = depth;
	row->id = ct->id;
	row->sum = sum;
	pcon_tsnap_info(snap, &row->info);
	row->hier = ct->hier->name;
	if (!(row->name = strdup(cli_name(ct))) || !(row->path = strdup(ct->path)))
		return -ENOMEM;
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
			r = unreadable_row(s, rs, ct, kids[i], depth + 1, e);
		if (e < 0)
			continue;
		r = tree_walk(s, rs, snap, k, depth + 1);
		pcon_container_free(k);
		if (r == -ENOENT)
			r = 0;
	}
	pcon_strv_free(kids);
	return r;
}

static void tree_print(struct stats *s, const struct rows *rs)
{
	if (s->json) {
		json_obj_begin(&s->j, NULL);
		json_double(&s->j, "time", now_realtime(), 3);
		json_arr_begin(&s->j, "containers");
		for (size_t i = 0; i < rs->n; i++) {
			const struct row *w = &rs->v[i];
			json_obj_begin(&s->j, NULL);
			json_str(&s->j, "container", w->name);
			if (w->unreadable) {
				json_name(&s->j, "hierarchy", w->hier);
				json_name(&s->j, "path", w->path);
				json_u64(&s->j, "depth", (uint64_t)w->depth);
				json_str(&s->j, "error", cli_strerror(w->unreadable));
				json_obj_end(&s->j);
				continue;
			}
			json_head(&s->j, w->hier, w->path, w->id, &w->info);
			json_u64(&s->j, "depth", (uint64_t)w->depth);
			json_counts(&s->j, &w->sum);
			json_obj_end(&s->j);
		}
		json_arr_end(&s->j);
		json_obj_end(&s->j);
		json_done(&s->j);
		return;
	}
	int w = 30;
	for (size_t i = 0; i < rs->n; i++) {
		int len = (int)strlen(rs->v[i].name);
		w = len > w ? (len > 120 ? 120 : len) : w;
	}
	printf("%-*s %7s %6s %6s %6s %6s %6s %6s %6s\n", w, "CONTAINER", "TASKS", "RUN", "SLEEP",
	       "UNINT", "BLOCK", "STOP", "IDLE", "OTHER");
	for (size_t i = 0; i < rs->n; i++) {
		const struct pcon_taskstats *t = &rs->v[i].sum;
		char b1[32], b2[32];
		if (rs->v[i].unreadable) {
			printf("%-*s %7s %6s %6s %6s %6s %6s %6s %6s (unreadable)\n", w, rs->v[i].name,
			       "-", "-", "-", "-", "-", "-", "-", "-");
			continue;
		}
		printf("%-*s %7llu %6llu %6llu %6llu %6s %6llu %6s %6llu\n", w, rs->v[i].name,
		       (unsigned long long)t->total, (unsigned long long)t->running,
		       (unsigned long long)t->sleeping, (unsigned long long)t->uninterruptible,
		       num(b1, sizeof(b1), t->io_wait, t->unknown & PCON_TASKSTATS_IO_WAIT),
		       (unsigned long long)t->stopped,
		       num(b2, sizeof(b2), t->idle, t->unknown & PCON_TASKSTATS_IDLE),
		       (unsigned long long)t->other);
	}
}

static int sample_tree(struct stats *s, struct pcon_container **cts, int n)
{
	struct rows rs = { 0 };
	s->unreadable = 0;
	for (int i = 0; i < n; i++) {
		/* One walk per container named: every row below it comes from it. */
		struct pcon_tsnap *snap;
		int r = pcon_tsnap_take(s->c->p, cts[i], s->backend, &snap);
		if (r == 0) {
			struct pcon_taskstate_info info;
			pcon_tsnap_info(snap, &info);
			say_how(s, cli_name(cts[i]), &info);
			r = tree_walk(s, &rs, snap, cts[i], 0);
			pcon_tsnap_free(snap);
		}
		if (r < 0) {
			rows_free(&rs);
			return fail_read(s, cli_name(cts[i]), r);
		}
	}
	tree_print(s, &rs);
	rows_free(&rs);
	return s->unreadable ? 1 : 0;
}

/* Open the root of every hierarchy (bare "pcon stats"). */
static int open_roots(struct cli *c, struct pcon_container **cts, int max)
{
	size_t nh;
	const struct pcon_hier *h = pcon_hiers(c->p, &nh);
	int n = 0;
	for (size_t i = 0; i < nh && n < max; i++) {
		int r = pcon_container_open(&h[i], "/", &cts[n]);
		if (r < 0) {
			char name[300];
			snprintf(name, sizeof(name), "%s:/", h[i].name);
			cli_close_all(cts, n);
			cli_errno(name, r);
			return -1;
		}
		n++;
	}
	return n;
}

static int parse_interval(const char *arg, double *ret)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > 86400.0 * 365)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_count(const char *arg, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Sleep until the next tick of a fixed cadence (no drift). */
static void wait_tick(struct timespec *next, double interval)
{
	long long ns = (long long)(interval * 1e9);
	next->tv_sec += ns / 1000000000LL;
	next->tv_nsec += ns % 1000000000LL;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_sec++;
		next->tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
}

static int run(struct stats *s, struct pcon_container **cts, int n, double interval, long count)
{
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; count < 0 || i < count; i++) {
		if (i > 0)
			wait_tick(&next, interval);
		int rc = s->tree ? sample_tree(s, cts, n) : sample_flat(s, cts, n);
		if (rc != 0)
			return rc;
		if (fflush(stdout) != 0)
			return cli_fail("stats", "write error: %s", strerror(errno));
	}
	return 0;
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
	enum { OPT_JSON = 0x100 };
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "tree", no_argument, NULL, 't' },
		{ "depth", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct stats s = { .c = c, .backend = PCON_BACKEND_AUTO, .depth = 3, .j = { .f = stdout } };
	double interval = -1;
	long count = -1, depth;
	bool depth_given = false;
	int o;
	while ((o = getopt_long(argc, argv, ":rtd:b:vi:n:h", opts, NULL)) != -1) {
		switch (o) {
		case 'r': s.flags |= PCON_TASKSTATE_RECURSIVE; break;
		case 't': s.tree = true; break;
		case 'v': s.verbose = true; break;
		case OPT_JSON: s.json = true; break;
		case 'h': stats_help(); return 0;
		case 'd':
			depth_given = true;
			if (parse_count(optarg, &depth) < 0 && strcmp(optarg, "0") != 0)
				return cli_usage("stats", "invalid depth '%s'", optarg);
			s.depth = strcmp(optarg, "0") == 0 ? 0 : depth > 1000 ? 1000 : (int)depth;
			break;
		case 'b':
			s.backend = pcon_backend_from_string(optarg);
			if (s.backend == PCON_BACKEND_INVALID)
				return cli_usage("stats", "unknown backend '%s' (auto, kernel, proc, bpf)",
						 optarg);
			break;
		case 'i':
			if (parse_interval(optarg, &interval) < 0)
				return cli_usage("stats", "invalid interval '%s' (seconds, >= 0)", optarg);
			break;
		case 'n':
			if (parse_count(optarg, &count) < 0)
				return cli_usage("stats", "invalid count '%s' (a whole number >= 1)", optarg);
			break;
		case ':': return cli_usage("stats", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_bad_option("stats", argv);
		}
	}
	if (depth_given && !s.tree && optind < argc)
		return cli_usage("stats", "--depth goes with --tree (or no container: every tree)");
	if (count < 0 && interval < 0)
		count = 1;
	if (interval < 0)
		interval = 1;

	/* Every name given is opened, however many: none is silently left out. */
	struct pcon_container *roots[MAX_CONTAINERS], **cts = roots;
	int n;
	if (optind == argc) {
		s.tree = true;
		n = open_roots(c, roots, MAX_CONTAINERS);
	} else {
		n = cli_open_specs(c, argv + optind, argc - optind, &cts);
	}
	if (n < 0)
		return 1;
	int rc = run(&s, cts, n, interval, count);
	if (cts == roots)
		cli_close_all(cts, n);
	else
		cli_free_specs(cts, n);
	return rc;
}
