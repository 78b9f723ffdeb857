#include "smooth.h"
#include <math.h>

#pragma STDC FP_CONTRACT OFF

#define BLOCK 256   // values per call of a block function (1 KB per staging array)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// f(in[0..<BLOCK]) -> out[0..<BLOCK] through libmvec's widest function the CPU runs.
typedef void (*block_function)(const float *in, float *out);

#if defined(__x86_64__) && defined(__GLIBC__)
#include <immintrin.h>

// libmvec's three x86-64 variants of f (declared in the ISA their vector arguments need), each applied to a block,
// and f_block(): the widest the CPU runs, within the test cap.
#define VECTOR_BLOCKS(f) \
    __m128 _ZGVbN4v_##f(__m128); \
    __attribute__((target("avx2"))) __m256 _ZGVdN8v_##f(__m256); \
    __attribute__((target("avx512f"))) __m512 _ZGVeN16v_##f(__m512); \
    __attribute__((target("avx512f"))) static void f##_avx512(const float *in, float *out) { \
        for (int k = 0; k < BLOCK; k += 16) _mm512_storeu_ps(out + k, _ZGVeN16v_##f(_mm512_loadu_ps(in + k))); \
    } \
    __attribute__((target("avx2"))) static void f##_avx2(const float *in, float *out) { \
        for (int k = 0; k < BLOCK; k += 8) _mm256_storeu_ps(out + k, _ZGVdN8v_##f(_mm256_loadu_ps(in + k))); \
    } \
    static void f##_sse(const float *in, float *out) { \
        for (int k = 0; k < BLOCK; k += 4) _mm_storeu_ps(out + k, _ZGVbN4v_##f(_mm_loadu_ps(in + k))); \
    } \
    static block_function f##_block(void) { int l = distill_smooth_lanes(); return l == 16 ? f##_avx512 : l == 8 ? f##_avx2 : f##_sse; }

static int widest(void) { return __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("avx2") ? 8 : 4; }
static int lane_cap = 16;
int distill_smooth_lanes(void) { const int w = widest(); return w < lane_cap ? w : lane_cap; }
int distill_smooth_cap_lanes(int lanes) { lane_cap = lanes; return distill_smooth_lanes(); }
VECTOR_BLOCKS(expf)
VECTOR_BLOCKS(erff)
VECTOR_BLOCKS(tanhf)
#else
#define SCALAR_BLOCKS(f) \
    static void f##_scalar(const float *in, float *out) { for (int k = 0; k < BLOCK; k++) out[k] = f(in[k]); } \
    static block_function f##_block(void) { return f##_scalar; }
int distill_smooth_lanes(void) { return 1; }
int distill_smooth_cap_lanes(int lanes) { (void)lanes; return 1; }
SCALAR_BLOCKS(expf)
SCALAR_BLOCKS(erff)
SCALAR_BLOCKS(tanhf)
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
    block_function exp_all = expf_block();
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
    block_function exp_all = expf_block();
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
    block_function erf_all = erff_block();
    float a[BLOCK], e[BLOCK];
    FOR_BLOCKS(n, count, start) {
        for (long k = 0; k < count; k++) a[k] = x[start + k] / 1.41421356237309515f;
        for (long k = count; k < BLOCK; k++) a[k] = 0.0f;
        erf_all(a, e);
        for (long k = 0; k < count; k++) y[start + k] = 0.5f * x[start + k] * (1.0f + e[k]);
    }
}

CLONES void distill_gelu_backward(const float *restrict x, const float *restrict dy, float *restrict dx, long n) {
    block_function erf_all = erff_block(), exp_all = expf_block();
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

CLONES void distill_tanh_forward(const float *restrict x, float *restrict y, long n) {
    block_function tanh_all = tanhf_block();
    float a[BLOCK], t[BLOCK];
    FOR_BLOCKS(n, count, start) {
        for (long k = 0; k < count; k++) a[k] = x[start + k];
        for (long k = count; k < BLOCK; k++) a[k] = 0.0f;
        tanh_all(a, t);
        for (long k = 0; k < count; k++) y[start + k] = t[k];
    }
}
