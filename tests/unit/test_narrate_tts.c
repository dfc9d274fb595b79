/*
 * The text-to-speech providers (espeak-ng and flite): speech of a sensible
 * length, one timing per word pointing at the word's bytes and its sound,
 * voices that differ in pitch, rate that changes length, UTF-8 offsets,
 * unknown voices refused, the same samples every time and from several
 * threads at once. Prints each provider's real-time factor.
 */
#include "audio_support.h"
#include "narrate/narrate.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct provider {
	const struct sv_tts_ops *ops;
	void *self;
	const char *voice;         /* an everyday voice */
	const char *high, *low;    /* two voices, the first higher-pitched */
	int high_pitch, low_pitch; /* and the pitch each is asked for */
};

static struct provider espeak_p = {&sv_tts_espeak_ops, NULL, "en-us+f3", "en-us+f3",
                                   "en-us+m3",         80,   25};
static struct provider flite_p = {&sv_tts_flite_ops, NULL, "slt", "slt", "rms", 50, 50};

static const char fox[] = "Once upon a time, a little fox found a shiny blue shell.";
static const char *const fox_words[] = {"Once", "upon",  "a", "time",  "a",    "little",
                                        "fox",  "found", "a", "shiny", "blue", "shell"};

static struct sv_voice voice(const struct provider *p, const char *name, int pitch, int rate)
{
	struct sv_voice v = {.pitch = pitch, .range = 50, .rate = rate};
	snprintf(v.provider, sizeof v.provider, "%s", p->ops->name);
	snprintf(v.name, sizeof v.name, "%s", name);
	return v;
}

static void speak(struct provider *p, const struct sv_voice *v, const char *text,
                  struct sv_pcm *pcm, struct sv_words *words)
{
	struct sv_err err = {0};
	int rc = p->ops->speak(p->self, v, text, pcm, words, &err);
	if (rc != 0)
		fail_msg("%s: %s (%s)", p->ops->name, err.message, err.code);
}

/* Every word in order, inside the audio, at whole characters of text. */
static void check_words(const char *text, const struct sv_pcm *pcm, const struct sv_words *w)
{
	size_t len = strlen(text);
	for (size_t i = 0; i < w->n; i++) {
		const struct sv_word *x = &w->w[i];
		assert_true(x->char_start < x->char_end);
		assert_true(x->char_end <= len);
		assert_true(x->sample_start < x->sample_end);
		assert_true(x->sample_end <= pcm->n);
		/* Not inside a multibyte character. */
		assert_true(((unsigned char)text[x->char_start] & 0xC0) != 0x80);
		assert_true(x->char_end == len ||
		            ((unsigned char)text[x->char_end] & 0xC0) != 0x80);
		if (i > 0) {
			assert_true(x->sample_start >= w->w[i - 1].sample_end);
			assert_true(x->char_start >= w->w[i - 1].char_start);
		}
	}
}

static void reads_the_sentence(void **state)
{
	struct provider *p = *state;
	struct sv_voice v = voice(p, p->voice, 50, 160);
	struct sv_pcm pcm = {0};
	struct sv_words w = {0};
	speak(p, &v, fox, &pcm, &w);
	double secs = sv_pcm_seconds(&pcm);
	double wps = 12 / secs;
	print_message("%s: %.2f s, %.2f words a second\n", p->ops->name, secs, wps);
	assert_true(wps >= 1.2 && wps <= 4.0);
	assert_int_equal(w.n, 12);
	for (size_t i = 0; i < w.n; i++) {
		size_t n = w.w[i].char_end - w.w[i].char_start;
		if (n != strlen(fox_words[i]) ||
		    memcmp(fox + w.w[i].char_start, fox_words[i], n) != 0)
			fail_msg("word %zu is \"%.*s\", not \"%s\"", i, (int)n,
			         fox + w.w[i].char_start, fox_words[i]);
		print_message("  %-7s %6.3f-%6.3f s\n", fox_words[i],
		              (double)w.w[i].sample_start / SV_NARRATE_RATE,
		              (double)w.w[i].sample_end / SV_NARRATE_RATE);
	}
	check_words(fox, &pcm, &w);
	assert_true(audio_rms(pcm.s, pcm.n) > 0.01);
	/* Each word has sound in it. */
	for (size_t i = 0; i < w.n; i++)
		assert_true(audio_rms(pcm.s + w.w[i].sample_start,
		                      w.w[i].sample_end - w.w[i].sample_start) > 0.005);
	sv_pcm_free(&pcm);
	sv_words_free(&w);
}

