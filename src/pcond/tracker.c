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
#include <sys/sysinfo.h>
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

/*
 * A hierarchy root holds every task of the machine: its load average is the
 * kernel's own, which sysinfo(2) gives exactly (avenrun shifted to 16 bits
 * of fraction). Every root reads it, so the roots agree with each other and
 * with /proc/loadavg at any moment, whatever pcond's sampling grid.
 */
void tracker_roots_now(struct tracker *t)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return;
	for (size_t i = 0; i < t->n_trees; i++) {
		struct pcon_loadavg *la = &t->trees[i].root->la;
		for (int k = 0; k < 3; k++)
			la->avenrun[k] = si.loads[k] >> (SI_LOAD_SHIFT - PCON_FSHIFT);
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
	}
	tracker_roots_now(t);
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

/* Take this sample's snapshot of tr: one walk of the whole hierarchy. */
static int take_snap(struct tracker *t, struct tree *tr, struct pcon_tsnap **ret)
{
	int r = pcon_tsnap_take(t->p, tr->root->c, t->backend, ret);
	if (r == -EPROTONOSUPPORT) /* the kernel backend on v2: count it from /proc */
		r = pcon_tsnap_take(t->p, tr->root->c, PCON_BACKEND_PROC, ret);
	if (r < 0)
		return r;
	struct pcon_taskstate_info info;
	pcon_tsnap_info(*ret, &info);
	t->used = tr->used = info.backend;
	t->walk = info.walk;
	return 0;
}

/* A child found over the cap: not tracked, but its threads still count
 * toward its ancestors' load. */
static void add_untracked(struct tracker *t, const struct pcon_tsnap *snap, struct node *n,
			  const char *name)
{
	struct stat st;
	struct pcon_taskstats s;
	t->untracked++;
	n->over_cap = true;
	if (fstatat(n->c->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    pcon_tsnap_get(snap, (uint64_t)st.st_ino, PCON_TASKSTATE_RECURSIVE, &s) == 0)
		pcon_taskstats_add(&n->extra, &s);
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
static int sync_kids(struct tracker *t, const struct pcon_tsnap *snap, struct node *n)
{
	char **names = NULL;
	int r = pcon_container_children(n->c, &names);
	if (r < 0)
		return r;
	struct node *old = n->kids, *head = NULL, **tail = &head;
	n->extra = (struct pcon_taskstats){ 0 };
	n->over_cap = false;
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
			add_untracked(t, snap, n, names[i]);
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
 * Does n's directory hold just the children n tracks? The css_task walk saw
 * every container with its parent: unless the counts differ, listing the
 * directory would change nothing. A full rescan (renames, replaced
 * directories) still runs every RESCAN_EVERY rounds and on request.
 */
#define RESCAN_EVERY 12
static bool kids_unchanged(const struct tracker *t, const struct pcon_tsnap *snap,
			   const struct node *n)
{
	uint64_t seen, have = 0;
	if (!snap || t->full_scan || pcon_tsnap_children(snap, n->id, &seen) < 0)
		return false;
	for (const struct node *k = n->kids; k; k = k->next, have++) {
		uint64_t parent;
		if (pcon_tsnap_parent(snap, k->id, &parent) < 0 || parent != n->id)
			return false;
	}
	return have == seen;
}

/*
 * Sample n's subtree: its own counts once, its kids' sums added, its load
 * updated. Returns -ENOENT if n was removed (the caller drops it).
 */
static int visit(struct tracker *t, struct tree *tr, const struct pcon_tsnap *snap,
		 struct node *n, unsigned int samples)
{
	int r = 0;
	if (kids_unchanged(t, snap, n)) {
		n->extra = (struct pcon_taskstats){ 0 }; /* no child over the cap */
		n->over_cap = false;
	}
	else
		r = sync_kids(t, snap, n);
	if (r < 0 && r != -ENOENT)
		t->scan_errors++;
	if (r < 0)
		return r == -ENOENT && n->parent ? -ENOENT : 0;
	struct pcon_taskstats own;
	/* -ENOENT: made since the walk; it is sampled from the next one. */
	r = snap ? pcon_tsnap_get(snap, n->id, 0, &own) : -ENOENT;
	if (r < 0) {
		t->read_errors += r != -ENOENT;
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
		if (visit(t, tr, snap, k, samples) == -ENOENT) {
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

void tracker_refresh(struct tracker *t, struct tree *tr)
{
	bool full = t->full_scan;
	t->full_scan = false; /* list only the directories the walk shows changed */
	struct pcon_tsnap *snap = NULL;
	find_self(t, tr);
	tr->walked_ns = now_ns();
	if (take_snap(t, tr, &snap) < 0)
		t->read_errors++;
	visit(t, tr, snap, tr->root, 0);
	pcon_tsnap_free(snap);
	t->full_scan = full;
	t->generation++;
}

void tracker_sample(struct tracker *t, unsigned int n)
{
	double c0 = cpu_seconds();
	uint64_t w0 = now_ns(), errors = t->read_errors + t->scan_errors;
	t->untracked = 0;
	t->full_scan = n == 0 || t->rounds % RESCAN_EVERY == 0;
	for (size_t i = 0; i < t->n_trees; i++) {
		struct pcon_tsnap *snap = NULL;
		find_self(t, &t->trees[i]);
		t->trees[i].walked_ns = now_ns();
		if (take_snap(t, &t->trees[i], &snap) < 0)
			t->read_errors++;
		visit(t, &t->trees[i], snap, t->trees[i].root, n);
		pcon_tsnap_free(snap);
	}
	if (n)
		t->rounds++;
	t->generation++;
	if (t->read_errors + t->scan_errors != errors)
		t->failed++;
	t->last_cpu_s = cpu_seconds() - c0;
	t->last_wall_s = (double)(now_ns() - w0) / 1e9;
	if (n)
		tracker_roots_now(t); /* the sample's update of the roots, replaced */
	if (t->untracked && !t->cap_logged)
		pcond_log(LOG_WARNING, "tracking cap of %zu containers reached: %zu more are "
			  "not tracked (their threads still count in their parents' load; "
			  "raise --max-containers)", t->cap, t->untracked);
	t->cap_logged = t->untracked > 0;
}
