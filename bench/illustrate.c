/*
 * storyverse-illustrate-bench: how long a picture takes to draw on one core,
 * per art style: a 1024x768 page (backdrop, cast, objects, texture and PNG
 * encoding) and the 768x1024 cover with its title. Pages come from real
 * stories of every universe, so the mean covers every kind of scene.
 *
 *   storyverse-illustrate-bench [--stories N]
 *
 * Prints one "page style=S ms=X" and one "cover style=S ms=X" line per style.
 */
#include "illustrate/illustrate.h"
#include "bench_story.h"
#include "story/story.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mean milliseconds per picture of one kind, over the stories. */
static double time_pictures(json_t **stories, size_t n, const json_t *catalog, const char *style,
                            bool cover, size_t *count)
{
	struct sv_buf png;
	sv_buf_init(&png);
	struct sv_err err;
	*count = 0;
	int64_t start = sv_time_mono_ns();
	for (size_t s = 0; s < n; s++) {
		size_t pages = cover ? 1 : json_array_size(json_object_get(stories[s], "pages"));
		for (size_t i = 0; i < pages; i++, (*count)++) {
			png.len = 0;
			int rc =
			    cover ? sv_illustrate_cover(stories[s], catalog, style, &png, &err)
			          : sv_illustrate_page(stories[s], catalog, i, style, &png, &err);
			if (rc < 0) {
				fprintf(stderr, "storyverse-illustrate-bench: %s\n", err.message);
				exit(1);
			}
		}
	}
	double ms = (double)(sv_time_mono_ns() - start) / 1e6;
	sv_buf_free(&png);
	return *count ? ms / (double)*count : 0;
}

int main(int argc, char **argv)
{
	size_t n = 8;
	if (argc == 3 && strcmp(argv[1], "--stories") == 0)
		n = (size_t)strtoul(argv[2], NULL, 10);
	else if (argc != 1 || n == 0) {
		fprintf(stderr, "usage: storyverse-illustrate-bench [--stories N]\n");
		return 2;
	}
	struct sv_err err;
	struct sv_catalog *c = sv_story_catalog_new("en", &err);
	json_t *catalog = c ? sv_story_catalog_json(c) : NULL;
	json_t **stories = calloc(n, sizeof(*stories));
	for (size_t i = 0; catalog && stories && i < n; i++)
		if (!(stories[i] = bench_story(c, catalog, i)))
			return fprintf(stderr, "storyverse-illustrate-bench: no story %zu\n", i), 1;
	if (!catalog || !stories)
		return fprintf(stderr, "storyverse-illustrate-bench: cannot load the catalog\n"), 1;
	for (size_t s = 0; sv_illustrate_styles[s]; s++) {
		size_t count;
		double page =
		    time_pictures(stories, n, catalog, sv_illustrate_styles[s], false, &count);
		printf("page style=%s ms=%.1f pictures=%zu\n", sv_illustrate_styles[s], page,
		       count);
		double cover =
		    time_pictures(stories, n, catalog, sv_illustrate_styles[s], true, &count);
		printf("cover style=%s ms=%.1f pictures=%zu\n", sv_illustrate_styles[s], cover,
		       count);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(stories[i]);
	free(stories);
	json_decref(catalog);
	sv_story_catalog_free(c);
	return 0;
}
