/*
 * moderate: a content-safety checker for children's text. It normalises the
 * text (Unicode compatibility forms, case, accents, look-alike letters,
 * leetspeak, spaced-out letters, stretched letters), matches it against an
 * embedded lexicon (data/<lang>/moderation.json) with whole-word matching,
 * innocent-phrase exceptions and word combinations (a group and an insult
 * near each other), finds personal data (e-mail addresses, also written "name
 * at example dot com", phone numbers, also in words, street addresses,
 * postcodes, @handles), reads the words together with a small model learnt
 * from our labelled sets (data/<lang>/moderation-model.json, when there is
 * one: classify.c), and applies a per-age policy. A moderator is read-only after sv_moderate_new,
 * so one may be shared by any number of threads.
 */
#ifndef SV_MODERATE_H
#define SV_MODERATE_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sv_moderate_category {
	SV_MODERATE_VIOLENCE,
	SV_MODERATE_WEAPONS,
	SV_MODERATE_SEXUAL,
	SV_MODERATE_DRUGS,
	SV_MODERATE_HATE,
	SV_MODERATE_SELF_HARM,
	SV_MODERATE_PROFANITY,
	SV_MODERATE_FRIGHTENING,
	SV_MODERATE_PERSONAL_DATA,
	SV_MODERATE_NCATEGORIES
};

#define SV_MODERATE_MAX_MATCHES 32

struct sv_moderate_match {
	size_t start, end;  /* byte offsets into the checked text, end exclusive */
	int category;       /* enum sv_moderate_category */
	int severity;       /* 1 mild, 2 moderate, 3 severe */
	const char *gentle; /* a softer word for it, or NULL (the moderator's) */
};

/* Only what the age policy refuses is reported: a mild-peril word that the
 * age group tolerates is not a match. */
struct sv_moderate_result {
	bool allowed;
	int severity;        /* the highest severity among the matches, 0 when none */
	unsigned categories; /* bit (1u << category) for every category matched */
	size_t nmatches;     /* at most SV_MODERATE_MAX_MATCHES, in text order */
	bool truncated;      /* more matches were found than fit */
	struct sv_moderate_match matches[SV_MODERATE_MAX_MATCHES];
};

struct sv_moderator;

/* Loads data/<lang>/moderation.json from the embedded files and builds the
 * matcher. NULL with err filled when the language is unknown or the data bad. */
struct sv_moderator *sv_moderate_new(const char *lang, struct sv_err *err);
/* The same from a lexicon in memory (name says where it came from, in
 * errors), without a learned model. */
struct sv_moderator *sv_moderate_from_json(json_t *root, const char *name, struct sv_err *err);
void sv_moderate_free(struct sv_moderator *m);

/* Checks len bytes of UTF-8 text (invalid bytes are tolerated) for the age
 * group "3-5", "6-8" or "9-12" (NULL: the strictest). 0, or -1 with err
 * filled (invalid_value for an unknown age, nomem). */
int sv_moderate_check(const struct sv_moderator *m, const char *text, size_t len, const char *age,
                      struct sv_moderate_result *out, struct sv_err *err);

/* "violence", "weapons", ...; NULL for a number out of range. */
const char *sv_moderate_category_name(int category);
/* The category's number, or -1. */
int sv_moderate_category_parse(const char *name);

/* Appends {"allowed":bool,"categories":[...],"severity":n,
 * "matches":[{"start","end","category","severity"}]}. 0, or -1 out of memory. */
int sv_moderate_result_json(const struct sv_moderate_result *r, struct sv_buf *out);

/* ---- learning: the model that catches harm told in ordinary words ---- */

/* A labelled text: category -1 for safe. */
struct sv_moderate_example {
	const char *text;
	size_t len;
	int category;
};

struct sv_moderate_train_options {
	int epochs;       /* passes over the examples */
	double rate, l2;  /* first step size (falling to 0 by the last pass), and the pull of
	                   * every weight towards 0 */
	double threshold; /* a text is flagged when P(safe) falls below it */
	int min_count;    /* features seen in fewer examples are left out */
	double prune;     /* and those whose weights are all smaller than this */
	uint64_t seed;    /* the order of the examples: the same seed, the same model */
	int runs;         /* runs from seeds seed, seed + 1, ..., their weights averaged */
};

/* Trains a multinomial logistic regression over the words and word pairs
 * of the normalised examples and appends it to out as the JSON that
 * data/<lang>/moderation-model.json holds. 0, or -1 with err. */
int sv_moderate_train(const struct sv_moderate_example *ex, size_t n,
                      const struct sv_moderate_train_options *o, struct sv_buf *out,
                      struct sv_err *err);

/* Replaces the moderator's learned model with the one in root (as --train
 * writes it), before the moderator is shared: to measure a model before it
 * is built in. 0, or -1 with err (the old model kept). */
int sv_moderate_use_model(struct sv_moderator *m, const json_t *root, struct sv_err *err);

/* ---- softening: what written pages get instead of a refusal ----
 *
 * A mild term that the age group refuses may have a gentler word in the
 * lexicon ("scared" -> "worried", "fought" -> "squabbled"): a page of a story
 * for ages 3-5 is softened rather than rewritten. Names and requests are
 * checked, never softened. */

/* One replacement: the original bytes [start, end) became len bytes. */
struct sv_moderate_edit {
	size_t start, end, len;
};

struct sv_moderate_softened {
	size_t nedits;
	struct sv_moderate_edit edits[SV_MODERATE_MAX_MATCHES];
};

/* For text of our own making (the grammar realiser's pages, our titles):
 * the lexicon alone reads it. The model is there for what a language model
 * or a person writes; our curated sentences are not its to second-guess. */
#define SV_MODERATE_OURS 1u

/* Writes text to out (replacing its contents) with every refused match that
 * has a gentler word replaced by it (in the first letter's case), the edits
 * in edits, and *res the check of the softened text; flags: 0 or
 * SV_MODERATE_OURS. 0, or -1 with err. */
int sv_moderate_soften(const struct sv_moderator *m, const char *text, size_t len, const char *age,
                       unsigned flags, struct sv_buf *out, struct sv_moderate_softened *edits,
                       struct sv_moderate_result *res, struct sv_err *err);

/* Where a byte offset of the original text falls in the softened text (an
 * offset inside a replaced word keeps inside its replacement). */
size_t sv_moderate_softened_offset(const struct sv_moderate_softened *s, size_t offset);

#endif
