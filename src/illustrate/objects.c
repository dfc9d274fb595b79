/*
 * The key objects of a beat: a small drawing for each thing a story can
 * hold, found by a keyword of its catalog name ("little lantern" and "ice
 * lantern" are both lanterns; "snail-shell trumpet" is a trumpet, because
 * the table is searched in order and trumpet comes before shell). A colour
 * word in the name ("red", "golden", "blue") tints the drawing. Names no
 * keyword matches get a parcel, a stone or a glowing orb, picked by the
 * name's hash so the same name always looks the same.
 *
 * Drawers work in object units: x from -0.5 to 0.5 across, y from 0 at the
 * bottom to 1 at the top, scaled to the requested size.
 */
#include "illustrate/internal.h"

#include <math.h>
#include <string.h>

#define HEX(v)                                                                                     \
	((struct ill_rgb){((v) >> 16 & 255) / 255.0, ((v) >> 8 & 255) / 255.0, ((v)&255) / 255.0})

struct ob {
	cairo_t *cr;
	double x, y, s;
	const struct ill_style *st;
	struct sv_rng *rng;
	struct ill_rgb main; /* the object's colour: its own, or a colour word's */
};

static double X(const struct ob *o, double u)
{
	return o->x + u * o->s;
}

static double Y(const struct ob *o, double v)
{
	return o->y - v * o->s;
}

static void ell(const struct ob *o, double cx, double cy, double rx, double ry)
{
	cairo_save(o->cr);
	cairo_translate(o->cr, X(o, cx), Y(o, cy));
	cairo_scale(o->cr, rx * o->s, ry * o->s);
	cairo_new_sub_path(o->cr);
	cairo_arc(o->cr, 0, 0, 1, 0, 2 * M_PI);
	cairo_restore(o->cr);
}

static void box(const struct ob *o, double x0, double y0, double w, double h)
{
	cairo_rectangle(o->cr, X(o, x0), Y(o, y0 + h), w * o->s, h * o->s);
}

/* A closed polygon of n points (x, y pairs). */
static void poly(const struct ob *o, const double *p, int n)
{
	cairo_move_to(o->cr, X(o, p[0]), Y(o, p[1]));
	for (int i = 1; i < n; i++)
		cairo_line_to(o->cr, X(o, p[2 * (size_t)i]), Y(o, p[2 * (size_t)i + 1]));
	cairo_close_path(o->cr);
}

static void line(const struct ob *o, double x0, double y0, double x1, double y1)
{
	cairo_move_to(o->cr, X(o, x0), Y(o, y0));
	cairo_line_to(o->cr, X(o, x1), Y(o, y1));
}

static struct ill_rgb outline_of(struct ill_rgb c)
{
	return ill_rgb_mix(ill_rgb_shade(c, -0.6), (struct ill_rgb){0.25, 0.15, 0.2}, 0.3);
}

/* Fills the path and outlines it, as everything in the foreground is. */
static void paint(const struct ob *o, struct ill_rgb c)
{
	cairo_path_t *p = cairo_copy_path(o->cr);
	ill_fill(o->cr, o->st, c, o->rng);
	cairo_append_path(o->cr, p);
	cairo_path_destroy(p);
	ill_stroke(o->cr, o->st, outline_of(c), fmax(1.2, o->s * 0.025), o->rng);
}

static void ink(const struct ob *o, struct ill_rgb c, double width)
{
	ill_stroke(o->cr, o->st, c, fmax(1, width * o->s), o->rng);
}

static void glow(const struct ob *o, double cx, double cy, double r, struct ill_rgb c)
{
	double x = X(o, cx), y = Y(o, cy), rr = r * o->s;
	cairo_pattern_t *g = cairo_pattern_create_radial(x, y, 0, x, y, rr);
	cairo_pattern_add_color_stop_rgba(g, 0, c.r, c.g, c.b, 0.6);
	cairo_pattern_add_color_stop_rgba(g, 1, c.r, c.g, c.b, 0);
	cairo_set_source(o->cr, g);
	cairo_arc(o->cr, x, y, rr, 0, 2 * M_PI);
	cairo_fill(o->cr);
	cairo_pattern_destroy(g);
}

static void shine(const struct ob *o, double cx, double cy, double r)
{
	ell(o, cx, cy, r, r * 0.6);
	cairo_set_source_rgba(o->cr, 1, 1, 1, 0.6);
	cairo_fill(o->cr);
}

static const struct ill_rgb WOOD = {0.63, 0.45, 0.3}, GOLD = {1.0, 0.8, 0.25},
                            DARK = {0.25, 0.18, 0.2}, PAPER = {0.98, 0.93, 0.8};

/* ---- the drawers ---- */

static void d_cup(const struct ob *o)
{
	poly(o, (const double[]){-0.35, 0.65, 0.35, 0.65, 0.22, 0.05, -0.22, 0.05}, 4);
	paint(o, WOOD);
	ell(o, 0, 0.68, 0.4, 0.14); /* the acorn's cap as a rim */
	paint(o, ill_rgb_shade(WOOD, -0.2));
	ell(o, 0, 0.68, 0.3, 0.07);
	paint(o, HEX(0x8FD3F0));
}

