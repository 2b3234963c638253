/* Unit tests: the wire protocol codec pcon and pcond share (line
 * splitting, request parsing and formatting, escaping, event lines). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "pcontest.h"
#include "pcon/events.h"
#include "proto.h"

static int parse(const char *s, struct proto_req *r, const char **why)
{
	return proto_parse(s, strlen(s), r, why);
}

static void test_good(void **state)
{
	(void)state;
	struct proto_req r;
	const char *why = NULL;
	assert_int_equal(parse("ping", &r, &why), 0);
	assert_int_equal(r.cmd, PROTO_PING);
	assert_false(r.privileged);
	assert_int_equal(parse("  status\t", &r, &why), 0);
	assert_int_equal(r.cmd, PROTO_STATUS);
	assert_int_equal(parse("loadavg cpu:/web", &r, &why), 0);
	assert_int_equal(r.cmd, PROTO_LOADAVG);
	assert_false(r.recursive);
	assert_string_equal(r.spec, "cpu:/web");
	assert_int_equal(parse("loadavg -r  cpu:/a%20b%25c", &r, &why), 0);
	assert_true(r.recursive);
	assert_string_equal(r.spec, "cpu:/a b%c");
	assert_int_equal(parse("rescan", &r, &why), 0);
	assert_true(r.privileged);
	assert_int_equal(parse("limit 500", &r, &why), 0);
	assert_true(r.privileged);
	assert_int_equal(r.number, 500);
	assert_int_equal(parse("subscribe unified:/web", &r, &why), 0);
	assert_int_equal(r.cmd, PROTO_SUBSCRIBE);
	assert_false(r.recursive);
	assert_false(r.privileged); /* any user may subscribe */
	assert_string_equal(r.spec, "unified:/web");
	assert_int_equal(parse("subscribe --recursive /a%20b", &r, &why), 0);
	assert_true(r.recursive);
	assert_string_equal(r.spec, "/a b");
	assert_int_equal(parse("taskstats -r memory:/a%09b", &r, &why), 0);
	assert_int_equal(r.cmd, PROTO_TASKSTATS);
	assert_true(r.recursive);
	assert_false(r.privileged); /* any user may ask */
	assert_string_equal(r.spec, "memory:/a\tb");
}

static void test_bad(void **state)
{
	(void)state;
	struct proto_req r;
	const char *why = NULL;
	static const char *const bad[] = {
		"", "   ", "ping x", "status 1", "loadavg", "loadavg -r", "loadavg a b",
		"loadavg -r a b", "loadavg %", "loadavg %4", "loadavg %zz", "loadavg a%00b",
		"limit", "limit 0", "limit -1", "limit 12x", "limit 9999999999999999",
		"rescan now", "a b c d e f", "subscribe", "subscribe -r", "subscribe a b",
		"subscribe -r -r a", "subscribe %", "subscribe a%00", "subscribe -x a b",
		"taskstats", "taskstats -r", "taskstats a b", "taskstats a%00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_not_equal(parse(bad[i], &r, &why), 0);
		assert_non_null(why);
	}
	assert_int_equal(parse("PING", &r, &why), -ENOENT);
	assert_int_equal(parse("frobnicate", &r, &why), -ENOENT);
	assert_int_equal(parse("SUBSCRIBE a", &r, &why), -ENOENT);
	why = NULL;
	assert_int_equal(parse("subscribe", &r, &why), -EINVAL);
	assert_string_equal(why, "subscribe needs a container (HIER:PATH)");
	/* control bytes and non-ASCII are refused, NUL included */
	assert_int_equal(proto_parse("ping\0x", 6, &r, &why), -EINVAL);
	assert_int_equal(parse("loadavg cpu:/\x01", &r, &why), -EINVAL);
	assert_int_equal(parse("loadavg cpu:/\xc3\xa9", &r, &why), -EINVAL);
	/* too long */
	char *big = malloc(PROTO_LINE_MAX + 10);
	assert_non_null(big);
	memset(big, 'a', PROTO_LINE_MAX + 9);
	memcpy(big, "loadavg ", 8);
	big[PROTO_LINE_MAX + 9] = '\0';
	assert_int_not_equal(parse(big, &r, &why), 0);
	free(big);
}

