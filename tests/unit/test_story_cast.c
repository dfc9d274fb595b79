/*
 * Unit tests for the story options of issue 3: the cast roles (friendly
 * rival, mentor, a custom character), the child's pronouns, universe modes
 * (single, crossover, fusion, hopping), cultures and series. Each option is
 * checked in the parameters (defaults, round trips, every bad input naming its
 * field) and in the stories it makes.
 */
#include "story/internal.h"
#include "story/story.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "story_support.h"

/* ---- helpers ---- */

/* Parses a request and reads it into p; returns what sv_story_params_from_json did. */
static int from_text(const char *text, struct sv_story_params *p, struct sv_err *err)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, je.text);
	sv_story_params_init(p);
	int rc = sv_story_params_from_json(cat, v, p, NULL, err);
	json_decref(v);
	return rc;
}

static void must_read(const char *text, struct sv_story_params *p)
{
	struct sv_err err = {0};
	if (from_text(text, p, &err) != 0)
		fail_msg("%s rejected: %s (%s)", text, err.message, err.field);
}

static json_t *story_of(const char *request)
{
	struct sv_story_params p;
	struct sv_err err = {0};
	must_read(request, &p);
	json_t *s = sv_story_generate(cat, &p, NULL, NULL, &err);
	if (!s)
		fail_msg("generate %s: %s", request, err.message);
	return s;
}

/* The cast entry with this role, or NULL. */
static const json_t *cast_member(const json_t *story, const char *role)
{
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(story, "cast"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "role")), role) == 0)
			return m;
	}
	return NULL;
}

static int in_list(const json_t *arr, const char *s)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* Whether role is on stage in some beat of this kind. */
static int on_stage(const json_t *story, const char *beat, const char *role)
{
	size_t i;
	const json_t *b;
	json_array_foreach(json_object_get(story, "plan"), i, b)
	{
		if (strcmp(json_string_value(json_object_get(b, "beat")), beat) == 0 &&
		    in_list(json_object_get(b, "cast"), role))
			return 1;
	}
	return 0;
}

/* The text of every page of one kind of beat, joined. */
static char *beat_text(const json_t *story, const char *beat)
{
	struct sv_buf b;
	sv_buf_init(&b);
	sv_buf_puts(&b, "");
	size_t i;
	const json_t *pg;
	json_array_foreach(json_object_get(story, "pages"), i, pg)
	{
		if (strcmp(json_string_value(json_object_get(pg, "beat")), beat) == 0) {
			sv_buf_puts(&b, json_string_value(json_object_get(pg, "text")));
			sv_buf_puts(&b, "\n");
		}
	}
	return sv_buf_steal(&b);
}

/* Every page's text is clean: no tokens left, no doubled spaces, no space before a mark. */
static void check_clean(const json_t *story)
{
	size_t i;
	const json_t *pg;
	json_array_foreach(json_object_get(story, "pages"), i, pg)
	{
		const char *t = json_string_value(json_object_get(pg, "text"));
		if (strpbrk(t, "{}") || strstr(t, "  ") || strstr(t, " ,") || strstr(t, " ."))
			fail_msg("page %zu: bad text: %s", i + 1, t);
	}
}

/* The same request with the same seed gives the same bytes. */
static void check_deterministic(const char *request)
{
	json_t *a = story_of(request), *b = story_of(request);
	char *da = sv_story_dump(a), *db = sv_story_dump(b);
	assert_string_equal(da, db);
	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
}

/* Reading back what sv_story_params_to_json wrote gives the same parameters. */
static void check_round_trip(const char *request)
{
	struct sv_story_params p, q;
	must_read(request, &p);
	json_t *j = sv_story_params_to_json(&p);
	char *text = json_dumps(j, JSON_SORT_KEYS);
	must_read(text, &q);
	json_t *k = sv_story_params_to_json(&q);
	if (!json_equal(j, k))
		fail_msg("%s did not survive a round trip", text);
	free(text);
	json_decref(j);
	json_decref(k);
}

struct bad_case {
	const char *json;
	const char *code, *field, *mentions;
};

static void check_bad(const struct bad_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sv_story_params p;
		struct sv_err err = {0};
		if (from_text(cases[i].json, &p, &err) != -1)
			fail_msg("case %zu (%s) was accepted", i, cases[i].json);
		if (strcmp(err.code, cases[i].code) || strcmp(err.field, cases[i].field) ||
		    !strstr(err.message, cases[i].mentions))
			fail_msg("case %zu (%s): got %s/%s '%s'", i, cases[i].json, err.code,
			         err.field, err.message);
	}
}

#define MEADOW "\"universe\":\"meadow\",\"hero\":\"pip\""

/* ---- roles ---- */

static void rival_races_then_helps(void **state)
{
	json_t *s = story_of("{" MEADOW ",\"rival\":\"clover\",\"seed\":3}");
	check_clean(s);
	const json_t *rival = cast_member(s, "rival");
	assert_non_null(rival);
	assert_string_equal(json_string_value(json_object_get(rival, "id")), "clover");
	/* competes in the call and the first obstacle, is back at the low point */
	assert_true(on_stage(s, "call", "rival"));
	assert_true(on_stage(s, "obstacle", "rival"));
	assert_true(on_stage(s, "low_point", "rival"));
	char *call = beat_text(s, "call"), *low = beat_text(s, "low_point");
	assert_non_null(strstr(call, "Clover"));
	assert_non_null(strstr(low, "Clover"));
	/* the rival never solves an obstacle: they are still racing */
	size_t i;
	const json_t *b;
	json_array_foreach(json_object_get(s, "plan"), i, b)
	{
		const json_t *ob = json_object_get(b, "obstacle");
		if (ob)
			assert_string_not_equal(json_string_value(json_object_get(ob, "solved_by")),
			                        "rival");
	}
	free(call);
	free(low);
	json_decref(s);
}

