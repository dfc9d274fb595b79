/*
 * Small helpers the x86 kernel files share (each file is compiled with its
 * own instruction set flags; these need only AVX).
 */
#ifndef SV_LM_SIMD_H
#define SV_LM_SIMD_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* The address is formed as an integer: past the matrix, a pointer would be
 * out of bounds in C's terms even though the prefetch itself is harmless. */
static inline void lm_prefetch(const void *p, size_t ahead)
{
	_mm_prefetch((const char *)((uintptr_t)p + ahead), _MM_HINT_T0);
}

/* The sum of a vector's eight floats. */
static inline float lm_hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

#endif
