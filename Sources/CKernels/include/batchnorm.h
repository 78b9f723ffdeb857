// BatchNormalization's loops over NHWC rows of `channels` values, for NN's BatchNormalization:
// compiled for AVX-512, AVX2 and baseline x86-64 (target_clones) with products and sums never
// contracted into FMAs, so every clone gives the bits of the plain loop. Sums are in double.
#ifndef DISTILL_BATCHNORM_H
#define DISTILL_BATCHNORM_H

// The activation layer NN fuses into a BatchNormalization that it alone reads, applied to the
// normalised value y in the operations of that layer's own loops (the same bits): none; leaky,
// y > 0 ? y : slope * y (LeakyReLU; slope 0 is ReLU); capped, ReLU6 and kin: y below 0 is 0, above
// cap is cap, its gradient 1 strictly between. The backward loops compute y again from x.
typedef enum { DISTILL_ACTIVATION_NONE = 0, DISTILL_ACTIVATION_LEAKY = 1, DISTILL_ACTIVATION_CAPPED = 2 } distill_activation_kind;

typedef struct {
    distill_activation_kind kind;
    float slope, cap;
    const float *scale, *shift;   // [channels]: the forward's y = scale * xhat + shift
} distill_activation;

// sum[c] += x[r, c] and squares[c] += x[r, c]^2 over the rows, in row order.
void distill_batchnorm_sums(const float *x, long rows, int channels, double *sum, double *squares);

// y = activation(scale * xhat + shift) per channel, with xhat = (x - mean) * inverse in float (the
// activation's scale and shift are these). The backward loops compute xhat again from x in the same
// float operations, so it is never stored: the same bits, one fewer activation-sized stream to write
// in the forward pass and one fewer buffer per layer.
void distill_batchnorm_normalize(const float *x, long rows, int channels, const float *mean, const float *inverse,
                                 distill_activation activation, float *y);

// With g = dz through the activation's gradient at y (dz itself without one): sum[c] += g[r, c] and
// products[c] += g[r, c] * xhat[r, c] over the rows, in row order.
void distill_batchnorm_gradient_sums(const float *dz, const float *x, long rows, int channels, const float *mean,
                                     const float *inverse, distill_activation activation, double *sum, double *products);

// dx = factor * (float)(g - mean_gradient - xhat * products / count) per channel, g as above.
void distill_batchnorm_input_gradient(const float *dz, const float *x, long rows, int channels, const float *mean,
                                      const float *inverse, distill_activation activation, const double *mean_gradient,
                                      const double *products, double count, const float *factor, float *dx);

#endif
