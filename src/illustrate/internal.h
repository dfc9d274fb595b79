/*
 * Shared between the files of the illustrate module only.
 *
 *   style.c     colours, the art styles' fills, strokes and paper (flat,
 *               watercolour, crayon)
 *   backdrop.c  sky, light, weather, terrain and the place's features
 *   objects.c   the key objects of a beat
 *   character.c character sheets and drawing a character
 *   compose.c   pages, the cover, thumbnails, sheets and alt text (the public API)
 *
 * Every drawing function takes the style and a random generator seeded from
 * the story, so the same inputs draw the same pixels.
 */
#ifndef SV_ILLUSTRATE_INTERNAL_H
#define SV_ILLUSTRATE_INTERNAL_H

#include "base/base.h"
#include "illustrate/illustrate.h"

#include <cairo.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ill_rgb {
	double r, g, b; /* 0..1 */
};

/* ---- style.c ---- */

enum ill_style_id { ILL_STYLE_FLAT, ILL_STYLE_WATERCOLOUR, ILL_STYLE_CRAYON, ILL_STYLE_COUNT };

struct ill_style {
	enum ill_style_id id;
	double line_width; /* outline width at a 1024-pixel-wide canvas */
};

/* The style named name (one of sv_illustrate_styles); -1 when unknown. */
int ill_style_get(const char *name, struct ill_style *out);
/* "#RRGGBB" into rgb; -1 when malformed. */
int ill_rgb_parse(const char *hex, struct ill_rgb *out);
/* c made lighter (amount > 0) or darker (< 0), amount in -1..1. */
struct ill_rgb ill_rgb_shade(struct ill_rgb c, double amount);
/* a and b mixed: t = 0 is a, 1 is b. */
struct ill_rgb ill_rgb_mix(struct ill_rgb a, struct ill_rgb b, double t);
/* Fills the current path (and clears it) in colour c, the style's way: flat
 * with a soft shade; watercolour in layered translucent washes with darker
 * edges; crayon with a waxy hatched texture. */
void ill_fill(cairo_t *cr, const struct ill_style *st, struct ill_rgb c, struct sv_rng *rng);
/* Strokes the current path (and clears it), the style's way. width is in
 * canvas pixels before the style's own adjustment. */
void ill_stroke(cairo_t *cr, const struct ill_style *st, struct ill_rgb c, double width,
                struct sv_rng *rng);
/* The style's last touch over the whole picture: paper grain, wash blooms or
 * wax speckles. */
void ill_finish(cairo_t *cr, double w, double h, const struct ill_style *st, struct sv_rng *rng);

/* ---- backdrop.c ---- */

/* What a picture shows, read from a page's scene and the universe's catalog entry. */
struct ill_scene {
	const char *universe; /* id, e.g. "meadow" */
	const char *place;    /* place id, e.g. "burrow" */
	const char *mood;     /* e.g. "sunny", "stormy", "sleepy" (free words: unknown is calm) */
	const char *time_of_day; /* morning, afternoon, evening, night (unknown: afternoon) */
	const char *objects[4];  /* key objects by name */
	int nobjects;
	struct ill_rgb palette[8]; /* the universe's palette, in catalog order */
	int npalette;
};

/* Fills the whole w×h canvas with the scene's backdrop and returns the y of
 * the ground line where characters stand (their feet at about that height,
 * nearer ones lower). */
double ill_backdrop(cairo_t *cr, double w, double h, const struct ill_scene *sc,
                    const struct ill_style *st, struct sv_rng *rng);

/* ---- objects.c ---- */

/* Draws one key object by its catalog name, resting on (x, y) (its bottom
 * centre), about size pixels tall. Unknown names get a fitting generic
 * shape (a parcel, a stone, a glowing orb) chosen from the name. */
void ill_object(cairo_t *cr, const char *name, double x, double y, double size,
                const struct ill_scene *sc, const struct ill_style *st, struct sv_rng *rng);

/* ---- character.c ---- */

enum ill_expression {
	ILL_HAPPY,
	ILL_SCARED,
	ILL_SURPRISED,
	ILL_SAD,
	ILL_DETERMINED,
	ILL_SLEEPY,
	ILL_EXPRESSION_COUNT
};

enum ill_pose { ILL_POSE_STAND, ILL_POSE_WAVE, ILL_POSE_POINT, ILL_POSE_CHEER, ILL_POSE_COUNT };

/* How a character looks, the same on every page: its body plan and colours. */
struct ill_sheet {
	char name[64];
	char species[48];
	int body;              /* a body plan of character.c's table */
	struct ill_rgb main;   /* fur, skin, shell, metal… */
	struct ill_rgb second; /* belly, face, or a second colour */
	struct ill_rgb accent; /* clothes or an accessory */
	struct ill_rgb eyes;
	unsigned features; /* bit flags of character.c: scarf, hat, crown, cape, patch… */
	double size;       /* relative height: 1 a child; a mouse smaller, a dinosaur taller */
};

/* The sheet of a catalog character or a cast entry (reads "species",
 * "looks", "name", "id"; custom characters: "species" and "traits"). The
 * same entry always gives the same sheet. -1 with err when the entry has no
 * species. */
int ill_sheet_from_json(const json_t *character, struct ill_sheet *out, struct sv_err *err);
/* Draws the character with its feet at (x, y), height h pixels times its
 * sheet's size, facing right (or left), with an expression and a pose. */
void ill_character(cairo_t *cr, const struct ill_sheet *sh, double x, double y, double h,
                   bool facing_left, enum ill_expression e, enum ill_pose p,
                   const struct ill_style *st, struct sv_rng *rng);
/* The expression a mood suggests (unknown moods: happy). */
enum ill_expression ill_expression_for_mood(const char *mood);
extern const char *const ill_expression_names[ILL_EXPRESSION_COUNT];

/* ---- compose.c ---- */

/* Where a band of text went: the rectangle of its ink and background. */
struct ill_box {
	double x, y, w, h;
};

/* Sets text centred in a rounded band whose top is at y on a canvas w wide,
 * shrinking the font from size until the text fits within 84% of the width
 * and three lines, so a long title never runs off the picture. */
struct ill_box ill_text_band(cairo_t *cr, const char *text, const char *font, double size, double y,
                             double w, struct ill_rgb ink, struct ill_rgb paper);

#endif
