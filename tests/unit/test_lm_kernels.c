/*
 * Unit tests for the fast lm kernels (portable, and AVX2 and AVX-VNNI where
 * the CPU has them): matrix times several vectors in fp32 and int8 against the reference
 * operations, on random tensors of awkward shapes, row ranges and batch
 * sizes, and quantization byte for byte.
 *
 * Tolerances. The kernels sum in a different order from the reference's
 * one sequential float sum, so they agree only to rounding:
 *   fp32: |kernel - ref| <= 1e-4 * sum_i |w_i x_i| + 1e-6
 *   int8: |kernel - ref| <= 1e-5 * sum_g |dot_g * sw_g * sx_g| + 1e-6
 * (the int8 integer dot products are exact, so only the per-group float
 * terms are reordered, hence the tighter bound). Outputs outside the row
 * range and the ld padding must be left exactly as they were.
 */
#include "base/base.h"
#include "lm/internal.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SENTINEL -777.25f

/* The kernels this CPU runs. */
static int kernel_sets(const struct lm_kernel_ops **sets)
{
	int n = 0;
	sets[n++] = &lm_kernels_portable;
	if (lm_kernels_supported(LM_KERNELS_AVX2))
		sets[n++] = &lm_kernels_avx2;
	if (lm_kernels_supported(LM_KERNELS_AVXVNNI))
		sets[n++] = &lm_kernels_avxvnni;
	return n;
}

static const char *set_name(const struct lm_kernel_ops *k)
{
	return k->id == LM_KERNELS_AVXVNNI ? "avxvnni"
	       : k->id == LM_KERNELS_AVX2  ? "avx2"
	                                   : "portable";
}

static void fill(struct sv_rng *rng, float *v, size_t n, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)sv_rng_range(rng, lo, hi);
}

/* The output rows [r0, r1) of each input against the reference in ref
 * (nb × rows), scaled by bound (nb × rows, the tolerance for each); every
 * other entry of out (nb × ld) must still be the sentinel. Returns the
 * number of mismatches, printing the first. */
static int compare(const char *what, const float *out, int ld, const float *ref,
                   const double *bound, int rows, int r0, int r1, int nb)
{
	int bad = 0;
	for (int b = 0; b < nb; b++)
		for (int r = 0; r < ld; r++) {
			float got = out[(size_t)b * (size_t)ld + (size_t)r];
			if (r < r0 || r >= r1) {
				if (memcmp(&got, &(float){SENTINEL}, sizeof got) != 0 && bad++ == 0)
					print_error(
					    "%s: b=%d r=%d outside [%d,%d) was written (%g)\n",
					    what, b, r, r0, r1, (double)got);
				continue;
			}
			double want = ref[(size_t)b * (size_t)rows + (size_t)r];
			double tol = bound[(size_t)b * (size_t)rows + (size_t)r];
			if (!(fabs((double)got - want) <= tol) && bad++ == 0)
				print_error("%s: b=%d r=%d got %.9g want %.9g (tolerance %.3g)\n",
				            what, b, r, (double)got, want, tol);
		}
	return bad;
}

/* One fp32 case: a rows × cols matrix whose rows start 4 bytes past an
 * aligned address (the kernels may not assume more), nb inputs, rows
 * [r0, r1), ld a little larger than rows. */
