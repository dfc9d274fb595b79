/* Character sheets and drawings: every catalog character has a body, sheets
 * are stable, looks set the colours, and every expression and pose draws
 * inside the character's box. */
#include "illustrate/internal.h"
#include "story_support.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const json_t *characters(void)
{
	static json_t *doc;
	if (!doc)
		doc = sv_story_catalog_json(cat);
	return json_object_get(doc, "characters");
}

static void every_catalog_species_has_a_body(void **state)
{
	(void)state;
	const struct sv_asset *a = sv_asset_find("data/art/bodies.json");
	assert_non_null(a);
	json_t *bodies = json_loadb((const char *)a->data, a->len, 0, NULL);
	assert_non_null(bodies);
	size_t i;
	const json_t *c;
	json_array_foreach(characters(), i, c)
	{
		const char *sp = json_string_value(json_object_get(c, "species"));
		if (!json_object_get(json_object_get(bodies, "species"), sp))
			fail_msg("species '%s' is missing from data/art/bodies.json", sp);
		struct ill_sheet sh;
		assert_int_equal(ill_sheet_from_json(c, &sh, NULL), 0);
	}
	assert_non_null(json_object_get(json_object_get(bodies, "species"), "child"));
	json_decref(bodies);
}

static void sheets_are_stable_and_distinct(void **state)
{
	(void)state;
	struct ill_sheet a, b, c;
	assert_int_equal(ill_sheet_from_json(json_array_get(characters(), 0), &a, NULL), 0);
	assert_int_equal(ill_sheet_from_json(json_array_get(characters(), 0), &b, NULL), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(ill_sheet_from_json(json_array_get(characters(), 1), &c, NULL), 0);
	assert_true(memcmp(&a, &c, sizeof(a)) != 0);
}

static void looks_set_the_main_colour(void **state)
{
	(void)state;
	json_t *mouse = json_pack("{s:s,s:s,s:s}", "name", "Pip", "species", "mouse", "looks",
	                          "a small brown mouse with a red scarf");
	struct ill_sheet sh;
	assert_int_equal(ill_sheet_from_json(mouse, &sh, NULL), 0);
	assert_true(sh.main.r > sh.main.b && sh.main.r < 0.8); /* brownish */
	assert_true(sh.accent.r > 0.7 && sh.accent.g < 0.4);   /* the red scarf */
	json_decref(mouse);
	json_t *custom =
	    json_pack("{s:s,s:s,s:[s]}", "name", "Zog", "species", "baby dragon", "traits", "shy");
	assert_int_equal(ill_sheet_from_json(custom, &sh, NULL), 0);
	json_decref(custom);
	/* Without looks, traits show: a brave, clever one wears a cape and glasses. */
	struct ill_sheet plain, brave;
	json_t *a =
	    json_pack("{s:s,s:s,s:[s]}", "name", "Tam", "species", "cat", "traits", "quiet");
	json_t *b = json_pack("{s:s,s:s,s:[s,s]}", "name", "Tam", "species", "cat", "traits",
	                      "brave", "clever");
	assert_int_equal(ill_sheet_from_json(a, &plain, NULL), 0);
	assert_int_equal(ill_sheet_from_json(b, &brave, NULL), 0);
	assert_true(brave.features != plain.features);
	assert_true((brave.features & ~plain.features) != 0);
	json_decref(a);
	json_decref(b);
	json_t *none = json_pack("{s:s}", "name", "Nobody");
	assert_int_equal(ill_sheet_from_json(none, &sh, NULL), -1);
	json_decref(none);
}

#define BOX 120.0
#define W   320
#define H   200

/* Draws a character (feet at the bottom centre) on a transparent surface. */
static cairo_surface_t *draw(const struct ill_sheet *sh, enum ill_expression e, enum ill_pose p,
                             bool left)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, W, H);
	cairo_t *cr = cairo_create(s);
	struct ill_style st;
	assert_int_equal(ill_style_get("flat", &st), 0);
	struct sv_rng rng;
	sv_rng_seed(&rng, 3);
	ill_character(cr, sh, W / 2.0, H - 20, BOX / sh->size, left, e, p, &st, &rng);
	assert_int_equal(cairo_status(cr), CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	return s;
}

