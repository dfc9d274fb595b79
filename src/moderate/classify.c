/*
 * The learned half of the moderator: a multinomial logistic regression over
 * the words and word pairs of the normalised text, trained on our labelled
 * sets (`storyverse moderate --train`) and shipped as data
 * (data/<lang>/moderation-model.json: every feature with one weight per
 * class). The lexicon finds what it has words for; the model catches harm
 * told in ordinary words ("held his head under the water"), which no list
 * of phrases reaches. Its verdict names the class it chose and the feature
 * that weighed most for it, so a flag can still be explained.
 *
 * Features are looked up by a 64-bit hash of their bytes, so checking builds
 * no strings: a word's hash, and a pair's, continue the same hash.
 */
#include "moderate/moderate.h"

#include "moderate/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

/* The hash of word a, and of the pair "a_b" (a's hash continued). */
static uint64_t pair_hash(uint64_t a, const char *b, size_t n)
{
	return fnv(fnv(a, "_", 1), b, n);
}

struct sv_model {
	int nclasses; /* class 0 is "safe", then the categories in order */
	int category[SV_MODEL_MAX_CLASSES];
	double threshold;    /* flagged when P(safe) falls below it */
	double clear_margin; /* how far "safe" must lead for P(safe) >= threshold */
	float bias[SV_MODEL_MAX_CLASSES];
	size_t nfeat, mask; /* table slots: mask + 1, a power of two */
	struct slot {
		uint64_t key; /* a feature's hash, 0 when empty */
		uint32_t row; /* its row in weights */
	} * slots;            /* one probe reads both */
	float *weights;       /* nfeat rows of nclasses */
	/* One bit per hash bucket that holds a feature: most words and pairs of a
	 * page are in no model, and a small bitmap says so from the cache. */
	uint64_t *filter;
};

#define FILTER_BITS ((size_t)1 << 19)

static size_t filter_bit(uint64_t k)
{
	return (size_t)(k >> 20) & (FILTER_BITS - 1);
}

void sv_moderate_model_free(struct sv_model *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->weights);
	free(m->filter);
	free(m);
}

static uint64_t key_of(uint64_t h)
{
	return h ? h : 1; /* 0 marks an empty slot */
}

static const float *lookup(const struct sv_model *m, uint64_t h)
{
	uint64_t k = key_of(h);
	size_t bit = filter_bit(k);
	if (!(m->filter[bit / 64] & ((uint64_t)1 << (bit % 64))))
		return NULL;
	for (size_t s = k & m->mask;; s = (s + 1) & m->mask) {
		if (m->slots[s].key == k)
			return &m->weights[(size_t)m->slots[s].row * (size_t)m->nclasses];
		if (!m->slots[s].key)
			return NULL;
	}
}

static int insert(struct sv_model *m, uint64_t h, uint32_t row)
{
	uint64_t k = key_of(h);
	for (size_t s = k & m->mask;; s = (s + 1) & m->mask) {
		if (m->slots[s].key == k)
			return -1; /* the same feature twice */
		if (!m->slots[s].key) {
			m->slots[s] = (struct slot){k, row};
			size_t bit = filter_bit(k);
			m->filter[bit / 64] |= (uint64_t)1 << (bit % 64);
			return 0;
		}
	}
}

/* How far "safe" must lead every other class for P(safe) >= p:
 * P(safe) >= 1 / (1 + (K - 1) e^-(z0 - zmax)). */
static double clear_margin(int nclasses, double p)
{
	return log((nclasses - 1) * p / (1 - p));
}

/* ---- loading ---- */

static int load_classes(struct sv_model *m, const json_t *classes, struct sv_err *err)
{
	size_t n = json_array_size(classes);
	if (n < 2 || n > SV_MODEL_MAX_CLASSES ||
	    strcmp(json_string_value(json_array_get(classes, 0)) ?: "", "safe") != 0)
		return sv_err_set(err, "invalid_json", "classes",
		                  "the model's classes must be \"safe\" and up to %d categories",
		                  SV_MODEL_MAX_CLASSES - 1);
	m->nclasses = (int)n;
	m->category[0] = -1;
	for (size_t i = 1; i < n; i++) {
		const char *name = json_string_value(json_array_get(classes, i));
		if (!name || (m->category[i] = sv_moderate_category_parse(name)) < 0)
			return sv_err_set(err, "invalid_json", "classes",
			                  "the model names an unknown category");
	}
	return 0;
}

