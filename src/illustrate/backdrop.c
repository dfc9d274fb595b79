/*
 * The backdrop of a page: sky and light for the time of day, weather for the
 * mood, terrain layers fading into the distance, and the place's features.
 *
 * Everything the backdrop paints goes through tone(), which mixes a colour
 * towards the haze of the sky by its distance and towards the light of the
 * hour (rosy mornings, golden evenings, blue nights) and the weather (grey
 * gloom), so one place reads differently at every hour. Places are data: a
 * table from universe and place to a list of features, each a drawer of a
 * small family (trees of a kind, water, a silhouette, a building…) with its
 * position, size and layer. An unknown place gets gentle hills and trees in
 * the universe's palette.
 */
#include "illustrate/internal.h"

#include <math.h>
#include <string.h>

#define HEX(v)                                                                                     \
	((struct ill_rgb){((v) >> 16 & 255) / 255.0, ((v) >> 8 & 255) / 255.0, ((v)&255) / 255.0})
#define GROUND 0.76 /* the ground line, as a fraction of the height */

enum sky_kind { SKY_OPEN, SKY_WATER, SKY_SPACE, SKY_INDOOR, SKY_SAME = -1 };

/* Everything the drawers share while one backdrop is painted. */
struct bd {
	cairo_t *cr;
	double w, h, ground;
	const struct ill_scene *sc;
	const struct ill_style *st;
	struct sv_rng *rng;
	struct ill_rgb top, haze, tint;
	double tint_amt, gloom;
	int sky;
	bool night, sunny, rainy;
};

/* ---- colour and paint ---- */

static const uint32_t default_palette[] = {0x8BC34A, 0xFFE082, 0xF48FB1, 0x81D4FA, 0xA1887F};

static struct ill_rgb pal(const struct bd *b, int i)
{
	if (b->sc->npalette > 0)
		return b->sc->palette[i % b->sc->npalette];
	return HEX(default_palette[i % 5]);
}

/* A colour as seen at depth (0 near, 1 at the horizon) in this light. */
static struct ill_rgb tone(const struct bd *b, struct ill_rgb c, double depth)
{
	c = ill_rgb_mix(c, b->haze, depth);
	c = ill_rgb_mix(c, (struct ill_rgb){0.5, 0.52, 0.56}, b->gloom);
	return ill_rgb_mix(c, b->tint, b->tint_amt);
}

static void paint(struct bd *b, struct ill_rgb c, double depth)
{
	ill_fill(b->cr, b->st, tone(b, c, depth), b->rng);
}

/* Fills and outlines: the buildings and big things of the middle ground. */
static void paint_lined(struct bd *b, struct ill_rgb c, double depth)
{
	cairo_path_t *p = cairo_copy_path(b->cr);
	struct ill_rgb t = tone(b, c, depth);
	ill_fill(b->cr, b->st, t, b->rng);
	cairo_append_path(b->cr, p);
	cairo_path_destroy(p);
	ill_stroke(b->cr, b->st, ill_rgb_shade(t, -0.45), 2.0 * (1 - depth), b->rng);
}

static void ellipse(cairo_t *cr, double x, double y, double rx, double ry)
{
	cairo_save(cr);
	cairo_translate(cr, x, y);
	cairo_scale(cr, rx, ry);
	cairo_new_sub_path(cr);
	cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
	cairo_restore(cr);
}

/* A quadratic Bézier from the current point, as a cubic (cairo has no quadratic). */
static void quad_to(cairo_t *cr, double cx, double cy, double x, double y)
{
	double x0, y0;
	cairo_get_current_point(cr, &x0, &y0);
	cairo_curve_to(cr, x0 + 2.0 / 3 * (cx - x0), y0 + 2.0 / 3 * (cy - y0),
	               x + 2.0 / 3 * (cx - x), y + 2.0 / 3 * (cy - y), x, y);
}

static void rect(cairo_t *cr, double x, double y, double w, double h)
{
	cairo_rectangle(cr, x, y, w, h);
}

/* A soft glow of colour c (alpha a) around a point. */
static void glow(cairo_t *cr, double x, double y, double r, struct ill_rgb c, double a)
{
	cairo_pattern_t *g = cairo_pattern_create_radial(x, y, 0, x, y, r);
	cairo_pattern_add_color_stop_rgba(g, 0, c.r, c.g, c.b, a);
	cairo_pattern_add_color_stop_rgba(g, 1, c.r, c.g, c.b, 0);
	cairo_set_source(cr, g);
	cairo_arc(cr, x, y, r, 0, 2 * M_PI);
	cairo_fill(cr);
	cairo_pattern_destroy(g);
}

/* ---- light: the hour and the weather ---- */

struct hour {
	const char *name;
	uint32_t top, bottom, tint;
	double tint_amt, sun_x, sun_y; /* sun_y < 0: no sun */
};

static const struct hour hours[] = {
    {"morning", 0x8EC9EE, 0xFFD3C2, 0xFFB49A, 0.08, 0.18, 0.30},
    {"midday", 0x4FA8E8, 0xCBEDFF, 0xFFFFFF, 0.0, 0.72, 0.13},
    {"afternoon", 0x66B2E6, 0xFFE6A6, 0xFFCF70, 0.10, 0.80, 0.22},
    {"evening", 0x3E4A8E, 0xFF9E5E, 0xFF7A3C, 0.22, 0.78, 0.52},
    {"night", 0x0B1236, 0x2A3A78, 0x101A4A, 0.52, 0.8, -1},
};

static const struct hour *hour_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof(hours) / sizeof(hours[0]); i++)
		if (strcmp(hours[i].name, name) == 0)
			return &hours[i];
	return &hours[2]; /* unknown: afternoon */
}

static bool word_in(const char *w, const char *const *list)
{
	for (; w && *list; list++)
		if (strcmp(w, *list) == 0)
			return true;
	return false;
}

static void set_light(struct bd *b, const struct hour *hr)
{
	static const char *const grey[] = {"gloomy", "sad", "tense", "worried", "stormy", NULL};
	static const char *const wet[] = {"gloomy", "sad", "stormy", NULL};
	static const char *const bright[] = {"sunny", "cheerful", "joyful", "excited",
	                                     "proud", "happy",    NULL};
	b->gloom = word_in(b->sc->mood, grey) ? 0.22 : 0;
	b->rainy = word_in(b->sc->mood, wet);
	b->sunny = word_in(b->sc->mood, bright);
	b->night = hr == &hours[4];
	b->top = ill_rgb_mix(HEX(hr->top), (struct ill_rgb){0.45, 0.5, 0.58}, b->gloom * 2);
	b->haze = ill_rgb_mix(HEX(hr->bottom), (struct ill_rgb){0.7, 0.72, 0.76}, b->gloom * 2);
	b->tint = HEX(hr->tint);
	b->tint_amt = hr->tint_amt + (b->sunny && !b->night ? -0.03 : 0);
	if (b->tint_amt < 0)
		b->tint_amt = 0;
}

/* ---- the sky ---- */

static void gradient(struct bd *b, struct ill_rgb top, struct ill_rgb bottom)
{
	cairo_pattern_t *g = cairo_pattern_create_linear(0, 0, 0, b->ground);
	cairo_pattern_add_color_stop_rgb(g, 0, top.r, top.g, top.b);
	cairo_pattern_add_color_stop_rgb(g, 1, bottom.r, bottom.g, bottom.b);
	cairo_set_source(b->cr, g);
	cairo_paint(b->cr);
	cairo_pattern_destroy(g);
}

static void stars(struct bd *b, int n, double bottom)
{
	cairo_t *cr = b->cr;
	for (int i = 0; i < n; i++) {
		double x = sv_rng_range(b->rng, 0, b->w), y = sv_rng_range(b->rng, 0, bottom);
		double r = sv_rng_range(b->rng, 0.6, 2.2);
		cairo_set_source_rgba(cr, 1, 0.97, 0.85, sv_rng_range(b->rng, 0.5, 1));
		if (r > 1.9) { /* a few twinkle with a little cross */
			cairo_set_line_width(cr, 1.2);
			cairo_move_to(cr, x - 3 * r, y);
			cairo_line_to(cr, x + 3 * r, y);
			cairo_move_to(cr, x, y - 3 * r);
			cairo_line_to(cr, x, y + 3 * r);
			cairo_stroke(cr);
		}
		cairo_arc(cr, x, y, r, 0, 2 * M_PI);
		cairo_fill(cr);
	}
}

static void moon(struct bd *b, double x, double y, double r)
{
	glow(b->cr, x, y, 3 * r, (struct ill_rgb){1, 0.95, 0.75}, 0.35);
	cairo_arc(b->cr, x, y, r, 0, 2 * M_PI);
	ill_fill(b->cr, b->st, (struct ill_rgb){1, 0.96, 0.8}, b->rng);
	for (int i = 0; i < 3; i++) { /* soft craters */
		double a = sv_rng_range(b->rng, 0, 2 * M_PI), d = sv_rng_range(b->rng, 0.2, 0.55);
		cairo_arc(b->cr, x + cos(a) * d * r, y + sin(a) * d * r,
		          r * sv_rng_range(b->rng, 0.1, 0.2), 0, 2 * M_PI);
		ill_fill(b->cr, b->st, (struct ill_rgb){0.93, 0.88, 0.72}, b->rng);
	}
}

static void sun(struct bd *b, const struct hour *hr)
{
	double x = hr->sun_x * b->w, y = hr->sun_y * b->h, r = 0.055 * b->w;
	bool low = hr->sun_y > 0.4;
	struct ill_rgb c = low ? HEX(0xFF8A50) : HEX(0xFFE066);
	glow(b->cr, x, y, r * (b->sunny ? 4.5 : 3), (struct ill_rgb){1, 0.95, 0.6}, 0.5);
	if (b->sunny && !low) { /* rays, the way children draw them */
		for (int i = 0; i < 12; i++) {
			double a = i * M_PI / 6 + 0.2;
			cairo_move_to(b->cr, x + cos(a) * r * 1.35, y + sin(a) * r * 1.35);
			cairo_line_to(b->cr, x + cos(a) * r * 1.85, y + sin(a) * r * 1.85);
		}
		ill_stroke(b->cr, b->st, HEX(0xFFC933), 6, b->rng);
	}
	cairo_arc(b->cr, x, y, low ? 1.4 * r : r, 0, 2 * M_PI);
	ill_fill(b->cr, b->st, c, b->rng);
}

static void cloud(struct bd *b, double x, double y, double s, struct ill_rgb c)
{
	cairo_new_path(b->cr);
	static const double puffs[][3] = {{-1.0, 0.1, 0.55},
	                                  {-0.45, -0.25, 0.7},
	                                  {0.25, -0.35, 0.8},
	                                  {0.9, 0.0, 0.6},
	                                  {0.1, 0.15, 0.65}};
	for (size_t i = 0; i < 5; i++) {
		cairo_new_sub_path(b->cr);
		cairo_arc(b->cr, x + puffs[i][0] * s, y + puffs[i][1] * s, puffs[i][2] * s, 0,
		          2 * M_PI);
	}
	ill_fill(b->cr, b->st, c, b->rng);
}

static void clouds(struct bd *b)
{
	int n = b->gloom > 0 ? 6 : b->sunny ? 2 : 3;
	struct ill_rgb c = b->gloom > 0 ? HEX(0x9AA3B5)
	                   : b->night   ? HEX(0x3A4784)
	                                : (struct ill_rgb){1, 1, 1};
	c = ill_rgb_mix(c, b->tint, b->tint_amt * 0.6);
	for (int i = 0; i < n; i++) {
		/* At night they keep to the left, clear of the moon. */
		double x = (i + sv_rng_range(b->rng, 0.1, 0.9)) / n * b->w * (b->night ? 0.62 : 1);
		double y = sv_rng_range(b->rng, 0.07, b->gloom > 0 ? 0.22 : 0.3) * b->h;
		double s = sv_rng_range(b->rng, 0.035, 0.06) * b->w * (b->gloom > 0 ? 1.4 : 1);
		cloud(b, x, y, s, ill_rgb_shade(c, sv_rng_range(b->rng, -0.06, 0.04)));
	}
}

