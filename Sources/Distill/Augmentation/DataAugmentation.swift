import NN

/// One data-side transform of a training image `[H, W, C]`, given its own random draw.
public protocol ImageTransform: Sendable {
    /// The name `--augment` knows it by, and the key of its draws.
    var name: String { get }
    /// Writes the transformed `input` to `output` (distinct buffers of `height * width * channels`).
    func apply(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int, draw: UInt64)
}

/// `--augment`: transforms applied in a fixed order to every training image before the step sees
/// it (the teacher too, in distillation: it runs on the same view). Each draw is a hash of the
/// augmentation seed, the epoch, the transform and the sample's index in the training set, so one
/// and N ranks see the same views, and a resumed epoch sees the views it would have seen.
/// Evaluation never augments.
public final class DataAugmentation {
    public let transforms: [ImageTransform]
    public let seed: UInt64
    private let scratch: FloatBuffer

    public init(transforms: [ImageTransform], seed: UInt64, sampleSize: Int) {
        (self.transforms, self.seed) = (transforms, seed)
        scratch = FloatBuffer(count: sampleSize)
    }

    /// The draw of `transform` for the sample with training-set index `sample` in `epoch` (from 1).
    public func draw(_ transform: String, epoch: Int, sample: Int) -> UInt64 {
        var key = Fingerprint.text(transform)
        for part in [seed, UInt64(epoch), UInt64(sample)] { key = SeededGenerator.mix(key ^ SeededGenerator.mix(part)) }
        return key
    }

    /// Transforms the `ids.count` images at `images` (`[count, H, W, C]`) in place.
    public func apply(_ images: UnsafeMutablePointer<Float>, sampleIDs ids: ArraySlice<Int>, epoch: Int, height: Int, width: Int, channels: Int) {
        let size = height * width * channels
        precondition(size <= scratch.count, "an image larger than the augmentation was made for")
        for (row, sample) in ids.enumerated() {
            let image = images + row * size
            for transform in transforms {
                scratch.pointer.update(from: image, count: size)
                transform.apply(scratch.pointer, to: image, height: height, width: width, channels: channels,
                                draw: draw(transform.name, epoch: epoch, sample: sample))
            }
        }
    }
}

/// `out[y][x] = in[y - dy][x - dx]`, zero where that falls outside: the shift that translate and pad-crop draw.
func shift(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int, dy: Int, dx: Int) {
    output.update(repeating: 0, count: height * width * channels)
    let columns = max(0, width - abs(dx))
    guard columns > 0 else { return }
    let (fromX, toX) = dx >= 0 ? (0, dx) : (-dx, 0)
    for y in max(0, dy)..<min(height, height + dy) {
        (output + (y * width + toX) * channels).update(from: input + ((y - dy) * width + fromX) * channels, count: columns * channels)
    }
}
