/* Helpers shared by pcon's subcommands: error lines and opening containers. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Print a user-given name safely: control bytes escaped, long names cut. */
static void put_name(const char *s)
{
	size_t n = 0;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++, n++) {
		if (n == 160) {
			fputs("...", stderr);
			break;
		}
		if (*c < 0x20 || *c == 0x7f || *c == '\\')
			fprintf(stderr, "\\x%02x", *c);
		else
			fputc(*c, stderr);
	}
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
	case EXDEV: return "leaves the cgroup tree (crosses a mount)";
	case EINVAL: return "invalid container name ('.', '..' and control characters are not allowed)";
	case ENAMETOOLONG: return "name too long (at most 255 bytes a component, 4095 in all)";
	case EBUSY: return "container holds tasks, itself or below (move or stop them first)";
	case ENOTEMPTY: return "container has child containers (use -r to remove them too)";
	case ESRCH: return "no such process";
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
	if (optopt && strchr("0123456789", optopt) == NULL)
		return cli_usage(cmd, "invalid option '-%c'", optopt);
	return cli_usage(cmd, "invalid option '%s'", argv[optind - 1]);
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
			char name[4400];
			snprintf(name, sizeof(name), "%s:%s", s.hiers[i]->name, s.path);
			cli_errno(name, r);
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

const char *cli_name(const struct pcon_container *ct)
{
	static char buf[4400];
	snprintf(buf, sizeof(buf), "%s:%s", ct->hier->name, ct->path);
	return buf;
}
