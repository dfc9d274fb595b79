/*
 * The flite text-to-speech provider: speaks a sentence or a few in one of
 * the four voices Debian ships (slt, rms, awb, kal16), with pitch and rate,
 * and takes the word timings from the utterance flite builds (each word's
 * first and last segment), mapped back to the bytes of the text through
 * flite's tokens.
 *
 * flite is not thread-safe, so the voices are registered once and every
 * synthesis holds one lock.
 */
#include "narrate/narrate.h"

#include <flite/cst_cg.h>
#include <flite/flite.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* flite ships no header for its voices' constructors. */
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);

#define FLITE_NORMAL_WPM 170.0 /* about flite's own pace at duration_stretch 1 */

static struct {
	const char *name;
	cst_voice *(*reg)(const char *);
	cst_voice *voice;
	float f0_mean; /* the voice's own target mean pitch, Hz */
	float stretch; /* and its own duration stretch */
} g_voices[] = {
    {"slt", register_cmu_us_slt, NULL, 0, 0},
    {"rms", register_cmu_us_rms, NULL, 0, 0},
    {"awb", register_cmu_us_awb, NULL, 0, 0},
    {"kal16", register_cmu_us_kal16, NULL, 0, 0},
};
#define N_VOICES (sizeof g_voices / sizeof g_voices[0])

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_ready;

