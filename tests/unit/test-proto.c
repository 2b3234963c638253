/* Unit tests: pcond's request protocol (line splitting, parsing, escaping). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcontest.h"
/* The parser is a pure file of the daemon: test it directly. */
#include "../../src/pcond/proto.c"

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

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_good),
	cmocka_unit_test(test_bad),
	cmocka_unit_test(test_lines),
	cmocka_unit_test(test_escape),
};

PCONTEST_MAIN(tests, NULL, NULL)
