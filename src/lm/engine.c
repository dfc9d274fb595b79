/*
 * The forward pass, two ways. The reference path runs one token of one
 * stream with the plain operations of ref.c, exactly as the model is
 * defined. The fast path runs a batch of "lanes" — one token each, of
 * different streams or consecutive prompt tokens of one — through every
 * layer together: each weight matrix is read once per step for all lanes,
 * by the kernels of the chosen table, its rows split across the thread
 * pool. Tests hold the fast path to the reference one.
 */
#include "lm/internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lm_engine {
	const struct lm_model *m;
	struct lm_config cfg;
	int kv_dim, head_size, group_size; /* group_size 0: fp32 weights */
	enum lm_kernels kernels;
	const struct lm_kernel_ops *ops; /* NULL on the reference path */
	struct lm_pool *pool;
	float *inv_freq; /* head_size/2 rotary frequencies */
	/* Activations, one row per lane (LM_MAX_BATCH rows each), one allocation. */
	float *x, *xb, *xb2, *q, *k, *v, *hb, *hb2, *logits, *rope_cos, *rope_sin;
	int8_t *xq;
	float *xs;
	float *att; /* seq_len per thread */
	void *arena;
	int8_t *arena_q;
};

struct lm_stream {
	const struct lm_engine *e;
	lm_half *keys, *values; /* n_layers × n_kv_heads × seq_len × head_size each */
	float *logits;          /* vocab_size */
	int pos;
};

/* One token of one stream in a step. */
struct lane {
	struct lm_stream *s;
	int token, pos;
	bool logits; /* compute the next-token scores */
};

/* ---- kernels ---- */

static const struct {
	enum lm_kernels id;
	const char *name;
} kernel_names[] = {
    {LM_KERNELS_AUTO, "auto"},         {LM_KERNELS_REFERENCE, "reference"},
    {LM_KERNELS_PORTABLE, "portable"}, {LM_KERNELS_AVX2, "avx2"},
    {LM_KERNELS_AVXVNNI, "avxvnni"},
};
#define NKERNELS (sizeof(kernel_names) / sizeof(kernel_names[0]))

const char *lm_kernels_name(enum lm_kernels k)
{
	for (size_t i = 0; i < NKERNELS; i++)
		if (kernel_names[i].id == k)
			return kernel_names[i].name;
	return "?";
}

int lm_kernels_parse(const char *s, enum lm_kernels *out)
{
	for (size_t i = 0; i < NKERNELS; i++)
		if (strcmp(kernel_names[i].name, s) == 0) {
			*out = kernel_names[i].id;
			return 0;
		}
	return -1;
}

/* AVX-VNNI is CPUID leaf 7, sub-leaf 1, EAX bit 4. */
static bool cpu_has_avxvnni(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 1, &a, &b, &c, &d))
		return false;
	return (a >> 4) & 1;
#else
	return false;
#endif
}

bool lm_kernels_supported(enum lm_kernels k)
{
	if (k != LM_KERNELS_AVX2 && k != LM_KERNELS_AVXVNNI)
		return true;
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	return avx2 && (k == LM_KERNELS_AVX2 || cpu_has_avxvnni());
#else
	return false;
#endif
}

/* The fastest kernels this CPU runs. */
static enum lm_kernels best_kernels(void)
{
	static const enum lm_kernels order[] = {LM_KERNELS_AVXVNNI, LM_KERNELS_AVX2};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (lm_kernels_supported(order[i]))
			return order[i];
	return LM_KERNELS_PORTABLE;
}

static const struct lm_kernel_ops *kernel_ops(enum lm_kernels k)
{
	switch (k) {
	case LM_KERNELS_AVXVNNI:
		return &lm_kernels_avxvnni;
	case LM_KERNELS_AVX2:
		return &lm_kernels_avx2;
	case LM_KERNELS_PORTABLE:
		return &lm_kernels_portable;
	default:
		return NULL;
	}
}

/* ---- engines and streams ---- */

