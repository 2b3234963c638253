/* Helpers shared by pcon's subcommands: error lines and opening containers. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Print what the user typed (or a name pcon escaped) safely: control bytes,
 * terminal marks and bytes that are not UTF-8 escaped as in names; a
 * backslash stays as typed. Long strings are cut. */
static void put_name(const char *s)
{
	size_t shown = 0;
	while (*s && shown < 300) {
		size_t n = strcspn(s, "\\");
		char *part = strndup(s, n), *esc = NULL;
		int r = part ? pcon_escape_name_dup(part, &esc) : -ENOMEM;
		free(part);
		if (r < 0)
			return;
		fprintf(stderr, "%.*s", (int)(300 - shown), esc);
		shown += strlen(esc);
		free(esc);
		s += n;
		if (*s == '\\') {
			fputc('\\', stderr);
			s++, shown++;
		}
	}
	if (*s)
		fputs("...", stderr);
}

int cli_fail(const char *what, const char *fmt, ...)
{
	va_list ap;
	fputs("pcon: ", stderr);
	put_name(what);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* What a negative errno from libpcon means to a user. */
static const char *meaning(int err)
{
	switch (-err) {
	case ENOENT: return "no such container";
	case ENODEV: return "no such hierarchy";
	case ENOTDIR: return "not a container";
	case ELOOP: return "leaves the cgroup tree through a symlink";
	case EXDEV: return "covered by a mount (opening it underneath needs CAP_DAC_READ_SEARCH)";
	case EINVAL: return "invalid container name ('.' and '..' are not allowed; a backslash "
			    "starts an escape: \\\\, \\t, \\n or \\xHH)";
	case ENAMETOOLONG: return "name too long (at most 4095 bytes a component)";
	case EBUSY: return "container holds tasks, itself or below (move or stop them first)";
	case ENOTEMPTY: return "container has child containers (use -r to remove them too)";
	case ESRCH: return "no such process";
	case E2BIG: return "names more than 16 hierarchies (PCON_SPEC_MAX_HIERS, the most one name joins)";
	case ENOSPC: return "a v1 cpuset container without CPUs or memory nodes takes no tasks (set cpuset.cpus and cpuset.mems)";
	case EPERM: return "operation not permitted";
	case EACCES: return "permission denied";
	default: return strerror(-err);
	}
}

int cli_errno(const char *what, int err)
{
	return cli_fail(what, "%s", meaning(err));
}

const char *cli_strerror(int err)
{
	return meaning(err);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pcon: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'pcon %s --help')\n", cmd);
	return 2;
}

int cli_bad_option(const char *cmd, char **argv)
{
	/* getopt answers '?' both for an unknown option and for one without
	 * its value; for a long option only the second sets optopt. */
	const char *word = argv[optind - 1];
	if (optopt && word && !strncmp(word, "--", 2))
		return cli_usage(cmd, "option '%s' needs a value", word);
	if (optopt && strchr("0123456789", optopt) == NULL)
		return cli_usage(cmd, "invalid option '-%c'", optopt);
	return cli_usage(cmd, "invalid option '%s'", argv[optind - 1]);
}

int cli_option_error(const char *cmd, char **argv, int o)
{
	if (o == ':')
		return cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
	return cli_bad_option(cmd, argv);
}

/* Name the first hierarchy token of spec that matches nothing. */
static int fail_unknown_hier(struct cli *c, const char *spec)
{
	char list[256];
	snprintf(list, sizeof(list), "%.*s", (int)strcspn(spec, ":"), spec);
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct pcon_hier *h;
		if (pcon_hier_find(c->p, t, &h) < 0)
			return cli_fail(spec, "no hierarchy named '%s' (see 'pcon hierarchies')", t);
	}
	return cli_fail(spec, "no hierarchy named");
}

int cli_spec(struct cli *c, const char *spec, struct pcon_spec *ret)
{
	int r = pcon_spec_parse(c->p, spec, ret);
	if (r == -ENODEV)
		return fail_unknown_hier(c, spec);
	return r < 0 ? cli_errno(spec, r) : 0;
}

int cli_open_all(struct cli *c, const char *spec, struct pcon_container **ret, int max)
{
	struct pcon_spec s;
	if (cli_spec(c, spec, &s) != 0)
		return -1;
	int n = 0;
	for (size_t i = 0; i < s.n && n < max; i++) {
		int r = pcon_container_open(s.hiers[i], s.path, &ret[n]);
		if (r < 0) {
			cli_errno(cli_spec_name(s.hiers[i], s.path), r);
			cli_close_all(ret, n);
			pcon_spec_done(&s);
			return -1;
		}
		n++;
	}
	pcon_spec_done(&s);
	return n;
}

int cli_open_specs(struct cli *c, char **specs, int n_specs, struct pcon_container ***ret)
{
	struct pcon_container **v = calloc((size_t)n_specs * PCON_SPEC_MAX_HIERS + 1, sizeof(*v));
	if (!v) {
		cli_fail(specs[0], "out of memory");
		return -1;
	}
	int n = 0;
	for (int i = 0; i < n_specs; i++) {
		int k = cli_open_all(c, specs[i], v + n, PCON_SPEC_MAX_HIERS);
		if (k < 0) {
			cli_free_specs(v, n);
			return -1;
		}
		n += k;
	}
	*ret = v;
	return n;
}

void cli_free_specs(struct pcon_container **v, int n)
{
	cli_close_all(v, n);
	free(v);
}

void cli_close_all(struct pcon_container **v, int n)
{
	for (int i = 0; i < n; i++)
		pcon_container_free(v[i]);
}

/* Up to four names live at once, so that one message may name two containers. */
static const char *keep_name(char *name)
{
	static char *slot[4];
	static unsigned next;
	char **p = &slot[next++ % 4];
	free(*p);
	*p = name;
	return name;
}

const char *cli_spec_name(const struct pcon_hier *h, const char *path)
{
	struct pcon_container fake = { .hier = h, .path = (char *)path, .fd = -1 };
	return cli_name(&fake);
}

const char *cli_name(const struct pcon_container *ct)
{
	char *name = NULL;
	if (pcon_container_name(ct, &name) < 0)
		return "(out of memory)";
	return keep_name(name);
}
