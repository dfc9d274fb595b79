/*
 * Unit tests for textgen's post-processing (sv_textgen_clean): what is cut
 * and dropped from a model's raw text, what is kept, the checks that send a
 * page back to its draft, and the speaker spans over quoted speech.
 */
#include "story/story.h"
#include "textgen/textgen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- helpers ---- */

static const char *const names[] = {"Pip", "Mia"};
static const char *const roles[] = {"hero", "sidekick"};

static struct sv_textgen_check want_of(int min_words, int max_words)
{
	return (struct sv_textgen_check){names, roles, 2, min_words, max_words};
}

/* Cleans raw with the usual cast and no real length limits; fails unless accepted. */
static char *clean_ok(const char *raw, json_t **spans)
{
	struct sv_textgen_check want = want_of(1, 1000);
	struct sv_buf out;
	struct sv_err err = {0};
	json_t *sp = NULL;
	sv_buf_init(&out);
	int rc = sv_textgen_clean(raw, &want, &out, &sp, &err);
	if (rc != 0)
		fail_msg("clean(%s) = %d: %s", raw, rc, err.message);
	assert_non_null(sp);
	if (spans)
		*spans = sp;
	else
		json_decref(sp);
	return sv_buf_steal(&out);
}

static void assert_clean(const char *raw, const char *want)
{
	char *got = clean_ok(raw, NULL);
	assert_string_equal(got, want);
	free(got);
}

/* Fails unless want rejects raw with code "rejected" and a message holding why. */
static void assert_rejected(const char *raw, struct sv_textgen_check want, const char *why)
{
	struct sv_buf out;
	struct sv_err err = {0};
	json_t *sp = (json_t *)1;
	sv_buf_init(&out);
	assert_int_equal(sv_textgen_clean(raw, &want, &out, &sp, &err), 1);
	assert_null(sp);
	assert_string_equal(err.code, "rejected");
	assert_string_equal(err.field, "text");
	if (!strstr(err.message, why))
		fail_msg("message '%s' does not say '%s'", err.message, why);
	sv_buf_free(&out);
}

static int words_of(const char *text)
{
	struct sv_story_text_stats st;
	sv_story_text_stats(text, &st);
	return st.words;
}

/* Checks span i of spans: its speech (text[start, end)), the marks around it, its speaker. */
static void assert_span(const char *text, const json_t *spans, size_t i, const char *speech,
                        const char *open, const char *close, const char *speaker)
{
	const json_t *sp = json_array_get(spans, i);
	assert_non_null(sp);
	size_t start = (size_t)json_integer_value(json_object_get(sp, "start"));
	size_t end = (size_t)json_integer_value(json_object_get(sp, "end"));
	assert_true(start >= strlen(open) && end >= start && end <= strlen(text));
	assert_int_equal(end - start, strlen(speech));
	assert_memory_equal(text + start, speech, strlen(speech));
	assert_memory_equal(text + start - strlen(open), open, strlen(open));
	assert_memory_equal(text + end, close, strlen(close));
	assert_string_equal(json_string_value(json_object_get(sp, "speaker")), speaker);
}

/* ---- sentences ---- */

static void test_unfinished_last_sentence_is_cut(void **state)
{
	(void)state;
	assert_clean("Pip ran to the hill. He saw a big", "Pip ran to the hill.");
	assert_clean("Pip ran. Did Mia see? Yes! And then", "Pip ran. Did Mia see? Yes!");
}

static void test_closing_quote_stays_with_last_sentence(void **state)
{
	(void)state;
	assert_clean("Pip said, \"Look at the sky!\" Then the", "Pip said, \"Look at the sky!\"");
	assert_clean("Pip rested (it was late.) The moon", "Pip rested (it was late.)");
	assert_clean("Pip said, \xe2\x80\x9cLook!\xe2\x80\x9d And so",
	             "Pip said, \xe2\x80\x9cLook!\xe2\x80\x9d");
}

static void test_mark_inside_a_word_is_no_sentence_end(void **state)
{
	(void)state;
	assert_clean("Pip ate 2.5 cakes. It was 3.5", "Pip ate 2.5 cakes.");
}

