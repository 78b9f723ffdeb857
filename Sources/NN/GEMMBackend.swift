/// One row-major matrix product `C = op(A) * op(B)` (or `C += ...` when `accumulate`), with op(A)
/// `[m, k]`, op(B) `[k, n]` and C `[m, n]`; a transposed operand is stored `[k, m]` / `[n, k]`.
/// A backend may plan per shape, so the shape (leading dimensions included) is its key.
public struct GEMMShape: Hashable, Sendable, CustomStringConvertible {
    public var transposeA = false, transposeB = false
    public var m: Int, n: Int, k: Int
    public var lda: Int, ldb: Int, ldc: Int
    public var accumulate = false

    public init(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                lda: Int, ldb: Int, ldc: Int, accumulate: Bool = false) {
        (self.transposeA, self.transposeB, self.m, self.n, self.k) = (transposeA, transposeB, m, n, k)
        (self.lda, self.ldb, self.ldc, self.accumulate) = (lda, ldb, ldc, accumulate)
    }

    /// The plain untransposed product `[m, k] x [k, n]` with packed rows.
    public static func plain(m: Int, n: Int, k: Int) -> GEMMShape { GEMMShape(m: m, n: n, k: k, lda: k, ldb: n, ldc: n) }

    public var flops: Int { 2 * m * n * k }
    public var isEmpty: Bool { m == 0 || n == 0 }

    public var description: String {
        "\(m)x\(n)x\(k)\(transposeA ? " A^T" : "")\(transposeB ? " B^T" : "")\(accumulate ? " +=" : "")"
    }
}

/// The seam every FLOP of consequence goes through. Layers that multiply matrices hold one
/// (passed in when they are made), so the choice of library is a value, not a global.
public protocol GEMMBackend: AnyObject {
    /// What `--gemm` calls it: "onednn" or "openblas".
    var name: String { get }
    /// What it dispatched to on this CPU, e.g. "oneDNN 2.6.3, avx512_core_bf16, matmul brg:avx512_core".
    var implementation: String { get }
    /// Threads each product may use.
    func setThreads(_ count: Int)
    /// Makes whatever `shape` needs (a primitive, a workspace) now, so steps allocate nothing.
    func prepare(_ shape: GEMMShape)
    /// `C = op(A) * op(B)` or `C += op(A) * op(B)`; plans `shape` first if `prepare` was not called.
    func multiply(_ shape: GEMMShape, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>)
    /// How `shape` is carried out (for the profile), e.g. "brg:avx512_core"; "" when not planned.
    func implementation(of shape: GEMMShape) -> String
}

/// The backends `--gemm` offers.
public enum GEMMBackendKind: String, CaseIterable, Sendable {
    case onednn, openblas

    public func make() throws -> GEMMBackend {
        switch self {
        case .onednn: return try OneDNNGEMM()
        case .openblas: return OpenBLASGEMM()
        }
    }

    /// Sets the library's own thread pool, whether or not a backend of this kind was made.
    public func setThreads(_ count: Int) {
        switch self {
        case .onednn: OneDNNGEMM.setLibraryThreads(count)
        case .openblas: OpenBLASGEMM.setLibraryThreads(count)
        }
    }
}
