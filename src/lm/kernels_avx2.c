/*
 * The AVX2 + FMA kernels: matrix times several vectors with 256-bit
 * intrinsics. Decoding is bound by reading the weights, so every kernel
 * loads each piece of a weight row once and uses it for all the inputs of
 * the batch from registers; with one input, several rows are read at once
 * so more cache-line fetches are in flight. Compiled with -mavx2 -mfma and
 * only called where the CPU has both (lm_kernels_supported).
 */
#include "lm/internal.h"
#include "lm/simd.h"

#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The block functions take their shape as arguments; forcing them inline
 * into callers that pass constants unrolls the shape loops and keeps the
 * accumulator arrays in registers. */
#define KERNEL static inline __attribute__((always_inline))

/* How far ahead of use (bytes) the weights are prefetched: a kilobyte or two,
 * found by timing; a prefetch past the end of the matrix cannot fault. */
#define PREFETCH_F32 2048
#define PREFETCH_Q8  1024

/* ---- fp32 ---- */

/* Rows r..r+R-1 of w times inputs x_0..x_{B-1} (x_b = x + b*cols), written
 * to out[b*ld + row]. U accumulators per dot product hide the FMA latency
 * when R*B alone gives too few independent chains. The shapes used keep
 * R*B*U at 8, which leaves room in the sixteen registers for the loads. */
KERNEL void f32_block(float *out, int ld, const float *x, const float *w, int cols, int r,
                      const int R, const int B, const int U)
{
	__m256 acc[4][8][2];
	for (int i = 0; i < R; i++)
		for (int b = 0; b < B; b++)
			for (int u = 0; u < U; u++)
				acc[i][b][u] = _mm256_setzero_ps();
	const float *wr[4];
	for (int i = 0; i < R; i++)
		wr[i] = w + (size_t)(r + i) * (size_t)cols;
	const float *xb[8];
	for (int b = 0; b < B; b++)
		xb[b] = x + (size_t)b * (size_t)cols;

	int c = 0;
	for (; c + 8 * U <= cols; c += 8 * U)
		for (int u = 0; u < U; u++) {
			/* A batch spends long enough on each row that the hardware
			 * prefetcher falls behind; ask for the weights ahead. (One
			 * input is bound by bandwidth, and this did not help it.) */
			if (R == 1 && B > 1)
				lm_prefetch(wr[0] + c + 8 * (size_t)u, PREFETCH_F32);
			__m256 wv[4];
			for (int i = 0; i < R; i++)
				wv[i] = _mm256_loadu_ps(wr[i] + c + 8 * (size_t)u);
			for (int b = 0; b < B; b++) {
				__m256 xv = _mm256_loadu_ps(xb[b] + c + 8 * (size_t)u);
				for (int i = 0; i < R; i++)
					acc[i][b][u] = _mm256_fmadd_ps(wv[i], xv, acc[i][b][u]);
			}
		}
	if (U > 1)
		for (; c + 8 <= cols; c += 8) {
			__m256 wv[4];
			for (int i = 0; i < R; i++)
				wv[i] = _mm256_loadu_ps(wr[i] + c);
			for (int b = 0; b < B; b++) {
				__m256 xv = _mm256_loadu_ps(xb[b] + c);
				for (int i = 0; i < R; i++)
					acc[i][b][0] = _mm256_fmadd_ps(wv[i], xv, acc[i][b][0]);
			}
		}

	for (int i = 0; i < R; i++)
		for (int b = 0; b < B; b++) {
			__m256 a = acc[i][b][0];
			for (int u = 1; u < U; u++)
				a = _mm256_add_ps(a, acc[i][b][u]);
			float s = lm_hsum(a);
			for (int t = c; t < cols; t++) /* the columns past the last 8 */
				s += wr[i][t] * xb[b][t];
			out[(size_t)b * (size_t)ld + (size_t)(r + i)] = s;
		}
}

/* One row against a tile of n <= 8 inputs, each shape its own unrolled copy.
 * Small tiles take two accumulators per input so there are at least four
 * independent FMA chains. */
