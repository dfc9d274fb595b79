/*
 * The public face of the module: pages, the cover, thumbnails, character
 * sheets and alt text, composed from the backdrop, the key objects and the
 * characters. Everything a picture shows is read from the story document (a
 * page's scene, the cast) and the universe's catalog entry (its palette);
 * every random choice comes from a generator seeded by the story's seed, the
 * page and the style, so a picture is the same bytes every time.
 */
#include "illustrate/internal.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sv_illustrate_styles[] = {"watercolour", "flat", "crayon", NULL};

bool sv_illustrate_style_valid(const char *style)
{
	return style && ill_style_get(style, &(struct ill_style){0}) == 0;
}

#define MAX_CAST 6

/* Everything one picture is drawn from. */
struct picture {
	struct ill_scene scene;
	struct ill_sheet cast[MAX_CAST];
	int ncast;
	struct ill_style style;
	struct sv_rng rng;
};

/* ---- reading the documents ---- */

static int bad(struct sv_err *err, const char *field, const char *what)
{
	return sv_err_set(err, "invalid_value", field, "the story %s", what);
}

static void read_palette(const json_t *catalog, const char *universe, struct ill_scene *sc)
{
	size_t i;
	const json_t *u;
	json_array_foreach(json_object_get(catalog, "universes"), i, u)
	{
		if (!universe ||
		    strcmp(json_string_value(json_object_get(u, "id")) ?: "", universe) != 0)
			continue;
		size_t j;
		const json_t *c;
		json_array_foreach(json_object_get(u, "palette"), j, c)
		{
			if (sc->npalette < (int)(sizeof(sc->palette) / sizeof(sc->palette[0])) &&
			    json_is_string(c) &&
			    ill_rgb_parse(json_string_value(c), &sc->palette[sc->npalette]) == 0)
				sc->npalette++;
		}
	}
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int read_scene(const json_t *scene, const json_t *catalog, struct ill_scene *sc,
                      struct sv_err *err)
{
	if (!json_is_object(scene))
		return bad(err, "pages", "page has no scene");
	*sc = (struct ill_scene){.universe = str(scene, "universe"),
	                         .place = str(scene, "place"),
	                         .mood = str(scene, "mood"),
	                         .time_of_day = str(scene, "time_of_day")};
	size_t i;
	const json_t *o;
	json_array_foreach(json_object_get(scene, "objects"), i, o)
	{
		if (json_is_string(o) && sc->nobjects < 4)
			sc->objects[sc->nobjects++] = json_string_value(o);
	}
	read_palette(catalog, sc->universe, sc);
	return 0;
}

/* The cast entry of the story with this role. */
static const json_t *cast_by_role(const json_t *story, const char *role)
{
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(story, "cast"), i, c)
	{
		const char *r = str(c, "role");
		if (r && strcmp(r, role) == 0)
			return c;
	}
	return NULL;
}

/* The sheets of the characters the scene names (by role), in its order. */
static int read_cast(const json_t *story, const json_t *roles, struct picture *pic,
                     struct sv_err *err)
{
	size_t i;
	const json_t *r;
	json_array_foreach(roles, i, r)
	{
		const json_t *who =
		    json_is_string(r) ? cast_by_role(story, json_string_value(r)) : NULL;
		if (!who || pic->ncast == MAX_CAST)
			continue;
		if (ill_sheet_from_json(who, &pic->cast[pic->ncast], err) < 0)
			return -1;
		pic->ncast++;
	}
	return 0;
}

/* The seed of a picture: the story's, the picture's number and the style. */
static void seed_picture(struct picture *pic, const json_t *story, int number, const char *style)
{
	json_int_t seed =
	    json_integer_value(json_object_get(json_object_get(story, "parameters"), "seed"));
	char key[96];
	int n = snprintf(key, sizeof(key), "%lld/%d/%s", (long long)seed, number, style);
	sv_rng_seed(&pic->rng, sv_hash64(key, (size_t)n, 0x5354525956455253ull));
}

static int picture_style(const char *style, struct picture *pic, struct sv_err *err)
{
	if (ill_style_get(style ? style : sv_illustrate_styles[0], &pic->style) < 0)
		return sv_err_set(err, "invalid_value", "style",
		                  "unknown style '%.40s' (choose from watercolour, flat, crayon)",
		                  style);
	return 0;
}

