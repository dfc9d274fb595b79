/* Unit tests for the illustrator's drawing layer: the styles and colours, the
 * backdrop of every place of every universe at every hour, and every
 * catalog object, drawn into small canvases and checked pixel by pixel. */
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

#define W 256 /* small canvases keep the whole matrix of places quick */
#define H 192

static const json_t *universes(void)
{
	return json_object_get(sv_test_catalog_json, "universes");
}

static struct ill_scene scene_of(const json_t *u, const char *place, const char *time)
{
	struct ill_scene sc = {.universe = json_string_value(json_object_get(u, "id")),
	                       .place = place,
	                       .mood = "calm",
	                       .time_of_day = time};
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(u, "palette"), i, c)
	{
		if (sc.npalette < 8 &&
		    ill_rgb_parse(json_string_value(c), &sc.palette[sc.npalette]) == 0)
			sc.npalette++;
	}
	return sc;
}

/* A canvas drawn with the backdrop (and the finish when asked). */
static cairo_surface_t *backdrop(const struct ill_scene *sc, const char *style, uint64_t seed,
                                 bool finish, double *ground)
{
	struct ill_style st;
	assert_int_equal(ill_style_get(style, &st), 0);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
	cairo_t *cr = cairo_create(s);
	struct sv_rng rng;
	sv_rng_seed(&rng, seed);
	double g = ill_backdrop(cr, W, H, sc, &st, &rng);
	if (finish)
		ill_finish(cr, W, H, &st, &rng);
	assert_int_equal(cairo_status(cr), CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	if (ground)
		*ground = g;
	return s;
}

static const uint32_t *pixels(cairo_surface_t *s)
{
	return (const uint32_t *)cairo_image_surface_get_data(s);
}

/* The share of pixels that differ by more than a little in any channel. */
static double differing(cairo_surface_t *a, cairo_surface_t *b)
{
	const uint32_t *pa = pixels(a), *pb = pixels(b);
	size_t n = 0;
	for (size_t i = 0; i < (size_t)W * H; i++)
		for (int sh = 0; sh < 24; sh += 8)
			if (abs((int)(pa[i] >> sh & 255) - (int)(pb[i] >> sh & 255)) > 12) {
				n++;
				break;
			}
	return (double)n / (W * H);
}

static double luminance(cairo_surface_t *s)
{
	const uint32_t *p = pixels(s);
	double sum = 0;
	for (size_t i = 0; i < (size_t)W * H; i++)
		sum += 0.2126 * (p[i] >> 16 & 255) + 0.7152 * (p[i] >> 8 & 255) +
		       0.0722 * (p[i] & 255);
	return sum / (W * H);
}

static bool same_pixels(cairo_surface_t *a, cairo_surface_t *b)
{
	return memcmp(pixels(a), pixels(b), (size_t)cairo_image_surface_get_stride(a) * H) == 0;
}

static void styles_are_known_and_parse_by_name(void **state)
{
	(void)state;
	struct ill_style st;
	for (size_t i = 0; sv_illustrate_styles[i]; i++) {
		assert_int_equal(ill_style_get(sv_illustrate_styles[i], &st), 0);
		assert_true(st.line_width > 0);
	}
	assert_int_equal(ill_style_get("oil", &st), -1);
	assert_int_equal(ill_style_get("", &st), -1);
	assert_int_equal(ill_style_get(NULL, &st), -1);
}

static void rgb_parse_accepts_hex_and_rejects_the_malformed(void **state)
{
	(void)state;
	struct ill_rgb c;
	assert_int_equal(ill_rgb_parse("#FF8000", &c), 0);
	assert_true(fabs(c.r - 1) < 1e-9 && fabs(c.g - 128 / 255.0) < 1e-9 && c.b == 0);
	assert_int_equal(ill_rgb_parse("#a1b2c3", &c), 0);
	static const char *const bad[] = {"",         "#",       "FF8000",  "#FF800",
	                                  "#FF80000", "#GG8000", "#FF 800", "red"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ill_rgb_parse(bad[i], &c), -1);
	assert_int_equal(ill_rgb_parse(NULL, &c), -1);
}

static void rgb_shade_and_mix_stay_in_range(void **state)
{
	(void)state;
	struct ill_rgb c = {0.4, 0.6, 0.2};
	struct ill_rgb l = ill_rgb_shade(c, 0.5), d = ill_rgb_shade(c, -0.5);
	assert_true(l.r > c.r && l.g > c.g && l.b > c.b);
	assert_true(d.r < c.r && d.g < c.g);
	struct ill_rgb w = ill_rgb_shade(c, 5); /* clamped: white, not beyond */
	assert_true(w.r <= 1.0 && w.g <= 1.0 && w.b <= 1.0);
	struct ill_rgb m = ill_rgb_mix(c, (struct ill_rgb){1, 1, 1}, 0);
	assert_true(m.r == c.r && m.g == c.g && m.b == c.b);
	m = ill_rgb_mix(c, (struct ill_rgb){1, 1, 1}, 1);
	assert_true(m.r == 1 && m.g == 1 && m.b == 1);
}

static void the_three_styles_look_clearly_different(void **state)
{
	(void)state;
	const json_t *u = json_array_get(universes(), 0);
	const char *place = json_string_value(
	    json_object_get(json_array_get(json_object_get(u, "places"), 0), "id"));
	struct ill_scene sc = scene_of(u, place, "afternoon");
	cairo_surface_t *s[3];
	for (int i = 0; i < 3; i++)
		s[i] = backdrop(&sc, sv_illustrate_styles[i], 11, true, NULL);
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++) {
			double d = differing(s[i], s[j]);
			if (d < 0.2)
				fail_msg("%s and %s differ in only %.0f%% of pixels",
				         sv_illustrate_styles[i], sv_illustrate_styles[j], d * 100);
		}
	for (int i = 0; i < 3; i++)
		cairo_surface_destroy(s[i]);
}

