/*
 * The story writer's loop over pages, with providers written here: a page
 * whose answer passes the checks takes it (text, words, speaker spans, the
 * provider's name), one whose answer fails keeps its draft, the story's word
 * count follows, completion providers get the draft's opening to continue
 * and chat providers the page's plan, and a provider that fails stops the
 * story with its error.
 */
#include "story_support.h"
#include "textgen/textgen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A provider that answers every page from a fixed script and keeps what it
 * was asked; with answers, call n gets answers[n % nanswers]. */
struct scripted {
	const char *answer; /* "%s" is the hero's name */
	const char *const *answers;
	int nanswers;
	const char *hero;
	bool fail;
	int calls;
	char last_lead[2048], last_prompt[4096];
};

static int scripted_write(void *self, const struct sv_textgen_request *r, struct sv_buf *out,
                          struct sv_err *err)
{
	struct scripted *s = self;
	s->calls++;
	snprintf(s->last_lead, sizeof s->last_lead, "%s", r->lead);
	snprintf(s->last_prompt, sizeof s->last_prompt, "%s", r->prompt);
	if (s->fail)
		return sv_err_set(err, "upstream", "text_provider", "the server is away");
	const char *answer = s->nanswers ? s->answers[(s->calls - 1) % s->nanswers] : s->answer;
	return sv_buf_printf(out, answer, s->hero, s->hero);
}

static void scripted_free(void *self) {}

static const struct sv_textgen_ops scripted_ops = {"scripted", scripted_write, scripted_free};

static json_t *story_for(void)
{
	json_t *story = sv_test_story_in(0, 3);
	assert_non_null(story);
	return story;
}

/* Writes the story, expecting nothing to be held for review. */
static int write_story(struct sv_textgen *g, json_t *story, struct sv_err *err)
{
	json_t *review = NULL;
	int rc = sv_textgen_write_story(g, story, &review, err);
	assert_null(review);
	return rc;
}

static const char *hero_name(const json_t *story)
{
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(story, "cast"), i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "role")), "hero") == 0)
			return json_string_value(json_object_get(c, "name"));
	}
	return NULL;
}

/* A page of about sixty words that names the hero and has one line of speech. */
static const char good_page[] =
    "The morning sun was warm and golden over the meadow. %s hopped along the path with a "
    "basket of berries, humming a happy little tune. \"What a lovely day for a picnic!\" said "
    "%s, and everyone laughed. The friends shared the berries under the old oak tree, and the "
    "birds sang sweetly above them. Soon it was time to find the lost kite.";

static void test_pages_that_pass_take_the_model_text(void **state)
{
	json_t *story = story_for();
	struct scripted s = {.answer = good_page, .hero = hero_name(story)};
	struct sv_err err = {0};
	struct sv_textgen *g = sv_textgen_new_ops(&scripted_ops, &s, false, &err);
	assert_non_null(g);
	assert_int_equal(write_story(g, story, &err), 0);
	json_t *pages = json_object_get(story, "pages");
	assert_int_equal(s.calls, (int)json_array_size(pages));
	size_t i;
	json_t *page;
	json_int_t words = 0;
	int taken = 0;
	json_array_foreach(pages, i, page)
	{
		const char *text = json_string_value(json_object_get(page, "text"));
		const char *provider = json_string_value(json_object_get(page, "text_provider"));
		words += json_integer_value(json_object_get(page, "words"));
		/* A page too short for its plan keeps the draft; the others take the answer. */
		if (strcmp(provider, "grammar") == 0)
			continue;
		assert_string_equal(provider, "scripted");
		taken++;
		assert_non_null(strstr(text, "What a lovely day"));
		json_t *span = json_array_get(json_object_get(page, "spans"), 0);
		assert_string_equal(json_string_value(json_object_get(span, "speaker")), "hero");
		size_t start = (size_t)json_integer_value(json_object_get(span, "start"));
		assert_memory_equal(text + start, "What a lovely", 13);
	}
	assert_true(taken > 0);
	assert_int_equal(json_integer_value(json_object_get(story, "word_count")), words);
	/* The chat prompt carries the plan: the place and the page's cast. */
	assert_non_null(strstr(s.last_prompt, "Characters on this page:"));
	assert_non_null(strstr(s.last_prompt, "A draft to improve on:"));
	sv_textgen_free(g);
	json_decref(story);
}

