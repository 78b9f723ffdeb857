/// Keras's `ZeroPadding2D`: zeros added around each image, `[H, W, C] -> [top + H + bottom, left + W + right, C]`.
/// `padding` is one integer (every side), a pair (rows, columns: symmetric) or `((top, bottom), (left, right))`,
/// the form Keras writes (MobileNetV2's `correct_pad` is `((0, 1), (0, 1))`). The gradient is the
/// output gradient's interior.
public final class ZeroPadding2D: Layer {
    public let top: Int, bottom: Int, left: Int, right: Int
    public var kind: String { "zero_padding2d" }
    private var (height, width, channels) = (0, 0, 0)

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw ModelError("zero padding needs an [height, width, channels] input, got \(inputShape)") }
        (height, width, channels) = (inputShape[0], inputShape[1], inputShape[2])
        return [top + height + bottom, left + width + right, channels]
    }

    /// Values per output row and per output image.
    private var rowSize: Int { (left + width + right) * channels }
    private var imageSize: Int { (top + height + bottom) * rowSize }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        output.update(repeating: 0, count: batch * imageSize)
        for n in 0..<batch {
            for h in 0..<height {
                (output + n * imageSize + (top + h) * rowSize + left * channels)
                    .update(from: input + (n * height + h) * width * channels, count: width * channels)
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        for n in 0..<batch {
            for h in 0..<height {
                (inputGradient + (n * height + h) * width * channels)
                    .update(from: outputGradient + n * imageSize + (top + h) * rowSize + left * channels, count: width * channels)
            }
        }
    }
}

extension ZeroPadding2D: KerasLayer {
    public static let kerasClassName = "ZeroPadding2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let sides = try ImageSides(config, key: "padding", default: 1)   // Keras's default: 1 on every side
        return BuiltLayer([ZeroPadding2D(top: sides.top, bottom: sides.bottom, left: sides.left, right: sides.right)])
    }
}
