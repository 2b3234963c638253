/* pcon events: what happens to the tasks of containers, as it happens. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pcon/events.h"
#include "pcond-client.h"
#include "events-table.h"

#define MAX_CONTAINERS 16

struct events {
	bool tabular;        /* -o, --raw, -J: through the table */
	struct table t;
	bool printed;        /* the table has printed once (its header) */
	int write_rc;        /* the exit status of a failed write */
	const char *on_empty;
	int empty_sub;       /* --on-empty: the subscription to wait for */
	bool emptied;
	int n_subs, n_gone;  /* subscriptions, and those whose container was removed */
	int64_t mono_to_real_ns;
	struct proto_event *decoded; /* through pcond: the line being shown */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void install_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void events_help(void)
{
	printf("Usage: pcon events [OPTIONS] [HIER:PATH]\n"
	       "       pcon events --on-empty CMD HIER:PATH\n"
	       "       pcon events --when EXPR [--on-event CMD] HIER:PATH\n\n"
	       "Print what happens to the tasks of a container as it happens, one line\n"
	       "each: fork, exec, exit, uid, gid, move (between containers), populated\n"
	       "and empty (the container, with its descendants, got its first task or\n"
	       "lost its last one), and lost (events the kernel dropped, with the\n"
	       "count). Without HIER:PATH: every container of the default hierarchy.\n"
	       "Where pcond runs, pcon subscribes through it; else it listens to the\n"
	       "kernel's proc connector itself (root on most systems), and sees moves\n"
	       "as they happen only where it can load its eBPF program (root).\n\n"
	       "  -r, --recursive     include descendant containers\n"
	       "      --direct        listen to the kernel even where pcond runs\n"
	       "      --on-empty=CMD  run CMD with /bin/sh -c once the container becomes\n"
	       "                      empty (its name is $1 and $PCON_CONTAINER), then\n"
	       "                      exit with CMD's exit status\n"
	       "      --when=EXPR     a threshold event each time EXPR (load1>1.5,\n"
	       "                      running>4, cpu.some.avg10>20, memory.full.avg10>5)\n"
	       "                      becomes true and again when it stops being true\n"
	       "                      (with hysteresis); pcond evaluates it\n"
	       "      --on-event=CMD  with --when: run CMD with /bin/sh -c at each one\n"
	       "                      ($PCON_CONTAINER, $PCON_EXPR, $PCON_STATE, $PCON_VALUE)\n"
	       TABLE_HELP
	       "  -h, --help          show this help\n\n"
	       "Events are a stream: without -o, --raw or -J, one line of text each.\n"
	       "-o or --raw: one line each of the columns named (all by default; with\n"
	       "--when: TIME,TYPE,CONTAINER,EXPR,STATE,VALUE,SOURCE), unaligned, blanks\n"
	       "as \\x20, '-' where an event has no such field, after one header line.\n"
	       "-J: one JSON document {\"events\": [{...}]} per event, each complete as it\n"
	       "is printed (jq reads the stream); fields an event has not are null.\n");
}

static int64_t mono_to_real(void)
{
	struct timespec r, m;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000 + (r.tv_nsec - m.tv_nsec);
}

/* An event as printed: from the library, or from pcond's line. */
struct shown {
	const struct pcon_event *ev;
	const char *hier;   /* hierarchy name, NULL for lost */
	int64_t real_ns;    /* when, since the epoch */
	const char *source; /* lost: "pcond" if pcond dropped them for us, else NULL */
	bool withheld;      /* exec/exit: pcond withheld the name or status (not our task) */
};

static bool has_task(enum pcon_event_type t)
{
	return t != PCON_EVENT_EMPTY && t != PCON_EVENT_POPULATED && t != PCON_EVENT_GONE &&
	       t != PCON_EVENT_LOST;
}

/* A name (or comm) in the text form pcon prints names in: one event a line. */
static void put_escaped(const char *s)
{
	char *esc = NULL;
	if (s && pcon_escape_name_dup(s, &esc) == 0)
		fputs(esc, stdout);
	else
		fputs("?", stdout);
	free(esc);
}

