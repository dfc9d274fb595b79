/*
 * A story's pictures, the same for `generate` and for the image worker: what
 * they will be (the files each page and the cover name, and their alt text,
 * recorded in the story document) and drawing them, each picture and its
 * thumbnail handed to a callback that keeps it (a folder or the blob store).
 */
#include "illustrate/illustrate.h"
#include "roles/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "images/page-01.png" and "images/page-01.thumb.png"; the cover is "cover". */
static void picture_names(const char *stem, char image[64], char thumb[64])
{
	snprintf(image, 64, SV_ROLES_PICTURES_DIR "/%s.png", stem);
	snprintf(thumb, 64, SV_ROLES_PICTURES_DIR "/%s.thumb.png", stem);
}

static void page_stem(size_t i, char stem[32])
{
	snprintf(stem, 32, "page-%02zu", i + 1);
}

static json_t *picture_entry(const char *stem, char *alt)
{
	char image[64], thumb[64];
	picture_names(stem, image, thumb);
	json_t *o =
	    alt ? json_pack("{s:s,s:s,s:s}", "image", image, "thumbnail", thumb, "alt", alt) : NULL;
	free(alt);
	return o;
}

static char *cover_alt(const json_t *story)
{
	const char *title = json_string_value(json_object_get(story, "title"));
	char *alt = NULL;
	if (asprintf(&alt, "The cover of \"%s\", with its cast.", title ? title : "the story") < 0)
		return NULL;
	return alt;
}

int sv_roles_pictures_describe(json_t *story, struct sv_err *err)
{
	json_t *pages = json_object_get(story, "pages");
	size_t i;
	json_t *page;
	json_array_foreach(pages, i, page)
	{
		char stem[32];
		page_stem(i, stem);
		json_t *entry = picture_entry(stem, sv_illustrate_alt_text(story, i));
		if (!entry || json_object_set_new(page, "picture", entry) < 0)
			return sv_err_set(err, "invalid_value", "pages",
			                  "page %zu cannot be described for its picture", i + 1);
	}
	json_t *cover = picture_entry("cover", cover_alt(story));
	if (!cover || json_object_set_new(story, "cover", cover) < 0)
		return sv_err_set(err, "nomem", "", "out of memory");
	return 0;
}

/* Hands one picture and its thumbnail to put. */
static int keep(const char *stem, struct sv_buf *png, sv_roles_file_fn put, void *ctx,
                struct sv_err *err)
{
	char image[64], thumb[64];
	picture_names(stem, image, thumb);
	struct sv_buf small;
	sv_buf_init(&small);
	int rc = put(ctx, image, "image/png", png->data, png->len, err);
	if (rc == 0)
		rc = sv_illustrate_thumbnail(png->data, png->len, SV_ILLUSTRATE_THUMB_W, &small,
		                             err);
	if (rc == 0)
		rc = put(ctx, thumb, "image/png", small.data, small.len, err);
	sv_buf_free(&small);
	png->len = 0;
	return rc;
}

/* A page from the remote service when there is one, else (or when it fails)
 * drawn here: a book is never left without a picture. */
static int draw_page(const json_t *story, const json_t *catalog, size_t i, const char *style,
                     struct sv_illustrate_remote *remote, struct sv_buf *png, struct sv_err *err)
{
	if (remote && sv_illustrate_remote_page(remote, story, catalog, i, style, png, err) == 0)
		return 0;
	if (remote)
		sv_log(SV_LOG_WARN, "remote picture failed; drawing it here",
		       json_pack("{s:I,s:s}", "page", (json_int_t)i + 1, "error", err->message));
	return sv_illustrate_page(story, catalog, i, style, png, err);
}

int sv_roles_pictures_draw(const json_t *story, const json_t *catalog,
                           struct sv_illustrate_remote *remote, sv_roles_file_fn put, void *ctx,
                           void (*progress)(void *ctx, int done, int total), struct sv_err *err)
{
	const char *style =
	    json_string_value(json_object_get(json_object_get(story, "parameters"), "style"));
	size_t n = json_array_size(json_object_get(story, "pages"));
	struct sv_buf png;
	sv_buf_init(&png);
	int rc = sv_illustrate_cover(story, catalog, style, &png, err);
	if (rc == 0)
		rc = keep("cover", &png, put, ctx, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char stem[32];
		page_stem(i, stem);
		rc = draw_page(story, catalog, i, style, remote, &png, err);
		if (rc == 0)
			rc = keep(stem, &png, put, ctx, err);
		if (rc == 0 && progress)
			progress(ctx, (int)i + 1, (int)n);
	}
	sv_buf_free(&png);
	return rc;
}

#define COMFYUI_URL        "http://127.0.0.1:8188"
#define COMFYUI_TIMEOUT_MS 120000 /* one picture on a busy GPU */

int sv_roles_image_provider(const char *provider, const char *url,
                            struct sv_illustrate_remote **out, struct sv_err *err)
{
	*out = NULL;
	if (!provider || strcmp(provider, "local") == 0)
		return 0;
	if (strcmp(provider, "comfyui") != 0)
		return sv_err_set(err, "invalid_value", "image-provider",
		                  "'%.40s' is not an image provider (choose local or comfyui)",
		                  provider);
	*out = sv_illustrate_comfyui_open(url ? url : COMFYUI_URL, COMFYUI_TIMEOUT_MS, err);
	return *out ? 0 : -1;
}
