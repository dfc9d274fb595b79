/*
 * `storyverse generate`: makes one story from the command line into a folder
 * (story.json, story.html and the pictures under images/), with a progress
 * bar when stderr is a terminal.
 * Every story option has a flag; --continue DIR writes the next episode of the
 * story in DIR. Errors are one line naming the flag, exit status 2.
 */
#include "export/export.h"
#include "illustrate/illustrate.h"
#include "narrate/narrate.h"
#include "roles/internal.h"
#include "roles/roles.h"
#include "textgen/textgen.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: storyverse generate --universe ID --hero ID [options] --out DIR\n"
    "       storyverse generate --continue DIR [options] --out DIR2\n"
    "\n"
    "Writes DIR/story.json, DIR/story.html and the pictures: DIR/images/cover.png and\n"
    "page-01.png, page-02.png ... (1024x768), each with a 320-pixel .thumb.png. The\n"
    "same options and seed give the same story and pictures, byte for byte. Run\n"
    "`storyverse catalog` to see the ids.\n"
    "\n"
    "  --universe ID    the world the story happens in; give it twice for a fusion,\n"
    "                   two or three times for a hopping journey\n"
    "  --mode MODE      how the universes meet (default: single, or crossover when\n"
    "                   a character comes from another universe):\n"
    "                   single     one universe\n"
    "                   crossover  one universe, with visitors from others\n"
    "                   fusion     two universes merged into one new world\n"
    "                   hopping    the journey passes through 2 or 3 universes\n"
    "  --hero ID        the main character (from any universe)\n"
    "  --sidekick ID    the hero's friend (default: chosen from the universe)\n"
    "  --rival ID       a friendly rival, who races them and then helps\n"
    "  --mentor ID      a wise friend, who advises before the big choice but never makes it\n"
    "  --custom SPEC    a character of your own, who comes along:\n"
    "                   'name=Zog,species=baby dragon,traits=shy;kind;curious'\n"
    "                   (name: like --name; species: one or two words of letters;\n"
    "                   traits: 1 to 5 words of letters, separated by ';';\n"
    "                   optional pronoun=she|he|it|they, default they)\n"
    "  --theme ID       what the story is about (default: chosen by the seed)\n"
    "  --moral ID       what the story shows (default: chosen by the seed)\n"
    "  --age AGE        3-5, 6-8 or 9-12 (default: 6-8)\n"
    "  --length LEN     bedtime, chapter or epic (default: bedtime)\n"
    "  --style STYLE    the pictures: watercolour, flat or crayon (default: watercolour)\n"
    "  --no-images      write the words only, without drawing the pictures\n"
    "  --image-provider P  local (draw here, the default) or comfyui (ask a ComfyUI\n"
    "                   server for each page, drawing here when it cannot answer)\n"
    "  --comfyui-url URL   the ComfyUI server (default: "
    "http://127.0.0.1:8188)\n"
    "  --audio          read the story aloud: DIR/audio/page-01.opus and .timings.json\n"
    "                   for each page, story.opus and story.mp3 (a chapter per "
    "page)\n" SV_ROLES_TEXT_USAGE SV_ROLES_AUDIO_USAGE
    "  --name NAME      the child's name, who joins the adventure\n"
    "  --pronouns P     she, he or they: how the story speaks of the child (default: they)\n"
    "  --culture ID     the family's traditions, woven in: a greeting, a favourite food,\n"
    "                   a festival for a celebration (ids in `storyverse catalog`)\n"
    "  --seed N         0 to 9007199254740991 (default: random)\n"
    "  --continue DIR   write the next episode of the story in DIR/story.json: the\n"
    "                   same universes, cast, child and culture (options that change\n"
    "                   them are errors), remembering what happened and picking up the\n"
    "                   thread it left open; --age, --length, --theme, --moral and\n"
    "                   --seed may be chosen anew\n"
    "  --out DIR        the folder to write (created when missing)\n"
    "\n"
    "No one may play two roles: hero, sidekick, rival and mentor are four\n"
    "different characters, and the custom character's name is nobody else's.\n";

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
    F("hero", hero),         F("sidekick", sidekick), F("theme", theme),   F("moral", moral),
    F("age", age),           F("length", length),     F("style", style),   F("name", child_name),
    F("pronouns", pronouns), F("rival", rival),       F("mentor", mentor), F("mode", mode),
    F("culture", culture),
