/* A small streaming JSON writer for --json output. */
#include <stdlib.h>

#include "json.h"
#include "pcon/pcon.h"

/* A JSON string literal: always valid UTF-8 (see pcon_escape_json). */
static void quote(FILE *f, const char *s)
{
	char small[256];
	size_t n = pcon_escape_json(small, sizeof(small), s);
	char *big = n < sizeof(small) ? NULL : malloc(n + 1);
	if (big)
		pcon_escape_json(big, n + 1, s);
	fprintf(f, "\"%s\"", big ? big : n < sizeof(small) ? small : "\ufffd");
	free(big);
}

/* The "a value came before at this level" flag of level d. */
static bool *comma_at(struct json *j, int d)
{
	if (d < JSON_MAX_DEPTH)
		return &j->need_comma[d];
	int i = d - JSON_MAX_DEPTH;
	if (i >= j->deep_cap) {
		int cap = j->deep_cap ? j->deep_cap * 2 : 64;
		bool *v = realloc(j->deep, (size_t)cap * sizeof(bool));
		if (!v) {
			fputs("pcon: out of memory\n", stderr);
			exit(1);
		}
		j->deep = v;
		j->deep_cap = cap;
	}
	return &j->deep[i];
}

/* Comma and key before a value. */
static void sep(struct json *j, const char *key)
{
	if (j->depth > 0) {
		bool *c = comma_at(j, j->depth);
		if (*c)
			fputc(',', j->f);
		*c = true;
	}
	if (key) {
		quote(j->f, key);
		fputc(':', j->f);
	}
}

static void open_(struct json *j, const char *key, char c)
{
	sep(j, key);
	fputc(c, j->f);
	*comma_at(j, ++j->depth) = false;
}

static void close_(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_obj_begin(struct json *j, const char *key) { open_(j, key, '{'); }
void json_obj_end(struct json *j) { close_(j, '}'); }
void json_arr_begin(struct json *j, const char *key) { open_(j, key, '['); }
void json_arr_end(struct json *j) { close_(j, ']'); }

void json_str(struct json *j, const char *key, const char *val)
{
	sep(j, key);
	if (val)
		quote(j->f, val);
	else
		fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	sep(j, key);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

void json_i64(struct json *j, const char *key, int64_t val)
{
	sep(j, key);
	fprintf(j->f, "%lld", (long long)val);
}

void json_double(struct json *j, const char *key, double val, int decimals)
{
	sep(j, key);
	fprintf(j->f, "%.*f", decimals, val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	sep(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	sep(j, key);
	fputs("null", j->f);
}

void json_done(struct json *j)
{
	fputc('\n', j->f);
	j->depth = 0;
	j->need_comma[0] = false;
	free(j->deep);
	j->deep = NULL;
	j->deep_cap = 0;
}

void json_name(struct json *j, const char *key, const char *name)
{
	char *esc = NULL;
	if (!name || pcon_escape_name_dup(name, &esc) < 0) {
		json_str(j, key, NULL);
		return;
	}
	json_str(j, key, esc);
	free(esc);
}
