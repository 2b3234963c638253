/* pcon create / remove / attach / exec / tasks: managing containers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pcon/owner.h"
#include "table.h"


/* Options common to these commands: -h and (for some) one flag letter. */
static int parse_flags(int argc, char **argv, const char *letters, const struct option *opts,
		       void (*help)(void), bool flags[static 4])
{
	const char *plain = letters + (letters[0] == '+'); /* flags[i] is plain[i] */
	int o;
	while ((o = getopt_long(argc, argv, letters, opts, NULL)) != -1) {
		if (o == 'h') {
			help();
			return 0;
		}
		const char *at = o > 0 ? strchr(plain, o) : NULL;
		if (o == '?' || o == ':' || !at)
			return cli_bad_option(argv[0], argv);
		flags[at - plain] = true;
	}
	return -1;
}

/* ---- create ---- */

static void create_help(void)
{
	printf("Usage: pcon create [OPTIONS] HIER:PATH...\n\n"
	       "Create containers, and any missing parents, in each hierarchy named.\n"
	       "A container that exists already is an error (nothing is made) unless -p\n"
	       "is given. All or nothing: if one cannot be created, or SIGINT, SIGTERM,\n"
	       "SIGHUP or SIGQUIT arrives, every container this command made is removed\n"
	       "again before it exits. After a create was killed outright (SIGKILL), the\n"
	       "same 'pcon create -p' completes it.\n"
	       "A new v1 cpuset container gets its parent's CPUs and memory nodes.\n\n"
	       "  -p, --parents                 existing containers are fine (like mkdir -p)\n"
	       "      --owner=USER[:GROUP]      give each container to USER: on v2 its\n"
	       "                                directory, cgroup.procs, cgroup.threads and\n"
	       "                                cgroup.subtree_control (the kernel's delegation),\n"
	       "                                on v1 every file but the task lists\n"
	       "      --task-owner=USER[:GROUP] give USER the task lists (tasks, cgroup.procs,\n"
	       "                                cgroup.threads): USER may move tasks in\n");
}

struct create_opts {
	bool parents;
	struct pcon_owner admin, tasks;
};

/* Every directory this command made, in the order made (undone in reverse). */
struct made {
	const struct pcon_hier *h;
	char *path;
};

struct made_list {
	struct made *v;
	size_t n, cap;
};

/* Record the levels pcon_container_create made: the deepest `levels` of path. */
static int made_add(struct made_list *m, const struct pcon_hier *h, const char *path, int levels)
{
	size_t depth = 0;
	for (const char *s = path; *s; s++)
		depth += *s == '/';
	for (size_t keep = depth - (size_t)levels + 1; keep <= depth; keep++) {
		size_t seen = 0;
		const char *s = path;
		for (; *s; s++)
			if (*s == '/' && ++seen > keep)
				break;
		if (m->n == m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 64;
			struct made *v = realloc(m->v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			m->v = v;
			m->cap = cap;
		}
		if (!(m->v[m->n].path = strndup(path, (size_t)(s - path))))
			return -ENOMEM;
		m->v[m->n++].h = h;
	}
	return 0;
}

/* Remove what was made, deepest and latest first; never a container this
 * command did not make (one someone else put inside stays, with its parents). */
static void made_undo(struct made_list *m, bool undo)
{
	for (size_t i = m->n; i-- > 0;) {
		if (undo)
			(void)pcon_container_remove(m->v[i].h, m->v[i].path, false);
		free(m->v[i].path);
	}
	free(m->v);
}

/* On v2, enable the controllers spec names (cpu,memory:/x) down to path. */
static int enable_named(const char *spec, const struct pcon_hier *h, const char *path)
{
	if (spec[0] == '/' || !strchr(spec, ':'))
		return 0;
	char list[256];
	snprintf(list, sizeof(list), "%.*s", (int)strcspn(spec, ":"), spec);
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, h->name) == 0 || strcmp(t, "v2") == 0)
			continue; /* names the hierarchy, not a controller */
		int r = pcon_container_enable(h, path, t);
		if (r == -EOPNOTSUPP)
			continue; /* this token named another hierarchy */
		if (r < 0)
			return cli_fail(spec, "cannot enable the %s controller: %s", t, strerror(-r));
	}
	return 0;
}

