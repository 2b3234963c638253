/* Placement rules in cgrules.conf format: parsing with line numbers,
 * first match wins with continuations, commands, groups, templates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcontest.h"
#include "pcon/rules.h"

static struct pcon_rules *parse(const char *text, int want, unsigned want_line, const char *want_why)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	struct pcon_rules *r = NULL;
	unsigned line = 0;
	char why[256] = "";
	assert_int_equal(pcon_rules_parse(f, &r, &line, why, sizeof(why)), want);
	fclose(f);
	if (want < 0) {
		assert_int_equal(line, want_line);
		assert_non_null(strstr(why, want_why));
		assert_null(r);
	}
	return r;
}

static const char *rules =
	"# placement\n"
	"\n"
	"root:sshd        cpu,memory   ssh/%u\n"
	"%                pids         ssh-pids/%P\n"
	"root             *            admin/%U/%g\n"
	"@daemon          cpu          daemons/   # a comment\n"
	"*:/usr/bin/make  cpu          build/%p\n"
	"*                cpuset       default/\n";

static int match(const struct pcon_rules *r, uid_t uid, gid_t gid, const char *comm, const char *exe,
		 struct pcon_rules_dest *d)
{
	struct pcon_rules_proc p = { .pid = 4242, .uid = uid, .gid = gid, .comm = comm, .exe = exe };
	return pcon_rules_match(r, &p, d, 4);
}

static void test_match(void **state)
{
	(void)state;
	struct pcon_rules *r = parse(rules, 0, 0, NULL);
	assert_int_equal(pcon_rules_count(r), 6);
	struct pcon_rules_dest d[4];
	/* root's sshd: the first rule and its continuation */
	assert_int_equal(match(r, 0, 0, "sshd", "/usr/sbin/sshd", d), 2);
	assert_string_equal(d[0].controllers, "cpu,memory");
	assert_string_equal(d[0].path, "ssh/root");
	assert_int_equal(d[0].line, 3);
	assert_string_equal(d[1].path, "ssh-pids/4242");
	/* root's anything else: the next rule; templates by number and name */
	assert_int_equal(match(r, 0, 0, "bash", "/usr/bin/bash", d), 1);
	assert_string_equal(d[0].controllers, "*");
	assert_string_equal(d[0].path, "admin/0/root");
	/* a member of group daemon by its effective gid */
	assert_int_equal(match(r, 4000, 1, "x", NULL, d), 1);
	assert_string_equal(d[0].path, "daemons/");
	/* a full path matches the executable, %p the process name */
	assert_int_equal(match(r, 4000, 4000, "make", "/usr/bin/make", d), 1);
	assert_string_equal(d[0].path, "build/make");
	assert_int_equal(match(r, 4000, 4000, "make", "/opt/make", d), 1);
	assert_string_equal(d[0].path, "default/");
	/* a process name cut by the kernel at 15 bytes still matches */
	pcon_rules_free(r);
	r = parse("*:averyveryverylongname cpu long/\n", 0, 0, NULL);
	assert_int_equal(match(r, 1, 1, "averyveryverylo", NULL, d), 1);
	assert_int_equal(match(r, 1, 1, "averyveryver", NULL, d), 0);
	pcon_rules_free(r);
	/* nothing matches: no placement */
	r = parse("root cpu x/\n", 0, 0, NULL);
	assert_int_equal(match(r, 4000, 4000, "a", NULL, d), 0);
	pcon_rules_free(r);
}

static void test_errors(void **state)
{
	(void)state;
	parse("root cpu\n", -EINVAL, 1, "expected");
	parse("# ok\nroot cpu a/ extra\n", -EINVAL, 2, "more than three");
	parse("root cpu a/\nnosuchuser-pcon cpu b/\n", -EINVAL, 2, "no user 'nosuchuser-pcon'");
	parse("@nosuchgroup-pcon cpu b/\n", -EINVAL, 1, "no group");
	parse("% cpu b/\n", -EINVAL, 1, "continues a rule");
	parse("root cpu b/%x\n", -EINVAL, 1, "unknown template");
	parse("root: cpu b/\n", -EINVAL, 1, "empty command");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_match),
	cmocka_unit_test(test_errors),
};

PCONTEST_MAIN(tests, NULL, NULL)
