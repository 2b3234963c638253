/* pcon's tables through libsmartcols (see table.h). */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "table.h"

bool tout_option(struct tout *o, int opt, const char *arg)
{
	switch (opt) {
	case 'o':
		o->output = arg;
		return true;
	case OPT_TABLE_LIST_COLUMNS:
		o->list_columns = true;
		return true;
	case OPT_TABLE_RAW:
		o->raw = true;
		return true;
	case 'n':
		o->noheadings = true;
		return true;
	case 'J':
		o->json = true;
		return true;
	}
	return false;
}

static void apply_format(struct libscols_table *tb, const struct tout *o)
{
	/* libsmartcols draws its tree with line characters and leaves
	 * printable multibyte text as it is only where LC_CTYPE says UTF-8.
	 * --raw keeps the C locale: there it writes every byte that is not
	 * printable ASCII, and every blank and backslash, as \xHH, which
	 * pcon reads back (see table_set_name). */
	static bool locale_set;
	if (!locale_set && !o->raw) {
		setlocale(LC_CTYPE, "");
		locale_set = true;
	}
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_json(tb, o->json);
	scols_table_enable_noheadings(tb, o->noheadings);
}

int table_list_columns(const struct tcol *cols, size_t ncols, const struct tout *o)
{
	struct libscols_table *tb = scols_new_table();
	if (!tb)
		return cli_fail("pcon", "out of memory");
	scols_table_set_name(tb, "columns");
	struct libscols_column *name = scols_table_new_column(tb, "NAME", 0, 0);
	struct libscols_column *type = scols_table_new_column(tb, "TYPE", 0, 0);
	struct libscols_column *help = scols_table_new_column(tb, "DESCRIPTION", 0, 0);
	int r = name && type && help ? 0 : -ENOMEM;
	static const char *const types[] = {
		[SCOLS_JSON_STRING] = "string", [SCOLS_JSON_NUMBER] = "number",
		[SCOLS_JSON_BOOLEAN] = "boolean", [SCOLS_JSON_ARRAY_STRING] = "strings",
		[SCOLS_JSON_ARRAY_NUMBER] = "numbers", [SCOLS_JSON_BOOLEAN_OPTIONAL] = "boolean",
	};
	for (size_t i = 0; i < ncols && r == 0; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln || scols_line_set_data(ln, 0, cols[i].name) || scols_line_set_data(ln, 1, types[cols[i].json]) ||
		    scols_line_set_data(ln, 2, cols[i].help))
			r = -ENOMEM;
	}
	if (r == 0) {
		apply_format(tb, o);
		r = scols_print_table(tb);
	}
	scols_unref_table(tb);
	return r < 0 ? cli_errno("pcon", r) : 0;
}

static int find_col(const struct tcol *cols, size_t ncols, const char *name, size_t len)
{
	for (size_t i = 0; i < ncols; i++)
		if (strlen(cols[i].name) == len && !strncasecmp(cols[i].name, name, len))
			return (int)i;
	return -1;
}

/* Add the columns of a comma list to t in order. */
static int add_cols(struct table *t, const char *cmd, const char *list)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		int id = find_col(t->cols, t->ncols, p, len);
		if (id < 0)
			return cli_usage(cmd, "unknown column '%.*s' (see --list-columns)", (int)len, p);
		if (t->pos[id] >= 0)
			return cli_usage(cmd, "column '%.*s' named twice", (int)len, p);
		const struct tcol *c = &t->cols[id];
		struct libscols_column *cl = scols_table_new_column(t->tb, c->name, c->whint, c->flags);
		/* Names come escaped (table_set_name): their \\ must not
		 * become \x5c\x5c, which types back as two backslashes.
		 * A tree in --raw would be escaped blanks: raw rows are flat. */
		if (!cl || scols_column_set_json_type(cl, c->json) < 0 ||
		    scols_column_set_safechars(cl, "\\") < 0 ||
		    (scols_table_is_raw(t->tb) && scols_column_set_flags(cl, c->flags & ~SCOLS_FL_TREE) < 0))
			return cli_fail(cmd, "out of memory");
		t->pos[id] = (int)scols_table_get_ncols(t->tb) - 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int table_init(struct table *t, const char *cmd, const char *name, const struct tcol *cols,
	       size_t ncols, const char *dflt, const struct tout *o)
{
	*t = (struct table){ .cols = cols, .ncols = ncols, .json = o->json };
	for (size_t i = 0; i < TABLE_MAX_COLS; i++)
		t->pos[i] = -1;
	if (ncols > TABLE_MAX_COLS)
		return cli_fail(cmd, "too many columns");
	t->tb = scols_new_table();
	if (!t->tb || scols_table_set_name(t->tb, name) < 0) {
		table_free(t);
		return cli_fail(cmd, "out of memory");
	}
	apply_format(t->tb, o);
	const char *out = o->output;
	int r = 0;
	if (out && !*out)
		r = cli_usage(cmd, "--output: no columns named");
	else if (!out || *out == '+')
		r = add_cols(t, cmd, dflt);
	if (r == 0 && out && *out)
		r = add_cols(t, cmd, out + (*out == '+'));
	if (r == 0 && scols_table_get_ncols(t->tb) == 0)
		r = cli_usage(cmd, "--output: no columns named");
	if (r)
		table_free(t);
	return r;
}

