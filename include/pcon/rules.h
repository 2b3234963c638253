/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon placement rules in libcgroup's cgrules.conf format: which
 * containers a process belongs in, by its user, group and command.
 *
 *   # user[:command]   controllers    destination
 *   student            cpu,memory     students/%u
 *   @staff             *              staff/
 *   peter:ftp          devices        ftp/
 *   %                  memory         ftp-mem/
 *   *                  cpuset         default/
 *
 * user is a name, @group, or * (anyone); % continues the rule above (it
 * applies when that rule matches). command is a process name or, with a '/',
 * the executable's full path. controllers is a list or * (every hierarchy).
 * The destination may hold %u %U (user name, uid), %g %G (group name, gid),
 * %p %P (process name, pid). The first matching rule wins, with its
 * continuations. Users and groups are looked up when the file is read.
 */
#ifndef PCON_RULES_H
#define PCON_RULES_H

#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pcon_rules;

/*
 * Read rules from f. On an error, -EINVAL (a malformed line, an unknown
 * user or group, a bad destination) with *ret_line its number and
 * ret_why (size bytes) a reason; nothing is returned.
 */
int pcon_rules_parse(FILE *f, struct pcon_rules **ret, unsigned *ret_line, char *ret_why, size_t size);
void pcon_rules_free(struct pcon_rules *r);
/* The same from the file at path: also -errno if it cannot be read (why then
 * says so). */
int pcon_rules_load(const char *path, struct pcon_rules **ret, unsigned *ret_line, char *ret_why,
		    size_t size);
/* How many rules (lines with their continuations counted apart). */
size_t pcon_rules_count(const struct pcon_rules *r);

/* What the rules look at in a process. */
struct pcon_rules_proc {
	pid_t pid;
	uid_t uid;         /* effective */
	gid_t gid;         /* effective */
	const char *comm;  /* /proc/PID/comm (at most 15 bytes) */
	const char *exe;   /* /proc/PID/exe, or NULL if unknown */
};

/* One placement: a controller list ("*" or "cpu,memory") and a path. */
struct pcon_rules_dest {
	const char *controllers;
	char path[4096];
	unsigned line; /* the rule's line in the file */
};

/*
 * The placements of the first rule that matches p (with its
 * continuations), at most max into ret. Returns how many (0: no rule
 * matched), or -ENAMETOOLONG if a destination does not fit.
 */
int pcon_rules_match(const struct pcon_rules *r, const struct pcon_rules_proc *p,
		     struct pcon_rules_dest *ret, size_t max);

/* Fill p (with buffers of the caller) from /proc/PID beneath proc_fd.
 * -ESRCH if the process is gone. */
int pcon_rules_proc_read(int proc_fd, pid_t pid, struct pcon_rules_proc *p,
			 char *comm, size_t comm_size, char *exe, size_t exe_size);

struct pcon;
struct pcon_hier;

/* One placement of a process, as pcon_rules_place did it (or could not). */
struct pcon_rules_result {
	pid_t pid;
	unsigned line;                /* the rule's line */
	const struct pcon_hier *hier; /* NULL: no hierarchy has the controller named */
	const char *controller;       /* with hier NULL: the one no hierarchy has */
	const char *path;             /* the destination, "/"-rooted */
	int err;                      /* 0 moved; -ENOENT no such container (never made); ... */
};
typedef void (*pcon_rules_cb)(const struct pcon_rules_result *res, void *userdata);

/*
 * Move process pid where its first matching rule says, in every hierarchy
 * the rule names ("*": every one with a controller, and the v2 one); cb (may
 * be NULL) hears of each placement. Returns how many placements failed, or
 * -ESRCH (the process is gone) or another error reading it.
 */
int pcon_rules_place(struct pcon *p, const struct pcon_rules *r, pid_t pid, pcon_rules_cb cb,
		     void *userdata);

#ifdef __cplusplus
}
#endif

#endif
