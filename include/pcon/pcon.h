/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon: process containers and per-container statistics on the kernel's
 * cgroup v1 and v2 hierarchies.
 *
 * Conventions: functions return 0 (or a count) on success and a negative
 * errno on failure; output parameters are named ret_* and are written only
 * on success; destructors accept NULL. The library never prints.
 */
#ifndef PCON_PCON_H
#define PCON_PCON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- hierarchies ------------------------------------------------------ */

/* One mounted cgroup tree. Read-only for callers. */
struct pcon_hier {
	int version;          /* 1 or 2 */
	int id;               /* v1 hierarchy id from /proc/cgroups, 0 if unknown */
	char *name;           /* how users name it: "cpu", "cpu,cpuacct", "systemd", "unified" */
	char *mount;          /* mount point as the kernel reports it */
	char *named;          /* v1 "name=" option value, or NULL */
	char **controllers;   /* NULL-terminated: bound (v1) or available (v2) */
	int root_fd;          /* O_PATH directory fd of the mount point */
	bool noprefix;        /* v1 "noprefix" (mount -t cpuset): "cpus", not "cpuset.cpus" */
	char *root;           /* the hierarchy's directory mounted there ("/" unless
				 a subtree is mounted), as /proc/PID/cgroup names it */
};

/* A loaded view of the machine: hierarchies and the /proc to read tasks from. */
struct pcon;

/*
 * Discover hierarchies. sysroot is prepended to every path read ("/" or NULL
 * for the real machine; a temp dir with proc/ and sys/ in tests).
 * -ENOMEDIUM if no cgroup file system is mounted.
 */
int pcon_open(const char *sysroot, struct pcon **ret);
void pcon_close(struct pcon *p);

/* The hierarchies, in mount order. */
const struct pcon_hier *pcon_hiers(const struct pcon *p, size_t *ret_n);

/* fd of the /proc directory (beneath sysroot). */
int pcon_proc_fd(const struct pcon *p);

/* The hierarchy a bare "/path" means: v2 if mounted, else the first one. */
const struct pcon_hier *pcon_hier_default(const struct pcon *p);

/* Does hierarchy h have kernel controller ctrl? */
bool pcon_hier_has(const struct pcon_hier *h, const char *ctrl);

/*
 * Resolve one token of a HIER list: a hierarchy name, a kernel controller,
 * a pcon subsystem name ("numtasks"), "name=X" or "unified".
 * -ENODEV if no mounted hierarchy matches.
 */
int pcon_hier_find(const struct pcon *p, const char *token, const struct pcon_hier **ret);

/* ---- container names -------------------------------------------------- */

#define PCON_SPEC_MAX_HIERS 16

/* "HIER[,HIER...]:PATH" or "PATH", parsed and resolved. */
struct pcon_spec {
	size_t n;                                        /* distinct hierarchies */
	const struct pcon_hier *hiers[PCON_SPEC_MAX_HIERS];
	char *path;                                      /* normalized: "/" or "/a/b" */
};

/*
 * Parse a container name as pcon prints it: the text form of
 * pcon_escape_name ("\\" for a backslash, "\t", "\n", "\xHH"; any other byte
 * stands for itself). -ENODEV unknown hierarchy, -EINVAL bad escape or bad
 * path (empty components are folded; "." and ".." refused), -ENAMETOOLONG a
 * component over 4095 bytes (cgroupfs allows components over NAME_MAX; no
 * limit on the whole path: containers are opened one level at a time where
 * it is longer than PATH_MAX).
 */
int pcon_spec_parse(const struct pcon *p, const char *spec, struct pcon_spec *ret);
void pcon_spec_done(struct pcon_spec *s);

/* Validate and normalize a raw container path alone (no escapes). */
int pcon_path_normalize(const char *path, char **ret);

/* ---- containers ------------------------------------------------------- */

/* A handle: a directory fd held beneath the hierarchy root. Read-only. */
struct pcon_container {
	const struct pcon_hier *hier;
	char *path;      /* normalized path within the hierarchy */
	int fd;          /* O_DIRECTORY fd; never re-resolved by path */
	uint64_t id;     /* inode number: the cgroup id on v2 */
};

