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

// Which loop runs, by the widest instruction set it may use (distill_depthwise_level): -1 until first asked.
// Atomic: ranks run as threads of one process may ask at once.
static int chosen_level = -1;

int distill_depthwise_widest(void) {
    return __builtin_cpu_supports("avx512f") ? DISTILL_DEPTHWISE_AVX512 : __builtin_cpu_supports("avx2") ? DISTILL_DEPTHWISE_AVX2 : DISTILL_DEPTHWISE_PLAIN;
}

int distill_depthwise_level(int requested) {
    const int supported = distill_depthwise_widest();
    if (requested >= 0) __atomic_store_n(&chosen_level, requested < supported ? requested : supported, __ATOMIC_RELAXED);
    else if (__atomic_load_n(&chosen_level, __ATOMIC_RELAXED) < 0) __atomic_store_n(&chosen_level, supported, __ATOMIC_RELAXED);
    return __atomic_load_n(&chosen_level, __ATOMIC_RELAXED);
}

// `count` neighbouring output pixels of one row times `blocks` 16-channel blocks from `j` (both constants where
// inlined), one filter per channel: each sum in a register, the taps added in the plain loop's order (bias,
// then row-major over the taps inside the image), so the bits are the plain loop's. Each tap's weights are
// loaded once for all `count` pixels; count x blocks independent sums keep the adder busy. Only the pixels at
// a row's ends (`edge`, one at a time) have taps outside the image's columns to skip.
__attribute__((always_inline)) static inline void forward_run(const float *restrict x, const float *restrict kernel, const float *restrict bias,
                                                              float *restrict y, const struct distill_window *w, int oh, int ow0,
                                                              int count, int blocks, int edge, int j) {
    const int c = w->channels, top = oh * w->stride_height - w->pad_top, step = w->stride_width * c;
    const int left = ow0 * w->stride_width - w->pad_left;
    v16 sum[8];
    for (int t = 0; t < count; t++)
        for (int b = 0; b < blocks; b++) sum[t * blocks + b] = bias ? *(const v16 *)(bias + j + 16 * b) : (v16){0};
    for (int kh = 0; kh < w->kernel_height; kh++) {
        const int ih = top + kh;
        if (ih < 0 || ih >= w->height) continue;
        for (int kw = 0; kw < w->kernel_width; kw++) {
            if (edge && (left + kw < 0 || left + kw >= w->width)) continue;
            const float *weights = kernel + (long)(kh * w->kernel_width + kw) * c + j, *first = x + ((long)ih * w->width + left + kw) * c + j;
            for (int b = 0; b < blocks; b++) {
                const v16 weight = *(const v16 *)(weights + 16 * b);
                for (int t = 0; t < count; t++)
                    sum[t * blocks + b] = sum[t * blocks + b] + *(const v16 *)(first + (long)t * step + 16 * b) * weight;
            }
        }
    }
    for (int t = 0; t < count; t++)
        for (int b = 0; b < blocks; b++) *(v16 *)(y + (long)(ow0 + t) * c + j + 16 * b) = sum[t * blocks + b];
}

// `count` pixels (a constant where inlined) over all channels, in groups of blocks that give `sums` sums at once
// (four blocks at most: four already load a weight per product). Eight sums of 16 floats fill half of AVX-512's 32
// registers; AVX2's sixteen hold four (two registers each) beside the weight and the product.
__attribute__((always_inline)) static inline void forward_pixels(const float *restrict x, const float *restrict kernel, const float *restrict bias,
                                                                 float *restrict y, const struct distill_window *w, int oh, int ow0,
                                                                 int count, int edge, int sums) {
    const int c = w->channels, widest = sums / count >= 4 ? 4 : sums / count >= 2 ? 2 : 1;
    int j = 0;
    for (; j + 16 * widest <= c; j += 16 * widest) forward_run(x, kernel, bias, y, w, oh, ow0, count, widest, edge, j);
    if (widest >= 4 && j + 32 <= c) { forward_run(x, kernel, bias, y, w, oh, ow0, count, 2, edge, j); j += 32; }
    if (widest >= 2 && j + 16 <= c) forward_run(x, kernel, bias, y, w, oh, ow0, count, 1, edge, j);
}