static void open_sky(struct bd *b, const struct hour *hr)
{
	gradient(b, b->top, b->haze);
	if (b->night || hr == &hours[3])
		stars(b, b->night ? 90 : 18, 0.45 * b->h);
	if (b->night)
		moon(b, 0.8 * b->w, 0.17 * b->h, 0.045 * b->w);
	else if (b->gloom == 0)
		sun(b, hr);
	clouds(b);
}

static void water_sky(struct bd *b)
{
	struct ill_rgb top = ill_rgb_mix(pal(b, 1), HEX(0x4DD0E1), 0.5),
	               deep = ill_rgb_mix(pal(b, 0), HEX(0x01579B), 0.5);
	b->haze = ill_rgb_mix(top, deep, 0.4);
	gradient(b, tone(b, top, 0), tone(b, deep, 0));
	for (int i = 0; i < 5; i++) { /* sunbeams slanting down through the water */
		double x = sv_rng_range(b->rng, 0.05, 0.95) * b->w,
		       s = sv_rng_range(b->rng, 20, 60);
		cairo_move_to(b->cr, x - s, 0);
		cairo_line_to(b->cr, x + s, 0);
		cairo_line_to(b->cr, x + s + 0.25 * b->w, b->ground);
		cairo_line_to(b->cr, x - s + 0.2 * b->w, b->ground);
		cairo_close_path(b->cr);
		cairo_set_source_rgba(b->cr, 1, 1, 0.9, b->night ? 0.04 : 0.1);
		cairo_fill(b->cr);
	}
}

static void space_sky(struct bd *b)
{
	b->haze = HEX(0x3A2B78);
	gradient(b, HEX(0x070A26), tone(b, HEX(0x3A2B78), 0));
	glow(b->cr, 0.25 * b->w, 0.3 * b->h, 0.3 * b->w, pal(b, 1), 0.25); /* nebulae */
	glow(b->cr, 0.7 * b->w, 0.15 * b->h, 0.22 * b->w, pal(b, 4), 0.18);
	stars(b, 140, b->ground);
}

static void indoor_sky(struct bd *b)
{
	b->haze = HEX(0xE8D5B5);
	gradient(b, tone(b, HEX(0xD9B98C), 0), tone(b, HEX(0xF0DDB8), 0));
}

/* ---- terrain ---- */

struct land {
	const char *universe;
	int sky;
	uint32_t far, mid, ground;
};

static const struct land lands[] = {
    {"meadow", SKY_OPEN, 0x9CCC65, 0x7CB342, 0x8BC34A},
    {"sea", SKY_WATER, 0x5E7FC0, 0x4FA5A0, 0xF1DDB0},
    {"space", SKY_SPACE, 0x6A4FB0, 0x8E86C0, 0xB8B4CC},
    {"snow", SKY_OPEN, 0xB8D4F0, 0xDCEBFA, 0xF7FBFF},
    {"kingdom", SKY_OPEN, 0x86AE6E, 0x689F38, 0x8BC34A},
    {"rainforest", SKY_OPEN, 0x2E7D32, 0x3C8F40, 0x5B9A34},
    {"desert", SKY_OPEN, 0xE0A048, 0xEEC374, 0xF6E3B4},
    {"dinosaur", SKY_OPEN, 0x7CB342, 0x8BB04A, 0xA1C349},
};

static const struct land *land_of(const char *universe)
{
	for (size_t i = 0; universe && i < sizeof(lands) / sizeof(lands[0]); i++)
		if (strcmp(lands[i].universe, universe) == 0)
			return &lands[i];
	return NULL;
}

/* A rolling band from y (its mean top) down to the bottom of the canvas. */
static void band(struct bd *b, double y, double amp, double waves)
{
	double p1 = sv_rng_range(b->rng, 0, 6.3), p2 = sv_rng_range(b->rng, 0, 6.3);
	cairo_move_to(b->cr, -10, b->h + 10);
	for (double x = -10; x <= b->w + 10; x += 12) {
		double t = x / b->w * waves * M_PI;
		cairo_line_to(b->cr, x, y - amp * (0.6 * sin(t + p1) + 0.4 * sin(2.3 * t + p2)));
	}
	cairo_line_to(b->cr, b->w + 10, b->h + 10);
	cairo_close_path(b->cr);
}

/* ---- features ---- */

enum layer { L_SKY, L_FAR, L_MID, L_GROUND, L_FRONT, L_COUNT };

struct feat {
	int layer, kind, type, n;
	double x, y, s, span; /* fractions: x and span of w, y and s of h */
};

static double depth_of(int layer)
{
	static const double d[L_COUNT] = {0.6, 0.5, 0.28, 0, 0};
	return d[layer];
}

/* -- trees and plants -- */

enum tree {
	T_ROUND,
	T_APPLE,
	T_OAK,
	T_PINE,
	T_SNOWPINE,
	T_PALM,
	T_JUNGLE,
	T_FERN,
	T_MUSHROOM,
	T_KELP,
	T_CORAL,
	T_CACTUS,
	T_REEDS
};

static void trunk(struct bd *b, double x, double base, double w, double h, double d)
{
	cairo_move_to(b->cr, x - w, base);
	cairo_curve_to(b->cr, x - w * 0.5, base - h * 0.5, x - w * 0.45, base - h, x - w * 0.35,
	               base - h);
	cairo_line_to(b->cr, x + w * 0.35, base - h);
	cairo_curve_to(b->cr, x + w * 0.45, base - h, x + w * 0.5, base - h * 0.5, x + w, base);
	cairo_close_path(b->cr);
	paint(b, HEX(0x8D6E63), d);
}

static void crown(struct bd *b, double x, double y, double r, struct ill_rgb c, double d)
{
	static const double puffs[][3] = {
	    {0, -0.15, 0.75}, {-0.55, 0.15, 0.55}, {0.55, 0.15, 0.55}, {0, 0.3, 0.6}};
	for (int i = 0; i < 4; i++) {
		cairo_new_sub_path(b->cr);
		cairo_arc(b->cr, x + puffs[i][0] * r, y + puffs[i][1] * r, puffs[i][2] * r, 0,
		          2 * M_PI);
	}
	paint(b, c, d);
}

static void round_tree(struct bd *b, double x, double base, double s, double d, int type)
{
	struct ill_rgb leaf = ill_rgb_mix(HEX(0x66BB6A), pal(b, 0), 0.4);
	double r = s * (type == T_OAK ? 0.42 : 0.3);
	trunk(b, x, base, s * (type == T_OAK ? 0.16 : 0.06), s * 0.7, d);
	crown(b, x, base - s * 0.8, r, ill_rgb_shade(leaf, -0.1), d);
	crown(b, x - r * 0.15, base - s * 0.86, r * 0.7, ill_rgb_shade(leaf, 0.08), d);
	if (type != T_APPLE)
		return;
	for (int i = 0; i < 7; i++) {
		double a = sv_rng_range(b->rng, 0, 2 * M_PI), q = sv_rng_range(b->rng, 0.2, 0.9);
		cairo_new_sub_path(b->cr);
		cairo_arc(b->cr, x + cos(a) * q * r, base - s * 0.8 + sin(a) * q * r * 0.8,
		          s * 0.035, 0, 2 * M_PI);
	}
	paint(b, HEX(0xE53935), d);
}

static void pine(struct bd *b, double x, double base, double s, double d, bool snow)
{
	trunk(b, x, base, s * 0.05, s * 0.25, d);
	struct ill_rgb c = ill_rgb_mix(HEX(0x2E7D5B), pal(b, 2), 0.2);
	for (int i = 0; i < 3; i++) {
		double y = base - s * (0.2 + 0.25 * i), hw = s * (0.3 - 0.07 * i);
		cairo_move_to(b->cr, x - hw, y);
		quad_to(b->cr, x, y + s * 0.04, x + hw, y);
		cairo_line_to(b->cr, x, y - s * 0.38);
		cairo_close_path(b->cr);
		paint(b, ill_rgb_shade(c, 0.05 * i), d);
		if (snow) {
			cairo_move_to(b->cr, x - hw * 0.45, y - s * 0.2);
			quad_to(b->cr, x, y - s * 0.15, x + hw * 0.45, y - s * 0.2);
			cairo_line_to(b->cr, x, y - s * 0.38);
			cairo_close_path(b->cr);
			paint(b, HEX(0xF5FAFF), d);
		}
	}
}

static void palm(struct bd *b, double x, double base, double s, double d)
{
	double tx = x + s * 0.12, ty = base - s;
	cairo_move_to(b->cr, x - s * 0.04, base);
	quad_to(b->cr, x, base - s * 0.6, tx - s * 0.02, ty);
	cairo_line_to(b->cr, tx + s * 0.02, ty);
	quad_to(b->cr, x + s * 0.06, base - s * 0.6, x + s * 0.04, base);
	cairo_close_path(b->cr);
	paint(b, HEX(0xA1887F), d);
	for (int i = 0; i < 6; i++) {
		double a = M_PI * (1.05 + i * 0.19), l = s * 0.42;
		double ex = tx + cos(a) * l, ey = ty + sin(a) * l * 0.6 + l * 0.35;
		cairo_move_to(b->cr, tx, ty);
		quad_to(b->cr, tx + cos(a) * l * 0.6, ty + sin(a) * l * 0.6 - l * 0.2, ex, ey);
		quad_to(b->cr, tx + cos(a) * l * 0.5, ty + sin(a) * l * 0.5, tx, ty + s * 0.03);
		cairo_close_path(b->cr);
	}
	paint(b, ill_rgb_mix(HEX(0x43A047), pal(b, 0), 0.2), d);
}

static void jungle_tree(struct bd *b, double x, double base, double s, double d)
{
	trunk(b, x, base, s * 0.08, s * 0.85, d);
	struct ill_rgb c = ill_rgb_mix(HEX(0x2E7D32), pal(b, 1), 0.4);
	for (int i = 0; i < 3; i++) {
		ellipse(b->cr, x + s * (i - 1) * 0.18, base - s * (0.85 + 0.06 * (i % 2)), s * 0.28,
		        s * 0.13);
	}
	paint(b, c, d);
	ellipse(b->cr, x, base - s * 0.97, s * 0.22, s * 0.1);
	paint(b, ill_rgb_shade(c, 0.12), d);
}

static void fern(struct bd *b, double x, double base, double s, double d)
{
	struct ill_rgb c = ill_rgb_mix(HEX(0x558B2F), pal(b, 1), 0.35);
	for (int i = 0; i < 7; i++) {
		double a = -M_PI / 2 + (i - 3) * 0.32, l = s * (1 - 0.08 * fabs(i - 3.0));
		double ex = x + cos(a) * l, ey = base + sin(a) * l;
		cairo_move_to(b->cr, x - s * 0.02, base);
		quad_to(b->cr, x + cos(a) * l * 0.5 - s * 0.08, base + sin(a) * l * 0.6, ex,
		        ey + s * 0.1);
		quad_to(b->cr, x + cos(a) * l * 0.5 + s * 0.08, base + sin(a) * l * 0.5,
		        x + s * 0.02, base);
		cairo_close_path(b->cr);
	}
	paint(b, c, d);
}

static void mushroom(struct bd *b, double x, double base, double s, double d)
{
	struct ill_rgb cap = sv_rng_below(b->rng, 2) ? HEX(0x4DD0E1) : HEX(0x81C784);
	glow(b->cr, x, base - s * 0.6, s * 0.9, cap, 0.45);
	rect(b->cr, x - s * 0.08, base - s * 0.6, s * 0.16, s * 0.6);
	paint(b, HEX(0xEDE3D0), d);
	cairo_arc(b->cr, x, base - s * 0.55, s * 0.35, M_PI, 2 * M_PI);
	cairo_close_path(b->cr);
	ill_fill(b->cr, b->st, ill_rgb_shade(cap, 0.1), b->rng); /* it glows: no night tint */
}

