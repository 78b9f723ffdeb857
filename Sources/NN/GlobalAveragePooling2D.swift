/// Keras's `GlobalAveragePooling2D`: `[N, H, W, C]` -> `[N, C]` (or `[N, 1, 1, C]` with `keepdims`,
/// the same values), the mean of each channel over the image. Backward spreads each channel's gradient evenly over its pixels.
public final class GlobalAveragePooling2D: Layer {
    public let keepDimensions: Bool
    public var kind: String { "global_average_pooling2d" }
    private var pixels = 0, channels = 0

    public init(keepDimensions: Bool = false) { self.keepDimensions = keepDimensions }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw ModelError("global average pooling needs an [height, width, channels] input, got \(inputShape)")
        }
        (pixels, channels) = (inputShape[0] * inputShape[1], inputShape[2])
        return keepDimensions ? [1, 1, channels] : [channels]
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let scale = 1 / Float(pixels)
        for n in 0..<batch {
            let out = output + n * channels
            out.update(repeating: 0, count: channels)
            var cell = input + n * pixels * channels
            for _ in 0..<pixels {
                for ch in 0..<channels { out[ch] += cell[ch] }
                cell += channels
            }
            for ch in 0..<channels { out[ch] *= scale }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let scale = 1 / Float(pixels)
        for n in 0..<batch {
            let gradient = outputGradient + n * channels
            var cell = inputGradient + n * pixels * channels
            for _ in 0..<pixels {
                for ch in 0..<channels { cell[ch] = gradient[ch] * scale }
                cell += channels
            }
        }
    }
}

extension GlobalAveragePooling2D: KerasLayer {
    public static let kerasClassName = "GlobalAveragePooling2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([GlobalAveragePooling2D(keepDimensions: try config.bool("keepdims", default: false))])
    }
}
