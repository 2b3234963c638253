/* pcon events --when EXPR: threshold events, as pcond evaluates them. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "events-table.h"
#include "pcond-client.h"
#include "pcon/when.h"

#define WHEN_LINE_MAX 16384

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Run CMD through the shell with the crossing in its environment. */
static void run_cmd(const char *cmd, const char *container, const char *expr, const char *state,
		    const char *value)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		cli_fail("events", "cannot run --on-event command: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		setenv("PCON_CONTAINER", container, 1);
		setenv("PCON_EXPR", expr, 1);
		setenv("PCON_STATE", state, 1);
		setenv("PCON_VALUE", value, 1);
		execl("/bin/sh", "sh", "-c", cmd, "sh", container, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* How threshold events are printed: lines, or the events table. */
struct when_out {
	struct table t;
	bool tabular, printed;
};

static int when_run(struct cli *c, const char *expr, const char *spec, struct when_out *w,
		    const char *cmd);

/* A number of pcond's line as a cell (NULL unless it is one: JSON stays valid). */
static int set_number(struct table *t, struct libscols_line *ln, int id, const char *v, double scale,
		      int decimals)
{
	char *end;
	double d = strtod(v, &end);
	if (!*v || *end)
		return table_set(t, ln, id, NULL);
	return table_setf(t, ln, id, "%.*f", decimals, d / scale);
}

static int print_row(struct when_out *w, const char *name, const char *expr, const char *state,
		     const char *value, const char *source, const char *time)
{
	struct table *t = &w->t;
	struct libscols_line *ln = table_row_empty(t, NULL);
	int r = ln ? 0 : -ENOMEM;
	r = r ?: set_number(t, ln, EV_TIME, time, 1e9, 6);
	r = r ?: table_set(t, ln, EV_TYPE, "threshold");
	r = r ?: table_set_name(t, ln, EV_CONTAINER, name);
	r = r ?: table_set_name(t, ln, EV_HIERARCHY, strndupa(name, strcspn(name, ":")));
	r = r ?: table_set_name(t, ln, EV_EXPR, expr);
	r = r ?: table_set_name(t, ln, EV_STATE, state);
	r = r ?: set_number(t, ln, EV_VALUE, value, 1, 2);
	r = r ?: table_set_name(t, ln, EV_SOURCE, source);
	if (r < 0)
		return cli_fail("events", "out of memory");
	r = table_print_rows(t, !w->printed);
	w->printed = true;
	return r;
}

/* One "threshold" line: printed, and --on-event run. 0, or the exit status. */
static int on_line(struct when_out *w, const char *line, const char *cmd)
{
	char hier[512], path[4096], expr[64], state[8], value[64], source[16], time[32];
	if (strncmp(line, "threshold ", 10) || !proto_field(line, "hier", hier, sizeof(hier)) ||
	    !proto_field(line, "path", path, sizeof(path)) || !proto_field(line, "expr", expr, sizeof(expr)) ||
	    !proto_field(line, "state", state, sizeof(state)) ||
	    !proto_field(line, "value", value, sizeof(value)))
		return 0;
	if (!proto_field(line, "source", source, sizeof(source)))
		snprintf(source, sizeof(source), "sample");
	if (!proto_field(line, "time", time, sizeof(time)))
		snprintf(time, sizeof(time), "0");
	char name[8200];
	snprintf(name, sizeof(name), "%s:%s", hier, path);
	if (w->tabular) {
		int r = print_row(w, name, expr, state, value, source, time);
		if (r)
			return r;
	} else {
		char esc[8400], vesc[256];
		pcon_escape_name(esc, sizeof(esc), name);
		pcon_escape_name(vesc, sizeof(vesc), value);
		printf("threshold %s %s %s value=%s (%s)\n", esc, expr, state, vesc, source);
	}
	if (fflush(stdout) != 0)
		return cli_fail("events", "write error: %s", strerror(errno));
	if (cmd)
		run_cmd(cmd, name, expr, state, value);
	return 0;
}

int events_when(struct cli *c, const char *expr, const char *spec, const struct tout *o,
		const char *cmd)
{
	struct pcon_when parsed;
	if (pcon_when_parse(expr, &parsed) < 0)
		return cli_usage("events", "bad expression '%s' (NAME OP NUMBER, as load1>1.5, "
				 "running>4, cpu.some.avg10>20)", expr);
	struct when_out w = { .tabular = events_tabular(o) };
	if (w.tabular) {
		int r = events_table_init(&w.t, o, true);
		if (r)
			return r;
	}
	int rc = when_run(c, expr, spec, &w, cmd);
	if (w.tabular)
		table_free(&w.t);
	return rc;
}

/* Ask pcond to watch expr on spec and print what it says until a signal. */
static int when_run(struct cli *c, const char *expr, const char *spec, struct when_out *w,
		    const char *cmd)
{
	int fd = pcond_connect(pcond_socket(c));
	if (fd < 0)
		return cli_fail("events", "--when needs pcond, which evaluates the expression at every "
					  "sample (start it: pcond &)");
	char req[PROTO_LINE_MAX];
	char *buf = malloc(WHEN_LINE_MAX);
	int rc = 0;
	size_t len = 0;
	if (!buf || proto_watch_format(expr, spec, req, sizeof(req)) < 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		rc = cli_fail("events", "cannot ask pcond: %s", buf ? strerror(errno) : "out of memory");
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	bool answered = false;
	while (rc == 0 && !stop) {
		char *nl;
		while (rc == 0 && (nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			if (!answered && strncmp(buf, "ok", 2) != 0) {
				const char *msg = strchr(buf + 4, ' ');
				rc = cli_fail(spec, "%s", msg ? msg + 1 : buf);
			} else if (!answered) {
				answered = true;
			} else {
				rc = on_line(w, buf, cmd);
			}
			size_t used = (size_t)(nl + 1 - buf);
			memmove(buf, buf + used, len - used);
			len -= used;
		}
		if (rc || len + 1 >= WHEN_LINE_MAX)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0)
			continue; /* a signal: the loop looks at stop */
		ssize_t k = recv(fd, buf + len, WHEN_LINE_MAX - 1 - len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			rc = cli_fail("events", "pcond closed the connection");
		else
			len += (size_t)k;
	}
	free(buf);
	close(fd);
	return rc;
}
