/* pcon classify: move processes where the placement rules say (cgclassify). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pcon/rules.h"

#define RULES_DEFAULT "/etc/cgrules.conf"
#define MAX_DESTS 16

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

/* The hierarchies a rule's controller list names ("*": every one with a
 * controller, and the v2 one). Prints the error itself; -1 on an error. */
static int rule_hiers(struct cli *c, const struct pcon_rules_dest *d, const struct pcon_hier **out)
{
	size_t nh, n = 0;
	const struct pcon_hier *all = pcon_hiers(c->p, &nh);
	if (strcmp(d->controllers, "*") == 0) {
		for (size_t i = 0; i < nh && n < PCON_SPEC_MAX_HIERS; i++)
			if (all[i].version == 2 || (all[i].controllers && all[i].controllers[0]))
				out[n++] = &all[i];
		return (int)n;
	}
	char *list = strdup(d->controllers), *save = NULL;
	if (!list) {
		cli_fail("classify", "out of memory");
		return -1;
	}
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct pcon_hier *h;
		if (pcon_hier_find(c->p, t, &h) < 0) {
			cli_fail("classify", "rule of line %u: no hierarchy has '%s'", d->line, t);
			free(list);
			return -1;
		}
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup |= out[i] == h;
		if (!dup && n < PCON_SPEC_MAX_HIERS)
			out[n++] = h;
	}
	free(list);
	return (int)n;
}

/* Move pid where its rules say. 0, or the exit status 1 (said why). */
static int classify_one(struct cli *c, const struct pcon_rules *rules, pid_t pid, bool verbose)
{
	char comm[64], exe[4096], name[32];
	struct pcon_rules_proc p;
	snprintf(name, sizeof(name), "%d", (int)pid);
	int r = pcon_rules_proc_read(pcon_proc_fd(c->p), pid, &p, comm, sizeof(comm), exe, sizeof(exe));
	if (r == -ESRCH)
		return cli_fail(name, "no such process");
	if (r < 0)
		return cli_fail(name, "cannot read the process: %s", strerror(-r));
	struct pcon_rules_dest d[MAX_DESTS];
	int n = pcon_rules_match(rules, &p, d, MAX_DESTS);
	if (n < 0)
		return cli_fail(name, "destination too long");
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const struct pcon_hier *hs[PCON_SPEC_MAX_HIERS];
		int nh = rule_hiers(c, &d[i], hs);
		if (nh < 0) {
			rc = 1;
			continue;
		}
		for (int k = 0; k < nh; k++) {
			struct pcon_container *ct;
			char path[4200], where[4400];
			snprintf(path, sizeof(path), "/%s", d[i].path);
			snprintf(where, sizeof(where), "%s:%s", hs[k]->name, path);
			r = pcon_container_open(hs[k], path, &ct);
			if (r < 0) {
				rc = cli_fail(name, "rule of line %u: %s: %s", d[i].line, where,
					      r == -ENOENT ? "no such container (rules never create one)"
							   : strerror(-r));
				continue;
			}
			r = pcon_container_attach(ct, pid, false);
			pcon_container_free(ct);
			if (r < 0)
				rc = cli_fail(name, "cannot move it into %s: %s", where, strerror(-r));
			else if (verbose)
				printf("%d %s (line %u)\n", (int)pid, where, d[i].line);
		}
	}
	return rc;
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
	FILE *f = fopen(file, "re");
	if (!f) {
		int e = errno;
		free(pids);
		return cli_fail(file, "cannot read the rules: %s", strerror(e));
	}
	struct pcon_rules *rules;
	unsigned line = 0;
	char why[256] = "";
	int r = pcon_rules_parse(f, &rules, &line, why, sizeof(why));
	fclose(f);
	if (r < 0) {
		free(pids);
		return r == -EINVAL ? cli_fail(file, "line %u: %s", line, why)
				    : cli_fail(file, "cannot read the rules: %s", strerror(-r));
	}
	int rc = 0;
	for (int i = 0; i < argc - optind; i++)
		rc |= classify_one(c, rules, pids[i], verbose);
	pcon_rules_free(rules);
	free(pids);
	return rc;
}
