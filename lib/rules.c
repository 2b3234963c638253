/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placement rules in cgrules.conf format: parsing and matching. */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>

#include "internal.h"
#include "pcon/rules.h"

enum who { WHO_ANY, WHO_USER, WHO_GROUP };

struct rule {
	unsigned line;
	bool cont;          /* "%": applies when the rule above matched */
	enum who who;
	uid_t uid;          /* WHO_USER */
	gid_t gid;          /* WHO_GROUP */
	uid_t *members;     /* WHO_GROUP: users listed in the group */
	size_t n_members;
	char *command;      /* NULL: any */
	char *controllers;
	char *dest;         /* with %-templates */
};

struct pcon_rules {
	struct rule *v;
	size_t n;
};

static void rule_done(struct rule *r)
{
	free(r->members);
	free(r->command);
	free(r->controllers);
	free(r->dest);
}

_public_ void pcon_rules_free(struct pcon_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		rule_done(&r->v[i]);
	free(r->v);
	free(r);
}

_public_ size_t pcon_rules_count(const struct pcon_rules *r)
{
	return r ? r->n : 0;
}

static int why(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (buf && size)
		vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The users a group lists as members, by uid (unknown names are skipped). */
static int group_members(const struct group *g, struct rule *r)
{
	size_t n = 0;
	while (g->gr_mem && g->gr_mem[n])
		n++;
	r->members = calloc(n + 1, sizeof(uid_t));
	if (!r->members)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct passwd *pw = getpwnam(g->gr_mem[i]);
		if (pw)
			r->members[r->n_members++] = pw->pw_uid;
	}
	return 0;
}

/* "user[:command]" into r. */
static int parse_who(char *field, struct rule *r, char *err, size_t size)
{
	char *colon = strchr(field, ':');
	if (colon) {
		*colon = '\0';
		if (!colon[1])
			return why(err, size, "empty command after ':'");
		if (!(r->command = strdup(colon + 1)))
			return -ENOMEM;
	}
	if (strcmp(field, "*") == 0) {
		r->who = WHO_ANY;
	} else if (strcmp(field, "%") == 0) {
		r->cont = true;
	} else if (field[0] == '@') {
		struct group *g = getgrnam(field + 1);
		if (!g)
			return why(err, size, "no group '%s'", field + 1);
		r->who = WHO_GROUP;
		r->gid = g->gr_gid;
		return group_members(g, r);
	} else {
		struct passwd *pw = getpwnam(field);
		if (!pw)
			return why(err, size, "no user '%s'", field);
		r->who = WHO_USER;
		r->uid = pw->pw_uid;
	}
	return 0;
}

/* A destination's templates are %u %U %g %G %p %P; anything else after '%' is an error. */
static int check_dest(const char *d, char *err, size_t size)
{
	for (const char *s = strchr(d, '%'); s; s = strchr(s + 2, '%'))
		if (!s[1] || !strchr("uUgGpP", s[1]))
			return why(err, size, "unknown template '%%%c' in the destination", s[1] ? s[1] : ' ');
	return 0;
}

/* One non-blank, non-comment line into r. */
static int parse_line(char *line, struct rule *r, char *err, size_t size)
{
	char *save = NULL, *f[4];
	int n = 0;
	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 3)
			return why(err, size, "more than three fields");
		f[n++] = t;
	}
	if (n < 3)
		return why(err, size, "expected 'user[:command] controllers destination'");
	int e = parse_who(f[0], r, err, size);
	if (e < 0)
		return e;
	if (check_dest(f[2], err, size) < 0)
		return -EINVAL;
	if (!(r->controllers = strdup(f[1])) || !(r->dest = strdup(f[2])))
		return -ENOMEM;
	return 0;
}

/* One rule per line; '#' starts a comment; blank lines are skipped. */
_public_ int pcon_rules_parse(FILE *f, struct pcon_rules **ret, unsigned *ret_line, char *ret_why,
			      size_t size)
{
	struct pcon_rules *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	unsigned no = 0;
	int e = 0;
	while (getline(&line, &cap, f) > 0) {
		no++;
		line[strcspn(line, "#\n")] = '\0';
		if (!*strstrip(line))
			continue;
		if (rs->n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			struct rule *v = realloc(rs->v, alloc * sizeof(*v));
			if (!v) {
				e = -ENOMEM;
				break;
			}
			rs->v = v;
		}
		struct rule *r = &rs->v[rs->n];
		*r = (struct rule){ .line = no };
		e = parse_line(strstrip(line), r, ret_why, size);
		if (e == 0 && r->cont && rs->n == 0)
			e = why(ret_why, size, "'%%' continues a rule, but none comes before it");
		if (e < 0) {
			rule_done(r);
			break;
		}
		rs->n++;
	}
	free(line);
	if (e == 0 && ferror(f))
		e = -EIO;
	if (e < 0) {
		if (ret_line)
			*ret_line = no;
		pcon_rules_free(rs);
		return e;
	}
	*ret = rs;
	return 0;
}

