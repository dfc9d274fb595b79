/*
 * JSON-lines logging on stderr. Each record is built as one string and written
 * with a single write(2), so lines from different threads never interleave.
 */
#include "base/base.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int min_level = SV_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void sv_log_set_level(enum sv_log_level level)
{
	atomic_store(&min_level, (int)level);
}

int sv_log_parse_level(const char *s, enum sv_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum sv_log_level)i;
			return 0;
		}
	}
	return -1;
}

void sv_log(enum sv_log_level level, const char *msg, json_t *fields)
{
	if ((int)level < atomic_load(&min_level)) {
		json_decref(fields);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);

	json_t *rec = json_pack("{s:s,s:s,s:s}", "ts", when, "level", level_names[level], "msg",
	                        msg ? msg : "");
	if (rec && json_is_object(fields))
		json_object_update_missing(rec, fields);
	json_decref(fields);
	char *line =
	    rec ? json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))
	        : NULL;
	json_decref(rec);
	if (!line)
		return;
	size_t len = strlen(line);
	line[len] = '\n'; /* json_dumps leaves room: we overwrite the NUL and write len+1 */
	ssize_t w = write(STDERR_FILENO, line, len + 1);
	(void)w;
	free(line);
}
