/*
 * The art styles: colours, and how a shape is filled and outlined and how the
 * finished picture is given its paper.
 *
 *   flat         clean vector fills with a soft top-to-bottom shade, neat
 *                round-capped outlines, a gentle vignette;
 *   watercolour  a translucent wash plus jittered glazes, pigment mottling
 *                and a darker pooled edge, a faint pencil line, paper grain
 *                and edges fading to paper;
 *   crayon       a waxy base with hatching and paper showing through the
 *                wax, clipped to the shape, doubled wobbly outlines.
 *
 * Textures come from two small noise tiles made once per process from a
 * fixed seed (so they never consume the caller's generator) and used as
 * repeating cairo patterns; no per-pixel loops run over the canvas. Widths
 * are in device pixels whatever the caller's transformation.
 */
#include "illustrate/internal.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

struct style_def {
	const char *name;
	enum ill_style_id id;
	double line_width;
};

/* Same names as sv_illustrate_styles; line_width 3 is the reference width. */
static const struct style_def styles[] = {
    {"watercolour", ILL_STYLE_WATERCOLOUR, 1.8},
    {"flat", ILL_STYLE_FLAT, 3.0},
    {"crayon", ILL_STYLE_CRAYON, 3.4},
};

int ill_style_get(const char *name, struct ill_style *out)
{
	for (size_t i = 0; name && i < sizeof(styles) / sizeof(styles[0]); i++) {
		if (strcmp(name, styles[i].name) == 0) {
			*out = (struct ill_style){styles[i].id, styles[i].line_width};
			return 0;
		}
	}
	return -1;
}

/* ---- colours ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ill_rgb_parse(const char *hex, struct ill_rgb *out)
{
	if (!hex || hex[0] != '#' || strlen(hex) != 7)
		return -1;
	double v[3];
	for (int i = 0; i < 3; i++) {
		int hi = hex_digit(hex[1 + 2 * i]), lo = hex_digit(hex[2 + 2 * i]);
		if (hi < 0 || lo < 0)
			return -1;
		v[i] = (hi * 16 + lo) / 255.0;
	}
	*out = (struct ill_rgb){v[0], v[1], v[2]};
	return 0;
}

struct ill_rgb ill_rgb_mix(struct ill_rgb a, struct ill_rgb b, double t)
{
	return (struct ill_rgb){a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t,
	                        a.b + (b.b - a.b) * t};
}

struct ill_rgb ill_rgb_shade(struct ill_rgb c, double amount)
{
	/* Darker towards a deep plum rather than black: shadows stay warm and soft. */
	static const struct ill_rgb light = {1, 1, 1}, dark = {0.10, 0.05, 0.12};
	if (amount > 1)
		amount = 1;
	if (amount < -1)
		amount = -1;
	return amount >= 0 ? ill_rgb_mix(c, light, amount) : ill_rgb_mix(c, dark, -amount);
}

/* ---- texture tiles ---- */

#define TILE 256

static cairo_surface_t *grain_tile, *wax_tile;
static pthread_once_t tiles_once = PTHREAD_ONCE_INIT;

/* A lattice value in 0..1 from its cell and the seed: no storage needed. */
static double lattice(int i, int j, uint64_t seed)
{
	int key[2] = {i, j};
	return (double)(sv_hash64(key, sizeof(key), seed) >> 11) / 9007199254740992.0;
}

/* Smooth value noise of a coarse lattice (cells cw × ch pixels, tiling at
 * TILE) mixed with a fine speckle. */
static void fill_noise(unsigned char *px, int stride, int cw, int ch, double fine, uint64_t seed)
{
	struct sv_rng r;
	sv_rng_seed(&r, seed);
	int nx = TILE / cw, ny = TILE / ch;
	for (int y = 0; y < TILE; y++) {
		for (int x = 0; x < TILE; x++) {
			int x0 = x / cw, y0 = y / ch;
			double tx = (double)(x % cw) / cw, ty = (double)(y % ch) / ch;
			tx = tx * tx * (3 - 2 * tx);
			ty = ty * ty * (3 - 2 * ty);
			double a = lattice(x0, y0, seed), b = lattice((x0 + 1) % nx, y0, seed);
			double c = lattice(x0, (y0 + 1) % ny, seed),
			       d = lattice((x0 + 1) % nx, (y0 + 1) % ny, seed);
			double v = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
			v = v * (1 - fine) + sv_rng_unit(&r) * fine;
			px[y * stride + x] = (unsigned char)(v * 255.0);
		}
	}
}

