/// Keras's `UnitNormalization` over the last axis: each position's `C` values divided by their L2 norm,
/// `y = x * min(rsqrt(sum(x^2)), 1e12)` (Keras's `normalize` with epsilon 1e-12), the same in training and inference.
///
/// Backward, per position with `r = rsqrt(sum(x^2))`: `dx = r * dy - x * r^3 * sum(dy * x)`; where the cap holds
/// (a norm under 1e-12), `r` is a constant and `dx = 1e12 * dy`. The sums are taken in Double.
public final class UnitNormalization: Layer {
    /// Keras's `axis`, counting the batch as 0: -1, or the input's last.
    public let axis: Int
    public var kind: String { "unit_normalization" }
    private var channels = 0, size = 0
    private static let cap = 1e12

    public init(axis: Int = -1) { self.axis = axis }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw ModelError("unit normalization needs an input with channels, got \(inputShape)") }
        try LayerConfig.checkLastAxis(axis, inputShape: inputShape)
        (channels, size) = (last, elementCount(inputShape))
        return inputShape
    }

    /// `min(rsqrt(sum(x[0..<C]^2)), 1e12)`, and whether the cap holds.
    @inline(__always)
    private func inverseNorm(_ x: UnsafePointer<Float>) -> (Float, capped: Bool) {
        var squares = 0.0
        for k in 0..<channels { squares += Double(x[k]) * Double(x[k]) }
        let inverse = 1 / squares.squareRoot()
        return inverse < Self.cap ? (Float(inverse), false) : (Float(Self.cap), true)
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let c = channels
        for row in 0..<batch * size / c {
            let x = input + row * c, y = output + row * c
            let r = inverseNorm(x).0
            for k in 0..<c { y[k] = x[k] * r }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let c = channels
        for row in 0..<batch * size / c {
            let x = input + row * c, dy = outputGradient + row * c, dx = inputGradient + row * c
            let (r, capped) = inverseNorm(x)
            var gx = 0.0
            if !capped { for k in 0..<c { gx += Double(dy[k]) * Double(x[k]) } }
            let correction = r * r * r * Float(gx)
            for k in 0..<c { dx[k] = r * dy[k] - x[k] * correction }
        }
    }
}

extension UnitNormalization: KerasLayer {
    public static let kerasClassName = "UnitNormalization"

    /// The last axis only (-1, or its number counting the batch as 0, alone or in a list), Keras's default.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([UnitNormalization(axis: try config.lastAxis() ?? -1)])
    }
}
