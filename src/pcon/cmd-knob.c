/* pcon get / pcon set: read and write knobs, by generic or raw kernel name. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"

enum { KCOL_CONTAINER, KCOL_KNOB, KCOL_VALUE };

static const struct tcol knob_cols[] = {
	[KCOL_CONTAINER] = { "CONTAINER", 0.3, 0, SCOLS_JSON_STRING, "the container the value was read from, HIER:PATH" },
	[KCOL_KNOB] = { "KNOB", 0.2, 0, SCOLS_JSON_STRING, "generic knob or kernel file name" },
	[KCOL_VALUE] = { "VALUE", 0.5, SCOLS_FL_WRAP, SCOLS_JSON_STRING,
			 "its value; one of several lines goes on over the lines of its cell" },
};
#define N_KNOB_COLS (sizeof(knob_cols) / sizeof(knob_cols[0]))

static void help_get(void)
{
	printf("Usage: pcon get [-v] [OUTPUT OPTIONS] HIER:PATH [KNOB...]\n"
	       "       pcon get -a [OUTPUT OPTIONS] HIER:PATH\n\n"
	       "Print knobs of a container, one 'KNOB: VALUE' line each. A value of\n"
	       "several lines (cpu.stat, memory.stat) continues on lines that start with\n"
	       "a tab, with -v too: a line without a leading tab starts the next value.\n"
	       "A KNOB is a generic name, the same on cgroup v1 and v2, or a raw kernel\n"
	       "file name of the container (cpu.shares). Without KNOB, every generic knob\n"
	       "the container's hierarchies offer, in the order the hierarchies are named\n"
	       "(cpu,memory:/x: cpu's first). With HIER1,HIER2:PATH each knob is read\n"
	       "from the first hierarchy that has it.\n\n"
	       "Generic knobs:\n");
	for (const char *const *k = pcon_knob_names(); *k; k++)
		printf("  %-18s %s\n", *k, pcon_knob_hint(*k));
	printf("\n  -v, --values, --verbose  print the values only, one a line (continuation\n"
	       "                           lines start with a tab), in the order asked\n"
	       "  -a, --all                every file of the container, as the kernel shows it\n"
	       "Output options print a table of CONTAINER, KNOB and VALUE instead (default\n"
	       "columns KNOB,VALUE; with -v, VALUE); -J: {\"knobs\": [{\"knob\": ..., \"value\": ...}]}.\n"
	       "With --all -J, a keyed file (cpu.stat, memory.stat, io.stat, *.pressure) is a\n"
	       "row whose \"children\" are its keys, and the fields of io.stat and pressure\n"
	       "lines are their children in turn; values are strings as the kernel wrote them.\n"
	       TABLE_HELP
	       "  -h, --help               show this help\n");
}

static void help_set(void)
{
	printf("Usage: pcon set HIER:PATH KNOB=VALUE...\n"
	       "       pcon set --copy-from=HIER:PATH [--raw] HIER:PATH...\n\n"
	       "Write knobs of a container. Every value is checked first (its syntax,\n"
	       "its range, CPUs and memory nodes online): if any is invalid, an error\n"
	       "line names it with the values accepted, and nothing is written. Then\n"
	       "the knobs are written in the order given. KNOB is a generic name (see\n"
	       "'pcon get --help') or a raw kernel file name, whose value is written\n"
	       "as given. Files that move or kill tasks (cgroup.procs, cgroup.threads,\n"
	       "tasks, cgroup.kill) and release_agent are refused: use 'pcon attach'.\n\n"
	       "  --copy-from=HIER:PATH  write every generic knob that has a value there\n"
	       "                         into each HIER:PATH given (all checked first)\n"
	       "  --raw                  with --copy-from, every writable one-line file\n"
	       "                         of its controllers too\n"
	       "  -h, --help             show this help\n");
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
static int knob_get_any(struct pcon_container **cs, int n, const char *name, char **ret,
			int *ret_which)
{
	int err = 0;
	for (int i = 0; i < n; i++) {
		int r = pcon_knob_get(cs[i], name, ret);
		if (r == 0) {
			*ret_which = i;
			return 0;
		}
		err = knob_err_pick(err, r);
		if (!knob_elsewhere(r))
			return r;
	}
	return err;
}

/* A value of several lines continues on lines that start with a tab, so
 * that the next value (or, with -v, the next line) can be told apart. */
