/*
 * storyverse-narrate-bench: how much faster than real time narration runs
 * on one core — each speech synthesiser alone (every page of the sample in
 * the narrator's voice), the music alone, and the whole pipeline (speech in
 * every voice, music, mixing, loudness, Opus for each page and the story,
 * MP3) — as seconds of audio made per second of work.
 *
 *   storyverse-narrate-bench [--stories N]
 *
 * Prints "tts provider=P rtf=X", "music rtf=X" and "pipeline provider=P rtf=X".
 */
#include "narrate/narrate.h"
#include "bench_story.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double seconds_since(int64_t start)
{
	return (double)(sv_time_mono_ns() - start) / 1e9;
}

static int fail(const struct sv_err *err)
{
	fprintf(stderr, "storyverse-narrate-bench: %s\n", err->message);
	return 1;
}

/* Speaks every page in the narrator's voice; audio seconds per second. */
static int bench_tts(const struct sv_tts_ops *ops, void *self, const char *provider,
                     json_t **stories, size_t n, double *rtf, struct sv_err *err)
{
	struct sv_voice v;
	sv_narrate_cast(NULL, provider, &v);
	struct sv_pcm pcm = {0};
	struct sv_words words = {0};
	double audio = 0;
	int64_t start = sv_time_mono_ns();
	for (size_t s = 0; s < n; s++) {
		size_t i;
		const json_t *page;
		json_array_foreach(json_object_get(stories[s], "pages"), i, page)
		{
			pcm.n = words.n = 0;
			if (ops->speak(self, &v, json_string_value(json_object_get(page, "text")),
			               &pcm, &words, err) < 0)
				return -1;
			audio += sv_pcm_seconds(&pcm);
		}
	}
	*rtf = audio / seconds_since(start);
	sv_pcm_free(&pcm);
	sv_words_free(&words);
	return 0;
}

static int discard(void *ctx, const char *name, const char *type, const void *data, size_t len,
                   struct sv_err *err)
{
	*(size_t *)ctx += len;
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc == 3 && strcmp(argv[1], "--stories") == 0 ? (size_t)atoi(argv[2]) : 4;
	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: storyverse-narrate-bench [--stories 1..64]\n");
		return 2;
	}
	struct sv_err err = {0};
	struct sv_catalog *c = sv_story_catalog_new("en", &err);
	json_t *catalog = c ? sv_story_catalog_json(c) : NULL;
	json_t **stories = calloc(n, sizeof *stories);
	if (!c || !catalog || !stories)
		return fail(&err);
	for (size_t i = 0; i < n; i++)
		if (!(stories[i] = bench_story(c, catalog, i)))
			return fail(&err);

	static const struct {
		const char *name;
		const struct sv_tts_ops *ops;
		void *(*open)(struct sv_err *);
	} tts[] = {{"espeak-ng", &sv_tts_espeak_ops, sv_tts_espeak_new},
	           {"flite", &sv_tts_flite_ops, sv_tts_flite_new}};
	for (size_t t = 0; t < sizeof tts / sizeof tts[0]; t++) {
		void *self = tts[t].open(&err);
		double rtf;
		if (!self || bench_tts(tts[t].ops, self, tts[t].name, stories, n, &rtf, &err) < 0)
			return fail(&err);
		tts[t].ops->free(self);
		printf("tts provider=%s rtf=%.0f\n", tts[t].name, rtf);
	}

	struct sv_music *m = sv_music_new(NULL, &err);
	struct sv_pcm music = {0};
	int64_t start = sv_time_mono_ns();
	if (!m || sv_music_render(m, "cheerful", 1, 120.0, &music, &err) < 0 ||
	    sv_music_render(m, "sleepy", 2, 120.0, &music, &err) < 0)
		return fail(&err);
	printf("music rtf=%.0f\n", sv_pcm_seconds(&music) / seconds_since(start));
	sv_pcm_free(&music);
	sv_music_free(m);

	for (size_t t = 0; t < sizeof tts / sizeof tts[0]; t++) {
		struct sv_narrate_options o = {.tts = tts[t].name, .music = true, .mp3 = true};
		struct sv_narrator *nr = sv_narrator_new(&o, &err);
		if (!nr)
			return fail(&err);
		double audio = 0;
		size_t bytes = 0;
		start = sv_time_mono_ns();
		for (size_t s = 0; s < n; s++) {
			json_t *copy = json_deep_copy(stories[s]);
			if (!copy || sv_narrate_story(nr, copy, discard, &bytes, &err) < 0)
				return fail(&err);
			audio += (double)json_integer_value(json_object_get(
			             json_object_get(copy, "audio"), "duration_ms")) /
			         1000.0;
			json_decref(copy);
		}
		printf("pipeline provider=%s rtf=%.0f audio_s=%.0f\n", tts[t].name,
		       audio / seconds_since(start), audio);
		sv_narrator_free(nr);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(stories[i]);
	free(stories);
	json_decref(catalog);
	sv_story_catalog_free(c);
	return 0;
}
