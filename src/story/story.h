/*
 * story: the domain. The catalog (universes, characters, themes, morals, ages,
 * lengths), story parameters and their validation, the plot planner and the
 * grammar realiser that turns a plan into pages.
 *
 * Pure functions of their inputs: the same catalog, parameters and seed give
 * the same story JSON byte for byte. Knows nothing of HTTP or storage.
 * The format of the story JSON is described in docs/story-format.md.
 */
#ifndef SV_STORY_H
#define SV_STORY_H

#include "base/base.h"

#include <jansson.h>
#include <stdint.h>

/* Immutable after loading, so one catalog may be shared by any number of threads. */
struct sv_catalog;

/* Loads the catalog for a language ("en") from the embedded data files
 * data/<lang>/ files. Returns NULL with err filled when the data is invalid. */
struct sv_catalog *sv_story_catalog_new(const char *lang, struct sv_err *err);
void sv_story_catalog_free(struct sv_catalog *c);
/* The public catalog document (what `storyverse catalog` prints and
 * GET /api/v1/catalog returns). New reference: the caller decrefs it. */
json_t *sv_story_catalog_json(const struct sv_catalog *c);

#define SV_STORY_ID_MAX   48
#define SV_STORY_NAME_MAX 64

/* Empty strings mean "not given" until sv_story_params_validate fills defaults. */
struct sv_story_params {
	char universe[SV_STORY_ID_MAX];
	char hero[SV_STORY_ID_MAX];
	char sidekick[SV_STORY_ID_MAX];
	char theme[SV_STORY_ID_MAX];
	char moral[SV_STORY_ID_MAX];
	char age[SV_STORY_ID_MAX];    /* "3-5", "6-8", "9-12" */
	char length[SV_STORY_ID_MAX]; /* "bedtime", "chapter", "epic" */
	char child_name[SV_STORY_NAME_MAX];
	uint64_t seed; /* at most 2^53 - 1 so it survives JSON everywhere */
};

#define SV_STORY_SEED_MAX ((UINT64_C(1) << 53) - 1)

void sv_story_params_init(struct sv_story_params *p);

/* Checks every id against the catalog and fills defaults for what was not
 * given. On error returns -1 with err->field set to the parameter name
 * ("universe", "hero", ..., "child_name", "seed"), err->code "unknown_id" or
 * "invalid_value", and a one-sentence message that lists the valid choices. */
int sv_story_params_validate(const struct sv_catalog *c, struct sv_story_params *p,
                             struct sv_err *err);

/* Reads the API request object {"universe","hero","sidekick"?,"theme"?,
 * "moral"?,"age"?,"length"?,"child_name"?,"seed"?} into p and validates it.
 * Unknown members, wrong types and bad values are errors naming the field.
 * *seed_given tells whether the request carried a seed. When it did not,
 * p->seed keeps the value it had, and the defaults drawn from the seed
 * (sidekick, theme, moral) use it: sv_story_params_init p and set a fresh
 * seed in it before the call. null members count as absent. */
int sv_story_params_from_json(const struct sv_catalog *c, const json_t *obj,
                              struct sv_story_params *p, int *seed_given, struct sv_err *err);
/* New reference. */
json_t *sv_story_params_to_json(const struct sv_story_params *p);

/* Called after each page is realised, for progress bars and events. */
typedef void (*sv_story_progress_fn)(void *ctx, int pages_done, int pages_total);

/* Plans and writes the story for validated parameters. Returns a new
 * reference to the story document, or NULL with err filled. */
json_t *sv_story_generate(const struct sv_catalog *c, const struct sv_story_params *p,
                          sv_story_progress_fn progress, void *ctx, struct sv_err *err);

/* Serialises a story document the one canonical way (sorted keys, two-space
 * indent, trailing newline), so equal stories are equal bytes. Caller frees. */
char *sv_story_dump(const json_t *story);

#endif