static void mentor_advises_but_never_chooses(void **state)
{
	for (uint64_t seed = 0; seed < 4; seed++) {
		char req[160];
		snprintf(req, sizeof(req), "{" MEADOW ",\"mentor\":\"bramble\",\"seed\":%llu}",
		         (unsigned long long)seed);
		json_t *s = story_of(req);
		check_clean(s);
		assert_non_null(cast_member(s, "mentor"));
		assert_true(on_stage(s, "choice", "mentor"));
		assert_true(on_stage(s, "setout", "mentor"));
		/* the chooser is the hero or the child, never the mentor */
		size_t i;
		const json_t *b;
		json_array_foreach(json_object_get(s, "plan"), i, b)
		{
			const json_t *ch = json_object_get(b, "choice");
			if (ch)
				assert_string_not_equal(
				    json_string_value(json_object_get(ch, "chooser")), "mentor");
		}
		char *choice = beat_text(s, "choice");
		assert_non_null(strstr(choice, "Bramble"));
		free(choice);
		json_decref(s);
	}
}

static void custom_character_comes_along(void **state)
{
	json_t *s = story_of("{" MEADOW ",\"custom\":{\"name\":\"Zog\",\"species\":\"Baby Dragon\","
	                     "\"traits\":[\"shy\",\"Curious\"],\"pronoun\":\"he\"},\"seed\":8}");
	check_clean(s);
	const json_t *c = cast_member(s, "custom");
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "Zog");
	assert_string_equal(json_string_value(json_object_get(c, "species")), "baby dragon");
	assert_string_equal(json_string_value(json_object_get(c, "pronoun")), "he");
	assert_int_equal(json_array_size(json_object_get(c, "traits")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "traits"), 1)),
	                    "curious");
	assert_non_null(json_object_get(c, "voice"));
	assert_true(on_stage(s, "opening", "custom"));
	assert_true(on_stage(s, "obstacle", "custom"));
	char *text = sv_test_all_text(s);
	assert_non_null(strstr(text, "Zog"));
	free(text);
	json_decref(s);
}

static void every_role_at_once(void **state)
{
	static const char *const lengths[] = {"bedtime", "chapter", "epic"};
	static const char *const ages[] = {"3-5", "6-8", "9-12"};
	for (int i = 0; i < 9; i++) {
		char req[400];
		snprintf(req, sizeof(req),
		         "{\"universe\":\"sea\",\"hero\":\"marlo\",\"sidekick\":\"nell\","
		         "\"rival\":\"finn\",\"mentor\":\"quill\",\"custom\":{\"name\":\"Pim\","
		         "\"species\":\"sea otter\",\"traits\":[\"silly\"]},\"pronouns\":\"he\","
		         "\"length\":\"%s\",\"age\":\"%s\",\"seed\":%d}",
		         lengths[i % 3], ages[i / 3], i);
		json_t *s = story_of(req);
		check_clean(s);
		assert_int_equal(json_array_size(json_object_get(s, "cast")), ROLE_N);
		const struct sv_length *len = sv_story_find_length(cat, lengths[i % 3]);
		json_int_t words = json_integer_value(json_object_get(s, "word_count"));
		if (words < len->min_words || words > len->max_words)
			fail_msg("%s: %lld words", req, (long long)words);
		json_decref(s);
		check_deterministic(req);
	}
}

static void the_friend_never_shares_a_name(void **state)
{
	/* whatever the seed, the small friend is named after nobody else in the story */
	for (uint64_t seed = 0; seed < 20; seed++) {
		char req[200];
		snprintf(req, sizeof(req),
		         "{" MEADOW ",\"custom\":{\"name\":\"Dot\",\"species\":\"owl\","
		         "\"traits\":[\"wise\"]},\"child_name\":\"Pebble\",\"seed\":%llu}",
		         (unsigned long long)seed);
		json_t *s = story_of(req);
		const char *friend =
		    json_string_value(json_object_get(cast_member(s, "friend"), "name"));
		assert_string_not_equal(friend, "Dot");
		assert_string_not_equal(friend, "Pebble");
		json_decref(s);
	}
}

static void roles_round_trip(void **state)
{
	check_round_trip("{" MEADOW ",\"rival\":\"clover\",\"mentor\":\"rumble\",\"seed\":1}");
	check_round_trip("{" MEADOW ",\"custom\":{\"name\":\"Zog\",\"species\":\"dragon\","
	                 "\"traits\":[\"shy\",\"kind\"]},\"seed\":2}");
	check_round_trip("{" MEADOW ",\"pronouns\":\"she\"}");
	/* an old request keeps working and gets the defaults */
	struct sv_story_params p;
	must_read("{" MEADOW "}", &p);
	assert_string_equal(p.pronouns, "they");
	assert_string_equal(p.rival, "");
	assert_string_equal(p.custom.name, "");
	json_t *j = sv_story_params_to_json(&p);
	assert_null(json_object_get(j, "rival"));
	assert_null(json_object_get(j, "custom"));
	json_decref(j);
}