/* Every place of every universe at every hour, in every style: no cairo
 * error, a ground line in the lower part, and the same seed the same pixels. */
static void every_backdrop_draws_and_is_deterministic(void **state)
{
	(void)state;
	static const char *const times[] = {"morning", "midday", "afternoon", "evening", "night"};
	size_t i, j;
	const json_t *u, *p;
	json_array_foreach(universes(), i, u)
	{
		json_array_foreach(json_object_get(u, "places"), j, p)
		{
			const char *place = json_string_value(json_object_get(p, "id"));
			for (size_t t = 0; t < 5; t++) {
				struct ill_scene sc = scene_of(u, place, times[t]);
				const char *style = sv_illustrate_styles[(j + t) % 3];
				double g;
				cairo_surface_t *a = backdrop(&sc, style, 5, true, &g);
				cairo_surface_t *b = backdrop(&sc, style, 5, true, NULL);
				assert_true(g > 0.65 * H && g < 0.85 * H);
				if (!same_pixels(a, b))
					fail_msg("%s/%s at %s is not deterministic", sc.universe,
					         place, times[t]);
				cairo_surface_destroy(a);
				cairo_surface_destroy(b);
			}
		}
	}
}

static void seeds_and_hours_change_the_picture(void **state)
{
	(void)state;
	size_t i;
	const json_t *u;
	json_array_foreach(universes(), i, u)
	{
		const char *place = json_string_value(
		    json_object_get(json_array_get(json_object_get(u, "places"), 0), "id"));
		struct ill_scene sc = scene_of(u, place, "midday");
		cairo_surface_t *a = backdrop(&sc, "flat", 1, false, NULL);
		cairo_surface_t *b = backdrop(&sc, "flat", 2, false, NULL);
		assert_false(same_pixels(a, b));
		sc.time_of_day = "evening";
		cairo_surface_t *c = backdrop(&sc, "flat", 1, false, NULL);
		assert_true(differing(a, c) > 0.2);
		cairo_surface_destroy(a);
		cairo_surface_destroy(b);
		cairo_surface_destroy(c);
	}
}

