/*
 * Shared by the story unit tests: one catalog loaded for a whole group, and
 * small readers of story documents.
 */
#ifndef SV_TEST_STORY_SUPPORT_H
#define SV_TEST_STORY_SUPPORT_H

#include "story/story.h"

/* The catalog of the running group, loaded by sv_test_catalog_setup. */
extern struct sv_catalog *cat;

/* cmocka group setup and teardown that load and free cat. */
int sv_test_catalog_setup(void **state);
int sv_test_catalog_teardown(void **state);

/* Every page's text, one page a line; the caller frees it. */
char *sv_test_all_text(const json_t *story);

#endif
