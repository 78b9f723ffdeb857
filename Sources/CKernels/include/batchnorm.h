// BatchNormalization's loops over NHWC rows of `channels` values, for NN's BatchNormalization:
// compiled for AVX-512, AVX2 and baseline x86-64 (target_clones) with products and sums never
// contracted into FMAs, so every clone gives the bits of the plain loop. Sums are in double.
#ifndef DISTILL_BATCHNORM_H
#define DISTILL_BATCHNORM_H

// sum[c] += x[r, c] and squares[c] += x[r, c]^2 over the rows, in row order.
void distill_batchnorm_sums(const float *x, long rows, int channels, double *sum, double *squares);

// y = scale * ((x - mean) * inverse) + shift per channel; xhat (unless NULL) gets (x - mean) * inverse.
void distill_batchnorm_normalize(const float *x, long rows, int channels, const float *mean, const float *inverse,
                                 const float *scale, const float *shift, float *xhat, float *y);

// sum[c] += dy[r, c] and products[c] += dy[r, c] * xhat[r, c] over the rows, in row order.
void distill_batchnorm_gradient_sums(const float *dy, const float *xhat, long rows, int channels, double *sum, double *products);

// dx = factor * (float)(dy - mean_gradient - xhat * products / count) per channel.
void distill_batchnorm_input_gradient(const float *dy, const float *xhat, long rows, int channels, const double *mean_gradient,
                                      const double *products, double count, const float *factor, float *dx);

#endif
