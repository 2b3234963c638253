/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon threshold expressions: "load1>1.5", "running>4",
 * "cpu.some.avg10>20", "memory.full.avg10>=5". An expression turns true when
 * its value passes the threshold and false only once the value is back past
 * it by a margin (hysteresis), so a value at the edge does not flap.
 */
#ifndef PCON_WHEN_H
#define PCON_WHEN_H

#include <stdbool.h>
#include <stdint.h>

#include "pcon/loadavg.h"
#include "pcon/pressure.h"
#include "pcon/taskstate.h"

#ifdef __cplusplus
extern "C" {
#endif

enum pcon_when_var {
	PCON_WHEN_LOAD1, PCON_WHEN_LOAD5, PCON_WHEN_LOAD15,
	PCON_WHEN_RUNNING, PCON_WHEN_SLEEPING, PCON_WHEN_UNINTERRUPTIBLE, PCON_WHEN_STOPPED,
	PCON_WHEN_IO_WAIT, PCON_WHEN_IDLE, PCON_WHEN_OTHER, PCON_WHEN_TOTAL,
	PCON_WHEN_PRESSURE, /* resource.kind.avgN */
	PCON_WHEN_VAR_MAX,
};

struct pcon_when {
	enum pcon_when_var var;
	enum pcon_psi_resource res; /* PCON_WHEN_PRESSURE */
	enum pcon_psi_kind kind;
	int window;                 /* PCON_WHEN_PRESSURE: 10, 60 or 300 (seconds) */
	bool greater;               /* '>' or '>=' (else '<' or '<=') */
	bool or_equal;
	double threshold;
	double margin;              /* how far back past the threshold turns it false */
	bool known, state;          /* a value was seen; the expression holds */
};

/*
 * Parse "NAME OP NUMBER" (spaces allowed; OP one of > >= < <=). NAME is
 * load1|load5|load15, a thread count (running, sleeping, uninterruptible,
 * stopped, io_wait, idle, other, total: the container and its
 * descendants), or RESOURCE.KIND.avgN (cpu|memory|io, some|full,
 * avg10|avg60|avg300, in percent). -EINVAL on anything else.
 */
int pcon_when_parse(const char *text, struct pcon_when *ret);
/* The expression in canonical form ("load1>1.5") into buf. */
void pcon_when_format(const struct pcon_when *w, char *buf, size_t size);

/* What an expression is evaluated on; a member may be NULL if not known. */
struct pcon_when_input {
	const struct pcon_loadavg *load;
	const struct pcon_taskstats *tasks;
	const struct pcon_pressure *pressure;
};

/* The expression's value from in. -ENODATA where in lacks it (no pressure
 * on v1, or a count the backend cannot see). */
int pcon_when_value(const struct pcon_when *w, const struct pcon_when_input *in, double *ret);

/*
 * Feed one value: 1 if the expression changed state (the new state is
 * w->state), 0 if not. The first value sets the state and counts as a
 * change only when it makes the expression true.
 */
int pcon_when_step(struct pcon_when *w, double value);

#ifdef __cplusplus
}
#endif

#endif