/* The signals that end a create early: held while it works, then acted on. */
static void create_signals(sigset_t *set)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;
		/* An ignored signal (nohup, a background job) must not undo the
		 * work: blocked, the kernel would keep it pending. */
		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			continue;
		sigaddset(set, sigs[i]);
	}
}

static bool create_interrupted(const sigset_t *set)
{
	sigset_t pending;
	if (sigpending(&pending) < 0)
		return false;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(set, sig) == 1 && sigismember(&pending, sig) == 1)
			return true;
	return false;
}

/* Give the container at path to its owners. 0, or the exit status. */
static int give(const char *name, const struct pcon_hier *h, const char *path, const struct create_opts *o)
{
	struct pcon_container *ct;
	int r = pcon_container_open(h, path, &ct);
	if (r == 0) {
		r = pcon_container_chown(ct, &o->admin, &o->tasks);
		pcon_container_free(ct);
	}
	return r < 0 ? cli_fail(name, "cannot give it to its owner: %s", strerror(-r)) : 0;
}

/* Create one spec in each of its hierarchies. 0, or the exit status. */
static int create_one(struct cli *c, const char *arg, const struct create_opts *o, struct made_list *m)
{
	bool parents = o->parents;
	const char *colon = strchr(arg, ':');
	if (!*(colon ? colon + 1 : arg))
		return cli_usage("create", "'%s' names no container (HIER:PATH)", arg);
	struct pcon_spec s;
	int rc = cli_spec(c, arg, &s);
	if (rc != 0)
		return rc;
	for (size_t k = 0; k < s.n && rc == 0; k++) {
		struct pcon_container *ct = NULL;
		int r = pcon_container_create(s.hiers[k], s.path, &ct);
		pcon_container_free(ct);
		/* Named as the user spelled it (cpu:/x, where cpu and cpuacct
		 * share a hierarchy), unless the name covers several. */
		const char *name = s.n == 1 ? arg : cli_spec_name(s.hiers[k], s.path);
		if (r > 0 && made_add(m, s.hiers[k], s.path, r) < 0)
			r = -ENOMEM;
		if (r == 0 && !parents)
			rc = cli_fail(name, "container exists (use -p to accept existing ones)");
		else if (r == -EINVAL) /* the name passed pcon_spec_parse: mkdir said it */
			rc = cli_fail(name, "cannot create: the kernel refuses this name "
				      "(cgroup names hold no newline)");
		else if (r < 0)
			rc = r == -ENOENT ? cli_fail(name, "cannot create: %s", strerror(-r))
					  : cli_errno(name, r);
		else if (s.hiers[k]->version == 2)
			rc = enable_named(arg, s.hiers[k], s.path);
		if (rc == 0 && (o->admin.set || o->tasks.set))
			rc = give(name, s.hiers[k], s.path, o);
	}
	pcon_spec_done(&s);
	return rc;
}

int cmd_create(struct cli *c, int argc, char **argv)
{
	enum { OPT_OWNER = 0x100, OPT_TASK_OWNER };
	static const struct option opts[] = {
		{ "parents", no_argument, NULL, 'p' },
		{ "owner", required_argument, NULL, OPT_OWNER },
		{ "task-owner", required_argument, NULL, OPT_TASK_OWNER },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct create_opts co = { 0 };
	int o;
	while ((o = getopt_long(argc, argv, "ph", opts, NULL)) != -1) {
		switch (o) {
		case 'p': co.parents = true; break;
		case 'h': create_help(); return 0;
		case OPT_OWNER:
		case OPT_TASK_OWNER:
			if (pcon_owner_parse(optarg, o == OPT_OWNER ? &co.admin : &co.tasks) < 0)
				return cli_usage(argv[0], "no such user or group '%s'", optarg);
			break;
		default: return cli_bad_option(argv[0], argv);
		}
	}
	if (optind >= argc)
		return cli_usage(argv[0], "no container named");

	/* Hold the signals that would end us half-way; if one came, undo and
	 * let it act once the tree is as it was. */
	sigset_t sigs, old;
	create_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	struct made_list m = { 0 };
	int rc = 0;
	bool interrupted = false;
	for (int i = optind; i < argc && rc == 0 && !interrupted; i++) {
		rc = create_one(c, argv[i], &co, &m);
		interrupted = create_interrupted(&sigs);
	}
	made_undo(&m, rc != 0 || interrupted);
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &old, NULL); /* a pending signal acts here */
	return interrupted && rc == 0 ? 130 : rc;
}

