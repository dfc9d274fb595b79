/*
 * narrate's internals that its unit tests look at; nothing outside
 * src/narrate and tests/unit includes this.
 */
#ifndef SV_NARRATE_INTERNAL_H
#define SV_NARRATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What music.c composes for a mood and seed over `seconds`, without
 * rendering it: whether the mood has a feel of its own (else the gentle
 * default), the feel's tempo and metre, and how many notes start. */
struct sv_music_plan {
	bool known;
	int bpm, beats_per_bar;
	size_t notes;
};

/* 0, or -1 when seconds is out of range. */
int sv_music_plan(const char *mood, uint64_t seed, double seconds, struct sv_music_plan *out);

#endif
