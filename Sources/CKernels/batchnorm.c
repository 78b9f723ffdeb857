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
                                        float *restrict xhat, float *restrict y) {
    for (long r = 0; r < rows; r++) {
        const float *in = x + r * c;
        float *out = y + r * c;
        if (xhat) {
            float *normal = xhat + r * c;
            for (int ch = 0; ch < c; ch++) {
                const float value = (in[ch] - mean[ch]) * inverse[ch];
                normal[ch] = value;
                out[ch] = scale[ch] * value + shift[ch];
            }
        } else {
            for (int ch = 0; ch < c; ch++) out[ch] = scale[ch] * ((in[ch] - mean[ch]) * inverse[ch]) + shift[ch];
        }
    }
}

CLONES void distill_batchnorm_gradient_sums(const float *restrict dy, const float *restrict xhat, long rows, int c,
                                            double *restrict sum, double *restrict products) {
    for (long r = 0; r < rows; r++) {
        const float *g = dy + r * c, *normal = xhat + r * c;
        for (int ch = 0; ch < c; ch++) {
            const double gradient = g[ch];
            sum[ch] = sum[ch] + gradient;
            products[ch] = products[ch] + gradient * (double)normal[ch];
        }
    }
}

CLONES void distill_batchnorm_input_gradient(const float *restrict dy, const float *restrict xhat, long rows, int c,
                                             const double *restrict mean_gradient, const double *restrict products, double count,
                                             const float *restrict factor, float *restrict dx) {
    for (long r = 0; r < rows; r++) {
        const float *g = dy + r * c, *normal = xhat + r * c;
        float *out = dx + r * c;
        for (int ch = 0; ch < c; ch++) {
            const double centred = (double)g[ch] - mean_gradient[ch] - (double)normal[ch] * products[ch] / count;
            out[ch] = factor[ch] * (float)centred;
        }
    }
}