#undef F
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* The flag for an error's field: "custom.name" is --custom's, "universes" --universe's. */
static const char *flag_of(const char *field)
{
	if (strncmp(field, "custom", 6) == 0)
		return "custom";
	if (strcmp(field, "continue_from") == 0)
		return "continue";
	if (strncmp(field, "universe", 8) == 0)
		return "universe";
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

static int write_bytes(const char *dir, const char *name, const void *data, size_t n)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char tmp[4300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return -1;
	int ok = fwrite(data, 1, n, f) == n;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	return write_bytes(dir, name, text, strlen(text));
}

/* Keeps a picture (or a sound) in the output folder (sv_roles_file_fn). */
static int put_picture(void *ctx, const char *name, const char *content_type, const void *data,
                       size_t len, struct sv_err *err)
{
	if (write_bytes(ctx, name, data, len) < 0)
		return sv_err_set(err, "io", "out", "cannot write '%s/%s': %s", (const char *)ctx,
		                  name, strerror(errno));
	return 0;
}

static void picture_progress(void *ctx, int done, int total)
{
	progress(NULL, done, total);
}

/* Where the pictures come from: --image-provider and --comfyui-url. */
struct provider {
	const char *name, *url;
};

/* Draws the story's pictures into out/images. */
static int draw_pictures(const struct sv_catalog *c, const json_t *story, const char *out,
                         struct sv_illustrate_remote *remote, struct sv_err *err)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/" SV_ROLES_PICTURES_DIR, out);
	json_t *catalog = sv_story_catalog_json(c);
	int rc = catalog ? 0 : sv_err_set(err, "nomem", "", "out of memory");
	if (rc == 0 && mkdirs(dir) < 0)
		rc = sv_err_set(err, "io", "out", "cannot create '%s': %s", dir, strerror(errno));
	if (rc == 0)
		rc = sv_roles_pictures_draw(story, catalog, remote, put_picture, (void *)out,
		                            isatty(STDERR_FILENO) ? picture_progress : NULL, err);
	json_decref(catalog);
	return rc;
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

/* Reads the story aloud into OUT/audio/ (the files come as "audio/…"). */
static int narrate(struct sv_narrator *n, json_t *story, const char *out, struct sv_err *err)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/audio", out);
	if (mkdirs(dir) < 0)
		return sv_err_set(err, "io", "out", "cannot create '%s': %s", dir, strerror(errno));
	return sv_narrate_story(n, story, put_picture, (void *)out, err);
}

/* A story that moderation holds for a person to read is not written out:
 * err says which part failed and why. 0 when nothing is held. */
static int held(const json_t *review, struct sv_err *err)
{
	const json_t *first = json_array_get(review, 0);
	if (!first)
		return 0;
	char where[32] = "";
	if (json_object_get(first, "page"))
		snprintf(where, sizeof where, " of page %d",
		         (int)json_integer_value(json_object_get(first, "page")));
	sv_err_set(err, "unsafe_content", "",
	           "the %s%s failed moderation (%s) after %d rewrites; nothing was written",
	           json_string_value(json_object_get(first, "field")), where,
	           json_string_value(json_array_get(json_object_get(first, "categories"), 0)),
	           (int)json_integer_value(json_object_get(first, "rewrites")));
	return 1;
}

static int emit(const struct sv_catalog *c, const struct sv_story_params *p, const char *out,
                bool images, struct sv_illustrate_remote *remote, struct sv_textgen *writer,
                struct sv_narrator *narrator)
{
	struct sv_err err;
	sv_err_clear(&err);
	json_t *story =
	    sv_story_generate(c, p, isatty(STDERR_FILENO) ? progress : NULL, NULL, &err);
	json_t *review = NULL;
	if (story &&
	    (sv_textgen_write_story(writer, story, &review, &err) < 0 || held(review, &err) ||
	     (narrator && narrate(narrator, story, out, &err) < 0))) {
		json_decref(story);
		story = NULL;
	}
	json_decref(review);
	if (story && images && sv_roles_pictures_describe(story, &err) < 0) {
		json_decref(story);
		story = NULL;
	}
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
	} else if (images && draw_pictures(c, story, out, remote, &err) < 0) {
		sv_roles_usage_error("generate", "pictures: %s", err.message);
		rc = 1;
	}
	free(json);
	free(html);
	json_decref(story);
	return rc;
}