void table_free(struct table *t)
{
	scols_unref_table(t->tb);
	t->tb = NULL;
}

struct libscols_line *table_row(struct table *t, struct libscols_line *parent)
{
	return scols_table_new_line(t->tb, parent);
}

struct libscols_line *table_row_empty(struct table *t, struct libscols_line *parent)
{
	struct libscols_line *ln = scols_table_new_line(t->tb, parent);
	for (size_t id = 0; ln && !t->json && scols_table_is_raw(t->tb) && id < t->ncols; id++)
		if (table_set(t, ln, (int)id, NULL) < 0)
			return NULL; /* the table frees the line */
	return ln;
}

int table_set(struct table *t, struct libscols_line *ln, int id, const char *val)
{
	if (t->pos[id] < 0)
		return 0;
	if (!val && t->json)
		return 0;
	return scols_line_set_data(ln, (size_t)t->pos[id], val ? val : "-") < 0 ? -ENOMEM : 0;
}

int table_setf(struct table *t, struct libscols_line *ln, int id, const char *fmt, ...)
{
	if (t->pos[id] < 0)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	/* the line takes the string */
	return scols_line_refer_data(ln, (size_t)t->pos[id], s) < 0 ? (free(s), -ENOMEM) : 0;
}

/* By hand: a tree of 1,000 containers sets 9,000 numbers, and vasprintf
 * was a tenth of pcon's time printing it. */
int table_set_u64(struct table *t, struct libscols_line *ln, int id, uint64_t v)
{
	if (t->pos[id] < 0)
		return 0;
	char digits[20];
	int n = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	char *s = malloc((size_t)n + 1), *p = s;
	if (!s)
		return -ENOMEM;
	while (n > 0)
		*p++ = digits[--n];
	*p = '\0';
	/* the line takes the string */
	return scols_line_refer_data(ln, (size_t)t->pos[id], s) < 0 ? (free(s), -ENOMEM) : 0;
}

int table_set_name(struct table *t, struct libscols_line *ln, int id, const char *raw)
{
	if (t->pos[id] < 0)
		return 0;
	if (!raw)
		return table_set(t, ln, id, NULL);
	/* --raw: libsmartcols escapes every backslash, so it gets the bytes
	 * and escapes them all itself (C locale, see apply_format). */
	if (!t->json && scols_table_is_raw(t->tb))
		return table_set(t, ln, id, raw);
	char *s;
	int r = pcon_escape_name_dup(raw, &s);
	if (r < 0)
		return r;
	return scols_line_refer_data(ln, (size_t)t->pos[id], s) < 0 ? (free(s), -ENOMEM) : 0;
}

/* libsmartcols writes a table in many small fputs calls (a cell's padding
 * a space at a time); pcon prints from one thread, so stdout's lock only
 * costs. */
static int print(struct table *t)
{
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	return scols_print_table(t->tb);
}

int table_print(struct table *t)
{
	int r = print(t);
	fflush(stdout);
	return r < 0 || ferror(stdout) ? cli_errno("pcon", r < 0 ? r : -EIO) : 0;
}

int table_print_rows(struct table *t, bool first)
{
	if (!first && !t->json)
		scols_table_enable_noheadings(t->tb, 1);
	int r = print(t);
	scols_table_remove_lines(t->tb);
	if (r == 0 && fflush(stdout) != 0)
		r = -errno;
	return r < 0 || ferror(stdout) ? cli_errno("pcon", r < 0 ? r : -EIO) : 0;
}
