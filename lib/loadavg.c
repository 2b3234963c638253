/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Load averages in the kernel's fixed point (kernel/sched/loadavg.c): the
 * same constants, the same rounding (up while rising, so a constant load is
 * reached rather than approached forever from below), the same closed form
 * for missed samples, and the same printing. A container's numbers are then
 * directly comparable with /proc/loadavg.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "pcon/loadavg.h"

static const unsigned long exps[3] = { PCON_EXP_1, PCON_EXP_5, PCON_EXP_15 };

_public_ void pcon_loadavg_init(struct pcon_loadavg *l)
{
	*l = (struct pcon_loadavg){ 0 };
}

_public_ void pcon_loadavg_seed(struct pcon_loadavg *l, const unsigned long avenrun[3])
{
	memcpy(l->avenrun, avenrun, sizeof(l->avenrun));
}

_public_ unsigned long pcon_calc_load(unsigned long load, unsigned long exp, unsigned long active)
{
	unsigned long newload = load * exp + active * (PCON_FIXED_1 - exp);
	if (active >= load)
		newload += PCON_FIXED_1 - 1;
	return newload / PCON_FIXED_1;
}

/* Square-and-multiply with rounding at every step, exactly as the kernel. */
_public_ unsigned long pcon_fixed_power_int(unsigned long x, unsigned int frac_bits, unsigned int n)
{
	unsigned long result = 1UL << frac_bits;
	if (!n)
		return result;
	for (;;) {
		if (n & 1) {
			result *= x;
			result += 1UL << (frac_bits - 1);
			result >>= frac_bits;
		}
		n >>= 1;
		if (!n)
			break;
		x *= x;
		x += 1UL << (frac_bits - 1);
		x >>= frac_bits;
	}
	return result;
}

/*
 * a1 = a0 e + a (1 - e), so an = a0 e^n + a (1 - e^n): one calc_load step
 * with e^n in place of e.
 */
_public_ unsigned long pcon_calc_load_n(unsigned long load, unsigned long exp, unsigned long active,
					unsigned int n)
{
	return pcon_calc_load(load, pcon_fixed_power_int(exp, PCON_FSHIFT, n), active);
}

_public_ void pcon_loadavg_update(struct pcon_loadavg *l, uint64_t nr_active, unsigned int n)
{
	if (n == 0)
		return;
	/* The kernel's cap on nr_active is its long; keep the product in range. */
	if (nr_active > (1UL << 31))
		nr_active = 1UL << 31;
	unsigned long active = (unsigned long)nr_active * PCON_FIXED_1;
	for (int i = 0; i < 3; i++)
		l->avenrun[i] = n == 1 ? pcon_calc_load(l->avenrun[i], exps[i], active)
				       : pcon_calc_load_n(l->avenrun[i], exps[i], active, n);
	l->samples += n;
	l->active = nr_active;
}

_public_ unsigned int pcon_loadavg_due(uint64_t *next_ns, uint64_t now_ns)
{
	if (now_ns < *next_ns)
		return 0;
	uint64_t missed = (now_ns - *next_ns) / PCON_LOAD_FREQ_NS;
	*next_ns += (missed + 1) * PCON_LOAD_FREQ_NS;
	/* Anything beyond ~8 years of missed samples has decayed to its limit. */
	return missed >= 0xfffffffeULL ? 0xffffffffU : (unsigned int)(missed + 1);
}

_public_ char *pcon_loadavg_format(unsigned long load, char *buf, size_t size)
{
	unsigned long x = load + PCON_FIXED_1 / 200;
	snprintf(buf, size, "%lu.%02lu", PCON_LOAD_INT(x), PCON_LOAD_FRAC(x));
	return buf;
}

_public_ double pcon_loadavg_to_double(unsigned long load)
{
	unsigned long x = load + PCON_FIXED_1 / 200;
	return (double)PCON_LOAD_INT(x) + (double)PCON_LOAD_FRAC(x) / 100.0;
}

/* One "I.FF" field of /proc/loadavg into fixed point; *s moves past it. */
static int parse_one(const char **s, unsigned long *ret)
{
	const char *p = *s;
	while (*p == ' ')
		p++;
	unsigned long ip = 0, frac = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		ip = ip * 10 + (unsigned long)(*p - '0');
	if (!digits || *p != '.' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return -EINVAL;
	frac = (unsigned long)(p[1] - '0') * 10 + (unsigned long)(p[2] - '0');
	p += 3;
	if (*p != ' ' && *p != '\n' && *p != '\0')
		return -EINVAL;
	*s = p;
	/* The nearest fixed-point value to what was printed. */
	*ret = ((ip * 100 + frac) * PCON_FIXED_1 + 50) / 100;
	return 0;
}

_public_ int pcon_loadavg_parse(const char *text, unsigned long ret[3])
{
	unsigned long v[3];
	const char *s = text;
	for (int i = 0; i < 3; i++) {
		int r = parse_one(&s, &v[i]);
		if (r < 0)
			return r;
	}
	memcpy(ret, v, sizeof(v));
	return 0;
}