static void d_dandelion(const struct ob *o)
{
	line(o, 0, 0, 0.02, 0.6);
	ink(o, HEX(0x7CB342), 0.04);
	glow(o, 0, 0.75, 0.4, (struct ill_rgb){1, 1, 1});
	for (int i = 0; i < 16; i++) { /* the seeds of the clock */
		double a = i * M_PI / 8;
		line(o, 0, 0.75, cos(a) * 0.28, 0.75 + sin(a) * 0.28);
	}
	ink(o, HEX(0xE0E0E0), 0.015);
	ell(o, 0, 0.75, 0.07, 0.07);
	paint(o, HEX(0xF5F5F0));
}

static void d_kite(const struct ob *o)
{
	poly(o, (const double[]){0, 1, 0.32, 0.65, 0, 0.2, -0.32, 0.65}, 4);
	paint(o, o->main);
	line(o, 0, 1, 0, 0.2);
	line(o, -0.32, 0.65, 0.32, 0.65);
	ink(o, ill_rgb_shade(o->main, -0.4), 0.02);
	cairo_move_to(o->cr, X(o, 0), Y(o, 0.2));
	cairo_curve_to(o->cr, X(o, -0.3), Y(o, 0.1), X(o, 0.3), Y(o, 0.05), X(o, 0.1), Y(o, -0.05));
	ink(o, DARK, 0.015);
	for (int i = 0; i < 2; i++) { /* bows on the tail */
		poly(o,
		     (const double[]){-0.06, 0.12 - i * 0.1, 0.06, 0.16 - i * 0.1, 0.06,
		                      0.08 - i * 0.1},
		     3);
		paint(o, HEX(0xFFE082));
	}
}

static void d_basket(const struct ob *o)
{
	for (int i = 0; i < 7; i++) { /* berries heaped over the rim */
		ell(o, -0.3 + i * 0.1, 0.48 + (i % 2) * 0.06, 0.08, 0.08);
		paint(o, i % 3 ? HEX(0xC62828) : HEX(0x5E35B1));
	}
	cairo_arc(o->cr, X(o, 0), Y(o, 0.45), 0.34 * o->s, M_PI, 2 * M_PI);
	ink(o, ill_rgb_shade(WOOD, -0.1), 0.05);
	poly(o, (const double[]){-0.42, 0.45, 0.42, 0.45, 0.32, 0, -0.32, 0}, 4);
	paint(o, HEX(0xC89B5E));
	for (int i = 1; i < 3; i++)
		line(o, -0.4 + i * 0.02, i * 0.15, 0.4 - i * 0.02, i * 0.15);
	ink(o, ill_rgb_shade(WOOD, -0.3), 0.015);
}

static void d_ball(const struct ob *o)
{
	ell(o, 0, 0.4, 0.4, 0.4);
	paint(o, o->main);
	for (int i = 0; i < 4; i++) { /* the wound threads */
		cairo_save(o->cr);
		cairo_translate(o->cr, X(o, 0), Y(o, 0.4));
		cairo_rotate(o->cr, i * 0.8);
		cairo_scale(o->cr, 0.38 * o->s, 0.15 * o->s);
		cairo_arc(o->cr, 0, 0, 1, 0, M_PI);
		cairo_restore(o->cr);
	}
	ink(o, ill_rgb_shade(o->main, -0.3), 0.02);
	cairo_move_to(o->cr, X(o, 0.3), Y(o, 0.15));
	cairo_curve_to(o->cr, X(o, 0.5), Y(o, 0), X(o, 0.55), Y(o, 0.1), X(o, 0.6), Y(o, 0.02));
	ink(o, o->main, 0.025);
	shine(o, -0.15, 0.6, 0.08);
}

static void d_horn(const struct ob *o)
{
	cairo_move_to(o->cr, X(o, -0.45), Y(o, 0.45));
	cairo_curve_to(o->cr, X(o, -0.1), Y(o, 0.5), X(o, 0.2), Y(o, 0.6), X(o, 0.4), Y(o, 0.85));
	cairo_line_to(o->cr, X(o, 0.5), Y(o, 0.2));
	cairo_curve_to(o->cr, X(o, 0.2), Y(o, 0.3), X(o, -0.1), Y(o, 0.36), X(o, -0.45),
	               Y(o, 0.38));
	cairo_close_path(o->cr);
	paint(o, o->main);
	ell(o, 0.45, 0.52, 0.08, 0.33);
	paint(o, ill_rgb_mix(o->main, HEX(0xF48FB1), 0.5));
	for (int i = 1; i < 4; i++) /* the spiral's ridges */
		line(o, -0.3 + i * 0.17, 0.38 + i * 0.03, -0.25 + i * 0.17, 0.5 + i * 0.06);
	ink(o, ill_rgb_shade(o->main, -0.35), 0.02);
}

static void d_lantern(const struct ob *o)
{
	glow(o, 0, 0.45, 0.7, HEX(0xFFE082));
	cairo_arc(o->cr, X(o, 0), Y(o, 0.85), 0.1 * o->s, M_PI, 2 * M_PI);
	ink(o, DARK, 0.03);
	box(o, -0.25, 0.1, 0.5, 0.65);
	paint(o, HEX(0xFFF3B0));
	ell(o, 0, 0.4, 0.08, 0.14); /* the flame */
	paint(o, HEX(0xFFA726));
	box(o, -0.3, 0.72, 0.6, 0.1);
	paint(o, o->main);
	box(o, -0.3, 0.02, 0.6, 0.1);
	paint(o, o->main);
	line(o, -0.12, 0.12, -0.12, 0.72);
	line(o, 0.12, 0.12, 0.12, 0.72);
	ink(o, ill_rgb_shade(o->main, -0.3), 0.02);
}

