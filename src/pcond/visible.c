/*
 * What an unprivileged subscriber may see of a task: what /proc shows it.
 *
 * With hidepid=0 (pcond refuses unprivileged subscribers otherwise) every
 * user can see that a task exists, forks, changes its uid or gid
 * (/proc/PID/status) or moves (/proc/PID/cgroup). A task's exit status is
 * shown only to who may ptrace-read it (/proc/PID/stat field 52: the same
 * real, effective and saved uid and gid as the reader, or root), and so are
 * the exit signal and the command name pcond reports on exec: the name
 * itself is world-readable in /proc/PID/comm while the task lives, but an
 * event stream would hand out the names of processes too short-lived for
 * any /proc reader, and the kernel's own event feed needs CAP_NET_ADMIN.
 * pcond applies the ptrace rule to all three (without the dumpable and LSM
 * parts of it: a task it cannot judge is withheld).
 *
 * The credentials are read from /proc/PID/task/TID/status when the event
 * is handled; for a task already reaped, from a small cache filled at its
 * fork, exec, uid/gid changes and moves.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcond.h"

#define CREDS_SLOTS 4096 /* direct-mapped by tid */

struct creds {
	pid_t tid;          /* 0: empty */
	uid_t uid[3];       /* real, effective, saved */
	gid_t gid[3];
};

/* The task's ids from its status file; 0 or -errno. */
static int creds_read(struct pcond *d, pid_t pid, pid_t tid, struct creds *ret)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "%d/task/%d/status", (int)pid, (int)tid);
	int fd = openat(pcon_proc_fd(d->p), path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	const char *u = strstr(buf, "\nUid:"), *g = strstr(buf, "\nGid:");
	unsigned a[3], b[3];
	if (!u || !g || sscanf(u, "\nUid: %u %u %u", &a[0], &a[1], &a[2]) != 3 ||
	    sscanf(g, "\nGid: %u %u %u", &b[0], &b[1], &b[2]) != 3)
		return -EIO;
	ret->tid = tid;
	for (int i = 0; i < 3; i++) {
		ret->uid[i] = a[i];
		ret->gid[i] = b[i];
	}
	return 0;
}

static struct creds *slot(struct pcond *d, pid_t tid)
{
	if (!d->creds)
		d->creds = calloc(CREDS_SLOTS, sizeof(*d->creds));
	return d->creds ? &d->creds[(unsigned)tid % CREDS_SLOTS] : NULL;
}

/* Keep the task's credentials for when it is gone (fork, exec, uid, gid,
 * move). */
void visible_note(struct pcond *d, const struct pcon_event *ev)
{
	struct creds cr, *s;
	if (ev->tid > 0 && creds_read(d, ev->pid, ev->tid, &cr) == 0 && (s = slot(d, ev->tid)))
		*s = cr;
}

void visible_done(struct pcond *d)
{
	free(d->creds);
	d->creds = NULL;
}

static bool creds_match(const struct creds *cr, const struct conn *c)
{
	for (int i = 0; i < 3; i++)
		if (cr->uid[i] != c->uid || cr->gid[i] != c->gid)
			return false;
	return true;
}

bool visible_private(struct pcond *d, const struct conn *c, const struct pcon_event *ev)
{
	if (c->uid == 0)
		return true;
	struct creds cr;
	if (ev->tid > 0 && creds_read(d, ev->pid, ev->tid, &cr) == 0)
		return creds_match(&cr, c);
	struct creds *s = ev->tid > 0 && d->creds ? slot(d, ev->tid) : NULL;
	return s && s->tid == ev->tid && creds_match(s, c);
}