static void test_lines(void **state)
{
	(void)state;
	size_t len = 99, used = 99;
	assert_int_equal(proto_line("ping", 4, &len, &used), 0);
	assert_int_equal(len, 99);
	assert_int_equal(proto_line("ping\nstatus\n", 12, &len, &used), 1);
	assert_int_equal(len, 4);
	assert_int_equal(used, 5);
	assert_int_equal(proto_line("ping\r\n", 6, &len, &used), 1);
	assert_int_equal(len, 4);
	assert_int_equal(used, 6);
	assert_int_equal(proto_line("\n", 1, &len, &used), 1);
	assert_int_equal(len, 0);
	char *buf = malloc(PROTO_LINE_MAX * 2);
	assert_non_null(buf);
	memset(buf, 'x', PROTO_LINE_MAX * 2);
	assert_int_equal(proto_line(buf, PROTO_LINE_MAX - 1, &len, &used), 0);
	assert_int_equal(proto_line(buf, PROTO_LINE_MAX, &len, &used), -E2BIG);
	buf[PROTO_LINE_MAX - 1] = '\n'; /* the longest line that fits */
	assert_int_equal(proto_line(buf, PROTO_LINE_MAX * 2, &len, &used), 1);
	assert_int_equal(len, PROTO_LINE_MAX - 1);
	buf[PROTO_LINE_MAX - 1] = 'x';
	buf[PROTO_LINE_MAX] = '\n'; /* one byte too many */
	assert_int_equal(proto_line(buf, PROTO_LINE_MAX * 2, &len, &used), -E2BIG);
	free(buf);
}

static void test_escape(void **state)
{
	(void)state;
	char out[64], back[64];
	assert_int_equal(proto_escape("/a b%c=d\n\x7f", out, sizeof(out)), 20);
	assert_string_equal(out, "/a%20b%25c%3Dd%0A%7F");
	assert_int_equal(proto_unescape(out, strlen(out), back, sizeof(back)), 10);
	assert_string_equal(back, "/a b%c=d\n\x7f");
	assert_int_equal(proto_escape("abcdef", out, 6), -ENOBUFS);
	assert_int_equal(proto_escape("abcde", out, 6), 5);
	assert_int_equal(proto_unescape("abc", 3, back, 3), -ENAMETOOLONG);
	assert_string_equal(proto_cmd_name(PROTO_LOADAVG), "loadavg");
	assert_string_equal(proto_cmd_name(PROTO_SUBSCRIBE), "subscribe");
	assert_null(proto_cmd_name(PROTO_CMD_MAX));
}

/* What pcon sends is what pcond reads, for every byte a name may hold. */
static void test_request_roundtrip(void **state)
{
	(void)state;
	static const char *const names[] = { "cpu:/web", "/a b%c=d", "unified:/\t\n\xff x",
					     "cpu,memory:/%%/==", "/" };
	char line[PROTO_LINE_MAX];
	struct proto_req r;
	const char *why;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int rec = 0; rec < 2; rec++) {
			int n = proto_request_format(PROTO_SUBSCRIBE, rec, names[i], 0, line, sizeof(line));
			assert_true(n > 0 && line[n - 1] == '\n');
			assert_int_equal(proto_parse(line, (size_t)n - 1, &r, &why), 0);
			assert_int_equal(r.cmd, PROTO_SUBSCRIBE);
			assert_int_equal(r.recursive, rec);
			assert_string_equal(r.spec, names[i]);
		}
	}
	assert_int_equal(proto_request_format(PROTO_LIMIT, false, NULL, 42, line, sizeof(line)), 9);
	assert_string_equal(line, "limit 42\n");
	assert_int_equal(proto_request_format(PROTO_PING, false, NULL, 0, line, sizeof(line)), 5);
	assert_int_equal(proto_request_format(PROTO_LOADAVG, false, "/abcdef", 0, line, 8), -ENOBUFS);
	char value[64];
	assert_string_equal(proto_field("container hier=cpu path=/a%20b id=4", "path", value,
					sizeof(value)), "/a b");
	assert_null(proto_field("container hier=cpu path=/a%2 id=4", "path", value, sizeof(value)));
	assert_null(proto_field("container hier=cpu", "path", value, sizeof(value)));
	assert_null(proto_field("container xpath=/a", "path", value, sizeof(value)));
}

