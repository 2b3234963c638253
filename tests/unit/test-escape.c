/* Unit tests: names in text (reversible), JSON and OpenMetrics output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcontest.h"

static char *esc(size_t (*fn)(char *, size_t, const char *), const char *in)
{
	size_t n = fn(NULL, 0, in);
	char *out = malloc(n + 1);
	assert_non_null(out);
	assert_int_equal(fn(out, n + 1, in), n);
	assert_int_equal(strlen(out), n);
	return out;
}

/* Is s well-formed UTF-8 without C0 controls or DEL? */
static bool clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)))
			return false;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

static void test_name_escape(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *text;
	} cases[] = {
		{ "web", "web" },
		{ "a\tb", "a\\tb" },
		{ "a\nb", "a\\nb" },
		{ "a\\b", "a\\\\b" },
		{ "\xff", "\\xff" },
		{ "q\"x y", "q\"x y" },
		{ "\x01\x7f", "\\x01\\x7f" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" }, /* UTF-8 stays */
		{ "\xc3", "\\xc3" },                                          /* truncated */
		{ "\xc0\xaf", "\\xc0\\xaf" },                                  /* overlong '/' */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },                         /* a surrogate */
		{ "\xe2\x80\xae" "evil", "\\xe2\\x80\\xae" "evil" },            /* RTL override */
		{ "\xc2\x85", "\\xc2\\x85" },                                  /* C1 NEL */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = esc(pcon_escape_name, cases[i].raw);
		assert_string_equal(t, cases[i].text);
		assert_true(clean_utf8(t));
		char *back;
		assert_int_equal(pcon_unescape_name(t, &back), 0);
		assert_string_equal(back, cases[i].raw);
		free(back);
		free(t);
	}
	/* Truncation works like snprintf. */
	char small[4];
	assert_int_equal(pcon_escape_name(small, sizeof(small), "a\tbc"), 5);
	assert_string_equal(small, "a\\t");
}

/* Every byte string survives escape + unescape: all single bytes and pairs. */
static void test_name_roundtrip_all(void **state)
{
	(void)state;
	char in[3] = { 0 };
	for (int a = 1; a < 256; a++)
		for (int b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			char *t = esc(pcon_escape_name, in);
			assert_true(clean_utf8(t));
			char *back;
			assert_int_equal(pcon_unescape_name(t, &back), 0);
			assert_string_equal(back, in);
			free(back);
			free(t);
		}
}

static void test_unescape_errors(void **state)
{
	(void)state;
	char *out;
	const char *bad[] = { "a\\", "\\q", "\\x", "\\x4", "\\xg0", "\\x00", "\\x2f", "\\r" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pcon_unescape_name(bad[i], &out), -EINVAL);
	assert_int_equal(pcon_unescape_name("\\x41\\X", &out), -EINVAL);
	assert_int_equal(pcon_unescape_name("\\x41\\xFf", &out), 0);
	assert_string_equal(out, "A\xff");
	free(out);
}

static void test_json(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *json;
	} cases[] = {
		{ "plain", "plain" },
		{ "q\"b\\", "q\\\"b\\\\" },
		{ "t\tn\nr\r\x01\x7f", "t\\tn\\nr\\r\\u0001\\u007f" },
		{ "\xff" "a\xc3", "\\ufffda\\ufffd" },
		{ "\xe2\x80\xa8", "\\u2028" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = esc(pcon_escape_json, cases[i].raw);
		assert_string_equal(t, cases[i].json);
		assert_true(clean_utf8(t));
		free(t);
	}
}

static void test_label(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *label;
	} cases[] = {
		{ "/web", "/web" },
		{ "a\\b\"c\nd", "a\\\\b\\\"c\\nd" },
		{ "\xff", "\xef\xbf\xbd" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "a\\xffb", "a\\\\xffb" }, /* an escaped name keeps its escape, doubled */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = esc(pcon_escape_label, cases[i].raw);
		assert_string_equal(t, cases[i].label);
		free(t);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_name_escape),
	cmocka_unit_test(test_name_roundtrip_all),
	cmocka_unit_test(test_unescape_errors),
	cmocka_unit_test(test_json),
	cmocka_unit_test(test_label),
};

PCONTEST_MAIN(tests, NULL, NULL)