/* Wax: streaks where the crayon skipped over the paper's tooth, kept sparse. */
static void threshold(unsigned char *px, int stride, int cut)
{
	for (int y = 0; y < TILE; y++)
		for (int x = 0; x < TILE; x++) {
			int v = px[y * stride + x];
			px[y * stride + x] =
			    v > cut ? (unsigned char)((v - cut) * 255 / (255 - cut)) : 0;
		}
}

static cairo_surface_t *make_tile(int cw, int ch, double fine, int cut, uint64_t seed)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A8, TILE, TILE);
	cairo_surface_flush(s);
	unsigned char *px = cairo_image_surface_get_data(s);
	if (!px)
		return s;
	int stride = cairo_image_surface_get_stride(s);
	fill_noise(px, stride, cw, ch, fine, seed);
	if (cut > 0)
		threshold(px, stride, cut);
	cairo_surface_mark_dirty(s);
	return s;
}

static void make_tiles(void)
{
	grain_tile = make_tile(4, 4, 0.55, 0, 0x67726169ull);
	/* Cells 16 px long and 2 tall: streaks along x, turned to the stroke angle. */
	wax_tile = make_tile(16, 2, 0.35, 150, 0x776178ull);
}

/* The tile as a repeating pattern, turned by angle, scaled, at a random offset. */
static cairo_pattern_t *tile_pattern(cairo_surface_t *tile, double angle, double scale,
                                     struct sv_rng *rng)
{
	cairo_pattern_t *p = cairo_pattern_create_for_surface(tile);
	cairo_pattern_set_extend(p, CAIRO_EXTEND_REPEAT);
	cairo_matrix_t m;
	cairo_matrix_init_translate(&m, sv_rng_range(rng, 0, TILE), sv_rng_range(rng, 0, TILE));
	cairo_matrix_scale(&m, 1 / scale, 1 / scale);
	cairo_matrix_rotate(&m, -angle);
	cairo_pattern_set_matrix(p, &m);
	return p;
}

static void tiles(void)
{
	pthread_once(&tiles_once, make_tiles);
}

/* ---- fills ---- */

static void fill_flat(cairo_t *cr, struct ill_rgb c)
{
	double x0, y0, x1, y1;
	cairo_fill_extents(cr, &x0, &y0, &x1, &y1);
	cairo_pattern_t *g = cairo_pattern_create_linear(0, y0, 0, y1 > y0 ? y1 : y0 + 1);
	struct ill_rgb top = ill_rgb_shade(c, 0.12), bottom = ill_rgb_shade(c, -0.10);
	cairo_pattern_add_color_stop_rgb(g, 0, top.r, top.g, top.b);
	cairo_pattern_add_color_stop_rgb(g, 1, bottom.r, bottom.g, bottom.b);
	cairo_set_source(cr, g);
	cairo_fill(cr);
	cairo_pattern_destroy(g);
}

static void set_rgba(cairo_t *cr, struct ill_rgb c, double a)
{
	cairo_set_source_rgba(cr, c.r, c.g, c.b, a);
}

static int subpaths(const cairo_path_t *p)
{
	int n = 0;
	for (int i = 0; i < p->num_data; i += p->data[i].header.length)
		n += p->data[i].header.type == CAIRO_PATH_MOVE_TO;
	return n;
}

