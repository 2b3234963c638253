/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subsystem registry and knob access: generic knob names resolved through
 * each subsystem's v1/v2 table, raw kernel file names checked and passed
 * through. Values are validated completely before anything is written.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "subsys.h"

#define SUBSYS_REF(n) &n##_subsys,
static const struct subsys *const subsystems[] = { PCON_SUBSYS_LIST(SUBSYS_REF) };
#undef SUBSYS_REF

/* pcon computes these itself: no kernel controller, no hierarchy of their own
 * (ctrl NULL on both versions, so "taskstate:/x" names no hierarchy). Their
 * statistics live in taskstate.c and loadavg.c; knobs may follow. */
static const struct knob no_knobs[] = { { .name = NULL } };
const struct subsys taskstate_subsys = { .name = "taskstate", .knobs = no_knobs };
const struct subsys loadavg_subsys = { .name = "loadavg", .knobs = no_knobs };

static const struct subsys *subsys_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(subsystems); i++)
		if (strcmp(subsystems[i]->name, name) == 0)
			return subsystems[i];
	return NULL;
}

const char *subsys_controller(const char *name, int version)
{
	const struct subsys *ss = subsys_find(name);
	if (!ss || version < 1 || version > 2)
		return NULL;
	return ss->ctrl[version - 1];
}

/* The generic knob called name, and its subsystem; NULL if none. */
static const struct knob *knob_find(const char *name, const struct subsys **ret_ss)
{
	for (size_t i = 0; i < ARRAY_SIZE(subsystems); i++)
		for (const struct knob *k = subsystems[i]->knobs; k->name; k++)
			if (strcmp(k->name, name) == 0) {
				if (ret_ss)
					*ret_ss = subsystems[i];
				return k;
			}
	return NULL;
}

const char *hier_file(const struct pcon_hier *h, const char *file)
{
	if (!h->noprefix || !file)
		return file;
	const char *dot = strchr(file, '.');
	for (char **c = h->controllers; dot && c && *c; c++)
		if (strlen(*c) == (size_t)(dot - file) && strncmp(file, *c, (size_t)(dot - file)) == 0)
			return dot + 1;
	return file;
}

/* Does c's hierarchy carry subsystem ss? -EOPNOTSUPP if not. */
static int subsys_usable(const struct subsys *ss, const struct pcon_hier *h)
{
	if (h->version < 1 || h->version > 2)
		return -EOPNOTSUPP;
	const char *ctrl = ss->ctrl[h->version - 1];
	if (!ctrl || (ctrl[0] && !pcon_hier_has(h, ctrl)))
		return -EOPNOTSUPP;
	return 0;
}