/*
 * Open an existing container beneath its hierarchy root (no symlinks, no
 * mount crossing, no escape). A container that another file system is
 * mounted over is opened underneath the mount (by its inode number from its
 * parent's listing, with open_by_handle_at: needs CAP_DAC_READ_SEARCH).
 * -ENOENT no such container, -ENOTDIR not a directory, -ELOOP a symlink,
 * -EXDEV covered by a mount and the caller may not open it underneath.
 */
int pcon_container_open(const struct pcon_hier *h, const char *path,
			struct pcon_container **ret);
void pcon_container_free(struct pcon_container *c);

/*
 * Create a container and any missing parents. On failure every directory it
 * made is removed again. Returns how many levels it made: 0 if the container
 * existed, 2 if "/a/b" was made where "/a" did not exist.
 */
int pcon_container_create(const struct pcon_hier *h, const char *path,
			  struct pcon_container **ret);

/*
 * On a v2 hierarchy, make controller ctrl (or the one pcon subsystem ctrl
 * uses) available in the container at path: enable it in the
 * cgroup.subtree_control of every ancestor that lacks it, undoing its own
 * writes if one fails. 0 when nothing was needed (v1, or a core v2 file);
 * -EOPNOTSUPP if the hierarchy does not offer the controller.
 */
int pcon_container_enable(const struct pcon_hier *h, const char *path, const char *ctrl);

/*
 * Remove a container; with recursive, its descendants first. -EBUSY (nothing
 * removed) if it or a descendant holds tasks; -EXDEV (nothing removed) if a
 * file system is mounted over it or a descendant; -ENOTEMPTY if it has
 * children and !recursive; -EPERM for a hierarchy root.
 */
int pcon_container_remove(const struct pcon_hier *h, const char *path, bool recursive);

/* Move a whole process (or one thread) into c. -ESRCH no such process. */
int pcon_container_attach(const struct pcon_container *c, pid_t pid, bool thread);

/*
 * Pids (or tids, threads=true) in c, sorted, deduplicated. Returns the count.
 * -ENOENT if the container was removed.
 */
int pcon_container_tasks(const struct pcon_container *c, bool threads, pid_t **ret);

/*
 * Ids of the processes (threads=false) or threads whose cgroup in hierarchy h
 * is path, or (below=true) path or any descendant of it, found by reading
 * /proc/PID/cgroup (and /proc/PID/task/TID/cgroup for threads) of every task
 * /proc shows the caller: O(tasks on the machine). For a container that
 * exists but cannot be opened (pcon_container_open_child says -EXDEV: a
 * mount over it, without CAP_DAC_READ_SEARCH), so that its tasks still count
 * in its ancestors. Sorted; returns the count. Tasks that exit meanwhile are
 * skipped.
 */
int pcon_tasks_below(const struct pcon *p, const struct pcon_hier *h, const char *path,
		     bool below, bool threads, pid_t **ret);

/* Names of child containers (raw bytes), sorted, NULL-terminated. Returns
 * the count. Every subdirectory is listed, also one a mount covers. */
int pcon_container_children(const struct pcon_container *c, char ***ret);

/* Names of the container's files (its controllers' and the core cgroup.*
 * ones), sorted, NULL-terminated. Returns the count. */
int pcon_container_files(const struct pcon_container *c, char ***ret);

/*
 * Open the child container "name" (raw bytes, as listed) of c. -ENOENT
 * removed meanwhile (skip it); any other error means it exists but cannot be
 * opened (-EXDEV covered by a mount, -EACCES, -ENAMETOOLONG): report it as
 * unreadable, never drop it.
 */
int pcon_container_open_child(const struct pcon_container *c, const char *name,
			      struct pcon_container **ret);

/* ---- names in output -------------------------------------------------- */

/*
 * A container name may hold any byte but '/' and NUL. These write a string
 * into buf like snprintf: at most size - 1 bytes and a NUL (if size > 0),
 * and return the length the whole output needs (call with NULL, 0 to size).
 */

