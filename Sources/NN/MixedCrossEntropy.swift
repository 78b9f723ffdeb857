/// MixUp's second label of each row of a batch (Zhang et al. 2018): row r's cross-entropy becomes
/// `weights[r] * CE(labels[r]) + (1 - weights[r]) * CE(partners[r])`. Nil wherever a batch is not mixed.
public struct LabelMix {
    /// `[rows]` the partner samples' labels.
    public let partners: UnsafePointer<Int32>
    /// `[rows]` lambda in [0, 1]: the weight of the row's own label (and of its own image in the mix).
    public let weights: UnsafePointer<Float>

    public init(partners: UnsafePointer<Int32>, weights: UnsafePointer<Float>) { (self.partners, self.weights) = (partners, weights) }
}

extension SparseCategoricalCrossentropy {
    /// The cross-entropy of mixed labels summed over `rows`, `lambda CE(y) + (1 - lambda) CE(y')` per row; `mix` nil is
    /// the plain loss, float for float. The log-sum-exps cancel, so it is the plain `CE(y)` plus a correction
    /// `(1 - lambda)(z[y] - z[y'])`, and the gradient the plain one plus `scale (1 - lambda)(onehot(y) - onehot(y'))`:
    /// at lambda = 1 both corrections add exactly zero.
    public func callAsFunction(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, mix: LabelMix?, rows: Int, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> Double {
        let plain = self(logits: logits, labels: labels, rows: rows, classes: classes, gradient: gradient, scale: scale)
        guard let mix else { return plain }
        var correction = 0.0
        for r in 0..<rows {
            let (own, partner, partnerWeight) = (Int(labels[r]), Int(mix.partners[r]), 1 - mix.weights[r])
            let z = logits + r * classes
            correction += Double(partnerWeight) * Double(z[own] - z[partner])
            guard let gradient else { continue }
            gradient[r * classes + own] += scale * partnerWeight
            gradient[r * classes + partner] -= scale * partnerWeight
        }
        return plain + correction
    }
}
