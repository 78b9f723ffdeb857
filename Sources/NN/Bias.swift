/// `output[r, :] = bias` for every row (zeros without a bias): the starting value a GEMM with beta = 1 then adds to.
@inline(__always)
func startFromBias(_ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    guard let bias else { return output.update(repeating: 0, count: rows * columns) }
    for r in 0..<rows { (output + r * columns).update(from: bias, count: columns) }
}

/// `biasGradient[j] += sum_r gradient[r, j]`.
@inline(__always)
func accumulateColumnSums(_ gradient: UnsafePointer<Float>, rows: Int, columns: Int, into biasGradient: UnsafeMutablePointer<Float>) {
    for r in 0..<rows { accumulate(gradient + r * columns, into: biasGradient, count: columns) }
}
