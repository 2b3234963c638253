/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pressure stall information of containers and of the machine. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "pcon/pressure.h"

static const char *const resources[PCON_PSI_MAX] = { "cpu", "memory", "io" };
static const char *const kinds[PCON_PSI_KIND_MAX] = { "some", "full" };

_public_ const char *pcon_psi_resource_to_string(enum pcon_psi_resource r)
{
	return r >= 0 && r < PCON_PSI_MAX ? resources[r] : NULL;
}

_public_ enum pcon_psi_resource pcon_psi_resource_from_string(const char *s)
{
	for (int i = 0; s && i < PCON_PSI_MAX; i++)
		if (strcmp(s, resources[i]) == 0)
			return (enum pcon_psi_resource)i;
	return PCON_PSI_INVALID;
}

_public_ const char *pcon_psi_kind_to_string(enum pcon_psi_kind k)
{
	return k >= 0 && k < PCON_PSI_KIND_MAX ? kinds[k] : NULL;
}

_public_ enum pcon_psi_kind pcon_psi_kind_from_string(const char *s)
{
	for (int i = 0; s && i < PCON_PSI_KIND_MAX; i++)
		if (strcmp(s, kinds[i]) == 0)
			return (enum pcon_psi_kind)i;
	return PCON_PSI_KIND_INVALID;
}

/* "some avg10=0.12 avg60=0.05 avg300=0.01 total=1234": fields by name. */
static int parse_line(char *line, enum pcon_psi_kind *ret_kind, struct pcon_psi *ret)
{
	char *save = NULL, *t = strtok_r(line, " \t", &save);
	enum pcon_psi_kind k = pcon_psi_kind_from_string(t);
	if (k < 0)
		return -EBADMSG;
	struct pcon_psi v = { 0 };
	unsigned seen = 0;
	while ((t = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(t, '=');
		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		char *end;
		if (strcmp(t, "total") == 0) {
			if (parse_u64(eq + 1, &v.total_us) < 0)
				return -EBADMSG;
			seen |= 8;
			continue;
		}
		double d = strtod(eq + 1, &end);
		if (end == eq + 1 || *end || d < 0 || d > 100)
			return -EBADMSG;
		if (strcmp(t, "avg10") == 0)
			v.avg10 = d, seen |= 1;
		else if (strcmp(t, "avg60") == 0)
			v.avg60 = d, seen |= 2;
		else if (strcmp(t, "avg300") == 0)
			v.avg300 = d, seen |= 4;
		/* a field a later kernel adds is passed over */
	}
	if (seen != 15)
		return -EBADMSG;
	*ret_kind = k;
	*ret = v;
	return 0;
}

_public_ int pcon_pressure_parse(const char *text, enum pcon_psi_resource r, struct pcon_pressure *ret)
{
	if (!text || !ret || r < 0 || r >= PCON_PSI_MAX)
		return -EINVAL;
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	int got = 0;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		enum pcon_psi_kind k;
		struct pcon_psi v;
		if (parse_line(line, &k, &v) < 0)
			continue;
		ret->v[r][k] = v;
		ret->have[r][k] = true;
		got++;
	}
	return got ? 0 : -EBADMSG;
}

/* Read the three files name_fmt names (with the resource) beneath dirfd. */
static int read_all(int dirfd, const char *fmt, struct pcon_pressure *ret)
{
	struct pcon_pressure p = { 0 };
	int found = 0;
	for (int r = 0; r < PCON_PSI_MAX; r++) {
		char name[32];
		snprintf(name, sizeof(name), fmt, resources[r]);
		_cleanup_free_ char *text = NULL;
		int e = read_text_at(dirfd, name, &text);
		/* No file, or one that answers EOPNOTSUPP: psi=0, or a controller
		 * whose pressure this kernel does not keep. */
		if (e == -ENOENT || e == -EOPNOTSUPP)
			continue;
		if (e == -ENODEV)
			return -ENOENT; /* the container was removed */
		if (e < 0)
			return e;
		if (pcon_pressure_parse(text, (enum pcon_psi_resource)r, &p) == 0)
			found++;
	}
	if (!found)
		return -EOPNOTSUPP;
	*ret = p;
	return 0;
}

_public_ int pcon_pressure_read(const struct pcon_container *c, struct pcon_pressure *ret)
{
	if (!c || !ret)
		return -EINVAL;
	if (c->hier->version != 2)
		return -EOPNOTSUPP;
	int r = read_all(c->fd, "%s.pressure", ret);
	if (r == -EOPNOTSUPP && faccessat(c->fd, "cgroup.procs", F_OK, 0) < 0)
		return -ENOENT;
	return r;
}

_public_ int pcon_pressure_read_machine(const struct pcon *p, struct pcon_pressure *ret)
{
	if (!p || !ret)
		return -EINVAL;
	return read_all(pcon_proc_fd(p), "pressure/%s", ret);
}
