/// Inverted dropout as Keras's `Dropout`: in training each value is kept with probability
/// `1 - rate` and scaled by `1 / (1 - rate)`, else zeroed; in inference it passes through.
/// Keras's `noise_shape` (per sample here) draws one keep per element of that shape and broadcasts it over
/// the axes where it is 1: `[1, 1, 1]` keeps or drops a whole sample's tensor (EfficientNet's stochastic depth).
///
/// The mask is a hash of the pass's key for the layer and sample (`TrainingPass.sampleKey`) and the value's index,
/// so 1 rank and N ranks draw the same masks for the same global batch, and masks differ between steps and epochs.
/// Backward multiplies by the mask of the last forward.
public final class Dropout: Layer, ModeDependentLayer {
    public let rate: Float
    /// Per sample, the shape of the drawn keeps: each axis the input's or 1; nil for the input's own shape.
    public let noiseShape: [Int?]?
    public var kind: String { "dropout" }

    private var size = 0
    private var noiseIndex: [Int32] = []   // [size]: element j of a sample reads keep noiseIndex[j] (empty: j)
    private var keeps = FloatBuffer(count: 0)   // [noise elements]: one sample's drawn keeps, 0 or the scale
    private var pass: TrainingPass?
    private var layerIndex = 0
    private var mask = FloatBuffer(count: 0)   // [maxBatch, size]: 0 or 1 / (1 - rate)

    /// `noiseShape`: per sample, nil entries take the input's size (as Keras's None).
    public init(rate: Float, noiseShape: [Int?]? = nil) { (self.rate, self.noiseShape) = (rate, noiseShape) }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard rate >= 0, rate < 1 else { throw ModelError("dropout rate must be in [0, 1), got \(rate)") }
        size = elementCount(inputShape)
        noiseIndex = []
        guard let noiseShape else { return inputShape }
        // As Keras writes them, with the batch axis first.
        let noiseText = "[" + (["null"] + noiseShape.map { $0.map(String.init) ?? "null" }).joined(separator: ", ") + "]"
        let inputText = "[" + (["null"] + inputShape.map(String.init)).joined(separator: ", ") + "]"
        guard noiseShape.count == inputShape.count else {
            throw ModelError("dropout noise_shape \(noiseText) has \(noiseShape.count + 1) axes, but its input \(inputText) has \(inputShape.count + 1)")
        }
        let axes = zip(noiseShape, inputShape).map { $0 ?? $1 }
        guard zip(axes, inputShape).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw ModelError("dropout noise_shape \(noiseText) does not broadcast to its input \(inputText): each axis must be null, 1 or the input's")
        }
        keeps = FloatBuffer(count: elementCount(axes))
        guard axes != inputShape else { return inputShape }   // the default's keys, element by element
        noiseIndex = broadcastIndices(of: inputShape, reading: axes)
        return inputShape
    }

    public func reserve(maxBatch: Int) {
        if mask.count < maxBatch * size { mask = FloatBuffer(count: maxBatch * size) }
    }

    public func begin(_ pass: TrainingPass?, layer index: Int) {
        self.pass = pass
        layerIndex = index
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        guard let pass, rate > 0 else {
            output.update(from: input, count: batch * size)
            // Only a training forward is followed by a backward, which needs the mask.
            if pass != nil { mask.pointer.update(repeating: 1, count: batch * size) }
            return
        }
        precondition(pass.sampleIDs.count == batch, "a training pass names \(pass.sampleIDs.count) samples for a batch of \(batch)")
        let scale = 1 / (1 - rate)
        // Keep when the top 24 bits, as a fraction of 2^24, are at least the rate.
        let threshold = UInt64((Double(rate) * Double(1 << 24)).rounded(.up))
        for row in 0..<batch {
            let sampleKey = pass.sampleKey(layer: layerIndex, row: row)
            let x = input + row * size, y = output + row * size, m = mask.pointer + row * size
            if noiseIndex.isEmpty {   // one keep per element
                for j in 0..<size {
                    let keep = mix(sampleKey &+ UInt64(j) &* 0x9E37_79B9_7F4A_7C15) >> 40 >= threshold
                    m[j] = keep ? scale : 0
                    y[j] = x[j] * m[j]
                }
                continue
            }
            // Keep k of the noise shape is drawn as element k would be without one.
            for k in 0..<keeps.count {
                keeps.pointer[k] = mix(sampleKey &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15) >> 40 >= threshold ? scale : 0
            }
            for j in 0..<size {
                m[j] = keeps.pointer[Int(noiseIndex[j])]
                y[j] = x[j] * m[j]
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        for i in 0..<batch * size { inputGradient[i] = outputGradient[i] * mask.pointer[i] }
    }

    @inline(__always)
    private func mix(_ value: UInt64) -> UInt64 { SeededGenerator.mix(value) }
}

extension Dropout: KerasLayer {
    public static let kerasClassName = "Dropout"

    /// Keras's own `seed` is not used: masks come from the run's seed (see above).
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // masks come from the run's seed (see above)
        guard let given = config["rate"], given != .null else { throw config.error("option rate is missing; expected a number in [0, 1)") }
        let rate = try config.float("rate", default: 0, range: 0...1)
        guard rate < 1 else { throw config.error("option rate is \(rate); expected a number in [0, 1)") }
        return BuiltLayer([Dropout(rate: rate, noiseShape: try noiseShape(config))])
    }

    /// Keras's `noise_shape` with the batch axis first (null, as a batch's size is not fixed), per sample here.
    private static func noiseShape(_ config: LayerConfig) throws -> [Int?]? {
        guard let value = config["noise_shape"], value != .null else { return nil }
        let axes = value.array ?? []
        guard axes.count >= 2, axes[0] == .null,
              axes.dropFirst().allSatisfy({ $0 == .null || ($0.int ?? 0) >= 1 }) else {
            throw config.error("option noise_shape is \(value.text); expected a list with null for the batch, then null, 1 or the input's size per axis")
        }
        return axes.dropFirst().map { $0.int }
    }
}
