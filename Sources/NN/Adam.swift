import Foundation

/// Adam exactly as Keras: `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
/// `p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`.
/// Moments live in flat buffers laid out like the model's `ParameterStore`.
public final class Adam {
    public let learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public private(set) var iterations = 0
    private var m = FloatBuffer(count: 0), v = FloatBuffer(count: 0)

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// The first and second moments, laid out like the model's `ParameterStore` (empty before the first update).
    public var moments: (m: FloatBuffer, v: FloatBuffer) { (m, v) }

    /// Continues from a saved state: `iterations` updates taken, moments `m` and `v` of `count` values each.
    public func restore(iterations: Int, m savedM: [Float], v savedV: [Float]) {
        precondition(savedM.count == savedV.count, "Adam moments of different sizes")
        m = FloatBuffer(count: savedM.count)
        v = FloatBuffer(count: savedV.count)
        for i in 0..<savedM.count { (m.pointer[i], v.pointer[i]) = (savedM[i], savedV[i]) }
        self.iterations = iterations
    }

    /// One update of every parameter from the (already averaged) gradients.
    public func update(_ store: ParameterStore) {
        if m.count != store.count {
            m = FloatBuffer(count: store.count)
            v = FloatBuffer(count: store.count)
            iterations = 0
        }
        iterations += 1
        let t = Double(iterations)
        let stepSize = Float(Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
        let p = store.values.pointer, g = store.gradients.pointer, m = m.pointer, v = v.pointer
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        var i = 0
        // Sixteen lanes, each exactly the scalar update below.
        let b1 = Float16x(repeating: oneMinusBeta1), b2 = Float16x(repeating: oneMinusBeta2)
        let step = Float16x(repeating: stepSize), eps = Float16x(repeating: epsilon)
        while i + 16 <= store.count {
            let gi = load16(g + i)
            var mi = load16(m + i), vi = load16(v + i)
            mi += (gi - mi) * b1
            vi += (gi * gi - vi) * b2
            store16(mi, m + i)
            store16(vi, v + i)
            store16(load16(p + i) - step * mi / (vi.squareRoot() + eps), p + i)
            i += 16
        }
        for j in i..<store.count {
            m[j] += (g[j] - m[j]) * oneMinusBeta1
            v[j] += (g[j] * g[j] - v[j]) * oneMinusBeta2
            p[j] -= stepSize * m[j] / (v[j].squareRoot() + epsilon)
        }
    }
}
