/* pcon top: a live view of containers, one row each (like systemd-cgtop). */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pcond-client.h"
#include "pcon/pressure.h"
#include "pcon/taskstate.h"

#define MAX_ROWS 2000

struct row {
	char *path;
	int depth;
	bool have_ts;
	struct pcon_taskstats ts;
	bool have_usage;
	uint64_t usage_ns;   /* cpuacct.usage now */
	double cpu;          /* percent of one CPU; NAN if unknown */
	bool have_mem;
	uint64_t mem;
	bool have_load;
	double load[3];
	bool have_psi;
	struct pcon_pressure psi;
};

struct load {
	char *path;
	double v[3];
};

struct sample {
	struct row *v;
	size_t n;
	uint64_t when_ns;  /* CLOCK_MONOTONIC */
};

enum sort_key { SORT_PATH, SORT_TASKS, SORT_CPU, SORT_MEMORY, SORT_LOAD };

struct top {
	struct cli *c;
	const struct pcon_hier *tree;   /* rows come from this hierarchy */
	const struct pcon_hier *cpuacct, *memory;
	char *root;
	int depth;
	enum pcon_backend backend;
	enum sort_key sort;
	bool reverse;
	double delay;
	long iterations;   /* -n; 0 = unlimited */
	bool batch;
	bool pressure;     /* show the pressure columns */
	struct sample prev, cur;
	struct load *loads;  /* from pcond at the last sample, sorted by path */
	size_t n_loads;
};

static void top_help(void)
{
	printf("Usage: pcon top [OPTIONS] [HIER:PATH]\n\n"
	       "A live view of containers: one row per container below HIER:PATH\n"
	       "(default: the default hierarchy's root) with its tasks (threads, its\n"
	       "descendants included) by state R S D T and IO (waiting on I/O), load\n"
	       "1/5/15 (from pcond; '-' without it), CPU %% (of one CPU, from\n"
	       "cpuacct.usage) and memory (memory.current); '-' where unknown.\n"
	       "Keys: p t c m l sort by path, tasks, CPU, memory, load; r reverses;\n"
	       "P shows or hides pressure (PSI avg10, v2); space refreshes; q quits.\n\n"
	       "  -d, --delay=SECS     refresh every SECS seconds (default 1)\n"
	       "  -n, --iterations=N   stop after N refreshes\n"
	       "  -b, --batch          plain text, no terminal control (for scripts)\n"
	       "  -o, --order=KEY      sort by path, tasks, cpu (default), memory, load\n"
	       "      --depth=N        rows down to N levels below (default 3)\n"
	       "      --backend=NAME   task-state backend: auto, kernel, proc, bpf\n"
	       "      --pressure       show pressure columns: the percent of the last 10 s\n"
	       "                       some (or all) tasks stalled on CPU, memory, I/O\n"
	       "  -h, --help           show this help\n");
}

static int cmp_load(const void *a, const void *b)
{
	return strcmp(((const struct load *)a)->path, ((const struct load *)b)->path);
}

static void loads_free(struct top *t)
{
	for (size_t i = 0; i < t->n_loads; i++)
		free(t->loads[i].path);
	free(t->loads);
	t->loads = NULL;
	t->n_loads = 0;
}

/* Ask pcond for the load averages of every container under the root; with no
 * pcond (or an error) there are none and the column shows '-'. */
