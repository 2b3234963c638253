/* pcon pressure: pressure stall information of containers and the machine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pcon/pressure.h"
#include "table.h"

enum { COL_CONTAINER, COL_ID, COL_RESOURCE, COL_SOME10, COL_SOME60, COL_SOME300, COL_FULL10,
       COL_FULL60, COL_FULL300, COL_SOME_SEC, COL_FULL_SEC, COL_SOME_US, COL_FULL_US };

static const struct tcol cols[] = {
	[COL_CONTAINER] = { "CONTAINER", 0.4, 0, SCOLS_JSON_STRING, "the container, HIER:PATH ('machine': the whole machine)" },
	[COL_ID] = { "ID", 4, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "cgroup id" },
	[COL_RESOURCE] = { "RESOURCE", 6, 0, SCOLS_JSON_STRING, "cpu, memory or io" },
	[COL_SOME10] = { "SOME10", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "% of time some tasks stalled, over 10 s" },
	[COL_SOME60] = { "SOME60", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "% of time some tasks stalled, over 60 s" },
	[COL_SOME300] = { "SOME300", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "% of time some tasks stalled, over 300 s" },
	[COL_FULL10] = { "FULL10", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "% of time all tasks stalled, over 10 s" },
	[COL_FULL60] = { "FULL60", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "% of time all tasks stalled, over 60 s" },
	[COL_FULL300] = { "FULL300", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "% of time all tasks stalled, over 300 s" },
	[COL_SOME_SEC] = { "SOME-SEC", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "seconds some tasks stalled in all" },
	[COL_FULL_SEC] = { "FULL-SEC", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "seconds all tasks stalled in all" },
	[COL_SOME_US] = { "SOME-US", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "the same in microseconds, as the kernel counts" },
	[COL_FULL_US] = { "FULL-US", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "the same in microseconds, as the kernel counts" },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

struct pressure {
	struct cli *c;
	bool recursive;
	struct table t;
};

static void pressure_help(void)
{
	printf("Usage: pcon pressure [OPTIONS] [HIER:PATH...]\n\n"
	       "Print the pressure stall information of containers: the share of time\n"
	       "(percent over 10, 60 and 300 s) some or all of their tasks stalled on\n"
	       "CPU, memory or I/O, and the total stall time in seconds; one row per\n"
	       "container and resource. The kernel keeps it for every cgroup v2\n"
	       "container; without HIER:PATH, for the machine. What the kernel does\n"
	       "not keep (the machine's full CPU line on older kernels) is '-' (null).\n\n"
	       "  -r, --recursive     also print every descendant container\n"
	       TABLE_HELP
	       "  -h, --help          show this help\n\n"
	       "Default columns: CONTAINER,RESOURCE,SOME10,SOME60,SOME300,FULL10,FULL60,\n"
	       "FULL300,SOME-SEC,FULL-SEC.\n");
}

/* One kind's cells, or empty ones where the kernel gives no such line. */
static int set_kind(struct table *t, struct libscols_line *ln, const struct pcon_pressure *p, int r,
		    int k, int col10, int col_sec, int col_us)
{
	const struct pcon_psi *v = &p->v[r][k];
	if (!p->have[r][k]) {
		int e = 0;
		for (int id = col10; id < col10 + 3 && e == 0; id++)
			e = table_set(t, ln, id, NULL);
		e = e ?: table_set(t, ln, col_sec, NULL);
		return e ?: table_set(t, ln, col_us, NULL);
	}
	int e = table_setf(t, ln, col10, "%.2f", v->avg10);
	e = e ?: table_setf(t, ln, col10 + 1, "%.2f", v->avg60);
	e = e ?: table_setf(t, ln, col10 + 2, "%.2f", v->avg300);
	e = e ?: table_setf(t, ln, col_sec, "%.3f", (double)v->total_us / 1e6);
	return e ?: table_set_u64(t, ln, col_us, v->total_us);
}