/* ---- remove ---- */

static void remove_help(void)
{
	printf("Usage: pcon remove [-r] HIER:PATH...\n\n"
	       "Remove empty containers. A container that holds tasks is refused; so is\n"
	       "one with child containers unless -r is given. All names are checked before\n"
	       "anything is removed.\n\n"
	       "  -r, --recursive  remove child containers too (none may hold tasks)\n");
}

int cmd_remove(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool f[4] = { 0 };
	int r = parse_flags(argc, argv, "rh", opts, remove_help, f);
	if (r >= 0)
		return r;
	bool recursive = f[0];
	if (optind >= argc)
		return cli_usage(argv[0], "no container named");

	/* First open every container: a bad name anywhere changes nothing. */
	struct pcon_container **cts;
	int n = cli_open_specs(c, argv + optind, argc - optind, &cts);
	if (n < 0)
		return 1;
	for (int i = 0; i < n; i++)
		if (strcmp(cts[i]->path, "/") == 0) {
			int rc = cli_fail(cli_name(cts[i]), "the root of a hierarchy cannot be removed");
			cli_free_specs(cts, n);
			return rc;
		}
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		r = pcon_container_remove(cts[i]->hier, cts[i]->path, recursive);
		if (r == -EXDEV)
			rc = cli_fail(cli_name(cts[i]), "a file system is mounted on it or below "
				      "(unmount it first)");
		else if (r < 0 && r != -ENOENT)
			rc = cli_errno(cli_name(cts[i]), r);
	}
	cli_free_specs(cts, n);
	return rc;
}

/* ---- attach ---- */

static void attach_help(void)
{
	printf("Usage: pcon attach HIER:PATH PID...\n"
	       "       pcon attach -T HIER:PATH TID...\n\n"
	       "Move whole processes (all their threads) into the container in each\n"
	       "hierarchy named. With -T, move single threads (cgroup v1, or a\n"
	       "threaded v2 container). Every id is checked before anything moves.\n"
	       "Options come before HIER:PATH.\n\n"
	       "  -T, --threads, --thread  the ids are thread ids: move only those threads\n"
	       "  -h, --help               show this help\n");
}

/* Parse a pid argument: a positive decimal that names a live task. */
static int parse_pid(struct cli *c, const char *s, pid_t *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		return cli_fail(s, "not a process id");
	char path[32];
	snprintf(path, sizeof(path), "%ld", v);
	struct stat st;
	if (fstatat(pcon_proc_fd(c->p), path, &st, 0) < 0) {
		/* a thread that is not a group leader is only under /proc/PID/task */
		snprintf(path, sizeof(path), "%ld/task/%ld", v, v);
		if (fstatat(pcon_proc_fd(c->p), path, &st, 0) < 0)
			return cli_fail(s, "no such process");
	}
	*ret = (pid_t)v;
	return 0;
}

