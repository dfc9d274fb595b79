/*
 * storyverse-moderate-bench: how fast the moderator reads text on one core —
 * page by page as the text worker checks a story (softening included), and
 * a whole book as one text — in megabytes per second, and how long checking
 * one whole book takes.
 *
 *   storyverse-moderate-bench [--stories N]
 *
 * Prints "check kind=pages mbps=X", "check kind=book mbps=X us_per_book=Y"
 * and "soften kind=pages mbps=X".
 */
#include "moderate/moderate.h"
#include "bench_story.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SECONDS 1.0 /* each measure repeats until it has run this long */

static int fail(const struct sv_err *err)
{
	fprintf(stderr, "storyverse-moderate-bench: %s\n", err->message);
	return 1;
}

struct sample {
	const char **pages;
	size_t npages, bytes;
	struct sv_buf book; /* every page of the first story, one after another */
};

enum how { CHECK_PAGES, CHECK_BOOK, SOFTEN_PAGES };

/* One pass over the sample; the bytes read. */
static int pass(const struct sv_moderator *m, const struct sample *s, enum how how, size_t *bytes,
                struct sv_err *err)
{
	struct sv_moderate_result r;
	if (how == CHECK_BOOK) {
		*bytes += s->book.len;
		return sv_moderate_check(m, s->book.data, s->book.len, "6-8", &r, err);
	}
	struct sv_buf out;
	sv_buf_init(&out);
	struct sv_moderate_softened edits;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->npages; i++) {
		size_t len = strlen(s->pages[i]);
		rc = how == SOFTEN_PAGES
		         ? sv_moderate_soften(m, s->pages[i], len, "3-5", 0, &out, &edits, &r, err)
		         : sv_moderate_check(m, s->pages[i], len, "6-8", &r, err);
		*bytes += len;
	}
	sv_buf_free(&out);
	return rc;
}

/* Megabytes per second over repeated passes, and the seconds one pass took. */
static int measure(const struct sv_moderator *m, const struct sample *s, enum how how, double *mbps,
                   double *per_pass, struct sv_err *err)
{
	size_t bytes = 0, passes = 0;
	int64_t start = sv_time_mono_ns();
	double took = 0;
	while (took < MIN_SECONDS) {
		if (pass(m, s, how, &bytes, err) < 0)
			return -1;
		passes++;
		took = (double)(sv_time_mono_ns() - start) / 1e9;
	}
	*mbps = (double)bytes / 1e6 / took;
	*per_pass = took / (double)passes;
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc == 3 && strcmp(argv[1], "--stories") == 0 ? (size_t)atoi(argv[2]) : 16;
	if (n < 1 || n > 256) {
		fprintf(stderr, "usage: storyverse-moderate-bench [--stories 1..256]\n");
		return 2;
	}
	struct sv_err err = {0};
	struct sv_catalog *c = sv_story_catalog_new("en", &err);
	json_t *catalog = c ? sv_story_catalog_json(c) : NULL;
	struct sv_moderator *m = sv_moderate_new("en", &err);
	json_t *stories = json_array();
	struct sample s = {0};
	sv_buf_init(&s.book);
	if (!c || !catalog || !m || !stories)
		return fail(&err);
	for (size_t i = 0; i < n; i++) {
		json_t *story = bench_story(c, catalog, i);
		if (!story)
			return fail(&err);
		json_array_append_new(stories, story);
		s.npages += json_array_size(json_object_get(story, "pages"));
	}
	if (!(s.pages = calloc(s.npages, sizeof *s.pages)))
		return 1;
	size_t k = 0, si;
	json_t *story;
	json_array_foreach(stories, si, story)
	{
		size_t i;
		json_t *page;
		json_array_foreach(json_object_get(story, "pages"), i, page)
		{
			s.pages[k] = json_string_value(json_object_get(page, "text"));
			s.bytes += strlen(s.pages[k]);
			if (si == 0 && (sv_buf_puts(&s.book, s.pages[k]) < 0 ||
			                sv_buf_puts(&s.book, "\n\n") < 0))
				return 1;
			k++;
		}
	}
	double mbps, per;
	if (measure(m, &s, CHECK_PAGES, &mbps, &per, &err) < 0)
		return fail(&err);
	printf("check kind=pages pages=%zu bytes=%zu mbps=%.1f\n", s.npages, s.bytes, mbps);
	if (measure(m, &s, CHECK_BOOK, &mbps, &per, &err) < 0)
		return fail(&err);
	printf("check kind=book bytes=%zu mbps=%.1f us_per_book=%.0f\n", s.book.len, mbps,
	       per * 1e6);
	if (measure(m, &s, SOFTEN_PAGES, &mbps, &per, &err) < 0)
		return fail(&err);
	printf("soften kind=pages mbps=%.1f\n", mbps);
	free(s.pages);
	sv_buf_free(&s.book);
	json_decref(stories);
	sv_moderate_free(m);
	json_decref(catalog);
	sv_story_catalog_free(c);
	return 0;
}