static int allocate_activations(struct lm_engine *e, int threads)
{
	const struct lm_config *c = &e->cfg;
	size_t B = LM_MAX_BATCH, dim = (size_t)c->dim, kv = (size_t)e->kv_dim;
	size_t hid = (size_t)c->hidden_dim, wide = hid > dim ? hid : dim;
	size_t half = (size_t)e->head_size / 2;
	size_t sizes[] = {B * dim,
	                  B * dim,
	                  B * dim,
	                  B * dim,
	                  B * kv,
	                  B * kv,
	                  B * hid,
	                  B * hid,
	                  B * (size_t)c->vocab_size,
	                  B * half,
	                  B * half,
	                  B * wide,
	                  (size_t)threads * (size_t)c->seq_len,
	                  half};
	float **slots[] = {&e->x,        &e->xb, &e->xb2, &e->q,       &e->k,
	                   &e->v,        &e->hb, &e->hb2, &e->logits,  &e->rope_cos,
	                   &e->rope_sin, &e->xs, &e->att, &e->inv_freq};
	size_t total = 0;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		total += (sizes[i] + 15) & ~(size_t)15; /* 64-byte steps */
	e->arena = aligned_alloc(64, total * sizeof(float));
	e->arena_q = aligned_alloc(64, (B * wide + 63) & ~(size_t)63);
	if (!e->arena || !e->arena_q)
		return -1;
	float *p = e->arena;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		*slots[i] = p;
		p += (sizes[i] + 15) & ~(size_t)15;
	}
	e->xq = e->arena_q;
	return 0;
}

struct lm_engine *lm_engine_new(const struct lm_model *m, int threads, enum lm_kernels kernels,
                                struct sv_err *err)
{
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 1 ? 1 : n > LM_MAX_THREADS ? LM_MAX_THREADS : (int)n;
	}
	if (kernels == LM_KERNELS_AUTO)
		kernels = best_kernels();
	if (!lm_kernels_supported(kernels)) {
		sv_err_set(err, "invalid_value", "kernels", "this CPU cannot run the %s kernels",
		           lm_kernels_name(kernels));
		return NULL;
	}
	struct lm_engine *e = calloc(1, sizeof *e);
	if (!e) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	e->m = m;
	e->cfg = m->cfg;
	e->kv_dim = e->cfg.dim * e->cfg.n_kv_heads / e->cfg.n_heads;
	e->head_size = e->cfg.dim / e->cfg.n_heads;
	e->group_size = e->cfg.group_size;
	e->kernels = kernels;
	e->ops = kernel_ops(kernels);
	if (kernels == LM_KERNELS_REFERENCE)
		threads = 1;
	if (!(e->pool = lm_pool_new(threads, err)) || allocate_activations(e, threads) < 0) {
		if (e->pool)
			sv_err_set(err, "nomem", "", "out of memory");
		lm_engine_free(e);
		return NULL;
	}
	for (int i = 0; i < e->head_size / 2; i++)
		e->inv_freq[i] = 1.0f / powf(10000.0f, (float)(2 * i) / (float)e->head_size);
	return e;
}

void lm_engine_free(struct lm_engine *e)
{
	if (!e)
		return;
	lm_pool_free(e->pool);
	free(e->arena);
	free(e->arena_q);
	free(e);
}

enum lm_kernels lm_engine_kernels(const struct lm_engine *e)
{
	return e->kernels;
}

int lm_engine_threads(const struct lm_engine *e)
{
	return lm_pool_threads(e->pool);
}

const struct lm_config *lm_engine_config(const struct lm_engine *e)
{
	return &e->cfg;
}

struct lm_stream *lm_stream_new(const struct lm_engine *e, struct sv_err *err)
{
	const struct lm_config *c = &e->cfg;
	size_t cache = (size_t)c->n_layers * (size_t)c->seq_len * (size_t)e->kv_dim;
	struct lm_stream *s = calloc(1, sizeof *s);
	/* calloc of a large block maps zero pages: only what a story fills is used. */
	if (s) {
		s->keys = calloc(cache, sizeof(lm_half));
		s->values = calloc(cache, sizeof(lm_half));
		s->logits = calloc((size_t)c->vocab_size, sizeof(float));
	}
	if (!s || !s->keys || !s->values || !s->logits) {
		lm_stream_free(s);
		sv_err_set(err, "nomem", "", "out of memory for a stream's cache");
		return NULL;
	}
	s->e = e;
	return s;
}