static void kelp(struct bd *b, double x, double base, double s, double d)
{
	double ph = sv_rng_range(b->rng, 0, 6.3);
	cairo_move_to(b->cr, x - s * 0.03, base);
	for (int i = 1; i <= 10; i++)
		cairo_line_to(b->cr, x + sin(ph + i * 0.8) * s * 0.06 - s * 0.03,
		              base - s * i * 0.1);
	for (int i = 10; i >= 0; i--)
		cairo_line_to(b->cr, x + sin(ph + i * 0.8) * s * 0.06 + s * 0.04,
		              base - s * i * 0.1);
	cairo_close_path(b->cr);
	paint(b, ill_rgb_mix(HEX(0x4E8F3A), HEX(0x8D9B2B), sv_rng_unit(b->rng)), d);
}

static void coral(struct bd *b, double x, double base, double s, double d)
{
	struct ill_rgb c = pal(b, 2 + (int)sv_rng_below(b->rng, 3));
	cairo_set_line_cap(b->cr, CAIRO_LINE_CAP_ROUND);
	for (int i = 0; i < 5; i++) {
		double a = -M_PI / 2 + (i - 2) * 0.35, l = s * sv_rng_range(b->rng, 0.55, 1);
		double ex = x + cos(a) * l, ey = base + sin(a) * l;
		cairo_new_sub_path(b->cr);
		cairo_arc(b->cr, ex, ey, s * 0.09, 0, 2 * M_PI);
		cairo_move_to(b->cr, x - s * 0.05, base);
		cairo_line_to(b->cr, ex - s * 0.06, ey);
		cairo_line_to(b->cr, ex + s * 0.06, ey);
		cairo_line_to(b->cr, x + s * 0.05, base);
		cairo_close_path(b->cr);
	}
	paint(b, ill_rgb_shade(c, 0.1), d);
}

static void cactus(struct bd *b, double x, double base, double s, double d)
{
	rect(b->cr, x - s * 0.08, base - s * 0.8, s * 0.16, s * 0.8);
	ellipse(b->cr, x, base - s * 0.8, s * 0.08, s * 0.08);
	rect(b->cr, x - s * 0.28, base - s * 0.55, s * 0.2, s * 0.09);
	rect(b->cr, x - s * 0.28, base - s * 0.75, s * 0.09, s * 0.25);
	ellipse(b->cr, x - s * 0.235, base - s * 0.75, s * 0.045, s * 0.045);
	paint(b, HEX(0x6E9F4A), d);
}

static void reeds(struct bd *b, double x, double base, double s, double d)
{
	for (int i = 0; i < 6; i++) {
		double dx = (i - 2.5) * s * 0.05, l = s * sv_rng_range(b->rng, 0.6, 1);
		cairo_move_to(b->cr, x + dx - s * 0.012, base);
		quad_to(b->cr, x + dx, base - l * 0.5, x + dx + s * 0.03, base - l);
		quad_to(b->cr, x + dx + s * 0.01, base - l * 0.5, x + dx + s * 0.012, base);
		cairo_close_path(b->cr);
	}
	paint(b, HEX(0x7A9A3A), d);
	for (int i = 0; i < 3; i++)
		ellipse(b->cr, x + (i - 1) * s * 0.1 + s * 0.02, base - s * 0.6, s * 0.022,
		        s * 0.08);
	paint(b, HEX(0x795548), d);
}

static void tree(struct bd *b, int type, double x, double base, double s, double d)
{
	switch (type) {
	case T_PINE:
	case T_SNOWPINE:
		pine(b, x, base, s, d, type == T_SNOWPINE);
		break;
	case T_PALM:
		palm(b, x, base, s, d);
		break;
	case T_JUNGLE:
		jungle_tree(b, x, base, s, d);
		break;
	case T_FERN:
		fern(b, x, base, s, d);
		break;
	case T_MUSHROOM:
		mushroom(b, x, base, s, d);
		break;
	case T_KELP:
		kelp(b, x, base, s, d);
		break;
	case T_CORAL:
		coral(b, x, base, s, d);
		break;
	case T_CACTUS:
		cactus(b, x, base, s, d);
		break;
	case T_REEDS:
		reeds(b, x, base, s, d);
		break;
	default:
		round_tree(b, x, base, s, d, type);
		break;
	}
}

/* n plants of a kind spread over span around x, bases near y, sizes near s. */
static void f_grove(struct bd *b, const struct feat *f)
{
	int n = f->n > 0 ? f->n : 1;
	for (int i = 0; i < n; i++) {
		double t = n == 1 ? 0.5 : (double)i / (n - 1);
		double x =
		    (f->x + (t - 0.5) * f->span) * b->w + sv_rng_range(b->rng, -0.02, 0.02) * b->w;
		double s = f->s * b->h * sv_rng_range(b->rng, 0.85, 1.15);
		tree(b, f->type, x, f->y * b->h + sv_rng_range(b->rng, 0, 0.01) * b->h, s,
		     depth_of(f->layer));
	}
}

/* -- water -- */

enum water { W_POND, W_ICE, W_RIVER, W_BROOK, W_POOL, W_MOAT };

static void f_water(struct bd *b, const struct feat *f)
{
	double x = f->x * b->w, y = f->y * b->h, rx = f->span * b->w / 2, ry = f->s * b->h;
	struct ill_rgb c = f->type == W_ICE     ? HEX(0xB3E0F7)
	                   : f->type == W_RIVER ? HEX(0x8D8A5A)
	                   : f->type == W_POND  ? HEX(0x5FAF8F)
	                                        : ill_rgb_mix(HEX(0x4FC3F7), pal(b, 3), 0.3);
	if (f->type == W_RIVER || f->type == W_BROOK || f->type == W_MOAT) {
		cairo_move_to(b->cr, -10, y - ry);
		cairo_curve_to(b->cr, b->w * 0.3, y - ry * 1.6, b->w * 0.6, y - ry * 0.2, b->w + 10,
		               y - ry * 0.9);
		cairo_line_to(b->cr, b->w + 10, y + ry * 0.6);
		cairo_curve_to(b->cr, b->w * 0.6, y + ry * 1.2, b->w * 0.3, y, -10, y + ry);
		cairo_close_path(b->cr);
	} else {
		ellipse(b->cr, x, y, rx, ry);
	}
	paint(b, c, depth_of(f->layer));
	/* Glints on the surface: short light strokes. */
	for (int i = 0; i < 6; i++) {
		double gx = x + sv_rng_range(b->rng, -0.7, 0.7) * rx,
		       gy = y + sv_rng_range(b->rng, -0.5, 0.5) * ry;
		cairo_move_to(b->cr, gx - 14, gy);
		cairo_line_to(b->cr, gx + 14, gy);
	}
	cairo_set_source_rgba(b->cr, 1, 1, 1, f->type == W_ICE ? 0.7 : 0.45);
	cairo_set_line_width(b->cr, 2.5);
	cairo_set_line_cap(b->cr, CAIRO_LINE_CAP_ROUND);
	cairo_stroke(b->cr);
	if (f->type == W_POOL && strcmp(b->sc->universe ? b->sc->universe : "", "dinosaur") == 0)
		for (int i = 0; i < 3; i++) /* warm pools steam */
			cloud(b, x + (i - 1) * rx * 0.6, y - ry - 0.05 * b->h - i % 2 * 20,
			      0.025 * b->w, (struct ill_rgb){0.96, 0.97, 1});
}

/* -- little things scattered on the ground or in the sky -- */

enum scatter {
	S_FLOWERS,
	S_STONES,
	S_LILY,
	S_SHELLS,
	S_CRATERS,
	S_SPARKLES,
	S_BUBBLES,
	S_FISH,
	S_BEES,
	S_KITES,
	S_CRYSTALS,
	S_EGGS,
	S_FOSSILS,
	S_PEBBLES
};

static void one_thing(struct bd *b, int type, double x, double y, double s, double d)
{
	cairo_t *cr = b->cr;
	switch (type) {
	case S_FLOWERS:
		for (int i = 0; i < 5; i++) {
			cairo_new_sub_path(cr);
			cairo_arc(cr, x + cos(i * 1.257) * s * 0.5, y + sin(i * 1.257) * s * 0.5,
			          s * 0.38, 0, 2 * M_PI);
		}
		paint(b, pal(b, 1 + (int)sv_rng_below(b->rng, 3)), d);
		cairo_arc(cr, x, y, s * 0.3, 0, 2 * M_PI);
		paint(b, HEX(0xFFF59D), d);
		break;
	case S_STONES:
	case S_PEBBLES:
		ellipse(cr, x, y, s * 1.4, s * 0.6);
		paint_lined(b, HEX(0xB0A8A0), d);
		break;
	case S_LILY:
		ellipse(cr, x, y, s, s * 0.45);
		paint(b, HEX(0x4CAF50), d);
		if (sv_rng_below(b->rng, 2)) {
			ellipse(cr, x - s * 0.3, y - s * 0.3, s * 0.3, s * 0.22);
			paint(b, HEX(0xF8BBD0), d);
		}
		break;
	case S_SHELLS:
		cairo_move_to(cr, x - s, y);
		cairo_curve_to(cr, x - s, y - s * 1.4, x + s, y - s * 1.4, x + s, y);
		cairo_close_path(cr);
		paint_lined(
		    b, ill_rgb_mix(pal(b, 2 + (int)sv_rng_below(b->rng, 3)), HEX(0xFFFFFF), 0.4),
		    d);
		break;
	case S_CRATERS:
		ellipse(cr, x, y, s * 2, s * 0.6);
		paint(b, HEX(0x8C88A6), d);
		ellipse(cr, x, y + s * 0.1, s * 1.6, s * 0.4);
		paint(b, HEX(0x77738F), d);
		break;
	case S_SPARKLES:
		glow(cr, x, y, s * 1.5, (struct ill_rgb){1, 1, 0.85}, 0.6);
		cairo_move_to(cr, x, y - s);
		cairo_line_to(cr, x + s * 0.2, y - s * 0.2);
		cairo_line_to(cr, x + s, y);
		cairo_line_to(cr, x + s * 0.2, y + s * 0.2);
		cairo_line_to(cr, x, y + s);
		cairo_line_to(cr, x - s * 0.2, y + s * 0.2);
		cairo_line_to(cr, x - s, y);
		cairo_line_to(cr, x - s * 0.2, y - s * 0.2);
		cairo_close_path(cr);
		ill_fill(cr, b->st, HEX(0xFFF8D0), b->rng);
		break;
	case S_BUBBLES:
		cairo_arc(cr, x, y, s * 0.5, 0, 2 * M_PI);
		cairo_set_source_rgba(cr, 1, 1, 1, 0.25);
		cairo_fill_preserve(cr);
		cairo_set_source_rgba(cr, 1, 1, 1, 0.7);
		cairo_set_line_width(cr, 1.5);
		cairo_stroke(cr);
		cairo_arc(cr, x - s * 0.18, y - s * 0.18, s * 0.12, 0, 2 * M_PI);
		cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
		cairo_fill(cr);
		break;
	case S_FISH:
		ellipse(cr, x, y, s, s * 0.5);
		cairo_move_to(cr, x + s * 0.8, y);
		cairo_line_to(cr, x + s * 1.5, y - s * 0.5);
		cairo_line_to(cr, x + s * 1.5, y + s * 0.5);
		cairo_close_path(cr);
		paint(b, pal(b, 2 + (int)sv_rng_below(b->rng, 2)), d);
		cairo_arc(cr, x - s * 0.5, y - s * 0.1, s * 0.12, 0, 2 * M_PI);
		cairo_set_source_rgb(cr, 0.15, 0.1, 0.2);
		cairo_fill(cr);
		break;
	case S_BEES:
		ellipse(cr, x - s * 0.2, y - s * 0.6, s * 0.4, s * 0.3);
		ellipse(cr, x + s * 0.3, y - s * 0.6, s * 0.4, s * 0.3);
		cairo_set_source_rgba(cr, 1, 1, 1, 0.7);
		cairo_fill(cr);
		ellipse(cr, x, y, s * 0.6, s * 0.42);
		paint(b, HEX(0xFFCA28), d);
		rect(cr, x - s * 0.1, y - s * 0.4, s * 0.2, s * 0.8);
		paint(b, HEX(0x4E342E), d);
		break;
	case S_KITES:
		cairo_move_to(cr, x, y - s);
		cairo_line_to(cr, x + s * 0.6, y);
		cairo_line_to(cr, x, y + s * 1.2);
		cairo_line_to(cr, x - s * 0.6, y);
		cairo_close_path(cr);
		paint_lined(b, pal(b, 2 + (int)sv_rng_below(b->rng, 3)), d);
		cairo_move_to(cr, x, y + s * 1.2);
		cairo_curve_to(cr, x - s, y + s * 2.5, x + s, y + s * 3, x - s * 0.5, y + s * 4.5);
		ill_stroke(cr, b->st, HEX(0x6D4C41), 1.5, b->rng);
		break;
	case S_CRYSTALS:
		cairo_move_to(cr, x - s * 0.4, y);
		cairo_line_to(cr, x - s * 0.3, y - s * 1.6);
		cairo_line_to(cr, x, y - s * 2.2);
		cairo_line_to(cr, x + s * 0.3, y - s * 1.6);
		cairo_line_to(cr, x + s * 0.4, y);
		cairo_close_path(cr);
		paint_lined(b, ill_rgb_mix(HEX(0xB3E5FC), pal(b, 3), 0.3), d);
		break;
	case S_EGGS:
		ellipse(cr, x, y - s * 0.7, s * 0.55, s * 0.75);
		paint_lined(b, ill_rgb_mix(HEX(0xFFF3E0), pal(b, 2), 0.25), d);
		break;
	case S_FOSSILS:
		cairo_move_to(cr, x, y);
		for (double a = 0; a < 5 * M_PI; a += 0.3)
			cairo_line_to(cr, x + cos(a) * s * a / 16, y + sin(a) * s * a / 16);
		ill_stroke(cr, b->st, tone(b, HEX(0x8D6E63), d), 2.5, b->rng);
		break;
	default:
		break;
	}
}

