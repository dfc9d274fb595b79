/*
 * textgen: the words of a story's pages from one of three providers — the
 * grammar realiser (the story module's own text), the local language model
 * engine (lm), or any OpenAI-compatible server — and the post-processing
 * that every provider's output goes through before a child reads it.
 *
 * The story module plans the story and writes a grammar draft of every page;
 * a model provider is then asked, page by page, to write that page from its
 * plan (place, cast, mood, objects, the beat) with the draft as a guide. What
 * comes back is cleaned up (whole sentences, no stray symbols), checked
 * (the page's characters are named, the length fits the age) and given
 * speaker spans; a page that fails the checks keeps its draft.
 *
 * Ownership: sv_textgen_new's result is freed with sv_textgen_free; it
 * borrows the lm batcher it is given. Providers are safe to call from
 * several threads at once.
 */
#ifndef SV_TEXTGEN_H
#define SV_TEXTGEN_H

#include "base/base.h"
#include "lm/lm.h"
#include "moderate/moderate.h"

#include <jansson.h>
#include <stdbool.h>

/* ---- one request to a model: what to write ---- */

struct sv_textgen_request {
	const char *system; /* instructions for chat models */
	const char *prompt; /* the page's plan and draft, for chat models */
	const char *lead;   /* the text a completion model continues (the page's start) */
	int max_tokens;
	double temperature, top_p;
	uint64_t seed;
};

/* A provider: writes the continuation or answer for a request into out
 * (appended, UTF-8). -1 with err filled when it cannot. */
struct sv_textgen_ops {
	const char *name;
	int (*write)(void *self, const struct sv_textgen_request *r, struct sv_buf *out,
	             struct sv_err *err);
	void (*free)(void *self);
};

/* ---- the OpenAI-compatible client (openai.c) ---- */

struct sv_textgen_openai_options {
	const char *base_url; /* e.g. http://127.0.0.1:8081 (…/v1 is added when missing) */
	const char *api_key;  /* sent as a bearer token when set */
	const char *model;    /* the "model" field of requests */
	bool chat;            /* /v1/chat/completions (else /v1/completions) */
	bool stream;          /* ask for server-sent events and read them as they come */
	long timeout_ms;      /* whole request; 0: 60 s */
	int retries;          /* after a failure that may pass (connection, 429, 5xx) */
};

/* A provider speaking to base_url; NULL with err filled when the options
 * are unusable. Free with ops->free. */
void *sv_textgen_openai_new(const struct sv_textgen_openai_options *o, struct sv_err *err);
extern const struct sv_textgen_ops sv_textgen_openai_ops;

/* ---- the local engine (local.c) ---- */

/* A provider over a running batcher (borrowed). */
void *sv_textgen_local_new(struct lm_batcher *b, struct sv_err *err);
extern const struct sv_textgen_ops sv_textgen_local_ops;

/* ---- post-processing (post.c), the same for every provider ---- */

/* What a page's words must satisfy. */
struct sv_textgen_check {
	const char *const *names; /* characters the page must name (at least the first) */
	const char *const *roles; /* each name's cast role, for speaker spans */
	int nnames;
	int min_words, max_words; /* whole sentences are cut to fit max_words */
};

/* Cleans raw model output into page text: control characters and markup
 * dropped, whitespace folded, an unfinished last sentence cut, sentences
 * beyond max_words cut, the first letter capitalised. Then checks it:
 * 0 with the text in out (replacing its contents) and speaker spans (a new
 * JSON array of {"start","end","speaker"} over quoted speech, the speaker
 * the role of the name said beside it, or "narrator"), or 1 with a reason in
 * err when the page should keep its draft (too short, a character missing),
 * or -1 when memory runs out. */
int sv_textgen_clean(const char *raw, const struct sv_textgen_check *want, struct sv_buf *out,
                     json_t **spans, struct sv_err *err);

/* Whether text (len bytes, valid UTF-8) has name as a whole word: not
 * inside a longer word, letters of any script counting as word. */
bool sv_textgen_names(const char *text, size_t len, const char *name);

/* ---- providers by name, and the story writer ---- */

enum sv_textgen_provider { SV_TEXTGEN_GRAMMAR, SV_TEXTGEN_LOCAL, SV_TEXTGEN_OPENAI };
int sv_textgen_provider_parse(const char *s, enum sv_textgen_provider *out);
const char *sv_textgen_provider_name(enum sv_textgen_provider p);

struct sv_textgen;

/* A writer for provider p: grammar needs nothing, local a batcher, openai
 * its options. NULL with err filled. */
struct sv_textgen *sv_textgen_new(enum sv_textgen_provider p, struct lm_batcher *b,
                                  const struct sv_textgen_openai_options *o, struct sv_err *err);
/* A writer over any provider (self owned: freed with ops->free); completion
 * says whether it continues the lead (else it answers the prompt). */
struct sv_textgen *sv_textgen_new_ops(const struct sv_textgen_ops *ops, void *self, bool completion,
                                      struct sv_err *err);
void sv_textgen_free(struct sv_textgen *g);

/* Output moderation for every story g writes from now on: each page's words,
 * chapter title and the story's title are softened for the story's age
 * group (sv_moderate_soften) and checked; a page a model wrote that is still
 * refused is asked for again, up to rewrites times. m is borrowed. */
void sv_textgen_set_moderator(struct sv_textgen *g, const struct sv_moderator *m, int rewrites);

/* Rewrites the pages of a story document (from sv_story_generate) with the
 * provider, in place: each page's "text", "words" and "spans", and
 * "text_provider" on each page ("grammar" where the draft was kept); with a
 * moderator, pages softened or rewritten say so in "moderation"
 * ({"softened","rewrites"}). The grammar provider writes nothing of its own.
 * *review is NULL when everything passed, else a new array of what was
 * still refused — {"field":"text"|"chapter_title"|"title","page"?,
 * "categories","severity","rewrites","matches":[{"start","end","category",
 * "severity","words"}]} — and the story must be read by a person before a
 * child gets it. -1 with err filled when the provider fails outright (the
 * story is then unchanged page by page up to the failure). */
int sv_textgen_write_story(struct sv_textgen *g, json_t *story, json_t **review,
                           struct sv_err *err);

#endif