/* Reads n numbers of a JSON array into out; -1 when it is not that. */
static int numbers(const json_t *a, float *out, int n)
{
	if (!json_is_array(a) || json_array_size(a) != (size_t)n)
		return -1;
	for (int i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, (size_t)i);
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return -1;
		out[i] = (float)json_number_value(v);
	}
	return 0;
}

struct sv_model *sv_moderate_model_load(const json_t *root, struct sv_err *err)
{
	struct sv_model *m = calloc(1, sizeof(*m));
	if (!m) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	const json_t *features = json_object_get(root, "features");
	const json_t *threshold = json_object_get(root, "threshold");
	if (load_classes(m, json_object_get(root, "classes"), err) < 0)
		goto fail;
	if (!json_is_object(features) || !json_is_number(threshold) ||
	    numbers(json_object_get(root, "bias"), m->bias, m->nclasses) < 0) {
		sv_err_set(err, "invalid_json", "features",
		           "the model needs bias, threshold and features");
		goto fail;
	}
	m->threshold = json_number_value(threshold);
	if (!(m->threshold > 0 && m->threshold < 1)) {
		sv_err_set(err, "invalid_json", "threshold",
		           "the model's threshold must be in (0, 1)");
		goto fail;
	}
	m->clear_margin = clear_margin(m->nclasses, m->threshold);
	m->nfeat = json_object_size(features);
	size_t slots = 16;
	while (slots < m->nfeat * 2)
		slots *= 2;
	m->mask = slots - 1;
	m->slots = calloc(slots, sizeof(*m->slots));
	m->weights = calloc(m->nfeat ? m->nfeat : 1, (size_t)m->nclasses * sizeof(*m->weights));
	m->filter = calloc(FILTER_BITS / 64, sizeof(*m->filter));
	if (!m->slots || !m->weights || !m->filter) {
		sv_err_set(err, "nomem", "", "out of memory");
		goto fail;
	}
	const char *name;
	const json_t *w;
	uint32_t row = 0;
	json_object_foreach((json_t *)features, name, w)
	{
		/* A feature is a word, or two joined by '_', as the normaliser writes them. */
		const char *us = strchr(name, '_');
		uint64_t h = fnv(FNV_OFFSET, name, us ? (size_t)(us - name) : strlen(name));
		if (us)
			h = pair_hash(h, us + 1, strlen(us + 1));
		if (numbers(w, &m->weights[(size_t)row * (size_t)m->nclasses], m->nclasses) < 0 ||
		    insert(m, h, row) < 0) {
			sv_err_set(err, "invalid_json", "features",
			           "feature '%.40s' needs %d numbers, once", name, m->nclasses);
			goto fail;
		}
		row++;
	}
	return m;
fail:
	sv_moderate_model_free(m);
	return NULL;
}

/* ---- classifying ---- */

/* Calls fn for every feature of the normalised text: each word, then the
 * pair it ends, with the word's number and the normalised span covered. */
typedef void (*feature_fn)(void *ctx, uint64_t hash, size_t word, size_t start, size_t end);

/* The length of a word without a regular ending ("stabbing", "stabbed",
 * "stabs" -> "stab"; the normaliser has already made double letters single),
 * or n: the stem is read as a word of its own too, so the model reads a form
 * it never saw through the forms it did. (-ly and -er are kept: "killer" is
 * not "kill" to a child.) */
static size_t stem_len(const char *w, size_t n)
{
	static const struct {
		const char *s;
		size_t n;
	} endings[] = {{"ings", 4}, {"ing", 3}, {"ed", 2}, {"es", 2}, {"s", 1}};
	for (size_t k = 0; k < sizeof endings / sizeof endings[0]; k++)
		if (n >= endings[k].n + 3 &&
		    memcmp(w + n - endings[k].n, endings[k].s, endings[k].n) == 0)
			return n - endings[k].n;
	return n;
}

