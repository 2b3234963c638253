/*
 * pcon apply FILE: build containers, knobs and owners from a small INI file,
 * all or nothing, changing only what differs; pcon snapshot: write the live
 * tree in that format. One section per container, named as on the command
 * line; its keys are generic knobs, "owner" and "task-owner":
 *
 *   [cpu,memory:/web]
 *   cpu.weight = 200
 *   memory.max = 1073741824
 *   owner = alice:alice
 *
 * On v2 the controllers the knobs need are enabled down the path.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "pcon/owner.h"

/* inih reads lines of at most this many bytes. */
#define PCON_INI_LINE 200

struct entry {
	char *key, *value;
};

struct section {
	char *name;
	struct entry *e;
	size_t n;
};

struct conf {
	struct section *s;
	size_t n;
	char err[512]; /* a semantic error found while reading */
};

static void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->s[i].n; k++) {
			free(c->s[i].e[k].key);
			free(c->s[i].e[k].value);
		}
		free(c->s[i].e);
		free(c->s[i].name);
	}
	free(c->s);
}

static bool key_known(const char *key)
{
	if (!strcmp(key, "owner") || !strcmp(key, "task-owner"))
		return true;
	for (const char *const *k = pcon_knob_names(); *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

/* A section header: registered as inih reads its line (inih tells nothing
 * of a section without keys, and such a section still names a container). */
static int add_section(struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->s[i].name, name)) {
			snprintf(c->err, sizeof(c->err), "[%s] appears twice", name);
			return -EEXIST;
		}
	struct section *v = realloc(c->s, (c->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->s = v;
	c->s[c->n] = (struct section){ .name = strdup(name) };
	return c->s[c->n++].name ? 0 : -ENOMEM;
}

struct reader {
	FILE *f;
	struct conf *c;
};

/* inih's line reader: fgets, noting each "[name]" line as inih will read it. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	if (!fgets(str, num, r->f) || r->c->err[0])
		return NULL;
	if (!strchr(str, '\n') && !feof(r->f)) {
		snprintf(r->c->err, sizeof(r->c->err), "a line longer than %d bytes", num - 2);
		return NULL;
	}
	const char *s = str + strspn(str, " \t");
	const char *end = *s == '[' ? strchr(s, ']') : NULL;
	if (end) {
		char name[PCON_INI_LINE];
		snprintf(name, sizeof(name), "%.*s", (int)(end - s - 1), s + 1);
		if (add_section(r->c, name) < 0)
			return NULL;
	}
	return str;
}

/* inih's callback: one key of one section. 0 stops the parse. */
static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct conf *c = user;
	if (!*section || !c->n) {
		snprintf(c->err, sizeof(c->err), "'%s' comes before any [container] section", key);
		return 0;
	}
	/* inih keeps only 49 bytes of a section name: the section is the last
	 * header read_line saw, whole. */
	struct section *s = &c->s[c->n - 1];
	section = s->name;
	if (!key_known(key)) {
		snprintf(c->err, sizeof(c->err), "[%s] %s: no such knob (see 'pcon get --help')", section, key);
		return 0;
	}
	for (size_t k = 0; k < s->n; k++)
		if (!strcmp(s->e[k].key, key)) {
			snprintf(c->err, sizeof(c->err), "[%s] %s is given twice", section, key);
			return 0;
		}
	struct entry *e = realloc(s->e, (s->n + 1) * sizeof(*e));
	if (!e)
		return 0;
	s->e = e;
	s->e[s->n] = (struct entry){ .key = strdup(key), .value = strdup(value) };
	if (!s->e[s->n].key || !s->e[s->n].value)
		return 0;
	s->n++;
	return 1;
}

/* What apply does, in order; every step can be undone. */
enum step_kind { STEP_CREATE, STEP_ENABLE, STEP_KNOB, STEP_OWNER };

struct step {
	enum step_kind kind;
	const struct pcon_hier *h;
	char *path;                  /* normalized container path */
	const char *key, *value;     /* STEP_KNOB; STEP_ENABLE: key is the subsystem */
	struct pcon_owner admin, tasks;
	struct pcon_owner old_admin, old_tasks; /* STEP_OWNER: the owners before */
	char *old;                   /* STEP_KNOB: the value before */
	bool done;
};

struct plan {
	struct step *v;
	size_t n;
	bool dry_run;
};

static int plan_add(struct plan *p, struct step st)
{
	struct step *v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	p->v[p->n++] = st;
	return 0;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].old);
	}
	free(p->v);
}

