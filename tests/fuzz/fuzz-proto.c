/*
 * libFuzzer target: the wire protocol codec pcon and pcond share
 * (lib/proto.c). Feeds arbitrary bytes through the same path as a
 * client's buffer (split into lines, parse each as a request and as an
 * event line), and checks the codec's promises: no crash, a reason on
 * every request error, the decoded container name NUL-free, escape and
 * unescape, request format and parse, and event parse, format and parse
 * again all round trip.
 */
#include <assert.h>
#include <string.h>

#include "../../lib/proto.c"

/* An event line that parses must come back the same through the codec. */
static void event_roundtrip(const char *line, size_t len)
{
	static struct proto_event a, b;
	static char out[PROTO_EVENT_MAX];
	if (proto_event_parse(line, len, &a) < 0)
		return;
	int n = proto_event_format(&a.ev, a.ev.type == PCON_EVENT_LOST ? NULL : a.hier,
				   a.real_ns, a.flags, out, sizeof(out));
	assert(n > 0 && out[n - 1] == '\n' && !memchr(out, '\n', (size_t)n - 1));
	assert(proto_event_parse(out, (size_t)n - 1, &b) == 0);
	assert(a.ev.type == b.ev.type && a.real_ns / 1000 == b.real_ns / 1000);
	if (a.ev.type == PCON_EVENT_LOST) {
		assert(a.ev.lost == b.ev.lost);
		return;
	}
	assert(strcmp(a.hier, b.hier) == 0 && strcmp(a.path, b.path) == 0);
}

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
		event_roundtrip(buf + off, len);
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
				static char line[PROTO_LINE_MAX];
				static struct proto_req again;
				int k = proto_request_format(req.cmd, req.recursive, req.spec, 0, line,
							     sizeof(line));
				if (k > 0) {
					assert(proto_parse(line, (size_t)k - 1, &again, &why) == 0);
					assert(strcmp(again.spec, req.spec) == 0);
				}
			}
		}
		off += used;
	}
	return 0;
}