static size_t features_of(const struct sv_norm *n, feature_fn fn, void *ctx)
{
	size_t i = 0, prev_start = 0, words = 0;
	uint64_t prev = 0;
	bool prev_number = false;
	while (i < n->len) {
		while (i < n->len && n->text[i] == ' ')
			i++;
		size_t s = i;
		while (i < n->len && n->text[i] != ' ')
			i++;
		if (i == s)
			break;
		uint64_t h = fnv(FNV_OFFSET, n->text + s, i - s);
		/* Numbers are the personal-data finders' to read: a model that
		 * learnt digits would take counting to ten for a phone number. */
		bool number = true;
		for (size_t k = s; k < i && number; k++)
			number = n->text[k] >= '0' && n->text[k] <= '9';
		if (!number) {
			fn(ctx, h, words, s, i);
			size_t st = stem_len(n->text + s, i - s);
			if (st < i - s)
				fn(ctx, fnv(FNV_OFFSET, n->text + s, st), words, s, s + st);
		}
		if (words && !number && !prev_number)
			fn(ctx, pair_hash(prev, n->text + s, i - s), words, prev_start, i);
		prev_number = number;
		prev = h;
		prev_start = s;
		words++;
	}
	return words;
}

/* A page is read in windows of about a training line's length, so a long
 * page of gentle words cannot add up to a fright, nor bury one sentence. */
#define WINDOW_WORDS 20
#define WINDOW_STEP  5

struct scoring {
	const struct sv_model *m;
	const struct sv_norm *n;
	float *sum; /* (words + 1) rows of nclasses: running sums of the weights */
	size_t cap; /* rows */
	/* the strongest feature for one class inside [from, to) words */
	int cls;
	size_t from, to;
	float best;
	size_t best_start, best_end;
};

static void add_feature(void *ctx, uint64_t hash, size_t word, size_t start, size_t end)
{
	struct scoring *sc = ctx;
	const float *w = lookup(sc->m, hash);
	if (!w)
		return;
	int K = sc->m->nclasses;
	for (int c = 0; c < K; c++)
		sc->sum[(word + 1) * (size_t)K + (size_t)c] += w[c];
}

static void strongest(void *ctx, uint64_t hash, size_t word, size_t start, size_t end)
{
	struct scoring *sc = ctx;
	const float *w = word >= sc->from && word < sc->to ? lookup(sc->m, hash) : NULL;
	if (w && w[sc->cls] > sc->best) {
		sc->best = w[sc->cls];
		sc->best_start = start;
		/* a stem is shown as its whole word: "stabbed", not "stabb" */
		while (end < sc->n->len && sc->n->text[end] != ' ')
			end++;
		sc->best_end = end;
	}
}

/* P(safe) of the words [from, to), and the most likely unsafe class; 1
 * when "safe" leads by margin. */
static double window(const struct sv_model *m, const float *sum, size_t from, size_t to,
                     double margin, int *cls)
{
	int K = m->nclasses;
	double z[SV_MODEL_MAX_CLASSES] = {0}, top = -1e300, total = 0;
	for (int c = 0; c < K; c++) {
		z[c] = m->bias[c] + sum[to * (size_t)K + (size_t)c] -
		       sum[from * (size_t)K + (size_t)c];
		top = z[c] > top ? z[c] : top;
	}
	*cls = 1;
	for (int c = 2; c < K; c++)
		if (z[c] > z[*cls])
			*cls = c;
	/* Far enough ahead, the window is safe without the exponentials (most
	 * windows of most text). */
	if (z[0] - z[*cls] >= margin)
		return 1;
	for (int c = 0; c < K; c++)
		total += exp(z[c] - top);
	return exp(z[0] - top) / total;
}