static int read_page(const json_t *story, const json_t *catalog, size_t index, const char *style,
                     struct picture *pic, struct sv_err *err)
{
	memset(pic, 0, sizeof(*pic));
	const json_t *page = json_array_get(json_object_get(story, "pages"), index);
	if (!page)
		return bad(err, "pages", "has no such page");
	const json_t *scene = json_object_get(page, "scene");
	if (picture_style(style, pic, err) < 0 ||
	    read_scene(scene, catalog, &pic->scene, err) < 0 ||
	    read_cast(story, json_object_get(scene, "cast"), pic, err) < 0)
		return -1;
	seed_picture(pic, story, (int)index + 1, style ? style : sv_illustrate_styles[0]);
	return 0;
}

/* ---- drawing ---- */

/* PNG encoding with libpng rather than cairo's writer: the pictures' paper
 * grain makes deflate the slowest step of a page, and a low compression
 * level keeps it a small part of it for files about a fifth larger. */
#define PNG_LEVEL 2

static void png_write_data(png_structp png, png_bytep data, size_t len)
{
	struct sv_buf *out = png_get_io_ptr(png);
	if (sv_buf_append(out, data, len) < 0)
		png_error(png, "out of memory");
}

static void png_flush_data(png_structp png) {}

/* cairo's pixels (native-endian 0xXXRRGGBB words) as RGB rows. */
static void rgb_row(const unsigned char *src, unsigned char *dst, int w)
{
	const uint32_t *px = (const uint32_t *)src;
	for (int x = 0; x < w; x++) {
		size_t at = 3 * (size_t)x;
		dst[at] = (unsigned char)(px[x] >> 16);
		dst[at + 1] = (unsigned char)(px[x] >> 8);
		dst[at + 2] = (unsigned char)px[x];
	}
}

static int encode_png(cairo_surface_t *s, struct sv_buf *out)
{
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *data = cairo_image_surface_get_data(s);
	unsigned char *row = malloc((size_t)w * 3);
	png_structp png =
	    row ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
	png_infop info = png ? png_create_info_struct(png) : NULL;
	size_t start = out->len;
	volatile int rc = -1; /* read after png_error's longjmp */
	if (info && setjmp(png_jmpbuf(png)) == 0) {
		png_set_write_fn(png, out, png_write_data, png_flush_data);
		png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
		             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		             PNG_FILTER_TYPE_DEFAULT);
		png_set_compression_level(png, PNG_LEVEL);
		png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB | PNG_FILTER_UP);
		png_write_info(png, info);
		for (int y = 0; y < h; y++) {
			rgb_row(data + (size_t)y * (size_t)stride, row, w);
			png_write_row(png, row);
		}
		png_write_end(png, NULL);
		rc = 0;
	}
	if (rc < 0)
		out->len = start;
	png_destroy_write_struct(&png, &info);
	free(row);
	return rc;
}

/* Encodes the surface as PNG into out and releases it. */
static int finish_png(cairo_surface_t *s, struct sv_buf *out, struct sv_err *err)
{
	cairo_surface_flush(s);
	cairo_status_t st = cairo_surface_status(s);
	int rc = st == CAIRO_STATUS_SUCCESS ? encode_png(s, out) : -1;
	cairo_surface_destroy(s);
	if (rc < 0)
		return sv_err_set(err, st == CAIRO_STATUS_SUCCESS ? "nomem" : "internal", "",
		                  "cannot draw the picture: %s",
		                  st == CAIRO_STATUS_SUCCESS ? "out of memory"
		                                             : cairo_status_to_string(st));
	return 0;
}

/* Where character i of n stands: spread across the picture, the middle ones a
 * little further back, so the group reads as a scene, not a row. */
struct spot {
	double x, y, h;
	bool facing_left;
};

static struct spot place_character(int i, int n, double w, double ground, double h,
                                   struct sv_rng *rng)
{
	double left = 0.18 * w, right = 0.82 * w;
	double t = n == 1 ? 0.42 : (double)i / (n - 1);
	double x = left + (right - left) * t + sv_rng_range(rng, -0.02, 0.02) * w;
	double back = n > 2 && i % 2 == 1 ? 1.0 : 0.0; /* every other one a step back */
	struct spot s = {x, ground + (0.05 - 0.05 * back) * h, (0.36 - 0.06 * back) * h, false};
	/* Those on the right look left, towards the others; a lone one looks at the objects. */
	s.facing_left = n == 1 ? false : x > w / 2;
	return s;
}

