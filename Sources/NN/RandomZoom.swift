/// Keras 3's `RandomZoom(height_factor, width_factor, fill_mode, interpolation, fill_value)`: in
/// training each image is resampled about its centre by `zy = 1 + uniform(lower, upper)` vertically
/// and `zx` horizontally (`zx = 1 + uniform` of `width_factor`, or `zy` when `width_factor` is null:
/// the aspect ratio kept), a factor `f` meaning `(-f, f)`, positive zooming out: output pixel `(y, x)`
/// reads the input at `(zy y + (H - 1) / 2 (1 - zy), zx x + (W - 1) / 2 (1 - zx))`, sampled as TensorFlow
/// does for Keras (`AffineImageSampler`). In inference it passes through. The draws are a hash of the
/// phase seed, the epoch, the layer's position and the sample's global id, as `RandomFlip`'s.
public final class RandomZoom: Layer, ModeDependentLayer, AugmentationLayer {
    public let heightRange: (lower: Float, upper: Float), widthRange: (lower: Float, upper: Float)?
    public var kind: String { "random_zoom" }
    private let augmentation: AffineAugmentation
    private var sampler: AffineImageSampler { augmentation.sampler }

    public init(height: (lower: Float, upper: Float), width: (lower: Float, upper: Float)? = nil,
                fillMode: AffineImageSampler.FillMode = .reflect, interpolation: AffineImageSampler.Interpolation = .bilinear, fillValue: Float = 0) {
        (heightRange, widthRange) = (height, width)
        augmentation = AffineAugmentation(AffineImageSampler(fillMode: fillMode, interpolation: interpolation, fillValue: fillValue))
    }

    public func build(inputShape: [Int]) throws -> [Int] { try augmentation.build(inputShape: inputShape, layer: "RandomZoom") }

    public func begin(_ pass: TrainingPass?, layer index: Int) { augmentation.begin(pass, layer: index) }

    /// The zoom `(zy, zx)` of the sample `id` in `epoch` by the layer at `index` under `seed`.
    public func draws(seed: UInt64, epoch: Int, layer index: Int, sample id: Int) -> (zy: Float, zx: Float) {
        var key = SeededGenerator.mix(seed ^ 0x2B00_3A11_7E5C_0003)
        for part in [UInt64(epoch), UInt64(index), UInt64(id)] { key = SeededGenerator.mix(key ^ SeededGenerator.mix(part)) }
        let uniform = { (salt: UInt64) in Float(SeededGenerator.mix(key ^ salt) >> 40) / Float(1 << 24) }   // [0, 1)
        let zy = 1 + (heightRange.lower + (heightRange.upper - heightRange.lower) * uniform(1))
        guard let widthRange else { return (zy, zy) }
        return (zy, 1 + (widthRange.lower + (widthRange.upper - widthRange.lower) * uniform(2)))
    }

    /// Keras's zoom matrix for `(zy, zx)`: offsets `(size - 1) / 2 * (1 - zoom)`, in float32 as Keras.
    private func map(zy: Float, zx: Float) -> AffineImageSampler.Map {
        .init(scaleY: zy, offsetY: (Float(sampler.height) - 1) / 2 * (1 - zy), scaleX: zx, offsetX: (Float(sampler.width) - 1) / 2 * (1 - zx))
    }

    /// One image `[H, W, C]` zoomed by `(zy, zx)`.
    public func zoom(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, zy: Float, zx: Float) {
        sampler.sample(input, to: output, map(zy: zy, zx: zx))
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        augmentation.forward(input, output, batch: batch) { seed, epoch, layer, id in
            let (zy, zx) = draws(seed: seed, epoch: epoch, layer: layer, sample: id)
            return map(zy: zy, zx: zx)
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
        augmentation.backward(outputGradient, inputGradient, batch: batch)
    }
}

extension RandomZoom: KerasLayer {
    public static let kerasClassName = "RandomZoom"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // draws come from the run's seed (see above)
        try config.requireDefault("data_format", .string("channels_last"), .null)
        let width = config["width_factor"] == nil || config["width_factor"] == .null ? nil : try factor(config, "width_factor")
        let layer = RandomZoom(height: try factor(config, "height_factor"), width: width,
                               fillMode: .init(rawValue: try config.choice("fill_mode", default: "reflect",
                                                                           allowed: AffineImageSampler.FillMode.allCases.map(\.rawValue)))!,
                               interpolation: .init(rawValue: try config.choice("interpolation", default: "bilinear",
                                                                                allowed: AffineImageSampler.Interpolation.allCases.map(\.rawValue)))!,
                               fillValue: try config.float("fill_value", default: 0, range: -1e30...1e30))
        return BuiltLayer([layer])
    }

    /// Keras's zoom factor: a number f in (-1, 1] for (-|f|, |f|), or two such numbers [lower, upper] (sorted).
    static func factor(_ config: LayerConfig, _ key: String) throws -> (lower: Float, upper: Float) {
        let valid = { (f: Double) in f > -1 && f <= 1 }
        switch config[key] {
        case .number(let f)? where valid(f): return (-Float(abs(f)), Float(abs(f)))
        case .array(let pair)? where pair.count == 2:
            if case .number(let a) = pair[0], case .number(let b) = pair[1], valid(a), valid(b) { return (Float(min(a, b)), Float(max(a, b))) }
        default: break
        }
        throw config.error("option \(key) is \(config[key]?.text ?? "missing"); expected a number in (-1, 1] or two of them")
    }
}
