/*
 * The AVX-VNNI kernels: the AVX2 table with an int8 matrix-vector product
 * built on vpdpbusd (_mm256_dpbusd_avx_epi32), which multiplies 32 unsigned
 * by 32 signed bytes and adds each four products into an int32 lane in one
 * instruction (AVX2 needs sign + maddubs + madd + add). fp32 and quantize
 * are AVX2's. Compiled with -mavx2 -mfma -mavxvnni and only called where the
 * CPU has AVX-VNNI (lm_kernels_supported).
 *
 * Our int8 values are signed on both sides, so one side is offset by 128 to
 * make it unsigned and the surplus 128 * (sum of the other side) is
 * subtracted in int32, exactly. Two layouts, chosen by timing:
 *
 * - Direct (one input, and small batches): the weights are offset (one xor
 *   per weight chunk, shared by the batch's inputs) and the surplus, 128 *
 *   the input group's sum, is the same for every row: it is computed once
 *   per call and starts each group's int32 sum, so a group of 64 costs two
 *   dpbusd plus convert, scale and fma per (row, input).
 *
 * - Lanes (larger batches): the inputs are interleaved eight to a vector,
 *   four bytes each, offset once per call; one dpbusd of that against four
 *   weight bytes broadcast from memory gives the eight inputs' dot products
 *   side by side. A group then ends with one convert, scale and fma for all
 *   eight inputs instead of one each, and no horizontal sums: the convert,
 *   scale and fma per input that bound the direct layout are gone. The
 *   surplus, 128 * the weight group's sum, is computed once per (row, group)
 *   and shared by every tile. Rows go four at a time so each interleaved
 *   input vector serves four rows. Single core, gs 64: about 2.2-3x the AVX2
 *   kernel at 8 and 16 inputs (its sign/maddubs/madd and per-input float
 *   work are what bound it), ~1.3x at one input (fewer instructions while
 *   the loads are in flight).
 *
 * Group sizes 64 and 32 take these paths; others use the AVX2 kernel. Rows
 * too wide for the lanes buffers (over 8192 columns) go direct, and past
 * what the direct sums buffer holds, to AVX2.
 */
#include "lm/internal.h"
#include "lm/simd.h"

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* As in kernels_avx2.c: constant shapes unroll and stay in registers. */
#define KERNEL static inline __attribute__((always_inline))

/* How far ahead (bytes) the weights are prefetched; as for AVX2. */
#define PREFETCH_Q8 1024

/* Batches up to this size take the direct layout (a lanes tile costs the
 * same for one input as for eight). */
#define DIRECT_MAX 3
/* Rows a lanes block handles at once: each broadcast input vector is used for
 * this many rows. */
#define LANES_ROWS 4

/* Stack buffers: the inputs' per-group sums (int32 each) for the direct
 * layout, the interleaved inputs and their transposed scales for lanes. */
enum { SUMS_MAX = 4096, LANES_BYTES = 65536, LANES_SCALES = 4096 };

static inline __m256i flip(void)
{
	return _mm256_set1_epi8((char)0x80);
}

/* ---- direct ---- */

/* For each of n inputs and each group: -16 * (sum of the group's values).
 * Spread over the eight int32 lanes that start a group's dot product it
 * totals -128 * sum, which cancels the +128 offset on the weights. */
static void input_sums(int32_t *sums, const int8_t *xq, int n, int cols, int gs)
{
	int ng = cols / gs;
	for (int b = 0; b < n; b++)
		for (int g = 0; g < ng; g++) {
			const int8_t *p = xq + (size_t)b * (size_t)cols + (size_t)g * (size_t)gs;
			/* sad sums unsigned bytes: x ^ 0x80 = x + 128. */
			__m256i s = _mm256_setzero_si256();
			for (int k = 0; k < gs; k += 32) {
				__m256i u = _mm256_xor_si256(
				    _mm256_loadu_si256((const __m256i *)(p + k)), flip());
				s = _mm256_add_epi64(s, _mm256_sad_epu8(u, _mm256_setzero_si256()));
			}
			__m128i t = _mm_add_epi64(_mm256_castsi256_si128(s),
			                          _mm256_extracti128_si256(s, 1));
			t = _mm_add_epi64(t, _mm_unpackhi_epi64(t, t));
			int32_t sum = _mm_cvtsi128_si32(t) - 128 * gs;
			sums[(size_t)b * (size_t)ng + (size_t)g] = -16 * sum;
		}
}

