/* Measures of sound for the narration tests (audio_support.h). */
#include "audio_support.h"

#include <math.h>
#include <stdlib.h>

double audio_rms(const float *s, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)s[i] * s[i];
	return n ? sqrt(e / n) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median fundamental frequency of the voiced frames (normalised
 * autocorrelation over 60-400 Hz), 0 when none is voiced. */
double audio_median_f0(const struct sv_pcm *p)
{
	const size_t frame = SV_NARRATE_RATE / 25, hop = SV_NARRATE_RATE / 100; /* 40 ms, 10 ms */
	const size_t lag_min = SV_NARRATE_RATE / 400, lag_max = SV_NARRATE_RATE / 60;
	double loud = audio_rms(p->s, p->n);
	size_t cap = p->n / hop + 1, n = 0;
	double *f0 = malloc(cap * sizeof *f0);
	if (!f0)
		return 0;
	for (size_t at = 0; at + frame + lag_max <= p->n; at += hop) {
		const float *x = p->s + at;
		if (audio_rms(x, frame) < 0.5 * loud)
			continue;
		double e0 = 0;
		for (size_t i = 0; i < frame; i++)
			e0 += (double)x[i] * x[i];
		double best = 0;
		size_t best_lag = 0;
		for (size_t lag = lag_min; lag <= lag_max; lag++) {
			double c = 0, e1 = 0;
			for (size_t i = 0; i < frame; i++) {
				c += (double)x[i] * x[i + lag];
				e1 += (double)x[i + lag] * x[i + lag];
			}
			double r = c / sqrt(e0 * e1 + 1e-12);
			if (r > best) {
				best = r;
				best_lag = lag;
			}
		}
		if (best > 0.6)
			f0[n++] = (double)SV_NARRATE_RATE / best_lag;
	}
	qsort(f0, n, sizeof *f0, cmp_double);
	double m = n ? f0[n / 2] : 0;
	free(f0);
	return m;
}