static void fill_watercolour(cairo_t *cr, struct ill_rgb c, struct sv_rng *rng)
{
	double x0, y0, x1, y1;
	cairo_fill_extents(cr, &x0, &y0, &x1, &y1);
	double size = fmax(x1 - x0, y1 - y0), j = fmin(3.5, 0.02 * size) + 0.4;
	cairo_path_t *path = cairo_copy_path(cr);
	set_rgba(cr, ill_rgb_shade(c, 0.10), 0.92);
	cairo_fill(cr);
	/* Glazes that miss the line a little, as a brush does. */
	for (int k = 0; k < 2; k++) {
		cairo_save(cr);
		cairo_translate(cr, sv_rng_range(rng, -j, j), sv_rng_range(rng, -j, j));
		cairo_append_path(cr, path);
		set_rgba(cr, ill_rgb_shade(c, sv_rng_range(rng, -0.12, 0.04)), 0.22);
		cairo_fill(cr);
		cairo_restore(cr);
	}
	cairo_save(cr);
	cairo_append_path(cr, path);
	cairo_clip_preserve(cr);
	/* Pigment settling in the paper, then pooling at the wash's edge. */
	cairo_pattern_t *g = tile_pattern(grain_tile, 0, 2.0 + size / 400, rng);
	set_rgba(cr, ill_rgb_shade(c, -0.3), 0.22);
	cairo_mask(cr, g);
	cairo_pattern_destroy(g);
	cairo_identity_matrix(cr);
	if (subpaths(path) == 1) { /* a union of puffs would show its inner seams */
		set_rgba(cr, ill_rgb_shade(c, -0.28), 0.42);
		cairo_set_line_width(cr, fmin(3.0, 1.0 + size / 150));
		cairo_stroke(cr);
	}
	cairo_new_path(cr);
	cairo_restore(cr);
	cairo_path_destroy(path);
}

/* Parallel hatch lines over the clip's extents at angle a, in device space. */
static void hatch(cairo_t *cr, double a, double gap, struct sv_rng *rng)
{
	double x0, y0, x1, y1;
	cairo_clip_extents(cr, &x0, &y0, &x1, &y1);
	double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, r = hypot(x1 - x0, y1 - y0) / 2 + gap;
	double dx = cos(a), dy = sin(a);
	for (double t = -r; t <= r; t += gap * sv_rng_range(rng, 0.7, 1.3)) {
		double px = cx - dy * t, py = cy + dx * t;
		cairo_move_to(cr, px - dx * r, py - dy * r);
		cairo_line_to(cr, px + dx * r, py + dy * r);
	}
	cairo_stroke(cr);
}

static void fill_crayon(cairo_t *cr, struct ill_rgb c, struct sv_rng *rng)
{
	double a = sv_rng_range(rng, -1.15, -0.85); /* a right-hander's strokes */
	cairo_save(cr);
	cairo_clip(cr);
	cairo_identity_matrix(cr);
	set_rgba(cr, ill_rgb_shade(c, 0.06), 0.93);
	cairo_paint(cr);
	set_rgba(cr, ill_rgb_shade(c, -0.18), 0.45);
	cairo_set_line_width(cr, 2.2);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
	hatch(cr, a, 6.0, rng);
	cairo_pattern_t *w = tile_pattern(wax_tile, a, 1.0, rng);
	cairo_set_source_rgba(cr, 1.0, 0.99, 0.95, 0.55);
	cairo_mask(cr, w);
	cairo_pattern_destroy(w);
	cairo_restore(cr);
}

void ill_fill(cairo_t *cr, const struct ill_style *st, struct ill_rgb c, struct sv_rng *rng)
{
	tiles();
	switch (st->id) {
	case ILL_STYLE_WATERCOLOUR:
		fill_watercolour(cr, c, rng);
		break;
	case ILL_STYLE_CRAYON:
		fill_crayon(cr, c, rng);
		break;
	default:
		fill_flat(cr, c);
		break;
	}
}

/* ---- strokes ---- */

/* The flattened path again, each point nudged by a slow random walk of at
 * most amp pixels, so a line wobbles as a hand-drawn one does. */
static void append_wobbly(cairo_t *cr, const cairo_path_t *flat, double amp, struct sv_rng *rng)
{
	double ox = 0, oy = 0, step = amp * 0.35;
	for (int i = 0; i < flat->num_data; i += flat->data[i].header.length) {
		const cairo_path_data_t *d = &flat->data[i];
		ox = fmax(-amp, fmin(amp, ox + sv_rng_range(rng, -step, step)));
		oy = fmax(-amp, fmin(amp, oy + sv_rng_range(rng, -step, step)));
		if (d->header.type == CAIRO_PATH_MOVE_TO)
			cairo_move_to(cr, d[1].point.x + ox, d[1].point.y + oy);
		else if (d->header.type == CAIRO_PATH_LINE_TO)
			cairo_line_to(cr, d[1].point.x + ox, d[1].point.y + oy);
		else if (d->header.type == CAIRO_PATH_CLOSE_PATH)
			cairo_close_path(cr);
	}
}

