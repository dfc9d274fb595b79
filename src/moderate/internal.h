/*
 * Shared between the files of the moderate module only: the normalised text
 * with its map back to the original bytes, the Aho–Corasick matcher and the
 * personal-data finders.
 */
#ifndef SV_MODERATE_INTERNAL_H
#define SV_MODERATE_INTERNAL_H

#include "base/base.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Normalised text: lowercase, marks stripped, separators collapsed to one
 * space, and every run of one repeated letter collapsed to a single letter
 * whose run length is kept in run[] (so "kiiill" and "kill" both read "kil",
 * and a matcher can still tell "as" from "ass"). For every byte, start and
 * end give the original bytes it came from. */
struct sv_norm {
	char *text;
	uint32_t *start, *end;
	uint8_t *run; /* run length of the letter, capped at 255; 1 for spaces */
	size_t len, cap;
	/* A '1' was read as 'i', or spelled-out letters began with "a" or "i"
	 * ("a g u n") or ended with "u" or "r" ("d r u g s r"): worth a second
	 * pass reading the other way. */
	bool used_one;
	void *units; /* the decoded code points, kept for the next call */
	size_t units_cap;
};

void sv_moderate_norm_init(struct sv_norm *n);
void sv_moderate_norm_free(struct sv_norm *n);
/* Fills n (reused across calls) from s. The second pass, one_as_l, reads a
 * leet '1' as 'l' instead of 'i' and leaves a leading "a" or "i" out of
 * spelled-out letters. 0, or -1 out of memory. */
int sv_moderate_normalise(const char *s, size_t len, bool one_as_l, struct sv_norm *n);

struct sv_ac;
/* Where a pattern may be found: as a whole word, also beginning or ending
 * a word ("Shitbeard", "dipshit", but not "Kshitij"), or anywhere in one. */
enum sv_ac_within { SV_AC_WHOLE, SV_AC_EDGE, SV_AC_ANYWHERE };

/* Builds the automaton from npat normalised patterns (text and run arrays
 * as sv_norm gives them); pattern i is reported as i. within[i] (enum
 * sv_ac_within; within may be NULL: all whole words). NULL out of memory. */
struct sv_ac *sv_moderate_ac_build(size_t npat, char *const *text, uint8_t *const *run,
                                   const size_t *len, const uint8_t *within);
void sv_moderate_ac_free(struct sv_ac *ac);
/* Calls hit for every whole-word occurrence of a pattern in n (anywhere,
 * for a pattern found within words) whose letter
 * runs fit the pattern's; [start, end) are offsets into n->text. A non-zero
 * return from hit stops the scan and is returned. */
typedef int (*sv_ac_hit_fn)(size_t pattern, size_t start, size_t end, void *ctx);
int sv_moderate_ac_scan(const struct sv_ac *ac, const struct sv_norm *n, sv_ac_hit_fn hit,
                        void *ctx);

/* Personal data in the original bytes: e-mail addresses, phone numbers,
 * street addresses, postcodes and handles. Calls hit(start, end, ctx) for each; a non-zero return
 * stops and is returned. */
typedef int (*sv_personal_hit_fn)(size_t start, size_t end, void *ctx);
int sv_moderate_personal(const char *s, size_t len, sv_personal_hit_fn hit, void *ctx);

/* The learned model (classify.c): a weight per class for each word and word
 * pair of the normalised text. */
#define SV_MODEL_MAX_CLASSES 16

struct sv_model;
struct sv_model_verdict {
	int category;      /* enum sv_moderate_category */
	double p_safe;     /* the model's belief that the text is safe */
	size_t start, end; /* normalised offsets of the feature that weighed most */
};

/* From data/<lang>/moderation-model.json; NULL with err filled. */
struct sv_model *sv_moderate_model_load(const json_t *root, struct sv_err *err);
void sv_moderate_model_free(struct sv_model *m);
/* 1 with *v filled when some window of the text reads unsafe, 0 when none
 * does; v->p_safe is the lowest window's either way, exact below doubt (or
 * the threshold), 1 above it. -1 out of memory. */
int sv_moderate_model_flag(const struct sv_model *m, const struct sv_norm *n, double doubt,
                           struct sv_model_verdict *v);

#endif
