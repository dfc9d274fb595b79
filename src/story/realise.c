/*
 * The grammar realiser: turns a plan into pages of text.
 *
 * Each beat runs its script from beats.json. A script item is a move (pick
 * one template from a list and fill in its tokens), a reference to theme,
 * moral, obstacle or universe templates, or a line of dialogue spoken in a
 * character's own way (their openers, catchphrases, speech verbs and own
 * lines). When a beat is short of its share of the words, items from its fill
 * pool are added at the script's '~fill' mark, each at most a few times.
 * Templates are chosen by reading level and never repeated while an unused
 * one is left; after that, the one used longest ago comes back first.
 *
 * Every item is weighed before it is written: a rendering that repeats a
 * sentence the story already has is tried again with another template (and
 * left out when none is new), and of the new ones the realiser keeps the one
 * that holds the story's Flesch-Kincaid grade so far nearest its reading
 * level's aim (readability.c, eval.c). Dialogue keeps its spans, the quoted
 * words and their speaker, through paragraphs and pages.
 *
 * Randomness comes from an sv_rng seeded per beat from the story seed, so the
 * same plan always gives the same text. A writer owns the strings it makes
 * until they are handed to the pages.
 */
#include "story/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define BIT(r)   (1u << (r))
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* When each template was last used in this story (0: never), keyed by pointer. */
struct usemap {
	const void **keys;
	uint32_t *when;
	size_t cap, n;
	uint32_t clock;
};

/* Where the dialogue is in a piece of text, relative to its start. */
struct spans {
	struct sv_span *v;
	int n, cap;
};

struct item {
	char *text;
	int dialogue;
	int words;
	struct spans spans; /* owned by the item */
};

struct items {
	struct item *v;
	int n, cap;
};

/* The keys of the sentences written so far, sorted, so none is written twice. */
struct said {
	uint64_t *v;
	size_t n, cap;
};

struct writer {
	const struct sv_plan *pl;
	const json_t *data; /* beats.json */
	int level;
	struct sv_rng rng;
	const struct sv_beat *beat; /* NULL while writing the title */
	/* what this beat's tokens mean */
	const char *barrier, *weather, *creature, *creature_one, *move, *group;
	char obstacle[160];
	char goal[200];
	int speaker;
	struct usemap used;
	struct said said;
	struct sv_story_text_stats read; /* everything written so far */
	int beat_words;                  /* words written for this beat */
	const struct sv_grade_band *band;
	int oom;
};

/* ---- the used-template map ---- */

static size_t ptr_hash(const void *p, size_t cap)
{
	uint64_t x = (uint64_t)(uintptr_t)p * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(x >> 32) & (cap - 1);
}

static size_t slot_of(const struct usemap *m, const void *p)
{
	size_t h = ptr_hash(p, m->cap);
	while (m->keys[h] && m->keys[h] != p)
		h = (h + 1) & (m->cap - 1);
	return h;
}

static int usemap_grow(struct usemap *m)
{
	struct usemap bigger = {.cap = m->cap ? m->cap * 2 : 256, .n = m->n, .clock = m->clock};
	bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
	bigger.when = calloc(bigger.cap, sizeof(*bigger.when));
	if (!bigger.keys || !bigger.when) {
		free(bigger.keys);
		free(bigger.when);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t h = slot_of(&bigger, m->keys[i]);
			bigger.keys[h] = m->keys[i];
			bigger.when[h] = m->when[i];
		}
	}
	free(m->keys);
	free(m->when);
	*m = bigger;
	return 0;
}

static uint32_t last_used(const struct usemap *m, const void *p)
{
	if (!m->cap)
		return 0;
	size_t h = slot_of(m, p);
	return m->keys[h] ? m->when[h] : 0;
}

static void mark_used(struct writer *w, const void *p)
{
	struct usemap *m = &w->used;
	if ((m->n + 1) * 2 > m->cap && usemap_grow(m) < 0) {
		w->oom = 1;
		return;
	}
	size_t h = slot_of(m, p);
	m->n += !m->keys[h];
	m->keys[h] = p;
	m->when[h] = ++m->clock;
}

static void usemap_free(struct usemap *m)
{
	free(m->keys);
	free(m->when);
	memset(m, 0, sizeof(*m));
}

/* ---- choosing templates ---- */

static const char *pick_str(struct sv_rng *r, const json_t *arr)
{
	size_t n = json_array_size(arr);
	return n ? sv_story_str_at(arr, sv_rng_below(r, (uint32_t)n)) : "";
}

/* The lists a reader of this level draws from: their own level, plus the one
 * below when their own offers fewer than two; when neither exists, the
 * nearest level there is. */
static int level_lists(const struct writer *w, const json_t *node, const json_t **lists)
{
	static const char *const keys[] = {"1", "2", "3"};
	if (json_is_array(node)) {
		lists[0] = node;
		return 1;
	}
	if (w->level < 1 || w->level > 3)
		return 0;
	int n = 0;
	const json_t *own = json_object_get(node, keys[w->level - 1]);
	const json_t *below = w->level > 1 ? json_object_get(node, keys[w->level - 2]) : NULL;
	if (own)
		lists[n++] = own;
	if (below && json_array_size(own) < 2)
		lists[n++] = below;
	for (int d = 1; n == 0 && d < 3; d++) {
		const json_t *lower =
		    w->level - d >= 1 ? json_object_get(node, keys[w->level - d - 1]) : NULL;
		const json_t *higher =
		    w->level + d <= 3 ? json_object_get(node, keys[w->level + d - 1]) : NULL;
		if (lower || higher)
			lists[n++] = lower ? lower : higher;
	}
	return n;
}

static const json_t *nth(const json_t **lists, int nl, size_t i)
{
	for (int k = 0; k < nl; k++) {
		size_t sz = json_array_size(lists[k]);
		if (i < sz)
			return json_array_get(lists[k], i);
		i -= sz;
	}
	return NULL;
}