static void test_pages_that_fail_keep_their_draft(void **state)
{
	json_t *story = story_for();
	json_t *before = json_deep_copy(story);
	/* Names nobody on the page, and is far too short. */
	struct scripted s = {.answer = "Zork went %s%s away.", .hero = ""};
	struct sv_err err = {0};
	struct sv_textgen *g = sv_textgen_new_ops(&scripted_ops, &s, true, &err);
	assert_int_equal(write_story(g, story, &err), 0);
	size_t i;
	json_t *page;
	json_array_foreach(json_object_get(story, "pages"), i, page)
	{
		json_t *was = json_array_get(json_object_get(before, "pages"), i);
		assert_string_equal(json_string_value(json_object_get(page, "text")),
		                    json_string_value(json_object_get(was, "text")));
		assert_string_equal(json_string_value(json_object_get(page, "text_provider")),
		                    "grammar");
	}
	/* A completion provider continues the draft's opening, which names the hero. */
	assert_non_null(strstr(s.last_lead, hero_name(story)));
	sv_textgen_free(g);
	json_decref(before);
	json_decref(story);
}

static void test_a_failing_provider_stops_the_story(void **state)
{
	json_t *story = story_for();
	struct scripted s = {.answer = good_page, .hero = hero_name(story), .fail = true};
	struct sv_err err = {0};
	struct sv_textgen *g = sv_textgen_new_ops(&scripted_ops, &s, false, &err);
	assert_int_equal(write_story(g, story, &err), -1);
	assert_string_equal(err.code, "upstream");
	assert_int_equal(s.calls, 1);
	sv_textgen_free(g);
	json_decref(story);
}

static void test_grammar_leaves_the_story_alone(void **state)
{
	json_t *story = story_for(), *before = json_deep_copy(story);
	struct sv_err err = {0};
	struct sv_textgen *g = sv_textgen_new(SV_TEXTGEN_GRAMMAR, NULL, NULL, &err);
	assert_int_equal(write_story(g, story, &err), 0);
	assert_true(json_equal(story, before));
	/* The providers that need something say what. */
	assert_null(sv_textgen_new(SV_TEXTGEN_LOCAL, NULL, NULL, &err));
	assert_string_equal(err.field, "text_provider");
	enum sv_textgen_provider p;
	assert_int_equal(sv_textgen_provider_parse("openai", &p), 0);
	assert_int_equal(p, SV_TEXTGEN_OPENAI);
	assert_int_equal(sv_textgen_provider_parse("gpt", &p), -1);
	sv_textgen_free(g);
	json_decref(before);
	json_decref(story);
}

/* The same page with a stabbing in it: it passes every check but moderation. */
static const char unsafe_page[] =
    "The morning sun was warm and golden over the meadow. %s hopped along the path with a "
    "basket of berries, humming a happy little tune. \"What a lovely day for a picnic!\" said "
    "%s, and then stabbed the fox with a knife until it bled. The friends shared the berries "
    "under the old oak tree, and the birds sang. Soon it was time to find the lost kite.";

/* And with a fright a three-year-old gets softened: "scared of" -> "worried about". */
static const char scared_page[] =
    "The morning sun was warm and golden over the meadow, but %s was scared of the big "
    "puddles and hopped along the path with a basket of berries. \"What a lovely day for a "
    "picnic!\" said %s, and everyone laughed. The friends shared the berries under the old "
    "oak tree, and the birds sang sweetly above them. Soon it was time to find the lost kite.";