static void f32_row_tile(float *out, int ld, const float *x, const float *w, int cols, int r, int n)
{
	switch (n) {
	case 1:
		f32_block(out, ld, x, w, cols, r, 1, 1, 2);
		break;
	case 2:
		f32_block(out, ld, x, w, cols, r, 1, 2, 2);
		break;
	case 3:
		f32_block(out, ld, x, w, cols, r, 1, 3, 2);
		break;
	case 4:
		f32_block(out, ld, x, w, cols, r, 1, 4, 2);
		break;
	case 5:
		f32_block(out, ld, x, w, cols, r, 1, 5, 1);
		break;
	case 6:
		f32_block(out, ld, x, w, cols, r, 1, 6, 1);
		break;
	case 7:
		f32_block(out, ld, x, w, cols, r, 1, 7, 1);
		break;
	default:
		f32_block(out, ld, x, w, cols, r, 1, 8, 1);
		break;
	}
}

void lm_avx2_matvec_f32(float *out, int ld, const float *x, const struct lm_tensor *w, int r0,
                        int r1, int nb)
{
	int cols = w->cols;
	int r = r0;
	if (nb == 1) {
		for (; r + 4 <= r1; r += 4)
			f32_block(out, ld, x, w->f, cols, r, 4, 1, 2);
		for (; r < r1; r++)
			f32_block(out, ld, x, w->f, cols, r, 1, 1, 2);
		return;
	}
	/* Inputs in balanced tiles of at most eight (16 -> 8 + 8, 11 -> 5 + 6);
	 * the row is read from memory by the first tile and from cache by the
	 * rest. */
	int tiles = (nb + 7) / 8;
	for (; r < r1; r++) {
		int b0 = 0;
		for (int t = 0; t < tiles; t++) {
			int n = (nb - b0) / (tiles - t);
			f32_row_tile(out + (size_t)b0 * (size_t)ld, ld,
			             x + (size_t)b0 * (size_t)cols, w->f, cols, r, n);
			b0 += n;
		}
	}
}

/* ---- int8 ---- */

/* Eight int32 partial sums of w·x over 32 signed bytes. maddubs multiplies
 * unsigned by signed bytes, so the weights go in as |w| and their signs move
 * onto x (sign_epi8 negates x where w < 0 and zeroes it where w == 0). Taking
 * |w| rather than |x| means it is done once per weight chunk, not once per
 * input. With both in [-127, 127] a pair sums to at most 32258: no int16
 * saturation. */
static inline __m256i dot32(__m256i absw, __m256i w, __m256i x)
{
	__m256i p16 = _mm256_maddubs_epi16(absw, _mm256_sign_epi8(x, w));
	return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* Rows r..r+R-1 against inputs 0..B-1 (R == 1 or B == 1), group size GS
 * 16, 32 or 64. Each group's integer dot product is summed in int32 lanes
 * (exact), converted to float and accumulated with scale_w * scale_x. With
 * one row (a batch) the row's chunk and its |w| stay in registers for all B
 * inputs; with several rows (one input) they are loaded as used, which keeps
 * the register count down.
 *
 * GS 16 puts two groups in one 32-byte chunk: after madd the low four int32
 * lanes belong to the first and the high four to the second, so the scales
 * go in as a pair. It needs an even number of groups. */
KERNEL void q8_block(float *out, int ld, const int8_t *xq, const float *xs,
                     const struct lm_tensor *w, int r, const int R, const int B, const int GS)
{
	const int CHUNKS = GS == 64 ? 2 : 1; /* 32-byte loads per step */
	const int GPS = GS == 16 ? 2 : 1;    /* groups per step */
	int cols = w->cols, ng = cols / GS;
	__m256 acc[4][8];
	for (int i = 0; i < R; i++)
		for (int b = 0; b < B; b++)
			acc[i][b] = _mm256_setzero_ps();
	const int8_t *wr[4];
	const float *wsr[4];
	for (int i = 0; i < R; i++) {
		wr[i] = w->q + (size_t)(r + i) * (size_t)cols;
		wsr[i] = w->s + (size_t)(r + i) * (size_t)ng;
	}

	for (int g = 0; g < ng; g += GPS) {
		size_t off = (size_t)g * (size_t)GS;
		__m256i held[2], held_abs[2];
		/* As in f32_block; here it also helped one input a little. */
		for (int i = 0; i < R; i++)
			for (int k = 0; k < CHUNKS; k++)
				lm_prefetch(wr[i] + off + 32 * (size_t)k, PREFETCH_Q8);
		if (R == 1)
			for (int k = 0; k < CHUNKS; k++) {
				held[k] = _mm256_loadu_si256(
				    (const __m256i *)(wr[0] + off + 32 * (size_t)k));
				held_abs[k] = _mm256_abs_epi8(held[k]);
			}
		for (int b = 0; b < B; b++) {
			const int8_t *xb = xq + (size_t)b * (size_t)cols + off;
			const float *xsb = xs + (size_t)b * (size_t)ng + g;
			__m256 xsv = GS == 16
			                 ? _mm256_set_m128(_mm_set1_ps(xsb[1]), _mm_set1_ps(xsb[0]))
			                 : _mm256_broadcast_ss(xsb);
			__m256i d[4];
			for (int k = 0; k < CHUNKS; k++) {
				__m256i xv =
				    _mm256_loadu_si256((const __m256i *)(xb + 32 * (size_t)k));
				for (int i = 0; i < R; i++) {
					__m256i wv, aw;
					if (R == 1) {
						wv = held[k];
						aw = held_abs[k];
					} else {
						const int8_t *wp = wr[i] + off + 32 * (size_t)k;
						wv = _mm256_loadu_si256((const __m256i *)wp);
						aw = _mm256_abs_epi8(wv);
					}
					__m256i dk = dot32(aw, wv, xv);
					d[i] = k == 0 ? dk : _mm256_add_epi32(d[i], dk);
				}
			}
			for (int i = 0; i < R; i++) {
				__m256 wsv = GS == 16 ? _mm256_set_m128(_mm_set1_ps(wsr[i][g + 1]),
				                                        _mm_set1_ps(wsr[i][g]))
				                      : _mm256_broadcast_ss(wsr[i] + g);
				acc[i][b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d[i]),
				                            _mm256_mul_ps(wsv, xsv), acc[i][b]);
			}
		}
	}
	for (int i = 0; i < R; i++)
		for (int b = 0; b < B; b++)
			out[(size_t)b * (size_t)ld + (size_t)(r + i)] = lm_hsum(acc[i][b]);
}

