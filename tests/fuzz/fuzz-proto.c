/*
 * libFuzzer target: pcond's request parser. Feeds arbitrary bytes through the
 * same path as a client's buffer (split into lines, parse each), and checks
 * the parser's promises: no crash, a reason on every error, the decoded
 * container name NUL-free and escape/unescape round trips.
 */
#include <assert.h>
#include <string.h>

#include "../../src/pcond/proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_req req;
	static char esc[3 * PROTO_LINE_MAX + 1], back[PROTO_LINE_MAX];
	const char *buf = (const char *)data;
	size_t off = 0;
	while (off < size) {
		size_t len = 0, used = 0;
		int r = proto_line(buf + off, size - off, &len, &used);
		if (r <= 0) {
			assert(r == 0 || size - off >= PROTO_LINE_MAX);
			break;
		}
		assert(used >= len + 1 && used <= size - off && len < PROTO_LINE_MAX);
		const char *why = NULL;
		r = proto_parse(buf + off, len, &req, &why);
		if (r < 0) {
			assert(why != NULL);
		} else {
			assert(req.cmd >= 0 && req.cmd < PROTO_CMD_MAX);
			assert(strlen(req.spec) < sizeof(req.spec));
			if (req.cmd == PROTO_LOADAVG || req.cmd == PROTO_SUBSCRIBE) {
				int n = proto_escape(req.spec, esc, sizeof(esc));
				assert(n >= 0);
				assert(proto_unescape(esc, (size_t)n, back, sizeof(back)) >= 0);
				assert(strcmp(back, req.spec) == 0);
			}
		}
		off += used;
	}
	return 0;
}
