/*
 * Unit tests for how stories read: syllables, sentences and the
 * Flesch-Kincaid grade on text with known counts; the dialogue spans of the
 * pages; the measures of one story; and an evaluation sample held to the
 * targets (every age in its grade band, no sentence said twice, little
 * overlap between seeds, every name on the page, every combination done).
 */
#include "story/internal.h"
#include "story/story.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "story_support.h"

static json_t *story_for(const char *universe, const char *hero, const char *age,
                         const char *length, uint64_t seed)
{
	struct sv_story_params p;
	struct sv_err err = {0};
	sv_story_params_init(&p);
	snprintf(p.universe, sizeof(p.universe), "%s", universe);
	snprintf(p.hero, sizeof(p.hero), "%s", hero);
	snprintf(p.age, sizeof(p.age), "%s", age);
	snprintf(p.length, sizeof(p.length), "%s", length);
	snprintf(p.child_name, sizeof(p.child_name), "Amara");
	p.seed = seed;
	if (sv_story_params_validate(cat, &p, &err) < 0)
		fail_msg("params %s/%s: %s", universe, hero, err.message);
	json_t *s = sv_story_generate(cat, &p, NULL, NULL, &err);
	if (!s)
		fail_msg("generate %s/%s/%s/%s: %s", universe, hero, age, length, err.message);
	return s;
}

/* ---- syllables, sentences, grade ---- */

static void syllables_of_known_words(void **state)
{
	static const struct {
		const char *word;
		int syllables;
	} known[] = {
	    {"cat", 1},        {"the", 1},       {"little", 2},      {"table", 2},
	    {"smile", 1},      {"whale", 1},     {"hopes", 1},       {"boxes", 2},
	    {"jumped", 1},     {"wanted", 2},    {"called", 1},      {"tumbled", 2},
	    {"happily", 3},    {"lovely", 2},    {"carefully", 3},   {"something", 2},
	    {"quiet", 2},      {"lion", 2},      {"curious", 3},     {"usual", 3},
	    {"going", 2},      {"flying", 2},    {"played", 1},      {"beyond", 2},
	    {"eyes", 1},       {"butterfly", 3}, {"caterpillar", 4}, {"adventure", 3},
	    {"everyone", 3},   {"beautiful", 3}, {"Whistlewind", 3}, {"didn't", 2},
	    {"don't", 1},      {"isn't", 2},     {"we'll", 1},       {"fox's", 2},
	    {"sun-warmed", 2}, {"Hello!", 2},    {"12", 2},          {"\"Ooh,", 1},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		int n = sv_story_syllables(known[i].word, strlen(known[i].word));
		if (n != known[i].syllables)
			fail_msg("'%s': %d syllables, want %d", known[i].word, n,
			         known[i].syllables);
	}
}

static void grade_of_known_text(void **state)
{
	/* 2 sentences, 6 + 8 words, every word one syllable */
	struct sv_story_text_stats st;
	sv_story_text_stats("The cat sat on the mat. The dog ran to the big red ball.", &st);
	assert_int_equal(st.sentences, 2);
	assert_int_equal(st.words, 14);
	assert_int_equal(st.syllables, 14);
	assert_float_equal(sv_story_fk_grade_of(&st), 0.39 * 7 + 11.8 - 15.59, 1e-9);

	/* el-e-phants re-mem-ber ev-ery-thing; a-ny-one can see them */
	sv_story_text_stats("Elephants remember everything. Anyone can see them!", &st);
	assert_int_equal(st.sentences, 2);
	assert_int_equal(st.words, 7);
	assert_int_equal(st.syllables, 9 + 6);
	assert_float_equal(sv_story_fk_grade("Elephants remember everything. Anyone can see them!"),
	                   0.39 * 3.5 + 11.8 * 15 / 7 - 15.59, 1e-9);

	assert_float_equal(sv_story_fk_grade(""), 0.0, 1e-12);
	assert_float_equal(sv_story_fk_grade(" -- ... "), 0.0, 1e-12);
	/* longer words and sentences read older */
	assert_true(sv_story_fk_grade("The dog ran. The cat sat.") <
	            sv_story_fk_grade("The extraordinary expedition continued determinedly "
	                              "through unfamiliar territory, encountering remarkable "
	                              "creatures."));
}

struct sentence_list {
	char s[8][64];
	int words[8];
	int n;
};

