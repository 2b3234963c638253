/* pcon get / pcon set: read and write knobs, by generic or raw kernel name. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help_get(void)
{
	printf("Usage: pcon get [-v] [--json] HIER:PATH [KNOB...]\n\n"
	       "Print knobs of a container, one 'KNOB: VALUE' line each (a value of\n"
	       "several lines continues on lines that start with a tab). A KNOB is a\n"
	       "generic name, the same on cgroup v1 and v2, or a raw kernel file name of\n"
	       "the container (cpu.shares). Without KNOB, every generic knob the\n"
	       "container's hierarchies offer. With HIER1,HIER2:PATH each knob is read\n"
	       "from the first hierarchy that has it.\n\n"
	       "Generic knobs:\n");
	for (const char *const *k = pcon_knob_names(); *k; k++)
		printf("  %-18s %s\n", *k, pcon_knob_hint(*k));
	printf("\n  -v, --values  print the values only, one a line, in the order asked\n"
	       "  --json        one JSON object: {\"container\": ..., \"knobs\": {KNOB: VALUE}}\n"
	       "  -h, --help    show this help\n");
}

static void help_set(void)
{
	printf("Usage: pcon set HIER:PATH KNOB=VALUE...\n\n"
	       "Write knobs of a container. Every value is checked first (its syntax,\n"
	       "its range, CPUs and memory nodes online): if any is invalid, an error\n"
	       "line names it with the values accepted, and nothing is written. Then\n"
	       "the knobs are written in the order given. KNOB is a generic name (see\n"
	       "'pcon get --help') or a raw kernel file name, whose value is written\n"
	       "as given. Files that move or kill tasks (cgroup.procs, cgroup.threads,\n"
	       "tasks, cgroup.kill) and release_agent are refused: use 'pcon attach'.\n\n"
	       "  -h, --help  show this help\n");
}

/* Why a knob failed, for a user. */
static const char *knob_meaning(int err)
{
	switch (-err) {
	case ENOENT: return "no such knob (see 'pcon get --help' for the generic names)";
	case EOPNOTSUPP: return "no hierarchy given has the controller the knob needs (see 'pcon hierarchies')";
	case ENXIO: return "not offered by this container (the root container, or on v2 the "
			   "controller is not enabled in the parent's cgroup.subtree_control)";
	case EINVAL: return "invalid value";
	case ERANGE: return "value out of range";
	case EROFS: return "read-only knob";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	default: return strerror(-err);
	}
}

/* Is err "not this container, try the next one"? */
static bool knob_elsewhere(int err)
{
	return err == -EOPNOTSUPP || err == -ENOENT || err == -ENXIO;
}

/* Keep the most telling of two errors: a real one over "not here". */
static int knob_err_pick(int old, int err)
{
	if (!old)
		return err;
	if (!knob_elsewhere(err))
		return knob_elsewhere(old) ? err : old;
	/* among "not here": ENXIO (has the controller) > EOPNOTSUPP > ENOENT */
	if (err == -ENXIO || (err == -EOPNOTSUPP && old == -ENOENT))
		return err;
	return old;
}