static void impossible_casts_name_the_field(void **state)
{
	static const struct bad_case cases[] = {
	    {"{" MEADOW ",\"sidekick\":\"pip\"}", "invalid_value", "sidekick", "two roles"},
	    {"{" MEADOW ",\"rival\":\"pip\"}", "invalid_value", "rival", "hero 'pip'"},
	    {"{" MEADOW ",\"mentor\":\"pip\"}", "invalid_value", "mentor", "hero 'pip'"},
	    {"{" MEADOW ",\"sidekick\":\"clover\",\"rival\":\"clover\"}", "invalid_value", "rival",
	     "sidekick 'clover'"},
	    {"{" MEADOW ",\"sidekick\":\"clover\",\"mentor\":\"clover\"}", "invalid_value",
	     "mentor", "sidekick 'clover'"},
	    {"{" MEADOW ",\"rival\":\"bramble\",\"mentor\":\"bramble\"}", "invalid_value", "mentor",
	     "rival 'bramble'"},
	    {"{" MEADOW ",\"rival\":\"nobody\"}", "unknown_id", "rival", "pip"},
	    {"{" MEADOW ",\"mentor\":\"nobody\"}", "unknown_id", "mentor", "bramble"},
	    {"{" MEADOW ",\"rival\":7}", "invalid_type", "rival", "string"},
	    {"{" MEADOW ",\"custom\":{\"name\":\"Pip\",\"species\":\"cat\",\"traits\":[\"shy\"]}}",
	     "invalid_value", "custom.name", "hero"},
	    {"{" MEADOW ",\"child_name\":\"Zog\",\"custom\":{\"name\":\"zog\",\"species\":\"cat\","
	     "\"traits\":[\"shy\"]}}",
	     "invalid_value", "custom.name", "child"},
	};
	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

#define CUSTOM(members) "{" MEADOW ",\"custom\":{" members "}}"

static void bad_custom_characters_name_the_field(void **state)
{
	static const struct bad_case cases[] = {
	    {"{" MEADOW ",\"custom\":\"Zog\"}", "invalid_type", "custom", "object"},
	    {CUSTOM("\"species\":\"cat\",\"traits\":[\"shy\"]"), "missing_field", "custom.name",
	     "required"},
	    {CUSTOM("\"name\":\"Zog\",\"traits\":[\"shy\"]"), "missing_field", "custom.species",
	     "required"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\""), "missing_field", "custom.traits",
	     "required"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[],\"x\":1"), "unknown_field",
	     "custom", "custom.x"},
	    {CUSTOM("\"name\":\"\",\"species\":\"cat\",\"traits\":[\"shy\"]"), "invalid_value",
	     "custom.name", "letter"},
	    {CUSTOM("\"name\":\"<b>Zog</b>\",\"species\":\"cat\",\"traits\":[\"shy\"]"),
	     "invalid_value", "custom.name", "letters"},
	    {CUSTOM("\"name\":\"Zog\\u0007\",\"species\":\"cat\",\"traits\":[\"shy\"]"),
	     "invalid_value", "custom.name", "letters"},
	    {CUSTOM("\"name\":\"Zoggggggggggggggggggggggggggggggggggggggggg\",\"species\":"
	            "\"cat\",\"traits\":[\"shy\"]"),
	     "invalid_value", "custom.name", "40"},
	    {CUSTOM("\"name\":7,\"species\":\"cat\",\"traits\":[\"shy\"]"), "invalid_type",
	     "custom.name", "string"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat2\",\"traits\":[\"shy\"]"), "invalid_value",
	     "custom.species", "letters"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"big red cat\",\"traits\":[\"shy\"]"),
	     "invalid_value", "custom.species", "two words"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\" cat\",\"traits\":[\"shy\"]"), "invalid_value",
	     "custom.species", "letters"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"<cat>\",\"traits\":[\"shy\"]"), "invalid_value",
	     "custom.species", "letters"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[]"), "invalid_value",
	     "custom.traits", "1 to 5"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":\"shy\""), "invalid_type",
	     "custom.traits", "array"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[\"a\",\"b\",\"c\",\"d\","
	            "\"e\",\"f\"]"),
	     "invalid_value", "custom.traits", "1 to 5"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[\"very shy\"]"),
	     "invalid_value", "custom.traits", "letters"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[\"sh1\"]"), "invalid_value",
	     "custom.traits", "letters"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[\"\"]"), "invalid_value",
	     "custom.traits", "bytes"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[1]"), "invalid_type",
	     "custom.traits", "strings"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[\"shy\",\"Shy\"]"),
	     "invalid_value", "custom.traits", "twice"},
	    {CUSTOM("\"name\":\"Zog\",\"species\":\"cat\",\"traits\":[\"shy\"],\"pronoun\":\"xe\""),
	     "invalid_value", "custom.pronoun", "she, he, it, they"},
	};
	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void custom_from_the_command_line(void **state)
{
	struct sv_story_custom cu;
	struct sv_err err = {0};
	assert_int_equal(sv_story_custom_parse(
	                     "name=Zog,species=baby dragon,traits=shy;kind;curious", &cu, &err),
	                 0);
	assert_string_equal(cu.name, "Zog");
	assert_string_equal(cu.species, "baby dragon");
	assert_int_equal(cu.n_traits, 3);
	assert_string_equal(cu.traits[2], "curious");
	assert_int_equal(
	    sv_story_custom_parse("traits=bold,pronoun=she,species=fox,name=Ada Lou", &cu, &err),
	    0);
	assert_string_equal(cu.name, "Ada Lou");
	assert_string_equal(cu.pronoun, "she");
	static const struct {
		const char *spec, *field, *mentions;
	} bad[] = {
	    {"", "custom.name", "required"},
	    {"Zog", "custom", "name=Zog"},
	    {"name=Zog;species=cat", "custom.name", "letters"},
	    {"name=Zog,species=cat", "custom.traits", "required"},
	    {"name=Zog,traits=shy", "custom.species", "required"},
	    {"name=Zog,name=Zig,species=cat,traits=shy", "custom", "twice"},
	    {"name=Zog,colour=red,species=cat,traits=shy", "custom", "name=Zog"},
	    {"name=Zog,species=cat,traits=shy;;kind", "custom.traits", "bytes"},
	    {"name=Zog,species=cat,traits=a;b;c;d;e;f", "custom.traits", "1 to 5"},
	    {"name=Z\x01og,species=cat,traits=shy", "custom.name", "letters"},
	    {"name=Zog,species=,traits=shy", "custom.species", "bytes"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sv_story_custom_parse(bad[i].spec, &cu, &err) != -1)
			fail_msg("'%s' was accepted", bad[i].spec);
		if (strcmp(err.field, bad[i].field) || !strstr(err.message, bad[i].mentions))
			fail_msg("'%s': got %s '%s'", bad[i].spec, err.field, err.message);
	}
}

/* ---- pronouns ---- */

/* Verb agreement: "they were", "she was", never "they was" or "she were". */
static void check_agreement(const char *text)
{
	static const char *const wrong[] = {
	    "they was ", "they is ",  "they has ", "she were ",  "he were ", "she are ",
	    "he are ",   "she have ", "he have ",  "they goes ", "themself",
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		for (const char *p = text; (p = strcasestr(p, wrong[i])); p++) {
			if (p == text || p[-1] == ' ' || p[-1] == '"')
				fail_msg("'%s' in: %.200s", wrong[i],
				         p > text + 80 ? p - 80 : text);
		}
	}
}

