/// Keras's `Cropping2D`: rows and columns removed at each side of each image,
/// `[H, W, C] -> [H - top - bottom, W - left - right, C]`. `cropping` is spelt as ZeroPadding2D's `padding`
/// (`ImageSides`); NASNet crops `((1, 0), (1, 0))`. The gradient is the output gradient put back in place, zero
/// on the cropped rows and columns.
public final class Cropping2D: Layer {
    public let top: Int, bottom: Int, left: Int, right: Int
    public var kind: String { "cropping2d" }
    private var (height, width, channels) = (0, 0, 0)

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw ModelError("cropping needs an [height, width, channels] input, got \(inputShape)") }
        (height, width, channels) = (inputShape[0], inputShape[1], inputShape[2])
        guard top + bottom < height, left + right < width else {
            throw ModelError("cropping ((\(top), \(bottom)), (\(left), \(right))) leaves nothing of a \(height) x \(width) image")
        }
        return [height - top - bottom, width - left - right, channels]
    }

    /// Values per kept row and per output image.
    private var rowSize: Int { (width - left - right) * channels }
    private var imageSize: Int { (height - top - bottom) * rowSize }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        for n in 0..<batch {
            for h in 0..<height - top - bottom {
                (output + n * imageSize + h * rowSize).update(from: input + ((n * height + top + h) * width + left) * channels, count: rowSize)
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        inputGradient.update(repeating: 0, count: batch * height * width * channels)
        for n in 0..<batch {
            for h in 0..<height - top - bottom {
                (inputGradient + ((n * height + top + h) * width + left) * channels).update(from: outputGradient + n * imageSize + h * rowSize, count: rowSize)
            }
        }
    }
}

extension Cropping2D: KerasLayer {
    public static let kerasClassName = "Cropping2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let sides = try ImageSides(config, key: "cropping", default: 0)   // Keras's default: nothing cropped
        return BuiltLayer([Cropping2D(top: sides.top, bottom: sides.bottom, left: sides.left, right: sides.right)])
    }
}