_public_ int pcon_rules_load(const char *path, struct pcon_rules **ret, unsigned *ret_line,
			     char *ret_why, size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = negerrno();
		snprintf(ret_why, size, "cannot read the rules: %s", strerror(-e));
		return e;
	}
	int r = pcon_rules_parse(f, ret, ret_line, ret_why, size);
	fclose(f);
	if (r < 0 && r != -EINVAL)
		snprintf(ret_why, size, "cannot read the rules: %s", strerror(-r));
	return r;
}

static bool user_matches(const struct rule *r, const struct pcon_rules_proc *p)
{
	switch (r->who) {
	case WHO_ANY:
		return true;
	case WHO_USER:
		return p->uid == r->uid;
	default:
		if (p->gid == r->gid)
			return true;
		for (size_t i = 0; i < r->n_members; i++)
			if (r->members[i] == p->uid)
				return true;
		struct passwd *pw = getpwuid(p->uid); /* the user's primary group */
		return pw && pw->pw_gid == r->gid;
	}
}

/* A name matches the executable's base name or the kernel's comm (which
 * keeps only 15 bytes); a path matches the executable's. */
static bool command_matches(const char *want, const struct pcon_rules_proc *p)
{
	if (strchr(want, '/'))
		return p->exe && strcmp(want, p->exe) == 0;
	const char *base = p->exe ? strrchr(p->exe, '/') : NULL;
	if (base && strcmp(want, base + 1) == 0)
		return true;
	if (!p->comm)
		return false;
	if (strlen(want) > 15) /* the kernel cut the name: compare what it kept */
		return strlen(p->comm) == 15 && strncmp(want, p->comm, 15) == 0;
	return strcmp(want, p->comm) == 0;
}

static bool rule_matches(const struct rule *r, const struct pcon_rules_proc *p)
{
	return user_matches(r, p) && (!r->command || command_matches(r->command, p));
}

/* Expand r's destination for p into out. */
static int expand(const struct rule *r, const struct pcon_rules_proc *p, char *out, size_t size)
{
	size_t n = 0;
	for (const char *s = r->dest; *s; s++) {
		char buf[64];
		const char *piece = buf;
		if (*s != '%') {
			buf[0] = *s;
			buf[1] = '\0';
		} else {
			struct passwd *pw;
			struct group *gr;
			switch (*++s) {
			case 'u': piece = (pw = getpwuid(p->uid)) ? pw->pw_name : NULL; break;
			case 'g': piece = (gr = getgrgid(p->gid)) ? gr->gr_name : NULL; break;
			case 'p': piece = p->comm; break;
			default: piece = NULL; break;
			}
			if (!piece || strchr(piece, '/')) /* no name: the number, as libcgroup does */
				snprintf(buf, sizeof(buf), "%lu", *s == 'u' || *s == 'U' ? (unsigned long)p->uid
							     : *s == 'g' || *s == 'G' ? (unsigned long)p->gid
							     : (unsigned long)p->pid);
			if (!piece || strchr(piece, '/'))
				piece = buf;
		}
		size_t len = strlen(piece);
		if (n + len + 1 > size)
			return -ENAMETOOLONG;
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

_public_ int pcon_rules_match(const struct pcon_rules *r, const struct pcon_rules_proc *p,
			      struct pcon_rules_dest *ret, size_t max)
{
	if (!r || !p || (!ret && max))
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].cont || !rule_matches(&r->v[i], p))
			continue;
		size_t k = 0;
		for (size_t j = i; j < r->n && (j == i || r->v[j].cont); j++) {
			if (j > i && r->v[j].command && !command_matches(r->v[j].command, p))
				continue;
			if (k == max)
				break;
			int e = expand(&r->v[j], p, ret[k].path, sizeof(ret[k].path));
			if (e < 0)
				return e;
			ret[k].controllers = r->v[j].controllers;
			ret[k].line = r->v[j].line;
			k++;
		}
		return (int)k;
	}
	return 0;
}

