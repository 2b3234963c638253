/* Threshold expressions: parsing, values from load, counts and pressure,
 * and hysteresis at the edge. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcontest.h"
#include "pcon/when.h"

static void test_parse(void **state)
{
	(void)state;
	struct pcon_when w;
	char buf[64];
	static const char *const good[][2] = {
		{ "load1>1.5", "load1>1.5" }, { " running >= 4 ", "running>=4" },
		{ "cpu.some.avg10>20", "cpu.some.avg10>20" }, { "memory.full.avg60<5", "memory.full.avg60<5" },
		{ "io.some.avg300<=0.5", "io.some.avg300<=0.5" }, { "total>0", "total>0" },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(pcon_when_parse(good[i][0], &w), 0);
		pcon_when_format(&w, buf, sizeof(buf));
		assert_string_equal(buf, good[i][1]);
	}
	static const char *const bad[] = {
		"", "load1", "load1>", "load1>x", "load2>1", "load1=1", "load1>1 junk", "running>-1",
		"cpu.some.avg20>1", "cpu.most.avg10>1", "disk.some.avg10>1", "cpu.some.avg10>101",
		"cpu.some>1", "load1>>1", "load1>1e999", "LOAD1>1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pcon_when_parse(bad[i], &w), -EINVAL);
}

static void test_values(void **state)
{
	(void)state;
	struct pcon_loadavg la = { .avenrun = { 3 * PCON_FIXED_1, PCON_FIXED_1, 0 } };
	struct pcon_taskstats ts = { .running = 5, .uninterruptible = 2, .unknown = PCON_TASKSTATS_IO_WAIT };
	struct pcon_pressure ps = { 0 };
	ps.have[PCON_PSI_CPU][PCON_PSI_SOME] = true;
	ps.v[PCON_PSI_CPU][PCON_PSI_SOME].avg60 = 12.5;
	struct pcon_when_input in = { .load = &la, .tasks = &ts, .pressure = &ps };
	struct pcon_when w;
	double v;
	assert_int_equal(pcon_when_parse("load1>1", &w), 0);
	assert_int_equal(pcon_when_value(&w, &in, &v), 0);
	assert_true(v == 3.0);
	assert_int_equal(pcon_when_parse("uninterruptible>1", &w), 0);
	assert_int_equal(pcon_when_value(&w, &in, &v), 0);
	assert_true(v == 2.0);
	assert_int_equal(pcon_when_parse("io_wait>0", &w), 0);
	assert_int_equal(pcon_when_value(&w, &in, &v), -ENODATA); /* proc cannot see it */
	assert_int_equal(pcon_when_parse("cpu.some.avg60>10", &w), 0);
	assert_int_equal(pcon_when_value(&w, &in, &v), 0);
	assert_true(v == 12.5);
	assert_int_equal(pcon_when_parse("cpu.full.avg60>10", &w), 0);
	assert_int_equal(pcon_when_value(&w, &in, &v), -ENODATA); /* no such line */
	in.pressure = NULL;
	assert_int_equal(pcon_when_parse("memory.some.avg10>10", &w), 0);
	assert_int_equal(pcon_when_value(&w, &in, &v), -ENODATA); /* v1: none */
}

static void test_hysteresis(void **state)
{
	(void)state;
	struct pcon_when w;
	assert_int_equal(pcon_when_parse("load1>1.5", &w), 0);
	assert_int_equal(pcon_when_step(&w, 1.0), 0); /* first value, false: no event */
	assert_int_equal(pcon_when_step(&w, 1.5), 0);
	assert_int_equal(pcon_when_step(&w, 1.51), 1);
	assert_true(w.state);
	/* at the edge it does not flap: back by a tenth (0.15) turns it false */
	assert_int_equal(pcon_when_step(&w, 1.49), 0);
	assert_int_equal(pcon_when_step(&w, 1.36), 0);
	assert_int_equal(pcon_when_step(&w, 1.6), 0);
	assert_int_equal(pcon_when_step(&w, 1.35), 1);
	assert_false(w.state);
	assert_int_equal(pcon_when_step(&w, 1.45), 0);
	/* a count moves by whole threads */
	assert_int_equal(pcon_when_parse("running>4", &w), 0);
	assert_int_equal(pcon_when_step(&w, 5), 1); /* first value, true: an event */
	assert_int_equal(pcon_when_step(&w, 4), 0);
	assert_int_equal(pcon_when_step(&w, 3), 1);
	/* below: the margin is above the threshold */
	assert_int_equal(pcon_when_parse("cpu.some.avg10<=20", &w), 0);
	assert_int_equal(pcon_when_step(&w, 30), 0);
	assert_int_equal(pcon_when_step(&w, 20), 1);
	assert_int_equal(pcon_when_step(&w, 21.9), 0);
	assert_int_equal(pcon_when_step(&w, 22.1), 1);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_values),
	cmocka_unit_test(test_hysteresis),
};

PCONTEST_MAIN(tests, NULL, NULL)
