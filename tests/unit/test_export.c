/*
 * Tests for the HTML exporter: everything from the story is escaped, every page
 * is there in order, the page stands alone, the output is deterministic, and a
 * document that is not a story is refused with the member at fault named.
 */
#include "export/export.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("bad test JSON: %s", jerr.text);
	return j;
}

static const char sample_story[] =
    "{\"format\":1,\"language\":\"en\",\"title\":\"Pip and the Moonlit Meadow\","
    "\"parameters\":{\"universe\":\"meadow\",\"hero\":\"pip\",\"child_name\":\"Ada\"},"
    "\"cast\":[{\"role\":\"hero\",\"id\":\"pip\",\"name\":\"Pip\",\"species\":\"fox\","
    "\"looks\":\"a small red fox with a white-tipped tail\"},"
    "{\"role\":\"child\",\"name\":\"Ada\",\"species\":\"child\"}],"
    "\"plan\":[\"setup\",\"problem\",\"ending\"],"
    "\"pages\":["
    "{\"number\":1,\"beat\":\"setup\",\"text\":\"Once upon a time, Pip met Ada.\","
    "\"scene\":{\"place\":\"meadow\",\"cast\":[\"pip\"],\"mood\":\"calm\"}},"
    "{\"number\":2,\"beat\":\"problem\",\"text\":\"The moon was lost.\\n\\nThey looked "
    "everywhere.\"},"
    "{\"number\":3,\"beat\":\"ending\",\"text\":\"They found it in the pond. Goodnight!\"}],"
    "\"word_count\":21}";

/* Counts the non-overlapping occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;
	size_t len = strlen(needle);
	for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
		n++;
	return n;
}

static void test_title_with_script_is_escaped(void **state)
{
	json_t *story = load(sample_story);
	json_object_set_new(story, "title", json_string("<script>alert('hi')</script> & co"));
	struct sv_err err;
	sv_err_clear(&err);
	char *html = sv_export_html(story, &err);
	assert_non_null(html);
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html,
	                       "<title>&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; &amp; co"
	                       "</title>"));
	assert_non_null(strstr(html, "<h1>&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt;"));
	free(html);
	json_decref(story);
}

static void test_every_story_string_is_escaped(void **state)
{
	json_t *story = load(sample_story);
	json_t *page = json_array_get(json_object_get(story, "pages"), 0);
	json_object_set_new(page, "text", json_string("Pip said <b>\"hello\"</b> & waved."));
	json_t *hero = json_array_get(json_object_get(story, "cast"), 0);
	json_object_set_new(hero, "name", json_string("<img src=x onerror=alert(1)>"));
	json_object_set_new(hero, "species", json_string("fox<i>"));
	json_object_set_new(hero, "looks", json_string("a fox in a <em>hat</em>"));
	json_object_set_new(json_object_get(story, "parameters"), "child_name",
	                    json_string("<u>Ada</u>"));
	json_object_set_new(story, "language", json_string("en\"><script>"));
	char *html = sv_export_html(story, NULL);
	assert_non_null(html);
	assert_null(strstr(html, "<b>"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "<i>"));
	assert_null(strstr(html, "<u>"));
	assert_null(strstr(html, "<em>"));
	assert_non_null(strstr(html, "a fox in a &lt;em&gt;hat&lt;/em&gt;"));
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "Pip said &lt;b&gt;&quot;hello&quot;&lt;/b&gt; &amp; waved."));
	assert_non_null(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
	assert_non_null(strstr(html, "A story for &lt;u&gt;Ada&lt;/u&gt;"));
	assert_non_null(strstr(html, "<html lang=\"en&quot;&gt;&lt;script&gt;\">"));
	free(html);
	json_decref(story);
}

static void test_all_pages_present_in_order(void **state)
{
	json_t *story = load(sample_story);
	char *html = sv_export_html(story, NULL);
	assert_non_null(html);
	const char *p1 = strstr(html, "Once upon a time, Pip met Ada.");
	const char *p2 = strstr(html, "The moon was lost.");
	const char *p3 = strstr(html, "They found it in the pond. Goodnight!");
	assert_non_null(p1);
	assert_non_null(p2);
	assert_non_null(p3);
	assert_true(p1 < p2 && p2 < p3);
	assert_int_equal(count(html, "<section class=\"page\""), 3);
	assert_non_null(strstr(html, "id=\"page-1\" aria-label=\"Page 1\""));
	assert_non_null(strstr(html, "id=\"page-2\" aria-label=\"Page 2\""));
	assert_non_null(strstr(html, "id=\"page-3\" aria-label=\"Page 3\""));
	/* A blank line in the text starts a new paragraph. */
	assert_non_null(strstr(html, "<p>The moon was lost.</p>\n<p>They looked everywhere.</p>"));
	free(html);
	json_decref(story);
}