static void pronouns_are_used_for_the_child(void **state)
{
	static const char *const prons[] = {"she", "he", "they"};
	int seen_own[3] = {0};
	static const char *const own[] = {" her own bed", " his own bed", " their own bed"};
	for (uint64_t seed = 0; seed < 8; seed++) {
		for (int k = 0; k < 3; k++) {
			char req[200];
			snprintf(req, sizeof(req),
			         "{\"universe\":\"space\",\"hero\":\"orla\",\"pronouns\":\"%s\","
			         "\"child_name\":\"Kai\",\"seed\":%llu}",
			         prons[k], (unsigned long long)seed);
			json_t *s = story_of(req);
			assert_string_equal(
			    json_string_value(json_object_get(cast_member(s, "child"), "pronoun")),
			    prons[k]);
			char *text = sv_test_all_text(s);
			check_agreement(text);
			seen_own[k] |= strstr(text, own[k]) != NULL;
			for (int other = 0; other < 3; other++)
				if (other != k && strstr(text, own[other]))
					fail_msg("%s story speaks of '%s'", prons[k], own[other]);
			free(text);
			json_decref(s);
		}
	}
	assert_true(seen_own[0] && seen_own[1] && seen_own[2]);
}

static void pronouns_change_only_the_pronouns(void **state)
{
	json_t *a = story_of("{" MEADOW ",\"pronouns\":\"she\",\"seed\":11}");
	json_t *b = story_of("{" MEADOW ",\"pronouns\":\"he\",\"seed\":11}");
	assert_true(json_equal(json_object_get(a, "plan"), json_object_get(b, "plan")));
	json_decref(a);
	json_decref(b);
}

static void bad_pronouns_name_the_field(void **state)
{
	static const struct bad_case cases[] = {
	    {"{" MEADOW ",\"pronouns\":\"xe\"}", "invalid_value", "pronouns", "she, he, they"},
	    {"{" MEADOW ",\"pronouns\":\"it\"}", "invalid_value", "pronouns", "she, he, they"},
	    {"{" MEADOW ",\"pronouns\":\"theyyyyyyyyy\"}", "invalid_value", "pronouns", "valid"},
	    {"{" MEADOW ",\"pronouns\":[\"she\"]}", "invalid_type", "pronouns", "string"},
	};
	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- universe modes ---- */

static const char *mode_of(const json_t *story)
{
	return json_string_value(json_object_get(json_object_get(story, "parameters"), "mode"));
}

/* The universe of each beat, in order, as "meadow,meadow,sea,...". */
static void beat_worlds(const json_t *story, char *out, size_t cap)
{
	size_t n = 0, i;
	const json_t *b;
	out[0] = '\0';
	json_array_foreach(json_object_get(story, "plan"), i, b)
	{
		int w = snprintf(out + n, cap - n, "%s%s", i ? "," : "",
		                 json_string_value(json_object_get(b, "universe")));
		n += w > 0 && (size_t)w < cap - n ? (size_t)w : 0;
	}
}

static void check_length(const json_t *s, const char *length)
{
	const struct sv_length *len = sv_story_find_length(cat, length);
	json_int_t words = json_integer_value(json_object_get(s, "word_count"));
	if (words < len->min_words || words > len->max_words)
		fail_msg("%lld words, not in %d..%d", (long long)words, len->min_words,
		         len->max_words);
}

static void old_requests_are_single_or_crossover(void **state)
{
	json_t *s = story_of("{" MEADOW ",\"seed\":1}");
	assert_string_equal(mode_of(s), "single");
	const json_t *us = json_object_get(json_object_get(s, "parameters"), "universes");
	assert_int_equal(json_array_size(us), 1);
	assert_string_equal(json_string_value(json_array_get(us, 0)), "meadow");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(s, "universe"), "id")), "meadow");
	json_decref(s);
	/* a hero from elsewhere makes it a crossover by itself */
	s = story_of("{\"universe\":\"sea\",\"hero\":\"pip\",\"seed\":1}");
	assert_string_equal(mode_of(s), "crossover");
	assert_true(json_is_true(json_object_get(cast_member(s, "hero"), "visitor")));
	json_decref(s);
	/* "universes" alone, or agreeing with "universe", means the same */
	struct sv_story_params a, b;
	must_read("{\"universes\":[\"meadow\"],\"hero\":\"pip\",\"seed\":4}", &a);
	must_read(
	    "{\"universe\":\"meadow\",\"universes\":[\"meadow\"],\"hero\":\"pip\",\"seed\":4}", &b);
	assert_string_equal(a.universe, "meadow");
	assert_memory_equal(&a, &b, sizeof(a));
}

static void crossover_brings_visitors(void **state)
{
	for (uint64_t seed = 0; seed < 6; seed++) {
		char req[160];
		snprintf(req, sizeof(req), "{" MEADOW ",\"mode\":\"crossover\",\"seed\":%llu}",
		         (unsigned long long)seed);
		json_t *s = story_of(req);
		check_clean(s);
		const json_t *side = cast_member(s, "sidekick");
		/* the hero is at home, so the sidekick comes from another universe */
		assert_true(json_is_true(json_object_get(side, "visitor")));
		assert_string_not_equal(json_string_value(json_object_get(side, "home")), "meadow");
		char *opening = beat_text(s, "opening");
		assert_non_null(strstr(opening, "Whistlewind Meadow"));
		free(opening);
		json_decref(s);
	}
}