int subsys_check_attach(const struct pcon_container *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(subsystems); i++) {
		const struct subsys *ss = subsystems[i];
		if (!ss->check_attach || subsys_usable(ss, c->hier) < 0)
			continue;
		int r = ss->check_attach(c);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Fill x for generic knob name on c. -ENOENT not generic, -EOPNOTSUPP not here. */
static int knob_resolve(const struct pcon_container *c, const char *name, struct knob_ctx *ret)
{
	const struct subsys *ss;
	const struct knob *k = knob_find(name, &ss);
	if (!k)
		return -ENOENT;
	int r = subsys_usable(ss, c->hier);
	if (r < 0)
		return r;
	const struct knob_map *m = &k->v[c->hier->version - 1];
	if (!m->file)
		return -EOPNOTSUPP;
	*ret = (struct knob_ctx){ .c = c, .k = k, .file = hier_file(c->hier, m->file),
				  .file2 = hier_file(c->hier, m->file2) };
	return 0;
}

/* The hierarchy has the controller, but this container lacks the file: the
 * root container, or (v2) a controller not enabled in the parent. */
static int missing_file(int r)
{
	return r == -ENOENT ? -ENXIO : r;
}

/*
 * Is c the root of a v1 hierarchy? Only there does the kernel show
 * release_agent (CFTYPE_ONLY_ON_ROOT), also inside a cgroup namespace whose
 * "/" is some other cgroup. The v1 root has cpu.shares, cpu.cfs_quota_us and
 * memory.limit_in_bytes, but refuses every write of them with EINVAL: a
 * generic knob is not offered there, as on v2, where the files are missing.
 */
static bool v1_root(const struct pcon_container *c)
{
	return c->hier->version == 1 &&
	       faccessat(c->fd, "release_agent", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ---- raw kernel file names ---- */

/* A file name directly inside the container: no '/', no leading '.', no controls. */
static bool raw_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || name[0] == '.')
		return false;
	for (const char *s = name; *s; s++)
		if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * Raw files pcon_knob_set never writes: writing them is not a setting but an
 * action on tasks (move them in, kill them all) or names a program the
 * kernel runs as root. Moving goes through pcon_container_attach, which
 * checks the target (an empty v1 cpuset) first.
 */
static const struct {
	const char *file, *why;
} refused[] = {
	{ "cgroup.procs", "writing it moves a process into the container (use 'pcon attach')" },
	{ "cgroup.threads", "writing it moves a thread into the container (use 'pcon attach --thread')" },
	{ "tasks", "writing it moves a thread into the container (use 'pcon attach')" },
	{ "cgroup.kill", "writing it kills every task of the container" },
	{ "release_agent", "it names a program the kernel runs as root" },
};

_public_ const char *pcon_knob_refused(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		if (strcmp(refused[i].file, name) == 0)
			return refused[i].why;
	return NULL;
}

/* Check that name is a regular file of c; 0, -EINVAL bad name, -ENOENT none. */
static int raw_stat(const struct pcon_container *c, const char *name, struct stat *ret)
{
	if (!raw_name_valid(name))
		return -EINVAL;
	if (fstatat(c->fd, name, ret, AT_SYMLINK_NOFOLLOW) < 0)
		return negerrno();
	return S_ISREG(ret->st_mode) ? 0 : -ENOENT;
}

/* A value written verbatim: printable text, an optional final newline. */
static bool raw_value_valid(const char *value)
{
	for (const char *s = value; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t' && !(*s == '\n' && !s[1])) || *s == 0x7f)
			return false;
	return true;
}

/* ---- helpers for converters ---- */

void knob_plan_done(struct knob_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->text[i]);
	*p = (struct knob_plan){ 0 };
}

int knob_plan_add(struct knob_plan *p, const char *file, const char *text)
{
	if (p->n == KNOB_PLAN_MAX)
		return -E2BIG;
	char *t = strdup(text);
	if (!t)
		return -ENOMEM;
	p->file[p->n] = file;
	p->text[p->n++] = t;
	return 0;
}

int knob_read_stripped(const struct knob_ctx *x, const char *file, char **ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_text_at(x->c->fd, file, &text);
	if (r < 0)
		return r;
	char *s = strstrip(text);
	memmove(text, s, strlen(s) + 1);
	*ret = TAKE_PTR(text);
	return 0;
}

int knob_read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_text_at(dirfd, file, &text);
	if (r < 0)
		return r;
	size_t klen = strlen(key);
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, key, klen) != 0 || l[klen] != ' ')
			continue;
		return parse_u64(l + klen + 1, ret) < 0 ? -EBADMSG : 0;
	}
	return -EBADMSG; /* the kernel always has the key: a file we do not understand */
}

int knob_format_u64(uint64_t v, char **ret)
{
	return asprintf(ret, "%llu", (unsigned long long)v) < 0 ? -ENOMEM : 0;
}

int knob_parse_u64(const char *value, uint64_t *ret)
{
	if (value[0] == '-') {
		uint64_t dummy;
		return parse_u64(value + 1, &dummy) == -EINVAL ? -EINVAL : -ERANGE;
	}
	return parse_u64(value, ret);
}

int hier_sysroot_open(const struct pcon_hier *h)
{
	/* root_fd is sysroot + mount: climb one ".." per component of the mount
	 * point (canonical in mountinfo), so fake trees in tests work as well. */
	char up[4096] = ".";
	size_t w = 0;
	for (const char *s = h->mount; *s;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		if (w + 4 >= sizeof(up))
			return -ENAMETOOLONG;
		memcpy(up + w, w ? "/.." : "..", w ? 3 : 2);
		w += w ? 3 : 2;
		up[w] = '\0';
		s = strchrnul(s, '/');
	}
	if (h->root_fd < 0)
		return h->root_fd;
	int fd = openat(h->root_fd, up, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? negerrno() : fd;
}

/* ---- the public API ---- */

/* Generic knob: the plan for value, or the reason it is refused. */
static int knob_plan_make(const struct knob_ctx *x, const char *value, struct knob_plan *ret)
{
	const struct knob_map *m = &x->k->v[x->c->hier->version - 1];
	if (!m->encode)
		return -EROFS;
	for (const char *s = value; *s; s++)
		if ((unsigned char)*s < 0x20 && !(*s == '\n' && !s[1]))
			return -EINVAL;
	_cleanup_free_ char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	return m->encode(x, strstrip(v), ret);
}

/* Do the writes; if a later one fails, put back what the earlier ones changed. */
static int knob_plan_write(const struct pcon_container *c, const struct knob_plan *p)
{
	char *old[KNOB_PLAN_MAX] = { 0 };
	int r = 0;
	size_t i;
	for (i = 0; i + 1 < p->n && r == 0; i++)
		r = read_text_at(c->fd, p->file[i], &old[i]);
	for (i = 0; i < p->n && r == 0; i++)
		r = write_text_at(c->fd, p->file[i], p->text[i]);
	if (r < 0 && i > 1)
		for (size_t j = i - 1; j-- > 0;)
			if (old[j])
				(void)write_text_at(c->fd, p->file[j], strstrip(old[j]));
	for (size_t j = 0; j < KNOB_PLAN_MAX; j++)
		free(old[j]);
	return r;
}

_public_ int pcon_knob_get(const struct pcon_container *c, const char *name, char **ret)
{
	struct knob_ctx x;
	int r = knob_resolve(c, name, &x);
	if (r == 0) {
		const knob_decode_fn decode = x.k->v[c->hier->version - 1].decode;
		char *v;
		r = decode ? decode(&x, &v) : knob_read_stripped(&x, x.file, &v);
		if (r < 0)
			return missing_file(r);
		*ret = v;
		return 0;
	}
	if (r != -ENOENT)
		return r;

	struct stat st;
	if ((r = raw_stat(c, name, &st)) < 0)
		return r;
	_cleanup_free_ char *text = NULL;
	if ((r = read_text_at(c->fd, name, &text)) < 0)
		return r;
	size_t n = strlen(text);
	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	*ret = TAKE_PTR(text);
	return 0;
}

enum knob_mode { KNOB_CHECK, KNOB_WRITE, KNOB_DIFF };

/* Would writing these files change them? 1 yes, 0 no. */
static int plan_differs(const struct pcon_container *c, const struct knob_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		_cleanup_free_ char *now = NULL;
		int r = read_text_at(c->fd, p->file[i], &now);
		if (r < 0)
			return r;
		_cleanup_free_ char *want = strdup(p->text[i]);
		if (!want)
			return -ENOMEM;
		if (strcmp(strstrip(now), strstrip(want)) != 0)
			return 1;
	}
	return 0;
}