static void f_scatter(struct bd *b, const struct feat *f)
{
	for (int i = 0; i < f->n; i++) {
		double t = f->n == 1 ? 0.5 : (double)i / (f->n - 1);
		double x = (f->x + (t - 0.5) * f->span + sv_rng_range(b->rng, -0.03, 0.03)) * b->w;
		double y = (f->y + sv_rng_range(b->rng, -0.03, 0.03)) * b->h;
		one_thing(b, f->type, x, y, f->s * b->h * sv_rng_range(b->rng, 0.8, 1.2),
		          depth_of(f->layer));
	}
}

/* -- silhouettes: mountains, dunes, cliffs, a mesa, a volcano, a hedge -- */

enum shape {
	M_PEAKS,
	M_SNOWPEAKS,
	M_DUNES,
	M_MESA,
	M_VOLCANO,
	M_CLIFF,
	M_CANYON,
	M_HEDGE,
	M_HILL,
	M_SLOPE,
	M_ROCKS
};

/* The silhouette's height (0..1 of its size) at u in 0..1 across its span. */
static double profile(int shape, double u, const double *r)
{
	switch (shape) {
	case M_PEAKS:
	case M_SNOWPEAKS:
	case M_ROCKS: {
		double v = 0;
		for (int k = 0; k < 3; k++)
			v = fmax(v, r[k] * (1 - fabs(u - r[k + 3]) * 3.2));
		return v;
	}
	case M_DUNES:
		return 0.55 + 0.3 * sin(u * 7 + r[0] * 6) + 0.15 * sin(u * 13 + r[1] * 6);
	case M_MESA:
		return u < 0.15 || u > 0.85   ? fmax(0, 1 - fabs(u - 0.5) / 0.35 * 0.3 - 0.6)
		       : u < 0.25 || u > 0.75 ? 1 - (fabs(u - 0.5) - 0.25) / 0.1 * 0.8
		                              : 1;
	case M_VOLCANO:
		return fmin(1, fmax(0, 1.3 - fabs(u - 0.5) * 2.6)) -
		       (fabs(u - 0.5) < 0.06 ? 0.06 : 0);
	case M_CLIFF:
		return u < 0.7 ? 1 - 0.05 * sin(u * 40) : fmax(0, 1 - (u - 0.7) * 3.3);
	case M_HEDGE:
		return 0.8 + 0.2 * fabs(sin(u * 20 + r[0]));
	case M_HILL:
		return 0.5 + 0.5 * cos((u - 0.5) * M_PI * 1.6);
	case M_SLOPE:
		return 1 - u * 0.9;
	default:
		return 0.5;
	}
}

static const uint32_t shape_colour[] = {0x8E8AA8, 0x9FB8D8, 0xE8B04B, 0xC2562C, 0x6D5A55, 0xA1887F,
                                        0xD0703C, 0x4F8F3A, 0x8BC34A, 0xF2F7FF, 0x9E9E9E};

static void silhouette_path(struct bd *b, const struct feat *f, const double *r)
{
	double x0 = (f->x - f->span / 2) * b->w, x1 = (f->x + f->span / 2) * b->w;
	double base = f->y * b->h, hgt = f->s * b->h;
	cairo_move_to(b->cr, x0, base + 4);
	for (int i = 0; i <= 64; i++) {
		double u = i / 64.0;
		cairo_line_to(b->cr, x0 + (x1 - x0) * u, base - hgt * profile(f->type, u, r));
	}
	cairo_line_to(b->cr, x1, base + 4);
	cairo_close_path(b->cr);
}

/* Decoration inside the silhouette: snow caps, canyon stripes, tunnels. */
static void silhouette_detail(struct bd *b, const struct feat *f, const double *r, double d)
{
	double base = f->y * b->h, hgt = f->s * b->h;
	cairo_t *cr = b->cr;
	if (f->type == M_SNOWPEAKS || f->type == M_CANYON || f->type == M_MESA) {
		cairo_save(cr);
		silhouette_path(b, f, r);
		cairo_clip(cr);
		for (int i = 0; i < 6; i++) {
			double y =
			    f->type == M_SNOWPEAKS ? base - hgt : base - hgt + i * hgt * 0.17;
			double th = f->type == M_SNOWPEAKS ? hgt * 0.3 : hgt * 0.07;
			rect(cr, -10, y, b->w + 20, th);
			paint(b,
			      f->type == M_SNOWPEAKS ? HEX(0xFAFCFF)
			      : i % 2                ? HEX(0xF6E3B4)
			                             : HEX(0xE07840),
			      d);
			if (f->type == M_SNOWPEAKS)
				break;
		}
		cairo_restore(cr);
	}
	if (f->type == M_HEDGE) /* secret tunnels */
		for (int i = 0; i < 3; i++) {
			double x = (f->x + (i - 1) * f->span * 0.3) * b->w, rr = hgt * 0.28;
			cairo_arc(cr, x, base, rr, M_PI, 2 * M_PI);
			cairo_close_path(cr);
			paint(b, HEX(0x2A4A22), d);
		}
	if (f->type == M_VOLCANO) /* its puffs of steam, like a teapot */
		for (int i = 0; i < 3; i++)
			cloud(b, f->x * b->w + i * 18, base - hgt - 30 - i * 38, 16 + i * 7,
			      (struct ill_rgb){0.96, 0.96, 0.98});
}

static void f_silhouette(struct bd *b, const struct feat *f)
{
	double r[6];
	for (int i = 0; i < 3; i++) {
		r[i] = sv_rng_range(b->rng, 0.6, 1.0);
		r[i + 3] = sv_rng_range(b->rng, 0.12, 0.88);
	}
	double d = depth_of(f->layer);
	silhouette_path(b, f, r);
	struct ill_rgb c = HEX(shape_colour[f->type]);
	if (f->type == M_HILL || f->type == M_HEDGE)
		c = ill_rgb_mix(c, pal(b, 0), 0.4);
	paint(b, c, d);
	silhouette_detail(b, f, r, d);
}

/* -- buildings and big things -- */

enum building {
	B_BURROW,
	B_IGLOO,
	B_GREENHOUSE,
	B_STATION,
	B_TOWER,
	B_CASTLE,
	B_STALL,
	B_TENT,
	B_WELL,
	B_HOUSE,
	B_TREEHOUSE,
	B_WRECK,
	B_NEST,
	B_FIRE,
	B_PLANET,
	B_RINGED,
	B_AURORA,
	B_RAINBOW,
	B_WATERFALL,
	B_BRIDGE,
	B_FIG,
	B_SHELVES,
	B_ARCH,
	B_ICEARCH,
	B_SEA,
	B_BUNTING
};

static void window(struct bd *b, double x, double y, double r)
{
	cairo_arc(b->cr, x, y, r, 0, 2 * M_PI);
	struct ill_rgb lit = HEX(0xFFE082);
	if (b->night || b->tint_amt > 0.2)
		glow(b->cr, x, y, r * 3, lit, 0.5);
	cairo_arc(b->cr, x, y, r, 0, 2 * M_PI);
	ill_fill(b->cr, b->st, lit, b->rng); /* lamplight is not dimmed by the night */
	cairo_arc(b->cr, x, y, r, 0, 2 * M_PI);
	ill_stroke(b->cr, b->st, HEX(0x5D4037), 2.5, b->rng);
}

static void door(struct bd *b, double x, double base, double w, double h, struct ill_rgb c,
                 double d)
{
	cairo_move_to(b->cr, x - w / 2, base);
	cairo_line_to(b->cr, x - w / 2, base - h + w / 2);
	cairo_arc(b->cr, x, base - h + w / 2, w / 2, M_PI, 2 * M_PI);
	cairo_line_to(b->cr, x + w / 2, base);
	cairo_close_path(b->cr);
	paint_lined(b, c, d);
	cairo_arc(b->cr, x + w * 0.3, base - h * 0.45, w * 0.06, 0, 2 * M_PI);
	paint(b, HEX(0xFFD54F), d);
}

static void burrow(struct bd *b, double x, double y, double s, double d)
{
	/* The big oak: a wide trunk with roots, the home's door and windows in it. */
	cairo_move_to(b->cr, x - s * 0.55, y);
	cairo_curve_to(b->cr, x - s * 0.3, y - s * 0.1, x - s * 0.3, y - s * 0.6, x - s * 0.25,
	               y - s);
	cairo_line_to(b->cr, x + s * 0.25, y - s);
	cairo_curve_to(b->cr, x + s * 0.3, y - s * 0.6, x + s * 0.3, y - s * 0.1, x + s * 0.55, y);
	cairo_close_path(b->cr);
	paint_lined(b, HEX(0x8D6E63), d);
	crown(b, x, y - s * 1.15, s * 0.6, ill_rgb_mix(HEX(0x558B2F), pal(b, 0), 0.4), d);
	door(b, x, y, s * 0.26, s * 0.36, pal(b, 2), d);
	window(b, x - s * 0.14, y - s * 0.55, s * 0.06);
	window(b, x + s * 0.14, y - s * 0.6, s * 0.06);
}