// One filter per channel and a multiple of 16 channels: an output row at a time, runs of up to `longest` pixels
// (8 or 4, a constant where inlined) with at most `sums` sums in registers.
__attribute__((always_inline)) static inline void forward_by_rows(const float *restrict input, const float *restrict kernel, const float *restrict bias,
                                                                  float *restrict output, const struct distill_window *w, int batch,
                                                                  int longest, int sums) {
    const int c = w->channels;
    const long input_size = (long)w->height * w->width * c, output_row = (long)w->output_width * c;
    // The output columns whose window lies inside the image's columns: [interior_begin, interior_end), both at most
    // output_width (a kernel wider than a small map with SAME padding leaves no interior column at all).
    int interior_begin = (w->pad_left + w->stride_width - 1) / w->stride_width;
    if (interior_begin > w->output_width) interior_begin = w->output_width;
    int interior_end = w->width + w->pad_left >= w->kernel_width ? (w->width + w->pad_left - w->kernel_width) / w->stride_width + 1 : 0;
    if (interior_end > w->output_width) interior_end = w->output_width;
    if (interior_end < interior_begin) interior_end = interior_begin;
    for (int n = 0; n < batch; n++) {
        const float *x = input + n * input_size;
        for (int oh = 0; oh < w->output_height; oh++) {
            float *y = output + ((long)n * w->output_height + oh) * output_row;
            int ow = 0;
            for (; ow < interior_begin; ow++) forward_pixels(x, kernel, bias, y, w, oh, ow, 1, 1, sums);
            for (; longest >= 8 && ow + 8 <= interior_end; ow += 8) forward_pixels(x, kernel, bias, y, w, oh, ow, 8, 0, sums);
            for (; ow + 4 <= interior_end; ow += 4) forward_pixels(x, kernel, bias, y, w, oh, ow, 4, 0, sums);
            if (ow + 2 <= interior_end) { forward_pixels(x, kernel, bias, y, w, oh, ow, 2, 0, sums); ow += 2; }
            if (ow < interior_end) { forward_pixels(x, kernel, bias, y, w, oh, ow, 1, 0, sums); ow++; }
            for (; ow < w->output_width; ow++) forward_pixels(x, kernel, bias, y, w, oh, ow, 1, 1, sums);
        }
    }
}

__attribute__((target("avx512f"))) static void forward_by_rows_avx512(const float *restrict input, const float *restrict kernel, const float *restrict bias,
                                                                      float *restrict output, const struct distill_window *w, int batch) {
    forward_by_rows(input, kernel, bias, output, w, batch, 8, 8);
}

__attribute__((target("avx2"))) static void forward_by_rows_avx2(const float *restrict input, const float *restrict kernel, const float *restrict bias,
                                                                 float *restrict output, const struct distill_window *w, int batch) {
    forward_by_rows(input, kernel, bias, output, w, batch, 4, 4);
}

