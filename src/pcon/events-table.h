/* The columns of pcon events and events --when (cmd-events.c, cmd-when.c). */
#ifndef PCON_EVENTS_TABLE_H
#define PCON_EVENTS_TABLE_H

#include "cli.h"
#include "table.h"

enum {
	EV_TIME, EV_TYPE, EV_CONTAINER, EV_HIERARCHY, EV_PID, EV_TID, EV_PARENT_PID, EV_PARENT_TID,
	EV_COMM, EV_CODE, EV_SIGNAL, EV_RUID, EV_EUID, EV_RGID, EV_EGID, EV_FROM, EV_CACHED,
	EV_WITHHELD, EV_LOST, EV_SOURCE, EV_EXPR, EV_STATE, EV_VALUE,
};

/* Whether o asks for the table (-o, --raw, -J) rather than the lines. */
bool events_tabular(const struct tout *o);
/* --list-columns of pcon events. */
int events_list_columns(const struct tout *o);
/* The table of a stream of events (when: of threshold events, for the
 * default columns). 0, or the exit status (table_init's). */
int events_table_init(struct table *t, const struct tout *o, bool when);

/* pcon events --when (cmd-when.c): threshold events through pcond. */
int events_when(struct cli *c, const char *expr, const char *spec, const struct tout *o,
		const char *cmd);

#endif
