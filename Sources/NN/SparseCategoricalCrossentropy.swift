import Foundation

/// Keras's `SparseCategoricalCrossentropy(from_logits: true)`: per sample
/// `loss = logsumexp(z) - z[label]`, via a stable log-softmax.
public struct SparseCategoricalCrossentropy: Sendable {
    public init() {}

    /// Sums the loss over `rows` samples of `logits[rows, classes]` and, when `gradient` is non-nil,
    /// writes `gradient[r, :] = scale * dLoss_r/dz = scale * (softmax(z) - onehot(label))`.
    /// Returning the sum (not the mean) lets data-parallel callers reduce sums and divide once by
    /// the global sample count; pass `scale = 1 / globalCount` to get the mean's gradient.
    public func callAsFunction(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let z = logits + r * classes
            let label = Int(labels[r])
            var maximum = -Float.infinity
            for c in 0..<classes { maximum = Swift.max(maximum, z[c]) }
            var sum: Float = 0
            for c in 0..<classes { sum += expf(z[c] - maximum) }
            let logSumExp = maximum + logf(sum)
            total += Double(logSumExp - z[label])
            guard let gradient else { continue }
            let g = gradient + r * classes
            for c in 0..<classes { g[c] = scale * expf(z[c] - logSumExp) }
            g[label] -= scale
        }
        return total
    }
}
