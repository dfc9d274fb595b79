/*
 * Voice casting: every character of the catalog gets a voice each
 * synthesiser has, a character's voice depends on its entry alone (the same
 * in every story), the speakers of a story are told apart, and two of them
 * sound measurably different (pitch).
 */
#include "audio_support.h"
#include "narrate/narrate.h"
#include "story_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const providers[] = {"espeak-ng", "flite"};

static void *open_tts(const char *provider, const struct sv_tts_ops **ops)
{
	struct sv_err err = {0};
	*ops = strcmp(provider, "flite") == 0 ? &sv_tts_flite_ops : &sv_tts_espeak_ops;
	void *self =
	    strcmp(provider, "flite") == 0 ? sv_tts_flite_new(&err) : sv_tts_espeak_new(&err);
	if (!self)
		fail_msg("%s", err.message);
	return self;
}

static void speak(const struct sv_tts_ops *ops, void *self, const struct sv_voice *v,
                  const char *text, struct sv_pcm *pcm)
{
	struct sv_words w = {0};
	struct sv_err err = {0};
	if (ops->speak(self, v, text, pcm, &w, &err) < 0)
		fail_msg("%s %s: %s", v->provider, v->name, err.message);
	assert_true(w.n > 0);
	sv_words_free(&w);
}

static void every_character_has_a_voice_each_synthesiser_speaks(void **state)
{
	for (size_t p = 0; p < 2; p++) {
		const struct sv_tts_ops *ops;
		void *self = open_tts(providers[p], &ops);
		struct sv_voice v;
		sv_narrate_cast(NULL, providers[p], &v);
		struct sv_pcm pcm = {0};
		speak(ops, self, &v, "Hello there.", &pcm);
		size_t i;
		const json_t *c;
		json_array_foreach(json_object_get(sv_test_catalog_json, "characters"), i, c)
		{
			struct sv_voice again;
			sv_narrate_cast(c, providers[p], &v);
			sv_narrate_cast(c, providers[p], &again);
			assert_memory_equal(&v, &again, sizeof v); /* from the entry alone */
			assert_string_equal(v.provider, providers[p]);
			assert_true(v.pitch >= 5 && v.pitch <= 95 && v.rate >= 100 &&
			            v.rate <= 220);
			pcm.n = 0;
			speak(ops, self, &v, "Hello there.", &pcm);
		}
		sv_pcm_free(&pcm);
		ops->free(self);
	}
}

static int discard(void *ctx, const char *name, const char *type, const void *data, size_t len,
                   struct sv_err *err)
{
	*(size_t *)ctx += len;
	return 0;
}

static void voice_from_json(const json_t *j, struct sv_voice *v)
{
	*v = (struct sv_voice){.pitch = (int)json_integer_value(json_object_get(j, "pitch")),
	                       .range = (int)json_integer_value(json_object_get(j, "range")),
	                       .rate = (int)json_integer_value(json_object_get(j, "rate"))};
	snprintf(v->provider, sizeof v->provider, "%s",
	         json_string_value(json_object_get(j, "provider")));
	snprintf(v->name, sizeof v->name, "%s", json_string_value(json_object_get(j, "name")));
}

/* Every story's voices (narrator and cast) differ in voice or clearly in
 * pitch; in the first, its highest and lowest characters sound measurably
 * apart. */
static void a_story_tells_its_speakers_apart(void **state)
{
	struct sv_narrate_options o = {.tts = "espeak-ng"};
	struct sv_err err = {0};
	struct sv_narrator *n = sv_narrator_new(&o, &err);
	assert_non_null(n);
	for (size_t u = 0; u < 8; u++) {
		json_t *story = sv_test_story_in(u, 40 + u);
		assert_non_null(story);
		json_t *pages = json_object_get(story, "pages"); /* one page is enough to cast */
		while (json_array_size(pages) > 1)
			json_array_remove(pages, json_array_size(pages) - 1);
		size_t bytes = 0;
		if (sv_narrate_story(n, story, discard, &bytes, &err) < 0)
			fail_msg("%s", err.message);
		assert_true(bytes > 0);
		const json_t *voices = json_object_get(json_object_get(story, "audio"), "voices");
		const char *ra, *rb;
		const json_t *va, *vb;
		json_object_foreach((json_t *)voices, ra, va)
		{
			json_object_foreach((json_t *)voices, rb, vb)
			{
				if (strcmp(ra, rb) >= 0)
					continue;
				struct sv_voice a, b;
				voice_from_json(va, &a);
				voice_from_json(vb, &b);
				if (strcmp(a.name, b.name) == 0 && abs(a.pitch - b.pitch) < 8)
					fail_msg("story %zu: %s and %s sound alike (%s, %d and %d)",
					         u, ra, rb, a.name, a.pitch, b.pitch);
			}
		}
		if (u == 0) {
			const struct sv_tts_ops *ops;
			void *self = open_tts("espeak-ng", &ops);
			/* The highest and the lowest voice of the cast. */
			struct sv_voice hi = {.pitch = -1}, lo = {.pitch = 101}, v;
			json_object_foreach((json_t *)voices, ra, va)
			{
				voice_from_json(va, &v);
				if (strcmp(ra, "narrator") == 0)
					continue;
				if (v.pitch > hi.pitch)
					hi = v;
				if (v.pitch < lo.pitch)
					lo = v;
			}
			struct sv_pcm hp = {0}, lp = {0};
			speak(ops, self, &hi, "What a lovely morning it is today.", &hp);
			speak(ops, self, &lo, "What a lovely morning it is today.", &lp);
			double hf = audio_median_f0(&hp), lf = audio_median_f0(&lp);
			print_message("highest and lowest: %s %d %.0f Hz and %s %d %.0f Hz\n",
			              hi.name, hi.pitch, hf, lo.name, lo.pitch, lf);
			assert_true(lf > 0 && hf >= 1.2 * lf);
			sv_pcm_free(&hp);
			sv_pcm_free(&lp);
			ops->free(self);
		}
		json_decref(story);
	}
	sv_narrator_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_character_has_a_voice_each_synthesiser_speaks),
	    cmocka_unit_test(a_story_tells_its_speakers_apart),
	};
	return cmocka_run_group_tests(tests, sv_test_catalog_json_setup,
	                              sv_test_catalog_json_teardown);
}
