/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The loaded view of the machine: hierarchies, their names, container specs. */
#include <fcntl.h>
#include <string.h>

#include "internal.h"
#include "statcache.h"

static char *path_join(const char *root, const char *path)
{
	char *s;
	return asprintf(&s, "%s%s", root, path) < 0 ? NULL : s;
}

/* Controller names from /proc/cgroups (enabled ones), with their hierarchy ids. */
static int read_proc_cgroups(const char *sysroot, char ***ret_names, int **ret_ids)
{
	_cleanup_free_ char *path = path_join(sysroot, "/proc/cgroups");
	_cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ int *ids = NULL;
	size_t cap = 0, n = 0;

	if (!path)
		return -ENOMEM;
	if (!f)
		return negerrno();
	while (getline(&line, &cap, f) > 0) {
		char name[64];
		int hier, num, enabled;
		if (line[0] == '#' || sscanf(line, "%63s %d %d %d", name, &hier, &num, &enabled) != 4)
			continue;
		if (!enabled)
			continue;
		int *ni = realloc(ids, (n + 1) * sizeof(int));
		if (!ni)
			return -ENOMEM;
		ids = ni;
		ids[n] = hier;
		char *d = strdup(name);
		if (!d || strv_push(&names, &n, d) < 0)
			return -ENOMEM;
	}
	*ret_names = TAKE_PTR(names);
	*ret_ids = TAKE_PTR(ids);
	return (int)n;
}

/* Open each hierarchy's root and fill what only the live tree tells. */
/* A named v1 hierarchy's id: /proc/cgroups lists controllers only, but
 * every process's /proc/PID/cgroup names it ("9:name=systemd:/"). 0 if not. */
static int named_hier_id(const char *sysroot, const char *named)
{
	_cleanup_free_ char *path = path_join(sysroot, "/proc/self/cgroup");
	_cleanup_fclose_ FILE *f = path ? fopen(path, "re") : NULL;
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		int id;
		char name[256];
		if (sscanf(line, "%d:name=%255[^:]:", &id, name) == 2 && strcmp(name, named) == 0)
			return id;
	}
	return 0;
}

static void hier_attach(struct pcon_hier *h, const char *sysroot, char *const *names, const int *ids)
{
	_cleanup_free_ char *path = path_join(sysroot, h->mount);
	h->root_fd = path ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -ENOMEM;
	if (h->root_fd < 0 && path)
		h->root_fd = negerrno();
	if (h->version == 1) {
		for (size_t i = 0; names && names[i]; i++)
			if (h->controllers && strcmp(names[i], h->controllers[0]) == 0)
				h->id = ids[i];
		if (h->id == 0 && h->named)
			h->id = named_hier_id(sysroot, h->named);
		return;
	}
	_cleanup_free_ char *text = NULL;
	if (h->root_fd < 0 || read_text_at(h->root_fd, "cgroup.controllers", &text) < 0)
		return;
	size_t n = 0;
	for (char *save = NULL, *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		char *d = strdup(t);
		if (!d || strv_push(&h->controllers, &n, d) < 0)
			return;
	}
}

_public_ void pcon_close(struct pcon *p)
{
	if (!p)
		return;
	taskstate_bpf_release(p);
	taskstate_kernel_release(p);
	statcache_free(p->ts.stats);
	for (size_t i = 0; i < p->n_hiers; i++)
		hier_done(&p->hiers[i]);
	free(p->hiers);
	if (p->proc_fd >= 0)
		close(p->proc_fd);
	free(p->sysroot);
	free(p);
}

static void pcon_closep(struct pcon **p) { pcon_close(*p); }

_public_ int pcon_open(const char *sysroot, struct pcon **ret)
{
	if (!sysroot || strcmp(sysroot, "/") == 0)
		sysroot = "";
	_cleanup_(pcon_closep) struct pcon *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->proc_fd = -EBADF;
	taskstate_bpf_setup(p);
	p->ts.fd_budget = SIZE_MAX;
	if (!(p->sysroot = strdup(sysroot)))
		return -ENOMEM;

	_cleanup_free_ char *proc = path_join(sysroot, "/proc");
	_cleanup_free_ char *mi_path = path_join(sysroot, "/proc/self/mountinfo");
	if (!proc || !mi_path)
		return -ENOMEM;
	p->proc_fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->proc_fd < 0)
		return negerrno();

	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ int *ids = NULL;
	(void)read_proc_cgroups(sysroot, &names, &ids); /* optional: without it options are guessed */

	_cleanup_fclose_ FILE *mi = fopen(mi_path, "re");
	if (!mi)
		return negerrno();
	int r = hiers_parse_mountinfo(mi, names, &p->hiers, &p->n_hiers);
	if (r < 0)
		return r;
	if (p->n_hiers == 0)
		return -ENOMEDIUM;
	for (size_t i = 0; i < p->n_hiers; i++)
		hier_attach(&p->hiers[i], sysroot, names, ids);
	*ret = TAKE_PTR(p);
	return 0;
}