static uint32_t px(cairo_surface_t *s, int x, int y)
{
	return ((uint32_t *)(cairo_image_surface_get_data(s) +
	                     y * cairo_image_surface_get_stride(s)))[x];
}

static void drawings_stay_in_their_box(void **state)
{
	(void)state;
	size_t i;
	const json_t *c;
	json_array_foreach(characters(), i, c)
	{
		struct ill_sheet sh;
		assert_int_equal(ill_sheet_from_json(c, &sh, NULL), 0);
		for (int e = 0; e < ILL_EXPRESSION_COUNT; e++)
			for (int p = 0; p < ILL_POSE_COUNT; p++) {
				cairo_surface_t *s = draw(&sh, e, p, p % 2);
				int inside = 0, outside = 0;
				for (int y = 0; y < H; y++)
					for (int x = 0; x < W; x++) {
						bool in = fabs(x - W / 2.0) <= 1.0 * BOX &&
						          y >= H - 20 - 1.06 * BOX &&
						          y <= H - 20 + 8;
						if (px(s, x, y) >> 24)
							*(in ? &inside : &outside) += 1;
					}
				if (outside || inside < 500)
					fail_msg("%s, %s, pose %d: %d pixels outside, %d inside",
					         sh.name, ill_expression_names[e], p, outside,
					         inside);
				cairo_surface_destroy(s);
			}
	}
}

static void facing_left_mirrors_and_expressions_differ(void **state)
{
	(void)state;
	struct ill_sheet sh;
	assert_int_equal(ill_sheet_from_json(json_array_get(characters(), 0), &sh, NULL), 0);
	cairo_surface_t *r = draw(&sh, ILL_HAPPY, ILL_POSE_STAND, false);
	cairo_surface_t *l = draw(&sh, ILL_HAPPY, ILL_POSE_STAND, true);
	double diff = 0, total = 0;
	for (int x = 0; x < W; x++) {
		double a = 0, b = 0;
		for (int y = 0; y < H; y++) {
			a += px(r, x, y) >> 24;
			b += px(l, W - 1 - x, y) >> 24;
		}
		diff += fabs(a - b);
		total += a;
	}
	assert_true(diff < 0.05 * total);
	for (int e = 1; e < ILL_EXPRESSION_COUNT; e++) {
		cairo_surface_t *o = draw(&sh, e, ILL_POSE_STAND, false);
		int differ = 0;
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				differ += px(o, x, y) != px(r, x, y);
		assert_true(differ > 20);
		cairo_surface_destroy(o);
	}
	cairo_surface_destroy(r);
	cairo_surface_destroy(l);
}

static void moods_choose_expressions(void **state)
{
	(void)state;
	assert_int_equal(ill_expression_for_mood("sleepy"), ILL_SLEEPY);
	assert_int_equal(ill_expression_for_mood("gloomy"), ILL_SAD);
	assert_int_equal(ill_expression_for_mood("no such mood"), ILL_HAPPY);
	assert_int_equal(ill_expression_for_mood(NULL), ILL_HAPPY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_catalog_species_has_a_body),
	    cmocka_unit_test(sheets_are_stable_and_distinct),
	    cmocka_unit_test(looks_set_the_main_colour),
	    cmocka_unit_test(drawings_stay_in_their_box),
	    cmocka_unit_test(facing_left_mirrors_and_expressions_differ),
	    cmocka_unit_test(moods_choose_expressions),
	};
	return cmocka_run_group_tests(tests, sv_test_catalog_setup, sv_test_catalog_teardown);
}
