/* Unit tests: the kernel's fixed-point load average, checked against the
 * formula computed independently in floating point. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pcontest.h"
#include "pcon/loadavg.h"

static double f(unsigned long x)
{
	return (double)x / (double)PCON_FIXED_1;
}

/* The most integer rounding can move a kernel average away from the exact
 * formula: at most one unit per step, decaying by exp per step, so
 * 1/(FIXED_1 - exp) in load units (0.006 for 1 min, 0.09 for 15 min). */
static double tol(unsigned long exp)
{
	return 1.0 / (double)(PCON_FIXED_1 - exp) + 1e-9;
}

/* k samples of a constant 2 active tasks from 0: 2(1 - (1884/2048)^k). */
static void test_rising_two(void **state)
{
	(void)state;
	struct pcon_loadavg l;
	pcon_loadavg_init(&l);
	for (int k = 1; k <= 24; k++) {
		pcon_loadavg_update(&l, 2, 1);
		double want1 = 2 * (1 - pow(1884.0 / 2048, k));
		double want5 = 2 * (1 - pow(2014.0 / 2048, k));
		double want15 = 2 * (1 - pow(2037.0 / 2048, k));
		assert_true(fabs(f(l.avenrun[0]) - want1) <= tol(PCON_EXP_1));
		assert_true(fabs(f(l.avenrun[1]) - want5) <= tol(PCON_EXP_5));
		assert_true(fabs(f(l.avenrun[2]) - want15) <= tol(PCON_EXP_15));
		assert_true(f(l.avenrun[0]) >= want1 - 1e-9); /* never below while rising */
	}
	assert_int_equal(l.samples, 24);
	assert_int_equal(l.active, 2);
}

/* The first step from 0 with one task is exactly FIXED_1 - EXP_1 (= 164),
 * and a constant load is reached exactly thanks to rounding up. */
static void test_rising_edge_exact(void **state)
{
	(void)state;
	assert_int_equal(pcon_calc_load(0, PCON_EXP_1, PCON_FIXED_1), 164);
	/* 164*1884 + 2048*164 + 2047 = 646,899 -> /2048 = 315 */
	assert_int_equal(pcon_calc_load(164, PCON_EXP_1, PCON_FIXED_1), 315);
	struct pcon_loadavg l = { 0 };
	for (int i = 0; i < 400; i++)
		pcon_loadavg_update(&l, 1, 1);
	assert_int_equal(l.avenrun[0], PCON_FIXED_1);
	assert_int_equal(l.avenrun[1], PCON_FIXED_1);
	/* without the round-up the average would stall below 1.0 */
	unsigned long down = 0;
	for (int i = 0; i < 400; i++)
		down = (down * PCON_EXP_1 + PCON_FIXED_1 * (PCON_FIXED_1 - PCON_EXP_1)) / PCON_FIXED_1;
	assert_true(down < PCON_FIXED_1);
}

/* An hour idle after a load of 4: load1 decays to exactly 0 (falling rounds
 * down), load15 follows 4 (2037/2048)^720 ~ 4 e^-4. */
static void test_idle_decay(void **state)
{
	(void)state;
	struct pcon_loadavg l = { 0 };
	const unsigned long four[3] = { 4 * PCON_FIXED_1, 4 * PCON_FIXED_1, 4 * PCON_FIXED_1 };
	pcon_loadavg_seed(&l, four);
	for (int k = 1; k <= 720; k++) {
		pcon_loadavg_update(&l, 0, 1);
		assert_true(fabs(f(l.avenrun[0]) - 4 * pow(1884.0 / 2048, k)) <= tol(PCON_EXP_1));
		assert_true(fabs(f(l.avenrun[1]) - 4 * pow(2014.0 / 2048, k)) <= tol(PCON_EXP_5));
		assert_true(fabs(f(l.avenrun[2]) - 4 * pow(2037.0 / 2048, k)) <= tol(PCON_EXP_15));
	}
	assert_int_equal(l.avenrun[0], 0);
	assert_true(fabs(f(l.avenrun[2]) - 4 * exp(-720 * 5 / 900.0)) <= tol(PCON_EXP_15) + 0.01);
	assert_true(l.avenrun[2] > l.avenrun[1]);
}

