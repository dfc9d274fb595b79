/* Unit tests for the remote image provider against a stand-in ComfyUI server
 * (tests/lib/comfyui_standin.mjs): the picture, the workflow sent for a real
 * story's page, deterministic seeds, timeouts, and the server's failures. */
#include "illustrate/illustrate.h"
#include "story_support.h"

#include <cairo.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "comfyui_support.h"

#define TIMEOUT_MS 10000
#define MARGIN_MS  700 /* what a timeout may overrun by: a last request, a slow machine */

static json_t *story;
static struct comfyui_server standin; /* answers normally; the failure tests start their own */

/* ---- helpers ---- */

static int setup(void **state)
{
	if (sv_test_catalog_json_setup(state) < 0 || sodium_init() < 0)
		return -1;
	/* A story of the first universe with one of its own heroes, and a child. */
	story = sv_test_story_in(0, 7);
	if (!story || json_array_size(json_object_get(story, "pages")) < 3)
		return -1;
	return comfyui_support_start(&standin, NULL);
}

static int teardown(void **state)
{
	comfyui_support_stop(&standin);
	json_decref(story);
	return sv_test_catalog_json_teardown(state);
}

static struct sv_illustrate_remote *open_on(const struct comfyui_server *s, int timeout_ms)
{
	char url[64];
	comfyui_support_url(s, url, sizeof(url));
	struct sv_err err = {0};
	struct sv_illustrate_remote *r = sv_illustrate_comfyui_open(url, timeout_ms, &err);
	if (!r)
		fail_msg("open %s: %s", url, err.message);
	return r;
}

/* Draws page index on the default stand-in and returns the body it received. */
static json_t *sent_for(size_t index, const char *style, struct sv_buf *png)
{
	struct sv_illustrate_remote *r = open_on(&standin, TIMEOUT_MS);
	struct sv_err err = {0};
	int rc = sv_illustrate_remote_page(r, story, sv_test_catalog_json, index, style, png, &err);
	sv_illustrate_remote_close(r);
	if (rc != 0)
		fail_msg("page %zu: %s: %s", index, err.code, err.message);
	json_t *body = comfyui_support_last_prompt(&standin);
	assert_non_null(body);
	return body;
}

static const json_t *node_of(const json_t *body, const char *class_type)
{
	const char *id;
	const json_t *node;
	json_object_foreach((json_t *)json_object_get(body, "prompt"), id, node)
	{
		const char *c = json_string_value(json_object_get(node, "class_type"));
		if (c && strcmp(c, class_type) == 0)
			return node;
	}
	fail_msg("no %s node in the workflow", class_type);
	return NULL;
}

static const json_t *input(const json_t *node, const char *name)
{
	return json_object_get(json_object_get(node, "inputs"), name);
}

/* The text of the node a sampler input ("positive", "negative") links to. */
static const char *linked_text(const json_t *body, const char *which)
{
	const json_t *link = input(node_of(body, "KSampler"), which);
	const char *id = json_string_value(json_array_get(link, 0));
	assert_non_null(id);
	const json_t *node = json_object_get(json_object_get(body, "prompt"), id);
	const char *text = json_string_value(input(node, "text"));
	assert_non_null(text);
	return text;
}

static json_int_t seed_of(const json_t *body)
{
	const json_t *seed = input(node_of(body, "KSampler"), "seed");
	assert_true(json_is_integer(seed));
	return json_integer_value(seed);
}

struct reader {
	const struct sv_buf *b;
	size_t pos;
};

static cairo_status_t read_png(void *ud, unsigned char *data, unsigned int n)
{
	struct reader *r = ud;
	if (r->b->len - r->pos < n)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, r->b->data + r->pos, n);
	r->pos += n;
	return CAIRO_STATUS_SUCCESS;
}

static double elapsed_ms(int64_t since_ns)
{
	return (double)(sv_time_mono_ns() - since_ns) / 1e6;
}

/* Draws page 0 from a stand-in started with switches; the error it ends in. */
static void failing_page(const char *const *switches, int timeout_ms, struct sv_err *err,
                         double *ms)
{
	struct comfyui_server s;
	assert_int_equal(comfyui_support_start(&s, switches), 0);
	struct sv_illustrate_remote *r = open_on(&s, timeout_ms);
	struct sv_buf png;
	sv_buf_init(&png);
	int64_t t0 = sv_time_mono_ns();
	int rc = sv_illustrate_remote_page(r, story, sv_test_catalog_json, 0, NULL, &png, err);
	*ms = elapsed_ms(t0);
	sv_illustrate_remote_close(r);
	comfyui_support_stop(&s);
	assert_int_equal(rc, -1);
	assert_int_equal(png.len, 0); /* nothing half-written */
	assert_string_equal(err->field, "image-provider");
	sv_buf_free(&png);
}

/* ---- a picture ---- */

