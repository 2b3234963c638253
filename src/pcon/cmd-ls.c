/* pcon ls: the tree of containers, optionally with their processes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "table.h"

static inline void freep_(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(freep_)))

enum { COL_NAME, COL_PATH, COL_ID, COL_PROCS, COL_THREADS, COL_PID, COL_COMMAND, COL_ERROR };

static const struct tcol cols[] = {
	[COL_NAME] = { "NAME", 0.3, SCOLS_FL_TREE, SCOLS_JSON_STRING,
		       "the container's name below its parent (a top row: HIER:PATH); a process row: its command" },
	[COL_PATH] = { "PATH", 0.3, 0, SCOLS_JSON_STRING, "the container's full name, HIER:PATH" },
	[COL_ID] = { "ID", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "cgroup id (the inode number of its directory)" },
	[COL_PROCS] = { "PROCS", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "processes in the container itself" },
	[COL_THREADS] = { "THREADS", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads in the container itself" },
	[COL_PID] = { "PID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "a process row (-P): its process id" },
	[COL_COMMAND] = { "COMMAND", 0.3, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "a process row (-P): its command line" },
	[COL_ERROR] = { "ERROR", 0.2, 0, SCOLS_JSON_STRING, "why a container that exists could not be opened" },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

struct ls {
	struct cli *c;
	struct table t;
	bool procs;         /* -P: process rows */
	long depth;         /* --depth: levels below the named containers */
	int unreadable;     /* children listed but not opened */
};

static void ls_help(void)
{
	printf("Usage: pcon ls [OPTIONS] [HIER:PATH...]\n\n"
	       "Show the tree of containers below each container named (default: the\n"
	       "root of every hierarchy), one row each.\n\n"
	       "  -P, --processes     each container's processes as rows below it (PID, and\n"
	       "                      the command line as NAME)\n"
	       "      --depth N       at most N levels below the containers named (0: them)\n"
	       TABLE_HELP
	       "  -h, --help          show this help\n\n"
	       "Default columns: NAME,ID,PROCS,THREADS; with -P also PID; with -J also\n"
	       "ERROR. JSON nests each row's children in \"children\", at any depth.\n"
	       "Names are printed escaped (\\\\, \\t, \\n, \\xHH), as pcon accepts them back.\n"
	       "A container that exists but cannot be opened (a file system mounted over\n"
	       "it, without CAP_DAC_READ_SEARCH) is a row 'NAME (unreadable)', with ERROR\n"
	       "saying why; it is reported on stderr, and the exit status is 1.\n");
}

/* A process's command line: NULs between arguments as spaces, "[comm]" for
 * kernel threads. Its bytes as they are: table_set_name escapes them. */
static void task_command(int proc_fd, pid_t pid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "%d/cmdline", (int)pid);
	ssize_t n = -1;
	int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(path, sizeof(path), "%d/comm", (int)pid);
		fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
		char comm[64] = "?";
		if (fd >= 0) {
			ssize_t m = read(fd, comm, sizeof(comm) - 1);
			comm[m > 0 ? m : 0] = '\0';
			comm[strcspn(comm, "\n")] = '\0';
			close(fd);
		}
		snprintf(buf, size, "[%s]", comm);
		n = (ssize_t)strlen(buf);
	}
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
}

static int add_procs(struct ls *l, struct libscols_line *parent, const pid_t *pids, int n)
{
	char cmd[4096];
	int r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		struct libscols_line *ln = table_row_empty(&l->t, parent);
		if (!ln)
			return -ENOMEM;
		task_command(pcon_proc_fd(l->c->p), pids[i], cmd, sizeof(cmd));
		r = table_set_name(&l->t, ln, COL_NAME, cmd);
		r = r ?: table_set_u64(&l->t, ln, COL_PID, (uint64_t)pids[i]);
		r = r ?: table_set_name(&l->t, ln, COL_COMMAND, cmd);
	}
	return r;
}

/* "HIER:PATH" of a hierarchy and a raw path (NULL if out of memory). */
static char *full_name(const struct pcon_hier *h, const char *path)
{
	char *s;
	return asprintf(&s, "%s:%s", h->name, path) < 0 ? NULL : s;
}

/* A child that exists but cannot be opened: a row, marked, reported. */
static int unreadable(struct ls *l, struct libscols_line *parent, const struct pcon_container *ct,
		      const char *name, int err)
{
	_cleanup_free_ char *path = NULL, *shown = NULL;
	if (asprintf(&path, "%s/%s", strcmp(ct->path, "/") ? ct->path : "", name) < 0)
		return -ENOMEM;
	_cleanup_free_ char *full = full_name(ct->hier, path);
	struct libscols_line *ln = table_row_empty(&l->t, parent);
	if (!full || !ln || asprintf(&shown, "%s%s", name, l->t.json ? "" : " (unreadable)") < 0)
		return -ENOMEM;
	int r = table_set_name(&l->t, ln, COL_NAME, shown);
	r = r ?: table_set_name(&l->t, ln, COL_PATH, full);
	r = r ?: table_set(&l->t, ln, COL_ERROR, cli_strerror(err));
	cli_errno(cli_spec_name(ct->hier, path), err);
	l->unreadable++;
	return r;
}