/* One element of node (templates, or a universe's sounds or creatures): one
 * this story has not used yet, or else the one used longest ago, starting the
 * search at a random place. */
static const json_t *pick_node(struct writer *w, const json_t *node)
{
	const json_t *lists[3];
	int nl = level_lists(w, node, lists);
	size_t total = 0;
	for (int k = 0; k < nl; k++)
		total += json_array_size(lists[k]);
	if (total == 0)
		return NULL;
	size_t start = sv_rng_below(&w->rng, (uint32_t)total);
	const json_t *chosen = NULL;
	uint32_t oldest = UINT32_MAX;
	for (size_t k = 0; k < total && oldest; k++) {
		const json_t *v = nth(lists, nl, (start + k) % total);
		uint32_t when = last_used(&w->used, v);
		if (when < oldest) {
			oldest = when;
			chosen = v;
		}
	}
	mark_used(w, chosen);
	return chosen;
}

static const char *pick(struct writer *w, const json_t *node)
{
	return json_string_value(pick_node(w, node));
}

/* ---- tokens ---- */

static int resolve_role(const struct writer *w, int role)
{
	switch (role) {
	case ROLE_CHOOSER:
		return w->pl->chooser;
	case ROLE_THINKER:
		return w->beat && w->beat->thinker != ROLE_NONE ? w->beat->thinker : ROLE_HERO;
	case ROLE_CALLER:
		return w->pl->theme->caller;
	case ROLE_OTHER:
		return w->speaker == ROLE_CHILD ? ROLE_HERO : ROLE_CHILD;
	default:
		return role;
	}
}

/* Trait i, or for a sheet with fewer (a custom character's), a stock one it lacks. */
static const char *trait(const struct sv_actor *a, size_t i)
{
	static const char *const stock[] = {"kind", "cheerful", "brave"};
	const char *s = sv_story_str_at(a->traits, i);
	if (s[0])
		return s;
	size_t n = json_array_size(a->traits), k = 0;
	for (size_t j = 0; j < COUNT(stock); j++) {
		int has = 0;
		for (size_t t = 0; t < n; t++)
			has |= strcmp(sv_story_str_at(a->traits, t), stock[j]) == 0;
		if (!has && k++ == i - n)
			return stock[j];
	}
	return "kind";
}

/* The value of {role.attr}; poss is built in scratch. */
static const char *role_value(const struct writer *w, int role, const char *attr, char *scratch,
                              size_t cap)
{
	const struct sv_actor *a = &w->pl->actors[resolve_role(w, role)];
	if (!a->name) /* an optional role nobody plays: scripts guard these with "if" */
		a = &w->pl->actors[ROLE_HERO];
	const struct sv_pronoun *pn = a->pronoun;
	const struct {
		const char *attr;
		const char *value;
	} simple[] = {
	    {"", a->name},           {"they", pn->they},
	    {"them", pn->them},      {"their", pn->their},
	    {"self", pn->self},      {"was", pn->was},
	    {"is", pn->is},          {"has", pn->has},
	    {"species", a->species}, {"looks", a->looks},
	    {"trait", trait(a, 0)},  {"trait2", trait(a, 1)},
	    {"trait3", trait(a, 2)}, {"home", a->home ? a->home->name : "our world"},
	};
	for (size_t i = 0; i < COUNT(simple); i++) {
		if (strcmp(simple[i].attr, attr) == 0)
			return simple[i].value;
	}
	snprintf(scratch, cap, "%s's", a->name); /* poss */
	return scratch;
}

/* The universe this beat happens in (a hopping journey changes it). */
static const struct sv_universe *world_of(const struct writer *w)
{
	return w->beat && w->beat->world ? w->beat->world : w->pl->u;
}

static const char *vocabulary_word(struct writer *w)
{
	const json_t *vocab = json_object_get(world_of(w)->obj, "vocabulary");
	int rich = w->level == 3 || (w->level == 2 && sv_rng_below(&w->rng, 2));
	return pick(w, json_object_get(vocab, rich ? "rich" : "simple"));
}

/* A description as the end of a sentence: first letter small, no full stop. */
static const char *as_clause(const char *desc, char *scratch, size_t cap)
{
	snprintf(scratch, cap, "%s", desc);
	size_t n = strlen(scratch);
	if (n && scratch[n - 1] == '.')
		scratch[n - 1] = '\0';
	scratch[0] = (char)tolower((unsigned char)scratch[0]);
	return scratch;
}

/* The culture's words: {greeting}, {festival}, a {dish} or a {culture_place} of its lists. */
static const char *culture_word(struct writer *w, const char *ident)
{
	const json_t *cu = w->pl->culture ? w->pl->culture->obj : NULL;
	const json_t *fest = json_object_get(cu, "festival");
	const struct {
		const char *ident;
		const json_t *owner;
		const char *key;
	} words[] = {
	    {"greeting", cu, "greeting"},      {"meaning", cu, "meaning"},
	    {"festival", fest, "name"},        {"festival_desc", fest, "description"},
	    {"festival_party", fest, "party"}, {"culture", cu, "name"},
	};
	for (size_t i = 0; i < COUNT(words); i++) {
		if (strcmp(words[i].ident, ident) == 0)
			return json_string_value(json_object_get(words[i].owner, words[i].key));
	}
	if (strcmp(ident, "dish") == 0 || strcmp(ident, "culture_place") == 0)
		return pick(w, json_object_get(cu, ident[0] == 'd' ? "foods" : "places"));
	return NULL;
}

