/*
 * Unit tests for story: the catalog and its checks on data files, parameters
 * and their error messages, and generation (coverage of every id, length
 * ranges, determinism, voices, visitors, progress, speed).
 */
#include "story/internal.h"
#include "story/story.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "story_support.h"

/* ---- helpers ---- */

static json_t *must_parse(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, je.text);
	return v;
}

static json_t *story_for(const struct sv_story_params *p)
{
	struct sv_err err = {0};
	json_t *s = sv_story_generate(cat, p, NULL, NULL, &err);
	if (!s)
		fail_msg("generate %s/%s/%s/%s/%s/%s: %s", p->universe, p->hero, p->theme, p->moral,
		         p->age, p->length, err.message);
	return s;
}

static void params_of(struct sv_story_params *p, const char *universe, const char *hero,
                      uint64_t seed)
{
	struct sv_err err;
	sv_story_params_init(p);
	snprintf(p->universe, sizeof(p->universe), "%s", universe);
	snprintf(p->hero, sizeof(p->hero), "%s", hero);
	p->seed = seed;
	assert_int_equal(sv_story_params_validate(cat, p, &err), 0);
}

static const json_t *find_by_id(const json_t *arr, const char *id)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			return v;
	}
	return NULL;
}

/* ---- the catalog ---- */

static void assert_entries(const json_t *arr, size_t min, const char *const *fields)
{
	assert_true(json_array_size(arr) >= min);
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		for (const char *const *f = fields; *f; f++)
			assert_non_null(json_object_get(v, *f));
		assert_string_equal(json_string_value(json_object_get(v, "language")), "en");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(
			    json_string_value(json_object_get(v, "id")),
			    json_string_value(json_object_get(json_array_get(arr, j), "id")));
	}
}

static void catalog_has_the_minimums(void **state)
{
	static const char *const ufields[] = {"id",         "name",   "description", "tone",
	                                      "palette",    "places", "objects",     "creatures",
	                                      "vocabulary", NULL};
	static const char *const cfields[] = {"id",     "name",   "universe", "species", "looks",
	                                      "traits", "speech", "voice",    "pronoun", NULL};
	static const char *const tfields[] = {"id", "name", "description", NULL};
	json_t *doc = sv_story_catalog_json(cat);
	assert_string_equal(json_string_value(json_object_get(doc, "language")), "en");
	const json_t *unis = json_object_get(doc, "universes");
	const json_t *chars = json_object_get(doc, "characters");
	assert_entries(unis, 8, ufields);
	assert_entries(chars, 32, cfields);
	assert_entries(json_object_get(doc, "themes"), 6, tfields);
	assert_entries(json_object_get(doc, "morals"), 7, tfields);
	size_t i;
	const json_t *u;
	json_array_foreach(unis, i, u)
	{
		assert_true(json_array_size(json_object_get(u, "places")) >= 3);
		assert_true(json_array_size(json_object_get(u, "palette")) >= 3);
		int members = 0;
		size_t k;
		const json_t *ch;
		json_array_foreach(chars, k, ch) members +=
		    strcmp(json_string_value(json_object_get(ch, "universe")),
		           json_string_value(json_object_get(u, "id"))) == 0;
		assert_true(members >= 4);
	}
	static const char *const ages[] = {"3-5", "6-8", "9-12"};
	static const char *const lengths[] = {"bedtime", "chapter", "epic"};
	for (int k = 0; k < 3; k++) {
		assert_non_null(find_by_id(json_object_get(doc, "ages"), ages[k]));
		assert_non_null(find_by_id(json_object_get(doc, "lengths"), lengths[k]));
	}
	json_decref(doc);
}

static void catalog_json_is_a_fresh_copy(void **state)
{
	json_t *a = sv_story_catalog_json(cat);
	json_object_clear(a);
	json_t *b = sv_story_catalog_json(cat);
	assert_true(json_array_size(json_object_get(b, "universes")) >= 4);
	json_decref(a);
	json_decref(b);
}

static void catalog_unknown_language_is_an_error(void **state)
{
	struct sv_err err = {0};
	assert_null(sv_story_catalog_new("xx", &err));
	assert_string_equal(err.code, "invalid_data");
	assert_non_null(strstr(err.message, "data/xx/"));
	assert_null(sv_story_catalog_new("../etc", &err));
	assert_string_equal(err.field, "language");
	assert_null(sv_story_catalog_new(NULL, &err));
}

/* A loader that serves the embedded files, except one replaced (or removed). */
struct fake_files {
	const char *name; /* e.g. "data/en/themes.json" */
	char *text;       /* NULL: the file is missing */
};

