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

/* A decimal number of s[0..n), or -EINVAL. */
static int number(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	if (n == 0 || n > 19)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* The number after key= in line, or -EINVAL. */
static int field_u64(const char *line, const char *key, uint64_t *ret)
{
	char v[32];
	if (!proto_field(line, key, v, sizeof(v)))
		return -EINVAL;
	return number(v, strlen(v), ret);
}

/* A "taskstats k=v k=v ..." line, every key once, in one pass (an answer
 * holds a line for every container of the subtree). */
static int parse_row(const char *line, struct pcond_row *w)
{
	uint64_t sampled, unknown;
#define K(key, v) { key, sizeof(key) - 1, v }
	const struct { const char *key; size_t len; uint64_t *v; } keys[] = {
		K("id", &w->id), K("parent", &w->parent), K("sampled", &sampled),
		K("unknown", &unknown), K("running", &w->own.running),
		K("sleeping", &w->own.sleeping), K("uninterruptible", &w->own.uninterruptible),
		K("stopped", &w->own.stopped), K("io_wait", &w->own.io_wait),
		K("idle", &w->own.idle), K("other", &w->own.other), K("total", &w->own.total),
		K("sum_running", &w->sum.running), K("sum_sleeping", &w->sum.sleeping),
		K("sum_uninterruptible", &w->sum.uninterruptible),
		K("sum_stopped", &w->sum.stopped), K("sum_io_wait", &w->sum.io_wait),
		K("sum_idle", &w->sum.idle), K("sum_other", &w->sum.other),
		K("sum_total", &w->sum.total),
	};
#undef K
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	char path[PROTO_PATH_MAX] = "";
	uint32_t seen = 0;
	size_t next = 0; /* pcond sends the keys in this order: try that one first */
	for (const char *p = strchr(line, ' '); p && *p;) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		const char *eq = memchr(p, '=', n);
		if (!eq)
			return -EBADMSG;
		size_t kl = (size_t)(eq - p), vl = n - kl - 1;
		if (kl == 4 && !memcmp(p, "path", 4)) {
			if (proto_unescape(eq + 1, vl, path, sizeof(path)) < 0)
				return -EBADMSG;
		} else {
			for (size_t k = 0; k < nkeys; k++) {
				size_t i = (next + k) % nkeys;
				if (keys[i].len == kl && !memcmp(p, keys[i].key, kl)) {
					if (number(eq + 1, vl, keys[i].v) < 0)
						return -EBADMSG;
					seen |= 1u << i;
					next = i + 1;
					break;
				}
			}
		}
		p += n;
	}
	if (seen != (1u << nkeys) - 1 || path[0] != '/')
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