/* Words from the story's options (modes, culture, series); NULL for another ident. */
static const char *story_word(struct writer *w, const char *ident, char *scratch, size_t cap)
{
	const struct sv_plan *pl = w->pl;
	const char *v = culture_word(w, ident);
	if (v)
		return v;
	if (strcmp(ident, "worlds") == 0 || strcmp(ident, "route") == 0) {
		sv_story_worlds_names(pl, ident[0] == 'r' && pl->n_worlds > 1, scratch, cap);
		return scratch;
	}
	if (strcmp(ident, "far_world") == 0)
		return pl->worlds[pl->n_worlds - 1]->name;
	const struct sv_story_previous *pv = &pl->p->previous;
	const struct {
		const char *ident, *value;
	} series[] = {
	    {"thread", pl->thread_what}, {"old_thread", pv->thread}, {"old_title", pv->title},
	    {"old_far", pv->far},        {"old_friend", pv->friend},
	};
	for (size_t i = 0; i < COUNT(series); i++) {
		if (strcmp(series[i].ident, ident) == 0)
			return series[i].value ? series[i].value : "";
	}
	return NULL;
}

/* Sounds, lights and words change with every use; the rest hold for a beat. */
static const char *word_value(struct writer *w, const char *ident, char *scratch, size_t cap)
{
	const struct sv_plan *pl = w->pl;
	const struct sv_universe *u = world_of(w);
	if (strcmp(ident, "sound") == 0 || strcmp(ident, "light") == 0)
		return pick(w, json_object_get(u->obj, ident[0] == 's' ? "sounds" : "lights"));
	const struct sv_beat *b = w->beat;
	const struct sv_place *place = b ? b->place : pl->home;
	const struct {
		const char *ident;
		const char *value;
	} words[] = {
	    {"universe", u->name},
	    {"home", pl->home->name},
	    {"home_desc", pl->home->description},
	    {"far", pl->far->name},
	    {"place", place->name},
	    {"place_desc", place->description},
	    {"thing", pl->thing},
	    {"snack", pl->snack},
	    {"critter", pl->critter},
	    {"goal", w->goal},
	    {"group", w->group},
	    {"obstacle", w->obstacle},
	    {"time", b ? b->time : "morning"},
	    {"object", b ? b->objects[0] : pl->thing},
	    {"object2", b ? b->objects[1] : pl->thing},
	    {"barrier", w->barrier},
	    {"weather", w->weather},
	    {"creature", w->creature},
	    {"creature_one", w->creature_one},
	    {"move", w->move},
	};
	for (size_t i = 0; i < COUNT(words); i++) {
		if (strcmp(words[i].ident, ident) == 0)
			return words[i].value;
	}
	if (strcmp(ident, "world") == 0)
		return as_clause(u->description, scratch, cap);
	const char *v = story_word(w, ident, scratch, cap);
	/* "word": the only one left after loading checked tokens */
	return v ? v : vocabulary_word(w);
}

static int put_token(struct writer *w, const struct sv_token *t, struct sv_buf *out)
{
	char scratch[256];
	int role = sv_story_token_role(t->ident);
	const char *v = role != ROLE_NONE ? role_value(w, role, t->attr, scratch, sizeof(scratch))
	                                  : word_value(w, t->ident, scratch, sizeof(scratch));
	size_t start = out->len;
	int rc = 0;
	if (t->mod == 'a')
		rc = sv_buf_printf(out, "%s %s", sv_story_article(v), v);
	else if (t->mod == 'T')
		rc = sv_story_title_case(out, v);
	else
		rc = sv_buf_puts(out, v);
	if (rc == 0 && t->cap && out->len > start)
		out->data[start] = (char)toupper((unsigned char)out->data[start]);
	return rc;
}

static int expand(struct writer *w, const char *tmpl, struct sv_buf *out)
{
	for (const char *p = tmpl; *p;) {
		if (*p != '{') {
			size_t n = strcspn(p, "{");
			if (sv_buf_append(out, p, n) < 0)
				return -1;
			p += n;
			continue;
		}
		struct sv_token t;
		int n = sv_story_token_parse(p, &t);
		if (n < 0 || put_token(w, &t, out) < 0)
			return -1;
		p += n;
	}
	return 0;
}

/* A template filled in (and given sentence capitals when caps is set); the caller frees it. */
static char *render_as(struct writer *w, const char *tmpl, int caps)
{
	struct sv_buf b;
	sv_buf_init(&b);
	if (!tmpl || expand(w, tmpl, &b) < 0 || sv_buf_puts(&b, "") < 0) {
		sv_buf_free(&b);
		w->oom = 1;
		return NULL;
	}
	if (caps)
		sv_story_capitalise_sentences(b.data);
	return sv_buf_steal(&b);
}

static char *render(struct writer *w, const char *tmpl)
{
	return render_as(w, tmpl, 1);
}

/* ---- dialogue spans ---- */

