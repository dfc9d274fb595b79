/*
 * sv_story_generate: plan, realise, and assemble the story document.
 *
 * The document holds nothing but what the parameters determine (no clock, no
 * random ids), and sv_story_dump writes it one canonical way, so the same
 * parameters and seed always give the same bytes. The format is described in
 * docs/story-format.md.
 */
#include "story/internal.h"

#include <stdlib.h>
#include <string.h>

#define STORY_FORMAT 1

/* What the illustrator needs for a page: the beat's setting, without its story bookkeeping. */
static json_t *scene_json(const struct sv_plan *pl, const struct sv_beat *b)
{
	json_t *beat = sv_story_plan_beat_json(pl, b);
	if (!beat)
		return NULL;
	json_t *scene = json_pack(
	    "{s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "place", json_object_get(beat, "place"), "place_name",
	    json_object_get(beat, "place_name"), "cast", json_object_get(beat, "cast"), "mood",
	    json_object_get(beat, "mood"), "time_of_day", json_object_get(beat, "time_of_day"),
	    "objects", json_object_get(beat, "objects"), "universe",
	    json_object_get(beat, "universe"));
	json_decref(beat);
	return scene;
}

/* Who says what on a page: [{"start","end","speaker"}], byte offsets into its text. */
static json_t *spans_json(const struct sv_page *pg)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < pg->n_spans; i++) {
		const struct sv_span *sp = &pg->spans[i];
		json_t *one = json_pack("{s:i,s:i,s:s}", "start", sp->start, "end", sp->end,
		                        "speaker", sv_story_role_names[sp->role]);
		if (json_array_append_new(arr, one) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *page_json(const struct sv_plan *pl, const struct sv_page *pg, int number)
{
	const struct sv_beat *b = &pl->beats[pg->beat];
	json_t *o =
	    json_pack("{s:i,s:s,s:i,s:s,s:i,s:o*,s:o*}", "number", number, "beat",
	              sv_story_beat_names[b->kind], "plan_index", pg->beat, "text", pg->text,
	              "words", pg->words, "scene", scene_json(pl, b), "spans", spans_json(pg));
	if (o && json_object_size(o) == 7 && b->chapter &&
	    (json_object_set_new(o, "chapter", json_integer(b->chapter)) < 0 ||
	     (pg->chapter_title &&
	      json_object_set_new(o, "chapter_title", json_string(pg->chapter_title)) < 0)))
		return json_decref(o), NULL;
	return o;
}

/* The table of contents of a story in chapters: [] for one that has none. */
static json_t *chapters_json(const struct sv_pages *pages)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < pages->n; i++) {
		if (pages->v[i].chapter_title &&
		    json_array_append_new(arr, json_pack("{s:I,s:s,s:i}", "number",
		                                         (json_int_t)json_array_size(arr) + 1,
		                                         "title", pages->v[i].chapter_title,
		                                         "first_page", i + 1)) < 0)
			return json_decref(arr), NULL;
	}
	return arr;
}