static void collect(void *ctx, const char *s, size_t len, const struct sv_story_text_stats *st)
{
	struct sentence_list *l = ctx;
	if (l->n < 8) {
		snprintf(l->s[l->n], sizeof(l->s[0]), "%.*s", (int)len, s);
		l->words[l->n++] = st->words;
	}
}

static void sentences_end_where_a_reader_stops(void **state)
{
	struct sentence_list l = {0};
	sv_story_sentences("\"Help!\" cried Pip. \"Help!\" Pip cried. Mr. Fox waited... and "
	                   "waited. Then he left\n\nThe end",
	                   collect, &l);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.s[0], "\"Help!\" cried Pip.");
	assert_string_equal(l.s[1], "\"Help!\"");
	assert_string_equal(l.s[2], "Pip cried.");
	assert_string_equal(l.s[3], "Mr. Fox waited... and waited.");
	assert_string_equal(l.s[4], "Then he left");
	assert_string_equal(l.s[5], "The end");
	assert_int_equal(l.words[3], 5);
}

/* ---- spans ---- */

static int in_cast(const json_t *story, const char *role)
{
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(story, "cast"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "role")), role) == 0)
			return 1;
	}
	return 0;
}

/* Every span lies between a pair of quote marks, holds no mark itself, comes
 * after the one before, and is spoken by someone in the cast. */
static int check_spans(const json_t *story)
{
	int count = 0;
	size_t i, j;
	const json_t *pg, *sp;
	json_array_foreach(json_object_get(story, "pages"), i, pg)
	{
		const char *text = json_string_value(json_object_get(pg, "text"));
		json_int_t len = (json_int_t)strlen(text), prev_end = 0;
		json_array_foreach(json_object_get(pg, "spans"), j, sp)
		{
			json_int_t start = json_integer_value(json_object_get(sp, "start"));
			json_int_t end = json_integer_value(json_object_get(sp, "end"));
			const char *speaker = json_string_value(json_object_get(sp, "speaker"));
			assert_non_null(speaker);
			if (start < 1 || end <= start || end >= len || start <= prev_end)
				fail_msg("page %zu: span %lld..%lld out of place", i + 1,
				         (long long)start, (long long)end);
			if (text[start - 1] != '"' || text[end] != '"' ||
			    memchr(text + start, '"', (size_t)(end - start)))
				fail_msg("page %zu: span '%.*s' is not one quotation", i + 1,
				         (int)(end - start), text + start);
			if (!in_cast(story, speaker))
				fail_msg("page %zu: speaker '%s' is not in the cast", i + 1,
				         speaker);
			prev_end = end;
			count++;
		}
	}
	return count;
}

static void spans_mark_the_dialogue(void **state)
{
	static const char *const ages[] = {"3-5", "6-8", "9-12"};
	static const char *const lengths[] = {"bedtime", "chapter", "epic"};
	for (size_t k = 0; k < 9; k++) {
		const struct sv_universe *u = &cat->universes[k % cat->n_universes];
		const struct sv_character *h = &cat->characters[(k * 5) % cat->n_characters];
		json_t *s = story_for(u->id, h->id, ages[k % 3], lengths[k / 3], k + 11);
		int spans = check_spans(s);
		/* dialogue paragraphs start with a quote or a speaker: there are many */
		if (spans < 5)
			fail_msg("%s/%s: only %d spans", u->id, h->id, spans);
		json_decref(s);
	}
}

static void spans_cover_every_role(void **state)
{
	/* the optional roles speak too, and are in the cast when they do */
	json_t *req =
	    json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:[s]},s:s,s:i}", "universe",
	              cat->universes[0].id, "hero", cat->characters[0].id, "rival",
	              cat->characters[1].id, "mentor", cat->characters[2].id, "custom", "name",
	              "Pim", "species", "otter", "traits", "silly", "length", "chapter", "seed", 8);
	struct sv_story_params p;
	struct sv_err err = {0};
	int seed_given = 0;
	sv_story_params_init(&p);
	if (sv_story_params_from_json(cat, req, &p, &seed_given, &err) < 0)
		fail_msg("params: %s", err.message);
	json_t *s = sv_story_generate(cat, &p, NULL, NULL, &err);
	assert_non_null(s);
	assert_true(check_spans(s) >= 5);
	json_decref(s);
	json_decref(req);
}

