/*
 * The remote image provider: a ComfyUI server, over its HTTP API.
 *
 * A page's scene becomes a standard text-to-image workflow (checkpoint, a
 * positive and a negative prompt, an empty 1024x768 latent, a sampler, a
 * decoder, SaveImage) queued with POST /prompt. GET /history/{prompt_id} is
 * polled until the picture is listed there, and GET /view fetches its bytes.
 * One deadline bounds the whole picture, and every request is cut at it.
 *
 * The server is untrusted: every answer is checked for its shape and size,
 * names from it are escaped before they go into a URL, and the picture must
 * be a PNG of sane dimensions. Failures are "io" (unreachable, timed out, an
 * HTTP error status, the server's own failure) or "invalid_value" (an answer
 * that is not what the API documents); either way the caller draws locally.
 *
 * The request body is a pure function of the story, the page and the style
 * (fixed node ids, sorted keys, a seed derived from the story's), so the same
 * page always asks for the same picture. Each call has its own curl handle,
 * so one remote may be used by many threads at once.
 */
#include "illustrate/illustrate.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD              "image-provider"
#define URL_MAX            512
#define CONNECT_TIMEOUT_MS 5000L
#define JSON_MAX           ((size_t)4 << 20)  /* an answer of /prompt or /history */
#define PNG_MAX            ((size_t)32 << 20) /* a picture */
#define PNG_SIDE_MAX       8192
#define POLL_FIRST_MS      50
#define POLL_MAX_MS        500
#define TEXT_MAX           240 /* bytes of one story string in the prompt */
#define CAST_MAX           6
#define OBJECTS_MAX        4
#define SEED_MASK          ((UINT64_C(1) << 53) - 1) /* survives JSON in any language */

/* What the workflow asks of the server. SDXL's base model draws 1024x768 well. */
#define CHECKPOINT "sd_xl_base_1.0.safetensors"
#define CLIENT_ID  "storyverse"
#define STEPS      25
#define CFG        7.0

/* Node ids of the workflow; the picture is read from SaveImage's output. */
#define N_CKPT    "1"
#define N_POS     "2"
#define N_NEG     "3"
#define N_LATENT  "4"
#define N_SAMPLER "5"
#define N_DECODE  "6"
#define N_SAVE    "7"

#define NEGATIVE                                                                                   \
	"scary, frightening, creepy, horror, monster teeth, angry, violent, fighting, weapon, "    \
	"blood, gore, injury, dark and gloomy, nsfw, nudity, realistic photo, text, letters, "     \
	"words, caption, watermark, signature, logo, blurry, low quality, deformed, extra limbs, " \
	"distorted face"

struct sv_illustrate_remote {
	char *base; /* scheme://host[:port][/path], without a trailing slash */
	int timeout_ms;
};

/* One picture in flight: its handle and deadline. */
struct call {
	const struct sv_illustrate_remote *r;
	CURL *h;
	int64_t deadline_ns;
};

/* Where /history says the picture is. */
struct image_ref {
	char filename[256];
	char subfolder[256];
	char type[16];
};

/* ---- the base URL ---- */

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return n > 0;
}

/* host[:port] or [v6][:port]; credentials have no place in a base URL. */
static bool authority_valid(const char *a, size_t n)
{
	if (n == 0 || memchr(a, '@', n))
		return false;
	const char *host_end = a[0] == '[' ? memchr(a, ']', n) : memchr(a, ':', n) ?: a + n;
	if (!host_end || host_end == a || (a[0] == '[' && host_end == a + 1))
		return false;
	if (a[0] == '[')
		host_end++; /* past the bracket */
	size_t rest = (size_t)(a + n - host_end);
	if (rest == 0)
		return true;
	if (*host_end != ':' || rest > 6 || !all_digits(host_end + 1, rest - 1))
		return false;
	long port = strtol(host_end + 1, NULL, 10);
	return port >= 1 && port <= 65535;
}

/* http(s)://authority[/path]: printable ASCII, no query, fragment or backslash. */
static bool url_valid(const char *url)
{
	size_t len = strlen(url);
	if (len == 0 || len > URL_MAX)
		return false;
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("?#\\", *p))
			return false;
	}
	const char *a = NULL;
	if (strncmp(url, "http://", 7) == 0)
		a = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		a = url + 8;
	if (!a || !authority_valid(a, strcspn(a, "/")))
		return false;
	/* curl must read it the same way: its parser has the last word. */
	CURLU *u = curl_url();
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok;
}