static int fake_file(void *ctx, const char *name, const char **data, size_t *len)
{
	struct fake_files *f = ctx;
	if (strcmp(name, f->name) == 0) {
		if (!f->text)
			return -1;
		*data = f->text;
		*len = strlen(f->text);
		return 0;
	}
	const struct sv_asset *a = sv_asset_find(name);
	if (!a)
		return -1;
	*data = (const char *)a->data;
	*len = a->len;
	return 0;
}

static json_t *asset_json(const char *name)
{
	const struct sv_asset *a = sv_asset_find(name);
	assert_non_null(a);
	json_t *doc = json_loadb((const char *)a->data, a->len, 0, NULL);
	assert_non_null(doc);
	return doc;
}

typedef void (*mutate_fn)(json_t *doc);

static const char *load_mutated(const char *file, mutate_fn mutate, struct sv_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "data/en/%s.json", file);
	json_t *doc = asset_json(path);
	mutate(doc);
	struct fake_files f = {path, json_dumps(doc, 0)};
	json_decref(doc);
	struct sv_catalog *c = sv_story_catalog_load("en", fake_file, &f, err);
	free(f.text);
	assert_null(c);
	return err->message;
}

static json_t *nth_entry(json_t *doc, const char *list, size_t i)
{
	return json_array_get(json_object_get(doc, list), i);
}

static void dup_universe(json_t *doc)
{
	json_object_set_new(nth_entry(doc, "universes", 1), "id", json_string("meadow"));
}
static void orphan_character(json_t *doc)
{
	json_object_set_new(nth_entry(doc, "characters", 0), "universe", json_string("mars"));
}
static void nameless_character(json_t *doc)
{
	json_object_del(nth_entry(doc, "characters", 2), "name");
}
static void lonely_universe(json_t *doc)
{
	/* the first two characters live in meadow: leave it too few */
	json_array_remove(json_object_get(doc, "characters"), 0);
	json_array_remove(json_object_get(doc, "characters"), 0);
}
static void bad_pronoun(json_t *doc)
{
	json_object_set_new(nth_entry(doc, "characters", 0), "pronoun", json_string("xe"));
}
static void misspelt_token(json_t *doc)
{
	json_t *moves = json_object_get(doc, "moves");
	json_object_set_new(moves, "sense", json_pack("[s]", "{Childd} looked around."));
}
static void unknown_move(json_t *doc)
{
	json_t *script =
	    json_object_get(json_object_get(json_object_get(doc, "beats"), "closing"), "script");
	json_array_append_new(script, json_string("dance_party"));
}
static void unknown_condition(json_t *doc)
{
	json_t *script =
	    json_object_get(json_object_get(json_object_get(doc, "beats"), "opening"), "script");
	json_array_append_new(script, json_pack("{s:s,s:s}", "m", "sense", "if", "raining"));
}
static void theme_without_obstacles(json_t *doc)
{
	json_object_del(nth_entry(doc, "themes", 0), "obstacles");
}
static void wrong_language(json_t *doc)
{
	json_object_set_new(doc, "language", json_string("fr"));
}
static void min_above_max(json_t *doc)
{
	json_object_set_new(nth_entry(doc, "lengths", 0), "min", json_integer(5000));
}
static void bad_palette(json_t *doc)
{
	json_array_set_new(json_object_get(nth_entry(doc, "universes", 0), "palette"), 0,
	                   json_string("green"));
}
static void moral_without_choice(json_t *doc)
{
	json_object_del(nth_entry(doc, "morals", 1), "choose");
}

