/*
 * Who is at the other end of an HTTP connection? TCP carries no
 * credentials, but for a peer on this machine the kernel knows the uid
 * that owns the client's socket: ask it through sock_diag (what ss -e and
 * identd do) for the socket whose addresses are this connection's,
 * reversed. Remote peers, and any failure, are "unknown".
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pcond.h"

static void put_addr(const struct sockaddr_storage *ss, __be32 addr[4], __be16 *port)
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		memcpy(addr, &in->sin_addr, 4);
		*port = in->sin_port;
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		memcpy(addr, &in6->sin6_addr, 16);
		*port = in6->sin6_port;
	}
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_ERROR;
	*(uid_t *)data = m->idiag_uid;
	return MNL_CB_STOP;
}

/* The uid owning the local client socket connected to fd; -ENOENT if the
 * peer is not on this machine (or is gone), another -errno on failure. */
int peer_tcp_uid(int fd, uid_t *ret)
{
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
		return -errno;
	if (peer.ss_family != AF_INET && peer.ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (unsigned)time(NULL);
	struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)peer.ss_family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0u;
	/* the client's socket: its source is our peer, its destination us */
	put_addr(&peer, req->id.idiag_src, &req->id.idiag_sport);
	put_addr(&me, req->id.idiag_dst, &req->id.idiag_dport);
	req->id.idiag_cookie[0] = req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	int r = -ENOENT;
	uid_t uid = (uid_t)-1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 &&
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n > 0 && mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, 0, on_msg, &uid) >= 0 &&
		    uid != (uid_t)-1)
			r = 0;
	}
	mnl_socket_close(nl);
	if (r == 0)
		*ret = uid;
	return r;
}