struct sv_illustrate_remote *sv_illustrate_comfyui_open(const char *url, int timeout_ms,
                                                        struct sv_err *err)
{
	if (sv_curl_init(FIELD, err) < 0)
		return NULL;
	if (!url || !url_valid(url)) {
		sv_err_set(err, "invalid_value", FIELD,
		           "the ComfyUI URL '%.200s' is not like http://HOST:PORT", url ? url : "");
		return NULL;
	}
	if (timeout_ms <= 0) {
		sv_err_set(err, "invalid_value", FIELD,
		           "the ComfyUI timeout must be a positive number of milliseconds");
		return NULL;
	}
	struct sv_illustrate_remote *r = calloc(1, sizeof(*r));
	if (r)
		r->base = strdup(url);
	if (!r || !r->base) {
		free(r);
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	size_t n = strlen(r->base);
	while (n > 0 && r->base[n - 1] == '/')
		r->base[--n] = '\0';
	r->timeout_ms = timeout_ms;
	return r;
}

void sv_illustrate_remote_close(struct sv_illustrate_remote *r)
{
	if (!r)
		return;
	free(r->base);
	free(r);
}

/* ---- reading the story ---- */

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const json_t *find_by(const json_t *arr, const char *key, const char *value)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = str(v, key);
		if (s && value && strcmp(s, value) == 0)
			return v;
	}
	return NULL;
}

/* The scene's world: from the story's universes, else the catalog, else the story's own. */
static const json_t *scene_universe(const json_t *story, const json_t *catalog, const char *id)
{
	const json_t *u = find_by(json_object_get(story, "universes"), "id", id);
	if (!u)
		u = find_by(json_object_get(catalog, "universes"), "id", id);
	return u ? u : json_object_get(story, "universe");
}

/* The style named, else the story's, else the default. */
static int pick_style(const json_t *story, const char *style, const char **out, struct sv_err *err)
{
	if (!style) {
		const char *own = str(json_object_get(story, "parameters"), "style");
		style = own && sv_illustrate_style_valid(own) ? own : sv_illustrate_styles[0];
	}
	if (!sv_illustrate_style_valid(style))
		return sv_err_set(err, "invalid_value", "style",
		                  "unknown style '%.40s' (choose from watercolour, flat, crayon)",
		                  style);
	*out = style;
	return 0;
}

/* How each of our styles is asked of an image model. */
static const char *style_phrase(const char *style)
{
	if (strcmp(style, "flat") == 0)
		return "flat bright vector children's picture book illustration, clean simple "
		       "shapes, bold cheerful colours";
	if (strcmp(style, "crayon") == 0)
		return "wax crayon children's picture book illustration, hand-drawn waxy texture, "
		       "warm colours";
	return "soft watercolour children's picture book illustration, gentle washes of colour, "
	       "textured paper";
}

/* "Pip, a small brown mouse ...; Mia, a girl ..." for the roles on stage. */
static int write_cast(struct sv_buf *b, const json_t *story, const json_t *roles)
{
	size_t i;
	const json_t *role;
	int n = 0, rc = 0;
	json_array_foreach(roles, i, role)
	{
		const json_t *who =
		    find_by(json_object_get(story, "cast"), "role", json_string_value(role));
		const char *name = str(who, "name");
		const char *looks = str(who, "looks") ?: str(who, "species");
		if (!name || n == CAST_MAX)
			continue;
		rc |= sv_buf_printf(b, "%s%.*s", n ? "; " : " ", TEXT_MAX, name);
		if (looks)
			rc |= sv_buf_printf(b, ", %.*s", TEXT_MAX, looks);
		n++;
	}
	return rc | (n ? sv_buf_puts(b, ".") : 0);
}

static int write_objects(struct sv_buf *b, const json_t *objects)
{
	size_t i;
	const json_t *o;
	int n = 0, rc = 0;
	json_array_foreach(objects, i, o)
	{
		if (!json_is_string(o) || n == OBJECTS_MAX)
			continue;
		rc |= sv_buf_printf(b, "%s%.*s", n ? ", " : " In the picture: ", TEXT_MAX,
		                    json_string_value(o));
		n++;
	}
	return rc | (n ? sv_buf_puts(b, ".") : 0);
}

