/*
 * Small random language models for the tests and benchmarks: a checkpoint
 * in llama2.c's legacy fp32 layout and a tokenizer.bin whose merges build
 * English-looking pieces, both made from a seed (the same seed, the same bytes).
 */
#ifndef SV_TEST_LM_SUPPORT_H
#define SV_TEST_LM_SUPPORT_H

#include "lm/lm.h"

#include <stdint.h>

/* Writes a checkpoint of shape c (shared_classifier honoured, group_size
 * ignored) with weights drawn from seed, scaled so activations stay near 1.
 * 0, or -1 with errno set. */
int lm_support_write_model(const char *path, const struct lm_config *c, uint64_t seed);

/* Writes a tokenizer of vocab tokens (at least 259 + 95): <unk>, <s>, </s>,
 * the 256 byte tokens <0x00>..<0xFF>, the printable ASCII characters, then
 * merges of earlier tokens (each the concatenation of two), scored so the
 * earlier merges win. 0, or -1 with errno set. */
int lm_support_write_tokenizer(const char *path, int vocab, uint64_t seed);

/* A model and tokenizer in a new temporary folder, for one test. */
struct lm_support_files {
	char dir[256];
	char model[300];
	char tokenizer[300];
};
int lm_support_files_make(struct lm_support_files *f, const struct lm_config *c, uint64_t seed);
void lm_support_files_remove(struct lm_support_files *f);

#endif