static void test_page_numbers_default_to_position(void **state)
{
	json_t *story =
	    load("{\"title\":\"Short\",\"pages\":[{\"text\":\"One.\"},{\"text\":\"Two.\"}]}");
	char *html = sv_export_html(story, NULL);
	assert_non_null(html);
	assert_non_null(strstr(html, "aria-label=\"Page 1\""));
	assert_non_null(strstr(html, "aria-label=\"Page 2\""));
	/* Optional parts left out: no cast section, no dedication, no word count. */
	assert_null(strstr(html, "class=\"cast\""));
	assert_null(strstr(html, "A story for"));
	assert_null(strstr(html, " words"));
	free(html);
	json_decref(story);
}

static void test_chapters_get_escaped_headings(void **state)
{
	json_t *story = load("{\"title\":\"Long\",\"pages\":[{\"text\":\"One.\",\"chapter\":1,"
	                     "\"chapter_title\":\"Off <we> go\"},{\"text\":\"Two.\",\"chapter\":1},"
	                     "{\"text\":\"Three.\",\"chapter\":2,\"chapter_title\":\"Home\"}]}");
	char *html = sv_export_html(story, NULL);
	assert_non_null(html);
	assert_int_equal(count(html, "<h2 class=\"chapter\">"), 2);
	assert_non_null(strstr(html, "<h2 class=\"chapter\">Off &lt;we&gt; go</h2>"));
	const char *home = strstr(html, ">Home</h2>");
	assert_non_null(home);
	assert_true(home > strstr(html, "Two."));
	free(html);
	json_decref(story);
}

static void test_cast_and_details_are_shown(void **state)
{
	json_t *story = load(sample_story);
	char *html = sv_export_html(story, NULL);
	assert_non_null(html);
	assert_non_null(strstr(html, "Who is in this story"));
	assert_non_null(
	    strstr(html, "<span class=\"name\">Pip</span> <span class=\"about\">(fox, hero)"));
	assert_non_null(
	    strstr(html, "<span class=\"looks\">a small red fox with a white-tipped tail</span>"));
	/* A role that only repeats the species is said once. */
	assert_non_null(
	    strstr(html, "<span class=\"name\">Ada</span> <span class=\"about\">(child)"));
	assert_non_null(strstr(html, "A story for Ada"));
	assert_non_null(strstr(html, "21 words"));
	assert_non_null(strstr(html, "The end"));
	free(html);
	json_decref(story);
}

static void test_page_is_self_contained(void **state)
{
	json_t *story = load(sample_story);
	char *html = sv_export_html(story, NULL);
	assert_non_null(html);
	assert_int_equal(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32), 0);
	assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(html, "<style>"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "@import"));
	assert_null(strstr(html, "url("));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
	json_decref(story);
}

static void test_output_is_deterministic(void **state)
{
	json_t *a = load(sample_story);
	json_t *b = load(sample_story);
	char *ha = sv_export_html(a, NULL);
	char *hb = sv_export_html(b, NULL);
	char *ha2 = sv_export_html(a, NULL);
	assert_non_null(ha);
	assert_non_null(hb);
	assert_non_null(ha2);
	assert_string_equal(ha, hb);
	assert_string_equal(ha, ha2);
	free(ha);
	free(hb);
	free(ha2);
	json_decref(a);
	json_decref(b);
}

/* Renders text and expects a refusal naming field. */
static void expect_refused(const char *text, const char *field)
{
	json_t *story = load(text);
	struct sv_err err;
	sv_err_clear(&err);
	char *html = sv_export_html(story, &err);
	assert_null(html);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, field);
	assert_true(strlen(err.message) > 0);
	json_decref(story);
}

