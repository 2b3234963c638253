/* A client of pcond's line protocol (man pcond(8), PROTOCOL). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pcond-client.h"

#define DEFAULT_SOCKET "/run/pcon/pcond.sock"
#define REPLY_MAX (64u << 20)
#define TIMEOUT_MS 10000

const char *pcond_socket(const struct cli *c)
{
	return c->socket && *c->socket ? c->socket : DEFAULT_SOCKET;
}

/* Connect to pcond; a negative errno on failure. */
int pcond_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Send one request and read the reply up to its "ok"/"err" line. */
int pcond_ask(int fd, const char *req, char **ret)
{
	size_t len = strlen(req);
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		buf[n] = '\0';
		/* the final line starts at the start or after a newline */
		char *last = n && buf[n - 1] == '\n' ? memrchr(buf, '\n', n - 1) : NULL;
		last = last ? last + 1 : buf;
		if (n && buf[n - 1] == '\n' && (!strncmp(last, "ok", 2) || !strncmp(last, "err ", 4)))
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, TIMEOUT_MS);
		if (r == 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (n + 1 >= cap) {
			char *nb = cap < REPLY_MAX ? realloc(buf, cap *= 2) : NULL;
			if (!nb) {
				free(buf);
				return -ENOBUFS;
			}
			buf = nb;
		}
		ssize_t k = recv(fd, buf + n, cap - n - 1, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(buf);
			return k < 0 ? -errno : -ECONNRESET;
		}
		n += (size_t)k;
	}
	*ret = buf;
	return 0;
}

/* Value of key in a "container k=v k=v" line (percent-decoded), or NULL. */
const char *pcond_field(const char *line, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	for (const char *s = strchr(line, ' '); s; s = strchr(s + 1, ' ')) {
		if (strncmp(s + 1, key, kl) != 0 || s[1 + kl] != '=')
			continue;
		const char *v = s + 2 + kl;
		size_t o = 0;
		for (; *v && *v != ' ' && *v != '\n' && o + 1 < size; v++) {
			unsigned int c;
			if (*v == '%' && sscanf(v + 1, "%2x", &c) == 1) {
				out[o++] = (char)c;
				v += 2;
			} else {
				out[o++] = *v;
			}
		}
		out[o] = '\0';
		return out;
	}
	return NULL;
}

/* Percent-encode spaces and other bytes the protocol splits on. */
void pcond_encode(const char *s, char *out, size_t size)
{
	size_t o = 0;
	for (; *s && o + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == '%' || c == '=' || c >= 0x7f)
			o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

