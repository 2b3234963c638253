/* The pcon command line: shared state and helpers of the subcommands. */
#ifndef PCON_CLI_H
#define PCON_CLI_H

#include <stdbool.h>

#include "pcon/pcon.h"

struct cli {
	struct pcon *p;      /* the machine's hierarchies (opened before dispatch) */
	const char *socket;  /* --socket PATH for pcond clients, or NULL */
};

/*
 * Each subcommand: argv[0] is its name; parse options with getopt_long
 * (optind is reset before the call). Returns the process exit status.
 */
int cmd_hierarchies(struct cli *c, int argc, char **argv);
int cmd_create(struct cli *c, int argc, char **argv);
int cmd_remove(struct cli *c, int argc, char **argv);
int cmd_attach(struct cli *c, int argc, char **argv);
int cmd_exec(struct cli *c, int argc, char **argv);
int cmd_ls(struct cli *c, int argc, char **argv);
int cmd_tasks(struct cli *c, int argc, char **argv);
int cmd_get(struct cli *c, int argc, char **argv);
int cmd_set(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_loadavg(struct cli *c, int argc, char **argv);
int cmd_events(struct cli *c, int argc, char **argv);
int cmd_top(struct cli *c, int argc, char **argv);
int cmd_pressure(struct cli *c, int argc, char **argv);
int cmd_classify(struct cli *c, int argc, char **argv);
int cmd_apply(struct cli *c, int argc, char **argv);
int cmd_snapshot(struct cli *c, int argc, char **argv);

/* Print "pcon: WHAT: REASON" on stderr; returns 1 (the exit status to use). */
int cli_fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with the reason a negative errno explained for the object kind. */
int cli_errno(const char *what, int err);
/* The reason cli_errno prints for a negative errno. */
const char *cli_strerror(int err);
/* Usage error: "pcon: CMD: MSG" plus "try 'pcon CMD --help'"; returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usage error for the option getopt just refused; returns 2. */
int cli_bad_option(const char *cmd, char **argv);
/* The same for what getopt_long returned, o, with an optstring starting
 * with ':' (so that ':' means an option without its value). */
int cli_option_error(const char *cmd, char **argv, int o);
/* Parse a container name; prints the error itself. 0, or the exit status 1. */
int cli_spec(struct cli *c, const char *spec, struct pcon_spec *ret);
/* Parse spec and open the container in each hierarchy it names. Prints the
 * error itself. Returns the number opened (>= 1) or -1. Free with cli_close_all. */
int cli_open_all(struct cli *c, const char *spec, struct pcon_container **ret, int max);
void cli_close_all(struct pcon_container **v, int n);
/* Open every container of specs[0..n_specs) into a new array; prints the
 * error itself. Returns how many were opened, or -1 with nothing left open. */
int cli_open_specs(struct cli *c, char **specs, int n_specs, struct pcon_container ***ret);
void cli_free_specs(struct pcon_container **v, int n);
/* Opened container's display name: "HIER:PATH" escaped as pcon_escape_name
 * does (valid until four more names are made). */
const char *cli_name(const struct pcon_container *ct);
/* The same for a hierarchy and a raw path. */
const char *cli_spec_name(const struct pcon_hier *h, const char *path);

/* Give a command pcon runs the open-file limit pcon was started with. */
void cli_restore_nofile(void);

#endif