static struct sv_moderator *moderator(void)
{
	struct sv_err err = {0};
	struct sv_moderator *m = sv_moderate_new("en", &err);
	assert_non_null(m);
	return m;
}

/* A chat writer over s whose pages m checks, with two rewrites. */
static struct sv_textgen *guarded(struct scripted *s, const struct sv_moderator *m)
{
	struct sv_err err = {0};
	struct sv_textgen *g = sv_textgen_new_ops(&scripted_ops, s, false, &err);
	assert_non_null(g);
	sv_textgen_set_moderator(g, m, 2);
	return g;
}

static void set_age(json_t *story, const char *age)
{
	json_object_set_new(json_object_get(story, "parameters"), "age", json_string(age));
}

static int pages_by(const json_t *story, const char *provider)
{
	int n = 0;
	size_t i;
	const json_t *page;
	json_array_foreach(json_object_get(story, "pages"), i, page) n +=
	    strcmp(json_string_value(json_object_get(page, "text_provider")), provider) == 0;
	return n;
}

static int rewrites_of(const json_t *page)
{
	return (int)json_integer_value(
	    json_object_get(json_object_get(page, "moderation"), "rewrites"));
}

static void test_refused_pages_are_written_again(void **state)
{
	json_t *story = story_for();
	set_age(story, "6-8");
	const char *const answers[] = {unsafe_page, good_page};
	struct scripted s = {.answers = answers, .nanswers = 2, .hero = hero_name(story)};
	struct sv_err err = {0};
	struct sv_moderator *m = moderator();
	struct sv_textgen *g = guarded(&s, m);
	assert_int_equal(write_story(g, story, &err), 0);
	int taken = pages_by(story, "scripted"),
	    npages = (int)json_array_size(json_object_get(story, "pages"));
	assert_true(taken > 0);
	/* Every page the model could write was asked twice; the rest kept their drafts. */
	assert_int_equal(s.calls, 2 * taken + (npages - taken));
	size_t i;
	const json_t *page;
	json_array_foreach(json_object_get(story, "pages"), i, page)
	{
		const char *text = json_string_value(json_object_get(page, "text"));
		assert_null(strstr(text, "stabbed"));
		if (strcmp(json_string_value(json_object_get(page, "text_provider")), "scripted") ==
		    0)
			assert_int_equal(rewrites_of(page), 1);
	}
	sv_textgen_free(g);
	sv_moderate_free(m);
	json_decref(story);
}

static void test_pages_still_refused_are_held_for_review(void **state)
{
	json_t *story = story_for();
	set_age(story, "9-12");
	struct scripted s = {.answer = unsafe_page, .hero = hero_name(story)};
	struct sv_err err = {0};
	struct sv_moderator *m = moderator();
	struct sv_textgen *g = guarded(&s, m);
	json_t *review = NULL;
	assert_int_equal(sv_textgen_write_story(g, story, &review, &err), 0);
	int taken = pages_by(story, "scripted");
	int npages = (int)json_array_size(json_object_get(story, "pages"));
	assert_true(taken > 0);
	assert_int_equal(s.calls, 3 * taken + (npages - taken)); /* the first try and two more */
	assert_int_equal(json_array_size(review), taken);
	size_t i;
	const json_t *f;
	json_array_foreach(review, i, f)
	{
		assert_string_equal(json_string_value(json_object_get(f, "field")), "text");
		assert_int_equal(json_integer_value(json_object_get(f, "rewrites")), 2);
		const json_t *page =
		    json_array_get(json_object_get(story, "pages"),
		                   (size_t)json_integer_value(json_object_get(f, "page")) - 1);
		/* The page keeps the refused words, for the person who reads it. */
		assert_non_null(
		    strstr(json_string_value(json_object_get(page, "text")), "stabbed"));
		const json_t *cats = json_object_get(f, "categories");
		bool violence = false;
		for (size_t k = 0; k < json_array_size(cats); k++)
			violence |=
			    strcmp(json_string_value(json_array_get(cats, k)), "violence") == 0;
		assert_true(violence);
		const json_t *x = json_array_get(json_object_get(f, "matches"), 0);
		const char *text = json_string_value(json_object_get(page, "text"));
		size_t start = (size_t)json_integer_value(json_object_get(x, "start"));
		const char *words = json_string_value(json_object_get(x, "words"));
		assert_memory_equal(text + start, words, strlen(words));
	}
	json_decref(review);
	sv_textgen_free(g);
	sv_moderate_free(m);
	json_decref(story);
}