static int check_f32(const struct lm_kernel_ops *k, int rows, int cols, int r0, int r1, int nb,
                     uint64_t seed)
{
	struct sv_rng rng;
	sv_rng_seed(&rng, seed);
	int ld = rows + 3;
	float *wbuf = malloc(((size_t)rows * (size_t)cols + 1) * sizeof(float));
	float *x = malloc((size_t)nb * (size_t)cols * sizeof(float));
	float *out = malloc((size_t)nb * (size_t)ld * sizeof(float));
	float *ref = malloc((size_t)nb * (size_t)rows * sizeof(float));
	double *bound = malloc((size_t)nb * (size_t)rows * sizeof(double));
	assert_non_null(wbuf);
	assert_non_null(x);
	assert_non_null(out);
	assert_non_null(ref);
	assert_non_null(bound);
	const float *wf = wbuf + 1;
	fill(&rng, wbuf + 1, (size_t)rows * (size_t)cols, -1.0, 1.0);
	fill(&rng, x, (size_t)nb * (size_t)cols, -2.0, 2.0);
	for (size_t i = 0; i < (size_t)nb * (size_t)ld; i++)
		out[i] = SENTINEL;
	struct lm_tensor w = {.f = wf, .rows = rows, .cols = cols};

	for (int b = 0; b < nb; b++) {
		const float *xb = x + (size_t)b * (size_t)cols;
		lm_ref_matvec_f32(ref + (size_t)b * (size_t)rows, xb, &w);
		for (int r = 0; r < rows; r++) {
			double s = 0.0;
			for (int c = 0; c < cols; c++)
				s += fabs((double)wf[(size_t)r * (size_t)cols + (size_t)c] * xb[c]);
			bound[(size_t)b * (size_t)rows + (size_t)r] = 1e-4 * s + 1e-6;
		}
	}
	k->matvec_f32(out, ld, x, &w, r0, r1, nb);
	char what[128];
	snprintf(what, sizeof what, "%s f32 %dx%d nb=%d", set_name(k), rows, cols, nb);
	int bad = compare(what, out, ld, ref, bound, rows, r0, r1, nb);
	free(wbuf);
	free(x);
	free(out);
	free(ref);
	free(bound);
	return bad;
}

/* One int8 case: weights and inputs drawn as fp32 and quantized with
 * lm_ref_quantize (so the weights are in [-127, 127] as a model's are); the
 * weight bytes start one byte past an aligned address. */
static int check_q8(const struct lm_kernel_ops *k, int rows, int cols, int gs, int r0, int r1,
                    int nb, uint64_t seed)
{
	struct sv_rng rng;
	sv_rng_seed(&rng, seed);
	int ld = rows + 5, ng = cols / gs;
	size_t nw = (size_t)rows * (size_t)cols, nx = (size_t)nb * (size_t)cols;
	float *tmp = malloc((nw > nx ? nw : nx) * sizeof(float));
	int8_t *qbuf = malloc(nw + 1);
	float *ws = malloc((size_t)rows * (size_t)ng * sizeof(float));
	int8_t *xq = malloc(nx);
	float *xs = malloc((size_t)nb * (size_t)ng * sizeof(float));
	float *out = malloc((size_t)nb * (size_t)ld * sizeof(float));
	float *ref = malloc((size_t)nb * (size_t)rows * sizeof(float));
	double *bound = malloc((size_t)nb * (size_t)rows * sizeof(double));
	assert_true(tmp && qbuf && ws && xq && xs && out && ref && bound);
	int8_t *wq = qbuf + 1;
	fill(&rng, tmp, nw, -1.0, 1.0);
	lm_ref_quantize(wq, ws, tmp, (int)nw, gs);
	fill(&rng, tmp, nx, -3.0, 3.0);
	lm_ref_quantize(xq, xs, tmp, (int)nx, gs);
	for (size_t i = 0; i < (size_t)nb * (size_t)ld; i++)
		out[i] = SENTINEL;
	struct lm_tensor w = {.q = wq, .s = ws, .rows = rows, .cols = cols, .group_size = gs};

	for (int b = 0; b < nb; b++) {
		const int8_t *xb = xq + (size_t)b * (size_t)cols;
		const float *xsb = xs + (size_t)b * (size_t)ng;
		lm_ref_matvec_q8(ref + (size_t)b * (size_t)rows, xb, xsb, &w);
		for (int r = 0; r < rows; r++) {
			double s = 0.0;
			for (int g = 0; g < ng; g++) {
				long d = 0;
				for (int i = 0; i < gs; i++) {
					size_t c = (size_t)g * (size_t)gs + (size_t)i;
					d += (long)wq[(size_t)r * (size_t)cols + c] * xb[c];
				}
				s += fabs((double)d * ws[(size_t)r * (size_t)ng + (size_t)g] *
				          xsb[g]);
			}
			bound[(size_t)b * (size_t)rows + (size_t)r] = 1e-5 * s + 1e-6;
		}
	}
	k->matvec_q8(out, ld, xq, xs, &w, r0, r1, nb);
	char what[128];
	snprintf(what, sizeof what, "%s q8 %dx%d gs=%d nb=%d", set_name(k), rows, cols, gs, nb);
	int bad = compare(what, out, ld, ref, bound, rows, r0, r1, nb);
	/* Again with the bias table a loaded model has (kernels that offset
	 * their inputs read it instead of summing the weights themselves). */
	int32_t *bias = malloc(sizeof(int32_t) * (size_t)rows * (size_t)ng);
	assert_non_null(bias);
	lm_tensor_bias(bias, &w);
	w.bias = bias;
	for (size_t i = 0; i < (size_t)nb * (size_t)ld; i++)
		out[i] = SENTINEL;
	k->matvec_q8(out, ld, xq, xs, &w, r0, r1, nb);
	snprintf(what, sizeof what, "%s q8 %dx%d gs=%d nb=%d with bias", set_name(k), rows, cols,
	         gs, nb);
	bad += compare(what, out, ld, ref, bound, rows, r0, r1, nb);
	free(bias);
	free(tmp);
	free(qbuf);
	free(ws);
	free(xq);
	free(xs);
	free(out);
	free(ref);
	free(bound);
	return bad;
}

