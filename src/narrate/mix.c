/*
 * Mixing and loudness: the music bed laid under the voice and ducked
 * wherever the voice speaks, the EBU R128 measurement (libebur128), and
 * normalisation to a loudness target with a look-ahead peak limiter.
 *
 * Everything works on whole buffers held in memory, so "look-ahead" is just
 * indexing forward: no latency, no state carried between calls.
 */
#include "narrate/narrate.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MS(x) ((size_t)((x)*SV_NARRATE_RATE / 1000))

/* Ducking: the voice's envelope in 20 ms windows; a window counts as speech
 * when its RMS is within 30 dB of the loudest window (and above -50 dBFS),
 * so a quiet synthesiser is detected as well as a loud one, and breaths and
 * resampler noise are not. */
#define DUCK_WINDOW    MS(20)
#define DUCK_RANGE_DB  30.0
#define DUCK_FLOOR_DB  (-50.0)
#define DUCK_ATTACK_S  0.050
#define DUCK_RELEASE_S 0.400

/* Looping a short bed: each repeat overlaps the last by this much,
 * equal-power crossfaded (the two ends are unrelated material). */
#define LOOP_XFADE MS(100)
/* A bed cut or looped to length ends with a fade rather than a click. */
#define END_FADE MS(250)

/* Limiter: gain reduction starts 5 ms before a peak and recovers over
 * about 80 ms, both far too short for the level change to be heard as
 * such. */
#define LIMIT_LOOKAHEAD MS(5)
#define LIMIT_RELEASE_S 0.080
#define LIMIT_CEILING   0.89125093813374556 /* 10^(-1/20): -1 dBFS */

static double db_to_gain(double db)
{
	return pow(10.0, db / 20.0);
}

/* Fills bed[0, n) with the music, cut to n or looped to fill it: each
 * repeat starts xf samples before the last one ends, the two
 * equal-power crossfaded over those samples. */
static void build_bed(float *bed, size_t n, const float *m, size_t mn, const float *fade_in,
                      size_t xf)
{
	if (mn >= n) {
		memcpy(bed, m, n * sizeof *bed);
		return;
	}
	size_t period = mn - xf;
	memcpy(bed, m, mn * sizeof *bed);
	for (size_t start = period; start < n; start += period) {
		/* The join: this repeat's head fades in over the last's tail, which
		 * is already in bed[start, start + xf). */
		size_t left = n - start;
		size_t j = xf < left ? xf : left;
		for (size_t k = 0; k < j; k++)
			bed[start + k] = bed[start + k] * fade_in[xf - 1 - k] + m[k] * fade_in[k];
		size_t rest = mn - j < left - j ? mn - j : left - j;
		if (j == xf)
			memcpy(bed + start + j, m + j, rest * sizeof *bed);
	}
}

/* The ducking gain for each sample: 1 in the pauses, duck where the voice
 * speaks; attack and release smoothed, and led by the attack time so the
 * music is already down when the first syllable starts. */
static int duck_gains(float *g, const float *s, size_t n, double duck)
{
	size_t w = DUCK_WINDOW;
	size_t nw = (n + w - 1) / w;
	unsigned char *active = malloc(nw);
	double *rms = malloc(nw * sizeof *rms);
	if (!active || !rms) {
		free(active);
		free(rms);
		return -1;
	}
	double loudest = 0;
	for (size_t k = 0; k < nw; k++) {
		size_t a = k * w, b = a + w < n ? a + w : n;
		double sum = 0;
		for (size_t i = a; i < b; i++)
			sum += (double)s[i] * s[i];
		rms[k] = sqrt(sum / (double)(b - a));
		if (rms[k] > loudest)
			loudest = rms[k];
	}
	double thresh = loudest * db_to_gain(-DUCK_RANGE_DB);
	if (thresh < db_to_gain(DUCK_FLOOR_DB))
		thresh = db_to_gain(DUCK_FLOOR_DB);
	for (size_t k = 0; k < nw; k++)
		active[k] = rms[k] > thresh;

	double att = exp(-1.0 / (DUCK_ATTACK_S * SV_NARRATE_RATE));
	double rel = exp(-1.0 / (DUCK_RELEASE_S * SV_NARRATE_RATE));
	size_t lead = MS(DUCK_ATTACK_S * 1000);
	double cur = 1.0;
	for (size_t i = 0; i < n; i++) {
		size_t ahead = i + lead < n ? i + lead : n - 1;
		double target = active[ahead / w] ? duck : 1.0;
		double a = target < cur ? att : rel;
		cur = target + (cur - target) * a;
		g[i] = (float)cur;
	}
	free(active);
	free(rms);
	return 0;
}