/* The closed form agrees with iterating, and with the power in doubles. */
static void test_closed_form(void **state)
{
	(void)state;
	const unsigned long e[3] = { PCON_EXP_1, PCON_EXP_5, PCON_EXP_15 };
	for (int i = 0; i < 3; i++) {
		for (unsigned n = 0; n <= 2000; n++) {
			double want = pow((double)e[i] / 2048, n) * 2048;
			unsigned long got = pcon_fixed_power_int(e[i], PCON_FSHIFT, n);
			/* rounding at each of ~2 log2(n) steps: measured <= 6.6 units */
			assert_true(fabs((double)got - want) <= 8);
		}
		for (unsigned long start = 0; start <= 8 * PCON_FIXED_1; start += 1000) {
			for (unsigned long active = 0; active <= 6; active++) {
				unsigned long it = start;
				for (unsigned n = 1; n <= 240; n++) {
					it = pcon_calc_load(it, e[i], active * PCON_FIXED_1);
					unsigned long cf = pcon_calc_load_n(start, e[i],
									    active * PCON_FIXED_1, n);
					/* iterating drifts by at most tol(); the closed
					 * form by a few units of its power */
					assert_true(fabs(f(it) - f(cf)) <= tol(e[i]) + 0.01);
				}
			}
		}
		/* n = 1 is one plain step */
		assert_int_equal(pcon_calc_load_n(1000, e[i], 3 * PCON_FIXED_1, 1),
				 pcon_calc_load(1000, e[i], 3 * PCON_FIXED_1));
	}
}

/* A late tick of 3 periods is applied as 3 samples, not one. */
static void test_late_tick(void **state)
{
	(void)state;
	struct pcon_loadavg a = { 0 }, b = { 0 };
	pcon_loadavg_update(&a, 2, 3);
	for (int i = 0; i < 3; i++)
		pcon_loadavg_update(&b, 2, 1);
	assert_int_equal(a.samples, 3);
	assert_true(fabs(f(a.avenrun[0]) - f(b.avenrun[0])) <= 0.01);
	assert_true(fabs(f(a.avenrun[0]) - 2 * (1 - pow(1884.0 / 2048, 3))) < 0.01);
	pcon_loadavg_update(&a, 5, 0);
	assert_int_equal(a.samples, 3);

	const uint64_t s = PCON_LOAD_FREQ_NS;
	uint64_t next = s;
	assert_int_equal(pcon_loadavg_due(&next, s - 1), 0);
	assert_int_equal(next, s);
	assert_int_equal(pcon_loadavg_due(&next, s), 1);
	assert_int_equal(next, 2 * s);
	assert_int_equal(pcon_loadavg_due(&next, 2 * s + s / 2), 1);
	assert_int_equal(next, 3 * s);
	/* asleep from 3 s to 17.4 s: the samples due at 15, 20, 25 and 30 */
	assert_int_equal(pcon_loadavg_due(&next, 6 * s + 2 * s / 5), 4);
	assert_int_equal(next, 7 * s);
}

static void test_format_parse(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(pcon_loadavg_format(0, b, sizeof(b)), "0.00");
	assert_string_equal(pcon_loadavg_format(PCON_FIXED_1, b, sizeof(b)), "1.00");
	assert_string_equal(pcon_loadavg_format(2 * PCON_FIXED_1 - 11, b, sizeof(b)), "1.99");
	assert_string_equal(pcon_loadavg_format(2 * PCON_FIXED_1 - 10, b, sizeof(b)), "2.00");
	assert_string_equal(pcon_loadavg_format(164, b, sizeof(b)), "0.08");
	assert_true(fabs(pcon_loadavg_to_double(315) - 0.15) < 1e-9);
	/* print -> parse -> print is stable for every printable value up to 20 */
	for (unsigned v = 0; v <= 2000; v++) {
		char in[64], out[32];
		unsigned long x[3];
		snprintf(in, sizeof(in), "%u.%02u %u.%02u 0.00 1/99 1234\n", v / 100, v % 100,
			 v / 100, v % 100);
		assert_int_equal(pcon_loadavg_parse(in, x), 0);
		snprintf(b, sizeof(b), "%u.%02u", v / 100, v % 100);
		assert_string_equal(pcon_loadavg_format(x[0], out, sizeof(out)), b);
	}
	unsigned long x[3] = { 7, 7, 7 };
	assert_int_equal(pcon_loadavg_parse("0.5 1.00 2.00", x), -EINVAL);
	assert_int_equal(pcon_loadavg_parse("1.00 2.00", x), -EINVAL);
	assert_int_equal(pcon_loadavg_parse("", x), -EINVAL);
	assert_int_equal(x[0], 7);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rising_two),
	cmocka_unit_test(test_rising_edge_exact),
	cmocka_unit_test(test_idle_decay),
	cmocka_unit_test(test_closed_form),
	cmocka_unit_test(test_late_tick),
	cmocka_unit_test(test_format_parse),
};

PCONTEST_MAIN(tests, NULL, NULL)