static void test_no_whole_sentence_is_too_short(void **state)
{
	(void)state;
	assert_rejected("Pip ran to the", want_of(0, 100), "too short");
	assert_rejected("", want_of(0, 100), "too short");
}

static void test_first_letter_is_capitalised(void **state)
{
	(void)state;
	assert_clean("the dog barked at Pip.", "The dog barked at Pip.");
	assert_clean("\"hello,\" said Pip.", "\"Hello,\" said Pip.");
}

/* ---- what is dropped ---- */

static void test_markdown_emphasis_and_headings_are_dropped(void **state)
{
	(void)state;
	assert_clean("**Pip** walked to the _big_ tree. `Mia` waved. ~~No~~ Yes.",
	             "Pip walked to the big tree. Mia waved. No Yes.");
	assert_clean("# The Long Walk\n\nPip walked home.", "Pip walked home.");
	assert_clean("## Pip woke up.\n> Mia yawned.\n- They ate.\n\n---\n\nThe end.",
	             "Pip woke up. Mia yawned. They ate.\n\nThe end.");
	assert_clean("Pip met a snake_case worm.", "Pip met a snake_case worm.");
}

static void test_chat_preamble_is_dropped(void **state)
{
	(void)state;
	assert_clean("Sure! Here is the page:\n\nPip woke up early.", "Pip woke up early.");
	assert_clean("Here's page 3 of the story:\nPip woke up early.", "Pip woke up early.");
	assert_clean("**Page 3:**\n\nPip woke up early.", "Pip woke up early.");
	assert_clean("Page 3: Pip woke up early.", "Pip woke up early.");
	/* only at the start, and only a line that ends with ':' */
	assert_clean("Pip looked at the map.\nHere is the way:\nIt was old.",
	             "Pip looked at the map. Here is the way: It was old.");
}

static void test_model_tokens_are_dropped(void **state)
{
	(void)state;
	assert_clean("Pip slept well.<|endoftext|>Unrelated text follows.", "Pip slept well.");
	assert_clean("<|im_start|>assistant\nPip slept.<|im_end|>\n<|im_start|>user", "Pip slept.");
	assert_clean("<s>Pip <|pad|>slept.</s> More.", "Pip slept.");
}

static void test_control_characters_are_dropped(void **state)
{
	(void)state;
	assert_clean("Pip\x01 ran\tto\x1b the\r\nhill.\x7f\r\rMia\x0c came.",
	             "Pip ran to the hill.\n\nMia came.");
	assert_clean("Pip\xc2\x85 ran\xe2\x80\x8b home.\xef\xbb\xbf", "Pip ran home.");
}

static void test_invalid_utf8_is_dropped(void **state)
{
	(void)state;
	assert_clean("Pip \xff\xfe"
	             "ate a cr\xc3\xa8me cake. \xe2\x80 Yum\xc0\xaf. \xed\xa0\x80"
	             "Done.",
	             "Pip ate a cr\xc3\xa8me cake. Yum. Done.");
}

static void test_wrapping_quotes_are_dropped(void **state)
{
	(void)state;
	assert_clean("\"Pip ran home. Mia followed.\"", "Pip ran home. Mia followed.");
	assert_clean("\xe2\x80\x9c Pip ran home.\xe2\x80\x9d", "Pip ran home.");
	/* quotes that are speech stay */
	assert_clean("\"Look!\" said Pip. \"Run!\"", "\"Look!\" said Pip. \"Run!\"");
}

/* ---- whitespace ---- */

static void test_paragraphs_are_kept_and_lines_folded(void **state)
{
	(void)state;
	assert_clean("Pip woke.\n\n\n\nMia\nwaved.\n \t\nThey ran.",
	             "Pip woke.\n\nMia waved.\n\nThey ran.");
}

static void test_spaces_are_folded_and_trimmed(void **state)
{
	(void)state;
	assert_clean("  \n  Pip    ran  \xc2\xa0 fast.   \n\n", "Pip ran fast.");
}