static void fusion_merges_two_worlds(void **state)
{
	int from_meadow = 0, from_sea = 0;
	for (uint64_t seed = 0; seed < 6; seed++) {
		char req[200];
		snprintf(req, sizeof(req),
		         "{\"universes\":[\"meadow\",\"sea\"],\"mode\":\"fusion\",\"hero\":\"pip\","
		         "\"sidekick\":\"marlo\",\"length\":\"chapter\",\"seed\":%llu}",
		         (unsigned long long)seed);
		json_t *s = story_of(req);
		check_clean(s);
		check_length(s, "chapter");
		const json_t *u = json_object_get(s, "universe");
		const char *name = json_string_value(json_object_get(u, "name"));
		assert_string_equal(json_string_value(json_object_get(u, "id")), "meadow+sea");
		assert_string_not_equal(name, "Whistlewind Meadow");
		assert_string_not_equal(name, "the Lantern Sea");
		/* the palette mixes both: each one's first colour is in it, with others between */
		const json_t *pal = json_object_get(u, "palette");
		assert_true(json_array_size(pal) >= 4);
		assert_true(in_list(pal, "#8BC34A") && in_list(pal, "#0288D1"));
		/* natives of either world are at home */
		assert_false(json_is_true(json_object_get(cast_member(s, "hero"), "visitor")));
		assert_false(json_is_true(json_object_get(cast_member(s, "sidekick"), "visitor")));
		size_t i;
		const json_t *b;
		json_array_foreach(json_object_get(s, "plan"), i, b)
		{
			const char *place = json_string_value(json_object_get(b, "place"));
			from_meadow += strcmp(place, "burrow") == 0 ||
			               strcmp(place, "brook") == 0 || strcmp(place, "hill") == 0 ||
			               strcmp(place, "orchard") == 0 ||
			               strcmp(place, "hedge") == 0 || strcmp(place, "pond") == 0;
			from_sea += strcmp(place, "reef") == 0 || strcmp(place, "kelp") == 0 ||
			            strcmp(place, "wreck") == 0 || strcmp(place, "lagoon") == 0 ||
			            strcmp(place, "shore") == 0;
			assert_string_equal(json_string_value(json_object_get(b, "universe")),
			                    "meadow+sea");
		}
		char *text = sv_test_all_text(s);
		assert_non_null(strstr(text, name + (strncmp(name, "the ", 4) == 0 ? 4 : 0)));
		free(text);
		json_decref(s);
		check_deterministic(req);
	}
	assert_true(from_meadow > 0 && from_sea > 0);
}

static void hopping_visits_one_world_per_part(void **state)
{
	static const struct {
		const char *worlds, *length, *expect_first, *expect_last;
		int n;
	} cases[] = {
	    {"\"meadow\",\"space\",\"snow\"", "epic", "meadow", "snow", 3},
	    {"\"meadow\",\"space\",\"snow\"", "chapter", "meadow", "snow", 3},
	    {"\"sea\",\"desert\"", "chapter", "sea", "desert", 2},
	    {"\"kingdom\",\"dinosaur\"", "bedtime", "kingdom", "dinosaur", 2},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char req[300], worlds[1024];
		snprintf(
		    req, sizeof(req),
		    "{\"universes\":[%s],\"mode\":\"hopping\",\"hero\":\"pip\",\"length\":\"%s\","
		    "\"seed\":%zu}",
		    cases[k].worlds, cases[k].length, k);
		json_t *s = story_of(req);
		check_clean(s);
		check_length(s, cases[k].length);
		beat_worlds(s, worlds, sizeof(worlds));
		/* it starts at home, ends the quest in the last world and comes home again */
		const json_t *plan = json_object_get(s, "plan");
		size_t n = json_array_size(plan);
		const char *first =
		    json_string_value(json_object_get(json_array_get(plan, 0), "universe"));
		const char *last =
		    json_string_value(json_object_get(json_array_get(plan, n - 1), "universe"));
		const char *end =
		    json_string_value(json_object_get(json_array_get(plan, n - 2), "universe"));
		assert_string_equal(first, cases[k].expect_first);
		assert_string_equal(last, cases[k].expect_first);
		assert_string_equal(end, cases[k].expect_last);
		/* every world has obstacles of its own, in order, never going back */
		int changes = 0;
		size_t i;
		const json_t *b;
		const char *prev = first;
		json_array_foreach(plan, i, b)
		{
			const char *w = json_string_value(json_object_get(b, "universe"));
			if (i + 1 < n && strcmp(w, prev) != 0)
				changes++;
			prev = w;
		}
		if (changes != cases[k].n - 1)
			fail_msg("%s: worlds %s", req, worlds);
		/* the text goes there too */
		char *text = sv_test_all_text(s);
		const struct sv_universe *lu = sv_story_find_universe(cat, cases[k].expect_last);
		assert_non_null(
		    strstr(text, lu->name + (strncmp(lu->name, "the ", 4) == 0 ? 4 : 0)));
		free(text);
		json_decref(s);
		check_deterministic(req);
	}
}

static void modes_round_trip(void **state)
{
	check_round_trip(
	    "{\"universes\":[\"meadow\",\"sea\"],\"mode\":\"fusion\",\"hero\":\"pip\"}");
	check_round_trip("{\"universes\":[\"meadow\",\"sea\",\"snow\"],\"mode\":\"hopping\","
	                 "\"hero\":\"pip\",\"length\":\"epic\"}");
	check_round_trip("{" MEADOW ",\"mode\":\"crossover\"}");
}

#define TWO "\"universes\":[\"meadow\",\"sea\"],\"hero\":\"pip\""

static void bad_modes_name_the_field(void **state)
{
	static const struct bad_case cases[] = {
	    {"{" MEADOW ",\"mode\":\"fusion\"}", "invalid_value", "universes", "exactly 2"},
	    {"{" MEADOW ",\"mode\":\"hopping\"}", "invalid_value", "universes", "2 or 3"},
	    {"{" TWO ",\"mode\":\"single\"}", "invalid_value", "universes", "exactly 1"},
	    {"{" TWO ",\"mode\":\"crossover\"}", "invalid_value", "universes", "exactly 1"},
	    {"{" TWO "}", "missing_field", "mode", "fusion or hopping"},
	    {"{\"universes\":[\"meadow\",\"sea\",\"snow\"],\"hero\":\"pip\",\"mode\":\"fusion\"}",
	     "invalid_value", "universes", "exactly 2"},
	    {"{\"universes\":[\"meadow\",\"sea\",\"snow\"],\"hero\":\"pip\",\"mode\":\"hopping\"}",
	     "invalid_value", "universes", "longer story"},
	    {"{\"universes\":[\"meadow\",\"sea\",\"snow\",\"space\"],\"hero\":\"pip\","
	     "\"mode\":\"hopping\"}",
	     "invalid_value", "universes", "1 to 3"},
	    {"{\"universes\":[],\"hero\":\"pip\"}", "invalid_value", "universes", "1 to 3"},
	    {"{\"universes\":\"meadow\",\"hero\":\"pip\"}", "invalid_type", "universes", "array"},
	    {"{\"universes\":[\"meadow\",5],\"hero\":\"pip\",\"mode\":\"fusion\"}", "invalid_type",
	     "universes", "strings"},
	    {"{\"universes\":[\"meadow\",\"mars\"],\"hero\":\"pip\",\"mode\":\"fusion\"}",
	     "unknown_id", "universes", "unknown universe 'mars'"},
	    {"{\"universes\":[\"meadow\",\"meadow\"],\"hero\":\"pip\",\"mode\":\"fusion\"}",
	     "invalid_value", "universes", "twice"},
	    {"{\"universe\":\"sea\",\"universes\":[\"meadow\",\"sea\"],\"hero\":\"pip\","
	     "\"mode\":\"fusion\"}",
	     "invalid_value", "universe", "first of universes"},
	    {"{" MEADOW ",\"mode\":\"warp\"}", "invalid_value", "mode", "single, crossover"},
	    {"{" MEADOW ",\"mode\":3}", "invalid_type", "mode", "string"},
	    {"{" MEADOW ",\"mode\":\"crossover\",\"sidekick\":\"bramble\"}", "invalid_value",
	     "mode", "visitor"},
	};
	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- cultures ---- */

static int any_in(const char *text, const json_t *arr)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (strstr(text, json_string_value(v)))
			return 1;
	}
	return 0;
}

