#include "smooth.h"
#include <math.h>

#pragma STDC FP_CONTRACT OFF

#define BLOCK 256   // values per call of a block function (1 KB per staging array)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// f(in[0..<BLOCK]) -> out[0..<BLOCK] through libmvec's widest function the CPU runs.
typedef void (*block_function)(const float *in, float *out);

#if defined(__x86_64__) && defined(__GLIBC__)
#include <immintrin.h>

__m128 _ZGVbN4v_expf(__m128);
__m128 _ZGVbN4v_erff(__m128);
// Declared in the ISA their vector arguments need (libmvec's AVX2 and AVX-512 variants).
__attribute__((target("avx2"))) __m256 _ZGVdN8v_expf(__m256);
__attribute__((target("avx2"))) __m256 _ZGVdN8v_erff(__m256);
__attribute__((target("avx512f"))) __m512 _ZGVeN16v_expf(__m512);
__attribute__((target("avx512f"))) __m512 _ZGVeN16v_erff(__m512);

__attribute__((target("avx512f"))) static void exp_avx512(const float *in, float *out) {
    for (int k = 0; k < BLOCK; k += 16) _mm512_storeu_ps(out + k, _ZGVeN16v_expf(_mm512_loadu_ps(in + k)));
}
__attribute__((target("avx512f"))) static void erf_avx512(const float *in, float *out) {
    for (int k = 0; k < BLOCK; k += 16) _mm512_storeu_ps(out + k, _ZGVeN16v_erff(_mm512_loadu_ps(in + k)));
}
__attribute__((target("avx2"))) static void exp_avx2(const float *in, float *out) {
    for (int k = 0; k < BLOCK; k += 8) _mm256_storeu_ps(out + k, _ZGVdN8v_expf(_mm256_loadu_ps(in + k)));
}
__attribute__((target("avx2"))) static void erf_avx2(const float *in, float *out) {
    for (int k = 0; k < BLOCK; k += 8) _mm256_storeu_ps(out + k, _ZGVdN8v_erff(_mm256_loadu_ps(in + k)));
}
static void exp_sse(const float *in, float *out) { for (int k = 0; k < BLOCK; k += 4) _mm_storeu_ps(out + k, _ZGVbN4v_expf(_mm_loadu_ps(in + k))); }
static void erf_sse(const float *in, float *out) { for (int k = 0; k < BLOCK; k += 4) _mm_storeu_ps(out + k, _ZGVbN4v_erff(_mm_loadu_ps(in + k))); }

static int widest(void) { return __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("avx2") ? 8 : 4; }
static int lane_cap = 16;
int distill_smooth_lanes(void) { const int w = widest(); return w < lane_cap ? w : lane_cap; }
int distill_smooth_cap_lanes(int lanes) { lane_cap = lanes; return distill_smooth_lanes(); }
static block_function exp_block(void) { int l = distill_smooth_lanes(); return l == 16 ? exp_avx512 : l == 8 ? exp_avx2 : exp_sse; }
static block_function erf_block(void) { int l = distill_smooth_lanes(); return l == 16 ? erf_avx512 : l == 8 ? erf_avx2 : erf_sse; }
#else
static void exp_scalar(const float *in, float *out) { for (int k = 0; k < BLOCK; k++) out[k] = expf(in[k]); }
static void erf_scalar(const float *in, float *out) { for (int k = 0; k < BLOCK; k++) out[k] = erff(in[k]); }
int distill_smooth_lanes(void) { return 1; }
int distill_smooth_cap_lanes(int lanes) { (void)lanes; return 1; }
static block_function exp_block(void) { return exp_scalar; }
static block_function erf_block(void) { return erf_scalar; }
#endif

// Blocks of BLOCK values: `count` of them (BLOCK but in the last block), their arguments in a[0..<BLOCK] (zero-padded).
#define FOR_BLOCKS(n, count, start) \
    for (long start = 0, count = (n) < BLOCK ? (n) : BLOCK; start < (n); start += BLOCK, count = (n) - start < BLOCK ? (n) - start : BLOCK)

#define INLINE static inline __attribute__((always_inline))

// e[0..<count] = exp(-x[0..<count]), staged in a (zero-padded to BLOCK).
INLINE void exp_negated(block_function exp_all, const float *restrict x, long count, float *restrict a, float *restrict e) {
    for (long k = 0; k < count; k++) a[k] = -x[k];
    for (long k = count; k < BLOCK; k++) a[k] = 0.0f;
    exp_all(a, e);
}

// y = s or x * s, s = 1 / (1 + exp(-x)); `times_x` is a constant wherever this is inlined.
INLINE void logistic(const float *restrict x, float *restrict y, long n, int times_x) {
    block_function exp_all = exp_block();
    float a[BLOCK], e[BLOCK];
    FOR_BLOCKS(n, count, start) {
        exp_negated(exp_all, x + start, count, a, e);
        for (long k = 0; k < count; k++) {
            const float s = 1.0f / (1.0f + e[k]);
            y[start + k] = times_x ? x[start + k] * s : s;
        }
    }
}

CLONES void distill_sigmoid_forward(const float *restrict x, float *restrict y, long n) { logistic(x, y, n, 0); }
CLONES void distill_silu_forward(const float *restrict x, float *restrict y, long n) { logistic(x, y, n, 1); }

CLONES void distill_silu_backward(const float *restrict x, const float *restrict dy, float *restrict dx, long n) {
    block_function exp_all = exp_block();
    float a[BLOCK], e[BLOCK];
    FOR_BLOCKS(n, count, start) {
        exp_negated(exp_all, x + start, count, a, e);
        for (long k = 0; k < count; k++) {
            const float s = 1.0f / (1.0f + e[k]), v = x[start + k];
            dx[start + k] = dy[start + k] * (s * (1.0f + v * (1.0f - s)));
        }
    }
}

CLONES void distill_gelu_forward(const float *restrict x, float *restrict y, long n) {
    block_function erf_all = erf_block();
    float a[BLOCK], e[BLOCK];
    FOR_BLOCKS(n, count, start) {
        for (long k = 0; k < count; k++) a[k] = x[start + k] / 1.41421356237309515f;
        for (long k = count; k < BLOCK; k++) a[k] = 0.0f;
        erf_all(a, e);
        for (long k = 0; k < count; k++) y[start + k] = 0.5f * x[start + k] * (1.0f + e[k]);
    }
}

CLONES void distill_gelu_backward(const float *restrict x, const float *restrict dy, float *restrict dx, long n) {
    block_function erf_all = erf_block(), exp_all = exp_block();
    float a[BLOCK], e[BLOCK], b[BLOCK], g[BLOCK];
    FOR_BLOCKS(n, count, start) {
        for (long k = 0; k < count; k++) {
            const float v = x[start + k];
            a[k] = v / 1.41421356237309515f;
            b[k] = -0.5f * v * v;
        }
        for (long k = count; k < BLOCK; k++) a[k] = b[k] = 0.0f;
        erf_all(a, e);
        exp_all(b, g);
        for (long k = 0; k < count; k++) {
            const float v = x[start + k];
            dx[start + k] = dy[start + k] * (0.5f * (1.0f + e[k]) + v * g[k] * 0.398942280401432678f);
        }
    }
}