/* A row per resource the kernel reports. name: raw HIER:PATH, or NULL for the machine. */
static int add_rows(struct table *t, const char *name, const struct pcon_container *ct,
		    const struct pcon_pressure *p)
{
	int e = 0;
	for (int r = 0; r < PCON_PSI_MAX && e == 0; r++) {
		if (!p->have[r][PCON_PSI_SOME] && !p->have[r][PCON_PSI_FULL])
			continue;
		struct libscols_line *ln = table_row_empty(t, NULL);
		if (!ln)
			return -ENOMEM;
		e = name ? table_set_name(t, ln, COL_CONTAINER, name) : table_set(t, ln, COL_CONTAINER, "machine");
		e = e ?: ct ? table_set_u64(t, ln, COL_ID, ct->id) : table_set(t, ln, COL_ID, NULL);
		e = e ?: table_set(t, ln, COL_RESOURCE, pcon_psi_resource_to_string((enum pcon_psi_resource)r));
		e = e ?: set_kind(t, ln, p, r, PCON_PSI_SOME, COL_SOME10, COL_SOME_SEC, COL_SOME_US);
		e = e ?: set_kind(t, ln, p, r, PCON_PSI_FULL, COL_FULL10, COL_FULL_SEC, COL_FULL_US);
	}
	return e;
}

/* The container's rows (raw name, as table_set_name wants it). */
static int show(struct pressure *s, const struct pcon_container *ct, const struct pcon_pressure *p)
{
	char *name = NULL;
	if (asprintf(&name, "%s:%s", ct->hier->name, ct->path) < 0)
		return -ENOMEM;
	int r = add_rows(&s->t, name, ct, p);
	free(name);
	return r;
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
	if (show(s, ct, &p) < 0)
		return cli_fail(cli_name(ct), "out of memory");
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
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pressure s = { .c = c };
	struct tout out = { 0 };
	int o;
	while ((o = getopt_long(argc, argv, ":r" TABLE_LETTERS "h", opts, NULL)) != -1) {
		if (o == 'r')
			s.recursive = true;
		else if (o == 'h') {
			pressure_help();
			return 0;
		} else if (!tout_option(&out, o, optarg))
			return cli_option_error(argv[0], argv, o);
	}
	if (out.list_columns)
		return table_list_columns(cols, NCOLS, &out);
	int rc = table_init(&s.t, argv[0], "pressure", cols, NCOLS,
			    "CONTAINER,RESOURCE,SOME10,SOME60,SOME300,FULL10,FULL60,FULL300,SOME-SEC,FULL-SEC", &out);
	if (rc)
		return rc;
	if (optind == argc) {
		struct pcon_pressure p;
		int r = pcon_pressure_read_machine(c->p, &p);
		if (r == -EOPNOTSUPP)
			rc = cli_fail("pressure", "this kernel keeps no pressure stall information "
						  "(built without PSI, or booted with psi=0)");
		else if (r < 0)
			rc = cli_fail("pressure", "cannot read /proc/pressure: %s", strerror(-r));
		else if (add_rows(&s.t, NULL, NULL, &p) < 0)
			rc = cli_fail("pressure", "out of memory");
		rc = rc ?: table_print(&s.t);
		table_free(&s.t);
		return rc;
	}
	struct pcon_container **cts;
	int n = cli_open_specs(c, argv + optind, argc - optind, &cts);
	if (n < 0) {
		table_free(&s.t);
		return 1;
	}
	for (int i = 0; i < n && rc == 0; i++) /* refuse before printing anything */
		if (cts[i]->hier->version != 2)
			rc = cli_fail(cli_name(cts[i]), "the kernel keeps pressure only for cgroup v2 "
							"containers (try unified:%s)", cts[i]->path);
	for (int i = 0; i < n && rc == 0; i++)
		rc = one(&s, cts[i], true);
	cli_free_specs(cts, n);
	rc = rc ?: table_print(&s.t);
	table_free(&s.t);
	return rc;
}
