import Foundation

/// Keras's `KLDivergence`: per sample `sum_c t_c * log(t_c / s_c)` with both distributions
/// clipped to `[1e-7, 1]`, here for `t = softmax(teacher / T)` and `s = softmax(student / T)`.
public struct KLDivergence: Sendable {
    public static let epsilon: Float = 1e-7

    public init() {}

    /// Sums the divergence over `rows` samples and, when `gradient` is non-nil, writes
    /// `gradient[r, :] = scale * d KL_r / d studentLogits[r, :]` (the clip passes no gradient
    /// where it is active, as TensorFlow's `clip_by_value`). `teacherProbabilities` and
    /// `studentProbabilities` are the softened softmaxes `[rows, classes]`.
    public func callAsFunction(
        teacherProbabilities t: UnsafePointer<Float>, studentProbabilities s: UnsafePointer<Float>,
        temperature: Float, rows: Int, classes: Int,
        gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> Double {
        let eps = KLDivergence.epsilon
        var total = 0.0
        for r in 0..<rows {
            let tr = t + r * classes, sr = s + r * classes
            var divergence: Float = 0
            for c in 0..<classes {
                let tc = Swift.min(Swift.max(tr[c], eps), 1), sc = Swift.min(Swift.max(sr[c], eps), 1)
                divergence += tc * logf(tc / sc)
            }
            total += Double(divergence)
            guard let gradient else { continue }
            // With u = z / T: dKL/ds_c = -t_c / s_c inside the clip (0 outside), and
            // dKL/du_j = s_j * (g_j - sum_c g_c s_c), then dKL/dz = dKL/du / T.
            let g = gradient + r * classes
            var weighted: Float = 0
            for c in 0..<classes {
                let tc = Swift.min(Swift.max(tr[c], eps), 1)
                g[c] = sr[c] >= eps ? -tc / sr[c] : 0
                weighted += g[c] * sr[c]
            }
            for c in 0..<classes { g[c] = scale * sr[c] * (g[c] - weighted) / temperature }
        }
        return total
    }
}