/* The positive prompt: style, place and world, light, mood, cast, objects. */
static int write_prompt(struct sv_buf *b, const json_t *story, const json_t *catalog,
                        const json_t *scene, const char *style)
{
	const json_t *u = scene_universe(story, catalog, str(scene, "universe"));
	const char *place = str(scene, "place_name") ?: str(scene, "place");
	const char *world = str(u, "name");
	const char *tone = str(u, "tone");
	const char *time = str(scene, "time_of_day");
	const char *mood = str(scene, "mood");
	int rc = sv_buf_printf(b, "%s.", style_phrase(style));
	if (place || world)
		rc |= sv_buf_printf(b, " %.*s%s%.*s", TEXT_MAX, place ?: "",
		                    place && world ? " in " : "", TEXT_MAX, world ?: "");
	if (time)
		rc |= sv_buf_printf(b, ", %.*s", TEXT_MAX, time);
	if (mood)
		rc |= sv_buf_printf(b, ", a %.*s mood", TEXT_MAX, mood);
	if (tone)
		rc |= sv_buf_printf(b, ", %.*s", TEXT_MAX, tone);
	rc |= sv_buf_puts(b, ".");
	rc |= write_cast(b, story, json_object_get(scene, "cast"));
	rc |= write_objects(b, json_object_get(scene, "objects"));
	rc |= sv_buf_puts(b, " Friendly faces, gentle and safe for young children, no text.");
	return rc ? -1 : 0;
}

/* The sampler's seed: the story's seed and the page, so pages differ and repeat. */
static json_int_t page_seed(const json_t *story, size_t index)
{
	json_int_t seed =
	    json_integer_value(json_object_get(json_object_get(story, "parameters"), "seed"));
	char key[64];
	int n = snprintf(key, sizeof(key), "comfyui/%lld/%zu", (long long)seed, index);
	return (json_int_t)(sv_hash64(key, (size_t)n, 0x434f4d4659554921ull) & SEED_MASK);
}

/* ---- the workflow ---- */

static json_t *sampler_node(json_int_t seed)
{
	return json_pack("{s:s,s:{s:I,s:i,s:f,s:s,s:s,s:f,s:[s,i],s:[s,i],s:[s,i],s:[s,i]}}",
	                 "class_type", "KSampler", "inputs", "seed", seed, "steps", STEPS, "cfg",
	                 CFG, "sampler_name", "dpmpp_2m", "scheduler", "karras", "denoise", 1.0,
	                 "model", N_CKPT, 0, "positive", N_POS, 0, "negative", N_NEG, 0,
	                 "latent_image", N_LATENT, 0);
}

/* ComfyUI's API format: node id -> {class_type, inputs}; a link is [node id,
 * output slot]. The checkpoint's outputs are 0 MODEL, 1 CLIP, 2 VAE. */
static json_t *workflow(const char *positive, json_int_t seed, size_t index)
{
	char prefix[48];
	snprintf(prefix, sizeof(prefix), "storyverse/page-%02zu", index + 1);
	json_t *g = json_object();
	int rc = g ? 0 : -1;
	/* set_new takes each node even when it fails, and refuses a NULL one */
	rc |= json_object_set_new(g, N_CKPT,
	                          json_pack("{s:s,s:{s:s}}", "class_type", "CheckpointLoaderSimple",
	                                    "inputs", "ckpt_name", CHECKPOINT));
	rc |= json_object_set_new(g, N_POS,
	                          json_pack("{s:s,s:{s:s,s:[s,i]}}", "class_type", "CLIPTextEncode",
	                                    "inputs", "text", positive, "clip", N_CKPT, 1));
	rc |= json_object_set_new(g, N_NEG,
	                          json_pack("{s:s,s:{s:s,s:[s,i]}}", "class_type", "CLIPTextEncode",
	                                    "inputs", "text", NEGATIVE, "clip", N_CKPT, 1));
	rc |= json_object_set_new(
	    g, N_LATENT,
	    json_pack("{s:s,s:{s:i,s:i,s:i}}", "class_type", "EmptyLatentImage", "inputs", "width",
	              SV_ILLUSTRATE_PAGE_W, "height", SV_ILLUSTRATE_PAGE_H, "batch_size", 1));
	rc |= json_object_set_new(g, N_SAMPLER, sampler_node(seed));
	rc |= json_object_set_new(g, N_DECODE,
	                          json_pack("{s:s,s:{s:[s,i],s:[s,i]}}", "class_type", "VAEDecode",
	                                    "inputs", "samples", N_SAMPLER, 0, "vae", N_CKPT, 2));
	rc |= json_object_set_new(g, N_SAVE,
	                          json_pack("{s:s,s:{s:s,s:[s,i]}}", "class_type", "SaveImage",
	                                    "inputs", "filename_prefix", prefix, "images", N_DECODE,
	                                    0));
	if (rc != 0) {
		json_decref(g);
		return NULL;
	}
	return g;
}