static const int batch_sizes[] = {1, 2, 3, 5, 8, 11, 16};
#define N_BATCH (int)(sizeof batch_sizes / sizeof batch_sizes[0])

static void f32_matches_reference(void **state)
{
	const struct lm_kernel_ops *sets[3];
	int nsets = kernel_sets(sets);
	/* Multiples of 8 and 16, and sizes that leave every kind of tail. */
	static const int cols[] = {64, 96, 768, 2048, 37, 45, 13, 7, 1};
	int bad = 0;
	uint64_t seed = 1;
	for (int s = 0; s < nsets; s++)
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
			for (int b = 0; b < N_BATCH; b++) {
				/* 3..(rows-2): a range off zero, not a multiple of 4. */
				bad +=
				    check_f32(sets[s], 43, cols[c], 3, 41, batch_sizes[b], seed++);
				bad += check_f32(sets[s], 9, cols[c], 0, 9, batch_sizes[b], seed++);
			}
	assert_int_equal(bad, 0);
}

static void f32_empty_and_single_row_ranges(void **state)
{
	const struct lm_kernel_ops *sets[3];
	int nsets = kernel_sets(sets);
	int bad = 0;
	for (int s = 0; s < nsets; s++)
		for (int b = 0; b < N_BATCH; b++) {
			bad += check_f32(sets[s], 20, 96, 7, 7, batch_sizes[b], 100 + (uint64_t)b);
			bad +=
			    check_f32(sets[s], 20, 96, 19, 20, batch_sizes[b], 200 + (uint64_t)b);
			bad += check_f32(sets[s], 20, 96, 5, 13, batch_sizes[b], 300 + (uint64_t)b);
		}
	assert_int_equal(bad, 0);
}

static void q8_matches_reference(void **state)
{
	const struct lm_kernel_ops *sets[3];
	int nsets = kernel_sets(sets);
	static const struct {
		int cols, gs;
	} shapes[] = {
	    {64, 64}, {768, 64}, {2048, 64}, {64, 32},  {96, 32}, {768, 32},
	    {64, 16}, {96, 16},  {48, 16},   {768, 16}, {64, 8},  {40, 8},
	    {768, 8}, {12, 4},   {128, 4},   {6, 2},    {7, 1},   {96, 1},
	};
	int bad = 0;
	uint64_t seed = 1000;
	for (int s = 0; s < nsets; s++)
		for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
			for (int b = 0; b < N_BATCH; b++) {
				bad += check_q8(sets[s], 43, shapes[i].cols, shapes[i].gs, 3, 41,
				                batch_sizes[b], seed++);
				bad += check_q8(sets[s], 6, shapes[i].cols, shapes[i].gs, 1, 6,
				                batch_sizes[b], seed++);
			}
	assert_int_equal(bad, 0);
}

