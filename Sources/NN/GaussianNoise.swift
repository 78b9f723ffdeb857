import Foundation

/// Keras's `GaussianNoise(stddev)` and `GaussianDropout(rate)`: in training, each value gets normal noise,
///
///     GaussianNoise     y = x + n,   n ~ N(0, stddev^2)                  dx = dy
///     GaussianDropout   y = x * n,   n ~ N(1, rate / (1 - rate))          dx = dy * n
///
/// and in inference the input passes through. Each draw is a Box-Muller transform of a hash of the pass's key for
/// the layer and sample (`TrainingPass.sampleKey`) and the value's index, so 1 rank and N ranks draw the same noise
/// for the same global batch (Keras's own `seed` is not used, as for Dropout).
public final class GaussianNoise: Layer, ModeDependentLayer {
    public enum Mode: String, Sendable { case additive = "gaussian_noise", multiplicative = "gaussian_dropout" }

    public let mode: Mode, deviation: Float
    public var kind: String { mode.rawValue }
    private var size = 0
    private var pass: TrainingPass?
    private var layerIndex = 0
    private var noise = FloatBuffer(count: 0)   // [maxBatch, size]: the last training forward's factors (multiplicative)

    /// `deviation`: the noise's standard deviation (GaussianDropout's sqrt(rate / (1 - rate))).
    public init(_ mode: Mode, deviation: Float) { (self.mode, self.deviation) = (mode, deviation) }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return inputShape
    }

    public func reserve(maxBatch: Int) {
        if mode == .multiplicative, noise.count < maxBatch * size { noise = FloatBuffer(count: maxBatch * size) }
    }

    public func begin(_ pass: TrainingPass?, layer index: Int) { (self.pass, layerIndex) = (pass, index) }

    /// A standard normal value from a 64-bit hash: Box-Muller on its top and bottom 24 bits, u1 in (0, 1].
    @inline(__always)
    static func standardNormal(_ hash: UInt64) -> Float {
        let u1 = (Double(hash >> 40) + 1) / Double(1 << 24), u2 = Double(hash & 0xFF_FFFF) / Double(1 << 24)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        guard let pass, deviation > 0 else {
            output.update(from: input, count: batch * size)
            if pass != nil, mode == .multiplicative { noise.pointer.update(repeating: 1, count: batch * size) }
            return
        }
        precondition(pass.sampleIDs.count == batch, "a training pass names \(pass.sampleIDs.count) samples for a batch of \(batch)")
        for row in 0..<batch {
            let key = pass.sampleKey(layer: layerIndex, row: row)
            let (x, y) = (input + row * size, output + row * size)
            for j in 0..<size {
                let n = deviation * Self.standardNormal(SeededGenerator.mix(key &+ UInt64(j) &* 0x9E37_79B9_7F4A_7C15))
                switch mode {
                case .additive: y[j] = x[j] + n
                case .multiplicative:
                    noise.pointer[row * size + j] = 1 + n
                    y[j] = x[j] * (1 + n)
                }
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        switch mode {
        case .additive: inputGradient.update(from: outputGradient, count: batch * size)
        case .multiplicative: for i in 0..<batch * size { inputGradient[i] = outputGradient[i] * noise.pointer[i] }
        }
    }
}

extension GaussianNoise: KerasLayer {
    public static let kerasClassNames = ["GaussianNoise", "GaussianDropout"]
    public static let kerasClassName = kerasClassNames[0]

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // noise comes from the run's seed (see above)
        if config.className == "GaussianNoise" {
            return BuiltLayer([GaussianNoise(.additive, deviation: try config.float("stddev", range: 0...1e6))])
        }
        let rate = try config.float("rate", range: 0...1)
        guard rate < 1 else { throw config.error("option rate is \(rate); expected a number in [0, 1)") }
        return BuiltLayer([GaussianNoise(.multiplicative, deviation: Float((Double(rate) / (1 - Double(rate))).squareRoot()))])
    }
}
