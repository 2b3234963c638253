/* pcon's side of pcond's taskstats request (see pcond-taskstats.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcond-client.h"
#include "pcond-taskstats.h"

static inline void freep_(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(freep_)))

/* The number after key= in line, or -EINVAL. */
static int field_u64(const char *line, const char *key, uint64_t *ret)
{
	char v[32], *end;
	if (!proto_field(line, key, v, sizeof(v)) || !*v)
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (*end || errno || *v == '-')
		return -EINVAL;
	*ret = x;
	return 0;
}

static int parse_counts(const char *line, const char *prefix, struct pcon_taskstats *s)
{
	static const char *const keys[] = { "running", "sleeping", "uninterruptible", "stopped",
					    "io_wait", "idle", "other", "total" };
	uint64_t *dst[] = { &s->running, &s->sleeping, &s->uninterruptible, &s->stopped,
			    &s->io_wait, &s->idle, &s->other, &s->total };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char key[32];
		snprintf(key, sizeof(key), "%s%s", prefix, keys[i]);
		if (field_u64(line, key, dst[i]) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_row(const char *line, struct pcond_row *w)
{
	char path[PROTO_PATH_MAX];
	uint64_t sampled, unknown;
	if (!proto_field(line, "path", path, sizeof(path)) || path[0] != '/' ||
	    field_u64(line, "id", &w->id) < 0 || field_u64(line, "parent", &w->parent) < 0 ||
	    field_u64(line, "sampled", &sampled) < 0 || field_u64(line, "unknown", &unknown) < 0 ||
	    parse_counts(line, "", &w->own) < 0 || parse_counts(line, "sum_", &w->sum) < 0)
		return -EBADMSG;
	w->sampled = sampled != 0;
	w->own.unknown = w->sum.unknown = (unsigned)unknown;
	w->sum.containers = 1; /* summed containers are not part of the answer */
	return (w->path = strdup(path)) ? 0 : -ENOMEM;
}

/* "ok N backend=B walk=W age_us=A": how many rows, and who answered. */
static int parse_ok(const char *line, size_t *n, struct pcond_answer *a)
{
	char b[16], wk[16];
	uint64_t count;
	if (sscanf(line, "ok %llu", (unsigned long long *)&count) != 1 ||
	    !proto_field(line, "backend", b, sizeof(b)) || !proto_field(line, "walk", wk, sizeof(wk)) ||
	    field_u64(line, "age_us", &a->age_us) < 0)
		return -EBADMSG;
	*n = (size_t)count;
	a->info.backend = pcon_backend_from_string(b);
	a->info.walk = PCON_WALK_NONE;
	for (int w = 0; w < PCON_WALK_MAX; w++)
		if (!strcmp(wk, pcon_walk_to_string((enum pcon_walk)w)))
			a->info.walk = (enum pcon_walk)w;
	return a->info.backend == PCON_BACKEND_INVALID ? -EBADMSG : 0;
}

/* pcond's "err CODE text" as a negative errno. */
static int parse_err(const char *line)
{
	static const struct { const char *code; int err; } codes[] = {
		{ "ENOENT", -ENOENT }, { "ENODEV", -ENODEV }, { "ERANGE", -ERANGE },
		{ "ENOSYS", -ENOSYS }, { "EPERM", -EPERM },
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strncmp(line + 4, codes[i].code, strlen(codes[i].code)))
			return codes[i].err;
	return -EPROTO;
}

static int parse_answer(char *reply, struct pcond_answer *a)
{
	size_t cap = 0;
	for (char *line = reply, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			return -EBADMSG;
		*nl = '\0';
		if (!strncmp(line, "err ", 4))
			return parse_err(line);
		if (!strncmp(line, "ok ", 3)) {
			size_t n;
			int r = parse_ok(line, &n, a);
			return r < 0 ? r : n == a->n ? 0 : -EBADMSG;
		}
		if (strncmp(line, "taskstats ", 10))
			return -EBADMSG;
		if (a->n == cap) {
			struct pcond_row *v = reallocarray(a->rows, cap = cap ? 2 * cap : 64, sizeof(*v));
			if (!v)
				return -ENOMEM;
			a->rows = v;
		}
		a->rows[a->n] = (struct pcond_row){ 0 };
		int r = parse_row(line, &a->rows[a->n]);
		if (r < 0)
			return r;
		a->n++;
	}
	return -EBADMSG;
}

int pcond_taskstats(const struct cli *c, const char *spec, bool recursive,
		    enum pcon_backend backend, struct pcond_answer *ret)
{
	*ret = (struct pcond_answer){ 0 };
	if (backend != PCON_BACKEND_AUTO && backend != PCON_BACKEND_BPF)
		return -EOPNOTSUPP;
	char req[PROTO_LINE_MAX];
	int r = proto_request_format(PROTO_TASKSTATS, recursive, spec, 0, req, sizeof(req));
	if (r < 0)
		return r;
	int fd = pcond_connect(pcond_socket(c));
	if (fd < 0)
		return fd;
	_cleanup_free_ char *reply = NULL;
	r = pcond_ask(fd, req, &reply);
	close(fd);
	if (r == 0)
		r = parse_answer(reply, ret);
	if (r == 0 && (ret->info.backend != PCON_BACKEND_BPF || ret->n == 0 ||
		       ret->age_us > PROTO_TASKSTATS_AGE_MS * 1000ULL))
		r = -ESTALE;
	if (r < 0)
		pcond_answer_free(ret);
	return r;
}

void pcond_answer_free(struct pcond_answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rows[i].path);
	free(a->rows);
	*a = (struct pcond_answer){ 0 };
}
