// The activations NN's SmoothActivation computes with exp, erf or tanh, over arrays of n floats. exp, erf and tanh come from
// glibc's vector math library (libmvec: 16 lanes on AVX-512, 8 on AVX2, 4 on baseline x86-64; elsewhere libm's
// scalar functions), 256 values a call, a last partial block padded: every value goes through the same
// function wherever it falls in the array, so its bits do not depend on the batch's slicing. The arithmetic
// around them is as written (never contracted into FMAs), the same in every clone.
#ifndef DISTILL_SMOOTH_H
#define DISTILL_SMOOTH_H

// y = 1 / (1 + exp(-x)).
void distill_sigmoid_forward(const float *x, float *y, long n);
// y = tanh(x).
void distill_tanh_forward(const float *x, float *y, long n);
// y = x * (1 / (1 + exp(-x))).
void distill_silu_forward(const float *x, float *y, long n);
// dx = dy * (s * (1 + x * (1 - s))), s = 1 / (1 + exp(-x)).
void distill_silu_backward(const float *x, const float *dy, float *dx, long n);
// y = 0.5 * x * (1 + erf(x / sqrt(2))).
void distill_gelu_forward(const float *x, float *y, long n);
// dx = dy * (0.5 * (1 + erf(x / sqrt(2))) + x * exp(-0.5 * x * x) * 1 / sqrt(2 pi)).
void distill_gelu_backward(const float *x, const float *dy, float *dx, long n);
// Which vector functions run here: 16 (AVX-512), 8 (AVX2), 4 (SSE) lanes, or 1 (libm, not x86-64 glibc).
int distill_smooth_lanes(void);
// For tests: use at most `lanes` (16, 8 or 4; the CPU's widest at most); returns the lanes now used.
int distill_smooth_cap_lanes(int lanes);

#endif
