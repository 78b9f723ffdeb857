import COpenBLAS

/// Row-major `C = alpha * op(A) * op(B) + beta * C`, with op(A) `[m, k]`, op(B) `[k, n]`, C `[m, n]`.
/// The one place NN calls BLAS: every matrix product of every layer goes through here.
@inline(__always)
func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, _ a: UnsafePointer<Float>, lda: Int,
    _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
}

/// OpenBLAS's thread pool size for this process.
public enum BLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(Swift.max(1, count))) }
}

/// A plain `cblas_sgemm` of the given shape, for benchmarks that compare a model against BLAS itself.
public func benchmarkGEMM(m: Int, n: Int, k: Int, a: FloatBuffer, b: FloatBuffer, c: FloatBuffer) {
    gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a.pointer, lda: k, b.pointer, ldb: n, beta: 0, c.pointer, ldc: n)
}
