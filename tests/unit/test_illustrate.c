/* Unit tests for the illustrator's public face: pages, covers, thumbnails,
 * sheets and alt text, drawn from real stories of every universe. */
#include "illustrate/illustrate.h"
#include "illustrate/internal.h"
#include "story_support.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* sv_test_story_in, failing the test when the story cannot be made. */
static json_t *story_in(size_t u, uint64_t seed, const char *title)
{
	json_t *story = sv_test_story_in(u, seed);
	assert_non_null(story);
	if (title)
		json_object_set_new(story, "title", json_string(title));
	return story;
}

/* A PNG decoded into an image surface (the caller destroys it). */
static cairo_surface_t *decode(const struct sv_buf *png)
{
	const struct sv_buf copy = *png;
	char path[] = "/tmp/sv-ill-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_int_equal(fwrite(copy.data, 1, copy.len, f), copy.len);
	fclose(f);
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);
	remove(path);
	assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
	return s;
}

static void draw_page(const json_t *story, size_t i, const char *style, struct sv_buf *png)
{
	struct sv_err err;
	png->len = 0;
	if (sv_illustrate_page(story, sv_test_catalog_json, i, style, png, &err) != 0)
		fail_msg("page %zu: %s", i, err.message);
}

static void pages_are_deterministic_and_all_different(void **state)
{
	json_t *story = story_in(0, 7, NULL);
	size_t n = json_array_size(json_object_get(story, "pages"));
	uint64_t *hashes = calloc(n, sizeof(*hashes));
	struct sv_buf a, b;
	sv_buf_init(&a);
	sv_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		draw_page(story, i, NULL, &a);
		draw_page(story, i, NULL, &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len); /* the same seed, the same bytes */
		hashes[i] = sv_hash64(a.data, a.len, 0);
		for (size_t j = 0; j < i; j++)
			assert_true(hashes[j] != hashes[i]);
	}
	cairo_surface_t *s = decode(&a);
	assert_int_equal(cairo_image_surface_get_width(s), SV_ILLUSTRATE_PAGE_W);
	assert_int_equal(cairo_image_surface_get_height(s), SV_ILLUSTRATE_PAGE_H);
	cairo_surface_destroy(s);
	sv_buf_free(&a);
	sv_buf_free(&b);
	free(hashes);
	json_decref(story);
}

/* Whether a pixel near colour c is in the picture (flat style keeps colours true). */
static bool has_colour(cairo_surface_t *s, struct ill_rgb c)
{
	cairo_surface_flush(s);
	const unsigned char *px = cairo_image_surface_get_data(s);
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	int hits = 0;
	for (int y = 0; y < h; y += 2)
		for (int x = 0; x < w; x += 2) {
			const unsigned char *p = px + y * stride + x * 4; /* B, G, R, A */
			double d = fabs(p[2] / 255.0 - c.r) + fabs(p[1] / 255.0 - c.g) +
			           fabs(p[0] / 255.0 - c.b);
			hits += d < 0.12;
		}
	return hits > 20;
}

static void a_characters_colour_is_on_every_page_it_is_on(void **state)
{
	json_t *story = story_in(2, 3, NULL);
	const json_t *hero = NULL;
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(story, "cast"), i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "role")), "hero") == 0)
			hero = c;
	}
	struct ill_sheet sheet;
	struct sv_err err;
	assert_int_equal(ill_sheet_from_json(hero, &sheet, &err), 0);
	struct sv_buf png;
	sv_buf_init(&png);
	const json_t *page;
	int checked = 0;
	json_array_foreach(json_object_get(story, "pages"), i, page)
	{
		bool present = false;
		size_t k;
		const json_t *role;
		json_array_foreach(json_object_get(json_object_get(page, "scene"), "cast"), k, role)
		{
			present |= strcmp(json_string_value(role), "hero") == 0;
		}
		if (!present)
			continue;
		draw_page(story, i, "flat", &png);
		cairo_surface_t *s = decode(&png);
		assert_true(has_colour(s, sheet.main));
		cairo_surface_destroy(s);
		checked++;
	}
	assert_true(checked > 0);
	sv_buf_free(&png);
	json_decref(story);
}

static void every_universe_and_style_renders(void **state)
{
	size_t nu = json_array_size(json_object_get(sv_test_catalog_json, "universes"));
	struct sv_buf png;
	sv_buf_init(&png);
	/* A page of each universe, the styles in turn: the scene tests cover every place. */
	for (size_t u = 0; u < nu; u++) {
		json_t *story = story_in(u, 100 + u, NULL);
		size_t n = json_array_size(json_object_get(story, "pages"));
		draw_page(story, u % n, sv_illustrate_styles[u % 3], &png);
		json_decref(story);
	}
	sv_buf_free(&png);
}