static const json_t *page_scene(const json_t *story, size_t index, struct sv_err *err)
{
	const json_t *page = json_array_get(json_object_get(story, "pages"), index);
	const json_t *scene = json_object_get(page, "scene");
	if (!json_is_object(scene))
		sv_err_set(err, "invalid_value", "pages", "the story has no page %zu with a scene",
		           index + 1);
	return json_is_object(scene) ? scene : NULL;
}

/* The body of POST /prompt for the page, compact with sorted keys; caller frees. */
static char *prompt_body(const json_t *story, const json_t *catalog, size_t index,
                         const char *style, struct sv_err *err)
{
	const json_t *scene = page_scene(story, index, err);
	if (!scene)
		return NULL;
	struct sv_buf text;
	sv_buf_init(&text);
	json_t *body = json_object();
	char *out = NULL;
	/* set_new takes the graph even when it fails, so nothing leaks on any path */
	if (body && write_prompt(&text, story, catalog, scene, style) == 0 &&
	    json_object_set_new(body, "prompt",
	                        workflow(text.data, page_seed(story, index), index)) == 0 &&
	    json_object_set_new(body, "client_id", json_string(CLIENT_ID)) == 0)
		out = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	sv_buf_free(&text);
	if (!out)
		sv_err_set(err, "nomem", "", "out of memory");
	return out;
}

/* ---- requests ---- */

static int64_t ms_left(const struct call *c)
{
	return (c->deadline_ns - sv_time_mono_ns()) / 1000000;
}

static int timed_out(const struct call *c, struct sv_err *err)
{
	return sv_err_set(err, "io", FIELD, "ComfyUI at %.200s did not finish the picture in %d ms",
	                  c->r->base, c->r->timeout_ms);
}

/* Collects an answer up to a limit, so a hostile server cannot exhaust memory. */
struct sink {
	struct sv_buf *buf;
	size_t max;
	bool over, nomem;
};

static size_t sink_write(char *data, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t k = size * n;
	if (k > s->max - s->buf->len) {
		s->over = true;
		return 0;
	}
	if (sv_buf_append(s->buf, data, k) < 0) {
		s->nomem = true;
		return 0;
	}
	return k;
}

static void set_options(const struct call *c, const char *url, struct sink *s, char *errbuf,
                        int64_t left)
{
	curl_easy_reset(c->h); /* keeps the connection, drops the last request's options */
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L); /* timeouts without SIGALRM, for threads */
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS,
	                 left < CONNECT_TIMEOUT_MS ? (long)left : CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "storyverse/" SV_VERSION);
}