int sv_mix_under(struct sv_pcm *speech, const struct sv_pcm *music, double music_db, double duck_db,
                 struct sv_err *err)
{
	if (!isfinite(music_db))
		return sv_err_set(err, "invalid_value", "music_db",
		                  "music level must be a number of dB");
	if (!isfinite(duck_db) || duck_db > 0)
		return sv_err_set(err, "invalid_value", "duck_db",
		                  "ducking must be a number of dB at or below 0");
	size_t n = speech->n, mn = music->n;
	if (n == 0 || mn == 0)
		return 0;

	/* The bed's peak is set to music_db dBFS: the renderer's own level is
	 * only approximate, and the mixer owns the balance. */
	float peak = 0;
	for (size_t i = 0; i < mn; i++)
		if (fabsf(music->s[i]) > peak)
			peak = fabsf(music->s[i]);
	if (peak == 0)
		return 0;
	double level = db_to_gain(music_db) / peak;

	size_t xf = LOOP_XFADE < mn / 4 ? LOOP_XFADE : mn / 4;
	float *bed = malloc(n * sizeof *bed);
	float *g = malloc(n * sizeof *g);
	float *fade_in = malloc((xf ? xf : 1) * sizeof *fade_in);
	if (!bed || !g || !fade_in) {
		free(bed);
		free(g);
		free(fade_in);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	/* Equal power: sin in, cos out (read backwards, the same table). */
	for (size_t k = 0; k < xf; k++)
		fade_in[k] = (float)sin(M_PI / 2 * ((double)k + 0.5) / (double)xf);
	build_bed(bed, n, music->s, mn, fade_in, xf);
	if (mn != n) {
		size_t f = END_FADE < n / 4 ? END_FADE : n / 4;
		for (size_t k = 0; k < f; k++)
			bed[n - 1 - k] *= (float)(((double)k + 0.5) / (double)f);
	}
	if (duck_gains(g, speech->s, n, db_to_gain(duck_db)) < 0) {
		free(bed);
		free(g);
		free(fade_in);
		return sv_err_set(err, "nomem", "", "out of memory");
	}

	float top = 0;
	for (size_t i = 0; i < n; i++) {
		speech->s[i] += (float)level * g[i] * bed[i];
		if (fabsf(speech->s[i]) > top)
			top = fabsf(speech->s[i]);
	}
	/* Keep the contract's [-1, 1] without clipping: a whole-signal scale
	 * (normalisation, which follows, sets the level anyway). */
	if (top > 1.0f) {
		float k = 1.0f / top;
		for (size_t i = 0; i < n; i++)
			speech->s[i] *= k;
	}
	free(bed);
	free(g);
	free(fade_in);
	return 0;
}

/* libebur128 returns -HUGE_VAL for silence and for anything shorter than
 * one 400 ms gating block; that is passed on as it is. */
int sv_loudness(const struct sv_pcm *p, double *lufs, struct sv_err *err)
{
	ebur128_state *st = ebur128_init(1, SV_NARRATE_RATE, EBUR128_MODE_I);
	if (!st)
		return sv_err_set(err, "nomem", "", "out of memory");
	int rc = ebur128_add_frames_float(st, p->s, p->n);
	double l = -HUGE_VAL;
	if (rc == EBUR128_SUCCESS)
		rc = ebur128_loudness_global(st, &l);
	ebur128_destroy(&st);
	if (rc != EBUR128_SUCCESS)
		return sv_err_set(err, "internal", "", "loudness measurement failed (%d)", rc);
	*lufs = l;
	return 0;
}

/* Keeps every |s[i]| <= LIMIT_CEILING with a smooth gain: the gain each
 * sample needs, its minimum over the look-ahead window (so the reduction is
 * in place before the peak), a release that lets it recover slowly, then a
 * moving average over the same window to round the corners. Each average
 * covers only values at or below the gain needed at its own sample, so the
 * ceiling holds exactly, not just about. */
static float need(float x)
{
	float a = fabsf(x);
	return a > LIMIT_CEILING ? (float)(LIMIT_CEILING / a) : 1.0f;
}

static int limit(float *s, size_t n)
{
	size_t w = LIMIT_LOOKAHEAD;
	float top = 0;
	for (size_t i = 0; i < n; i++)
		if (fabsf(s[i]) > top)
			top = fabsf(s[i]);
	if (top <= LIMIT_CEILING)
		return 0;

	/* Index j of env stands for sample j - (w - 1): the averages at the
	 * first samples reach back before the start. */
	size_t m = n + w - 1;
	float *env = malloc(m * sizeof *env);
	size_t *dq = malloc(m * sizeof *dq);
	if (!env || !dq) {
		free(env);
		free(dq);
		return -1;
	}
	/* Sliding minimum (a monotone queue of sample indices) of the needed
	 * gain over samples [j - (w - 1), j], i.e. env[j] looks w - 1 ahead of
	 * the sample it stands for. */
	size_t head = 0, tail = 0;
	double rel = exp(-1.0 / (LIMIT_RELEASE_S * SV_NARRATE_RATE));
	double prev = 1.0;
	for (size_t j = 0; j < m; j++) {
		if (j < n) {
			float nj = need(s[j]);
			while (tail > head && need(s[dq[tail - 1]]) >= nj)
				tail--;
			dq[tail++] = j;
		}
		while (head < tail && dq[head] + w <= j)
			head++;
		double mn = head < tail ? need(s[dq[head]]) : 1.0;
		/* Release: recover towards 1, never above what is needed. */
		double up = 1.0 - (1.0 - prev) * rel;
		prev = mn < up ? mn : up;
		env[j] = (float)prev;
	}
	/* Moving average of env over w: sample i gets the mean of
	 * env[i .. i + w - 1], every one of which saw sample i. */
	double sum = 0;
	for (size_t j = 0; j < w - 1; j++)
		sum += env[j];
	for (size_t i = 0; i < n; i++) {
		sum += env[i + w - 1];
		float y = s[i] * (float)(sum / (double)w);
		/* Rounding in the running sum may leave a hair over. */
		if (y > LIMIT_CEILING)
			y = (float)LIMIT_CEILING;
		else if (y < -LIMIT_CEILING)
			y = -(float)LIMIT_CEILING;
		s[i] = y;
		sum -= env[i];
	}
	free(env);
	free(dq);
	return 0;
}

/* Gain to the target, then the limiter; if limiting took the loudness
 * more than 0.2 LU under the target, the shortfall is made up and limited
 * again (at most twice more: a signal already pinned at the ceiling cannot
 * get louder, and stops there). */
int sv_normalise(struct sv_pcm *p, double target_lufs, struct sv_err *err)
{
	if (!isfinite(target_lufs) || target_lufs > 0)
		return sv_err_set(err, "invalid_value", "target_lufs",
		                  "loudness target must be a number of LUFS at or below 0");
	for (int pass = 0; pass < 3; pass++) {
		double now;
		if (sv_loudness(p, &now, err) < 0)
			return -1;
		/* Silence (or under 400 ms, which has no integrated loudness)
		 * stays as it is. */
		if (!isfinite(now))
			return 0;
		if (pass > 0 && now > target_lufs - 0.2)
			break;
		float g = (float)db_to_gain(target_lufs - now);
		for (size_t i = 0; i < p->n; i++)
			p->s[i] *= g;
		if (limit(p->s, p->n) < 0)
			return sv_err_set(err, "nomem", "", "out of memory");
	}
	return 0;
}