static void catalog_rejects_bad_data(void **state)
{
	static const struct {
		const char *file;
		mutate_fn mutate;
		const char *expect;
	} cases[] = {
	    {"universes", dup_universe, "universe id 'meadow' is used twice"},
	    {"universes", bad_palette, "palette[0]"},
	    {"characters", orphan_character, "universe 'mars' does not exist"},
	    {"characters", nameless_character, "characters[2]: 'name'"},
	    {"characters", lonely_universe, "needs at least 3"},
	    {"characters", bad_pronoun, "pronoun 'xe'"},
	    {"beats", misspelt_token, "unknown token '{Childd}'"},
	    {"beats", unknown_move, "unknown move 'dance_party'"},
	    {"beats", unknown_condition, "unknown condition"},
	    {"themes", theme_without_obstacles, "'obstacles'"},
	    {"morals", moral_without_choice, "missing 'choose'"},
	    {"options", min_above_max, "'min' <= 'words' <= 'max'"},
	    {"universes", wrong_language, "'language' must be \"en\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sv_err err = {0};
		const char *msg = load_mutated(cases[i].file, cases[i].mutate, &err);
		if (!strstr(msg, cases[i].expect))
			fail_msg("case %zu: '%s' does not mention '%s'", i, msg, cases[i].expect);
		assert_string_equal(err.code, "invalid_data");
		assert_non_null(strstr(msg, cases[i].file));
	}
}

static void catalog_rejects_broken_and_missing_files(void **state)
{
	struct sv_err err = {0};
	struct fake_files broken = {"data/en/themes.json", "{\"language\": \"en\", \"themes\": ["};
	assert_null(sv_story_catalog_load("en", fake_file, &broken, &err));
	assert_non_null(strstr(err.message, "data/en/themes.json: line 1"));
	struct fake_files missing = {"data/en/options.json", NULL};
	assert_null(sv_story_catalog_load("en", fake_file, &missing, &err));
	assert_non_null(strstr(err.message, "options.json: file not found"));
	struct fake_files not_object = {"data/en/morals.json", "[1, 2]"};
	assert_null(sv_story_catalog_load("en", fake_file, &not_object, &err));
	assert_non_null(strstr(err.message, "must be an object"));
}

/* ---- parameters ---- */

static int from_json(const char *text, struct sv_story_params *p, int *seed_given,
                     struct sv_err *err)
{
	json_t *obj = must_parse(text);
	int rc = sv_story_params_from_json(cat, obj, p, seed_given, err);
	json_decref(obj);
	return rc;
}

static void params_fill_defaults(void **state)
{
	struct sv_story_params p;
	struct sv_err err;
	int given = -1;
	sv_story_params_init(&p);
	p.seed = 1234; /* a caller's fresh seed survives a request without one */
	assert_int_equal(from_json("{\"universe\":\"meadow\",\"hero\":\"pip\"}", &p, &given, &err),
	                 0);
	assert_int_equal(given, 0);
	assert_int_equal(p.seed, 1234);
	assert_string_equal(p.age, "6-8");
	assert_string_equal(p.length, "bedtime");
	assert_string_equal(p.child_name, "Sam");
	const struct sv_character *side = sv_story_find_character(cat, p.sidekick);
	assert_non_null(side);
	assert_string_not_equal(p.sidekick, "pip");
	assert_string_equal(side->home->id, "meadow");
	assert_non_null(sv_story_find_theme(cat, p.theme));
	assert_non_null(sv_story_find_moral(cat, p.moral));

	struct sv_story_params q;
	sv_story_params_init(&q);
	q.seed = 1234;
	assert_int_equal(from_json("{\"universe\":\"meadow\",\"hero\":\"pip\"}", &q, NULL, &err),
	                 0);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void params_defaults_follow_the_seed(void **state)
{
	int themes = 0, morals = 0, sidekicks = 0;
	char first_theme[SV_STORY_ID_MAX], first_moral[SV_STORY_ID_MAX],
	    first_side[SV_STORY_ID_MAX];
	for (uint64_t seed = 0; seed < 40; seed++) {
		struct sv_story_params p;
		params_of(&p, "sea", "finn", seed);
		if (seed == 0) {
			strcpy(first_theme, p.theme);
			strcpy(first_moral, p.moral);
			strcpy(first_side, p.sidekick);
		}
		themes |= strcmp(first_theme, p.theme) != 0;
		morals |= strcmp(first_moral, p.moral) != 0;
		sidekicks |= strcmp(first_side, p.sidekick) != 0;
	}
	assert_true(themes && morals && sidekicks);
}

static void params_take_every_member(void **state)
{
	struct sv_story_params p;
	struct sv_err err;
	int given = 0;
	sv_story_params_init(&p);
	assert_int_equal(
	    from_json("{\"universe\":\"snow\",\"hero\":\"tula\",\"sidekick\":\"comet\","
	              "\"theme\":\"rescue\",\"moral\":\"courage\",\"age\":\"3-5\","
	              "\"length\":\"chapter\",\"child_name\":\"  Zoë   Ann \",\"seed\":77}",
	              &p, &given, &err),
	    0);
	assert_int_equal(given, 1);
	assert_string_equal(p.sidekick, "comet");
	assert_string_equal(p.theme, "rescue");
	assert_string_equal(p.moral, "courage");
	assert_string_equal(p.age, "3-5");
	assert_string_equal(p.length, "chapter");
	assert_string_equal(p.child_name, "Zoë Ann");
	assert_int_equal(p.seed, 77);

	/* to_json and back gives the same parameters */
	json_t *j = sv_story_params_to_json(&p);
	struct sv_story_params q;
	sv_story_params_init(&q);
	assert_int_equal(sv_story_params_from_json(cat, j, &q, &given, &err), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	json_decref(j);
}

static void params_accept_good_names(void **state)
{
	static const char *const names[] = {
	    "Mary-Jane O'Neil",
	    "José",
	    "Łucja",
	    "Søren",
	    "Jean-Luc",
	    "さくら",
	    "St. John",
	    "D\u2019Arcy",
	    "Amélie Zoë",
	    "Олег",
	    "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* exactly 40 bytes */
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct sv_story_params p;
		struct sv_err err = {0};
		params_of(&p, "meadow", "pip", 1);
		snprintf(p.child_name, sizeof(p.child_name), "%s", names[i]);
		if (sv_story_params_validate(cat, &p, &err) != 0)
			fail_msg("'%s' rejected: %s", names[i], err.message);
		assert_string_equal(p.child_name, names[i]);
	}
}

static void params_errors_name_the_field(void **state)
{
	static const struct {
		const char *json;
		const char *code, *field, *mentions;
	} cases[] = {
	    {"{\"hero\":\"pip\"}", "missing_field", "universe", "meadow"},
	    {"{\"universe\":\"meadow\"}", "missing_field", "hero", "pip"},
	    {"{\"universe\":null,\"hero\":\"pip\"}", "missing_field", "universe", "required"},
	    {"{\"universe\":\"mars\",\"hero\":\"pip\"}", "unknown_id", "universe",
	     "unknown universe 'mars' (choose one of: meadow, sea"},
	    {"{\"universe\":\"meadow\",\"hero\":\"bob\"}", "unknown_id", "hero", "pip"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"sidekick\":\"x\"}", "unknown_id",
	     "sidekick", "bramble"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"sidekick\":\"pip\"}", "invalid_value",
	     "sidekick", "different"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"theme\":\"war\"}", "unknown_id", "theme",
	     "mystery"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"moral\":\"greed\"}", "unknown_id",
	     "moral", "kindness"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"age\":\"1-2\"}", "unknown_id", "age",
	     "3-5, 6-8, 9-12"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"length\":\"novel\"}", "unknown_id",
	     "length", "bedtime, chapter, epic"},
	    {"{\"universe\":5,\"hero\":\"pip\"}", "invalid_type", "universe", "string"},
	    {"{\"universe\":\"meadow\",\"hero\":[\"pip\"]}", "invalid_type", "hero", "string"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"seed\":\"12\"}", "invalid_type", "seed",
	     "whole number"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"seed\":1.5}", "invalid_type", "seed",
	     "whole number"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"seed\":-1}", "invalid_value", "seed",
	     "9007199254740991"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"seed\":9007199254740992}",
	     "invalid_value", "seed", "0 to"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":7}", "invalid_type",
	     "child_name", "string"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"\"}", "invalid_value",
	     "child_name", "letter"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"   \"}", "invalid_value",
	     "child_name", "letter"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"-.'\"}", "invalid_value",
	     "child_name", "letter"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":"
	     "\"Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	     "invalid_value", "child_name", "40"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"Sam<b>\"}",
	     "invalid_value", "child_name", "letters"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"Bob\\n\"}",
	     "invalid_value", "child_name", "letters"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"R2D2\"}", "invalid_value",
	     "child_name", "letters"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"Sam\\ud83d\\ude00\"}",
	     "invalid_value", "child_name", "letters"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"A\\u0000B\"}",
	     "invalid_value", "child_name", "letters"},
	    {"{\"universe\":\"meadow\",\"hero\":\"pip\",\"colour\":\"red\"}", "unknown_field",
	     "colour", "allowed: universe, hero"},
	    {"[\"meadow\"]", "invalid_type", "", "object"},
	    {"{\"universe\":\"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm\","
	     "\"hero\":\"pip\"}",
	     "unknown_id", "universe", "..."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sv_story_params p;
		struct sv_err err = {0};
		sv_story_params_init(&p);
		if (from_json(cases[i].json, &p, NULL, &err) != -1)
			fail_msg("case %zu (%s) was accepted", i, cases[i].json);
		if (strcmp(err.code, cases[i].code) || strcmp(err.field, cases[i].field) ||
		    !strstr(err.message, cases[i].mentions))
			fail_msg("case %zu (%s): got %s/%s '%s'", i, cases[i].json, err.code,
			         err.field, err.message);
	}
}

static void params_validate_checks_c_callers(void **state)
{
	struct sv_story_params p;
	struct sv_err err = {0};
	params_of(&p, "meadow", "pip", 1);
	snprintf(p.child_name, sizeof(p.child_name), "\xff\xfe");
	assert_int_equal(sv_story_params_validate(cat, &p, &err), -1);
	assert_string_equal(err.field, "child_name");
	assert_non_null(strstr(err.message, "UTF-8"));
	params_of(&p, "meadow", "pip", 1);
	p.seed = SV_STORY_SEED_MAX + 1;
	assert_int_equal(sv_story_params_validate(cat, &p, &err), -1);
	assert_string_equal(err.field, "seed");
	/* generate re-validates, so bad parameters never reach the planner */
	params_of(&p, "meadow", "pip", 1);
	strcpy(p.universe, "mars");
	assert_null(sv_story_generate(cat, &p, NULL, NULL, &err));
	assert_string_equal(err.code, "unknown_id");
}

/* ---- generation ---- */

static void check_pages(const json_t *story, const struct sv_story_params *p)
{
	const json_t *pages = json_object_get(story, "pages");
	const json_t *plan = json_object_get(story, "plan");
	int words = 0;
	size_t i;
	const json_t *pg;
	assert_true(json_array_size(pages) >= json_array_size(plan));
	json_array_foreach(pages, i, pg)
	{
		const char *text = json_string_value(json_object_get(pg, "text"));
		assert_int_equal(json_integer_value(json_object_get(pg, "number")),
		                 (json_int_t)i + 1);
		assert_non_null(text);
		assert_true(strlen(text) > 10);
		if (strpbrk(text, "{}") || strstr(text, "  ") || strstr(text, " ,") ||
		    strstr(text, " ."))
			fail_msg("page %zu of %s/%s/%s: bad text: %s", i + 1, p->universe, p->hero,
			         p->length, text);
		assert_int_equal(sv_story_count_words(text),
		                 json_integer_value(json_object_get(pg, "words")));
		words += sv_story_count_words(text);
		const json_t *scene = json_object_get(pg, "scene");
		assert_non_null(json_object_get(scene, "place"));
		assert_true(json_array_size(json_object_get(scene, "cast")) >= 3);
		assert_true(json_array_size(json_object_get(scene, "objects")) >= 2);
	}
	assert_int_equal(json_integer_value(json_object_get(story, "word_count")), words);
}

static void check_plan(const json_t *story, const struct sv_story_params *p)
{
	const struct sv_length *len = sv_story_find_length(cat, p->length);
	const json_t *plan = json_object_get(story, "plan");
	size_t n = json_array_size(plan);
	assert_string_equal(json_string_value(json_object_get(json_array_get(plan, 0), "beat")),
	                    "opening");
	assert_string_equal(json_string_value(json_object_get(json_array_get(plan, n - 1), "beat")),
	                    "closing");
	int obstacles = 0, want = 0, last_size = 0, choice = 0;
	size_t i;
	const json_t *b;
	json_array_foreach(plan, i, b)
	{
		const char *kind = json_string_value(json_object_get(b, "beat"));
		const json_t *ob = json_object_get(b, "obstacle");
		if (strcmp(kind, "obstacle") == 0) {
			int size = (int)json_integer_value(json_object_get(ob, "size"));
			assert_true(size >= last_size); /* obstacles grow */
			last_size = size;
			obstacles++;
		}
		choice += strcmp(kind, "choice") == 0;
		const struct sv_universe *u = sv_story_find_universe(cat, p->universe);
		int place_ok = 0;
		for (size_t k = 0; k < u->n_places; k++)
			place_ok |= strcmp(u->places[k].id,
			                   json_string_value(json_object_get(b, "place"))) == 0;
		assert_true(place_ok);
		assert_non_null(json_object_get(b, "mood"));
		assert_non_null(json_object_get(b, "time_of_day"));
	}
	for (int a = 0; a < len->acts; a++)
		want += len->obstacles[a];
	assert_int_equal(obstacles, want);
	assert_int_equal(choice, 1);
	assert_int_equal(json_array_size(json_object_get(story, "cast")), ROLE_FRIEND + 1);
}

static void check_story(const json_t *story, const struct sv_story_params *p)
{
	const struct sv_length *len = sv_story_find_length(cat, p->length);
	assert_int_equal(json_integer_value(json_object_get(story, "format")), 1);
	assert_string_equal(json_string_value(json_object_get(story, "language")), "en");
	assert_true(strlen(json_string_value(json_object_get(story, "title"))) > 3);
	check_pages(story, p);
	check_plan(story, p);
	json_int_t words = json_integer_value(json_object_get(story, "word_count"));
	if (words < len->min_words || words > len->max_words)
		fail_msg("%s/%s/%s/%s/%s: %lld words, not in %d..%d", p->universe, p->hero,
		         p->theme, p->moral, p->age, (long long)words, len->min_words,
		         len->max_words);
	char *text = sv_test_all_text(story);
	if (!strstr(text, p->child_name))
		fail_msg("child's name '%s' is missing", p->child_name);
	free(text);
}

/* Every universe with every hero, the other choices rotating. */
static void generate_every_universe_and_hero(void **state)
{
	int k = 0;
	for (size_t u = 0; u < cat->n_universes; u++) {
		for (size_t h = 0; h < cat->n_characters; h++, k++) {
			struct sv_story_params p;
			sv_story_params_init(&p);
			strcpy(p.universe, cat->universes[u].id);
			strcpy(p.hero, cat->characters[h].id);
			strcpy(p.theme, cat->themes[k % cat->n_themes].id);
			strcpy(p.moral, cat->morals[k % cat->n_morals].id);
			strcpy(p.age, cat->ages[k % cat->n_ages].id);
			strcpy(p.length, cat->lengths[(k / 7) % cat->n_lengths].id);
			p.seed = (uint64_t)k * 977;
			struct sv_err err;
			assert_int_equal(sv_story_params_validate(cat, &p, &err), 0);
			json_t *s = story_for(&p);
			check_story(s, &p);
			json_decref(s);
		}
	}
}

/* Every theme, moral, age and length together, the cast rotating. */
static void generate_every_theme_moral_age_length(void **state)
{
	int k = 0;
	for (size_t t = 0; t < cat->n_themes; t++)
		for (size_t m = 0; m < cat->n_morals; m++)
			for (size_t a = 0; a < cat->n_ages; a++)
				for (size_t l = 0; l < cat->n_lengths; l++, k++) {
					struct sv_story_params p;
					sv_story_params_init(&p);
					const struct sv_character *h =
					    &cat->characters[k % cat->n_characters];
					strcpy(p.universe, cat->universes[k % cat->n_universes].id);
					strcpy(p.hero, h->id);
					strcpy(p.theme, cat->themes[t].id);
					strcpy(p.moral, cat->morals[m].id);
					strcpy(p.age, cat->ages[a].id);
					strcpy(p.length, cat->lengths[l].id);
					strcpy(p.child_name, k % 2 ? "Noor" : "Ana-Lucía");
					p.seed = (uint64_t)k * 131 + 7;
					struct sv_err err;
					assert_int_equal(sv_story_params_validate(cat, &p, &err),
					                 0);
					json_t *s = story_for(&p);
					check_story(s, &p);
					json_decref(s);
				}
}

/* Checks a story's table of contents against its pages; returns the chapter count. */
static size_t check_chapters(const json_t *story)
{
	const json_t *chapters = json_object_get(story, "chapters");
	const json_t *pages = json_object_get(story, "pages");
	assert_true(json_is_array(chapters));
	size_t i;
	const json_t *ch;
	json_array_foreach(chapters, i, ch)
	{
		assert_int_equal(json_integer_value(json_object_get(ch, "number")),
		                 (json_int_t)i + 1);
		const char *title = json_string_value(json_object_get(ch, "title"));
		assert_non_null(title);
		assert_true(strlen(title) > 3 && strchr(title, '{') == NULL);
		json_int_t first = json_integer_value(json_object_get(ch, "first_page"));
		const json_t *pg = json_array_get(pages, (size_t)first - 1);
		assert_non_null(pg);
		assert_string_equal(json_string_value(json_object_get(pg, "chapter_title")), title);
		assert_int_equal(json_integer_value(json_object_get(pg, "chapter")),
		                 (json_int_t)i + 1);
	}
	/* every page belongs to the chapter most recently begun */
	json_int_t current = 0;
	const json_t *pg;
	json_array_foreach(pages, i, pg)
	{
		json_int_t n = json_integer_value(json_object_get(pg, "chapter"));
		assert_true(n == current || n == current + 1);
		current = n;
	}
	assert_int_equal(current, (json_int_t)json_array_size(chapters));
	return json_array_size(chapters);
}

static void longer_stories_come_in_chapters(void **state)
{
	static const struct {
		const char *length;
		size_t min, max;
	} want[] = {{"bedtime", 0, 0}, {"chapter", 3, 6}, {"epic", 6, 12}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (uint64_t seed = 1; seed <= 4; seed++) {
			struct sv_story_params p;
			params_of(&p, "desert", "saffi", seed);
			snprintf(p.length, sizeof(p.length), "%s", want[i].length);
			json_t *s = story_for(&p);
			size_t n = check_chapters(s);
			assert_true(n >= want[i].min && n <= want[i].max);
			json_decref(s);
		}
	}
}

static void generate_is_deterministic(void **state)
{
	struct sv_story_params p;
	params_of(&p, "space", "comet", 2024);
	json_t *a = story_for(&p);
	json_t *b = story_for(&p);
	char *da = sv_story_dump(a), *db = sv_story_dump(b);
	assert_string_equal(da, db);
	/* a second catalog loaded from the same data agrees too */
	struct sv_err err;
	struct sv_catalog *other = sv_story_catalog_new("en", &err);
	json_t *c = sv_story_generate(other, &p, NULL, NULL, &err);
	char *dc = sv_story_dump(c);
	assert_string_equal(da, dc);
	free(da);
	free(db);
	free(dc);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	sv_story_catalog_free(other);
}

static void different_seeds_give_different_text(void **state)
{
	struct sv_story_params p;
	params_of(&p, "sea", "marlo", 1);
	strcpy(p.theme, "mystery");
	strcpy(p.moral, "sharing");
	json_t *a = story_for(&p);
	p.seed = 2;
	json_t *b = story_for(&p);
	char *ta = sv_test_all_text(a), *tb = sv_test_all_text(b);
	assert_string_not_equal(ta, tb);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
}

static void the_child_name_changes_only_the_name(void **state)
{
	struct sv_story_params p;
	params_of(&p, "kingdom", "mo", 5);
	json_t *a = story_for(&p);
	strcpy(p.child_name, "Priya");
	json_t *b = story_for(&p);
	char *tb = sv_test_all_text(b);
	assert_non_null(strstr(tb, "Priya"));
	assert_null(strstr(tb, "Sam"));
	assert_true(json_equal(json_object_get(a, "plan"), json_object_get(b, "plan")));
	free(tb);
	json_decref(a);
	json_decref(b);
}

static void dump_is_canonical(void **state)
{
	struct sv_story_params p;
	params_of(&p, "meadow", "bramble", 9);
	json_t *s = story_for(&p);
	char *d = sv_story_dump(s);
	size_t n = strlen(d);
	assert_true(n > 100 && d[n - 1] == '\n' && d[n - 2] == '}');
	assert_true(strstr(d, "\"cast\"") < strstr(d, "\"format\"")); /* sorted keys */
	assert_true(strstr(d, "\n  \"format\": 1,") != NULL);         /* two-space indent */
	json_t *back = json_loads(d, 0, NULL);
	assert_true(json_equal(s, back));
	free(d);
	json_decref(back);
	json_decref(s);
}

static void a_visitor_hero_comes_from_home(void **state)
{
	struct sv_story_params p;
	params_of(&p, "sea", "pip", 3);
	strcpy(p.sidekick, "zuzu"); /* a visitor too */
	json_t *s = story_for(&p);
	check_story(s, &p);
	const json_t *hero = json_array_get(json_object_get(s, "cast"), ROLE_HERO);
	const json_t *side = json_array_get(json_object_get(s, "cast"), ROLE_SIDEKICK);
	assert_string_equal(json_string_value(json_object_get(hero, "id")), "pip");
	assert_true(json_is_true(json_object_get(hero, "visitor")));
	assert_string_equal(json_string_value(json_object_get(hero, "home")), "meadow");
	assert_true(json_is_true(json_object_get(side, "visitor")));
	char *text = sv_test_all_text(s);
	assert_non_null(strstr(text, "Whistlewind Meadow")); /* where the hero comes from */
	assert_non_null(strstr(text, "the Lantern Sea"));    /* where the story happens */
	free(text);
	json_decref(s);
}

static void characters_speak_in_their_own_way(void **state)
{
	/* Over a few stories, Zuzu beeps or whirrs and Pemberton declares. */
	int zuzu = 0, pemberton = 0;
	for (uint64_t seed = 0; seed < 6; seed++) {
		struct sv_story_params p;
		params_of(&p, "snow", "zuzu", seed);
		strcpy(p.sidekick, "pemberton");
		json_t *s = story_for(&p);
		char *t = sv_test_all_text(s);
		zuzu += strstr(t, "Zuzu beeped") || strstr(t, "beeped Zuzu") ||
		        strstr(t, "Zuzu whirred") || strstr(t, "whirred Zuzu");
		pemberton += strstr(t, "Pemberton declared") || strstr(t, "declared Pemberton") ||
		             strstr(t, "Pemberton announced") || strstr(t, "announced Pemberton");
		free(t);
		json_decref(s);
	}
	assert_true(zuzu > 0 && pemberton > 0);
}

static double mean_sentence_words(const char *age)
{
	int words = 0, sentences = 0;
	for (uint64_t seed = 0; seed < 5; seed++) {
		struct sv_story_params p;
		params_of(&p, "space", "orla", seed);
		strcpy(p.age, age);
		json_t *s = story_for(&p);
		char *t = sv_test_all_text(s);
		words += sv_story_count_words(t);
		for (const char *c = t; *c; c++)
			sentences += (*c == '.' || *c == '!' || *c == '?') && c[1] != '.';
		free(t);
		json_decref(s);
	}
	return (double)words / sentences;
}

static void older_readers_get_longer_sentences(void **state)
{
	double young = mean_sentence_words("3-5"), old = mean_sentence_words("9-12");
	assert_true(young + 2 < old);
}

struct thread_job {
	struct sv_story_params p;
	char *dump;
};

static void *generate_in_thread(void *arg)
{
	struct thread_job *job = arg;
	struct sv_err err;
	for (int i = 0; i < 5; i++) {
		json_t *s = sv_story_generate(cat, &job->p, NULL, NULL, &err);
		free(job->dump);
		job->dump = s ? sv_story_dump(s) : NULL;
		json_decref(s);
	}
	return NULL;
}

static void one_catalog_serves_many_threads(void **state)
{
	struct thread_job jobs[4];
	pthread_t threads[4];
	for (int i = 0; i < 4; i++) {
		params_of(&jobs[i].p, "snow", "kit", 31);
		jobs[i].dump = NULL;
		assert_int_equal(pthread_create(&threads[i], NULL, generate_in_thread, &jobs[i]),
		                 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	json_t *s = story_for(&jobs[0].p);
	char *want = sv_story_dump(s);
	for (int i = 0; i < 4; i++) {
		assert_non_null(jobs[i].dump);
		assert_string_equal(jobs[i].dump, want);
		free(jobs[i].dump);
	}
	free(want);
	json_decref(s);
}

struct progress_log {
	int calls, last_done, total;
};

static void on_progress(void *ctx, int done, int total)
{
	struct progress_log *log = ctx;
	assert_int_equal(done, log->last_done + 1);
	assert_true(total >= done);
	log->calls++;
	log->last_done = done;
	log->total = total;
}

static void progress_is_called_for_each_page(void **state)
{
	struct sv_story_params p;
	struct sv_err err;
	params_of(&p, "kingdom", "percy", 11);
	strcpy(p.length, "chapter");
	struct progress_log log = {0};
	json_t *s = sv_story_generate(cat, &p, on_progress, &log, &err);
	assert_non_null(s);
	size_t pages = json_array_size(json_object_get(s, "pages"));
	assert_int_equal(log.calls, (int)pages);
	assert_int_equal(log.total, (int)pages);
	json_decref(s);
}

static void bedtime_stories_are_fast(void **state)
{
	struct sv_story_params p;
	struct sv_err err;
	params_of(&p, "meadow", "clover", 1);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 20; i++) {
		p.seed = (uint64_t)i;
		json_t *s = sv_story_generate(cat, &p, NULL, NULL, &err);
		assert_non_null(s);
		json_decref(s);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) / 20;
	if (ms >= 10.0)
		fail_msg("a bedtime story took %.2f ms on average", ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(catalog_has_the_minimums),
	    cmocka_unit_test(catalog_json_is_a_fresh_copy),
	    cmocka_unit_test(catalog_unknown_language_is_an_error),
	    cmocka_unit_test(catalog_rejects_bad_data),
	    cmocka_unit_test(catalog_rejects_broken_and_missing_files),
	    cmocka_unit_test(params_fill_defaults),
	    cmocka_unit_test(params_defaults_follow_the_seed),
	    cmocka_unit_test(params_take_every_member),
	    cmocka_unit_test(params_accept_good_names),
	    cmocka_unit_test(params_errors_name_the_field),
	    cmocka_unit_test(params_validate_checks_c_callers),
	    cmocka_unit_test(generate_every_universe_and_hero),
	    cmocka_unit_test(generate_every_theme_moral_age_length),
	    cmocka_unit_test(generate_is_deterministic),
	    cmocka_unit_test(longer_stories_come_in_chapters),
	    cmocka_unit_test(different_seeds_give_different_text),
	    cmocka_unit_test(the_child_name_changes_only_the_name),
	    cmocka_unit_test(dump_is_canonical),
	    cmocka_unit_test(a_visitor_hero_comes_from_home),
	    cmocka_unit_test(characters_speak_in_their_own_way),
	    cmocka_unit_test(older_readers_get_longer_sentences),
	    cmocka_unit_test(one_catalog_serves_many_threads),
	    cmocka_unit_test(progress_is_called_for_each_page),
	    cmocka_unit_test(bedtime_stories_are_fast),
	};
	return cmocka_run_group_tests(tests, sv_test_catalog_setup, sv_test_catalog_teardown);
}