static const struct tcol cols[] = {
	[EV_TIME] = { "TIME", 17, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "when, in seconds since 1970 (to the microsecond)" },
	[EV_TYPE] = { "TYPE", 9, 0, SCOLS_JSON_STRING, "fork, exec, exit, uid, gid, move, populated, empty, gone, lost, threshold" },
	[EV_CONTAINER] = { "CONTAINER", 0.3, 0, SCOLS_JSON_STRING, "the container, HIER:PATH (move: the new one)" },
	[EV_HIERARCHY] = { "HIERARCHY", 0.1, 0, SCOLS_JSON_STRING, "its hierarchy (HIER)" },
	[EV_PID] = { "PID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "the task's process id" },
	[EV_TID] = { "TID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "the task's thread id" },
	[EV_PARENT_PID] = { "PARENT_PID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "fork: the process that forked" },
	[EV_PARENT_TID] = { "PARENT_TID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "fork: the thread that forked" },
	[EV_COMM] = { "COMM", 0.1, 0, SCOLS_JSON_STRING, "exec: the new command name" },
	[EV_CODE] = { "CODE", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "exit: the exit status (null: killed, or withheld)" },
	[EV_SIGNAL] = { "SIGNAL", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "exit: the signal that killed it" },
	[EV_RUID] = { "RUID", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "uid: the new real uid" },
	[EV_EUID] = { "EUID", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "uid: the new effective uid" },
	[EV_RGID] = { "RGID", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "gid: the new real gid" },
	[EV_EGID] = { "EGID", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "gid: the new effective gid" },
	[EV_FROM] = { "FROM", 0.2, 0, SCOLS_JSON_STRING, "move: the container it left, HIER:PATH" },
	[EV_CACHED] = { "CACHED", 1, 0, SCOLS_JSON_BOOLEAN_OPTIONAL,
			"the container was resolved late (the task had moved or exited)" },
	[EV_WITHHELD] = { "WITHHELD", 1, 0, SCOLS_JSON_BOOLEAN_OPTIONAL,
			  "exec/exit: pcond withheld the name or status (a task not yours)" },
	[EV_LOST] = { "LOST", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "lost: how many events were dropped" },
	[EV_SOURCE] = { "SOURCE", 6, 0, SCOLS_JSON_STRING,
			"lost: pcond if pcond dropped them for this reader; threshold: sample or psi" },
	[EV_EXPR] = { "EXPR", 0.1, 0, SCOLS_JSON_STRING, "threshold: the expression (--when)" },
	[EV_STATE] = { "STATE", 5, 0, SCOLS_JSON_STRING, "threshold: on or off" },
	[EV_VALUE] = { "VALUE", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threshold: the value that crossed it" },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

bool events_tabular(const struct tout *o)
{
	return o->output || o->raw || o->json;
}

int events_list_columns(const struct tout *o)
{
	return table_list_columns(cols, NCOLS, o);
}

int events_table_init(struct table *t, const struct tout *o, bool when)
{
	/* Rows come one at a time: columns aligned to each row alone would
	 * not line up, so text is always --raw. */
	struct tout raw = *o;
	raw.raw = !o->json;
	return table_init(t, "events", "events", cols, NCOLS,
			  when ? "TIME,TYPE,CONTAINER,EXPR,STATE,VALUE,SOURCE"
			       : "TIME,TYPE,CONTAINER,PID,TID,PARENT_PID,PARENT_TID,COMM,CODE,SIGNAL,"
				 "RUID,EUID,RGID,EGID,FROM,CACHED,WITHHELD,LOST,SOURCE",
			  &raw);
}

/* "HIER:PATH" of an event's path in cell id (raw bytes: table_set_name escapes). */
static int set_container(struct table *t, struct libscols_line *ln, int id, const char *hier,
			 const char *path)
{
	if (!path)
		return table_set(t, ln, id, NULL);
	char *name = NULL;
	if (asprintf(&name, "%s:%s", hier, path) < 0)
		return -ENOMEM;
	int r = table_set_name(t, ln, id, name);
	free(name);
	return r;
}

/* The cells only some types of event have. */
static int set_details(struct table *t, struct libscols_line *ln, const struct shown *sh)
{
	const struct pcon_event *ev = sh->ev;
	bool uid = ev->type == PCON_EVENT_UID;
	switch (ev->type) {
	case PCON_EVENT_FORK: {
		int r = table_setf(t, ln, EV_PARENT_PID, "%d", (int)ev->parent_pid);
		return r ?: table_setf(t, ln, EV_PARENT_TID, "%d", (int)ev->parent_tid);
	}
	case PCON_EVENT_EXEC:
		return table_set_name(t, ln, EV_COMM, ev->comm);
	case PCON_EVENT_EXIT:
		if (sh->withheld)
			return 0;
		if (WIFSIGNALED(ev->exit_code))
			return table_setf(t, ln, EV_SIGNAL, "%d", WTERMSIG(ev->exit_code));
		return table_setf(t, ln, EV_CODE, "%d", WEXITSTATUS(ev->exit_code));
	case PCON_EVENT_UID:
	case PCON_EVENT_GID: {
		int r = table_set_u64(t, ln, uid ? EV_RUID : EV_RGID, ev->rid);
		return r ?: table_set_u64(t, ln, uid ? EV_EUID : EV_EGID, ev->eid);
	}
	case PCON_EVENT_MOVE:
		return set_container(t, ln, EV_FROM, sh->hier, ev->from_path);
	case PCON_EVENT_LOST: {
		int r = table_set_u64(t, ln, EV_LOST, ev->lost);
		return r ?: table_set(t, ln, EV_SOURCE, sh->source);
	}
	default:
		return 0;
	}
}

/* One event as a row of the table, printed at once. */
static void print_row(struct events *s, const struct shown *sh)
{
	const struct pcon_event *ev = sh->ev;
	struct table *t = &s->t;
	struct libscols_line *ln = table_row_empty(t, NULL);
	int r = ln ? 0 : -ENOMEM;
	r = r ?: table_setf(t, ln, EV_TIME, "%lld.%06lld", (long long)(sh->real_ns / 1000000000),
			    (long long)(sh->real_ns % 1000000000 / 1000));
	r = r ?: table_set(t, ln, EV_TYPE, pcon_event_type_to_string(ev->type));
	if (sh->hier) {
		r = r ?: set_container(t, ln, EV_CONTAINER, sh->hier, ev->path);
		r = r ?: table_set_name(t, ln, EV_HIERARCHY, sh->hier);
	}
	if (has_task(ev->type)) {
		r = r ?: table_setf(t, ln, EV_PID, "%d", (int)ev->pid);
		r = r ?: table_setf(t, ln, EV_TID, "%d", (int)ev->tid);
		r = r ?: table_set(t, ln, EV_CACHED, ev->flags & PCON_EVENT_F_CACHED ? "1" : "0");
	}
	if (ev->type == PCON_EVENT_EXEC || ev->type == PCON_EVENT_EXIT)
		r = r ?: table_set(t, ln, EV_WITHHELD, sh->withheld ? "1" : "0");
	r = r ?: set_details(t, ln, sh);
	if (r < 0 && !s->write_rc)
		s->write_rc = cli_fail("events", "out of memory");
	int rc = table_print_rows(t, !s->printed);
	s->printed = true;
	if (rc && !s->write_rc)
		s->write_rc = rc;
}

static void print_text(const struct shown *sh)
{
	const struct pcon_event *ev = sh->ev;
	int64_t real = sh->real_ns;
	time_t sec = (time_t)(real / 1000000000);
	struct tm tm;
	char when[32];
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s.%06ld %-9s ", when, (long)(real % 1000000000 / 1000),
	       pcon_event_type_to_string(ev->type));
	if (ev->type == PCON_EVENT_LOST) {
		printf("- count=%llu%s\n", (unsigned long long)ev->lost,
		       sh->source ? " (dropped by pcond: pcon read too slowly)" : "");
		return;
	}
	put_escaped(sh->hier);
	putchar(':');
	put_escaped(ev->path);
	if (!has_task(ev->type)) {
		putchar('\n');
		return;
	}
	printf(" pid=%d", (int)ev->pid);
	if (ev->tid != ev->pid)
		printf(" tid=%d", (int)ev->tid);
	switch (ev->type) {
	case PCON_EVENT_FORK:
		printf(" parent=%d", (int)ev->parent_pid);
		break;
	case PCON_EVENT_EXEC:
		fputs(" comm=", stdout);
		put_escaped(ev->comm ? ev->comm : "?");
		break;
	case PCON_EVENT_EXIT:
		if (sh->withheld)
			printf(" code=?");
		else if (WIFSIGNALED(ev->exit_code))
			printf(" signal=%d", WTERMSIG(ev->exit_code));
		else
			printf(" code=%d", WEXITSTATUS(ev->exit_code));
		break;
	case PCON_EVENT_UID:
	case PCON_EVENT_GID:
		printf(" %s=%u %s=%u", ev->type == PCON_EVENT_UID ? "ruid" : "rgid", ev->rid,
		       ev->type == PCON_EVENT_UID ? "euid" : "egid", ev->eid);
		break;
	case PCON_EVENT_MOVE:
		fputs(" from=", stdout);
		put_escaped(ev->from_path ? ev->from_path : "?");
		break;
	default:
		break;
	}
	puts(ev->flags & PCON_EVENT_F_CACHED ? " (cached)" : "");
}

static void show(struct events *s, const struct shown *sh)
{
	if (sh->ev->type == PCON_EVENT_GONE)
		s->n_gone++;
	if (s->tabular)
		print_row(s, sh);
	else
		print_text(sh);
}

static int on_event(const struct pcon_event *ev, void *userdata)
{
	struct events *s = userdata;
	if (s->on_empty) {
		if (ev->type == PCON_EVENT_GONE)
			s->n_gone++; /* removed while empty: it will never empty now */
		if (ev->type == PCON_EVENT_EMPTY && ev->subscription == s->empty_sub) {
			s->emptied = true;
			return -ECANCELED; /* stop dispatching: run the command */
		}
		return 0;
	}
	struct shown sh = { .ev = ev, .hier = ev->hier ? ev->hier->name : NULL,
			    .real_ns = (int64_t)ev->time_ns + s->mono_to_real_ns };
	show(s, &sh);
	return 0;
}

/* Run CMD through the shell; its exit status (128+N if killed by signal N). */
static int run_on_empty(const char *cmd, const char *name)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return cli_fail("events", "cannot run --on-empty command: %s", strerror(errno));
	if (pid == 0) {
		setenv("PCON_CONTAINER", name, 1);
		execl("/bin/sh", "sh", "-c", cmd, "sh", name, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return cli_fail("events", "waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int fail_new(int r)
{
	if (r == -EPERM || r == -EACCES)
		return cli_fail("events", "the kernel's proc connector refused this user: %s "
					  "(run as root)", strerror(-r));
	if (r == -EPROTONOSUPPORT)
		return cli_fail("events", "this kernel has no proc connector (CONFIG_PROC_EVENTS)");
	return cli_fail("events", "cannot listen to the kernel's process events: %s", strerror(-r));
}

/* ---- through pcond ------------------------------------------------------ */

#define LINE_MAX_BYTES PROTO_EVENT_MAX

/* One "event k=v ..." line of pcond (decoded by lib/proto.c, the codec
 * pcond writes it with), shown as the library's event would be. A type
 * this pcon does not know, or a malformed line, is skipped. */
static void on_line(struct events *s, const char *line)
{
	struct proto_event *pe = s->decoded;
	if (!pe || proto_event_parse(line, strlen(line), pe) < 0)
		return;
	struct shown sh = { .ev = &pe->ev, .real_ns = pe->real_ns,
			    .withheld = pe->flags & PROTO_EVENT_WITHHELD };
	if (pe->ev.type == PCON_EVENT_LOST) {
		sh.source = pe->flags & PROTO_EVENT_SOURCE_PCOND ? "pcond" : NULL;
	} else {
		sh.hier = pe->hier;
	}
	if (!sh.real_ns) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		sh.real_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	}
	show(s, &sh);
}

/* Read pcond's reply to the subscription: 1 ok (*ret_moves set), 0 pcond
 * cannot serve it (fall back, quietly), -1 an error was printed. */
static int read_reply(int fd, const char *name, char *buf, size_t *len, int *ret_n, int *ret_moves)
{
	for (;;) {
		char *nl = memchr(buf, '\n', *len);
		if (nl) {
			*nl = '\0';
			size_t used = (size_t)(nl + 1 - buf);
			int rc = 0, n = 0, moves = 1;
			if (sscanf(buf, "ok %d moves=%d", &n, &moves) >= 1 && n > 0) {
				*ret_n = n;
				*ret_moves = moves;
				rc = 1;
			} else if (!strncmp(buf, "err ENOENT", 10) || !strncmp(buf, "err ENODEV", 10)) {
				const char *msg = strchr(buf + 4, ' ');
				cli_fail(name, "%s", msg ? msg + 1 : buf);
				rc = -1;
			}
			/* else an older pcond (ENOSYS), or one that cannot listen: direct */
			memmove(buf, buf + used, *len - used);
			*len -= used;
			return rc;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 10000);
		if (r < 0 && errno == EINTR && !stop)
			continue;
		if (r <= 0 || *len + 1 >= LINE_MAX_BYTES)
			return 0;
		ssize_t k = recv(fd, buf + *len, LINE_MAX_BYTES - 1 - *len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 0;
		*len += (size_t)k;
	}
}

/* Print pcond's event lines until a signal, or every container is gone. */
static int stream(int fd, struct events *s, char *buf, size_t len)
{
	for (;;) {
		char *nl;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			on_line(s, buf);
			size_t used = (size_t)(nl + 1 - buf);
			memmove(buf, buf + used, len - used);
			len -= used;
		}
		if (s->write_rc)
			return s->write_rc;
		if (fflush(stdout) != 0)
			return cli_fail("events", "write error: %s", strerror(errno));
		if (s->n_gone >= s->n_subs)
			return 0; /* every container was removed */
		if (len + 1 >= LINE_MAX_BYTES)
			len = 0; /* no line is this long: drop the garbage */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = stop ? 0 : poll(&p, 1, -1);
		if (stop)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cli_fail("events", "poll: %s", strerror(errno));
		ssize_t k = recv(fd, buf + len, LINE_MAX_BYTES - 1 - len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return cli_fail("events", "pcond closed the connection%s%s",
					k < 0 ? ": " : "", k < 0 ? strerror(errno) : "");
		len += (size_t)k;
	}
}

/* Subscribe through pcond when one answers on the socket. 1: done, rc in
 * *ret_rc; 0: no pcond (or one that cannot serve this), use the kernel. */
static int via_pcond(struct cli *c, struct events *s, const char *name, bool recursive, int *ret_rc)
{
	int fd = pcond_connect(pcond_socket(c));
	if (fd < 0)
		return 0;
	char req[PROTO_LINE_MAX];
	if (proto_request_format(PROTO_SUBSCRIBE, recursive, name, 0, req, sizeof(req)) < 0) {
		close(fd);
		return 0; /* too long for pcond: the kernel directly */
	}
	char *buf = malloc(LINE_MAX_BYTES);
	s->decoded = malloc(sizeof(*s->decoded));
	size_t len = 0;
	int n = 0, moves = 1, r = 0;
	if (buf && s->decoded && send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req))
		r = read_reply(fd, name, buf, &len, &n, &moves);
	if (r == 1) {
		if (!moves)
			fprintf(stderr, "pcon: events: note: moves between containers are seen late "
					"(pcond could not load the eBPF move tracker)\n");
		s->n_subs = n;
		*ret_rc = stream(fd, s, buf, len);
	} else if (r < 0) {
		*ret_rc = 1;
	}
	free(buf);
	free(s->decoded);
	s->decoded = NULL;
	close(fd);
	return r != 0;
}

/* ---- directly from the kernel ------------------------------------------ */

/* Wait for and print events until a signal (or --on-empty fires). */
static int loop(struct pcon_events *e, struct events *s)
{
	struct pollfd pfd = { .fd = pcon_events_fd(e), .events = POLLIN };
	while (!stop) {
		int r = poll(&pfd, 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cli_fail("events", "poll: %s", strerror(errno));
		r = pcon_events_dispatch(e, on_event, s);
		if (s->write_rc)
			return s->write_rc;
		if (fflush(stdout) != 0)
			return cli_fail("events", "write error: %s", strerror(errno));
		if (s->emptied)
			return 0;
		if (r < 0)
			return cli_fail("events", "reading events: %s", strerror(-r));
		if (s->n_subs > 0 && s->n_gone >= s->n_subs)
			return 0; /* every container was removed: nothing more to see */
	}
	return 0;
}

struct events_opts;
static int events_run(struct cli *c, struct events *s, struct events_opts *eo, const char *spec);

/* The options of pcon events. */
struct events_opts {
	struct tout out;
	unsigned flags;
	bool direct;
	const char *when, *on_event;
};

/* Parse them into *ret and s; -1 to go on, else the exit status. */
static int parse_opts(struct events *s, struct events_opts *ret, int argc, char **argv)
{
	enum { OPT_ON_EMPTY = 0x100, OPT_WHEN, OPT_ON_EVENT, OPT_DIRECT };
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "on-empty", required_argument, NULL, OPT_ON_EMPTY },
		{ "when", required_argument, NULL, OPT_WHEN },
		{ "on-event", required_argument, NULL, OPT_ON_EVENT },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, ":r" TABLE_LETTERS "h", opts, NULL)) != -1) {
		switch (o) {
		case 'r': ret->flags |= PCON_EVENTS_RECURSIVE; break;
		case OPT_ON_EMPTY: s->on_empty = optarg; break;
		case OPT_WHEN: ret->when = optarg; break;
		case OPT_ON_EVENT: ret->on_event = optarg; break;
		case OPT_DIRECT: ret->direct = true; break;
		case 'h': events_help(); return 0;
		default:
			if (!tout_option(&ret->out, o, optarg))
				return cli_option_error("events", argv, o);
		}
	}
	if (ret->out.list_columns)
		return events_list_columns(&ret->out);
	if (argc - optind > 1)
		return cli_usage("events", "one container at most");
	if (ret->on_event && !ret->when)
		return cli_usage("events", "--on-event goes with --when");
	if (ret->when && (argc - optind != 1 || s->on_empty || ret->flags || ret->direct))
		return cli_usage("events", "--when takes one container, and neither -r, --direct nor --on-empty");
	if (s->on_empty && (argc - optind != 1 || !s->on_empty[0]))
		return cli_usage("events", "--on-empty needs a command and a container");
	return -1;
}

int cmd_events(struct cli *c, int argc, char **argv)
{
	struct events s = { .empty_sub = -1 };
	struct events_opts eo = { 0 };
	int rc = parse_opts(&s, &eo, argc, argv);
	if (rc >= 0)
		return rc;
	if (eo.when)
		return events_when(c, eo.when, argv[optind], &eo.out, eo.on_event);
	s.tabular = events_tabular(&eo.out) && !s.on_empty;
	if (s.tabular && (rc = events_table_init(&s.t, &eo.out, false)))
		return rc;
	rc = events_run(c, &s, &eo, optind < argc ? argv[optind] : NULL);
	if (s.tabular)
		table_free(&s.t);
	return rc;
}

/* Open, subscribe and print until done; spec NULL: the default root. */
static int events_run(struct cli *c, struct events *s, struct events_opts *eo, const char *spec)
{
	unsigned flags = eo->flags;
	struct pcon_container *cts[MAX_CONTAINERS];
	int n;
	if (spec) {
		n = cli_open_all(c, spec, cts, MAX_CONTAINERS);
		if (n < 0)
			return 1;
	} else {
		int r = pcon_container_open(pcon_hier_default(c->p), "/", &cts[0]);
		if (r < 0)
			return cli_errno("/", r);
		n = 1;
		flags |= PCON_EVENTS_RECURSIVE;
	}
	int rc = 0;
	if (s->on_empty && (n != 1 || strcmp(cts[0]->path, "/") == 0))
		rc = cli_usage("events", n != 1 ? "--on-empty takes a container of one hierarchy"
						: "--on-empty: a hierarchy's root never empties");
	install_handlers();
	/* The containers were opened above so that a bad name fails the same
	 * way with or without pcond. --on-empty stays direct: it needs one
	 * event only, and must not depend on a daemon's lifetime. */
	if (rc == 0 && !eo->direct && !s->on_empty &&
	    via_pcond(c, s, spec ? spec : "/", flags & PCON_EVENTS_RECURSIVE, &rc)) {
		cli_close_all(cts, n);
		return rc;
	}
	struct pcon_events *e = NULL;
	int r = rc ? 0 : pcon_events_new(c->p, 0, &e);
	if (r < 0)
		rc = fail_new(r);
	for (int i = 0; i < n && rc == 0; i++) {
		r = pcon_events_subscribe(e, cts[i], flags);
		if (r < 0)
			rc = cli_errno(cli_name(cts[i]), r);
		s->empty_sub = r;
		s->n_subs++;
	}
	if (rc == 0 && !pcon_events_tracks_moves(e) && !s->on_empty)
		fprintf(stderr, "pcon: events: note: moves between containers are seen late "
				"(the eBPF move tracker did not load; it needs root)\n");
	char name[4400];
	snprintf(name, sizeof(name), "%s", cli_name(cts[0]));
	cli_close_all(cts, n);
	if (rc == 0) {
		s->mono_to_real_ns = mono_to_real();
		rc = loop(e, s);
	}
	pcon_events_free(e);
	if (rc == 0 && s->emptied)
		rc = run_on_empty(s->on_empty, name);
	return rc;
}