/* What the command line asked for. */
struct request {
	struct sv_story_params p;
	int seed_given;
	const char *out;
	const char *continue_dir; /* the folder of the episode to continue, or NULL */
	bool no_images, audio;
	struct provider provider;
	struct sv_roles_common text; /* --text-provider and the model's options */
};

enum {
	OPT_SEED = 256,
	OPT_OUT,
	OPT_HELP,
	OPT_CUSTOM,
	OPT_UNIVERSE,
	OPT_CONTINUE,
	OPT_NO_IMAGES,
	OPT_PROVIDER,
	OPT_COMFYUI,
	OPT_AUDIO
};

/* Handles one option; returns 0, or the exit status (2 for a usage error). */
static int take_option(struct request *rq, int ch, char **argv)
{
	struct sv_story_params *p = &rq->p;
	struct sv_err err;
	if (ch >= 0 && ch < (int)NFIELDS) {
		/* An empty value would read as "not given" and quietly become a default. */
		if (!*optarg) {
			sv_roles_usage_error("generate", "--%s: the value is empty",
			                     fields[ch].flag);
			return 2;
		}
		if (strlen(optarg) >= fields[ch].size) {
			sv_roles_usage_error("generate", "--%s: '%.20s...' is too long",
			                     fields[ch].flag, optarg);
			return 2;
		}
		strcpy((char *)p + fields[ch].offset, optarg);
		return 0;
	}
	switch (ch) {
	case OPT_UNIVERSE:
		if (p->n_universes == SV_STORY_UNIVERSES_MAX || strlen(optarg) >= SV_STORY_ID_MAX) {
			sv_roles_usage_error("generate",
			                     "--universe: at most %d universes, of ids "
			                     "under %d bytes",
			                     SV_STORY_UNIVERSES_MAX, SV_STORY_ID_MAX);
			return 2;
		}
		strcpy(p->universes[p->n_universes++], optarg);
		return 0;
	case OPT_CUSTOM:
		if (sv_story_custom_parse(optarg, &p->custom, &err) == 0)
			return 0;
		sv_roles_usage_error("generate", "--custom: %s", err.message);
		return 2;
	case OPT_SEED:
		if (parse_seed(optarg, &p->seed) == 0)
			return rq->seed_given = 1, 0;
		sv_roles_usage_error("generate",
		                     "--seed: '%s' is not a whole number from 0 to %llu", optarg,
		                     (unsigned long long)SV_STORY_SEED_MAX);
		return 2;
	case OPT_OUT:
		rq->out = optarg;
		return 0;
	case OPT_CONTINUE:
		rq->continue_dir = optarg;
		return 0;
	case OPT_NO_IMAGES:
		rq->no_images = true;
		return 0;
	case OPT_PROVIDER:
		rq->provider.name = optarg;
		return 0;
	case OPT_COMFYUI:
		rq->provider.url = optarg;
		return 0;
	case OPT_AUDIO:
		rq->audio = true;
		return 0;
	default: {
		int rc = sv_roles_text_option("generate", ch, &rq->text);
		if (rc < 0 && ch != SV_OPT_NO_AUDIO)
			rc = sv_roles_audio_option("generate", ch, &rq->text);
		return rc >= 0 ? rc : sv_roles_bad_option("generate", ch, argv);
	}
	}
}

