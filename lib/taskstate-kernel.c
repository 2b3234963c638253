/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel backend: the taskstats generic-netlink family's CGROUPSTATS_CMD_GET
 * with the container's directory fd. It needs no privilege but works on v1
 * hierarchies only (EINVAL on v2), counts only the container's own tasks, and
 * compares __state with four exact values, so freezable sleepers (0x2001),
 * killable or freezable D waits (0x102, 0x2102) and TASK_IDLE fall in none of
 * its buckets; an I/O-waiting task it does not match lands in nr_io_wait
 * only. pcon folds nr_io_wait into uninterruptible (so io_wait stays a subset
 * of it) and counts the threads the kernel placed nowhere as "other" (from
 * the container's thread list), so its gaps show instead of vanishing.
 */
#include <libmnl/libmnl.h>
#include <linux/cgroupstats.h>
#include <linux/genetlink.h>
#include <linux/taskstats.h>
#include <string.h>
#include <time.h>

#include "taskstate-internal.h"

struct reply {
	uint16_t family;
	bool got;
	struct cgroupstats stats;
};

static int family_attr_cb(const struct nlattr *a, void *data)
{
	struct reply *r = data;
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		r->family = mnl_attr_get_u16(a);
		r->got = true;
	}
	return MNL_CB_OK;
}

static int stats_attr_cb(const struct nlattr *a, void *data)
{
	struct reply *r = data;
	if (mnl_attr_get_type(a) == CGROUPSTATS_TYPE_CGROUP_STATS) {
		if (mnl_attr_validate2(a, MNL_TYPE_UNSPEC, sizeof(struct cgroupstats)) < 0)
			return MNL_CB_ERROR;
		memcpy(&r->stats, mnl_attr_get_payload(a), sizeof(r->stats));
		r->got = true;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), stats_attr_cb, data);
}

/* Send one genl request and run cb over the answer (sequence number checked). */
static int transact(struct pcon *p, uint16_t type, uint8_t cmd, uint16_t attr, const void *val, size_t len,
		    mnl_cb_t cb, struct reply *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	/* The request goes out with its padding: no uninitialized byte may be in it. */
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)) + MNL_ATTR_HDRLEN +
			       MNL_ALIGN(len));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++p->ts.seq;
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = type == GENL_ID_CTRL ? 1 : TASKSTATS_GENL_VERSION;
	mnl_attr_put(nlh, attr, len, val);
	if (mnl_socket_sendto(p->ts.nl, nlh, nlh->nlmsg_len) < 0)
		return negerrno();
	unsigned seq = nlh->nlmsg_seq;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(p->ts.nl, buf, sizeof(buf));
		if (n < 0)
			return negerrno();
		int r = mnl_cb_run(buf, (size_t)n, seq, p->ts.portid, cb, out);
		if (r == MNL_CB_ERROR)
			return negerrno();
		if (r == MNL_CB_STOP || out->got)
			return out->got ? 0 : -EBADMSG;
	}
}

/* One socket per handle, bound once, family resolved once. */
static int connect_once(struct pcon *p)
{
	if (p->ts.nl)
		return 0;
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!nl)
		return negerrno();
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = negerrno();
		mnl_socket_close(nl);
		return r;
	}
	p->ts.nl = nl;
	p->ts.portid = mnl_socket_get_portid(nl);
	p->ts.seq = (unsigned)time(NULL);
	struct reply rep = { 0 };
	int r = transact(p, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
			 TASKSTATS_GENL_NAME, sizeof(TASKSTATS_GENL_NAME), family_cb, &rep);
	if (r < 0) {
		mnl_socket_close(p->ts.nl);
		p->ts.nl = NULL;
		return r == -ENOENT ? -EOPNOTSUPP : r; /* kernel built without taskstats */
	}
	p->ts.family = rep.family;
	return 0;
}

/* The kernel's raw answer for the cgroup directory fd. */
int taskstate_kernel_query(struct pcon *p, int fd, struct cgroupstats *ret)
{
	int r = connect_once(p);
	struct reply rep = { 0 };
	uint32_t ufd = (uint32_t)fd;
	if (r == 0)
		r = transact(p, p->ts.family, CGROUPSTATS_CMD_GET, CGROUPSTATS_CMD_ATTR_FD, &ufd,
			     sizeof(ufd), stats_cb, &rep);
	if (r < 0)
		return r;
	*ret = rep.stats;
	return 0;
}

void taskstate_kernel_release(struct pcon *p)
{
	if (p->ts.nl)
		mnl_socket_close(p->ts.nl);
	p->ts.nl = NULL;
}

int taskstate_kernel_read(struct pcon *p, const struct pcon_container *c, struct pcon_taskstats *acc)
{
	if (c->hier->version != 1)
		return -EPROTONOSUPPORT;
	struct cgroupstats cs;
	int r = taskstate_kernel_query(p, c->fd, &cs);
	if (r == -EINVAL)
		return -EPROTONOSUPPORT;
	if (r < 0)
		return r;
	_cleanup_free_ pid_t *tids = NULL;
	int n = pcon_container_tasks(c, true, &tids);
	if (n < 0)
		return n;
	uint64_t counted = cs.nr_running + cs.nr_sleeping + cs.nr_stopped + cs.nr_uninterruptible +
			   cs.nr_io_wait;
	acc->running += cs.nr_running;
	acc->sleeping += cs.nr_sleeping;
	acc->stopped += cs.nr_stopped;
	acc->uninterruptible += cs.nr_uninterruptible + cs.nr_io_wait;
	acc->io_wait += cs.nr_io_wait;
	/* Threads the kernel put in no bucket; the list is read just after, so a
	 * thread that exited between the two never makes this negative. */
	uint64_t gap = (uint64_t)n > counted ? (uint64_t)n - counted : 0;
	acc->other += gap;
	acc->total += counted + gap;
	return 0;
}