static void test_missing_pages_is_an_error(void **state)
{
	expect_refused("{\"title\":\"No pages\"}", "pages");
	expect_refused("{\"title\":\"Empty\",\"pages\":[]}", "pages");
	expect_refused("{\"title\":\"Wrong\",\"pages\":\"once upon a time\"}", "pages");
}

static void test_bad_documents_are_errors(void **state)
{
	expect_refused("[1,2,3]", "");
	expect_refused("{\"pages\":[{\"text\":\"Hi.\"}]}", "title");
	expect_refused("{\"title\":\"\",\"pages\":[{\"text\":\"Hi.\"}]}", "title");
	expect_refused("{\"title\":\"T\",\"pages\":[{\"text\":\"Hi.\"},{\"number\":2}]}",
	               "pages[1].text");
	expect_refused("{\"title\":\"T\",\"pages\":[{\"number\":0,\"text\":\"Hi.\"}]}",
	               "pages[0].number");
	expect_refused("{\"title\":\"T\",\"cast\":{},\"pages\":[{\"text\":\"Hi.\"}]}", "cast");
	expect_refused(
	    "{\"title\":\"T\",\"cast\":[{\"role\":\"hero\"}],\"pages\":[{\"text\":\"Hi.\"}]}",
	    "cast[0].name");
}

static void test_null_story_and_null_err(void **state)
{
	struct sv_err err;
	sv_err_clear(&err);
	assert_null(sv_export_html(NULL, &err));
	assert_string_equal(err.code, "invalid_value");
	/* err may be NULL when the caller does not want the reason. */
	json_t *story = load("{\"title\":\"T\"}");
	assert_null(sv_export_html(story, NULL));
	json_decref(story);
}

static void test_pictures_are_shown_with_alt_text(void **state)
{
	json_t *story = load(sample_story);
	json_t *pages = json_object_get(story, "pages");
	json_object_set_new(json_array_get(pages, 0), "picture",
	                    json_pack("{s:s,s:s}", "image", "images/page-01.png", "alt",
	                              "Pip the fox <at> the meadow"));
	/* Anything but a plain relative path is left out: the page shows nothing from elsewhere. */
	json_object_set_new(
	    json_array_get(pages, 1), "picture",
	    json_pack("{s:s,s:s}", "image", "https://example.com/x.png", "alt", "x"));
	json_object_set_new(json_array_get(pages, 2), "picture",
	                    json_pack("{s:s,s:s}", "image", "../secret.png", "alt", "x"));
	json_object_set_new(
	    story, "cover",
	    json_pack("{s:s,s:s}", "image", "images/cover.png", "alt", "The cover"));
	char *html = sv_export_html(story, NULL);
	assert_non_null(html);
	assert_non_null(strstr(html, "<img class=\"cover\" src=\"images/cover.png\" alt=\"The "
	                             "cover\" width=\"768\" height=\"1024\">"));
	assert_non_null(strstr(html, "<img class=\"picture\" src=\"images/page-01.png\" "
	                             "alt=\"Pip the fox &lt;at&gt; the meadow\""));
	assert_int_equal(count(html, "<img "), 2);
	assert_null(strstr(html, "example.com"));
	assert_null(strstr(html, "secret"));
	free(html);
	json_decref(story);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_title_with_script_is_escaped),
	    cmocka_unit_test(test_every_story_string_is_escaped),
	    cmocka_unit_test(test_all_pages_present_in_order),
	    cmocka_unit_test(test_page_numbers_default_to_position),
	    cmocka_unit_test(test_chapters_get_escaped_headings),
	    cmocka_unit_test(test_cast_and_details_are_shown),
	    cmocka_unit_test(test_page_is_self_contained),
	    cmocka_unit_test(test_pictures_are_shown_with_alt_text),
	    cmocka_unit_test(test_output_is_deterministic),
	    cmocka_unit_test(test_missing_pages_is_an_error),
	    cmocka_unit_test(test_bad_documents_are_errors),
	    cmocka_unit_test(test_null_story_and_null_err),
	};
	return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}
