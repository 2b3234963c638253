/* pcon top: a live view of containers, one row each (like systemd-cgtop),
 * drawn from a libsmartcols table as util-linux's irqtop does. */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "repeat.h"
#include "top.h"

static const struct tcol cols[] = {
	[TC_CONTAINER] = { "CONTAINER", 0.4, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "HIER:PATH (on the screen shortened in the middle to fit)" },
	[TC_TASKS] = { "TASKS", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads (processes with -P or key P)" },
	[TC_R] = { "R", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads running or runnable" },
	[TC_S] = { "S", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads sleeping" },
	[TC_D] = { "D", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads in an uninterruptible sleep" },
	[TC_T] = { "T", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads stopped" },
	[TC_IO] = { "IO", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads waiting on I/O ('-' where the backend cannot see it)" },
	[TC_LOAD1] = { "LOAD1", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "load average over 1 minute (from pcond; '-' without it)" },
	[TC_LOAD5] = { "LOAD5", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "load average over 5 minutes (from pcond)" },
	[TC_LOAD15] = { "LOAD15", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "load average over 15 minutes (from pcond)" },
	[TC_CPU] = { "%CPU", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "CPU time used, in % of one CPU (v2 cpu.stat, v1 cpuacct.usage)" },
	[TC_MEMORY] = { "MEMORY", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "memory in use (memory.current; JSON: bytes)" },
	[TC_INPUT] = { "INPUT/S", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "bytes read a second (v2 io.stat, v1 blkio; JSON: bytes)" },
	[TC_OUTPUT] = { "OUTPUT/S", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "bytes written a second (v2 io.stat, v1 blkio; JSON: bytes)" },
	[TC_CPU_SOME] = { "CPU-SOME", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s some tasks waited for CPU (v2)" },
	[TC_MEM_SOME] = { "MEM-SOME", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s some tasks waited for memory (v2)" },
	[TC_MEM_FULL] = { "MEM-FULL", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s all tasks waited for memory (v2)" },
	[TC_IO_SOME] = { "IO-SOME", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "pressure: % of the last 10 s some tasks waited for I/O (v2)" },
};

#define DFLT "CONTAINER,TASKS,R,S,D,T,IO,LOAD1,LOAD5,LOAD15,%CPU,MEMORY,INPUT/S,OUTPUT/S"
#define PRESSURE_COLS "CPU-SOME,MEM-SOME,MEM-FULL,IO-SOME"

/* Sort keys: a key on the screen, a name for --sort. */
static const struct {
	int key;
	const char *name;
	int col;
} sorts[] = {
	{ 'p', "path", TC_CONTAINER }, { 't', "tasks", TC_TASKS }, { 'c', "cpu", TC_CPU },
	{ 'm', "memory", TC_MEMORY }, { 'l', "load", TC_LOAD1 }, { 'i', "input", TC_INPUT },
	{ 'o', "output", TC_OUTPUT },
};
#define NSORTS (sizeof(sorts) / sizeof(sorts[0]))

static const double delays[] = { 0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 30, 60 };

static void top_help(void)
{
	printf("Usage: pcon top [OPTIONS] [OUTPUT OPTIONS] [HIER:PATH]\n\n"
	       "A live view of containers: one row per container below HIER:PATH\n"
	       "(default: the default hierarchy's root) with its threads (or processes)\n"
	       "by state R S D T and IO (waiting on I/O), its descendants included, load\n"
	       "1/5/15 (from pcond; '-' without it), %%CPU (of one CPU), memory, and\n"
	       "bytes read and written a second; '-' where the kernel keeps no count.\n\n"
	       "  -d, --delay=SECS     refresh every SECS seconds (default 1)\n"
	       "  -c, --count=N        stop after N refreshes (--iterations is the same)\n"
	       "  -b, --batch          no terminal UI: print a table per refresh (scripts)\n"
	       "      --sort=KEY       sort by path, tasks, cpu (default), memory, load,\n"
	       "                       input, output or any column (--order is the same)\n"
	       "      --depth=N        rows down to N levels below (default 3)\n"
	       "  -B, --backend=NAME   task-state backend: auto, kernel, proc, bpf\n"
	       "  -P, --processes      count processes, not threads, in TASKS\n"
	       "  -r, --recursive[=no] counts include the descendants (the default);\n"
	       "                       --recursive=no: each container's own\n"
	       "      --pressure       add the pressure columns (" PRESSURE_COLS ":\n"
	       "                       %% of the last 10 s tasks stalled; v2)\n"
	       TABLE_HELP
	       "  -h, --help           show this help\n\n"
	       "Keys: h or ? help; q quit; p t c m l i o sort by path, tasks, CPU,\n"
	       "memory, load, input, output; < > sort by the column left or right;\n"
	       "R reverse; + - refresh slower or faster; P processes or threads;\n"
	       "r recursive or not; S pressure columns; space refresh now.\n");
}

static int find_column(const char *name)
{
	for (size_t i = 0; i < NSORTS; i++)
		if (!strcasecmp(name, sorts[i].name))
			return sorts[i].col;
	for (int i = 0; i < TC_N; i++)
		if (!strcasecmp(name, cols[i].name))
			return i;
	return -1;
}

/* The columns to show: -o's (or the default), with the pressure ones added
 * when asked for (and not named already). */
static char *columns(const struct top *t)
{
	const char *base = t->out.output ? t->out.output : DFLT;
	char *s = NULL;
	bool plus = *base == '+';
	if (asprintf(&s, "%s%s%s%s", plus ? DFLT "," : "", base + plus,
		     t->pressure && !strcasestr(base, "-SOME") ? "," : "",
		     t->pressure && !strcasestr(base, "-SOME") ? PRESSURE_COLS : "") < 0)
		return NULL;
	return s;
}

static struct top *sorting;

/* Unknown values sort after known ones, whatever the direction. */
static int cmp_rows(const void *pa, const void *pb)
{
	const struct top_row *a = pa, *b = pb;
	int k = sorting->sort, r = 0;
	if (k != TC_CONTAINER && a->known[k] != b->known[k])
		return a->known[k] ? -1 : 1;
	if (k != TC_CONTAINER && a->known[k])
		r = a->v[k] < b->v[k] ? 1 : a->v[k] > b->v[k] ? -1 : 0; /* biggest first */
	if (r == 0)
		r = strcmp(a->path, b->path);
	return sorting->reverse ? -r : r;
}

static void sort_rows(struct top *t)
{
	sorting = t;
	qsort(t->cur.v, t->cur.n, sizeof(struct top_row), cmp_rows);
}

static void fmt_bytes(char *b, size_t n, double v, const char *suffix)
{
	static const char units[] = "BKMGTPE";
	int u = 0;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(b, n, u ? "%.1f%c%s" : "%.0f%c%s", v, units[u], suffix);
}

/* The text of cell col of r (NULL: unknown). */
static const char *cell(const struct top *t, const struct top_row *r, int col, char *b, size_t n)
{
	if (col == TC_CONTAINER)
		return cli_spec_name(t->tree, r->path);
	if (!r->known[col])
		return NULL;
	double v = r->v[col];
	switch (col) {
	case TC_TASKS: case TC_R: case TC_S: case TC_D: case TC_T: case TC_IO:
		snprintf(b, n, "%.0f", v);
		break;
	case TC_MEMORY: case TC_INPUT: case TC_OUTPUT:
		if (t->out.json)
			snprintf(b, n, "%.0f", v);
		else
			fmt_bytes(b, n, v, "");
		break;
	default:
		snprintf(b, n, "%.2f", v);
	}
	return b;
}

/* Display width of UTF-8 text (names are escaped: printable, no controls). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* name shortened to w columns: its start and its end, '…' between ("..."
 * where the locale cannot show it). */
static char *ellipsize(const char *name, size_t w)
{
	const char *dots = MB_CUR_MAX > 1 ? "…" : "...";
	size_t have = width(name), nd = width(dots);
	if (have <= w || w < nd + 3)
		return strdup(name);
	size_t head = (w - nd) / 3, tail = w - nd - head;
	const char *p = name, *q = name;
	for (size_t i = 0; i < head; i++)
		do p++; while (((unsigned char)*p & 0xc0) == 0x80);
	for (size_t i = 0; i < have - tail; i++)
		do q++; while (((unsigned char)*q & 0xc0) == 0x80);
	char *s = NULL;
	return asprintf(&s, "%.*s%s%s", (int)(p - name), name, dots, q) < 0 ? NULL : s;
}

/* The widest cell (or header) of column c: its width on the screen. */
static size_t col_width(const struct top *t, int c)
{
	char b[64];
	size_t w = width(cols[c].name);
	if (cols[c].whint >= 1 && (size_t)cols[c].whint > w)
		w = (size_t)cols[c].whint; /* libsmartcols gives a column its hint at least */
	for (size_t i = 0; i < t->cur.n; i++) {
		const char *s = cell(t, &t->cur.v[i], c, b, sizeof(b));
		size_t n = s ? width(s) : 1;
		w = n > w ? n : w;
	}
	return w;
}

/*
 * Fit the columns of list to a screen `screen` wide, as systemd-cgtop and
 * htop do: names are shortened first (down to half the screen, at least 20
 * columns), then columns are left out from the right (never the names nor
 * the sort column). Returns the new list; *name_w: the width for the names
 * (0: as they are).
 */
static char *fit(const struct top *t, const char *list, int screen, size_t *name_w)
{
	int ids[TC_N], n = 0;
	for (const char *p = list; *p && n < TC_N;) {
		size_t len = strcspn(p, ",");
		for (int c = 0; c < TC_N; c++)
			if (strlen(cols[c].name) == len && !strncasecmp(cols[c].name, p, len))
				ids[n++] = c;
		p += len + (p[len] == ',');
	}
	size_t w[TC_N], used = 0, names = 0;
	bool have_names = false;
	for (int i = 0; i < n; i++) {
		w[i] = col_width(t, ids[i]);
		if (ids[i] == TC_CONTAINER)
			names = w[i], have_names = true;
		else
			used += w[i] + 1;
	}
	size_t half = screen / 2 > 20 ? (size_t)screen / 2 : 20;
	size_t min_names = names < half ? names : half;
	for (int i = n - 1; i >= 0 && used + min_names > (size_t)screen; i--)
		if (ids[i] != TC_CONTAINER && ids[i] != t->sort) {
			used -= w[i] + 1;
			ids[i] = -1;
		}
	*name_w = have_names && used + names > (size_t)screen ?
		(screen > (int)(used + min_names) ? (size_t)screen - used : min_names) : 0;
	char *out = calloc(1, strlen(list) + 1), *o = out;
	for (int i = 0; out && i < n; i++)
		if (ids[i] >= 0)
			o += sprintf(o, "%s%s", o == out ? "" : ",", cols[ids[i]].name);
	return out;
}

/* This sample as a table; screen_cols > 0: fitted to a screen that wide. */
static int build(struct top *t, struct table *tb, int screen_cols)
{
	char *list = columns(t);
	size_t room = 0;
	if (list && screen_cols > 0) {
		char *fitted = fit(t, list, screen_cols, &room);
		free(list);
		list = fitted;
	}
	if (!list)
		return cli_fail("top", "out of memory");
	struct tout o = t->out;
	o.output = list;
	int r = table_init(tb, "top", "containers", cols, TC_N, DFLT, &o);
	free(list);
	if (r)
		return r;
	char b[64];
	for (size_t i = 0; i < t->cur.n && r == 0; i++) {
		const struct top_row *row = &t->cur.v[i];
		struct libscols_line *ln = table_row(tb, NULL);
		if (!ln)
			r = -ENOMEM;
		for (int c = 0; c < TC_N && r == 0; c++) {
			const char *s = cell(t, row, c, b, sizeof(b));
			if (c == TC_CONTAINER && room) {
				char *e = ellipsize(s, room);
				r = e ? table_set(tb, ln, c, e) : -ENOMEM;
				free(e);
			} else {
				r = table_set(tb, ln, c, s);
			}
		}
	}
	if (r < 0) {
		table_free(tb);
		return cli_errno("top", r);
	}
	return 0;
}

static int run_batch(struct top *t)
{
	for (long i = 0; t->count == 0 || i < t->count; i++) {
		/* not usleep: its useconds_t wraps past 4294 s (-d takes a year) */
		struct timespec d = { (time_t)t->delay, (long)((t->delay - (double)(time_t)t->delay) * 1e9) };
		while (nanosleep(&d, &d) < 0 && errno == EINTR)
			;
		int r = top_take_sample(t);
		if (r < 0)
			return cli_errno(cli_spec_name(t->tree, t->root), r);
		sort_rows(t);
		struct table tb;
		if ((r = build(t, &tb, 0)))
			return r;
		if (i > 0 && !t->out.json)
			putchar('\n');
		r = table_print(&tb);
		table_free(&tb);
		if (r)
			return r;
	}
	return 0;
}

/* The title: what is shown and how, cut to the screen's width. */
static void title(const struct top *t)
{
	char *s = NULL;
	if (asprintf(&s, "pcon top - %s - sorted by %s%s - every %gs - %s%s - %zu containers - h: help",
		     cli_spec_name(t->tree, t->root), cols[t->sort].name, t->reverse ? " (reversed)" : "",
		     t->delay, t->processes ? "processes" : "threads", t->recursive ? "" : " (own)",
		     t->cur.n) < 0)
		return;
	mvaddnstr(0, 0, s, COLS);
	free(s);
}

/* Print text from line y on, a line of the screen each, none past its edge. */
static int put_lines(int y, char *text, bool reverse)
{
	for (char *l = text, *nl; l && *l && y < LINES; l = nl, y++) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		if (reverse)
			attron(A_REVERSE);
		mvaddnstr(y, 0, l, COLS);
		if (reverse) {
			for (int x = (int)width(l); x < COLS; x++)
				addch(' ');
			attroff(A_REVERSE);
		}
		reverse = false;
	}
	return y;
}

static int draw(struct top *t)
{
	struct table tb;
	int r = build(t, &tb, COLS - 1); /* libsmartcols keeps the last column free */
	if (r)
		return r;
	/* fit() made it as wide as the screen already: libsmartcols is not to
	 * size the names by a share of the screen nor shrink columns again by
	 * its own measure (that cut the last cells) */
	scols_table_set_termforce(tb.tb, SCOLS_TERMFORCE_NEVER);
	if (table_has(&tb, TC_CONTAINER)) {
		struct libscols_column *cl = scols_table_get_column(tb.tb, (size_t)tb.pos[TC_CONTAINER]);
		scols_column_set_whint(cl, 0);
		scols_column_set_flags(cl, 0);
	}
	char *text = NULL;
	r = scols_print_table_to_string(tb.tb, &text);
	table_free(&tb);
	if (r < 0 || !text)
		return cli_fail("top", "cannot draw the table");
	erase(); /* not clear(): the terminal is updated by difference, no flicker */
	title(t);
	put_lines(2, text, !t->out.noheadings);
	free(text);
	refresh();
	return 0;
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"pcon top - keys",
		"",
		"  h ?     this help (any key goes back)",
		"  q       quit",
		"  p t c   sort by path, tasks, %CPU",
		"  m l     sort by memory, load (1 minute)",
		"  i o     sort by input/s, output/s",
		"  < >     sort by the column left or right of the sort column",
		"  R       reverse the order (a new sort key starts unreversed)",
		"  + -     refresh slower, faster",
		"  P       count processes or threads in TASKS",
		"  r       counts of the subtree, or each container's own",
		"  S       show or hide the pressure columns",
		"  space   refresh now",
	};
	erase();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && (int)i < LINES; i++)
		mvaddnstr((int)i, 0, lines[i], COLS);
	refresh();
}

/* The column left (dir -1) or right (+1) of the sort column on the screen. */
static int next_sort(const struct top *t, int dir)
{
	struct table tb;
	struct tout quiet = t->out;
	char *list = columns(t);
	quiet.output = list;
	int r = list ? table_init(&tb, "top", "containers", cols, TC_N, DFLT, &quiet) : 1;
	free(list);
	if (r)
		return t->sort;
	int last = (int)scols_table_get_ncols(tb.tb) - 1;
	int pos = table_has(&tb, t->sort) ? tb.pos[t->sort] + dir : dir > 0 ? 0 : last;
	int best = t->sort;
	for (int c = 0; c < TC_N; c++)
		if (tb.pos[c] == pos)
			best = c;
	table_free(&tb);
	return best;
}

static double step_delay(double d, int dir)
{
	size_t n = sizeof(delays) / sizeof(delays[0]);
	if (dir > 0) {
		for (size_t i = 0; i < n; i++)
			if (delays[i] > d + 1e-9)
				return delays[i];
		return d;
	}
	for (size_t i = n; i-- > 0;)
		if (delays[i] < d - 1e-9)
			return delays[i];
	return d;
}

static void set_sort(struct top *t, int col)
{
	if (col != t->sort)
		t->reverse = false; /* reversing is for one key: it does not stick */
	t->sort = col;
}

/* Act on key ch. Returns 1 to quit, 2 for a new sample, 0 to draw again,
 * -1 for a key that does nothing. */
static int key(struct top *t, int ch)
{
	for (size_t i = 0; i < NSORTS; i++)
		if (ch == sorts[i].key) {
			set_sort(t, sorts[i].col);
			return 0;
		}
	switch (ch) {
	case 'q': case 'Q': return 1;
	case 'h': case '?':
		draw_help();
		timeout(-1);
		(void)getch();
		return 0;
	case '<': set_sort(t, next_sort(t, -1)); return 0;
	case '>': set_sort(t, next_sort(t, 1)); return 0;
	case 'R': t->reverse = !t->reverse; return 0;
	case '+': t->delay = step_delay(t->delay, 1); return 0;
	case '-': t->delay = step_delay(t->delay, -1); return 0;
	case 'P': t->processes = !t->processes; return 2;
	case 'r': t->recursive = !t->recursive; return 2;
	case 'S': t->pressure = !t->pressure; return 0;
	case ' ': return 2;
	case KEY_RESIZE: return 0; /* LINES and COLS changed: draw again */
	}
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	for (long i = 0; rc == 0 && (t->count == 0 || i < t->count); i++) {
		int r = top_take_sample(t);
		if (r < 0) {
			endwin();
			return cli_errno(cli_spec_name(t->tree, t->root), r);
		}
		sort_rows(t);
		if ((rc = draw(t)))
			break;
		uint64_t until = now_ns() + (uint64_t)(t->delay * 1e9);
		for (int k = 0; rc == 0 && k != 2;) {
			int64_t left = (int64_t)(until - now_ns());
			if (left <= 0)
				break;
			timeout((int)(left / 1000000) + 1);
			k = key(t, getch());
			if (k == 1) {
				endwin();
				return 0;
			}
			if (k == 0) {
				sort_rows(t); /* a new order shows at once, on the same sample */
				rc = draw(t);
			}
		}
	}
	endwin();
	return rc;
}

static int parse_sort(const char *opt, const char *arg, int *ret)
{
	int c = find_column(arg);
	if (c < 0)
		return cli_usage("top", "%s: unknown sort key '%s' (path, tasks, cpu, memory, load, input, "
				 "output, or a column: see --list-columns)", opt, arg);
	*ret = c;
	return 0;
}

static int parse_args(struct top *t, int argc, char **argv)
{
	enum { OPT_SORT = 0x100, OPT_ORDER, OPT_DEPTH, OPT_PRESSURE, OPT_ITERATIONS };
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "iterations", required_argument, NULL, OPT_ITERATIONS },
		{ "batch", no_argument, NULL, 'b' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "order", required_argument, NULL, OPT_ORDER },
		{ "depth", required_argument, NULL, OPT_DEPTH },
		{ "backend", required_argument, NULL, 'B' },
		{ "processes", no_argument, NULL, 'P' },
		{ "recursive", optional_argument, NULL, 'r' },
		{ "pressure", no_argument, NULL, OPT_PRESSURE },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o, rc = 0;
	while (rc == 0 && (o = getopt_long(argc, argv, ":d:c:bB:Prh" TABLE_LETTERS, opts, NULL)) != -1) {
		switch (o) {
		case 'd': rc = repeat_delay("top", "--delay", optarg, 0.05, &t->delay); break;
		case 'c': rc = repeat_count("top", "--count", optarg, &t->count); break;
		case OPT_ITERATIONS: rc = repeat_count("top", "--iterations", optarg, &t->count); break;
		case OPT_DEPTH: rc = repeat_depth("top", "--depth", optarg, 1000, &t->depth); break;
		case OPT_SORT: rc = parse_sort("--sort", optarg, &t->sort); break;
		case OPT_ORDER: rc = parse_sort("--order", optarg, &t->sort); break;
		case 'b': t->batch = true; break;
		case 'P': t->processes = true; break;
		case OPT_PRESSURE: t->pressure = true; break;
		case 'r':
			if (optarg && strcmp(optarg, "yes") && strcmp(optarg, "no"))
				rc = cli_usage("top", "--recursive: '%s' is not yes or no", optarg);
			t->recursive = !optarg || !strcmp(optarg, "yes");
			break;
		case 'B':
			t->backend = pcon_backend_from_string(optarg);
			if (t->backend == PCON_BACKEND_INVALID)
				rc = cli_usage("top", "--backend: unknown backend '%s' (auto, kernel, proc, bpf)", optarg);
			break;
		case 'h': top_help(); return -1;
		default:
			if (!tout_option(&t->out, o, optarg))
				return cli_option_error("top", argv, o);
		}
	}
	if (rc)
		return rc;
	if (argc - optind > 1)
		return cli_usage("top", "one container at most");
	if (!t->batch && !t->out.list_columns && (t->out.json || t->out.raw))
		return cli_usage("top", "%s goes with -b (batch mode)", t->out.json ? "--json" : "--raw");
	/* a bad -o is said now, not once the screen is up */
	struct table tb;
	char *list = columns(t);
	struct tout o2 = t->out;
	o2.output = list;
	rc = list ? table_init(&tb, "top", "containers", cols, TC_N, DFLT, &o2) : cli_fail("top", "out of memory");
	free(list);
	if (rc == 0)
		table_free(&tb);
	return rc;
}

int cmd_top(struct cli *c, int argc, char **argv)
{
	struct top t = { .c = c, .depth = 3, .sort = TC_CPU, .delay = 1.0, .recursive = true };
	int rc = parse_args(&t, argc, argv);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (t.out.list_columns)
		return table_list_columns(cols, TC_N, &t.out);
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
	if (pcon_hier_find(c->p, "blkio", &t.blkio) < 0 && pcon_hier_find(c->p, "io", &t.blkio) < 0)
		t.blkio = NULL;
	struct pcon_container *probe;
	rc = t.root ? pcon_container_open(t.tree, t.root, &probe) : -ENOMEM;
	if (rc < 0) {
		rc = cli_errno(optind < argc ? argv[optind] : "/", rc);
	} else {
		pcon_container_free(probe);
		if (t.batch) {
			(void)top_take_sample(&t); /* the baseline for the rates */
			rc = run_batch(&t); /* its tables set the locale (table.c) */
		} else {
			setlocale(LC_CTYPE, ""); /* names (and the screen's '…') in UTF-8 where the terminal is */
			rc = run_curses(&t);
		}
	}
	top_sample_free(&t.prev);
	top_sample_free(&t.cur);
	top_loads_free(&t);
	if (optind < argc)
		pcon_spec_done(&spec);
	else
		free(t.root);
	return rc;
}
