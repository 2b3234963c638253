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


static void loadavg_help(void)
{
	printf("Usage: pcon loadavg [OPTIONS] [HIER:PATH...]\n\n"
	       "Print the 1, 5 and 15 minute load averages of containers, as pcond keeps\n"
	       "them: the kernel's algorithm over the running and uninterruptible threads\n"
	       "of the container and its descendants, sampled every 5 s. Without\n"
	       "HIER:PATH: the root of the default hierarchy. Needs a running pcond.\n\n"
	       "  -r, --recursive  also print every descendant container\n"
	       "      --json       one JSON object per container\n"
	       "  -h, --help       show this help\n");
}

static void print_line(const char *line, bool json, struct json *j)
{
	char hier[512], path[4096], l1[32], l5[32], l15[32], v[64];
	if (!proto_field(line, "hier", hier, sizeof(hier)) || !proto_field(line, "path", path, sizeof(path)) ||
	    !proto_field(line, "load1", l1, sizeof(l1)) || !proto_field(line, "load5", l5, sizeof(l5)) ||
	    !proto_field(line, "load15", l15, sizeof(l15)))
		return;
	char name[4700];
	snprintf(name, sizeof(name), "%s:%s", hier, path);
	if (!json) {
		char *esc = NULL;
		if (pcon_escape_name_dup(name, &esc) == 0) /* names as pcon prints them */
			printf("%s %s %s %s\n", esc, l1, l5, l15);
		free(esc);
		return;
	}
	json_obj_begin(j, NULL);
	json_name(j, "container", name);
	json_name(j, "hierarchy", hier);
	json_name(j, "path", path);
	json_u64(j, "id", strtoull(proto_field(line, "id", v, sizeof(v)) ? v : "0", NULL, 10));
	json_double(j, "load1", strtod(l1, NULL), 2);
	json_double(j, "load5", strtod(l5, NULL), 2);
	json_double(j, "load15", strtod(l15, NULL), 2);
	static const char *const counts[] = { "running", "uninterruptible", "tasks", "samples" };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		json_u64(j, counts[i], strtoull(proto_field(line, counts[i], v, sizeof(v)) ? v : "0", NULL, 10));
	json_obj_end(j);
	json_done(j);
}

/* The reason of an "err CODE message" line in pcon's words. */
static int reply_error(const char *spec, const char *line)
{
	const char *msg = strchr(line + 4, ' ');
	msg = msg ? msg + 1 : line + 4;
	int len = (int)strcspn(msg, "\n");
	return cli_fail(spec, "%.*s", len, msg);
}

int cmd_loadavg(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool recursive = false, json = false;
	int o;
	while ((o = getopt_long(argc, argv, "rh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': recursive = true; break;
		case 'j': json = true; break;
		case 'h': loadavg_help(); return 0;
		default: return cli_bad_option("loadavg", argv);
		}
	}
	const char *path = pcond_socket(c);
	int fd = pcond_connect(path);
	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return cli_fail("loadavg", "no pcond is running on %s (start it with "
					   "'systemctl start pcond', or run 'pcond --socket %s &' as root)",
				path, path);
	if (fd < 0)
		return cli_fail("loadavg", "cannot connect to pcond on %s: %s", path, strerror(-fd));
	struct json j = { .f = stdout };
	char *def[] = { "/", NULL };
	char **specs = optind < argc ? argv + optind : def;
	int rc = 0;
	for (; *specs && rc == 0; specs++) {
		char req[PROTO_LINE_MAX], *reply = NULL;
		int r = proto_request_format(PROTO_LOADAVG, recursive, *specs, 0, req, sizeof(req));
		if (r < 0) {
			rc = cli_fail("loadavg", "%s: name too long", *specs);
			break;
		}
		r = pcond_ask(fd, req, &reply);
		if (r < 0) {
			rc = cli_fail("loadavg", "pcond on %s did not answer: %s", path, strerror(-r));
			break;
		}
		for (char *line = reply, *next; *line; line = next) {
			next = strchr(line, '\n');
			next = next ? next + 1 : line + strlen(line);
			if (!strncmp(line, "container ", 10))
				print_line(line, json, &j);
			else if (!strncmp(line, "err ", 4))
				rc = reply_error(*specs, line);
		}
		free(reply);
	}
	close(fd);
	return rc;
}