/* One row against a tile of n <= 8 inputs; GS 16, 32 or 64. */
KERNEL void q8_row_tile(float *out, int ld, const int8_t *xq, const float *xs,
                        const struct lm_tensor *w, int r, int n, const int GS)
{
#define Q8_CASE(nn)                                                                                \
	case nn:                                                                                   \
		q8_block(out, ld, xq, xs, w, r, 1, nn, GS);                                        \
		break;
	switch (n) {
		Q8_CASE(1)
		Q8_CASE(2)
		Q8_CASE(3)
		Q8_CASE(4)
		Q8_CASE(5)
		Q8_CASE(6)
		Q8_CASE(7)
	default:
		Q8_CASE(8)
	}
#undef Q8_CASE
}

KERNEL void q8_rows(float *out, int ld, const int8_t *xq, const float *xs,
                    const struct lm_tensor *w, int r0, int r1, int nb, const int GS)
{
	int r = r0;
	size_t ngs = (size_t)(w->cols / w->group_size);
	if (nb == 1) {
		for (; r + 4 <= r1; r += 4)
			q8_block(out, ld, xq, xs, w, r, 4, 1, GS);
		for (; r < r1; r++)
			q8_row_tile(out, ld, xq, xs, w, r, 1, GS);
		return;
	}
	int tiles = (nb + 7) / 8;
	for (; r < r1; r++) {
		int b0 = 0;
		for (int t = 0; t < tiles; t++) {
			int n = (nb - b0) / (tiles - t);
			q8_row_tile(out + (size_t)b0 * (size_t)ld, ld,
			            xq + (size_t)b0 * (size_t)w->cols, xs + (size_t)b0 * ngs, w, r,
			            n, GS);
			b0 += n;
		}
	}
}

void lm_avx2_matvec_q8(float *out, int ld, const int8_t *xq, const float *xs,
                       const struct lm_tensor *w, int r0, int r1, int nb)
{
	int gs = w->group_size;
	if (gs == 64)
		q8_rows(out, ld, xq, xs, w, r0, r1, nb, 64);
	else if (gs == 32)
		q8_rows(out, ld, xq, xs, w, r0, r1, nb, 32);
	else if (gs == 16 && (w->cols / 16) % 2 == 0)
		q8_rows(out, ld, xq, xs, w, r0, r1, nb, 16);
	else /* rare shapes: the plain C version is correct for any group size */
		lm_kernels_portable.matvec_q8(out, ld, xq, xs, w, r0, r1, nb);
}

/* ---- quantize ---- */

/* roundf (half away from zero) for values well inside the int range: the
 * truncation plus one step away from zero when the dropped fraction is at
 * least one half. v - trunc(v) is exact, so this matches roundf bit for bit
 * (AVX's own rounding modes round halves to even). */
