import Foundation
import NN

/// DIST (Huang et al., NeurIPS 2022, "Knowledge Distillation from A Stronger Teacher"), as the authors'
/// CIFAR-100 code computes it (their `DIST(beta=1, gamma=1, tau=4)` weighted 2 beside a cross-entropy of weight 1):
///
///     total = CE(z_s, y) + T^2 * (beta * inter + gamma * intra)
///     inter = 1 - mean over the samples i of pearson(p[i, :], q[i, :])   a sample's classes
///     intra = 1 - mean over the classes c of pearson(p[:, c], q[:, c])   a class over the global batch
///
/// with `p = softmax(z_s / T)`, `q = softmax(z_t / T)` and `pearson(a, b) = (u . v) / (|u| |v| + 1e-8)`,
/// `u = a - mean(a)`, `v = b - mean(b)`. The intra term spans the global batch: each rank's per-class
/// sums of p, q, p^2, q^2 and pq go through one reduction, so 1 and N ranks compute the same loss.
/// `d pearson / d a = v / (|u| |v| + e) - (u . v) |v| u / (|u| (|u| |v| + e)^2)` (zero mean, so the
/// centring passes it through), then the softmax's Jacobian at T.
/// With MixUp (`LossBatch.mix`) the CE is the mixed labels'; the DIST term has no labels.
/// Reports `student_loss` (the CE) and `distillation_loss` (the weighted DIST term).
public final class CorrelationDistillation: DistillationObjective {
    public let metricNames = ["student_loss", "distillation_loss"]
    public let beta: Float, gamma: Float, temperature: Float
    static let epsilon = 1e-8
    private let crossEntropy = SparseCategoricalCrossentropy()
    private var studentGradient = FloatBuffer(count: 0)   // [rows, classes]
    // Workspaces in Double, sized by `reserve`: the probabilities at T and d(DIST term)/dp, each [rows, classes];
    // per-class sums over the global batch, then per-class terms, [5, classes].
    private var p = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0), q = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0)
    private var dp = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0), columns = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0)

    public init(beta: Float = 2, gamma: Float = 2, temperature: Float = 4) {
        (self.beta, self.gamma, self.temperature) = (beta, gamma, temperature)
    }

    deinit { [p, q, dp, columns].forEach { $0.deallocate() } }

    public func reserve(rows: Int, classes: Int) {
        if studentGradient.count < rows * classes {
            studentGradient = FloatBuffer(count: rows * classes)
            [p, q, dp].forEach { $0.deallocate() }
            (p, q, dp) = (.allocate(capacity: rows * classes), .allocate(capacity: rows * classes), .allocate(capacity: rows * classes))
        }
        if columns.count < 5 * classes {
            columns.deallocate()
            columns = .allocate(capacity: 5 * classes)
        }
    }

    public func compute(_ batch: LossBatch, gradient: UnsafeMutablePointer<Float>, sums: UnsafeMutableBufferPointer<Double>) {
        let (rows, classes) = (batch.rows, batch.classes)
        reserve(rows: rows, classes: classes)
        let scale = 1 / Double(batch.globalCount), t = Double(temperature)
        sums[0] = crossEntropy(logits: batch.student, labels: batch.labels, mix: batch.mix, rows: rows, classes: classes,
                               gradient: studentGradient.pointer, scale: Float(scale))
        let (p, q, dp) = (p.baseAddress!, q.baseAddress!, dp.baseAddress!)
        var inter = 0.0
        for row in 0..<rows {
            softmaxInDouble(batch.student + row * classes, temperature: t, into: p + row * classes, classes: classes)
            softmaxInDouble(batch.teacher + row * classes, temperature: t, into: q + row * classes, classes: classes)
            // The inter term and its gradient, this row's share of the mean over the global batch.
            inter += 1 - Self.pearson(p + row * classes, q + row * classes, count: classes,
                                      gradient: dp + row * classes, gradientScale: -t * t * Double(beta) * scale)
        }
        let intra = intraTerm(rows: rows, classes: classes, batch: batch)
        // Back through the softmax at T: dz_j = p_j (dp_j - sum_k dp_k p_k) / T.
        for row in 0..<rows {
            let base = row * classes
            var along = 0.0
            for j in 0..<classes { along += dp[base + j] * p[base + j] }
            for j in 0..<classes {
                gradient[base + j] = studentGradient.pointer[base + j] + Float(p[base + j] * (dp[base + j] - along) / t)
            }
        }
        // This rank's share of the batch's figure: the inter term per sample, the intra term once per sample.
        sums[1] = t * t * (Double(beta) * inter + Double(gamma) * intra * Double(rows))
    }

    /// The intra term `1 - mean_c pearson(p[:, c], q[:, c])` over the global batch from one reduction of
    /// per-class sums, its gradient added to `dp`.
    private func intraTerm(rows: Int, classes: Int, batch: LossBatch) -> Double {
        let s = UnsafeMutableBufferPointer(rebasing: columns[0..<5 * classes])
        s.update(repeating: 0)
        for row in 0..<rows {
            for c in 0..<classes {
                let (a, b) = (p[row * classes + c], q[row * classes + c])
                s[c] += a; s[classes + c] += b; s[2 * classes + c] += a * a; s[3 * classes + c] += b * b; s[4 * classes + c] += a * b
            }
        }
        batch.reducer?.sum(s)
        let n = Double(batch.globalCount), weight = -Double(temperature * temperature) * Double(gamma) / Double(classes)
        var correlation = 0.0
        for c in 0..<classes {
            let (meanA, meanB) = (s[c] / n, s[classes + c] / n)
            let uu = max(s[2 * classes + c] - n * meanA * meanA, 0), vv = max(s[3 * classes + c] - n * meanB * meanB, 0)
            let uv = s[4 * classes + c] - n * meanA * meanB
            let (nu, nv) = (uu.squareRoot(), vv.squareRoot())
            let denominator = nu * nv + Self.epsilon
            correlation += uv / denominator
            // Reuse the slots: d pearson / d a_i = k1 (b_i - meanB) - k2 (a_i - meanA).
            (s[c], s[classes + c]) = (meanA, meanB)
            (s[2 * classes + c], s[3 * classes + c]) = (1 / denominator, nu > 0 ? uv * nv / (nu * denominator * denominator) : 0)
        }
        for row in 0..<rows {
            for c in 0..<classes {
                let (a, b) = (p[row * classes + c], q[row * classes + c])
                dp[row * classes + c] += weight * (s[2 * classes + c] * (b - s[classes + c]) - s[3 * classes + c] * (a - s[c]))
            }
        }
        return 1 - correlation / Double(classes)
    }

    /// `pearson(a, b)` over `count` values, and `gradientScale * d pearson / d a` written to `gradient`.
    static func pearson(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int,
                        gradient: UnsafeMutablePointer<Double>? = nil, gradientScale: Double = 1) -> Double {
        var (meanA, meanB) = (0.0, 0.0)
        for k in 0..<count { meanA += a[k]; meanB += b[k] }
        (meanA, meanB) = (meanA / Double(count), meanB / Double(count))
        var (uu, vv, uv) = (0.0, 0.0, 0.0)
        for k in 0..<count {
            let (u, v) = (a[k] - meanA, b[k] - meanB)
            uu += u * u; vv += v * v; uv += u * v
        }
        let (nu, nv) = (uu.squareRoot(), vv.squareRoot())
        let denominator = nu * nv + epsilon
        if let gradient {
            let k2 = nu > 0 ? uv * nv / (nu * denominator * denominator) : 0
            for k in 0..<count {
                gradient[k] = gradientScale * ((b[k] - meanB) / denominator - k2 * (a[k] - meanA))
            }
        }
        return uv / denominator
    }
}

extension LossKind {
    /// DIST with its own beta, gamma and T (the authors' CIFAR-100 defaults), beside a cross-entropy of weight 1.
    public static let dist = LossKind(SpecificationSchema("dist", help: "Huang et al.'s DIST as the authors' CIFAR-100 code: CE + T^2 * (beta * inter + gamma * intra), 1 - Pearson correlations of the probabilities at T per sample and per class over the global batch", [
        .init("beta", .number(default: 2, range: .init(0, 100)), help: "weight of the inter-class (per sample) term"),
        .init("gamma", .number(default: 2, range: .init(0, 100)), help: "weight of the intra-class (per class, over the batch) term"),
        .init("T", .number(default: 4, range: .init(0, 1000, openLower: true)), help: "temperature"),
    ])) { p, _, _ in
        CorrelationDistillation(beta: p.number("beta"), gamma: p.number("gamma"), temperature: p.number("T"))
    }
}
