/*
 * `storyverse sheet`: draws one catalog character in every expression into a
 * PNG, the way it appears on every page, so a character's look can be checked
 * without making a whole book.
 */
#include "illustrate/illustrate.h"
#include "roles/internal.h"
#include "roles/roles.h"
#include "story/story.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: storyverse sheet --character ID [--style STYLE] --out FILE.png\n"
    "\n"
    "Draws a character's sheet: the character in every expression, with its name.\n"
    "  --character ID   a catalog character's id (see `storyverse catalog`)\n"
    "  --style STYLE    watercolour (default), flat or crayon\n"
    "  --out FILE.png   where to write the picture\n";

struct sheet_opts {
	const char *id, *style, *out;
};

static int parse_option(int ch, void *ctx)
{
	struct sheet_opts *o = ctx;
	if (ch == 'c')
		o->id = optarg;
	else if (ch == 's')
		o->style = optarg;
	else if (ch == 'o')
		o->out = optarg;
	else
		return -1;
	return 0;
}

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, struct sheet_opts *o)
{
	static const struct option opts[] = {{"character", required_argument, NULL, 'c'},
	                                     {"style", required_argument, NULL, 's'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	int rc = sv_roles_getopt("sheet", usage, argc, argv, opts, parse_option, o);
	if (rc)
		return rc;
	if (!o->id) {
		sv_roles_usage_error("sheet", "--character ID is required (see --help)");
		return 2;
	}
	if (!o->out) {
		sv_roles_usage_error("sheet", "--out FILE.png is required (see --help)");
		return 2;
	}
	if (o->style && !sv_illustrate_style_valid(o->style)) {
		sv_roles_usage_error("sheet",
		                     "--style: unknown style '%s' (choose from "
		                     "watercolour, flat, crayon)",
		                     o->style);
		return 2;
	}
	return 0;
}

static const json_t *find_character(const json_t *catalog, const char *id)
{
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(catalog, "characters"), i, c)
	{
		const char *cid = json_string_value(json_object_get(c, "id"));
		if (cid && strcmp(cid, id) == 0)
			return c;
	}
	return NULL;
}

/* Writes to FILE.tmp and renames, so a reader never sees half a picture. */
static int write_file(const char *path, const struct sv_buf *png)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		sv_roles_usage_error("sheet", "--out: path too long");
		return 2;
	}
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(png->data, 1, png->len, f) == png->len;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "storyverse sheet: cannot write %s\n", path);
		remove(tmp);
		return 1;
	}
	return 0;
}

static int draw(const json_t *catalog, const struct sheet_opts *o)
{
	const json_t *who = find_character(catalog, o->id);
	if (!who) {
		sv_roles_usage_error("sheet",
		                     "--character: unknown character '%s' (`storyverse catalog` "
		                     "lists the ids under \"characters\")",
		                     o->id);
		return 2;
	}
	struct sv_buf png;
	struct sv_err err;
	sv_buf_init(&png);
	sv_err_clear(&err);
	int rc = 0;
	if (sv_illustrate_sheet(who, o->style, &png, &err) < 0) {
		fprintf(stderr, "storyverse sheet: %s\n", err.message);
		rc = 1;
	} else {
		rc = write_file(o->out, &png);
	}
	sv_buf_free(&png);
	return rc;
}

int sv_roles_cmd_sheet(int argc, char **argv)
{
	struct sheet_opts o = {0};
	int prc = parse(argc, argv, &o);
	if (prc)
		return prc == 1 ? 0 : prc;
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_catalog *c = sv_story_catalog_new("en", &err);
	if (!c) {
		fprintf(stderr, "storyverse sheet: catalog: %s\n", err.message);
		return 1;
	}
	json_t *doc = sv_story_catalog_json(c);
	int rc = doc ? draw(doc, &o) : 1;
	json_decref(doc);
	sv_story_catalog_free(c);
	return rc;
}