static const char *step_name(const struct step *s, char *buf, size_t size)
{
	char esc[4200];
	pcon_escape_name(esc, sizeof(esc), s->path);
	snprintf(buf, size, "%s:%s", s->h->name, esc);
	return buf;
}

/* The container of section sec in h (NULL if apply will create it). */
static struct pcon_container *open_or_null(const struct pcon_hier *h, const char *path)
{
	struct pcon_container *c;
	return pcon_container_open(h, path, &c) == 0 ? c : NULL;
}

/* The hierarchy of spec whose controllers serve knob key, or NULL: the
 * hierarchy's root says whether it carries the subsystem at all. */
static const struct pcon_hier *knob_hier(const struct pcon_spec *spec, const char *key)
{
	for (size_t i = 0; i < spec->n; i++) {
		struct pcon_container *root;
		if (pcon_container_open(spec->hiers[i], "/", &root) < 0)
			continue;
		int r = pcon_knob_check(root, key, "0");
		pcon_container_free(root);
		if (r != -EOPNOTSUPP)
			return spec->hiers[i];
	}
	return NULL;
}

/* Is c (or, new, nothing yet) owned as o says? */
static bool owned(const struct pcon_container *c, const char *file, const struct pcon_owner *o)
{
	struct stat st;
	return !o->set || (c && fstatat(c->fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			   st.st_uid == o->uid && st.st_gid == o->gid);
}

/* The steps of one section. Returns 0, or the exit status 1 (said why). */
static int plan_section(struct cli *cl, const char *file, const struct section *sec, struct plan *p)
{
	struct pcon_spec spec;
	int r = pcon_spec_parse(cl->p, sec->name, &spec);
	if (r < 0)
		return cli_fail(file, "[%s]: %s", sec->name, r == -ENODEV ? "no such hierarchy" : "bad container name");
	int rc = 0;
	struct pcon_owner admin = { 0 }, tasks = { 0 };
	for (size_t k = 0; k < sec->n && rc == 0; k++) {
		const struct entry *e = &sec->e[k];
		if (!strcmp(e->key, "owner") && pcon_owner_parse(e->value, &admin) < 0)
			rc = cli_fail(file, "[%s] owner = %s: no such user or group", sec->name, e->value);
		if (!strcmp(e->key, "task-owner") && pcon_owner_parse(e->value, &tasks) < 0)
			rc = cli_fail(file, "[%s] task-owner = %s: no such user or group", sec->name, e->value);
	}
	for (size_t i = 0; i < spec.n && rc == 0; i++) {
		const struct pcon_hier *h = spec.hiers[i];
		struct pcon_container *c = open_or_null(h, spec.path);
		if (!c && (r = plan_add(p, (struct step){ .kind = STEP_CREATE, .h = h, .path = strdup(spec.path) })) < 0)
			rc = cli_fail(file, "out of memory");
		for (size_t k = 0; k < sec->n && rc == 0; k++) {
			const struct entry *e = &sec->e[k];
			if (!strcmp(e->key, "owner") || !strcmp(e->key, "task-owner"))
				continue;
			const struct pcon_hier *kh = knob_hier(&spec, e->key);
			if (!kh)
				rc = cli_fail(file, "[%s] %s: no hierarchy named has the controller it needs",
					      sec->name, e->key);
			if (kh != h)
				continue;
			struct step st = { .kind = STEP_KNOB, .h = h, .path = strdup(spec.path),
					   .key = e->key, .value = e->value };
			if (h->version == 2 && plan_add(p, (struct step){ .kind = STEP_ENABLE, .h = h,
					.path = strdup(spec.path), .key = e->key }) < 0)
				rc = cli_fail(file, "out of memory");
			/* An existing container: validate now, and skip what already holds. */
			r = c ? pcon_knob_differs(c, e->key, e->value) : 1;
			if (r < 0 && r != -ENOENT)
				rc = cli_fail(file, "[%s] %s = %s: %s%s%s", sec->name, e->key, e->value,
					      r == -EINVAL || r == -ERANGE ? "invalid value" : strerror(-r),
					      pcon_knob_hint(e->key) ? "; accepted: " : "",
					      pcon_knob_hint(e->key) ? pcon_knob_hint(e->key) : "");
			if (rc == 0 && r != 0) {
				if (plan_add(p, st) < 0)
					rc = cli_fail(file, "out of memory");
			} else {
				free(st.path);
			}
		}
		bool owner_ok = owned(c, ".", &admin) &&
				owned(c, h->version == 2 ? "cgroup.procs" : "tasks", tasks.set ? &tasks : &admin);
		if (rc == 0 && (admin.set || tasks.set) && (!c || !owner_ok) &&
		    plan_add(p, (struct step){ .kind = STEP_OWNER, .h = h, .path = strdup(spec.path),
					       .admin = admin, .tasks = tasks }) < 0)
			rc = cli_fail(file, "out of memory");
		pcon_container_free(c);
	}
	pcon_spec_done(&spec);
	return rc;
}

/* Do one step, remembering how to undo it. */
static int step_do(struct step *s)
{
	struct pcon_container *c = NULL;
	int r;
	switch (s->kind) {
	case STEP_CREATE:
		r = pcon_container_create(s->h, s->path, &c);
		pcon_container_free(c);
		return r < 0 ? r : 0;
	case STEP_ENABLE: {
		char ss[64];
		snprintf(ss, sizeof(ss), "%.*s", (int)strcspn(s->key, "."), s->key);
		return pcon_container_enable(s->h, s->path, ss);
	}
	case STEP_KNOB:
		if ((r = pcon_container_open(s->h, s->path, &c)) < 0)
			return r;
		if (pcon_knob_get(c, s->key, &s->old) < 0)
			s->old = NULL;
		r = pcon_knob_set(c, s->key, s->value);
		break;
	default: {
		if ((r = pcon_container_open(s->h, s->path, &c)) < 0)
			return r;
		struct stat d, t;
		const char *tf = s->h->version == 2 ? "cgroup.procs" : "tasks";
		if (fstatat(c->fd, ".", &d, 0) == 0 && fstatat(c->fd, tf, &t, 0) == 0) {
			s->old_admin = (struct pcon_owner){ .set = s->admin.set, .uid = d.st_uid, .gid = d.st_gid };
			s->old_tasks = (struct pcon_owner){ .set = true, .uid = t.st_uid, .gid = t.st_gid };
		}
		r = pcon_container_chown(c, &s->admin, &s->tasks);
		break;
	}
	}
	pcon_container_free(c);
	return r;
}

/* Undo a done step, as far as it can be. */
static void step_undo(struct step *s)
{
	struct pcon_container *c;
	if (s->kind == STEP_CREATE)
		(void)pcon_container_remove(s->h, s->path, true);
	else if (s->kind == STEP_KNOB && s->old && pcon_container_open(s->h, s->path, &c) == 0) {
		(void)pcon_knob_set(c, s->key, s->old);
		pcon_container_free(c);
	} else if (s->kind == STEP_OWNER && s->old_tasks.set && pcon_container_open(s->h, s->path, &c) == 0) {
		(void)pcon_container_chown(c, &s->old_admin, &s->old_tasks);
		pcon_container_free(c);
	}
	/* STEP_ENABLE is left: a controller made available changes no limit. */
}

static void step_say(const struct step *s, bool dry)
{
	char name[4400];
	step_name(s, name, sizeof(name));
	const char *verb = dry ? "would " : "";
	switch (s->kind) {
	case STEP_CREATE: printf("%screate %s\n", verb, name); break;
	case STEP_ENABLE: break; /* part of the knob it serves */
	case STEP_KNOB: printf("%sset %s %s=%s\n", verb, name, s->key, s->value); break;
	default: printf("%sgive %s to %u:%u\n", verb, name, (unsigned)(s->admin.set ? s->admin.uid : s->tasks.uid),
			(unsigned)(s->admin.set ? s->admin.gid : s->tasks.gid)); break;
	}
}

/* The error line of a step that failed; returns 1. */
static int step_fail(const struct step *s, int err)
{
	char name[4400];
	step_name(s, name, sizeof(name));
	if (s->kind != STEP_KNOB)
		return cli_fail(name, "%s; nothing changed", strerror(-err));
	const char *hint = pcon_knob_hint(s->key);
	if ((err == -EINVAL || err == -ERANGE) && hint)
		return cli_fail(name, "%s=%s: invalid value; accepted: %s; nothing changed", s->key,
				s->value, hint);
	return cli_fail(name, "%s=%s: %s; nothing changed", s->key, s->value, strerror(-err));
}

static void apply_help(void)
{
	printf("Usage: pcon apply [OPTIONS] FILE\n\n"
	       "Make the containers, knob values and owners FILE describes, changing only\n"
	       "what differs, all or nothing: one [HIER:PATH] section per container with\n"
	       "knob = value lines, owner = USER[:GROUP] and task-owner = USER[:GROUP].\n\n"
	       "      --dry-run   print what would change, change nothing\n"
	       "  -h, --help      show this help\n");
}

int cmd_apply(struct cli *cl, int argc, char **argv)
{
	/* --dry-run has no letter: -n is --noheadings in every pcon command */
	enum { OPT_DRY_RUN = 0x100 };
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct plan p = { 0 };
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case OPT_DRY_RUN: p.dry_run = true; break;
		case 'h': apply_help(); return 0;
		default: return cli_bad_option("apply", argv);
		}
	}
	if (optind == argc)
		return cli_usage("apply", "which file? (FILE)");
	if (optind + 1 < argc)
		return cli_usage("apply", "unexpected argument '%s' (one FILE)", argv[optind + 1]);
	const char *file = argv[optind];
	FILE *f = fopen(file, "re");
	if (!f)
		return cli_fail(file, "%s", strerror(errno));
	struct conf conf = { 0 };
	struct reader rd = { .f = f, .c = &conf };
	int line = ini_parse_stream(read_line, &rd, on_key, &conf);
	fclose(f);
	int rc = 0;
	if (conf.err[0])
		rc = cli_fail(file, "%s", conf.err);
	else if (line != 0)
		rc = cli_fail(file, "line %d: not a section, key = value, or comment", line);
	for (size_t i = 0; i < conf.n && rc == 0; i++)
		rc = plan_section(cl, file, &conf.s[i], &p);
	/* Owners last: every knob is written while root still owns the files. */
	for (size_t i = 0, k = 0; i < p.n; i++)
		if (p.v[i].kind != STEP_OWNER) {
			struct step t = p.v[i];
			memmove(&p.v[k + 1], &p.v[k], (i - k) * sizeof(t));
			p.v[k++] = t;
		}
	size_t changes = 0;
	for (size_t i = 0; i < p.n && rc == 0; i++) {
		if (!p.dry_run) {
			int r = step_do(&p.v[i]);
			if (r < 0) {
				rc = step_fail(&p.v[i], r);
				while (i-- > 0)
					step_undo(&p.v[i]);
				break;
			}
		}
		changes += p.v[i].kind != STEP_ENABLE;
	}
	if (rc == 0) {
		for (size_t i = 0; i < p.n; i++)
			step_say(&p.v[i], p.dry_run);
		if (!changes)
			printf("no changes: the containers are as %s says\n", file);
	}
	plan_free(&p);
	conf_free(&conf);
	return rc;
}

