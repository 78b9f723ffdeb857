import Datasets
import NN

/// One data-side transform of a training image `[H, W, C]`, given its own random draw.
public protocol ImageTransform: Sendable {
    /// The name `--augment` knows it by, and the key of its draws.
    var name: String { get }
    /// Writes the transformed `input` to `output` (distinct buffers of `height * width * channels`).
    func apply(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int, draw: UInt64)
}

/// `--augment`: transforms applied in a fixed order to every training image before the step sees
/// it (the teacher too, in distillation: it runs on the same view), then MixUp if asked. Each draw is a
/// hash of the augmentation seed, the epoch, the transform and the sample's index in the training set,
/// so one and N ranks see the same views, and a resumed epoch sees the views it would have seen.
/// Evaluation never augments.
public final class DataAugmentation {
    public let transforms: [ImageTransform]
    public let mixup: Mixup?
    public let seed: UInt64
    private let scratch: FloatBuffer
    private let partnerImage: FloatBuffer   // [H, W, C], MixUp's partner, gathered and transformed

    public init(transforms: [ImageTransform], mixup: Mixup? = nil, seed: UInt64, sampleSize: Int) {
        (self.transforms, self.mixup, self.seed) = (transforms, mixup, seed)
        scratch = FloatBuffer(count: sampleSize)
        partnerImage = FloatBuffer(count: mixup == nil ? 0 : sampleSize)
    }

    /// The draw of `transform` for the sample with training-set index `sample` in `epoch` (from 1).
    public func draw(_ transform: String, epoch: Int, sample: Int) -> UInt64 {
        var key = Fingerprint.text(transform)
        for part in [seed, UInt64(epoch), UInt64(sample)] { key = SeededGenerator.mix(key ^ SeededGenerator.mix(part)) }
        return key
    }

    /// Transforms the `ids.count` images at `images` (`[count, H, W, C]`) in place (not MixUp: see `mix`).
    public func apply(_ images: UnsafeMutablePointer<Float>, sampleIDs ids: ArraySlice<Int>, epoch: Int, height: Int, width: Int, channels: Int) {
        let size = height * width * channels
        for (row, sample) in ids.enumerated() {
            transform(images + row * size, sample: sample, epoch: epoch, height: height, width: width, channels: channels)
        }
    }

    /// The transforms, in order, on one image `[H, W, C]` of training-set index `sample`, in place.
    private func transform(_ image: UnsafeMutablePointer<Float>, sample: Int, epoch: Int, height: Int, width: Int, channels: Int) {
        let size = height * width * channels
        precondition(size <= scratch.count, "an image larger than the augmentation was made for")
        for transform in transforms {
            scratch.pointer.update(from: image, count: size)
            transform.apply(scratch.pointer, to: image, height: height, width: width, channels: channels,
                            draw: draw(transform.name, epoch: epoch, sample: sample))
        }
    }

    /// MixUp on the `ids.count` images at `images` (`[count, H, W, C]`, already transformed by `apply`), in place: each
    /// is mixed with its partner from `data` (the training set `ids` index), gathered and transformed with the partner's
    /// own draws. Writes the partners' labels and the weights (`[count]` each) and returns them; nil without mixup.
    public func mix(_ images: UnsafeMutablePointer<Float>, sampleIDs ids: ArraySlice<Int>, epoch: Int, data: LabeledImages,
                    partnerLabels: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>) -> LabelMix? {
        guard let mixup else { return nil }
        let size = data.sampleSize
        precondition(size <= partnerImage.count, "an image larger than the augmentation was made for")
        let partner = partnerImage.pointer
        for (row, sample) in ids.enumerated() {
            let (j, lambda) = mixup.pair(draw: draw(mixup.name, epoch: epoch, sample: sample), count: data.count)
            data.images.withUnsafeBufferPointer { partner.update(from: $0.baseAddress! + j * size, count: size) }
            transform(partner, sample: j, epoch: epoch, height: data.height, width: data.width, channels: data.channels)
            let image = images + row * size
            for k in 0..<size { image[k] = lambda * image[k] + (1 - lambda) * partner[k] }
            partnerLabels[row] = data.labels[j]
            weights[row] = lambda
        }
        return LabelMix(partners: partnerLabels, weights: weights)
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
