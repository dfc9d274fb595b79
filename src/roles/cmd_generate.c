/*
 * `storyverse generate`: makes one story from the command line into a folder
 * (story.json and story.html), with a progress bar when stderr is a terminal.
 */
#include "export/export.h"
#include "roles/internal.h"
#include "roles/roles.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: storyverse generate --universe ID --hero ID [options] --out DIR\n"
    "\n"
    "Writes DIR/story.json and DIR/story.html. The same options and seed give the\n"
    "same story, byte for byte. Run `storyverse catalog` to see the ids.\n"
    "\n"
    "  --universe ID    the world the story happens in\n"
    "  --hero ID        the main character (from any universe)\n"
    "  --sidekick ID    the hero's friend (default: chosen from the universe)\n"
    "  --theme ID       what the story is about (default: chosen by the seed)\n"
    "  --moral ID       what the story shows (default: chosen by the seed)\n"
    "  --age AGE        3-5, 6-8 or 9-12 (default: 6-8)\n"
    "  --length LEN     bedtime, chapter or epic (default: bedtime)\n"
    "  --name NAME      the child's name, who joins the adventure\n"
    "  --seed N         0 to 9007199254740991 (default: random)\n"
    "  --out DIR        the folder to write (created when missing)\n";

/* Which params field each flag fills, so errors name the flag the user typed. */
static const struct {
	const char *flag, *field;
	size_t offset, size;
} fields[] = {
#define F(flag, member)                                                                            \
	{                                                                                          \
		flag, #member, offsetof(struct sv_story_params, member),                           \
		    sizeof(((struct sv_story_params *)0)->member)                                  \
	}
    F("universe", universe), F("hero", hero), F("sidekick", sidekick), F("theme", theme),
    F("moral", moral),       F("age", age),   F("length", length),     F("name", child_name),
#undef F
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *flag_of(const char *field)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].field, field) == 0)
			return fields[i].flag;
	return field;
}

static void progress(void *ctx, int done, int total)
{
	const int width = 30;
	int filled = total ? done * width / total : width;
	fprintf(stderr, "\r[%.*s%*s] %d/%d pages", filled,
	        "==============================", width - filled, "", done, total);
	if (done == total)
		fputc('\n', stderr);
}

static int mkdirs(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char tmp[4300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return -1;
	size_t n = strlen(text);
	int ok = fwrite(text, 1, n, f) == n;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int parse_seed(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > SV_STORY_SEED_MAX)
		return -1;
	*out = v;
	return 0;
}

static int emit(const struct sv_catalog *c, const struct sv_story_params *p, const char *out)
{
	struct sv_err err;
	sv_err_clear(&err);
	json_t *story =
	    sv_story_generate(c, p, isatty(STDERR_FILENO) ? progress : NULL, NULL, &err);
	char *json = story ? sv_story_dump(story) : NULL;
	char *html = story ? sv_export_html(story, &err) : NULL;
	int rc = 0;
	if (!json || !html) {
		sv_roles_usage_error("generate", "%s",
		                     err.message[0] ? err.message : "out of memory");
		rc = 1;
	} else if (mkdirs(out) < 0 || write_file(out, "story.json", json) < 0 ||
	           write_file(out, "story.html", html) < 0) {
		sv_roles_usage_error("generate", "--out: cannot write to '%s': %s", out,
		                     strerror(errno));
		rc = 1;
	}
	free(json);
	free(html);
	json_decref(story);
	return rc;
}

int sv_roles_cmd_generate(int argc, char **argv)
{
	struct option opts[NFIELDS + 4];
	for (size_t i = 0; i < NFIELDS; i++)
		opts[i] = (struct option){fields[i].flag, required_argument, NULL, (int)i};
	opts[NFIELDS] = (struct option){"seed", required_argument, NULL, 's'};
	opts[NFIELDS + 1] = (struct option){"out", required_argument, NULL, 'o'};
	opts[NFIELDS + 2] = (struct option){"help", no_argument, NULL, 'h'};
	opts[NFIELDS + 3] = (struct option){0};

	struct sv_story_params p;
	sv_story_params_init(&p);
	int seed_given = 0;
	const char *out = NULL;
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch >= 0 && ch < (int)NFIELDS) {
			if (strlen(optarg) >= fields[ch].size) {
				sv_roles_usage_error("generate", "--%s: '%.20s...' is too long",
				                     fields[ch].flag, optarg);
				return 2;
			}
			strcpy((char *)&p + fields[ch].offset, optarg);
		} else if (ch == 's') {
			if (parse_seed(optarg, &p.seed) < 0) {
				sv_roles_usage_error("generate",
				                     "--seed: '%s' is not a whole number from 0 "
				                     "to %llu",
				                     optarg, (unsigned long long)SV_STORY_SEED_MAX);
				return 2;
			}
			seed_given = 1;
		} else if (ch == 'o') {
			out = optarg;
		} else if (ch == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			return sv_roles_bad_option("generate", ch, argv);
		}
	}
	if (sv_roles_no_operands("generate", argc, argv))
		return 2;
	if (!out || !*out) {
		sv_roles_usage_error("generate", "--out: the output folder is required");
		return 2;
	}
	if (!seed_given)
		p.seed = sv_roles_random_seed();

	struct sv_err err;
	sv_err_clear(&err);
	struct sv_catalog *c = sv_story_catalog_new("en", &err);
	if (!c) {
		sv_roles_usage_error("generate", "catalog: %s", err.message);
		return 1;
	}
	int rc;
	if (sv_story_params_validate(c, &p, &err) < 0) {
		sv_roles_usage_error("generate", "--%s: %s", flag_of(err.field), err.message);
		rc = 2;
	} else {
		rc = emit(c, &p, out);
	}
	sv_story_catalog_free(c);
	return rc;
}
