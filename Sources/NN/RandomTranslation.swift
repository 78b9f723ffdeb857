import Foundation

/// Keras 3's `RandomTranslation(height_factor, width_factor, fill_mode, interpolation, fill_value)`:
/// in training each image is shifted by `dy = uniform(lower, upper) * height` rows and
/// `dx = uniform(lower, upper) * width` columns (a factor `f` means `(-f, f)`), the output pixel
/// `(y, x)` sampling the input at `(y - dy, x - dx)` as TensorFlow does for Keras (`AffineImageSampler`).
/// In inference it passes through. The draws are a hash of the phase seed, the epoch, the layer's
/// position and the sample's global id, as `RandomFlip`'s. Backward is the forward's transpose.
public final class RandomTranslation: Layer, ModeDependentLayer, AugmentationLayer {
    public typealias FillMode = AffineImageSampler.FillMode
    public typealias Interpolation = AffineImageSampler.Interpolation

    public let heightRange: (lower: Float, upper: Float), widthRange: (lower: Float, upper: Float)
    public var fillMode: FillMode { sampler.fillMode }
    public var interpolation: Interpolation { sampler.interpolation }
    public var fillValue: Float { sampler.fillValue }
    public var kind: String { "random_translation" }
    private let augmentation: AffineAugmentation
    private var sampler: AffineImageSampler { augmentation.sampler }

    public init(height: (lower: Float, upper: Float), width: (lower: Float, upper: Float), fillMode: FillMode = .reflect,
                interpolation: Interpolation = .bilinear, fillValue: Float = 0) {
        (heightRange, widthRange) = (height, width)
        augmentation = AffineAugmentation(AffineImageSampler(fillMode: fillMode, interpolation: interpolation, fillValue: fillValue))
    }

    public func build(inputShape: [Int]) throws -> [Int] { try augmentation.build(inputShape: inputShape, layer: "RandomTranslation") }

    public func begin(_ pass: TrainingPass?, layer index: Int) { augmentation.begin(pass, layer: index) }

    /// The shift `(dy, dx)` in pixels of the sample `id` in `epoch` by the layer at `index` under `seed`.
    public func draws(seed: UInt64, epoch: Int, layer index: Int, sample id: Int) -> (dy: Float, dx: Float) {
        var key = SeededGenerator.mix(seed ^ 0x7A4E_51A7_10A0_0002)
        for part in [UInt64(epoch), UInt64(index), UInt64(id)] { key = SeededGenerator.mix(key ^ SeededGenerator.mix(part)) }
        let uniform = { (salt: UInt64) in Float(SeededGenerator.mix(key ^ salt) >> 40) / Float(1 << 24) }   // [0, 1)
        let dy = (heightRange.lower + (heightRange.upper - heightRange.lower) * uniform(1)) * Float(sampler.height)
        let dx = (widthRange.lower + (widthRange.upper - widthRange.lower) * uniform(2)) * Float(sampler.width)
        return (dy, dx)
    }

    /// One image `[H, W, C]` shifted by `(dy, dx)`: it reads the input at `(y - dy, x - dx)`.
    public func translate(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, dy: Float, dx: Float) {
        sampler.sample(input, to: output, .init(offsetY: -dy, offsetX: -dx))
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        augmentation.forward(input, output, batch: batch) { seed, epoch, layer, id in
            let (dy, dx) = draws(seed: seed, epoch: epoch, layer: layer, sample: id)
            return .init(offsetY: -dy, offsetX: -dx)
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
        augmentation.backward(outputGradient, inputGradient, batch: batch)
    }
}

extension RandomTranslation: KerasLayer {
    public static let kerasClassName = "RandomTranslation"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // draws come from the run's seed (see above)
        try config.requireDefault("data_format", .string("channels_last"))
        let layer = RandomTranslation(height: try factor(config, "height_factor"), width: try factor(config, "width_factor"),
                                      fillMode: FillMode(rawValue: try config.choice("fill_mode", default: "reflect",
                                                                                     allowed: FillMode.allCases.map(\.rawValue)))!,
                                      interpolation: Interpolation(rawValue: try config.choice("interpolation", default: "bilinear",
                                                                                              allowed: Interpolation.allCases.map(\.rawValue)))!,
                                      fillValue: try config.float("fill_value", default: 0, range: -1e30...1e30))
        return BuiltLayer([layer])
    }

    /// Keras's factor: a number f in [-1, 1] for (-|f|, |f|), or two such numbers [lower, upper] (sorted).
    static func factor(_ config: LayerConfig, _ key: String) throws -> (lower: Float, upper: Float) {
        switch config[key] {
        case .number(let f)? where abs(f) <= 1: return (-Float(abs(f)), Float(abs(f)))
        case .array(let pair)? where pair.count == 2:
            if case .number(let a) = pair[0], case .number(let b) = pair[1], abs(a) <= 1, abs(b) <= 1 {
                return (Float(min(a, b)), Float(max(a, b)))
            }
        default: break
        }
        throw config.error("option \(key) is \(config[key]?.text ?? "missing"); expected a number in [-1, 1] or two of them")
    }
}