int cmd_attach(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", no_argument, NULL, 'T' },
		{ "thread", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool f[4] = { 0 };
	int r = parse_flags(argc, argv, "+Th", opts, attach_help, f);
	if (r >= 0)
		return r;
	bool thread = f[0];
	if (optind >= argc)
		return cli_usage(argv[0], "no container named");
	if (optind + 1 >= argc)
		return cli_usage(argv[0], "no process id given");
	const char *spec = argv[optind++];
	int n_pids = argc - optind;
	pid_t pids[n_pids];
	for (int i = 0; i < n_pids; i++)
		if (parse_pid(c, argv[optind + i], &pids[i]) != 0)
			return 1;

	struct pcon_container *cts[PCON_SPEC_MAX_HIERS];
	int n = cli_open_all(c, spec, cts, PCON_SPEC_MAX_HIERS);
	if (n < 0)
		return 1;
	int rc = 0;
	for (int k = 0; k < n && rc == 0; k++)
		for (int i = 0; i < n_pids && rc == 0; i++) {
			r = pcon_container_attach(cts[k], pids[i], thread);
			if (r == -ESRCH)
				rc = cli_fail(argv[optind + i], "no such process");
			else if (r == -EOPNOTSUPP || (r == -EINVAL && thread))
				rc = cli_fail(cli_name(cts[k]), "cannot move single threads here "
						 "(only cgroup v1 or a threaded v2 container): %s",
					      strerror(-r));
			else if (r < 0)
				rc = r == -ENOSPC ? cli_errno(cli_name(cts[k]), r)
						  : cli_fail(cli_name(cts[k]), "cannot move %d: %s",
							     (int)pids[i], strerror(-r));
		}
	cli_close_all(cts, n);
	return rc;
}

/* ---- exec ---- */

static void exec_help(void)
{
	printf("Usage: pcon exec [OPTIONS] HIER:PATH [--] COMMAND [ARGS...]\n\n"
	       "Run COMMAND inside the container, in each hierarchy named (several as\n"
	       "HIER1,HIER2:PATH): pcon moves itself into each, then executes COMMAND,\n"
	       "so the command and every process it forks start inside. Like cgexec,\n"
	       "the first argument after HIER:PATH starts the command and pcon reads no\n"
	       "option after HIER:PATH ('--' there is allowed and skipped). Containers of\n"
	       "different paths: pcon exec cpu:/a pcon exec memory:/b COMMAND. The exit\n"
	       "status is COMMAND's; 127 if it was not found, 126 if it could not be\n"
	       "executed.\n\n"
	       "  -h, --help  show this help\n");
}

int cmd_exec(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	bool f[4] = { 0 };
	/* '+': options end at HIER:PATH; what follows is the command's */
	int r = parse_flags(argc, argv, "+h", opts, exec_help, f);
	if (r >= 0)
		return r;
	if (optind >= argc)
		return cli_usage(argv[0], "no container named");
	int cmd = optind + 1;
	if (cmd < argc && strcmp(argv[cmd], "--") == 0)
		cmd++;
	if (cmd >= argc)
		return cli_usage(argv[0], "no command given after '%s'", argv[optind]);

	struct pcon_container **cts;
	int n = cli_open_specs(c, argv + optind, 1, &cts);
	if (n < 0)
		return 1;
	for (int k = 0; k < n; k++) {
		r = pcon_container_attach(cts[k], getpid(), false);
		if (r < 0) {
			int rc = r == -ENOSPC ? cli_errno(argv[optind], r)
					      : cli_fail(argv[optind], "cannot move pcon into it: %s",
							 strerror(-r));
			cli_free_specs(cts, n);
			return rc;
		}
	}
	cli_free_specs(cts, n);
	pcon_close(c->p);
	c->p = NULL;
	fflush(stdout);
	cli_restore_nofile();
	execvp(argv[cmd], argv + cmd);
	int err = errno;
	cli_fail(argv[cmd], "%s", err == ENOENT ? "command not found" : strerror(err));
	exit(err == ENOENT ? 127 : 126);
}

/* ---- tasks ---- */

enum { TCOL_PID, TCOL_TID, TCOL_CONTAINER, TCOL_COMMAND };

static const struct tcol task_cols[] = {
	[TCOL_PID] = { "PID", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "process id (with -T: the thread's process)" },
	[TCOL_TID] = { "TID", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "thread id (with -T)" },
	[TCOL_CONTAINER] = { "CONTAINER", 0.4, 0, SCOLS_JSON_STRING, "the container it is in, HIER:PATH" },
	[TCOL_COMMAND] = { "COMMAND", 0.3, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "its command name (/proc/PID/comm)" },
};
#define N_TASK_COLS (sizeof(task_cols) / sizeof(task_cols[0]))

static void tasks_help(void)
{
	printf("Usage: pcon tasks [-T] [OUTPUT OPTIONS] HIER:PATH...\n\n"
	       "List the processes of containers (their own, not their children's), one\n"
	       "row each. The default columns are PID (TID with -T), and CONTAINER when\n"
	       "more than one container is listed (several names, or HIER1,HIER2:PATH).\n"
	       "'pcon tasks -n HIER:PATH' prints the bare ids, one a line.\n\n"
	       "  -T, --threads       list threads instead of processes\n"
	       TABLE_HELP
	       "  -h, --help          show this help\n");
}

/* A line of /proc/ID/FILE (comm, or status's "Tgid:"), NULL if it is gone. */
static char *proc_line(int proc_fd, pid_t id, const char *file, const char *key)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "%d/%s", (int)id, file);
	int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	char *at = buf;
	if (key && !(at = strstr(buf, key)))
		return NULL;
	at += key ? strlen(key) : 0;
	at += strspn(at, " \t");
	return strndup(at, strcspn(at, "\n"));
}

