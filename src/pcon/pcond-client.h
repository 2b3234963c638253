/* A client of pcond's line protocol, shared by pcon's commands. */
#ifndef PCON_PCOND_CLIENT_H
#define PCON_PCOND_CLIENT_H

#include <stddef.h>

#include "cli.h"
#include "proto.h"

/* The socket to use: --socket, $PCON_SOCKET, or the default. */
const char *pcond_socket(const struct cli *c);
/* Connect to pcond at path: the fd, or a negative errno. */
int pcond_connect(const char *path);
/* Send one request line and read the reply through its final ok/err line
 * (malloc'ed into *ret). A negative errno if pcond does not answer. */
int pcond_ask(int fd, const char *req, char **ret);
/* Requests are formatted and answers parsed by lib/proto.c's codec,
 * the one pcond uses: proto_request_format, proto_field, proto_event_parse. */

#endif
