/*
 * The portable kernels: matrix times several vectors in plain C, laid out so
 * that an optimising compiler vectorises them for whatever the baseline
 * instruction set is (SSE2 on x86-64, NEON on arm64). Each weight row is
 * streamed from memory once per call and used for every input of the batch
 * while it is still cached.
 */
#include "lm/internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* The block functions take their shape as arguments; forcing them inline
 * into callers that pass constants lets the compiler unroll the shape loops
 * and keep the accumulators in registers. */
#define KERNEL static inline __attribute__((always_inline))

/* Independent partial sums per dot product: eight lanes give the vectoriser
 * a reduction it may reorder (it may not reorder one float sum) and two
 * SSE registers' worth of independent additions. */
#define LANES 8

/* Rows r..r+R-1 of w times one input x, written to out[row]. The per-step
 * pointers matter: indexed as w[i*cols + c + k], gcc 12 vectorised across
 * steps of c (strided, all shuffles) at a third of the speed; in this form
 * it vectorises the lanes. */
KERNEL void f32_block(float *restrict out, const float *restrict x, const float *restrict w,
                      int cols, int r, const int R)
{
	float acc[4][LANES];
	for (int i = 0; i < R; i++)
		for (int k = 0; k < LANES; k++)
			acc[i][k] = 0.0f;
	const float *restrict wr = w + (size_t)r * (size_t)cols;
	int c = 0;
	for (; c + LANES <= cols; c += LANES) {
		const float *restrict xc = x + c;
		for (int i = 0; i < R; i++) {
			const float *restrict wc = wr + (size_t)i * (size_t)cols + (size_t)c;
			for (int k = 0; k < LANES; k++)
				acc[i][k] += wc[k] * xc[k];
		}
	}
	for (int i = 0; i < R; i++) {
		float s = 0.0f;
		for (int k = 0; k < LANES; k++)
			s += acc[i][k];
		for (int t = c; t < cols; t++) /* the columns past the last LANES */
			s += wr[(size_t)i * (size_t)cols + (size_t)t] * x[t];
		out[r + i] = s;
	}
}

static void matvec_f32(float *out, int ld, const float *x, const struct lm_tensor *w, int r0,
                       int r1, int nb)
{
	/* Four rows at once: four streams from memory in flight, and each load
	 * of x serves four rows. The inputs of a batch take turns on the same
	 * four rows, which are then in the first- or second-level cache, so the
	 * weights still come from memory once. (Several inputs per pass would
	 * save cache reads, but compilers vectorise that shape poorly from
	 * plain C.) */
	int cols = w->cols;
	int r = r0;
	for (; r + 4 <= r1; r += 4)
		for (int b = 0; b < nb; b++)
			f32_block(out + (size_t)b * (size_t)ld, x + (size_t)b * (size_t)cols, w->f,
			          cols, r, 4);
	for (; r < r1; r++)
		for (int b = 0; b < nb; b++)
			f32_block(out + (size_t)b * (size_t)ld, x + (size_t)b * (size_t)cols, w->f,
			          cols, r, 1);
}

/* Rows r..r+R-1 against one input; GS is the group size, a constant for
 * the common sizes so the group loops vectorise fully. The bytes are
 * widened to int16 first because compilers turn an int16 × int16 sum into
 * a multiply-add instruction (pmaddwd on x86) but not an int8 one; the
 * input's group is widened once for all R rows. Each group's dot product
 * is exact in int32 (|w|, |x| <= 127, GS <= 64), so any order of summing
 * it is the same. */
KERNEL void q8_block(float *restrict out, const int8_t *restrict xq, const float *restrict xs,
                     const struct lm_tensor *w, int r, const int R, const int GS)
{
	int cols = w->cols, ng = cols / GS;
	float sum[4] = {0.0f, 0.0f, 0.0f, 0.0f};
	int16_t xw[64], ww[64];
	for (int g = 0; g < ng; g++) {
		const int8_t *restrict xg = xq + (size_t)g * (size_t)GS;
		for (int k = 0; k < GS; k++)
			xw[k] = (int16_t)xg[k];
		for (int i = 0; i < R; i++) {
			size_t row = (size_t)r + (size_t)i;
			const int8_t *restrict wg =
			    w->q + row * (size_t)cols + (size_t)g * (size_t)GS;
			for (int k = 0; k < GS; k++)
				ww[k] = (int16_t)wg[k];
			int32_t d = 0;
			for (int k = 0; k < GS; k++)
				d += (int32_t)ww[k] * (int32_t)xw[k];
			sum[i] += (float)d * (w->s[row * (size_t)ng + (size_t)g] * xs[g]);
		}
	}
	for (int i = 0; i < R; i++)
		out[r + i] = sum[i];
}