/* The second (effective) id of a "Uid:" or "Gid:" line of /proc/PID/status. */
static int status_id(const char *status, const char *key, unsigned long *ret)
{
	const char *s = strstr(status, key);
	unsigned long real, eff;
	if (!s || sscanf(s + strlen(key), "%lu %lu", &real, &eff) != 2)
		return -EBADMSG;
	*ret = eff;
	return 0;
}

_public_ int pcon_rules_proc_read(int proc_fd, pid_t pid, struct pcon_rules_proc *p,
				  char *comm, size_t comm_size, char *exe, size_t exe_size)
{
	char dir[32];
	snprintf(dir, sizeof(dir), "%d", (int)pid);
	_cleanup_close_ int dfd = openat(proc_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? -ESRCH : negerrno();
	_cleanup_free_ char *status = NULL, *c = NULL;
	int e = read_text_at(dfd, "status", &status);
	if (e < 0)
		return e == -ENOENT ? -ESRCH : e;
	unsigned long uid, gid;
	if (status_id(status, "\nUid:", &uid) < 0 || status_id(status, "\nGid:", &gid) < 0)
		return -EBADMSG;
	if (read_text_at(dfd, "comm", &c) < 0)
		return -ESRCH;
	snprintf(comm, comm_size, "%s", strstrip(c));
	ssize_t n = readlinkat(dfd, "exe", exe, exe_size - 1);
	*p = (struct pcon_rules_proc){ .pid = pid, .uid = (uid_t)uid, .gid = (gid_t)gid,
				       .comm = comm, .exe = n > 0 ? exe : NULL };
	if (n > 0)
		exe[n] = '\0';
	return 0;
}

/* The hierarchies a controller list names; each at most once. The first
 * token no hierarchy has goes to *ret_bad. Returns how many, or -ENODEV. */
static int rule_hiers(struct pcon *p, const char *controllers, const struct pcon_hier **out,
		      size_t max, char *bad, size_t bad_size)
{
	size_t nh, n = 0;
	const struct pcon_hier *all = pcon_hiers(p, &nh);
	if (strcmp(controllers, "*") == 0) {
		for (size_t i = 0; i < nh && n < max; i++)
			if (all[i].version == 2 || (all[i].controllers && all[i].controllers[0]))
				out[n++] = &all[i];
		return (int)n;
	}
	_cleanup_free_ char *list = strdup(controllers);
	if (!list)
		return -ENOMEM;
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct pcon_hier *h;
		if (pcon_hier_find(p, t, &h) < 0) {
			snprintf(bad, bad_size, "%s", t);
			return -ENODEV;
		}
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup |= out[i] == h;
		if (!dup && n < max)
			out[n++] = h;
	}
	return (int)n;
}

_public_ int pcon_rules_place(struct pcon *p, const struct pcon_rules *r, pid_t pid, pcon_rules_cb cb,
			      void *userdata)
{
	char comm[64], exe[4096];
	struct pcon_rules_proc proc;
	int e = pcon_rules_proc_read(pcon_proc_fd(p), pid, &proc, comm, sizeof(comm), exe, sizeof(exe));
	if (e < 0)
		return e;
	struct pcon_rules_dest d[16];
	int n = pcon_rules_match(r, &proc, d, 16);
	if (n < 0)
		return n;
	int failed = 0;
	for (int i = 0; i < n; i++) {
		const struct pcon_hier *hs[16];
		char bad[64] = "", path[4200];
		snprintf(path, sizeof(path), "/%s", d[i].path);
		struct pcon_rules_result res = { .pid = pid, .line = d[i].line, .path = path };
		int nh = rule_hiers(p, d[i].controllers, hs, 16, bad, sizeof(bad));
		if (nh < 0) {
			res.controller = bad;
			res.err = nh;
			failed++;
			if (cb)
				cb(&res, userdata);
			continue;
		}
		for (int k = 0; k < nh; k++) {
			struct pcon_container *c;
			res.hier = hs[k];
			res.err = pcon_container_open(hs[k], path, &c);
			if (res.err == 0) {
				res.err = pcon_container_attach(c, pid, false);
				pcon_container_free(c);
			}
			failed += res.err < 0;
			if (cb)
				cb(&res, userdata);
		}
	}
	return failed;
}
