/* Small helpers shared by the sub-commands. */
#include "roles/internal.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int sv_roles_bad_option(const char *cmd, int ch, char **argv)
{
	if (ch == ':')
		sv_roles_usage_error(cmd, "%s needs a value", argv[optind - 1]);
	else
		sv_roles_usage_error(cmd, "unknown option '%s' (see --help)", argv[optind - 1]);
	return 2;
}

int sv_roles_getopt(const char *cmd, const char *usage, int argc, char **argv,
                    const struct option *opts, sv_roles_option_fn handle, void *ctx)
{
	int rc = sv_roles_getopt_operands(cmd, usage, argc, argv, opts, handle, ctx);
	return rc ? rc : sv_roles_no_operands(cmd, argc, argv);
}

int sv_roles_getopt_operands(const char *cmd, const char *usage, int argc, char **argv,
                             const struct option *opts, sv_roles_option_fn handle, void *ctx)
{
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		int rc = ch == ':' || ch == '?' ? -1 : handle(ch, ctx);
		if (rc < 0)
			return sv_roles_bad_option(cmd, ch, argv);
		if (rc > 0)
			return 2;
	}
	return 0;
}

int sv_roles_parse_log_level(const char *cmd, const char *arg)
{
	enum sv_log_level level;
	if (sv_log_parse_level(arg, &level) == 0) {
		sv_log_set_level(level);
		return 0;
	}
	sv_roles_usage_error(cmd, "--log-level: '%s' is not one of debug, info, warn, error", arg);
	return 2;
}

int sv_roles_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	sv_roles_usage_error(cmd, "unexpected argument '%s' (see --help)", argv[optind]);
	return 2;
}

uint64_t sv_roles_random_seed(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint64_t)sv_time_mono_ns();
	return v & SV_STORY_SEED_MAX;
}

int sv_roles_parse_count(const char *cmd, const char *flag, const char *s, long min, long max,
                         long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < min || v > max) {
		sv_roles_usage_error(cmd, "--%s: '%s' is not a whole number from %ld to %ld", flag,
		                     s, min, max);
		return 2;
	}
	*out = v;
	return 0;
}

int sv_roles_common_option(const char *cmd, int ch, struct sv_roles_common *c)
{
	switch (ch) {
	case 'l':
		c->listen = optarg;
		return 0;
	case 'd':
		c->data = optarg;
		return 0;
	case 'D':
		c->database = optarg;
		return 0;
	case 'B':
		c->blobs = optarg;
		return 0;
	case 'L':
		return sv_roles_parse_count(cmd, "lease-seconds", optarg, 1, 86400, &c->lease_s);
	case 'v':
		return sv_roles_parse_log_level(cmd, optarg);
	case 'I':
		c->no_images = true;
		return 0;
	case 'P':
		c->image_provider = optarg;
		return 0;
	case 'U':
		c->comfyui_url = optarg;
		return 0;
	}
	int rc = sv_roles_text_option(cmd, ch, c);
	return rc >= 0 ? rc : sv_roles_audio_option(cmd, ch, c);
}

bool sv_roles_story_id_valid(const char *id)
{
	size_t n = strlen(id);
	return n == SV_STORE_ID_LEN && strspn(id, "0123456789abcdef") == n;
}
