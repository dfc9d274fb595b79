/* Helpers shared by the story unit tests (see story_support.h). */
#include "story_support.h"

#include <stdio.h>

struct sv_catalog *cat;

int sv_test_catalog_setup(void **state)
{
	struct sv_err err = {0};
	cat = sv_story_catalog_new("en", &err);
	if (!cat)
		fprintf(stderr, "catalog: %s\n", err.message);
	return cat ? 0 : -1;
}

int sv_test_catalog_teardown(void **state)
{
	sv_story_catalog_free(cat);
	cat = NULL;
	return 0;
}

char *sv_test_all_text(const json_t *story)
{
	struct sv_buf b;
	sv_buf_init(&b);
	size_t i;
	const json_t *pg;
	json_array_foreach(json_object_get(story, "pages"), i, pg)
	{
		sv_buf_puts(&b, json_string_value(json_object_get(pg, "text")));
		sv_buf_puts(&b, "\n");
	}
	return sv_buf_steal(&b);
}