static void print_value(const char *name, const char *value, bool values_only)
{
	if (!values_only)
		printf("%s: ", name);
	for (const char *s = value; *s; s++) {
		putchar(*s);
		if (*s == '\n')
			putchar('\t');
	}
	putchar('\n');
}

/* Why knob name could not be read from spec: one line. */
static void get_fail(const struct pcon_container *ct, const char *spec, const char *name, int r)
{
	char what[4600]; /* cli_fail escapes what would reach a terminal raw */
	snprintf(what, sizeof(what), "%s: %s", spec, name);
	if (knob_name_bad(name, r))
		cli_fail(what, "invalid knob name (a file name of the container: no '/', "
			 "no leading '.', no control characters)");
	else if (r == -ENXIO && !strcmp(ct->path, "/"))
		cli_fail(what, "the root container has no such knob");
	else
		cli_fail(what, "%s", knob_meaning(r));
}

/* One row of the table: a value NULL (not read) is "-", in JSON null. */
static int knob_row(struct table *t, const struct pcon_container *ct, const char *name,
		    const char *value)
{
	struct libscols_line *ln = table_row(t, NULL);
	if (!ln)
		return -ENOMEM;
	int r = table_set(t, ln, KCOL_CONTAINER, cli_name(ct)); /* escaped already */
	r = r ?: table_set_name(t, ln, KCOL_KNOB, name);
	return r ?: table_set(t, ln, KCOL_VALUE, value);
}

struct got {
	char *value;   /* NULL: not read */
	int which;     /* the container it came from */
	int rank;      /* where spec names the knob's controller */
	int index;     /* the order of the knob table */
};

/* Where spec names the controller of knob (memory.max in cpu,memory:/x: 1);
 * a knob of a controller it does not name comes after all it names. */
static int knob_rank(const char *spec, const char *knob)
{
	size_t plen = strcspn(knob, ".");
	if (spec[0] == '/' || !strchr(spec, ':'))
		return 0;
	int i = 0;
	for (const char *t = spec; *t != ':'; i++) {
		size_t n = strcspn(t, ",:");
		/* pcon calls the pids controller numtasks */
		if ((n == plen && !strncmp(t, knob, n)) ||
		    (n == 4 && !strncmp(t, "pids", 4) && plen == 8 && !strncmp(knob, "numtasks", 8)))
			return i;
		t += n + (t[n] == ',');
	}
	return i;
}

