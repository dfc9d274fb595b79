/* Helpers shared by the story unit tests (see story_support.h). */
#include "story_support.h"

#include <stdio.h>
#include <string.h>

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

json_t *sv_test_catalog_json;

int sv_test_catalog_json_setup(void **state)
{
	if (sv_test_catalog_setup(state) < 0)
		return -1;
	sv_test_catalog_json = sv_story_catalog_json(cat);
	return sv_test_catalog_json ? 0 : -1;
}

int sv_test_catalog_json_teardown(void **state)
{
	json_decref(sv_test_catalog_json);
	sv_test_catalog_json = NULL;
	return sv_test_catalog_teardown(state);
}

json_t *sv_test_story_in(size_t universe_index, uint64_t seed)
{
	return sv_test_story_aged(universe_index, NULL, seed);
}

json_t *sv_test_story_aged(size_t universe_index, const char *age, uint64_t seed)
{
	const json_t *universe =
	    json_array_get(json_object_get(sv_test_catalog_json, "universes"), universe_index);
	const char *id = json_string_value(json_object_get(universe, "id"));
	const char *hero = NULL;
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(sv_test_catalog_json, "characters"), i, c)
	{
		if (!hero && id &&
		    strcmp(json_string_value(json_object_get(c, "universe")), id) == 0)
			hero = json_string_value(json_object_get(c, "id"));
	}
	struct sv_story_params p;
	sv_story_params_init(&p);
	snprintf(p.universe, sizeof(p.universe), "%s", id ? id : "");
	snprintf(p.hero, sizeof(p.hero), "%s", hero ? hero : "");
	snprintf(p.child_name, sizeof(p.child_name), "Ada");
	p.seed = seed;
	if (age)
		snprintf(p.age, sizeof(p.age), "%s", age);
	struct sv_err err = {0};
	json_t *story = sv_story_params_validate(cat, &p, &err) == 0
	                    ? sv_story_generate(cat, &p, NULL, NULL, &err)
	                    : NULL;
	if (!story)
		fprintf(stderr, "story in universe %zu: %s\n", universe_index, err.message);
	return story;
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
