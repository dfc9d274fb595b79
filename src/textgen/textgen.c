/*
 * The story writer: a provider chosen by name, and the page-by-page loop
 * that asks it for each page of a planned story. Each request carries the
 * page's plan (beat, place, time, mood, objects, cast) and its grammar
 * draft; completion models continue the draft's first sentence, chat models
 * answer the instructions. Every answer goes through sv_textgen_clean; a
 * page whose answer fails keeps its draft, so a story is always whole.
 */
#include "textgen/textgen.h"

#include "moderate/moderate.h"
#include "story/story.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 16

static const char *const provider_names[] = {"grammar", "local", "openai"};

int sv_textgen_provider_parse(const char *s, enum sv_textgen_provider *out)
{
	for (size_t i = 0; i < sizeof provider_names / sizeof provider_names[0]; i++)
		if (strcmp(s, provider_names[i]) == 0) {
			*out = (enum sv_textgen_provider)i;
			return 0;
		}
	return -1;
}

const char *sv_textgen_provider_name(enum sv_textgen_provider p)
{
	return provider_names[p];
}

struct sv_textgen {
	const struct sv_textgen_ops *ops; /* NULL for grammar */
	void *self;
	bool completion;                      /* continues a lead rather than answering a prompt */
	const struct sv_moderator *moderator; /* borrowed; NULL: no output moderation */
	int rewrites;
};

void sv_textgen_set_moderator(struct sv_textgen *g, const struct sv_moderator *m, int rewrites)
{
	g->moderator = m;
	g->rewrites = rewrites > 0 ? rewrites : 0;
}

struct sv_textgen *sv_textgen_new(enum sv_textgen_provider p, struct lm_batcher *b,
                                  const struct sv_textgen_openai_options *o, struct sv_err *err)
{
	struct sv_textgen *g = calloc(1, sizeof *g);
	if (!g) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	if (p == SV_TEXTGEN_LOCAL) {
		g->ops = &sv_textgen_local_ops;
		g->completion = true;
		g->self = b ? sv_textgen_local_new(b, err)
		            : (sv_err_set(
		                   err, "invalid_value", "text_provider",
		                   "the local provider needs a model (--lm-model, --lm-tokenizer)"),
		               NULL);
	} else if (p == SV_TEXTGEN_OPENAI) {
		g->ops = &sv_textgen_openai_ops;
		g->completion = o && !o->chat;
		g->self = o ? sv_textgen_openai_new(o, err)
		            : (sv_err_set(err, "invalid_value", "text_provider",
		                          "the openai provider needs a base URL"),
		               NULL);
	}
	if (g->ops && !g->self) {
		free(g);
		return NULL;
	}
	return g;
}

struct sv_textgen *sv_textgen_new_ops(const struct sv_textgen_ops *ops, void *self, bool completion,
                                      struct sv_err *err)
{
	struct sv_textgen *g = calloc(1, sizeof *g);
	if (!g) {
		ops->free(self);
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	*g = (struct sv_textgen){ops, self, completion, NULL, 0};
	return g;
}

void sv_textgen_free(struct sv_textgen *g)
{
	if (!g)
		return;
	if (g->ops)
		g->ops->free(g->self);
	free(g);
}

/* ---- a page's request ---- */

/* The names of the cast on a page, the hero (or whoever comes first) first. */
struct page_cast {
	const char *names[MAX_NAMES], *roles[MAX_NAMES];
	int n;
};

static const char *cast_name(const json_t *story, const char *role)
{
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(story, "cast"), i, c)
	{
		const char *r = json_string_value(json_object_get(c, "role"));
		if (r && strcmp(r, role) == 0)
			return json_string_value(json_object_get(c, "name"));
	}
	return NULL;
}

static void page_cast_of(const json_t *story, const json_t *scene, struct page_cast *pc)
{
	pc->n = 0;
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(scene, "cast"), i, r)
	{
		const char *role = json_string_value(r),
		           *name = role ? cast_name(story, role) : NULL;
		if (!name || pc->n == MAX_NAMES)
			continue;
		int at = pc->n++;
		if (strcmp(role, "hero") == 0) /* to the front */
			for (; at > 0; at--) {
				pc->names[at] = pc->names[at - 1];
				pc->roles[at] = pc->roles[at - 1];
			}
		pc->names[at] = name;
		pc->roles[at] = role;
	}
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void describe_cast(struct sv_buf *b, const json_t *story, const struct page_cast *pc)
{
	sv_buf_puts(b, "Characters on this page:");
	for (int i = 0; i < pc->n; i++) {
		size_t k;
		const json_t *c;
		json_array_foreach(json_object_get(story, "cast"), k, c)
		{
			if (strcmp(str(c, "role"), pc->roles[i]) != 0)
				continue;
			sv_buf_printf(b, "%s %s (%s)", i ? ";" : "", pc->names[i],
			              *str(c, "looks") ? str(c, "looks") : str(c, "species"));
			break;
		}
	}
	sv_buf_puts(b, ".\n");
}

