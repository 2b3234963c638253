/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpcon load averages: the kernel's fixed-point exponential averages of the
 * number of active tasks (running + load-contributing uninterruptible),
 * computed per container from samples taken every PCON_LOAD_FREQ_SEC seconds.
 * Same constants, rounding and output format as the kernel's /proc/loadavg.
 */
#ifndef PCON_LOADAVG_H
#define PCON_LOADAVG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PCON_FSHIFT  11                      /* bits of fraction */
#define PCON_FIXED_1 (1UL << PCON_FSHIFT)    /* 1.0 in fixed point */
#define PCON_EXP_1   1884UL                  /* 1/exp(5s/1min) in fixed point */
#define PCON_EXP_5   2014UL                  /* 1/exp(5s/5min) */
#define PCON_EXP_15  2037UL                  /* 1/exp(5s/15min) */
#define PCON_LOAD_FREQ_SEC 5                 /* seconds between samples */
#define PCON_LOAD_FREQ_NS (PCON_LOAD_FREQ_SEC * 1000000000ULL)

/* Integer and hundredths of a fixed-point load, as /proc/loadavg prints it:
 * apply to (x + PCON_FIXED_1 / 200), which rounds to the nearest 0.01. */
#define PCON_LOAD_INT(x)  ((x) >> PCON_FSHIFT)
#define PCON_LOAD_FRAC(x) PCON_LOAD_INT(((x) & (PCON_FIXED_1 - 1)) * 100)

/* One container's averages. Zero-initialise (or pcon_loadavg_init) to start at 0. */
struct pcon_loadavg {
	unsigned long avenrun[3];  /* 1, 5, 15 minutes; fixed point */
	uint64_t samples;          /* samples applied since the start */
	uint64_t active;           /* active tasks of the last sample */
};

void pcon_loadavg_init(struct pcon_loadavg *l);

/* Start from known averages (e.g. the kernel's own, for a hierarchy root). */
void pcon_loadavg_seed(struct pcon_loadavg *l, const unsigned long avenrun[3]);

/*
 * One step of the kernel's average: load and the result in fixed point, exp
 * one of PCON_EXP_*, active = active tasks * PCON_FIXED_1. Rounds up while
 * the load rises, as the kernel does.
 */
unsigned long pcon_calc_load(unsigned long load, unsigned long exp, unsigned long active);

/* x^n for fixed-point x with frac_bits of fraction, in O(log n) steps. */
unsigned long pcon_fixed_power_int(unsigned long x, unsigned int frac_bits, unsigned int n);

/* n steps of pcon_calc_load with the same active, in closed form (n >= 1). */
unsigned long pcon_calc_load_n(unsigned long load, unsigned long exp, unsigned long active,
			       unsigned int n);

/*
 * Apply n samples (n >= 1; more than one for a late tick) in which nr_active
 * tasks were active. n == 0 does nothing.
 */
void pcon_loadavg_update(struct pcon_loadavg *l, uint64_t nr_active, unsigned int n);

/*
 * How many samples are due at monotonic time now_ns, given the due time of
 * the next one in *next_ns: 0 if it is not due yet; else 1 + the whole
 * periods missed since, and *next_ns moves to the first due time after now.
 */
unsigned int pcon_loadavg_due(uint64_t *next_ns, uint64_t now_ns);

/* Format a fixed-point load as /proc/loadavg does ("1.23"). Returns buf. */
char *pcon_loadavg_format(unsigned long load, char *buf, size_t size);

/* A fixed-point load as a double, rounded to hundredths as printed. */
double pcon_loadavg_to_double(unsigned long load);

/*
 * Parse the first three fields of /proc/loadavg ("0.52 0.31 0.12 ...") into
 * fixed point. -EINVAL if malformed.
 */
int pcon_loadavg_parse(const char *text, unsigned long ret[3]);

#ifdef __cplusplus
}
#endif

#endif