// Each output value starts from its bias and adds the taps in row-major order, one product at a
// time. With one filter per channel the accumulators run over 16 contiguous channels in registers.
CLONES void distill_depthwise_forward(const float *restrict input, const float *restrict kernel, const float *restrict bias,
                                      float *restrict output, const struct distill_window *w, int batch) {
    const int c = w->channels, dm = w->multiplier, width = c * dm;
    const int level = dm == 1 && c % 16 == 0 ? distill_depthwise_level(-1) : DISTILL_DEPTHWISE_PLAIN;
    if (level == DISTILL_DEPTHWISE_AVX512) return forward_by_rows_avx512(input, kernel, bias, output, w, batch);
    if (level == DISTILL_DEPTHWISE_AVX2) return forward_by_rows_avx2(input, kernel, bias, output, w, batch);
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
    for (int kh = 0; kernel_gradient && kh < kh_count; kh++) {
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

// The input gradient of `count` pixels of input row `ih`, `stride_width` apart from `iw0` (so that the same kernel
// columns read them all), times `blocks` 16-channel blocks from `j` (constants where inlined), one filter per
// channel: each sum gathers the taps that read its pixel in the plain loop's order (from the last kernel row
// and column, so that the output pixels ascend), from zero. Only one-pixel `edge` runs have taps to skip.
__attribute__((always_inline)) static inline void input_gradient_run(const float *restrict dy, const float *restrict kernel, float *restrict dx,
                                                                     const struct distill_window *w, int ih, int iw0,
                                                                     int count, int blocks, int edge, int j) {
    const int c = w->channels;
    v16 sum[8];
    for (int t = 0; t < count * blocks; t++) sum[t] = (v16){0};
    for (int kh = w->kernel_height - 1; kh >= 0; kh--) {
        const int rows = ih + w->pad_top - kh;   // oh * stride_height
        if (rows < 0 || rows % w->stride_height != 0 || rows / w->stride_height >= w->output_height) continue;
        const float *row = dy + (long)(rows / w->stride_height) * w->output_width * c + j;
        for (int kw = w->kernel_width - 1; kw >= 0; kw--) {
            const int columns = iw0 + w->pad_left - kw;   // the first pixel's ow * stride_width
            if (edge ? columns < 0 || columns / w->stride_width >= w->output_width : 0) continue;
            if (columns % w->stride_width != 0) continue;
            const float *weights = kernel + (long)(kh * w->kernel_width + kw) * c + j, *first = row + (long)(columns / w->stride_width) * c;
            for (int b = 0; b < blocks; b++) {
                const v16 weight = *(const v16 *)(weights + 16 * b);
                for (int t = 0; t < count; t++)
                    sum[t * blocks + b] = sum[t * blocks + b] + *(const v16 *)(first + (long)t * c + 16 * b) * weight;
            }
        }
    }
    for (int t = 0; t < count; t++)
        for (int b = 0; b < blocks; b++)
            *(v16 *)(dx + ((long)ih * w->width + iw0 + t * w->stride_width) * c + j + 16 * b) = sum[t * blocks + b];
}

__attribute__((always_inline)) static inline void input_gradient_pixels(const float *restrict dy, const float *restrict kernel, float *restrict dx,
                                                                        const struct distill_window *w, int ih, int iw0, int count, int edge,
                                                                        int sums) {
    const int c = w->channels, widest = sums / count >= 4 ? 4 : sums / count >= 2 ? 2 : 1;
    int j = 0;
    for (; j + 16 * widest <= c; j += 16 * widest) input_gradient_run(dy, kernel, dx, w, ih, iw0, count, widest, edge, j);
    if (widest >= 4 && j + 32 <= c) { input_gradient_run(dy, kernel, dx, w, ih, iw0, count, 2, edge, j); j += 32; }
    if (widest >= 2 && j + 16 <= c) input_gradient_run(dy, kernel, dx, w, ih, iw0, count, 1, edge, j);
}

// One image's input gradient, one filter per channel, a multiple of 16 channels: an input row at a time, and in
// it the columns of each phase (iw mod stride_width: read by the same kernel columns) in runs of up to `longest`
// with at most `sums` sums (as forward_by_rows).
// A column is interior when every kernel column's output column, iw + pad_left - kw over the stride, lies in
// [0, output_width) (checked without the divisibility: where it fails, the tap is skipped in both).
__attribute__((always_inline)) static inline void input_gradient_by_rows(const float *restrict dy, const float *restrict kernel, float *restrict dx,
                                                                         const struct distill_window *w, int longest, int sums) {
    const int s = w->stride_width, lowest = w->kernel_width - 1 - w->pad_left, highest = (w->output_width - 1) * s - w->pad_left;
    for (int ih = 0; ih < w->height; ih++) {
        for (int phase = 0; phase < s && phase < w->width; phase++) {
            int iw = phase;
            for (; iw < w->width && iw < lowest; iw += s) input_gradient_pixels(dy, kernel, dx, w, ih, iw, 1, 1, sums);
            const int end = highest < w->width - 1 ? highest : w->width - 1;   // the last interior column
            for (; longest >= 8 && iw + 7 * s <= end; iw += 8 * s) input_gradient_pixels(dy, kernel, dx, w, ih, iw, 8, 0, sums);
            for (; iw + 3 * s <= end; iw += 4 * s) input_gradient_pixels(dy, kernel, dx, w, ih, iw, 4, 0, sums);
            if (iw + s <= end) { input_gradient_pixels(dy, kernel, dx, w, ih, iw, 2, 0, sums); iw += 2 * s; }
            if (iw <= end) { input_gradient_pixels(dy, kernel, dx, w, ih, iw, 1, 0, sums); iw += s; }
            for (; iw < w->width; iw += s) input_gradient_pixels(dy, kernel, dx, w, ih, iw, 1, 1, sums);
        }
    }
}

__attribute__((target("avx512f"))) static void input_gradient_by_rows_avx512(const float *restrict dy, const float *restrict kernel, float *restrict dx,
                                                                             const struct distill_window *w) {
    input_gradient_by_rows(dy, kernel, dx, w, 8, 8);
}

__attribute__((target("avx2"))) static void input_gradient_by_rows_avx2(const float *restrict dy, const float *restrict kernel, float *restrict dx,
                                                                        const struct distill_window *w) {
    input_gradient_by_rows(dy, kernel, dx, w, 4, 4);
}

// A 3 x 3 kernel's gradient over one image for `blocks` 16-channel blocks from `j` and kernel rows [kh0, kh1)
// (constants where inlined), one filter per channel: those taps' sums in registers while the output pixels pass
// once, in ascending order, each tap adding only the pixels whose input it reads inside the image: the plain
// loop's order per tap.
__attribute__((always_inline)) static inline void kernel_gradient_3x3_run(const float *restrict x, const float *restrict dy, float *restrict dk,
                                                                          const struct distill_window *w, int blocks, int j, int kh0, int kh1) {
    const int c = w->channels;
    v16 sum[18];
    for (int tap = 3 * kh0; tap < 3 * kh1; tap++)
        for (int b = 0; b < blocks; b++) sum[(tap - 3 * kh0) * blocks + b] = *(const v16 *)(dk + (long)tap * c + j + 16 * b);
    for (int oh = 0; oh < w->output_height; oh++) {
        const int top = oh * w->stride_height - w->pad_top;
        for (int ow = 0; ow < w->output_width; ow++) {
            const int left = ow * w->stride_width - w->pad_left;
            const float *g = dy + ((long)oh * w->output_width + ow) * c + j;
            const long corner = ((long)top * w->width + left) * c + j;   // the window's first tap, maybe outside the image
            v16 gradient[2];
            for (int b = 0; b < blocks; b++) gradient[b] = *(const v16 *)(g + 16 * b);
            const int inside = top >= 0 && top + 3 <= w->height && left >= 0 && left + 3 <= w->width;
            for (int kh = kh0; kh < kh1; kh++) {
                if (!inside && (top + kh < 0 || top + kh >= w->height)) continue;
                for (int kw = 0; kw < 3; kw++) {
                    if (!inside && (left + kw < 0 || left + kw >= w->width)) continue;
                    for (int b = 0; b < blocks; b++)
                        sum[((kh - kh0) * 3 + kw) * blocks + b] = sum[((kh - kh0) * 3 + kw) * blocks + b]
                            + *(const v16 *)(x + (corner + ((long)kh * w->width + kw) * c + 16 * b)) * gradient[b];
                }
            }
        }
    }
    for (int tap = 3 * kh0; tap < 3 * kh1; tap++)
        for (int b = 0; b < blocks; b++) *(v16 *)(dk + (long)tap * c + j + 16 * b) = sum[(tap - 3 * kh0) * blocks + b];
}

// AVX-512: all nine taps of two blocks at once (18 of the 32 registers).
__attribute__((target("avx512f"))) static void kernel_gradient_3x3_avx512(const float *restrict x, const float *restrict dy, float *restrict dk,
                                                                          const struct distill_window *w) {
    int j = 0;
    for (; j + 32 <= w->channels; j += 32) kernel_gradient_3x3_run(x, dy, dk, w, 2, j, 0, 3);
    if (j < w->channels) kernel_gradient_3x3_run(x, dy, dk, w, 1, j, 0, 3);
}

// AVX2: a kernel row's three taps of one block at once (six of the 16 registers), the pixels passing thrice.
__attribute__((target("avx2"))) static void kernel_gradient_3x3_avx2(const float *restrict x, const float *restrict dy, float *restrict dk,
                                                                     const struct distill_window *w) {
    for (int j = 0; j < w->channels; j += 16)
        for (int kh = 0; kh < 3; kh++) kernel_gradient_3x3_run(x, dy, dk, w, 1, j, kh, kh + 1);
}

// Bias gradients accumulate over the pixels in order. With several filters per channel, each tap
// adds its share of the output gradient into the input pixel it read (a scatter).
CLONES void distill_depthwise_backward(const float *restrict input, const float *restrict kernel,
                                       const float *restrict output_gradient, float *restrict input_gradient,
                                       float *restrict kernel_gradient, float *restrict bias_gradient,
                                       const struct distill_window *w, int batch) {
    const int c = w->channels, dm = w->multiplier, width = c * dm;
    const long input_size = (long)w->height * w->width * c, pixels = (long)w->output_height * w->output_width;
    const int level = dm == 1 && c % 16 == 0 ? distill_depthwise_level(-1) : DISTILL_DEPTHWISE_PLAIN;
    if (input_gradient && dm != 1) memset(input_gradient, 0, sizeof(float) * input_size * batch);
    for (int n = 0; n < batch; n++) {
        const float *x = input + n * input_size, *dy_image = output_gradient + n * pixels * width;
        float *dx = input_gradient ? input_gradient + n * input_size : 0;
        if (bias_gradient) {
            for (long p = 0; p < pixels; p++) {
                for (int j = 0; j < width; j++) bias_gradient[j] = bias_gradient[j] + dy_image[p * width + j];
            }
        }
        if (level == DISTILL_DEPTHWISE_AVX512) {
            if (w->kernel_height == 3 && w->kernel_width == 3) kernel_gradient_3x3_avx512(x, dy_image, kernel_gradient, w);
            else backward_per_channel(x, kernel, dy_image, 0, kernel_gradient, w);
            if (dx) input_gradient_by_rows_avx512(dy_image, kernel, dx, w);
            continue;
        }
        if (level == DISTILL_DEPTHWISE_AVX2) {
            if (w->kernel_height == 3 && w->kernel_width == 3) kernel_gradient_3x3_avx2(x, dy_image, kernel_gradient, w);
            else backward_per_channel(x, kernel, dy_image, 0, kernel_gradient, w);
            if (dx) input_gradient_by_rows_avx2(dy_image, kernel, dx, w);
            continue;
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