static void d_orb(const struct ob *o)
{
	glow(o, 0, 0.35, 0.6, o->main);
	ell(o, 0, 0.35, 0.3, 0.3);
	paint(o, ill_rgb_shade(o->main, 0.3));
	shine(o, -0.1, 0.47, 0.08);
}

static void d_shell(const struct ob *o)
{
	/* A scallop: a fan from the hinge with a scalloped rim. */
	cairo_move_to(o->cr, X(o, 0), Y(o, 0.08));
	for (int i = 0; i <= 5; i++) {
		double a = M_PI * (0.1 + i * 0.16);
		cairo_arc(o->cr, X(o, -cos(a) * 0.36), Y(o, 0.1 + sin(a) * 0.5), 0.09 * o->s, 0,
		          2 * M_PI);
		cairo_line_to(o->cr, X(o, 0), Y(o, 0.08));
	}
	cairo_new_sub_path(o->cr);
	cairo_arc(o->cr, X(o, 0), Y(o, 0.08), 0.48 * o->s, -M_PI * 0.92, -M_PI * 0.08);
	cairo_close_path(o->cr);
	ill_fill(o->cr, o->st, o->main, o->rng);
	for (int i = 0; i < 5; i++) {
		double a = M_PI * (0.18 + i * 0.16);
		line(o, 0, 0.08, -cos(a) * 0.42, 0.1 + sin(a) * 0.42);
	}
	ink(o, ill_rgb_shade(o->main, -0.35), 0.02);
	poly(o, (const double[]){-0.12, 0.12, 0.12, 0.12, 0.08, 0, -0.08, 0}, 4);
	paint(o, ill_rgb_shade(o->main, -0.1));
}

static void d_bottle(const struct ob *o)
{
	ell(o, 0, 0.32, 0.28, 0.32);
	box(o, -0.1, 0.55, 0.2, 0.3);
	cairo_set_source_rgba(o->cr, 0.6, 0.9, 0.85, 0.55);
	cairo_fill_preserve(o->cr);
	ink(o, HEX(0x26A69A), 0.025);
	box(o, -0.12, 0.84, 0.24, 0.12); /* the cork */
	paint(o, WOOD);
	box(o, -0.15, 0.2, 0.3, 0.2); /* a message rolled up inside */
	paint(o, PAPER);
	shine(o, -0.15, 0.45, 0.05);
}

static void d_map(const struct ob *o)
{
	struct ill_rgb c = ill_rgb_mix(PAPER, o->main, 0.3);
	poly(o, (const double[]){-0.45, 0.1, 0.45, 0.1, 0.45, 0.75, -0.45, 0.75}, 4);
	paint(o, c);
	ell(o, -0.45, 0.42, 0.07, 0.34); /* the rolled edges */
	paint(o, ill_rgb_shade(c, -0.1));
	ell(o, 0.45, 0.42, 0.07, 0.34);
	paint(o, ill_rgb_shade(c, -0.1));
	cairo_move_to(o->cr, X(o, -0.3), Y(o, 0.2));
	cairo_curve_to(o->cr, X(o, -0.1), Y(o, 0.6), X(o, 0.05), Y(o, 0.2), X(o, 0.2), Y(o, 0.55));
	cairo_set_dash(o->cr, (const double[]){4, 4}, 2, 0);
	ink(o, HEX(0x8D6E63), 0.02);
	cairo_set_dash(o->cr, NULL, 0, 0);
	line(o, 0.16, 0.51, 0.26, 0.61); /* X marks the spot */
	line(o, 0.26, 0.51, 0.16, 0.61);
	ink(o, HEX(0xD32F2F), 0.035);
}

static void star_path(const struct ob *o, double cx, double cy, double r)
{
	for (int i = 0; i < 10; i++) {
		double a = -M_PI / 2 + i * M_PI / 5, rr = i % 2 ? r * 0.45 : r;
		double px = X(o, cx + cos(a) * rr), py = Y(o, cy - sin(a) * rr);
		if (i == 0)
			cairo_move_to(o->cr, px, py);
		else
			cairo_line_to(o->cr, px, py);
	}
	cairo_close_path(o->cr);
}

static void d_chart(const struct ob *o)
{
	d_map(o);
	for (int i = 0; i < 3; i++) {
		star_path(o, -0.25 + i * 0.22, 0.55 - (i % 2) * 0.2, 0.06);
		paint(o, GOLD);
	}
}

static void d_rock(const struct ob *o)
{
	poly(o, (const double[]){-0.4, 0, -0.45, 0.25, -0.2, 0.5, 0.15, 0.52, 0.42, 0.3, 0.4, 0},
	     6);
	paint(o, HEX(0xB0AEC0));
	ell(o, -0.12, 0.25, 0.08, 0.06);
	ell(o, 0.15, 0.35, 0.06, 0.04);
	paint(o, HEX(0x8E8CA0));
}

static void d_telescope(const struct ob *o)
{
	line(o, 0, 0.45, -0.3, 0);
	line(o, 0, 0.45, 0.3, 0);
	line(o, 0, 0.45, 0, 0);
	ink(o, DARK, 0.03);
	cairo_save(o->cr);
	cairo_translate(o->cr, X(o, 0), Y(o, 0.5));
	cairo_rotate(o->cr, -0.5);
	cairo_rectangle(o->cr, -0.35 * o->s, -0.08 * o->s, 0.7 * o->s, 0.16 * o->s);
	cairo_rectangle(o->cr, 0.3 * o->s, -0.11 * o->s, 0.15 * o->s, 0.22 * o->s);
	cairo_restore(o->cr);
	paint(o, o->main);
}