/* The fox sentence in voice hv is at least 20% higher (median F0) than in lv. */
static void assert_higher(struct provider *p, const struct sv_voice *hv, const struct sv_voice *lv)
{
	struct sv_pcm hp = {0}, lp = {0};
	struct sv_words hw = {0}, lw = {0};
	speak(p, hv, fox, &hp, &hw);
	speak(p, lv, fox, &lp, &lw);
	double hf = audio_median_f0(&hp), lf = audio_median_f0(&lp);
	print_message("%s: median F0 %s at pitch %d %.0f Hz, %s at pitch %d %.0f Hz\n",
	              p->ops->name, hv->name, hv->pitch, hf, lv->name, lv->pitch, lf);
	assert_true(lf > 0);
	assert_true(hf >= 1.2 * lf);
	sv_pcm_free(&hp);
	sv_pcm_free(&lp);
	sv_words_free(&hw);
	sv_words_free(&lw);
}

static void voices_differ_in_pitch(void **state)
{
	struct provider *p = *state;
	struct sv_voice hv = voice(p, p->high, p->high_pitch, 160);
	struct sv_voice lv = voice(p, p->low, p->low_pitch, 160);
	assert_higher(p, &hv, &lv);
}

static void pitch_moves_f0(void **state)
{
	struct provider *p = *state;
	struct sv_voice hv = voice(p, p->voice, 80, 160), lv = voice(p, p->voice, 20, 160);
	assert_higher(p, &hv, &lv);
}

static void rate_changes_length(void **state)
{
	struct provider *p = *state;
	struct sv_voice fast = voice(p, p->voice, 50, 200), slow = voice(p, p->voice, 50, 120);
	struct sv_pcm fp = {0}, sp = {0};
	struct sv_words fw = {0}, sw = {0};
	speak(p, &fast, fox, &fp, &fw);
	speak(p, &slow, fox, &sp, &sw);
	print_message("%s: 200 wpm %.2f s, 120 wpm %.2f s\n", p->ops->name, sv_pcm_seconds(&fp),
	              sv_pcm_seconds(&sp));
	assert_true(sv_pcm_seconds(&fp) < 0.85 * sv_pcm_seconds(&sp));
	assert_int_equal(fw.n, 12);
	assert_int_equal(sw.n, 12);
	sv_pcm_free(&fp);
	sv_pcm_free(&sp);
	sv_words_free(&fw);
	sv_words_free(&sw);
}

static int has_word(const char *text, const struct sv_words *w, const char *word)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->w[i].char_end - w->w[i].char_start == strlen(word) &&
		    memcmp(text + w->w[i].char_start, word, strlen(word)) == 0)
			return 1;
	return 0;
}

static void utf8_offsets_are_bytes(void **state)
{
	struct provider *p = *state;
	const char *text = "The café was warm, and the naïve fox sat by the fire.";
	struct sv_voice v = voice(p, p->voice, 50, 160);
	struct sv_pcm pcm = {0};
	struct sv_words w = {0};
	speak(p, &v, text, &pcm, &w);
	check_words(text, &pcm, &w);
	assert_true(has_word(text, &w, "café"));
	assert_true(has_word(text, &w, "naïve"));
	assert_true(has_word(text, &w, "fire"));
	/* Audio already in the buffer stays; timings count from the new audio. */
	size_t before = pcm.n;
	struct sv_words w2 = {0};
	speak(p, &v, text, &pcm, &w2);
	assert_int_equal(pcm.n, 2 * before);
	assert_int_equal(w2.n, w.n);
	assert_memory_equal(w2.w, w.w, w.n * sizeof *w.w);
	sv_pcm_free(&pcm);
	sv_words_free(&w);
	sv_words_free(&w2);
}

static void numbers_keep_their_digits(void **state)
{
	struct provider *p = *state;
	const char *text = "The fox counted 12 shells, then \"three more!\" said Pip.";
	struct sv_voice v = voice(p, p->voice, 50, 160);
	struct sv_pcm pcm = {0};
	struct sv_words w = {0};
	speak(p, &v, text, &pcm, &w);
	check_words(text, &pcm, &w);
	assert_true(has_word(text, &w, "12"));
	assert_true(has_word(text, &w, "three"));
	assert_true(has_word(text, &w, "more"));
	assert_true(has_word(text, &w, "Pip"));
	sv_pcm_free(&pcm);
	sv_words_free(&w);
}