static int got_cmp(const void *a, const void *b)
{
	const struct got *x = a, *y = b;
	if (x->which != y->which)
		return x->which < y->which ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Errors go to stderr; 1 if any knob failed. With all, knobs no hierarchy
 * offers are left out, and knobs print hierarchy by hierarchy in the order
 * the spec names them. */
static int get_knobs(struct pcon_container **cs, int n, const char *spec, char **names,
		     int n_names, bool all, bool values_only, struct table *t)
{
	struct got *got = calloc((size_t)n_names, sizeof(*got));
	if (!got)
		return cli_fail(spec, "out of memory");
	int status = 0;
	for (int i = 0; i < n_names; i++) {
		got[i].index = i;
		got[i].rank = all ? knob_rank(spec, names[i]) : 0;
		int r = knob_get_any(cs, n, names[i], &got[i].value, &got[i].which);
		if (r < 0 && !(all && knob_elsewhere(r))) {
			get_fail(cs[0], spec, names[i], r);
			status = 1;
		}
		if (r < 0)
			got[i].which = all && knob_elsewhere(r) ? -1 : 0;
	}
	/* Without KNOB: hierarchy by hierarchy, controller by controller, in
	 * the order spec names them; KNOBs given: in the order given. */
	if (all)
		qsort(got, (size_t)n_names, sizeof(*got), got_cmp);
	for (int i = 0; i < n_names && status >= 0; i++) {
		const char *name = names[got[i].index];
		if (got[i].which < 0)
			continue;
		if (t)
			status = knob_row(t, cs[got[i].which], name, got[i].value) < 0 ? -1 : status;
		else if (got[i].value)
			print_value(name, got[i].value, values_only);
	}
	if (status < 0)
		status = cli_fail(spec, "out of memory");
	for (int i = 0; i < n_names; i++)
		free(got[i].value);
	free(got);
	return status;
}

static int get_all(const struct pcon_container *c, struct table *t);

/* Any option that asks for the table. */
static bool tout_any(const struct tout *o)
{
	return o->output || o->raw || o->noheadings || o->json;
}

/* The table of get, its VALUE cells going on over the lines of a value. */
static int knob_table(struct table *t, const char *cmd, bool values_only, const struct tout *o)
{
	int r = table_init(t, cmd, "knobs", knob_cols, N_KNOB_COLS, values_only ? "VALUE" : "KNOB,VALUE", o);
	if (r == 0 && table_has(t, KCOL_VALUE) && !o->raw) {
		/* a newline is safe here: it starts the next line of the cell */
		struct libscols_column *cl = scols_table_get_column(t->tb, (size_t)t->pos[KCOL_VALUE]);
		scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize, scols_wrapnl_nextchunk, NULL);
		scols_column_set_safechars(cl, "\n");
	}
	return r;
}

static int get_run(struct pcon_container **cs, int n, const char *spec, char **knobs, int n_knobs,
		   bool every, bool values_only, struct table *t)
{
	if (every) {
		int status = 0;
		for (int i = 0; i < n; i++)
			status |= get_all(cs[i], t);
		return status;
	}
	if (n_knobs > 0)
		return get_knobs(cs, n, spec, knobs, n_knobs, false, values_only, t);
	const char *const *all = pcon_knob_names();
	int n_all = 0;
	while (all[n_all])
		n_all++;
	return get_knobs(cs, n, spec, (char **)all, n_all, true, values_only, t);
}

int cmd_get(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "values", no_argument, NULL, 'v' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "all", no_argument, NULL, 'a' },
		TABLE_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tout out = { 0 };
	bool values_only = false, every = false;
	int o;
	while ((o = getopt_long(argc, argv, ":hav" TABLE_LETTERS, opts, NULL)) != -1) {
		switch (o) {
		case 'h': help_get(); return 0;
		case 'v': values_only = true; break;
		case 'a': every = true; break;
		default:
			if (!tout_option(&out, o, optarg))
				return cli_option_error(argv[0], argv, o);
		}
	}
	if (out.list_columns)
		return table_list_columns(knob_cols, N_KNOB_COLS, &out);
	if (optind >= argc)
		return cli_usage(argv[0], "missing HIER:PATH");
	const char *spec = argv[optind++];
	if (every && (optind < argc || values_only))
		return cli_usage(argv[0], "--all takes one HIER:PATH and no KNOB or -v");
	struct table t, *tp = NULL;
	if (every && out.json && !out.output)
		out.output = "CONTAINER,KNOB,VALUE"; /* rows of every hierarchy named */
	if (tout_any(&out)) {
		int r = knob_table(&t, argv[0], values_only, &out);
		if (r)
			return r;
		tp = &t;
		if (every && out.json && table_has(&t, KCOL_KNOB)) {
			/* keyed files nest their keys as children */
			struct libscols_column *cl = scols_table_get_column(t.tb, (size_t)t.pos[KCOL_KNOB]);
			scols_column_set_flags(cl, scols_column_get_flags(cl) | SCOLS_FL_TREE);
		}
	}
	struct pcon_container *cs[PCON_SPEC_MAX_HIERS];
	int n = cli_open_all(c, spec, cs, PCON_SPEC_MAX_HIERS);
	int status = n < 0 ? 1 : get_run(cs, n, spec, argv + optind, argc - optind, every, values_only, tp);
	if (n > 0)
		cli_close_all(cs, n);
	if (tp) {
		/* what could be read is printed beside the errors */
		int r = n > 0 ? table_print(tp) : 0;
		status = status ?: r;
		table_free(tp);
	}
	return status;
}