static void dome(struct bd *b, int type, double x, double y, double s, double d)
{
	struct ill_rgb c = type == B_IGLOO     ? HEX(0xF2F8FF)
	                   : type == B_STATION ? HEX(0xCFD8DC)
	                                       : HEX(0xB2EBF2);
	if (type == B_GREENHOUSE) /* giant pumpkins inside the glass */
		for (int i = 0; i < 3; i++) {
			ellipse(b->cr, x + (i - 1) * s * 0.45, y - s * 0.15, s * 0.2, s * 0.15);
			paint_lined(b, HEX(0xFF9800), d);
		}
	cairo_arc(b->cr, x, y, s, M_PI, 2 * M_PI);
	cairo_close_path(b->cr);
	if (type == B_GREENHOUSE) {
		cairo_set_source_rgba(b->cr, 0.8, 0.95, 1, 0.3);
		cairo_fill_preserve(b->cr);
		ill_stroke(b->cr, b->st, tone(b, HEX(0x80DEEA), d), 3, b->rng);
		for (int i = 1; i < 4; i++) { /* the dome's ribs */
			cairo_arc(b->cr, x, y, s, M_PI + i * M_PI / 4 - 0.01, M_PI + i * M_PI / 4);
			cairo_line_to(b->cr, x, y);
		}
		ill_stroke(b->cr, b->st, tone(b, HEX(0x80DEEA), d), 2, b->rng);
		return;
	}
	paint_lined(b, c, d);
	if (type == B_IGLOO) {
		door(b, x, y, s * 0.4, s * 0.42, HEX(0x3E2723), d);
		window(b, x + s * 0.55, y - s * 0.45, s * 0.1);
		return;
	}
	for (int i = 0; i < 3; i++) /* portholes */
		window(b, x + (i - 1) * s * 0.45, y - s * 0.4, s * 0.1);
	rect(b->cr, x - s * 0.05, y - s * 1.5, s * 0.1, s * 0.5);
	paint(b, HEX(0x90A4AE), d);
	glow(b->cr, x, y - s * 1.5, s * 0.2, pal(b, 4), 0.9);
}

static void tower(struct bd *b, double x, double y, double s, double d)
{
	rect(b->cr, x - s * 0.15, y - s, s * 0.3, s);
	paint_lined(b, HEX(0xB0BEC5), d);
	cairo_arc(b->cr, x, y - s, s * 0.2, M_PI, 2 * M_PI);
	cairo_close_path(b->cr);
	paint_lined(b, pal(b, 1), d);
	cairo_save(b->cr); /* the big telescope, pointing at the stars */
	cairo_translate(b->cr, x + s * 0.05, y - s * 1.1);
	cairo_rotate(b->cr, -0.6);
	rect(b->cr, 0, -s * 0.05, s * 0.4, s * 0.1);
	cairo_restore(b->cr);
	paint_lined(b, pal(b, 2), d);
	window(b, x, y - s * 0.6, s * 0.05);
}

static void castle(struct bd *b, double x, double y, double s, double d)
{
	struct ill_rgb stone = HEX(0xD7CCC8);
	rect(b->cr, x - s * 0.6, y - s * 0.55, s * 1.2, s * 0.55);
	paint_lined(b, stone, d);
	for (int i = 0; i < 4; i++) {
		double tx = x + (i - 1.5) * s * 0.42, th = s * (i == 1 || i == 2 ? 1.0 : 0.8);
		rect(b->cr, tx - s * 0.1, y - th, s * 0.2, th);
		paint_lined(b, ill_rgb_shade(stone, -0.05), d);
		cairo_move_to(b->cr, tx - s * 0.14, y - th);
		cairo_line_to(b->cr, tx, y - th - s * 0.25);
		cairo_line_to(b->cr, tx + s * 0.14, y - th);
		cairo_close_path(b->cr);
		paint_lined(b, pal(b, i % 2 ? 3 : 0), d);
		cairo_move_to(b->cr, tx, y - th - s * 0.25);
		cairo_line_to(b->cr, tx, y - th - s * 0.38);
		ill_stroke(b->cr, b->st, HEX(0x5D4037), 1.5, b->rng);
		cairo_move_to(b->cr, tx, y - th - s * 0.38);
		cairo_line_to(b->cr, tx + s * 0.1, y - th - s * 0.34);
		cairo_line_to(b->cr, tx, y - th - s * 0.3);
		paint(b, pal(b, 1), d);
		window(b, tx, y - th * 0.7, s * 0.03);
	}
	door(b, x, y, s * 0.2, s * 0.3, HEX(0x6D4C41), d);
}

static void stall(struct bd *b, double x, double y, double s, double d)
{
	rect(b->cr, x - s * 0.4, y - s * 0.45, s * 0.8, s * 0.45);
	paint_lined(b, HEX(0xBCAAA4), d);
	for (int i = 0; i < 4; i++) { /* the striped awning */
		rect(b->cr, x - s * 0.5 + i * s * 0.25, y - s * 0.8, s * 0.25, s * 0.22);
		paint(b, i % 2 ? (struct ill_rgb){1, 0.98, 0.94} : pal(b, (int)(x) % 3), d);
	}
	for (int i = 0; i < 3; i++) { /* pies and ribbons on the counter */
		ellipse(b->cr, x + (i - 1) * s * 0.25, y - s * 0.48, s * 0.09, s * 0.05);
		paint(b, pal(b, i + 1), d);
	}
	rect(b->cr, x - s * 0.48, y - s * 0.58, s * 0.04, s * 0.58);
	rect(b->cr, x + s * 0.44, y - s * 0.58, s * 0.04, s * 0.58);
	paint(b, HEX(0x6D4C41), d);
}

static void tent(struct bd *b, double x, double y, double s, double d)
{
	for (int i = 0; i < 4; i++) { /* stripes of the canvas, fanning from the top */
		double a = x - s * 0.6 + i * s * 0.3, c = a + s * 0.3;
		cairo_move_to(b->cr, x, y - s * 0.9);
		cairo_line_to(b->cr, a, y);
		cairo_line_to(b->cr, c, y);
		cairo_close_path(b->cr);
		paint(b, i % 2 ? HEX(0xFFF3E0) : pal(b, 2 + (int)(x) % 2), d);
	}
	cairo_move_to(b->cr, x, y - s * 0.5);
	cairo_line_to(b->cr, x - s * 0.12, y);
	cairo_line_to(b->cr, x + s * 0.12, y);
	cairo_close_path(b->cr);
	paint(b, HEX(0x4E342E), d);
}

static void campfire(struct bd *b, double x, double y, double s, double d)
{
	glow(b->cr, x, y - s * 0.3, s * 2.2, HEX(0xFFB74D), 0.5);
	for (int i = 0; i < 2; i++) {
		cairo_save(b->cr);
		cairo_translate(b->cr, x, y);
		cairo_rotate(b->cr, i ? 0.3 : -0.3);
		rect(b->cr, -s * 0.5, -s * 0.08, s, s * 0.16);
		cairo_restore(b->cr);
		paint(b, HEX(0x6D4C41), d);
	}
	cairo_move_to(b->cr, x - s * 0.35, y - s * 0.05);
	cairo_curve_to(b->cr, x - s * 0.4, y - s * 0.6, x, y - s * 0.6, x + s * 0.05, y - s * 1.1);
	cairo_curve_to(b->cr, x + s * 0.2, y - s * 0.6, x + s * 0.45, y - s * 0.5, x + s * 0.35,
	               y - s * 0.05);
	cairo_close_path(b->cr);
	ill_fill(b->cr, b->st, HEX(0xFFA726), b->rng);
}

static void well(struct bd *b, double x, double y, double s, double d)
{
	rect(b->cr, x - s * 0.35, y - s * 0.4, s * 0.7, s * 0.4);
	paint_lined(b, HEX(0xA1A09A), d);
	ellipse(b->cr, x - s * 0.2, y - s * 0.25, s * 0.12, s * 0.06); /* moss */
	paint(b, HEX(0x7CB342), d);
	rect(b->cr, x - s * 0.32, y - s * 0.95, s * 0.05, s * 0.55);
	rect(b->cr, x + s * 0.27, y - s * 0.95, s * 0.05, s * 0.55);
	paint(b, HEX(0x6D4C41), d);
	cairo_move_to(b->cr, x - s * 0.5, y - s * 0.9);
	cairo_line_to(b->cr, x, y - s * 1.25);
	cairo_line_to(b->cr, x + s * 0.5, y - s * 0.9);
	cairo_close_path(b->cr);
	paint_lined(b, pal(b, 0), d);
}

static void house(struct bd *b, double x, double y, double s, double d)
{
	rect(b->cr, x - s * 0.4, y - s * 0.6, s * 0.8, s * 0.6);
	paint_lined(b, HEX(0xF5E6C8), d);
	ellipse(b->cr, x, y - s * 0.6, s * 0.25, s * 0.2);
	paint_lined(b, HEX(0xF5E6C8), d);
	door(b, x - s * 0.12, y, s * 0.2, s * 0.35, pal(b, 3), d);
	window(b, x + s * 0.2, y - s * 0.35, s * 0.06);
}

static void treehouse(struct bd *b, double x, double y, double s, double d)
{
	trunk(b, x, y, s * 0.1, s * 1.2, d);
	ellipse(b->cr, x, y - s * 1.25, s * 0.55, s * 0.25);
	paint(b, ill_rgb_mix(HEX(0x43A047), pal(b, 1), 0.4), d);
	ellipse(b->cr, x, y - s * 0.7, s * 0.28, s * 0.25);
	paint_lined(b, HEX(0xBCAAA4), d);
	cairo_move_to(b->cr, x - s * 0.36, y - s * 0.82);
	cairo_line_to(b->cr, x, y - s * 1.08);
	cairo_line_to(b->cr, x + s * 0.36, y - s * 0.82);
	cairo_close_path(b->cr);
	paint_lined(b, HEX(0xC8A165), d);
	window(b, x, y - s * 0.68, s * 0.07);
}

static void rope_bridge(struct bd *b, double x0, double x1, double y, double sag, double d)
{
	cairo_t *cr = b->cr;
	for (int i = 0; i <= 14; i++) { /* planks along the sagging rope */
		double u = i / 14.0, px = x0 + (x1 - x0) * u, py = y + sag * 4 * u * (1 - u);
		rect(cr, px - 6, py - 3, 12, 8);
	}
	paint(b, HEX(0xA1887F), d);
	for (int k = 0; k < 2; k++) {
		cairo_move_to(cr, x0, y - 30 * k);
		cairo_curve_to(cr, x0 + (x1 - x0) / 3, y + sag * 1.3 - 30 * k,
		               x0 + 2 * (x1 - x0) / 3, y + sag * 1.3 - 30 * k, x1, y - 30 * k);
	}
	ill_stroke(cr, b->st, tone(b, HEX(0x795548), d), 2.5, b->rng);
}

static void wreck(struct bd *b, double x, double y, double s, double d)
{
	cairo_save(b->cr);
	cairo_translate(b->cr, x, y);
	cairo_rotate(b->cr, -0.12);
	cairo_move_to(b->cr, -s, -s * 0.45);
	cairo_line_to(b->cr, s, -s * 0.5);
	cairo_curve_to(b->cr, s * 0.8, 0, s * 0.5, s * 0.1, 0, s * 0.1);
	cairo_curve_to(b->cr, -s * 0.5, s * 0.1, -s * 0.8, 0, -s, -s * 0.45);
	cairo_close_path(b->cr);
	rect(b->cr, -s * 0.05, -s * 1.5, s * 0.08, s * 1.05); /* the broken mast */
	cairo_restore(b->cr);
	paint_lined(b, HEX(0x8D6E63), d);
	for (int i = 0; i < 3; i++)
		window(b, x + (i - 1) * s * 0.45, y - s * 0.2 + i * s * 0.05, s * 0.07);
}

static void nest(struct bd *b, double x, double y, double s, double d)
{
	for (int i = 0; i < 3; i++)
		one_thing(b, S_EGGS, x + (i - 1) * s * 0.3, y - s * 0.1, s * 0.3, d);
	ellipse(b->cr, x, y, s * 0.65, s * 0.22);
	paint_lined(b, HEX(0xA1887F), d);
	for (int i = 0; i < 8; i++) { /* twigs */
		double px = x + sv_rng_range(b->rng, -0.6, 0.6) * s;
		cairo_move_to(b->cr, px - s * 0.12, y + sv_rng_range(b->rng, -0.1, 0.1) * s);
		cairo_line_to(b->cr, px + s * 0.12, y + sv_rng_range(b->rng, -0.1, 0.1) * s);
	}
	ill_stroke(b->cr, b->st, tone(b, HEX(0x6D4C41), d), 2, b->rng);
}