/* Appends from's spans to s, moved shift bytes on. */
static int spans_add(struct spans *s, const struct spans *from, int shift)
{
	if (s->n + from->n > s->cap) {
		int cap = s->cap ? s->cap : 4;
		while (cap < s->n + from->n)
			cap *= 2;
		struct sv_span *v = realloc(s->v, (size_t)cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	for (int i = 0; i < from->n; i++) {
		struct sv_span sp = from->v[i];
		sp.start += shift;
		sp.end += shift;
		s->v[s->n++] = sp;
	}
	return 0;
}

static void spans_free(struct spans *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- items ---- */

static int push_item(struct writer *w, struct items *out, char *text, int dialogue)
{
	if (!text)
		return -1;
	if (out->n == out->cap) {
		int cap = out->cap ? out->cap * 2 : 16;
		struct item *v = realloc(out->v, (size_t)cap * sizeof(*v));
		if (!v) {
			free(text);
			w->oom = 1;
			return -1;
		}
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] =
	    (struct item){.text = text, .dialogue = dialogue, .words = sv_story_count_words(text)};
	return 0;
}

static void items_free(struct items *it)
{
	for (int i = 0; i < it->n; i++) {
		free(it->v[i].text);
		spans_free(&it->v[i].spans);
	}
	free(it->v);
	memset(it, 0, sizeof(*it));
}

static int items_words(const struct items *it)
{
	int n = 0;
	for (int i = 0; i < it->n; i++)
		n += it->v[i].words;
	return n;
}

/* ---- conditions on script items ---- */

static int c_native(const struct writer *w)
{
	return !w->pl->actors[ROLE_HERO].visitor;
}
static int c_visitor(const struct writer *w)
{
	return w->pl->actors[ROLE_HERO].visitor;
}
static int c_side_native(const struct writer *w)
{
	return !w->pl->actors[ROLE_SIDEKICK].visitor;
}
static int c_side_visitor(const struct writer *w)
{
	return w->pl->actors[ROLE_SIDEKICK].visitor;
}
static int c_dawn(const struct writer *w)
{
	return w->beat && w->beat->dawn;
}
static int c_big(const struct writer *w)
{
	return w->beat && w->beat->size >= 2;
}
static int c_level2(const struct writer *w)
{
	return w->level >= 2;
}
static int c_level3(const struct writer *w)
{
	return w->level >= 3;
}
static int c_friend(const struct writer *w)
{
	return w->beat && (w->beat->cast & BIT(ROLE_FRIEND));
}
static int c_guide(const struct writer *w)
{
	return w->beat && (w->beat->cast & BIT(ROLE_GUIDE));
}
static int c_rival(const struct writer *w)
{
	return w->beat && (w->beat->cast & BIT(ROLE_RIVAL));
}
static int c_mentor(const struct writer *w)
{
	return w->beat && (w->beat->cast & BIT(ROLE_MENTOR));
}
static int c_custom(const struct writer *w)
{
	return w->beat && (w->beat->cast & BIT(ROLE_CUSTOM));
}
static int c_crossover(const struct writer *w)
{
	return w->pl->mode == MODE_CROSSOVER;
}
static int c_fusion(const struct writer *w)
{
	return w->pl->mode == MODE_FUSION;
}
static int c_hopping(const struct writer *w)
{
	return w->pl->mode == MODE_HOPPING;
}
static int c_hop(const struct writer *w)
{
	return w->beat && w->beat->hop;
}
static int c_culture(const struct writer *w)
{
	return w->pl->culture != NULL;
}
static int c_festival(const struct writer *w)
{
	return w->pl->festival;
}
static int c_sequel(const struct writer *w)
{
	return w->pl->p->previous.episode > 0;
}

static const struct {
	const char *name;
	int (*holds)(const struct writer *w);
} conditions[] = {
    {"native", c_native},
    {"visitor", c_visitor},
    {"sidekick_native", c_side_native},
    {"sidekick_visitor", c_side_visitor},
    {"dawn", c_dawn},
    {"big", c_big},
    {"level2", c_level2},
    {"level3", c_level3},
    {"friend", c_friend},
    {"guide", c_guide},
    {"rival", c_rival},
    {"mentor", c_mentor},
    {"custom", c_custom},
    {"crossover", c_crossover},
    {"fusion", c_fusion},
    {"hopping", c_hopping},
    {"hop", c_hop},
    {"culture", c_culture},
    {"festival", c_festival},
    {"sequel", c_sequel},
};

/* A condition may be negated: "!culture" holds when "culture" does not. */
int sv_story_condition_known(const char *name)
{
	name += name[0] == '!';
	for (size_t i = 0; i < COUNT(conditions); i++) {
		if (strcmp(conditions[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static int condition_holds(const struct writer *w, const char *name)
{
	int negate = name[0] == '!';
	for (size_t i = 0; i < COUNT(conditions); i++) {
		if (strcmp(conditions[i].name, name + negate) == 0)
			return conditions[i].holds(w) != negate;
	}
	return 0;
}

/* An item's "if": absent, one condition, or an array of them that must all hold. */
static int conditions_hold(const struct writer *w, const json_t *cond)
{
	if (!cond)
		return 1;
	if (json_is_string(cond))
		return condition_holds(w, json_string_value(cond));
	size_t i;
	const json_t *c;
	json_array_foreach(cond, i, c)
	{
		if (!condition_holds(w, json_string_value(c)))
			return 0;
	}
	return 1;
}

/* ---- sentences already said, and the reading grade so far ---- */

/* How many renderings to try for something not yet said before giving up,
 * and of those that are new, how many to weigh against the grade (all of
 * them while the story so far is off its aim by more than FAR_OFF). */
#define FRESH_TRIES 8
#define CHOICES     3
#define FAR_OFF     0.5

/* Where key is, or would go, in the sorted keys. */
static size_t said_at(const struct said *s, uint64_t key)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int said_has(const struct said *s, uint64_t key)
{
	size_t at = said_at(s, key);
	return at < s->n && s->v[at] == key;
}

static int said_add(struct said *s, uint64_t key)
{
	size_t at = said_at(s, key);
	if (at < s->n && s->v[at] == key)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
	s->v[at] = key;
	s->n++;
	return 0;
}

/* A rendering that may become an item: its text, its dialogue, its
 * sentences' keys and counts, and its cost: how far it would take the
 * story's grade from the level's aim, plus its words once the beat has all
 * the words it wants. */
struct candidate {
	char *text;
	struct spans spans;
	const struct said *said;
	uint64_t keys[32];
	int n_keys, repeat;
	struct sv_story_text_stats st;
	double cost;
};

static void candidate_free(struct candidate *c)
{
	free(c->text);
	spans_free(&c->spans);
	memset(c, 0, sizeof(*c));
}

static void check_sentence(void *ctx, const char *s, size_t len,
                           const struct sv_story_text_stats *st)
{
	struct candidate *c = ctx;
	uint64_t key;
	c->st.sentences++;
	c->st.words += st->words;
	c->st.syllables += st->syllables;
	if (!sv_story_sentence_key(s, len, st, &key))
		return;
	for (int i = 0; i < c->n_keys; i++)
		c->repeat |= c->keys[i] == key;
	c->repeat |= said_has(c->said, key);
	if (c->n_keys < (int)COUNT(c->keys))
		c->keys[c->n_keys++] = key;
}

/* How far the story's grade would be from the level's aim with st added; 0 inside it. */
static double grade_miss(const struct writer *w, const struct sv_story_text_stats *st)
{
	if (!w->band)
		return 0.0;
	struct sv_story_text_stats all = {w->read.sentences + st->sentences,
	                                  w->read.words + st->words,
	                                  w->read.syllables + st->syllables};
	double g = sv_story_fk_grade_of(&all);
	if (g < w->band->aim_lo)
		return w->band->aim_lo - g;
	return g > w->band->aim_hi ? g - w->band->aim_hi : 0.0;
}

/* Grade points a word costs once the beat is long enough. */
#define WORD_COST 0.01

/* Whether the candidate says only what this story has not said yet. */
static int judge(const struct writer *w, struct candidate *c)
{
	c->said = &w->said;
	sv_story_sentences(c->text, check_sentence, c);
	c->cost = grade_miss(w, &c->st);
	if (w->beat && w->beat_words >= w->beat->target_words)
		c->cost += WORD_COST * c->st.words;
	return !c->repeat;
}

/* Makes one rendering; its quoted parts go into sp. NULL when memory runs out. */
struct maker {
	char *(*make)(struct writer *w, const struct maker *m, struct spans *sp);
	const json_t *node; /* narration: the templates */
	int role;           /* dialogue: who speaks, and why */
	const char *intent;
	int dialogue;
};

/* Adds one rendering that says something new: of the first few new ones,
 * the one that keeps the story's reading grade nearest the level's aim.
 * Adds nothing when every rendering tried has been said before. */
static int push_best(struct writer *w, struct items *out, const struct maker *m)
{
	static const struct sv_story_text_stats nothing;
	int choices = grade_miss(w, &nothing) > FAR_OFF ? FRESH_TRIES : CHOICES;
	struct candidate best = {0};
	for (int t = 0, found = 0;
	     t < FRESH_TRIES && found < choices && !(best.text && best.cost == 0); t++) {
		struct candidate c = {0};
		c.text = m->make(w, m, &c.spans);
		if (!c.text) {
			candidate_free(&best);
			return -1;
		}
		if (!judge(w, &c)) {
			candidate_free(&c);
			continue;
		}
		found++;
		if (best.text && best.cost <= c.cost) {
			candidate_free(&c);
		} else {
			candidate_free(&best);
			best = c;
		}
	}
	if (!best.text)
		return 0;
	for (int i = 0; i < best.n_keys; i++)
		w->oom |= said_add(&w->said, best.keys[i]) < 0;
	w->read.sentences += best.st.sentences;
	w->read.words += best.st.words;
	w->read.syllables += best.st.syllables;
	w->beat_words += best.st.words;
	if (push_item(w, out, best.text, m->dialogue) < 0) {
		spans_free(&best.spans);
		return -1;
	}
	out->v[out->n - 1].spans = best.spans;
	return 0;
}

static char *make_narration(struct writer *w, const struct maker *m, struct spans *sp)
{
	return render(w, pick(w, m->node));
}

/* ---- dialogue ---- */

/* The templates for a line: the character's own some of the time, else the shared ones. */
static const json_t *line_node(struct writer *w, const struct sv_actor *a, const char *intent)
{
	if (intent[0] == '@') {
		const char *key = strchr(intent, '.') + 1;
		const json_t *owner =
		    strncmp(intent, "@moral.", 7) == 0 ? w->pl->moral->obj : w->pl->theme->obj;
		return json_object_get(owner, key);
	}
	const json_t *own = json_object_get(json_object_get(a->speech, "lines"), intent);
	if (own && sv_rng_below(&w->rng, 2))
		return own;
	return json_object_get(json_object_get(w->data, "lines"), intent);
}

static int wants_catchphrase(const char *intent)
{
	static const char *const intents[] = {"cheer",   "brave", "agree",
	                                      "excited", "idea",  "greet"};
	for (size_t i = 0; i < COUNT(intents); i++) {
		if (strcmp(intents[i], intent) == 0)
			return 1;
	}
	return 0;
}

/* The line with the speaker's habits added: an opener in front, a catchphrase after. */
static int voiced_line(struct writer *w, const struct sv_actor *a, const char *intent,
                       struct sv_buf *out)
{
	const json_t *openers = json_object_get(a->speech, "openers");
	const json_t *catches = json_object_get(a->speech, "catchphrases");
	char *line = render(w, pick(w, line_node(w, a, intent)));
	if (!line)
		return -1;
	int rc = 0;
	if (json_array_size(openers) && sv_rng_below(&w->rng, 4) == 0)
		rc = expand(w, pick(w, openers), out) || sv_buf_puts(out, " ");
	rc = rc || sv_buf_puts(out, line);
	if (json_array_size(catches) && wants_catchphrase(intent) && sv_rng_below(&w->rng, 4) == 0)
		rc = rc || sv_buf_puts(out, " ") || expand(w, pick(w, catches), out);
	free(line);
	return rc ? -1 : 0;
}

/* Where the first sentence of a line ends (just after its mark), or 0. */
static size_t first_sentence(const char *s)
{
	for (size_t i = 1; s[i]; i++) {
		if (strchr(".!?", s[i]) && s[i + 1] == ' ' && s[i - 1] != '.')
			return i + 1;
	}
	return 0;
}

/* Appends `"` s[0..n) tail `"`, and what is between the marks as a span of role. */
static int quoted(struct sv_buf *out, const char *s, size_t n, const char *tail, int role,
                  struct spans *sp)
{
	if (sv_buf_puts(out, "\"") < 0)
		return -1;
	struct sv_span one = {(int)out->len, 0, role};
	if (sv_buf_append(out, s, n) < 0 || sv_buf_puts(out, tail) < 0)
		return -1;
	one.end = (int)out->len;
	struct spans from = {&one, 1, 1};
	return spans_add(sp, &from, 0) < 0 || sv_buf_puts(out, "\"") < 0 ? -1 : 0;
}

/* Appends `"part,"` — the quoted part with a closing full stop turned into a comma. */
static int quote_lead(struct sv_buf *out, const char *s, size_t n, int role, struct spans *sp)
{
	int stop = n && s[n - 1] == '.' && !(n > 1 && s[n - 2] == '.');
	return quoted(out, s, stop ? n - 1 : n, stop ? "," : "", role, sp);
}

/* Wraps a line in quotes with a speech tag in one of a few shapes; the
 * quoted parts go into sp as spans of role. */
static char *tag_line(struct writer *w, int role, const char *line, struct spans *sp)
{
	const struct sv_actor *a = &w->pl->actors[role];
	size_t len = strlen(line), split = first_sentence(line);
	const char *verb = pick_str(&w->rng, json_object_get(a->speech, "verbs"));
	if (len && line[len - 1] == '?' && sv_rng_below(&w->rng, 2))
		verb = "asked";
	int shape = (int)sv_rng_below(&w->rng, w->level == 1 ? 2 : 4);
	struct sv_buf b;
	sv_buf_init(&b);
	int rc;
	if (shape == 1) /* Pip said, "Hello." */
		rc = sv_buf_printf(&b, "%s %s, ", a->name, verb) ||
		     quoted(&b, line, len, "", role, sp);
	else if (shape == 3 && split) /* "Hello," said Pip. "Come in." */
		rc = quote_lead(&b, line, split, role, sp) ||
		     sv_buf_printf(&b, " %s %s. ", verb, a->name) ||
		     quoted(&b, line + split + 1, len - split - 1, "", role, sp);
	else if (shape == 2) /* "Hello," said Pip. */
		rc = quote_lead(&b, line, len, role, sp) ||
		     sv_buf_printf(&b, " %s %s.", verb, a->name);
	else /* "Hello," Pip said. */
		rc = quote_lead(&b, line, len, role, sp) ||
		     sv_buf_printf(&b, " %s %s.", a->name, verb);
	if (rc) {
		sv_buf_free(&b);
		w->oom = 1;
		return NULL;
	}
	return sv_buf_steal(&b);
}

/* A line of role's, voiced and tagged; its quoted parts go into sp as spans.
 * NULL when memory runs out. */
static char *spoken(struct writer *w, int role, const char *intent, struct spans *sp)
{
	const struct sv_actor *a = &w->pl->actors[role];
	struct sv_buf line;
	sv_buf_init(&line);
	w->speaker = role;
	int rc = voiced_line(w, a, intent, &line);
	w->speaker = ROLE_NONE;
	if (rc < 0 || sv_buf_puts(&line, "") < 0) {
		sv_buf_free(&line);
		w->oom = 1;
		return NULL;
	}
	sv_story_capitalise_sentences(line.data);
	char *text = tag_line(w, role, line.data, sp);
	sv_buf_free(&line);
	return text;
}

static char *make_line(struct writer *w, const struct maker *m, struct spans *sp)
{
	return spoken(w, m->role, m->intent, sp);
}

static int say(struct writer *w, const json_t *item, struct items *out)
{
	int role =
	    resolve_role(w, sv_story_token_role(json_string_value(json_object_get(item, "say"))));
	const char *intent = json_string_value(json_object_get(item, "intent"));
	if (role < 0 || role >= ROLE_N || !(w->beat->cast & BIT(role)))
		return 0; /* not on stage in this beat */
	const struct maker m = {.make = make_line, .role = role, .intent = intent, .dialogue = 1};
	return push_best(w, out, &m);
}

/* ---- script items ---- */

/* A series' templates (beats.json "series"): the recap of the last episode,
 * and for a thread, how it is left open (this story's) or picked up and
 * closed (the last episode's). */
static const json_t *series_node(const struct writer *w, const char *key)
{
	const json_t *series = json_object_get(w->data, "series");
	if (strcmp(key, "recap") == 0)
		return json_object_get(series, "recap");
	const char *kind =
	    strcmp(key, "open") == 0 ? w->pl->thread_kind : w->pl->p->previous.thread_kind;
	return json_object_get(json_object_get(json_object_get(series, "threads"), kind), key);
}

static const json_t *reference(const struct writer *w, const char *ref)
{
	const char *key = strchr(ref, '.') + 1;
	const struct {
		const char *prefix;
		const json_t *owner;
	} owners[] = {
	    {"@theme.", w->pl->theme->obj},
	    {"@moral.", w->pl->moral->obj},
	    {"@obstacle.", w->beat ? w->beat->obstacle : NULL},
	    {"@universe.", w->pl->u->obj},
	};
	for (size_t i = 0; i < COUNT(owners); i++) {
		if (strncmp(ref, owners[i].prefix, strlen(owners[i].prefix)) == 0)
			return owners[i].owner ? json_object_get(owners[i].owner, key) : NULL;
	}
	return strncmp(ref, "@series.", 8) == 0 ? series_node(w, key) : NULL;
}

static int run_item(struct writer *w, const json_t *item, struct items *out);

/* An object item: a condition, then a line or a move, then perhaps a follow-up
 * ("then"), such as an answer to a question. */
static int run_object(struct writer *w, const json_t *item, struct items *out)
{
	if (!conditions_hold(w, json_object_get(item, "if")))
		return 0;
	int before = out->n, rc;
	if (json_object_get(item, "say"))
		rc = say(w, item, out);
	else
		rc = run_item(w, json_object_get(item, "m"), out);
	const json_t *then = json_object_get(item, "then");
	if (rc == 0 && then && out->n > before)
		rc = run_item(w, then, out);
	return rc;
}

/* Runs one script or fill item; returns -1 only when memory runs out. */
static int run_item(struct writer *w, const json_t *item, struct items *out)
{
	if (json_is_object(item))
		return run_object(w, item, out);
	const char *move = json_string_value(item);
	const json_t *node = move[0] == '@'
	                         ? reference(w, move)
	                         : json_object_get(json_object_get(w->data, "moves"), move);
	if (!node)
		return 0;
	const struct maker m = {.make = make_narration, .node = node};
	return push_best(w, out, &m);
}

/* ---- beats ---- */

static void setup_beat(struct writer *w, int index)
{
	const struct sv_plan *pl = w->pl;
	w->beat = index >= 0 ? &pl->beats[index] : NULL;
	const json_t *u = world_of(w)->obj;
	sv_rng_seed(&w->rng, sv_story_subseed(pl->seed, "beat", (uint64_t)index + 1));
	w->beat_words = 0;
	w->barrier = pick(w, json_object_get(u, "barriers"));
	w->weather = pick(w, json_object_get(u, "weather"));
	w->move = pick(w, json_object_get(u, "moves"));
	w->group = pick(w, json_object_get(w->data, "groups"));
	const json_t *cr = pick_node(w, json_object_get(u, "creatures"));
	w->creature = json_string_value(json_object_get(cr, "many"));
	w->creature_one = json_string_value(json_object_get(cr, "one"));
	w->speaker = ROLE_NONE;
	snprintf(w->obstacle, sizeof(w->obstacle), "the problem");
	if (w->beat && w->beat->obstacle) {
		struct sv_buf b;
		sv_buf_init(&b);
		const char *what = json_string_value(json_object_get(w->beat->obstacle, "what"));
		if (expand(w, what, &b) == 0 && b.data)
			snprintf(w->obstacle, sizeof(w->obstacle), "%s", b.data);
		sv_buf_free(&b);
	}
}

/* Moves the fill items into items at position at. */
static int splice(struct writer *w, struct items *items, struct items *extra, int at)
{
	while (items->n + extra->n > items->cap) {
		int cap = items->cap ? items->cap * 2 : 16;
		struct item *v = realloc(items->v, (size_t)cap * sizeof(*v));
		if (!v)
			return w->oom = 1, -1;
		items->v = v;
		items->cap = cap;
	}
	if (extra->n && items->v) {
		memmove(items->v + at + extra->n, items->v + at,
		        (size_t)(items->n - at) * sizeof(*items->v));
		memcpy(items->v + at, extra->v, (size_t)extra->n * sizeof(*extra->v));
		items->n += extra->n;
	}
	free(extra->v);
	memset(extra, 0, sizeof(*extra));
	return 0;
}

/* Adds fill items, each at most its "max" times (once by default), until the
 * beat has its share of the words or nothing more can be added. */
static int fill_beat(struct writer *w, const json_t *fill, struct items *items, int at)
{
	struct items extra = {0};
	int uses[64] = {0};
	int words = items_words(items), n = (int)json_array_size(fill);
	n = n > 64 ? 64 : n;
	for (int tries = 0; words < w->beat->target_words && tries < 4 * n; tries++) {
		int k = (int)sv_rng_below(&w->rng, (uint32_t)n), before = extra.n;
		const json_t *item = json_array_get(fill, (size_t)k);
		json_int_t max = json_integer_value(json_object_get(item, "max"));
		if (uses[k] >= (max > 0 ? max : 1))
			continue;
		uses[k]++;
		if (run_item(w, item, &extra) < 0)
			break;
		for (int i = before; i < extra.n; i++)
			words += extra.v[i].words;
	}
	if (w->oom || splice(w, items, &extra, at) < 0) {
		items_free(&extra);
		return -1;
	}
	return 0;
}

static int write_beat(struct writer *w, int index, struct items *items)
{
	setup_beat(w, index);
	const json_t *beat =
	    json_object_get(json_object_get(w->data, "beats"), sv_story_beat_names[w->beat->kind]);
	const json_t *script = json_object_get(beat, "script");
	int fill_at = -1;
	size_t i;
	const json_t *item;
	json_array_foreach(script, i, item)
	{
		/* "opt" items are dropped once the beat has its share of the words */
		int opt = json_is_true(json_object_get(item, "opt"));
		if (json_is_string(item) && strcmp(json_string_value(item), "~fill") == 0)
			fill_at = items->n;
		else if (opt && items_words(items) >= w->beat->target_words)
			continue;
		else if (run_item(w, item, items) < 0)
			return -1;
	}
	return fill_beat(w, json_object_get(beat, "fill"), items, fill_at < 0 ? items->n : fill_at);
}

/* ---- paragraphs and pages ---- */

/* Adds a page; it takes text and the spans in sp, even when it fails. */
static int add_page(struct sv_pages *pages, char *text, int beat, struct spans *sp)
{
	if (pages->n == pages->cap) {
		int cap = pages->cap ? pages->cap * 2 : 16;
		struct sv_page *v = realloc(pages->v, (size_t)cap * sizeof(*v));
		if (!v) {
			free(text);
			spans_free(sp);
			return -1;
		}
		pages->v = v;
		pages->cap = cap;
	}
	pages->v[pages->n++] =
	    (struct sv_page){text, beat, sv_story_count_words(text), sp->v, sp->n, NULL};
	memset(sp, 0, sizeof(*sp));
	return 0;
}

/* Adds the paragraph in b with its spans; b and sp are emptied, even on failure. */
static int add_paragraph(struct writer *w, struct items *paras, struct sv_buf *b, struct spans *sp)
{
	if (push_item(w, paras, sv_buf_steal(b), 0) < 0) {
		spans_free(sp);
		return -1;
	}
	paras->v[paras->n - 1].spans = *sp;
	memset(sp, 0, sizeof(*sp));
	return 0;
}

/* Dialogue gets its own paragraph; narration runs a few sentences together. */
static int paragraphs(struct writer *w, const struct items *items, struct items *paras)
{
	int per_para = w->level == 1 ? 2 : 3, in_para = 0;
	struct sv_buf b;
	struct spans sp = {0};
	sv_buf_init(&b);
	for (int i = 0; i < items->n; i++) {
		const struct item *it = &items->v[i];
		int join = !it->dialogue && in_para > 0 && in_para < per_para;
		if (!join && b.len && add_paragraph(w, paras, &b, &sp) < 0)
			return -1;
		if ((join && sv_buf_puts(&b, " ") < 0) ||
		    spans_add(&sp, &it->spans, (int)b.len) < 0 || sv_buf_puts(&b, it->text) < 0)
			return sv_buf_free(&b), spans_free(&sp), -1;
		in_para = it->dialogue ? per_para : (join ? in_para + 1 : 1);
	}
	if (b.len && add_paragraph(w, paras, &b, &sp) < 0)
		return -1;
	spans_free(&sp); /* already empty, unless the texts were */
	return 0;
}

/* Splits a beat's paragraphs into pages of about page_words words; a short
 * last page joins the one before it. */
static int paginate(const struct writer *w, int beat, const struct items *paras,
                    struct sv_pages *pages)
{
	int limit = w->pl->age->page_words, words = 0;
	struct sv_buf b;
	struct spans sp = {0};
	sv_buf_init(&b);
	for (int i = 0; i < paras->n; i++) {
		const struct item *p = &paras->v[i];
		int last = i == paras->n - 1;
		int short_tail = last && p->words < limit / 3;
		if (b.len && words + p->words > limit && !short_tail) {
			if (add_page(pages, sv_buf_steal(&b), beat, &sp) < 0)
				return -1;
			words = 0;
		}
		if ((b.len && sv_buf_puts(&b, "\n\n") < 0) ||
		    spans_add(&sp, &p->spans, (int)b.len) < 0 || sv_buf_puts(&b, p->text) < 0)
			return sv_buf_free(&b), spans_free(&sp), -1;
		words += p->words;
	}
	if (b.len && add_page(pages, sv_buf_steal(&b), beat, &sp) < 0)
		return -1;
	spans_free(&sp); /* already empty, unless the texts were */
	return 0;
}

/* The title of the chapter that beat b opens, or NULL (no new chapter, or no memory:
 * w->oom tells which). */
static char *chapter_title(struct writer *w, int b)
{
	const struct sv_beat *beat = &w->pl->beats[b];
	if (!beat->chapter || (b > 0 && w->pl->beats[b - 1].chapter == beat->chapter))
		return NULL;
	const char *kind = beat->dawn ? "dawn" : sv_story_beat_names[beat->kind];
	const json_t *titles = json_object_get(json_object_get(w->data, "chapter_titles"), kind);
	if (!titles)
		titles = json_object_get(json_object_get(w->data, "chapter_titles"), "journey");
	setup_beat(w, b);
	char *title = render(w, pick(w, titles));
	w->oom |= !title;
	return title;
}

static int write_pages(struct writer *w, struct sv_pages *pages)
{
	for (int b = 0; b < w->pl->n_beats; b++) {
		struct items items = {0}, paras = {0};
		char *title = chapter_title(w, b);
		int first = pages->n;
		int rc = w->oom || write_beat(w, b, &items);
		rc = rc || paragraphs(w, &items, &paras) || paginate(w, b, &paras, pages);
		items_free(&items);
		items_free(&paras);
		if (!rc && pages->n > first)
			pages->v[first].chapter_title = title;
		else
			free(title);
		if (rc)
			return -1;
	}
	return 0;
}

/* ---- the story ---- */

static int write_goal_and_title(struct writer *w, char **title)
{
	setup_beat(w, -1);
	const json_t *theme = w->pl->theme->obj;
	char *goal = render_as(w, pick(w, json_object_get(theme, "goal")), 0);
	if (!goal)
		return -1;
	snprintf(w->goal, sizeof(w->goal), "%s", goal);
	free(goal);
	*title = render(w, pick(w, json_object_get(theme, "titles")));
	return *title ? 0 : -1;
}

void sv_story_pages_free(struct sv_pages *pages)
{
	for (int i = 0; i < pages->n; i++) {
		free(pages->v[i].text);
		free(pages->v[i].spans);
		free(pages->v[i].chapter_title);
	}
	free(pages->v);
	memset(pages, 0, sizeof(*pages));
}

int sv_story_realise(const struct sv_plan *pl, char **title, struct sv_pages *out,
                     struct sv_err *err)
{
	struct writer w = {.pl = pl,
	                   .data = pl->c->beats,
	                   .level = pl->age->level,
	                   .band = sv_story_grade_band(pl->age->level)};
	memset(out, 0, sizeof(*out));
	*title = NULL;
	int rc = write_goal_and_title(&w, title) || write_pages(&w, out) || w.oom;
	usemap_free(&w.used);
	free(w.said.v);
	if (rc) {
		free(*title);
		*title = NULL;
		sv_story_pages_free(out);
		return sv_err_set(err, "nomem", "", "out of memory writing the story");
	}
	return 0;
}