static void describe_page(struct sv_buf *b, const json_t *story, const json_t *page,
                          const struct page_cast *pc, int target)
{
	const json_t *scene = json_object_get(page, "scene");
	sv_buf_printf(b, "Story: \"%s\", set in %s.\n", str(story, "title"),
	              str(json_object_get(story, "universe"), "name"));
	describe_cast(b, story, pc);
	sv_buf_printf(b,
	              "This page (%d of %zu) is the story's %s: at %s in the %s; the mood is %s.\n",
	              (int)json_integer_value(json_object_get(page, "number")),
	              json_array_size(json_object_get(story, "pages")), str(page, "beat"),
	              str(scene, "place_name"), str(scene, "time_of_day"), str(scene, "mood"));
	size_t i;
	const json_t *o;
	json_array_foreach(json_object_get(scene, "objects"), i, o)
	    sv_buf_printf(b, "%s%s", i ? ", " : "Things to show: ", json_string_value(o));
	sv_buf_printf(b, "%sWrite about %d words. A draft to improve on:\n%s\n",
	              json_array_size(json_object_get(scene, "objects")) ? ".\n" : "", target,
	              str(page, "text"));
}

/* What a completion model continues: the draft's opening, up to the first
 * sentence that names the page's first character (at most LEAD_SENTENCES),
 * so the model knows who the page is about. */
#define LEAD_SENTENCES 3

struct lead {
	struct sv_buf *text;
	const char *name;
	int sentences;
	bool named;
};

static void lead_sentence(void *ctx, const char *s, size_t len,
                          const struct sv_story_text_stats *st)
{
	struct lead *l = ctx;
	if (l->named || l->sentences == LEAD_SENTENCES)
		return;
	if (l->sentences++)
		sv_buf_puts(l->text, " ");
	sv_buf_append(l->text, s, len);
	l->named = !l->name || sv_textgen_names(s, len, l->name);
}

static int target_words(const json_t *story, const json_t *page)
{
	const json_t *plan =
	    json_array_get(json_object_get(story, "plan"),
	                   (size_t)json_integer_value(json_object_get(page, "plan_index")));
	int t = (int)json_integer_value(json_object_get(plan, "target_words"));
	if (t <= 0)
		t = (int)json_integer_value(json_object_get(page, "words"));
	return t > 0 ? t : 60;
}

/* ---- writing a page ---- */

/* Puts a space at byte at of b (the model's first piece may not start with one). */
static int insert_space(struct sv_buf *b, size_t at)
{
	if (sv_buf_append(b, " ", 1) < 0)
		return -1;
	memmove(b->data + at + 1, b->data + at, b->len - at - 1);
	b->data[at] = ' ';
	return 0;
}

static int keep_page(json_t *page, const char *text, json_t *spans)
{
	struct sv_story_text_stats st;
	sv_story_text_stats(text, &st);
	if (json_object_set_new(page, "text", json_string(text)) < 0 ||
	    json_object_set_new(page, "words", json_integer(st.words)) < 0 ||
	    json_object_set_new(page, "spans", spans) < 0)
		return -1;
	return 0;
}

/* One answer of the model for a page: 0 with the page's new words in clean
 * and spans, 1 when the answer fails the checks (why says how), -1. A
 * rewrite (attempt > 0) has a seed of its own and, for chat models, a note
 * that the last answer was not right for the age. */