static enum ill_pose pose_for(int i, const struct ill_scene *sc, struct sv_rng *rng)
{
	enum ill_expression e = ill_expression_for_mood(sc->mood);
	if (i == 0 && e == ILL_HAPPY)
		return sv_rng_below(rng, 2) ? ILL_POSE_WAVE : ILL_POSE_CHEER;
	if (i == 0 && e == ILL_DETERMINED)
		return ILL_POSE_POINT;
	return ILL_POSE_STAND;
}

static void draw_objects(cairo_t *cr, const struct picture *pic, double w, double h, double ground,
                         struct sv_rng *rng)
{
	for (int i = 0; i < pic->scene.nobjects && i < 2; i++) {
		/* In the foreground, at the edges, so nobody stands in front of them. */
		double x = (i == 0 ? 0.07 : 0.93) * w + sv_rng_range(rng, -0.015, 0.015) * w;
		ill_object(cr, pic->scene.objects[i], x, ground + 0.1 * h, 0.11 * h, &pic->scene,
		           &pic->style, rng);
	}
}

static void draw_cast(cairo_t *cr, struct picture *pic, double w, double h, double ground)
{
	struct spot spots[MAX_CAST];
	for (int i = 0; i < pic->ncast; i++)
		spots[i] = place_character(i, pic->ncast, w, ground, h, &pic->rng);
	enum ill_expression e = ill_expression_for_mood(pic->scene.mood);
	/* Those further back first, so nearer ones overlap them. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < pic->ncast; i++) {
			bool back = spots[i].y < ground + 0.04 * h;
			if (back != (pass == 0))
				continue;
			ill_character(cr, &pic->cast[i], spots[i].x, spots[i].y, spots[i].h,
			              spots[i].facing_left, e, pose_for(i, &pic->scene, &pic->rng),
			              &pic->style, &pic->rng);
		}
}

static int draw_scene(struct picture *pic, int w, int h, cairo_surface_t **out, double *ground,
                      struct sv_err *err)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(s);
	*ground = ill_backdrop(cr, w, h, &pic->scene, &pic->style, &pic->rng);
	draw_objects(cr, pic, w, h, *ground, &pic->rng);
	draw_cast(cr, pic, w, h, *ground);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	if (st != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return sv_err_set(err, "internal", "", "cannot draw the picture: %s",
		                  cairo_status_to_string(st));
	}
	*out = s;
	return 0;
}

static void finish_surface(cairo_surface_t *s, const struct picture *pic, struct sv_rng *rng)
{
	cairo_t *cr = cairo_create(s);
	ill_finish(cr, cairo_image_surface_get_width(s), cairo_image_surface_get_height(s),
	           &pic->style, rng);
	cairo_destroy(cr);
}

int sv_illustrate_page(const json_t *story, const json_t *catalog, size_t index, const char *style,
                       struct sv_buf *png, struct sv_err *err)
{
	struct picture pic;
	cairo_surface_t *s = NULL;
	double ground;
	if (read_page(story, catalog, index, style, &pic, err) < 0 ||
	    draw_scene(&pic, SV_ILLUSTRATE_PAGE_W, SV_ILLUSTRATE_PAGE_H, &s, &ground, err) < 0)
		return -1;
	finish_surface(s, &pic, &pic.rng);
	return finish_png(s, png, err);
}

/* ---- the cover ---- */

struct ill_box ill_text_band(cairo_t *cr, const char *text, const char *font, double size, double y,
                             double w, struct ill_rgb ink, struct ill_rgb paper)
{
	PangoLayout *layout = pango_cairo_create_layout(cr);
	pango_layout_set_text(layout, text, -1);
	pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	double max_w = 0.84 * w;
	pango_layout_set_width(layout, (int)(max_w * PANGO_SCALE));
	int lw = 0, lh = 0;
	for (;; size *= 0.9) {
		char desc[96];
		snprintf(desc, sizeof(desc), "%s %.1fpx", font, size);
		PangoFontDescription *fd = pango_font_description_from_string(desc);
		pango_layout_set_font_description(layout, fd);
		pango_font_description_free(fd);
		pango_layout_get_pixel_size(layout, &lw, &lh);
		if ((lw <= max_w && lh <= 0.28 * w && pango_layout_get_line_count(layout) <= 3) ||
		    size < 10)
			break;
	}
	double pad = 0.03 * w;
	struct ill_box box = {(w - max_w) / 2 - pad, y, max_w + 2 * pad, lh + 2 * pad};
	double r = 0.04 * w;
	cairo_new_sub_path(cr);
	cairo_arc(cr, box.x + box.w - r, y + r, r, -M_PI / 2, 0);
	cairo_arc(cr, box.x + box.w - r, y + box.h - r, r, 0, M_PI / 2);
	cairo_arc(cr, box.x + r, y + box.h - r, r, M_PI / 2, M_PI);
	cairo_arc(cr, box.x + r, y + r, r, M_PI, 3 * M_PI / 2);
	cairo_close_path(cr);
	cairo_set_source_rgba(cr, paper.r, paper.g, paper.b, 0.88);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, ink.r, ink.g, ink.b);
	cairo_move_to(cr, (w - max_w) / 2, y + pad);
	pango_cairo_show_layout(cr, layout);
	g_object_unref(layout);
	return box;
}

