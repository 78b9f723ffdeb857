/// Keras 3's `RandomFlip(mode)`: in training, each image is flipped with probability 1/2, left to
/// right (`horizontal`), top to bottom (`vertical`), or both at once on one draw
/// (`horizontal_and_vertical`, Keras's default, which draws once for both axes); in inference it
/// passes through. The draw is a hash of the phase seed, the epoch, the layer's position and the
/// sample's global id (so 1 and N ranks, and a resumed epoch, flip alike); Keras's own `seed` is not used.
public final class RandomFlip: Layer, ModeDependentLayer, AugmentationLayer {
    public enum Mode: String, CaseIterable, Sendable { case horizontal, vertical, both = "horizontal_and_vertical" }

    public let mode: Mode
    public var kind: String { "random_flip" }
    private var (height, width, channels) = (0, 0, 0)
    private var pass: TrainingPass?
    private var layerIndex = 0
    private var flipped: [Bool] = []   // per row of the last training forward, for backward

    public init(mode: Mode = .both) { self.mode = mode }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw ModelError("RandomFlip needs images [height, width, channels], got \(inputShape)") }
        (height, width, channels) = (inputShape[0], inputShape[1], inputShape[2])
        return inputShape
    }

    public func begin(_ pass: TrainingPass?, layer index: Int) { (self.pass, layerIndex) = (pass, index) }

    /// Whether the sample `id` is flipped in `epoch` by the layer at `index` under `seed`.
    public static func draws(seed: UInt64, epoch: Int, layer index: Int, sample id: Int) -> Bool {
        var key = SeededGenerator.mix(seed ^ 0x5F1B_0F11_D4A7_0001)
        for part in [UInt64(epoch), UInt64(index), UInt64(id)] { key = SeededGenerator.mix(key ^ SeededGenerator.mix(part)) }
        return key >> 63 == 1
    }

    /// One image `[H, W, C]` flipped as `mode` says (or copied); its own inverse.
    public static func flip(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int,
                            mode: Mode, flips: Bool) {
        let (across, down) = (flips && mode != .vertical, flips && mode != .horizontal)
        for y in 0..<height {
            let sourceY = down ? height - 1 - y : y
            for x in 0..<width {
                let sourceX = across ? width - 1 - x : x
                (output + (y * width + x) * channels).update(from: input + (sourceY * width + sourceX) * channels, count: channels)
            }
        }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let size = height * width * channels
        guard let pass else { output.update(from: input, count: batch * size); return }
        precondition(pass.sampleIDs.count == batch, "a training pass names \(pass.sampleIDs.count) samples for a batch of \(batch)")
        if flipped.count < batch { flipped = Array(repeating: false, count: batch) }
        for (row, id) in pass.sampleIDs.enumerated() {
            flipped[row] = Self.draws(seed: pass.seed, epoch: pass.epoch, layer: layerIndex, sample: id)
            Self.flip(input + row * size, to: output + row * size, height: height, width: width, channels: channels, mode: mode, flips: flipped[row])
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
        guard let inputGradient else { return }
        let size = height * width * channels
        for row in 0..<batch {
            Self.flip(outputGradient + row * size, to: inputGradient + row * size, height: height, width: width, channels: channels,
                      mode: mode, flips: pass != nil && flipped[row])
        }
    }
}

/// A Keras preprocessing layer that changes images in training only (`RandomFlip`): in a distilled
/// student only in its leading chain (`Sequential.leadingAugmentationCount`), whose output its teacher sees.
public protocol AugmentationLayer: Layer {}

extension RandomFlip: KerasLayer {
    public static let kerasClassName = "RandomFlip"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // draws come from the run's seed (see above)
        try config.requireDefault("data_format", .string("channels_last"))
        let mode = try config.choice("mode", default: Mode.both.rawValue, allowed: Mode.allCases.map(\.rawValue))
        return BuiltLayer([RandomFlip(mode: Mode(rawValue: mode)!)])
    }
}