struct assignment {
	char *name;     /* points into a copy of the argument */
	const char *value;
	int which;      /* the container that takes it */
};

/* Print the one error line of name=value on where (the container as the
 * user spelled it); suffix says what was written before, if anything. */
static int set_fail(const char *where, bool root, const struct assignment *a, int err,
		    const char *prefix, const char *suffix)
{
	char what[4600]; /* cli_fail escapes what would reach a terminal raw */
	snprintf(what, sizeof(what), "%s: %s=%s", where, a->name, a->value);
	if (knob_name_bad(a->name, err))
		return cli_fail(what, "invalid knob name (a file name of the container: no '/', "
				"no leading '.', no control characters)%s", suffix);
	if (err == -EPERM && pcon_knob_refused(a->name))
		return cli_fail(what, "refused: %s%s", pcon_knob_refused(a->name), suffix);
	if (err == -ENXIO && root)
		return cli_fail(what, "the root container has no such knob%s", suffix);
	const char *hint = pcon_knob_hint(a->name);
	if ((err == -EINVAL || err == -ERANGE) && hint)
		return cli_fail(what, "%s%s; accepted: %s%s", prefix, knob_meaning(err), hint, suffix);
	return cli_fail(what, "%s%s%s", prefix, knob_meaning(err), suffix);
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

/* Check every assignment, then write them in order. One error line each,
 * naming the container as spec spells it; nothing is written if any check
 * fails. */
static int set_knobs(struct pcon_container **cs, int n, const char *spec, struct assignment *as,
		     int n_as)
{
	bool root = strcmp(cs[0]->path, "/") == 0;
	int bad = 0;
	for (int i = 0; i < n_as; i++) {
		int r = set_check(cs, n, &as[i]);
		if (r < 0) {
			set_fail(spec, root, &as[i], r, "", n_as > 1 ? " (nothing written)" : "");
			bad++;
		}
	}
	if (bad)
		return 1;
	for (int i = 0; i < n_as; i++) {
		int r = pcon_knob_set(cs[as[i].which], as[i].name, as[i].value);
		if (r < 0) {
			char before[96] = "";
			if (i > 0)
				snprintf(before, sizeof(before), " (the %d setting%s before it %s written)",
					 i, i == 1 ? "" : "s", i == 1 ? "was" : "were");
			set_fail(spec, root, &as[i], r, "the kernel refused it: ", before);
			return 1;
		}
	}
	return 0;
}

static int copy_from(struct cli *c, const char *from, bool raw, char **dsts, int n_dsts);

int cmd_set(struct cli *c, int argc, char **argv)
{
	enum { OPT_COPY_FROM = 0x100, OPT_RAW };
	static const struct option opts[] = {
		{ "copy-from", required_argument, NULL, OPT_COPY_FROM },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *from = NULL;
	bool raw = false;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'h': help_set(); return 0;
		case OPT_COPY_FROM: from = optarg; break;
		case OPT_RAW: raw = true; break;
		default: return cli_bad_option(argv[0], argv);
		}
	}
	if (raw && !from)
		return cli_usage(argv[0], "--raw goes with --copy-from");
	if (optind >= argc)
		return cli_usage(argv[0], "missing HIER:PATH");
	if (from)
		return copy_from(c, from, raw, argv + optind, argc - optind);
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

/* ---- get --all ---- */

enum keyed { KEYED_NONE, KEYED_FLAT, KEYED_NESTED };

/* "key value" lines (cpu.stat) are flat; "key k=v k=v" lines (io.stat, PSI)
 * nested; anything else is text. */
static enum keyed keyed_kind(const char *text)
{
	enum keyed kind = KEYED_NONE;
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		const char *sp = memchr(line, ' ', len);
		if (!sp || sp == line)
			return KEYED_NONE;
		bool nested = memchr(sp, '=', len - (size_t)(sp - line)) != NULL;
		enum keyed k = nested ? KEYED_NESTED : KEYED_FLAT;
		if ((kind != KEYED_NONE && kind != k) ||
		    (k == KEYED_FLAT && memchr(sp + 1, ' ', len - (size_t)(sp - line) - 1)))
			return KEYED_NONE;
		kind = k;
		line += len + (line[len] == '\n');
	}
	return kind;
}