static void catalog_lists_cultures(void **state)
{
	json_t *doc = sv_story_catalog_json(cat);
	const json_t *cultures = json_object_get(doc, "cultures");
	assert_true(json_array_size(cultures) >= 4 && json_array_size(cultures) <= 6);
	size_t i;
	const json_t *c;
	json_array_foreach(cultures, i, c)
	{
		static const char *const keys[] = {"id",       "name",    "description",
		                                   "greeting", "meaning", "festival",
		                                   "foods",    "places",  "language"};
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!json_object_get(c, keys[k]))
				fail_msg("culture %zu has no %s", i, keys[k]);
		assert_non_null(json_object_get(json_object_get(c, "festival"), "name"));
	}
	json_decref(doc);
}

static void cultures_are_woven_in(void **state)
{
	for (size_t i = 0; i < cat->n_cultures; i++) {
		const struct sv_culture *cu = &cat->cultures[i];
		const json_t *fest = json_object_get(cu->obj, "festival");
		const char *greeting = json_string_value(json_object_get(cu->obj, "greeting"));
		const char *festival = json_string_value(json_object_get(fest, "name"));
		for (int celebrate = 0; celebrate < 2; celebrate++) {
			char req[300];
			snprintf(req, sizeof(req),
			         "{" MEADOW ",\"culture\":\"%s\",\"theme\":\"%s\",\"age\":\"%s\","
			         "\"seed\":%zu}",
			         cu->id, celebrate ? "celebration" : "mystery",
			         i % 2 ? "3-5" : "9-12", i);
			json_t *s = story_of(req);
			check_clean(s);
			char *opening = beat_text(s, "opening"), *closing = beat_text(s, "closing");
			char *call = beat_text(s, "call"), *text = sv_test_all_text(s);
			/* the child says hello their family's way, and talks of a food at the end
			 */
			if (!strstr(opening, greeting))
				fail_msg("%s: no '%s' in the opening: %s", req, greeting, opening);
			if (!any_in(closing, json_object_get(cu->obj, "foods")))
				fail_msg("%s: no food in the closing: %s", req, closing);
			/* a celebration's occasion is the festival; other themes leave it out */
			const char *bare =
			    strncmp(festival, "the ", 4) == 0 ? festival + 4 : festival;
			if (celebrate && !strstr(call, bare))
				fail_msg("%s: no festival in the call: %s", req, call);
			if (!celebrate && strstr(text, bare))
				fail_msg("%s: a festival without a celebration", req);
			free(opening);
			free(closing);
			free(call);
			free(text);
			json_decref(s);
			check_deterministic(req);
		}
	}
}