int sv_moderate_model_flag(const struct sv_model *m, const struct sv_norm *n, double doubt,
                           struct sv_model_verdict *v)
{
	double margin =
	    doubt > m->threshold && doubt < 1 ? clear_margin(m->nclasses, doubt) : m->clear_margin;
	/* A word takes a letter and a space: at most len / 2 + 1 words. */
	struct scoring sc = {.m = m, .n = n, .cap = n->len / 2 + 2};
	/* A page's sums fit on the stack; a book's are allocated. */
	float local[4096];
	size_t need = sc.cap * (size_t)m->nclasses;
	if (need <= sizeof local / sizeof local[0]) {
		memset(local, 0, need * sizeof(*local));
		sc.sum = local;
	} else if (!(sc.sum = calloc(need, sizeof(*sc.sum)))) {
		return -1;
	}
	size_t words = features_of(n, add_feature, &sc);
	int K = m->nclasses;
	for (size_t i = 1; i <= words; i++) /* running sums */
		for (int c = 0; c < K; c++)
			sc.sum[i * (size_t)K + (size_t)c] +=
			    sc.sum[(i - 1) * (size_t)K + (size_t)c];
	double lowest = 2;
	for (size_t from = 0; words; from += WINDOW_STEP) {
		size_t to = from + WINDOW_WORDS < words ? from + WINDOW_WORDS : words;
		int cls;
		double safe = window(m, sc.sum, from, to, margin, &cls);
		if (safe < lowest) {
			lowest = safe;
			sc.cls = cls;
			sc.from = from;
			sc.to = to;
		}
		if (to == words)
			break;
	}
	if (sc.sum != local)
		free(sc.sum);
	v->p_safe = lowest > 1 ? 1 : lowest;
	if (lowest >= m->threshold)
		return 0;
	features_of(n, strongest, &sc);
	v->category = m->category[sc.cls];
	v->p_safe = lowest;
	v->start = sc.best > 0 ? sc.best_start : 0;
	v->end = sc.best > 0 ? sc.best_end : n->len;
	return 1;
}

/* ---- training ---- */

/* A growing table of feature strings, by hash, for training. */
struct vocab {
	uint64_t *keys;
	uint32_t *index;
	size_t mask, n;
	char **names;
	uint32_t *count;
};

static int vocab_grow(struct vocab *v)
{
	size_t slots = v->mask ? (v->mask + 1) * 2 : 1024;
	uint64_t *keys = calloc(slots, sizeof(*keys));
	uint32_t *index = calloc(slots, sizeof(*index));
	char **names = realloc(v->names, slots / 2 * sizeof(*names));
	uint32_t *count = realloc(v->count, slots / 2 * sizeof(*count));
	if (names)
		v->names = names;
	if (count)
		v->count = count;
	if (!keys || !index || !names || !count) {
		free(keys);
		free(index);
		return -1;
	}
	for (size_t s = 0; v->mask && s <= v->mask; s++) {
		if (!v->keys[s])
			continue;
		size_t t = v->keys[s] & (slots - 1);
		while (keys[t])
			t = (t + 1) & (slots - 1);
		keys[t] = v->keys[s];
		index[t] = v->index[s];
	}
	free(v->keys);
	free(v->index);
	v->keys = keys;
	v->index = index;
	v->mask = slots - 1;
	return 0;
}

/* The row of the feature with this hash, added (with its name) when new; -1. */
static long vocab_id(struct vocab *v, uint64_t hash, const char *name, size_t len)
{
	if ((v->n + 1) * 2 > v->mask + 1 && vocab_grow(v) < 0)
		return -1;
	uint64_t k = key_of(hash);
	size_t s = k & v->mask;
	while (v->keys[s] && v->keys[s] != k)
		s = (s + 1) & v->mask;
	if (v->keys[s])
		return v->index[s];
	char *copy = strndup(name, len);
	if (!copy)
		return -1;
	v->keys[s] = k;
	v->index[s] = (uint32_t)v->n;
	v->names[v->n] = copy;
	v->count[v->n] = 0;
	return (long)v->n++;
}

static void vocab_free(struct vocab *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->names[i]);
	free(v->names);
	free(v->count);
	free(v->keys);
	free(v->index);
}

/* One training row's features as rows of the vocabulary, and its class. */
struct row_list {
	uint32_t *rows;
	size_t n, cap;
	int y;
};

/* Every training row: each example whole, and a long one's windows too. */
struct row_lists {
	struct row_list *v;
	size_t n, cap;
};

static int row_push(struct row_list *l, uint32_t row)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->rows[i] == row)
			return 0; /* each feature counts once per row */
	if (l->n == l->cap) {
		uint32_t *r = realloc(l->rows, (l->cap * 2 + 16) * sizeof(*r));
		if (!r)
			return -1;
		l->rows = r;
		l->cap = l->cap * 2 + 16;
	}
	l->rows[l->n++] = row;
	return 1;
}

