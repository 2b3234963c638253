/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parse /proc/self/mountinfo into cgroup hierarchies. */
#include <string.h>

#include "internal.h"

/* v1 mount options that are not controllers (used when /proc/cgroups is unreadable). */
static const char *const v1_options[] = {
	"rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
	"favordynmods", "all", "none", NULL,
};

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else
			*w++ = *r;
	}
	*w = '\0';
}

void hier_done(struct pcon_hier *h)
{
	free(h->name);
	free(h->mount);
	free(h->root);
	free(h->named);
	pcon_strv_free(h->controllers);
	if (h->root_fd >= 0)
		close(h->root_fd);
	*h = (struct pcon_hier){ .root_fd = -EBADF };
}

/* Fill h from a v1 super-options string ("rw,cpu,cpuacct" / "rw,name=systemd"). */
static int parse_v1_options(struct pcon_hier *h, char *opts, char *const *known)
{
	size_t n = 0;
	for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "noprefix") == 0) {
			h->noprefix = true; /* the legacy cpuset fs: files lack "cpuset." */
			continue;
		}
		if (strncmp(o, "name=", 5) == 0) {
			free(h->named);
			if (!(h->named = strdup(o + 5)))
				return -ENOMEM;
			continue;
		}
		bool ctrl = known ? strv_contains(known, o)
				  : !strchr(o, '=') && !strv_contains((char *const *)v1_options, o);
		if (!ctrl)
			continue;
		char *c = strdup(o);
		if (!c || strv_push(&h->controllers, &n, c) < 0)
			return -ENOMEM;
	}
	if (n == 0 && !h->named)
		return -EINVAL; /* neither controllers nor a name: not a usable hierarchy */
	if (n == 0)
		h->name = strdup(h->named);
	else {
		size_t len = 0;
		for (size_t i = 0; i < n; i++)
			len += strlen(h->controllers[i]) + 1;
		if ((h->name = malloc(len))) {
			h->name[0] = '\0';
			for (size_t i = 0; i < n; i++) {
				if (i)
					strcat(h->name, ",");
				strcat(h->name, h->controllers[i]);
			}
		}
	}
	return h->name ? 0 : -ENOMEM;
}

/*
 * Parse one mountinfo line. Returns 1 and fills h (and its device in dev) for
 * a cgroup mount, 0 for any other mount, negative on a malformed line.
 */
static int parse_line(char *line, char *const *known, struct pcon_hier *h, char **dev)
{
	char *f[10] = { 0 }, *save = NULL, *sep = NULL, *tok;
	size_t n = 0;
	/* fields: id parent dev root mount opts [optional...] - fstype source superopts */
	while ((tok = strtok_r(n ? NULL : line, " \n", &save))) {
		if (!sep && strcmp(tok, "-") == 0 && n >= 6) {
			sep = tok;
			n = 6;
			continue;
		}
		if (!sep && n >= 6)
			continue; /* optional fields */
		if (n < ARRAY_SIZE(f))
			f[n++] = tok;
	}
	if (!sep || n < 9)
		return -EBADMSG;
	bool v1 = strcmp(f[6], "cgroup") == 0, v2 = strcmp(f[6], "cgroup2") == 0;
	if (!v1 && !v2)
		return 0;
	unescape(f[3]);
	unescape(f[4]);
	*h = (struct pcon_hier){ .version = v1 ? 1 : 2, .root_fd = -EBADF };
	*dev = f[2];
	if (!(h->mount = strdup(f[4])) || !(h->root = strdup(f[3])))
		return -ENOMEM;
	if (v2)
		return (h->name = strdup("unified")) ? 1 : -ENOMEM;
	int r = parse_v1_options(h, f[8], known);
	return r < 0 ? r : 1;
}

/* All cgroup hierarchies in mount order; a superblock mounted twice counts once. */
int hiers_parse_mountinfo(FILE *mi, char *const *known, struct pcon_hier **ret, size_t *ret_n)
{
	_cleanup_free_ char *line = NULL;
	_cleanup_strv_free_ char **devs = NULL;
	size_t cap = 0, n = 0, n_devs = 0;
	struct pcon_hier *v = NULL;
	int r = 0;

	while (getline(&line, &cap, mi) > 0) {
		struct pcon_hier h;
		char *dev;
		r = parse_line(line, known, &h, &dev);
		if (r == 0)
			continue;
		if (r == -EINVAL) { /* cgroup mount with no controllers and no name */
			hier_done(&h);
			r = 0;
			continue;
		}
		if (r < 0) {
			if (r != -EBADMSG)
				hier_done(&h);
			goto fail;
		}
		if (strv_contains(devs, dev)) {
			hier_done(&h);
			continue;
		}
		char *d = strdup(dev);
		struct pcon_hier *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!d || !nv || strv_push(&devs, &n_devs, d) < 0) {
			if (nv)
				v = nv;
			else
				free(d);
			hier_done(&h);
			r = -ENOMEM;
			goto fail;
		}
		v = nv;
		v[n++] = h;
	}
	*ret = v;
	*ret_n = n;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		hier_done(&v[i]);
	free(v);
	return r;
}