static void fetch_loads(struct top *t)
{
	loads_free(t);
	int fd = pcond_connect(pcond_socket(t->c));
	if (fd < 0)
		return;
	char spec[4200], req[PROTO_LINE_MAX], *reply = NULL;
	snprintf(spec, sizeof(spec), "%s:%s", t->tree->name, t->root);
	if (proto_request_format(PROTO_LOADAVG, true, spec, 0, req, sizeof(req)) > 0 &&
	    pcond_ask(fd, req, &reply) == 0) {
		size_t n = 0;
		for (const char *l = reply; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
			n += strncmp(l, "container ", 10) == 0;
		t->loads = calloc(n + 1, sizeof(*t->loads));
		for (const char *l = reply; t->loads && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
			char path[4096], v[3][32];
			if (strncmp(l, "container ", 10) || !proto_field(l, "path", path, sizeof(path)) ||
			    !proto_field(l, "load1", v[0], 32) || !proto_field(l, "load5", v[1], 32) ||
			    !proto_field(l, "load15", v[2], 32))
				continue;
			struct load *x = &t->loads[t->n_loads];
			if (!(x->path = strdup(path)))
				break;
			for (int i = 0; i < 3; i++)
				x->v[i] = strtod(v[i], NULL);
			t->n_loads++;
		}
		if (t->loads)
			qsort(t->loads, t->n_loads, sizeof(*t->loads), cmp_load);
	}
	free(reply);
	close(fd);
}

/* The 1, 5 and 15 minute load of the container at path, as pcond reported it
 * at this sample; -ENODATA without pcond or for a container it does not track. */
static int top_container_load(struct top *t, const char *path, double ret[3])
{
	struct load key = { .path = (char *)path };
	const struct load *x = t->n_loads ? bsearch(&key, t->loads, t->n_loads, sizeof(key), cmp_load) : NULL;
	if (!x)
		return -ENODATA;
	memcpy(ret, x->v, sizeof(x->v));
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sample_free(struct sample *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	*s = (struct sample){ 0 };
}

/* A knob of the container at path in hierarchy h, as a number. */
static bool knob_u64(const struct pcon_hier *h, const char *path, const char *knob, uint64_t *ret)
{
	struct pcon_container *c;
	if (!h || pcon_container_open(h, path, &c) < 0)
		return false;
	char *s = NULL;
	bool ok = pcon_knob_get(c, knob, &s) == 0 && s && sscanf(s, "%lu", (unsigned long *)ret) == 1;
	free(s);
	pcon_container_free(c);
	return ok;
}

/* CPU time of a v2 container: cpu.stat has usage_usec in every cgroup. */
static bool cpu_stat_usage(const struct pcon_container *c, uint64_t *ret_ns)
{
	char *s = NULL;
	unsigned long long us;
	bool ok = pcon_knob_get(c, "cpu.stat", &s) == 0 && s && sscanf(s, "usage_usec %llu", &us) == 1;
	free(s);
	if (ok)
		*ret_ns = us * 1000;
	return ok;
}

static void fill_row(struct top *t, const struct pcon_tsnap *snap, struct pcon_container *c,
		     int depth, struct sample *s)
{
	if (s->n >= MAX_ROWS)
		return;
	struct row *r = &s->v[s->n];
	*r = (struct row){ .path = strdup(c->path), .depth = depth, .cpu = NAN };
	if (!r->path)
		return;
	s->n++;
	r->have_ts = snap && pcon_tsnap_get(snap, c->id, PCON_TASKSTATE_RECURSIVE, &r->ts) == 0;
	r->have_usage = c->hier->version == 2 ? cpu_stat_usage(c, &r->usage_ns)
					      : knob_u64(t->cpuacct, c->path, "cpuacct.usage", &r->usage_ns);
	r->have_mem = knob_u64(t->memory, c->path, "memory.current", &r->mem);
	r->have_load = top_container_load(t, c->path, r->load) == 0;
	r->have_psi = t->pressure && pcon_pressure_read(c, &r->psi) == 0;
}

/* Rows for c and its subtree, down to t->depth; counts from one snapshot. */
static void walk(struct top *t, const struct pcon_tsnap *snap, struct pcon_container *c,
		 int depth, struct sample *s)
{
	fill_row(t, snap, c, depth, s);
	if (depth >= t->depth)
		return;
	char **kids = NULL;
	int n = pcon_container_children(c, &kids);
	for (int i = 0; i < n && s->n < MAX_ROWS; i++) {
		struct pcon_container *k;
		int r = pcon_container_open_child(c, kids[i], &k);
		if (r == 0) {
			walk(t, snap, k, depth + 1, s);
			pcon_container_free(k);
		} else if (r != -ENOENT) {
			/* exists but cannot be opened (a mount over it): a row of '-' */
			struct row *row = &s->v[s->n];
			*row = (struct row){ .depth = depth + 1, .cpu = NAN };
			if (asprintf(&row->path, "%s/%s", strcmp(c->path, "/") ? c->path : "", kids[i]) > 0)
				s->n++;
		}
	}
	pcon_strv_free(kids);
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->path, ((const struct row *)b)->path);
}

/* Take a new sample; CPU % from cpuacct.usage deltas against the last one. */
static int take_sample(struct top *t)
{
	sample_free(&t->prev);
	t->prev = t->cur;
	t->cur = (struct sample){ .v = calloc(MAX_ROWS, sizeof(struct row)), .when_ns = mono_ns() };
	if (!t->cur.v)
		return -ENOMEM;
	struct pcon_container *root;
	int r = pcon_container_open(t->tree, t->root, &root);
	if (r < 0)
		return r;
	fetch_loads(t);
	struct pcon_tsnap *snap = NULL;
	(void)pcon_tsnap_take(t->c->p, root, t->backend, &snap); /* none: counts show as "-" */
	walk(t, snap, root, 0, &t->cur);
	pcon_tsnap_free(snap);
	pcon_container_free(root);
	if (t->prev.n)
		qsort(t->prev.v, t->prev.n, sizeof(struct row), cmp_path);
	double dt = (double)(t->cur.when_ns - t->prev.when_ns);
	for (size_t i = 0; i < t->cur.n; i++) {
		struct row *row = &t->cur.v[i];
		const struct row *old = t->prev.n ? bsearch(row, t->prev.v, t->prev.n, sizeof(*row), cmp_path) : NULL;
		if (old && row->have_usage && old->have_usage && row->usage_ns >= old->usage_ns && dt > 0)
			row->cpu = (double)(row->usage_ns - old->usage_ns) / dt * 100.0;
	}
	return 0;
}

static struct top *sorting;

/* Unknown values sort after known ones, whatever the direction (cmp_rows
 * reverses what this returns, so that part is reversed here first). */
static int cmp_num(double a, double b, bool ka, bool kb)
{
	if (ka != kb)
		return (ka ? -1 : 1) * (sorting->reverse ? -1 : 1);
	return a < b ? 1 : a > b ? -1 : 0; /* biggest first */
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int r = 0;
	switch (sorting->sort) {
	case SORT_PATH: break;
	case SORT_TASKS: r = cmp_num((double)a->ts.total, (double)b->ts.total, a->have_ts, b->have_ts); break;
	case SORT_CPU: r = cmp_num(a->cpu, b->cpu, !isnan(a->cpu), !isnan(b->cpu)); break;
	case SORT_MEMORY: r = cmp_num((double)a->mem, (double)b->mem, a->have_mem, b->have_mem); break;
	case SORT_LOAD: r = cmp_num(a->load[0], b->load[0], a->have_load, b->have_load); break;
	}
	if (r == 0)
		r = strcmp(a->path, b->path);
	return sorting->reverse ? -r : r;
}

static const char *fmt_u64(char *b, size_t n, bool known, uint64_t v)
{
	if (!known)
		return "-";
	snprintf(b, n, "%llu", (unsigned long long)v);
	return b;
}

static const char *fmt_bytes(char *b, size_t n, bool known, uint64_t v)
{
	static const char units[] = "BKMGTP";
	if (!known)
		return "-";
	double x = (double)v;
	int u = 0;
	while (x >= 1024 && u < 5) {
		x /= 1024;
		u++;
	}
	snprintf(b, n, u ? "%.1f%c" : "%.0f%c", x, units[u]);
	return b;
}

static const char *fmt_double(char *b, size_t n, bool known, double v)
{
	if (!known || isnan(v))
		return "-";
	snprintf(b, n, "%.2f", v);
	return b;
}

/* One line of text for row (or the header when row is NULL). */
static void format_row(struct top *t, const struct row *r, char *out, size_t n)
{
	if (!r) {
		int len = snprintf(out, n, "%-36s %6s %4s %4s %4s %4s %4s %6s %6s %6s %7s %8s", "Container",
				   "Tasks", "R", "S", "D", "T", "IO", "Load1", "Load5", "Load15", "%CPU", "Memory");
		if (t->pressure && len > 0 && (size_t)len < n)
			snprintf(out + len, n - (size_t)len, " %7s %7s %7s %7s", "CPU-SOM", "MEM-SOM",
				 "MEM-FUL", "IO-SOME");
		return;
	}
	char b[11][32];
	const char *name = cli_spec_name(t->tree, r->path);
	bool io = r->have_ts && !(r->ts.unknown & PCON_TASKSTATS_IO_WAIT);
	snprintf(out, n, "%-36s %6s %4s %4s %4s %4s %4s %6s %6s %6s %7s %8s", name,
		 fmt_u64(b[0], 32, r->have_ts, r->ts.total), fmt_u64(b[1], 32, r->have_ts, r->ts.running),
		 fmt_u64(b[2], 32, r->have_ts, r->ts.sleeping),
		 fmt_u64(b[3], 32, r->have_ts, r->ts.uninterruptible),
		 fmt_u64(b[4], 32, r->have_ts, r->ts.stopped), fmt_u64(b[5], 32, io, r->ts.io_wait),
		 fmt_double(b[6], 32, r->have_load, r->load[0]), fmt_double(b[7], 32, r->have_load, r->load[1]),
		 fmt_double(b[8], 32, r->have_load, r->load[2]), fmt_double(b[9], 32, true, r->cpu),
		 fmt_bytes(b[10], 32, r->have_mem, r->mem));
	if (!t->pressure)
		return;
	/* avg10 of some (and full, for memory): '-' where the kernel keeps none (v1) */
	static const int cols[4][2] = { { PCON_PSI_CPU, PCON_PSI_SOME }, { PCON_PSI_MEMORY, PCON_PSI_SOME },
					 { PCON_PSI_MEMORY, PCON_PSI_FULL }, { PCON_PSI_IO, PCON_PSI_SOME } };
	size_t len = strlen(out);
	for (int k = 0; k < 4 && len < n; k++) {
		bool known = r->have_psi && r->psi.have[cols[k][0]][cols[k][1]];
		snprintf(out + len, n - len, " %7s", fmt_double(b[0], 32, known, r->psi.v[cols[k][0]][cols[k][1]].avg10));
		len = strlen(out);
	}
}

static const char *const sort_names[] = { "path", "tasks", "cpu", "memory", "load" };

static void sort_rows(struct top *t)
{
	sorting = t;
	qsort(t->cur.v, t->cur.n, sizeof(struct row), cmp_rows);
}

static int run_batch(struct top *t)
{
	char line[8192];
	for (long i = 0; t->iterations == 0 || i < t->iterations; i++) {
		/* not usleep: its useconds_t wraps past 4294 s (-d takes a day) */
		struct timespec d = { (time_t)t->delay, (long)((t->delay - (time_t)t->delay) * 1e9) };
		while (nanosleep(&d, &d) < 0 && errno == EINTR)
			;
		int r = take_sample(t);
		if (r < 0)
			return cli_errno(t->root, r);
		sort_rows(t);
		if (i > 0)
			putchar('\n');
		format_row(t, NULL, line, sizeof(line));
		puts(line);
		for (size_t k = 0; k < t->cur.n; k++) {
			format_row(t, &t->cur.v[k], line, sizeof(line));
			puts(line);
		}
		if (fflush(stdout) != 0)
			return cli_fail("top", "write error: %s", strerror(errno));
	}
	return 0;
}

static void draw(struct top *t)
{
	char line[8192];
	erase(); /* not clear(): the terminal is updated by difference, no flicker */
	mvprintw(0, 0, "pcon top - %s:%s - %zu containers - sorted by %s%s - every %.1fs (q quits)",
		 t->tree->name, t->root, t->cur.n, sort_names[t->sort], t->reverse ? " (reversed)" : "",
		 t->delay);
	format_row(t, NULL, line, sizeof(line));
	attron(A_REVERSE);
	mvprintw(2, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	for (size_t k = 0; k < t->cur.n && (int)k + 3 < LINES; k++) {
		format_row(t, &t->cur.v[k], line, sizeof(line));
		mvprintw((int)k + 3, 0, "%.*s", COLS, line);
	}
	refresh();
}

static int run_curses(struct top *t)
{
	if (!isatty(STDOUT_FILENO) || !initscr())
		return cli_fail("top", "needs a terminal (use -b for batch mode)");
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	int rc = 0;
	for (long i = 0; t->iterations == 0 || i < t->iterations; i++) {
		int r = take_sample(t);
		if (r < 0) {
			endwin();
			return cli_errno(t->root, r);
		}
		sort_rows(t);
		draw(t);
		uint64_t until = mono_ns() + (uint64_t)(t->delay * 1e9);
		for (bool again = false; !again;) {
			int64_t left = (int64_t)(until - mono_ns());
			if (left <= 0)
				break;
			timeout((int)(left / 1000000) + 1);
			int ch = getch();
			switch (ch) {
			case 'q': case 'Q': endwin(); return rc;
			case 'p': t->sort = SORT_PATH; break;
			case 't': t->sort = SORT_TASKS; break;
			case 'c': t->sort = SORT_CPU; break;
			case 'm': t->sort = SORT_MEMORY; break;
			case 'l': t->sort = SORT_LOAD; break;
			case 'r': t->reverse = !t->reverse; break;
			case 'P': t->pressure = !t->pressure; again = true; continue; /* a new sample reads them */
			case KEY_RESIZE: break; /* LINES and COLS changed: draw again */
			case ' ': again = true; continue;
			default: continue;
			}
			sort_rows(t); /* a new order shows at once, on the same sample */
			draw(t);
		}
	}
	endwin();
	return rc;
}

static int parse_order(const char *s, enum sort_key *ret)
{
	for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
		if (strcmp(s, sort_names[i]) == 0) {
			*ret = (enum sort_key)i;
			return 0;
		}
	return -EINVAL;
}

int cmd_top(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "order", required_argument, NULL, 'o' },
		{ "depth", required_argument, NULL, 'D' },
		{ "backend", required_argument, NULL, 'B' },
		{ "pressure", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct top t = { .c = c, .depth = 3, .sort = SORT_CPU, .delay = 1.0 };
	char *end;
	int o;
	while ((o = getopt_long(argc, argv, ":d:n:bo:h", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			t.delay = strtod(optarg, &end);
			if (*end || !(t.delay >= 0.05 && t.delay <= 86400))
				return cli_usage("top", "invalid delay '%s' (seconds, 0.05 or more)", optarg);
			break;
		case 'n':
			t.iterations = strtol(optarg, &end, 10);
			if (*end || t.iterations < 1)
				return cli_usage("top", "invalid iteration count '%s'", optarg);
			break;
		case 'D':
			t.depth = (int)strtol(optarg, &end, 10);
			if (*end || t.depth < 0 || t.depth > 64)
				return cli_usage("top", "invalid depth '%s'", optarg);
			break;
		case 'b': t.batch = true; break;
		case 'S': t.pressure = true; break;
		case 'o':
			if (parse_order(optarg, &t.sort) < 0)
				return cli_usage("top", "invalid order '%s' (path, tasks, cpu, memory, load)", optarg);
			break;
		case 'B':
			t.backend = pcon_backend_from_string(optarg);
			if (t.backend == PCON_BACKEND_INVALID)
				return cli_usage("top", "invalid backend '%s' (auto, kernel, proc, bpf)", optarg);
			break;
		case 'h': top_help(); return 0;
		case ':': return cli_usage("top", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_bad_option("top", argv);
		}
	}
	if (argc - optind > 1)
		return cli_usage("top", "one container at most");
	struct pcon_spec spec = { 0 };
	if (optind < argc) {
		if (cli_spec(c, argv[optind], &spec) != 0)
			return 1;
		t.tree = spec.hiers[0];
		t.root = spec.path;
	} else {
		t.tree = pcon_hier_default(c->p);
		t.root = strdup("/");
	}
	if (pcon_hier_find(c->p, "cpuacct", &t.cpuacct) < 0)
		t.cpuacct = NULL;
	if (pcon_hier_find(c->p, "memory", &t.memory) < 0)
		t.memory = NULL;
	struct pcon_container *probe;
	int rc = pcon_container_open(t.tree, t.root, &probe);
	if (rc < 0) {
		rc = cli_errno(argv[optind] ? argv[optind] : "/", rc);
	} else {
		pcon_container_free(probe);
		if (t.batch) {
			(void)take_sample(&t); /* the baseline for CPU % */
			rc = run_batch(&t);
		} else {
			rc = run_curses(&t);
		}
	}
	sample_free(&t.prev);
	sample_free(&t.cur);
	loads_free(&t);
	if (optind < argc)
		pcon_spec_done(&spec);
	else
		free(t.root);
	return rc;
}
