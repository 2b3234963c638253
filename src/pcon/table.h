/*
 * pcon's tables: every table, tree and JSON document pcon prints goes through
 * libsmartcols. A command describes its columns once (struct tcol); the
 * common output options (-o, --list-columns, --raw, -n, -J) select and format
 * them the same way in every command.
 */
#ifndef PCON_TABLE_H
#define PCON_TABLE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <libsmartcols/libsmartcols.h>

struct tcol {
	const char *name;   /* header and -o name; the JSON key is its lower case */
	double whint;       /* width hint: < 1 a share of the terminal, else cells */
	int flags;          /* SCOLS_FL_* */
	int json;           /* SCOLS_JSON_* */
	const char *help;   /* the line --list-columns prints */
};

/* The common output options, as given. */
struct tout {
	const char *output;   /* -o LIST; "+LIST" appends to the default */
	bool list_columns;
	bool raw;
	bool noheadings;
	bool json;
};

enum { OPT_TABLE_LIST_COLUMNS = 0x1000, OPT_TABLE_RAW };

/* getopt_long entries and letters of the common output options. */
#define TABLE_LONGOPTS                                                            \
	{ "output", required_argument, NULL, 'o' },                               \
	{ "list-columns", no_argument, NULL, OPT_TABLE_LIST_COLUMNS },            \
	{ "raw", no_argument, NULL, OPT_TABLE_RAW },                              \
	{ "noheadings", no_argument, NULL, 'n' },                                 \
	{ "json", no_argument, NULL, 'J' }
#define TABLE_LETTERS "o:nJ"
/* Their --help lines. */
#define TABLE_HELP                                                                \
	"  -o, --output LIST   columns to print (see --list-columns); +LIST adds to\n" \
	"                      the default ones\n"                                    \
	"      --list-columns  list the columns and what they mean\n"                 \
	"      --raw           unaligned, one space between cells\n"                  \
	"  -n, --noheadings    no header line\n"                                      \
	"  -J, --json          JSON output\n"

/* Take opt if it is a common output option; false if it is not one. */
bool tout_option(struct tout *o, int opt, const char *arg);

/* Print the columns of a command (name and help; -J: a JSON table). */
int table_list_columns(const struct tcol *cols, size_t ncols, const struct tout *o);

#define TABLE_MAX_COLS 64

struct table {
	struct libscols_table *tb;
	const struct tcol *cols;
	size_t ncols;
	int pos[TABLE_MAX_COLS];   /* column id -> printed position, or -1 */
	bool json;
};

/*
 * Make an empty table of the columns o->output names (else dflt, a comma
 * list of names). name is the JSON document's member ("containers"). Prints
 * its own error naming the bad column; returns 0, or the exit status (2 for
 * a column not known, 1 otherwise).
 */
int table_init(struct table *t, const char *cmd, const char *name, const struct tcol *cols,
	       size_t ncols, const char *dflt, const struct tout *o);
void table_free(struct table *t);

/* Whether column id is printed (to skip what costs to find out). */
static inline bool table_has(const struct table *t, int id)
{
	return t->pos[id] >= 0;
}

/* A new row, under parent in a tree (NULL: at the top). NULL if out of memory. */
struct libscols_line *table_row(struct table *t, struct libscols_line *parent);

/* Fill the cell of column id (nothing if it is not printed). A NULL value
 * leaves it empty: "-" in text, null in JSON. 0 or -ENOMEM. */
int table_set(struct table *t, struct libscols_line *ln, int id, const char *val);
int table_setf(struct table *t, struct libscols_line *ln, int id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int table_set_u64(struct table *t, struct libscols_line *ln, int id, uint64_t v);
/* A container name or path: escaped as pcon_escape_name does, so that text
 * and JSON hold every name the kernel allows and can be typed back. */
int table_set_name(struct table *t, struct libscols_line *ln, int id, const char *raw);

/* Print the table on stdout. 0, or the exit status 1. */
int table_print(struct table *t);

#endif