/*
 * The text form of a name: "\\" for a backslash, "\t", "\n", and "\xHH" for
 * every byte of other control characters (C0, DEL, C1), of invisible or
 * bidirectional marks (U+200E/F, U+2028-202E, U+2066-2069, U+FEFF) and of
 * anything that is not UTF-8. The result is valid UTF-8 with no control
 * characters, and pcon_unescape_name gives the original bytes back.
 */
size_t pcon_escape_name(char *buf, size_t size, const char *name);
int pcon_escape_name_dup(const char *name, char **ret);

/*
 * Undo pcon_escape_name: "\\", "\t", "\n", "\xHH"; other bytes as they are.
 * -EINVAL for any other escape, a '\' at the end, "\x00" or "\x2f".
 */
int pcon_unescape_name(const char *text, char **ret);

/* "HIER:PATH" of c in the text form above (what pcon_spec_parse takes back). */
int pcon_container_name(const struct pcon_container *c, char **ret);

/*
 * The inside of a JSON string (no quotes): '"', '\\', control characters
 * and U+2028/2029 escaped; each byte that is not UTF-8 becomes \ufffd. For a
 * name, escape it with pcon_escape_name first: JSON then carries the
 * reversible text form.
 */
size_t pcon_escape_json(char *buf, size_t size, const char *str);

/*
 * The inside of an OpenMetrics label value: "\\", "\"", "\n"; each byte
 * that is not UTF-8 becomes U+FFFD. For a name, pass its pcon_escape_name
 * form, so that the label is reversible and has no control characters.
 */
size_t pcon_escape_label(char *buf, size_t size, const char *str);

/* ---- subsystems and knobs --------------------------------------------- */

/* Knob access is by generic name ("cpu.weight") or a raw kernel file name. */

/*
 * Read knob "name" of c into a malloc'ed string (no trailing newline).
 * -ENOENT unknown knob, -EINVAL a raw name with '/', a leading '.' or control
 * characters, -EOPNOTSUPP the hierarchy lacks the subsystem, -ENXIO this
 * container lacks the file (see pcon_knob_check).
 */
int pcon_knob_get(const struct pcon_container *c, const char *name, char **ret);

/*
 * Validate value and write knob "name" of c. Nothing is written if the value
 * is invalid: -EINVAL malformed, -ERANGE out of range, -EROFS read-only knob,
 * -EPERM a raw file pcon_knob_refused names.
 */
int pcon_knob_set(const struct pcon_container *c, const char *name, const char *value);

/*
 * Why pcon_knob_set refuses (-EPERM, nothing written) the raw file name, or
 * NULL if it does not: the files that move tasks (cgroup.procs,
 * cgroup.threads, v1 tasks: use pcon_container_attach), cgroup.kill, and
 * v1's release_agent (a program the kernel runs as root).
 */
const char *pcon_knob_refused(const char *name);

/*
 * Validate value for knob "name" of c as pcon_knob_set would, writing nothing
 * (to check several knobs before setting any). Same errors as pcon_knob_set,
 * plus -ENXIO: the hierarchy has the controller but this container has no
 * such file (the root container; v2: controller not enabled in the parent's
 * cgroup.subtree_control).
 */
int pcon_knob_check(const struct pcon_container *c, const char *name, const char *value);

/*
 * Would pcon_knob_set(c, name, value) change anything? 1 yes, 0 no (the
 * kernel already has that value); the errors of pcon_knob_check.
 */
int pcon_knob_differs(const struct pcon_container *c, const char *name, const char *value);

/* The unit of a generic knob's values ("ns", "bytes", "" for none), or NULL. */
const char *pcon_knob_unit(const char *name);

/* A human description of the values a knob takes, or NULL. */
const char *pcon_knob_hint(const char *name);

/* Generic knob names, NULL-terminated, for listing. */
const char *const *pcon_knob_names(void);

/* free() a NULL-terminated string vector. */
void pcon_strv_free(char **v);

#ifdef __cplusplus
}
#endif

#endif