/* Rows r..r+R-1 against inputs 0..B-1 (R == 1 or B == 1), GS 32 or 64. As
 * AVX2's q8_block: with one row its offset chunks stay in registers for the
 * batch; with several rows (one input) they are loaded as used. */
KERNEL void direct_block(float *out, int ld, const int8_t *xq, const float *xs, const int32_t *sums,
                         const struct lm_tensor *w, int r, const int R, const int B, const int GS)
{
	const int CHUNKS = GS / 32;
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

	for (int g = 0; g < ng; g++) {
		size_t off = (size_t)g * (size_t)GS;
		for (int i = 0; i < R; i++)
			for (int k = 0; k < CHUNKS; k++)
				lm_prefetch(wr[i] + off + 32 * (size_t)k, PREFETCH_Q8);
		__m256i held[2];
		if (R == 1)
			for (int k = 0; k < CHUNKS; k++)
				held[k] = _mm256_xor_si256(
				    _mm256_loadu_si256(
				        (const __m256i *)(wr[0] + off + 32 * (size_t)k)),
				    flip());
		for (int b = 0; b < B; b++) {
			const int8_t *xb = xq + (size_t)b * (size_t)cols + off;
			__m256 xsv = _mm256_broadcast_ss(xs + (size_t)b * (size_t)ng + g);
			__m256i d[4];
			for (int i = 0; i < R; i++)
				d[i] = _mm256_set1_epi32(sums[(size_t)b * (size_t)ng + (size_t)g]);
			for (int k = 0; k < CHUNKS; k++) {
				__m256i xv =
				    _mm256_loadu_si256((const __m256i *)(xb + 32 * (size_t)k));
				for (int i = 0; i < R; i++) {
					__m256i wv =
					    R == 1 ? held[k]
					           : _mm256_xor_si256(
					                 _mm256_loadu_si256(
					                     (const __m256i *)(wr[i] + off +
					                                       32 * (size_t)k)),
					                 flip());
					d[i] = _mm256_dpbusd_avx_epi32(d[i], wv, xv);
				}
			}
			for (int i = 0; i < R; i++)
				acc[i][b] = _mm256_fmadd_ps(
				    _mm256_cvtepi32_ps(d[i]),
				    _mm256_mul_ps(_mm256_broadcast_ss(wsr[i] + g), xsv), acc[i][b]);
		}
	}
	for (int i = 0; i < R; i++)
		for (int b = 0; b < B; b++)
			out[(size_t)b * (size_t)ld + (size_t)(r + i)] = lm_hsum(acc[i][b]);
}

KERNEL void direct_rows(float *out, int ld, const int8_t *xq, const float *xs, const int32_t *sums,
                        const struct lm_tensor *w, int r0, int r1, int nb, const int GS)
{
	int r = r0;
	switch (nb) {
	case 1:
		for (; r + 4 <= r1; r += 4)
			direct_block(out, ld, xq, xs, sums, w, r, 4, 1, GS);
		for (; r < r1; r++)
			direct_block(out, ld, xq, xs, sums, w, r, 1, 1, GS);
		break;
#define DIRECT_CASE(nn)                                                                            \
	case nn:                                                                                   \
		for (; r < r1; r++)                                                                \
			direct_block(out, ld, xq, xs, sums, w, r, 1, nn, GS);                      \
		break;
		DIRECT_CASE(2)
		DIRECT_CASE(3)
		DIRECT_CASE(4)
		DIRECT_CASE(5)
		DIRECT_CASE(6)
		DIRECT_CASE(7)
	default:
		DIRECT_CASE(8)
#undef DIRECT_CASE
	}
}

/* Inputs in passes of per_pass (>= 1, from the caller), whose group sums
 * fit the buffer, and within a pass in tiles of at most eight as AVX2 does. */