static void spans_name_the_speaker(void **state)
{
	/* a tagged line: "Hello," said Pip.  -> the span is Hello, and its speaker the role */
	json_t *s = story_for(cat->universes[0].id, cat->characters[0].id, "6-8", "bedtime", 3);
	int heard[ROLE_N] = {0};
	size_t i, j;
	const json_t *pg, *sp;
	json_array_foreach(json_object_get(s, "pages"), i, pg)
	{
		json_array_foreach(json_object_get(pg, "spans"), j, sp)
		{
			const char *who = json_string_value(json_object_get(sp, "speaker"));
			for (int r = 0; r < ROLE_N; r++)
				heard[r] |= strcmp(who, sv_story_role_names[r]) == 0;
		}
	}
	assert_true(heard[ROLE_HERO]);
	assert_true(heard[ROLE_CHILD]);
	json_decref(s);
}

/* ---- measures ---- */

static json_t *tiny_story(const char *const *pages, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s}", "text", pages[i]));
	return json_pack("{s:[{s:s},{s:s}],s:o}", "cast", "name", "Pip", "name", "Mia", "pages",
	                 arr);
}

static void measure_counts_repeats_names_and_bigrams(void **state)
{
	static const char *const pages[] = {
	    "Pip ran up the hill. Mia ran up the hill. \"Wow!\" Mia said.",
	    "Pip ran up the hill. \"Wow!\" Pip said."};
	json_t *s = tiny_story(pages, 2);
	struct sv_story_measure m;
	assert_int_equal(sv_story_measure(s, &m), 0);
	/* "Pip ran up the hill." twice; "Wow!" and "Mia said." are too short to count */
	assert_int_equal(m.repeated, 1);
	assert_int_equal(m.names, 1);
	assert_int_equal(m.stats.sentences, 7);
	assert_int_equal(m.stats.words, 21);
	/* 20 bigrams run across sentences and pages; 8 come again (ran up and up
	 * the hill three times, pip ran and hill wow twice) */
	assert_float_equal(m.bigrams, 12.0 / 20.0, 1e-9);
	json_decref(s);

	static const char *const nameless[] = {"Pip ran up the hill."};
	s = tiny_story(nameless, 1);
	assert_int_equal(sv_story_measure(s, &m), 0);
	assert_int_equal(m.names, 0); /* Mia is missing */
	assert_int_equal(m.repeated, 0);
	json_decref(s);
}

static void overlap_is_the_jaccard_of_sentences(void **state)
{
	static const char *const a[] = {"The sun came up. Pip woke up early. Mia had toast."};
	static const char *const b[] = {"The sun came up! Mia ate some jam. Pip sang a song."};
	json_t *x = tiny_story(a, 1), *y = tiny_story(b, 1);
	/* one sentence shared (case and marks aside) of five different ones */
	assert_float_equal(sv_story_overlap(x, y), 1.0 / 5.0, 1e-9);
	assert_float_equal(sv_story_overlap(x, x), 1.0, 1e-9);
	json_decref(x);
	json_decref(y);
}

/* ---- the evaluation ---- */

static void check_band(const struct sv_story_eval_band *b)
{
	if (b->stories == 0 || b->failed)
		fail_msg("%s: %d stories, %d failed", b->age, b->stories, b->failed);
	if (b->in_band < 0.9)
		fail_msg("%s: %.0f%% in band (mean grade %.2f)", b->age, 100 * b->in_band,
		         b->grade_mean);
	if (b->repeated)
		fail_msg("%s: %d stories repeat a sentence", b->age, b->repeated);
	if (b->overlap >= 0.3)
		fail_msg("%s: overlap %.3f", b->age, b->overlap);
	if (b->names < 1.0)
		fail_msg("%s: %.0f%% name everyone", b->age, 100 * b->names);
	assert_true(b->bigrams > 0.5 && b->bigrams <= 1.0);
}

static void eval_sample_meets_the_targets(void **state)
{
	struct sv_story_eval *e = malloc(sizeof(*e));
	struct sv_err err = {0};
	assert_non_null(e);
	assert_int_equal(sv_story_eval_run(cat, 60, 1, e, &err), 0);
	assert_int_equal(e->n_bands, (int)cat->n_ages);
	for (int k = 0; k < e->n_bands; k++) {
		assert_true(e->bands[k].has_target);
		check_band(&e->bands[k]);
	}
	assert_int_equal(e->all.stories, 60);
	for (int d = 0; d < SV_STORY_EVAL_DIMS; d++)
		if (e->cover[d].used != e->cover[d].of)
			fail_msg("%s: %d of %d in the sample", e->cover[d].what, e->cover[d].used,
			         e->cover[d].of);
	free(e);
}