static void picture_is_the_standins_png(void **state)
{
	struct sv_buf png;
	sv_buf_init(&png);
	json_t *body = sent_for(0, NULL, &png);
	assert_true(png.len > 8 && memcmp(png.data, "\x89PNG\r\n\x1a\n", 8) == 0);
	assert_non_null(memmem(png.data, png.len, "comfyui-standin", 15));
	struct reader rd = {.b = &png};
	cairo_surface_t *s = cairo_image_surface_create_from_png_stream(read_png, &rd);
	assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
	assert_int_equal(cairo_image_surface_get_width(s), SV_ILLUSTRATE_PAGE_W);
	assert_int_equal(cairo_image_surface_get_height(s), SV_ILLUSTRATE_PAGE_H);
	/* the stand-in paints the colour of the hash of the positive prompt it got */
	unsigned char h[crypto_hash_sha256_BYTES];
	const char *text = linked_text(body, "positive");
	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	cairo_surface_flush(s);
	uint32_t px = *(const uint32_t *)cairo_image_surface_get_data(s);
	assert_int_equal(px & 0xffffff, (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2]);
	cairo_surface_destroy(s);
	json_decref(body);
	sv_buf_free(&png);
}

static void picture_is_appended_to_the_buffer(void **state)
{
	struct sv_buf png;
	sv_buf_init(&png);
	assert_int_equal(sv_buf_puts(&png, "keep"), 0);
	json_decref(sent_for(0, NULL, &png));
	assert_memory_equal(png.data, "keep\x89PNG", 8);
	sv_buf_free(&png);
}

/* ---- the workflow ---- */

static void prompt_describes_the_scene(void **state)
{
	struct sv_buf png;
	sv_buf_init(&png);
	json_t *body = sent_for(1, "crayon", &png);
	const char *text = linked_text(body, "positive");
	const json_t *scene =
	    json_object_get(json_array_get(json_object_get(story, "pages"), 1), "scene");
	const char *place = json_string_value(json_object_get(scene, "place_name"));
	assert_non_null(place);
	assert_non_null(strstr(text, place));
	assert_non_null(strstr(text, "wax crayon"));
	size_t i, named = 0;
	const json_t *role;
	json_array_foreach(json_object_get(scene, "cast"), i, role)
	{
		const json_t *c;
		size_t j;
		json_array_foreach(json_object_get(story, "cast"), j, c)
		{
			if (!json_equal(json_object_get(c, "role"), role))
				continue;
			const char *name = json_string_value(json_object_get(c, "name"));
			if (!strstr(text, name))
				fail_msg("'%s' is not in the prompt: %s", name, text);
			named++;
		}
	}
	assert_true(named > 0);
	const char *negative = linked_text(body, "negative");
	assert_non_null(strstr(negative, "scary"));
	assert_non_null(strstr(negative, "watermark"));
	json_decref(body);
	sv_buf_free(&png);
}

static void workflow_is_text_to_image(void **state)
{
	struct sv_buf png;
	sv_buf_init(&png);
	json_t *body = sent_for(1, NULL, &png);
	assert_string_equal(json_string_value(json_object_get(body, "client_id")), "storyverse");
	const json_t *latent = node_of(body, "EmptyLatentImage");
	assert_int_equal(json_integer_value(input(latent, "width")), SV_ILLUSTRATE_PAGE_W);
	assert_int_equal(json_integer_value(input(latent, "height")), SV_ILLUSTRATE_PAGE_H);
	assert_non_null(node_of(body, "CheckpointLoaderSimple"));
	assert_non_null(node_of(body, "VAEDecode"));
	assert_string_equal(json_string_value(input(node_of(body, "SaveImage"), "filename_prefix")),
	                    "storyverse/page-02");
	/* no style given and none in the story: the default */
	assert_non_null(strstr(linked_text(body, "positive"), "watercolour"));
	json_decref(body);
	sv_buf_free(&png);
}

static void seeds_differ_by_page_and_repeat(void **state)
{
	struct sv_buf png;
	sv_buf_init(&png);
	json_t *a = sent_for(0, "flat", &png);
	json_t *b = sent_for(2, "flat", &png);
	json_t *again = sent_for(0, "flat", &png);
	assert_true(seed_of(a) != seed_of(b));
	assert_true(seed_of(a) == seed_of(again));
	assert_true(seed_of(a) >= 0 && seed_of(a) < (json_int_t)1 << 53);
	assert_true(json_equal(a, again)); /* the same request, byte for byte in meaning */
	assert_non_null(strstr(linked_text(a, "positive"), "flat bright vector"));
	json_decref(a);
	json_decref(b);
	json_decref(again);
	sv_buf_free(&png);
}

/* ---- failures ---- */

static void slow_answers_time_out(void **state)
{
	struct sv_err err = {0};
	double ms;
	failing_page((const char *[]){"--slow-ms", "5000", NULL}, 700, &err, &ms);
	assert_string_equal(err.code, "io");
	assert_true(ms >= 650 && ms < 700 + MARGIN_MS);
}