static void planet(struct bd *b, double x, double y, double s, bool rings, double d)
{
	struct ill_rgb c = rings ? pal(b, 1) : pal(b, 3);
	if (rings) { /* the back half of the rings, behind the planet */
		ellipse(b->cr, x, y, s * 1.9, s * 0.45);
		ill_stroke(b->cr, b->st, tone(b, HEX(0xE1F5FE), d), s * 0.12, b->rng);
	}
	cairo_arc(b->cr, x, y, s, 0, 2 * M_PI);
	paint(b, c, d);
	ellipse(b->cr, x - s * 0.2, y - s * 0.25, s * 0.5, s * 0.15);
	paint(b, ill_rgb_shade(c, 0.2), d);
	if (rings) { /* the front half, across it */
		cairo_save(b->cr);
		rect(b->cr, x - 2 * s, y, 4 * s, s);
		cairo_clip(b->cr);
		ellipse(b->cr, x, y, s * 1.9, s * 0.45);
		ill_stroke(b->cr, b->st, tone(b, HEX(0xE1F5FE), d), s * 0.12, b->rng);
		cairo_restore(b->cr);
	}
}

static void aurora(struct bd *b, double y, double s)
{
	static const uint32_t c[] = {0x69F0AE, 0x80DEEA, 0xCE93D8};
	for (int k = 0; k < 3; k++) {
		double p = sv_rng_range(b->rng, 0, 6.3);
		cairo_move_to(b->cr, 0, y + k * 20);
		for (double x = 0; x <= b->w; x += 16)
			cairo_line_to(b->cr, x, y + k * 20 + sin(x / b->w * 5 + p) * s * 0.5);
		for (double x = b->w; x >= 0; x -= 16)
			cairo_line_to(b->cr, x, y + k * 20 - s + sin(x / b->w * 5 + p) * s * 0.5);
		cairo_close_path(b->cr);
		struct ill_rgb col = HEX(c[k]);
		cairo_pattern_t *g = cairo_pattern_create_linear(0, y - s, 0, y + s * 0.5);
		cairo_pattern_add_color_stop_rgba(g, 0, col.r, col.g, col.b, 0);
		cairo_pattern_add_color_stop_rgba(g, 1, col.r, col.g, col.b,
		                                  b->night ? 0.55 : 0.25);
		cairo_set_source(b->cr, g);
		cairo_fill(b->cr);
		cairo_pattern_destroy(g);
	}
}

static void rainbow(struct bd *b, double x, double y, double r)
{
	static const uint32_t c[] = {0xEF9A9A, 0xFFCC80, 0xFFF59D, 0xA5D6A7, 0x90CAF9, 0xCE93D8};
	cairo_set_line_width(b->cr, r * 0.06);
	for (int i = 0; i < 6; i++) {
		struct ill_rgb col = HEX(c[i]);
		cairo_set_source_rgba(b->cr, col.r, col.g, col.b, 0.55);
		cairo_arc(b->cr, x, y, r * (1 - i * 0.06), M_PI, 2 * M_PI);
		cairo_stroke(b->cr);
	}
}

static void waterfall(struct bd *b, double x, double y, double s, double d)
{
	rect(b->cr, x - s * 0.7, y - s * 1.3, s * 1.4, s * 1.3);
	paint(b, HEX(0x6D5A55), d + 0.1);
	rect(b->cr, x - s * 0.25, y - s * 1.3, s * 0.5, s * 1.3);
	paint(b, HEX(0x81D4FA), d);
	for (int i = 0; i < 5; i++) { /* white streaks of falling water */
		double sx = x + (i - 2) * s * 0.09;
		cairo_move_to(b->cr, sx, y - s * 1.25);
		cairo_line_to(b->cr, sx + sv_rng_range(b->rng, -3, 3), y - s * 0.1);
	}
	cairo_set_source_rgba(b->cr, 1, 1, 1, 0.65);
	cairo_set_line_width(b->cr, 3);
	cairo_stroke(b->cr);
	for (int i = 0; i < 4; i++)
		cloud(b, x + (i - 1.5) * s * 0.25, y, s * 0.1, (struct ill_rgb){0.97, 0.99, 1});
	if (!b->night && b->gloom == 0)
		rainbow(b, x + s * 0.5, y, s * 0.8);
}

static void fig(struct bd *b, double x, double y, double s, double d)
{
	cairo_move_to(b->cr, x - s * 0.9, y);
	cairo_curve_to(b->cr, x - s * 0.4, y - s * 0.1, x - s * 0.4, y - s * 0.5, x - s * 0.35,
	               y - s * 1.6);
	cairo_line_to(b->cr, x + s * 0.35, y - s * 1.6);
	cairo_curve_to(b->cr, x + s * 0.4, y - s * 0.5, x + s * 0.4, y - s * 0.1, x + s * 0.9, y);
	cairo_close_path(b->cr);
	paint_lined(b, HEX(0x8D7A6A), d);
	for (int i = 0; i < 5; i++) { /* hanging roots */
		double rx = x + (i - 2) * s * 0.15;
		cairo_move_to(b->cr, rx, y - s * 1.5);
		cairo_curve_to(b->cr, rx + 10, y - s, rx - 10, y - s * 0.5, rx + 5, y);
	}
	ill_stroke(b->cr, b->st, tone(b, HEX(0x6D5A4A), d), 3, b->rng);
	crown(b, x, y - s * 1.7, s * 0.9, ill_rgb_mix(HEX(0x2E7D32), pal(b, 1), 0.3), d);
}

static void shelves(struct bd *b)
{
	double w = b->w, h = b->h;
	for (int side = 0; side < 2; side++) {
		double x0 = side ? w * 0.64 : w * 0.02, sw = w * 0.34;
		rect(b->cr, x0, h * 0.05, sw, b->ground - h * 0.05);
		paint_lined(b, HEX(0x8D6E63), 0);
		for (int row = 0; row < 5; row++) {
			double y = h * 0.09 + row * (b->ground - h * 0.1) / 5;
			double bh = (b->ground - h * 0.1) / 5 - 12, bx = x0 + 10;
			while (bx < x0 + sw - 30) { /* books of every colour and height */
				double bw = sv_rng_range(b->rng, 12, 24),
				       hh = bh * sv_rng_range(b->rng, 0.7, 1);
				rect(b->cr, bx, y + bh - hh, bw, hh);
				paint(b, pal(b, (int)sv_rng_below(b->rng, 5)), 0);
				bx += bw + 2;
			}
		}
	}
	window(b, w * 0.5, h * 0.28, h * 0.13);   /* the round tower's window */
	cairo_move_to(b->cr, w * 0.6, b->ground); /* a ladder leaning on the shelves */
	cairo_line_to(b->cr, w * 0.68, h * 0.1);
	cairo_move_to(b->cr, w * 0.65, b->ground);
	cairo_line_to(b->cr, w * 0.73, h * 0.1);
	for (int i = 1; i < 9; i++) {
		double u = i / 9.0;
		cairo_move_to(b->cr, w * (0.6 + 0.08 * u), b->ground - u * (b->ground - h * 0.1));
		cairo_line_to(b->cr, w * (0.65 + 0.08 * u), b->ground - u * (b->ground - h * 0.1));
	}
	ill_stroke(b->cr, b->st, tone(b, HEX(0x5D4037), 0), 5, b->rng);
}

/* A rock arch framing the picture, as if seen from inside a cave. */
static void arch(struct bd *b, struct ill_rgb c, bool crystals)
{
	cairo_t *cr = b->cr;
	cairo_rectangle(cr, -10, -10, b->w + 20, b->h + 20);
	cairo_new_sub_path(cr);
	cairo_move_to(cr, b->w * 0.04, b->h + 10);
	cairo_curve_to(cr, b->w * 0.0, b->h * 0.2, b->w * 0.3, b->h * 0.06, b->w * 0.5,
	               b->h * 0.07);
	cairo_curve_to(cr, b->w * 0.75, b->h * 0.06, b->w * 1.0, b->h * 0.25, b->w * 0.96,
	               b->h + 10);
	cairo_close_path(cr);
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
	paint(b, c, 0);
	cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
	if (crystals)
		for (int i = 0; i < 6; i++) {
			double x = (i < 3 ? 0.05 + i * 0.04 : 0.83 + (i - 3) * 0.04) * b->w;
			one_thing(b, S_CRYSTALS, x, b->h * (0.35 + 0.1 * (i % 3)), 0.03 * b->h, 0);
		}
}

static void sea_band(struct bd *b, double y)
{
	struct ill_rgb c = ill_rgb_mix(HEX(0x29B6F6), pal(b, 0), 0.4);
	rect(b->cr, -10, y, b->w + 20, b->ground - y + 0.02 * b->h);
	paint(b, c, 0.2);
	if (b->night) { /* the moon looking at itself */
		for (int i = 0; i < 6; i++)
			rect(b->cr, b->w * 0.8 - 30 + i * 4, y + 10 + i * 14, 60 - i * 8, 4);
		cairo_set_source_rgba(b->cr, 1, 0.95, 0.75, 0.6);
		cairo_fill(b->cr);
	}
	for (int i = 0; i < 14; i++) { /* little waves */
		double x = sv_rng_range(b->rng, 0, b->w),
		       wy = sv_rng_range(b->rng, y + 8, b->ground - 10);
		cairo_move_to(b->cr, x - 12, wy);
		quad_to(b->cr, x, wy - 6, x + 12, wy);
	}
	cairo_set_source_rgba(b->cr, 1, 1, 1, 0.6);
	cairo_set_line_width(b->cr, 2);
	cairo_stroke(b->cr);
}

static void bunting(struct bd *b, double y)
{
	cairo_move_to(b->cr, 0, y);
	cairo_curve_to(b->cr, b->w * 0.3, y + 60, b->w * 0.7, y + 60, b->w, y);
	ill_stroke(b->cr, b->st, HEX(0x6D4C41), 2, b->rng);
	for (int i = 1; i < 16; i++) {
		double u = i / 16.0, x = b->w * u, yy = y + 60 * 0.75 * 4 * u * (1 - u);
		cairo_move_to(b->cr, x - 12, yy);
		cairo_line_to(b->cr, x + 12, yy);
		cairo_line_to(b->cr, x, yy + 26);
		cairo_close_path(b->cr);
		paint(b, pal(b, i % 4), 0.1);
	}
}

static void f_building(struct bd *b, const struct feat *f)
{
	double x = f->x * b->w, y = f->y * b->h, s = f->s * b->h, d = depth_of(f->layer);
	for (int i = 0; i < (f->n > 0 ? f->n : 1); i++, x += f->span * b->w) {
		switch (f->type) {
		case B_BURROW:
			burrow(b, x, y, s, d);
			break;
		case B_IGLOO:
		case B_GREENHOUSE:
		case B_STATION:
			dome(b, f->type, x, y, s, d);
			break;
		case B_TOWER:
			tower(b, x, y, s, d);
			break;
		case B_CASTLE:
			castle(b, x, y, s, d);
			break;
		case B_STALL:
			stall(b, x, y, s, d);
			break;
		case B_TENT:
			tent(b, x, y, s, d);
			break;
		case B_FIRE:
			campfire(b, x, y, s, d);
			break;
		case B_WELL:
			well(b, x, y, s, d);
			break;
		case B_HOUSE:
			house(b, x, y, s, d);
			break;
		case B_TREEHOUSE:
			treehouse(b, x, y, s, d);
			break;
		case B_WRECK:
			wreck(b, x, y, s, d);
			break;
		case B_NEST:
			nest(b, x, y, s, d);
			break;
		case B_PLANET:
		case B_RINGED:
			planet(b, x, y, s, f->type == B_RINGED, d);
			break;
		case B_AURORA:
			aurora(b, y, s);
			break;
		case B_RAINBOW:
			rainbow(b, x, y, s);
			break;
		case B_WATERFALL:
			waterfall(b, x, y, s, d);
			break;
		case B_BRIDGE:
			rope_bridge(b, x - f->span * b->w / 2, x + f->span * b->w / 2, y, s, d);
			return;
		case B_FIG:
			fig(b, x, y, s, d);
			break;
		case B_SHELVES:
			shelves(b);
			return;
		case B_ARCH:
			arch(b, ill_rgb_mix(HEX(0x1E4E8C), pal(b, 0), 0.3), false);
			return;
		case B_ICEARCH:
			arch(b, HEX(0x7FB8E0), true);
			return;
		case B_SEA:
			sea_band(b, y);
			return;
		case B_BUNTING:
			bunting(b, y);
			return;
		default:
			break;
		}
	}
}