void lm_stream_free(struct lm_stream *s)
{
	if (!s)
		return;
	free(s->keys);
	free(s->values);
	free(s->logits);
	free(s);
}

void lm_stream_reset(struct lm_stream *s)
{
	s->pos = 0;
}

int lm_stream_pos(const struct lm_stream *s)
{
	return s->pos;
}

float *lm_stream_logits(struct lm_stream *s)
{
	return s->logits;
}

/* A stream's cache keeps each key (or value) head's positions together —
 * layer, head, position, then the head's values — so attention reads one
 * head's history as one run of memory. Position 0 of a head: */
static lm_half *head_cache(const struct lm_engine *e, lm_half *cache, int layer, int kv_head)
{
	size_t run = (size_t)e->cfg.seq_len * (size_t)e->head_size;
	return cache + ((size_t)layer * (size_t)e->cfg.n_kv_heads + (size_t)kv_head) * run;
}

/* Keeps one position's keys (or values), every head, as halves. */
static void cache_store(const struct lm_engine *e, lm_half *cache, int layer, int pos,
                        const float *kv)
{
	size_t hs = (size_t)e->head_size;
	for (int h = 0; h < e->cfg.n_kv_heads; h++) {
		lm_half *dst = head_cache(e, cache, layer, h) + (size_t)pos * hs;
		if (e->ops)
			e->ops->store_half(dst, kv + (size_t)h * hs, (int)hs);
		else
			lm_ref_store_half(dst, kv + (size_t)h * hs, (int)hs);
	}
}

/* ---- the reference path: one token of one stream ---- */

static void ref_matvec(const struct lm_engine *e, float *out, const float *x,
                       const struct lm_tensor *w, int8_t *xq, float *xs)
{
	if (w->f) {
		lm_ref_matvec_f32(out, x, w);
		return;
	}
	lm_ref_quantize(xq, xs, x, w->cols, w->group_size);
	lm_ref_matvec_q8(out, xq, xs, w);
}

static void ref_forward(struct lm_engine *e, struct lm_stream *s, int token)
{
	const struct lm_config *c = &e->cfg;
	int dim = c->dim, hs = e->head_size, pos = s->pos;
	float *x = e->x, *xb = e->xb, *xb2 = e->xb2;
	lm_ref_dequantize_row(x, &e->m->embed, token);
	for (int l = 0; l < c->n_layers; l++) {
		const struct lm_layer *w = &e->m->layers[l];
		lm_ref_rmsnorm(xb, x, w->rms_att, dim);
		ref_matvec(e, e->q, xb, &w->wq, e->xq, e->xs);
		ref_matvec(e, e->k, xb, &w->wk, e->xq, e->xs);
		ref_matvec(e, e->v, xb, &w->wv, e->xq, e->xs);
		lm_ref_rope(e->q, e->k, pos, c->n_heads, c->n_kv_heads, hs);
		cache_store(e, s->keys, l, pos, e->k);
		cache_store(e, s->values, l, pos, e->v);
		for (int h = 0; h < c->n_heads; h++) {
			int kvh = h / (c->n_heads / c->n_kv_heads);
			lm_ref_attention(xb2 + (size_t)h * (size_t)hs,
			                 e->q + (size_t)h * (size_t)hs,
			                 head_cache(e, s->keys, l, kvh),
			                 head_cache(e, s->values, l, kvh), pos, hs, hs, e->att);
		}
		ref_matvec(e, xb, xb2, &w->wo, e->xq, e->xs);
		for (int i = 0; i < dim; i++)
			x[i] += xb[i];
		lm_ref_rmsnorm(xb, x, w->rms_ffn, dim);
		ref_matvec(e, e->hb, xb, &w->w1, e->xq, e->xs);
		ref_matvec(e, e->hb2, xb, &w->w3, e->xq, e->xs);
		lm_ref_swiglu(e->hb, e->hb2, c->hidden_dim);
		ref_matvec(e, xb, e->hb, &w->w2, e->xq, e->xs);
		for (int i = 0; i < dim; i++)
			x[i] += xb[i];
	}
	lm_ref_rmsnorm(xb, x, e->m->rms_final, dim);
	ref_matvec(e, s->logits, xb, &e->m->cls, e->xq, e->xs);
}

