// Depthwise 2-D convolution loops on NHWC data for NN's DepthwiseConv2D. Written in C so that they
// can be compiled for AVX-512, AVX2 and baseline x86-64 at once and chosen when the library loads
// (target_clones): Swift's own code is built for baseline x86-64 (SSE2) to run on any of these CPUs.
// Products and sums are never contracted into FMAs, so every clone gives the same bits.
#ifndef DISTILL_DEPTHWISE_H
#define DISTILL_DEPTHWISE_H

struct distill_window {
    int height, width, channels, multiplier;       // input [height, width, channels]; channels * multiplier out
    int kernel_height, kernel_width, stride_height, stride_width, pad_top, pad_left;
    int output_height, output_width;
};

// output[n, oh, ow, c * dm + m] = bias[c * dm + m] + sum over the taps inside the image of
// input[n, ih, iw, c] * kernel[kh, kw, c, m]; bias may be NULL (zero).
void distill_depthwise_forward(const float *input, const float *kernel, const float *bias, float *output,
                               const struct distill_window *window, int batch);

// Adds the kernel (and bias, unless NULL) gradients; overwrites input_gradient unless it is NULL.
void distill_depthwise_backward(const float *input, const float *kernel, const float *output_gradient,
                                float *input_gradient, float *kernel_gradient, float *bias_gradient,
                                const struct distill_window *window, int batch);

// The loops with one filter per channel and a multiple of 16 channels run in register-blocked runs of pixels on
// AVX-512 (eight sums) or AVX2 (four), else the plain loop; all give the same bits. `requested` >= 0 chooses the
// widest of them to use (at most what the CPU has: for tests); -1 only asks. Returns the level in use.
enum { DISTILL_DEPTHWISE_PLAIN = 0, DISTILL_DEPTHWISE_AVX2 = 1, DISTILL_DEPTHWISE_AVX512 = 2 };
int distill_depthwise_level(int requested);
int distill_depthwise_widest(void);   // the widest level this CPU has

#endif
