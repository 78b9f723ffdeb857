/// Keras's `GlobalMaxPooling2D`: `[H, W, C] -> [C]` (or `[1, 1, C]` with `keepdims`, the same values),
/// the largest value of each channel over the image. Backward gives each channel's gradient to its
/// maximum, split evenly among tied maxima as TensorFlow's `reduce_max` gradient does (an all-zero
/// channel after a ReLU ties everywhere).
public final class GlobalMaxPooling2D: Layer {
    public let keepDimensions: Bool
    public var kind: String { "global_max_pooling2d" }
    private var pixels = 0, channels = 0

    public init(keepDimensions: Bool = false) { self.keepDimensions = keepDimensions }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw ModelError("global max pooling needs an [height, width, channels] input, got \(inputShape)")
        }
        (pixels, channels) = (inputShape[0] * inputShape[1], inputShape[2])
        return keepDimensions ? [1, 1, channels] : [channels]
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        for n in 0..<batch {
            let out = output + n * channels
            var cell = input + n * pixels * channels
            out.update(from: cell, count: channels)
            for _ in 1..<max(pixels, 1) {
                cell += channels
                for ch in 0..<channels { out[ch] = Swift.max(out[ch], cell[ch]) }
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        for n in 0..<batch {
            let (x, dx, y, dy) = (input + n * pixels * channels, inputGradient + n * pixels * channels,
                                  output + n * channels, outputGradient + n * channels)
            for ch in 0..<channels {
                var ties = 0
                for p in 0..<pixels where x[p * channels + ch] == y[ch] { ties += 1 }
                let share = dy[ch] / Float(Swift.max(ties, 1))
                for p in 0..<pixels { dx[p * channels + ch] = x[p * channels + ch] == y[ch] ? share : 0 }
            }
        }
    }
}

extension GlobalMaxPooling2D: KerasLayer {
    public static let kerasClassName = "GlobalMaxPooling2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([GlobalMaxPooling2D(keepDimensions: try config.bool("keepdims", default: false))])
    }
}
