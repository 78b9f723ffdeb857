#include "depthwise.h"
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// One output pixel's window: the input rows and columns it covers inside the image.
struct span { int row_begin, row_end, column_begin, column_end, top, left; };

__attribute__((always_inline)) static inline struct span window_of(const struct distill_window *w, int oh, int ow) {
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

// Output rows (or columns) whose kernel row (column) `k` lies inside the image: oh * stride - pad + k
// in [0, size), as [*begin, *end).
__attribute__((always_inline)) static inline void reading(int k, int stride, int pad, int size, int outputs, int *begin, int *end) {
    const int low = pad - k, high = size - 1 + pad - k;
    int b = low > 0 ? (low + stride - 1) / stride : 0, e = high >= 0 ? high / stride + 1 : 0;
    if (e > outputs) e = outputs;
    *begin = b;
    *end = e > b ? e : b;
}

// One filter per channel, one image. The kernel gradient of each tap sums, in registers, over the
// output pixels whose window the tap reads inside the image; the input gradient of each pixel sums
// the taps that read it (a gather, no read-modify-write in memory). Each sum adds its terms in the
// order of the output pixels, as the scatter below does.
__attribute__((always_inline)) static inline void backward_per_channel(const float *restrict x, const float *restrict kernel, const float *restrict dy,
                                        float *restrict dx, float *restrict kernel_gradient, const struct distill_window *w) {
    const int c = w->channels, kh_count = w->kernel_height, kw_count = w->kernel_width;
    for (int kh = 0; kh < kh_count; kh++) {
        int oh0, oh1;
        reading(kh, w->stride_height, w->pad_top, w->height, w->output_height, &oh0, &oh1);
        for (int kw = 0; kw < kw_count; kw++) {
            int ow0, ow1;
            reading(kw, w->stride_width, w->pad_left, w->width, w->output_width, &ow0, &ow1);
            float *dk = kernel_gradient + (long)(kh * kw_count + kw) * c;
            int j = 0;
            for (; j + 16 <= c; j += 64) {
                const int blocks = (c - j) / 16 < 4 ? (c - j) / 16 : 4;
                v16 sum[4] = {{0}, {0}, {0}, {0}};
                for (int b = 0; b < blocks; b++) sum[b] = *(const v16 *)(dk + j + 16 * b);
                for (int oh = oh0; oh < oh1; oh++) {
                    const int ih = oh * w->stride_height - w->pad_top + kh;
                    for (int ow = ow0; ow < ow1; ow++) {
                        const int iw = ow * w->stride_width - w->pad_left + kw;
                        const float *p = x + ((long)ih * w->width + iw) * c + j, *q = dy + ((long)oh * w->output_width + ow) * c + j;
                        sum[0] = sum[0] + *(const v16 *)p * *(const v16 *)q;
                        if (blocks > 1) sum[1] = sum[1] + *(const v16 *)(p + 16) * *(const v16 *)(q + 16);
                        if (blocks > 2) sum[2] = sum[2] + *(const v16 *)(p + 32) * *(const v16 *)(q + 32);
                        if (blocks > 3) sum[3] = sum[3] + *(const v16 *)(p + 48) * *(const v16 *)(q + 48);
                    }
                }
                for (int b = 0; b < blocks; b++) *(v16 *)(dk + j + 16 * b) = sum[b];
                if (blocks < 4) { j += 16 * blocks; break; }
            }
            for (; j < c; j++) {
                float sum = dk[j];
                for (int oh = oh0; oh < oh1; oh++) {
                    const int ih = oh * w->stride_height - w->pad_top + kh;
                    for (int ow = ow0; ow < ow1; ow++) {
                        const int iw = ow * w->stride_width - w->pad_left + kw;
                        sum = sum + x[((long)ih * w->width + iw) * c + j] * dy[((long)oh * w->output_width + ow) * c + j];
                    }
                }
                dk[j] = sum;
            }
        }
    }
    if (!dx) return;
    // Per input row (column): the kernel rows (columns) that read it and their output rows
    // (columns), from the last kernel row, so that the output pixels ascend.
    int rows_k[kh_count], rows_o[kh_count], columns_k[kw_count], columns_o[kw_count];
    for (int ih = 0; ih < w->height; ih++) {
        int row_count = 0;
        for (int kh = kh_count - 1; kh >= 0; kh--) {
            const int t = ih + w->pad_top - kh;
            if (t >= 0 && t % w->stride_height == 0 && t / w->stride_height < w->output_height) {
                rows_k[row_count] = kh;
                rows_o[row_count++] = t / w->stride_height;
            }
        }
        for (int iw = 0; iw < w->width; iw++) {
            int column_count = 0;
            for (int kw = kw_count - 1; kw >= 0; kw--) {
                const int u = iw + w->pad_left - kw;
                if (u >= 0 && u % w->stride_width == 0 && u / w->stride_width < w->output_width) {
                    columns_k[column_count] = kw;
                    columns_o[column_count++] = u / w->stride_width;
                }
            }
            float *target = dx + ((long)ih * w->width + iw) * c;
            int j = 0;
            for (; j + 16 <= c; j += 64) {
                const int blocks = (c - j) / 16 < 4 ? (c - j) / 16 : 4;
                v16 sum[4] = {{0}, {0}, {0}, {0}};
                for (int a = 0; a < row_count; a++) {
                    for (int b = 0; b < column_count; b++) {
                        const float *g = dy + ((long)rows_o[a] * w->output_width + columns_o[b]) * c + j;
                        const float *k = kernel + (long)(rows_k[a] * kw_count + columns_k[b]) * c + j;
                        sum[0] = sum[0] + *(const v16 *)g * *(const v16 *)k;
                        if (blocks > 1) sum[1] = sum[1] + *(const v16 *)(g + 16) * *(const v16 *)(k + 16);
                        if (blocks > 2) sum[2] = sum[2] + *(const v16 *)(g + 32) * *(const v16 *)(k + 32);
                        if (blocks > 3) sum[3] = sum[3] + *(const v16 *)(g + 48) * *(const v16 *)(k + 48);
                    }
                }
                for (int b = 0; b < blocks; b++) *(v16 *)(target + j + 16 * b) = sum[b];
                if (blocks < 4) { j += 16 * blocks; break; }
            }
            for (; j < c; j++) {
                float sum = 0.0f;
                for (int a = 0; a < row_count; a++) {
                    for (int b = 0; b < column_count; b++) {
                        sum = sum + dy[((long)rows_o[a] * w->output_width + columns_o[b]) * c + j]
                                  * kernel[(long)(rows_k[a] * kw_count + columns_k[b]) * c + j];
                    }
                }
                target[j] = sum;
            }
        }
    }
}

// Bias gradients accumulate over the pixels in order. With several filters per channel, each tap
// adds its share of the output gradient into the input pixel it read (a scatter).
CLONES void distill_depthwise_backward(const float *restrict input, const float *restrict kernel,
                                       const float *restrict output_gradient, float *restrict input_gradient,
                                       float *restrict kernel_gradient, float *restrict bias_gradient,
                                       const struct distill_window *w, int batch) {
    const int c = w->channels, dm = w->multiplier, width = c * dm;
    const long input_size = (long)w->height * w->width * c, pixels = (long)w->output_height * w->output_width;
    if (input_gradient && dm != 1) memset(input_gradient, 0, sizeof(float) * input_size * batch);
    for (int n = 0; n < batch; n++) {
        const float *x = input + n * input_size, *dy_image = output_gradient + n * pixels * width;
        float *dx = input_gradient ? input_gradient + n * input_size : 0;
        if (bias_gradient) {
            for (long p = 0; p < pixels; p++) {
                for (int j = 0; j < width; j++) bias_gradient[j] = bias_gradient[j] + dy_image[p * width + j];
            }
        }
        if (dm == 1) {
            backward_per_channel(x, kernel, dy_image, dx, kernel_gradient, w);
            continue;
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
