/*
 * The story writer: a provider chosen by name, and the page-by-page loop
 * that asks it for each page of a planned story. Each request carries the
 * page's plan (beat, place, time, mood, objects, cast) and its grammar
 * draft; completion models continue the draft's first sentence, chat models
 * answer the instructions. Every answer goes through sv_textgen_clean; a
 * page whose answer fails keeps its draft, so a story is always whole.
 */
#include "textgen/textgen.h"

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
	bool completion; /* continues a lead rather than answering a prompt */
};

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
	*g = (struct sv_textgen){ops, self, completion};
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

static int write_page(struct sv_textgen *g, const json_t *story, json_t *page, uint64_t seed,
                      struct sv_err *err)
{
	struct page_cast pc;
	page_cast_of(story, json_object_get(page, "scene"), &pc);
	int target = target_words(story, page);
	struct sv_buf system, prompt, lead, raw, clean;
	sv_buf_init(&system);
	sv_buf_init(&prompt);
	sv_buf_init(&lead);
	sv_buf_init(&raw);
	sv_buf_init(&clean);
	const char *age = str(json_object_get(story, "parameters"), "age");
	sv_buf_printf(&system,
	              "You write one page of a picture book for children aged %s. Use short, warm, "
	              "simple sentences a child of that age can follow. Keep to the plan, name the "
	              "characters, and keep everything kind and safe. Answer with the page's words "
	              "only.",
	              age);
	describe_page(&prompt, story, page, &pc, target);
	struct lead l = {&lead, pc.n ? pc.names[0] : NULL, 0, false};
	sv_story_sentences(str(page, "text"), lead_sentence, &l);
	struct sv_textgen_request r = {
	    .system = system.data ? system.data : "",
	    .prompt = prompt.data ? prompt.data : "",
	    .lead = lead.data ? lead.data : "",
	    .max_tokens = target * 2 < 512 ? target * 2 : 512,
	    .temperature = 0.8,
	    .top_p = 0.9,
	    .seed = seed,
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
	json_t *spans = NULL;
	struct sv_textgen_check want = {pc.names, pc.roles, pc.n, least,
	                                least > target ? least + target / 2 : target * 3 / 2};
	struct sv_err why = {0};
	if (rc == 0)
		rc = sv_textgen_clean(raw.data ? raw.data : "", &want, &clean, &spans, &why);
	const char *used = "grammar";
	if (rc == 0) {
		rc = keep_page(page, clean.data, spans);
		used = g->ops->name;
	} else if (rc == 1) {
		sv_log(SV_LOG_DEBUG, "a page keeps its draft",
		       json_pack("{s:O?,s:s}", "page", json_object_get(page, "number"), "why",
		                 why.message));
		rc = 0;
	}
	if (rc == 0 && json_object_set_new(page, "text_provider", json_string(used)) < 0)
		rc = -1;
	if (rc < 0 && err && !err->code[0])
		sv_err_set(err, "nomem", "", "out of memory");
	sv_buf_free(&system);
	sv_buf_free(&prompt);
	sv_buf_free(&lead);
	sv_buf_free(&raw);
	sv_buf_free(&clean);
	return rc;
}

int sv_textgen_write_story(struct sv_textgen *g, json_t *story, struct sv_err *err)
{
	if (!g->ops)
		return 0;
	uint64_t seed = (uint64_t)json_integer_value(
	    json_object_get(json_object_get(story, "parameters"), "seed"));
	size_t i;
	json_t *page;
	json_int_t words = 0;
	json_array_foreach(json_object_get(story, "pages"), i, page)
	{
		if (write_page(g, story, page, sv_hash64(&i, sizeof i, seed), err) < 0)
			return -1;
		words += json_integer_value(json_object_get(page, "words"));
	}
	return json_object_set_new(story, "word_count", json_integer(words)) < 0
	           ? sv_err_set(err, "nomem", "", "out of memory")
	           : 0;
}