/* ---- the fast path: parallel loops over rows ---- */

/* Up to three matrices with the same inputs, their rows split across
 * threads; with swiglu, two matrices of equal rows whose outputs combine. */
struct matmul {
	const struct lm_engine *e;
	int nmat, nb;
	const struct lm_tensor *w[3];
	float *out[3];
	const float *x; /* nb rows of w[0]->cols */
	bool swiglu;
};

#define ROW_STEP 16 /* thread shares start on a multiple of this */

static void share(int total, int t, int nt, int *r0, int *r1)
{
	int steps = (total + ROW_STEP - 1) / ROW_STEP;
	int a = (int)((long)steps * t / nt) * ROW_STEP,
	    b = (int)((long)steps * (t + 1) / nt) * ROW_STEP;
	*r0 = a < total ? a : total;
	*r1 = b < total ? b : total;
}

static void matmul_rows(const struct matmul *mm, int i, int r0, int r1)
{
	const struct lm_engine *e = mm->e;
	const struct lm_tensor *w = mm->w[i];
	int ld = w->rows;
	if (w->f)
		e->ops->matvec_f32(mm->out[i], ld, mm->x, w, r0, r1, mm->nb);
	else
		e->ops->matvec_q8(mm->out[i], ld, e->xq, e->xs, w, r0, r1, mm->nb);
}

static void matmul_task(void *ctx, int t, int nt)
{
	const struct matmul *mm = ctx;
	if (mm->swiglu) {
		int rows = mm->w[0]->rows, r0, r1;
		share(rows, t, nt, &r0, &r1);
		if (r0 >= r1)
			return;
		matmul_rows(mm, 0, r0, r1);
		matmul_rows(mm, 1, r0, r1);
		for (int b = 0; b < mm->nb; b++)
			lm_ref_swiglu(mm->out[0] + (size_t)b * (size_t)rows + r0,
			              mm->out[1] + (size_t)b * (size_t)rows + r0, r1 - r0);
		return;
	}
	/* The matrices' rows as one range, shared out, then mapped back. */
	int total = 0;
	for (int i = 0; i < mm->nmat; i++)
		total += mm->w[i]->rows;
	int lo, hi;
	share(total, t, nt, &lo, &hi);
	int base = 0;
	for (int i = 0; i < mm->nmat; i++) {
		int rows = mm->w[i]->rows;
		int r0 = lo - base, r1 = hi - base;
		if (r0 < 0)
			r0 = 0;
		if (r1 > rows)
			r1 = rows;
		if (r0 < r1)
			matmul_rows(mm, i, r0, r1);
		base += rows;
	}
}

/* Runs the matrices over nb input rows of x (quantized first for int8). */
static void matmul_run(struct lm_engine *e, struct matmul *mm)
{
	mm->e = e;
	const struct lm_tensor *w = mm->w[0];
	if (!w->f)
		for (int b = 0; b < mm->nb; b++) {
			size_t off = (size_t)b * (size_t)w->cols;
			e->ops->quantize(e->xq + off, e->xs + off / (size_t)w->group_size,
			                 mm->x + off, w->cols, w->group_size);
		}
	lm_pool_run(e->pool, matmul_task, mm);
}

struct attention {
	struct lm_engine *e;
	const struct lane *lanes;
	int n, layer;
};

static void attention_task(void *ctx, int t, int nt)
{
	const struct attention *a = ctx;
	struct lm_engine *e = a->e;
	const struct lm_config *c = &e->cfg;
	int hs = e->head_size, total = a->n * c->n_heads, kv_mul = c->n_heads / c->n_kv_heads;
	float *att = e->att + (size_t)t * (size_t)c->seq_len;
	for (int i = total * t / nt; i < total * (t + 1) / nt; i++) {
		int b = i / c->n_heads, h = i % c->n_heads;
		const struct lane *ln = &a->lanes[b];
		size_t row = (size_t)b * (size_t)c->dim + (size_t)(h * hs);
		int kvh = h / kv_mul;
		e->ops->attention(
		    e->xb2 + row, e->q + row, head_cache(e, ln->s->keys, a->layer, kvh),
		    head_cache(e, ln->s->values, a->layer, kvh), ln->pos, hs, hs, att);
	}
}

