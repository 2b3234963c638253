/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon pressure stall information (PSI): the share of time some or all
 * of a container's tasks were stalled on CPU, memory or I/O, from the
 * kernel's cpu.pressure, memory.pressure and io.pressure (every cgroup v2
 * container) and /proc/pressure/ (the machine).
 */
#ifndef PCON_PRESSURE_H
#define PCON_PRESSURE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "pcon/pcon.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pcon_psi_resource {
	PCON_PSI_CPU,
	PCON_PSI_MEMORY,
	PCON_PSI_IO,
	PCON_PSI_MAX,
	PCON_PSI_INVALID = -EINVAL,
};

enum pcon_psi_kind {
	PCON_PSI_SOME, /* at least one task stalled */
	PCON_PSI_FULL, /* every non-idle task stalled at once */
	PCON_PSI_KIND_MAX,
	PCON_PSI_KIND_INVALID = -EINVAL,
};

/* One line of a pressure file: percentages over 10, 60 and 300 s, and the
 * total stall time. */
struct pcon_psi {
	double avg10, avg60, avg300;
	uint64_t total_us;
};

/* A container's (or the machine's) pressure: have[r][k] says whether the
 * kernel gave line k of resource r (a kernel before 5.13 has no cpu "full"). */
struct pcon_pressure {
	struct pcon_psi v[PCON_PSI_MAX][PCON_PSI_KIND_MAX];
	bool have[PCON_PSI_MAX][PCON_PSI_KIND_MAX];
};

/* "cpu", "memory", "io"; "some", "full"; NULL for an invalid value. */
const char *pcon_psi_resource_to_string(enum pcon_psi_resource r);
enum pcon_psi_resource pcon_psi_resource_from_string(const char *s);
const char *pcon_psi_kind_to_string(enum pcon_psi_kind k);
enum pcon_psi_kind pcon_psi_kind_from_string(const char *s);

/*
 * Read container c's pressure files. -EOPNOTSUPP where the kernel keeps no
 * pressure for it: a cgroup v1 container (ask its v2 twin or the machine),
 * or a kernel without PSI (built without it, or booted with psi=0).
 * -ENOENT the container was removed.
 */
int pcon_pressure_read(const struct pcon_container *c, struct pcon_pressure *ret);
/* The machine's pressure (/proc/pressure). -EOPNOTSUPP without PSI. */
int pcon_pressure_read_machine(const struct pcon *p, struct pcon_pressure *ret);
/* Parse one pressure file's text into resource r of *ret. -EBADMSG if no line parses. */
int pcon_pressure_parse(const char *text, enum pcon_psi_resource r, struct pcon_pressure *ret);

#ifdef __cplusplus
}
#endif

#endif
