/*
 * pcond --rules FILE: placement rules (cgrules.conf format, see pcon(1))
 * applied to every process as it starts a program or changes its user or
 * group, as libcgroup's cgrulesengd does, from the proc connector's events
 * pcond already reads. SIGHUP reads the file again; a file with an error
 * is refused, naming its line, and the rules in force stay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcond.h"
#include "pcon/rules.h"

/* Read the rules file: 0, or -1 with the error logged (nothing changed). */
static int rules_read(struct pcond *d)
{
	struct pcon_rules *r;
	unsigned line = 0;
	char why[256] = "";
	int e = pcon_rules_load(d->rules_path, &r, &line, why, sizeof(why));
	if (e < 0) {
		if (e == -EINVAL)
			pcond_log(LOG_ERR, "--rules: %s: line %u: %s%s", d->rules_path, line, why,
				  d->rules ? "; the rules in force stay" : "");
		else
			pcond_log(LOG_ERR, "--rules: %s: %s", d->rules_path, why);
		return -1;
	}
	pcon_rules_free(d->rules);
	d->rules = r;
	d->rules_warned_n = 0;
	pcond_log(LOG_INFO, "rules: %zu from %s", pcon_rules_count(r), d->rules_path);
	return 0;
}

int rules_start(struct pcond *d, const char *path)
{
	d->rules_path = path;
	if (rules_read(d) < 0)
		return 1;
	/* Every process: a recursive subscription to the default hierarchy's root. */
	struct pcon_container *root;
	int r = pcon_container_open(pcon_hier_default(d->p), "/", &root);
	if (r == 0) {
		r = subs_internal(d, root, PCON_EVENTS_RECURSIVE, &d->rules_sub);
		pcon_container_free(root);
	}
	if (r < 0) {
		pcond_log(LOG_ERR, "--rules: cannot follow the processes' events: %s", strerror(-r));
		return 1;
	}
	return 0;
}

void rules_reload(struct pcond *d)
{
	if (d->rules)
		(void)rules_read(d);
}

/* Say once (until the rules are read again) what a rule cannot do. */
static void warn_once(struct pcond *d, const struct pcon_rules_result *res, const char *why)
{
	char key[sizeof(d->rules_warned[0])]; /* a long path is told by its start */
	snprintf(key, sizeof(key), "%u %.32s %.80s", res->line,
		 res->hier ? res->hier->name : res->controller, res->path);
	for (size_t i = 0; i < d->rules_warned_n; i++)
		if (!strcmp(d->rules_warned[i], key))
			return;
	if (d->rules_warned_n < RULES_WARNED_MAX) {
		memcpy(d->rules_warned[d->rules_warned_n++], key, sizeof(key));
		pcond_log(LOG_WARNING, "rules: line %u: %s%s%s: %s (said once)", res->line,
			  res->hier ? res->hier->name : res->controller, res->hier ? ":" : "",
			  res->hier ? res->path : "", why);
	}
}

static void on_placed(const struct pcon_rules_result *res, void *userdata)
{
	struct pcond *d = userdata;
	if (!res->hier) {
		d->rules_failed++;
		warn_once(d, res, "no hierarchy has this controller");
	} else if (res->err == -ENOENT) {
		d->rules_failed++;
		warn_once(d, res, "no such container (rules never create one)");
	} else if (res->err == -ESRCH) {
		/* gone meanwhile */
	} else if (res->err < 0) {
		d->rules_failed++;
		pcond_log(LOG_WARNING, "rules: line %u: pid %d into %s:%s: %s", res->line, (int)res->pid,
			  res->hier->name, res->path, strerror(-res->err));
	} else {
		d->rules_moved++;
		pcond_log(LOG_DEBUG, "rules: line %u: pid %d into %s:%s", res->line, (int)res->pid,
			  res->hier->name, res->path);
	}
}

void rules_on_event(struct pcond *d, const struct pcon_event *ev)
{
	if (!d->rules || ev->pid <= 0)
		return;
	if (ev->type != PCON_EVENT_EXEC && ev->type != PCON_EVENT_UID && ev->type != PCON_EVENT_GID)
		return;
	(void)pcon_rules_place(d->p, d->rules, ev->pid, on_placed, d);
}

void rules_done(struct pcond *d)
{
	pcon_rules_free(d->rules);
	d->rules = NULL;
}