static void d_glowstick(const struct ob *o)
{
	glow(o, 0, 0.45, 0.55, HEX(0x76FF03));
	cairo_save(o->cr);
	cairo_translate(o->cr, X(o, 0), Y(o, 0.45));
	cairo_rotate(o->cr, 0.4);
	cairo_rectangle(o->cr, -0.08 * o->s, -0.42 * o->s, 0.16 * o->s, 0.84 * o->s);
	cairo_restore(o->cr);
	paint(o, HEX(0xB2FF59));
}

static void d_helmet(const struct ob *o)
{
	ell(o, 0, 0.5, 0.42, 0.45);
	paint(o, HEX(0xECEFF1));
	ell(o, 0.05, 0.55, 0.28, 0.25); /* the visor */
	paint(o, HEX(0x5C6BC0));
	shine(o, -0.05, 0.65, 0.07);
	box(o, -0.35, 0.02, 0.7, 0.12);
	paint(o, o->main);
}

static void d_bolt(const struct ob *o)
{
	box(o, -0.1, 0, 0.2, 0.55);
	paint(o, HEX(0xB0BEC5));
	for (int i = 1; i < 5; i++)
		line(o, -0.1, i * 0.1, 0.1, i * 0.1 + 0.05);
	ink(o, HEX(0x607D8B), 0.015);
	poly(o, (const double[]){-0.3, 0.55, 0.3, 0.55, 0.25, 0.75, -0.25, 0.75}, 4);
	paint(o, HEX(0xCFD8DC));
	shine(o, -0.12, 0.68, 0.05);
}

static void d_crystal(const struct ob *o)
{
	glow(o, 0, 0.45, 0.6, o->main);
	poly(o, (const double[]){-0.2, 0, -0.28, 0.5, 0, 0.95, 0.28, 0.5, 0.2, 0}, 5);
	paint(o, ill_rgb_shade(o->main, 0.35));
	poly(o, (const double[]){0, 0.95, 0.05, 0.4, 0.2, 0}, 3);
	paint(o, ill_rgb_shade(o->main, 0.1));
}

static void d_scarf(const struct ob *o)
{
	cairo_move_to(o->cr, X(o, -0.45), Y(o, 0.6));
	cairo_curve_to(o->cr, X(o, -0.1), Y(o, 0.8), X(o, 0.1), Y(o, 0.4), X(o, 0.45), Y(o, 0.6));
	cairo_line_to(o->cr, X(o, 0.45), Y(o, 0.4));
	cairo_curve_to(o->cr, X(o, 0.1), Y(o, 0.2), X(o, -0.1), Y(o, 0.6), X(o, -0.45), Y(o, 0.4));
	cairo_close_path(o->cr);
	box(o, 0.2, 0, 0.18, 0.5); /* the hanging end */
	paint(o, o->main);
	for (int i = 0; i < 3; i++)
		line(o, 0.2, 0.1 + i * 0.12, 0.38, 0.1 + i * 0.12);
	ink(o, ill_rgb_shade(o->main, 0.5), 0.03);
}

static void d_sled(const struct ob *o)
{
	box(o, -0.45, 0.25, 0.85, 0.12);
	paint(o, WOOD);
	line(o, -0.3, 0.25, -0.3, 0.08);
	line(o, 0.25, 0.25, 0.25, 0.08);
	ink(o, DARK, 0.03);
	cairo_move_to(o->cr, X(o, -0.48), Y(o, 0.05));
	cairo_line_to(o->cr, X(o, 0.4), Y(o, 0.05));
	cairo_curve_to(o->cr, X(o, 0.55), Y(o, 0.05), X(o, 0.55), Y(o, 0.25), X(o, 0.45),
	               Y(o, 0.25));
	ink(o, HEX(0xC62828), 0.04);
}

static void d_globe(const struct ob *o)
{
	box(o, -0.32, 0, 0.64, 0.15);
	paint(o, WOOD);
	ell(o, 0, 0.5, 0.36, 0.36);
	paint(o, HEX(0xB3E5FC));
	poly(o, (const double[]){-0.12, 0.28, 0, 0.55, 0.12, 0.28}, 3); /* a tiny fir inside */
	paint(o, HEX(0x2E7D32));
	for (int i = 0; i < 8; i++) {
		ell(o, sv_rng_range(o->rng, -0.25, 0.25), sv_rng_range(o->rng, 0.3, 0.75), 0.02,
		    0.02);
		cairo_set_source_rgb(o->cr, 1, 1, 1);
		cairo_fill(o->cr);
	}
	shine(o, -0.14, 0.68, 0.07);
}

static void d_mittens(const struct ob *o)
{
	for (int k = 0; k < 2; k++) {
		double dx = k ? 0.2 : -0.2;
		ell(o, dx, 0.45, 0.17, 0.26);
		ell(o, dx + (k ? 0.15 : -0.15), 0.45, 0.07, 0.11); /* thumbs */
		box(o, dx - 0.16, 0.05, 0.32, 0.15);
		paint(o, o->main);
		line(o, dx - 0.14, 0.12, dx + 0.14, 0.12);
		ink(o, (struct ill_rgb){1, 1, 1}, 0.03);
	}
}