static void direct(float *out, int ld, const int8_t *xq, const float *xs, const struct lm_tensor *w,
                   int r0, int r1, int nb, int per_pass)
{
	int cols = w->cols, gs = w->group_size, ng = cols / gs;
	int32_t sums[SUMS_MAX];
	for (int b0 = 0; b0 < nb;) {
		int n = nb - b0 < per_pass ? nb - b0 : per_pass;
		const int8_t *xp = xq + (size_t)b0 * (size_t)cols;
		const float *sp = xs + (size_t)b0 * (size_t)ng;
		input_sums(sums, xp, n, cols, gs);
		int tiles = (n + 7) / 8;
		for (int t = 0, tb = 0; t < tiles; t++) {
			int m = (n - tb) / (tiles - t);
			float *o = out + (size_t)(b0 + tb) * (size_t)ld;
			const int8_t *x = xp + (size_t)tb * (size_t)cols;
			const float *s = sp + (size_t)tb * (size_t)ng;
			const int32_t *su = sums + (size_t)tb * (size_t)ng;
			if (gs == 64)
				direct_rows(o, ld, x, s, su, w, r0, r1, m, 64);
			else
				direct_rows(o, ld, x, s, su, w, r0, r1, m, 32);
			tb += m;
		}
		b0 += n;
	}
}

/* ---- lanes ---- */

/* Interleaves n <= 8 inputs into ut: for every four columns, 32 bytes
 * holding those four bytes of input 0, then of input 1, ..., each offset by
 * 128 (x ^ 0x80); missing inputs are zeros (0x80). Their scales go to st as
 * eight per group, zero for the missing ones. */
static void interleave(uint8_t *ut, float *st, const int8_t *xq, const float *xs, int n, int cols,
                       int ng)
{
	for (int c = 0; c < cols; c += 4)
		for (int b = 0; b < 8; b++) {
			uint32_t v = 0;
			if (b < n)
				memcpy(&v, xq + (size_t)b * (size_t)cols + (size_t)c, 4);
			v ^= 0x80808080u;
			memcpy(ut + (size_t)c * 8 + (size_t)b * 4, &v, 4);
		}
	for (int g = 0; g < ng; g++)
		for (int b = 0; b < 8; b++)
			st[(size_t)g * 8 + (size_t)b] =
			    b < n ? xs[(size_t)b * (size_t)ng + (size_t)g] : 0.0f;
}

/* For rows r..r+R-1: -128 * (the sum of each group's weights), R rows of
 * ng entries in neg (the value a group's int32 sums start from, cancelling
 * the +128 offset on the inputs). Computed once per row block and shared by
 * its tiles; eight groups' lane sums are reduced together by a tree of hadds
 * rather than one horizontal sum each. */
KERNEL void weight_sums(int32_t *neg, const struct lm_tensor *w, int r, const int R, const int GS)
{
	int cols = w->cols, ng = cols / GS;
	for (int i = 0; i < R; i++) {
		const int8_t *wr = w->q + (size_t)(r + i) * (size_t)cols;
		for (int g0 = 0; g0 < ng; g0 += 8) {
			__m256i c[8];
			for (int j = 0; j < 8; j++) {
				c[j] = _mm256_setzero_si256();
				if (g0 + j < ng)
					for (int k = 0; k < GS; k += 32)
						c[j] = _mm256_dpbusd_avx_epi32(
						    c[j], flip(),
						    _mm256_loadu_si256(
						        (const __m256i *)(wr +
						                          (size_t)(g0 + j) * GS +
						                          k)));
			}
			__m256i h0 = _mm256_hadd_epi32(c[0], c[1]),
			        h1 = _mm256_hadd_epi32(c[2], c[3]);
			__m256i h2 = _mm256_hadd_epi32(c[4], c[5]),
			        h3 = _mm256_hadd_epi32(c[6], c[7]);
			h0 = _mm256_hadd_epi32(h0, h1);
			h2 = _mm256_hadd_epi32(h2, h3);
			/* h0 holds groups 0-3, h2 groups 4-7: low 128 bits the sums of lanes 0-3,
			 * high of 4-7. */
			__m256i t = _mm256_add_epi32(_mm256_permute2x128_si256(h0, h2, 0x20),
			                             _mm256_permute2x128_si256(h0, h2, 0x31));
			_mm256_storeu_si256((__m256i *)(neg + (size_t)i * (size_t)(ng + 7) + g0),
			                    _mm256_sub_epi32(_mm256_setzero_si256(), t));
		}
	}
}