/* ---- length ---- */

static void test_max_words_cuts_whole_sentences(void **state)
{
	(void)state;
	const char *raw = "Pip ran up the hill. Mia ran down the hill. They met at the gate.";
	struct sv_textgen_check want = want_of(1, 11);
	struct sv_buf out;
	struct sv_err err;
	json_t *sp;
	sv_buf_init(&out);
	assert_int_equal(sv_textgen_clean(raw, &want, &out, &sp, &err), 0);
	assert_string_equal(out.data, "Pip ran up the hill. Mia ran down the hill.");
	assert_true(words_of(out.data) <= 11);
	json_decref(sp);
	/* exactly max words: nothing is cut */
	want.max_words = 15;
	assert_int_equal(sv_textgen_clean(raw, &want, &out, &sp, &err), 0);
	assert_string_equal(out.data, raw);
	json_decref(sp);
	sv_buf_free(&out);
}

static void test_max_words_keeps_one_sentence(void **state)
{
	(void)state;
	struct sv_textgen_check want = want_of(1, 3);
	struct sv_buf out;
	struct sv_err err;
	json_t *sp;
	sv_buf_init(&out);
	assert_int_equal(
	    sv_textgen_clean("Pip ran up the big hill. Mia ran.", &want, &out, &sp, &err), 0);
	assert_string_equal(out.data, "Pip ran up the big hill.");
	json_decref(sp);
	sv_buf_free(&out);
}

static void test_too_few_words_are_rejected(void **state)
{
	(void)state;
	assert_rejected("Pip ran home. The", want_of(10, 100), "3 words, fewer than 10");
	/* a lone dash is no word, as in the story module's count */
	assert_rejected("Pip ran - home.", want_of(4, 100), "3 words, fewer than 4");
}

static void test_missing_hero_is_rejected(void **state)
{
	(void)state;
	assert_rejected("Mia ran home.", want_of(1, 100), "Pip");
	/* a whole word, with its case */
	assert_rejected("Pipkin ran home.", want_of(1, 100), "Pip");
	assert_rejected("the dog saw pip.", want_of(1, 100), "Pip");
	assert_clean("Pip's hat flew. Mia's did not.", "Pip's hat flew. Mia's did not.");
}

static void test_other_names_are_optional(void **state)
{
	(void)state;
	assert_clean("Pip ran home alone.", "Pip ran home alone.");
}

static void test_out_is_replaced(void **state)
{
	(void)state;
	struct sv_textgen_check want = want_of(1, 100);
	struct sv_buf out;
	struct sv_err err;
	json_t *sp;
	sv_buf_init(&out);
	assert_int_equal(sv_buf_puts(&out, "an old page"), 0);
	assert_int_equal(sv_textgen_clean("Pip sat.", &want, &out, &sp, &err), 0);
	assert_string_equal(out.data, "Pip sat.");
	assert_int_equal(out.len, strlen("Pip sat."));
	json_decref(sp);
	sv_buf_free(&out);
}

/* ---- speaker spans ---- */

#define LQ "\xe2\x80\x9c"
#define RQ "\xe2\x80\x9d"

static void test_span_speaker_named_after_the_quote(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok("Pip looked up. \"Look at the stars!\" said Mia.", &sp);
	assert_int_equal(json_array_size(sp), 1);
	assert_span(t, sp, 0, "Look at the stars!", "\"", "\"", "sidekick");
	json_decref(sp);
	free(t);
}

static void test_span_speaker_named_before_the_quote(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok("Mia smiled. Pip said, \"Come with me.\" Then Mia laughed.", &sp);
	assert_int_equal(json_array_size(sp), 1);
	assert_span(t, sp, 0, "Come with me.", "\"", "\"", "hero");
	json_decref(sp);
	free(t);
}

static void test_span_curly_quotes(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok(LQ "Hello, Mia," RQ " said Pip. Mia waved.", &sp);
	assert_int_equal(json_array_size(sp), 1);
	assert_span(t, sp, 0, "Hello, Mia,", LQ, RQ, "hero");
	json_decref(sp);
	free(t);
}