static struct row_list *rows_add(struct row_lists *ls, int y)
{
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 1024;
		struct row_list *v = realloc(ls->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		ls->v = v;
		ls->cap = cap;
	}
	ls->v[ls->n] = (struct row_list){.y = y};
	return &ls->v[ls->n++];
}

/* An example's features in order, with the word each ends at. */
struct collect {
	struct vocab *v;
	const struct sv_norm *norm;
	struct seen {
		uint32_t row, word;
	} * f;
	size_t n, cap;
	int failed;
};

static void collect_feature(void *ctx, uint64_t hash, size_t word, size_t start, size_t end)
{
	struct collect *c = ctx;
	if (c->failed)
		return;
	/* A pair's name is its two words joined by '_' instead of the space. */
	char name[128];
	size_t len = end - start;
	if (len >= sizeof name)
		return; /* no feature that long is worth keeping, nor cut in half */
	memcpy(name, c->norm->text + start, len);
	for (size_t i = 0; i < len; i++)
		if (name[i] == ' ')
			name[i] = '_';
	long id = vocab_id(c->v, hash, name, len);
	if (id >= 0 && c->n == c->cap) {
		struct seen *f = realloc(c->f, (c->cap * 2 + 64) * sizeof(*f));
		if (f) {
			c->f = f;
			c->cap = c->cap * 2 + 64;
		}
	}
	if (id < 0 || c->n == c->cap) {
		c->failed = 1;
		return;
	}
	c->f[c->n++] = (struct seen){(uint32_t)id, (uint32_t)word};
}

/* The example's rows: itself, then (when it is longer than a window by a
 * fifth) its windows of WINDOW_WORDS words, half a window apart, so the
 * model learns the spans it will be asked about. Features of the whole
 * example count towards min_count. */
static int add_rows(struct row_lists *ls, struct collect *c, size_t words, int y)
{
	struct row_list *whole = rows_add(ls, y);
	if (!whole)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		int rc = row_push(whole, c->f[i].row);
		if (rc < 0)
			return -1;
		c->v->count[c->f[i].row] += (uint32_t)rc;
	}
	if (words <= WINDOW_WORDS + WINDOW_WORDS / 5)
		return 0;
	for (size_t from = 0;; from += WINDOW_WORDS / 2) {
		size_t to = from + WINDOW_WORDS;
		struct row_list *l = rows_add(ls, y);
		if (!l)
			return -1;
		for (size_t i = 0; i < c->n; i++)
			if (c->f[i].word >= from && c->f[i].word < to &&
			    row_push(l, c->f[i].row) < 0)
				return -1;
		if (to >= words)
			return 0;
	}
}

/* Stochastic gradient descent from w and bias as they are: o->epochs
 * passes over the rows in an order shuffled by seed. */
static void sgd(const struct row_lists *ls, size_t *order, float *w, float *bias,
                const struct sv_moderate_train_options *o, uint64_t seed)
{
	const int K = SV_MODERATE_NCATEGORIES + 1;
	uint64_t rng = seed;
	for (int epoch = 0; epoch < o->epochs; epoch++) {
		/* The step shrinks to nothing by the last pass: without that, the
		 * weights are wherever the last few examples pushed them. */
		double rate = o->rate * (1.0 - (double)epoch / o->epochs);
		for (size_t i = ls->n; i > 1; i--) { /* a seeded shuffle */
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			size_t j = rng % i, t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t k = 0; k < ls->n; k++) {
			const struct row_list *l = &ls->v[order[k]];
			double z[SV_MODERATE_NCATEGORIES + 1], top = -1e300, sum = 0;
			for (int c = 0; c < K; c++) {
				z[c] = bias[c];
				for (size_t f = 0; f < l->n; f++)
					z[c] += w[(size_t)l->rows[f] * K + c];
				top = z[c] > top ? z[c] : top;
			}
			for (int c = 0; c < K; c++)
				sum += (z[c] = exp(z[c] - top));
			for (int c = 0; c < K; c++) {
				double g = z[c] / sum - (c == l->y);
				bias[c] -= (float)(rate * g);
				for (size_t f = 0; f < l->n; f++) {
					float *x = &w[(size_t)l->rows[f] * K + c];
					*x -= (float)(rate * (g + o->l2 * *x));
				}
			}
		}
	}
}