static void d_bell(const struct ob *o)
{
	cairo_move_to(o->cr, X(o, -0.38), Y(o, 0.12));
	cairo_curve_to(o->cr, X(o, -0.25), Y(o, 0.25), X(o, -0.3), Y(o, 0.8), X(o, 0), Y(o, 0.8));
	cairo_curve_to(o->cr, X(o, 0.3), Y(o, 0.8), X(o, 0.25), Y(o, 0.25), X(o, 0.38), Y(o, 0.12));
	cairo_close_path(o->cr);
	paint(o, o->main);
	ell(o, 0, 0.07, 0.08, 0.07);
	paint(o, ill_rgb_shade(o->main, -0.2));
	cairo_arc(o->cr, X(o, 0), Y(o, 0.85), 0.07 * o->s, 0, 2 * M_PI);
	ink(o, ill_rgb_shade(o->main, -0.3), 0.03);
	shine(o, -0.12, 0.55, 0.05);
}

static void d_key(const struct ob *o)
{
	ell(o, -0.25, 0.45, 0.2, 0.2);
	ell(o, -0.25, 0.45, 0.09, 0.09);
	box(o, -0.08, 0.4, 0.55, 0.1);
	box(o, 0.3, 0.25, 0.07, 0.15);
	box(o, 0.4, 0.28, 0.07, 0.12);
	cairo_set_fill_rule(o->cr, CAIRO_FILL_RULE_EVEN_ODD);
	paint(o, o->main);
	cairo_set_fill_rule(o->cr, CAIRO_FILL_RULE_WINDING);
}

static void d_crown(const struct ob *o)
{
	poly(o,
	     (const double[]){-0.4, 0.05, 0.4, 0.05, 0.45, 0.6, 0.22, 0.35, 0, 0.7, -0.22, 0.35,
	                      -0.45, 0.6},
	     7);
	paint(o, o->main);
	for (int i = 0; i < 3; i++) {
		ell(o, -0.22 + i * 0.22, 0.18, 0.06, 0.06);
		paint(o, i == 1 ? HEX(0xE53935) : HEX(0x42A5F5));
	}
}

static void d_shield(const struct ob *o)
{
	cairo_move_to(o->cr, X(o, -0.35), Y(o, 0.85));
	cairo_line_to(o->cr, X(o, 0.35), Y(o, 0.85));
	cairo_curve_to(o->cr, X(o, 0.35), Y(o, 0.35), X(o, 0.2), Y(o, 0.15), X(o, 0), Y(o, 0));
	cairo_curve_to(o->cr, X(o, -0.2), Y(o, 0.15), X(o, -0.35), Y(o, 0.35), X(o, -0.35),
	               Y(o, 0.85));
	cairo_close_path(o->cr);
	paint(o, o->main);
	box(o, -0.06, 0.1, 0.12, 0.75);
	box(o, -0.33, 0.5, 0.66, 0.12);
	paint(o, GOLD);
}

static void d_book(const struct ob *o)
{
	box(o, -0.4, 0.05, 0.8, 0.62);
	paint(o, o->main);
	box(o, -0.36, 0.0, 0.74, 0.07); /* the pages */
	paint(o, PAPER);
	box(o, 0.3, 0.28, 0.16, 0.16); /* the lock */
	paint(o, HEX(0xCFD8DC));
	box(o, -0.2, 0.45, 0.35, 0.05);
	paint(o, GOLD);
}

static void d_flag(const struct ob *o)
{
	line(o, -0.35, 0, -0.35, 1);
	ink(o, WOOD, 0.05);
	cairo_move_to(o->cr, X(o, -0.33), Y(o, 0.95));
	cairo_curve_to(o->cr, X(o, -0.1), Y(o, 1.05), X(o, 0.2), Y(o, 0.85), X(o, 0.45),
	               Y(o, 0.95));
	cairo_line_to(o->cr, X(o, 0.45), Y(o, 0.5));
	cairo_curve_to(o->cr, X(o, 0.2), Y(o, 0.4), X(o, -0.1), Y(o, 0.6), X(o, -0.33), Y(o, 0.5));
	cairo_close_path(o->cr);
	paint(o, o->main);
	/* a little dragon: a round body, a head and a wing */
	ell(o, 0.05, 0.72, 0.12, 0.07);
	ell(o, 0.2, 0.8, 0.05, 0.04);
	poly(o, (const double[]){0, 0.76, 0.06, 0.9, 0.12, 0.76}, 3);
	paint(o, HEX(0x43A047));
}

static void d_feather(const struct ob *o)
{
	cairo_move_to(o->cr, X(o, -0.2), Y(o, 0));
	cairo_curve_to(o->cr, X(o, -0.4), Y(o, 0.5), X(o, 0.1), Y(o, 0.95), X(o, 0.3), Y(o, 1));
	cairo_curve_to(o->cr, X(o, 0.3), Y(o, 0.6), X(o, 0.1), Y(o, 0.2), X(o, -0.2), Y(o, 0));
	cairo_close_path(o->cr);
	paint(o, o->main);
	cairo_move_to(o->cr, X(o, -0.2), Y(o, 0));
	cairo_curve_to(o->cr, X(o, -0.1), Y(o, 0.4), X(o, 0.1), Y(o, 0.8), X(o, 0.3), Y(o, 1));
	ink(o, ill_rgb_shade(o->main, -0.4), 0.02);
}