/* ---- places ---- */

enum kind { K_NONE, K_GROVE, K_WATER, K_SCATTER, K_SIL, K_BUILD };

typedef void (*feat_fn)(struct bd *, const struct feat *);
static const feat_fn drawers[] = {NULL, f_grove, f_water, f_scatter, f_silhouette, f_building};

#define MAXF 7
struct place {
	const char *universe, *place;
	int sky; /* SKY_SAME: the universe's */
	struct feat f[MAXF];
};

/* {layer, kind, type, n, x, y, s, span} */
static const struct place places[] = {
    {"meadow",
     "burrow",
     SKY_SAME,
     {{L_MID, K_GROVE, T_ROUND, 4, 0.5, 0.69, 0.12, 0.9},
      {L_GROUND, K_BUILD, B_BURROW, 1, 0.5, 0.73, 0.34, 0},
      {L_GROUND, K_SCATTER, S_FLOWERS, 8, 0.5, 0.84, 0.012, 0.95}}},
    {"meadow",
     "brook",
     SKY_SAME,
     {{L_MID, K_GROVE, T_ROUND, 5, 0.5, 0.68, 0.13, 0.95},
      {L_GROUND, K_WATER, W_BROOK, 0, 0.5, 0.8, 0.04, 1},
      {L_GROUND, K_SCATTER, S_STONES, 5, 0.5, 0.8, 0.014, 0.6},
      {L_GROUND, K_GROVE, T_REEDS, 2, 0.5, 0.86, 0.1, 0.9}}},
    {"meadow",
     "hill",
     SKY_SAME,
     {{L_SKY, K_SCATTER, S_KITES, 3, 0.45, 0.2, 0.03, 0.6},
      {L_MID, K_SIL, M_HILL, 0, 0.55, 0.74, 0.3, 0.9},
      {L_MID, K_GROVE, T_ROUND, 1, 0.55, 0.46, 0.1, 0},
      {L_GROUND, K_SCATTER, S_FLOWERS, 10, 0.5, 0.85, 0.012, 0.95}}},
    {"meadow",
     "orchard",
     SKY_SAME,
     {{L_MID, K_GROVE, T_APPLE, 5, 0.5, 0.69, 0.17, 0.95},
      {L_GROUND, K_GROVE, T_APPLE, 2, 0.5, 0.77, 0.36, 1.0},
      {L_GROUND, K_SCATTER, S_BEES, 4, 0.5, 0.45, 0.012, 0.6}}},
    {"meadow",
     "hedge",
     SKY_SAME,
     {{L_MID, K_GROVE, T_ROUND, 3, 0.5, 0.66, 0.12, 0.8},
      {L_GROUND, K_SIL, M_HEDGE, 0, 0.5, 0.74, 0.16, 1.1},
      {L_GROUND, K_SCATTER, S_FLOWERS, 9, 0.5, 0.84, 0.012, 0.95}}},
    {"meadow",
     "pond",
     SKY_SAME,
     {{L_MID, K_GROVE, T_ROUND, 4, 0.5, 0.69, 0.12, 0.95},
      {L_GROUND, K_WATER, W_POND, 0, 0.5, 0.8, 0.05, 0.8},
      {L_GROUND, K_SCATTER, S_LILY, 4, 0.5, 0.8, 0.02, 0.55},
      {L_GROUND, K_GROVE, T_REEDS, 2, 0.5, 0.84, 0.1, 0.84}}},
    {"sea",
     "reef",
     SKY_SAME,
     {{L_MID, K_SIL, M_ROCKS, 0, 0.5, 0.74, 0.12, 1.1},
      {L_GROUND, K_GROVE, T_CORAL, 6, 0.5, 0.8, 0.12, 1.0},
      {L_GROUND, K_SCATTER, S_FISH, 3, 0.5, 0.35, 0.02, 0.7},
      {L_FRONT, K_SCATTER, S_BUBBLES, 8, 0.5, 0.3, 0.02, 0.9}}},
    {"sea",
     "cave",
     SKY_SAME,
     {{L_MID, K_SIL, M_ROCKS, 0, 0.5, 0.74, 0.15, 1.1},
      {L_GROUND, K_GROVE, T_CORAL, 2, 0.5, 0.82, 0.1, 0.6},
      {L_FRONT, K_BUILD, B_ARCH, 0, 0, 0, 0, 0},
      {L_FRONT, K_SCATTER, S_BUBBLES, 6, 0.5, 0.35, 0.018, 0.6}}},
    {"sea",
     "kelp",
     SKY_SAME,
     {{L_MID, K_GROVE, T_KELP, 7, 0.5, 0.74, 0.5, 1.0},
      {L_GROUND, K_GROVE, T_KELP, 4, 0.5, 0.86, 0.8, 1.0},
      {L_FRONT, K_SCATTER, S_BUBBLES, 8, 0.5, 0.3, 0.02, 0.9}}},
    {"sea",
     "wreck",
     SKY_SAME,
     {{L_MID, K_SIL, M_ROCKS, 0, 0.5, 0.74, 0.1, 1.1},
      {L_MID, K_BUILD, B_WRECK, 1, 0.55, 0.7, 0.3, 0},
      {L_GROUND, K_GROVE, T_KELP, 2, 0.5, 0.82, 0.35, 0.9},
      {L_FRONT, K_SCATTER, S_BUBBLES, 6, 0.55, 0.3, 0.02, 0.5}}},
    {"sea",
     "lagoon",
     SKY_OPEN,
     {{L_FAR, K_BUILD, B_SEA, 0, 0, 0.55, 0, 0},
      {L_GROUND, K_GROVE, T_PALM, 2, 0.5, 0.8, 0.45, 0.9},
      {L_GROUND, K_SCATTER, S_SHELLS, 4, 0.5, 0.88, 0.015, 0.7}}},
    {"sea",
     "shore",
     SKY_OPEN,
     {{L_FAR, K_BUILD, B_SEA, 0, 0, 0.52, 0, 0},
      {L_GROUND, K_GROVE, T_PALM, 1, 0.1, 0.8, 0.45, 0},
      {L_GROUND, K_SCATTER, S_SHELLS, 7, 0.5, 0.87, 0.016, 0.9}}},
    {"space",
     "station",
     SKY_SAME,
     {{L_SKY, K_BUILD, B_PLANET, 1, 0.2, 0.2, 0.08, 0},
      {L_MID, K_BUILD, B_STATION, 1, 0.5, 0.72, 0.25, 0},
      {L_GROUND, K_GROVE, T_MUSHROOM, 3, 0.5, 0.8, 0.07, 0.8}}},
    {"space",
     "moon",
     SKY_SAME,
     {{L_SKY, K_BUILD, B_PLANET, 1, 0.75, 0.22, 0.1, 0},
      {L_MID, K_SIL, M_ROCKS, 0, 0.5, 0.74, 0.1, 1.1},
      {L_GROUND, K_SCATTER, S_CRATERS, 4, 0.5, 0.84, 0.03, 0.9}}},
    {"space",
     "rings",
     SKY_SAME,
     {{L_SKY, K_BUILD, B_RINGED, 1, 0.55, 0.3, 0.14, 0},
      {L_GROUND, K_SCATTER, S_CRATERS, 3, 0.5, 0.85, 0.025, 0.8},
      {L_GROUND, K_SCATTER, S_SPARKLES, 5, 0.5, 0.5, 0.01, 0.9}}},
    {"space",
     "greenhouse",
     SKY_SAME,
     {{L_SKY, K_BUILD, B_PLANET, 1, 0.15, 0.18, 0.06, 0},
      {L_MID, K_BUILD, B_GREENHOUSE, 1, 0.5, 0.74, 0.3, 0}}},
    {"space",
     "tower",
     SKY_SAME,
     {{L_SKY, K_BUILD, B_RINGED, 1, 0.2, 0.2, 0.06, 0},
      {L_MID, K_BUILD, B_TOWER, 1, 0.7, 0.73, 0.45, 0},
      {L_GROUND, K_SCATTER, S_CRATERS, 2, 0.3, 0.85, 0.025, 0.4}}},
    {"space",
     "crater",
     SKY_SAME,
     {{L_SKY, K_BUILD, B_PLANET, 1, 0.8, 0.2, 0.07, 0},
      {L_GROUND, K_SCATTER, S_CRATERS, 1, 0.5, 0.82, 0.06, 0},
      {L_GROUND, K_SCATTER, S_SPARKLES, 9, 0.5, 0.84, 0.008, 0.8}}},
    {"snow",
     "village",
     SKY_SAME,
     {{L_FAR, K_SIL, M_SNOWPEAKS, 0, 0.5, 0.62, 0.22, 1.2},
      {L_MID, K_GROVE, T_SNOWPINE, 4, 0.5, 0.7, 0.14, 1.0},
      {L_GROUND, K_BUILD, B_IGLOO, 3, 0.15, 0.76, 0.1, 0.35}}},
    {"snow",
     "lake",
     SKY_SAME,
     {{L_FAR, K_SIL, M_SNOWPEAKS, 0, 0.5, 0.64, 0.2, 1.2},
      {L_MID, K_GROVE, T_SNOWPINE, 6, 0.5, 0.7, 0.12, 1.0},
      {L_GROUND, K_WATER, W_ICE, 0, 0.5, 0.82, 0.06, 0.9}}},
    {"snow",
     "pines",
     SKY_SAME,
     {{L_MID, K_GROVE, T_SNOWPINE, 7, 0.5, 0.7, 0.2, 1.0},
      {L_GROUND, K_GROVE, T_SNOWPINE, 2, 0.5, 0.78, 0.42, 1.0}}},
    {"snow",
     "caves",
     SKY_SAME,
     {{L_MID, K_SIL, M_SNOWPEAKS, 0, 0.5, 0.74, 0.25, 1.2},
      {L_GROUND, K_SCATTER, S_CRYSTALS, 4, 0.5, 0.8, 0.03, 0.6},
      {L_FRONT, K_BUILD, B_ICEARCH, 0, 0, 0, 0, 0}}},
    {"snow",
     "slope",
     SKY_SAME,
     {{L_FAR, K_SIL, M_SNOWPEAKS, 0, 0.5, 0.62, 0.2, 1.2},
      {L_MID, K_SIL, M_SLOPE, 0, 0.5, 0.75, 0.3, 1.1},
      {L_MID, K_GROVE, T_SNOWPINE, 3, 0.3, 0.6, 0.1, 0.3}}},
    {"snow",
     "ridge",
     SKY_SAME,
     {{L_SKY, K_BUILD, B_AURORA, 1, 0, 0.22, 0.12, 0},
      {L_FAR, K_SIL, M_SNOWPEAKS, 0, 0.5, 0.66, 0.3, 1.2},
      {L_MID, K_SIL, M_SNOWPEAKS, 0, 0.4, 0.74, 0.2, 0.9}}},
    {"kingdom",
     "castle",
     SKY_SAME,
     {{L_FAR, K_BUILD, B_CASTLE, 1, 0.5, 0.64, 0.3, 0},
      {L_MID, K_WATER, W_MOAT, 0, 0.5, 0.68, 0.02, 1},
      {L_GROUND, K_GROVE, T_ROUND, 2, 0.5, 0.78, 0.3, 1.0}}},
    {"kingdom",
     "market",
     SKY_SAME,
     {{L_FAR, K_BUILD, B_CASTLE, 1, 0.82, 0.62, 0.18, 0},
      {L_MID, K_BUILD, B_STALL, 3, 0.2, 0.72, 0.22, 0.3},
      {L_SKY, K_BUILD, B_BUNTING, 0, 0, 0.08, 0, 0}}},
    {"kingdom",
     "woods",
     SKY_SAME,
     {{L_MID, K_GROVE, T_OAK, 6, 0.5, 0.7, 0.24, 1.0},
      {L_GROUND, K_GROVE, T_OAK, 2, 0.5, 0.78, 0.5, 1.05}}},
    {"kingdom",
     "nest",
     SKY_SAME,
     {{L_MID, K_SIL, M_CLIFF, 0, 0.3, 0.76, 0.45, 0.7},
      {L_MID, K_BUILD, B_NEST, 1, 0.25, 0.42, 0.16, 0},
      {L_GROUND, K_SCATTER, S_PEBBLES, 4, 0.6, 0.84, 0.01, 0.6}}},
    {"kingdom",
     "well",
     SKY_SAME,
     {{L_MID, K_GROVE, T_ROUND, 4, 0.5, 0.69, 0.15, 1.0},
      {L_GROUND, K_BUILD, B_WELL, 1, 0.5, 0.74, 0.22, 0},
      {L_GROUND, K_SCATTER, S_FLOWERS, 6, 0.5, 0.84, 0.012, 0.9}}},
    {"kingdom", "library", SKY_INDOOR, {{L_MID, K_BUILD, B_SHELVES, 0, 0, 0, 0, 0}}},
    {"rainforest",
     "hollow",
     SKY_SAME,
     {{L_FAR, K_GROVE, T_JUNGLE, 6, 0.5, 0.66, 0.35, 1.0},
      {L_MID, K_BUILD, B_BRIDGE, 0, 0.5, 0.34, 0.04, 0.56},
      {L_MID, K_BUILD, B_TREEHOUSE, 2, 0.22, 0.72, 0.3, 0.56}}},
    {"rainforest",
     "falls",
     SKY_SAME,
     {{L_FAR, K_GROVE, T_JUNGLE, 5, 0.5, 0.64, 0.3, 1.0},
      {L_MID, K_BUILD, B_WATERFALL, 1, 0.5, 0.7, 0.36, 0},
      {L_GROUND, K_WATER, W_POOL, 0, 0.5, 0.73, 0.05, 0.5}}},
    {"rainforest",
     "walkway",
     SKY_SAME,
     {{L_FAR, K_GROVE, T_JUNGLE, 7, 0.5, 0.95, 0.5, 1.1},
      {L_MID, K_GROVE, T_JUNGLE, 2, 0.5, 1.0, 0.55, 1.1},
      {L_GROUND, K_BUILD, B_BRIDGE, 0, 0.5, 0.78, 0.035, 1.1}}},
    {"rainforest",
     "river",
     SKY_SAME,
     {{L_MID, K_GROVE, T_JUNGLE, 6, 0.5, 0.69, 0.3, 1.0},
      {L_GROUND, K_WATER, W_RIVER, 0, 0.5, 0.8, 0.05, 1},
      {L_GROUND, K_SCATTER, S_LILY, 4, 0.5, 0.8, 0.03, 0.7}}},
    {"rainforest",
     "grove",
     SKY_SAME,
     {{L_FAR, K_GROVE, T_JUNGLE, 7, 0.5, 0.7, 0.6, 1.1},
      {L_GROUND, K_GROVE, T_FERN, 2, 0.5, 0.8, 0.2, 1.0},
      {L_GROUND, K_GROVE, T_MUSHROOM, 5, 0.5, 0.82, 0.06, 0.9}}},
    {"rainforest",
     "fig",
     SKY_SAME,
     {{L_FAR, K_GROVE, T_JUNGLE, 5, 0.5, 0.68, 0.3, 1.0},
      {L_MID, K_BUILD, B_FIG, 1, 0.5, 0.74, 0.3, 0},
      {L_GROUND, K_GROVE, T_FERN, 2, 0.5, 0.8, 0.15, 0.95}}},
    {"desert",
     "oasis",
     SKY_SAME,
     {{L_MID, K_BUILD, B_HOUSE, 3, 0.2, 0.7, 0.16, 0.3},
      {L_GROUND, K_WATER, W_POOL, 0, 0.5, 0.8, 0.045, 0.5},
      {L_GROUND, K_GROVE, T_PALM, 2, 0.5, 0.8, 0.45, 0.85}}},
    {"desert",
     "dunes",
     SKY_SAME,
     {{L_FAR, K_SIL, M_DUNES, 0, 0.5, 0.7, 0.2, 1.2},
      {L_MID, K_SIL, M_DUNES, 0, 0.5, 0.75, 0.12, 1.2}}},
    {"desert",
     "canyon",
     SKY_SAME,
     {{L_MID, K_SIL, M_CANYON, 0, 0.12, 0.76, 0.55, 0.4},
      {L_MID, K_SIL, M_CANYON, 0, 0.9, 0.76, 0.5, 0.4}}},
    {"desert",
     "camp",
     SKY_SAME,
     {{L_FAR, K_SIL, M_DUNES, 0, 0.5, 0.7, 0.12, 1.2},
      {L_MID, K_BUILD, B_TENT, 3, 0.2, 0.73, 0.2, 0.3},
      {L_GROUND, K_BUILD, B_FIRE, 1, 0.5, 0.8, 0.05, 0}}},
    {"desert",
     "rock",
     SKY_SAME,
     {{L_FAR, K_SIL, M_DUNES, 0, 0.5, 0.72, 0.08, 1.2},
      {L_MID, K_SIL, M_MESA, 0, 0.5, 0.74, 0.3, 0.6}}},
    {"desert",
     "spring",
     SKY_SAME,
     {{L_FAR, K_SIL, M_DUNES, 0, 0.5, 0.72, 0.1, 1.2},
      {L_GROUND, K_WATER, W_POOL, 0, 0.5, 0.81, 0.04, 0.4},
      {L_GROUND, K_SCATTER, S_PEBBLES, 6, 0.5, 0.82, 0.012, 0.55},
      {L_GROUND, K_GROVE, T_CACTUS, 2, 0.5, 0.8, 0.16, 0.85}}},
    {"dinosaur",
     "nests",
     SKY_SAME,
     {{L_MID, K_SIL, M_HILL, 0, 0.5, 0.76, 0.2, 1.1},
      {L_MID, K_BUILD, B_NEST, 3, 0.2, 0.66, 0.12, 0.3},
      {L_GROUND, K_GROVE, T_FERN, 2, 0.5, 0.82, 0.2, 0.95}}},
    {"dinosaur",
     "ferns",
     SKY_SAME,
     {{L_MID, K_GROVE, T_FERN, 7, 0.5, 0.74, 0.35, 1.1},
      {L_GROUND, K_GROVE, T_FERN, 3, 0.5, 0.84, 0.5, 1.1}}},
    {"dinosaur",
     "volcano",
     SKY_SAME,
     {{L_FAR, K_SIL, M_VOLCANO, 0, 0.6, 0.7, 0.42, 0.6},
      {L_GROUND, K_GROVE, T_FERN, 2, 0.5, 0.82, 0.2, 0.95}}},
    {"dinosaur",
     "pools",
     SKY_SAME,
     {{L_FAR, K_SIL, M_VOLCANO, 0, 0.8, 0.68, 0.2, 0.4},
      {L_GROUND, K_WATER, W_POOL, 0, 0.3, 0.8, 0.035, 0.3},
      {L_GROUND, K_WATER, W_POOL, 0, 0.75, 0.83, 0.03, 0.25},
      {L_GROUND, K_GROVE, T_FERN, 1, 0.05, 0.8, 0.2, 0}}},
    {"dinosaur",
     "lake",
     SKY_SAME,
     {{L_FAR, K_SIL, M_VOLCANO, 0, 0.2, 0.66, 0.18, 0.35},
      {L_MID, K_WATER, W_POND, 0, 0.5, 0.74, 0.05, 1.2},
      {L_GROUND, K_GROVE, T_FERN, 2, 0.5, 0.82, 0.22, 0.95}}},
    {"dinosaur",
     "cliffs",
     SKY_SAME,
     {{L_MID, K_SIL, M_CLIFF, 0, 0.75, 0.76, 0.5, 0.6},
      {L_MID, K_SCATTER, S_FOSSILS, 4, 0.8, 0.5, 0.05, 0.25},
      {L_GROUND, K_GROVE, T_FERN, 1, 0.08, 0.82, 0.2, 0}}},
};

