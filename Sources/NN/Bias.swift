/// `output[r, :] = bias` for every row: the starting value a GEMM with beta = 1 then adds to.
@inline(__always)
func broadcastRows(_ bias: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    for r in 0..<rows { (output + r * columns).update(from: bias, count: columns) }
}

/// `biasGradient[j] += sum_r gradient[r, j]`.
@inline(__always)
func accumulateColumnSums(_ gradient: UnsafePointer<Float>, rows: Int, columns: Int, into biasGradient: UnsafeMutablePointer<Float>) {
    for r in 0..<rows { accumulate(gradient + r * columns, into: biasGradient, count: columns) }
}
