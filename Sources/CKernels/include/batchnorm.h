// BatchNormalization's loops over NHWC rows of `channels` values, for NN's BatchNormalization:
// compiled for AVX-512, AVX2 and baseline x86-64 (target_clones) with products and sums never
// contracted into FMAs, so every clone gives the bits of the plain loop. Sums are in double.
#ifndef DISTILL_BATCHNORM_H
#define DISTILL_BATCHNORM_H

// sum[c] += x[r, c] and squares[c] += x[r, c]^2 over the rows, in row order.
void distill_batchnorm_sums(const float *x, long rows, int channels, double *sum, double *squares);

// y = scale * xhat + shift per channel, with xhat = (x - mean) * inverse in float. The backward loops
// compute xhat again from x in the same float operations, so it is never stored: the same bits, one
// fewer activation-sized stream to write in the forward pass and one fewer buffer per layer.
void distill_batchnorm_normalize(const float *x, long rows, int channels, const float *mean, const float *inverse,
                                 const float *scale, const float *shift, float *y);

// sum[c] += dy[r, c] and products[c] += dy[r, c] * xhat[r, c] over the rows, in row order.
void distill_batchnorm_gradient_sums(const float *dy, const float *x, long rows, int channels, const float *mean,
                                     const float *inverse, double *sum, double *products);

// dx = factor * (float)(dy - mean_gradient - xhat * products / count) per channel.
void distill_batchnorm_input_gradient(const float *dy, const float *x, long rows, int channels, const float *mean,
                                      const float *inverse, const double *mean_gradient, const double *products, double count,
                                      const float *factor, float *dx);

#endif