static inline __m256 round_half_away(__m256 v)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	__m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
	__m256 away = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
	__m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f)); /* ±1 */
	return _mm256_add_ps(t, _mm256_and_ps(away, step));
}

/* The same arithmetic as lm_ref_quantize, eight values at a time: the group's
 * largest magnitude (max is exact and order-free; like fmaxf, max_ps with
 * the accumulator second skips NaN), scale = max / 127 as a scalar, then a
 * true division (not a multiply by 1/scale) and roundf's rounding, so bytes
 * and scales are identical to the reference for finite inputs. */
void lm_avx2_quantize(int8_t *q, float *s, const float *x, int n, int gs)
{
	if (gs % 8 != 0) {
		lm_ref_quantize(q, s, x, n, gs);
		return;
	}
	const __m256 sign = _mm256_set1_ps(-0.0f);
	for (int g = 0; g < n / gs; g++) {
		const float *xg = x + (size_t)g * (size_t)gs;
		int8_t *qg = q + (size_t)g * (size_t)gs;
		__m256 m = _mm256_setzero_ps();
		for (int i = 0; i < gs; i += 8)
			m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(xg + i)), m);
		__m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
		float scale = _mm_cvtss_f32(m4) / 127.0f;
		s[g] = scale;
		if (!(scale > 0.0f)) {
			memset(qg, 0, (size_t)gs);
			continue;
		}
		__m256 sv = _mm256_set1_ps(scale);
		for (int i = 0; i < gs; i += 8) {
			__m256 v = round_half_away(_mm256_div_ps(_mm256_loadu_ps(xg + i), sv));
			__m256i q32 = _mm256_cvttps_epi32(v);
			__m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q32),
			                              _mm256_extracti128_si256(q32, 1));
			_mm_storel_epi64((__m128i *)(qg + i), _mm_packs_epi16(q16, q16));
		}
	}
}

/* ---- attention ---- */

static inline __m256 load_half8(const lm_half *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* Rounds to nearest even, as lm_ref_half does. */
void lm_avx2_store_half(lm_half *dst, const float *src, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128(
		    (__m128i *)(void *)(dst + i),
		    _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
	for (; i < n; i++)
		dst[i] = lm_ref_half(src[i]);
}

/* One head over positions 0..pos: each score is two 8-wide FMA chains over
 * the head (heads are a multiple of 8 wide; others go to the portable
 * code), the softmax is the reference's, and the values are summed eight
 * columns at a time, sixty-four columns (eight registers) per pass. */
void lm_avx2_attention(float *out, const float *q, const lm_half *keys, const lm_half *values,
                       int pos, int hs, int stride, float *att)
{
	if (hs % 8 != 0) {
		lm_kernels_portable.attention(out, q, keys, values, pos, hs, stride, att);
		return;
	}
	float scale = 1.0f / sqrtf((float)hs);
	for (int t = 0; t <= pos; t++) {
		const lm_half *k = keys + (size_t)t * (size_t)stride;
		__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
		int i = 0;
		for (; i + 16 <= hs; i += 16) {
			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_half8(k + i), a0);
			a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load_half8(k + i + 8), a1);
		}
		if (i < hs)
			a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_half8(k + i), a0);
		att[t] = lm_hsum(_mm256_add_ps(a0, a1)) * scale;
	}
	lm_ref_softmax(att, pos + 1);
	for (int c = 0; c < hs; c += 64) {
		int n = (hs - c) / 8 < 8 ? (hs - c) / 8 : 8;
		__m256 acc[8];
		for (int j = 0; j < n; j++)
			acc[j] = _mm256_setzero_ps();
		for (int t = 0; t <= pos; t++) {
			const lm_half *v = values + (size_t)t * (size_t)stride + c;
			__m256 a = _mm256_set1_ps(att[t]);
			for (int j = 0; j < n; j++)
				acc[j] = _mm256_fmadd_ps(a, load_half8(v + 8 * (size_t)j), acc[j]);
		}
		for (int j = 0; j < n; j++)
			_mm256_storeu_ps(out + c + 8 * (size_t)j, acc[j]);
	}
}

const struct lm_kernel_ops lm_kernels_avx2 = {LM_KERNELS_AVX2,   lm_avx2_matvec_f32,
                                              lm_avx2_matvec_q8, lm_avx2_quantize,
                                              lm_avx2_attention, lm_avx2_store_half};