static int task_row(struct cli *c, struct table *t, const struct pcon_container *ct, pid_t id,
		    bool threads)
{
	struct libscols_line *ln = table_row(t, NULL);
	if (!ln)
		return -ENOMEM;
	int proc = pcon_proc_fd(c->p), r;
	if (threads) {
		char *tgid = table_has(t, TCOL_PID) ? proc_line(proc, id, "status", "Tgid:") : NULL;
		r = table_set(t, ln, TCOL_PID, tgid);
		free(tgid);
		r = r ?: table_set_u64(t, ln, TCOL_TID, (uint64_t)id);
	} else {
		r = table_set_u64(t, ln, TCOL_PID, (uint64_t)id);
		r = r ?: table_set(t, ln, TCOL_TID, NULL);
	}
	r = r ?: table_set(t, ln, TCOL_CONTAINER, cli_name(ct)); /* escaped already */
	if (r == 0 && table_has(t, TCOL_COMMAND)) {
		char *comm = proc_line(proc, id, "comm", NULL);
		r = table_set_name(t, ln, TCOL_COMMAND, comm); /* any bytes: escaped */
		free(comm);
	}
	return r;
}

int cmd_tasks(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", no_argument, NULL, 'T' },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tout out = { 0 };
	bool threads = false;
	int o;
	while ((o = getopt_long(argc, argv, ":T" TABLE_LETTERS "h", opts, NULL)) != -1) {
		if (o == 'h') {
			tasks_help();
			return 0;
		}
		if (o == 'T')
			threads = true;
		else if (!tout_option(&out, o, optarg))
			return cli_option_error(argv[0], argv, o);
	}
	if (out.list_columns)
		return table_list_columns(task_cols, N_TASK_COLS, &out);
	if (optind >= argc)
		return cli_usage(argv[0], "no container named");

	/* Every container is opened first: a bad name anywhere prints nothing. */
	struct pcon_container **cts;
	int n = cli_open_specs(c, argv + optind, argc - optind, &cts);
	if (n < 0)
		return 1;
	const char *dflt = threads ? (n > 1 ? "TID,CONTAINER" : "TID") : (n > 1 ? "PID,CONTAINER" : "PID");
	struct table t;
	int rc = table_init(&t, argv[0], "tasks", task_cols, N_TASK_COLS, dflt, &out);
	if (rc) {
		cli_free_specs(cts, n);
		return rc;
	}
	for (int k = 0; k < n && rc == 0; k++) {
		pid_t *ids = NULL;
		int m = pcon_container_tasks(cts[k], threads, &ids);
		if (m < 0) {
			rc = cli_errno(cli_name(cts[k]), m);
			break;
		}
		for (int i = 0; i < m && rc == 0; i++) {
			int r = task_row(c, &t, cts[k], ids[i], threads);
			if (r < 0)
				rc = cli_errno(cli_name(cts[k]), r);
		}
		free(ids);
	}
	if (rc == 0)
		rc = table_print(&t);
	table_free(&t);
	cli_free_specs(cts, n);
	return rc;
}