/* A container's name as a section header: escaped as everywhere, and the
 * bytes INI gives a meaning to as \xHH too. */
static void section_name(const struct pcon_container *c, char *out, size_t size)
{
	char esc[4200];
	pcon_escape_name(esc, sizeof(esc), c->path);
	size_t n = (size_t)snprintf(out, size, "%s:", c->hier->name);
	for (const char *s = esc; *s && n + 5 < size; s++)
		n += strchr("[];#= ", *s) ? (size_t)snprintf(out + n, size - n, "\\x%02x", (unsigned char)*s)
					  : (size_t)snprintf(out + n, size - n, "%c", *s);
}

/* c's section: every generic knob with a value that could be written back,
 * and owners other than root. */
static int snap_one(const struct pcon_container *c)
{
	char name[9000];
	section_name(c, name, sizeof(name));
	if (strlen(name) + 2 > PCON_INI_LINE - 3)
		return cli_fail(name, "too long a name for a line of 'pcon apply' (%d bytes); left out",
				PCON_INI_LINE - 3);
	printf("\n[%s]\n", name);
	for (const char *const *k = pcon_knob_names(); *k; k++) {
		char *v = NULL;
		if (pcon_knob_get(c, *k, &v) == 0 && !strchr(v, '\n') && *v && pcon_knob_check(c, *k, v) == 0)
			printf("%s = %s\n", *k, v);
		free(v);
	}
	struct stat d, t;
	if (fstatat(c->fd, ".", &d, 0) == 0 && (d.st_uid || d.st_gid))
		printf("owner = %u:%u\n", (unsigned)d.st_uid, (unsigned)d.st_gid);
	if (fstatat(c->fd, c->hier->version == 2 ? "cgroup.procs" : "tasks", &t, 0) == 0 &&
	    (t.st_uid != d.st_uid || t.st_gid != d.st_gid))
		printf("task-owner = %u:%u\n", (unsigned)t.st_uid, (unsigned)t.st_gid);
	return 0;
}

