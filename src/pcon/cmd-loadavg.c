/* pcon loadavg: a container's load averages, as kept by pcond. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pcond-client.h"
#include "table.h"


enum { COL_CONTAINER, COL_HIERARCHY, COL_ID, COL_LOAD1, COL_LOAD5, COL_LOAD15, COL_RUNNING,
       COL_UNINTERRUPTIBLE, COL_TASKS, COL_SAMPLES };

static const struct tcol cols[] = {
	[COL_CONTAINER] = { "CONTAINER", 0.4, 0, SCOLS_JSON_STRING, "the container, HIER:PATH" },
	[COL_HIERARCHY] = { "HIERARCHY", 0.1, 0, SCOLS_JSON_STRING, "its hierarchy (HIER)" },
	[COL_ID] = { "ID", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "cgroup id" },
	[COL_LOAD1] = { "LOAD1", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "load average over 1 minute" },
	[COL_LOAD5] = { "LOAD5", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "load average over 5 minutes" },
	[COL_LOAD15] = { "LOAD15", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "load average over 15 minutes" },
	[COL_RUNNING] = { "RUNNING", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "running threads at the last sample" },
	[COL_UNINTERRUPTIBLE] = { "UNINTERRUPTIBLE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
				  "threads in uninterruptible sleep at the last sample" },
	[COL_TASKS] = { "TASKS", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "threads at the last sample" },
	[COL_SAMPLES] = { "SAMPLES", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "samples pcond has taken of it" },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static void loadavg_help(void)
{
	printf("Usage: pcon loadavg [OPTIONS] [HIER:PATH...]\n\n"
	       "Print the 1, 5 and 15 minute load averages of containers, as pcond keeps\n"
	       "them: the kernel's algorithm over the running and uninterruptible threads\n"
	       "of the container and its descendants, sampled every 5 s. Without\n"
	       "HIER:PATH: the root of the default hierarchy. Needs a running pcond.\n\n"
	       "  -r, --recursive     also print every descendant container\n"
	       TABLE_HELP
	       "  -h, --help          show this help\n\n"
	       "Default columns: CONTAINER,LOAD1,LOAD5,LOAD15,TASKS.\n");
}

/* A number pcond sent, as a cell: NULL (shown "-", JSON null) unless it
 * is one, so that JSON stays valid whatever the line held. */
static int set_num(struct table *t, struct libscols_line *ln, int id, const char *line,
		   const char *key, bool fraction)
{
	char v[64], *end;
	if (!proto_field(line, key, v, sizeof(v)) || !v[0])
		return table_set(t, ln, id, NULL);
	errno = 0;
	if (fraction) {
		double d = strtod(v, &end);
		return *end || errno ? table_set(t, ln, id, NULL) : table_setf(t, ln, id, "%.2f", d);
	}
	unsigned long long u = strtoull(v, &end, 10);
	return *end || errno || v[0] == '-' ? table_set(t, ln, id, NULL) : table_set_u64(t, ln, id, u);
}

/* One "container k=v ..." line of pcond as a row. */
static int add_row(struct table *t, const char *line)
{
	char hier[512], path[4096];
	if (!proto_field(line, "hier", hier, sizeof(hier)) || !proto_field(line, "path", path, sizeof(path)))
		return 0;
	char *name = NULL;
	struct libscols_line *ln = table_row_empty(t, NULL);
	if (!ln || asprintf(&name, "%s:%s", hier, path) < 0)
		return -ENOMEM;
	int r = table_set_name(t, ln, COL_CONTAINER, name);
	free(name);
	r = r ?: table_set_name(t, ln, COL_HIERARCHY, hier);
	r = r ?: set_num(t, ln, COL_ID, line, "id", false);
	r = r ?: set_num(t, ln, COL_LOAD1, line, "load1", true);
	r = r ?: set_num(t, ln, COL_LOAD5, line, "load5", true);
	r = r ?: set_num(t, ln, COL_LOAD15, line, "load15", true);
	r = r ?: set_num(t, ln, COL_RUNNING, line, "running", false);
	r = r ?: set_num(t, ln, COL_UNINTERRUPTIBLE, line, "uninterruptible", false);
	r = r ?: set_num(t, ln, COL_TASKS, line, "tasks", false);
	r = r ?: set_num(t, ln, COL_SAMPLES, line, "samples", false);
	return r;
}

/* The reason of an "err CODE message" line in pcon's words. */
static int reply_error(const char *spec, const char *line)
{
	const char *msg = strchr(line + 4, ' ');
	msg = msg ? msg + 1 : line + 4;
	int len = (int)strcspn(msg, "\n");
	return cli_fail(spec, "%.*s", len, msg);
}

/* Ask pcond for each spec and add its rows to t. 0, or the exit status. */
static int ask_all(int fd, const char *path, char **specs, bool recursive, struct table *t)
{
	int rc = 0;
	for (; *specs && rc == 0; specs++) {
		char req[PROTO_LINE_MAX], *reply = NULL;
		int r = proto_request_format(PROTO_LOADAVG, recursive, *specs, 0, req, sizeof(req));
		if (r < 0)
			return cli_fail("loadavg", "%s: name too long", *specs);
		r = pcond_ask(fd, req, &reply);
		if (r < 0)
			return cli_fail("loadavg", "pcond on %s did not answer: %s", path, strerror(-r));
		for (char *line = reply, *next; *line && rc == 0; line = next) {
			next = strchr(line, '\n');
			next = next ? next + 1 : line + strlen(line);
			if (!strncmp(line, "container ", 10)) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				if (add_row(t, line) < 0)
					rc = cli_fail("loadavg", "out of memory");
			} else if (!strncmp(line, "err ", 4))
				rc = reply_error(*specs, line);
		}
		free(reply);
	}
	return rc;
}

int cmd_loadavg(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool recursive = false;
	struct tout out = { 0 };
	int o;
	while ((o = getopt_long(argc, argv, ":r" TABLE_LETTERS "h", opts, NULL)) != -1) {
		if (o == 'r')
			recursive = true;
		else if (o == 'h') {
			loadavg_help();
			return 0;
		} else if (!tout_option(&out, o, optarg))
			return cli_option_error(argv[0], argv, o);
	}
	if (out.list_columns)
		return table_list_columns(cols, NCOLS, &out);
	struct table t;
	int rc = table_init(&t, argv[0], "containers", cols, NCOLS, "CONTAINER,LOAD1,LOAD5,LOAD15,TASKS", &out);
	if (rc)
		return rc;
	const char *path = pcond_socket(c);
	int fd = pcond_connect(path);
	if (fd == -ENOENT || fd == -ECONNREFUSED)
		rc = cli_fail("loadavg", "no pcond is running on %s (start it with "
					 "'systemctl start pcond', or run 'pcond --socket %s &' as root)",
			      path, path);
	else if (fd < 0)
		rc = cli_fail("loadavg", "cannot connect to pcond on %s: %s", path, strerror(-fd));
	char *def[] = { "/", NULL };
	if (fd >= 0) {
		rc = ask_all(fd, path, optind < argc ? argv + optind : def, recursive, &t);
		close(fd);
	}
	/* Nothing printed when one name failed: a table is whole or not. */
	if (rc == 0)
		rc = table_print(&t);
	table_free(&t);
	return rc;
}