static void check_event(const struct pcon_event *ev, const char *hier, unsigned flags)
{
	char line[PROTO_EVENT_MAX];
	struct proto_event *back = malloc(sizeof(*back));
	assert_non_null(back);
	int64_t when = 1712345678123456000LL;
	int n = proto_event_format(ev, hier, when, flags, line, sizeof(line));
	assert_true(n > 0 && line[n - 1] == '\n');
	assert_null(memchr(line, '\n', (size_t)n - 1)); /* one line, whatever the names */
	assert_int_equal(proto_event_parse(line, (size_t)n - 1, back), 0);
	assert_int_equal(back->ev.type, ev->type);
	assert_int_equal(back->real_ns, when);
	/* withheld is said only where something was left out */
	unsigned want = flags;
	if (ev->type != PCON_EVENT_EXEC && ev->type != PCON_EVENT_EXIT)
		want &= ~PROTO_EVENT_WITHHELD;
	if (ev->type != PCON_EVENT_LOST)
		want &= ~PROTO_EVENT_SOURCE_PCOND;
	assert_int_equal(back->flags, want);
	if (ev->type == PCON_EVENT_LOST) {
		assert_int_equal(back->ev.lost, ev->lost);
		free(back);
		return;
	}
	assert_string_equal(back->hier, hier);
	assert_string_equal(back->ev.path, ev->path);
	bool task = ev->type != PCON_EVENT_EMPTY && ev->type != PCON_EVENT_POPULATED &&
		    ev->type != PCON_EVENT_GONE;
	if (task) {
		assert_int_equal(back->ev.pid, ev->pid);
		assert_int_equal(back->ev.tid, ev->tid);
		assert_int_equal(back->ev.flags, ev->flags & PCON_EVENT_F_CACHED);
	}
	switch (ev->type) {
	case PCON_EVENT_FORK:
		assert_int_equal(back->ev.parent_pid, ev->parent_pid);
		assert_int_equal(back->ev.parent_tid, ev->parent_tid);
		break;
	case PCON_EVENT_EXEC:
		if (flags & PROTO_EVENT_WITHHELD)
			assert_null(back->ev.comm);
		else
			assert_string_equal(back->ev.comm, ev->comm);
		break;
	case PCON_EVENT_EXIT:
		if (!(flags & PROTO_EVENT_WITHHELD))
			assert_int_equal(back->ev.exit_code, ev->exit_code);
		else
			assert_null(strstr(line, "code=") ? "code" : strstr(line, "signal="));
		break;
	case PCON_EVENT_UID:
	case PCON_EVENT_GID:
		assert_int_equal(back->ev.rid, ev->rid);
		assert_int_equal(back->ev.eid, ev->eid);
		break;
	case PCON_EVENT_MOVE:
		if (ev->from_path)
			assert_string_equal(back->ev.from_path, ev->from_path);
		else
			assert_null(back->ev.from_path);
		break;
	default:
		break;
	}
	free(back);
}

/* What pcond writes is what pcon reads: every type, odd names, both flags. */
static void test_event_roundtrip(void **state)
{
	(void)state;
	static const char *const paths[] = { "/web", "/a b/%c=d", "/tab\there/nl\nx/\xff\xfe",
					     "/" };
	for (int t = 0; t < PCON_EVENT_MAX; t++) {
		/* the codec's names are the library's */
		char line[512];
		struct pcon_event e0 = { .type = (enum pcon_event_type)t, .path = "/x" };
		assert_true(proto_event_format(&e0, "cpu", 0, 0, line, sizeof(line)) > 0);
		assert_non_null(strstr(line, pcon_event_type_to_string(e0.type)));
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			struct pcon_event ev = {
				.type = (enum pcon_event_type)t, .path = paths[p], .pid = 4242,
				.tid = 4243, .parent_pid = 1, .parent_tid = 2, .flags = PCON_EVENT_F_CACHED,
				.comm = "a b=%\x01", .from_path = p % 2 ? paths[p] : NULL,
				.exit_code = p % 2 ? 11 : 42 << 8, .rid = 1001, .eid = 0, .lost = 77,
			};
			check_event(&ev, p % 2 ? "cpu,cpuacct" : "name=systemd", 0);
			check_event(&ev, "unified", PROTO_EVENT_WITHHELD);
			if (t == PCON_EVENT_LOST)
				check_event(&ev, NULL, PROTO_EVENT_SOURCE_PCOND);
		}
	}
}

static void test_event_bad(void **state)
{
	(void)state;
	struct proto_event *e = malloc(sizeof(*e));
	assert_non_null(e);
	static const char *const bad[] = {
		"", "event", "event ", "evnt type=fork", "event time=1.0", "event type=fork",
		"event type=fork hierarchy=cpu", "event type=exit hierarchy=cpu path=/ code=x",
		"event type=exit hierarchy=cpu path=/ code=256", "event type=fork hierarchy=cpu path=/ pid=-1",
		"event type=fork hierarchy=cpu path=/%zz", "event type=lost count=1 garbage",
		"event type=lost time=1.1234567", "event type=lost time=-1", "event type=lost cached=2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proto_event_parse(bad[i], strlen(bad[i]), e), -EINVAL);
	const char *newer = "event time=1.5 type=teleport hierarchy=cpu path=/";
	assert_int_equal(proto_event_parse(newer, strlen(newer), e), -ENOENT);
	const char *extra = "event time=1.5 type=fork hierarchy=cpu path=/ pid=3 colour=red";
	assert_int_equal(proto_event_parse(extra, strlen(extra), e), 0);
	assert_int_equal(e->ev.pid, 3);
	assert_int_equal(e->ev.tid, 3); /* no tid: the pid */
	assert_int_equal(e->real_ns, 1500000000);
	char small[40];
	struct pcon_event ev = { .type = PCON_EVENT_FORK, .path = "/a/long/path/name/here" };
	assert_int_equal(proto_event_format(&ev, "cpu", 0, 0, small, sizeof(small)), -ENOBUFS);
	free(e);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_request_roundtrip),
	cmocka_unit_test(test_event_roundtrip),
	cmocka_unit_test(test_event_bad),
	cmocka_unit_test(test_good),
	cmocka_unit_test(test_bad),
	cmocka_unit_test(test_lines),
	cmocka_unit_test(test_escape),
};

PCONTEST_MAIN(tests, NULL, NULL)