static void culture_round_trip_and_errors(void **state)
{
	check_round_trip("{" MEADOW ",\"culture\":\"korean\"}");
	static const struct bad_case cases[] = {
	    {"{" MEADOW ",\"culture\":\"atlantean\"}", "unknown_id", "culture", "chinese"},
	    {"{" MEADOW ",\"culture\":5}", "invalid_type", "culture", "string"},
	    {"{" MEADOW ",\"culture\":\"KOREAN\"}", "unknown_id", "culture", "korean"},
	};
	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- series ---- */

/* The next episode of prev, as a request (extra members may be added) and a seed. */
static json_t *next_episode(const json_t *prev, const char *request, struct sv_err *err)
{
	json_t *req = json_loads(request, 0, NULL);
	struct sv_story_params p;
	sv_story_params_init(&p);
	json_t *s = NULL;
	if (sv_story_params_from_request(cat, req, prev, &p, NULL, err) == 0)
		s = sv_story_generate(cat, &p, NULL, NULL, err);
	json_decref(req);
	return s;
}

static const char *param_of(const json_t *story, const char *key)
{
	return json_string_value(json_object_get(json_object_get(story, "parameters"), key));
}

static void check_episode(const json_t *prev, const json_t *next)
{
	check_clean(next);
	json_int_t n = json_integer_value(json_object_get(prev, "episode"));
	assert_int_equal(json_integer_value(json_object_get(next, "episode")), n + 1);
	const json_t *before = json_object_get(next, "previous");
	assert_int_equal(json_integer_value(json_object_get(before, "episode")), n);
	assert_string_equal(json_string_value(json_object_get(before, "title")),
	                    json_string_value(json_object_get(prev, "title")));
	static const char *const kept[] = {"universe",   "hero",     "sidekick",
	                                   "child_name", "pronouns", "mode"};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_string_equal(param_of(next, kept[i]), param_of(prev, kept[i]));
	/* page 1 remembers what happened and picks up the thread left open */
	const char *page1 = json_string_value(
	    json_object_get(json_array_get(json_object_get(next, "pages"), 0), "text"));
	const json_t *thread = json_object_get(prev, "thread");
	const char *kind = json_string_value(json_object_get(thread, "kind"));
	const char *what = json_string_value(json_object_get(thread, "what"));
	const char *friend =
	    json_string_value(json_object_get(cast_member(prev, "friend"), "name"));
	if (!strstr(page1, friend))
		fail_msg("page 1 does not remember %s: %s", friend, page1);
	if (strcmp(kind, "promise") != 0 && !strstr(page1, what))
		fail_msg("page 1 does not pick up the %s: %s", what, page1);
	if (strcmp(kind, "promise") == 0) {
		/* a promise is kept: the quest leads to the promised place */
		size_t i;
		const json_t *b;
		json_array_foreach(json_object_get(next, "plan"), i, b)
		{
			if (strcmp(json_string_value(json_object_get(b, "beat")), "resolution") ==
			    0)
				assert_string_equal(
				    json_string_value(json_object_get(b, "place")),
				    json_string_value(json_object_get(thread, "place")));
		}
	}
}

static void every_story_leaves_a_thread_open(void **state)
{
	int kinds[3] = {0};
	for (uint64_t seed = 0; seed < 12; seed++) {
		char req[120];
		snprintf(req, sizeof(req), "{" MEADOW ",\"seed\":%llu}", (unsigned long long)seed);
		json_t *s = story_of(req);
		assert_int_equal(json_integer_value(json_object_get(s, "episode")), 1);
		assert_null(json_object_get(s, "previous"));
		const json_t *thread = json_object_get(s, "thread");
		const char *kind = json_string_value(json_object_get(thread, "kind"));
		const char *what = json_string_value(json_object_get(thread, "what"));
		assert_non_null(kind);
		assert_non_null(what);
		kinds[0] += strcmp(kind, "object") == 0;
		kinds[1] += strcmp(kind, "promise") == 0;
		kinds[2] += strcmp(kind, "secret") == 0;
		/* the closing pages say what is left open */
		char *closing = beat_text(s, "closing");
		if (!strstr(closing, what))
			fail_msg("the closing does not leave the %s open: %s", what, closing);
		free(closing);
		json_decref(s);
	}
	assert_true(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0);
}

static void a_series_goes_on(void **state)
{
	for (uint64_t seed = 0; seed < 6; seed++) {
		char req[300];
		snprintf(
		    req, sizeof(req),
		    "{\"universe\":\"sea\",\"hero\":\"marlo\",\"rival\":\"finn\","
		    "\"custom\":{\"name\":\"Zog\",\"species\":\"dragon\",\"traits\":[\"shy\"]},"
		    "\"culture\":\"persian\",\"pronouns\":\"she\",\"child_name\":\"Ada\","
		    "\"seed\":%llu}",
		    (unsigned long long)seed);
		json_t *one = story_of(req);
		struct sv_err err = {0};
		json_t *two =
		    next_episode(one, "{\"continue_from\":\"episode-one\",\"seed\":5}", &err);
		if (!two)
			fail_msg("episode 2: %s", err.message);
		check_episode(one, two);
		/* a new kind of story each time, for the same child */
		assert_string_not_equal(param_of(two, "theme"), param_of(one, "theme"));
		assert_string_equal(param_of(two, "age"), param_of(one, "age"));
		assert_string_equal(param_of(two, "continue_from"), "episode-one");
		assert_string_equal(param_of(two, "rival"), "finn");
		assert_string_equal(param_of(two, "culture"), "persian");
		assert_string_equal(param_of(two, "length"), "bedtime"); /* kept unless given */
		assert_non_null(cast_member(two, "custom"));
		json_t *three = next_episode(two,
		                             "{\"continue_from\":\"episode-two\",\"seed\":6,"
		                             "\"length\":\"chapter\"}",
		                             &err);
		if (!three)
			fail_msg("episode 3: %s", err.message);
		check_episode(two, three);
		assert_string_equal(param_of(three, "length"), "chapter");
		json_decref(one);
		json_decref(two);
		json_decref(three);
	}
}

static void a_series_keeps_its_world_and_cast(void **state)
{
	json_t *one = story_of("{" MEADOW ",\"culture\":\"swedish\",\"child_name\":\"Ada\","
	                       "\"sidekick\":\"bramble\",\"seed\":3}");
	static const struct {
		const char *request, *code, *field, *mentions;
	} bad[] = {
	    {"{\"hero\":\"clover\"}", "invalid_value", "hero", "stay 'pip'"},
	    {"{\"sidekick\":\"clover\"}", "invalid_value", "sidekick", "stay 'bramble'"},
	    {"{\"universe\":\"sea\"}", "invalid_value", "universe", "meadow"},
	    {"{\"universes\":[\"meadow\",\"sea\"],\"mode\":\"fusion\"}", "invalid_value",
	     "universes", "meadow"},
	    {"{\"mode\":\"crossover\"}", "invalid_value", "mode", "stay 'single'"},
	    {"{\"child_name\":\"Bea\"}", "invalid_value", "child_name", "stay 'Ada'"},
	    {"{\"pronouns\":\"he\"}", "invalid_value", "pronouns", "stay 'they'"},
	    {"{\"culture\":\"korean\"}", "invalid_value", "culture", "stay 'swedish'"},
	    {"{\"hero\":5}", "invalid_type", "hero", "string"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sv_err err = {0};
		json_t *s = next_episode(one, bad[i].request, &err);
		if (s)
			fail_msg("%s was accepted", bad[i].request);
		if (strcmp(err.code, bad[i].code) || strcmp(err.field, bad[i].field) ||
		    !strstr(err.message, bad[i].mentions))
			fail_msg("%s: got %s/%s '%s'", bad[i].request, err.code, err.field,
			         err.message);
	}
	/* the same values, a new age, length, theme or moral, and new friends are fine */
	static const char *const good[] = {
	    "{\"hero\":\"pip\",\"universe\":\"meadow\",\"child_name\":\" Ada \",\"seed\":1}",
	    "{\"age\":\"9-12\",\"length\":\"chapter\",\"theme\":\"rescue\",\"moral\":\"courage\"}",
	    ("{\"rival\":\"clover\",\"mentor\":\"rumble\",\"custom\":{\"name\":\"Zog\","
	     "\"species\":\"dragon\",\"traits\":[\"shy\"]}}"),
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sv_err err = {0};
		json_t *s = next_episode(one, good[i], &err);
		if (!s)
			fail_msg("%s: %s (%s)", good[i], err.message, err.field);
		check_episode(one, s);
		json_decref(s);
	}
	json_decref(one);
}

static void a_series_is_deterministic(void **state)
{
	json_t *one = story_of("{" MEADOW ",\"seed\":21}");
	struct sv_err err = {0};
	json_t *a = next_episode(one, "{\"seed\":2}", &err);
	json_t *b = next_episode(one, "{\"seed\":2}", &err);
	char *da = sv_story_dump(a), *db = sv_story_dump(b);
	assert_string_equal(da, db);
	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
	json_decref(one);
}

static void broken_stories_cannot_be_continued(void **state)
{
	json_t *one = story_of("{" MEADOW ",\"seed\":4}");
	static const struct {
		const char *key;
		const char *json; /* NULL: remove the key */
		const char *mentions;
	} breaks[] = {
	    {"parameters", NULL, "parameters"},
	    {"parameters", "{\"universe\":\"mars\",\"hero\":\"pip\"}", "no longer fits"},
	    {"title", NULL, "title"},
	    {"title", "\"Oops {hero}\"", "title"},
	    {"title", "\"Bad\\ntitle\"", "title"},
	    {"plan", "[]", "plan"},
	    {"cast", "[]", "cast"},
	    {"episode", "\"two\"", "episode"},
	    {"episode", "0", "episode"},
	    {"thread", "{\"kind\":\"object\"}", "thread"},
	};
	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		json_t *bad = json_deep_copy(one);
		if (breaks[i].json)
			json_object_set_new(bad, breaks[i].key,
			                    json_loads(breaks[i].json, JSON_DECODE_ANY, NULL));
		else
			json_object_del(bad, breaks[i].key);
		struct sv_err err = {0};
		json_t *s = next_episode(bad, "{}", &err);
		if (s)
			fail_msg("break %zu was accepted", i);
		assert_string_equal(err.field, "continue_from");
		if (!strstr(err.message, breaks[i].mentions))
			fail_msg("break %zu: '%s'", i, err.message);
		json_decref(bad);
	}
	json_t *arr = json_array();
	struct sv_err err = {0};
	assert_null(next_episode(arr, "{}", &err));
	assert_string_equal(err.field, "continue_from");
	json_decref(arr);
	json_decref(one);
	/* a request naming a story to continue needs that story */
	static const struct bad_case cases[] = {
	    {"{" MEADOW ",\"continue_from\":\"0123\"}", "unknown_id", "continue_from", "0123"},
	    {"{\"continue_from\":7}", "invalid_type", "continue_from", "string"},
	};
	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* ---- every option at every age ---- */

/* Stories with the options stay in their age's reading band and in their length. */
static void options_keep_stories_in_their_age_band(void **state)
{
	static const char *const options[] = {
	    "\"rival\":\"clover\",\"mentor\":\"rumble\"",
	    "\"custom\":{\"name\":\"Zog\",\"species\":\"dragon\",\"traits\":[\"shy\",\"kind\"]}",
	    "\"universes\":[\"meadow\",\"sea\"],\"mode\":\"fusion\"",
	    "\"universes\":[\"meadow\",\"snow\"],\"mode\":\"hopping\"",
	    "\"mode\":\"crossover\",\"culture\":\"indian\",\"theme\":\"celebration\"",
	    "\"pronouns\":\"she\",\"culture\":\"swedish\"",
	};
	static const char *const ages[] = {"3-5", "6-8", "9-12"};
	for (size_t o = 0; o < sizeof(options) / sizeof(options[0]); o++) {
		for (int a = 0; a < 3; a++) {
			char req[400];
			snprintf(req, sizeof(req),
			         "{\"hero\":\"pip\",%s%s,\"age\":\"%s\",\"seed\":%zu}", options[o],
			         strstr(options[o], "universes") ? "" : ",\"universe\":\"meadow\"",
			         ages[a], o * 3 + (size_t)a);
			json_t *s = story_of(req);
			char *text = sv_test_all_text(s);
			const struct sv_grade_band *band = sv_story_grade_band(a + 1);
			double grade = sv_story_fk_grade(text);
			if (band && (grade < band->min || grade > band->max))
				fail_msg("%s: grade %.2f outside %.1f..%.1f", req, grade, band->min,
				         band->max);
			check_length(s, "bedtime");
			free(text);
			json_decref(s);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rival_races_then_helps),
	    cmocka_unit_test(mentor_advises_but_never_chooses),
	    cmocka_unit_test(custom_character_comes_along),
	    cmocka_unit_test(every_role_at_once),
	    cmocka_unit_test(the_friend_never_shares_a_name),
	    cmocka_unit_test(roles_round_trip),
	    cmocka_unit_test(impossible_casts_name_the_field),
	    cmocka_unit_test(bad_custom_characters_name_the_field),
	    cmocka_unit_test(custom_from_the_command_line),
	    cmocka_unit_test(pronouns_are_used_for_the_child),
	    cmocka_unit_test(pronouns_change_only_the_pronouns),
	    cmocka_unit_test(bad_pronouns_name_the_field),
	    cmocka_unit_test(old_requests_are_single_or_crossover),
	    cmocka_unit_test(crossover_brings_visitors),
	    cmocka_unit_test(fusion_merges_two_worlds),
	    cmocka_unit_test(hopping_visits_one_world_per_part),
	    cmocka_unit_test(modes_round_trip),
	    cmocka_unit_test(bad_modes_name_the_field),
	    cmocka_unit_test(catalog_lists_cultures),
	    cmocka_unit_test(cultures_are_woven_in),
	    cmocka_unit_test(culture_round_trip_and_errors),
	    cmocka_unit_test(every_story_leaves_a_thread_open),
	    cmocka_unit_test(a_series_goes_on),
	    cmocka_unit_test(a_series_keeps_its_world_and_cast),
	    cmocka_unit_test(a_series_is_deterministic),
	    cmocka_unit_test(broken_stories_cannot_be_continued),
	    cmocka_unit_test(options_keep_stories_in_their_age_band),
	};
	return cmocka_run_group_tests(tests, sv_test_catalog_setup, sv_test_catalog_teardown);
}