static int ask_model(struct sv_textgen *g, const json_t *story, const json_t *page,
                     const struct page_cast *pc, int attempt, uint64_t seed, struct sv_buf *clean,
                     json_t **spans, struct sv_err *why, struct sv_err *err)
{
	int target = target_words(story, page);
	struct sv_buf system, prompt, lead, raw;
	sv_buf_init(&system);
	sv_buf_init(&prompt);
	sv_buf_init(&lead);
	sv_buf_init(&raw);
	const char *age = str(json_object_get(story, "parameters"), "age");
	sv_buf_printf(&system,
	              "You write one page of a picture book for children aged %s. Use short, warm, "
	              "simple sentences a child of that age can follow. Keep to the plan, name the "
	              "characters, and keep everything kind and safe. Answer with the page's words "
	              "only.%s",
	              age,
	              attempt ? " Your last try had words that are not right for children this "
	                        "age: write the page again, gentle and kind, with no fighting, "
	                        "weapons or frights."
	                      : "");
	describe_page(&prompt, story, page, pc, target);
	struct lead l = {&lead, pc->n ? pc->names[0] : NULL, 0, false};
	sv_story_sentences(str(page, "text"), lead_sentence, &l);
	struct sv_textgen_request r = {
	    .system = system.data ? system.data : "",
	    .prompt = prompt.data ? prompt.data : "",
	    .lead = lead.data ? lead.data : "",
	    .max_tokens = target * 2 < 512 ? target * 2 : 512,
	    .temperature = 0.8,
	    .top_p = 0.9,
	    .seed = attempt ? sv_hash64(&attempt, sizeof attempt, seed) : seed,
	};
	/* A completion model's page is the lead and what follows it; at least
	 * half the page's words must be the model's own. */
	struct sv_story_text_stats lead_stats = {0};
	if (g->completion) {
		sv_buf_puts(&raw, r.lead);
		sv_story_text_stats(r.lead, &lead_stats);
	}
	size_t lead_len = raw.len;
	int rc = g->ops->write(g->self, &r, &raw, err);
	if (rc == 0 && lead_len && raw.len > lead_len &&
	    !isspace((unsigned char)raw.data[lead_len]))
		rc = insert_space(&raw, lead_len);
	int least = lead_stats.words + target / 2;
	struct sv_textgen_check want = {pc->names, pc->roles, pc->n, least,
	                                least > target ? least + target / 2 : target * 3 / 2};
	if (rc == 0)
		rc = sv_textgen_clean(raw.data ? raw.data : "", &want, clean, spans, why);
	if (rc < 0 && err && !err->code[0])
		sv_err_set(err, "nomem", "", "out of memory");
	sv_buf_free(&system);
	sv_buf_free(&prompt);
	sv_buf_free(&lead);
	sv_buf_free(&raw);
	return rc;
}

/* ---- output moderation ---- */

/* Softens the string at key of obj for the age and checks it (flags: 0 for
 * a model's words, SV_MODERATE_OURS for ours); its spans (byte offsets,
 * when spans is given) follow the softened words. 0 with *res filled
 * (allowed or not), -1. */
static int guard_string(const struct sv_moderator *m, const char *age, unsigned flags, json_t *obj,
                        const char *key, json_t *spans, int *softened,
                        struct sv_moderate_result *res, struct sv_err *err)
{
	const char *text = json_string_value(json_object_get(obj, key));
	res->allowed = true;
	res->nmatches = 0;
	if (!text)
		return 0;
	struct sv_buf out;
	sv_buf_init(&out);
	struct sv_moderate_softened edits;
	int rc = sv_moderate_soften(m, text, strlen(text), age, flags, &out, &edits, res, err);
	if (rc == 0 && edits.nedits) {
		*softened += (int)edits.nedits;
		size_t i;
		json_t *sp;
		json_array_foreach(spans, i, sp) for (int k = 0; k < 2; k++)
		{
			const char *edge = k ? "end" : "start";
			size_t at = (size_t)json_integer_value(json_object_get(sp, edge));
			json_object_set_new(
			    sp, edge,
			    json_integer((json_int_t)sv_moderate_softened_offset(&edits, at)));
		}
		rc = json_object_set_new(obj, key, json_stringn(out.data, out.len));
		if (rc < 0)
			sv_err_set(err, "nomem", "", "out of memory");
	}
	sv_buf_free(&out);
	return rc;
}

/* What a person reviewing the story needs to see of a refusal: where, what
 * for, and the words themselves (it is their job to read them). */
static int flag(json_t *review, const json_t *page, const char *field, const char *text,
                const struct sv_moderate_result *res, int rewrites)
{
	json_t *cats = json_array(), *matches = json_array();
	for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++)
		if (res->categories & (1u << c))
			json_array_append_new(cats, json_string(sv_moderate_category_name(c)));
	for (size_t i = 0; i < res->nmatches; i++) {
		const struct sv_moderate_match *x = &res->matches[i];
		json_array_append_new(
		    matches, json_pack("{s:I,s:I,s:s,s:i,s:s%}", "start", (json_int_t)x->start,
		                       "end", (json_int_t)x->end, "category",
		                       sv_moderate_category_name(x->category), "severity",
		                       x->severity, "words", text + x->start, x->end - x->start));
	}
	json_t *f = json_pack("{s:s,s:o,s:i,s:o,s:i}", "field", field, "categories", cats,
	                      "severity", res->severity, "matches", matches, "rewrites", rewrites);
	if (f && page)
		json_object_set(f, "page", json_object_get(page, "number"));
	return f ? json_array_append_new(review, f) : -1;
}

/* Softens and checks a page's words (ours: the draft's): 0 allowed, 1
 * refused, -1. */
static int guard_page(const struct sv_textgen *g, const char *age, bool ours, json_t *page,
                      int *softened, struct sv_moderate_result *res, struct sv_err *err)
{
	return guard_string(g->moderator, age, ours ? SV_MODERATE_OURS : 0, page, "text",
	                    json_object_get(page, "spans"), softened, res, err) < 0
	           ? -1
	           : !res->allowed;
}

