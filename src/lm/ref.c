/*
 * The plain reference operations: one short function per step of the
 * model, written for reading rather than speed. The fast kernels and the
 * batched engine are tested against these.
 */
#include "lm/internal.h"

#include <math.h>
#include <string.h>

void lm_ref_rmsnorm(float *out, const float *x, const float *weight, int n)
{
	float ss = 0.0f;
	for (int i = 0; i < n; i++)
		ss += x[i] * x[i];
	ss = 1.0f / sqrtf(ss / (float)n + 1e-5f);
	for (int i = 0; i < n; i++)
		out[i] = weight[i] * (ss * x[i]);
}

void lm_ref_softmax(float *x, int n)
{
	float max = x[0];
	for (int i = 1; i < n; i++)
		if (x[i] > max)
			max = x[i];
	float sum = 0.0f;
	for (int i = 0; i < n; i++) {
		x[i] = expf(x[i] - max);
		sum += x[i];
	}
	for (int i = 0; i < n; i++)
		x[i] /= sum;
}

void lm_ref_matvec_f32(float *out, const float *x, const struct lm_tensor *w)
{
	for (int r = 0; r < w->rows; r++) {
		const float *row = w->f + (size_t)r * (size_t)w->cols;
		float sum = 0.0f;
		for (int c = 0; c < w->cols; c++)
			sum += row[c] * x[c];
		out[r] = sum;
	}
}

void lm_ref_quantize(int8_t *q, float *s, const float *x, int n, int gs)
{
	for (int g = 0; g < n / gs; g++) {
		const float *xg = x + (size_t)g * (size_t)gs;
		float max = 0.0f;
		for (int i = 0; i < gs; i++)
			max = fmaxf(max, fabsf(xg[i]));
		float scale = max / 127.0f;
		s[g] = scale;
		for (int i = 0; i < gs; i++)
			q[g * gs + i] = (int8_t)(scale > 0.0f ? roundf(xg[i] / scale) : 0.0f);
	}
}

void lm_ref_matvec_q8(float *out, const int8_t *xq, const float *xs, const struct lm_tensor *w)
{
	int gs = w->group_size;
	for (int r = 0; r < w->rows; r++) {
		const int8_t *row = w->q + (size_t)r * (size_t)w->cols;
		const float *rs = w->s + (size_t)r * (size_t)(w->cols / gs);
		float sum = 0.0f;
		for (int g = 0; g < w->cols / gs; g++) {
			int32_t dot = 0;
			for (int i = 0; i < gs; i++)
				dot += (int32_t)row[g * gs + i] * (int32_t)xq[g * gs + i];
			sum += (float)dot * rs[g] * xs[g];
		}
		out[r] = sum;
	}
}

void lm_ref_dequantize_row(float *out, const struct lm_tensor *w, int r)
{
	size_t off = (size_t)r * (size_t)w->cols;
	if (w->f) {
		for (int c = 0; c < w->cols; c++)
			out[c] = w->f[off + (size_t)c];
		return;
	}
	for (int c = 0; c < w->cols; c++)
		out[c] =
		    (float)w->q[off + (size_t)c] * w->s[(off + (size_t)c) / (size_t)w->group_size];
}

/* Each pair of values in a head turns by an angle that shrinks with the
 * pair's index: pos * 10000^(-i/head_size). */
static void rotate_head(float *v, int pos, int head_size)
{
	for (int i = 0; i < head_size; i += 2) {
		float freq = 1.0f / powf(10000.0f, (float)i / (float)head_size);
		float angle = (float)pos * freq;
		float c = cosf(angle), s = sinf(angle);
		float a = v[i], b = v[i + 1];
		v[i] = a * c - b * s;
		v[i + 1] = a * s + b * c;
	}
}

void lm_ref_rope(float *q, float *k, int pos, int n_heads, int n_kv_heads, int head_size)
{
	for (int h = 0; h < n_heads; h++)
		rotate_head(q + (size_t)h * (size_t)head_size, pos, head_size);
	for (int h = 0; h < n_kv_heads; h++)
		rotate_head(k + (size_t)h * (size_t)head_size, pos, head_size);
}

/* Exponent rebias from float (127) to half (15), in float's bit position. */
#define REBIAS (112u << 23)

lm_half lm_ref_half(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof x);
	uint32_t sign = (x >> 16) & 0x8000u, mag = x & 0x7fffffffu;
	if (mag >= 0x7f800000u) /* infinity, or NaN (kept quiet) */
		return (lm_half)(sign | 0x7c00u | (mag > 0x7f800000u ? 0x200u : 0));
	if (mag >= 0x477ff000u) /* 65520 and above round to infinity */
		return (lm_half)(sign | 0x7c00u);
	if (mag < 0x38800000u) { /* below 2^-14: a subnormal half, in steps of 2^-24 */
		float v;
		memcpy(&v, &mag, sizeof v);
		return (lm_half)(sign | (uint32_t)nearbyintf(v * 16777216.0f));
	}
	uint32_t h = (mag - REBIAS) >> 13, rest = mag & 0x1fffu;
	if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) /* to nearest, ties to even */
		h++;
	return (lm_half)(sign | h);
}

float lm_ref_float(lm_half h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
	if (exp == 0) {
		float v = (float)man * (1.0f / 16777216.0f);
		return sign ? -v : v;
	}
	uint32_t x =
	    sign | (exp == 31 ? 0x7f800000u | (man << 13) : ((exp << 23) + REBIAS) | (man << 13));
	float f;
	memcpy(&f, &x, sizeof f);
	return f;
}

void lm_ref_store_half(lm_half *dst, const float *src, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = lm_ref_half(src[i]);
}

void lm_ref_attention(float *out, const float *q, const lm_half *keys, const lm_half *values,
                      int pos, int head_size, int stride, float *att)
{
	float scale = 1.0f / sqrtf((float)head_size);
	for (int t = 0; t <= pos; t++) {
		const lm_half *k = keys + (size_t)t * (size_t)stride;
		float score = 0.0f;
		for (int i = 0; i < head_size; i++)
			score += q[i] * lm_ref_float(k[i]);
		att[t] = score * scale;
	}
	lm_ref_softmax(att, pos + 1);
	for (int i = 0; i < head_size; i++)
		out[i] = 0.0f;
	for (int t = 0; t <= pos; t++) {
		const lm_half *v = values + (size_t)t * (size_t)stride;
		for (int i = 0; i < head_size; i++)
			out[i] += att[t] * lm_ref_float(v[i]);
	}
}

void lm_ref_swiglu(float *h1, const float *h3, int n)
{
	for (int i = 0; i < n; i++) {
		float v = h1[i];
		h1[i] = v / (1.0f + expf(-v)) * h3[i];
	}
}

void lm_tensor_bias(int32_t *bias, const struct lm_tensor *t)
{
	int ng = t->cols / t->group_size;
	for (int r = 0; r < t->rows; r++)
		for (int g = 0; g < ng; g++) {
			const int8_t *q =
			    t->q + (size_t)r * (size_t)t->cols + (size_t)g * (size_t)t->group_size;
			int32_t sum = 0;
			for (int i = 0; i < t->group_size; i++)
				sum += q[i];
			bias[(size_t)r * (size_t)ng + (size_t)g] = -128 * sum;
		}
}