int sv_moderate_train(const struct sv_moderate_example *ex, size_t n,
                      const struct sv_moderate_train_options *o, struct sv_buf *out,
                      struct sv_err *err)
{
	const int K = SV_MODERATE_NCATEGORIES + 1;
	struct vocab v = {0};
	struct row_lists ls = {0};
	struct collect col = {.v = &v};
	size_t *order = NULL;
	float *w = NULL;
	double *avg = NULL;
	struct sv_norm norm;
	sv_moderate_norm_init(&norm);
	col.norm = &norm;
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		col.n = 0;
		if (sv_moderate_normalise(ex[i].text, ex[i].len, false, &norm) < 0)
			goto nomem;
		size_t words = features_of(&norm, collect_feature, &col);
		if (col.failed || add_rows(&ls, &col, words, ex[i].category + 1) < 0)
			goto nomem;
	}
	if (!(order = malloc((ls.n ? ls.n : 1) * sizeof(*order))))
		goto nomem;
	for (size_t i = 0; i < ls.n; i++)
		order[i] = i;
	if (!(w = calloc(v.n ? v.n : 1, (size_t)K * sizeof(*w))) ||
	    !(avg = calloc(v.n ? v.n : 1, (size_t)K * sizeof(*avg))))
		goto nomem;
	/* The model is the mean of several runs, each seeded to see the rows
	 * in its own order: one run's recall moves by a point with the seed. */
	float bias[SV_MODERATE_NCATEGORIES + 1] = {0};
	double avg_bias[SV_MODERATE_NCATEGORIES + 1] = {0};
	int runs = o->runs > 0 ? o->runs : 1;
	for (int r = 0; r < runs; r++) {
		memset(w, 0, v.n * (size_t)K * sizeof(*w));
		memset(bias, 0, sizeof bias);
		sgd(&ls, order, w, bias, o, (o->seed ? o->seed : 1) + (uint64_t)r);
		for (size_t f = 0; f < v.n * (size_t)K; f++)
			avg[f] += w[f];
		for (int c = 0; c < K; c++)
			avg_bias[c] += bias[c];
	}
	for (size_t f = 0; f < v.n * (size_t)K; f++)
		w[f] = (float)(avg[f] / runs);
	for (int c = 0; c < K; c++)
		bias[c] = (float)(avg_bias[c] / runs);
	/* The model as data: features seen in enough examples, weights rounded. */
	rc = sv_buf_puts(out,
	                 "{\"_comment\":\"Made by storyverse moderate --train from our labelled "
	                 "sets: a weight per class for each word and word pair of the "
	                 "normalised text.\",\"classes\":[\"safe\"");
	for (int c = 1; c < K; c++)
		rc |= sv_buf_printf(out, ",\"%s\"", sv_moderate_category_name(c - 1));
	rc |= sv_buf_printf(out, "],\"threshold\":%.3f,\"bias\":[", o->threshold);
	for (int c = 0; c < K; c++)
		rc |= sv_buf_printf(out, "%s%.3f", c ? "," : "", bias[c]);
	rc |= sv_buf_puts(out, "],\"features\":{");
	bool first = true;
	for (size_t f = 0; f < v.n; f++) {
		float most = 0;
		for (int c = 0; c < K; c++)
			most =
			    fabsf(w[f * K + (size_t)c]) > most ? fabsf(w[f * K + (size_t)c]) : most;
		if (v.count[f] < (uint32_t)o->min_count || most < o->prune)
			continue; /* too rare to trust, or too light to matter */
		rc |= sv_buf_printf(out, "%s\n\"%s\":[", first ? "" : ",", v.names[f]);
		for (int c = 0; c < K; c++)
			rc |= sv_buf_printf(out, "%s%.2f", c ? "," : "", w[f * K + (size_t)c]);
		rc |= sv_buf_puts(out, "]");
		first = false;
	}
	rc |= sv_buf_puts(out, "}}\n");
	if (rc)
		goto nomem;
	rc = 0;
	goto done;
nomem:
	rc = sv_err_set(err, "nomem", "", "out of memory");
done:
	for (size_t i = 0; i < ls.n; i++)
		free(ls.v[i].rows);
	free(ls.v);
	free(col.f);
	free(order);
	free(w);
	free(avg);
	vocab_free(&v);
	sv_moderate_norm_free(&norm);
	return rc;
}
