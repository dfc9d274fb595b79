/*
 * Shared by the story and illustrator unit tests: one catalog loaded for a
 * whole group, stories made from it, and small readers of story documents.
 */
#ifndef SV_TEST_STORY_SUPPORT_H
#define SV_TEST_STORY_SUPPORT_H

#include "story/story.h"

/* The catalog of the running group, loaded by sv_test_catalog_setup. */
extern struct sv_catalog *cat;

/* cmocka group setup and teardown that load and free cat. */
int sv_test_catalog_setup(void **state);
int sv_test_catalog_teardown(void **state);

/* The catalog of the running group as JSON (universes, characters, palettes),
 * what the illustrator reads; loaded by sv_test_catalog_json_setup. */
extern json_t *sv_test_catalog_json;

/* cmocka group setup and teardown that load and free both cat and sv_test_catalog_json. */
int sv_test_catalog_json_setup(void **state);
int sv_test_catalog_json_teardown(void **state);

/* A story in the universe at universe_index in sv_test_catalog_json, with
 * that universe's first hero, a child called Ada and seed; NULL (message on
 * stderr) when it cannot be made. */
json_t *sv_test_story_in(size_t universe_index, uint64_t seed);
/* The same for an age group ("3-5", "6-8", "9-12"). */
json_t *sv_test_story_aged(size_t universe_index, const char *age, uint64_t seed);

/* Every page's text, one page a line; the caller frees it. */
char *sv_test_all_text(const json_t *story);

#endif
