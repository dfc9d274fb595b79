/* Small helpers shared by the sub-commands. */
#include "roles/internal.h"

#include <stdio.h>
#include <sys/random.h>

void sv_roles_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "storyverse %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

uint64_t sv_roles_random_seed(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint64_t)sv_time_mono_ns();
	return v & SV_STORY_SEED_MAX;
}
