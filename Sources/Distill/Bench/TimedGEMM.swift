import Dispatch
import NN

/// A GEMM backend that times every product of another one, per shape (for `bench --profile`).
final class TimedGEMM: GEMMBackend {
    let inner: GEMMBackend
    /// Nanoseconds and calls per shape, and the total, since the last `reset`.
    private(set) var nanoseconds: [GEMMShape: UInt64] = [:]
    private(set) var calls: [GEMMShape: Int] = [:]
    private(set) var total: UInt64 = 0

    init(_ inner: GEMMBackend) { self.inner = inner }

    var name: String { inner.name }
    var implementation: String { inner.implementation }
    func setThreads(_ count: Int) { inner.setThreads(count) }
    func prepare(_ shape: GEMMShape) { inner.prepare(shape) }
    func implementation(of shape: GEMMShape) -> String { inner.implementation(of: shape) }

    func multiply(_ shape: GEMMShape, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        let start = DispatchTime.now().uptimeNanoseconds
        inner.multiply(shape, a, b, c)
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        nanoseconds[shape, default: 0] += elapsed
        calls[shape, default: 0] += 1
        total += elapsed
    }

    func reset() {
        nanoseconds.removeAll(keepingCapacity: true)
        calls.removeAll(keepingCapacity: true)
        total = 0
    }
}