/* Quantizes x both ways and compares the bytes and scales exactly. */
static int check_quantize(const struct lm_kernel_ops *k, const float *x, int n, int gs)
{
	int ng = n / gs;
	int8_t *q1 = malloc((size_t)n), *q2 = malloc((size_t)n);
	float *s1 = malloc((size_t)ng * sizeof(float)), *s2 = malloc((size_t)ng * sizeof(float));
	assert_true(q1 && q2 && s1 && s2);
	memset(q2, 0x55, (size_t)n);
	lm_ref_quantize(q1, s1, x, n, gs);
	k->quantize(q2, s2, x, n, gs);
	int bad = 0;
	for (int i = 0; i < n; i++)
		if (q1[i] != q2[i] && bad++ == 0)
			print_error("%s quantize n=%d gs=%d: q[%d] = %d, want %d (x %.9g)\n",
			            set_name(k), n, gs, i, q2[i], q1[i], (double)x[i]);
	for (int g = 0; g < ng; g++)
		if (memcmp(&s1[g], &s2[g], sizeof(float)) != 0 && bad++ == 0)
			print_error("%s quantize n=%d gs=%d: s[%d] = %.9g, want %.9g\n",
			            set_name(k), n, gs, g, (double)s2[g], (double)s1[g]);
	free(q1);
	free(q2);
	free(s1);
	free(s2);
	return bad;
}

static void quantize_is_identical(void **state)
{
	const struct lm_kernel_ops *sets[3];
	int nsets = kernel_sets(sets);
	static const int gss[] = {64, 32, 16, 8, 4, 2, 1};
	enum { N = 2048 };
	float *x = malloc(N * sizeof(float));
	assert_non_null(x);
	struct sv_rng rng;
	sv_rng_seed(&rng, 77);
	int bad = 0;
	for (int s = 0; s < nsets; s++)
		for (size_t g = 0; g < sizeof gss / sizeof gss[0]; g++) {
			int gs = gss[g];
			/* Random values over a wide range of magnitudes. */
			for (int i = 0; i < N; i++)
				x[i] = (float)(sv_rng_range(&rng, -1.0, 1.0) *
				               pow(10.0, sv_rng_range(&rng, -6.0, 4.0)));
			bad += check_quantize(sets[s], x, N, gs);
			/* Groups whose largest magnitude is 127 have scale exactly 1,
			 * so x.5 values hit roundf's ties (away from zero, not to
			 * even); other groups are all zero, or hold denormals. */
			for (int i = 0; i < N; i++) {
				int grp = i / gs, j = i % gs;
				switch (grp % 4) {
				case 0:
					x[i] = j == 0
					           ? 127.0f
					           : (float)((int)sv_rng_below(&rng, 253) - 126) +
					                 0.5f;
					break;
				case 1:
					x[i] = 0.0f;
					break;
				case 2:
					x[i] = j == 0 ? -127.0f
					              : (j % 2 ? 0.5f : -0.5f) * (float)(1 + j % 5);
					break;
				default:
					x[i] = (float)sv_rng_range(&rng, -1.0, 1.0) * 1e-40f;
					break;
				}
			}
			bad += check_quantize(sets[s], x, N, gs);
			/* A short tail: n a few groups only. */
			bad += check_quantize(sets[s], x + 3 * gs, 2 * gs, gs);
		}
	free(x);
	assert_int_equal(bad, 0);
}

/* The kernels fed what quantize produced give what the reference gives on
 * the reference's quantization: the two steps the engine chains. */