/* A knob name with '/', a leading '.' or control characters gets its own message. */
static bool knob_name_bad(const char *name, int err)
{
	if (err != -EINVAL || pcon_knob_hint(name))
		return false;
	if (!name[0] || name[0] == '.' || strchr(name, '/'))
		return true;
	for (const char *s = name; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Read name from the first container that has it. */
static int knob_get_any(struct pcon_container **cs, int n, const char *name, char **ret)
{
	int err = 0;
	for (int i = 0; i < n; i++) {
		int r = pcon_knob_get(cs[i], name, ret);
		if (r == 0)
			return 0;
		err = knob_err_pick(err, r);
		if (!knob_elsewhere(r))
			return r;
	}
	return err;
}

static void print_value(const char *name, const char *value, bool values_only)
{
	if (!values_only)
		printf("%s: ", name);
	for (const char *s = value; *s; s++) {
		putchar(*s);
		if (*s == '\n' && !values_only)
			putchar('\t');
	}
	putchar('\n');
}

/* Errors go to stderr; 1 if any knob failed. */
static int get_knobs(struct pcon_container **cs, int n, const char *spec, char **names,
		     int n_names, bool all, bool values_only, bool json)
{
	struct json j = { .f = stdout };
	int status = 0;
	if (json) {
		json_obj_begin(&j, NULL);
		json_str(&j, "container", spec);
		json_obj_begin(&j, "knobs");
	}
	for (int i = 0; i < n_names; i++) {
		char *value = NULL;
		int r = knob_get_any(cs, n, names[i], &value);
		if (r < 0 && all && knob_elsewhere(r))
			continue;
		if (r < 0) {
			char what[4600]; /* cli_fail escapes what would reach a terminal raw */
			snprintf(what, sizeof(what), "%s: %s", n == 1 ? cli_name(cs[0]) : spec, names[i]);
			if (knob_name_bad(names[i], r))
				cli_fail(what, "invalid knob name (a file name of the container: no '/', "
					 "no leading '.', no control characters)");
			else
				cli_fail(what, "%s", knob_meaning(r));
			status = 1;
			if (json)
				json_null(&j, names[i]);
			continue;
		}
		if (json)
			json_str(&j, names[i], value);
		else
			print_value(names[i], value, values_only);
		free(value);
	}
	if (json) {
		json_obj_end(&j);
		json_obj_end(&j);
		json_done(&j);
	}
	return status;
}

int cmd_get(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "values", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false, values_only = false;
	int o;
	while ((o = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (o) {
		case 'h': help_get(); return 0;
		case 'v': values_only = true; break;
		case 'j': json = true; break;
		default: return cli_usage(argv[0], "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage(argv[0], "missing HIER:PATH");
	const char *spec = argv[optind++];
	struct pcon_container *cs[PCON_SPEC_MAX_HIERS];
	int n = cli_open_all(c, spec, cs, PCON_SPEC_MAX_HIERS);
	if (n < 0)
		return 1;

	int status;
	if (optind < argc) {
		status = get_knobs(cs, n, spec, argv + optind, argc - optind, false, values_only, json);
	} else {
		const char *const *all = pcon_knob_names();
		int n_all = 0;
		while (all[n_all])
			n_all++;
		status = get_knobs(cs, n, spec, (char **)all, n_all, true, values_only, json);
	}
	cli_close_all(cs, n);
	return status;
}

struct assignment {
	char *name;     /* points into a copy of the argument */
	const char *value;
	int which;      /* the container that takes it */
};

/* Print the error line of name=value on container ct (or spec). */
static int set_fail(const char *where, const struct assignment *a, int err, const char *prefix)
{
	char what[4600]; /* cli_fail escapes what would reach a terminal raw */
	snprintf(what, sizeof(what), "%s: %s=%s", where, a->name, a->value);
	if (knob_name_bad(a->name, err))
		return cli_fail(what, "invalid knob name (a file name of the container: no '/', "
				"no leading '.', no control characters)");
	if (err == -EPERM && pcon_knob_refused(a->name))
		return cli_fail(what, "refused: %s", pcon_knob_refused(a->name));
	const char *hint = pcon_knob_hint(a->name);
	if ((err == -EINVAL || err == -ERANGE) && hint)
		return cli_fail(what, "%s%s; accepted: %s", prefix, knob_meaning(err), hint);
	return cli_fail(what, "%s%s", prefix, knob_meaning(err));
}

/* Find the container that takes a and check the value. 0 or an errno. */
static int set_check(struct pcon_container **cs, int n, struct assignment *a)
{
	int err = 0;
	for (int i = 0; i < n; i++) {
		int r = pcon_knob_check(cs[i], a->name, a->value);
		a->which = i;
		if (r == 0)
			return 0;
		err = knob_err_pick(err, r);
		if (!knob_elsewhere(r))
			return r;
	}
	return err;
}

static int set_knobs(struct pcon_container **cs, int n, const char *spec, struct assignment *as,
		     int n_as)
{
	int bad = 0;
	for (int i = 0; i < n_as; i++) {
		int r = set_check(cs, n, &as[i]);
		if (r < 0) {
			set_fail(n == 1 ? cli_name(cs[0]) : spec, &as[i], r, "");
			bad++;
		}
	}
	if (bad) {
		fprintf(stderr, "pcon: %s: nothing written\n", spec);
		return 1;
	}
	for (int i = 0; i < n_as; i++) {
		int r = pcon_knob_set(cs[as[i].which], as[i].name, as[i].value);
		if (r < 0) {
			set_fail(cli_name(cs[as[i].which]), &as[i], r, "the kernel refused it: ");
			if (i > 0)
				fprintf(stderr, "pcon: %s: the %d setting%s before it %s written\n",
					spec, i, i == 1 ? "" : "s", i == 1 ? "was" : "were");
			return 1;
		}
	}
	return 0;
}

int cmd_set(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			help_set();
			return 0;
		}
		return cli_usage(argv[0], "unknown option");
	}
	if (optind >= argc)
		return cli_usage(argv[0], "missing HIER:PATH");
	const char *spec = argv[optind++];
	if (optind >= argc)
		return cli_usage(argv[0], "missing KNOB=VALUE");
	int n_as = argc - optind;
	struct assignment *as = calloc((size_t)n_as, sizeof(*as));
	if (!as)
		return cli_fail(argv[0], "out of memory");
	for (int i = 0; i < n_as; i++) {
		char *arg = argv[optind + i];
		char *eq = strchr(arg, '=');
		if (!eq || eq == arg) {
			free(as);
			return cli_usage(argv[0], "'%s' is not KNOB=VALUE", arg);
		}
		as[i].name = strndup(arg, (size_t)(eq - arg));
		as[i].value = eq + 1;
		if (!as[i].name) {
			for (int k = 0; k < i; k++)
				free(as[k].name);
			free(as);
			return cli_fail(argv[0], "out of memory");
		}
	}

	struct pcon_container *cs[PCON_SPEC_MAX_HIERS];
	int n = cli_open_all(c, spec, cs, PCON_SPEC_MAX_HIERS);
	int status = n < 0 ? 1 : set_knobs(cs, n, spec, as, n_as);
	if (n > 0)
		cli_close_all(cs, n);
	for (int i = 0; i < n_as; i++)
		free(as[i].name);
	free(as);
	return status;
}
