/// A set of images with class labels.
///
/// `images`: `[count, height, width, channels]` NHWC floats in `0...1` (byte / 255);
/// `labels`: `[count]` class ids.
public struct LabeledImages: Sendable {
    /// `[count * height * width * channels]`, sample `i` at `i * sampleSize`.
    public let images: [Float]
    /// `[count]`
    public let labels: [Int32]
    public let count: Int
    public let height: Int
    public let width: Int
    public let channels: Int

    /// Floats per image: `height * width * channels`.
    public var sampleSize: Int { height * width * channels }
    /// `[height, width, channels]`: what a model's input must be.
    public var sampleShape: [Int] { [height, width, channels] }
    /// Classes the labels name: the largest label + 1 of the whole file, kept when a prefix is
    /// taken (a quick run on the first samples still has the data set's classes).
    public let classes: Int

    /// `images.count` must be `labels.count * height * width * channels`.
    public init(images: [Float], labels: [Int32], height: Int, width: Int, channels: Int = 1, classes: Int? = nil) {
        precondition(images.count == labels.count * height * width * channels, "images do not match labels x height x width x channels")
        self.images = images
        self.labels = labels
        self.count = labels.count
        self.height = height
        self.width = width
        self.channels = channels
        self.classes = max(classes ?? 0, Int(labels.max() ?? -1) + 1)
    }

    /// Copies the samples at `indices`, in order, into caller buffers without allocating:
    /// `images` receives `[indices.count, height, width, channels]`, `labels` `[indices.count]`.
    public func gather(_ indices: ArraySlice<Int>, images: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) {
        let size = sampleSize
        self.images.withUnsafeBufferPointer { source in
            self.labels.withUnsafeBufferPointer { sourceLabels in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "sample index \(i) out of 0..<\(count)")
                    (images + k * size).update(from: source.baseAddress! + i * size, count: size)
                    labels[k] = sourceLabels[i]
                }
            }
        }
    }
}
