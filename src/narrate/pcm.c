/*
 * Sound in memory: growable mono float buffers and word lists, and the
 * one resampler (speexdsp's) that brings every synthesiser's rate to
 * SV_NARRATE_RATE.
 */
#include "narrate/narrate.h"

#include <speex/speex_resampler.h>
#include <stdlib.h>
#include <string.h>

#define RESAMPLE_QUALITY 4 /* 0-10 */

void sv_pcm_free(struct sv_pcm *p)
{
	free(p->s);
	*p = (struct sv_pcm){0};
}

static int reserve(struct sv_pcm *p, size_t more)
{
	if (p->n + more <= p->cap)
		return 0;
	size_t cap = p->cap ? p->cap : 4096;
	while (cap < p->n + more)
		cap *= 2;
	float *s = realloc(p->s, cap * sizeof *s);
	if (!s)
		return -1;
	p->s = s;
	p->cap = cap;
	return 0;
}

int sv_pcm_append(struct sv_pcm *p, const float *s, size_t n)
{
	if (reserve(p, n) < 0)
		return -1;
	memcpy(p->s + p->n, s, n * sizeof *s);
	p->n += n;
	return 0;
}

int sv_pcm_silence(struct sv_pcm *p, size_t n)
{
	if (reserve(p, n) < 0)
		return -1;
	memset(p->s + p->n, 0, n * sizeof *p->s);
	p->n += n;
	return 0;
}

double sv_pcm_seconds(const struct sv_pcm *p)
{
	return (double)p->n / SV_NARRATE_RATE;
}

int sv_pcm_append_resampled(struct sv_pcm *p, const int16_t *in, size_t n, int in_rate,
                            struct sv_err *err)
{
	if (n == 0)
		return 0;
	if (in_rate <= 0)
		return sv_err_set(err, "invalid_value", "rate", "no sample rate %d", in_rate);
	size_t room = (size_t)((double)n * SV_NARRATE_RATE / in_rate) + 64;
	float *f = malloc(n * sizeof *f);
	if (!f || reserve(p, room) < 0) {
		free(f);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		f[i] = (float)in[i] / 32768.0f;
	if (in_rate == SV_NARRATE_RATE) {
		memcpy(p->s + p->n, f, n * sizeof *f);
		p->n += n;
		free(f);
		return 0;
	}
	int e = 0;
	/* Speex's resampler at quality 4: clean for speech, and several times
	 * faster than a windowed-sinc converter, which the whole pipeline's
	 * speed needs. A fresh state per call: each utterance stands alone. */
	SpeexResamplerState *r =
	    speex_resampler_init(1, (spx_uint32_t)in_rate, SV_NARRATE_RATE, RESAMPLE_QUALITY, &e);
	if (!r) {
		free(f);
		return sv_err_set(err, "internal", "", "resampler: %s",
		                  speex_resampler_strerror(e));
	}
	/* Feed the filter's delay of silence after the input so the end is not lost. */
	spx_uint32_t latency = (spx_uint32_t)speex_resampler_get_input_latency(r);
	spx_uint32_t in_len = (spx_uint32_t)n, out_len = (spx_uint32_t)room;
	speex_resampler_skip_zeros(r);
	e = speex_resampler_process_float(r, 0, f, &in_len, p->s + p->n, &out_len);
	size_t made = out_len;
	float zeros[256] = {0};
	while (e == 0 && latency > 0 && p->n + made < p->cap) {
		spx_uint32_t zin = latency < 256 ? latency : 256,
		             zout = (spx_uint32_t)(p->cap - p->n - made);
		e = speex_resampler_process_float(r, 0, zeros, &zin, p->s + p->n + made, &zout);
		latency -= zin;
		made += zout;
	}
	speex_resampler_destroy(r);
	free(f);
	if (e != 0)
		return sv_err_set(err, "internal", "", "resampler: %s",
		                  speex_resampler_strerror(e));
	/* What the rates say the output is, no more (the delay's zeros may add a sample). */
	size_t want =
	    (size_t)(((uint64_t)n * SV_NARRATE_RATE + (uint64_t)in_rate / 2) / (uint64_t)in_rate);
	p->n += made < want ? made : want;
	return 0;
}

void sv_words_free(struct sv_words *w)
{
	free(w->w);
	*w = (struct sv_words){0};
}

int sv_words_push(struct sv_words *w, const struct sv_word *one)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct sv_word *grown = realloc(w->w, cap * sizeof *grown);
		if (!grown)
			return -1;
		w->w = grown;
		w->cap = cap;
	}
	w->w[w->n++] = *one;
	return 0;
}
