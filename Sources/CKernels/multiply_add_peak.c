#include "multiply_add_peak.h"

// Fused here on purpose (the other kernels keep products and sums apart): this loop measures the FMA units.
#pragma clang fp contract(fast)

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

// ACCUMULATORS independent registers of TYPE, each acc = acc * a + b: with a = b = 0.5 they converge
// to 1 (no overflow, no denormals); no start value is 1, so none is a constant the compiler could fold.
// A register file of 32 (AVX-512) or 16 (AVX2, SSE2) vectors holds them and the constant.
#define MULTIPLY_ADD_LOOP(TYPE, LANES, ACCUMULATORS)                                              \
    TYPE acc[ACCUMULATORS];                                                                       \
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = (TYPE){0} + (float)(i + 2);                   \
    const TYPE half = (TYPE){0} + 0.5f;                                                           \
    for (long n = 0; n < iterations; n++) {                                                       \
        _Pragma("clang loop unroll(full)")                                                        \
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = acc[i] * half + half;                     \
    }                                                                                             \
    float total = 0;                                                                              \
    for (int i = 0; i < ACCUMULATORS; i++)                                                        \
        for (int j = 0; j < LANES; j++) total += acc[i][j];                                       \
    *sum = total;                                                                                 \
    return (double)iterations * ACCUMULATORS * LANES;

__attribute__((target("avx512f,fma"))) static double loop_avx512(long iterations, float *sum) { MULTIPLY_ADD_LOOP(v16, 16, 24) }
__attribute__((target("avx2,fma"))) static double loop_avx2(long iterations, float *sum) { MULTIPLY_ADD_LOOP(v8, 8, 12) }
static double loop_baseline(long iterations, float *sum) { MULTIPLY_ADD_LOOP(v4, 4, 12) }

double distill_multiply_add_loop(long iterations, const char **isa, float *sum) {
    float ignored;
    if (!sum) sum = &ignored;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        if (isa) *isa = "avx512f";
        return loop_avx512(iterations, sum);
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        if (isa) *isa = "avx2+fma";
        return loop_avx2(iterations, sum);
    }
    if (isa) *isa = "sse2";
    return loop_baseline(iterations, sum);
}