static int count(const struct pcon_container *ct, bool threads, uint64_t *ret)
{
	pid_t *pids = NULL;
	int n = pcon_container_tasks(ct, threads, &pids);
	free(pids);
	if (n >= 0)
		*ret = (uint64_t)n;
	return n;
}

/* ct's row (name: what NAME shows), its processes and, recursively, its
 * children below it. A container removed while we look is skipped. */
static int walk(struct ls *l, struct libscols_line *parent, const struct pcon_container *ct,
		const char *name, long level)
{
	_cleanup_free_ pid_t *pids = NULL;
	char **kids = NULL;
	uint64_t procs = 0, threads = 0;
	int n_pids = l->procs || table_has(&l->t, COL_PROCS) ? pcon_container_tasks(ct, false, &pids) : 0;
	int n_threads = table_has(&l->t, COL_THREADS) ? count(ct, true, &threads) : 0;
	int n_kids = level < l->depth ? pcon_container_children(ct, &kids) : 0;
	int err = n_pids < 0 ? n_pids : n_threads < 0 ? n_threads : n_kids < 0 ? n_kids : 0;
	if (err) {
		pcon_strv_free(kids);
		return err == -ENOENT && parent ? 0 : err;
	}
	procs = (uint64_t)n_pids;
	_cleanup_free_ char *full = full_name(ct->hier, ct->path);
	struct libscols_line *ln = table_row_empty(&l->t, parent);
	int r = full && ln ? 0 : -ENOMEM;
	r = r ?: table_set_name(&l->t, ln, COL_NAME, name);
	r = r ?: table_set_name(&l->t, ln, COL_PATH, full);
	r = r ?: table_set_u64(&l->t, ln, COL_ID, ct->id);
	r = r ?: table_set_u64(&l->t, ln, COL_PROCS, procs);
	r = r ?: table_set_u64(&l->t, ln, COL_THREADS, threads);
	if (r == 0 && l->procs)
		r = add_procs(l, ln, pids, n_pids);
	for (int i = 0; i < n_kids && r == 0; i++) {
		struct pcon_container *kid;
		int k = pcon_container_open_child(ct, kids[i], &kid);
		if (k == -ENOENT)
			continue; /* removed since it was listed */
		if (k < 0) {
			r = unreadable(l, ln, ct, kids[i], k);
			continue;
		}
		r = walk(l, ln, kid, kids[i], level + 1);
		pcon_container_free(kid);
	}
	pcon_strv_free(kids);
	return r;
}

/* The root container of every hierarchy that can be opened. */
static int open_roots(struct cli *c, struct pcon_container ***ret)
{
	size_t nh;
	const struct pcon_hier *h = pcon_hiers(c->p, &nh);
	struct pcon_container **v = calloc(nh + 1, sizeof(*v));
	if (!v)
		return cli_fail("ls", "out of memory"), -1;
	int n = 0;
	for (size_t i = 0; i < nh; i++)
		if (pcon_container_open(&h[i], "/", &v[n]) == 0)
			n++;
	*ret = v;
	return n;
}

static int parse_depth(const char *cmd, const char *arg, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || errno || v < 0)
		return cli_usage(cmd, "--depth: '%s' is not a number of levels (0 or more)", arg);
	*ret = v;
	return 0;
}

static int ls_list(struct ls *l, struct pcon_container **cts, int n)
{
	int r = 0, rc = 0;
	for (int i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *full = full_name(cts[i]->hier, cts[i]->path);
		r = full ? walk(l, NULL, cts[i], full, 0) : -ENOMEM;
		if (r < 0)
			rc = cli_errno(cli_name(cts[i]), r);
	}
	if (r == 0)
		rc = table_print(&l->t);
	return rc;
}

int cmd_ls(struct cli *c, int argc, char **argv)
{
	enum { OPT_DEPTH = 0x100 };
	static const struct option opts[] = {
		{ "processes", no_argument, NULL, 'P' },
		{ "depth", required_argument, NULL, OPT_DEPTH },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ls l = { .c = c, .depth = LONG_MAX };
	struct tout out = { 0 };
	int o;
	while ((o = getopt_long(argc, argv, ":P" TABLE_LETTERS "h", opts, NULL)) != -1) {
		if (o == 'P')
			l.procs = true;
		else if (o == OPT_DEPTH) {
			if (parse_depth(argv[0], optarg, &l.depth))
				return 2;
		} else if (o == 'h') {
			ls_help();
			return 0;
		} else if (!tout_option(&out, o, optarg))
			return cli_option_error(argv[0], argv, o);
	}
	if (out.list_columns)
		return table_list_columns(cols, NCOLS, &out);
	char dflt[64];
	snprintf(dflt, sizeof(dflt), "NAME%s,ID,PROCS,THREADS%s", l.procs ? ",PID" : "",
		 out.json ? ",ERROR" : "");
	int r = table_init(&l.t, argv[0], "containers", cols, NCOLS, dflt, &out);
	if (r)
		return r;
	/* Open everything first, so a bad name prints nothing else. */
	struct pcon_container **cts;
	int n = optind < argc ? cli_open_specs(c, argv + optind, argc - optind, &cts)
			      : open_roots(c, &cts);
	int rc = n < 0 ? 1 : ls_list(&l, cts, n);
	if (n >= 0)
		cli_free_specs(cts, n);
	table_free(&l.t);
	return rc == 0 && l.unreadable ? 1 : rc;
}
