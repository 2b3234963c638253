/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Threshold expressions over a container's load, thread counts and pressure. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "pcon/when.h"

static const char *const var_names[PCON_WHEN_PRESSURE] = {
	"load1", "load5", "load15", "running", "sleeping", "uninterruptible", "stopped",
	"io_wait", "idle", "other", "total",
};

static bool is_count(enum pcon_when_var v)
{
	return v >= PCON_WHEN_RUNNING && v <= PCON_WHEN_TOTAL;
}

/* "cpu.some.avg10" into w. */
static int parse_pressure(const char *name, struct pcon_when *w)
{
	char res[16], kind[16], avg[16];
	int n = 0;
	if (sscanf(name, "%15[a-z].%15[a-z].%15[a-z0-9]%n", res, kind, avg, &n) != 3 || name[n])
		return -EINVAL;
	w->res = pcon_psi_resource_from_string(res);
	w->kind = pcon_psi_kind_from_string(kind);
	w->window = !strcmp(avg, "avg10") ? 10 : !strcmp(avg, "avg60") ? 60 : !strcmp(avg, "avg300") ? 300 : 0;
	if (w->res < 0 || w->kind < 0 || !w->window)
		return -EINVAL;
	w->var = PCON_WHEN_PRESSURE;
	return 0;
}

_public_ int pcon_when_parse(const char *text, struct pcon_when *ret)
{
	if (!text || !ret)
		return -EINVAL;
	struct pcon_when w = { 0 };
	const char *s = text;
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.");
	if (len == 0 || len >= 32)
		return -EINVAL;
	char name[32];
	memcpy(name, s, len);
	name[len] = '\0';
	s += len;
	w.var = PCON_WHEN_VAR_MAX;
	for (int i = 0; i < PCON_WHEN_PRESSURE; i++)
		if (strcmp(name, var_names[i]) == 0)
			w.var = (enum pcon_when_var)i;
	if (w.var == PCON_WHEN_VAR_MAX && parse_pressure(name, &w) < 0)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '>' && *s != '<')
		return -EINVAL;
	w.greater = *s++ == '>';
	if (*s == '=') {
		w.or_equal = true;
		s++;
	}
	char *end;
	w.threshold = strtod(s, &end);
	if (end == s || !isfinite(w.threshold))
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end || w.threshold < 0 || (w.var == PCON_WHEN_PRESSURE && w.threshold > 100))
		return -EINVAL;
	/* Back by a tenth of the threshold (at least 0.01) turns it false; a
	 * thread count must move by a whole thread. */
	w.margin = is_count(w.var) ? 1 : fmax(w.threshold / 10, 0.01);
	*ret = w;
	return 0;
}

_public_ void pcon_when_format(const struct pcon_when *w, char *buf, size_t size)
{
	char name[40];
	if (w->var == PCON_WHEN_PRESSURE)
		snprintf(name, sizeof(name), "%s.%s.avg%d", pcon_psi_resource_to_string(w->res),
			 pcon_psi_kind_to_string(w->kind), w->window);
	else
		snprintf(name, sizeof(name), "%s", var_names[w->var]);
	snprintf(buf, size, "%s%s%s%g", name, w->greater ? ">" : "<", w->or_equal ? "=" : "", w->threshold);
}

static int count_value(enum pcon_when_var v, const struct pcon_taskstats *t, double *ret)
{
	uint64_t n;
	switch (v) {
	case PCON_WHEN_RUNNING: n = t->running; break;
	case PCON_WHEN_SLEEPING: n = t->sleeping; break;
	case PCON_WHEN_UNINTERRUPTIBLE: n = t->uninterruptible; break;
	case PCON_WHEN_STOPPED: n = t->stopped; break;
	case PCON_WHEN_IO_WAIT:
		if (t->unknown & PCON_TASKSTATS_IO_WAIT)
			return -ENODATA;
		n = t->io_wait;
		break;
	case PCON_WHEN_IDLE:
		if (t->unknown & PCON_TASKSTATS_IDLE)
			return -ENODATA;
		n = t->idle;
		break;
	case PCON_WHEN_OTHER: n = t->other; break;
	default: n = t->total; break;
	}
	*ret = (double)n;
	return 0;
}

_public_ int pcon_when_value(const struct pcon_when *w, const struct pcon_when_input *in, double *ret)
{
	if (w->var <= PCON_WHEN_LOAD15) {
		if (!in->load)
			return -ENODATA;
		*ret = pcon_loadavg_to_double(in->load->avenrun[w->var - PCON_WHEN_LOAD1]);
		return 0;
	}
	if (is_count(w->var))
		return in->tasks ? count_value(w->var, in->tasks, ret) : -ENODATA;
	if (!in->pressure || !in->pressure->have[w->res][w->kind])
		return -ENODATA;
	const struct pcon_psi *p = &in->pressure->v[w->res][w->kind];
	*ret = w->window == 10 ? p->avg10 : w->window == 60 ? p->avg60 : p->avg300;
	return 0;
}

/* Is value past the threshold (in the direction the expression asks)? */
static bool passes(const struct pcon_when *w, double v, double threshold)
{
	if (w->greater)
		return w->or_equal ? v >= threshold : v > threshold;
	return w->or_equal ? v <= threshold : v < threshold;
}

_public_ int pcon_when_step(struct pcon_when *w, double value)
{
	/* True: it stays true until the value is back past the threshold by the
	 * margin (the same comparison against the threshold moved back). */
	double threshold = !w->state ? w->threshold
			 : w->greater ? w->threshold - w->margin : w->threshold + w->margin;
	bool now = passes(w, value, threshold);
	bool first = !w->known;
	w->known = true;
	if (now == w->state)
		return 0;
	w->state = now;
	return first && !now ? 0 : 1;
}