static void slow_drawing_times_out(void **state)
{
	struct sv_err err = {0};
	double ms;
	failing_page((const char *[]){"--draw-ms", "5000", NULL}, 600, &err, &ms);
	assert_string_equal(err.code, "io");
	assert_non_null(strstr(err.message, "did not finish"));
	assert_true(ms >= 550 && ms < 600 + MARGIN_MS);
}

static void server_error_is_io(void **state)
{
	struct sv_err err = {0};
	double ms;
	failing_page((const char *[]){"--fail", NULL}, TIMEOUT_MS, &err, &ms);
	assert_string_equal(err.code, "io");
	assert_non_null(strstr(err.message, "HTTP 500"));
}

static void non_png_is_invalid(void **state)
{
	struct sv_err err = {0};
	double ms;
	failing_page((const char *[]){"--not-png", NULL}, TIMEOUT_MS, &err, &ms);
	assert_string_equal(err.code, "invalid_value");
	assert_non_null(strstr(err.message, "PNG"));
}

static void unreachable_is_io_quickly(void **state)
{
	int port = comfyui_support_closed_port();
	assert_true(port > 0);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	struct sv_err err = {0};
	struct sv_illustrate_remote *r = sv_illustrate_comfyui_open(url, TIMEOUT_MS, &err);
	assert_non_null(r);
	struct sv_buf png;
	sv_buf_init(&png);
	int64_t t0 = sv_time_mono_ns();
	assert_int_equal(
	    sv_illustrate_remote_page(r, story, sv_test_catalog_json, 0, NULL, &png, &err), -1);
	assert_true(elapsed_ms(t0) < 2000);
	assert_string_equal(err.code, "io");
	assert_int_equal(png.len, 0);
	sv_illustrate_remote_close(r);
	sv_buf_free(&png);
}

/* ---- bad inputs ---- */

static void bad_urls_are_refused(void **state)
{
	static const char *const bad[] = {"",
	                                  "127.0.0.1:8188",
	                                  "ftp://127.0.0.1:8188",
	                                  "http://",
	                                  "http:///prompt",
	                                  "http://host:0",
	                                  "http://host:65536",
	                                  "http://host:80a",
	                                  "http://host:",
	                                  "http://ho st:8188",
	                                  "http://host:8188?x=1",
	                                  "http://host:8188#top",
	                                  "http://user:pw@host:8188",
	                                  "http://[::1",
	                                  "http://host\\evil:8188",
	                                  "http://h\xc3\xa9:8188",
	                                  NULL};
	struct sv_err err;
	for (const char *const *u = bad; *u; u++) {
		sv_err_clear(&err);
		if (sv_illustrate_comfyui_open(*u, 1000, &err))
			fail_msg("'%s' was accepted", *u);
		assert_string_equal(err.code, "invalid_value");
		assert_string_equal(err.field, "image-provider");
	}
	assert_null(sv_illustrate_comfyui_open(NULL, 1000, &err));
	assert_null(sv_illustrate_comfyui_open("http://127.0.0.1:8188", 0, &err));
	assert_string_equal(err.field, "image-provider");
	static const char *const good[] = {"http://127.0.0.1:8188", "http://localhost:8188/",
	                                   "https://gpu.example/comfy", "http://[::1]:8188", NULL};
	for (const char *const *u = good; *u; u++) {
		struct sv_illustrate_remote *r = sv_illustrate_comfyui_open(*u, 1000, &err);
		if (!r)
			fail_msg("'%s' was refused: %s", *u, err.message);
		sv_illustrate_remote_close(r);
	}
	sv_illustrate_remote_close(NULL);
}

static void bad_page_or_style_is_refused(void **state)
{
	struct sv_illustrate_remote *r = open_on(&standin, TIMEOUT_MS);
	struct sv_buf png;
	sv_buf_init(&png);
	struct sv_err err = {0};
	size_t pages = json_array_size(json_object_get(story, "pages"));
	assert_int_equal(
	    sv_illustrate_remote_page(r, story, sv_test_catalog_json, pages, NULL, &png, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, "pages");
	assert_int_equal(
	    sv_illustrate_remote_page(r, story, sv_test_catalog_json, 0, "oil", &png, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, "style");
	assert_int_equal(png.len, 0);
	sv_illustrate_remote_close(r);
	sv_buf_free(&png);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(picture_is_the_standins_png),
	    cmocka_unit_test(picture_is_appended_to_the_buffer),
	    cmocka_unit_test(prompt_describes_the_scene),
	    cmocka_unit_test(workflow_is_text_to_image),
	    cmocka_unit_test(seeds_differ_by_page_and_repeat),
	    cmocka_unit_test(slow_answers_time_out),
	    cmocka_unit_test(slow_drawing_times_out),
	    cmocka_unit_test(server_error_is_io),
	    cmocka_unit_test(non_png_is_invalid),
	    cmocka_unit_test(unreachable_is_io_quickly),
	    cmocka_unit_test(bad_urls_are_refused),
	    cmocka_unit_test(bad_page_or_style_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