static inline __m256i broadcast4(const int8_t *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return _mm256_set1_epi32(v);
}

/* Rows r..r+R-1 against one interleaved tile of n <= 8 inputs, GS 32 or 64.
 * Each group's int32 sums start at -128 * (the row group's sum) in every
 * lane; two chains per row halve the dpbusd latency chain. */
KERNEL void lanes_block(float *out, int ld, const uint8_t *ut, const float *st, int n,
                        const int32_t *neg, size_t neg_stride, const struct lm_tensor *w, int r,
                        const int R, const int GS)
{
	int cols = w->cols, ng = cols / GS;
	__m256 acc[4];
	const int8_t *wr[4];
	const float *wsr[4];
	for (int i = 0; i < R; i++) {
		acc[i] = _mm256_setzero_ps();
		wr[i] = w->q + (size_t)(r + i) * (size_t)cols;
		wsr[i] = w->s + (size_t)(r + i) * (size_t)ng;
	}
	for (int g = 0; g < ng; g++) {
		size_t off = (size_t)g * (size_t)GS;
		__m256i d0[4], d1[4];
		for (int i = 0; i < R; i++) {
			for (int k = 0; k < GS; k += 32)
				lm_prefetch(wr[i] + off + k, PREFETCH_Q8);
			d0[i] = _mm256_set1_epi32(neg[(size_t)i * neg_stride + (size_t)g]);
			d1[i] = _mm256_setzero_si256();
		}
		const uint8_t *ug = ut + off * 8;
		for (int k = 0; k < GS / 4; k += 2) {
			__m256i xa = _mm256_load_si256((const __m256i *)(ug + 32 * (size_t)k));
			__m256i xb = _mm256_load_si256((const __m256i *)(ug + 32 * (size_t)k + 32));
			for (int i = 0; i < R; i++) {
				d0[i] = _mm256_dpbusd_avx_epi32(
				    d0[i], xa, broadcast4(wr[i] + off + 4 * (size_t)k));
				d1[i] = _mm256_dpbusd_avx_epi32(
				    d1[i], xb, broadcast4(wr[i] + off + 4 * (size_t)k + 4));
			}
		}
		__m256 sv = _mm256_load_ps(st + (size_t)g * 8);
		for (int i = 0; i < R; i++)
			acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(d0[i], d1[i])),
			                         _mm256_mul_ps(sv, _mm256_broadcast_ss(wsr[i] + g)),
			                         acc[i]);
	}
	for (int i = 0; i < R; i++) {
		float v[8];
		_mm256_storeu_ps(v, acc[i]);
		for (int b = 0; b < n; b++)
			out[(size_t)b * (size_t)ld + (size_t)(r + i)] = v[b];
	}
}

/* Rows r..r+R-1 against every tile; the bias comes from the tensor's
 * table when it has one, else it is worked out here into neg. */
KERNEL void lanes_row_block(float *out, int ld, const uint8_t *ub, const float *sb, int32_t *neg,
                            int tiles, int nb, const struct lm_tensor *w, int r, const int R,
                            const int GS)
{
	size_t ut_len = (size_t)w->cols * 8, ng = (size_t)(w->cols / GS), st_len = ng * 8;
	const int32_t *bias = neg;
	size_t stride = ng + 7;
	if (w->bias) {
		bias = w->bias + (size_t)r * ng;
		stride = ng;
		/* The tiles read the rows four bytes at a time, too slowly for the
		 * hardware to stream them: ask for the block after next now, so
		 * its rows are in cache when its turn comes. */
		const int8_t *next = w->q + (size_t)(r + 2 * R) * (size_t)w->cols;
		size_t bytes = (size_t)R * (size_t)w->cols;
		if (r + 3 * R <= w->rows)
			for (size_t b = 0; b < bytes; b += 64)
				_mm_prefetch((const char *)(next + b), _MM_HINT_T0);
	} else {
		weight_sums(neg, w, r, R, GS);
	}
	for (int t = 0; t < tiles; t++) {
		int n = nb - 8 * t < 8 ? nb - 8 * t : 8;
		lanes_block(out + (size_t)(8 * t) * (size_t)ld, ld, ub + (size_t)t * ut_len,
		            sb + (size_t)t * st_len, n, bias, stride, w, r, R, GS);
	}
}