/* For an unknown place: hills, a few trees and flowers in the palette. */
static const struct place generic = {NULL,
                                     NULL,
                                     SKY_SAME,
                                     {{L_MID, K_GROVE, T_ROUND, 4, 0.5, 0.7, 0.14, 1.0},
                                      {L_GROUND, K_SCATTER, S_FLOWERS, 8, 0.5, 0.85, 0.012, 0.95}}};

static const struct place *place_of(const char *universe, const char *place)
{
	for (size_t i = 0; universe && place && i < sizeof(places) / sizeof(places[0]); i++)
		if (strcmp(places[i].universe, universe) == 0 &&
		    strcmp(places[i].place, place) == 0)
			return &places[i];
	return &generic;
}

static void features(struct bd *b, const struct place *pl, int layer)
{
	for (int i = 0; i < MAXF; i++)
		if (pl->f[i].kind != K_NONE && pl->f[i].layer == layer)
			drawers[pl->f[i].kind](b, &pl->f[i]);
}

/* ---- weather over everything ---- */

static void rain(struct bd *b)
{
	for (int i = 0; i < 160; i++) {
		double x = sv_rng_range(b->rng, -0.1, 1.0) * b->w,
		       y = sv_rng_range(b->rng, 0, b->h);
		cairo_move_to(b->cr, x, y);
		cairo_line_to(b->cr, x + 6, y + 22);
	}
	cairo_set_source_rgba(b->cr, 0.85, 0.9, 1.0, 0.45);
	cairo_set_line_width(b->cr, 1.6);
	cairo_set_line_cap(b->cr, CAIRO_LINE_CAP_ROUND);
	cairo_stroke(b->cr);
}

/* ---- the whole backdrop ---- */

static void terrain(struct bd *b, const struct land *ld, const struct place *pl)
{
	struct ill_rgb far = ld ? HEX(ld->far) : ill_rgb_shade(pal(b, 0), 0.2);
	struct ill_rgb mid = ld ? HEX(ld->mid) : pal(b, 0);
	struct ill_rgb gr = ld ? HEX(ld->ground) : ill_rgb_shade(pal(b, 0), 0.1);
	if (b->sky != SKY_INDOOR) {
		band(b, b->ground - 0.15 * b->h, 0.04 * b->h, 3);
		paint(b, far, 0.55);
	}
	features(b, pl, L_FAR);
	if (b->sky != SKY_INDOOR) {
		band(b, b->ground - 0.06 * b->h, 0.025 * b->h, 2);
		paint(b, mid, 0.3);
	}
	features(b, pl, L_MID);
	band(b, b->ground, b->sky == SKY_INDOOR ? 0 : 0.01 * b->h, 1.5);
	paint(b, b->sky == SKY_INDOOR ? HEX(0xB07A4F) : gr, 0);
	features(b, pl, L_GROUND);
}

double ill_backdrop(cairo_t *cr, double w, double h, const struct ill_scene *sc,
                    const struct ill_style *st, struct sv_rng *rng)
{
	struct bd b = {
	    .cr = cr, .w = w, .h = h, .ground = GROUND * h, .sc = sc, .st = st, .rng = rng};
	const struct hour *hr = hour_of(sc->time_of_day);
	const struct land *ld = land_of(sc->universe);
	const struct place *pl = place_of(sc->universe, sc->place);
	set_light(&b, hr);
	b.sky = pl->sky != SKY_SAME ? pl->sky : ld ? ld->sky : SKY_OPEN;
	cairo_save(cr);
	if (b.sky == SKY_WATER)
		water_sky(&b);
	else if (b.sky == SKY_SPACE)
		space_sky(&b);
	else if (b.sky == SKY_INDOOR)
		indoor_sky(&b);
	else
		open_sky(&b, hr);
	features(&b, pl, L_SKY);
	terrain(&b, ld, pl);
	features(&b, pl, L_FRONT);
	if (b.rainy && b.sky == SKY_OPEN)
		rain(&b);
	cairo_restore(cr);
	return b.ground;
}
