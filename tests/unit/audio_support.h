/*
 * Measures of sound for the narration tests: loudness (RMS) and pitch (the
 * median fundamental frequency of the voiced frames).
 */
#ifndef SV_TEST_AUDIO_SUPPORT_H
#define SV_TEST_AUDIO_SUPPORT_H

#include "narrate/narrate.h"

#include <stddef.h>

double audio_rms(const float *s, size_t n);
/* Median F0 of the voiced frames (normalised autocorrelation over 60-400 Hz),
 * 0 when none is voiced. */
double audio_median_f0(const struct sv_pcm *p);

#endif