static void rotate(float *v, int heads, int hs, const float *cs, const float *sn)
{
	for (int h = 0; h < heads; h++)
		for (int i = 0; i < hs / 2; i++) {
			float *p = v + (size_t)h * (size_t)hs + 2 * (size_t)i;
			float a = p[0], b = p[1];
			p[0] = a * cs[i] - b * sn[i];
			p[1] = a * sn[i] + b * cs[i];
		}
}

static void add_rows(float *x, const float *y, int n)
{
	for (int i = 0; i < n; i++)
		x[i] += y[i];
}

static void attention_block(struct lm_engine *e, const struct lane *lanes, int n, int l)
{
	const struct lm_config *c = &e->cfg;
	const struct lm_layer *w = &e->m->layers[l];
	int dim = c->dim, kv = e->kv_dim, half = e->head_size / 2;
	for (int b = 0; b < n; b++)
		lm_ref_rmsnorm(e->xb + (size_t)b * (size_t)dim, e->x + (size_t)b * (size_t)dim,
		               w->rms_att, dim);
	struct matmul qkv = {.nmat = 3,
	                     .nb = n,
	                     .w = {&w->wq, &w->wk, &w->wv},
	                     .out = {e->q, e->k, e->v},
	                     .x = e->xb};
	matmul_run(e, &qkv);
	for (int b = 0; b < n; b++) {
		const float *cs = e->rope_cos + (size_t)b * (size_t)half,
		            *sn = e->rope_sin + (size_t)b * (size_t)half;
		rotate(e->q + (size_t)b * (size_t)dim, c->n_heads, e->head_size, cs, sn);
		rotate(e->k + (size_t)b * (size_t)kv, c->n_kv_heads, e->head_size, cs, sn);
		/* Every lane's keys are in the cache before any lane attends, so a
		 * prompt's later tokens see its earlier ones. */
		cache_store(e, lanes[b].s->keys, l, lanes[b].pos, e->k + (size_t)b * (size_t)kv);
		cache_store(e, lanes[b].s->values, l, lanes[b].pos, e->v + (size_t)b * (size_t)kv);
	}
	struct attention at = {e, lanes, n, l};
	lm_pool_run(e->pool, attention_task, &at);
	struct matmul wo = {.nmat = 1, .nb = n, .w = {&w->wo}, .out = {e->xb}, .x = e->xb2};
	matmul_run(e, &wo);
	add_rows(e->x, e->xb, n * dim);
}

static void ffn_block(struct lm_engine *e, int n, int l)
{
	const struct lm_config *c = &e->cfg;
	const struct lm_layer *w = &e->m->layers[l];
	int dim = c->dim;
	for (int b = 0; b < n; b++)
		lm_ref_rmsnorm(e->xb + (size_t)b * (size_t)dim, e->x + (size_t)b * (size_t)dim,
		               w->rms_ffn, dim);
	struct matmul up = {.nmat = 2,
	                    .nb = n,
	                    .w = {&w->w1, &w->w3},
	                    .out = {e->hb, e->hb2},
	                    .x = e->xb,
	                    .swiglu = true};
	matmul_run(e, &up);
	struct matmul down = {.nmat = 1, .nb = n, .w = {&w->w2}, .out = {e->xb}, .x = e->hb};
	matmul_run(e, &down);
	add_rows(e->x, e->xb, n * dim);
}

