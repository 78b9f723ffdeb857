#include "batchnorm.h"

#pragma STDC FP_CONTRACT OFF

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

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

CLONES void distill_batchnorm_normalize(const float *restrict x, long rows, int c, const float *restrict mean,
                                        const float *restrict inverse, const float *restrict scale, const float *restrict shift,
                                        float *restrict y) {
    for (long r = 0; r < rows; r++) {
        const float *in = x + r * c;
        float *out = y + r * c;
        for (int ch = 0; ch < c; ch++) out[ch] = scale[ch] * ((in[ch] - mean[ch]) * inverse[ch]) + shift[ch];
    }
}

CLONES void distill_batchnorm_gradient_sums(const float *restrict dy, const float *restrict x, long rows, int c,
                                            const float *restrict mean, const float *restrict inverse,
                                            double *restrict sum, double *restrict products) {
    for (long r = 0; r < rows; r++) {
        const float *g = dy + r * c, *in = x + r * c;
        for (int ch = 0; ch < c; ch++) {
            const double gradient = g[ch];
            sum[ch] = sum[ch] + gradient;
            products[ch] = products[ch] + gradient * (double)((in[ch] - mean[ch]) * inverse[ch]);
        }
    }
}

CLONES void distill_batchnorm_input_gradient(const float *restrict dy, const float *restrict x, long rows, int c,
                                             const float *restrict mean, const float *restrict inverse,
                                             const double *restrict mean_gradient, const double *restrict products, double count,
                                             const float *restrict factor, float *restrict dx) {
    for (long r = 0; r < rows; r++) {
        const float *g = dy + r * c, *in = x + r * c;
        float *out = dx + r * c;
        for (int ch = 0; ch < c; ch++) {
            const double normal = (in[ch] - mean[ch]) * inverse[ch];
            const double centred = (double)g[ch] - mean_gradient[ch] - normal * products[ch] / count;
            out[ch] = factor[ch] * (float)centred;
        }
    }
}
