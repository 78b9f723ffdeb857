// The machine's multiply-add peak on one thread, for bench's ratios: a loop of independent fused
// multiply-adds on the widest vectors the CPU has (AVX-512, AVX2 with FMA, or baseline SSE2 with
// separate multiplies and adds), enough of them in flight to hide the adder's latency.
#ifndef DISTILL_MULTIPLY_ADD_PEAK_H
#define DISTILL_MULTIPLY_ADD_PEAK_H

// Runs `iterations` iterations and returns the multiply-adds it performed. `isa` (unless NULL) gets
// the instruction set used: "avx512f", "avx2+fma" or "sse2"; `sum` (unless NULL) a sum of the
// accumulators, so the loop cannot be removed.
double distill_multiply_add_loop(long iterations, const char **isa, float *sum);

#endif
