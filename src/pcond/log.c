/*
 * pcond's log: one line per message on standard error, at or above
 * --log-level. When standard error is the journal (systemd sets
 * JOURNAL_STREAM to its device and inode), each line starts with the
 * kernel-style priority prefix "<3>" the journal turns into the entry's
 * priority, and the "pcond: " prefix is left to the journal's identifier.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pcond.h"

static int max_level = LOG_INFO;
static int journal = -1; /* unknown yet */

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "err",
	[LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

int pcond_log_level_from_string(const char *s)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcasecmp(s, level_names[i]) == 0 || (s[0] == '0' + i && !s[1]))
			return i;
	if (strcasecmp(s, "error") == 0)
		return LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return LOG_WARNING;
	return -EINVAL;
}

void pcond_log_set_level(int level)
{
	max_level = level;
}

int pcond_log_get_level(void)
{
	return max_level;
}

/* Is stderr the journal's stream (JOURNAL_STREAM=DEV:INO)? */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pcond_log(int level, const char *fmt, ...)
{
	if (level > max_level)
		return;
	if (journal < 0)
		journal = stderr_is_journal();
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (journal)
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "pcond: %s\n", line);
}

int pcond_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pcond_log(LOG_ERR, "%s", line);
	return 1;
}