/* The classifier for the lanes that want scores, gathered into one batch. */
static void classify(struct lm_engine *e, const struct lane *lanes, int n)
{
	int dim = e->cfg.dim, vocab = e->cfg.vocab_size, k = 0;
	for (int b = 0; b < n; b++)
		if (lanes[b].logits)
			lm_ref_rmsnorm(e->xb + (size_t)k++ * (size_t)dim,
			               e->x + (size_t)b * (size_t)dim, e->m->rms_final, dim);
	if (k == 0)
		return;
	struct matmul cls = {.nmat = 1, .nb = k, .w = {&e->m->cls}, .out = {e->logits}, .x = e->xb};
	matmul_run(e, &cls);
	k = 0;
	for (int b = 0; b < n; b++)
		if (lanes[b].logits)
			memcpy(lanes[b].s->logits, e->logits + (size_t)k++ * (size_t)vocab,
			       sizeof(float) * (size_t)vocab);
}

static void fast_forward(struct lm_engine *e, const struct lane *lanes, int n)
{
	const struct lm_config *c = &e->cfg;
	int dim = c->dim, half = e->head_size / 2;
	for (int b = 0; b < n; b++) {
		lm_ref_dequantize_row(e->x + (size_t)b * (size_t)dim, &e->m->embed, lanes[b].token);
		for (int i = 0; i < half; i++) {
			float angle = (float)lanes[b].pos * e->inv_freq[i];
			e->rope_cos[b * half + i] = cosf(angle);
			e->rope_sin[b * half + i] = sinf(angle);
		}
	}
	for (int l = 0; l < c->n_layers; l++) {
		attention_block(e, lanes, n, l);
		ffn_block(e, n, l);
	}
	classify(e, lanes, n);
}

/* ---- steps ---- */

static int check_lane(const struct lm_engine *e, const struct lm_stream *s, int token, int pos,
                      struct sv_err *err)
{
	if (s->e != e)
		return sv_err_set(err, "invalid_value", "stream", "a stream of another engine");
	if (token < 0 || token >= e->cfg.vocab_size)
		return sv_err_set(err, "invalid_value", "token",
		                  "token %d is not in the vocabulary (%d)", token,
		                  e->cfg.vocab_size);
	if (pos >= e->cfg.seq_len)
		return sv_err_set(err, "invalid_value", "steps",
		                  "the sequence is full: the model reads at most %d tokens",
		                  e->cfg.seq_len);
	return 0;
}

int lm_engine_step(struct lm_engine *e, struct lm_stream *const *streams, const int *tokens, int n,
                   struct sv_err *err)
{
	if (n < 1 || n > LM_MAX_BATCH)
		return sv_err_set(err, "invalid_value", "batch", "a step takes 1 to %d streams",
		                  LM_MAX_BATCH);
	struct lane lanes[LM_MAX_BATCH];
	for (int b = 0; b < n; b++) {
		if (check_lane(e, streams[b], tokens[b], streams[b]->pos, err) < 0)
			return -1;
		for (int j = 0; j < b; j++)
			if (streams[j] == streams[b])
				return sv_err_set(err, "invalid_value", "stream",
				                  "a stream twice in one step");
		lanes[b] = (struct lane){streams[b], tokens[b], streams[b]->pos, true};
	}
	if (e->ops)
		fast_forward(e, lanes, n);
	else
		for (int b = 0; b < n; b++)
			ref_forward(e, streams[b], tokens[b]);
	for (int b = 0; b < n; b++)
		streams[b]->pos++;
	return 0;
}

int lm_engine_prefill(struct lm_engine *e, struct lm_stream *s, const int *tokens, int n,
                      struct sv_err *err)
{
	for (int i = 0; i < n; i++)
		if (check_lane(e, s, tokens[i], s->pos + i, err) < 0)
			return -1;
	for (int i = 0; i < n;) {
		int k = n - i < LM_MAX_BATCH ? n - i : LM_MAX_BATCH;
		if (e->ops) {
			struct lane lanes[LM_MAX_BATCH];
			for (int b = 0; b < k; b++)
				lanes[b] =
				    (struct lane){s, tokens[i + b], s->pos + b, i + b == n - 1};
			fast_forward(e, lanes, k);
			s->pos += k;
		} else {
			for (int b = 0; b < k; b++, s->pos++)
				ref_forward(e, s, tokens[i + b]);
		}
		i += k;
	}
	return 0;
}
