#include "depthwise.h"
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// One output pixel's window: the input rows and columns it covers inside the image.
struct span { int row_begin, row_end, column_begin, column_end, top, left; };

static inline struct span window_of(const struct distill_window *w, int oh, int ow) {
    struct span s;
    s.top = oh * w->stride_height - w->pad_top;
    s.left = ow * w->stride_width - w->pad_left;
    s.row_begin = s.top > 0 ? s.top : 0;
    s.row_end = s.top + w->kernel_height < w->height ? s.top + w->kernel_height : w->height;
    s.column_begin = s.left > 0 ? s.left : 0;
    s.column_end = s.left + w->kernel_width < w->width ? s.left + w->kernel_width : w->width;
    return s;
}

// Sixteen floats, loaded and stored at any alignment: one AVX-512 register, two AVX2 ones, four SSE ones.
typedef float v16 __attribute__((vector_size(64), aligned(4)));

// Each output value starts from its bias and adds the taps in row-major order, one product at a
// time. With one filter per channel the accumulators run over 16 contiguous channels in registers.
CLONES void distill_depthwise_forward(const float *restrict input, const float *restrict kernel, const float *restrict bias,
                                      float *restrict output, const struct distill_window *w, int batch) {
    const int c = w->channels, dm = w->multiplier, width = c * dm;
    const long input_size = (long)w->height * w->width * c, pixels = (long)w->output_height * w->output_width;
    for (int n = 0; n < batch; n++) {
        const float *x = input + n * input_size;
        for (int oh = 0; oh < w->output_height; oh++) {
            for (int ow = 0; ow < w->output_width; ow++) {
                struct span s = window_of(w, oh, ow);
                float *y = output + (n * pixels + (long)oh * w->output_width + ow) * width;
                int j = 0;
                // Up to four 16-channel blocks at once: four independent sums keep the adder busy
                // (one sum alone waits on its own latency at every tap).
                for (; dm == 1 && j + 16 <= width; j += 64) {
                    const int blocks = (width - j) / 16 < 4 ? (width - j) / 16 : 4;
                    v16 sum[4] = {{0}, {0}, {0}, {0}};
                    for (int b = 0; bias && b < blocks; b++) sum[b] = *(const v16 *)(bias + j + 16 * b);
                    for (int ih = s.row_begin; ih < s.row_end; ih++) {
                        for (int iw = s.column_begin; iw < s.column_end; iw++) {
                            const int tap = (ih - s.top) * w->kernel_width + (iw - s.left);
                            const float *p = x + ((long)ih * w->width + iw) * c + j, *q = kernel + (long)tap * width + j;
                            sum[0] = sum[0] + *(const v16 *)p * *(const v16 *)q;
                            if (blocks > 1) sum[1] = sum[1] + *(const v16 *)(p + 16) * *(const v16 *)(q + 16);
                            if (blocks > 2) sum[2] = sum[2] + *(const v16 *)(p + 32) * *(const v16 *)(q + 32);
                            if (blocks > 3) sum[3] = sum[3] + *(const v16 *)(p + 48) * *(const v16 *)(q + 48);
                        }
                    }
                    for (int b = 0; b < blocks; b++) *(v16 *)(y + j + 16 * b) = sum[b];
                    if (blocks < 4) { j += 16 * blocks; break; }
                }
                for (; j < width; j++) {
                    float sum = bias ? bias[j] : 0.0f;
                    for (int ih = s.row_begin; ih < s.row_end; ih++) {
                        for (int iw = s.column_begin; iw < s.column_end; iw++) {
                            const int tap = (ih - s.top) * w->kernel_width + (iw - s.left);
                            sum = sum + x[((long)ih * w->width + iw) * c + j / dm] * kernel[(long)tap * width + j];
                        }
                    }
                    y[j] = sum;
                }
            }
        }
    }
}

// The same windows once: bias and kernel gradients accumulate over the pixels in order, and each
// tap adds its share of the output gradient into the input pixel it read.
CLONES void distill_depthwise_backward(const float *restrict input, const float *restrict kernel,
                                       const float *restrict output_gradient, float *restrict input_gradient,
                                       float *restrict kernel_gradient, float *restrict bias_gradient,
                                       const struct distill_window *w, int batch) {
    const int c = w->channels, dm = w->multiplier, width = c * dm;
    const long input_size = (long)w->height * w->width * c, pixels = (long)w->output_height * w->output_width;
    if (input_gradient) memset(input_gradient, 0, sizeof(float) * input_size * batch);
    for (int n = 0; n < batch; n++) {
        const float *x = input + n * input_size, *dy_image = output_gradient + n * pixels * width;
        float *dx = input_gradient ? input_gradient + n * input_size : 0;
        if (bias_gradient) {
            for (long p = 0; p < pixels; p++) {
                for (int j = 0; j < width; j++) bias_gradient[j] = bias_gradient[j] + dy_image[p * width + j];
            }
        }
        for (int oh = 0; oh < w->output_height; oh++) {
            for (int ow = 0; ow < w->output_width; ow++) {
                struct span s = window_of(w, oh, ow);
                const float *dy = dy_image + ((long)oh * w->output_width + ow) * width;
                for (int ih = s.row_begin; ih < s.row_end; ih++) {
                    for (int iw = s.column_begin; iw < s.column_end; iw++) {
                        const int tap = (ih - s.top) * w->kernel_width + (iw - s.left);
                        const float *source = x + ((long)ih * w->width + iw) * c, *k = kernel + (long)tap * width;
                        float *dk = kernel_gradient + (long)tap * width;
                        if (dm == 1) {
                            for (int j = 0; j < width; j++) dk[j] = dk[j] + source[j] * dy[j];
                            if (dx) {
                                float *target = dx + ((long)ih * w->width + iw) * c;
                                for (int j = 0; j < width; j++) target[j] = target[j] + dy[j] * k[j];
                            }
                        } else {
                            for (int j = 0; j < width; j++) dk[j] = dk[j] + source[j / dm] * dy[j];
                            if (dx) {
                                float *target = dx + ((long)ih * w->width + iw) * c;
                                for (int j = 0; j < width; j++) target[j / dm] = target[j / dm] + dy[j] * k[j];
                            }
                        }
                    }
                }
            }
        }
    }
}