static json_t *plan_json(const struct sv_plan *pl)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < pl->n_beats; i++) {
		if (json_array_append_new(arr, sv_story_plan_beat_json(pl, &pl->beats[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *pages_json(const struct sv_plan *pl, const struct sv_pages *pages,
                          sv_story_progress_fn progress, void *ctx, int *words)
{
	json_t *arr = json_array();
	*words = 0;
	for (int i = 0; arr && i < pages->n; i++) {
		json_t *pg = page_json(pl, &pages->v[i], i + 1);
		if (!pg || json_array_append_new(arr, pg) < 0) {
			json_decref(arr);
			return NULL;
		}
		*words += pages->v[i].words;
		if (progress)
			progress(ctx, i + 1, pages->n);
	}
	return arr;
}

/* Copies, not references: a story never shares nodes with the catalog. */
static json_t *universe_json(const struct sv_universe *u)
{
	return json_pack("{s:s,s:s,s:s,s:o*}", "id", u->id, "name", u->name, "tone",
	                 json_string_value(json_object_get(u->obj, "tone")), "palette",
	                 json_deep_copy(json_object_get(u->obj, "palette")));
}

/* Every catalog universe of the story (one, or a fusion's two, or a journey's stops). */
static json_t *universes_json(const struct sv_plan *pl)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < pl->n_worlds; i++) {
		if (json_array_append_new(arr, universe_json(pl->worlds[i])) < 0)
			return json_decref(arr), NULL;
	}
	return arr;
}

/* The setting: a fusion's merged universe says what it was made from. */
static json_t *setting_json(const struct sv_plan *pl)
{
	json_t *u = universe_json(pl->u);
	if (u && pl->mode == MODE_FUSION &&
	    json_object_set_new(u, "from",
	                        json_pack("[s,s]", pl->worlds[0]->id, pl->worlds[1]->id)) < 0)
		return json_decref(u), NULL;
	return u;
}

/* A series: this episode's number, the thread it leaves open, and (from the
 * second episode on) the one it continues. */
static int add_series(const struct sv_plan *pl, json_t *doc)
{
	const struct sv_story_previous *pv = &pl->p->previous;
	json_t *thread = json_pack("{s:s,s:s}", "kind", pl->thread_kind, "what", pl->thread_what);
	if (thread && pl->thread_place &&
	    json_object_set_new(thread, "place", json_string(pl->thread_place->id)) < 0)
		json_decref(thread), thread = NULL;
	int bad = json_object_set_new(doc, "episode", json_integer(pv->episode + 1)) < 0 ||
	          json_object_set_new(doc, "thread", thread) < 0;
	if (!bad && pv->episode > 0)
		bad = json_object_set_new(
		          doc, "previous",
		          json_pack("{s:i,s:s}", "episode", pv->episode, "title", pv->title)) < 0;
	return bad ? -1 : 0;
}

static json_t *assemble(const struct sv_plan *pl, const char *title, const struct sv_pages *pages,
                        sv_story_progress_fn progress, void *ctx)
{
	int words = 0;
	json_t *pages_arr = pages_json(pl, pages, progress, ctx, &words);
	json_t *doc = json_pack(
	    "{s:i,s:s,s:s,s:o*,s:o*,s:o*,s:o*,s:o*,s:o*,s:i}", "format", STORY_FORMAT, "language",
	    pl->c->lang, "title", title, "parameters", sv_story_params_to_json(pl->p), "universe",
	    setting_json(pl), "universes", universes_json(pl), "cast", sv_story_plan_cast_json(pl),
	    "plan", plan_json(pl), "pages", pages_arr, "word_count", words);
	if (doc && (json_object_size(doc) != 10 || add_series(pl, doc) < 0 ||
	            json_object_set_new(doc, "chapters", chapters_json(pages)) < 0)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

json_t *sv_story_generate(const struct sv_catalog *c, const struct sv_story_params *p,
                          sv_story_progress_fn progress, void *ctx, struct sv_err *err)
{
	struct sv_story_params params = *p; /* validated again, so a bad value never gets in */
	if (sv_story_params_validate(c, &params, err) < 0)
		return NULL;
	struct sv_plan pl;
	if (sv_story_plan_build(c, &params, &pl, err) < 0)
		return NULL;
	char *title = NULL;
	struct sv_pages pages;
	json_t *doc = NULL;
	if (sv_story_realise(&pl, &title, &pages, err) == 0) {
		doc = assemble(&pl, title, &pages, progress, ctx);
		if (!doc)
			sv_err_set(err, "nomem", "", "out of memory assembling the story");
		free(title);
		sv_story_pages_free(&pages);
	}
	sv_story_plan_free(&pl);
	return doc;
}

char *sv_story_dump(const json_t *story)
{
	char *s = json_dumps(story, JSON_SORT_KEYS | JSON_INDENT(2));
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = realloc(s, n + 2);
	if (!out) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}