static int request_failed(const struct call *c, const char *path, CURLcode rc, const char *errbuf,
                          const struct sink *s, struct sv_err *err)
{
	if (s->nomem)
		return sv_err_set(err, "nomem", "", "out of memory");
	if (s->over || rc == CURLE_FILESIZE_EXCEEDED)
		return sv_err_set(err, "invalid_value", FIELD,
		                  "ComfyUI at %.200s answered %.60s with more than %zu bytes",
		                  c->r->base, path, s->max);
	if (rc == CURLE_OPERATION_TIMEDOUT && ms_left(c) <= 0)
		return timed_out(c, err);
	return sv_err_set(err, "io", FIELD, "ComfyUI at %.200s: %.60s: %.120s", c->r->base, path,
	                  errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* GET path (post NULL) or POST the JSON post to it; the answer into out. 0 on HTTP 200. */
static int request(struct call *c, const char *path, const char *post, struct sv_buf *out,
                   size_t max, struct sv_err *err)
{
	int64_t left = ms_left(c);
	if (left <= 0)
		return timed_out(c, err);
	char *url = NULL, errbuf[CURL_ERROR_SIZE] = "";
	if (asprintf(&url, "%s%s", c->r->base, path) < 0)
		return sv_err_set(err, "nomem", "", "out of memory");
	struct sink s = {.buf = out, .max = max};
	struct curl_slist *hdrs = NULL;
	set_options(c, url, &s, errbuf, left);
	if (post) {
		hdrs = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(post));
	}
	CURLcode rc = post && !hdrs ? CURLE_OUT_OF_MEMORY : curl_easy_perform(c->h);
	long status = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	free(url);
	if (rc != CURLE_OK)
		return request_failed(c, path, rc, errbuf, &s, err);
	if (status != 200)
		return sv_err_set(err, "io", FIELD,
		                  "ComfyUI at %.200s answered %.60s with HTTP %ld", c->r->base,
		                  path, status);
	return 0;
}

/* ---- reading the answers ---- */

static int bad_answer(const struct call *c, const char *what, struct sv_err *err)
{
	return sv_err_set(err, "invalid_value", FIELD, "ComfyUI at %.200s: %s", c->r->base, what);
}

static json_t *parse_object(const struct call *c, const struct sv_buf *b, const char *route,
                            struct sv_err *err)
{
	json_t *doc = json_loadb(b->data ? b->data : "", b->len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		sv_err_set(err, "invalid_value", FIELD,
		           "ComfyUI at %.200s answered %s with something not a JSON object",
		           c->r->base, route);
		return NULL;
	}
	return doc;
}

/* A prompt id goes into a URL path: uuid-like characters only. */
static bool prompt_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 64)
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* POST /prompt: queues the workflow; the server's id for it into id. */
static int queue_prompt(struct call *c, const char *body, char id[static 65], struct sv_err *err)
{
	struct sv_buf ans;
	sv_buf_init(&ans);
	int rc = request(c, "/prompt", body, &ans, JSON_MAX, err);
	json_t *doc = rc == 0 ? parse_object(c, &ans, "/prompt", err) : NULL;
	sv_buf_free(&ans);
	if (!doc)
		return -1;
	const char *pid = str(doc, "prompt_id");
	const json_t *node_errors = json_object_get(doc, "node_errors");
	if (!prompt_id_valid(pid))
		rc = bad_answer(c, "/prompt answered without a valid prompt_id", err);
	else if (node_errors && json_object_size(node_errors) > 0)
		rc = bad_answer(c, "/prompt rejected nodes of the workflow", err);
	else
		snprintf(id, 65, "%s", pid);
	json_decref(doc);
	return rc;
}

/* A name the server gave for its file: bounded, printable, no way out of its folder. */
static bool name_valid(const char *s, size_t cap, bool empty_ok, bool slash_ok)
{
	size_t n = s ? strlen(s) : 0;
	if (!s || n >= cap || (n == 0 && !empty_ok) || strstr(s, "..") || s[0] == '/')
		return false;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\' ||
		    (*p == '/' && !slash_ok))
			return false;
	}
	return true;
}

/* The first picture SaveImage listed; -1 when it is malformed. */
static int read_image(const json_t *images, struct image_ref *img)
{
	const json_t *first = json_array_get(images, 0);
	const char *filename = str(first, "filename");
	const char *subfolder = json_object_get(first, "subfolder") ? str(first, "subfolder") : "";
	const char *type = json_object_get(first, "type") ? str(first, "type") : "output";
	if (!name_valid(filename, sizeof(img->filename), false, false) ||
	    !name_valid(subfolder, sizeof(img->subfolder), true, true) || !type ||
	    (strcmp(type, "output") != 0 && strcmp(type, "temp") != 0))
		return -1;
	snprintf(img->filename, sizeof(img->filename), "%s", filename);
	snprintf(img->subfolder, sizeof(img->subfolder), "%s", subfolder);
	snprintf(img->type, sizeof(img->type), "%s", type);
	return 0;
}

/* One /history entry: 1 with img filled when the picture is there, 0 while it
 * is still being drawn, -1 with err. */
static int read_entry(const struct call *c, const json_t *entry, struct image_ref *img,
                      struct sv_err *err)
{
	const json_t *status = json_object_get(entry, "status");
	const json_t *outputs = json_object_get(entry, "outputs");
	if (!json_is_object(entry) || (status && !json_is_object(status)) ||
	    (outputs && !json_is_object(outputs)))
		return bad_answer(c, "/history answered with a malformed entry", err);
	const char *state = str(status, "status_str");
	if (state && strcmp(state, "error") == 0)
		return sv_err_set(err, "io", FIELD, "ComfyUI at %.200s failed to draw the picture",
		                  c->r->base);
	const json_t *images = json_object_get(json_object_get(outputs, N_SAVE), "images");
	if (json_is_array(images) && json_array_size(images) > 0)
		return read_image(images, img) == 0
		           ? 1
		           : bad_answer(c, "/history listed a malformed picture", err);
	if (images && !json_is_array(images))
		return bad_answer(c, "/history listed pictures that are not an array", err);
	bool finished = json_is_true(json_object_get(status, "completed")) ||
	                (state && strcmp(state, "success") == 0);
	return finished ? bad_answer(c, "/history finished without a picture", err) : 0;
}

