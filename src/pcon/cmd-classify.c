/* pcon classify: move processes where the placement rules say (cgclassify). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pcon/rules.h"

#define RULES_DEFAULT "/etc/cgrules.conf"

static void classify_help(void)
{
	printf("Usage: pcon classify [OPTIONS] PID...\n\n"
	       "Move each process into the containers its first matching placement rule\n"
	       "names (libcgroup's cgrules.conf format; see pcon(1)). A destination that\n"
	       "does not exist is reported, never created.\n\n"
	       "      --rules=FILE  the rules (default " RULES_DEFAULT ")\n"
	       "  -v, --verbose     say where each process went\n"
	       "  -h, --help        show this help\n");
}

struct said {
	bool verbose;
	int rc;
};

/* One placement's line: where it went (-v), or why it could not. */
static void say(const struct pcon_rules_result *res, void *userdata)
{
	struct said *s = userdata;
	char name[32], where[4400];
	snprintf(name, sizeof(name), "%d", (int)res->pid);
	if (!res->hier) {
		s->rc = cli_fail(name, "rule of line %u: no hierarchy has '%s'", res->line, res->controller);
		return;
	}
	snprintf(where, sizeof(where), "%s", cli_spec_name(res->hier, res->path));
	if (res->err == -ENOENT)
		s->rc = cli_fail(name, "rule of line %u: %s: no such container (rules never create one)",
				 res->line, where);
	else if (res->err < 0)
		s->rc = cli_fail(name, "cannot move it into %s: %s", where, strerror(-res->err));
	else if (s->verbose)
		printf("%d %s (line %u)\n", (int)res->pid, where, res->line);
}

/* Move pid where its rules say. 0, or the exit status 1 (said why). */
static int classify_one(struct cli *c, const struct pcon_rules *rules, pid_t pid, bool verbose)
{
	struct said s = { .verbose = verbose };
	int r = pcon_rules_place(c->p, rules, pid, say, &s);
	char name[32];
	snprintf(name, sizeof(name), "%d", (int)pid);
	if (r == -ESRCH)
		return cli_fail(name, "no such process");
	if (r < 0)
		return cli_fail(name, "cannot read the process: %s", strerror(-r));
	return s.rc;
}

int cmd_classify(struct cli *c, int argc, char **argv)
{
	enum { OPT_RULES = 0x100 };
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *file = RULES_DEFAULT;
	bool verbose = false;
	int o;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case OPT_RULES: file = optarg; break;
		case 'v': verbose = true; break;
		case 'h': classify_help(); return 0;
		default: return cli_bad_option("classify", argv);
		}
	}
	if (optind == argc)
		return cli_usage("classify", "which processes? (PID...)");
	pid_t *pids = calloc((size_t)(argc - optind), sizeof(*pids));
	if (!pids)
		return cli_fail("classify", "out of memory");
	for (int i = optind; i < argc; i++) {
		char *end;
		errno = 0;
		long v = strtol(argv[i], &end, 10);
		if (errno || end == argv[i] || *end || v <= 0 || v > 0x3fffffff) {
			free(pids);
			return cli_usage("classify", "invalid PID '%s'", argv[i]);
		}
		pids[i - optind] = (pid_t)v;
	}
	struct pcon_rules *rules;
	unsigned line = 0;
	char why[256] = "";
	int r = pcon_rules_load(file, &rules, &line, why, sizeof(why));
	if (r < 0) {
		free(pids);
		return r == -EINVAL ? cli_fail(file, "line %u: %s", line, why) : cli_fail(file, "%s", why);
	}
	int rc = 0;
	for (int i = 0; i < argc - optind; i++)
		rc |= classify_one(c, rules, pids[i], verbose);
	pcon_rules_free(rules);
	free(pids);
	return rc;
}
