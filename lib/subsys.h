/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Subsystems and their knobs: the registry's types, shared by lib/subsys.c
 * and lib/subsys/<name>.c. Not part of the public API.
 *
 * A subsystem names the kernel controller it uses on each cgroup version and
 * carries a table of knobs. A knob maps one generic name ("cpu.weight") to a
 * kernel file on v1 and on v2, each with converters: decode (kernel text ->
 * generic value) and encode (generic value -> validated plan of writes). All
 * v1/v2 differences live in these tables and converters.
 */
#ifndef PCON_SUBSYS_H
#define PCON_SUBSYS_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* At most this many kernel files are written for one knob (v1 cpu.max: 2). */
#define KNOB_PLAN_MAX 2

/* The validated writes for one knob: done in order, each one write(2). */
struct knob_plan {
	size_t n;
	const char *file[KNOB_PLAN_MAX];
	char *text[KNOB_PLAN_MAX];       /* malloc'ed */
};

struct knob;

/* What a converter works on: the container and the mapping of its version. */
struct knob_ctx {
	const struct pcon_container *c;
	const struct knob *k;
	const char *file;                /* this version's kernel file */
	const char *file2;               /* a second file, if the mapping uses one */
};

/* Kernel text -> generic value (malloc'ed, no trailing newline). */
typedef int (*knob_decode_fn)(const struct knob_ctx *x, char **ret);
/* Generic value -> plan. Validates only: never writes. */
typedef int (*knob_encode_fn)(const struct knob_ctx *x, const char *value, struct knob_plan *ret);

/* One version's mapping of a knob. file == NULL: not available on that version. */
struct knob_map {
	const char *file;
	const char *file2;
	knob_decode_fn decode;           /* NULL: the file's text, stripped */
	knob_encode_fn encode;           /* NULL: read-only */
};

struct knob {
	const char *name;                /* generic: "<subsystem>.<knob>" */
	struct knob_map v[2];            /* [0] cgroup v1, [1] cgroup v2 */
	const char *unit;                /* "ns", "bytes", "tasks", "us", "" */
	const char *hint;                /* the values it takes, for error lines */
};

struct subsys {
	const char *name;                /* pcon's name: "numtasks" */
	/* Kernel controller per version: "" needs none (core files), NULL: cannot
	 * be used on that version / names no hierarchy. */
	const char *ctrl[2];
	const struct knob *knobs;        /* terminated by a { .name = NULL } entry */
	/* Optional: may task pid join c? 0 yes, a negative errno saying why not. */
	int (*check_attach)(const struct pcon_container *c);
};

/* The registry, listed once. */
#define PCON_SUBSYS_LIST(X) \
	X(cpuset)           \
	X(cpuacct)          \
	X(numtasks)         \
	X(memory)           \
	X(cpu)              \
	X(freezer)          \
	X(taskstate)        \
	X(loadavg)

#define SUBSYS_DECLARE(n) extern const struct subsys n##_subsys;
PCON_SUBSYS_LIST(SUBSYS_DECLARE)
#undef SUBSYS_DECLARE

/* ---- helpers for converters (subsys.c) ---- */

void knob_plan_done(struct knob_plan *p);
/* Append one write; text is copied. */
int knob_plan_add(struct knob_plan *p, const char *file, const char *text);
/* Read x->file, stripped of surrounding white space. */
int knob_read_stripped(const struct knob_ctx *x, const char *file, char **ret);
/* Read "key value" line key of a flat-keyed file (cpu.stat, cgroup.events). */
int knob_read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret);
/* malloc'ed decimal of v. */
int knob_format_u64(uint64_t v, char **ret);
/* Strict decimal, optionally "-" for negative values (gives -ERANGE then). */
int knob_parse_u64(const char *value, uint64_t *ret);
/* Open the directory the hierarchy's mount point hangs below ("/" on the real
 * machine, the sysroot of a fake tree): sysfs files are read beneath it. */
int hier_sysroot_open(const struct pcon_hier *h);

/* Attach checks of every subsystem on c's hierarchy: 0, or why not. */
int subsys_check_attach(const struct pcon_container *c);

#endif