static void night_is_darker_than_midday(void **state)
{
	(void)state;
	size_t i, j;
	const json_t *u, *p;
	json_array_foreach(universes(), i, u)
	{
		json_array_foreach(json_object_get(u, "places"), j, p)
		{
			struct ill_scene sc =
			    scene_of(u, json_string_value(json_object_get(p, "id")), "midday");
			cairo_surface_t *day = backdrop(&sc, "watercolour", 3, false, NULL);
			sc.time_of_day = "night";
			cairo_surface_t *night = backdrop(&sc, "watercolour", 3, false, NULL);
			double ld = luminance(day), ln = luminance(night);
			if (!(ln < ld * 0.85))
				fail_msg("%s/%s: night %.0f is not darker than midday %.0f",
				         sc.universe, sc.place, ln, ld);
			cairo_surface_destroy(day);
			cairo_surface_destroy(night);
		}
	}
}

static void unknown_places_still_get_a_landscape(void **state)
{
	(void)state;
	struct ill_scene sc = {.universe = "atlantis", .place = "nowhere", .mood = "zesty"};
	cairo_surface_t *s = backdrop(&sc, "crayon", 9, true, NULL);
	assert_true(luminance(s) > 40);
	cairo_surface_destroy(s);
}

/* An object drawn on a blank canvas changes pixels, and only near where it
 * was asked to stand. */
static void check_object(const char *name, const struct ill_scene *sc, const char *style)
{
	struct ill_style st;
	assert_int_equal(ill_style_get(style, &st), 0);
	enum { OW = 200, OH = 200 };
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, OW, OH);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	struct sv_rng rng;
	sv_rng_seed(&rng, 4);
	double x = 100, y = 140, size = 80; /* room all round: nothing should reach the edge */
	ill_object(cr, name, x, y, size, sc, &st, &rng);
	assert_int_equal(cairo_status(cr), CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	const uint32_t *p = (const uint32_t *)cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s) / 4;
	size_t changed = 0, outside = 0;
	for (int j = 0; j < OH; j++)
		for (int i = 0; i < OW; i++) {
			if ((p[j * stride + i] & 0xFFFFFF) == 0xFFFFFF)
				continue;
			changed++;
			if (fabs(i - x) > size || j < y - 1.3 * size || j > y + 0.3 * size)
				outside++;
		}
	if (changed < 200)
		fail_msg("'%s' in %s draws almost nothing (%zu pixels)", name, style, changed);
	if (outside > changed / 50)
		fail_msg("'%s' in %s spills %zu pixels outside its box", name, style, outside);
	cairo_surface_destroy(s);
}

static void every_catalog_object_draws(void **state)
{
	(void)state;
	size_t i, j;
	const json_t *u, *o;
	int n = 0;
	json_array_foreach(universes(), i, u)
	{
		struct ill_scene sc = scene_of(u, NULL, NULL);
		json_array_foreach(json_object_get(u, "objects"), j, o)
		{
			check_object(json_string_value(o), &sc, sv_illustrate_styles[(i + j) % 3]);
			n++;
		}
	}
	assert_true(n >= 8 * 7);
	check_object("a thing nobody has heard of", NULL, "flat");
	check_object("", NULL, "crayon");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(styles_are_known_and_parse_by_name),
	    cmocka_unit_test(rgb_parse_accepts_hex_and_rejects_the_malformed),
	    cmocka_unit_test(rgb_shade_and_mix_stay_in_range),
	    cmocka_unit_test(the_three_styles_look_clearly_different),
	    cmocka_unit_test(every_backdrop_draws_and_is_deterministic),
	    cmocka_unit_test(seeds_and_hours_change_the_picture),
	    cmocka_unit_test(night_is_darker_than_midday),
	    cmocka_unit_test(unknown_places_still_get_a_landscape),
	    cmocka_unit_test(every_catalog_object_draws),
	};
	return cmocka_run_group_tests(tests, sv_test_catalog_json_setup,
	                              sv_test_catalog_json_teardown);
}