static void test_span_without_a_name_is_the_narrator(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok("Pip looked up. \"Hoo,\" said the owl.", &sp);
	assert_int_equal(json_array_size(sp), 1);
	assert_span(t, sp, 0, "Hoo,", "\"", "\"", "narrator");
	json_decref(sp);
	free(t);
}

static void test_span_broken_by_its_tag_keeps_the_speaker(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok("\"Hello,\" said Mia. \"Come in.\"\n\nPip went in.", &sp);
	assert_int_equal(json_array_size(sp), 2);
	assert_span(t, sp, 0, "Hello,", "\"", "\"", "sidekick");
	assert_span(t, sp, 1, "Come in.", "\"", "\"", "sidekick");
	json_decref(sp);
	free(t);
}

static void test_span_offsets_point_into_the_cleaned_text(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok("Sure! Here it is:\n\n**Pip**   said,\n\"Hi  there,\xff Mia.\" She "
	                   "waved.\n\n\n\"Hi!\" Mia said.",
	                   &sp);
	assert_string_equal(t, "Pip said, \"Hi there, Mia.\" She waved.\n\n\"Hi!\" Mia said.");
	assert_int_equal(json_array_size(sp), 2);
	assert_span(t, sp, 0, "Hi there, Mia.", "\"", "\"", "hero");
	assert_span(t, sp, 1, "Hi!", "\"", "\"", "sidekick");
	json_decref(sp);
	free(t);
}

static void test_no_span_for_an_unclosed_quote(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok("Pip said, \"Wait.\n\nMia waited.", &sp);
	assert_int_equal(json_array_size(sp), 0);
	json_decref(sp);
	free(t);
}

static void test_no_spans_without_quotes(void **state)
{
	(void)state;
	json_t *sp;
	char *t = clean_ok("Pip sat by the fire.", &sp);
	assert_true(json_is_array(sp));
	assert_int_equal(json_array_size(sp), 0);
	json_decref(sp);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unfinished_last_sentence_is_cut),
	    cmocka_unit_test(test_closing_quote_stays_with_last_sentence),
	    cmocka_unit_test(test_mark_inside_a_word_is_no_sentence_end),
	    cmocka_unit_test(test_no_whole_sentence_is_too_short),
	    cmocka_unit_test(test_first_letter_is_capitalised),
	    cmocka_unit_test(test_markdown_emphasis_and_headings_are_dropped),
	    cmocka_unit_test(test_chat_preamble_is_dropped),
	    cmocka_unit_test(test_model_tokens_are_dropped),
	    cmocka_unit_test(test_control_characters_are_dropped),
	    cmocka_unit_test(test_invalid_utf8_is_dropped),
	    cmocka_unit_test(test_wrapping_quotes_are_dropped),
	    cmocka_unit_test(test_paragraphs_are_kept_and_lines_folded),
	    cmocka_unit_test(test_spaces_are_folded_and_trimmed),
	    cmocka_unit_test(test_max_words_cuts_whole_sentences),
	    cmocka_unit_test(test_max_words_keeps_one_sentence),
	    cmocka_unit_test(test_too_few_words_are_rejected),
	    cmocka_unit_test(test_missing_hero_is_rejected),
	    cmocka_unit_test(test_other_names_are_optional),
	    cmocka_unit_test(test_out_is_replaced),
	    cmocka_unit_test(test_span_speaker_named_after_the_quote),
	    cmocka_unit_test(test_span_speaker_named_before_the_quote),
	    cmocka_unit_test(test_span_curly_quotes),
	    cmocka_unit_test(test_span_without_a_name_is_the_narrator),
	    cmocka_unit_test(test_span_broken_by_its_tag_keeps_the_speaker),
	    cmocka_unit_test(test_span_offsets_point_into_the_cleaned_text),
	    cmocka_unit_test(test_no_span_for_an_unclosed_quote),
	    cmocka_unit_test(test_no_spans_without_quotes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
