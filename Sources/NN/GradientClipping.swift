import Foundation

/// Keras's gradient clipping, which its optimizers apply before weight decay and the update
/// (`clipnorm`, `global_clipnorm`, `clipvalue`; at most one). A variable is one entry of the
/// `ParameterStore` (a layer's kernel, bias, gamma...), as in Keras; float32 as Keras's ops, the
/// sums of squares in order (TensorFlow's reductions may add in another order: ~1 ulp of the norm).
public enum GradientClipping: Sendable, Equatable {
    case none
    /// Each variable's gradient `g * c / max(||g||, c)`.
    case norm(Float)
    /// Every gradient `g * c * min(1 / ||all||, 1 / c)`, `||all||` over every variable.
    case globalNorm(Float)
    /// Each component clipped to `[-c, c]`.
    case value(Float)

    public func apply(to store: ParameterStore) {
        let g = store.gradients.pointer
        func squares(_ range: Range<Int>) -> Float { range.reduce(Float(0)) { $0 + g[$1] * g[$1] } }
        switch self {
        case .none:
            return
        case .norm(let c):
            for entry in store.entries {
                let divisor = max(squares(entry.range).squareRoot(), c)
                for i in entry.range { g[i] = g[i] * c / divisor }
            }
        case .globalNorm(let c):
            let norm = squares(0..<store.count).squareRoot()
            let scale = c * min(1 / norm, 1 / c) + (norm - norm)   // NaN for a non-finite norm, as Keras's
            for i in 0..<store.count { g[i] = g[i] * scale }
        case .value(let c):
            for i in 0..<store.count { g[i] = min(max(g[i], -c), c) }
        }
    }
}
