/* A small streaming JSON writer: only for pcon get --all -J, whose keyed
 * files nest as objects of typed numbers, which libsmartcols 2.38 (one JSON
 * type per column) cannot express. Every table goes through table.c. */
#ifndef PCON_JSON_H
#define PCON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool *deep;     /* levels from JSON_MAX_DEPTH on (container trees nest
			   without bound); freed by json_done */
	int deep_cap;
};

/* key is NULL inside arrays and at the top level. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val); /* NULL -> null */
/* A container name or path (raw bytes) in pcon's reversible text form
 * (pcon_escape_name), so that it is valid UTF-8 and can be typed back. */
void json_name(struct json *j, const char *key, const char *name);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
void json_double(struct json *j, const char *key, double val, int decimals);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
/* End of one top-level value: a newline (one object per line). */
void json_done(struct json *j);

#endif