/* Reads the command line into rq; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct request *rq)
{
	static const struct option extra[] = {
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"custom", required_argument, NULL, OPT_CUSTOM},
	    {"universe", required_argument, NULL, OPT_UNIVERSE},
	    {"continue", required_argument, NULL, OPT_CONTINUE},
	    {"no-images", no_argument, NULL, OPT_NO_IMAGES},
	    {"image-provider", required_argument, NULL, OPT_PROVIDER},
	    {"comfyui-url", required_argument, NULL, OPT_COMFYUI},
	    SV_ROLES_TEXT_OPTIONS,
	    {"audio", no_argument, NULL, OPT_AUDIO},
	    {"tts", required_argument, NULL, SV_OPT_TTS},
	    {"no-music", no_argument, NULL, SV_OPT_NO_MUSIC},
	};
	struct option opts[NFIELDS + sizeof(extra) / sizeof(extra[0]) + 1];
	for (size_t i = 0; i < NFIELDS; i++)
		opts[i] = (struct option){fields[i].flag, required_argument, NULL, (int)i};
	memcpy(opts + NFIELDS, extra, sizeof(extra));
	opts[NFIELDS + sizeof(extra) / sizeof(extra[0])] = (struct option){0};
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'h' || ch == OPT_HELP) {
			fputs(usage, stdout);
			return 0;
		}
		int rc = take_option(rq, ch, argv);
		if (rc)
			return rc;
	}
	if (sv_roles_no_operands("generate", argc, argv))
		return 2;
	if (!rq->out || !*rq->out) {
		sv_roles_usage_error("generate", "--out: the output folder is required");
		return 2;
	}
	if (rq->continue_dir && strcmp(rq->continue_dir, rq->out) == 0) {
		sv_roles_usage_error("generate",
		                     "--out: the next episode needs a folder of its own, "
		                     "not the one --continue reads");
		return 2;
	}
	return -1;
}

/* Makes rq the next episode of the story in DIR/story.json; returns 0 or an exit status. */
static int continue_story(const struct sv_catalog *c, struct request *rq)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/story.json", rq->continue_dir);
	json_error_t je;
	json_t *prev = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!prev) {
		sv_roles_usage_error("generate", "--continue: cannot read '%s': %s", path, je.text);
		return 2;
	}
	struct sv_err err;
	sv_err_clear(&err);
	int rc = sv_story_params_continue(c, prev, &rq->p, &err);
	json_decref(prev);
	if (rc < 0) {
		sv_roles_usage_error("generate", "--%s: %s", flag_of(err.field), err.message);
		return 2;
	}
	return 0;
}

int sv_roles_cmd_generate(int argc, char **argv)
{
	struct request rq = {.seed_given = 0};
	sv_story_params_init(&rq.p);
	int rc = parse_args(argc, argv, &rq);
	if (rc >= 0)
		return rc;
	if (!rq.seed_given)
		rq.p.seed = sv_roles_random_seed();

	struct sv_err err;
	sv_err_clear(&err);
	struct sv_catalog *c = sv_story_catalog_new("en", &err);
	if (!c) {
		sv_roles_usage_error("generate", "catalog: %s", err.message);
		return 1;
	}
	if (rq.continue_dir && (rc = continue_story(c, &rq)) != 0) {
		sv_story_catalog_free(c);
		return rc;
	}
	if (sv_story_params_validate(c, &rq.p, &err) < 0) {
		sv_roles_usage_error("generate", "--%s: %s", flag_of(err.field), err.message);
		rc = 2;
	} else {
		struct sv_illustrate_remote *remote = NULL;
		struct sv_app writer = {0}; /* only its language model and text provider */
		if (sv_roles_image_provider(rq.provider.name, rq.provider.url, &remote, &err) < 0 ||
		    sv_roles_moderate_open(&writer, &err) < 0 ||
		    sv_roles_text_open(&writer, &rq.text, &err) < 0 ||
		    (rq.audio && sv_roles_audio_open(&writer, &rq.text, true, &err) < 0)) {
			rc = sv_roles_start_error("generate", &err);
		} else {
			rc = emit(c, &rq.p, rq.out, !rq.no_images, remote, writer.textgen,
			          writer.narrator);
		}
		sv_roles_audio_close(&writer);
		sv_roles_text_close(&writer);
		sv_roles_moderate_close(&writer);
		sv_illustrate_remote_close(remote);
	}
	sv_story_catalog_free(c);
	return rc;
}
