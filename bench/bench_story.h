/*
 * Stories for the benchmarks: story i of a sample that goes through every
 * universe in turn, with its first hero and a child called Sam.
 */
#ifndef SV_BENCH_STORY_H
#define SV_BENCH_STORY_H

#include "story/story.h"

/* A new story document (seed 1000 + i), or NULL when it cannot be made. */
json_t *bench_story(const struct sv_catalog *c, const json_t *catalog, size_t i);

#endif