static void eval_is_deterministic(void **state)
{
	struct sv_story_eval *e = malloc(sizeof(*e));
	struct sv_err err = {0};
	assert_non_null(e);
	char *dumps[3];
	const uint64_t seeds[3] = {5, 5, 6};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sv_story_eval_run(cat, 9, seeds[i], e, &err), 0);
		json_t *doc = sv_story_eval_json(e);
		assert_non_null(doc);
		dumps[i] = json_dumps(doc, JSON_SORT_KEYS);
		json_decref(doc);
	}
	assert_string_equal(dumps[0], dumps[1]);
	assert_string_not_equal(dumps[0], dumps[2]);
	json_t *doc = json_loads(dumps[0], 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(doc, "n")), 9);
	assert_int_equal(json_array_size(json_object_get(doc, "bands")), cat->n_ages);
	assert_true(json_is_null(json_object_get(
	    json_object_get(json_array_get(json_object_get(doc, "bands"), 0), "target"), "min")));
	json_decref(doc);
	for (int i = 0; i < 3; i++)
		free(dumps[i]);
	free(e);
}

/* Every theme x moral x age x length, with the universes and heroes in turn:
 * all generate, none repeats a sentence, all name their cast, and at least
 * 90% of each age read in its band. */
static void every_combination_reads_right(void **state)
{
	int stories[8] = {0}, in_band[8] = {0}, k = 0;
	for (size_t t = 0; t < cat->n_themes; t++)
		for (size_t m = 0; m < cat->n_morals; m++)
			for (size_t a = 0; a < cat->n_ages && a < 8; a++)
				for (size_t l = 0; l < cat->n_lengths; l++, k++) {
					struct sv_story_params p;
					struct sv_err err = {0};
					sv_story_params_init(&p);
					strcpy(p.universe, cat->universes[k % cat->n_universes].id);
					strcpy(p.hero,
					       cat->characters[(k * 7) % cat->n_characters].id);
					strcpy(p.theme, cat->themes[t].id);
					strcpy(p.moral, cat->morals[m].id);
					strcpy(p.age, cat->ages[a].id);
					strcpy(p.length, cat->lengths[l].id);
					strcpy(p.child_name, "Kofi");
					p.seed = (uint64_t)k * 977 + 3;
					assert_int_equal(sv_story_params_validate(cat, &p, &err),
					                 0);
					json_t *s = sv_story_generate(cat, &p, NULL, NULL, &err);
					if (!s)
						fail_msg("%s/%s/%s/%s: %s", p.theme, p.moral, p.age,
						         p.length, err.message);
					struct sv_story_measure ms;
					assert_int_equal(sv_story_measure(s, &ms), 0);
					if (ms.repeated || !ms.names)
						fail_msg("%s/%s/%s/%s/%s/%s: %d repeats, names %d",
						         p.universe, p.hero, p.theme, p.moral,
						         p.age, p.length, ms.repeated, ms.names);
					const struct sv_grade_band *b =
					    sv_story_grade_band(cat->ages[a].level);
					stories[a]++;
					in_band[a] += ms.grade >= b->min && ms.grade <= b->max;
					json_decref(s);
				}
	for (size_t a = 0; a < cat->n_ages && a < 8; a++)
		if (in_band[a] * 10 < stories[a] * 9)
			fail_msg("%s: %d of %d in band", cat->ages[a].id, in_band[a], stories[a]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(syllables_of_known_words),
	    cmocka_unit_test(grade_of_known_text),
	    cmocka_unit_test(sentences_end_where_a_reader_stops),
	    cmocka_unit_test(spans_mark_the_dialogue),
	    cmocka_unit_test(spans_cover_every_role),
	    cmocka_unit_test(spans_name_the_speaker),
	    cmocka_unit_test(measure_counts_repeats_names_and_bigrams),
	    cmocka_unit_test(overlap_is_the_jaccard_of_sentences),
	    cmocka_unit_test(eval_sample_meets_the_targets),
	    cmocka_unit_test(eval_is_deterministic),
	    cmocka_unit_test(every_combination_reads_right),
	};
	return cmocka_run_group_tests(tests, sv_test_catalog_setup, sv_test_catalog_teardown);
}