static void unknown_voice_is_refused(void **state)
{
	struct provider *p = *state;
	struct sv_voice v = voice(p, "no-such-voice", 50, 160);
	struct sv_pcm pcm = {0};
	struct sv_words w = {0};
	struct sv_err err = {0};
	assert_int_equal(p->ops->speak(p->self, &v, fox, &pcm, &w, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, "voice");
	assert_int_equal(pcm.n, 0);
	assert_int_equal(w.n, 0);
	/* Nothing to say is not an error. */
	v = voice(p, p->voice, 50, 160);
	assert_int_equal(p->ops->speak(p->self, &v, "", &pcm, &w, &err), 0);
	assert_int_equal(pcm.n, 0);
	assert_int_equal(w.n, 0);
}

static void same_samples_every_time(void **state)
{
	struct provider *p = *state;
	struct sv_voice v = voice(p, p->voice, 50, 160);
	struct sv_voice other = voice(p, p->low, 30, 190);
	struct sv_pcm a = {0}, b = {0}, c = {0};
	struct sv_words aw = {0}, bw = {0}, cw = {0};
	speak(p, &v, fox, &a, &aw);
	speak(p, &v, fox, &b, &bw);
	/* Something else in between must not change it either. */
	speak(p, &other, "Hi", &c, &cw);
	sv_pcm_free(&c);
	sv_words_free(&cw);
	speak(p, &v, fox, &c, &cw);
	assert_int_equal(a.n, b.n);
	assert_int_equal(a.n, c.n);
	assert_memory_equal(a.s, b.s, a.n * sizeof *a.s);
	assert_memory_equal(a.s, c.s, a.n * sizeof *a.s);
	assert_int_equal(aw.n, bw.n);
	assert_memory_equal(aw.w, bw.w, aw.n * sizeof *aw.w);
	assert_memory_equal(aw.w, cw.w, aw.n * sizeof *aw.w);
	sv_pcm_free(&a);
	sv_pcm_free(&b);
	sv_pcm_free(&c);
	sv_words_free(&aw);
	sv_words_free(&bw);
	sv_words_free(&cw);
}

static const char *const lines[] = {
    "The moon rose over the quiet hill.",
    "Pip the rabbit hopped home, humming a song.",
    "Would you like some honey, little bear?",
};

struct job {
	struct provider *p;
	int k; /* which voice */
	struct sv_pcm pcm[3];
	struct sv_words words[3];
	int rc;
};

static struct sv_voice job_voice(struct provider *p, int k)
{
	return voice(p, k % 2 ? p->low : p->high, 30 + 10 * k, 130 + 20 * k);
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct sv_voice v = job_voice(j->p, j->k);
	for (int i = 0; i < 3; i++) {
		struct sv_err err = {0};
		if (j->p->ops->speak(j->p->self, &v, lines[i], &j->pcm[i], &j->words[i], &err) != 0)
			j->rc = -1;
	}
	return NULL;
}

static void threads_speak_at_once(void **state)
{
	struct provider *p = *state;
	struct job alone[4] = {0}, together[4] = {0};
	pthread_t t[4];
	for (int k = 0; k < 4; k++) {
		alone[k] = (struct job){.p = p, .k = k};
		run_job(&alone[k]);
		assert_int_equal(alone[k].rc, 0);
		together[k] = (struct job){.p = p, .k = k};
	}
	for (int k = 0; k < 4; k++)
		assert_int_equal(pthread_create(&t[k], NULL, run_job, &together[k]), 0);
	for (int k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	for (int k = 0; k < 4; k++) {
		assert_int_equal(together[k].rc, 0);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(together[k].pcm[i].n, alone[k].pcm[i].n);
			assert_memory_equal(together[k].pcm[i].s, alone[k].pcm[i].s,
			                    alone[k].pcm[i].n * sizeof(float));
			assert_int_equal(together[k].words[i].n, alone[k].words[i].n);
			assert_memory_equal(together[k].words[i].w, alone[k].words[i].w,
			                    alone[k].words[i].n * sizeof(struct sv_word));
			sv_pcm_free(&alone[k].pcm[i]);
			sv_pcm_free(&together[k].pcm[i]);
			sv_words_free(&alone[k].words[i]);
			sv_words_free(&together[k].words[i]);
		}
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A note, not a requirement: how many times faster than real time. */
static void prints_real_time_factor(void **state)
{
	struct provider *p = *state;
	struct sv_voice v = voice(p, p->voice, 50, 160);
	struct sv_pcm pcm = {0};
	struct sv_words w = {0};
	double t0 = now_s();
	for (int i = 0; i < 5; i++) {
		speak(p, &v, fox, &pcm, &w);
		for (int k = 0; k < 3; k++)
			speak(p, &v, lines[k], &pcm, &w);
	}
	double wall = now_s() - t0;
	print_message("%s: %.1f s of speech in %.3f s: %.0fx real time (one thread)\n",
	              p->ops->name, sv_pcm_seconds(&pcm), wall, sv_pcm_seconds(&pcm) / wall);
	sv_pcm_free(&pcm);
	sv_words_free(&w);
}

static int setup(void **state)
{
	struct provider *p = *state;
	struct sv_err err = {0};
	p->self = p == &espeak_p ? sv_tts_espeak_new(&err) : sv_tts_flite_new(&err);
	if (!p->self)
		fail_msg("%s: %s", p->ops->name, err.message);
	return 0;
}

static int teardown(void **state)
{
	struct provider *p = *state;
	p->ops->free(p->self);
	return 0;
}

#define BOTH(f)                                                                                    \
	cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, &espeak_p),                   \
	    cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, &flite_p)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(reads_the_sentence),       BOTH(voices_differ_in_pitch),
	    BOTH(pitch_moves_f0),           BOTH(rate_changes_length),
	    BOTH(utf8_offsets_are_bytes),   BOTH(numbers_keep_their_digits),
	    BOTH(unknown_voice_is_refused), BOTH(same_samples_every_time),
	    BOTH(threads_speak_at_once),    BOTH(prints_real_time_factor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
