/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container ownership and delegation. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "pcon/owner.h"

static int parse_id(const char *s, unsigned long *ret)
{
	uint64_t v;
	if (parse_u64(s, &v) < 0 || v >= (uid_t)-1)
		return -EINVAL;
	*ret = (unsigned long)v;
	return 0;
}

_public_ int pcon_owner_parse(const char *s, struct pcon_owner *ret)
{
	if (!s || !*s || !ret)
		return -EINVAL;
	_cleanup_free_ char *user = strdup(s);
	if (!user)
		return -ENOMEM;
	char *group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (!*user || (group && !*group))
		return -EINVAL;
	struct pcon_owner o = { .set = true };
	unsigned long id;
	struct passwd *pw = getpwnam(user);
	if (pw) {
		o.uid = pw->pw_uid;
		o.gid = pw->pw_gid;
	} else if (parse_id(user, &id) == 0) {
		o.uid = (uid_t)id;
		pw = getpwuid(o.uid);
		o.gid = pw ? pw->pw_gid : (gid_t)id;
	} else {
		return -EINVAL;
	}
	if (group) {
		struct group *gr = getgrnam(group);
		if (gr)
			o.gid = gr->gr_gid;
		else if (parse_id(group, &id) == 0)
			o.gid = (gid_t)id;
		else
			return -EINVAL;
	}
	*ret = o;
	return 0;
}

static bool is_task_list(const char *name)
{
	return !strcmp(name, "tasks") || !strcmp(name, "cgroup.procs") || !strcmp(name, "cgroup.threads");
}

/* Which owner a file of c gets (NULL: left alone). "." is the directory. */
static const struct pcon_owner *owner_of(const struct pcon_container *c, const char *name,
					 const struct pcon_owner *admin, const struct pcon_owner *tasks)
{
	if (is_task_list(name))
		return tasks->set ? tasks : c->hier->version == 2 && admin->set ? admin : NULL;
	if (!admin->set)
		return NULL;
	if (!strcmp(name, ".") || c->hier->version == 1)
		return admin;
	return !strcmp(name, "cgroup.subtree_control") ? admin : NULL;
}

/* Owners changed so far, to put back on failure. */
struct undo {
	struct {
		char name[256];
		uid_t uid;
		gid_t gid;
	} *v;
	size_t n, cap;
};

/* Give name (beneath c) to o, remembering its old owner. */
static int chown_one(const struct pcon_container *c, const char *name, const struct pcon_owner *o,
		     struct undo *u)
{
	struct stat st;
	if (strlen(name) >= sizeof(u->v->name))
		return 0; /* no control file has such a name */
	if (fstatat(c->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return negerrno();
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		void *v = realloc(u->v, cap * sizeof(*u->v));
		if (!v)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	if (fchownat(c->fd, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return negerrno();
	snprintf(u->v[u->n].name, sizeof(u->v->name), "%s", name);
	u->v[u->n].uid = st.st_uid;
	u->v[u->n++].gid = st.st_gid;
	return 0;
}

_public_ int pcon_container_chown(const struct pcon_container *c, const struct pcon_owner *admin,
				  const struct pcon_owner *tasks)
{
	static const struct pcon_owner none = { 0 };
	if (!c)
		return -EINVAL;
	admin = admin ? admin : &none;
	tasks = tasks ? tasks : &none;
	_cleanup_closedir_ DIR *d = NULL;
	int r = opendir_at(c->fd, &d);
	if (r < 0)
		return r;
	struct undo u = { 0 };
	const struct pcon_owner *o = owner_of(c, ".", admin, tasks);
	r = o ? chown_one(c, ".", o, &u) : 0;
	for (struct dirent *de; r == 0 && (de = readdir(d));)
		if (de->d_type == DT_REG && (o = owner_of(c, de->d_name, admin, tasks)))
			r = chown_one(c, de->d_name, o, &u);
	if (r < 0)
		while (u.n-- > 0)
			(void)fchownat(c->fd, u.v[u.n].name, u.v[u.n].uid, u.v[u.n].gid, AT_SYMLINK_NOFOLLOW);
	free(u.v);
	return r;
}
