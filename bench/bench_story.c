/* Stories for the benchmarks (bench_story.h). */
#include "bench_story.h"

#include <stdio.h>
#include <string.h>

json_t *bench_story(const struct sv_catalog *c, const json_t *catalog, size_t i)
{
	const json_t *universes = json_object_get(catalog, "universes");
	const char *u = json_string_value(
	    json_object_get(json_array_get(universes, i % json_array_size(universes)), "id"));
	const json_t *chars = json_object_get(catalog, "characters");
	const char *hero = NULL;
	size_t k;
	const json_t *ch;
	json_array_foreach(chars, k, ch)
	{
		if (!hero &&
		    strcmp(json_string_value(json_object_get(ch, "universe")) ?: "", u) == 0)
			hero = json_string_value(json_object_get(ch, "id"));
	}
	struct sv_story_params p;
	sv_story_params_init(&p);
	snprintf(p.universe, sizeof(p.universe), "%s", u);
	snprintf(p.hero, sizeof(p.hero), "%s", hero ? hero : "");
	snprintf(p.child_name, sizeof(p.child_name), "Sam");
	p.seed = 1000 + i;
	struct sv_err err;
	if (sv_story_params_validate(c, &p, &err) < 0)
		return NULL;
	return sv_story_generate(c, &p, NULL, NULL, &err);
}