/* As matvec_f32: four rows at a time, the inputs taking turns on them while
 * they are cached. */
KERNEL void q8_rows(float *out, int ld, const int8_t *xq, const float *xs,
                    const struct lm_tensor *w, int r0, int r1, int nb, const int GS)
{
	int cols = w->cols, ng = cols / GS;
	int r = r0;
	for (; r + 4 <= r1; r += 4)
		for (int b = 0; b < nb; b++)
			q8_block(out + (size_t)b * (size_t)ld, xq + (size_t)b * (size_t)cols,
			         xs + (size_t)b * (size_t)ng, w, r, 4, GS);
	for (; r < r1; r++)
		for (int b = 0; b < nb; b++)
			q8_block(out + (size_t)b * (size_t)ld, xq + (size_t)b * (size_t)cols,
			         xs + (size_t)b * (size_t)ng, w, r, 1, GS);
}

static void matvec_q8(float *out, int ld, const int8_t *xq, const float *xs,
                      const struct lm_tensor *w, int r0, int r1, int nb)
{
	int gs = w->group_size; /* at most 64 */
	if (gs == 64)
		q8_rows(out, ld, xq, xs, w, r0, r1, nb, 64);
	else if (gs == 32)
		q8_rows(out, ld, xq, xs, w, r0, r1, nb, 32);
	else if (gs == 16)
		q8_rows(out, ld, xq, xs, w, r0, r1, nb, 16);
	else
		q8_rows(out, ld, xq, xs, w, r0, r1, nb, gs);
}

/* Exactly lm_ref_quantize's arithmetic (the same divisions and roundf),
 * so the bytes and scales are identical; it is a small share of a step. */
static void quantize(int8_t *q, float *s, const float *x, int n, int gs)
{
	for (int g = 0; g < n / gs; g++) {
		const float *xg = x + (size_t)g * (size_t)gs;
		int8_t *qg = q + (size_t)g * (size_t)gs;
		float max = 0.0f;
		for (int i = 0; i < gs; i++)
			max = fmaxf(max, fabsf(xg[i]));
		float scale = max / 127.0f;
		s[g] = scale;
		if (!(scale > 0.0f)) {
			memset(qg, 0, (size_t)gs);
			continue;
		}
		for (int i = 0; i < gs; i++)
			qg[i] = (int8_t)roundf(xg[i] / scale);
	}
}

/* ---- attention ---- */

/* lm_ref_attention written for the vectoriser: a head's keys are widened
 * to floats a position at a time, each score is summed in eight partial
 * sums (a reordering of the reference's additions), and the weighted
 * values are added row by row. */
#define MAX_HEAD 1024

static void attention(float *out, const float *q, const lm_half *keys, const lm_half *values,
                      int pos, int hs, int stride, float *att)
{
	if (hs > MAX_HEAD) {
		lm_ref_attention(out, q, keys, values, pos, hs, stride, att);
		return;
	}
	float row[MAX_HEAD];
	float scale = 1.0f / sqrtf((float)hs);
	for (int t = 0; t <= pos; t++) {
		const lm_half *k = keys + (size_t)t * (size_t)stride;
		for (int i = 0; i < hs; i++)
			row[i] = lm_ref_float(k[i]);
		float part[8] = {0};
		int i = 0;
		for (; i + 8 <= hs; i += 8)
			for (int j = 0; j < 8; j++)
				part[j] += q[i + j] * row[i + j];
		float score = ((part[0] + part[4]) + (part[1] + part[5])) +
		              ((part[2] + part[6]) + (part[3] + part[7]));
		for (; i < hs; i++)
			score += q[i] * row[i];
		att[t] = score * scale;
	}
	lm_ref_softmax(att, pos + 1);
	memset(out, 0, sizeof(float) * (size_t)hs);
	for (int t = 0; t <= pos; t++) {
		const lm_half *v = values + (size_t)t * (size_t)stride;
		float a = att[t];
		for (int i = 0; i < hs; i++)
			out[i] += a * lm_ref_float(v[i]);
	}
}

const struct lm_kernel_ops lm_kernels_portable = {
    LM_KERNELS_PORTABLE, matvec_f32, matvec_q8, quantize, attention, lm_ref_store_half};
