#include "batchnorm.h"

#pragma STDC FP_CONTRACT OFF

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define INLINE static inline __attribute__((always_inline))

// The activations, as NN's LeakyReLU and ClippedReLU compute them; `kind` is a constant wherever
// these are inlined (one loop per kind), so each loop vectorises with selects.
INLINE float activate(float y, distill_activation_kind kind, float slope, float cap) {
    if (kind == DISTILL_ACTIVATION_LEAKY) return y > 0 ? y : slope * y;
    if (kind == DISTILL_ACTIVATION_CAPPED) {
        const float low = y > 0 ? y : 0;
        return low > cap ? cap : low;
    }
    return y;
}

INLINE float activation_gradient(float dz, float y, distill_activation_kind kind, float slope, float cap) {
    if (kind == DISTILL_ACTIVATION_LEAKY) return y > 0 ? dz : slope * dz;
    if (kind == DISTILL_ACTIVATION_CAPPED) {
        const float inside = y > 0 ? (y < cap ? 1.0f : 0.0f) : 0.0f;
        return dz * (inside + 0.0f);
    }
    return dz;
}

CLONES void distill_batchnorm_sums(const float *restrict x, long rows, int c, double *restrict sum, double *restrict squares) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * c;
        for (int ch = 0; ch < c; ch++) {
            const double value = row[ch];
            sum[ch] = sum[ch] + value;
            squares[ch] = squares[ch] + value * value;
        }
    }
}

INLINE void normalize(const float *restrict x, long rows, int c, const float *restrict mean, const float *restrict inverse,
                      const float *restrict scale, const float *restrict shift, distill_activation_kind kind, float slope, float cap,
                      float *restrict y) {
    for (long r = 0; r < rows; r++) {
        const float *in = x + r * c;
        float *out = y + r * c;
        for (int ch = 0; ch < c; ch++) out[ch] = activate(scale[ch] * ((in[ch] - mean[ch]) * inverse[ch]) + shift[ch], kind, slope, cap);
    }
}

CLONES void distill_batchnorm_normalize(const float *restrict x, long rows, int c, const float *restrict mean,
                                        const float *restrict inverse, distill_activation a, float *restrict y) {
    switch (a.kind) {
    case DISTILL_ACTIVATION_LEAKY: normalize(x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_LEAKY, a.slope, a.cap, y); break;
    case DISTILL_ACTIVATION_CAPPED: normalize(x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_CAPPED, a.slope, a.cap, y); break;
    default: normalize(x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_NONE, a.slope, a.cap, y);
    }
}

INLINE void gradient_sums(const float *restrict dz, const float *restrict x, long rows, int c, const float *restrict mean,
                          const float *restrict inverse, const float *restrict scale, const float *restrict shift,
                          distill_activation_kind kind, float slope, float cap, double *restrict sum, double *restrict products) {
    for (long r = 0; r < rows; r++) {
        const float *g = dz + r * c, *in = x + r * c;
        for (int ch = 0; ch < c; ch++) {
            const float normal = (in[ch] - mean[ch]) * inverse[ch];
            const double gradient = activation_gradient(g[ch], scale[ch] * normal + shift[ch], kind, slope, cap);
            sum[ch] = sum[ch] + gradient;
            products[ch] = products[ch] + gradient * (double)normal;
        }
    }
}

CLONES void distill_batchnorm_gradient_sums(const float *restrict dz, const float *restrict x, long rows, int c,
                                            const float *restrict mean, const float *restrict inverse, distill_activation a,
                                            double *restrict sum, double *restrict products) {
    switch (a.kind) {
    case DISTILL_ACTIVATION_LEAKY:
        gradient_sums(dz, x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_LEAKY, a.slope, a.cap, sum, products); break;
    case DISTILL_ACTIVATION_CAPPED:
        gradient_sums(dz, x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_CAPPED, a.slope, a.cap, sum, products); break;
    default: gradient_sums(dz, x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_NONE, a.slope, a.cap, sum, products);
    }
}

INLINE void input_gradient(const float *restrict dz, const float *restrict x, long rows, int c, const float *restrict mean,
                           const float *restrict inverse, const float *restrict scale, const float *restrict shift,
                           distill_activation_kind kind, float slope, float cap, const double *restrict mean_gradient,
                           const double *restrict products, double count, const float *restrict factor, float *restrict dx) {
    for (long r = 0; r < rows; r++) {
        const float *g = dz + r * c, *in = x + r * c;
        float *out = dx + r * c;
        for (int ch = 0; ch < c; ch++) {
            const float normal = (in[ch] - mean[ch]) * inverse[ch];
            const double gradient = activation_gradient(g[ch], scale[ch] * normal + shift[ch], kind, slope, cap);
            const double centred = gradient - mean_gradient[ch] - (double)normal * products[ch] / count;
            out[ch] = factor[ch] * (float)centred;
        }
    }
}

CLONES void distill_batchnorm_input_gradient(const float *restrict dz, const float *restrict x, long rows, int c,
                                             const float *restrict mean, const float *restrict inverse, distill_activation a,
                                             const double *restrict mean_gradient, const double *restrict products, double count,
                                             const float *restrict factor, float *restrict dx) {
    switch (a.kind) {
    case DISTILL_ACTIVATION_LEAKY:
        input_gradient(dz, x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_LEAKY, a.slope, a.cap, mean_gradient, products,
                       count, factor, dx); break;
    case DISTILL_ACTIVATION_CAPPED:
        input_gradient(dz, x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_CAPPED, a.slope, a.cap, mean_gradient, products,
                       count, factor, dx); break;
    default:
        input_gradient(dz, x, rows, c, mean, inverse, a.scale, a.shift, DISTILL_ACTIVATION_NONE, a.slope, a.cap, mean_gradient, products,
                       count, factor, dx);
    }
}