KERNEL void lanes_rows(float *out, int ld, const uint8_t *ub, const float *sb, int32_t *neg,
                       int tiles, int nb, const struct lm_tensor *w, int r0, int r1, const int GS)
{
	/* Rows outer, tiles inner: a row block is read from memory once and
	 * from cache by the other tiles. */
	int r = r0;
	for (; r + LANES_ROWS <= r1; r += LANES_ROWS)
		lanes_row_block(out, ld, ub, sb, neg, tiles, nb, w, r, LANES_ROWS, GS);
	for (; r < r1; r++)
		lanes_row_block(out, ld, ub, sb, neg, tiles, nb, w, r, 1, GS);
}

/* Inputs in passes of as many tiles of eight as the buffers hold (the caller
 * checked at least one fits). */
static void lanes(float *out, int ld, const int8_t *xq, const float *xs, const struct lm_tensor *w,
                  int r0, int r1, int nb)
{
	int cols = w->cols, gs = w->group_size, ng = cols / gs;
	_Alignas(32) uint8_t ub[LANES_BYTES];
	_Alignas(32) float sb[LANES_SCALES];
	int32_t neg[LANES_ROWS * (LANES_SCALES / 8 + 7)];
	int per_pass = LANES_BYTES / (8 * cols);
	if (LANES_SCALES / (8 * ng) < per_pass)
		per_pass = LANES_SCALES / (8 * ng);
	for (int b0 = 0; b0 < nb;) {
		int n = nb - b0 < 8 * per_pass ? nb - b0 : 8 * per_pass;
		int tiles = (n + 7) / 8;
		for (int t = 0; t < tiles; t++) {
			int m = n - 8 * t < 8 ? n - 8 * t : 8;
			int b = b0 + 8 * t;
			interleave(ub + (size_t)t * (size_t)cols * 8,
			           sb + (size_t)t * (size_t)ng * 8, xq + (size_t)b * (size_t)cols,
			           xs + (size_t)b * (size_t)ng, m, cols, ng);
		}
		float *o = out + (size_t)b0 * (size_t)ld;
		if (gs == 64)
			lanes_rows(o, ld, ub, sb, neg, tiles, n, w, r0, r1, 64);
		else
			lanes_rows(o, ld, ub, sb, neg, tiles, n, w, r0, r1, 32);
		b0 += n;
	}
}

static void vnni_matvec_q8(float *out, int ld, const int8_t *xq, const float *xs,
                           const struct lm_tensor *w, int r0, int r1, int nb)
{
	int gs = w->group_size;
	if (r0 >= r1 || nb <= 0)
		return;
	if (gs != 64 && gs != 32) {
		lm_avx2_matvec_q8(out, ld, xq, xs, w, r0, r1, nb);
		return;
	}
	int ng = w->cols / gs;
	/* Inputs whose group sums fit direct's buffer at once: >= 1 exactly
	 * when 1 <= ng <= SUMS_MAX. */
	int per_pass = ng > 0 ? SUMS_MAX / ng : 0;
	bool lanes_fit = (size_t)w->cols * 8 <= LANES_BYTES && ng * 8 <= LANES_SCALES;
	if (nb > DIRECT_MAX && lanes_fit)
		lanes(out, ld, xq, xs, w, r0, r1, nb);
	else if (per_pass >= 1)
		direct(out, ld, xq, xs, w, r0, r1, nb, per_pass);
	else
		lm_avx2_matvec_q8(out, ld, xq, xs, w, r0, r1, nb);
}

const struct lm_kernel_ops lm_kernels_avxvnni = {LM_KERNELS_AVXVNNI, lm_avx2_matvec_f32,
                                                 vnni_matvec_q8,     lm_avx2_quantize,
                                                 lm_avx2_attention,  lm_avx2_store_half};