_public_ const struct pcon_hier *pcon_hiers(const struct pcon *p, size_t *ret_n)
{
	*ret_n = p->n_hiers;
	return p->hiers;
}

_public_ int pcon_proc_fd(const struct pcon *p)
{
	return p->proc_fd;
}

_public_ const struct pcon_hier *pcon_hier_default(const struct pcon *p)
{
	for (size_t i = 0; i < p->n_hiers; i++)
		if (p->hiers[i].version == 2)
			return &p->hiers[i];
	return p->n_hiers ? &p->hiers[0] : NULL;
}

_public_ bool pcon_hier_has(const struct pcon_hier *h, const char *ctrl)
{
	return strv_contains(h->controllers, ctrl);
}

/* Does h match token by name, name=, controller or pcon subsystem? */
static bool hier_matches(const struct pcon_hier *h, const char *token)
{
	if (strncmp(token, "name=", 5) == 0)
		return h->named && strcmp(h->named, token + 5) == 0;
	if (strcmp(h->name, token) == 0 || (h->named && strcmp(h->named, token) == 0))
		return true;
	if (h->version == 2 && strcmp(token, "v2") == 0)
		return true;
	if (pcon_hier_has(h, token))
		return true;
	const char *ctrl = subsys_controller(token, h->version);
	if (!ctrl)
		return false;
	return ctrl[0] ? pcon_hier_has(h, ctrl) : h->version == 2;
}

_public_ int pcon_hier_find(const struct pcon *p, const char *token, const struct pcon_hier **ret)
{
	/* A controller bound to a v1 hierarchy wins over the same name offered by v2. */
	for (int pass = 1; pass <= 2; pass++)
		for (size_t i = 0; i < p->n_hiers; i++)
			if (p->hiers[i].version == pass && hier_matches(&p->hiers[i], token)) {
				*ret = &p->hiers[i];
				return 0;
			}
	return -ENODEV;
}

/* The longest name component: what one mkdir(2) path string can carry. cgroupfs
 * does not apply NAME_MAX (255): longer names exist. */
#define COMPONENT_MAX 4095

_public_ int pcon_path_normalize(const char *path, char **ret)
{
	size_t len = strlen(path);
	_cleanup_free_ char *out = malloc(len + 2);
	if (!out)
		return -ENOMEM;
	size_t w = 0;
	for (const char *s = path; *s;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return -EINVAL;
		if (n > COMPONENT_MAX)
			return -ENAMETOOLONG;
		out[w++] = '/';
		memcpy(out + w, s, n);
		w += n;
		s = e;
	}
	if (w == 0)
		out[w++] = '/';
	out[w] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

_public_ void pcon_spec_done(struct pcon_spec *s)
{
	free(s->path);
	*s = (struct pcon_spec){ 0 };
}

_public_ int pcon_spec_parse(const struct pcon *p, const char *escaped, struct pcon_spec *ret)
{
	struct pcon_spec s = { 0 };
	/* Names come back in the form pcon prints them (pcon_escape_name). */
	_cleanup_free_ char *spec = NULL;
	int r = pcon_unescape_name(escaped, &spec);
	if (r < 0)
		return r;
	/* A spec that starts with '/' is a bare path, even if it holds a ':'. */
	const char *colon = spec[0] == '/' ? NULL : strchr(spec, ':');
	const char *path = colon ? colon + 1 : spec;

	if (!colon || colon == spec) {
		const struct pcon_hier *h = pcon_hier_default(p);
		if (!h)
			return -ENODEV;
		s.hiers[s.n++] = h;
	} else {
		_cleanup_free_ char *list = strndup(spec, (size_t)(colon - spec));
		if (!list)
			return -ENOMEM;
		for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			const struct pcon_hier *h;
			r = pcon_hier_find(p, t, &h);
			if (r < 0)
				return r;
			bool dup = false;
			for (size_t i = 0; i < s.n; i++)
				dup |= s.hiers[i] == h;
			if (dup)
				continue;
			if (s.n == PCON_SPEC_MAX_HIERS)
				return -E2BIG;
			s.hiers[s.n++] = h;
		}
		if (s.n == 0)
			return -ENODEV;
	}
	r = pcon_path_normalize(path, &s.path);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}
