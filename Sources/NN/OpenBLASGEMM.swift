import COpenBLAS

/// `cblas_sgemm` from Debian's OpenBLAS. It plans nothing per shape; its kernel is the one the
/// environment's `OPENBLAS_CORETYPE` picks (never changed here).
public final class OpenBLASGEMM: GEMMBackend {
    public var name: String { "openblas" }
    public var implementation: String { "OpenBLAS, \(String(cString: openblas_get_corename())) kernels" }

    public init() {}

    public func setThreads(_ count: Int) { Self.setLibraryThreads(count) }

    static func setLibraryThreads(_ count: Int) { openblas_set_num_threads(Int32(clamping: Swift.max(1, count))) }

    public func prepare(_ shape: GEMMShape) {}

    public func implementation(of shape: GEMMShape) -> String { "cblas_sgemm" }

    public func multiply(_ s: GEMMShape, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        guard !s.isEmpty else { return }
        cblas_sgemm(CblasRowMajor, s.transposeA ? CblasTrans : CblasNoTrans, s.transposeB ? CblasTrans : CblasNoTrans,
                    blasint(s.m), blasint(s.n), blasint(s.k), 1, a, blasint(s.lda), b, blasint(s.ldb),
                    s.accumulate ? 1 : 0, c, blasint(s.ldc))
    }
}
