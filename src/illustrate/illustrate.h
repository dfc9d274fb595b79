/*
 * illustrate: a picture for every page and a cover, drawn on the CPU with
 * cairo (and pango for the cover's title), the same characters on every page.
 *
 * A page's picture is composed from its scene (place, cast present, mood, time
 * of day, key objects) and the universe's palette: a backdrop, the characters
 * placed with depth and facing each other, and the key objects. Characters
 * are drawn from a character sheet derived from their catalog entry (species
 * and looks), so a character looks the same on every page and in every
 * episode. Pictures are pure functions of their inputs: the same story, style
 * and seed give the same PNG bytes.
 *
 * Inputs are the story document (see src/story/story.h) and the catalog
 * document (sv_story_catalog_json), both read-only. Output PNGs are appended
 * to a caller-owned struct sv_buf.
 */
#ifndef SV_ILLUSTRATE_H
#define SV_ILLUSTRATE_H

#include "base/base.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SV_ILLUSTRATE_PAGE_W  1024
#define SV_ILLUSTRATE_PAGE_H  768
#define SV_ILLUSTRATE_COVER_W 768 /* a book's proportion: 3 by 4 */
#define SV_ILLUSTRATE_COVER_H 1024
#define SV_ILLUSTRATE_THUMB_W 320

/* The art styles, NULL-terminated; the first is the default. */
extern const char *const sv_illustrate_styles[];
bool sv_illustrate_style_valid(const char *style);

/* Draws page `index` (0-based) of the story in style (NULL: the default).
 * 0 with the PNG appended to png; -1 with err filled ("invalid_value" naming
 * the member at fault when the document is not a story). */
int sv_illustrate_page(const json_t *story, const json_t *catalog, size_t index, const char *style,
                       struct sv_buf *png, struct sv_err *err);
/* The cover: the title set in pango over the story's world and its cast. */
int sv_illustrate_cover(const json_t *story, const json_t *catalog, const char *style,
                        struct sv_buf *png, struct sv_err *err);
/* A copy of a PNG scaled to width pixels wide (the height keeps the proportion). */
int sv_illustrate_thumbnail(const void *png, size_t len, int width, struct sv_buf *out,
                            struct sv_err *err);
/* A character's sheet: the character in each expression, with its name. The
 * character is a catalog character or a story's cast entry. */
int sv_illustrate_sheet(const json_t *character, const char *style, struct sv_buf *png,
                        struct sv_err *err);
/* A sentence describing page `index`'s picture for those who cannot see it;
 * the caller frees it. NULL when out of memory or the page is not there. */
char *sv_illustrate_alt_text(const json_t *story, size_t index);

/* ---- a remote image service (a GPU elsewhere) ----
 *
 * ComfyUI's HTTP API: a workflow built from the page's scene is queued with
 * POST /prompt, followed with GET /history/{prompt_id} until done, and the
 * picture fetched with GET /view. Every request has a timeout; a failure is
 * an error the caller answers by drawing the page locally. */
struct sv_illustrate_remote;

/* url is the server's base, "http://HOST:PORT"; timeout_ms bounds one whole
 * picture. NULL with err ("invalid_value", field "image-provider") on a bad URL. */
struct sv_illustrate_remote *sv_illustrate_comfyui_open(const char *url, int timeout_ms,
                                                        struct sv_err *err);
void sv_illustrate_remote_close(struct sv_illustrate_remote *r);
/* Page `index`'s picture from the remote server, as PNG appended to png. */
int sv_illustrate_remote_page(struct sv_illustrate_remote *r, const json_t *story,
                              const json_t *catalog, size_t index, const char *style,
                              struct sv_buf *png, struct sv_err *err);

#endif
