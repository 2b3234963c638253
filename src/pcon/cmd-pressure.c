/* pcon pressure: pressure stall information of containers and the machine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pcon/pressure.h"

struct pressure {
	struct cli *c;
	bool json, recursive;
	struct json j;
};

static void pressure_help(void)
{
	printf("Usage: pcon pressure [OPTIONS] [HIER:PATH...]\n\n"
	       "Print the pressure stall information of containers: the share of time\n"
	       "(percent over 10, 60 and 300 s) some or all of their tasks stalled on\n"
	       "CPU, memory or I/O, and the total stall time in seconds. The kernel keeps\n"
	       "it for every cgroup v2 container; without HIER:PATH, for the machine.\n\n"
	       "  -r, --recursive  also print every descendant container\n"
	       "      --json       one JSON object per container\n"
	       "  -h, --help       show this help\n");
}

static void print_head(void)
{
	printf("%-30s %-8s %7s %7s %7s %7s %7s %7s %11s %11s\n", "CONTAINER", "RESOURCE", "SOME10",
	       "SOME60", "SOME300", "FULL10", "FULL60", "FULL300", "SOME-SEC", "FULL-SEC");
}

/* One kind's averages, or dashes where the kernel gives no such line. */
static void print_kind(const struct pcon_pressure *p, int r, int k)
{
	const struct pcon_psi *v = &p->v[r][k];
	if (p->have[r][k])
		printf(" %7.2f %7.2f %7.2f", v->avg10, v->avg60, v->avg300);
	else
		printf(" %7s %7s %7s", "-", "-", "-");
}

static void print_rows(const char *name, const struct pcon_pressure *p)
{
	for (int r = 0; r < PCON_PSI_MAX; r++) {
		if (!p->have[r][PCON_PSI_SOME] && !p->have[r][PCON_PSI_FULL])
			continue;
		printf("%-30s %-8s", name, pcon_psi_resource_to_string((enum pcon_psi_resource)r));
		print_kind(p, r, PCON_PSI_SOME);
		print_kind(p, r, PCON_PSI_FULL);
		for (int k = 0; k < PCON_PSI_KIND_MAX; k++) {
			if (p->have[r][k])
				printf(" %11.3f", (double)p->v[r][k].total_us / 1e6);
			else
				printf(" %11s", "-");
		}
		printf("\n");
	}
}

/* The members of one pressure object: per resource {"some": {...}, "full": {...}}. */
void cli_json_pressure(struct json *j, const struct pcon_pressure *p)
{
	for (int r = 0; r < PCON_PSI_MAX; r++) {
		if (!p->have[r][PCON_PSI_SOME] && !p->have[r][PCON_PSI_FULL]) {
			json_null(j, pcon_psi_resource_to_string((enum pcon_psi_resource)r));
			continue;
		}
		json_obj_begin(j, pcon_psi_resource_to_string((enum pcon_psi_resource)r));
		for (int k = 0; k < PCON_PSI_KIND_MAX; k++) {
			const char *kn = pcon_psi_kind_to_string((enum pcon_psi_kind)k);
			if (!p->have[r][k]) {
				json_null(j, kn);
				continue;
			}
			json_obj_begin(j, kn);
			json_double(j, "avg10", p->v[r][k].avg10, 2);
			json_double(j, "avg60", p->v[r][k].avg60, 2);
			json_double(j, "avg300", p->v[r][k].avg300, 2);
			json_u64(j, "total_us", p->v[r][k].total_us);
			json_obj_end(j);
		}
		json_obj_end(j);
	}
}

static void print_json(struct json *j, const char *name, const struct pcon_container *ct,
		       const struct pcon_pressure *p)
{
	json_obj_begin(j, NULL);
	json_str(j, "container", name);
	if (ct) {
		json_name(j, "hierarchy", ct->hier->name);
		json_name(j, "path", ct->path);
		json_u64(j, "id", ct->id);
	}
	cli_json_pressure(j, p);
	json_obj_end(j);
	json_done(j);
}

static void show(struct pressure *s, const char *name, const struct pcon_container *ct,
		 const struct pcon_pressure *p)
{
	if (s->json)
		print_json(&s->j, name, ct, p);
	else
		print_rows(name, p);
}

/* ct's rows, then (recursive) its descendants'; those that vanish are skipped. */
static int one(struct pressure *s, const struct pcon_container *ct, bool top)
{
	struct pcon_pressure p;
	int r = pcon_pressure_read(ct, &p);
	if (r == -ENOENT && !top)
		return 0;
	if (r == -EOPNOTSUPP)
		return cli_fail(cli_name(ct), "this kernel keeps no pressure stall information "
					      "(built without PSI, or booted with psi=0)");
	if (r < 0)
		return cli_errno(cli_name(ct), r);
	show(s, cli_name(ct), ct, &p);
	if (!s->recursive)
		return 0;
	char **kids = NULL;
	if (pcon_container_children(ct, &kids) < 0)
		return top ? cli_fail(cli_name(ct), "container was removed") : 0;
	int rc = 0;
	for (int i = 0; kids[i] && rc == 0; i++) {
		struct pcon_container *k;
		if (pcon_container_open_child(ct, kids[i], &k) < 0)
			continue;
		rc = one(s, k, false);
		pcon_container_free(k);
	}
	pcon_strv_free(kids);
	return rc;
}

int cmd_pressure(struct cli *c, int argc, char **argv)
{
	enum { OPT_JSON = 0x100 };
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pressure s = { .c = c, .j = { .f = stdout } };
	int o;
	while ((o = getopt_long(argc, argv, "rh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': s.recursive = true; break;
		case OPT_JSON: s.json = true; break;
		case 'h': pressure_help(); return 0;
		default: return cli_bad_option("pressure", argv);
		}
	}
	if (optind == argc) {
		struct pcon_pressure p;
		int r = pcon_pressure_read_machine(c->p, &p);
		if (r == -EOPNOTSUPP)
			return cli_fail("pressure", "this kernel keeps no pressure stall information "
						    "(built without PSI, or booted with psi=0)");
		if (r < 0)
			return cli_fail("pressure", "cannot read /proc/pressure: %s", strerror(-r));
		if (!s.json)
			print_head();
		show(&s, "machine", NULL, &p);
		return 0;
	}
	struct pcon_container **cts;
	int n = cli_open_specs(c, argv + optind, argc - optind, &cts);
	if (n < 0)
		return 1;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) /* refuse before printing anything */
		if (cts[i]->hier->version != 2)
			rc = cli_fail(cli_name(cts[i]), "the kernel keeps pressure only for cgroup v2 "
							"containers (try unified:%s)", cts[i]->path);
	if (rc == 0 && !s.json)
		print_head();
	for (int i = 0; i < n && rc == 0; i++)
		rc = one(&s, cts[i], true);
	cli_free_specs(cts, n);
	return rc;
}
