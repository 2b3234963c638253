/* pcon hierarchies: the mounted cgroup hierarchies. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
	printf("Usage: pcon hierarchies [--json]\n\n"
	       "List every mounted cgroup hierarchy: its id (v1), version, the name\n"
	       "containers use (HIER in HIER:PATH), its controllers and mount point.\n"
	       "The default hierarchy (for a bare /PATH) is marked with '*'.\n\n"
	       "  --json      one JSON array\n"
	       "  -h, --help  show this help\n");
}

static void print_json(const struct pcon_hier *h, size_t n, const struct pcon_hier *def)
{
	struct json j = { .f = stdout };
	json_arr_begin(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(&j, NULL);
		json_name(&j, "name", h[i].name);
		json_u64(&j, "version", (uint64_t)h[i].version);
		json_u64(&j, "id", (uint64_t)h[i].id);
		json_name(&j, "named", h[i].named);
		json_arr_begin(&j, "controllers");
		for (char **ctl = h[i].controllers; ctl && *ctl; ctl++)
			json_str(&j, NULL, *ctl);
		json_arr_end(&j);
		json_name(&j, "mount", h[i].mount);
		if (h[i].noprefix)
			json_bool(&j, "noprefix", true);
		json_bool(&j, "default", &h[i] == def);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_done(&j);
}

int cmd_hierarchies(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			help();
			return 0;
		}
		if (o != 'j')
			return cli_bad_option(argv[0], argv);
		json = true;
	}
	if (optind < argc)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[optind]);

	size_t n;
	const struct pcon_hier *h = pcon_hiers(c->p, &n);
	const struct pcon_hier *def = pcon_hier_default(c->p);
	if (json) {
		print_json(h, n, def);
		return 0;
	}
	printf("%-3s %-2s %-16s %-24s %s\n", "ID", "V", "NAME", "CONTROLLERS", "MOUNT");
	for (size_t i = 0; i < n; i++) {
		char ctl[256] = "";
		for (char **x = h[i].controllers; x && *x; x++)
			snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl), "%s%s",
				 ctl[0] ? "," : "", *x);
		char *name = NULL, *mount = NULL;
		if (pcon_escape_name_dup(h[i].name, &name) < 0 || pcon_escape_name_dup(h[i].mount, &mount) < 0) {
			free(name);
			return cli_fail("hierarchies", "out of memory");
		}
		printf("%-3d %-2d %-16s %-24s %s%s\n", h[i].id, h[i].version, name,
		       ctl[0] ? ctl : "-", mount, &h[i] == def ? " *" : "");
		free(name);
		free(mount);
	}
	return 0;
}
