/* Fuzzes the story request parser: any bytes as a POST /api/v1/stories body. */
#include "story/story.h"

#include <stdint.h>
#include <stdlib.h>

static struct sv_catalog *catalog;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!catalog && !(catalog = sv_story_catalog_new("en", NULL)))
		abort();
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!doc)
		return 0;
	struct sv_story_params p;
	sv_story_params_init(&p);
	struct sv_err err;
	int seed_given;
	if (sv_story_params_from_json(catalog, doc, &p, &seed_given, &err) == 0) {
		json_t *back = sv_story_params_to_json(&p);
		json_decref(back);
	}
	json_decref(doc);
	return 0;
}