/* Validate "name=value" for c; then, by mode, write it or say whether it
 * would change anything. */
static int knob_set(const struct pcon_container *c, const char *name, const char *value,
		    enum knob_mode mode)
{
	bool write = mode == KNOB_WRITE;
	struct knob_ctx x;
	int r = knob_resolve(c, name, &x);
	if (r == 0 && x.k->v[0].encode && v1_root(c))
		return -ENXIO;
	if (r == 0) {
		struct knob_plan p = { 0 };
		r = knob_plan_make(&x, value, &p);
		if (r == 0) {
			/* The files must be there now; write finds any other failure. */
			for (size_t i = 0; i < p.n && r == 0; i++)
				if (faccessat(c->fd, p.file[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
					r = missing_file(negerrno());
			if (r == 0 && write)
				r = knob_plan_write(c, &p);
			else if (r == 0 && mode == KNOB_DIFF)
				r = plan_differs(c, &p);
		}
		knob_plan_done(&p);
		return r;
	}
	if (r != -ENOENT)
		return r;

	if (pcon_knob_refused(name))
		return -EPERM; /* even where the file is missing: one answer everywhere */
	struct stat st;
	if ((r = raw_stat(c, name, &st)) < 0)
		return r;
	if (!(st.st_mode & S_IWUSR))
		return -EROFS;
	if (!raw_value_valid(value))
		return -EINVAL;
	if (mode == KNOB_DIFF) {
		_cleanup_free_ char *now = NULL, *want = strdup(value);
		if (!want || (r = read_text_at(c->fd, name, &now)) < 0)
			return want ? r : -ENOMEM;
		return strcmp(strstrip(now), strstrip(want)) != 0;
	}
	return write ? write_text_at(c->fd, name, value) : 0;
}

_public_ int pcon_knob_check(const struct pcon_container *c, const char *name, const char *value)
{
	return knob_set(c, name, value, KNOB_CHECK);
}

_public_ int pcon_knob_set(const struct pcon_container *c, const char *name, const char *value)
{
	return knob_set(c, name, value, KNOB_WRITE);
}

_public_ int pcon_knob_differs(const struct pcon_container *c, const char *name, const char *value)
{
	int r = knob_set(c, name, value, KNOB_DIFF);
	if (r != 1)
		return r;
	/* The kernel may show a value otherwise than it takes it (v1's "max"
	 * memory limit reads as a number): the generic value may match. */
	_cleanup_free_ char *now = NULL, *want = strdup(value);
	if (!want)
		return -ENOMEM;
	if (pcon_knob_get(c, name, &now) == 0 && strcmp(now, strstrip(want)) == 0)
		return 0;
	return 1;
}

_public_ const char *pcon_knob_hint(const char *name)
{
	const struct knob *k = knob_find(name, NULL);
	return k ? k->hint : NULL;
}

_public_ const char *pcon_knob_unit(const char *name)
{
	const struct knob *k = knob_find(name, NULL);
	return k ? k->unit : NULL;
}

#define KNOB_NAMES_MAX 64
static const char *knob_names[KNOB_NAMES_MAX + 1];
static pthread_once_t knob_names_once = PTHREAD_ONCE_INIT;

static void knob_names_fill(void)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(subsystems); i++)
		for (const struct knob *k = subsystems[i]->knobs; k->name && n < KNOB_NAMES_MAX; k++)
			knob_names[n++] = k->name;
	knob_names[n] = NULL;
}

_public_ const char *const *pcon_knob_names(void)
{
	(void)pthread_once(&knob_names_once, knob_names_fill);
	return knob_names;
}