static void flite_setup(void)
{
	flite_init();
	for (size_t i = 0; i < N_VOICES; i++) {
		g_voices[i].voice = g_voices[i].reg(NULL);
		if (!g_voices[i].voice)
			return;
		/* Diphone voices say their mean pitch in a feature, clustergen
		 * voices (slt, rms, awb) in their model. */
		cst_features *f = g_voices[i].voice->features;
		if (feat_present(f, "int_f0_target_mean"))
			g_voices[i].f0_mean = get_param_float(f, "int_f0_target_mean", 100.0f);
		else if (feat_present(f, "cg_db"))
			g_voices[i].f0_mean = val_cg_db(feat_val(f, "cg_db"))->f0_mean;
		else
			g_voices[i].f0_mean = 100.0f;
		g_voices[i].stretch = get_param_float(f, "duration_stretch", 1.0f);
	}
	g_ready = 1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_punct(unsigned char c)
{
	return c < 0x80 && c > ' ' &&
	       !((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'));
}

/* Finds token name in text at or after *pos, within the next
 * whitespace-separated chunk (flite splits tokens at whitespace and strips
 * punctuation around them), and moves *pos past it. A token not found
 * there takes the chunk without its punctuation; *pos never goes back. */
static int only_punct(const char *text, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!is_punct((unsigned char)text[i]))
			return 0;
	return 1;
}

static void find_token(const char *text, size_t len, size_t *pos, const char *name, size_t *b0,
                       size_t *b1)
{
	size_t p = *pos, end, n = strlen(name);
	for (;;) {
		while (p < len && is_space(text[p]))
			p++;
		end = p;
		while (end < len && !is_space(text[end]))
			end++;
		for (size_t at = p; n && at + n <= end; at++) {
			if (memcmp(text + at, name, n) == 0) {
				*b0 = at;
				*b1 = at + n;
				*pos = at + n;
				return;
			}
		}
		/* What is left of the last token's chunk is its punctuation. */
		if (p == end || end == len || !only_punct(text, p, end))
			break;
		p = end;
	}
	size_t a = p, b = end;
	while (a < b && is_punct((unsigned char)text[a]))
		a++;
	while (b > a && is_punct((unsigned char)text[b - 1]))
		b--;
	if (a == b) { /* all punctuation: keep the chunk itself */
		a = p;
		b = end;
	}
	*b0 = a;
	*b1 = b;
	*pos = end;
}

static size_t at_out_rate(float seconds, int rate)
{
	/* Seconds to a sample at flite's rate, then the resampler's ratio. */
	double s = round((double)seconds * rate);
	if (s < 0)
		s = 0;
	return (size_t)llround(s * SV_NARRATE_RATE / rate);
}

static int add_words(cst_utterance *u, const char *text, int rate, size_t total,
                     struct sv_words *words, struct sv_err *err)
{
	size_t len = strlen(text), pos = 0, last_char = 0, last_end = 0;
	for (cst_item *t = relation_head(utt_relation(u, "Token")); t; t = item_next(t)) {
		size_t b0 = 0, b1 = 0;
		find_token(text, len, &pos, item_feat_string(t, "name"), &b0, &b1);
		if (b0 < last_char || b0 == b1)
			continue;
		/* A token may be several words ("12" is "twelve"): each keeps the
		 * token's span. */
		for (cst_item *d = item_daughter(t); d; d = item_next(d)) {
			cst_item *w = item_as(d, "Word");
			if (!w || !item_as(w, "SylStructure"))
				continue; /* a word with no sound */
			float e =
			    ffeature_float(w, "R:SylStructure.daughtern.daughtern.R:Segment.end");
			float s =
			    ffeature_float(w, "R:SylStructure.daughter1.daughter1.R:Segment.p.end");
			size_t s0 = at_out_rate(s, rate), s1 = at_out_rate(e, rate);
			if (s0 < last_end)
				s0 = last_end;
			if (s1 > total)
				s1 = total;
			if (s1 <= s0)
				continue;
			struct sv_word one = {b0, b1, s0, s1};
			if (sv_words_push(words, &one) < 0)
				return sv_err_set(err, "nomem", "", "out of memory");
			last_end = s1;
			last_char = b0;
		}
	}
	return 0;
}

static int flite_speak(void *self, const struct sv_voice *v, const char *text, struct sv_pcm *pcm,
                       struct sv_words *words, struct sv_err *err)
{
	(void)self;
	pthread_once(&g_once, flite_setup);
	if (!g_ready)
		return sv_err_set(err, "internal", "", "flite: its voices could not be loaded");
	size_t vi = 0;
	while (vi < N_VOICES && strcmp(g_voices[vi].name, v->name) != 0)
		vi++;
	if (vi == N_VOICES)
		return sv_err_set(err, "invalid_value", "voice",
		                  "flite has no voice \"%s\" (slt, rms, awb, kal16)", v->name);
	if (!text[0])
		return 0;

	int rate = v->rate > 0 ? v->rate : (int)FLITE_NORMAL_WPM;
	if (rate < 60)
		rate = 60;
	if (rate > 400)
		rate = 400;
	int pitch = v->pitch < 0 ? 0 : v->pitch > 100 ? 100 : v->pitch;
	/* 50 is the voice's own mean pitch; 0 and 100 half and one and a half
	 * times it. */
	float f0 = g_voices[vi].f0_mean * (float)(1.0 + (pitch - 50) / 100.0);

	int rc = -1;
	pthread_mutex_lock(&g_lock);
	cst_utterance *u = new_utterance();
	utt_set_input_text(u, text);
	utt_init(u, g_voices[vi].voice);
	/* The utterance's own features shadow the voice's (utt_init links
	 * them), so the shared voice is left as it was. */
	feat_set_float(u->features, "duration_stretch",
	               g_voices[vi].stretch * (float)(FLITE_NORMAL_WPM / rate));
	feat_set_float(u->features, "int_f0_target_mean", f0);
	/* Clustergen voices draw their noise excitation from rand(): the same
	 * seed every time makes the samples a function of the input (nothing
	 * else in StoryVerse calls rand()). */
	srand(1);
	if (!utt_synth(u)) {
		sv_err_set(err, "internal", "", "flite could not speak the text");
		goto done;
	}
	cst_wave *w = utt_wave(u);
	size_t base = pcm->n, nwords0 = words->n;
	if (!w || w->num_samples <= 0) {
		rc = 0;
		goto done;
	}
	if (sv_pcm_append_resampled(pcm, w->samples, (size_t)w->num_samples, w->sample_rate, err) <
	    0)
		goto done;
	if (add_words(u, text, w->sample_rate, pcm->n - base, words, err) < 0) {
		pcm->n = base;
		words->n = nwords0;
		goto done;
	}
	rc = 0;
done:
	if (u)
		delete_utterance(u);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

static char flite_self; /* the voices are process-wide */

void *sv_tts_flite_new(struct sv_err *err)
{
	pthread_once(&g_once, flite_setup);
	if (!g_ready) {
		sv_err_set(err, "internal", "", "flite: its voices could not be loaded");
		return NULL;
	}
	return &flite_self;
}

static void flite_free(void *self)
{
	(void)self;
}

const struct sv_tts_ops sv_tts_flite_ops = {
    .name = "flite",
    .speak = flite_speak,
    .free = flite_free,
};
