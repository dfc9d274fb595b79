/*
 * Sound in memory: growable mono float buffers and word lists, and the
 * one resampler (libsamplerate) that brings every synthesiser's rate to
 * SV_NARRATE_RATE.
 */
#include "narrate/narrate.h"

#include <samplerate.h>
#include <stdlib.h>
#include <string.h>

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
	float *f = malloc(n * sizeof *f);
	if (!f)
		return sv_err_set(err, "nomem", "", "out of memory");
	src_short_to_float_array(in, f, (int)n);
	if (in_rate == SV_NARRATE_RATE) {
		int rc = sv_pcm_append(p, f, n);
		free(f);
		return rc < 0 ? sv_err_set(err, "nomem", "", "out of memory") : 0;
	}
	double ratio = (double)SV_NARRATE_RATE / in_rate;
	size_t room = (size_t)((double)n * ratio) + 64;
	if (reserve(p, room) < 0) {
		free(f);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	SRC_DATA d = {.data_in = f,
	              .data_out = p->s + p->n,
	              .input_frames = (long)n,
	              .output_frames = (long)room,
	              .src_ratio = ratio,
	              .end_of_input = 1};
	/* Speech: the fastest sinc converter is clean enough and keeps the
	 * whole pipeline far faster than real time. */
	int rc = src_simple(&d, SRC_SINC_FASTEST, 1);
	free(f);
	if (rc != 0)
		return sv_err_set(err, "internal", "", "resampling failed: %s", src_strerror(rc));
	p->n += (size_t)d.output_frames_gen;
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