static void d_flute(const struct ob *o)
{
	cairo_save(o->cr);
	cairo_translate(o->cr, X(o, 0), Y(o, 0.3));
	cairo_rotate(o->cr, -0.35);
	cairo_rectangle(o->cr, -0.5 * o->s, -0.06 * o->s, o->s, 0.12 * o->s);
	cairo_restore(o->cr);
	paint(o, HEX(0xC5B358));
	for (int i = 0; i < 4; i++) {
		double u = -0.2 + i * 0.13;
		ell(o, u, 0.3 - u * 0.365, 0.025, 0.025);
		paint(o, DARK);
	}
}

static void d_rattle(const struct ob *o)
{
	line(o, 0, 0, 0, 0.45);
	ink(o, WOOD, 0.07);
	ell(o, 0, 0.65, 0.25, 0.3);
	paint(o, HEX(0xA5694F));
	for (int i = 0; i < 3; i++)
		line(o, -0.2 + i * 0.2, 0.5, -0.2 + i * 0.2, 0.8);
	ink(o, HEX(0xFFB300), 0.025);
}

static void d_umbrella(const struct ob *o)
{
	line(o, 0, 0.85, 0, 0.1);
	ink(o, WOOD, 0.04);
	cairo_arc(o->cr, X(o, -0.08), Y(o, 0.1), 0.08 * o->s, 0, M_PI);
	ink(o, WOOD, 0.04);
	cairo_move_to(o->cr, X(o, -0.5), Y(o, 0.55));
	cairo_curve_to(o->cr, X(o, -0.45), Y(o, 1.0), X(o, 0.45), Y(o, 1.0), X(o, 0.5), Y(o, 0.55));
	cairo_curve_to(o->cr, X(o, 0.2), Y(o, 0.65), X(o, -0.2), Y(o, 0.65), X(o, -0.5),
	               Y(o, 0.55));
	cairo_close_path(o->cr);
	paint(o, HEX(0x43A047));
	line(o, 0, 0.88, -0.3, 0.6);
	line(o, 0, 0.88, 0.3, 0.6);
	ink(o, HEX(0x2E7D32), 0.02);
}

static void d_hat(const struct ob *o)
{
	ell(o, 0, 0.15, 0.5, 0.13);
	paint(o, HEX(0xE6C27A));
	ell(o, 0, 0.3, 0.25, 0.22);
	paint(o, HEX(0xE6C27A));
	box(o, -0.25, 0.22, 0.5, 0.08);
	paint(o, HEX(0xE53935));
}

static void d_coconut(const struct ob *o)
{
	ell(o, 0, 0.38, 0.36, 0.36);
	paint(o, HEX(0x8D6E63));
	for (int i = 0; i < 3; i++) { /* painted dots and a band */
		ell(o, -0.15 + i * 0.15, 0.45, 0.05, 0.05);
		paint(o, i == 1 ? HEX(0xFFB300) : HEX(0x26C6DA));
	}
	cairo_arc(o->cr, X(o, 0), Y(o, 0.38), 0.26 * o->s, 0.2, M_PI - 0.2);
	ink(o, HEX(0xE53935), 0.04);
}

static void d_compass(const struct ob *o)
{
	ell(o, 0, 0.42, 0.4, 0.4);
	paint(o, o->main);
	ell(o, 0, 0.42, 0.31, 0.31);
	paint(o, PAPER);
	poly(o, (const double[]){0, 0.7, 0.06, 0.42, 0, 0.14, -0.06, 0.42}, 4);
	paint(o, HEX(0xE53935));
	box(o, -0.06, 0.82, 0.12, 0.08);
	paint(o, o->main);
}

static void d_lamp(const struct ob *o)
{
	glow(o, 0.38, 0.5, 0.35, HEX(0xFFD54F));
	cairo_move_to(o->cr, X(o, -0.45), Y(o, 0.35));
	cairo_curve_to(o->cr, X(o, -0.4), Y(o, 0), X(o, 0.3), Y(o, 0), X(o, 0.42), Y(o, 0.3));
	cairo_line_to(o->cr, X(o, 0.2), Y(o, 0.4));
	cairo_close_path(o->cr);
	paint(o, HEX(0xC2562C));
	ell(o, 0.42, 0.42, 0.05, 0.1);
	paint(o, HEX(0xFFA726));
	line(o, -0.3, 0.2, 0.1, 0.2);
	ink(o, HEX(0xF6E3B4), 0.03);
}

static void d_jug(const struct ob *o)
{
	cairo_arc(o->cr, X(o, 0.28), Y(o, 0.5), 0.15 * o->s, -M_PI / 2, M_PI / 2);
	ink(o, o->main, 0.06);
	ell(o, 0, 0.35, 0.3, 0.33);
	box(o, -0.13, 0.6, 0.26, 0.25);
	paint(o, o->main);
	ell(o, 0, 0.85, 0.16, 0.05);
	paint(o, ill_rgb_shade(o->main, -0.3));
	shine(o, -0.12, 0.45, 0.06);
}

static void d_jar(const struct ob *o)
{
	static const uint32_t sand[] = {0xE53935, 0xFFB300, 0x43A047, 0x1E88E5, 0x8E24AA};
	for (int i = 0; i < 5; i++) { /* the layers of rainbow sand */
		box(o, -0.26, 0.04 + i * 0.11, 0.52, 0.12);
		ill_fill(o->cr, o->st, HEX(sand[i]), o->rng);
	}
	box(o, -0.28, 0, 0.56, 0.72);
	cairo_set_source_rgba(o->cr, 0.85, 0.95, 1, 0.25);
	cairo_fill_preserve(o->cr);
	ink(o, DARK, 0.02);
	box(o, -0.2, 0.72, 0.4, 0.1);
	paint(o, WOOD);
}