static const char *cover_subtitle(const json_t *story, char *out, size_t n)
{
	const char *child = str(json_object_get(story, "parameters"), "child_name");
	if (child && *child)
		snprintf(out, n, "A story for %s", child);
	else
		snprintf(out, n, "A StoryVerse story");
	return out;
}

int sv_illustrate_cover(const json_t *story, const json_t *catalog, const char *style,
                        struct sv_buf *png, struct sv_err *err)
{
	const char *title = str(story, "title");
	if (!title)
		return bad(err, "title", "has no title");
	struct picture pic;
	if (read_page(story, catalog, 0, style, &pic, err) < 0)
		return -1;
	/* The whole cast on the cover, not only those on the first page. */
	pic.ncast = 0;
	const json_t *c;
	size_t i;
	json_array_foreach(json_object_get(story, "cast"), i, c)
	{
		if (pic.ncast < MAX_CAST && ill_sheet_from_json(c, &pic.cast[pic.ncast], err) == 0)
			pic.ncast++;
	}
	seed_picture(&pic, story, 0, style ? style : sv_illustrate_styles[0]);
	cairo_surface_t *s = NULL;
	double ground;
	if (draw_scene(&pic, SV_ILLUSTRATE_COVER_W, SV_ILLUSTRATE_COVER_H, &s, &ground, err) < 0)
		return -1;
	cairo_t *cr = cairo_create(s);
	struct ill_rgb ink = {0.20, 0.16, 0.22}, paper = {1.0, 0.98, 0.93};
	double w = SV_ILLUSTRATE_COVER_W;
	struct ill_box band =
	    ill_text_band(cr, title, "DejaVu Serif Bold", 0.09 * w, 0.05 * w, w, ink, paper);
	char sub[128];
	ill_text_band(cr, cover_subtitle(story, sub, sizeof(sub)), "DejaVu Serif Italic", 0.045 * w,
	              band.y + band.h + 0.025 * w, w, ink, paper);
	cairo_destroy(cr);
	finish_surface(s, &pic, &pic.rng);
	return finish_png(s, png, err);
}

/* ---- thumbnails ---- */

struct png_source {
	const unsigned char *data;
	size_t len, at;
};

static cairo_status_t png_read(void *closure, unsigned char *data, unsigned int len)
{
	struct png_source *src = closure;
	if (src->len - src->at < len)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, src->data + src->at, len);
	src->at += len;
	return CAIRO_STATUS_SUCCESS;
}

int sv_illustrate_thumbnail(const void *png, size_t len, int width, struct sv_buf *out,
                            struct sv_err *err)
{
	struct png_source src = {png, len, 0};
	cairo_surface_t *in = cairo_image_surface_create_from_png_stream(png_read, &src);
	int iw = cairo_image_surface_get_width(in), ih = cairo_image_surface_get_height(in);
	if (cairo_surface_status(in) != CAIRO_STATUS_SUCCESS || iw <= 0 || width <= 0) {
		cairo_surface_destroy(in);
		return sv_err_set(err, "invalid_value", "png", "not a PNG picture");
	}
	int height = (int)lround((double)ih * width / iw);
	cairo_surface_t *s =
	    cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height > 0 ? height : 1);
	cairo_t *cr = cairo_create(s);
	cairo_scale(cr, (double)width / iw, (double)width / iw);
	cairo_set_source_surface(cr, in, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
	cairo_paint(cr);
	cairo_destroy(cr);
	cairo_surface_destroy(in);
	return finish_png(s, out, err);
}

/* ---- character sheets ---- */

#define SHEET_CELL 300

