/* pcon hierarchies: the mounted cgroup hierarchies. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"

enum { COL_ID, COL_VERSION, COL_NAME, COL_NAMED, COL_CONTROLLERS, COL_MOUNT, COL_NOPREFIX, COL_DEFAULT };

static const struct tcol cols[] = {
	[COL_ID] = { "ID", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "hierarchy id (v1; 0 for v2)" },
	[COL_VERSION] = { "VERSION", 1, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "cgroup version, 1 or 2" },
	[COL_NAME] = { "NAME", 0.2, 0, SCOLS_JSON_STRING, "what containers are named by (HIER in HIER:PATH)" },
	[COL_NAMED] = { "NAMED", 0.1, 0, SCOLS_JSON_STRING, "the name=... of a named v1 hierarchy" },
	[COL_CONTROLLERS] = { "CONTROLLERS", 0.3, 0, SCOLS_JSON_STRING, "controllers bound to it, comma separated" },
	[COL_MOUNT] = { "MOUNT", 0.3, 0, SCOLS_JSON_STRING, "where it is mounted" },
	[COL_NOPREFIX] = { "NOPREFIX", 1, 0, SCOLS_JSON_BOOLEAN, "v1 noprefix mount: knob files without the controller's prefix" },
	[COL_DEFAULT] = { "DEFAULT", 1, 0, SCOLS_JSON_BOOLEAN, "the hierarchy a bare /PATH names" },
};

static void help(void)
{
	printf("Usage: pcon hierarchies [OUTPUT OPTIONS]\n\n"
	       "List every mounted cgroup hierarchy: its id (v1), version, the name\n"
	       "containers use (HIER in HIER:PATH), its controllers and mount point.\n"
	       "The default hierarchy (for a bare /PATH) is marked with '*'.\n\n"
	       TABLE_HELP
	       "  -h, --help          show this help\n");
}

static int add_row(struct table *t, const struct pcon_hier *h, bool def)
{
	struct libscols_line *ln = table_row(t, NULL);
	if (!ln)
		return -ENOMEM;
	char ctl[512] = "";
	for (char **x = h->controllers; x && *x; x++)
		snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl), "%s%s", ctl[0] ? "," : "", *x);
	int r = table_set_u64(t, ln, COL_ID, (uint64_t)h->id);
	r = r ?: table_set_u64(t, ln, COL_VERSION, (uint64_t)h->version);
	r = r ?: table_set_name(t, ln, COL_NAME, h->name);
	r = r ?: table_set_name(t, ln, COL_NAMED, h->named);
	r = r ?: table_set(t, ln, COL_CONTROLLERS, ctl[0] ? ctl : NULL);
	r = r ?: table_set_name(t, ln, COL_MOUNT, h->mount);
	r = r ?: table_set(t, ln, COL_NOPREFIX, h->noprefix ? "yes" : "");
	r = r ?: table_set(t, ln, COL_DEFAULT, def ? "*" : "");
	return r;
}

int cmd_hierarchies(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tout out = { 0 };
	int o;
	while ((o = getopt_long(argc, argv, ":" TABLE_LETTERS "h", opts, NULL)) != -1) {
		if (o == 'h') {
			help();
			return 0;
		}
		if (!tout_option(&out, o, optarg))
			return cli_option_error(argv[0], argv, o);
	}
	if (optind < argc)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[optind]);
	if (out.list_columns)
		return table_list_columns(cols, sizeof(cols) / sizeof(cols[0]), &out);

	struct table t;
	int r = table_init(&t, argv[0], "hierarchies", cols, sizeof(cols) / sizeof(cols[0]),
			   "ID,VERSION,NAME,CONTROLLERS,MOUNT,DEFAULT", &out);
	if (r)
		return r;
	size_t n;
	const struct pcon_hier *h = pcon_hiers(c->p, &n);
	const struct pcon_hier *def = pcon_hier_default(c->p);
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_row(&t, &h[i], &h[i] == def);
	r = r < 0 ? cli_errno(argv[0], r) : table_print(&t);
	table_free(&t);
	return r;
}