static void test_the_youngest_get_softer_words(void **state)
{
	json_t *story = story_for();
	set_age(story, "3-5");
	struct scripted s = {.answer = scared_page, .hero = hero_name(story)};
	struct sv_err err = {0};
	struct sv_moderator *m = moderator();
	struct sv_textgen *g = guarded(&s, m);
	assert_int_equal(write_story(g, story, &err), 0);
	assert_true(pages_by(story, "scripted") > 0);
	assert_int_equal(s.calls, (int)json_array_size(json_object_get(story, "pages")));
	size_t i;
	const json_t *page;
	json_array_foreach(json_object_get(story, "pages"), i, page)
	{
		if (strcmp(json_string_value(json_object_get(page, "text_provider")), "scripted") !=
		    0)
			continue;
		const char *text = json_string_value(json_object_get(page, "text"));
		assert_null(strstr(text, "scared"));
		assert_non_null(strstr(text, "was worried about the big puddles"));
		const json_t *mod = json_object_get(page, "moderation");
		assert_int_equal(json_integer_value(json_object_get(mod, "softened")), 1);
		assert_int_equal(rewrites_of(page), 0);
		/* The speech still starts where its span says, after the longer words. */
		json_t *span = json_array_get(json_object_get(page, "spans"), 0);
		size_t start = (size_t)json_integer_value(json_object_get(span, "start"));
		assert_memory_equal(text + start, "What a lovely", 13);
	}
	sv_textgen_free(g);
	sv_moderate_free(m);
	json_decref(story);
}

/* Our own grammar realiser writes nothing moderation refuses, for any world
 * and age group: at 3-5 its mild frights are softened, never held. */
static void test_grammar_stories_pass_their_age(void **state)
{
	static const char *const ages[] = {"3-5", "6-8", "9-12"};
	struct sv_err err = {0};
	struct sv_moderator *m = moderator();
	size_t nuniverses = json_array_size(json_object_get(sv_test_catalog_json, "universes"));
	for (size_t u = 0; u < nuniverses; u++)
		for (size_t a = 0; a < 3; a++) {
			json_t *story = sv_test_story_aged(u, ages[a], 7 + u);
			assert_non_null(story);
			struct sv_textgen *g = sv_textgen_new(SV_TEXTGEN_GRAMMAR, NULL, NULL, &err);
			sv_textgen_set_moderator(g, m, 2);
			json_t *review = NULL;
			assert_int_equal(sv_textgen_write_story(g, story, &review, &err), 0);
			if (review) {
				char *why = json_dumps(review, JSON_COMPACT);
				fprintf(stderr, "universe %zu, ages %s: %s\n", u, ages[a], why);
				free(why);
			}
			assert_null(review);
			sv_textgen_free(g);
			json_decref(story);
		}
	sv_moderate_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pages_that_pass_take_the_model_text),
	    cmocka_unit_test(test_pages_that_fail_keep_their_draft),
	    cmocka_unit_test(test_a_failing_provider_stops_the_story),
	    cmocka_unit_test(test_grammar_leaves_the_story_alone),
	    cmocka_unit_test(test_refused_pages_are_written_again),
	    cmocka_unit_test(test_pages_still_refused_are_held_for_review),
	    cmocka_unit_test(test_the_youngest_get_softer_words),
	    cmocka_unit_test(test_grammar_stories_pass_their_age),
	};
	return cmocka_run_group_tests(tests, sv_test_catalog_json_setup,
	                              sv_test_catalog_json_teardown);
}