int sv_illustrate_sheet(const json_t *character, const char *style, struct sv_buf *png,
                        struct sv_err *err)
{
	struct picture pic = {0};
	if (picture_style(style, &pic, err) < 0 ||
	    ill_sheet_from_json(character, &pic.cast[0], err) < 0)
		return -1;
	char key[160];
	int n = snprintf(key, sizeof(key), "sheet/%s/%s", pic.cast[0].name,
	                 style ? style : sv_illustrate_styles[0]);
	sv_rng_seed(&pic.rng, sv_hash64(key, (size_t)n, 0));
	int cols = 3, rows = (ILL_EXPRESSION_COUNT + cols - 1) / cols;
	double w = cols * SHEET_CELL, label = 0.3 * SHEET_CELL, h = rows * SHEET_CELL + label;
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1.0, 0.98, 0.94);
	cairo_paint(cr);
	struct ill_rgb ink = {0.20, 0.16, 0.22}, paper = {1.0, 0.98, 0.94};
	ill_text_band(cr, pic.cast[0].name, "DejaVu Serif Bold", 0.15 * SHEET_CELL,
	              0.02 * SHEET_CELL, w, ink, paper);
	for (int e = 0; e < ILL_EXPRESSION_COUNT; e++) {
		int row = e / cols, col = e % cols;
		double cx = (col + 0.5) * SHEET_CELL, base = label + (row + 0.82) * SHEET_CELL;
		ill_character(cr, &pic.cast[0], cx, base, 0.62 * SHEET_CELL / pic.cast[0].size,
		              false, (enum ill_expression)e, ILL_POSE_STAND, &pic.style, &pic.rng);
		cairo_set_source_rgb(cr, ink.r, ink.g, ink.b);
		PangoLayout *layout = pango_cairo_create_layout(cr);
		PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans 15px");
		pango_layout_set_font_description(layout, fd);
		pango_font_description_free(fd);
		pango_layout_set_text(layout, ill_expression_names[e], -1);
		int tw, th;
		pango_layout_get_pixel_size(layout, &tw, &th);
		cairo_move_to(cr, cx - tw / 2.0, base + 0.06 * SHEET_CELL);
		pango_cairo_show_layout(cr, layout);
		g_object_unref(layout);
	}
	cairo_destroy(cr);
	return finish_png(s, png, err);
}

/* ---- alt text ---- */

/* "Pip the mouse", or the name alone when the species is the name's own word. */
static int describe(struct sv_buf *b, const json_t *who)
{
	const char *name = str(who, "name"), *species = str(who, "species");
	if (!name)
		return 0;
	if (!species || strcmp(species, "child") == 0 || strcasestr(name, species))
		return sv_buf_puts(b, name);
	return sv_buf_printf(b, "%s the %s", name, species);
}

static int list_cast(struct sv_buf *b, const json_t *story, const json_t *roles)
{
	size_t n = json_array_size(roles), i;
	int rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		const json_t *who =
		    cast_by_role(story, json_string_value(json_array_get(roles, i)) ?: "");
		if (!who)
			continue;
		if (b->len)
			rc = sv_buf_puts(b, i + 1 == n ? " and " : ", ");
		rc |= describe(b, who);
	}
	return rc;
}

char *sv_illustrate_alt_text(const json_t *story, size_t index)
{
	const json_t *page = json_array_get(json_object_get(story, "pages"), index);
	const json_t *scene = json_object_get(page, "scene");
	if (!json_is_object(scene))
		return NULL;
	struct sv_buf b;
	sv_buf_init(&b);
	int rc = list_cast(&b, story, json_object_get(scene, "cast"));
	if (rc == 0 && b.len == 0)
		rc = sv_buf_puts(&b, "The scene");
	const char *place = str(scene, "place_name"), *time = str(scene, "time_of_day");
	const char *mood = str(scene, "mood");
	if (rc == 0 && place)
		rc = sv_buf_printf(&b, " at %s", place);
	if (rc == 0 && time)
		rc = sv_buf_printf(&b, strcmp(time, "night") == 0 ? " at %s" : " in the %s", time);
	size_t nobj = json_array_size(json_object_get(scene, "objects"));
	for (size_t i = 0; rc == 0 && i < nobj; i++) {
		const char *o =
		    json_string_value(json_array_get(json_object_get(scene, "objects"), i));
		if (o)
			rc = sv_buf_printf(&b, "%s%s %s",
			                   i == 0          ? ", with "
			                   : i + 1 == nobj ? " and "
			                                   : ", ",
			                   strchr("aeiou", o[0]) ? "an" : "a", o);
	}
	if (rc == 0 && mood)
		rc = sv_buf_printf(&b, "; the mood is %s", mood);
	if (rc == 0)
		rc = sv_buf_puts(&b, ".");
	if (rc != 0) {
		sv_buf_free(&b);
		return NULL;
	}
	return b.data; /* the buffer's bytes become the caller's */
}