static void d_carpet(const struct ob *o)
{
	poly(o, (const double[]){-0.5, 0.05, 0.45, 0.05, 0.5, 0.3, -0.45, 0.3}, 4);
	paint(o, HEX(0xC2562C));
	poly(o, (const double[]){-0.3, 0.12, 0.28, 0.12, 0.3, 0.23, -0.28, 0.23}, 4);
	paint(o, HEX(0x1E88A8));
	for (int i = 0; i < 8; i++) /* tassels */
		line(o, -0.5 + i * 0.13, 0.05, -0.52 + i * 0.13, -0.01);
	ink(o, GOLD, 0.02);
}

static void d_egg(const struct ob *o)
{
	ell(o, 0, 0.42, 0.3, 0.42);
	paint(o, HEX(0xFFF8E1));
	for (int i = 0; i < 7; i++) {
		ell(o, sv_rng_range(o->rng, -0.2, 0.2), sv_rng_range(o->rng, 0.15, 0.7), 0.04,
		    0.03);
		paint(o, HEX(0x8D6E63));
	}
}

static void d_fossil(const struct ob *o)
{
	ell(o, 0, 0.38, 0.4, 0.36);
	paint(o, HEX(0xD7CCC8));
	cairo_move_to(o->cr, X(o, 0), Y(o, 0.38));
	for (double a = 0; a < 5 * M_PI; a += 0.25)
		cairo_line_to(o->cr, X(o, cos(a) * a / 50), Y(o, 0.38 + sin(a) * a / 50));
	ink(o, HEX(0x8D6E63), 0.035);
}

static void d_whistle(const struct ob *o)
{
	ell(o, 0.1, 0.3, 0.3, 0.25);
	box(o, -0.45, 0.38, 0.45, 0.14);
	paint(o, HEX(0x9E9E9E));
	box(o, 0.0, 0.45, 0.1, 0.06);
	paint(o, DARK);
}

static void d_pendant(const struct ob *o)
{
	cairo_arc(o->cr, X(o, 0), Y(o, 0.75), 0.32 * o->s, M_PI * 0.1, M_PI * 0.9);
	ink(o, HEX(0x6D4C41), 0.02);
	glow(o, 0, 0.35, 0.45, HEX(0xFFB300));
	ell(o, 0, 0.35, 0.2, 0.25);
	paint(o, HEX(0xFFA000));
	ell(o, 0.03, 0.35, 0.04, 0.03); /* a tiny insect caught inside */
	paint(o, DARK);
	shine(o, -0.07, 0.45, 0.05);
}

static void d_fan(const struct ob *o)
{
	for (int i = 0; i < 7; i++) {
		double a = M_PI * (0.15 + i * 0.7 / 6);
		ell(o, cos(a) * 0.4, 0.1 + sin(a) * 0.5, 0.1, 0.22);
		paint(o, i % 2 ? o->main : ill_rgb_shade(o->main, 0.3));
	}
	line(o, 0, 0, 0, 0.15);
	ink(o, WOOD, 0.07);
}

static void d_drum(const struct ob *o)
{
	box(o, -0.38, 0.05, 0.76, 0.45);
	paint(o, WOOD);
	ell(o, 0, 0.5, 0.38, 0.1);
	paint(o, HEX(0xF5E6C8));
	for (int i = 0; i < 5; i++)
		line(o, -0.3 + i * 0.15, 0.42, -0.3 + i * 0.15, 0.1);
	ink(o, ill_rgb_shade(WOOD, -0.4), 0.02);
}

static void d_comb(const struct ob *o)
{
	box(o, -0.4, 0.35, 0.8, 0.18);
	for (int i = 0; i < 9; i++)
		box(o, -0.38 + i * 0.09, 0.05, 0.04, 0.31);
	paint(o, HEX(0xFF8A80));
}

static void d_beads(const struct ob *o)
{
	for (int i = 0; i < 11; i++) {
		double a = M_PI * (0.05 + i * 0.09);
		ell(o, cos(a) * 0.4, 0.45 - sin(a) * 0.35, 0.06, 0.06);
		static const uint32_t c[] = {0x80DEEA, 0xA5D6A7, 0xB39DDB, 0xFFF59D};
		paint(o, HEX(c[i % 4]));
	}
}

static void d_star(const struct ob *o)
{
	glow(o, 0, 0.45, 0.6, GOLD);
	star_path(o, 0, 0.45, 0.45);
	paint(o, GOLD);
}

static void d_wand(const struct ob *o)
{
	line(o, -0.3, 0, 0.15, 0.65);
	ink(o, DARK, 0.06);
	glow(o, 0.2, 0.75, 0.4, GOLD);
	star_path(o, 0.2, 0.75, 0.2);
	paint(o, GOLD);
}

static void d_parcel(const struct ob *o)
{
	box(o, -0.35, 0, 0.7, 0.5);
	paint(o, o->main);
	box(o, -0.05, 0, 0.1, 0.5);
	paint(o, HEX(0xE53935));
	ell(o, -0.1, 0.56, 0.1, 0.06);
	ell(o, 0.1, 0.56, 0.1, 0.06);
	paint(o, HEX(0xE53935));
}

typedef void (*draw_fn)(const struct ob *o);

struct object_kind {
	const char *keyword;
	draw_fn draw;
	uint32_t colour; /* its own colour, unless the name says another */
};