/* ---- writing a page ---- */

/* Writes one page: the model's answer when it passes the checks, else the
 * draft; with a moderator, softened for the age, and a model's page that is
 * still refused asked for again up to the rewrite limit. A page refused at
 * the end keeps its words and is flagged in review. */
static int write_page(struct sv_textgen *g, const json_t *story, json_t *page, uint64_t seed,
                      json_t *review, struct sv_err *err)
{
	struct page_cast pc;
	page_cast_of(story, json_object_get(page, "scene"), &pc);
	const char *age = str(json_object_get(story, "parameters"), "age");
	/* The draft to go back to, only where a model may replace it: the
	 * grammar's page is the draft itself. */
	json_t *draft = g->ops ? json_deep_copy(page) : NULL;
	if (g->ops && !draft)
		return sv_err_set(err, "nomem", "", "out of memory");
	struct sv_buf clean;
	sv_buf_init(&clean);
	const char *used = "grammar";
	int rc = 0, attempt = 0, softened = 0;
	struct sv_moderate_result res = {.allowed = true};
	for (;; attempt++) {
		json_t *spans = NULL;
		struct sv_err why = {0};
		int got = g->ops ? ask_model(g, story, draft, &pc, attempt, seed, &clean, &spans,
		                             &why, err)
		                 : 1;
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got == 0) {
			rc = keep_page(page, clean.data, spans);
			used = g->ops->name;
		} else {
			if (draft) {
				sv_log(SV_LOG_DEBUG, "a page keeps its draft",
				       json_pack("{s:O?,s:s}", "page",
				                 json_object_get(page, "number"), "why",
				                 why.message));
				json_object_update(page, draft); /* back to the draft's words */
			}
			used = "grammar";
		}
		softened = 0;
		if (rc == 0 && g->moderator)
			rc = guard_page(g, age, got != 0, page, &softened, &res, err);
		/* Refused: the model may try again; the draft never changes. */
		if (rc != 1 || got != 0 || attempt >= g->rewrites)
			break;
		rc = 0;
	}
	if (rc == 1)
		rc = flag(review, page, "text", str(page, "text"), &res, attempt) < 0 ? -1 : 0;
	int chapter_softened = 0;
	if (rc == 0 && g->moderator) {
		rc = guard_string(g->moderator, age, SV_MODERATE_OURS, page, "chapter_title", NULL,
		                  &chapter_softened, &res, err);
		if (rc == 0 && !res.allowed)
			rc = flag(review, page, "chapter_title", str(page, "chapter_title"), &res,
			          0);
	}
	if (rc == 0 && g->ops && json_object_set_new(page, "text_provider", json_string(used)) < 0)
		rc = -1;
	if (rc == 0 && (softened || attempt) &&
	    json_object_set_new(page, "moderation",
	                        json_pack("{s:i,s:i}", "softened", softened, "rewrites", attempt)) <
	        0)
		rc = -1;
	if (rc < 0 && err && !err->code[0])
		sv_err_set(err, "nomem", "", "out of memory");
	json_decref(draft);
	sv_buf_free(&clean);
	return rc;
}

int sv_textgen_write_story(struct sv_textgen *g, json_t *story, json_t **review, struct sv_err *err)
{
	*review = NULL;
	if (!g->ops && !g->moderator)
		return 0;
	uint64_t seed = (uint64_t)json_integer_value(
	    json_object_get(json_object_get(story, "parameters"), "seed"));
	json_t *flags = json_array();
	if (!flags)
		return sv_err_set(err, "nomem", "", "out of memory");
	size_t i;
	json_t *page;
	json_int_t words = 0;
	int rc = 0;
	json_array_foreach(json_object_get(story, "pages"), i, page)
	{
		if (write_page(g, story, page, sv_hash64(&i, sizeof i, seed), flags, err) < 0) {
			rc = -1;
			break;
		}
		words += json_integer_value(json_object_get(page, "words"));
	}
	if (rc == 0 && g->moderator) { /* the title, which every page and list shows */
		int softened = 0;
		struct sv_moderate_result res;
		const char *age = str(json_object_get(story, "parameters"), "age");
		rc = guard_string(g->moderator, age, SV_MODERATE_OURS, story, "title", NULL,
		                  &softened, &res, err);
		if (rc == 0 && !res.allowed)
			rc = flag(flags, NULL, "title", str(story, "title"), &res, 0);
	}
	if (rc == 0 && json_object_set_new(story, "word_count", json_integer(words)) < 0)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	if (rc == 0 && json_array_size(flags))
		*review = json_incref(flags);
	json_decref(flags);
	return rc;
}