static void quantize_then_q8_matches_reference(void **state)
{
	const struct lm_kernel_ops *sets[3];
	int nsets = kernel_sets(sets);
	enum { ROWS = 37, COLS = 256, GS = 32, NB = 4 };
	struct sv_rng rng;
	sv_rng_seed(&rng, 5);
	float *wf = malloc(ROWS * COLS * sizeof(float)), *x = malloc(NB * COLS * sizeof(float));
	int8_t *wq = malloc(ROWS * COLS), *xq = malloc(NB * COLS), *xq_ref = malloc(COLS);
	float *ws = malloc(ROWS * COLS / GS * sizeof(float)),
	      *xs = malloc(NB * COLS / GS * sizeof(float)),
	      *xs_ref = malloc(COLS / GS * sizeof(float));
	float *out = malloc(NB * ROWS * sizeof(float)), *ref = malloc(ROWS * sizeof(float));
	assert_true(wf && x && wq && xq && xq_ref && ws && xs && xs_ref && out && ref);
	fill(&rng, wf, ROWS * COLS, -0.5, 0.5);
	fill(&rng, x, NB * COLS, -4.0, 4.0);
	lm_ref_quantize(wq, ws, wf, ROWS * COLS, GS);
	struct lm_tensor w = {.q = wq, .s = ws, .rows = ROWS, .cols = COLS, .group_size = GS};
	for (int s = 0; s < nsets; s++) {
		sets[s]->quantize(xq, xs, x, NB * COLS, GS);
		sets[s]->matvec_q8(out, ROWS, xq, xs, &w, 0, ROWS, NB);
		for (int b = 0; b < NB; b++) {
			lm_ref_quantize(xq_ref, xs_ref, x + b * COLS, COLS, GS);
			lm_ref_matvec_q8(ref, xq_ref, xs_ref, &w);
			for (int r = 0; r < ROWS; r++)
				assert_float_equal(out[b * ROWS + r], ref[r], 1e-3);
		}
	}
	free(wf);
	free(x);
	free(wq);
	free(xq);
	free(xq_ref);
	free(ws);
	free(xs);
	free(xs_ref);
	free(out);
	free(ref);
}

/* Every half float but the NaNs survives the trip to float and back, and
 * each kernel set stores floats as halves bit for bit as the reference does:
 * ties to even, subnormals, overflow to infinity. */
static void halves_round_to_nearest_even(void **state)
{
	for (uint32_t h = 0; h < 0x10000u; h++) {
		if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu))
			continue; /* NaN */
		assert_int_equal(lm_ref_half(lm_ref_float((lm_half)h)), h);
	}
	/* 1 + 2^-11 is a tie between 1 and 1 + 2^-10: even (1) wins; 1 + 3*2^-11 rounds up. */
	assert_int_equal(lm_ref_half(1.0f + 0x1p-11f), 0x3c00);
	assert_int_equal(lm_ref_half(1.0f + 3 * 0x1p-11f), 0x3c02);
	assert_int_equal(lm_ref_half(65520.0f), 0x7c00);
	assert_int_equal(lm_ref_half(65519.0f), 0x7bff);
	assert_int_equal(lm_ref_half(-0x1p-24f), 0x8001);
	assert_int_equal(lm_ref_half(0x1p-26f), 0);
	enum { N = 4099 };
	static float x[N];
	static lm_half want[N], got[N];
	struct sv_rng rng;
	sv_rng_seed(&rng, 9);
	for (int i = 0; i < N; i++) {
		double mag = pow(2.0, sv_rng_range(&rng, -30, 18));
		x[i] = (float)(i % 2 ? mag : -mag);
	}
	x[0] = 1.0f + 0x1p-11f;
	x[1] = 65520.0f;
	x[2] = 0x1p-25f; /* a tie between 0 and the smallest subnormal */
	x[3] = 3 * 0x1p-25f;
	lm_ref_store_half(want, x, N);
	const struct lm_kernel_ops *sets[3];
	int nsets = kernel_sets(sets);
	for (int s = 0; s < nsets; s++) {
		memset(got, 0, sizeof got);
		sets[s]->store_half(got, x, N);
		assert_memory_equal(got, want, sizeof want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(f32_matches_reference),
	    cmocka_unit_test(f32_empty_and_single_row_ranges),
	    cmocka_unit_test(q8_matches_reference),
	    cmocka_unit_test(quantize_is_identical),
	    cmocka_unit_test(quantize_then_q8_matches_reference),
	    cmocka_unit_test(halves_round_to_nearest_even),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