/* Searched in order: compound names put the thing before what it is made of. */
static const struct object_kind kinds[] = {
    {"lantern", d_lantern, 0x8D6E63},
    {"lamp", d_lamp, 0xC2562C},
    {"trumpet", d_horn, 0xF3D2B0},
    {"horn", d_horn, 0xF8BBD0},
    {"whistle", d_whistle, 0x9E9E9E},
    {"flute", d_flute, 0xC5B358},
    {"rattle", d_rattle, 0xA5694F},
    {"drum", d_drum, 0xA1734C},
    {"bell", d_bell, 0xFFC107},
    {"map", d_map, 0xE6D3A8},
    {"chart", d_chart, 0x283593},
    {"key", d_key, 0xFFC107},
    {"crown", d_crown, 0xFFC107},
    {"shield", d_shield, 0x5C6BC0},
    {"book", d_book, 0x8E24AA},
    {"flag", d_flag, 0xC62828},
    {"fan", d_fan, 0xF57C00},
    {"feather", d_feather, 0x4FC3F7},
    {"umbrella", d_umbrella, 0x43A047},
    {"hat", d_hat, 0xE6C27A},
    {"coconut", d_coconut, 0x8D6E63},
    {"compass", d_compass, 0xC8A165},
    {"jug", d_jug, 0x1E88A8},
    {"jar", d_jar, 0xE3F2FD},
    {"carpet", d_carpet, 0xC2562C},
    {"egg", d_egg, 0xFFF8E1},
    {"fossil", d_fossil, 0xD7CCC8},
    {"pendant", d_pendant, 0xFFA000},
    {"comb", d_comb, 0xFF8A80},
    {"beads", d_beads, 0x80DEEA},
    {"scarf", d_scarf, 0xE57373},
    {"cup", d_cup, 0xA1887F},
    {"dandelion", d_dandelion, 0xFFFFFF},
    {"kite", d_kite, 0x42A5F5},
    {"basket", d_basket, 0xC89B5E},
    {"wool", d_ball, 0x64B5F6},
    {"ball", d_ball, 0xEF5350},
    {"shell", d_shell, 0xFFCCBC},
    {"pearl", d_orb, 0xF3E5F5},
    {"bottle", d_bottle, 0x80CBC4},
    {"rock", d_rock, 0xB0AEC0},
    {"stone", d_rock, 0xB0AEC0},
    {"telescope", d_telescope, 0x7C4DFF},
    {"glow", d_glowstick, 0xB2FF59},
    {"helmet", d_helmet, 0xF06292},
    {"bolt", d_bolt, 0xB0BEC5},
    {"crystal", d_crystal, 0x80DEEA},
    {"sled", d_sled, 0xA1734C},
    {"globe", d_globe, 0xB3E5FC},
    {"mitten", d_mittens, 0x1E88E5},
    {"star", d_star, 0xFFD54F},
    {"wand", d_wand, 0xFFD54F},
};

static const struct {
	const char *word;
	uint32_t colour;
} colour_words[] = {{"red", 0xE53935},   {"blue", 0x1E88E5},   {"golden", 0xFFC107},
                    {"gold", 0xFFC107},  {"silver", 0xCFD8DC}, {"brass", 0xC8A165},
                    {"green", 0x43A047}, {"pink", 0xF48FB1},   {"purple", 0x8E24AA}};

/* The colour a whole word of name before end asks for ("golden key", but
 * not the silver of "book with a silver lock"). */
static bool colour_in(const char *name, const char *end, struct ill_rgb *out)
{
	for (size_t i = 0; i < sizeof(colour_words) / sizeof(colour_words[0]); i++) {
		const char *p = strstr(name, colour_words[i].word);
		size_t n = strlen(colour_words[i].word);
		if (p && p < end && (p == name || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
			*out = HEX(colour_words[i].colour);
			return true;
		}
	}
	return false;
}

static void generic(const struct ob *o, const char *name)
{
	static const draw_fn shapes[] = {d_parcel, d_rock, d_orb};
	shapes[sv_hash64(name, strlen(name), 0) % 3](o);
}

void ill_object(cairo_t *cr, const char *name, double x, double y, double size,
                const struct ill_scene *sc, const struct ill_style *st, struct sv_rng *rng)
{
	if (!name)
		name = "";
	struct ob o = {cr, x, y, size, st, rng, {0.6, 0.5, 0.8}};
	const struct object_kind *k = NULL;
	const char *at = name + strlen(name);
	for (size_t i = 0; !k && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((at = strstr(name, kinds[i].keyword)) != NULL)
			k = &kinds[i];
	if (!k)
		at = name + strlen(name);
	if (k)
		o.main = HEX(k->colour);
	else if (sc && sc->npalette > 0) /* an unknown thing in the world's own colours */
		o.main = sc->palette[sv_hash64(name, strlen(name), 1) % (uint64_t)sc->npalette];
	colour_in(name, at, &o.main);
	cairo_save(cr);
	/* A soft shadow grounds it on the page. */
	cairo_save(cr);
	cairo_translate(cr, x, y);
	cairo_scale(cr, 0.45 * size, 0.08 * size);
	cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
	cairo_restore(cr);
	cairo_set_source_rgba(cr, 0.1, 0.05, 0.15, 0.18);
	cairo_fill(cr);
	if (k)
		k->draw(&o);
	else
		generic(&o, name);
	cairo_restore(cr);
}
