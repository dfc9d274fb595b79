/*
 * lm internals: the weights of an opened model, the plain reference
 * operations, the fast kernels' table and the thread pool. Only src/lm/ and
 * its tests include this.
 */
#ifndef SV_LM_INTERNAL_H
#define SV_LM_INTERNAL_H

#include "lm/lm.h"

#include <stdint.h>

/* A weight matrix of rows × cols, row-major (each row is one output's
 * weights): fp32 in f, or int8 in q with one fp32 scale per group_size
 * consecutive values in s (row-major too; cols is a multiple of group_size). */
struct lm_tensor {
	const float *f;
	const int8_t *q;
	const float *s;
	int rows, cols, group_size;
	/* int8 only, may be NULL: -128 times each group's sum of weights (rows
	 * × groups, row-major), made once at load for the kernels that offset
	 * their inputs by 128 to multiply unsigned by signed bytes. */
	const int32_t *bias;
};

/* Fills bias (rows × groups) for an int8 tensor. */
void lm_tensor_bias(int32_t *bias, const struct lm_tensor *t);

struct lm_layer {
	const float *rms_att, *rms_ffn;  /* dim each */
	struct lm_tensor wq, wk, wv, wo; /* dim×dim, kv_dim×dim, kv_dim×dim, dim×dim */
	struct lm_tensor w1, w2, w3;     /* hidden×dim, dim×hidden, hidden×dim */
};

struct lm_model {
	struct lm_config cfg;
	void *map; /* the file, mapped read-only; NULL once quantized on load */
	size_t map_len;
	void *owned;            /* weights quantized on load (one allocation), or NULL */
	int32_t *biases;        /* the int8 tensors' bias tables (one allocation), or NULL */
	struct lm_tensor embed; /* vocab×dim */
	struct lm_tensor cls;   /* vocab×dim: the embedding itself when shared */
	const float *rms_final;
	struct lm_layer *layers; /* n_layers, owned */
};

/* Largest of 64, 32, 16, 8, 4, 2, 1 dividing both dim and hidden_dim. */
int lm_group_size_for(const struct lm_config *c);

/* ---- the plain reference operations (ref.c), one per step of the model ---- */

void lm_ref_rmsnorm(float *out, const float *x, const float *weight, int n);
void lm_ref_softmax(float *x, int n);
/* out[r] = w[r] · x for every row of w (fp32 w). */
void lm_ref_matvec_f32(float *out, const float *x, const struct lm_tensor *w);
/* Quantizes x (n values, n a multiple of gs) to int8 in [-127, 127] with
 * one scale per gs values: x[i] ≈ q[i] * s[i / gs]. */
void lm_ref_quantize(int8_t *q, float *s, const float *x, int n, int gs);
/* out[r] = w[r] · x with both int8 (x as lm_ref_quantize made it). */
void lm_ref_matvec_q8(float *out, const int8_t *xq, const float *xs, const struct lm_tensor *w);
/* Row r of w as fp32 (the embedding of a token). */
void lm_ref_dequantize_row(float *out, const struct lm_tensor *w, int r);
/* Rotates q (n_heads heads) and k (n_kv_heads heads) of head_size by pos. */
void lm_ref_rope(float *q, float *k, int pos, int n_heads, int n_kv_heads, int head_size);
/* The key/value cache holds IEEE half floats (half the memory a long
 * sequence reads each step), rounded to nearest even as F16C does. */
typedef uint16_t lm_half;
lm_half lm_ref_half(float f);
float lm_ref_float(lm_half h);
void lm_ref_store_half(lm_half *dst, const float *src, int n);
/* One head's attention at pos: out = softmax(q · keys / sqrt(head_size)) · values
 * over positions 0..pos; keys and values step by stride halves; att is pos+1 scratch. */
void lm_ref_attention(float *out, const float *q, const lm_half *keys, const lm_half *values,
                      int pos, int head_size, int stride, float *att);
/* h1[i] = silu(h1[i]) * h3[i]. */
void lm_ref_swiglu(float *h1, const float *h3, int n);

/* ---- fast kernels (kernels_*.c): matrix times several vectors ---- */

struct lm_kernel_ops {
	enum lm_kernels id;
	/* For rows r0 <= r < r1 of w and each of nb inputs x_b = x + b*w->cols:
	 * out[b*ld + r] = w[r] · x_b. fp32 weights. */
	void (*matvec_f32)(float *out, int ld, const float *x, const struct lm_tensor *w, int r0,
	                   int r1, int nb);
	/* The same with int8 weights and inputs quantized as lm_ref_quantize does:
	 * x_b = xq + b*w->cols, scales xs + b*(w->cols/w->group_size). */
	void (*matvec_q8)(float *out, int ld, const int8_t *xq, const float *xs,
	                  const struct lm_tensor *w, int r0, int r1, int nb);
	/* As lm_ref_quantize. */
	void (*quantize)(int8_t *q, float *s, const float *x, int n, int gs);
	/* As lm_ref_attention (the scores may be summed in another order). */
	void (*attention)(float *out, const float *q, const lm_half *keys, const lm_half *values,
	                  int pos, int head_size, int stride, float *att);
	/* As lm_ref_store_half, bit for bit. */
	void (*store_half)(lm_half *dst, const float *src, int n);
};

extern const struct lm_kernel_ops lm_kernels_portable;
/* Only where lm_kernels_supported says so: */
extern const struct lm_kernel_ops lm_kernels_avx2;
extern const struct lm_kernel_ops lm_kernels_avxvnni;
/* The AVX2 table's functions, for the tables that build on it. */
void lm_avx2_matvec_f32(float *out, int ld, const float *x, const struct lm_tensor *w, int r0,
                        int r1, int nb);
void lm_avx2_matvec_q8(float *out, int ld, const int8_t *xq, const float *xs,
                       const struct lm_tensor *w, int r0, int r1, int nb);
void lm_avx2_quantize(int8_t *q, float *s, const float *x, int n, int gs);
void lm_avx2_attention(float *out, const float *q, const lm_half *keys, const lm_half *values,
                       int pos, int head_size, int stride, float *att);
void lm_avx2_store_half(lm_half *dst, const float *src, int n);

/* ---- thread pool (pool.c) ---- */

struct lm_pool;

/* Runs fn(ctx, i, n) once on each of the n threads (the caller is thread
 * 0) and returns when all have finished. */
typedef void (*lm_pool_fn)(void *ctx, int thread, int nthreads);

struct lm_pool *lm_pool_new(int threads, struct sv_err *err);
void lm_pool_free(struct lm_pool *p);
int lm_pool_threads(const struct lm_pool *p);
void lm_pool_run(struct lm_pool *p, lm_pool_fn fn, void *ctx);

#endif