/* GET /history/{id}: 1 when done (img filled), 0 while pending, -1 with err. */
static int poll_history(struct call *c, const char *id, struct image_ref *img, struct sv_err *err)
{
	char path[96];
	snprintf(path, sizeof(path), "/history/%s", id);
	struct sv_buf ans;
	sv_buf_init(&ans);
	int rc = request(c, path, NULL, &ans, JSON_MAX, err);
	json_t *doc = rc == 0 ? parse_object(c, &ans, "/history", err) : NULL;
	sv_buf_free(&ans);
	if (!doc)
		return -1;
	const json_t *entry = json_object_get(doc, id);
	rc = entry ? read_entry(c, entry, img, err) : 0; /* {} means not done yet */
	json_decref(doc);
	return rc;
}

static void sleep_ms(int64_t ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* Polls /history, sleeping a little longer each time, until done or the deadline. */
static int await_image(struct call *c, const char *id, struct image_ref *img, struct sv_err *err)
{
	int64_t wait = POLL_FIRST_MS;
	for (;;) {
		int rc = poll_history(c, id, img, err);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
		int64_t left = ms_left(c);
		if (left <= 0)
			return timed_out(c, err);
		sleep_ms(wait < left ? wait : left);
		wait = wait * 2 > POLL_MAX_MS ? POLL_MAX_MS : wait * 2;
	}
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A PNG signature, then an IHDR chunk with sane dimensions. */
static bool png_valid(const struct sv_buf *b)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	const unsigned char *p = (const unsigned char *)b->data;
	if (b->len < 33 || memcmp(p, sig, 8) != 0 || be32(p + 8) != 13 ||
	    memcmp(p + 12, "IHDR", 4) != 0)
		return false;
	uint32_t w = be32(p + 16), h = be32(p + 20);
	return w > 0 && h > 0 && w <= PNG_SIDE_MAX && h <= PNG_SIDE_MAX;
}

/* "/view?filename=…&subfolder=…&type=…", every value escaped; caller frees. */
static char *view_path(CURL *h, const struct image_ref *img)
{
	char *f = curl_easy_escape(h, img->filename, 0);
	char *s = curl_easy_escape(h, img->subfolder, 0);
	char *t = curl_easy_escape(h, img->type, 0);
	char *path = NULL;
	if (f && s && t && asprintf(&path, "/view?filename=%s&subfolder=%s&type=%s", f, s, t) < 0)
		path = NULL;
	curl_free(f);
	curl_free(s);
	curl_free(t);
	return path;
}

/* GET /view: the picture's bytes, which must be a PNG. */
static int fetch_image(struct call *c, const struct image_ref *img, struct sv_buf *png,
                       struct sv_err *err)
{
	char *path = view_path(c->h, img);
	if (!path)
		return sv_err_set(err, "nomem", "", "out of memory");
	struct sv_buf ans;
	sv_buf_init(&ans);
	int rc = request(c, path, NULL, &ans, PNG_MAX, err);
	free(path);
	if (rc == 0 && !png_valid(&ans))
		rc = bad_answer(c, "/view answered with something that is not a PNG picture", err);
	if (rc == 0 && sv_buf_append(png, ans.data, ans.len) < 0)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	sv_buf_free(&ans);
	return rc;
}

/* ---- a page ---- */

static int draw_remote(struct call *c, const char *body, struct sv_buf *png, struct sv_err *err)
{
	char id[65];
	struct image_ref img;
	if (queue_prompt(c, body, id, err) < 0 || await_image(c, id, &img, err) < 0)
		return -1;
	return fetch_image(c, &img, png, err);
}

int sv_illustrate_remote_page(struct sv_illustrate_remote *r, const json_t *story,
                              const json_t *catalog, size_t index, const char *style,
                              struct sv_buf *png, struct sv_err *err)
{
	if (!r || !json_is_object(story))
		return sv_err_set(err, "invalid_value", "story", "no remote or no story document");
	struct call c = {.r = r,
	                 .deadline_ns = sv_time_mono_ns() + (int64_t)r->timeout_ms * 1000000};
	char *body = NULL;
	if (pick_style(story, style, &style, err) < 0 ||
	    !(body = prompt_body(story, catalog, index, style, err)))
		return -1;
	c.h = curl_easy_init();
	int rc =
	    c.h ? draw_remote(&c, body, png, err) : sv_err_set(err, "nomem", "", "out of memory");
	curl_easy_cleanup(c.h);
	free(body);
	return rc;
}