/* c (unless a root) and every descendant, parents first. 0, or 1 if one
 * was left out (said why). */
static int snap_tree(const struct pcon_container *c)
{
	int rc = strcmp(c->path, "/") != 0 ? snap_one(c) : 0;
	char **kids = NULL;
	if (pcon_container_children(c, &kids) < 0)
		return rc;
	for (int i = 0; kids[i]; i++) {
		struct pcon_container *k;
		if (pcon_container_open_child(c, kids[i], &k) == 0) {
			rc |= snap_tree(k);
			pcon_container_free(k);
		}
	}
	pcon_strv_free(kids);
	return rc;
}

static void snapshot_help(void)
{
	printf("Usage: pcon snapshot [HIER:PATH...]\n\n"
	       "Write the containers below each HIER:PATH (without one: every hierarchy's)\n"
	       "in the format 'pcon apply' reads: their knob values and owners.\n\n"
	       "  -h, --help   show this help\n");
}

int cmd_snapshot(struct cli *cl, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			snapshot_help();
			return 0;
		}
		return cli_bad_option("snapshot", argv);
	}
	int rc = 0;
	if (optind == argc) {
		printf("# pcon snapshot: 'pcon apply FILE' makes these containers again\n");
		size_t nh;
		const struct pcon_hier *h = pcon_hiers(cl->p, &nh);
		for (size_t i = 0; i < nh; i++) {
			struct pcon_container *root;
			if (pcon_container_open(&h[i], "/", &root) == 0) {
				rc |= snap_tree(root);
				pcon_container_free(root);
			}
		}
		return rc;
	}
	struct pcon_container **cts;
	int n = cli_open_specs(cl, argv + optind, argc - optind, &cts);
	if (n < 0)
		return 1;
	printf("# pcon snapshot: 'pcon apply FILE' makes these containers again\n");
	for (int i = 0; i < n; i++)
		rc |= snap_tree(cts[i]);
	cli_free_specs(cts, n);
	return rc;
}