void ill_stroke(cairo_t *cr, const struct ill_style *st, struct ill_rgb c, double width,
                struct sv_rng *rng)
{
	double lw = width * st->line_width / 3.0;
	cairo_save(cr);
	cairo_identity_matrix(cr); /* the path is kept in device space: widths are pixels */
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	if (st->id == ILL_STYLE_FLAT) {
		set_rgba(cr, c, 1.0);
		cairo_set_line_width(cr, lw);
		cairo_stroke(cr);
		cairo_restore(cr);
		return;
	}
	cairo_path_t *flat = cairo_copy_path_flat(cr);
	cairo_new_path(cr);
	bool crayon = st->id == ILL_STYLE_CRAYON;
	/* Crayon goes over its line twice; the pencil under a wash once, lightly. */
	int passes = crayon ? 2 : 1;
	struct ill_rgb ink = crayon ? c : ill_rgb_mix(c, (struct ill_rgb){0.35, 0.33, 0.36}, 0.35);
	for (int k = 0; k < passes; k++) {
		append_wobbly(cr, flat, crayon ? 1.1 : 0.5, rng);
		set_rgba(cr, ink, crayon ? 0.72 : 0.6);
		cairo_set_line_width(cr, crayon ? lw * (k ? 0.55 : 0.8) : lw);
		cairo_stroke(cr);
	}
	cairo_path_destroy(flat);
	cairo_restore(cr);
}

/* ---- the finish ---- */

/* Edges of the picture tinted towards c, a at the corners. */
static void vignette(cairo_t *cr, double w, double h, struct ill_rgb c, double inner, double a)
{
	double r = hypot(w, h) / 2;
	cairo_pattern_t *g = cairo_pattern_create_radial(w / 2, h / 2, inner * r, w / 2, h / 2, r);
	cairo_pattern_add_color_stop_rgba(g, 0, c.r, c.g, c.b, 0);
	cairo_pattern_add_color_stop_rgba(g, 1, c.r, c.g, c.b, a);
	cairo_set_source(cr, g);
	cairo_paint(cr);
	cairo_pattern_destroy(g);
}

static void masked(cairo_t *cr, cairo_surface_t *tile, double angle, double scale, struct ill_rgb c,
                   double a, struct sv_rng *rng)
{
	cairo_pattern_t *p = tile_pattern(tile, angle, scale, rng);
	set_rgba(cr, c, a);
	cairo_mask(cr, p);
	cairo_pattern_destroy(p);
}

static void blooms(cairo_t *cr, double w, double h, struct sv_rng *rng)
{
	for (int i = 0; i < 5; i++) {
		double x = sv_rng_range(rng, 0, w), y = sv_rng_range(rng, 0, h);
		double r = sv_rng_range(rng, 0.06, 0.16) * w;
		cairo_pattern_t *g = cairo_pattern_create_radial(x, y, 0, x, y, r);
		cairo_pattern_add_color_stop_rgba(g, 0, 1, 1, 0.96, 0.14);
		cairo_pattern_add_color_stop_rgba(g, 0.8, 1, 1, 0.96, 0.06);
		cairo_pattern_add_color_stop_rgba(g, 1, 1, 1, 0.96, 0);
		cairo_set_source(cr, g);
		cairo_arc(cr, x, y, r, 0, 2 * M_PI);
		cairo_fill(cr);
		cairo_pattern_destroy(g);
	}
}

void ill_finish(cairo_t *cr, double w, double h, const struct ill_style *st, struct sv_rng *rng)
{
	tiles();
	static const struct ill_rgb paper = {1.0, 0.985, 0.94}, umber = {0.35, 0.27, 0.2},
	                            plum = {0.18, 0.08, 0.2};
	cairo_save(cr);
	cairo_identity_matrix(cr);
	cairo_reset_clip(cr);
	switch (st->id) {
	case ILL_STYLE_WATERCOLOUR:
		blooms(cr, w, h, rng);
		masked(cr, grain_tile, 0, 1.0, umber, 0.13, rng);
		vignette(cr, w, h, paper, 0.72, 0.7); /* the wash fades out to bare paper */
		break;
	case ILL_STYLE_CRAYON:
		masked(cr, wax_tile, -1.0, 1.5, paper, 0.22, rng);
		masked(cr, grain_tile, 0, 1.0, umber, 0.08, rng);
		vignette(cr, w, h, plum, 0.6, 0.16);
		break;
	default:
		vignette(cr, w, h, plum, 0.55, 0.14);
		break;
	}
	cairo_restore(cr);
}
