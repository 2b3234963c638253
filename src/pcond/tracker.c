/*
 * pcond's container trees: one per watched hierarchy, rescanned at every
 * sample. A sample reads each container's own thread counts once and sums
 * them bottom-up, so a round costs O(containers + threads), not
 * O(depth x threads) as a recursive read per container would.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pcond.h"

static void node_free(struct tracker *t, struct node *n)
{
	if (!n)
		return;
	for (struct node *k = n->kids, *next; k; k = next) {
		next = k->next;
		node_free(t, k);
	}
	pcon_container_free(n->c);
	free(n->name);
	free(n);
	t->tracked--;
}

static int node_new(struct tracker *t, struct node *parent, const char *name,
		    struct pcon_container *c, struct node **ret)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return -ENOMEM;
	}
	n->parent = parent;
	n->c = c;
	n->id = c->id;
	n->fresh = true;
	t->tracked++;
	*ret = n;
	return 0;
}

struct node *node_next(struct node *n, const struct node *top)
{
	if (n->kids)
		return n->kids;
	for (; n && n != top; n = n->parent)
		if (n->next)
			return n->next;
	return NULL;
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A hierarchy root holds every task: it starts from the kernel's own averages,
 * so it matches /proc/loadavg from the first sample. */
static void seed_root(struct tracker *t, struct node *root)
{
	char buf[256];
	int fd = openat(pcon_proc_fd(t->p), "loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unsigned long avenrun[3];
	if (n > 0) {
		buf[n] = '\0';
		if (pcon_loadavg_parse(buf, avenrun) == 0)
			pcon_loadavg_seed(&root->la, avenrun);
	}
}

int tracker_init(struct tracker *t, struct pcon *p, char *const *tokens,
		 enum pcon_backend backend, size_t cap)
{
	size_t n_all;
	const struct pcon_hier *all = pcon_hiers(p, &n_all);
	*t = (struct tracker){ .p = p, .backend = backend, .used = backend, .cap = cap };
	t->trees = calloc(n_all ? n_all : 1, sizeof(*t->trees));
	if (!t->trees)
		return -ENOMEM;
	for (size_t i = 0; tokens ? tokens[i] != NULL : i < n_all; i++) {
		const struct pcon_hier *h = &all[i];
		if (tokens) {
			int r = pcon_hier_find(p, tokens[i], &h);
			if (r < 0)
				return r;
			if (tracker_tree(t, h))
				continue; /* "cpu,cpuacct" named twice */
		}
		struct pcon_container *c;
		int r = pcon_container_open(h, "/", &c);
		if (r < 0)
			return r;
		struct tree *tr = &t->trees[t->n_trees++];
		tr->h = h;
		r = node_new(t, NULL, "", c, &tr->root);
		if (r < 0) {
			pcon_container_free(c);
			return r;
		}
		seed_root(t, tr->root);
	}
	return 0;
}

void tracker_done(struct tracker *t)
{
	for (size_t i = 0; i < t->n_trees; i++) {
		node_free(t, t->trees[i].root);
		free(t->trees[i].self_path);
	}
	free(t->trees);
	t->trees = NULL;
	t->n_trees = 0;
}

struct tree *tracker_tree(struct tracker *t, const struct pcon_hier *h)
{
	for (size_t i = 0; i < t->n_trees; i++)
		if (t->trees[i].h == h)
			return &t->trees[i];
	return NULL;
}

struct node *tree_find(struct tree *tr, const char *path)
{
	struct node *n = tr->root;
	char comp[256];
	for (const char *s = path; n && *s;) {
		while (*s == '/')
			s++;
		size_t len = strcspn(s, "/");
		if (len == 0)
			break;
		if (len >= sizeof(comp))
			return NULL;
		memcpy(comp, s, len);
		comp[len] = '\0';
		s += len;
		struct node *k = n->kids;
		while (k && strcmp(k->name, comp) != 0)
			k = k->next;
		n = k;
	}
	return n;
}

/* Which container of tr holds the calling thread (/proc/thread-self/cgroup). */
static void find_self(struct tracker *t, struct tree *tr)
{
	free(tr->self_path);
	tr->self_path = NULL;
	int fd = openat(pcon_proc_fd(t->p), "thread-self/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while (!tr->self_path && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		int id = atoi(line);
		bool match = tr->h->version == 2 ? id == 0 && !c1[1]
						 : tr->h->id > 0 ? id == tr->h->id
						 : strcmp(c1 + 1, tr->h->name) == 0;
		if (match)
			tr->self_path = strdup(c2 + 1);
	}
	free(line);
	fclose(f);
}

static int read_counts(struct tracker *t, const struct pcon_container *c, unsigned flags,
		       struct pcon_taskstats *ret)
{
	enum pcon_backend used;
	enum pcon_backend b = t->backend;
	/* A hierarchy root's own threads (mostly kernel threads) are read from
	 * /proc: the eBPF iterator was measured to miss some of them (77 of 90
	 * on this machine's v2 root), and the root must match /proc/loadavg. */
	if (!strcmp(c->path, "/") && b != PCON_BACKEND_KERNEL && !(flags & PCON_TASKSTATE_RECURSIVE))
		b = PCON_BACKEND_PROC;
	int r = pcon_taskstate_read(t->p, c, b, flags, ret, &used);
	if (r == -EPROTONOSUPPORT) /* the kernel backend on v2: count it from /proc */
		r = pcon_taskstate_read(t->p, c, PCON_BACKEND_PROC, flags, ret, &used);
	if (r == 0 && b == t->backend)
		t->used = used;
	return r;
}

/* A child found over the cap: not tracked, but its threads still count
 * toward its ancestors' load. */
static void add_untracked(struct tracker *t, struct node *n, const char *name)
{
	struct pcon_container *c;
	struct pcon_taskstats s;
	t->untracked++;
	if (pcon_container_open_child(n->c, name, &c) < 0)
		return;
	if (read_counts(t, c, PCON_TASKSTATE_RECURSIVE, &s) == 0)
		pcon_taskstats_add(&n->extra, &s);
	pcon_container_free(c);
}

/* The kept node for names[i], or NULL: a node whose directory was replaced
 * (same name, another inode) is a new container and is dropped. */
static struct node *keep_old(struct tracker *t, struct node *n, struct node *old, const char *name)
{
	struct stat st;
	if (fstatat(n->c->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (uint64_t)st.st_ino == old->id)
		return old;
	node_free(t, old);
	return NULL;
}

/*
 * Bring n's children in line with its directory: drop the removed, add the
 * new while under the cap (the rest are summed into n->extra). Both lists
 * are sorted by name, so this is one merge. -ENOENT if n itself is gone.
 */
static int sync_kids(struct tracker *t, struct node *n)
{
	char **names = NULL;
	int r = pcon_container_children(n->c, &names);
	if (r < 0)
		return r;
	struct node *old = n->kids, *head = NULL, **tail = &head;
	n->extra = (struct pcon_taskstats){ 0 };
	for (int i = 0; names[i]; i++) {
		while (old && strcmp(old->name, names[i]) < 0) { /* removed */
			struct node *next = old->next;
			node_free(t, old);
			old = next;
		}
		struct node *k = NULL;
		if (old && strcmp(old->name, names[i]) == 0) {
			struct node *next = old->next;
			k = keep_old(t, n, old, names[i]);
			old = next;
		}
		if (!k && t->tracked >= t->cap) {
			add_untracked(t, n, names[i]);
			continue;
		}
		if (!k) {
			struct pcon_container *c;
			if (pcon_container_open_child(n->c, names[i], &c) < 0)
				continue; /* removed since the listing */
			if (node_new(t, n, names[i], c, &k) < 0) {
				pcon_container_free(c);
				continue;
			}
		}
		k->next = NULL;
		*tail = k;
		tail = &k->next;
	}
	while (old) {
		struct node *next = old->next;
		node_free(t, old);
		old = next;
	}
	n->kids = head;
	pcon_strv_free(names);
	return 0;
}

/*
 * Sample n's subtree: its own counts once, its kids' sums added, its load
 * updated. Returns -ENOENT if n was removed (the caller drops it).
 */
static int visit(struct tracker *t, struct tree *tr, struct node *n, unsigned int samples)
{
	int r = sync_kids(t, n);
	if (r < 0 && r != -ENOENT)
		t->scan_errors++;
	if (r < 0)
		return r == -ENOENT && n->parent ? -ENOENT : 0;
	struct pcon_taskstats own;
	r = read_counts(t, n->c, 0, &own);
	if (r == -ENOENT && n->parent)
		return r;
	if (r < 0) {
		t->read_errors++;
		own = (struct pcon_taskstats){ 0 };
	}
	/* pcond's own thread is running while it counts: the observer is not
	 * load (the kernel's tick almost never finds it running). */
	if (r == 0 && tr->self_path && strcmp(n->c->path, tr->self_path) == 0 && own.running > 0) {
		own.running--;
		own.sleeping++;
	}
	n->own = own;
	n->sum = own;
	pcon_taskstats_add(&n->sum, &n->extra);
	for (struct node **pk = &n->kids; *pk;) {
		struct node *k = *pk;
		if (visit(t, tr, k, samples) == -ENOENT) {
			*pk = k->next;
			k->next = NULL;
			node_free(t, k);
			continue;
		}
		pcon_taskstats_add(&n->sum, &k->sum);
		pk = &k->next;
	}
	n->sampled = r == 0;
	if (r == 0 && samples > 0) {
		/* A container seen for the first time gets one sample: how long it
		 * existed before is unknown. */
		pcon_loadavg_update(&n->la, n->sum.running + n->sum.uninterruptible,
				    n->fresh ? 1 : samples);
		n->fresh = false;
	}
	return 0;
}

void tracker_sample(struct tracker *t, unsigned int n)
{
	double c0 = cpu_seconds();
	uint64_t w0 = now_ns(), errors = t->read_errors + t->scan_errors;
	t->untracked = 0;
	for (size_t i = 0; i < t->n_trees; i++) {
		find_self(t, &t->trees[i]);
		visit(t, &t->trees[i], t->trees[i].root, n);
	}
	if (n)
		t->rounds++;
	t->generation++;
	if (t->read_errors + t->scan_errors != errors)
		t->failed++;
	t->last_cpu_s = cpu_seconds() - c0;
	t->last_wall_s = (double)(now_ns() - w0) / 1e9;
	if (t->untracked && !t->cap_logged)
		pcond_log(LOG_WARNING, "tracking cap of %zu containers reached: %zu more are "
			  "not tracked (their threads still count in their parents' load; "
			  "raise --max-containers)", t->cap, t->untracked);
	t->cap_logged = t->untracked > 0;
}