/* A row under parent: KNOB name[0..nlen), VALUE value[0..vlen) (NULL: none). */
static struct libscols_line *sub_row(struct table *t, struct libscols_line *parent,
				     const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct libscols_line *ln = table_row(t, parent);
	char *k = strndup(name, nlen), *v = value ? strndup(value, vlen) : NULL;
	int r = ln && k && (v || !value) ? 0 : -ENOMEM;
	r = r ?: table_set_name(t, ln, KCOL_KNOB, k);
	r = r ?: table_set(t, ln, KCOL_VALUE, v);
	free(k);
	free(v);
	return r ? NULL : ln;
}

/* JSON of get --all: a keyed file's row has its keys as children ("key
 * value" lines), and a nested one their fields ("key k=v k=v") below them. */
static int keyed_rows(struct table *t, const struct pcon_container *ct, const char *name,
		      const char *text, enum keyed kind)
{
	struct libscols_line *file = table_row(t, NULL);
	int r = file ? 0 : -ENOMEM;
	r = r ?: table_set(t, file, KCOL_CONTAINER, cli_name(ct));
	r = r ?: table_set_name(t, file, KCOL_KNOB, name);
	for (const char *line = text; r == 0 && *line;) {
		size_t len = strcspn(line, "\n"), klen = strcspn(line, " ");
		if (kind == KEYED_FLAT) {
			r = sub_row(t, file, line, klen, line + klen + 1, len - klen - 1) ? 0 : -ENOMEM;
		} else {
			struct libscols_line *key = sub_row(t, file, line, klen, NULL, 0);
			r = key ? 0 : -ENOMEM;
			for (const char *f = line + klen; r == 0 && f < line + len;) {
				f += strspn(f, " ");
				size_t flen = strcspn(f, " \n"), eq = strcspn(f, "=");
				if (eq < flen && !sub_row(t, key, f, eq, f + eq + 1, flen - eq - 1))
					r = -ENOMEM;
				f += flen;
			}
		}
		line += len + (line[len] == '\n');
	}
	return r;
}

/* Every readable file of c, sorted: "FILE: VALUE" lines, or rows of t. */
static int get_all(const struct pcon_container *c, struct table *t)
{
	char **names = NULL;
	int n = pcon_container_files(c, &names);
	if (n < 0)
		return cli_errno(cli_name(c), n);
	if (!t)
		printf("%s:\n", cli_name(c));
	int r = 0;
	for (int i = 0; i < n && r == 0; i++) {
		char *v = NULL;
		if (pcon_knob_get(c, names[i], &v) < 0)
			continue; /* write-only (cgroup.kill), or gone */
		enum keyed kind = t && t->json ? keyed_kind(v) : KEYED_NONE;
		if (kind != KEYED_NONE)
			r = keyed_rows(t, c, names[i], v, kind);
		else if (t)
			r = knob_row(t, c, names[i], v);
		else
			print_value(names[i], v, false);
		free(v);
	}
	pcon_strv_free(names);
	return r < 0 ? cli_errno(cli_name(c), r) : 0;
}

/* ---- set --copy-from ---- */

/* Files --raw never copies: they move or kill tasks, change a container's
 * kind, or read otherwise than they are written. */