static void styles_differ_and_unknown_is_refused(void **state)
{
	json_t *story = story_in(1, 9, NULL);
	struct sv_buf a, b;
	sv_buf_init(&a);
	sv_buf_init(&b);
	draw_page(story, 0, "watercolour", &a);
	draw_page(story, 0, "crayon", &b);
	assert_false(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	struct sv_err err;
	assert_int_equal(sv_illustrate_page(story, sv_test_catalog_json, 0, "oil", &a, &err), -1);
	assert_string_equal(err.field, "style");
	assert_int_equal(sv_illustrate_page(story, sv_test_catalog_json, 999, NULL, &a, &err), -1);
	assert_string_equal(err.field, "pages");
	assert_true(sv_illustrate_style_valid("flat"));
	assert_false(sv_illustrate_style_valid("Flat"));
	sv_buf_free(&a);
	sv_buf_free(&b);
	json_decref(story);
}

/* The title band stays on the canvas whatever the title's length. */
static void cover_text_stays_on_the_canvas(void **state)
{
	const char *titles[] = {
	    "Pip",
	    ("The Very Long and Winding Adventure of Pip, Clover, Ada and the Lantern That "
	     "Would Not Stop Glowing All Through the Night Until the Morning Came Again"),
	    "Supercalifragilisticexpialidociousandthensomemorewithoutanyspacesatallinit"};
	for (size_t t = 0; t < sizeof(titles) / sizeof(titles[0]); t++) {
		cairo_surface_t *s = cairo_image_surface_create(
		    CAIRO_FORMAT_RGB24, SV_ILLUSTRATE_COVER_W, SV_ILLUSTRATE_COVER_H);
		cairo_t *cr = cairo_create(s);
		double w = SV_ILLUSTRATE_COVER_W;
		struct ill_box box =
		    ill_text_band(cr, titles[t], "DejaVu Serif Bold", 0.09 * w, 0.05 * w, w,
		                  (struct ill_rgb){0, 0, 0}, (struct ill_rgb){1, 1, 1});
		assert_true(box.x >= 0 && box.x + box.w <= w);
		assert_true(box.y >= 0 && box.y + box.h <= 0.4 * SV_ILLUSTRATE_COVER_H);
		assert_int_equal(cairo_status(cr), CAIRO_STATUS_SUCCESS);
		cairo_destroy(cr);
		cairo_surface_destroy(s);
	}
	json_t *story = story_in(3, 5, titles[1]);
	struct sv_buf png;
	sv_buf_init(&png);
	struct sv_err err;
	assert_int_equal(sv_illustrate_cover(story, sv_test_catalog_json, NULL, &png, &err), 0);
	cairo_surface_t *s = decode(&png);
	assert_int_equal(cairo_image_surface_get_width(s), SV_ILLUSTRATE_COVER_W);
	assert_int_equal(cairo_image_surface_get_height(s), SV_ILLUSTRATE_COVER_H);
	cairo_surface_destroy(s);
	sv_buf_free(&png);
	json_decref(story);
}

static void thumbnails_keep_the_proportion(void **state)
{
	json_t *story = story_in(4, 2, NULL);
	struct sv_buf png, small;
	sv_buf_init(&png);
	sv_buf_init(&small);
	draw_page(story, 0, NULL, &png);
	struct sv_err err;
	assert_int_equal(sv_illustrate_thumbnail(png.data, png.len, 320, &small, &err), 0);
	cairo_surface_t *s = decode(&small);
	assert_int_equal(cairo_image_surface_get_width(s), 320);
	assert_int_equal(cairo_image_surface_get_height(s), 240);
	cairo_surface_destroy(s);
	assert_int_equal(sv_illustrate_thumbnail("not a png", 9, 320, &small, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	sv_buf_free(&png);
	sv_buf_free(&small);
	json_decref(story);
}

static void alt_text_says_who_where_and_when(void **state)
{
	json_t *story = story_in(0, 4, NULL);
	const json_t *scene =
	    json_object_get(json_array_get(json_object_get(story, "pages"), 0), "scene");
	char *alt = sv_illustrate_alt_text(story, 0);
	assert_non_null(alt);
	assert_non_null(strstr(alt, json_string_value(json_object_get(scene, "place_name"))));
	assert_non_null(strstr(alt, json_string_value(json_object_get(scene, "time_of_day"))));
	assert_non_null(strstr(alt, json_string_value(json_object_get(scene, "mood"))));
	assert_int_equal(alt[strlen(alt) - 1], '.');
	free(alt);
	assert_null(sv_illustrate_alt_text(story, 999));
	json_decref(story);
}

static void every_catalog_character_has_a_sheet(void **state)
{
	size_t i;
	const json_t *c;
	struct sv_buf png;
	sv_buf_init(&png);
	json_array_foreach(json_object_get(sv_test_catalog_json, "characters"), i, c)
	{
		struct sv_err err;
		png.len = 0;
		if (sv_illustrate_sheet(c, i % 2 ? "flat" : NULL, &png, &err) != 0)
			fail_msg("%s: %s", json_string_value(json_object_get(c, "id")),
			         err.message);
		assert_true(png.len > 1000);
	}
	sv_buf_free(&png);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pages_are_deterministic_and_all_different),
	    cmocka_unit_test(a_characters_colour_is_on_every_page_it_is_on),
	    cmocka_unit_test(every_universe_and_style_renders),
	    cmocka_unit_test(styles_differ_and_unknown_is_refused),
	    cmocka_unit_test(cover_text_stays_on_the_canvas),
	    cmocka_unit_test(thumbnails_keep_the_proportion),
	    cmocka_unit_test(alt_text_says_who_where_and_when),
	    cmocka_unit_test(every_catalog_character_has_a_sheet),
	};
	return cmocka_run_group_tests_name("illustrate", tests, sv_test_catalog_json_setup,
	                                   sv_test_catalog_json_teardown);
}