static bool raw_skipped(const char *name)
{
	static const char *const skip[] = { "cgroup.subtree_control", "cgroup.type", "cgroup.clone_children",
					    "cgroup.pressure", "cgroup.freeze", NULL };
	if (pcon_knob_refused(name))
		return true;
	for (int i = 0; skip[i]; i++)
		if (!strcmp(name, skip[i]))
			return true;
	return false;
}

struct assignments {
	struct assignment *v;
	int n;
};

static int push(struct assignments *as, const char *name, const char *value)
{
	for (int i = 0; i < as->n; i++)
		if (!strcmp(as->v[i].name, name))
			return 0; /* the first hierarchy that has it */
	struct assignment *v = realloc(as->v, (size_t)(as->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	as->v = v;
	v[as->n] = (struct assignment){ .name = strdup(name), .value = strdup(value) };
	if (!v[as->n].name || !v[as->n].value)
		return -ENOMEM;
	as->n++;
	return 0;
}

/* What the source has that can be written back: its generic knobs; with
 * raw, every writable one-line file too. */
static int collect(struct pcon_container **src, int n, bool raw, struct assignments *as)
{
	for (const char *const *k = pcon_knob_names(); *k; k++)
		for (int i = 0; i < n; i++) {
			char *v = NULL;
			int r = pcon_knob_get(src[i], *k, &v) == 0 && *v && pcon_knob_check(src[i], *k, v) == 0
					? push(as, *k, v) : 0;
			free(v);
			if (r < 0)
				return r;
		}
	for (int i = 0; raw && i < n; i++) {
		char **files = NULL;
		int nf = pcon_container_files(src[i], &files);
		if (nf < 0)
			return nf;
		for (int f = 0; f < nf; f++) {
			char *v = NULL;
			int r = !raw_skipped(files[f]) && pcon_knob_get(src[i], files[f], &v) == 0 && *v &&
						!strchr(v, '\n') && pcon_knob_check(src[i], files[f], v) == 0
					? push(as, files[f], v) : 0;
			free(v);
			if (r < 0) {
				pcon_strv_free(files);
				return r;
			}
		}
		pcon_strv_free(files);
	}
	return 0;
}

static int copy_from(struct cli *c, const char *from, bool raw, char **dsts, int n_dsts)
{
	struct pcon_container *src[PCON_SPEC_MAX_HIERS];
	int n = cli_open_all(c, from, src, PCON_SPEC_MAX_HIERS);
	if (n < 0)
		return 1;
	struct assignments as = { 0 };
	int r = collect(src, n, raw, &as);
	cli_close_all(src, n);
	struct pcon_container ***cs = calloc((size_t)n_dsts, sizeof(*cs));
	int *ns = calloc((size_t)n_dsts, sizeof(int)), status = 0;
	if (r < 0 || !cs || !ns)
		status = cli_fail(from, "out of memory");
	/* Every destination is opened and every value checked before any write. */
	for (int d = 0; d < n_dsts && status == 0; d++) {
		cs[d] = calloc(PCON_SPEC_MAX_HIERS, sizeof(**cs));
		ns[d] = cs[d] ? cli_open_all(c, dsts[d], cs[d], PCON_SPEC_MAX_HIERS) : -1;
		for (int i = 0; ns[d] > 0 && i < as.n; i++) {
			int e = set_check(cs[d], ns[d], &as.v[i]);
			if (e < 0)
				status = set_fail(dsts[d], !strcmp(cs[d][0]->path, "/"), &as.v[i], e, "",
						  " (nothing written)");
		}
		if (ns[d] < 0)
			status = 1;
	}
	for (int d = 0; d < n_dsts && status == 0; d++)
		status = set_knobs(cs[d], ns[d], dsts[d], as.v, as.n);
	for (int d = 0; d < n_dsts && cs; d++) {
		if (cs[d] && ns[d] > 0)
			cli_close_all(cs[d], ns[d]);
		free(cs[d]);
	}
	free(cs);
	free(ns);
	for (int i = 0; i < as.n; i++) {
		free(as.v[i].name);
		free((char *)as.v[i].value);
	}
	free(as.v);
	return status;
}
